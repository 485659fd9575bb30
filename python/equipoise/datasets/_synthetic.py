"""Deterministic fraud-like data, for benchmarks and tests that need more rows than the bundled
datasets have.

``make_fraud(n_rows)``: 30 float32 features, 0.5% minority. Both classes are mixtures of Gaussian
clusters; the minority clusters sit inside the majority's cloud (overlapping, as fraud does), so
cleaning methods have real work near the boundary while most majority rows are far from any
minority row. ``make_fraud_multiclass(n_rows)``: the same shape with 5 classes in ratios
100:30:10:3:1. The same arguments always give the same arrays.
"""

from __future__ import annotations

import numpy as np

N_FEATURES = 30


def _mixture(rng, n, centers, spread, dtype):
    which = rng.integers(0, len(centers), size=n)
    X = rng.standard_normal((n, centers.shape[1]), dtype=np.float32) * spread
    X += centers[which]
    return X.astype(dtype, copy=False)


def make_fraud(n_rows: int = 100_000, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """Binary fraud-like data: ``(X, y)`` with ``y == 1`` the minority (``minority`` share).

    >>> from equipoise.datasets import make_fraud
    >>> X, y = make_fraud(2000)
    >>> X.shape, X.dtype.name, int(y.sum())
    ((2000, 30), 'float32', 10)
    """
    rng = np.random.default_rng(seed)
    n_min = max(int(round(n_rows * minority)), 8)
    n_maj = n_rows - n_min
    maj_centers = rng.normal(0.0, 3.0, size=(20, N_FEATURES)).astype(np.float32)
    # Minority clusters: near a few majority clusters, shifted along a few features.
    min_centers = maj_centers[:5] + rng.normal(0.0, 1.5, size=(5, N_FEATURES)).astype(np.float32)
    X = np.empty((n_rows, N_FEATURES), dtype=dtype)
    X[:n_maj] = _mixture(rng, n_maj, maj_centers, 1.0, dtype)
    X[n_maj:] = _mixture(rng, n_min, min_centers, 0.8, dtype)
    y = np.zeros(n_rows, dtype=np.int64)
    y[n_maj:] = 1
    order = rng.permutation(n_rows)
    return X[order], y[order]


def make_fraud_multiclass(n_rows: int = 100_000, *, seed: int = 0, dtype=np.float32):
    """5-class fraud-like data, class sizes in ratios 100:30:10:3:1 (class 0 largest).

    >>> from equipoise.datasets import make_fraud_multiclass
    >>> X, y = make_fraud_multiclass(1440)
    >>> np.bincount(y).tolist()
    [1000, 300, 100, 30, 10]
    """
    rng = np.random.default_rng(seed + 1)
    ratios = np.array([100, 30, 10, 3, 1], dtype=np.float64)
    sizes = np.floor(ratios / ratios.sum() * n_rows).astype(int)
    sizes[0] += n_rows - sizes.sum()
    base = rng.normal(0.0, 3.0, size=(20, N_FEATURES)).astype(np.float32)
    parts, labels = [], []
    for c, size in enumerate(sizes):
        centers = base[c * 3 : c * 3 + 4] + rng.normal(0.0, 1.5, size=(4, N_FEATURES)).astype(
            np.float32
        )
        parts.append(_mixture(rng, size, centers, 1.0, dtype))
        labels.append(np.full(size, c, dtype=np.int64))
    X = np.concatenate(parts)
    y = np.concatenate(labels)
    order = rng.permutation(n_rows)
    return X[order], y[order]
