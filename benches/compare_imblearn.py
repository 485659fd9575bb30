"""Side by side: imbalanced-learn and equipoise on the same data, in one run.

For each data family of ``benches/data_families.py`` (``--families``, default iid Gaussian and the
PCA-like cloud; ``--multiclass``: the 5-class clustered data), size and sampler, times both
libraries in this process (best of ``--repeat``), checks that both outputs are valid (class counts
equal to imbalanced-learn's targets; for SMOTE every checked new row lies on a segment to one of
its class's k nearest neighbours, by scikit-learn's exact search), and measures each library's
peak memory in a fresh process of its own (``ru_maxrss``). For SMOTE it also prints its floor, in
the same run: the time to allocate the output and write each value once from every core (the
machine's own number, page faults included), plus an exact k-NN among the rows of each grown class
at the FMA peak (measured in the same run, or ``--peak-gflops``), and equipoise's time over that
floor; a summary at the end puts every SMOTE run against its floor at the highest peak reading of
the run (a reading taken while a neighbour used the cores is low, and a low peak flatters the
ratio).

    python benches/compare_imblearn.py                    # 100k and 1M rows, binary
    python benches/compare_imblearn.py --rows 1000000 --families pca_cloud --samplers SMOTE
    python benches/compare_imblearn.py --rows 100000 --families all real:mammography
    python benches/compare_imblearn.py --rows 100000 --multiclass
    python benches/compare_imblearn.py --rows 1000000 --samplers SMOTE --minority 0.02
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from data_families import add_family_argument, expand, make

from equipoise.utils._testing import assert_on_segments

SAMPLERS = ("SMOTE", "RandomOverSampler", "RandomUnderSampler")


def sampler(lib: str, name: str):
    if lib == "imblearn":
        import imblearn.over_sampling as over
        import imblearn.under_sampling as under
    else:
        import equipoise.over_sampling as over
        import equipoise.under_sampling as under
    cls = getattr(over, name, None) or getattr(under, name)
    return cls(random_state=0)


def data(rows: int, family: str, minority: float = 0.005):
    """``(X, y)`` of a family (``minority``: the minority's share); ``clustered-5class``: the
    5-class clustered data."""
    if family == "clustered-5class":
        from equipoise.datasets import make_fraud_multiclass

        return make_fraud_multiclass(rows)
    return make(family, rows, minority=minority)


def valid(name, X, y, X_res, y_res) -> bool:
    from equipoise.utils import check_sampling_strategy

    kind = "under-sampling" if name == "RandomUnderSampler" else "over-sampling"
    target = check_sampling_strategy("auto", y, kind)
    classes, counts = np.unique(y, return_counts=True)
    want = dict(zip(classes.tolist(), counts.tolist()))
    for c, n in target.items():
        want[c.item() if hasattr(c, "item") else c] = n if kind == "under-sampling" else want[c] + n
    got_c, got_n = np.unique(y_res, return_counts=True)
    if dict(zip(got_c.tolist(), got_n.tolist())) != want:
        return False
    if name != "SMOTE":
        return True
    n = len(X)
    if not np.array_equal(X_res[:n], X):
        return False
    # Geometry of a sample of new rows, by the tests' scikit-learn-based reference.
    try:
        assert_on_segments(X, y, X_res, y_res, 5, rtol=1e-6, max_rows=300)
    except AssertionError:
        return False
    return True


def smote_floor(X, y, repeat):
    """SMOTE's floor on this machine: (seconds to allocate its output and write every value once
    from every core, flops of an exact k-NN among each grown class's rows)."""
    from concurrent.futures import ThreadPoolExecutor

    from equipoise.utils import check_sampling_strategy

    target = check_sampling_strategy("auto", y, "over-sampling")
    n_out = len(y) + sum(target.values())
    d = X.shape[1]
    classes, counts = np.unique(y, return_counts=True)
    grown = [m for c, m in zip(classes, counts) if target.get(c, 0) > 0]
    knn_flops = sum(2.0 * m * m * d for m in grown)
    threads = os.cpu_count() or 1
    bounds = np.linspace(0, n_out, threads + 1).astype(int)

    def write_once():
        out = np.empty((n_out, d), dtype=X.dtype)
        list(pool.map(lambda i: out[bounds[i] : bounds[i + 1]].fill(1), range(threads)))

    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeat):
            t = time.perf_counter()
            write_once()
            best = min(best, time.perf_counter() - t)
    return best, knn_flops


