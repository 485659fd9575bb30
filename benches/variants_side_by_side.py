"""BorderlineSMOTE, ADASYN and SMOTEN side by side with imbalanced-learn, in one process.

    python benches/variants_side_by_side.py                          # 100k rows
    python benches/variants_side_by_side.py --rows 1000000 --families all

For each data family of ``benches/data_families.py`` (``--families``, default iid Gaussian and the
PCA-like cloud: 30 float32 features, 0.5% minority): BorderlineSMOTE and ADASYN on the family, and
SMOTEN on its categorical extension (``data_families.categorical``: six of its columns binned into
4 to 40 levels, string values). Prints both times, the ratio, and whether both outputs have the
same class counts (imbalanced-learn's rule for each method).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from data_families import add_family_argument, categorical, expand, make
from imblearn import over_sampling as imb

from equipoise import over_sampling as eq


def timed(cls, params, X, y):
    t0 = time.perf_counter()
    out = cls(random_state=0, **params).fit_resample(X, y)
    return time.perf_counter() - t0, out


def counts(y):
    classes, n = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), n.tolist()))


def compare(family: str, n_rows: int):
    X, y = make(family, n_rows)
    Xc, yc = categorical(family, n_rows)
    cases = [
        ("BorderlineSMOTE-1", eq.BorderlineSMOTE, imb.BorderlineSMOTE, {}, X, y),
        (
            "BorderlineSMOTE-2",
            eq.BorderlineSMOTE,
            imb.BorderlineSMOTE,
            {"kind": "borderline-2"},
            X,
            y,
        ),
        ("ADASYN", eq.ADASYN, imb.ADASYN, {}, X, y),
        ("SMOTEN", eq.SMOTEN, imb.SMOTEN, {}, Xc, yc),
    ]
    share = np.unique(y, return_counts=True)[1].min() / len(y)
    print(f"\n# {family}: {len(y):,} rows, {X.shape[1]} features, minority {share:.2%}")
    for name, ours, theirs, params, data, target in cases:
        try:
            t_eq, (_, y_eq) = timed(ours, params, data, target)
            t_im, (_, y_im) = timed(theirs, params, data, target)
        except (ValueError, RuntimeError) as exc:  # e.g. ADASYN: no minority row near others
            print(f"  {name:<18} not run: {type(exc).__name__}: {exc}")
            continue
        same = counts(y_eq) == counts(y_im)
        print(
            f"  {name:<18} equipoise {t_eq:7.2f} s   imbalanced-learn {t_im:7.2f} s"
            f"   {t_im / t_eq:6.1f}x   same class counts: {same}"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    add_family_argument(ap)
    args = ap.parse_args()
    for family in expand(args.families):
        compare(family, args.rows)


if __name__ == "__main__":
    main()
