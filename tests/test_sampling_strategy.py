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


_LABEL_CASES = [
    *(np.random.default_rng(0).integers(-5, 5, 1000).astype(t) for t in ("i1", "i2", "i4", "i8")),
    # Above the core's block size, so its counts and codes run in parallel blocks.
    *(np.random.default_rng(1).integers(0, 7, 300_000).astype(t) for t in ("u1", "u2", "u4", "u8")),
    # Parallel blocks, and values absent from the span between the extremes (codes are ranks).
    np.random.default_rng(4).integers(-3, 4, 300_000).astype("i4") * 3,
    np.random.default_rng(2).integers(0, 2, 100).astype(bool),
    np.array([2**64 - 1, 5, 2**64 - 1], dtype=np.uint64),  # a span too wide for the table
    np.array([2**64 - 1, 2**64 - 5001, 2**64 - 1], dtype=np.uint64),
    np.array([-(2**63), 2**63 - 1, 0]),
    np.random.default_rng(3).integers(0, 3, 11)[::2],  # not contiguous
    np.array([3, 1, 3], dtype=np.longlong),
    np.array([1, 2, 1], dtype=">i8"),  # not in the machine's byte order
    np.array([7]),
    np.array(["b", "a", "b"]),
    np.array([0.5, -1.0, 0.5]),
]


@pytest.mark.parametrize("y", _LABEL_CASES, ids=lambda y: f"{y.dtype.str}-{y.size}")
def test_label_codes_equal_np_unique(y):
    """The core's table coding of integer labels gives what np.unique gives: classes in order and
    of y's dtype, each label's rank among them, and the counts."""
    from equipoise.utils._validation import encode_labels

    classes, codes, counts = encode_labels(y)
    ref_classes, ref_codes, ref_counts = np.unique(y, return_inverse=True, return_counts=True)
    assert classes.dtype == ref_classes.dtype
    np.testing.assert_array_equal(classes, ref_classes)
    assert codes.dtype == np.uint32
    np.testing.assert_array_equal(codes, ref_codes.reshape(-1))
    assert counts.dtype == ref_counts.dtype
    np.testing.assert_array_equal(counts, ref_counts)


@pytest.mark.parametrize("y", _LABEL_CASES, ids=lambda y: f"{y.dtype.str}-{y.size}")
def test_grown_labels_are_y_then_each_class_repeated(y):
    """An over-sampler's output labels (integer labels made by the core, others by numpy): y,
    then each class repeated its number of new rows, in class order, of y's dtype."""
    from equipoise.over_sampling._smote import _grown_labels
    from equipoise.utils._validation import encode_labels

    classes, _, counts = encode_labels(y)
    n_new = [int(i * 3 + (i % 2) * 70_000) for i in range(len(classes))]
    got = _grown_labels(y, classes, n_new)
    want = np.concatenate([y, np.repeat(classes, n_new)])
    assert got.dtype == y.dtype
    np.testing.assert_array_equal(got, want)
