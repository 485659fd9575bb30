"""One-Sided Selection and Condensed Nearest Neighbour, as imbalanced-learn runs them.

Both draw their seed rows with numpy's ``RandomState.randint`` exactly as imbalanced-learn does, so
the same ``random_state`` picks the same seeds; the nearest-neighbour classifications run in the
Rust core (exact neighbours, equal distances to the lower position in the reference set).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from imblearn import under_sampling as imblearn_under
from imblearn.under_sampling.base import BaseCleaningSampler
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import (
    N_NEIGHBORS_CONSTRAINT,
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    kneighbors,
)
from equipoise.under_sampling._cleaning import (
    CleaningMixin,
    first_seen_minority,
    warn_emptied,
)
from equipoise.under_sampling._tomek_links import TomekLinks
from equipoise.utils._docstring import (
    FEATURES_IN,
    N_JOBS,
    SAMPLING_STRATEGY_CLEAN,
    Substitution,
    neighbors_paragraph,
)
from equipoise.utils._messages import too_many_neighbors
from equipoise.utils._validation import threads_from

_CONSTRAINTS: dict = {
    **BaseCleaningSampler._parameter_constraints,
    "n_neighbors": [*N_NEIGHBORS_CONSTRAINT, None],
    "n_seeds_S": [Interval(numbers.Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    **NEIGHBOR_SAMPLER_CONSTRAINTS,
}


def _estimator(n_neighbors, n_jobs):
    if n_neighbors is None:
        return KNeighborsClassifier(n_neighbors=1, n_jobs=n_jobs)
    if isinstance(n_neighbors, numbers.Integral):
        return KNeighborsClassifier(n_neighbors=n_neighbors, n_jobs=n_jobs)
    return clone(n_neighbors)


def _core_k(n_neighbors):
    """The core's k for a default or integer ``n_neighbors``; None for an object."""
    if n_neighbors is None:
        return 1
    if isinstance(n_neighbors, numbers.Integral):
        return int(n_neighbors)
    return None


def _vote(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Most frequent code of each row, the lowest among equals (scikit-learn's classifier)."""
    votes = np.zeros((labels.shape[0], n_classes), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(labels.shape[0]), labels.shape[1]), labels.ravel()), 1)
    return votes.argmax(axis=1)


