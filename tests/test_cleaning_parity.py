"""Exact parity of the deterministic cleaning methods with imbalanced-learn, on every bundled
dataset (binary and multiclass) and a small 5-class fraud-like set, for each sampling_strategy form.

Where the two disagree, the test shows that the disagreement is a tie (docs/design.md, Ties): equal
float64 distances at the edge of the neighbourhood that decides it, or a zero-distance duplicate,
which imbalanced-learn and equipoise resolve differently (equipoise: the row itself excluded by
index, equal distances to the lower row index). "Equal" allows 1e-12 relative, the rounding of a
different summation order.
"""

import numpy as np
import pytest
from conftest import NUMERIC
from imblearn import combine as ic
from imblearn import over_sampling as io
from imblearn import under_sampling as iu

from equipoise import combine as ec
from equipoise import datasets
from equipoise import over_sampling as eo
from equipoise import under_sampling as eu

# Some forms empty a small class; equipoise warns about it (tested in test_cleaning_input.py).
pytestmark = pytest.mark.filterwarnings("ignore:the cleaning removed every row:UserWarning")


def _fraud5(n=3000):
    X, y = datasets.make_fraud_multiclass(n)
    return X.astype(np.float64), y


_CACHE = {}


def data(name):
    if name not in _CACHE:
        if name == "fraud5":
            _CACHE[name] = _fraud5()
        else:
            X, y, _ = datasets.load(name, numeric_only=True)
            _CACHE[name] = (X, y)
    X, y = _CACHE[name]
    return X.copy(), y.copy()


ALL_DATA = [*NUMERIC, "fraud5"]
SMALL = [
    n for n in ALL_DATA if n not in ("mammography", "pen_digits", "satimage", "optical_digits")
]
MULTI = ["glass", "fraud5"]


def strategies(y):
    classes, counts = np.unique(y, return_counts=True)
    forms = ["auto", "all", "majority", "not minority", "not majority"]
    minority = classes[np.argmin(counts)]
    majority = classes[np.argmax(counts)]
    return [*forms, [majority], [minority], sorted({minority, majority, classes[0]})]


def sorted_dists(X, i):
    d = np.sqrt(((X - X[i]) ** 2).sum(axis=1))
    d[i] = np.inf
    return np.sort(d)[:-1]


def close(a, b):
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def tie_at(X, i, k):
    """Row i's k-th and (k+1)-th nearest other rows are equally far, or a duplicate of it exists."""
    d = sorted_dists(X, i)
    if d.size and d[0] == 0.0:
        return True
    return any(close(d[j - 1], d[j]) for j in range(max(k - 1, 1), min(k + 1, d.size)))


def assert_only_ties(a_idx, b_idx, n, explain):
    a = np.zeros(n, bool)
    b = np.zeros(n, bool)
    a[a_idx] = True
    b[b_idx] = True
    diff = np.flatnonzero(a != b)
    bad = [i for i in diff if not explain(i)]
    assert not bad, f"{len(bad)} disagreements that are not ties, e.g. rows {bad[:5]}"
    return diff.size


def same_order(a_idx, b_idx):
    """Both lists in the same order on their common rows (class-grouped / row order)."""
    common = np.intersect1d(a_idx, b_idx)
    return np.array_equal(a_idx[np.isin(a_idx, common)], b_idx[np.isin(b_idx, common)])


@pytest.mark.parametrize("name", ALL_DATA)
@pytest.mark.parametrize("kind_sel", ["all", "mode"])
def test_enn_matches_imblearn(name, kind_sel):
    X, y = data(name)
    forms = strategies(y) if name in MULTI or name in ("ecoli", "pima") else ["auto", "all"]
    for form in forms:
        for k in (1, 3, 5) if form == "auto" and name in SMALL else (3,):
            ref = iu.EditedNearestNeighbours(
                sampling_strategy=form, n_neighbors=k, kind_sel=kind_sel
            )
            ours = eu.EditedNearestNeighbours(
                sampling_strategy=form, n_neighbors=k, kind_sel=kind_sel
            )
            Xr, yr = ref.fit_resample(X, y)
            Xo, yo = ours.fit_resample(X, y)
            n_diff = assert_only_ties(
                ref.sample_indices_, ours.sample_indices_, len(y), lambda i, k=k: tie_at(X, i, k)
            )
            if n_diff == 0:
                np.testing.assert_array_equal(ref.sample_indices_, ours.sample_indices_)
                np.testing.assert_array_equal(Xr, Xo)
                np.testing.assert_array_equal(yr, yo)
            else:
                assert same_order(ref.sample_indices_, ours.sample_indices_)
            assert ours.sampling_strategy_ == ref.sampling_strategy_
            assert ours.nn_.n_neighbors == ref.nn_.n_neighbors == k + 1


