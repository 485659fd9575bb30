"""Production hardening: requests that cannot fit are refused up front, concurrent calls, start
methods, unsafe invariants."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from run_at_once import run_at_once

from equipoise import _core
from equipoise.combine import SMOTEENN
from equipoise.neighbors import NearestNeighbors
from equipoise.over_sampling import ADASYN, SMOTE, SMOTEN, BorderlineSMOTE, RandomOverSampler
from equipoise.sampling import BalancedBatchSampler, OnlineSMOTE
from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks
from equipoise.utils._memory import memory_limit

HUGE = 10**12


def _small(n=100):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)), (np.arange(n) < n // 5).astype(int)


# -- 3. memory refused up front --
@pytest.mark.parametrize(
    "make",
    [SMOTE, RandomOverSampler, BorderlineSMOTE, ADASYN, SMOTEENN],
    ids=lambda m: m.__name__,
)
def test_a_strategy_asking_for_a_trillion_rows_is_a_memory_error_naming_it(make):
    X, y = _small()
    est = make(sampling_strategy={1: HUGE})
    with pytest.raises(MemoryError, match=r"1,000,000,000,080 rows x 4 features needs 36\.4 TiB"):
        est.fit_resample(X, y)
    assert not hasattr(est, "sampling_strategy_")


def test_smoten_trillion_rows_is_a_memory_error():
    X, y = _small()
    Xc = np.where(X > 0, "a", "b").astype(object)
    with pytest.raises(MemoryError, match="1,000,000,000,080 rows"):
        SMOTEN(sampling_strategy={1: HUGE}).fit_resample(Xc, y)


def test_an_output_that_fits_is_not_refused():
    X, y = _small()
    _, y_res = RandomOverSampler(sampling_strategy={1: 10_000}, random_state=0).fit_resample(X, y)
    assert (y_res == 1).sum() == 10_000


def _big_class(n):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2 * n + 1, 2)).astype(np.float32)
    return X, (np.arange(2 * n + 1) < n).astype(int)


def test_k_neighbors_near_the_row_count_of_a_large_class_is_refused_up_front():
    n = 300_000  # 300k lists of 300k neighbours: 2.9 TB, before the search starts
    assert n * n * 32 > memory_limit()
    X, y = _big_class(n)
    with pytest.raises(MemoryError, match="299,999 neighbours of each of 300,000 rows"):
        SMOTE(k_neighbors=n - 1).fit_resample(X, y)
    with pytest.raises(MemoryError, match="neighbours of each of"):
        SMOTE(k_neighbors=n - 1, neighbors="hnsw").fit_resample(X, y)
    nn = NearestNeighbors(n_neighbors=n - 1).fit(X[:n])
    with pytest.raises(MemoryError, match="kneighbors: 299,999 neighbours"):
        nn.kneighbors()
    with pytest.raises(MemoryError, match="neighbours of each of"):
        EditedNearestNeighbours(n_neighbors=n - 1, neighbors="hnsw").fit_resample(X, y)


def test_an_hnsw_graph_too_big_is_refused_up_front():
    X, _ = _small()
    with pytest.raises(MemoryError, match="HNSW graph of 100 rows with M=1000000000000"):
        NearestNeighbors(algorithm="hnsw", M=HUGE).fit(X)
    with pytest.raises(MemoryError, match="HNSW graph"):
        _core.hnsw_build(X, m=HUGE, ef_construction=10, seed=0, n_threads=1)


def test_the_core_bindings_refuse_sizes_that_overflow_or_cannot_fit():
    X, y = _small()
    codes = y.astype(np.uint32)
    with pytest.raises(MemoryError, match="overflows"):
        _core.smote(X, codes, 2, [2**63, 2**63], 5, [None, None], 0, 1)
    with pytest.raises(MemoryError, match="bytes"):
        _core.smote(X, codes, 2, [0, 2**50], 5, [None, None], 0, 1)
    with pytest.raises(MemoryError, match="row indices"):
        _core.random_over_sample_indices(codes, 2, [0, 2**50], 0, 1)
    with pytest.raises(MemoryError, match="neighbour lists"):
        _core.kneighbors(X, 2**50, n_threads=1)


def test_memory_limit_can_be_set_by_environment():
    code = textwrap.dedent(
        """
        import numpy as np
        from equipoise.over_sampling import RandomOverSampler
        X = np.zeros((100, 4)); y = (np.arange(100) < 20).astype(int)
        try:
            RandomOverSampler(sampling_strategy={1: 200_000}).fit_resample(X, y)
        except MemoryError as e:
            print("refused", e)
        """
    )
    env = {**os.environ, "EQUIPOISE_MEMORY_LIMIT": str(1 << 20)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert "refused" in out.stdout and "1.0 MiB of memory" in out.stdout, out.stderr


# -- 2. concurrency --
def _shared_inputs():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4000, 6))
    y = np.repeat([0, 1, 2], [3000, 700, 300])
    return X, y


def _calls(X, y):
    nn = NearestNeighbors(n_neighbors=5).fit(X)
    hnsw = NearestNeighbors(n_neighbors=5, algorithm="hnsw", random_state=0).fit(X)
    bs = BalancedBatchSampler(y, batch_size=32, seed=1)
    smote = OnlineSMOTE(X, y, batch_size=32, seed=1, k_neighbors=3)
    return {
        "SMOTE": lambda: SMOTE(random_state=0).fit_resample(X, y),
        "SMOTE-2-threads": lambda: SMOTE(random_state=0, n_jobs=2).fit_resample(X, y),
        "ENN": lambda: EditedNearestNeighbours().fit_resample(X, y),
        "Tomek": lambda: TomekLinks().fit_resample(X, y),
        "kneighbors": lambda: nn.kneighbors(X[:500]),
        # A fitted HNSW index shared by threads, and one whose graph is rebuilt lazily (after
        # unpickling) by whichever thread asks first.
        "hnsw": lambda: hnsw.kneighbors(X[:500]),
        "hnsw-lazy": lambda: pickle.loads(pickle.dumps(hnsw)).kneighbors(X[:500]),
        "batches": lambda: bs.epoch_indices(3),
        "online-smote": lambda: [b for b in smote.iter_batches(2)],
    }


def _equal(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _equal(u, v)
    else:
        np.testing.assert_array_equal(a, b)


def test_threads_calling_at_once_get_the_serial_results():
    X, y = _shared_inputs()
    X_before, y_before = X.copy(), y.copy()
    calls = _calls(X, y)
    expected = {name: f() for name, f in calls.items()}
    jobs = [name for name in calls for _ in range(3)]
    results = run_at_once([calls[name] for name in jobs])
    for i, name in enumerate(jobs):
        _equal(results[i], expected[name])
    np.testing.assert_array_equal(X, X_before)  # shared inputs are never modified
    np.testing.assert_array_equal(y, y_before)


_CHILD = textwrap.dedent(
    """
    import multiprocessing as mp, sys, warnings
    import numpy as np
    from equipoise.over_sampling import SMOTE
    from equipoise.neighbors import NearestNeighbors

    def work(seed):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(3000, 5)); y = (np.arange(3000) < 400).astype(int)
        a = SMOTE(random_state=seed, n_jobs=2).fit_resample(X, y)[0].sum()
        b = NearestNeighbors(n_neighbors=4, algorithm="hnsw").fit(X).kneighbors(X[:50])[1].sum()
        return float(a), int(b)

    if __name__ == "__main__":
        method = sys.argv[1]
        parent = work(0)  # the parent's pools exist before the children start
        warnings.simplefilter("ignore", DeprecationWarning)
        with mp.get_context(method).Pool(2) as pool:
            got = pool.map(work, [0, 0, 1])
        assert got[0] == got[1] == parent, (got, parent)
        assert got[2] == work(1)
        print("ok", method)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="all three start methods")
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pools_under_every_start_method_agree_with_the_parent(method, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    out = subprocess.run(
        [sys.executable, str(script), method], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and f"ok {method}" in out.stdout, out.stderr[-2000:]


_THREADS = textwrap.dedent(
    """
    import threading, numpy as np
    from equipoise.over_sampling import SMOTE
    X = np.random.default_rng(0).normal(size=(20000, 8)); y = (np.arange(20000) < 2000).astype(int)
    before = threading.active_count()
    import os
    def native():
        return len(os.listdir("/proc/self/task"))
    n0 = native()
    SMOTE(random_state=0, n_jobs=NJOBS).fit_resample(X, y)
    print(native() - n0)
    """
)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.parametrize(
    ("n_jobs", "env", "expected"),
    [
        ("1", {}, 1),
        ("2", {}, 2),
        ("None", {"RAYON_NUM_THREADS": "1"}, 1),
        ("None", {"OMP_NUM_THREADS": "1"}, 1),
        ("None", {"RAYON_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, 2),
    ],
)
def test_n_jobs_and_rayon_num_threads_bound_the_core_threads(n_jobs, env, expected):
    code = _THREADS.replace("NJOBS", n_jobs)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) <= expected


def _worker_threads(_):
    return os.environ.get("OMP_NUM_THREADS"), _core.default_threads()


def test_joblib_workers_use_their_share_of_the_cores():
    joblib = pytest.importorskip("joblib")
    got = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_worker_threads)(i) for i in range(2)
    )
    for omp, threads in got:
        # loky gives each worker OMP_NUM_THREADS = its share of the cores; the core follows it.
        assert omp is not None and threads == int(omp.split(",")[0])


def test_an_absurd_n_jobs_is_capped_instead_of_starting_a_million_threads():
    # Found by the fuzzer (tests/fuzz): n_jobs=10**6 started 10^6 threads and stalled for minutes.
    X, y = _small()
    code = (
        "import numpy as np; from equipoise.over_sampling import SMOTE;"
        "X = np.random.rand(50, 3); y = (np.arange(50) < 10).astype(int);"
        "SMOTE(n_jobs=10**6, random_state=0).fit_resample(X, y); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
