"""equipoise: fast resampling for imbalanced classification.

A drop-in for imbalanced-learn's samplers (same class names, parameters, ``fit_resample`` and
``sampling_strategy``) with the algorithms in a parallel Rust core::

    from equipoise.over_sampling import SMOTE        # was: from imblearn.over_sampling import SMOTE
    X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
"""

from equipoise import combine, datasets, neighbors, over_sampling, sampling, under_sampling
from equipoise._core import __version__

__all__ = [
    "__version__",
    "combine",
    "datasets",
    "neighbors",
    "over_sampling",
    "sampling",
    "under_sampling",
]