@pytest.mark.parametrize("offset", [300.0, -1e4])
def test_cleaners_match_imblearn_on_float32_far_from_the_origin(offset):
    """float32 rows far from the origin compared with their spread, where equipoise's float32
    pass 1 runs on rows shifted by their mean (docs/design.md, "The shift"): the same rows as
    imbalanced-learn, whose search upcasts to float64."""
    rng = np.random.default_rng(7)
    y = (rng.random(3000) < 0.2).astype(np.int64)
    X = rng.standard_normal((3000, 20)) + 0.7 * y[:, None] + offset
    X = X.astype(np.float32)
    for ref, ours in [
        (iu.EditedNearestNeighbours(), eu.EditedNearestNeighbours()),
        (iu.TomekLinks(), eu.TomekLinks()),
    ]:
        ref.fit_resample(X, y)
        ours.fit_resample(X, y)
        assert len(ours.sample_indices_) < len(y)
        np.testing.assert_array_equal(ref.sample_indices_, ours.sample_indices_)


@pytest.mark.parametrize("name", ALL_DATA)
def test_tomek_links_match_imblearn(name):
    X, y = data(name)
    forms = strategies(y) if name in MULTI or name in ("ecoli", "pima") else ["auto", "all"]
    for form in forms:
        ref = iu.TomekLinks(sampling_strategy=form)
        ours = eu.TomekLinks(sampling_strategy=form)
        ref.fit_resample(X, y)
        ours.fit_resample(X, y)

        def tie(i):
            d = sorted_dists(X, i)
            j = int(
                np.argsort(
                    np.sqrt(((X - X[i]) ** 2).sum(1)) + np.where(np.arange(len(y)) == i, np.inf, 0)
                )[0]
            )
            dj = sorted_dists(X, j)
            return d[0] == 0 or close(d[0], d[1]) or dj[0] == 0 or close(dj[0], dj[1])

        n_diff = assert_only_ties(ref.sample_indices_, ours.sample_indices_, len(y), tie)
        if n_diff == 0:
            np.testing.assert_array_equal(ref.sample_indices_, ours.sample_indices_)


def _round_by_round(X, y, rounds, enn_params, sampling_strategy):
    """Run imbalanced-learn's ENN rounds; at each, equipoise's ENN on the same input must select
    the same rows up to ties. Returns whether any round disagreed."""
    any_diff = False
    X_, y_ = X, y
    for k in rounds:
        ref = iu.EditedNearestNeighbours(
            sampling_strategy=sampling_strategy, n_neighbors=k, **enn_params
        )
        ours = eu.EditedNearestNeighbours(
            sampling_strategy=sampling_strategy, n_neighbors=k, **enn_params
        )
        X_n, y_n = ref.fit_resample(X_, y_)
        ours.fit_resample(X_, y_)
        n = assert_only_ties(
            ref.sample_indices_,
            ours.sample_indices_,
            len(y_),
            lambda i, Xc=X_, k=k: tie_at(Xc, i, k),
        )
        any_diff |= n > 0
        if len(y_n) == len(y_) or len(np.unique(y_n)) < len(np.unique(y)):
            break
        X_, y_ = X_n, y_n
    return any_diff


@pytest.mark.parametrize("name", SMALL)
def test_renn_matches_imblearn(name):
    X, y = data(name)
    for form in ["auto", "all"] if name not in MULTI else ["auto", "all", "not majority"]:
        ref = iu.RepeatedEditedNearestNeighbours(sampling_strategy=form)
        ours = eu.RepeatedEditedNearestNeighbours(sampling_strategy=form)
        Xr, _ = ref.fit_resample(X, y)
        Xo, _ = ours.fit_resample(X, y)
        if not np.array_equal(ref.sample_indices_, ours.sample_indices_):
            assert _round_by_round(X, y, [3] * ref.n_iter_, {}, form), "differs without a tie"
        else:
            assert ours.n_iter_ == ref.n_iter_
            np.testing.assert_array_equal(Xr, Xo)