class _Common(CleaningMixin, BaseCleaningSampler):
    _parameter_constraints: dict = _CONSTRAINTS

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        n_neighbors=None,
        n_seeds_S=1,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.n_neighbors = n_neighbors
        self.n_seeds_S = n_seeds_S
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _query(self, spec, C, Q, k, threads):
        """(distances, indices into C) of the k nearest rows of C to each row of Q."""
        if spec.exact:
            return _core.kneighbors(C, k, queries=Q, algorithm="exact", n_threads=threads)
        idx, dist = kneighbors(C, Q, k, spec, n_jobs=self.n_jobs, return_distance=True)
        return dist, idx

    _imblearn_attributes = ("estimators_", "sample_indices_")

    def _core_k(self):
        return _core_k(self.n_neighbors)


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_CLEAN,
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of the classification on C and of the Tomek links step",
        "are exact (imbalanced-learn's result)",
        "takes the neighbours from an approximate HNSW index, faster on large data",
        "when ``n_neighbors`` is an object or ``X`` is sparse",
    ),
)
class OneSidedSelection(_Common):
    """One-Sided Selection (Kubat & Matwin, 1997), as in imbalanced-learn.

    For each targeted class: ``n_seeds_S`` random rows of it plus every minority row form a set C;
    the other rows of the class are classified by ``n_neighbors``-NN on C and only the misclassified
    ones are kept (with the seeds). Tomek links are then removed once from the result, in one pass,
    as imbalanced-learn does: kept rows can still form new links afterwards (what holds is that no
    kept targeted row was in a link of the selected set). Neighbours as in
    :class:`~equipoise.under_sampling.EditedNearestNeighbours`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seed of the seed draws (numpy's ``randint``, as imbalanced-learn: same seeds).
    n_neighbors : int or object, default=None
        Neighbours of the classifier (None: 1), or a ``KNeighborsClassifier`` (then
        imbalanced-learn's implementation runs).
    n_seeds_S : int, default=1
        Seed rows drawn per class (with replacement).
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    estimators_ : list of estimator objects
        The ``KNeighborsClassifier`` fitted on C, one per targeted class.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import OneSidedSelection
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] > 1).astype(int)
    >>> X_res, y_res = OneSidedSelection(random_state=0).fit_resample(X, y)
    >>> bool(len(y_res) < len(y))
    True
    """

    _imblearn_class = imblearn_under.OneSidedSelection

    def _resample_core(self, X, Xf, y, classes, codes, counts, k, spec):
        estimator = _estimator(self.n_neighbors, self.n_jobs)
        random_state = check_random_state(self.random_state)
        class_minority, target_stats = first_seen_minority(y)
        threads = threads_from(self.n_jobs)
        idx_under = np.empty((0,), dtype=int)
        self.estimators_ = []
        for c, target_class in enumerate(classes):
            idx_class = np.flatnonzero(codes == c)
            if target_class not in self.sampling_strategy_:
                idx_under = np.concatenate((idx_under, idx_class))
                continue
            sel = random_state.randint(low=0, high=target_stats[target_class], size=self.n_seeds_S)
            seeds = idx_class[sel]
            C_indices = np.append(np.flatnonzero(y == class_minority), seeds)
            rest = np.delete(idx_class, sel, axis=0)
            self.estimators_.append(
                clone(estimator).fit(_safe_indexing(X, C_indices), y[C_indices])
            )
            if rest.size:
                Cx = np.ascontiguousarray(Xf[C_indices])
                _, nb = self._query(spec, Cx, np.ascontiguousarray(Xf[rest]), k, threads)
                pred = _vote(codes[C_indices][nb], len(classes))
                rest = rest[pred != c]
            idx_under = np.concatenate((idx_under, seeds, rest))
        tl = TomekLinks(
            sampling_strategy=list(self.sampling_strategy_.keys()),
            n_jobs=self.n_jobs,
            neighbors=self.neighbors,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tl.fit_resample(take_rows(X, idx_under, threads), y[idx_under])
        self.sample_indices_ = idx_under[tl.sample_indices_]
        warn_emptied(classes, counts, codes[self.sample_indices_], len(classes))
        return take_rows(X, self.sample_indices_, threads), _safe_indexing(y, self.sample_indices_)


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_CLEAN,
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of the first classification of the class's rows on C",
        "are exact (imbalanced-learn's result)",
        "takes those first neighbours from an approximate HNSW index over C (the updates as C"
        " grows stay exact)",
        "when ``n_neighbors`` is an object or ``X`` is sparse",
    ),
)
class CondensedNearestNeighbour(_Common):
    """Condensed Nearest Neighbour (Hart, 1968), as imbalanced-learn runs it.

    For each targeted class, C starts as every minority row plus ``n_seeds_S`` random rows of the
    class; the class's rows are visited in order and each one the ``n_neighbors``-NN classifier on
    the current C misclassifies is added to C. This follows imbalanced-learn's loop exactly,
    including its skip list (which mixes row numbers and positions in the class), so a removed row
    can still be misclassified by 1-NN on the kept set; what holds is that every row it added was
    misclassified when visited. Neighbours as in :class:`EditedNearestNeighbours`.

    Parameters
    ----------
    {sampling_strategy}
    random_state : int, RandomState instance or None, default=None
        Seed of the seed draws (numpy's ``randint``, as imbalanced-learn: same seeds).
    n_neighbors : int or object, default=None
        Neighbours of the classifier (None: 1), or a ``KNeighborsClassifier`` (then
        imbalanced-learn's implementation runs).
    n_seeds_S : int, default=1
        Seed rows drawn per class (with replacement).
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    estimators_ : list of estimator objects
        The ``KNeighborsClassifier`` fitted on the final C, one per targeted class.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept: per class in sorted order, the seeds then the added rows in visiting order.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import CondensedNearestNeighbour
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] > 1).astype(int)
    >>> X_res, y_res = CondensedNearestNeighbour(random_state=0).fit_resample(X, y)
    >>> bool(len(y_res) < len(y))
    True
    """

    _imblearn_class = imblearn_under.CondensedNearestNeighbour

    def _resample_core(self, X, Xf, y, classes, codes, counts, k, spec):
        estimator = _estimator(self.n_neighbors, self.n_jobs)
        random_state = check_random_state(self.random_state)
        class_minority, target_stats = first_seen_minority(y)
        threads = threads_from(self.n_jobs)
        idx_under = np.empty((0,), dtype=int)
        self.estimators_ = []
        for c, target_class in enumerate(classes):
            idx_maj = np.flatnonzero(codes == c)
            if target_class not in self.sampling_strategy_:
                idx_under = np.concatenate((idx_under, idx_maj))
                continue
            seeds = idx_maj[
                random_state.randint(low=0, high=target_stats[target_class], size=self.n_seeds_S)
            ]
            C_indices = np.append(np.flatnonzero(y == class_minority), seeds)
            selected = self._condense(
                Xf, codes, c, idx_maj, C_indices, seeds, k, len(classes), threads, spec
            )
            C_final = np.append(np.flatnonzero(y == class_minority), selected)
            self.estimators_.append(clone(estimator).fit(_safe_indexing(X, C_final), y[C_final]))
            idx_under = np.concatenate((idx_under, selected))
        self.sample_indices_ = idx_under
        warn_emptied(classes, counts, codes[idx_under], len(classes))
        return take_rows(X, idx_under, threads), _safe_indexing(y, idx_under)

    def _condense(self, Xf, codes, c, idx_maj, C_indices, seeds, k, n_classes, threads, spec):
        S = np.ascontiguousarray(Xf[idx_maj], dtype=np.float64)
        if C_indices.size < k:
            raise ValueError(too_many_neighbors(k, C_indices.size, n_samples=idx_maj.size))
        # Each S row's k nearest rows of C (squared distances, codes), kept sorted as C grows.
        dist, nb = self._query(
            spec, np.ascontiguousarray(Xf[C_indices], dtype=np.float64), S, k, threads
        )
        best_d = dist**2
        best_c = codes[C_indices][nb]
        selected = list(seeds)
        selected_rows = {int(v) for v in seeds}
        pred = _vote(best_c, n_classes)
        correct = None  # positions well classified at the last refit (imbalanced-learn's list)
        for p in range(idx_maj.size):
            # imbalanced-learn skips a position found among the selected rows' *row numbers* or
            # among the positions well classified at the last refit.
            if p in selected_rows or (correct is not None and correct[p]):
                continue
            if pred[p] == c:
                continue
            r = idx_maj[p]
            selected.append(r)
            selected_rows.add(int(r))
            d_new = ((S - S[p]) ** 2).sum(axis=1)
            enter = d_new < best_d[:, -1]
            if enter.any():
                rows = np.flatnonzero(enter)
                cand_d = np.concatenate([best_d[rows], d_new[rows, None]], axis=1)
                cand_c = np.concatenate([best_c[rows], np.full((rows.size, 1), c)], axis=1)
                order = np.argsort(cand_d, axis=1, kind="stable")[:, :k]
                best_d[rows] = np.take_along_axis(cand_d, order, axis=1)
                best_c[rows] = np.take_along_axis(cand_c, order, axis=1)
                pred[rows] = _vote(best_c[rows], n_classes)
            correct = pred == c
        return np.asarray(selected, dtype=int)
