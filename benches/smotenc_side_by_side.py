"""SMOTENC side by side: equipoise vs imbalanced-learn on mixed tables.

The table: the categorical extension of each data family (``--families``, default iid Gaussian and
the PCA-like cloud; ``data_families.mixed``): ``n`` rows, the family's first 10 columns numeric
(float64) and its next 5 binned into categorical columns (pandas ``category``) with 10, 50, 200,
1,000 and 2,000 levels of Zipf-like frequencies; the minority class is 0.5% of the rows (or
``--minority-rows``). ``--families table`` is the earlier table, whose numeric columns are iid
normal and whose categories are drawn apart from them. Each library runs in its own process
(peak memory is that process's ``ru_maxrss``); the parent prints time, peak memory, the ratios,
and whether each output is valid (class counts balanced; every new numeric value inside the
minority's range; every new category one of the column's levels).

imbalanced-learn is run under an address-space cap (``--imblearn-cap-gib``, default 16) so that
its one-hot blow-up ends in a ``MemoryError`` instead of swapping a shared machine.

    python benches/smotenc_side_by_side.py                       # 1M rows, then sizes both finish
    python benches/smotenc_side_by_side.py --rows 100000 --families all real:mammography
    python benches/smotenc_side_by_side.py --rows 8000000 --minority-rows 50000 --only equipoise
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from data_families import add_family_argument, expand, mixed

LEVELS = (10, 50, 200, 1000, 2000)
N_NUMERIC = 10


def mixed_table(n_rows: int, n_minority: int | None = None, seed: int = 0):
    """``(X, y)``: a pandas frame (10 numeric, 5 categorical columns) and int64 labels."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_min = n_minority if n_minority is not None else max(int(round(n_rows * 0.005)), 8)
    y = np.zeros(n_rows, dtype=np.int64)
    y[rng.choice(n_rows, size=n_min, replace=False)] = 1
    cols = {}
    shift = y.astype(np.float64)
    for j in range(N_NUMERIC):
        cols[f"num{j}"] = rng.standard_normal(n_rows) + shift * (0.5 + 0.1 * j)
    for j, levels in enumerate(LEVELS):
        # Zipf-like level frequencies, the minority leaning towards a few levels.
        p = 1.0 / np.arange(1, levels + 1)
        p /= p.sum()
        codes = rng.choice(levels, size=n_rows, p=p)
        codes[y == 1] = rng.choice(min(levels, 5), size=n_min)
        cats = [f"c{j}_{v}" for v in range(levels)]
        cols[f"cat{j}"] = pd.Categorical.from_codes(codes.astype(np.int32), categories=cats)
    return pd.DataFrame(cols), y


def _valid(X_df, y, X_res, y_res) -> bool:
    import pandas as pd

    n = len(X_df)
    classes, counts = np.unique(np.asarray(y_res), return_counts=True)
    if counts.min() != counts.max() or len(X_res) != len(y_res):
        return False
    labels, n_in = np.unique(np.asarray(y), return_counts=True)
    small = labels[np.argmin(n_in)]
    new = X_res.iloc[n:] if hasattr(X_res, "iloc") else X_res[n:]
    minority = X_df[np.asarray(y) == small]
    for c in X_df.columns:
        if isinstance(X_df[c].dtype, pd.CategoricalDtype):
            if not set(np.unique(np.asarray(new[c], dtype=object))) <= set(X_df[c].cat.categories):
                return False
            continue
        lo, hi = minority[c].min(), minority[c].max()
        vals = np.asarray(new[c])
        if vals.min() < lo - 1e-9 or vals.max() > hi + 1e-9:
            return False
    return True


def table(family: str, n_rows: int, n_minority: int | None):
    if family == "table":
        return mixed_table(n_rows, n_minority)
    share = 0.005 if n_minority is None else n_minority / n_rows
    return mixed(family, n_rows, minority=share)