@pytest.mark.parametrize("name", SMALL)
def test_allknn_matches_imblearn(name):
    X, y = data(name)
    for form, allow in [("auto", False), ("all", False), ("auto", True)]:
        ref = iu.AllKNN(sampling_strategy=form, allow_minority=allow)
        ours = eu.AllKNN(sampling_strategy=form, allow_minority=allow)
        ref.fit_resample(X, y)
        ours.fit_resample(X, y)
        if not np.array_equal(ref.sample_indices_, ours.sample_indices_):
            assert _round_by_round(X, y, [1, 2, 3], {}, form), "differs without a tie"


@pytest.mark.parametrize("name", ALL_DATA)
def test_ncr_matches_imblearn(name):
    X, y = data(name)
    forms = ["auto", "all", "not majority"] if name in MULTI else ["auto"]
    for form in forms:
        ref = iu.NeighbourhoodCleaningRule(sampling_strategy=form)
        ours = eu.NeighbourhoodCleaningRule(sampling_strategy=form)
        ref.fit_resample(X, y)
        ours.fit_resample(X, y)
        assert ours.classes_to_clean_ == ref.classes_to_clean_
        values, counts = np.unique(y, return_counts=True)

        def tie(i, values=values, counts=counts):
            if tie_at(X, i, 3):
                return True
            # A neighbour of a minority row whose neighbourhood (or vote) has a tie.
            for m in np.flatnonzero(np.isin(y, values[counts == counts.min()])):
                d = sorted_dists(X, m)
                dist_i = np.sqrt(((X[m] - X[i]) ** 2).sum())
                if dist_i <= d[3] * (1 + 1e-12) and (
                    d[0] == 0 or tie_at(X, m, 2) or tie_at(X, m, 3)
                ):
                    return True
            return False

        n_diff = assert_only_ties(ref.sample_indices_, ours.sample_indices_, len(y), tie)
        if n_diff == 0:
            np.testing.assert_array_equal(ref.sample_indices_, ours.sample_indices_)


@pytest.mark.parametrize("name", ["ecoli", "glass", "yeast_me2", "fraud5"])
@pytest.mark.parametrize("which", ["enn", "tomek"])
def test_combined_cleaning_step_matches_on_the_same_smote_output(name, which):
    X, y = data(name)
    X_s, y_s = eo.SMOTE(random_state=0).fit_resample(X, y)
    X_i, y_i = io.SMOTE(random_state=0).fit_resample(X, y)
    # Same class counts after the SMOTE step (decision 2).
    np.testing.assert_array_equal(
        np.unique(y_s, return_counts=True), np.unique(y_i, return_counts=True)
    )
    if which == "enn":
        ours = ec.SMOTEENN(random_state=0)
        ref_clean, our_clean = (
            iu.EditedNearestNeighbours(sampling_strategy="all"),
            eu.EditedNearestNeighbours(sampling_strategy="all"),
        )
    else:
        ours = ec.SMOTETomek(random_state=0)
        ref_clean, our_clean = (
            iu.TomekLinks(sampling_strategy="all"),
            eu.TomekLinks(sampling_strategy="all"),
        )
    X_o, y_o = ours.fit_resample(X, y)
    # The combined sampler is equipoise's SMOTE followed by its cleaner ...
    X_m, y_m = our_clean.fit_resample(X_s, y_s)
    np.testing.assert_array_equal(X_o, X_m)
    np.testing.assert_array_equal(y_o, y_m)
    # ... whose selection on that SMOTE output is imbalanced-learn's, up to ties.
    ref_clean.fit_resample(X_s, y_s)
    k = 3 if which == "enn" else 1
    assert_only_ties(
        ref_clean.sample_indices_, our_clean.sample_indices_, len(y_s), lambda i: tie_at(X_s, i, k)
    )


