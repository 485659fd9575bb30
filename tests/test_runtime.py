"""The core under Python's runtime: threads, fork, the command line."""

import multiprocessing as mp
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from equipoise import _core
from equipoise.over_sampling import SMOTE


def _work(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 8)).astype(np.float32)
    y = (np.arange(3000) < 300).astype(int)
    return SMOTE(random_state=seed).fit_resample(X, y)[0]


def test_concurrent_calls_from_python_threads_agree_with_serial():
    expected = [_work(s) for s in range(4)]
    results = [None] * 4

    def run(i):
        results[i] = _work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for a, b in zip(expected, results):
        np.testing.assert_array_equal(a, b)


def _child(q):
    q.put(_work(1).sum())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_core_works_in_a_forked_child_after_the_parent_used_it():
    parent = _work(1).sum()  # the parent's thread pool exists before the fork
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork in a threaded process: that hazard is what is tested.
        warnings.simplefilter("ignore", DeprecationWarning)
        p.start()
    p.join(timeout=120)
    assert p.exitcode == 0, "the forked child hung or crashed"
    assert q.get(timeout=5) == parent


def test_demo_command_runs_on_bundled_data():
    out = subprocess.run(
        [sys.executable, "-m", "equipoise.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "mammography (11183 rows x 6 features)" in out
    assert "0: 10923, 1: 260" in out
    for name, after in (
        ("SMOTE", "0: 10923, 1: 10923"),
        ("RandomOverSampler", "0: 10923, 1: 10923"),
        ("RandomUnderSampler", "0: 260, 1: 260"),
    ):
        line = next(line for line in out.splitlines() if line.strip().startswith(name))
        assert after in line and " ms)" in line


def test_default_threads_is_positive():
    assert _core.default_threads() >= 1


def test_fma_peak_is_a_rate_where_the_cpu_has_fma():
    # The benches' peak (a figure they print, not a timing asserted here): a positive finite
    # rate on a CPU with AVX2 and FMA, NaN without them, for any thread count.
    flags = ""
    if sys.platform.startswith("linux"):
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    for threads in (1, 0):
        got = _core.fma_peak_gflops(100_000, n_threads=threads)
        assert isinstance(got, float)
        if " fma " in flags and " avx2 " in flags:
            assert np.isfinite(got) and got > 0
        else:
            assert np.isnan(got) or got > 0
