"""SMOTE: imbalanced-learn's class counts and layout, SMOTE's geometry, dtypes, determinism."""

import pickle

import numpy as np
import pytest
from conftest import BINARY_NUMERIC, five_class
from imblearn.over_sampling import SMOTE as ImbSMOTE
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from equipoise.over_sampling import SMOTE
from equipoise.utils._testing import assert_on_segments


def _counts(y):
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist()))


def _binary_forms(y):
    n_min = int(np.sum(y == 1))
    return [
        "auto",
        "minority",
        "not minority",
        "not majority",
        "all",
        0.5,
        1.0,
        {1: n_min * 3},
        lambda y: {1: int(np.sum(y == 1)) + 17},
    ]


@pytest.mark.parametrize("name", BINARY_NUMERIC)
def test_class_counts_and_layout_match_imblearn(load, name):
    X, y = load(name)
    for form in _binary_forms(y):
        ours = SMOTE(sampling_strategy=form, random_state=0)
        try:
            _, y_imb = ImbSMOTE(sampling_strategy=form, random_state=0).fit_resample(X, y)
        except ValueError as e:  # e.g. a ratio below the current one: both must refuse
            with pytest.raises(ValueError, match=str(e)[:40]):
                ours.fit_resample(X, y)
            continue
        X_res, y_res = ours.fit_resample(X, y)
        assert _counts(y_res) == _counts(y_imb), form
        assert dict(ours.sampling_strategy_) == {
            k: v for k, v in ImbSMOTE(sampling_strategy=form).fit(X, y).sampling_strategy_.items()
        }
        # Original rows first, untouched, then the new ones with their class.
        np.testing.assert_array_equal(X_res[: len(X)], X)
        np.testing.assert_array_equal(y_res[: len(y)], y)
        assert y_res.dtype == y.dtype and X_res.dtype == X.dtype


@pytest.mark.parametrize("name", BINARY_NUMERIC)
def test_new_rows_lie_on_segments_to_k_nearest_neighbours(load, name):
    X, y = load(name)
    for k in (1, 5):
        X_res, y_res = SMOTE(k_neighbors=k, random_state=1).fit_resample(X, y)
        assert_on_segments(X, y, X_res, y_res, k, rtol=1e-12)


def test_multiclass_counts_geometry_and_class_order():
    X, y = five_class(n=3000, d=5)
    for form in ["auto", "all", "not minority", "minority", {3: 500, 4: 400}]:
        X_res, y_res = SMOTE(sampling_strategy=form, random_state=3).fit_resample(X, y)
        _, y_imb = ImbSMOTE(sampling_strategy=form, random_state=3).fit_resample(X, y)
        assert _counts(y_res) == _counts(y_imb)
        new_y = y_res[len(y) :]
        assert np.all(np.diff(new_y) >= 0), "new rows come class by class in sorted order"
        assert_on_segments(X, y, X_res, y_res, 5, rtol=1e-12)
    with pytest.raises(ValueError, match="binary"):
        SMOTE(sampling_strategy=0.5).fit_resample(X, y)


