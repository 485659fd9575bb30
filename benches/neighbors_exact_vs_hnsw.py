"""Side by side: an equipoise sampler with ``neighbors="exact"`` and with ``neighbors="hnsw"``.

Each run is its own process (peak memory = ru_maxrss of that run); both see the same data, of each
family of ``benches/data_families.py`` (``--families``; ``--multiclass``: the 5-class clusters).
Printed per method: wall time of ``fit_resample``, rows in and
out, peak memory, and the agreement of the two selections: for the cleaners |exact Δ hnsw| / |exact|
of ``sample_indices_``; for SMOTEENN / SMOTETomek (whose SMOTE step may itself differ) the same
share over the output rows, compared exactly as rows.

    python benches/neighbors_exact_vs_hnsw.py                             # SMOTEENN, 200k rows
    python benches/neighbors_exact_vs_hnsw.py --rows 1000000 --methods smoteenn
    python benches/neighbors_exact_vs_hnsw.py --methods enn,tomek,smotetomek --multiclass
    python benches/neighbors_exact_vs_hnsw.py --rows 100000 --methods enn,tomek --families all
    python benches/neighbors_exact_vs_hnsw.py --hnsw '{"M": 8, "ef_construction": 64}'
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from data_families import add_family_argument, expand, make

METHODS = {
    "enn": ("under_sampling", "EditedNearestNeighbours", {"sampling_strategy": "all"}),
    "tomek": ("under_sampling", "TomekLinks", {"sampling_strategy": "all"}),
    "smoteenn": ("combine", "SMOTEENN", {"random_state": 0}),
    "smotetomek": ("combine", "SMOTETomek", {"random_state": 0}),
}


def worker(method, rows, family, neighbors, out):
    import importlib

    if family == "clustered-5class":
        from equipoise.datasets import make_fraud_multiclass

        X, y = make_fraud_multiclass(rows)
    else:
        X, y = make(family, rows)
    sub, name, params = METHODS[method]
    est = getattr(importlib.import_module(f"equipoise.{sub}"), name)(**params, neighbors=neighbors)
    t = time.perf_counter()
    X_res, y_res = est.fit_resample(X, y)
    elapsed = time.perf_counter() - t
    res = {
        "time": elapsed,
        "rows_out": int(y_res.size),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if hasattr(est, "sample_indices_"):
        np.save(out + ".npy", est.sample_indices_)
    else:
        np.save(out + ".npy", X_res)
    Path(out + ".json").write_text(json.dumps(res))


def as_rows(A):
    A = np.ascontiguousarray(A)
    return A.view(np.dtype((np.void, A.dtype.itemsize * A.shape[1]))).ravel()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--multiclass", action="store_true")
    ap.add_argument("--methods", default="smoteenn")
    ap.add_argument("--hnsw", default="hnsw", help="the hnsw value: 'hnsw' or a JSON dict")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    add_family_argument(ap)
    args = ap.parse_args()
    if args.worker:
        method, rows, family, neighbors, out = args.worker
        neighbors = json.loads(neighbors) if neighbors.startswith("{") else neighbors
        worker(method, int(rows), family, neighbors, out)
        return
    for family in ["clustered-5class"] if args.multiclass else expand(args.families):
        compare(args, family)


def compare(args, family):
    print(f"\ndata: {family}, {args.rows} rows; hnsw = {args.hnsw}")
    print(f"{'method':12} {'neighbors':9} {'time s':>8} {'rows out':>9} {'peak MB':>8}  agreement")
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods.split(","):
            got = {}
            for label, value in (("exact", "exact"), ("hnsw", args.hnsw)):
                out = str(Path(tmp) / f"{method}-{label}")
                cmd = [sys.executable, __file__, "--worker", method, str(args.rows)]
                cmd += [family, value, out]
                subprocess.run(cmd, check=True)
                res = json.loads(Path(out + ".json").read_text())
                got[label] = (res, np.load(out + ".npy"))
            exact, approx = got["exact"][1], got["hnsw"][1]
            if exact.ndim == 2:
                exact, approx = as_rows(exact), as_rows(approx)
            share = np.setxor1d(exact, approx).size / exact.size
            for label, (res, _) in got.items():
                agree = f"{100 * (1 - share):.3f}% (|exact Δ hnsw| / |exact| = {share:.5f})"
                print(
                    f"{method:12} {label:9} {res['time']:8.2f} {res['rows_out']:9d}"
                    f" {res['maxrss_mb']:8.0f}  {agree if label == 'hnsw' else ''}"
                )
            ratio = got["exact"][0]["time"] / got["hnsw"][0]["time"]
            print(f"{method:12} exact / hnsw time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
