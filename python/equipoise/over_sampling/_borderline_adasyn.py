"""Borderline-SMOTE and ADASYN: SMOTE guided by the classes of each row's neighbours in the whole
data, with exact neighbours and generation in the Rust core."""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from equipoise import _core
from equipoise.base import SamplerMixin, core_floats
from equipoise.neighbors._select import (
    N_NEIGHBORS_CONSTRAINT,
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    check_neighbors,
    hnsw_graph,
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
from equipoise.utils._messages import param_too_small
from equipoise.utils._validation import seed_from, threads_from


def _float(X) -> np.ndarray:
    """The matrix the core reads (a sparse matrix made dense)."""
    out = core_floats(X.toarray() if sparse.issparse(X) else X)
    assert out is not None
    return out


class _Graphs:
    """The ``neighbors=`` spec of a run, with the HNSW graph of each matrix searched more than
    once (the whole data: one graph for every class and both searches), built when first used."""

    def __init__(self, neighbors, n_jobs, shared):
        self.spec, self.n_jobs = check_neighbors(neighbors), n_jobs
        self.shared, self.graph = shared, None

    def of(self, X):
        if X is not self.shared:
            return None
        if self.graph is None:
            self.graph = hnsw_graph(X, self.spec, n_jobs=self.n_jobs)
        return self.graph


def _neighbours(X, rows, n_neighbors, param_name, threads, graphs):
    """Row indices of X: the ``n_neighbors`` nearest other rows of each of ``rows`` in ``X``
    (the row itself excluded by index; from an HNSW index when ``graphs.spec`` says so, else
    exact), or those of a user's neighbour estimator."""
    if isinstance(n_neighbors, numbers.Integral):
        k = int(n_neighbors)
        if X.shape[0] < k + 1:
            raise ValueError(param_too_small(param_name, k, X.shape[0]))
        spec = graphs.spec
        if not spec.exact:
            graph = graphs.of(X)
            return self_kneighbors(X, k, spec, rows=rows, n_jobs=graphs.n_jobs, graph=graph)
        _, idx = _core.kneighbors(
            X, k, rows=np.asarray(rows, dtype=np.int64), algorithm="exact", n_threads=threads
        )
        return idx
    nn = clone(n_neighbors)
    nn.fit(X)
    return nn.kneighbors(X[rows], return_distance=False)[:, 1:].astype(np.int64)


def _assemble(X, Xf, parts, y, labels, counts):
    """``X`` followed by the new rows (cast to ``X``'s dtype), and the matching labels."""
    new = [p for p in parts if p.shape[0]]
    y_res = np.concatenate(
        [y] + [np.full(c, lab, dtype=y.dtype) for lab, c in zip(labels, counts) if c]
    )
    if sparse.issparse(X):
        blocks = [X] + [sparse.csr_matrix(p.astype(X.dtype, copy=False)) for p in new]
        return sparse.vstack(blocks, format=X.format), y_res
    if not new:
        return X.copy(), y_res
    return np.vstack([X] + [p.astype(X.dtype, copy=False) for p in new]), y_res


class _NeighbourSMOTE(SamplerMixin, BaseOverSampler):
    def _check_X(self, X):
        return validate_data(self, X=X, reset=True, accept_sparse=["csr", "csc"], dtype="numeric")

    def _grown(self, classes):
        """(class, its position, rows to add) of each class to grow."""
        pos = self._class_positions(classes)
        return [(cls, pos[cls], int(n)) for cls, n in self.sampling_strategy_.items() if n > 0]


_SUBSTITUTION = Substitution(
    sampling_strategy=SAMPLING_STRATEGY_OVER,
    random_state=RANDOM_STATE,
    n_jobs=N_JOBS_ADDED,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of the searches whose size is an int",
        "are exact (imbalanced-learn's result)",
        "takes the neighbours from an approximate HNSW index (kept for users who ask for it:"
        " slower than the exact path on every data family measured)",
        "for a search given as an object",
    ),
)


