"""Random under-sampling, with the draws in the Rust core."""

from __future__ import annotations

from imblearn.under_sampling.base import BaseUnderSampler
from sklearn.utils import _safe_indexing

from equipoise import _core
from equipoise.base import RowPickerMixin, take_rows
from equipoise.utils._docstring import FEATURES_IN, Substitution
from equipoise.utils._validation import seed_from, threads_from


@Substitution(features_in=FEATURES_IN)
class RandomUnderSampler(RowPickerMixin, BaseUnderSampler):
    """Under-sample by keeping rows drawn at random, as in imbalanced-learn.

    Accepts anything imbalanced-learn's accepts (NaN, strings, objects, sparse matrices, pandas);
    a frame's columns of any dtype (datetimes, durations, periods, ...) pass through unchanged.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes to shrink and to what size, with imbalanced-learn's meaning: a float is the
        wanted ratio minority / majority after resampling (binary only); 'majority',
        'not minority', 'not majority', 'all' and 'auto' (= 'not minority') name the classes cut
        down to the minority's size; a dict gives the wanted count of each class.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.
    replacement : bool, default=False
        Whether rows are drawn with replacement.

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows kept in each targeted class.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows of ``X`` kept, class by class in sorted class order (the drawn ones in draw order).
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import RandomUnderSampler
    >>> X = np.arange(20.0).reshape(10, 2); y = np.array([0] * 8 + [1] * 2)
    >>> X_res, y_res = RandomUnderSampler(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [2, 2]
    """

    _parameter_constraints: dict = {
        **BaseUnderSampler._parameter_constraints,
        "random_state": ["random_state"],
        "replacement": ["boolean"],
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, replacement=False):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.replacement = replacement

    def _resample(self, X, y, classes, codes, counts):
        pos = self._class_positions(classes)
        targets = [None] * len(classes)
        for cls, n in self.sampling_strategy_.items():
            targets[pos[cls]] = int(n)
        idx = _core.random_under_sample_indices(
            codes, len(classes), targets, bool(self.replacement), seed_from(self.random_state)
        )
        self.sample_indices_ = idx
        return take_rows(X, idx, threads_from(None)), _safe_indexing(y, idx)