def time_one(lib, name, X, y, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        est = sampler(lib, name)
        t = time.perf_counter()
        out = est.fit_resample(X, y)
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM: ru_maxrss without the parent's peak, which
    Linux carries across fork and exec into the child's ru_maxrss)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(lib, name, path):
    with np.load(path) as f:
        X, y = f["X"], f["y"]
    sampler(lib, name)  # import before the baseline
    base = peak_rss_mib()
    sampler(lib, name).fit_resample(X, y)
    peak = peak_rss_mib()
    print(json.dumps({"base_mib": base, "peak_mib": peak}))


def peak_memory(lib, name, path):
    cmd = [sys.executable, __file__, "--memory-child", lib, name, path]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    p.add_argument(
        "--multiclass", action="store_true", help="the 5-class clustered data (100:30:10:3:1)"
    )
    add_family_argument(p)
    p.add_argument(
        "--minority",
        type=float,
        default=0.005,
        help="the minority's share of the rows of a synthetic binary family (default 0.005)",
    )
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-memory", action="store_true")
    p.add_argument(
        "--peak-gflops",
        type=float,
        default=None,
        help="the cores' FMA peak, for SMOTE's floor (default: measured in this run, the best"
        " of three timings of equipoise's FMA peak loop on every core, timed again after each"
        " family; the summary uses the highest reading)",
    )
    p.add_argument("--memory-child", nargs=3, metavar=("LIB", "SAMPLER", "DATA"))
    args = p.parse_args()
    if args.memory_child:
        return memory_child(*args.memory_child)

    import imblearn

    import equipoise

    print(
        f"imbalanced-learn {imblearn.__version__}, equipoise {equipoise.__version__}, "
        f"{os.cpu_count()} cores; float32 features, "
        f"{'5 classes' if args.multiclass else f'binary, {args.minority:.1%} minority'}"
    )
    readings = []
    if "SMOTE" in args.samplers and args.peak_gflops is None:
        from equipoise import _core

        readings = [_core.fma_peak_gflops() for _ in range(3)]
        args.peak_gflops = max(readings)
        print(f"FMA peak, measured on every core: {args.peak_gflops:.0f} GFLOP/s (f32)")
    families = ["clustered-5class"] if args.multiclass else expand(args.families)
    header = (
        f"{'family':<18} {'rows':>9} {'sampler':<19} {'imblearn s':>10} {'equipoise s':>11}"
        f" {'speedup':>8}"
        f" {'valid(i/e)':>10} {'peak MiB i/e':>15} {'extra MiB i/e':>13}"
    )
    print(header)
    tmp = tempfile.mkdtemp(prefix="equipoise-bench-")
    floors = []  # (family, rows, equipoise s, write s, k-NN flops) of each SMOTE run
    # A real set has its own size: measured once.
    runs = [(f, r) for f in families for r in (args.rows[:1] if "real:" in f else args.rows)]
    for family, rows in runs:
        X, y = data(rows, family, args.minority)
        rows = len(y)  # a real set has its own size
        path = os.path.join(tmp, f"data-{family.replace(':', '_')}-{rows}.npz")
        np.savez(path, X=X, y=y)
        for name in args.samplers:
            t_i, (Xi, yi) = time_one("imblearn", name, X, y, args.repeat)
            t_e, (Xe, ye) = time_one("equipoise", name, X, y, args.repeat)
            v = (
                f"{'yes' if valid(name, X, y, Xi, yi) else 'NO'}/"
                f"{'yes' if valid(name, X, y, Xe, ye) else 'NO'}"
            )
            del Xi, yi, Xe, ye
            mem = ""
            ratio = ""
            if not args.no_memory:
                mi = peak_memory("imblearn", name, path)
                me = peak_memory("equipoise", name, path)
                mem = f"{mi['peak_mib']:.0f}/{me['peak_mib']:.0f}"
                # Above the data both processes hold: what each library itself allocates.
                extra_i = mi["peak_mib"] - mi["base_mib"]
                extra_e = me["peak_mib"] - me["base_mib"]
                ratio = f"{extra_i:.0f}/{extra_e:.0f}"
            print(
                f"{family:<18} {rows:>9} {name:<19} {t_i:>10.3f} {t_e:>11.3f} {t_i / t_e:>7.1f}x"
                f" {v:>10} {mem:>15} {ratio:>9}",
                flush=True,
            )
            if name == "SMOTE":
                write, flops = smote_floor(X, y, args.repeat)
                floors.append((family, rows, t_e, write, flops))
                knn = flops / (args.peak_gflops * 1e9)
                floor = floor_s(write, flops, args.peak_gflops)
                print(
                    f"{'':<18} {'':>9} {'SMOTE floor':<19} {'':>10} {floor:>11.3f}"
                    f"  equipoise / floor {t_e / floor:.2f}x (write the output once from every"
                    f" core {write:.3f} s + exact k-NN of the grown classes at"
                    f" {args.peak_gflops:.0f} GFLOP/s {knn:.4f} s)",
                    flush=True,
                )
                if readings:
                    # A reading taken while something else ran is low, and a low peak flatters
                    # the floor's ratio: the summary takes the highest of the run.
                    readings.append(_core.fma_peak_gflops())
    if len(floors) > 1 or (readings and max(readings) > args.peak_gflops):
        summarize_floors(floors, max(readings) if readings else args.peak_gflops, readings)


def floor_s(write, flops, peak_gflops):
    """SMOTE's floor in seconds: the output written once, plus the k-NN's flops at the peak."""
    return write + flops / (peak_gflops * 1e9)


def summarize_floors(floors, peak, readings):
    """Every SMOTE run of this process against its floor at one peak, the highest measured, so
    that a peak reading lowered by a neighbour cannot make one family look nearer its floor."""
    if readings:
        print(
            f"\nSMOTE against its floor at the run's highest FMA peak, {peak:.0f} GFLOP/s"
            f" ({len(readings)} readings, {min(readings):.0f}-{max(readings):.0f}):"
        )
    else:
        print(f"\nSMOTE against its floor at the given FMA peak, {peak:.0f} GFLOP/s:")
    worst = max(floors, key=lambda f: f[2] / floor_s(f[3], f[4], peak))
    for family, rows, t_e, write, flops in floors:
        floor = floor_s(write, flops, peak)
        mark = "  <- worst" if (family, rows) == worst[:2] else ""
        print(
            f"  {family:<18} {rows:>9}  equipoise {t_e:.4f} s  floor {floor:.4f} s"
            f"  {t_e / floor:.2f}x{mark}"
        )


if __name__ == "__main__":
    main()