@pytest.mark.parametrize("cls", ["SMOTEENN", "SMOTETomek"])
def test_combined_accepts_imblearn_steps(cls):
    X, y = data("ecoli")
    ref = getattr(ic, cls)(random_state=0)
    key = "enn" if cls == "SMOTEENN" else "tomek"
    cleaner = (
        iu.EditedNearestNeighbours(sampling_strategy="all")
        if key == "enn"
        else iu.TomekLinks(sampling_strategy="all")
    )
    ours = getattr(ec, cls)(smote=io.SMOTE(random_state=0), **{key: cleaner})
    Xr, yr = ref.fit_resample(X, y)
    Xo, yo = ours.fit_resample(X, y)
    np.testing.assert_array_equal(Xr, Xo)
    np.testing.assert_array_equal(yr, yo)
    assert ours.sampling_strategy_ == ref.sampling_strategy_ == "auto"


@pytest.mark.parametrize("cls", ["SMOTEENN", "SMOTETomek"])
def test_combined_hands_smote_segments_to_its_cleaner(cls, core_calls):
    """SMOTE's segments reach the core cleaner (docs/design.md, "SMOTE's segments"), each new row
    lies on its segment, the rows kept are those of the plain cleaner, and no fitted estimator
    keeps the segments afterwards."""
    rng = np.random.default_rng(3)
    X = np.vstack([rng.standard_normal((3000, 8)), rng.standard_normal((90, 8)) * 0.5 + 1.0])
    X = X.astype(np.float32)
    y = np.r_[np.zeros(3000, int), np.ones(60, int), np.full(30, 2)]
    name = "edited_nearest_neighbours" if cls == "SMOTEENN" else "tomek_links"
    seen = core_calls(name)
    ours = getattr(ec, cls)(random_state=0)
    X_o, y_o = ours.fit_resample(X, y)
    ((args, _),) = seen
    pairs, first = args[-2], args[-1]
    assert first == len(y) and pairs.shape == (len(args[1]) - len(y), 2)
    X_s, y_s = eo.SMOTE(random_state=0).fit_resample(X, y)
    for i in range(0, len(pairs), 97):  # every new row on the segment of its two rows
        a, b, o = X_s[pairs[i, 0]], X_s[pairs[i, 1]], X_s[first + i].astype(np.float64)
        assert y_s[pairs[i, 0]] == y_s[pairs[i, 1]] == y_s[first + i]
        t = np.dot(o - a, b - a) / max(np.dot(b - a, b - a), 1e-30)
        assert -1e-6 <= t <= 1 + 1e-6
        np.testing.assert_allclose(o, a + t * (b.astype(np.float64) - a), atol=1e-5)
    seen.stop()
    cleaner = (
        eu.EditedNearestNeighbours(sampling_strategy="all")
        if cls == "SMOTEENN"
        else eu.TomekLinks(sampling_strategy="all")
    )
    X_m, y_m = cleaner.fit_resample(X_s, y_s)
    np.testing.assert_array_equal(X_o, X_m)
    np.testing.assert_array_equal(y_o, y_m)
    fitted = ours.enn_ if cls == "SMOTEENN" else ours.tomek_
    assert not hasattr(fitted, "_segments")
    assert not hasattr(ours.smote_, "_segments_") and not hasattr(ours.smote_, "_record_segments")


def test_core_cleaners_check_the_segments():
    from equipoise import _core

    X = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    codes = np.r_[np.zeros(12), np.ones(8)].astype(np.uint32)
    with pytest.raises(ValueError, match="segment pair names row 99"):
        _core.edited_nearest_neighbours(
            X, codes, 2, [True, True], 3, False, 0, np.array([[0, 99]]), 19
        )
    with pytest.raises(ValueError, match="row indices >= 0"):
        _core.tomek_links(X, codes, 2, [True, True], 0, np.array([[-1, 2]]), 19)
    with pytest.raises(ValueError, match="2 columns"):
        _core.tomek_links(X, codes, 2, [True, True], 0, np.zeros((1, 3), np.int64), 19)
    with pytest.raises(ValueError, match="segment pairs for rows 18..21 of 20"):
        _core.tomek_links(X, codes, 2, [True, True], 0, np.zeros((3, 2), np.int64), 18)
