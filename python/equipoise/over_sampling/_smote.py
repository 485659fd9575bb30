"""SMOTE, with exact same-class neighbours and generation in the Rust core."""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import validate_data

from equipoise import _core, _frames
from equipoise.base import SamplerMixin, check_finite_values
from equipoise.neighbors._select import (
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
from equipoise.utils._memory import check_neighbour_lists
from equipoise.utils._messages import class_too_small
from equipoise.utils._validation import seed_from, threads_from


def _grown_labels(y, classes, n_new, n_threads=0):
    """``y`` followed by ``n_new[c]`` copies of each class, filled in place (one allocation;
    integer labels by the core, in parallel)."""
    if y.dtype.kind in "iu" and y.dtype.isnative and classes.dtype == y.dtype:
        out = _core.grown_labels(y, classes, list(n_new), n_threads)  # any strides
        if out is not None:
            return out
    out = np.empty(len(y) + sum(n_new), dtype=y.dtype)
    out[: len(y)] = y
    pos = len(y)
    for cls, n in zip(classes, n_new):
        out[pos : pos + n] = cls
        pos += n
    return out


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_OVER,
    random_state=RANDOM_STATE,
    n_jobs=N_JOBS_ADDED,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index used when ``k_neighbors`` is an int",
        "are exact (the same neighbours as imbalanced-learn)",
        "is approximate (kept for users who ask for it: slower than the exact path on every"
        " data family measured)",
        "when ``k_neighbors`` is an object",
    ),
)
class SMOTE(SamplerMixin, BaseOverSampler):
    """Synthetic Minority Over-sampling Technique, as in imbalanced-learn.

    Each new row of a class lies on the segment between a row of that class and one of its
    ``k_neighbors`` nearest neighbours within the class (exact Euclidean neighbours, the row itself
    excluded; equal distances are ranked by row index), at a uniformly random position. Output: the
    original rows, then the new rows class by class in sorted class order, as imbalanced-learn.

    Parameters
    ----------
    {sampling_strategy}
    {random_state}
    k_neighbors : int or object, default=5
        Number of nearest neighbours used to build synthetic rows, or a fitted-able
        ``NearestNeighbors``-like object (``kneighbors``), whose neighbours are then used instead
        of the core's exact search (its first neighbour, the row itself, is dropped).
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class.
    nn_k_ : estimator
        The neighbour estimator: a clone of ``k_neighbors`` when it is an object, else a
        scikit-learn ``NearestNeighbors(n_neighbors=k_neighbors + 1)`` describing the search the
        core did (left unfitted: imbalanced-learn leaves it fitted on the last grown class).
    {features_in}

    Notes
    -----
    Integer features are generated in float64 and cast back with ``astype`` (truncation toward
    zero), as imbalanced-learn does. float32 input is generated and returned in float32.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import SMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)); y = (np.arange(100) < 10).astype(int)
    >>> X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [90, 90]
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": N_NEIGHBORS_CONSTRAINT,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _check_X(self, X):
        # Dense values are checked for NaN and infinity by the core as it reads them (one parallel
        # pass, naming the first bad cell); only the grown classes of a sparse matrix reach the
        # core, so a sparse matrix's stored values are checked here.
        X = validate_data(
            self,
            X=X,
            reset=True,
            accept_sparse=["csr", "csc"],
            dtype="numeric",
            ensure_all_finite=False,
        )
        if sparse.issparse(X):
            check_finite_values(X)
        return X

    # For a frame, `_resample(..., new_rows_only=True)` returns only the new rows.
    _returns_new_rows = True

    def _resample(self, X, y, classes, codes, counts, new_rows_only=False):
        if sparse.issparse(X):
            return self._resample_sparse(X, y, classes, codes, counts)
        n_new = self._n_new(classes)
        Xf = X if X.dtype in (np.float32, np.float64) and X.dtype.isnative else X.astype(np.float64)
        graphs = [None] * len(classes)
        threads = threads_from(self.n_jobs)
        grown = [c for c in range(len(classes)) if n_new[c] > 0]
        if isinstance(self.k_neighbors, numbers.Integral):
            k = int(self.k_neighbors)
            for c in grown:
                if counts[c] < k + 1:
                    raise ValueError(class_too_small(classes[c], counts[c], k))
            for c in grown:
                check_neighbour_lists(counts[c], k, f"{type(self).__name__}'s neighbour search")
            self.nn_k_ = NearestNeighbors(n_neighbors=k + 1)
            spec = check_neighbors(self.neighbors)
            if spec.algorithm in ("kdtree", "hnsw"):
                # The core's own search is the exact brute force; other indexes hand it a graph.
                for c in grown:
                    graphs[c] = self_kneighbors(Xf[codes == c], k, spec, n_jobs=self.n_jobs)
        else:
            k = 1
            self.nn_k_ = clone(self.k_neighbors)
            for c in grown:
                X_class = Xf[codes == c]
                self.nn_k_.fit(X_class)
                nns = self.nn_k_.kneighbors(X_class, return_distance=False)[:, 1:]
                graphs[c] = np.ascontiguousarray(nns, dtype=np.int64)
        seed = seed_from(self.random_state)
        if new_rows_only:
            # A frame keeps its own rows: only the new ones are made (no copy of X).
            new = _core.smote_new_rows(Xf, codes, len(classes), n_new, k, graphs, seed, threads)
            y_res = _grown_labels(y, classes, n_new, threads)
            new = np.asfortranarray(new)  # contiguous columns for the frame's per-column casts
            return _frames.NewRows([new[:, j] for j in range(new.shape[1])]), y_res
        # SMOTEENN and SMOTETomek ask for each new row's segment (its two rows of X): a hint
        # that lets their cleaner skip the search of the other classes for most new rows.
        segments = None
        if getattr(self, "_record_segments", False):
            segments = np.empty((sum(n_new), 2), dtype=np.int64)
            self._segments_ = segments
        args = (Xf, codes, len(classes), n_new, k, graphs, seed)
        both = None
        if y.dtype.kind in "iu" and y.dtype.isnative and classes.dtype == y.dtype:
            # Integer labels are written by the core beside the rows, in the same call.
            both = _core.smote_labeled(*args, y, classes, threads, segments)
        if both is not None:
            out, y_res = both
        else:
            out = _core.smote(*args, threads, segments)
            y_res = _grown_labels(y, classes, n_new, threads)
        if Xf is not X:
            out = np.vstack([X, out[X.shape[0] :].astype(X.dtype)])
        return out, y_res

    def _resample_sparse(self, X, y, classes, codes, counts):
        # Only the rows of the grown classes are made dense (the minority classes, small); the new
        # rows are the same as for the dense matrix, since they depend only on those rows.
        grown = [cls for cls, n in self.sampling_strategy_.items() if n > 0]
        pos = self._class_positions(classes)
        keep = np.flatnonzero(np.isin(codes, [pos[c] for c in grown]))
        dense = X[keep].toarray()
        if dense.dtype not in (np.float32, np.float64):
            dense = dense.astype(np.float64)
        out, _ = self._resample(dense, y[keep], classes, codes[keep], counts)
        # Segments would name rows of `dense`, not of X; the cleaners take no sparse X anyway.
        self.__dict__.pop("_segments_", None)
        new = sparse.csr_matrix(out[keep.size :].astype(X.dtype, copy=False))
        y_res = np.concatenate([y, np.repeat(classes, self._n_new(classes)).astype(y.dtype)])
        return sparse.vstack([X, new], format=X.format), y_res
