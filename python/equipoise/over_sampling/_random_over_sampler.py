"""Random over-sampling (bootstrap), optionally smoothed, with the draws in the Rust core."""

from __future__ import annotations

import numbers
from numbers import Real

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from scipy import sparse
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils._param_validation import Interval

from equipoise import _core
from equipoise.base import RowPickerMixin, is_core_float, take_rows
from equipoise.utils._docstring import (
    FEATURES_IN,
    N_JOBS_ADDED,
    RANDOM_STATE,
    SAMPLING_STRATEGY_OVER,
    Substitution,
)
from equipoise.utils._validation import N_JOBS_CONSTRAINT, seed_from, threads_from


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_OVER,
    random_state=RANDOM_STATE,
    n_jobs=N_JOBS_ADDED,
    features_in=FEATURES_IN,
)
class RandomOverSampler(RowPickerMixin, BaseOverSampler):
    """Over-sample by drawing rows at random with replacement, as in imbalanced-learn.

    Accepts anything imbalanced-learn's accepts (NaN, strings, objects, sparse matrices, pandas);
    a frame's columns of any dtype (datetimes, durations, periods, ...) pass through unchanged.

    Parameters
    ----------
    {sampling_strategy}
    {random_state}
    shrinkage : float or dict, default=None
        When given, a smoothed bootstrap: each drawn row is perturbed by a normal noise of scale
        ``shrinkage * (4 / ((n_features + 2) * n_samples)) ** (1 / (n_features + 4)) * std`` of its
        class, per feature. A dict gives one factor per resampled class.
    {n_jobs}

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows of ``X`` that make up the output: ``0..n_samples``, then the drawn rows class by class.
    shrinkage_ : dict or None
        The shrinkage factor of each class.
    {features_in}

    Notes
    -----
    With ``shrinkage``, float32 input stays float32 (imbalanced-learn returns float64 there).

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import RandomOverSampler
    >>> X = np.arange(20.0).reshape(10, 2); y = np.array([0] * 8 + [1] * 2)
    >>> X_res, y_res = RandomOverSampler(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [8, 8]
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "shrinkage": [Interval(numbers.Real, 0, None, closed="left"), dict, None],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, shrinkage=None, n_jobs=None):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.shrinkage = shrinkage
        self.n_jobs = n_jobs

    def _check_shrinkage(self):
        if isinstance(self.shrinkage, Real):
            self.shrinkage_ = {klass: self.shrinkage for klass in self.sampling_strategy_}
        else:
            self.shrinkage_ = self.shrinkage
        if self.shrinkage_ is None:
            return
        missing = self.sampling_strategy_.keys() - self.shrinkage_.keys()
        if missing:
            raise ValueError(
                "`shrinkage` should contain a shrinkage factor for each class that will be"
                f" resampled. The missing classes are: {repr(missing)}"
            )
        for klass, factor in self.shrinkage_.items():
            if factor < 0:
                raise ValueError(
                    f"The shrinkage factor needs to be >= 0. Got {factor} for class {klass}."
                )

    def _resample(self, X, y, classes, codes, counts):
        self._check_shrinkage()
        threads = threads_from(self.n_jobs)
        seed = seed_from(self.random_state)
        n_new = self._n_new(classes)
        idx = _core.random_over_sample_indices(codes, len(classes), n_new, seed, threads)
        self.sample_indices_ = idx
        y_res = _safe_indexing(y, idx)
        if self.shrinkage_ is None:
            return take_rows(X, idx, threads), y_res
        try:
            X = check_array(X, accept_sparse=["csr", "csc"], dtype="numeric")
        except ValueError as exc:
            raise ValueError(
                "When shrinkage is not None, X needs to contain only numerical data to later"
                " generate a smoothed bootstrap sample."
            ) from exc
        n_samples, n_features = X.shape
        smoothing = (4 / ((n_features + 2) * n_samples)) ** (1 / (n_features + 4))
        parts = [X]
        offset = n_samples
        Xf = X if is_core_float(X) else None
        noise_rng = np.random.RandomState(seed % (1 << 32))
        for c in range(len(classes)):
            if n_new[c] == 0:
                continue
            boot = idx[offset : offset + n_new[c]]
            offset += n_new[c]
            rows = np.flatnonzero(codes == c)
            if sparse.issparse(X):
                Xc = X[rows].toarray()
            else:
                Xc = X[rows]
            scale = self.shrinkage_[classes[c]] * smoothing * np.std(Xc, axis=0, dtype=np.float64)
            if Xf is not None:
                parts.append(_core.smoothed_bootstrap(Xf, boot, c, scale.tolist(), seed, threads))
            else:
                base = X[boot].toarray() if sparse.issparse(X) else np.asarray(X[boot], float)
                new = base + noise_rng.standard_normal((len(boot), n_features)) * scale
                parts.append(sparse.csr_matrix(new, dtype=X.dtype) if sparse.issparse(X) else new)
        if sparse.issparse(X):
            return sparse.vstack(parts, format=X.format), y_res
        return np.vstack(parts), y_res
