"""What imbalanced-learn's pinned tests (tests/imblearn_suite/pinned.py) assert besides its random
draws, checked on equipoise against imbalanced-learn's own sampler run on the same data.

Each test takes the data, seed and parameters of the imbalanced-learn test it stands for (imported
from imbalanced-learn's shipped test modules) and asserts everything but the drawn values: the
labels (class counts and order), the input rows first, new rows on the segments SMOTE may use,
picked rows from the right class, the output's type and the fitted attributes.
"""

import numpy as np
import pandas as pd
import pytest
from imblearn import over_sampling as imb_over
from imblearn import under_sampling as imb_under
from imblearn.combine.tests import test_smote_enn as ref_enn
from imblearn.combine.tests import test_smote_tomek as ref_tomek
from imblearn.over_sampling._smote.tests import test_smote as ref_smote
from imblearn.over_sampling.tests import test_adasyn as ref_adasyn
from imblearn.over_sampling.tests import test_random_over_sampler as ref_ros
from imblearn.under_sampling._prototype_selection.tests import (
    test_random_under_sampler as ref_rus,
)
from imblearn_suite.pinned import PINNED
from numpy.testing import assert_array_equal
from sklearn.neighbors import NearestNeighbors

from equipoise import combine, over_sampling, under_sampling
from equipoise.utils._testing import assert_on_segments


def test_every_pinned_test_names_an_existing_counterpart():
    for key, (reason, ours) in PINNED.items():
        assert reason, key
        name = ours.split("::", 1)[1]
        assert callable(globals().get(name)), f"{key}: {ours} does not exist"


def _nn6():
    return NearestNeighbors(n_neighbors=6)


SMOTE_LIKE = {
    # pinned test: (reference module, sampler name, parameters)
    "test_smote.py::test_sample_regular": (ref_smote, "SMOTE", {}),
    "test_smote.py::test_sample_regular_half": (
        ref_smote,
        "SMOTE",
        {"sampling_strategy": {0: 9, 1: 12}},
    ),
    "test_smote.py::test_sample_regular_with_nn": (ref_smote, "SMOTE", {"k_neighbors": _nn6}),
    "test_adasyn.py::test_ada_fit_resample": (ref_adasyn, "ADASYN", {}),
    "test_adasyn.py::test_ada_fit_resample_nn_obj": (ref_adasyn, "ADASYN", {"n_neighbors": _nn6}),
}


def _params(params):
    return {k: (v() if callable(v) else v) for k, v in params.items()}


@pytest.mark.parametrize("case", list(SMOTE_LIKE))
def test_smote_like(case):
    ref, name, params = SMOTE_LIKE[case]
    X, Y = ref.X, ref.Y
    ours = getattr(over_sampling, name)(random_state=ref.RND_SEED, **_params(params))
    theirs = getattr(imb_over, name)(random_state=ref.RND_SEED, **_params(params))
    X_res, y_res = ours.fit_resample(X, Y)
    X_ref, y_ref = theirs.fit_resample(X, Y)
    assert X_res.shape == X_ref.shape and X_res.dtype == X_ref.dtype
    assert_array_equal(y_res, y_ref)  # the labels the pinned test compares with its y_gt
    assert_array_equal(X_res[: len(X)], X)
    assert ours.sampling_strategy_ == theirs.sampling_strategy_
    assert_on_segments(X, Y, X_res, y_res, k=5, rtol=1e-9)


def _ros_data():
    return ref_ros.data._get_wrapped_function()()


