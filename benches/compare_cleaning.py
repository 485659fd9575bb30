"""Side by side: imbalanced-learn's cleaning samplers and equipoise's, per data family.

Each (library, method) runs in its own process, so that its peak memory (ru_maxrss) is its own;
both see the same data. Printed per method: wall time of ``fit_resample`` for each library, the
speed ratio, peak memory, and whether the outputs agree (``sample_indices_`` identical; for the
combined samplers, the class counts after SMOTE, and with ``--verify-combined`` imbalanced-learn's
cleaner run on equipoise's SMOTE output must select exactly equipoise's rows).

    python benches/compare_cleaning.py                          # 100k rows, binary, 0.5% minority
    python benches/compare_cleaning.py --families all           # every synthetic family
    python benches/compare_cleaning.py --multiclass             # the 5-class clustered variant
    python benches/compare_cleaning.py --rows 1000000 --methods enn,tomek   # slow: imblearn minutes

``--skip-imblearn-above N`` runs equipoise alone above N rows (imbalanced-learn's brute force grows
with the square of the rows). ``--imblearn-sample S`` instead *estimates* imbalanced-learn's time
where it cannot finish: it runs imbalanced-learn's own steps (SMOTE in full for the combined
samplers, then its ``NearestNeighbors`` fit) and its neighbour query (the step whose cost grows with
the square of the rows) on S random rows of those it queries, scaled linearly to all of them (the
query is chunked brute force: its time is linear in the number of queries). The printout says
"est." and checks equipoise's decision on those S rows against the one imbalanced-learn's
neighbours give.

    python benches/compare_cleaning.py --rows 1000000 --methods enn,tomek --imblearn-sample 20000
    python benches/compare_cleaning.py --rows 1000000 --methods smoteenn --imblearn-sample 10000

Peak memory is each process's VmHWM (the kernel's high-water mark of resident memory; unlike
``ru_maxrss`` it does not carry the parent's peak across fork and exec), read right after
``fit_resample``; "above data" subtracts the resident memory before the call (data loaded).
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
from pathlib import Path

import numpy as np
from data_families import add_family_argument, expand

HERE = Path(__file__).resolve().parent

METHODS = {
    "enn": ("under_sampling", "EditedNearestNeighbours", {}),
    "tomek": ("under_sampling", "TomekLinks", {}),
    "renn": ("under_sampling", "RepeatedEditedNearestNeighbours", {}),
    "allknn": ("under_sampling", "AllKNN", {}),
    "ncr": ("under_sampling", "NeighbourhoodCleaningRule", {}),
    "smoteenn": ("combine", "SMOTEENN", {"random_state": 0}),
    "smotetomek": ("combine", "SMOTETomek", {"random_state": 0}),
}


def load(rows, family):
    """The data of a family (``benches/data_families.py``); ``clustered-5class``: 5 classes."""
    if family == "clustered-5class":
        from equipoise.datasets import make_fraud_multiclass

        return make_fraud_multiclass(rows)
    from data_families import make

    return make(family, rows)


def vm_mib(field: str) -> float:
    """VmHWM (peak) or VmRSS (current) resident memory of this process, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(lib, method, rows, family, out, neighbors="auto"):
    import importlib

    X, y = load(rows, family)
    sub, name, params = METHODS[method]
    pkg = "imblearn" if lib == "imblearn" else "equipoise"
    if lib == "equipoise" and neighbors != "auto":
        params = {**params, "neighbors": neighbors}
    est = getattr(importlib.import_module(f"{pkg}.{sub}"), name)(**params)
    base = vm_mib("VmRSS")
    t = time.perf_counter()
    X_res, y_res = est.fit_resample(X, y)
    elapsed = time.perf_counter() - t
    res = {
        "time": elapsed,
        "maxrss_mb": vm_mib("VmHWM"),
        "above_mb": vm_mib("VmHWM") - base,
        "counts": np.unique(y_res, return_counts=True)[1].tolist(),
    }
    arrays = {}
    if hasattr(est, "sample_indices_"):
        arrays["idx"] = est.sample_indices_
    if hasattr(est, "smote_"):
        cleaner = getattr(est, "enn_", None) or est.tomek_
        arrays["clean_idx"] = cleaner.sample_indices_
        # The SMOTE step's counts (decision 2: the combined samplers match on these).
        res["smote_counts"] = (np.bincount(y) + _added(est.smote_, y)).tolist()
        if lib == "equipoise":
            Xs, ys = est.smote_.fit_resample(X, y)
            arrays["smote_X"], arrays["smote_y"] = Xs, ys
    np.savez(out + ".npz", **arrays)
    Path(out + ".json").write_text(json.dumps(res))


