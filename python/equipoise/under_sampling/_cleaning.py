"""What the cleaning samplers share: input checks, the core's float view, emptied-class warnings.

The cleaning rules run in the Rust core on dense numeric ``X`` with Euclidean neighbours. Sparse
``X`` and user-supplied neighbour estimators (other than a plain Euclidean ``NearestNeighbors``) are
handed to imbalanced-learn's own implementation, so that every input imbalanced-learn accepts is
accepted, with its result.
"""

from __future__ import annotations

import numbers
import warnings
from collections import Counter

import numpy as np
from imblearn.under_sampling.base import BaseCleaningSampler
from scipy import sparse
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import validate_data

from equipoise.base import SamplerMixin


def euclidean_k(nn, extra: int):
    """``n_neighbors`` as the core's k: an int as it is, a plain Euclidean ``NearestNeighbors``
    as its ``n_neighbors - extra`` (it counts the row itself); None for anything else."""
    if isinstance(nn, numbers.Integral) and not isinstance(nn, bool):
        return int(nn)
    if type(nn) is NearestNeighbors:
        p = nn.get_params()
        euclid = p["metric"] in ("euclidean", "l2") or (p["metric"] == "minkowski" and p["p"] == 2)
        if euclid and not p["metric_params"] and p["n_neighbors"] - extra >= 1:
            return int(p["n_neighbors"]) - extra
    return None


def core_floats(X) -> np.ndarray | None:
    """The dense float view the core reads, or None for input the core does not take (sparse)."""
    if sparse.issparse(X):
        return None
    if X.dtype in (np.float32, np.float64) and X.dtype.isnative:
        return X
    return X.astype(np.float64)


def check_enough_rows(n_neighbors_plus_self: int, n_samples: int):
    """scikit-learn's error for a neighbourhood larger than the data, raised before any work."""
    if n_neighbors_plus_self > n_samples:
        raise ValueError(
            f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {n_neighbors_plus_self},"
            f" n_samples_fit = {n_samples}, n_samples = {n_samples}"
        )


def first_seen_minority(y) -> object:
    """imbalanced-learn's ``min(Counter(y), key=...)``: among the least frequent classes, the one
    that appears first in ``y``."""
    stats = Counter(y)
    return min(stats, key=stats.get), stats


def warn_emptied(classes, counts, kept_codes, n_classes):
    """A ``UserWarning`` naming each class that had rows and has none left."""
    left = np.bincount(kept_codes, minlength=n_classes) if kept_codes.size else np.zeros(n_classes)
    for c in range(n_classes):
        if counts[c] > 0 and left[c] == 0:
            warnings.warn(
                f"the cleaning removed every row of class {classes[c]!r}", UserWarning, stacklevel=3
            )


class CleaningMixin(SamplerMixin):
    """Input checks of imbalanced-learn's cleaning samplers (numeric, finite, csr/csc accepted)."""

    _sampling_type = BaseCleaningSampler._sampling_type

    def _check_X(self, X):
        return validate_data(self, X=X, reset=True, accept_sparse=["csr", "csc"])

    def _targeted(self, classes) -> list[bool]:
        keys = set(self.sampling_strategy_.keys())
        return [cls in keys for cls in classes]
