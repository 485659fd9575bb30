"""What every equipoise sampler shares: the imbalanced-learn contract, validated quickly.

The samplers subclass imbalanced-learn's base classes, so that they are imbalanced-learn samplers in
every respect its Pipelines and estimator checks look at. ``fit`` and ``fit_resample`` are
reimplemented with the same steps and errors, but scan the labels once (imbalanced-learn scans them
several times, which at a million rows costs more than equipoise's whole resampling).
"""

from __future__ import annotations

import functools

import numpy as np
from imblearn.utils import check_target_type
from imblearn.utils._validation import ArraysTransformer, _check_X
from scipy import sparse
from sklearn.preprocessing import label_binarize
from sklearn.utils import _safe_indexing, check_consistent_length
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from equipoise import _core, _frames
from equipoise.utils._memory import check_output_rows
from equipoise.utils._validation import check_sampling_strategy, encode_labels, threads_from

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_core_float(X) -> bool:
    """True for a 2-D numpy array the core reads without a copy."""
    return isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype in _FLOATS and X.dtype.isnative


def core_floats(X) -> np.ndarray | None:
    """The dense float matrix the core reads: float32 and float64 as they are (any memory order),
    other dtypes as float64; None for a sparse matrix, which the core does not take."""
    if sparse.issparse(X):
        return None
    if X.dtype in _FLOATS and X.dtype.isnative:
        return X
    return X.astype(np.float64)


def take_rows(X, idx: np.ndarray, n_threads: int):
    """``X[idx]``: a parallel gather for float matrices, ``_safe_indexing`` for everything else."""
    if is_core_float(X):
        return _core.take_rows(X, idx, n_threads)
    return _safe_indexing(X, idx)


def _props(y) -> dict:
    return {
        "type": y.__class__.__name__,
        "columns": getattr(y, "columns", None),
        "name": getattr(y, "name", None),
        "dtypes": getattr(y, "dtypes", None),
    }


def check_finite_values(X):
    """NaN or infinity in a numeric ``X`` (dense or sparse) is a ValueError naming the first one;
    non-numeric arrays (categorical data) are left to the sampler."""
    if sparse.issparse(X):
        data = X.data
        if data.dtype.kind == "f" and data.size and not np.isfinite(data).all():
            coo = X.tocoo()
            bad = np.flatnonzero(~np.isfinite(coo.data))[0]
            what = "NaN" if np.isnan(coo.data[bad]) else "infinity"
            raise ValueError(
                f"X contains {what} (first at row {int(coo.row[bad])}, column"
                f" {int(coo.col[bad])}); resampling needs finite values: drop or impute them first"
            )
        return
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f":
        return
    if is_core_float(X):
        _core.check_finite(X)
    elif not np.isfinite(X).all():
        _core.check_finite(np.asarray(X, dtype=np.float64))