@pytest.mark.parametrize("params", [{"shrinkage": None}, {"shrinkage": 0}, {"shrinkage": {0: 0}}])
@pytest.mark.parametrize("X_type", ["array", "dataframe"])
def test_random_over_sampler(X_type, params):
    # stands for test_random_over_sampler.py::test_ros_fit_resample[X_type-params]
    X, Y = _ros_data()
    X_ = pd.DataFrame(X) if X_type == "dataframe" else X
    ours = over_sampling.RandomOverSampler(random_state=ref_ros.RND_SEED, **params)
    theirs = imb_over.RandomOverSampler(random_state=ref_ros.RND_SEED, **params)
    X_res, y_res = ours.fit_resample(X_, Y)
    X_ref, y_ref = theirs.fit_resample(X_, Y)
    assert type(X_res) is type(X_ref)
    if X_type == "dataframe":
        assert hasattr(X_res, "loc")
        X_res = X_res.to_numpy()
    assert_array_equal(y_res, y_ref)
    assert_array_equal(X_res[: len(X)], X)
    # Every drawn row is a row of its class (a zero shrinkage adds no noise).
    idx = ours.sample_indices_
    assert_array_equal(X_res, X[idx])
    assert_array_equal(Y[idx], y_res)
    if params["shrinkage"] is None:
        assert ours.shrinkage_ is None
    else:
        assert ours.shrinkage_ == {0: 0}


@pytest.mark.parametrize(
    "as_frame, strategy",
    [(True, "auto"), (False, "auto"), (False, {0: 3, 1: 6})],
    ids=["dataframe", "array", "half"],
)
def test_random_under_sampler(as_frame, strategy):
    # stands for test_random_under_sampler.py::test_rus_fit_resample[...] and ..._half
    X, Y = ref_rus.X, ref_rus.Y
    X_ = pd.DataFrame(X) if as_frame else X
    kw = {"random_state": ref_rus.RND_SEED, "replacement": True, "sampling_strategy": strategy}
    ours = under_sampling.RandomUnderSampler(**kw)
    theirs = imb_under.RandomUnderSampler(**kw)
    X_res, y_res = ours.fit_resample(X_, Y)
    X_ref, y_ref = theirs.fit_resample(X_, Y)
    assert type(X_res) is type(X_ref)
    if as_frame:
        assert hasattr(X_res, "loc")
        X_res = X_res.to_numpy()
    assert_array_equal(y_res, y_ref)
    idx = ours.sample_indices_
    assert_array_equal(X_res, X[idx])
    assert_array_equal(Y[idx], y_res)


SMOTE_THEN_CLEAN = {
    # pinned test: (reference module, combined sampler, its parameters, the cleaner's name)
    "test_smote_enn.py::test_sample_regular": (ref_enn, "SMOTEENN", {}, "enn"),
    "test_smote_enn.py::test_sample_regular_pass_smote_enn": (
        ref_enn,
        "SMOTEENN",
        {"smote": "SMOTE", "enn": "EditedNearestNeighbours"},
        "enn",
    ),
    "test_smote_enn.py::test_sample_regular_half": (
        ref_enn,
        "SMOTEENN",
        {"sampling_strategy": {0: 10, 1: 12}},
        "enn",
    ),
    "test_smote_enn.py::test_validate_estimator_init": (
        ref_enn,
        "SMOTEENN",
        {"smote": "SMOTE", "enn": "EditedNearestNeighbours"},
        "enn",
    ),
    "test_smote_enn.py::test_validate_estimator_default": (ref_enn, "SMOTEENN", {}, "enn"),
    "test_smote_tomek.py::test_sample_regular": (ref_tomek, "SMOTETomek", {}, "tomek"),
    "test_smote_tomek.py::test_sample_regular_half": (
        ref_tomek,
        "SMOTETomek",
        {"sampling_strategy": {0: 9, 1: 12}},
        "tomek",
    ),
    "test_smote_tomek.py::test_validate_estimator_init": (
        ref_tomek,
        "SMOTETomek",
        {"smote": "SMOTE", "tomek": "TomekLinks"},
        "tomek",
    ),
    "test_smote_tomek.py::test_validate_estimator_default": (
        ref_tomek,
        "SMOTETomek",
        {},
        "tomek",
    ),
}


def _step(module, name, seed):
    # The steps the pinned tests pass: SMOTE(random_state=seed), cleaners on 'all' classes.
    if name == "SMOTE":
        return module.SMOTE(random_state=seed)
    return getattr(module, name)(sampling_strategy="all")


