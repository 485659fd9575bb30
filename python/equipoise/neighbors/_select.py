"""The ``neighbors=`` parameter of every neighbour-based estimator, and the searches it selects.

An estimator adds ``neighbors="auto"`` (and ``n_jobs=None``) to its ``__init__``,
:data:`NEIGHBOR_SAMPLER_CONSTRAINTS` to its ``_parameter_constraints``, and calls
:func:`self_kneighbors` (or :func:`kneighbors`) where it needs neighbours. ``neighbors`` is one of

- ``"auto"``: an exact index chosen by size and dimension (a KD-tree for at most 5 features and
  2048 rows or more, else blocked brute force; ``benches/tune_auto.py`` measures the crossover).
  Never an approximate one, so results match imbalanced-learn.
- ``"exact"``: blocked brute force, exact.
- ``"kdtree"``: a KD-tree, exact (fastest when there are few features).
- ``"hnsw"``: an approximate HNSW graph; recall is measured in the tests. Not faster than the exact
  path on any data family measured (``benches/neighbors_exact_vs_hnsw.py``): its build alone
  outlasts the exact search, so only a user who asks for it gets it.
- a dict of HNSW's options, any of ``M``, ``ef_construction``, ``ef_search`` and ``seed`` (their
  defaults: :data:`HNSW_DEFAULTS`, read from the core), plus ``algorithm``, which defaults to
  ``"hnsw"`` in a dict.

Distances are Euclidean; equal distances are ranked by row index.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from equipoise import _core
from equipoise.utils._memory import check_fits, check_neighbour_lists
from equipoise.utils._validation import N_JOBS_CONSTRAINT, threads_from

ALGORITHMS = ("auto", "exact", "kdtree", "hnsw")
#: HNSW's options and their defaults, as the core defines them (its one source).
HNSW_DEFAULTS: dict[str, int] = _core.hnsw_defaults()

#: The ``_parameter_constraints`` entry of a ``neighbors`` parameter.
NEIGHBORS_CONSTRAINT = [StrOptions(set(ALGORITHMS)), dict]

#: The ``_parameter_constraints`` entry of a neighbourhood size (``k_neighbors``, ``n_neighbors``,
#: ...): an int >= 1 or a scikit-learn-like neighbour estimator.
N_NEIGHBORS_CONSTRAINT: list = [
    Interval(numbers.Integral, 1, None, closed="left"),
    HasMethods(["kneighbors", "kneighbors_graph"]),
]

#: The ``_parameter_constraints`` entries of the two parameters every neighbour-based sampler adds
#: to imbalanced-learn's (``n_jobs`` and ``neighbors``).
NEIGHBOR_SAMPLER_CONSTRAINTS: dict = {
    "n_jobs": N_JOBS_CONSTRAINT,
    "neighbors": NEIGHBORS_CONSTRAINT,
}


@dataclass(frozen=True)
class NeighborSpec:
    """A checked ``neighbors=`` value."""

    algorithm: str = "auto"
    M: int = HNSW_DEFAULTS["M"]
    ef_construction: int = HNSW_DEFAULTS["ef_construction"]
    ef_search: int = HNSW_DEFAULTS["ef_search"]
    seed: int = HNSW_DEFAULTS["seed"]

    @property
    def exact(self) -> bool:
        return self.algorithm != "hnsw"

    def core_kwargs(self) -> dict:
        return {
            "algorithm": self.algorithm,
            "m": self.M,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            "seed": self.seed,
        }


def check_neighbors(neighbors) -> NeighborSpec:
    """Check a ``neighbors=`` value (a name or a dict of HNSW options) and return its spec."""
    if isinstance(neighbors, NeighborSpec):
        return neighbors
    if isinstance(neighbors, str):
        if neighbors not in ALGORITHMS:
            raise ValueError(f"neighbors must be one of {ALGORITHMS} or a dict; got {neighbors!r}")
        return NeighborSpec(algorithm=neighbors)
    if isinstance(neighbors, dict):
        opts = dict(neighbors)
        algorithm = opts.pop("algorithm", "hnsw")
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"neighbors['algorithm'] must be one of {ALGORITHMS}; got {algorithm!r}"
            )
        unknown = set(opts) - set(HNSW_DEFAULTS)
        if unknown:
            raise ValueError(
                f"unknown neighbors option(s) {sorted(unknown)}; known: {sorted(HNSW_DEFAULTS)}"
            )
        values = {**HNSW_DEFAULTS, **opts}
        for name, value in values.items():
            low = 0 if name == "seed" else (2 if name == "M" else 1)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"neighbors[{name!r}] must be an integer >= {low}; got {value!r}")
        return NeighborSpec(algorithm=algorithm, **{k: int(v) for k, v in values.items()})
    raise TypeError(
        f"neighbors must be a string among {ALGORITHMS} or a dict of options; got {neighbors!r}"
    )


def as_core_float(X) -> np.ndarray:
    """``X`` as a C-contiguous float32 or float64 array (float32 stays float32, no copy if fine)."""
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64) or not X.dtype.isnative:
        X = X.astype(np.float64)
    return np.ascontiguousarray(X)


def check_hnsw_fits(n_rows: int, m: int, what: str = "the HNSW graph") -> None:
    """The graph's links (``2 M`` on the bottom level, about 2 more a row above it, 4 bytes
    each) and a level byte a row, refused up front when they cannot fit."""
    check_fits(
        int(n_rows) * ((2 * int(m) + 2) * 4 + 1),
        f"{what} of {int(n_rows):,} rows with M={int(m)}",
    )


def hnsw_graph(X, neighbors, *, n_jobs=None):
    """The HNSW graph of ``X`` for a ``neighbors=`` value, to pass as ``graph=`` to several
    searches on the same ``X`` (built once)."""
    spec = check_neighbors(neighbors)
    check_hnsw_fits(len(X), spec.M)
    return _core.hnsw_build(
        as_core_float(X),
        m=spec.M,
        ef_construction=spec.ef_construction,
        seed=spec.seed,
        n_threads=threads_from(n_jobs),
    )


def self_kneighbors(
    X,
    k: int,
    neighbors="auto",
    *,
    rows=None,
    n_jobs=None,
    return_distance: bool = False,
    graph=None,
):
    """The ``k`` nearest other rows of each row of ``X`` (or of the rows ``rows`` of ``X``).

    A row is excluded from its own list by index (a duplicate of it at distance 0 is still a
    neighbour), as SMOTE, ENN and Tomek links need. ``graph``: a :func:`hnsw_graph` of ``X``
    (used when ``neighbors`` is HNSW) instead of building one.

    Returns
    -------
    indices : ndarray of shape (n_queries, k), int64
        Row indices into ``X``, nearest first.
    distances : ndarray of shape (n_queries, k), float64
        Only when ``return_distance``.
    """
    spec = check_neighbors(neighbors)
    n_queries = len(X) if rows is None else len(rows)
    check_neighbour_lists(n_queries, k, "the neighbour search")
    if spec.exact:
        graph = None
    elif graph is None:
        check_hnsw_fits(len(X), spec.M)
    X = as_core_float(X)
    if rows is not None:
        rows = np.ascontiguousarray(rows, dtype=np.int64)
    dist, idx = _core.kneighbors(
        X, int(k), rows=rows, graph=graph, n_threads=threads_from(n_jobs), **spec.core_kwargs()
    )
    return (idx, dist) if return_distance else idx


def kneighbors(X_fit, X_query, k: int, neighbors="auto", *, n_jobs=None, return_distance=False):
    """The ``k`` nearest rows of ``X_fit`` to each row of ``X_query`` (no exclusion)."""
    spec = check_neighbors(neighbors)
    check_neighbour_lists(len(X_query), k, "the neighbour search")
    if not spec.exact:
        check_hnsw_fits(len(X_fit), spec.M)
    X_fit = as_core_float(X_fit)
    X_query = np.ascontiguousarray(X_query, dtype=X_fit.dtype)
    dist, idx = _core.kneighbors(
        X_fit, int(k), queries=X_query, n_threads=threads_from(n_jobs), **spec.core_kwargs()
    )
    return (idx, dist) if return_distance else idx
