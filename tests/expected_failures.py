"""The estimator checks equipoise's samplers are expected to fail: only checks that
imbalanced-learn's own sampler of the same name fails too (tests/test_estimator_checks.py runs the
same check on imbalanced-learn's sampler to show it), each with its reason."""

#: {sampler class name: {check name: reason}}
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "SMOTENC": {
        # The check feeds one string column, i.e. data with no numeric feature: SMOTE-NC refuses
        # it (pointing to SMOTEN), as imbalanced-learn's does. (imbalanced-learn leaves SMOTENC
        # out of its own common checks altogether.)
        "check_samplers_string": "all-categorical data is SMOTEN's; SMOTENC refuses it",
    },
}


def expected_failed_checks(estimator) -> dict[str, str]:
    return dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
