"""Real imbalanced datasets bundled with equipoise (provenance in ``data/PROVENANCE.md``).

``load(name)`` returns ``(X, y, feature_names)`` as numpy arrays; categorical columns (abalone_19's
``Sex``, every column of car_eval_4) come back as strings in an object array unless
``numeric_only=True`` drops them. ``make_fraud`` and ``make_fraud_multiclass`` generate
deterministic fraud-like data of any size (the benchmarks' data).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from importlib import resources

import numpy as np

from equipoise.datasets._synthetic import make_fraud, make_fraud_multiclass

__all__ = ["list_datasets", "load", "make_fraud", "make_fraud_multiclass"]


def list_datasets() -> list[str]:
    """Names of the bundled datasets."""
    files = resources.files(__name__).joinpath("data")
    return sorted(p.name[:-4] for p in files.iterdir() if p.name.endswith(".csv"))


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load(name: str, *, numeric_only: bool = False):
    """Load a bundled dataset.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (e.g. ``"mammography"``).
    numeric_only : bool, default=False
        Drop the categorical columns and return a float64 ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        float64, or object when categorical columns are kept.
    y : ndarray of shape (n_samples,)
        int64 labels.
    feature_names : list of str
    """
    if name not in list_datasets():
        raise ValueError(f"unknown dataset {name!r}; choose one of {list_datasets()}")
    resource = resources.files(__name__).joinpath("data").joinpath(f"{name}.csv")
    with resources.as_file(resource) as path, open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    names = header[:-1]
    y = np.array([int(r[-1]) for r in body], dtype=np.int64)
    cols: list[Sequence[str]] = list(zip(*[r[:-1] for r in body])) if body else [[] for _ in names]
    numeric = [all(v == "" or _is_number(v) for v in c) for c in cols]
    if numeric_only or all(numeric):
        keep = [i for i, ok in enumerate(numeric) if ok]
        X = np.array(
            [[float(c[i]) if c[i] != "" else np.nan for i in keep] for c in (r[:-1] for r in body)],
            dtype=np.float64,
        ).reshape(len(body), len(keep))
        return X, y, [names[i] for i in keep]
    X = np.empty((len(body), len(names)), dtype=object)
    for j, (col, ok) in enumerate(zip(cols, numeric)):
        X[:, j] = [float(v) if v != "" else np.nan for v in col] if ok else list(col)
    return X, y, names
