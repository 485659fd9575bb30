"""SMOTE followed by a cleaning step (ENN or Tomek links), as in imbalanced-learn."""

from __future__ import annotations

from imblearn.base import BaseSampler
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from equipoise.base import SamplerMixin
from equipoise.neighbors._select import (
    NEIGHBOR_SAMPLER_CONSTRAINTS,
    check_neighbors,
)
from equipoise.over_sampling import SMOTE
from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks
from equipoise.utils._docstring import FEATURES_IN, N_JOBS, Substitution, neighbors_paragraph
from equipoise.utils._validation import SAMPLER_CONSTRAINT


class _SmoteThenClean(SamplerMixin, BaseSampler):
    # A BaseSampler that over-samples, as imbalanced-learn's combined samplers (not a
    # BaseOverSampler: the cleaning step may leave classes below the majority's size).
    _sampling_type = "over-sampling"
    _cleaner_name: str

    # Its rows are SMOTE's output filtered by a cleaner: a frame output is rebuilt from them.
    _rebuilds_rows = True

    def _check_X(self, X):
        return validate_data(self, X=X, reset=True, accept_sparse=["csr", "csc"])

    def _smote(self):
        if self.smote is not None:
            return clone(self.smote)
        return SMOTE(
            sampling_strategy=self.sampling_strategy,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            neighbors=self.neighbors,
        )

    def _validate_estimator(self):
        """Build ``smote_`` and the cleaner (``enn_`` / ``tomek_``), as imbalanced-learn's method
        of the same name does (callers of that private method find the same attributes)."""
        self.smote_ = self._smote()
        given = getattr(self, self._cleaner_name)
        cleaner = clone(given) if given is not None else self._default_cleaner()
        setattr(self, self._cleaner_name + "_", cleaner)
        return cleaner

    def _resample(self, X, y, classes, codes, counts):
        check_neighbors(self.neighbors)
        cleaner = self._validate_estimator()
        # imbalanced-learn stores the raw parameter here.
        self.sampling_strategy_ = self.sampling_strategy
        # The new rows' segments go from SMOTE to the cleaner (both fresh clones of this call):
        # the same rows are kept, found with far fewer searches (docs/design.md, "SMOTE's
        # segments"). Other samplers in either place ignore them.
        self.smote_._record_segments = True
        X_res, y_res = self.smote_.fit_resample(X, y)
        segments = self.smote_.__dict__.pop("_segments_", None)
        del self.smote_._record_segments
        if segments is not None:
            cleaner._segments = (X_res.shape[0] - segments.shape[0], segments)
        try:
            return cleaner.fit_resample(X_res, y_res)
        finally:
            cleaner.__dict__.pop("_segments", None)


@Substitution(
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of the default SMOTE and the default EditedNearestNeighbours (a"
        " given ``smote`` or ``enn`` keeps its own)",
        "are exact (imbalanced-learn's result)",
        "uses an approximate HNSW index in both steps (slower than the exact path on every data"
        " family measured)",
    ),
)
class SMOTEENN(_SmoteThenClean):
    """Over-sample with SMOTE, then clean with Edited Nearest Neighbours, as in imbalanced-learn.

    Both steps are equipoise's by default (exact neighbours in the Rust core); imbalanced-learn's
    own ``SMOTE`` / ``EditedNearestNeighbours`` objects, or any sampler, are accepted too.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        SMOTE's target (see :class:`equipoise.over_sampling.SMOTE`).
    random_state : int, RandomState instance or None, default=None
        Seed of the default SMOTE.
    smote : sampler object, default=None
        The over-sampler; default ``SMOTE(sampling_strategy, random_state, n_jobs)``.
    enn : sampler object, default=None
        The cleaner; default ``EditedNearestNeighbours(sampling_strategy='all', n_jobs=n_jobs,
        neighbors=neighbors)``.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : same as ``sampling_strategy``
        The raw parameter, as imbalanced-learn stores it.
    smote_ : sampler object
        The fitted over-sampler.
    enn_ : sampler object
        The fitted cleaner.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.combine import SMOTEENN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (np.arange(200) < 20).astype(int)
    >>> X_res, y_res = SMOTEENN(random_state=0).fit_resample(X, y)
    >>> bool(len(y_res) < 360)
    True
    """

    _cleaner_name = "enn"
    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "smote": SAMPLER_CONSTRAINT,
        "enn": SAMPLER_CONSTRAINT,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        smote=None,
        enn=None,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__()
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.smote = smote
        self.enn = enn
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _default_cleaner(self):
        return EditedNearestNeighbours(
            sampling_strategy="all", n_jobs=self.n_jobs, neighbors=self.neighbors
        )


@Substitution(
    n_jobs=N_JOBS,
    features_in=FEATURES_IN,
    neighbors=neighbors_paragraph(
        "The neighbour index of the default SMOTE and the default TomekLinks (a given ``smote``"
        " or ``tomek`` keeps its own)",
        "are exact (imbalanced-learn's result)",
        "uses an approximate HNSW index in both steps (slower than the exact path on every data"
        " family measured)",
    ),
)
class SMOTETomek(_SmoteThenClean):
    """Over-sample with SMOTE, then remove Tomek links, as in imbalanced-learn.

    Both steps are equipoise's by default (exact neighbours in the Rust core); imbalanced-learn's
    own ``SMOTE`` / ``TomekLinks`` objects, or any sampler, are accepted too.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        SMOTE's target (see :class:`equipoise.over_sampling.SMOTE`).
    random_state : int, RandomState instance or None, default=None
        Seed of the default SMOTE.
    smote : sampler object, default=None
        The over-sampler; default ``SMOTE(sampling_strategy, random_state, n_jobs)``.
    tomek : sampler object, default=None
        The cleaner; default ``TomekLinks(sampling_strategy='all', n_jobs=n_jobs,
        neighbors=neighbors)``.
    {n_jobs}
    {neighbors}

    Attributes
    ----------
    sampling_strategy_ : same as ``sampling_strategy``
        The raw parameter, as imbalanced-learn stores it.
    smote_ : sampler object
        The fitted over-sampler.
    tomek_ : sampler object
        The fitted cleaner.
    {features_in}

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.combine import SMOTETomek
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (np.arange(200) < 20).astype(int)
    >>> X_res, y_res = SMOTETomek(random_state=0).fit_resample(X, y)
    >>> bool(len(y_res) <= 360)
    True
    """

    _cleaner_name = "tomek"
    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "smote": SAMPLER_CONSTRAINT,
        "tomek": SAMPLER_CONSTRAINT,
        **NEIGHBOR_SAMPLER_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        smote=None,
        tomek=None,
        n_jobs=None,
        neighbors="auto",
    ):
        super().__init__()
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.smote = smote
        self.tomek = tomek
        self.n_jobs = n_jobs
        self.neighbors = neighbors

    def _default_cleaner(self):
        return TomekLinks(sampling_strategy="all", n_jobs=self.n_jobs, neighbors=self.neighbors)
