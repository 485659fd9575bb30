"""Tomek links, found exactly in the Rust core."""

from __future__ import annotations

from imblearn import under_sampling as imblearn_under
from imblearn.under_sampling.base import BaseCleaningSampler
from sklearn.utils import _safe_indexing

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import NEIGHBOR_SAMPLER_CONSTRAINTS
from equipoise.under_sampling._cleaning import (
    CleaningMixin,
    check_enough_rows,
    segments_for,
    tomek_on_graph,
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
        "The neighbour index",
        "run the core's exact search (imbalanced-learn's result)",
        "takes each row's nearest neighbour from an approximate HNSW index and removes the same"
        " links (mutual nearest neighbours of different classes); slower than the exact path on"
        " every data family measured, kept for users who ask for it",
        "when ``X`` is sparse",
    ),
)
class TomekLinks(CleaningMixin, BaseCleaningSampler):
    """Remove the targeted-class rows of Tomek links, as in imbalanced-learn.

    Two rows of different classes form a Tomek link when each is the other's nearest neighbour.
    Nearest neighbours are exact Euclidean, the row itself excluded by index, equal distances going
    to the lower row index (imbalanced-learn takes scikit-learn's second neighbour, which differs
    only when rows lie at distance 0 from each other). Most rows are settled without a search: the
    nearest row of their own class nearby is closer than any row of another class.

    Parameters
    ----------
    {sampling_strategy}
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : dict
        The targeted classes.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Rows kept, in row order.
    {features_in}

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

    _imblearn_class = imblearn_under.TomekLinks

    def _core_k(self):
        return 1  # each row's nearest neighbour

    def _resample_core(self, X, Xf, y, classes, codes, counts, k, spec):
        check_enough_rows(2, X.shape[0])
        targeted = self._targeted(classes)
        if spec.exact:
            threads = threads_from(self.n_jobs)
            idx = _core.tomek_links(
                Xf, codes, len(classes), targeted, threads, *segments_for(self, Xf)
            )
        else:
            idx = tomek_on_graph(Xf, codes, targeted, spec, self.n_jobs)
        X_res, y_res = take_rows(X, idx, threads_from(self.n_jobs)), _safe_indexing(y, idx)
        self.sample_indices_ = idx
        warn_emptied(classes, counts, codes[idx], len(classes))
        return X_res, y_res
