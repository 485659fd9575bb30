"""What every equipoise sampler shares: the imbalanced-learn contract, validated quickly.

The samplers subclass imbalanced-learn's base classes, so that they are imbalanced-learn samplers in
every respect its Pipelines and estimator checks look at. ``fit`` and ``fit_resample`` are
reimplemented with the same steps and errors, but scan the labels once (imbalanced-learn scans them
several times, which at a million rows costs more than equipoise's whole resampling).
"""

from __future__ import annotations

import numpy as np
from imblearn.utils import check_target_type
from imblearn.utils._validation import ArraysTransformer
from sklearn.preprocessing import label_binarize
from sklearn.utils import _safe_indexing, check_consistent_length
from sklearn.utils.multiclass import check_classification_targets

from equipoise import _core
from equipoise.utils._validation import check_sampling_strategy, encode_labels

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_core_float(X) -> bool:
    """True for a 2-D numpy array the core reads without a copy."""
    return isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype in _FLOATS and X.dtype.isnative


def take_rows(X, idx: np.ndarray, n_threads: int):
    """``X[idx]``: a parallel gather for float matrices, ``_safe_indexing`` for everything else."""
    if is_core_float(X):
        return _core.take_rows(X, idx, n_threads)
    return _safe_indexing(X, idx)


class SamplerMixin:
    """``fit`` / ``fit_resample`` for a sampler whose ``_resample`` works on encoded labels.

    Subclasses define ``_check_X(X)`` (validation of the features, setting ``n_features_in_``) and
    ``_resample(X, y, classes, codes, counts)``.
    """

    def _check_y(self, y):
        # A 1-D integer or boolean array is a valid binary/multiclass target as it is; anything
        # else goes through the same checks as imbalanced-learn.
        if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iub":
            return y, False
        check_classification_targets(y)
        return check_target_type(y, indicate_one_vs_all=True)

    def _prepare(self, X, y):
        self._validate_params()
        y, binarize_y = self._check_y(y)
        X = self._check_X(X)
        check_consistent_length(X, y)
        classes, codes, counts = encode_labels(y)
        self.sampling_strategy_ = check_sampling_strategy(
            self.sampling_strategy, y, self._sampling_type, classes=classes, counts=counts
        )
        return X, y, binarize_y, classes, codes, counts

    def fit(self, X, y, **params):
        """Check inputs and compute ``sampling_strategy_``; use ``fit_resample`` to resample."""
        self._prepare(X, y)
        return self

    def fit_resample(self, X, y, **params):
        """Resample the dataset.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The features.
        y : array-like of shape (n_samples,)
            The class of each row.

        Returns
        -------
        X_resampled : array-like of shape (n_samples_new, n_features)
            The resampled features, of the same kind as ``X``.
        y_resampled : array-like of shape (n_samples_new,)
            The classes of ``X_resampled``, of the same kind as ``y``.
        """
        arrays_transformer = ArraysTransformer(X, y)
        X, y, binarize_y, classes, codes, counts = self._prepare(X, y)
        X_res, y_res = self._resample(X, y, classes, codes, counts)
        if binarize_y:
            y_res = label_binarize(y_res, classes=classes)
        return arrays_transformer.transform(X_res, y_res)

    def _fit_resample(self, X, y, **params):
        # imbalanced-learn's hook, for callers that use it directly.
        classes, codes, counts = encode_labels(np.asarray(y))
        return self._resample(X, np.asarray(y), classes, codes, counts)

    @staticmethod
    def _class_positions(classes) -> dict:
        return {cls: i for i, cls in enumerate(classes)}
