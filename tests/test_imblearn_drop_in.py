"""Regression tests for the differences imbalanced-learn's own test suite found (issue: drop-in):
object columns holding numbers, pass-through column dtypes, ``fit``'s checks, ``y=None``, SMOTENC
and SMOTEN on sparse input, SMOTENC's messages. Each is compared with imbalanced-learn's sampler."""

import datetime

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from imblearn import combine as imb_combine
from imblearn import over_sampling as imb_over
from imblearn import under_sampling as imb_under
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.exceptions import DataConversionWarning

from equipoise import combine, over_sampling, under_sampling
from equipoise.over_sampling import SMOTEN, SMOTENC, RandomOverSampler
from equipoise.under_sampling import RandomUnderSampler


def _data(n=120, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.array([0] * (n - n // 4) + [1] * (n // 4))
    return X, y


def _all_samplers():
    out = []
    for module in (over_sampling, under_sampling, combine):
        for name in module.__all__:
            cls = getattr(module, name)
            kw = {"categorical_features": [0]} if name == "SMOTENC" else {}
            out.append(cls(**kw))
    return out


# -- object columns holding numbers ---------------------------------------------------------------
@pytest.mark.parametrize(
    "name, module, imb_module",
    [
        ("SMOTE", over_sampling, imb_over),
        ("ADASYN", over_sampling, imb_over),
        ("EditedNearestNeighbours", under_sampling, imb_under),
        ("TomekLinks", under_sampling, imb_under),
        ("SMOTEENN", combine, imb_combine),
    ],
)
def test_object_columns_holding_numbers_are_numbers(name, module, imb_module):
    X, y = _data()
    X_obj = pd.DataFrame(X.astype(object))
    kw = {} if "Tomek" in name or "Edited" in name else {"random_state": 0}
    X_res, y_res = getattr(module, name)(**kw).fit_resample(X_obj, y)
    X_num, y_num = getattr(module, name)(**kw).fit_resample(pd.DataFrame(X), y)
    # The same rows as for the float frame, in object columns, as imbalanced-learn returns them.
    assert_array_equal(X_res.to_numpy(dtype=float), X_num.to_numpy())
    assert_array_equal(y_res, y_num)
    X_ref, y_ref = getattr(imb_module, name)(**kw).fit_resample(X_obj, y)
    assert (X_res.dtypes == X_ref.dtypes).all() and all(t.kind == "O" for t in X_res.dtypes)
    if name != "SMOTEENN":  # (its cleaning depends on SMOTE's draws)
        assert X_res.shape == X_ref.shape
        assert_array_equal(np.bincount(y_res), np.bincount(y_ref))
    if "Tomek" in name or "Edited" in name:  # deterministic: the very same rows
        assert_array_equal(X_res.to_numpy(dtype=float), X_ref.to_numpy(dtype=float))


def test_object_columns_holding_strings_stay_categorical():
    X, y = _data()
    df = pd.DataFrame({"a": X[:, 0], "s": np.array(["u", "v"] * 60, dtype=object)})
    with pytest.raises(ValueError, match=r"columns \['s'\] are categorical"):
        over_sampling.SMOTE().fit_resample(df, y)
    smote = SMOTENC(categorical_features="auto", random_state=0).fit(df, y)
    smote.fit_resample(df, y)
    assert_array_equal(smote.categorical_features_, [1])


def test_smotenc_object_frame_as_its_array():
    # imbalanced-learn's test_smotenc_pandas, on a frame of object columns: numbers in the numeric
    # ones, numbers and strings in the categorical ones.
    rng = np.random.RandomState(42)
    X = np.empty((30, 4), dtype=object)
    X[:, :2] = rng.randn(30, 2)
    X[:, 2] = rng.choice(["a", "b", "c"], size=30).astype(object)
    X[:, 3] = rng.randint(3, size=30)
    y = np.array([0] * 10 + [1] * 12 + [2] * 8)
    for cats in ([2, 3], [True, False, True, True]):
        smote = SMOTENC(categorical_features=cats, random_state=0)
        X_res_pd, y_res_pd = smote.fit_resample(pd.DataFrame(X), y)
        X_res, y_res = smote.fit_resample(X, y)
        assert_array_equal(X_res_pd.to_numpy(), X_res)
        assert_array_equal(y_res_pd, y_res)
        assert set(X_res[:, 3]) == {0, 1, 2}  # integer categories stay integers
        assert all(type(v) is int for v in X_res_pd[3])
        ref = imb_over.SMOTENC(categorical_features=cats, random_state=0)
        X_ref, y_ref = ref.fit_resample(pd.DataFrame(X), y)
        assert_array_equal(np.bincount(y_res_pd), np.bincount(y_ref))
        assert set(smote.median_std_) == set(ref.median_std_)


# -- pass-through column dtypes -------------------------------------------------------------------
def _odd_frame(n):
    now = pd.Timestamp("2024-03-01 12:00")
    return pd.DataFrame(
        {
            "x": np.arange(n, dtype=float),
            "when": pd.date_range(now, periods=n, freq="h"),
            "when_tz": pd.date_range(now, periods=n, freq="h", tz="Europe/Paris"),
            "took": pd.to_timedelta(np.arange(n), unit="s"),
            "nat": pd.to_timedelta([np.nan] * n),
            "month": pd.period_range("2024-01", periods=n, freq="M"),
            "band": pd.interval_range(0, n),
            "z": np.arange(n) * (1 + 2j),
            "obj": [datetime.date(2024, 1, 1 + i % 28) for i in range(n)],
            "s": ["a", "b", "c"] * (n // 3),
        }
    )


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (RandomOverSampler(random_state=0), imb_over.RandomOverSampler(random_state=0)),
        (RandomUnderSampler(random_state=0), imb_under.RandomUnderSampler(random_state=0)),
    ],
)
def test_row_pickers_pass_every_column_dtype_through(ours, theirs):
    df = _odd_frame(30)
    y = pd.Series([0] * 20 + [1] * 10)
    X_res, y_res = ours.fit_resample(df, y)
    X_ref, y_ref = theirs.fit_resample(df, y)
    pd.testing.assert_series_equal(X_res.dtypes, df.dtypes)
    pd.testing.assert_series_equal(X_res.dtypes, X_ref.dtypes)
    expected = df.take(ours.sample_indices_).reset_index(drop=True)
    pd.testing.assert_frame_equal(X_res, expected)
    pd.testing.assert_index_equal(X_res.index, y_res.index)
    assert_array_equal(np.bincount(y_res), np.bincount(y_ref))
    assert_array_equal(y_res.to_numpy(), y.to_numpy()[ours.sample_indices_])


@pytest.mark.parametrize("Sampler", [RandomOverSampler, RandomUnderSampler])
def test_row_pickers_pass_polars_and_arrow_temporal_columns_through(Sampler):
    n = 30
    pl_df = pl.DataFrame(
        {
            "x": np.arange(n, dtype=float),
            "when": pl.datetime_range(
                datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2, 5), "1h", eager=True
            ),
            "took": pl.Series([datetime.timedelta(seconds=i) for i in range(n)]),
            "day": pl.Series([datetime.date(2024, 1, 1 + i) for i in range(n)]),
        }
    )
    y = np.array([0] * 20 + [1] * 10)
    for df in (pl_df, pl_df.to_arrow()):
        sampler = Sampler(random_state=0)
        X_res, _ = sampler.fit_resample(df, y)
        assert type(X_res) is type(df)
        assert X_res.schema == df.schema
        idx = sampler.sample_indices_
        expected = df[idx] if isinstance(df, pl.DataFrame) else df.take(pa.array(idx))
        assert X_res.equals(expected)


@pytest.mark.parametrize("sampler", [over_sampling.SMOTE(), under_sampling.TomekLinks()])
def test_other_samplers_name_a_pass_through_column(sampler):
    df = _odd_frame(30)[["x", "when"]]
    y = np.array([0] * 20 + [1] * 10)
    with pytest.raises(TypeError, match="column 'when' has dtype datetime64.*RandomOverSampler"):
        sampler.fit_resample(df, y)


# -- fit checks what fit_resample checks ----------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize(
    "sampler",
    [over_sampling.SMOTE(), SMOTENC(categorical_features=[0]), over_sampling.ADASYN()],
    ids=lambda s: type(s).__name__,
)
def test_fit_refuses_nan_and_inf(sampler, bad):
    X, y = _data()
    for col in (0, 2):  # SMOTENC: a categorical and a numeric column
        Xb = X.copy()
        Xb[5, col] = bad
        with pytest.raises(ValueError, match="NaN|inf"):
            sampler.fit(Xb, y)
        with pytest.raises(ValueError, match="NaN|inf"):
            sampler.fit_resample(Xb, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_nan_in_a_class_not_grown_is_refused(fmt):
    X, y = _data()
    X[3, 1] = np.nan  # row 3 is of the majority class, which SMOTE does not grow
    Xs = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
    for call in (over_sampling.SMOTE().fit, over_sampling.SMOTE().fit_resample):
        with pytest.raises(ValueError, match=r"NaN \(first at row 3, column 1\)"):
            call(Xs, y)


def test_smotenc_fit_checks_categorical_features():
    X, y = _data(d=4)
    msg = r"all features must be in \[0, 3\] or \[-4, 0\]"
    for sampler in (SMOTENC(categorical_features=[0, 10]), imb_over.SMOTENC([0, 10])):
        with pytest.raises(ValueError, match=msg):
            sampler.fit_resample(X, y)
    with pytest.raises(ValueError, match=msg):
        SMOTENC(categorical_features=[0, 10]).fit(X, y)


# -- y=None ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", _all_samplers(), ids=lambda s: type(s).__name__)
def test_y_none_is_the_error_scikit_learn_recognises(sampler):
    X, _ = _data()
    for call in (sampler.fit, sampler.fit_resample):
        with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
            call(X, None)


# -- SMOTENC and SMOTEN on sparse input -----------------------------------------------------------
def _sparse_nominal(fmt):
    rng = np.random.RandomState(42)
    X = np.empty((30, 4), dtype=np.float64)
    X[:, [1, 2]] = rng.randn(30, 2)
    X[:, 0] = rng.randint(3, size=30)
    X[:, 3] = rng.randint(3, size=30)
    y = np.array([0] * 10 + [1] * 20)
    return (sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)), y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_smotenc_sparse_input(fmt):
    Xs, y = _sparse_nominal(fmt)
    smote = SMOTENC(categorical_features=[0, 3], random_state=0)
    X_res, y_res = smote.fit_resample(Xs, y)
    assert sparse.issparse(X_res) and X_res.format == fmt and X_res.dtype == Xs.dtype
    # The same rows as for the dense array.
    X_dense, y_dense = SMOTENC(categorical_features=[0, 3], random_state=0).fit_resample(
        Xs.toarray(), y
    )
    assert_array_equal(X_res.toarray(), X_dense)
    assert_array_equal(y_res, y_dense)
    X_ref, y_ref = imb_over.SMOTENC(categorical_features=[0, 3], random_state=0).fit_resample(Xs, y)
    assert sparse.issparse(X_ref) and X_ref.shape == X_res.shape
    assert_array_equal(y_res, y_ref)
    for j in (0, 3):
        assert set(X_res.toarray()[:, j]) == set(Xs.toarray()[:, j])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_smoten_sparse_input_warns_as_imblearn(fmt):
    rng = np.random.RandomState(0)
    X = (rng.randint(3, size=(40, 3)) == np.arange(3)).astype(float)
    Xs = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
    y = np.array([0] * 10 + [1] * 30)
    with pytest.warns(DataConversionWarning, match="is not really efficient"):
        X_res, y_res = SMOTEN(random_state=0).fit_resample(Xs, y)
    assert X_res.format == fmt
    X_dense, _ = SMOTEN(random_state=0).fit_resample(X, y)
    assert_array_equal(X_res.toarray(), X_dense)
    with pytest.warns(DataConversionWarning, match="is not really efficient"):
        X_ref, y_ref = imb_over.SMOTEN(random_state=0).fit_resample(Xs, y)
    assert_array_equal(np.bincount(y_res), np.bincount(y_ref))