def child(lib, family, n_rows, n_minority, frame, cap_gib):
    if cap_gib:
        cap = int(cap_gib * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    X, y = table(family, n_rows, n_minority)
    n_rows = len(y)  # a real set has its own size
    cat_idx = [j for j, c in enumerate(X.columns) if str(X[c].dtype) == "category"]
    if lib == "equipoise":
        from equipoise.over_sampling import SMOTENC

        sampler = SMOTENC(categorical_features="auto", random_state=0)
        if frame == "polars":
            import polars as pl

            X_in = pl.from_pandas(X)
        else:
            X_in = X
    else:
        from imblearn.over_sampling import SMOTENC

        sampler = SMOTENC(categorical_features=cat_idx, random_state=0)
        X_in = X
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        X_res, y_res = sampler.fit_resample(X_in, y)
        ok = True
        error = None
    except MemoryError as exc:
        ok, error = False, f"MemoryError: {exc}"
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    valid = None
    if ok:
        if frame == "polars" and lib == "equipoise":
            X_res = X_res.to_pandas()
        valid = _valid(X, y, X_res, y_res)
    print(
        json.dumps(
            {
                "lib": lib,
                "rows": n_rows,
                "minority": int(np.unique(y, return_counts=True)[1].min()),
                "seconds": seconds,
                "peak_gib": peak / (1 << 20),
                "data_gib": base_rss / (1 << 20),
                "ok": ok,
                "valid": valid,
                "error": error,
            }
        )
    )


def run(lib, family, rows, minority, frame, cap):
    cmd = [sys.executable, __file__, "--child", lib, "--rows", str(rows), "--frame", frame]
    cmd += ["--families", family]
    if minority is not None:
        cmd += ["--minority-rows", str(minority)]
    if cap:
        cmd += ["--imblearn-cap-gib", str(cap)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (p.stderr or "").strip().splitlines()[-1:] or ["(no output)"]
        return {"lib": lib, "rows": rows, "ok": False, "error": f"exit {p.returncode}: {tail[0]}"}
    return json.loads(lines[-1])


def show(r):
    if r.get("ok"):
        print(
            f"  {r['lib']:<10} {r['rows']:>9,} rows ({r['minority']:,} minority):"
            f" {r['seconds']:8.2f} s, peak {r['peak_gib']:6.2f} GiB"
            f" (data alone {r['data_gib']:.2f}), valid={r['valid']}"
        )
    else:
        after = f" after {r['seconds']:.0f} s" if "seconds" in r else ""
        print(f"  {r['lib']:<10} {r['rows']:>9,} rows: did not finish{after}: {r.get('error')}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 20_000])
    ap.add_argument("--minority-rows", type=int, default=None)
    ap.add_argument("--frame", default="pandas", choices=["pandas", "polars"])
    ap.add_argument("--only", choices=["equipoise", "imblearn"])
    ap.add_argument("--imblearn-cap-gib", type=float, default=16.0)
    add_family_argument(ap)
    a = ap.parse_args()
    if a.child:
        cap = a.imblearn_cap_gib if a.child == "imblearn" else None
        child(a.child, a.families[0], a.rows[0], a.minority_rows, a.frame, cap)
        return
    families = expand(a.families)
    # A real set has its own size: measured once.
    runs = [(f, r) for f in families for r in (a.rows[:1] if f.startswith("real:") else a.rows)]
    for family, rows in runs:
        print(f"SMOTENC, {family}, {rows:,} rows, levels {LEVELS}, {a.frame} input to equipoise:")
        res = {}
        for lib in ("equipoise", "imblearn"):
            if a.only and lib != a.only:
                continue
            res[lib] = run(lib, family, rows, a.minority_rows, a.frame, a.imblearn_cap_gib)
            show(res[lib])
        e, i = res.get("equipoise"), res.get("imblearn")
        if e and i and e.get("ok") and i.get("ok"):
            print(
                f"  => equipoise {i['seconds'] / e['seconds']:.1f}x faster,"
                f" peak memory {e['peak_gib'] / i['peak_gib']:.2f} of imbalanced-learn's"
            )


if __name__ == "__main__":
    main()
