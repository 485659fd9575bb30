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
from typing import Any

import numpy as np
from imblearn.under_sampling.base import BaseCleaningSampler
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import validate_data

from equipoise.base import SamplerMixin, core_floats
from equipoise.neighbors._select import NeighborSpec, check_neighbors, self_kneighbors
from equipoise.utils._messages import too_many_neighbors


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


def check_enough_rows(n_neighbors_plus_self: int, n_samples: int):
    """scikit-learn's error for a neighbourhood larger than the data, raised before any work."""
    if n_neighbors_plus_self > n_samples:
        raise ValueError(too_many_neighbors(n_neighbors_plus_self, n_samples, n_samples=n_samples))


def first_seen_minority(y) -> tuple[object, Counter]:
    """imbalanced-learn's ``min(Counter(y), key=...)``: among the least frequent classes, the one
    that appears first in ``y``."""
    stats = Counter(y)
    return min(stats, key=stats.__getitem__), stats


def warn_emptied(classes, counts, kept_codes, n_classes):
    """A ``UserWarning`` naming each class that had rows and has none left."""
    left = np.bincount(kept_codes, minlength=n_classes) if kept_codes.size else np.zeros(n_classes)
    for c in range(n_classes):
        if counts[c] > 0 and left[c] == 0:
            warnings.warn(
                f"the cleaning removed every row of class {classes[c]!r}", UserWarning, stacklevel=3
            )


def class_order(idx, codes) -> np.ndarray:
    """The rows ``idx`` (in row order) regrouped class by class in code order, row order kept."""
    return idx[np.argsort(codes[idx], kind="stable")]


def segments_for(sampler, Xf) -> tuple:
    """``(segments, segments_first)`` for the core's cleaners when a combined sampler handed
    ``sampler`` the segments of SMOTE's new rows (the last rows of ``Xf``), else ``()``."""
    seg = getattr(sampler, "_segments", None)
    if seg is None:
        return ()
    first, pairs = seg
    if first < 0 or first + pairs.shape[0] != Xf.shape[0]:
        return ()
    return pairs, first


def enn_on_graph(Xf, codes, n_classes, targeted, k, mode, spec: NeighborSpec, n_jobs):
    """Edited Nearest Neighbours decided on a neighbour graph of the ``neighbors=`` index
    (the approximate path): the rows kept, class by class in code order, as the core's ENN.

    Only the rows of targeted classes are queried; the rule is the core's ('all': every neighbour
    of the row's class; 'mode': the most frequent class, the lowest code among equals)."""
    targeted = np.asarray(targeted, dtype=bool)
    rows = np.flatnonzero(targeted[codes])
    keep = np.ones(codes.shape[0], dtype=bool)
    if rows.size:
        nb = self_kneighbors(Xf, k, spec, rows=rows, n_jobs=n_jobs)
        own = codes[rows]
        labels = codes[nb]
        if mode:
            flat = np.repeat(np.arange(rows.size, dtype=np.int64) * n_classes, k)
            votes = np.bincount(flat + labels.ravel(), minlength=rows.size * n_classes)
            kept = votes.reshape(rows.size, n_classes).argmax(axis=1) == own
        else:
            kept = (labels == own[:, None]).all(axis=1)
        keep[rows] = kept
    return class_order(np.flatnonzero(keep), codes)


def tomek_on_graph(Xf, codes, targeted, spec: NeighborSpec, n_jobs):
    """Tomek links found on the 1-nearest-neighbour graph of the ``neighbors=`` index (the
    approximate path): the rows kept (every row not a targeted-class member of a link, i.e. of a
    pair of mutual nearest neighbours of different classes), in row order."""
    nn = self_kneighbors(Xf, 1, spec, n_jobs=n_jobs)[:, 0]
    linked = (codes[nn] != codes) & (nn[nn] == np.arange(codes.shape[0]))
    return np.flatnonzero(~(linked & np.asarray(targeted, dtype=bool)[codes]))


class CleaningMixin(SamplerMixin):
    """Input checks of imbalanced-learn's cleaning samplers (numeric, finite, csr/csc accepted),
    and the hand-over to imbalanced-learn's implementation of input the core does not take.

    A sampler that hands over names imbalanced-learn's class (``_imblearn_class``) and the fitted
    attributes to take from it (``_imblearn_attributes``), may say what its neighbourhood size is
    for the core (``_core_k``: None for a neighbour estimator the core cannot stand in for), and
    implements ``_resample_core`` for the rest. Samplers made of other samplers (RENN, AllKNN)
    override ``_resample`` instead.
    """

    _sampling_type = BaseCleaningSampler._sampling_type
    _sets_sample_indices = True

    # Parameters of the samplers that hand over (set by their __init__).
    n_neighbors: Any
    neighbors: Any

    _imblearn_class: type | None = None
    _imblearn_attributes: tuple[str, ...] = ("sample_indices_",)

    def _check_X(self, X):
        return validate_data(self, X=X, reset=True, accept_sparse=["csr", "csc"])

    def _core_k(self) -> int | None:
        """The core's neighbourhood size (the row itself excluded) for ``n_neighbors``: an int,
        or a plain Euclidean ``NearestNeighbors``; None for any other neighbour estimator."""
        return euclidean_k(self.n_neighbors, 1)

    def _resample(self, X, y, classes, codes, counts):
        spec = check_neighbors(self.neighbors)
        k = self._core_k()
        Xf = core_floats(X) if k is not None else None
        if Xf is None:
            return self._resample_imblearn(X, y, classes, codes, counts)
        return self._resample_core(X, Xf, y, classes, codes, counts, k, spec)

    def _resample_core(self, X, Xf, y, classes, codes, counts, k: int, spec: NeighborSpec):
        raise NotImplementedError

    def _resample_imblearn(self, X, y, classes, codes, counts):
        """imbalanced-learn's sampler of the same rule on ``X`` (sparse, or with a neighbour
        estimator the core cannot stand in for): its result and fitted attributes, with this
        sampler's parameters (but ``neighbors``) and ``sampling_strategy_``."""
        assert self._imblearn_class is not None
        params = self.get_params(deep=False)
        ref = self._imblearn_class(
            **{name: params[name] for name in self._imblearn_class._get_param_names()}
        )
        ref.sampling_strategy_ = self.sampling_strategy_
        X_res, y_res = ref._fit_resample(X, y)
        for name in self._imblearn_attributes:
            setattr(self, name, getattr(ref, name))
        warn_emptied(classes, counts, codes[self.sample_indices_], len(classes))
        return X_res, y_res

    def _targeted(self, classes) -> list[bool]:
        keys = set(self.sampling_strategy_.keys())
        return [cls in keys for cls in classes]