@pytest.mark.parametrize("case", list(SMOTE_THEN_CLEAN))
def test_smote_then_clean(case):
    ref, name, params, cleaner = SMOTE_THEN_CLEAN[case]
    seed = ref.RND_SEED
    ours_mod = {"SMOTE": over_sampling, "EditedNearestNeighbours": under_sampling}
    ours_mod["TomekLinks"] = under_sampling
    kw = {k: (_step(ours_mod[v], v, seed) if isinstance(v, str) else v) for k, v in params.items()}
    sampler = getattr(combine, name)(random_state=seed, **kw)
    X_res, y_res = sampler.fit_resample(ref.X, ref.Y)
    # The result is the cleaner applied to the SMOTE step's output ...
    X_mid, y_mid = sampler.smote_.fit_resample(ref.X, ref.Y)
    X_ours, y_ours = getattr(sampler, cleaner + "_").fit_resample(X_mid, y_mid)
    assert_array_equal(X_res, X_ours)
    assert_array_equal(y_res, y_ours)
    # ... the SMOTE step keeps imbalanced-learn's labels and geometry ...
    strategy = params.get("sampling_strategy", "auto")
    smote_ref = imb_over.SMOTE(sampling_strategy=strategy, random_state=seed)
    X_mid_ref, y_mid_ref = smote_ref.fit_resample(ref.X, ref.Y)
    assert_array_equal(y_mid, y_mid_ref)
    assert_on_segments(ref.X, ref.Y, X_mid, y_mid, k=5, rtol=1e-9)
    # ... and the cleaning step keeps exactly the rows imbalanced-learn's cleaner keeps.
    imb_cleaner = {"enn": imb_under.EditedNearestNeighbours, "tomek": imb_under.TomekLinks}
    X_ref, y_ref = imb_cleaner[cleaner](sampling_strategy="all").fit_resample(X_mid, y_mid)
    assert_array_equal(X_res, X_ref)
    assert_array_equal(y_res, y_ref)


def test_smotenc_auto_errors():
    # stands for test_smote_nc.py::test_smote_nc_categorical_features_auto_error: imbalanced-learn's
    # 'auto' takes only pandas category columns; equipoise's also takes string columns (and numpy
    # object arrays). What holds for both: no categorical column found is the same error, and
    # X and y of different lengths are refused.
    X = pd.DataFrame({"A": np.arange(100.0), "B": np.arange(100) % 3})
    y = np.array([0] * 70 + [1] * 30)
    err = "SMOTE-NC is not designed to work only with numerical features"
    for sampler in (over_sampling.SMOTENC, imb_over.SMOTENC):
        with pytest.raises(ValueError, match=err):
            sampler(categorical_features="auto", random_state=0).fit_resample(X, y)
    with pytest.raises(ValueError, match=err):
        over_sampling.SMOTENC(categorical_features="auto").fit_resample(X.to_numpy(), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        over_sampling.SMOTENC(categorical_features="auto").fit_resample(X[:10], y)
    # A frame with category columns: the same detection as imbalanced-learn's.
    Xc = X.assign(
        C=pd.Categorical(np.array(["a", "b", "c", "a"] * 25)), B=X["B"].astype("category")
    )
    ours = over_sampling.SMOTENC(categorical_features="auto", random_state=0)
    theirs = imb_over.SMOTENC(categorical_features="auto", random_state=0)
    ours.fit_resample(Xc, y)
    theirs.fit_resample(Xc, y)
    assert_array_equal(ours.categorical_features_, theirs.categorical_features_)
    assert_array_equal(ours.continuous_features_, theirs.continuous_features_)
    # The pinned test's string columns are categorical for equipoise's 'auto'.
    Xs = X.assign(B=np.array(["a", "b"] * 50, dtype=object))
    ours.fit_resample(Xs, y)
    assert_array_equal(ours.categorical_features_, [1])
