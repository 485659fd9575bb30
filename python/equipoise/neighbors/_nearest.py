"""``NearestNeighbors``: scikit-learn's estimator, backed by equipoise's neighbour engine."""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from equipoise import _core
from equipoise.base import keeps_state_on_error
from equipoise.neighbors._select import HNSW_DEFAULTS, check_hnsw_fits
from equipoise.utils._docstring import N_JOBS, Substitution
from equipoise.utils._memory import check_neighbour_lists
from equipoise.utils._messages import too_many_neighbors
from equipoise.utils._validation import N_JOBS_CONSTRAINT, seed_from, threads_from

# scikit-learn's names are accepted for the exact indexes, so that code written for it works.
_ALIASES = {"brute": "exact", "kd_tree": "kdtree", "ball_tree": "exact"}


@Substitution(n_jobs=N_JOBS, **{k: str(v) for k, v in HNSW_DEFAULTS.items() if k != "seed"})
class NearestNeighbors(BaseEstimator):
    """Unsupervised Euclidean nearest neighbours, a drop-in for scikit-learn's ``NearestNeighbors``.

    Exact search (blocked brute force with an exactly re-ranked candidate set, or a KD-tree) or
    approximate search (an HNSW graph, built deterministically for a given ``random_state``).
    Distances are Euclidean; equal distances are ranked by row index. float32 data is searched in
    float32 (no upcast copy); distances are returned in float64, computed exactly.

    Pass an instance as ``k_neighbors`` to equipoise's or imbalanced-learn's SMOTE (or wherever
    imbalanced-learn or scikit-learn take a ``NearestNeighbors``-like object).

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours ``kneighbors`` returns by default.
    algorithm : {'auto', 'exact', 'kdtree', 'hnsw', 'brute', 'kd_tree', 'ball_tree'}, default='auto'
        'auto' picks an exact index by size and dimension; 'exact' (alias 'brute', and 'ball_tree',
        which is served exactly by brute force) and 'kdtree' (alias 'kd_tree') are exact; 'hnsw' is
        approximate.
    M : int, default={M}
        HNSW: links per node (twice as many on the bottom level).
    ef_construction : int, default={ef_construction}
        HNSW: candidate list size while building.
    ef_search : int, default={ef_search}
        HNSW: candidate list size while searching (at least ``n_neighbors`` is used).
    random_state : int, RandomState instance or None, default=None
        HNSW: seed of the level assignment (None means seed 0, so that the graph is reproducible).
    {n_jobs}

    Attributes
    ----------
    n_samples_fit_ : int
        Number of rows indexed.
    n_features_in_ : int
        Number of features seen in ``fit``.
    effective_metric_ : str
        Always ``'euclidean'``.
    effective_metric_params_ : dict
        Always empty.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.neighbors import NearestNeighbors
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    >>> nn = NearestNeighbors(n_neighbors=1).fit(X)
    >>> dist, ind = nn.kneighbors([[0.9, 0.1]])
    >>> ind.tolist()
    [[1]]
    >>> nn.kneighbors(n_neighbors=1, return_distance=False).tolist()  # each row excluded
    [[1], [0], [1]]
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"auto", "exact", "kdtree", "hnsw", *_ALIASES})],
        "M": [Interval(numbers.Integral, 2, None, closed="left")],
        "ef_construction": [Interval(numbers.Integral, 1, None, closed="left")],
        "ef_search": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        n_neighbors=5,
        *,
        algorithm="auto",
        M=HNSW_DEFAULTS["M"],
        ef_construction=HNSW_DEFAULTS["ef_construction"],
        ef_search=HNSW_DEFAULTS["ef_search"],
        random_state=None,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.algorithm = algorithm
        self.M = M
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def _algorithm(self) -> str:
        return _ALIASES.get(self.algorithm, self.algorithm)

    @keeps_state_on_error
    def fit(self, X, y=None):
        """Index the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to index (float32 stays float32; other dtypes are searched as float64).
        y : ignored

        Returns
        -------
        self : NearestNeighbors
        """
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=True)
        self._fit_X = X
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean"
        self.effective_metric_params_ = {}
        self._seed = 0 if self.random_state is None else seed_from(self.random_state)
        self._graph = None
        if self._algorithm == "hnsw":
            self._build_graph()
        return self

    def _build_graph(self):
        check_hnsw_fits(self.n_samples_fit_, self.M)
        self._graph = _core.hnsw_build(
            self._fit_X,
            m=int(self.M),
            ef_construction=int(self.ef_construction),
            seed=self._seed,
            n_threads=threads_from(self.n_jobs),
        )

    def __getstate__(self):
        # The graph is rebuilt on first use after unpickling: the build is deterministic.
        state = self.__dict__.copy()
        state.pop("_graph", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._graph = None

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The nearest indexed rows of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            The queries. None: the indexed rows themselves, each excluded from its own list.
        n_neighbors : int, default=None
            Number of neighbours (``self.n_neighbors`` when None).
        return_distance : bool, default=True
            Also return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors), float64
            Euclidean distances, non-decreasing along each row (only when ``return_distance``).
        neigh_ind : ndarray of shape (n_queries, n_neighbors), int64
            Row indices into the indexed data.
        """
        check_is_fitted(self, "_fit_X")
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        if (
            not isinstance(n_neighbors, numbers.Integral)
            or isinstance(n_neighbors, bool)
            or n_neighbors <= 0
        ):
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors!r}")
        n_neighbors = int(n_neighbors)
        limit = self.n_samples_fit_ - (1 if X is None else 0)
        if n_neighbors > limit:
            raise ValueError(
                too_many_neighbors(
                    n_neighbors,
                    self.n_samples_fit_,
                    n_samples=self.n_samples_fit_ if X is None else len(X),
                    strict=X is None,
                )
            )
        queries = None
        if X is not None:
            queries = validate_data(self, X, dtype=self._fit_X.dtype, order="C", reset=False)
        check_neighbour_lists(
            self.n_samples_fit_ if queries is None else queries.shape[0],
            n_neighbors,
            "kneighbors",
        )
        algorithm = self._algorithm
        graph = None
        if algorithm == "hnsw":
            if self._graph is None:
                self._build_graph()
            graph = self._graph
        dist, ind = _core.kneighbors(
            self._fit_X,
            n_neighbors,
            queries=queries,
            algorithm=algorithm,
            graph=graph,
            ef_search=int(self.ef_search),
            n_threads=threads_from(self.n_jobs),
        )
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """The k-neighbours graph as a CSR matrix of shape (n_queries, n_samples_fit).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            The queries; None: the indexed rows, each excluded from its own list.
        n_neighbors : int, default=None
            Number of neighbours (``self.n_neighbors`` when None).
        mode : {'connectivity', 'distance'}, default='connectivity'
            Ones, or the Euclidean distances.

        Returns
        -------
        A : scipy.sparse.csr_matrix of shape (n_queries, n_samples_fit)
        """
        if mode == "connectivity":
            ind = self.kneighbors(X, n_neighbors, return_distance=False)
            data = np.ones(ind.size)
        elif mode == "distance":
            dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
            data = np.ravel(dist)
        else:
            raise ValueError(
                f'Unsupported mode, must be one of "connectivity", or "distance" but got "{mode}"'
                " instead"
            )
        n_queries, k = ind.shape
        indptr = np.arange(0, n_queries * k + 1, k)
        return sparse.csr_matrix(
            (data, ind.ravel(), indptr), shape=(n_queries, self.n_samples_fit_)
        )
