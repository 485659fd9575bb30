"""pytest-benchmark suite of the neighbour engine (all-rows k=4 self-queries).

    pytest benches/bench_neighbors.py --benchmark-only
    pytest benches/bench_neighbors.py --benchmark-only --families all --rows 50000

Runs on each data family of ``data_families.py`` given by ``--families`` (default: the PCA-like
cloud, 100k rows; see ``conftest.py``). Each benchmark records whether its answer is right
(``extra_info``): exact search against a direct scan of a sample of rows, HNSW by its recall
against exact search.
"""

import numpy as np
import pytest
from data_families import make

from equipoise import _core

K = 4
ROWS = 100_000


@pytest.fixture(scope="module")
def data(request, family):
    X, _ = make(family, request.config.getoption("rows") or ROWS)
    _, exact = _core.kneighbors(X, K, algorithm="exact")
    return X, exact


def recall(ind, exact):
    return sum(len(set(a) & set(b)) for a, b in zip(ind, exact)) / exact.size


def scan_agrees(X, ind, rows):
    """The exact answer's distances equal a direct float64 scan's on ``rows``."""
    Xw = X.astype(np.float64)
    for i in rows:
        full = ((Xw - Xw[i]) ** 2).sum(axis=1)
        full[i] = np.inf
        want = np.sort(full)[: ind.shape[1]]
        if not np.allclose(want, full[ind[i]], rtol=1e-9):
            return False
    return True


@pytest.mark.parametrize("algorithm", ["exact", "kdtree"])
def test_exact(benchmark, data, family, algorithm):
    X, exact = data
    benchmark.group = f"exact k={K} {family}"
    if algorithm == "kdtree":
        X = np.ascontiguousarray(X[:20_000, :8])
        exact = _core.kneighbors(X, K, algorithm="exact")[1]
    _, ind = benchmark.pedantic(
        lambda: _core.kneighbors(X, K, algorithm=algorithm), rounds=1, iterations=1
    )
    rows = np.random.default_rng(0).choice(len(X), 20, replace=False)
    benchmark.extra_info["correct"] = bool((ind == exact).all()) and scan_agrees(X, ind, rows)
    assert benchmark.extra_info["correct"]


@pytest.mark.parametrize("ef", [32, 64])
def test_hnsw_build_and_query(benchmark, data, family, ef):
    X, exact = data
    benchmark.group = f"hnsw k={K} {family}"

    def run():
        g = _core.hnsw_build(X)
        return _core.kneighbors(X, K, algorithm="hnsw", graph=g, ef_search=ef)[1]

    ind = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info["recall"] = recall(ind, exact)
    benchmark.extra_info["correct"] = recall(ind, exact) >= 0.98
