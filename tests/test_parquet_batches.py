"""Balanced batches streamed from Parquet: exact composition, bounded row groups held, rows read
correctly, no streamed row twice in an epoch, determinism."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from equipoise.sampling import BalancedBatchSampler, ParquetBalancedBatches


@pytest.fixture
def parquet_file(tmp_path):
    rng = np.random.default_rng(0)
    n = 12_000
    y = np.where(rng.random(n) < 0.03, 2, np.where(rng.random(n) < 0.4, 1, 0))
    ids = np.arange(n)
    table = pa.table({"id": ids, "f": np.sqrt(ids).astype(np.float64), "label": y})
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=500)
    return path, y


def test_streamed_batches_are_exact_and_memory_is_bounded(parquet_file):
    path, y = parquet_file
    s = ParquetBalancedBatches(path, "label", 60, max_row_groups=3, seed=1, dtype=np.float64)
    assert s.classes_.tolist() == [0, 1, 2]
    # Balanced over 3 classes: classes 1 and 2 are drawn more often than they have rows.
    assert s.cached_classes_ == [1, 2] and s.streamed_classes_ == [0]
    # The same composition as the in-memory sampler plans.
    np.testing.assert_array_equal(s.composition(), BalancedBatchSampler(y, 60).composition())
    reads_before = s.row_group_reads_
    for epoch in range(2):
        s.set_epoch(epoch)
        seen = []
        for b, (X, yb) in enumerate(s):
            np.testing.assert_array_equal(np.bincount(yb, minlength=3), s.composition()[b])
            ids = X[:, 0].astype(np.int64)
            np.testing.assert_array_equal(X[:, 1], np.sqrt(ids))  # the row's own features
            np.testing.assert_array_equal(yb, y[ids])  # and its own label
            seen.append(ids[yb == 0])
        seen = np.concatenate(seen)
        # Every row of the streamed class exactly once in the epoch (one pass over it).
        np.testing.assert_array_equal(np.sort(seen), np.flatnonzero(y == 0))
        assert b + 1 == len(s)
    assert s.max_row_groups_held_ <= 3
    assert s.row_group_reads_ > reads_before  # streamed lazily, not cached


def test_stratified_streaming_holds_few_row_groups(parquet_file):
    path, y = parquet_file
    s = ParquetBalancedBatches(path, "label", 50, proportions="stratified", max_row_groups=2)
    assert s.cached_classes_ == [] and s.streamed_classes_ == [0, 1, 2]
    n = 0
    for b, (X, yb) in enumerate(s):
        np.testing.assert_array_equal(np.bincount(yb, minlength=3), s.composition()[b])
        np.testing.assert_array_equal(yb, y[X[:, 0].astype(np.int64)])
        n += len(yb)
    assert n == y.size and s.max_row_groups_held_ <= 2


def test_streaming_is_deterministic_per_epoch(parquet_file):
    path, _ = parquet_file
    a = ParquetBalancedBatches(path, "label", 40, features=["id"], seed=2)
    b = ParquetBalancedBatches(path, "label", 40, features=["id"], seed=2)
    e0 = [x for x, _ in a]
    assert all(np.array_equal(p, q) for p, q in zip(e0, (x for x, _ in b)))
    a.set_epoch(1)
    assert not all(np.array_equal(p, q) for p, q in zip(e0, (x for x, _ in a)))


def test_streaming_bad_input(parquet_file):
    path, _ = parquet_file
    with pytest.raises(ValueError, match="column"):
        ParquetBalancedBatches(path, "nope", 10)
    with pytest.raises(ValueError, match="not in"):
        ParquetBalancedBatches(path, "label", 10, features=["zzz"])
    with pytest.raises(ValueError, match="max_row_groups"):
        ParquetBalancedBatches(path, "label", 10, max_row_groups=0)
