"""imbalanced-learn's ``utils/_test_common/instance_generator`` for its ``tests/test_common.py``,
over equipoise's samplers: the same constructor parameters (imbalanced-learn's ``INIT_PARAMS``,
looked up by class name), the same check ids, and the expected failures of
``tests/test_estimator_checks.py`` (only checks imbalanced-learn's own samplers fail too).
"""

from expected_failures import expected_failed_checks
from imblearn.utils._test_common import instance_generator as imblearn_instances

import equipoise.combine
import equipoise.over_sampling
import equipoise.under_sampling

_get_check_estimator_ids = imblearn_instances._get_check_estimator_ids

_INIT_PARAMS = {cls.__name__: params for cls, params in imblearn_instances.INIT_PARAMS.items()}


def equipoise_samplers():
    """Every sampler class equipoise implements, in a stable order."""
    out = []
    for module in (equipoise.over_sampling, equipoise.under_sampling, equipoise.combine):
        out += [getattr(module, name) for name in sorted(module.__all__)]
    return out


def _tested_estimators(type_filter=None):
    # imbalanced-learn leaves its own SMOTENC out of these checks (it cannot build one that takes
    # the checks' all-numeric data); equipoise's is included, with the parameters imbalanced-learn
    # lists for it.
    for cls in equipoise_samplers():
        params = _INIT_PARAMS.get(cls.__name__, {})
        for p in params if isinstance(params, list) else [params]:
            yield cls(**p)


def _get_expected_failed_checks(estimator):
    return expected_failed_checks(estimator)
