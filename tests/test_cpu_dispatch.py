"""The compiled core picks its SIMD kernels at run time, so one x86-64 wheel serves every CPU.

The exact neighbour search has a portable kernel and AVX2+FMA / AVX-512 kernels chosen by CPU
detection; ``EQUIPOISE_PORTABLE_KERNEL`` forces the portable one. These tests run the neighbour
searches and the cleaning samplers in a child process three ways (default detection, the portable
kernel forced by the variable, and, where qemu's user-mode emulator is installed, on an emulated
Nehalem CPU that has no AVX at all) and require the same results every time. The emulated run is
what a user on an old or virtualised CPU gets: any instruction the wheel executes outside the
run-time dispatch that the CPU lacks would kill the child with SIGILL.
"""

from __future__ import annotations

import os
import pickle
import platform
import shutil
import subprocess
import sys

import numpy as np
import pytest

# Run in the child: everything whose result could depend on the kernel, as plain arrays.
CHILD = r"""
import pickle, sys
import numpy as np

from equipoise.combine import SMOTEENN, SMOTETomek
from equipoise.datasets import make_fraud
from equipoise.neighbors import NearestNeighbors
from equipoise.over_sampling import SMOTE
from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks

out = {"avx2": bool(np._core._multiarray_umath.__cpu_features__.get("AVX2"))}
for dtype in (np.float32, np.float64):
    X, y = make_fraud(2500, minority=0.05, seed=3, dtype=dtype)
    q = X[:300] + dtype(0.01)
    name = np.dtype(dtype).name
    for algorithm in ("exact", "hnsw"):
        nn = NearestNeighbors(n_neighbors=7, algorithm=algorithm, random_state=0).fit(X)
        out[name, algorithm, "self"] = nn.kneighbors()
        out[name, algorithm, "queries"] = nn.kneighbors(q)
    for algorithm in ("exact", "hnsw"):
        enn = EditedNearestNeighbours(n_neighbors=3, neighbors=algorithm).fit(X, y)
        out[name, algorithm, "enn"] = enn.fit_resample(X, y)[1], enn.sample_indices_
        tl = TomekLinks(neighbors=algorithm)
        tl.fit_resample(X, y)
        out[name, algorithm, "tomek"] = tl.sample_indices_
    out[name, "smote"] = SMOTE(random_state=0).fit_resample(X, y)
    # The cleaners' capsules around SMOTE's segments have vector and portable builds too (a 2%
    # minority: about 50 new rows a segment, so the grown class is seen as capsules).
    X2, y2 = make_fraud(3000, minority=0.02, seed=4, dtype=dtype)
    # ENN's last stage counts the rows its capped bounded search leaves with the projected scan
    # (vector and portable builds), when many rows are open: a continuous cloud, 10% minority.
    rng = np.random.default_rng(5)
    X3 = (rng.standard_normal((6000, 12)) * np.linspace(2.0, 0.3, 12)).astype(dtype)
    y3 = (rng.random(6000) < 0.1).astype(np.int64)
    X3[y3 == 1, :3] += dtype(1.0)
    enn3 = EditedNearestNeighbours(n_neighbors=3)
    out[name, "enn_cloud"] = enn3.fit_resample(X3, y3)[1], enn3.sample_indices_
    out[name, "smoteenn"] = SMOTEENN(random_state=0).fit_resample(X2, y2)
    out[name, "smotetomek"] = SMOTETomek(random_state=0).fit_resample(X2, y2)
sys.stdout.buffer.write(pickle.dumps(out))
"""


def _run(env_extra: dict[str, str], prefix: list[str] = ()) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "EQUIPOISE_PORTABLE_KERNEL"}
    env.update(env_extra)
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    return pickle.loads(proc.stdout)


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if key == "avx2":
            continue
        xs, ys = a[key], b[key]
        xs, ys = (xs, ys) if isinstance(xs, tuple) else ((xs,), (ys,))
        for x, y in zip(xs, ys, strict=True):
            assert x.dtype == y.dtype, key
            np.testing.assert_array_equal(x, y, err_msg=str(key))


@pytest.fixture(scope="module")
def default_run() -> dict:
    return _run({})


needs_x86 = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 kernels only"
)


@needs_x86
def test_portable_kernel_gives_the_same_results_as_the_detected_one(default_run):
    portable = _run({"EQUIPOISE_PORTABLE_KERNEL": "1"})
    _assert_same(default_run, portable)
    # The child really searched: neighbours are other rows, ENN removed some majority rows.
    dist, ind = default_run["float32", "exact", "self"]
    assert ind.shape == (2500, 7) and (ind != np.arange(2500)[:, None]).all()
    assert np.all(np.diff(dist, axis=1) >= 0)
    y_res, kept = default_run["float64", "exact", "enn"]
    assert 0 < 2500 - kept.size < 2500


QEMU = shutil.which("qemu-x86_64")
# .ci/run installs qemu-user and sets this, so that the emulated run cannot be skipped there.
QEMU_REQUIRED = os.environ.get("EQUIPOISE_TEST_QEMU") == "required"


@needs_x86
@pytest.mark.skipif(QEMU is None and not QEMU_REQUIRED, reason="qemu-x86_64 not installed")
@pytest.mark.slow
def test_the_wheel_runs_on_a_cpu_without_avx_and_gives_the_same_results(default_run):
    assert QEMU is not None, "EQUIPOISE_TEST_QEMU=required but qemu-x86_64 is not on PATH"
    # Nehalem: SSE4.2 and POPCNT (numpy's x86-64 baseline), no AVX, AVX2, FMA or AVX-512.
    # numpy's bundled OpenBLAS picks its kernels from the CPU it detects, and under qemu on an
    # AMD Zen 5 host it picked AVX code (SIGILL in `import numpy`, from numpy.linalg): its
    # kernels are named, so that only equipoise's dispatch is under test.
    emulated = _run({"OPENBLAS_CORETYPE": "NEHALEM"}, prefix=[QEMU, "-cpu", "Nehalem"])
    assert emulated["avx2"] is False, "the emulated CPU should report no AVX2"
    _assert_same(default_run, emulated)
