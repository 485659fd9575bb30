"""pytest-benchmark suite of the neighbour engine (fraud-like data, all-rows k=4 self-queries).

    pytest benches/bench_neighbors.py --benchmark-only

Each benchmark records whether its answer is right (``extra_info``): exact search against a direct
scan of a sample of rows, HNSW by its recall against exact search.
"""

import numpy as np
import pytest

from equipoise import _core  # noqa: E402
from equipoise.datasets import make_fraud as fraud  # noqa: E402

K = 4


@pytest.fixture(scope="module")
def data():
    X, _ = fraud(100_000)
    _, exact = _core.kneighbors(X, K, algorithm="exact")
    return X, exact


def recall(ind, exact):
    return sum(len(set(a) & set(b)) for a, b in zip(ind, exact)) / exact.size


@pytest.mark.parametrize("algorithm", ["exact", "kdtree"])
def test_exact(benchmark, data, algorithm):
    X, exact = data
    if algorithm == "kdtree":
        X = np.ascontiguousarray(X[:20_000, :8])
        exact = _core.kneighbors(X, K, algorithm="exact")[1]
    _, ind = benchmark.pedantic(
        lambda: _core.kneighbors(X, K, algorithm=algorithm), rounds=1, iterations=1
    )
    benchmark.extra_info["correct"] = bool((ind == exact).all())


@pytest.mark.parametrize("ef", [32, 64])
def test_hnsw_build_and_query(benchmark, data, ef):
    X, exact = data

    def run():
        g = _core.hnsw_build(X)
        return _core.kneighbors(X, K, algorithm="hnsw", graph=g, ef_search=ef)[1]

    ind = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["recall"] = recall(ind, exact)
    benchmark.extra_info["correct"] = recall(ind, exact) >= 0.98
