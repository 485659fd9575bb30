"""SMOTE-NC (numeric and categorical features) and SMOTE-N (categorical features only), on category
codes in the Rust core: no categorical column is ever expanded to a one-hot matrix."""

from __future__ import annotations

import numbers
import sys
import warnings

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils._validation import _check_X
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import validate_data

from equipoise import _core, _frames
from equipoise.base import SamplerMixin
from equipoise.neighbors._select import (
    ALGORITHMS,
    N_NEIGHBORS_CONSTRAINT,
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    check_neighbors,
    self_kneighbors,
)
from equipoise.utils._docstring import (
    FEATURES_IN,
    N_JOBS_ADDED,
    RANDOM_STATE,
    SAMPLING_STRATEGY_OVER,
    Substitution,
    neighbors_paragraph,
)
from equipoise.utils._messages import class_too_small, values_not_resamplable
from equipoise.utils._validation import N_JOBS_CONSTRAINT, seed_from, threads_from

_ENCODER = [HasMethods(["fit_transform", "inverse_transform"]), None]
#: The ``neighbors`` names SMOTEN accepts: the exact ones (its distance is not Euclidean).
_EXACT_NAMES = tuple(a for a in ALGORITHMS if a != "hnsw")


def _sorted_codes(codes: np.ndarray, cats: np.ndarray):
    """Re-code so that code order is the sorted order of the categories (as sklearn's encoders
    order them); categories that cannot be compared keep their order."""
    try:
        order = np.argsort(cats, kind="stable")
    except TypeError:
        return codes, cats
    if np.array_equal(order, np.arange(cats.size)):
        return codes, cats
    lut = np.empty(cats.size, dtype=np.int64)
    lut[order] = np.arange(cats.size)
    return np.where(codes >= 0, lut[np.maximum(codes, 0)], -1), cats[order]


def _column_codes(col: np.ndarray, name):
    """Codes and sorted categories of one numpy column; nulls are an error naming the column."""
    if col.dtype == object:
        null = np.array([v is None or (isinstance(v, float) and v != v) for v in col])
        if null.any():
            raise ValueError(values_not_resamplable(name, int(null.sum()), "null or NaN"))
        try:
            pd = sys.modules.get("pandas")
            if pd is not None:  # hashing instead of sorting every value (already imported)
                codes, uniques = pd.factorize(col, sort=True)
                return codes.astype(np.int64), np.asarray(uniques, dtype=object)
            cats, codes = np.unique(col, return_inverse=True)
        except TypeError as exc:
            raise TypeError(
                f"column {name!r} mixes value types that cannot be ordered (e.g. strings and"
                " numbers); give each categorical column one type"
            ) from exc
        return codes.reshape(-1).astype(np.int64), cats
    if col.dtype.kind == "f" and not np.isfinite(col).all():
        n_bad = int((~np.isfinite(col)).sum())
        raise ValueError(values_not_resamplable(name, n_bad, "NaN or infinity"))
    cats, codes = np.unique(col, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), cats


class _Coded:
    """The categorical columns of X as a u32 code block plus each column's categories."""

    def __init__(self, X, columns, names):
        self.columns = list(columns)
        n = X.shape[0]
        self.codes = np.empty((n, len(self.columns)), dtype=np.uint32, order="F")
        self.categories = []
        for j, col in enumerate(self.columns):
            name = names[col] if names is not None else col
            if isinstance(X, _frames.Frame):
                codes, cats = X.codes(X.columns[col])
                if (codes < 0).any():
                    raise ValueError(values_not_resamplable(name, int((codes < 0).sum()), "null"))
                if X.kinds[col] != _frames.CATEGORICAL and cats.dtype == object:
                    cats = np.asarray(cats.tolist())
            else:
                codes, cats = _column_codes(np.asarray(X[:, col]), name)
            codes, cats = _sorted_codes(codes, np.asarray(cats))
            self.codes[:, j] = codes
            self.categories.append(cats)

    def levels(self):
        return [c.size for c in self.categories]


