"""equipoise's sampling_strategy computation equals imbalanced-learn's, form by form."""

import numpy as np
import pytest
from imblearn.utils import check_sampling_strategy as imb_check

from equipoise.utils import check_sampling_strategy

Y_BINARY = np.array([0] * 90 + [1] * 10)
Y_MULTI = np.array([3] * 50 + [1] * 30 + [7] * 15 + [2] * 5)
Y_STR = np.array(["maj"] * 40 + ["mid"] * 25 + ["min"] * 5)
Y_TIED = np.array([0] * 20 + [1] * 20 + [2] * 5 + [3] * 5)  # tied majority and minority


def _forms(y):
    classes, counts = np.unique(y, return_counts=True)
    big = {classes[0]: int(counts.max()) + 7}
    small = {classes[-1]: int(counts.min()) - 1}
    return [
        "auto",
        "minority",
        "majority",
        "not minority",
        "not majority",
        "all",
        0.5,
        1.0,
        0.01,
        big,
        small,
        {c: int(n) for c, n in zip(classes, counts)},
        [classes[0]],
        lambda y: {np.unique(y)[0]: int(np.sum(y == np.unique(y)[0]))},
        "unknown",
        {"absent-class": 3},
        -0.5,
    ]


def _outcome(fn, *args):
    try:
        return ("ok", dict(fn(*args)))
    except (ValueError, TypeError) as e:
        return ("error", type(e))


@pytest.mark.parametrize(
    "y", [Y_BINARY, Y_MULTI, Y_STR, Y_TIED], ids=["bin", "multi", "str", "tied"]
)
@pytest.mark.parametrize("kind", ["over-sampling", "under-sampling", "clean-sampling"])
def test_equal_to_imblearn_for_every_form(y, kind):
    for form in _forms(y):
        ours = _outcome(check_sampling_strategy, form, y, kind)
        theirs = _outcome(imb_check, form, y, kind)
        assert ours == theirs, (form, kind)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="more than 1 class"):
        check_sampling_strategy("auto", np.zeros(10), "over-sampling")


def test_result_is_sorted_by_class():
    out = check_sampling_strategy("all", Y_MULTI, "over-sampling")
    assert list(out) == sorted(out)