def estimate_worker(method, rows, family, sample, eq_path, out):
    """imbalanced-learn's time, estimated from its neighbour query on `sample` rows (see above)."""
    from imblearn.over_sampling import SMOTE
    from sklearn.neighbors import NearestNeighbors

    X, y = load(rows, family)
    t = time.perf_counter()
    if method in ("smoteenn", "smotetomek"):
        X, y = SMOTE(random_state=0).fit_resample(X, y)  # imbalanced-learn's SMOTE step, in full
        targeted = np.ones(len(y), dtype=bool)  # its cleaner runs with sampling_strategy="all"
    elif method == "enn":
        targeted = y != np.bincount(y).argmin()  # "auto": every class but the minority
    else:
        targeted = np.ones(len(y), dtype=bool)  # TomekLinks queries every row
    k = 3 if method in ("enn", "smoteenn") else 1
    nn = NearestNeighbors(n_neighbors=k + 1, n_jobs=None).fit(X)
    fixed = time.perf_counter() - t
    pool = np.flatnonzero(targeted)
    rng = np.random.default_rng(0)
    rows_q = np.sort(rng.choice(pool, size=min(sample, pool.size), replace=False))
    t = time.perf_counter()
    nb = nn.kneighbors(X[rows_q], return_distance=False)[:, 1:]
    per_query = (time.perf_counter() - t) / rows_q.size
    res = {"time": fixed + per_query * pool.size, "sampled": rows_q.size, "queried": pool.size}
    res = {k: float(v) if k == "time" else int(v) for k, v in res.items()}
    # Agreement on the sampled rows: ENN's "all" rule from imbalanced-learn's neighbours against
    # equipoise's decision (kept or not); for Tomek links, whether the nearest row is of another
    # class (a link needs it) must agree with equipoise wherever equipoise removed the row.
    kept = np.zeros(len(y), dtype=bool)
    with np.load(eq_path) as f:
        kept[f["clean_idx" if "clean_idx" in f else "idx"]] = True
    if k == 3:
        want = (y[nb] == y[rows_q, None]).all(axis=1) | ~targeted[rows_q]
        res["agree"] = int((want == kept[rows_q]).sum())
    else:
        other = y[nb[:, 0]] != y[rows_q]
        res["agree"] = int((other | kept[rows_q]).sum())
    Path(out + ".json").write_text(json.dumps(res))


def _added(smote, y):
    add = np.zeros(np.bincount(y).size, dtype=int)
    for cls, n in smote.sampling_strategy_.items():
        add[int(cls)] = n
    return add


def clean_worker(method, path, out):
    """imbalanced-learn's cleaner of a combined sampler, on equipoise's SMOTE output."""
    from imblearn.under_sampling import EditedNearestNeighbours, TomekLinks

    d = np.load(path)
    cleaner = (
        EditedNearestNeighbours(sampling_strategy="all")
        if method == "smoteenn"
        else TomekLinks(sampling_strategy="all")
    )
    cleaner.fit_resample(d["smote_X"], d["smote_y"])
    np.savez(out + ".npz", idx=cleaner.sample_indices_)


