"""Neighbourhood Cleaning Rule: ENN plus the neighbours of misclassified minority rows."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from imblearn import under_sampling as imblearn_under
from imblearn.under_sampling.base import BaseCleaningSampler
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import (
    N_NEIGHBORS_CONSTRAINT,
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    self_kneighbors,
)
from equipoise.under_sampling._cleaning import (
    CleaningMixin,
    check_enough_rows,
    euclidean_k,
    first_seen_minority,
    warn_emptied,
)
from equipoise.under_sampling._edited_nearest_neighbours import EditedNearestNeighbours
from equipoise.utils._docstring import (
    FEATURES_IN,
    N_JOBS,
    SAMPLING_STRATEGY_CLEAN,
    Substitution,
    neighbors_paragraph,
)
from equipoise.utils._validation import SAMPLER_CONSTRAINT, threads_from


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_CLEAN,
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index when ``n_neighbors`` is an int, for both steps (it is passed to the"
        " default ENN; a given ``edited_nearest_neighbours`` keeps its own)",
        "are exact (imbalanced-learn's result)",
        "takes the neighbours from an approximate HNSW index (kept for users who ask for it:"
        " slower than the exact path on every data family measured)",
        "when ``n_neighbors`` is an object or ``X`` is sparse",
    ),
)
class NeighbourhoodCleaningRule(CleaningMixin, BaseCleaningSampler):
    """Neighbourhood Cleaning Rule (Laurikkala, 2001), as in imbalanced-learn.

    Removes the rows an :class:`EditedNearestNeighbours` (``kind_sel='mode'``) removes, and the
    ``n_neighbors`` nearest neighbours of every minority row that a ``n_neighbors``-NN classifier
    (the row itself among the voters, as scikit-learn's classifier sees its own training rows)
    misclassifies, when they belong to a targeted class larger than ``threshold_cleaning`` times
    the minority. Neighbours and ties as in :class:`EditedNearestNeighbours`.

    Parameters
    ----------
    {sampling_strategy}
    edited_nearest_neighbours : estimator object, default=None
        The ENN of the first step; default ``EditedNearestNeighbours(kind_sel='mode')`` with this
        estimator's ``sampling_strategy``, ``n_neighbors`` and ``n_jobs``.
    n_neighbors : int or object, default=3
        Size of the neighbourhood, or a ``KNeighborsMixin`` object (a ``NearestNeighbors`` counts
        the row itself).
    threshold_cleaning : float, default=0.5
        A class is cleaned in the second step only if larger than this times the minority.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    edited_nearest_neighbours_ : estimator object
        The fitted ENN of the first step.
    nn_ : estimator object
        ``KNeighborsClassifier(n_neighbors)`` fitted on ``X`` (or the given object).
    classes_to_clean_ : list
        Classes cleaned in the second step, in order of first appearance in ``y``.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept, in row order.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import NeighbourhoodCleaningRule
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2)); y = (X[:, 0] + 0.5 * rng.normal(size=300) > 1).astype(int)
    >>> X_res, y_res = NeighbourhoodCleaningRule().fit_resample(X, y)
    >>> bool((y_res == 1).sum() == (y == 1).sum() and len(y_res) < len(y))
    True
    """

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        "edited_nearest_neighbours": SAMPLER_CONSTRAINT,
        "n_neighbors": N_NEIGHBORS_CONSTRAINT,
        "threshold_cleaning": [Interval(numbers.Real, 0, None, closed="neither")],
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        edited_nearest_neighbours=None,
        n_neighbors=3,
        threshold_cleaning=0.5,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.edited_nearest_neighbours = edited_nearest_neighbours
        self.n_neighbors = n_neighbors
        self.threshold_cleaning = threshold_cleaning
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _validate_estimator(self):
        if isinstance(self.n_neighbors, numbers.Integral):
            self.nn_ = KNeighborsClassifier(n_neighbors=self.n_neighbors, n_jobs=self.n_jobs)
        elif isinstance(self.n_neighbors, NearestNeighbors):
            self.nn_ = KNeighborsClassifier(
                n_neighbors=self.n_neighbors.n_neighbors - 1, n_jobs=self.n_jobs
            )
        else:
            self.nn_ = clone(self.n_neighbors)
        if self.edited_nearest_neighbours is None:
            self.edited_nearest_neighbours_ = EditedNearestNeighbours(
                sampling_strategy=self.sampling_strategy,
                n_neighbors=self.n_neighbors,
                kind_sel="mode",
                n_jobs=self.n_jobs,
                neighbors=self.neighbors,
            )
        else:
            self.edited_nearest_neighbours_ = clone(self.edited_nearest_neighbours)

    _imblearn_class = imblearn_under.NeighbourhoodCleaningRule
    _imblearn_attributes = (
        "nn_",
        "edited_nearest_neighbours_",
        "classes_to_clean_",
        "sample_indices_",
    )

    def _core_k(self):
        if isinstance(self.n_neighbors, numbers.Integral):
            return int(self.n_neighbors)
        if type(self.n_neighbors) is NearestNeighbors:
            return euclidean_k(self.n_neighbors, 1)
        return None  # a KNeighborsMixin object other than a plain NearestNeighbors

    def _resample_core(self, X, Xf, y, classes, codes, counts, k, spec):
        self._validate_estimator()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            self.edited_nearest_neighbours_.fit_resample(X, y)
        index_not_a1 = self.edited_nearest_neighbours_.sample_indices_
        removed = np.ones(y.shape, dtype=bool)
        removed[index_not_a1] = False

        class_minority, target_stats = first_seen_minority(y)
        self.classes_to_clean_ = [
            c
            for c, n_samples in target_stats.items()
            if c in self.sampling_strategy_.keys()
            and n_samples > target_stats[class_minority] * self.threshold_cleaning
        ]
        self.nn_.fit(X, y)
        check_enough_rows(k + 1, X.shape[0])
        pos = self._class_positions(classes)
        min_code = pos[class_minority]
        min_rows = np.flatnonzero(codes == min_code)
        if spec.exact or not isinstance(self.n_neighbors, numbers.Integral):
            _, nbrs = _core.kneighbors(
                Xf,
                k,
                rows=min_rows.astype(np.int64),
                algorithm="exact",
                n_threads=threads_from(self.n_jobs),
            )
        else:
            nbrs = self_kneighbors(Xf, k, spec, rows=min_rows, n_jobs=self.n_jobs)
        # The classifier's vote: the row itself and its k - 1 nearest others; ties to the
        # smallest class, as scikit-learn's KNeighborsClassifier.
        voters = np.concatenate([min_rows[:, None], nbrs[:, : k - 1]], axis=1)
        votes = np.zeros((min_rows.size, len(classes)), dtype=np.int64)
        np.add.at(votes, (np.repeat(np.arange(min_rows.size), k), codes[voters].ravel()), 1)
        misclassified = votes.argmax(axis=1) != min_code
        index_a2 = np.unique(nbrs[misclassified].ravel())
        clean_codes = np.array([pos[c] for c in self.classes_to_clean_], dtype=np.int64)
        index_a2 = index_a2[np.isin(codes[index_a2], clean_codes)]
        removed[index_a2] = True
        self.sample_indices_ = np.flatnonzero(~removed)
        warn_emptied(classes, counts, codes[self.sample_indices_], len(classes))
        idx = self.sample_indices_
        return take_rows(X, idx, threads_from(self.n_jobs)), _safe_indexing(y, idx)
