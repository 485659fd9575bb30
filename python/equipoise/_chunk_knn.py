"""Exact k nearest neighbours of an in-memory query set over data that arrives in chunks, merged
by (squared distance, position): what an engine that never holds all the rows (Spark partitions,
Parquet record batches) needs for Borderline-SMOTE, ADASYN, ENN and Tomek links. The work is in
the core (``_core.chunk_knn``, ``_core.merge_knn``, ``_core.chunk_kth_sq``); this module keeps the
running merge."""

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
