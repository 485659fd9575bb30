"""Where should ``neighbors="auto"`` switch from the KD-tree to blocked brute force?

Times all-rows k=5 self-queries with both exact indexes on Gaussian-mixture data (the fraud-like
generator's shape, ``d`` features) for a range of dimensions and sizes, and prints which one wins.
``IndexKind::resolve`` in rust/core/src/neighbors/mod.rs holds the rule this measures.

    python benches/tune_auto.py --rows 20000 100000 --dims 2 4 6 8 10 12 16
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from equipoise import _core


def mixture(n, d, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 3.0, size=(20, d)).astype(np.float32)
    X = rng.standard_normal((n, d), dtype=np.float32) + centers[rng.integers(0, 20, size=n)]
    return np.ascontiguousarray(X)


def best_of(f, repeat=2):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 4, 6, 8, 10, 12, 16])
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    print(f"{'rows':>9s} {'d':>3s} {'kdtree s':>9s} {'exact s':>8s}  faster  (auto picks)")
    for n in args.rows:
        for d in args.dims:
            X = mixture(n, d)
            tk = best_of(lambda X=X: _core.kneighbors(X, args.k, algorithm="kdtree"))
            te = best_of(lambda X=X: _core.kneighbors(X, args.k, algorithm="exact"))
            auto = "kdtree" if d <= 5 and n >= 2048 else "exact"  # IndexKind::resolve
            win = "kdtree" if tk < te else "exact"
            print(f"{n:9d} {d:3d} {tk:9.3f} {te:8.3f}  {win:6s}  ({auto})")


if __name__ == "__main__":
    main()
