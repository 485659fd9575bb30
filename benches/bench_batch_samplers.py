"""pytest-benchmark: one epoch of balanced batch indices (1M labels, 0.5% minority, batches of 256).

python -m pytest benches/bench_batch_samplers.py --benchmark-only

Not parametrized by data family (``--families``): a batch sampler reads the labels only, never the
features, so the families differ for it only in their 0.5% minority share, which this suite has.
"""

import numpy as np
import pytest
from compare_batch_samplers import check_exact, labels

from equipoise.sampling import BalancedBatchSampler

N = 1_000_000


@pytest.fixture(scope="module")
def sampler():
    return BalancedBatchSampler(labels(N), 256, seed=0)


def test_build(benchmark):
    y = labels(N)
    s = benchmark(BalancedBatchSampler, y, 256, seed=0)
    benchmark.extra_info["bytes_per_row"] = s.nbytes / N


def test_epoch_indices(benchmark, sampler):
    idx, off = benchmark(sampler.epoch_indices, 0)
    benchmark.extra_info["correct"] = check_exact(labels(N), idx, off)
    assert benchmark.extra_info["correct"]


def test_epoch_numpy_batches(benchmark, sampler):
    def run():
        return sum(b.size for b in sampler.iter_numpy(0))

    assert benchmark(run) == sampler.rows_per_epoch


def test_epoch_lists_for_dataloader(benchmark, sampler):
    def run():
        return sum(len(b) for b in sampler)

    assert benchmark(run) == sampler.rows_per_epoch
    benchmark.extra_info["rows"] = int(np.int64(sampler.rows_per_epoch))