def test_glass_string_labels(load):
    X, y = load("glass")
    y = np.array([f"type-{v}" for v in y])
    X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    _, y_imb = ImbSMOTE(random_state=0).fit_resample(X, y)
    assert _counts(y_res) == _counts(y_imb)
    assert_on_segments(X, y, X_res, y_res, 5, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_is_kept_and_not_upcast(load, dtype):
    X, y = load("mammography")
    X = X.astype(dtype)
    X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    assert X_res.dtype == dtype
    assert_on_segments(X, y, X_res, y_res, 5, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_integer_features_are_truncated_as_imblearn(load):
    X, y = load("pen_digits")
    X = X.astype(np.int64)
    X_res, _ = SMOTE(random_state=0).fit_resample(X, y)
    X_imb, _ = ImbSMOTE(random_state=0).fit_resample(X, y)
    assert X_res.dtype == X_imb.dtype == np.int64
    # Every value of a new row lies between the two endpoints' values (truncation toward zero).
    assert X_res.min() >= X.min() and X_res.max() <= X.max()


def test_same_seed_same_output_for_any_thread_count(load):
    X, y = load("satimage")
    X = X.astype(np.float32)
    runs = [SMOTE(random_state=42, n_jobs=j).fit_resample(X, y)[0] for j in (1, 2, 3, 8)]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)
    assert not np.array_equal(runs[0], SMOTE(random_state=43).fit_resample(X, y)[0])


def test_random_state_instance_and_none(load):
    X, y = load("ecoli")
    a = SMOTE(random_state=np.random.RandomState(5)).fit_resample(X, y)[0]
    b = SMOTE(random_state=np.random.RandomState(5)).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    c, _ = SMOTE().fit_resample(X, y)
    assert c.shape == a.shape


def test_neighbors_object_is_used(load):
    X, y = load("ecoli")
    for nn in (NearestNeighbors(n_neighbors=4), NearestNeighbors(n_neighbors=4, algorithm="brute")):
        sm = SMOTE(k_neighbors=nn, random_state=0)
        X_res, y_res = sm.fit_resample(X, y)
        assert sm.nn_k_ is not nn and sm.nn_k_.n_neighbors == 4
        assert_on_segments(X, y, X_res, y_res, 3, rtol=1e-12)


def test_pipeline_clone_and_pickle(load):
    X, y = load("breast_cancer")
    pipe = Pipeline(
        [
            ("smote", SMOTE(random_state=0)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression()),
        ]
    )
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9
    sm = SMOTE(k_neighbors=3, random_state=7, n_jobs=1)
    twin = clone(sm)
    assert twin.get_params() == sm.get_params()
    fitted = pickle.loads(pickle.dumps(sm.fit(X, y)))
    np.testing.assert_array_equal(fitted.fit_resample(X, y)[0], twin.fit_resample(X, y)[0])
    fresh = pickle.loads(pickle.dumps(SMOTE(random_state=7)))
    assert fresh.get_params()["random_state"] == 7


def test_input_is_not_modified(load):
    X, y = load("yeast_me2")
    X_copy, y_copy = X.copy(), y.copy()
    Xf = np.asfortranarray(X)
    out_f, _ = SMOTE(random_state=0).fit_resample(Xf, y)
    out_c, _ = SMOTE(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(out_f, out_c)  # a Fortran-ordered view gives the same rows


@pytest.mark.parametrize(
    "dtype",
    [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_],
)
@pytest.mark.parametrize("strided", [False, True])
def test_labels_made_beside_the_rows_are_y_then_each_grown_class(dtype, strided, monkeypatch):
    # Integer labels are written by the core in SMOTE's own call (`_core.smote_labeled`); other
    # dtypes (bool here, float below) take a separate pass. Both must give y followed by each
    # grown class's value once per new row, in y's dtype, beside the same rows.
    from equipoise import _core

    made = []
    labeled = _core.smote_labeled

    def spy(*args, **kwargs):
        out = labeled(*args, **kwargs)
        made.append(out is not None)
        return out

    monkeypatch.setattr(_core, "smote_labeled", spy)
    rng = np.random.default_rng(3)
    n = 1200
    X = rng.normal(size=(n, 4)).astype(np.float32)
    p = [0.8, 0.2] if dtype is np.bool_ else [0.7, 0.2, 0.1]
    y_full = np.arange(len(p)).astype(dtype)[rng.choice(len(p), 2 * n, p=p)]
    y = y_full[::2] if strided else y_full[:n]
    X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    assert made == ([] if dtype is np.bool_ else [True])
    classes, counts = np.unique(y, return_counts=True)
    new = [counts.max() - c for c in counts]
    assert y_res.dtype == y.dtype
    np.testing.assert_array_equal(y_res, np.concatenate([y, np.repeat(classes, new)]))
    np.testing.assert_array_equal(X_res[:n], X)
    # The rows are those of the separate path (float labels), the labels its labels.
    X_sep, y_sep = SMOTE(random_state=0).fit_resample(X, y.astype(np.float64))
    np.testing.assert_array_equal(X_res, X_sep)
    np.testing.assert_array_equal(y_res, y_sep.astype(y.dtype))
