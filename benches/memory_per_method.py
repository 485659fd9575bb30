"""Peak memory of each method, per row: the table in docs/design.md ("Memory per method").

Each (method, size) runs in a fresh process. The process builds its data (two classes, 10%
minority, ``--features`` float64 columns; SMOTENC gets 2 categorical columns of them, SMOTEN only
categorical columns), resets its resident-memory high-water mark (``/proc/self/clear_refs``), runs
the method once and reads VmHWM: the peak *above* the resident memory the data and the imports
already held is what the call itself needed, its output included. The per-row figure is the slope
between the two sizes, so that fixed costs (thread stacks, imports touched on first use) drop out;
the intercept is shown beside it.

    python benches/memory_per_method.py                       # 25k and 100k rows, 16 features
    python benches/memory_per_method.py --rows 50000 200000 --methods SMOTE,ENN
    python benches/memory_per_method.py --write-docs          # refresh the table in docs/design.md

Linux only (VmHWM, clear_refs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "design.md"
START, END = "<!-- memory-table:start -->", "<!-- memory-table:end -->"

# name: (import path, constructor arguments as Python source, what is called)
METHODS = {
    "SMOTE": ("equipoise.over_sampling", "SMOTE(random_state=0)", "fit_resample"),
    "RandomOverSampler": (
        "equipoise.over_sampling",
        "RandomOverSampler(random_state=0)",
        "fit_resample",
    ),
    "BorderlineSMOTE": (
        "equipoise.over_sampling",
        "BorderlineSMOTE(random_state=0)",
        "fit_resample",
    ),
    "ADASYN": ("equipoise.over_sampling", "ADASYN(random_state=0)", "fit_resample"),
    "SMOTENC": (
        "equipoise.over_sampling",
        "SMOTENC(categorical_features=[0, 1], random_state=0)",
        "fit_resample",
    ),
    "SMOTEN": ("equipoise.over_sampling", "SMOTEN(random_state=0)", "fit_resample"),
    "RandomUnderSampler": (
        "equipoise.under_sampling",
        "RandomUnderSampler(random_state=0)",
        "fit_resample",
    ),
    "EditedNearestNeighbours": (
        "equipoise.under_sampling",
        "EditedNearestNeighbours()",
        "fit_resample",
    ),
    "RepeatedEditedNearestNeighbours": (
        "equipoise.under_sampling",
        "RepeatedEditedNearestNeighbours()",
        "fit_resample",
    ),
    "AllKNN": ("equipoise.under_sampling", "AllKNN()", "fit_resample"),
    "TomekLinks": ("equipoise.under_sampling", "TomekLinks()", "fit_resample"),
    "NeighbourhoodCleaningRule": (
        "equipoise.under_sampling",
        "NeighbourhoodCleaningRule()",
        "fit_resample",
    ),
    "OneSidedSelection": (
        "equipoise.under_sampling",
        "OneSidedSelection(random_state=0)",
        "fit_resample",
    ),
    "CondensedNearestNeighbour": (
        "equipoise.under_sampling",
        "CondensedNearestNeighbour(random_state=0)",
        "fit_resample",
    ),
    "SMOTEENN": ("equipoise.combine", "SMOTEENN(random_state=0)", "fit_resample"),
    "SMOTETomek": ("equipoise.combine", "SMOTETomek(random_state=0)", "fit_resample"),
    "NearestNeighbors.kneighbors (exact)": (
        "equipoise.neighbors",
        "NearestNeighbors(algorithm='exact')",
        "kneighbors",
    ),
    "NearestNeighbors.kneighbors (hnsw)": (
        "equipoise.neighbors",
        "NearestNeighbors(algorithm='hnsw')",
        "kneighbors",
    ),
}

CHILD = r"""
import gc, json, sys, time
import numpy as np
import importlib

name, module, ctor, call, n, d = sys.argv[1:7]
n, d = int(n), int(d)
rng = np.random.default_rng(0)
y = (rng.random(n) < 0.1).astype(np.int64)
X = rng.normal(size=(n, d)) + y[:, None] * 0.8
if name == "SMOTENC":
    X[:, :2] = rng.integers(0, 5, size=(n, 2))
if name == "SMOTEN":
    X = rng.integers(0, 5, size=(n, d)).astype(np.int64)
input_bytes = X.nbytes
est = eval(ctor, vars(importlib.import_module(module)))


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024


gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current resident size
base = status("VmRSS")
t = time.perf_counter()
if call == "kneighbors":
    out = est.fit(X).kneighbors()
else:
    out = est.fit_resample(X, y)
seconds = time.perf_counter() - t
peak = status("VmHWM")
out_bytes = sum(a.nbytes for a in out)
print(json.dumps({"input": input_bytes, "peak_above": peak - base, "output": out_bytes,
                  "seconds": seconds}))
"""


def measure(name: str, n: int, d: int) -> dict:
    module, ctor, call = METHODS[name]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, name, module, ctor, call, str(n), str(d)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: dict, rows: list[int], d: int) -> str:
    n1, n2 = rows[0], rows[-1]
    head = (
        f"| method | peak above input, {n1:,} rows | peak above input, {n2:,} rows "
        "| bytes per row (slope) | fixed | output bytes per row |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, per in results.items():
        a, b = per[n1], per[n2]
        slope = (b["peak_above"] - a["peak_above"]) / (n2 - n1)
        fixed = a["peak_above"] - slope * n1
        lines.append(
            f"| {name} | {a['peak_above'] / 2**20:.1f} MiB | {b['peak_above'] / 2**20:.1f} MiB "
            f"| {slope:,.0f} | {fixed / 2**20:.1f} MiB | {b['output'] / n2:,.0f} |"
        )
    note = (
        f"\nInput: {d} float64 features ({8 * d} bytes a row; SMOTEN: {d} int64 category codes), "
        "two classes with a 10% minority. Generated by `python benches/memory_per_method.py "
        f"--rows {' '.join(map(str, rows))} --features {d} --write-docs`.\n"
    )
    return head + "\n".join(lines) + "\n" + note


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, nargs=2, default=[25_000, 100_000])
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--methods", default="all", help="comma-separated names, or 'all'")
    p.add_argument("--write-docs", action="store_true", help=f"replace the table in {DOC}")
    args = p.parse_args()
    names = list(METHODS) if args.methods == "all" else args.methods.split(",")
    results: dict = {}
    for name in names:
        results[name] = {}
        for n in args.rows:
            t = time.perf_counter()
            r = measure(name, n, args.features)
            results[name][n] = r
            print(
                f"{name:45s} {n:>9,} rows: peak above input {r['peak_above'] / 2**20:8.1f} MiB "
                f"(input {r['input'] / 2**20:.1f} MiB, output {r['output'] / 2**20:.1f} MiB, "
                f"{r['seconds']:.2f} s; {time.perf_counter() - t:.1f} s with start-up)",
                flush=True,
            )
    md = table(results, args.rows, args.features)
    print()
    print(md)
    if args.write_docs:
        text = DOC.read_text()
        i, j = text.index(START) + len(START), text.index(END)
        DOC.write_text(text[:i] + "\n" + md + text[j:])
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
