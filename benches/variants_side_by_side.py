"""BorderlineSMOTE, ADASYN and SMOTEN side by side with imbalanced-learn, in one process.

    python -m benches.variants_side_by_side [n_rows]

Fraud-like data (``equipoise.datasets.make_fraud``: 30 float32 features, 0.5% minority) for
BorderlineSMOTE and ADASYN; for SMOTEN, 6 categorical columns (4 to 40 levels) drawn so that the
minority leans towards some levels. Prints both times, the ratio, and whether both outputs have the
same class counts (imbalanced-learn's rule for each method).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from imblearn import over_sampling as imb

from equipoise import over_sampling as eq
from equipoise.datasets import make_fraud as fraud


def categorical(n_rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n_rows) < 0.005).astype(np.int64)
    cols = []
    for j, levels in enumerate((4, 6, 10, 15, 25, 40)):
        codes = rng.integers(0, levels, size=n_rows)
        codes[y == 1] = rng.integers(0, max(2, levels // 3), size=int(y.sum()))
        cols.append(np.array([f"v{j}_{c}" for c in range(levels)], dtype=object)[codes])
    return np.column_stack(cols), y


def timed(cls, params, X, y):
    t0 = time.perf_counter()
    out = cls(random_state=0, **params).fit_resample(X, y)
    return time.perf_counter() - t0, out


def main(n_rows: int = 100_000):
    X, y = fraud(n_rows)
    Xc, yc = categorical(n_rows)
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
    print(f"{n_rows:,} rows, 0.5% minority")
    for name, ours, theirs, params, data, target in cases:
        t_eq, (_, y_eq) = timed(ours, params, data, target)
        t_im, (_, y_im) = timed(theirs, params, data, target)
        same = np.array_equal(np.bincount(y_eq), np.bincount(y_im))
        print(
            f"  {name:<18} equipoise {t_eq:7.2f} s   imbalanced-learn {t_im:7.2f} s"
            f"   {t_im / t_eq:6.1f}x   same class counts: {same}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