def keeps_state_on_error(method):
    """Decorate a fitting method so that a call that raises leaves the estimator as it was.

    Fitted attributes are set as a call goes (``n_features_in_`` while validating, then
    ``sampling_strategy_``, then the sampler's own); a call that fails halfway (bad input, bad
    parameter, an interrupt, a refused allocation) would otherwise leave some of them from this
    call beside others from the previous fit. The attribute dict is copied before the call and put
    back on any exception. A shallow copy suffices: fitting replaces attributes, it never mutates
    objects held by a previous fit (fitted sub-estimators are fresh clones).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = self.__dict__.copy()
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


class SamplerMixin:
    """``fit`` / ``fit_resample`` for a sampler whose ``_resample`` works on encoded labels.

    Subclasses define ``_check_X(X)`` (validation of the features, setting ``n_features_in_``) and
    ``_resample(X, y, classes, codes, counts)``. A sampler that can return only its new rows for a
    frame input sets ``_returns_new_rows = True`` and takes ``new_rows_only=False`` in
    ``_resample``: an argument of the call, not state on the estimator, so two threads sharing an
    estimator never see each other's call.
    """

    _returns_new_rows = False
    #: The sampler only picks rows: a frame's columns of any dtype (datetimes, durations, periods,
    #: intervals, complex, objects) are passed through, as imbalanced-learn passes them.
    _picks_rows_only = False
    #: Its output rows are neither a selection of the input nor the input plus new rows (SMOTE
    #: then cleaning): a frame output is rebuilt from them.
    _rebuilds_rows = False

    #: What the sampler accepts and sets beyond imbalanced-learn's defaults, as scikit-learn tags
    #: (``__sklearn_tags__``): NaN in ``X``, strings and objects in ``X``, ``sample_indices_``.
    _accepts_nan = False
    _accepts_strings = False
    _sets_sample_indices = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._accepts_nan:
            tags.input_tags.allow_nan = True
        if self._accepts_strings:
            tags.input_tags.string = True
        if self._sets_sample_indices:
            tags.sampler_tags.sample_indices = True
        return tags

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
        classes, codes, counts = encode_labels(y, threads_from(getattr(self, "n_jobs", None)))
        self.sampling_strategy_ = check_sampling_strategy(
            self.sampling_strategy, y, self._sampling_type, classes=classes, counts=counts
        )
        return X, y, binarize_y, classes, codes, counts

    @keeps_state_on_error
    def fit(self, X, y=None, *, label=None, **params):
        """Check inputs and compute ``sampling_strategy_``; use ``fit_resample`` to resample.

        ``X`` may be a numpy array, a sparse matrix, a list, or a polars, pandas or pyarrow frame;
        ``label`` names the frame's column holding the classes, instead of passing ``y``.
        """
        X, y, _ = self._split_label(X, y, label)
        X_in, y_in, frame, _ = self._adapt(X, y, label)
        X_v = self._prepare(X_in, y_in)[0]
        self._check_fit_values(X_v)
        self._set_frame_names(frame)
        return self

    def _check_output_fits(self, X, n):
        """Refuse up front an output that cannot fit in memory (``MemoryError`` naming it): an
        over-sampler's output has its input's rows plus ``sampling_strategy_``'s; other samplers
        return at most their input's rows."""
        if self._sampling_type != "over-sampling":
            return
        n_new = sum(int(v) for v in self.sampling_strategy_.values())
        d = int(getattr(self, "n_features_in_", 1))
        if not hasattr(X, "dtype"):  # a frame read natively (SMOTEN, SMOTENC): 8 bytes a cell
            row_bytes = 8 * d
        elif sparse.issparse(X):
            # Stored values (and their column indices) of the rows, as the dense rows made.
            per_row = X.dtype.itemsize * d if n == 0 else (X.nnz / n) * (X.dtype.itemsize + 4)
            row_bytes = max(1, int(per_row))
        else:
            row_bytes = X.dtype.itemsize * d
        check_output_rows(n + n_new, d, row_bytes, type(self).__name__)

    def _check_fit_values(self, X):
        """The value checks ``fit_resample`` makes while resampling, for ``fit``, which does not
        resample: NaN and infinity are refused unless the sampler accepts them (samplers whose
        ``_check_X`` leaves this to the core override nothing: the core's own check runs here)."""
        if self.__sklearn_tags__().input_tags.allow_nan:
            return
        check_finite_values(X)

    @keeps_state_on_error
    def fit_resample(self, X, y=None, *, label=None, **params):
        """Resample the dataset.

        Parameters
        ----------
        X : array-like, sparse matrix or frame of shape (n_samples, n_features)
            The features: a numpy array, a list, a scipy sparse matrix, or a polars, pandas or
            pyarrow frame (whose output is a frame of the same kind, with the same column names,
            order and dtypes).
        y : array-like of shape (n_samples,), default=None
            The class of each row: numpy, list, pandas or polars Series, pyarrow array. Comes back
            as the same type. Not given when ``label`` is.
        label : str, default=None
            The name of the frame's column that holds the classes; the result is then one frame,
            the label column at its original place.

        Returns
        -------
        X_resampled : array-like, sparse matrix or frame of shape (n_samples_new, n_features)
            The resampled features, of the same kind as ``X``. A frame holds the input's rows
            first: samplers that select rows return a row selection of the input (every value and
            dtype kept); samplers that generate rows append them, each column cast back to its
            dtype (integer columns truncated toward zero, as imbalanced-learn casts).
        y_resampled : array-like of shape (n_samples_new,)
            The classes of ``X_resampled``, of the same kind as ``y`` (absent with ``label``).
        """
        X, y, pos = self._split_label(X, y, label)
        X_in, y_in, frame, target = self._adapt(X, y, label)
        if frame is None:
            arrays_transformer = ArraysTransformer(X, y_in)
        X_v, y_v, binarize_y, classes, codes, counts = self._prepare(X_in, y_in)
        self._check_output_fits(X_v, int(np.sum(counts)))
        self._set_frame_names(frame)
        if frame is not None and self._returns_new_rows:
            # A frame keeps its own rows: the sampler returns only its new ones (`_frames.NewRows`).
            X_res, y_res = self._resample(X_v, y_v, classes, codes, counts, new_rows_only=True)
        else:
            X_res, y_res = self._resample(X_v, y_v, classes, codes, counts)
        if binarize_y:
            y_res = label_binarize(y_res, classes=classes)
        if frame is None:
            X_out, y_out = arrays_transformer.transform(X_res, y_res)
            if target is not None:  # an array X with a polars or Arrow y
                idx = getattr(self, "sample_indices_", None)
                if getattr(self, "shrinkage_", None) is not None:
                    idx = None
                y_out = self._target_output(y, target, y_res, idx, X_out)
            return X_out, y_out
        X_out, idx = self._frame_output(frame, X_res)
        y_out = self._target_output(y, target, y_res, idx, X_out)
        if label is not None:
            return _frames.join_label(X_out, y_out, label, pos)
        return X_out, y_out

    # -- frames ---------------------------------------------------------------------------------
    def _split_label(self, X, y, label):
        if label is None:
            if y is None:
                # The wording scikit-learn's check_requires_y_none recognises.
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None:"
                    " pass the classes as y, or label='column' for a frame"
                )
            return X, y, None
        if y is not None:
            raise TypeError("pass either y or label, not both")
        return _frames.split_label(X, label)

    def _adapt(self, X, y, label):
        """(features for the sampler, target values, Frame or None, Target or None)."""
        target = _frames.Target(y, label) if _frames.Target.wraps(y) else None
        y_in = target.values() if target is not None else y
        if label is not None and target is None:
            n_null = int(y.isna().sum())
            if n_null:
                raise ValueError(
                    f"label column {label!r} contains {n_null} null values; every row needs a class"
                )
        if not _frames.is_frame(X):
            return X, y_in, None, target
        frame = _frames.Frame(X)
        return self._frame_input(frame), y_in, frame, target

    def _frame_input(self, frame):
        """What ``_check_X`` / ``_resample`` receive for a frame: by default the array
        imbalanced-learn would see (column-major numeric, or object when there are categorical
        columns). Samplers that read categorical columns natively override it."""
        if not self._picks_rows_only:
            frame.check_resamplable(type(self).__name__)
        tags = self.__sklearn_tags__()
        cats = [n for n, k in zip(frame.columns, frame.kinds) if k == _frames.CATEGORICAL]
        if cats and not tags.input_tags.string:
            raise ValueError(
                f"{type(self).__name__} needs numeric features, but the columns {cats} are"
                " categorical: use SMOTENC(categorical_features='auto') for mixed data, SMOTEN for"
                " all-categorical data, or encode them first"
            )
        if not tags.input_tags.allow_nan:
            frame.check_no_nulls()
        return frame.to_array()

    def _set_frame_names(self, frame):
        if frame is None:
            return
        names = frame.feature_names()
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _frame_output(self, frame, X_res):
        """The output frame, and the selected rows when the sampler selected rows."""
        if isinstance(X_res, _frames.NewRows):
            return frame.append(X_res.columns), None
        if self._rebuilds_rows:
            # Output rows that are neither a selection of the input nor the input plus new rows
            # (SMOTE then cleaning): the whole frame is rebuilt from them, column by column.
            X_all = X_res.toarray() if sparse.issparse(X_res) else np.asarray(X_res)
            X_all = np.asfortranarray(X_all)
            empty = _frames.Frame(frame.take(np.empty(0, dtype=np.int64)))
            return empty.append([X_all[:, j] for j in range(X_all.shape[1])]), None
        idx = getattr(self, "sample_indices_", None)
        if idx is not None and getattr(self, "shrinkage_", None) is None:
            return frame.take(idx), idx
        new = X_res[frame.n_rows :]
        if sparse.issparse(new):
            new = new.toarray()
        new = np.asfortranarray(new)
        return frame.append([new[:, j] for j in range(new.shape[1])]), None

    @staticmethod
    def _target_output(y, target, y_res, idx, X_out):
        if target is not None:
            if y_res.ndim == 2:
                return y_res
            if idx is not None:
                return target.take(idx)
            return target.from_values(np.asarray(y_res))
        y_out = ArraysTransformer(np.empty(0), y)._transfrom_one(y_res, _props(y))
        if hasattr(y_out, "index") and hasattr(X_out, "index"):
            y_out.index = X_out.index
        return y_out

    def _fit_resample(self, X, y, **params):
        # imbalanced-learn's hook, for callers that use it directly.
        threads = threads_from(getattr(self, "n_jobs", None))
        classes, codes, counts = encode_labels(np.asarray(y), threads)
        return self._resample(X, np.asarray(y), classes, codes, counts)

    @staticmethod
    def _class_positions(classes) -> dict:
        return {cls: i for i, cls in enumerate(classes)}

    def _n_new(self, classes) -> list[int]:
        """An over-sampler's rows to add to each class, by class position, from
        ``sampling_strategy_`` (0 for the classes it does not name)."""
        pos = self._class_positions(classes)
        n_new = [0] * len(classes)
        for cls, n in self.sampling_strategy_.items():
            n_new[pos[cls]] = int(n)
        return n_new


class RowPickerMixin(SamplerMixin):
    """A sampler that only picks rows of ``X`` (random over- and under-sampling): it accepts
    whatever imbalanced-learn's accepts (NaN, strings, objects, sparse matrices, frame columns of
    any dtype) and sets ``sample_indices_``."""

    _picks_rows_only = True
    _accepts_nan = True
    _accepts_strings = True
    _sets_sample_indices = True

    def _check_X(self, X):
        X = _check_X(X)
        validate_data(self, X=X, reset=True, skip_check_array=True)
        return X
