"""Exact k nearest neighbours of an in-memory query set over data that arrives in chunks, merged
by (squared distance, position): what an engine that never holds all the rows (Spark partitions,
Parquet record batches) needs for Borderline-SMOTE, ADASYN, ENN and Tomek links. The work is in
the core (``_core.chunk_knn``, ``_core.merge_knn``); this module keeps the running merge, and
``settled_beside`` decides which rows of a chunk of the largest class a cleaner settles there."""

from __future__ import annotations

import numpy as np

from equipoise import _core

# The position of a query that is not one of the data's rows: nothing is excluded for it (the
# core's ``chunks::NO_POSITION``).
NO_POSITION = -1


class KnnAccumulator:
    """The k best (squared distance, position) per query over every chunk offered so far."""

    def __init__(self, n_queries: int, k: int):
        self.k = k
        self.sq = np.full((n_queries, k), np.inf)
        self.pos = np.full((n_queries, k), np.iinfo(np.int64).max, dtype=np.int64)

    def offer(self, sq: np.ndarray, pos: np.ndarray) -> None:
        self.sq, self.pos = _core.merge_knn(self.sq, self.pos, sq, pos)

    def offer_chunk(self, x, x_pos, queries, query_pos) -> None:
        if len(x_pos) == 0:
            return
        self.offer(*_core.chunk_knn(x, x_pos, queries, query_pos, self.k))


def settled_beside(
    x,
    pos,
    other_x,
    other_pos,
    other_codes,
    big,
    n_classes,
    n_neighbors,
    tomek,
    mode=False,
    n_threads=0,
    segments=None,
) -> np.ndarray:
    """Which rows ``x`` of the largest class ``big`` (at positions ``pos``) ENN (``n_neighbors``,
    rule "mode" when ``mode``) or Tomek links settle when run in memory on them and every row of
    the other classes (``other_x`` at ``other_pos``, codes ``other_codes``), all in position order
    so that ties rank as over all data.

    The rest of the data holds rows of ``big`` only. They can take a row's neighbour places from
    the other classes but never give them back, so a row ENN keeps here (all, or a majority, of
    its k nearest of its own class) is kept over all data, and a row in no Tomek link here (its
    nearest row is of its class, or its nearest other row has a nearer row than it) is in none
    over all data. The other rows are undecided: the caller verifies them over all data.

    ``segments``, ``(first, pairs)``: the rows at positions ``first, first + 1, ...`` (all of them
    among the other classes' rows) lie between the two rows at positions ``pairs[i]`` (SMOTE's new
    rows): a hint that makes the cleaner cheaper, as in SMOTETomek, and never changes its answer.
    It is dropped when the rows from ``first`` on are not those rows."""
    allpos = np.concatenate([pos, other_pos])
    order = np.argsort(allpos, kind="stable")
    xs = np.ascontiguousarray(np.concatenate([x, other_x])[order])
    codes = np.concatenate([np.full(len(pos), big), other_codes]).astype(np.uint32)[order]
    k = 1 if tomek else n_neighbors
    if len(xs) < k + 1 or np.unique(codes).size < 2:
        return np.zeros(len(pos), dtype=bool)
    targeted = [c == big for c in range(n_classes)]
    seg = {}
    if segments is not None:
        sp = allpos[order]
        first = int(np.searchsorted(sp, segments[0]))
        at = np.minimum(np.searchsorted(sp, segments[1]), len(sp) - 1)
        if len(sp) - first == len(segments[1]) and (sp[at] == segments[1]).all():
            seg = {"segments": at.astype(np.int64), "segments_first": first}
    if tomek:
        kept = _core.tomek_links(xs, codes, n_classes, targeted, n_threads, **seg)
    else:
        kept = _core.edited_nearest_neighbours(
            xs, codes, n_classes, targeted, n_neighbors, mode, n_threads, **seg
        )
    mark = np.zeros(len(xs), dtype=bool)
    mark[kept] = True
    out = np.empty(len(xs), dtype=bool)
    out[order] = mark
    return out[: len(pos)]
