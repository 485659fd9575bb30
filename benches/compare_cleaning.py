"""Side by side: imbalanced-learn's cleaning samplers and equipoise's, on the fraud-like data.

Each (library, method) runs in its own process, so that its peak memory (ru_maxrss) is its own;
both see the same data. Printed per method: wall time of ``fit_resample`` for each library, the
speed ratio, peak memory, and whether the outputs agree (``sample_indices_`` identical; for the
combined samplers, the class counts after SMOTE, and with ``--verify-combined`` imbalanced-learn's
cleaner run on equipoise's SMOTE output must select exactly equipoise's rows).

    python benches/compare_cleaning.py                          # 100k rows, binary, 0.5% minority
    python benches/compare_cleaning.py --multiclass             # the 5-class variant
    python benches/compare_cleaning.py --rows 1000000 --methods enn,tomek   # slow: imblearn minutes

``--skip-imblearn-above N`` runs equipoise alone above N rows (imbalanced-learn's brute force grows
with the square of the rows).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

METHODS = {
    "enn": ("under_sampling", "EditedNearestNeighbours", {}),
    "tomek": ("under_sampling", "TomekLinks", {}),
    "renn": ("under_sampling", "RepeatedEditedNearestNeighbours", {}),
    "allknn": ("under_sampling", "AllKNN", {}),
    "ncr": ("under_sampling", "NeighbourhoodCleaningRule", {}),
    "smoteenn": ("combine", "SMOTEENN", {"random_state": 0}),
    "smotetomek": ("combine", "SMOTETomek", {"random_state": 0}),
}


def load(rows, multiclass):
    from benches.fraud_data import fraud, fraud_multiclass

    return fraud_multiclass(rows) if multiclass else fraud(rows)


def worker(lib, method, rows, multiclass, out):
    import importlib

    X, y = load(rows, multiclass)
    sub, name, params = METHODS[method]
    pkg = "imblearn" if lib == "imblearn" else "equipoise"
    est = getattr(importlib.import_module(f"{pkg}.{sub}"), name)(**params)
    t = time.perf_counter()
    X_res, y_res = est.fit_resample(X, y)
    elapsed = time.perf_counter() - t
    res = {
        "time": elapsed,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--multiclass", action="store_true")
    p.add_argument("--methods", default="enn,tomek,smoteenn,smotetomek")
    p.add_argument("--skip-imblearn-above", type=int, default=10**12)
    p.add_argument("--verify-combined", action="store_true")
    p.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    p.add_argument("--clean-worker", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        lib, method, rows, multi, out = a.worker
        return worker(lib, method, int(rows), multi == "1", out)
    if a.clean_worker:
        return clean_worker(*a.clean_worker)

    kind = "5-class" if a.multiclass else "binary 0.5% minority"
    print(f"fraud-like data, {a.rows:,} rows x 30 float32, {kind}; {os.cpu_count()} cores")
    header = f"{'method':12s} {'imblearn s':>11s} {'equipoise s':>12s} {'ratio':>8s}"
    print(header + f" {'imb MB':>8s} {'eq MB':>8s}  output")
    tmp = tempfile.mkdtemp(prefix="eq-bench-")
    for method in a.methods.split(","):
        res = {}
        libs = ["equipoise"]
        if a.rows <= a.skip_imblearn_above:
            libs.insert(0, "imblearn")
        for lib in libs:
            out = f"{tmp}/{lib}-{method}"
            run(["--worker", lib, method, str(a.rows), "1" if a.multiclass else "0", out])
            res[lib] = (json.loads(Path(out + ".json").read_text()), np.load(out + ".npz"))
        eq, eq_arr = res["equipoise"]
        if "imblearn" not in res:
            print(
                f"{method:12s} {'-':>11s} {eq['time']:12.3f} {'-':>8s} {'-':>8s}"
                f" {eq['maxrss_mb']:8.0f}  (imblearn not run)"
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
        print(
            f"{method:12s} {imb['time']:11.3f} {eq['time']:12.3f} {ratio:7.1f}x"
            f" {imb['maxrss_mb']:8.0f} {eq['maxrss_mb']:8.0f}  {verdict}"
        )


if __name__ == "__main__":
    main()