@_SUBSTITUTION
class BorderlineSMOTE(_NeighbourSMOTE):
    """Borderline-SMOTE (Han et al., 2005), as in imbalanced-learn.

    For each class to grow, a row is "in danger" when at least half, but not all, of its
    ``m_neighbors`` nearest neighbours in the whole data belong to other classes. New rows are made
    only from the rows in danger: each lies on the segment between a row in danger and one of its
    ``k_neighbors`` nearest neighbours, drawn uniformly among all (row, neighbour) pairs, at a
    uniform position. With ``kind='borderline-1'`` the neighbours are taken in the row's own class;
    with ``'borderline-2'`` in the whole data, and a step towards a row of another class is further
    scaled by a uniform factor in [0, 0.5), so the new row stays nearer the row in danger. A class
    with no row in danger is not grown (imbalanced-learn's behaviour).

    Neighbours are exact Euclidean, the row itself excluded by index, equal distances ranked by row
    index.

    Parameters
    ----------
    {sampling_strategy}
    {random_state}
    k_neighbors : int or object, default=5
        Neighbours used to build new rows, or a ``NearestNeighbors``-like object.
    m_neighbors : int or object, default=10
        Neighbours used to decide whether a row is in danger, or a ``NearestNeighbors``-like object.
    kind : {'borderline-1', 'borderline-2'}, default='borderline-1'
        Which variant.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class.
    nn_k_ : estimator
        The k-neighbour estimator (a description of the search when ``k_neighbors`` is an int).
    nn_m_ : estimator
        The m-neighbour estimator (likewise).
    in_danger_indices : dict of ndarray
        For each grown class, the rows of ``X`` in danger (imbalanced-learn's name, no trailing
        underscore).
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import BorderlineSMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 1.0).astype(int)
    >>> X_res, y_res = BorderlineSMOTE(random_state=0).fit_resample(X, y)
    >>> X_res.shape[0] > X.shape[0]
    True
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": N_NEIGHBORS_CONSTRAINT,
        "m_neighbors": N_NEIGHBORS_CONSTRAINT,
        "kind": [StrOptions({"borderline-1", "borderline-2"})],
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        m_neighbors=10,
        kind="borderline-1",
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _resample(self, X, y, classes, codes, counts):
        Xf = _float(X)
        threads = threads_from(self.n_jobs)
        graphs = _Graphs(self.neighbors, self.n_jobs, shared=Xf)
        seed = seed_from(self.random_state)
        m = self.m_neighbors if isinstance(self.m_neighbors, numbers.Integral) else None
        k = self.k_neighbors if isinstance(self.k_neighbors, numbers.Integral) else None
        self.nn_m_ = NearestNeighbors(n_neighbors=m + 1) if m else clone(self.m_neighbors)
        self.nn_k_ = NearestNeighbors(n_neighbors=k + 1) if k else clone(self.k_neighbors)
        n_m = m if m else self.nn_m_.n_neighbors - 1
        self.in_danger_indices = {}
        parts, labels, sizes = [], [], []
        for cls, c, n_samples in self._grown(classes):
            rows = np.flatnonzero(codes == c)
            nn_m = _neighbours(Xf, rows, self.m_neighbors, "m_neighbors", threads, graphs)
            n_other = np.sum(codes[nn_m] != c, axis=1)
            danger = np.bitwise_and(n_other >= n_m / 2, n_other < n_m)
            if not danger.any():
                continue
            danger_rows = rows[danger]
            self.in_danger_indices[cls] = danger_rows
            if self.kind == "borderline-1":
                X_class = Xf[rows]
                pos = np.flatnonzero(danger)
                graph = rows[
                    _neighbours(X_class, pos, self.k_neighbors, "k_neighbors", threads, graphs)
                ]
                other = None
            else:
                graph = _neighbours(
                    Xf, danger_rows, self.k_neighbors, "k_neighbors", threads, graphs
                )
                other = codes != c
            new = _core.interpolate(
                Xf, danger_rows, graph, n_samples, None, other, "borderline", c, seed, threads
            )
            parts.append(new)
            labels.append(cls)
            sizes.append(new.shape[0])
        return _assemble(X, Xf, parts, y, labels, sizes)


@_SUBSTITUTION
class ADASYN(_NeighbourSMOTE):
    """Adaptive Synthetic sampling (He et al., 2008), as in imbalanced-learn.

    For each class to grow, every row gets a weight: the share of its ``n_neighbors`` nearest
    neighbours in the whole data that belong to other classes, normalised to sum 1; the row gets
    ``rint(weight * n_samples)`` new rows (numpy's rounding, half to even), so the class may end a
    few rows off its target, as in imbalanced-learn. Each new row lies on the segment between its
    row and one of the row's ``n_neighbors`` nearest neighbours within its class, drawn
    uniformly, at a uniform position. When no row of the class has a neighbour of another class,
    ADASYN cannot weigh the rows: a ``RuntimeError`` says so, as in imbalanced-learn.

    Parameters
    ----------
    {sampling_strategy}
    {random_state}
    n_neighbors : int or object, default=5
        Number of neighbours, or a ``NearestNeighbors``-like object.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The number of rows to add to each targeted class (before the rounding of the weights).
    nn_ : estimator
        The neighbour estimator (a description of the search when ``n_neighbors`` is an int).
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.over_sampling import ADASYN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 1.0).astype(int)
    >>> X_res, y_res = ADASYN(random_state=0).fit_resample(X, y)
    >>> abs(int((y_res == 1).sum()) - int((y_res == 0).sum())) <= 5
    True
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "n_neighbors": N_NEIGHBORS_CONSTRAINT,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        n_neighbors=5,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.n_neighbors = n_neighbors
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _resample(self, X, y, classes, codes, counts):
        Xf = _float(X)
        threads = threads_from(self.n_jobs)
        graphs = _Graphs(self.neighbors, self.n_jobs, shared=Xf)
        seed = seed_from(self.random_state)
        k = self.n_neighbors if isinstance(self.n_neighbors, numbers.Integral) else None
        self.nn_ = NearestNeighbors(n_neighbors=k + 1) if k else clone(self.n_neighbors)
        n_neighbors = self.nn_.n_neighbors - 1
        parts, labels, sizes = [], [], []
        for cls, c, n_samples in self._grown(classes):
            rows = np.flatnonzero(codes == c)
            nns = _neighbours(Xf, rows, self.n_neighbors, "n_neighbors", threads, graphs)
            ratio_nn = np.sum(codes[nns] != c, axis=1) / n_neighbors
            if not np.sum(ratio_nn):
                raise RuntimeError(
                    "Not any neigbours belong to the majority class. This case will induce a NaN"
                    " case with a division by zero. ADASYN is not suited for this specific"
                    " dataset. Use SMOTE instead."
                )
            ratio_nn /= np.sum(ratio_nn)
            n_samples_generate = np.rint(ratio_nn * n_samples).astype(int)
            if not np.sum(n_samples_generate):
                raise ValueError("No samples will be generated with the provided ratio settings.")
            X_class = Xf[rows]
            pos = np.arange(rows.size)
            graph = rows[
                _neighbours(X_class, pos, self.n_neighbors, "n_neighbors", threads, graphs)
            ]
            new = _core.interpolate(
                Xf,
                rows,
                graph,
                0,
                n_samples_generate.tolist(),
                None,
                "adasyn",
                c,
                seed,
                threads,
            )
            parts.append(new)
            labels.append(cls)
            sizes.append(new.shape[0])
        return _assemble(X, Xf, parts, y, labels, sizes)
