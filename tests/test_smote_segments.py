"""SMOTE's segments outside the in-memory estimators: the Spark engine replays them on the driver
with ``_core.smote_block`` (the executors make the rows from the same random streams) and hands
them to the cleaner of each partition through ``settled_beside``. The replay must name the pairs
the in-memory SMOTE records, and the segments must not change what a partition settles."""

from __future__ import annotations

import numpy as np
import pytest

from equipoise import _core
from equipoise._chunk_knn import settled_beside
from equipoise.over_sampling import SMOTE
from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks


def _smote_with_segments(X, y, **kw):
    s = SMOTE(**kw)
    s._record_segments = True
    Xr, yr = s.fit_resample(X, y)
    return Xr, yr, s.__dict__.pop("_segments_")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_replay_names_the_in_memory_pairs(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 4)).astype(dtype)
    y = rng.choice(3, size=6000, p=[0.8, 0.15, 0.05])
    Xr, yr, seg = _smote_with_segments(X, y, sampling_strategy="not majority", random_state=3)
    n = len(X)
    start = 0
    chunk = _core.smote_chunk_rows()
    for c in (1, 2):
        rows = np.flatnonzero(y == c)
        n_new = int((yr[n:] == c).sum())
        x = np.ascontiguousarray(X[rows])
        graph = _core.kneighbors(x, 5, algorithm="exact")[1]
        # In two blocks, the second starting at a chunk boundary, as Spark tasks make them.
        cut = chunk if n_new > chunk else n_new
        got = []
        for first, m in ((0, cut), (cut // chunk, n_new - cut)):
            part = np.empty((m, 2), dtype=np.int64)
            new = _core.smote_block(x, graph, c, first, m, 3, 0, segments=part)
            np.testing.assert_array_equal(
                np.asarray(new), Xr[n + start + first * chunk : n + start + first * chunk + m]
            )
            got.append(rows[part])
        np.testing.assert_array_equal(np.concatenate(got), seg[start : start + n_new])
        start += n_new
    with pytest.raises(ValueError, match="segments must have shape"):
        _core.smote_block(x, graph, 2, 0, 10, 3, 0, segments=np.empty((9, 2), np.int64))


@pytest.mark.parametrize("cleaner", ["tomek", "enn"])
def test_segments_do_not_change_what_a_partition_settles(cleaner):
    # Overlapping classes, so that the partition leaves rows open.
    rng = np.random.default_rng(4)
    y = (rng.random(6000) < 0.03).astype(np.int64)
    X = rng.normal(size=(6000, 5)).astype(np.float32)
    X[:, 0] += 1.2 * y
    Xr, yr, seg = _smote_with_segments(X, y, sampling_strategy=0.5, random_state=1)
    n = len(X)
    pos = np.arange(len(yr), dtype=np.int64)
    big = pos[yr == 0]
    # A partition: every third row of the largest class, beside every other row.
    part = big[::3]
    small = pos[yr != 0]
    args = (Xr[part], part, Xr[small], small, yr[small], 0, 2, 3, cleaner == "tomek")
    plain = settled_beside(*args)
    with_seg = settled_beside(*args, segments=(n, seg))
    np.testing.assert_array_equal(plain, with_seg)
    # Against the estimator on the partition's rows in position order, cleaning class 0 (the
    # smaller class here: 'auto' would clean the other).
    rows = np.sort(np.concatenate([part, small]))
    est = (TomekLinks if cleaner == "tomek" else EditedNearestNeighbours)(sampling_strategy=[0])
    est.fit_resample(Xr[rows], yr[rows])
    kept = rows[est.sample_indices_]
    want = np.isin(part, kept)
    np.testing.assert_array_equal(plain, want)
    assert 0 < (~plain).sum() < len(part)