class _NominalMixin(SamplerMixin):
    _accepts_strings = True

    def _check_X(self, X):
        if isinstance(X, _frames.Frame):  # read natively, column by column (`_frame_input`)
            self.n_features_in_ = X.shape[1]
            return X
        return self._check_array(X)

    def _frame_input(self, frame):
        if len(frame.columns) == 0:
            # scikit-learn's words for an array with no feature (its check_array never sees a
            # frame here).
            raise ValueError(
                f"Found array with 0 feature(s) (shape=({frame.n_rows}, 0)) while a minimum of 1"
                f" is required by {type(self).__name__}."
            )
        frame.check_resamplable(type(self).__name__)
        frame.check_no_nulls(what="resample")
        return frame

    @staticmethod
    def _names(X):
        if isinstance(X, _frames.Frame):
            return X.columns
        return None


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_OVER,
    random_state=RANDOM_STATE,
    n_jobs=N_JOBS_ADDED,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour search when ``k_neighbors`` is an int",
        "run the core's exact search on the category codes (imbalanced-learn's neighbours)",
        "searches an approximate HNSW index over imbalanced-learn's encoding of the class"
        " (numeric columns and one-hot columns scaled by ``median_std / sqrt(2)``, whose"
        " Euclidean distance is the SMOTE-NC distance), built dense, i.e. one float per category"
        " level and row of the class",
        "when ``k_neighbors`` is an object",
    ),
)
class SMOTENC(_NominalMixin, BaseOverSampler):
    """SMOTE for numeric and categorical features (SMOTE-NC), as in imbalanced-learn, at scale.

    Neighbours are found within each grown class under imbalanced-learn's SMOTE-NC distance:
    squared Euclidean distance on the numeric features plus ``median_std ** 2`` for each categorical
    feature on which two rows differ, ``median_std`` being the median of the class's numeric
    standard deviations (``median_std_``). imbalanced-learn gets this distance by one-hot
    encoding the categorical columns scaled by ``median_std / sqrt(2)``; equipoise computes it on
    the category codes directly, so no one-hot matrix is ever built and memory stays linear in the
    data.
    Each new row's numeric part lies on the segment between a row and one of its ``k_neighbors``
    neighbours (uniform pair, uniform position); each categorical value is the most frequent value
    among the row's ``k_neighbors`` neighbours, ties broken uniformly at random.

    A sparse matrix (csr or csc) is read densely and the output is a sparse matrix of the same
    format, as imbalanced-learn's output is sparse.

    A categorical column with a single level is accepted: it never adds to any distance, and the new
    rows take its one level.

    Parameters
    ----------
    categorical_features : 'auto' or array-like
        Which features are categorical: indices, column names (frames), or a boolean mask; 'auto'
        takes the non-numeric columns of a frame (polars Categorical, Enum, String and Boolean;
        pandas category, object, string and bool; Arrow dictionary, string and bool) or of a numpy
        object array (columns holding strings).
    categorical_encoder : estimator, default=None
        None: categories are read natively (``categorical_encoder_`` is then a ``OneHotEncoder``
        fitted on the categories, for inspection). An encoder with ``fit_transform`` and
        ``inverse_transform`` producing one column per category (imbalanced-learn's contract) is
        fitted on the categorical columns and its categories are used.
    {sampling_strategy}
    {random_state}
    k_neighbors : int or object, default=5
        Number of neighbours, or a ``NearestNeighbors``-like object (fitted on the class's encoded
        rows, sparse one-hot of the class only).
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class.
    categorical_features_ : ndarray of int
        Indices of the categorical features.
    continuous_features_ : ndarray of int
        Indices of the numeric features.
    categorical_encoder_ : estimator
        The encoder describing the categories.
    median_std_ : dict
        For each grown class, the median of its numeric standard deviations.
    nn_k_ : estimator
        The neighbour estimator (a description of the search when ``k_neighbors`` is an int).
    {features_in}

    Notes
    -----
    Numeric features are generated in float64 (float32 stays float32) and cast back to each
    column's dtype with ``astype`` (integers truncated toward zero), as imbalanced-learn casts.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import SMOTENC
    >>> rng = np.random.default_rng(0)
    >>> X = np.empty((100, 2), dtype=object)
    >>> X[:, 0] = rng.normal(size=100); X[:, 1] = rng.choice(["a", "b", "c"], size=100)
    >>> y = (np.arange(100) < 20).astype(int)
    >>> X_res, y_res = SMOTENC(categorical_features=[1], random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist(), sorted(set(X_res[:, 1]))
    ([80, 80], ['a', 'b', 'c'])
    """

    _required_parameters = ["categorical_features"]

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": N_NEIGHBORS_CONSTRAINT,
        "categorical_features": ["array-like", StrOptions({"auto"})],
        "categorical_encoder": _ENCODER,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        categorical_features,
        *,
        categorical_encoder=None,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.categorical_features = categorical_features
        self.categorical_encoder = categorical_encoder
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _check_array(self, X):
        X = _check_X(X)
        validate_data(self, X=X, reset=True, skip_check_array=True)
        if hasattr(X, "columns"):  # a pandas frame of sparse columns (dense frames are Frames)
            X = X.to_numpy()
        return X

    def _column_types(self, X, check_roles=True):
        n_features = X.shape[1]
        names = self._names(X)
        cf = self.categorical_features
        if isinstance(cf, str) and cf == "auto":
            if isinstance(X, _frames.Frame):
                mask = np.array([k != _frames.NUMERIC for k in X.kinds])
            elif X.dtype == object:
                mask = np.array(
                    [any(isinstance(v, str) for v in X[:, j]) for j in range(n_features)]
                )
            else:
                mask = np.zeros(n_features, dtype=bool)
            cat = np.flatnonzero(mask)
        else:
            cf = np.asarray(cf)
            if cf.dtype.kind == "b":
                if cf.size != n_features:
                    raise ValueError(
                        f"When `categorical_features` is a boolean array-like, the array should be"
                        f" of shape (n_features,). Got {cf.size} elements instead of"
                        f" {n_features}."
                    )
                cat = np.flatnonzero(cf)
            elif cf.dtype.kind in "iu":
                bad = cf[(cf >= n_features) | (cf < -n_features)]
                if bad.size:
                    # scikit-learn's wording (imbalanced-learn's message), then the culprit.
                    raise ValueError(
                        f"all features must be in [0, {n_features - 1}] or [-{n_features}, 0];"
                        f" categorical feature index {int(bad[0])} is out of range"
                    )
                cat = np.unique(np.where(cf < 0, cf + n_features, cf))
            elif cf.dtype.kind in "UO" and cf.size:
                if names is None:
                    names = getattr(self, "feature_names_in_", None)
                if names is None:
                    raise ValueError(
                        "categorical_features given as names needs a frame with string column"
                        " names; give indices or a boolean mask for an array"
                    )
                names = list(names)
                missing = [c for c in cf.tolist() if c not in names]
                if missing:
                    raise ValueError(f"categorical_features {missing} are not columns of X")
                cat = np.unique([names.index(c) for c in cf.tolist()])
            elif cf.size == 0:
                cat = np.array([], dtype=np.int64)
            else:
                raise ValueError(f"categorical_features of dtype {cf.dtype} is not understood")
        self.categorical_features_ = np.asarray(cat, dtype=np.int64)
        self.continuous_features_ = np.setdiff1d(np.arange(n_features), self.categorical_features_)
        if not check_roles:
            return
        if self.categorical_features_.size == n_features:
            raise ValueError(
                "SMOTE-NC is not designed to work only with categorical features. It requires some"
                " numerical features. Use SMOTEN for data made only of categorical features."
            )
        if self.categorical_features_.size == 0:
            raise ValueError(
                "SMOTE-NC is not designed to work only with numerical features. It requires some"
                " categorical features. Use SMOTE for data made only of numerical features"
                + (
                    " (categorical_features='auto' found no categorical column)."
                    if isinstance(self.categorical_features, str)
                    else "."
                )
            )

    def _numeric(self, X):
        cont = self.continuous_features_
        if isinstance(X, _frames.Frame):
            bad = [X.columns[j] for j in cont if X.kinds[j] == _frames.CATEGORICAL]
            if bad:
                raise ValueError(
                    f"columns {bad} are categorical (non-numeric) but not listed in"
                    " categorical_features; list them, or use categorical_features='auto'"
                )
            dtypes = [X.numpy_column(X.columns[j]).dtype for j in cont]
            out_dtypes = dtypes
            dt = np.float32 if all(d == np.float32 for d in dtypes) else np.float64
            num = X.numeric_block([X.columns[j] for j in cont], dtype=dt)
        else:
            num = check_array(X[:, cont], dtype="numeric", ensure_all_finite=True)
            out_dtypes = [num.dtype] * cont.size
            if num.dtype not in (np.float32, np.float64):
                num = num.astype(np.float64)
        if num.dtype.kind != "f":
            num = num.astype(np.float64)
        _core.check_finite(num)
        return num, out_dtypes

    def _encoder(self, X, coded, num_dtype):
        if self.categorical_encoder is None:
            cats = [c if c.dtype != object else c.astype(object) for c in coded.categories]
            enc = OneHotEncoder(categories=cats, handle_unknown="ignore", dtype=num_dtype)
            first = np.empty((1, len(cats)), dtype=object)
            for j, c in enumerate(cats):
                first[0, j] = c[0]
            try:
                enc.fit(first)
            except (TypeError, ValueError):
                pass  # categories sklearn refuses to compare; the attribute is informative only
            self.categorical_encoder_ = enc
            return
        self.categorical_encoder_ = clone(self.categorical_encoder)
        cols = self.categorical_features_
        if isinstance(X, _frames.Frame):
            Xc = np.empty((X.n_rows, cols.size), dtype=object)
            for j, col in enumerate(cols):
                codes, cats = X.codes(X.columns[col])
                Xc[:, j] = cats[codes]
        else:
            Xc = X[:, cols]
        X_ohe = self.categorical_encoder_.fit_transform(Xc)
        sizes = [c.size for c in self.categorical_encoder_.categories_]
        if X_ohe.shape[1] != sum(sizes):
            raise ValueError(
                "SMOTENC requires a one-hot encoding with one column per category for the"
                " categorical features. The provided `categorical_encoder` produced"
                f" {X_ohe.shape[1]} columns for {sum(sizes)} categories. Pass an encoder that"
                " keeps all categories, such as `OneHotEncoder(handle_unknown='ignore')`."
            )
        X_ohe = sparse.csr_matrix(X_ohe)
        start = 0
        coded.categories = []
        for j, size in enumerate(sizes):
            block = X_ohe[:, start : start + size]
            coded.codes[:, j] = np.asarray(block.argmax(axis=1)).reshape(-1)
            coded.categories.append(np.asarray(self.categorical_encoder_.categories_[j]))
            start += size

    def _check_fit_values(self, X):
        # The values fit_resample refuses: categorical feature indices out of range, NaN or
        # infinity in a numeric column, nulls (or NaN, infinity) in a categorical one. (Whether
        # the data has both kinds of features is left to fit_resample, as imbalanced-learn's fit
        # leaves it.)
        if sparse.issparse(X):
            X = X.toarray()
        self._column_types(X, check_roles=False)
        if self.continuous_features_.size:
            self._numeric(X)
        _Coded(X, self.categorical_features_, self._names(X))

    def _resample(self, X, y, classes, codes, counts):
        spec = check_neighbors(self.neighbors)
        fmt = None
        if sparse.issparse(X):
            # Read densely (the categorical columns are codes, the core generates dense rows); the
            # output is a sparse matrix of the input's format, as imbalanced-learn's is sparse.
            fmt = X.format
            X = X.toarray()
        self.n_features_ = X.shape[1]
        self._column_types(X)
        num, out_dtypes = self._numeric(X)
        names = self._names(X)
        coded = _Coded(X, self.categorical_features_, names)
        self._encoder(X, coded, num.dtype)
        threads = threads_from(self.n_jobs)
        seed = seed_from(self.random_state)
        n_new = self._n_new(classes)
        k = self.k_neighbors if isinstance(self.k_neighbors, numbers.Integral) else None
        self.nn_k_ = NearestNeighbors(n_neighbors=k + 1) if k else clone(self.k_neighbors)
        self.median_std_ = {}
        new_num, new_cat, labels = [], [], []
        for c, cls in enumerate(classes):
            if n_new[c] == 0:
                continue
            rows = np.flatnonzero(codes == c)
            X_class = num[rows].astype(np.float64)
            median_std = float(np.median(np.sqrt(np.var(X_class, axis=0))))
            self.median_std_[cls] = median_std
            graph = None
            if k is None:
                graph = self._user_graph(X_class, coded.codes[rows], coded.levels(), median_std)
            elif rows.size < k + 1:
                raise ValueError(class_too_small(cls, rows.size, k))
            elif not spec.exact:
                enc = self._encoded(X_class, coded.codes[rows], coded.levels(), median_std)
                graph = self_kneighbors(enc, k, spec, n_jobs=self.n_jobs)
            xn, xc = _core.smotenc(
                num,
                coded.codes,
                rows.astype(np.int64),
                c,
                n_new[c],
                k or 1,
                median_std**2,
                graph,
                seed,
                threads,
            )
            new_num.append(xn)
            new_cat.append(xc)
            labels.append(np.full(n_new[c], cls, dtype=y.dtype))
        d_num = self.continuous_features_.size
        # Column-major, so that each column is contiguous for the per-column casts.
        xn = np.asfortranarray(
            np.concatenate(new_num) if new_num else np.empty((0, d_num), num.dtype)
        )
        xc = (
            np.concatenate(new_cat)
            if new_cat
            else np.empty((0, self.categorical_features_.size), np.uint32)
        )
        y_res = np.concatenate([y] + labels)
        columns = [None] * X.shape[1]
        for i, j in enumerate(self.continuous_features_):
            columns[j] = xn[:, i]
        for i, j in enumerate(self.categorical_features_):
            columns[j] = _frames.Coded(xc[:, i], coded.categories[i])
        if isinstance(X, _frames.Frame):
            return _frames.NewRows(columns), y_res
        out = self._stack(X, columns, out_dtypes)
        if fmt is not None:
            out = sparse.csr_matrix(out) if fmt == "csr" else sparse.csc_matrix(out)
        return out, y_res

    def _stack(self, X, columns, out_dtypes):
        n, d = X.shape
        m = columns[0].codes.shape[0] if isinstance(columns[0], _frames.Coded) else len(columns[0])
        out = np.empty((n + m, d), dtype=X.dtype)
        out[:n] = X
        for i, j in enumerate(self.continuous_features_):
            col = columns[j]
            out[n:, j] = col if X.dtype == object else col.astype(out_dtypes[i])
        for j in self.categorical_features_:
            out[n:, j] = columns[j].values()
        return out

    @staticmethod
    def _encoded(X_class, codes, levels, median_std, dense=True):
        """imbalanced-learn's encoding of a class: its numeric columns, then one-hot columns of
        value ``median_std / sqrt(2)`` (Euclidean distance on it = the SMOTE-NC distance)."""
        m = X_class.shape[0]
        offsets = np.concatenate([[0], np.cumsum(levels)[:-1]]).astype(np.int64)
        cols = (codes.astype(np.int64) + offsets).reshape(-1)
        val = median_std / np.sqrt(2)
        if dense:
            enc = np.zeros((m, X_class.shape[1] + int(np.sum(levels))), dtype=np.float64)
            enc[:, : X_class.shape[1]] = X_class
            rows = np.repeat(np.arange(m), codes.shape[1])
            enc[rows, X_class.shape[1] + cols] = val
            return enc
        rows = np.repeat(np.arange(m), codes.shape[1])
        vals = np.full(cols.size, val)
        ohe = sparse.csr_matrix((vals, (rows, cols)), shape=(m, int(np.sum(levels))))
        return sparse.hstack([sparse.csr_matrix(X_class), ohe], format="csr")

    def _user_graph(self, X_class, codes, levels, median_std):
        # A user's neighbour estimator sees imbalanced-learn's encoding of the class only (sparse).
        enc = self._encoded(X_class, codes, levels, median_std, dense=False)
        self.nn_k_.fit(enc)
        return self.nn_k_.kneighbors(enc, return_distance=False)[:, 1:].astype(np.int64)


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_OVER,
    random_state=RANDOM_STATE,
    n_jobs=N_JOBS_ADDED,
    features_in=FEATURES_IN,
)
class SMOTEN(_NominalMixin, BaseOverSampler):
    """SMOTE for categorical features only (SMOTE-N), as in imbalanced-learn, at scale.

    Distances between rows are the value difference metric (VDM) of imbalanced-learn's SMOTEN: for
    each feature, ``(sum over classes |P(class | a) - P(class | b)|) ** 2``, with the class
    probabilities of each value counted over the whole data. For each new row of a class, a row
    of the class is drawn uniformly; the new row takes, feature by feature, the most frequent value
    among that row's ``k_neighbors + 1`` nearest rows of the class (the row itself included, equal
    distances ranked by row index), ties going to the smallest value in sorted order (scipy's
    ``mode``). The search is exact and streams over the class: no pairwise distance matrix is held
    (imbalanced-learn builds one, ``n_class ** 2`` floats).

    Parameters
    ----------
    categorical_encoder : estimator, default=None
        None: categories are read natively (``categorical_encoder_`` is then an ``OrdinalEncoder``
        fitted on them, for inspection); otherwise an ordinal encoder fitted on ``X``.
    {sampling_strategy}
    {random_state}
    k_neighbors : int or object, default=5
        Number of neighbours, or a ``NearestNeighbors``-like object (given imbalanced-learn's
        precomputed VDM matrix of the class).
    {n_jobs}
    neighbors : {'auto', 'exact', 'kdtree'}, default='auto'
        Accepted for uniformity with the other samplers; every name gives the same exact
        search. The value difference metric is not a Euclidean distance on any fixed encoding of
        the rows (it sums, per feature, the square of an L1 distance between class-probability
        vectors), so the Euclidean indexes ('hnsw') do not apply and are refused. (An addition to
        imbalanced-learn's parameters.)

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class.
    categorical_encoder_ : estimator
        The encoder describing the categories.
    nn_k_ : estimator
        The neighbour estimator.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import SMOTEN
    >>> X = np.array(["A"] * 10 + ["B"] * 20 + ["C"] * 30, dtype=object).reshape(-1, 1)
    >>> y = np.array([0] * 20 + [1] * 40, dtype=np.int32)
    >>> X_res, y_res = SMOTEN(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [40, 40]
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": N_NEIGHBORS_CONSTRAINT,
        "categorical_encoder": _ENCODER,
        "n_jobs": N_JOBS_CONSTRAINT,
        "neighbors": [StrOptions(set(_EXACT_NAMES))],
    }

    def __init__(
        self,
        categorical_encoder=None,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.categorical_encoder = categorical_encoder
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _check_array(self, X):
        return validate_data(self, X=X, reset=True, dtype=None, accept_sparse=["csr", "csc"])

    def _resample(self, X, y, classes, codes, counts):
        if not isinstance(self.neighbors, str) or self.neighbors not in _EXACT_NAMES:
            raise ValueError(
                f"SMOTEN's neighbors must be one of {_EXACT_NAMES} (its value difference metric"
                f" is not Euclidean, so HNSW does not apply); got {self.neighbors!r}"
            )
        fmt = None
        if sparse.issparse(X):
            # Every value is a category, zeros included: the matrix is read densely, with
            # imbalanced-learn's warning.
            fmt = X.format
            X = X.toarray()
            warnings.warn(
                "Passing a sparse matrix to SMOTEN is not really efficient since it is converted"
                " to a dense array internally.",
                DataConversionWarning,
                stacklevel=3,
            )
        d = X.shape[1]
        if self.categorical_encoder is None:
            coded = _Coded(X, range(d), self._names(X))
            enc = OrdinalEncoder(categories=coded.categories, dtype=np.int32)
            first = np.empty((1, d), dtype=object)
            for j, c in enumerate(coded.categories):
                first[0, j] = c[0]
            try:
                enc.fit(first)
            except (TypeError, ValueError):
                pass  # informative only
            self.categorical_encoder_ = enc
            block, categories = coded.codes, coded.categories
        else:
            self.categorical_encoder_ = clone(self.categorical_encoder)
            Xv = X.to_array() if isinstance(X, _frames.Frame) else X
            enc_codes = self.categorical_encoder_.fit_transform(Xv)
            block = np.asfortranarray(enc_codes, dtype=np.uint32)
            categories = [np.asarray(c) for c in self.categorical_encoder_.categories_]
        levels = [c.size for c in categories]
        n_new = self._n_new(classes)
        k = self.k_neighbors if isinstance(self.k_neighbors, numbers.Integral) else None
        self.nn_k_ = NearestNeighbors(n_neighbors=(k or 0) + 1, metric="precomputed")
        if k is None:
            new_codes = self._user_neighbours(block, codes, classes, levels, n_new)
        else:
            for c, cls in enumerate(classes):
                if n_new[c] and counts[c] < k + 1:
                    raise ValueError(class_too_small(cls, counts[c], k))
            new_codes = _core.smoten(
                block,
                np.ascontiguousarray(codes, dtype=np.uint32),
                len(classes),
                levels,
                n_new,
                k,
                seed_from(self.random_state),
                threads_from(self.n_jobs),
            )
        y_res = np.concatenate(
            [y] + [np.full(n, cls, dtype=y.dtype) for cls, n in zip(classes, n_new) if n]
        )
        columns = [_frames.Coded(new_codes[:, j], categories[j]) for j in range(d)]
        if isinstance(X, _frames.Frame):
            return _frames.NewRows(columns), y_res
        m = new_codes.shape[0]
        out = np.empty((X.shape[0] + m, d), dtype=X.dtype)
        out[: X.shape[0]] = X
        for j, col in enumerate(columns):
            out[X.shape[0] :, j] = col.values()
        if fmt is not None:
            return sparse.csr_matrix(out) if fmt == "csr" else sparse.csc_matrix(out), y_res
        return out, y_res

    def _user_neighbours(self, block, codes, classes, levels, n_new):
        from imblearn.metrics.pairwise import ValueDifferenceMetric
        from scipy.stats import mode

        enc = block.astype(np.int32)
        vdm = ValueDifferenceMetric(n_categories=levels).fit(enc, codes)
        self.nn_k_ = clone(self.k_neighbors).set_params(metric="precomputed")
        rng = np.random.RandomState(seed_from(self.random_state) % (1 << 32))
        parts = []
        for c in range(len(classes)):
            if not n_new[c]:
                continue
            X_class = enc[codes == c]
            dist = vdm.pairwise(X_class)
            self.nn_k_.fit(dist)
            nn = self.nn_k_.kneighbors(dist, return_distance=False)
            pick = rng.choice(np.arange(X_class.shape[0]), size=n_new[c], replace=True)
            parts.append(np.squeeze(mode(X_class[nn[pick]], axis=1, keepdims=True).mode, axis=1))
        return np.concatenate(parts).astype(np.uint32) if parts else np.empty((0, enc.shape[1]))
