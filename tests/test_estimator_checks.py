"""Estimator checks on every equipoise estimator: imbalanced-learn's (``check_samplers_*``) and
scikit-learn's own ``check_estimator`` (via ``parametrize_with_checks``), in full.

The only expected failures are in ``expected_failures.py``; each is shown to fail on
imbalanced-learn's own sampler too (``test_expected_failures_fail_on_imblearn_too``).
"""

import pytest
from expected_failures import EXPECTED_FAILED_CHECKS, expected_failed_checks
from imblearn import combine as imb_combine
from imblearn import over_sampling as imb_over
from imblearn import under_sampling as imb_under
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    parametrize_with_checks as sklearn_parametrize_with_checks,
)

from equipoise.combine import SMOTEENN, SMOTETomek
from equipoise.neighbors import NearestNeighbors
from equipoise.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    BorderlineSMOTE,
    RandomOverSampler,
)
from equipoise.under_sampling import (
    AllKNN,
    CondensedNearestNeighbour,
    EditedNearestNeighbours,
    NeighbourhoodCleaningRule,
    OneSidedSelection,
    RandomUnderSampler,
    RepeatedEditedNearestNeighbours,
    TomekLinks,
)

# Seeded, as imbalanced-learn's own test suite seeds its estimators: several checks compare two runs
# on differently typed copies of the data, which imbalanced-learn's samplers fail too when unseeded.
ESTIMATORS = [
    SMOTE(random_state=0),
    RandomOverSampler(random_state=0),
    RandomUnderSampler(random_state=0),
    BorderlineSMOTE(random_state=0),
    BorderlineSMOTE(kind="borderline-2", random_state=0),
    ADASYN(random_state=0),
    SMOTENC(categorical_features=[0], random_state=0),
    SMOTEN(random_state=0),
    EditedNearestNeighbours(),
    RepeatedEditedNearestNeighbours(),
    AllKNN(),
    TomekLinks(),
    NeighbourhoodCleaningRule(),
    OneSidedSelection(random_state=0),
    CondensedNearestNeighbour(random_state=0),
    SMOTEENN(random_state=0),
    SMOTETomek(random_state=0),
]


def _as_list(mark):
    # imbalanced-learn and scikit-learn hand pytest a generator, which pytest 9 deprecates; the
    # same mark with a list.
    args = list(mark.args)
    args[1] = list(args[1])
    return pytest.mark.parametrize(*args, **mark.kwargs)


# SMOTEN warns that it reads a sparse matrix densely, as imbalanced-learn's does (imbalanced-learn's
# own suite runs these checks with its UserWarnings ignored).
SMOTEN_SPARSE = "ignore:Passing a sparse matrix to SMOTEN:sklearn.exceptions.DataConversionWarning"


@pytest.mark.filterwarnings(SMOTEN_SPARSE)
@_as_list(parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks))
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings(SMOTEN_SPARSE)
@_as_list(
    sklearn_parametrize_with_checks(
        [*ESTIMATORS, NearestNeighbors()], expected_failed_checks=expected_failed_checks
    )
)
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's own check_estimator, in full."""
    check(estimator)


def _imblearn_twin(estimator):
    """imbalanced-learn's sampler of the same name, with the same imbalanced-learn parameters."""
    name = type(estimator).__name__
    for module in (imb_over, imb_under, imb_combine):
        if hasattr(module, name):
            cls = getattr(module, name)
            break
    params = (
        {k: v for k, v in estimator.get_params().items() if k in cls().get_params()}
        if (name != "SMOTENC")
        else {"categorical_features": estimator.categorical_features, "random_state": 0}
    )
    return cls(**params)


def _find_check(estimator, check_name):
    """(estimator, check) named ``check_name`` among imbalanced-learn's and scikit-learn's checks
    of ``estimator``."""
    for make in (parametrize_with_checks, sklearn_parametrize_with_checks):
        for item in make([estimator]).args[1]:
            est, check = getattr(item, "values", item)
            func = check
            while hasattr(func, "func"):
                func = func.func
            if func.__name__ == check_name:
                return est, check
    raise LookupError(f"no check {check_name} for {estimator}")


@pytest.mark.parametrize(
    "estimator, check_name",
    [(e, c) for e in ESTIMATORS for c in expected_failed_checks(e)],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_expected_failures_fail_on_imblearn_too(estimator, check_name):
    """Every expected failure is a check imbalanced-learn's own sampler fails too."""
    est, check = _find_check(_imblearn_twin(estimator), check_name)
    with pytest.raises(Exception):  # noqa: B017 - any failure of the check
        check(clone(est))


def test_expected_failures_are_listed_by_class_name():
    names = {type(e).__name__ for e in ESTIMATORS}
    assert set(EXPECTED_FAILED_CHECKS) <= names
