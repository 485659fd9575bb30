"""Edited Nearest Neighbours and its repeated forms (RENN, AllKNN), decided in the Rust core."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from imblearn import under_sampling as imblearn_under
from imblearn.under_sampling.base import BaseCleaningSampler
from imblearn.utils import check_neighbors_object
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import (
    N_NEIGHBORS_CONSTRAINT,
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    check_neighbors,
)
from equipoise.under_sampling._cleaning import (
    CleaningMixin,
    check_enough_rows,
    enn_on_graph,
    first_seen_minority,
    segments_for,
    warn_emptied,
)
from equipoise.utils._docstring import (
    FEATURES_IN,
    N_JOBS,
    SAMPLING_STRATEGY_CLEAN,
    Substitution,
    neighbors_paragraph,
)
from equipoise.utils._validation import threads_from


@Substitution(
    sampling_strategy=SAMPLING_STRATEGY_CLEAN,
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index when ``n_neighbors`` is an int",
        "run the core's exact ENN (imbalanced-learn's result)",
        "applies the same rule to the neighbour graph of an approximate HNSW index (slower than"
        " the exact path on every data family measured; kept for users who ask for it)",
        "when ``n_neighbors`` is an object or ``X`` is sparse",
    ),
)
class EditedNearestNeighbours(CleaningMixin, BaseCleaningSampler):
    """Remove rows whose nearest neighbours disagree with their class, as in imbalanced-learn.

    A row of a targeted class is removed when any (``kind_sel='all'``) or most (``'mode'``) of
    its ``n_neighbors`` nearest neighbours in the whole data are of another class.

    Neighbours are exact Euclidean neighbours, the row itself excluded by index, ranked by
    (distance, row index): equal distances go to the lower row index. imbalanced-learn takes
    ``n_neighbors + 1`` neighbours from scikit-learn and drops the first, which is the row itself
    unless another row lies at distance 0 from it; the two can differ only on such ties. Most rows
    are decided without a full search: the nearest rows of its own class in its neighbourhood
    bound its k-th neighbour distance, and the core proves that no other class is that close.

    Parameters
    ----------
    {sampling_strategy}
    n_neighbors : int or object, default=3
        Size of the neighbourhood, or a ``NearestNeighbors``-like object (counting the row itself,
        as in imbalanced-learn). A plain Euclidean ``NearestNeighbors`` runs in the core; any other
        object, like sparse ``X``, is handed to imbalanced-learn's implementation.
    kind_sel : {'all', 'mode'}, default='all'
        'all': a row stays only if all its neighbours share its class; 'mode': if the most frequent
        class among them (the smallest label among equally frequent ones) is its class.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    nn_ : estimator object
        The neighbour estimator, ``NearestNeighbors(n_neighbors + 1)`` fitted on ``X`` as in
        imbalanced-learn.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept, class by class in sorted class order, each class's rows in row order.
    {features_in}

    Notes
    -----
    A class emptied by the cleaning is emptied as imbalanced-learn does, with a ``UserWarning``
    that names it.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import EditedNearestNeighbours
    >>> X = np.array([[0.0], [1], [2], [3], [4], [5], [6], [7], [8], [9], [4.5], [20], [21], [22]])
    >>> y = np.array([0] * 10 + [1] * 4)
    >>> X_res, y_res = EditedNearestNeighbours().fit_resample(X, y)
    >>> X_res.ravel().tolist()  # the class-0 rows around 4.5 are gone
    [0.0, 1.0, 2.0, 7.0, 8.0, 9.0, 4.5, 20.0, 21.0, 22.0]
    """

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        "n_neighbors": N_NEIGHBORS_CONSTRAINT,
        "kind_sel": [StrOptions({"all", "mode"})],
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        n_neighbors=3,
        kind_sel="all",
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_neighbors = n_neighbors
        self.kind_sel = kind_sel
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    _imblearn_class = imblearn_under.EditedNearestNeighbours
    _imblearn_attributes = ("nn_", "sample_indices_")

    def _resample_core(self, X, Xf, y, classes, codes, counts, k, spec):
        self.nn_ = check_neighbors_object("n_neighbors", self.n_neighbors, additional_neighbor=1)
        self.nn_.set_params(n_jobs=self.n_jobs)
        check_enough_rows(k + 1, X.shape[0])
        args = (Xf, codes, len(classes), self._targeted(classes), k, self.kind_sel == "mode")
        if spec.exact or not isinstance(self.n_neighbors, numbers.Integral):
            idx = _core.edited_nearest_neighbours(
                *args, threads_from(self.n_jobs), *segments_for(self, Xf)
            )
        else:
            # The approximate path: the same rule on an HNSW neighbour graph.
            idx = enn_on_graph(*args, spec, self.n_jobs)
        self.nn_.fit(X)
        X_res, y_res = take_rows(X, idx, threads_from(self.n_jobs)), _safe_indexing(y, idx)
        self.sample_indices_ = idx
        warn_emptied(classes, counts, codes[idx], len(classes))
        return X_res, y_res


def _rounds_enn(sampler):
    """The ENN of the rounds of RENN / AllKNN. imbalanced-learn passes it the fitted ``nn_``; an
    int ``n_neighbors`` is passed as such instead (the same exact rule), with ``neighbors``,
    which is ignored (left 'auto') when ``n_neighbors`` is an object."""
    check_neighbors(sampler.neighbors)
    n_neighbors, neighbors = sampler.n_neighbors, sampler.neighbors
    if not isinstance(n_neighbors, numbers.Integral):
        n_neighbors, neighbors = sampler.nn_, "auto"
    return EditedNearestNeighbours(
        sampling_strategy=sampler.sampling_strategy,
        n_neighbors=n_neighbors,
        kind_sel=sampler.kind_sel,
        n_jobs=sampler.n_jobs,
        neighbors=neighbors,
    )


def _stop_flags(y_enn, class_minority, target_stats):
    """imbalanced-learn's stopping tests: a non-minority class fell below the minority's original
    count, or a class disappeared."""
    values, counts = np.unique(y_enn, return_counts=True)
    below = any(
        c < target_stats[class_minority] for v, c in zip(values, counts) if v != class_minority
    )
    return below, len(values) < len(target_stats)


_ROUNDS_SUBSTITUTION = Substitution(
    sampling_strategy=SAMPLING_STRATEGY_CLEAN,
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of every round (as in :class:`EditedNearestNeighbours`)",
        "are exact",
        "applies each round's rule to an approximate HNSW graph",
        "when ``n_neighbors`` is an object",
    ),
)


@_ROUNDS_SUBSTITUTION
class RepeatedEditedNearestNeighbours(CleaningMixin, BaseCleaningSampler):
    """Repeat Edited Nearest Neighbours until nothing changes, as in imbalanced-learn.

    Stops after ``max_iter`` rounds, when a round removes nothing, when a non-minority class falls
    below the minority's original size, or when a class disappears. Each round re-reads
    ``sampling_strategy`` on the remaining rows, as imbalanced-learn does. Neighbours and ties as
    in :class:`EditedNearestNeighbours`.

    Parameters
    ----------
    {sampling_strategy}
    n_neighbors : int or object, default=3
        Size of the neighbourhood (see :class:`EditedNearestNeighbours`).
    max_iter : int, default=100
        Most rounds.
    kind_sel : {'all', 'mode'}, default='all'
        Rule of each round (see :class:`EditedNearestNeighbours`).
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    nn_ : estimator object
        ``NearestNeighbors(n_neighbors + 1)`` (or a clone of the given object).
    enn_ : sampler object
        The :class:`EditedNearestNeighbours` of the rounds.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept. When the first round removes nothing, imbalanced-learn 0.14 applies that
        round's class-grouping permutation twice; equipoise reproduces it for parity.
    n_iter_ : int
        Rounds run.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import RepeatedEditedNearestNeighbours
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0.8).astype(int)
    >>> renn = RepeatedEditedNearestNeighbours().fit(X, y)
    >>> X_res, y_res = renn.fit_resample(X, y)
    >>> bool((y_res == 1).sum() == (y == 1).sum())
    True
    """

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        "n_neighbors": N_NEIGHBORS_CONSTRAINT,
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "kind_sel": [StrOptions({"all", "mode"})],
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        n_neighbors=3,
        max_iter=100,
        kind_sel="all",
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_neighbors = n_neighbors
        self.kind_sel = kind_sel
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.neighbors = neighbors

    def _resample(self, X, y, classes, codes, counts):
        self.nn_ = check_neighbors_object("n_neighbors", self.n_neighbors, additional_neighbor=1)
        self.enn_ = _rounds_enn(self)
        X_, y_ = X, y
        self.sample_indices_ = np.arange(X.shape[0], dtype=int)
        class_minority, target_stats = first_seen_minority(y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for n_iter in range(self.max_iter):  # noqa: B007 (read after the loop)
                prev_len = y_.shape[0]
                X_enn, y_enn = self.enn_.fit_resample(X_, y_)
                b_conv = prev_len == y_enn.shape[0]
                b_min_bec_maj, b_remove_maj_class = _stop_flags(y_enn, class_minority, target_stats)
                X_, y_ = X_enn, y_enn
                self.sample_indices_ = self.sample_indices_[self.enn_.sample_indices_]
                if b_conv or b_min_bec_maj or b_remove_maj_class:
                    if b_conv:
                        # imbalanced-learn 0.14 composes this round's indices a second time here.
                        self.sample_indices_ = self.sample_indices_[self.enn_.sample_indices_]
                    break
        self.n_iter_ = n_iter + 1
        warn_emptied(classes, counts, codes[self.sample_indices_], len(classes))
        return X_, y_


@_ROUNDS_SUBSTITUTION
class AllKNN(CleaningMixin, BaseCleaningSampler):
    """Edited Nearest Neighbours with neighbourhoods of 1, 2, ..., ``n_neighbors``, as in
    imbalanced-learn.

    Stops early when a non-minority class falls below the minority's original size (unless
    ``allow_minority``) or a class disappears. Neighbours and ties as in
    :class:`EditedNearestNeighbours`.

    Parameters
    ----------
    {sampling_strategy}
    n_neighbors : int or object, default=3
        Largest neighbourhood (an object's ``n_neighbors`` counts the row itself).
    kind_sel : {'all', 'mode'}, default='all'
        Rule of each round (see :class:`EditedNearestNeighbours`).
    allow_minority : bool, default=False
        Whether a majority class may become smaller than the minority without stopping.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    nn_ : estimator object
        ``NearestNeighbors(n_neighbors + 1)`` (or a clone of the given object).
    enn_ : sampler object
        The :class:`EditedNearestNeighbours` of the rounds.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept, class by class in sorted class order.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import AllKNN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0.8).astype(int)
    >>> X_res, y_res = AllKNN().fit_resample(X, y)
    >>> bool(len(y_res) < len(y))
    True
    """

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        "n_neighbors": N_NEIGHBORS_CONSTRAINT,
        "kind_sel": [StrOptions({"all", "mode"})],
        "allow_minority": ["boolean"],
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        n_neighbors=3,
        kind_sel="all",
        allow_minority=False,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_neighbors = n_neighbors
        self.kind_sel = kind_sel
        self.allow_minority = allow_minority
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _resample(self, X, y, classes, codes, counts):
        self.nn_ = check_neighbors_object("n_neighbors", self.n_neighbors, additional_neighbor=1)
        self.enn_ = _rounds_enn(self)
        X_, y_ = X, y
        class_minority, target_stats = first_seen_minority(y)
        self.sample_indices_ = np.arange(X.shape[0], dtype=int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for curr_size_ngh in range(1, self.nn_.n_neighbors):
                self.enn_.n_neighbors = curr_size_ngh
                X_enn, y_enn = self.enn_.fit_resample(X_, y_)
                b_min_bec_maj, b_remove_maj_class = _stop_flags(y_enn, class_minority, target_stats)
                if self.allow_minority:
                    b_min_bec_maj = False
                X_, y_ = X_enn, y_enn
                self.sample_indices_ = self.sample_indices_[self.enn_.sample_indices_]
                if b_min_bec_maj or b_remove_maj_class:
                    break
        warn_emptied(classes, counts, codes[self.sample_indices_], len(classes))
        return X_, y_