def run(args_list):
    cmd = [sys.executable, str(Path(__file__).resolve()), *args_list]
    subprocess.run(cmd, check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--multiclass", action="store_true", help="the 5-class clustered data")
    add_family_argument(p)
    p.add_argument("--methods", default="enn,tomek,smoteenn,smotetomek")
    p.add_argument("--skip-imblearn-above", type=int, default=10**12)
    p.add_argument("--imblearn-sample", type=int, default=0)
    p.add_argument("--neighbors", default="auto", help="equipoise's neighbors= (e.g. hnsw)")
    p.add_argument("--verify-combined", action="store_true")
    p.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    p.add_argument("--estimate-worker", nargs=6, help=argparse.SUPPRESS)
    p.add_argument("--clean-worker", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        lib, method, rows, family, out, neighbors = a.worker
        return worker(lib, method, int(rows), family, out, neighbors)
    if a.estimate_worker:
        method, rows, family, sample, eq_path, out = a.estimate_worker
        return estimate_worker(method, int(rows), family, int(sample), eq_path, out)
    if a.clean_worker:
        return clean_worker(*a.clean_worker)

    families = ["clustered-5class"] if a.multiclass else expand(a.families)
    for family in families:
        kind = "5 classes" if a.multiclass else "binary"
        print(f"\n## {family}: {a.rows:,} rows x 30 float32, {kind}; {os.cpu_count()} cores")
        compare(a, family)


def compare(a, family):
    if a.neighbors != "auto":
        print(f"equipoise runs with neighbors={a.neighbors!r}")
    header = f"{'method':12s} {'imblearn s':>11s} {'equipoise s':>12s} {'ratio':>8s}"
    print(header + f" {'imb MB':>8s} {'eq MB':>8s} {'above data':>11s}  output")
    tmp = tempfile.mkdtemp(prefix="eq-bench-")
    for method in a.methods.split(","):
        res = {}
        libs = ["equipoise"]
        if a.rows <= a.skip_imblearn_above and not a.imblearn_sample:
            libs.insert(0, "imblearn")
        multi = family
        for lib in libs:
            out = f"{tmp}/{lib}-{method}"
            run(["--worker", lib, method, str(a.rows), multi, out, a.neighbors])
            res[lib] = (json.loads(Path(out + ".json").read_text()), np.load(out + ".npz"))
        eq, eq_arr = res["equipoise"]
        if a.imblearn_sample:
            out = f"{tmp}/estimate-{method}"
            eq_npz = f"{tmp}/equipoise-{method}.npz"
            sample = str(a.imblearn_sample)
            run(["--estimate-worker", method, str(a.rows), multi, sample, eq_npz, out])
            est = json.loads(Path(out + ".json").read_text())
            print(
                f"{method:12s} {est['time']:10.0f}* {eq['time']:12.3f}"
                f" {est['time'] / eq['time']:7.0f}x"
                f" {'-':>8s} {eq['maxrss_mb']:8.0f} {eq['above_mb']:11.0f}  * est. from"
                f" {est['sampled']:,} of {est['queried']:,} queries; decisions agree on"
                f" {est['agree']:,} of {est['sampled']:,}"
            )
            continue
        if "imblearn" not in res:
            print(
                f"{method:12s} {'-':>11s} {eq['time']:12.3f} {'-':>8s} {'-':>8s}"
                f" {eq['maxrss_mb']:8.0f} {eq['above_mb']:11.0f}  (imblearn not run)"
            )
            continue
        imb, imb_arr = res["imblearn"]
        if "idx" in eq_arr:
            same = np.array_equal(eq_arr["idx"], imb_arr["idx"])
            verdict = "identical sample_indices_" if same else "DIFFERENT sample_indices_"
        else:
            same = eq["smote_counts"] == imb["smote_counts"]
            verdict = "same SMOTE counts" if same else "DIFFERENT SMOTE counts"
            if a.verify_combined:
                run(["--clean-worker", method, f"{tmp}/equipoise-{method}.npz", f"{tmp}/check"])
                ok = np.array_equal(np.load(f"{tmp}/check.npz")["idx"], eq_arr["clean_idx"])
                verdict += "; cleaner on the same SMOTE output: " + (
                    "identical rows" if ok else "DIFFERENT rows"
                )
        ratio = imb["time"] / eq["time"]
        above = f"{imb['above_mb']:.0f}/{eq['above_mb']:.0f}"
        print(
            f"{method:12s} {imb['time']:11.3f} {eq['time']:12.3f} {ratio:7.1f}x"
            f" {imb['maxrss_mb']:8.0f} {eq['maxrss_mb']:8.0f} {above:>11s}  {verdict}"
        )


if __name__ == "__main__":
    main()
