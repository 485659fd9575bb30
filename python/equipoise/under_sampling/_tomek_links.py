"""Tomek links, found exactly in the Rust core."""

from __future__ import annotations

from imblearn import under_sampling as imblearn_under
from imblearn.under_sampling.base import BaseCleaningSampler
from sklearn.utils import _safe_indexing

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import (
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    check_neighbors,
)
from equipoise.under_sampling._cleaning import (
    CleaningMixin,
    check_enough_rows,
    core_floats,
    tomek_on_graph,
    warn_emptied,
)
from equipoise.utils._validation import threads_from


class TomekLinks(CleaningMixin, BaseCleaningSampler):
    """Remove the targeted-class rows of Tomek links, as in imbalanced-learn.

    Two rows of different classes form a Tomek link when each is the other's nearest neighbour.
    Nearest neighbours are exact Euclidean, the row itself excluded by index, equal distances going
    to the lower row index (imbalanced-learn takes scikit-learn's second neighbour, which differs
    only when rows lie at distance 0 from each other). Most rows are settled without a search: the
    nearest row of their own class nearby is closer than any row of another class.

    Parameters
    ----------
    sampling_strategy : str, list or callable, default='auto'
        Classes whose linked rows are removed: 'majority', 'not minority', 'not majority', 'all',
        'auto' (= 'not minority'), or a list of classes.
    n_jobs : int, default=None
        Threads of the core (None or -1: every core).
    neighbors : {'auto', 'exact', 'kdtree', 'hnsw'} or dict, default='auto'
        The neighbour index: 'auto', 'exact' and 'kdtree' run the core's exact search
        (imbalanced-learn's result); 'hnsw' takes each row's nearest neighbour from an approximate
        HNSW index and removes the same links (mutual nearest neighbours of different classes),
        much faster on large data (on the fraud-like data of ``benches/`` over 99% of the kept
        rows agree with the exact run); a dict such as ``{"algorithm": "hnsw", "M": 16,
        "ef_construction": 200, "ef_search": 64, "seed": 0}`` sets HNSW's options. Ignored when
        ``X`` is sparse. (An addition to imbalanced-learn's parameters.)

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept, in row order.
    n_features_in_ : int
        Number of features seen in ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.under_sampling import TomekLinks
    >>> X = np.array([[0.0], [1.0], [1.4], [3.0], [3.2]]); y = np.array([0, 0, 1, 0, 0])
    >>> TomekLinks().fit_resample(X, y)[1].tolist()
    [0, 1, 0, 0]
    """

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(self, *, sampling_strategy="auto", n_jobs=None, neighbors="auto"):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _resample(self, X, y, classes, codes, counts):
        spec = check_neighbors(self.neighbors)
        Xf = core_floats(X)
        if Xf is None:
            ref = imblearn_under.TomekLinks(
                sampling_strategy=self.sampling_strategy, n_jobs=self.n_jobs
            )
            ref.sampling_strategy_ = self.sampling_strategy_
            X_res, y_res = ref._fit_resample(X, y)
            idx = ref.sample_indices_
        else:
            check_enough_rows(2, X.shape[0])
            targeted = self._targeted(classes)
            if spec.exact:
                idx = _core.tomek_links(
                    Xf, codes, len(classes), targeted, threads_from(self.n_jobs)
                )
            else:
                idx = tomek_on_graph(Xf, codes, targeted, spec, self.n_jobs)
            X_res, y_res = take_rows(X, idx, threads_from(self.n_jobs)), _safe_indexing(y, idx)
        self.sample_indices_ = idx
        warn_emptied(classes, counts, codes[idx], len(classes))
        return X_res, y_res

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.sampler_tags.sample_indices = True
        return tags
