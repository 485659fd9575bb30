"""Frames in, the same frames out, for every sampler: numpy, polars, pandas, pyarrow; labels carried
in the frame; categorical columns; bad input named clearly."""

import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from equipoise import _frames, datasets
from equipoise.combine import SMOTEENN, SMOTETomek
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

NUMERIC_SAMPLERS = [
    SMOTE(random_state=0),
    BorderlineSMOTE(random_state=0),
    ADASYN(random_state=0),
    RandomOverSampler(random_state=0),
    RandomOverSampler(random_state=0, shrinkage=1.0),
    RandomUnderSampler(random_state=0),
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
KINDS = ["polars", "pandas", "arrow"]


def to_kind(df: pd.DataFrame, kind):
    if kind == "pandas":
        return df
    if kind == "polars":
        return pl.from_pandas(df)
    return pa.Table.from_pandas(df, preserve_index=False)


def to_pandas(frame):
    if isinstance(frame, pd.DataFrame):
        return frame
    return frame.to_pandas()


def y_kind(y: np.ndarray, kind, name="target"):
    if kind == "polars":
        return pl.Series(name, y)
    if kind == "pandas":
        return pd.Series(y, name=name)
    if kind == "arrow":
        return pa.array(y)
    return y


def numeric_frame(name, load):
    X, y = load(name)
    _, _, names = datasets.load(name, numeric_only=True)
    df = pd.DataFrame(X, columns=names)
    # Mixed dtypes: float32, int64, float64.
    df[names[0]] = df[names[0]].astype(np.float32)
    df["count"] = (np.abs(X[:, 1]) * 10).astype(np.int64)
    return df, y


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sampler", NUMERIC_SAMPLERS, ids=lambda s: repr(s))
@pytest.mark.parametrize("name", ["ecoli", "yeast_me2"])
def test_numeric_frames_round_trip(load, kind, sampler, name):
    df, y = numeric_frame(name, load)
    frame = to_kind(df, kind)
    X_res, y_res = sampler.fit_resample(frame, y_kind(y, kind))
    assert type(X_res) is type(frame)
    assert type(y_res) is type(y_kind(y, kind))
    out = to_pandas(X_res)
    assert list(out.columns) == list(df.columns)
    assert dict(out.dtypes) == dict(df.dtypes)
    # Same values as the numpy path, each column cast with astype (integer columns truncated).
    ref_X, ref_y = type(sampler)(**sampler.get_params()).fit_resample(df.to_numpy(), y)
    for j, col in enumerate(df.columns):
        np.testing.assert_array_equal(out[col].to_numpy(), ref_X[:, j].astype(df[col].dtype))
    np.testing.assert_array_equal(np.asarray(y_res), ref_y)
    if hasattr(sampler, "sample_indices_") and sampler.get_params().get("shrinkage") is None:
        # Row selection: exactly the input's rows.
        pd.testing.assert_frame_equal(out, df.iloc[sampler.sample_indices_].reset_index(drop=True))
    assert list(sampler.feature_names_in_) == list(df.columns)


@pytest.mark.parametrize("kind", KINDS)
def test_label_column_returns_one_frame(load, kind):
    df, y = numeric_frame("ecoli", load)
    df.insert(2, "is_fraud", y)
    frame = to_kind(df, kind)
    out = to_pandas(SMOTE(random_state=0).fit_resample(frame, label="is_fraud"))
    assert list(out.columns) == list(df.columns)
    assert out["is_fraud"].dtype == df["is_fraud"].dtype
    X_ref, y_ref = SMOTE(random_state=0).fit_resample(df.drop(columns="is_fraud"), y)
    np.testing.assert_array_equal(out["is_fraud"].to_numpy(), y_ref)
    np.testing.assert_array_equal(out.drop(columns="is_fraud").to_numpy(), X_ref.to_numpy())
    sampler = RandomUnderSampler(random_state=0)
    taken = to_pandas(sampler.fit_resample(frame, label="is_fraud"))
    pd.testing.assert_frame_equal(taken, df.iloc[sampler.sample_indices_].reset_index(drop=True))


def mixed_abalone():
    X, y, names = datasets.load("abalone_19")
    df = pd.DataFrame(X, columns=names)
    for c in names[1:]:
        df[c] = df[c].astype(np.float64)
    df["Sex"] = df["Sex"].astype("category")
    df["Rings10"] = (df["Length"] * 10).astype(np.int32)
    return df, y


def categorical_variants(df, kind):
    """The same table with its categorical columns in each of the kind's categorical types."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if kind == "pandas":
        yield df
        yield df.astype({c: object for c in cats})
    elif kind == "polars":
        base = pl.from_pandas(df.astype({c: object for c in cats}))
        yield base  # String
        yield base.with_columns([pl.col(c).cast(pl.Categorical) for c in cats])
        yield base.with_columns(
            [pl.col(c).cast(pl.Enum(sorted(df[c].cat.categories))) for c in cats]
        )
    else:
        yield pa.Table.from_pandas(df, preserve_index=False)  # dictionary
        yield pa.Table.from_pandas(df.astype({c: object for c in cats}), preserve_index=False)


@pytest.mark.parametrize("kind", KINDS)
def test_smotenc_frames_keep_types_and_agree_with_numpy(kind):
    df, y = mixed_abalone()
    X_np = df.astype({"Sex": object}).to_numpy(dtype=object)
    ref, ref_y = SMOTENC(categorical_features=[0], random_state=0).fit_resample(X_np, y)
    for frame in categorical_variants(df, kind):
        X_res, y_res = SMOTENC(categorical_features="auto", random_state=0).fit_resample(
            frame, y_kind(y, kind)
        )
        assert type(X_res) is type(frame)
        if kind == "polars":
            assert X_res.schema == frame.schema
        elif kind == "arrow":
            assert X_res.schema == frame.schema
        else:
            assert dict(X_res.dtypes) == dict(frame.dtypes)
        out = to_pandas(X_res)
        assert list(out.columns) == list(df.columns)
        np.testing.assert_array_equal(out["Sex"].astype(object).to_numpy(), ref[:, 0])
        for j, c in enumerate(df.columns[1:], start=1):
            np.testing.assert_array_equal(
                out[c].to_numpy(), ref[:, j].astype(np.float64).astype(df[c].dtype)
            )
        np.testing.assert_array_equal(np.asarray(y_res), ref_y)


@pytest.mark.parametrize("kind", KINDS + ["numpy"])
def test_smoten_car_eval_every_frame_type(kind):
    X, y, names = datasets.load("car_eval_4")
    ref, _ = SMOTEN(random_state=0).fit_resample(X, y)
    df = pd.DataFrame(X, columns=names).astype("category")
    frame = X if kind == "numpy" else to_kind(df, kind)
    out, y_res = SMOTEN(random_state=0).fit_resample(frame, y_kind(y, kind))
    vals = out if kind == "numpy" else to_pandas(out).astype(object).to_numpy()
    np.testing.assert_array_equal(vals, ref)
    assert np.bincount(np.asarray(y_res)).tolist() == [1663, 1663]


@pytest.mark.parametrize("kind", KINDS + ["numpy"])
def test_frame_y_kinds_come_back(load, kind):
    df, y = numeric_frame("ecoli", load)
    frame = df.to_numpy() if kind == "numpy" else to_kind(df, kind)
    for yy in (y, pl.Series("t", y), pd.Series(y, name="t"), pa.array(y), pa.chunked_array([y])):
        _, y_res = SMOTE(random_state=0).fit_resample(frame, yy)
        assert type(y_res) is type(yy)
        if hasattr(yy, "name") and not isinstance(yy, (pa.Array, pa.ChunkedArray)):
            assert y_res.name == "t"


def test_string_labels_in_polars():
    X, y, _ = datasets.load("car_eval_4")
    yl = pl.Series("cls", np.where(y == 1, "good", "other")).cast(pl.Categorical)
    frame = pl.DataFrame({f"c{j}": X[:, j].astype(str) for j in range(X.shape[1])})
    X_res, y_res = SMOTEN(random_state=0).fit_resample(frame, yl)
    assert y_res.dtype == pl.Categorical and y_res.value_counts()["count"].to_list() == [1663] * 2


# -- bad input ---------------------------------------------------------------------------------
def test_nulls_name_the_column():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0] * 10, "b": np.arange(30.0)})
    y = np.array([0, 1, 0] * 10)
    with pytest.raises(ValueError, match="column 'a' contains 10 null"):
        SMOTE(k_neighbors=2).fit_resample(df, y)
    with pytest.raises(ValueError, match="column 'a' contains 10 null"):
        SMOTE(k_neighbors=2).fit_resample(pl.from_pandas(df, nan_to_null=True), y)
    with pytest.raises(ValueError, match="column 'a' contains 10 null"):
        SMOTE(k_neighbors=2).fit_resample(pa.Table.from_pandas(df), y)
    cat = pl.DataFrame({"a": ["x", None, "y"] * 10, "b": np.arange(30.0)})
    with pytest.raises(ValueError, match="column 'a' contains 10 null"):
        SMOTENC(categorical_features="auto", k_neighbors=2).fit_resample(cat, y)
    cat = cat.with_columns(pl.col("a").cast(pl.Categorical))
    with pytest.raises(ValueError, match="column 'a' contains 10 null"):
        SMOTENC(categorical_features="auto", k_neighbors=2).fit_resample(cat, y)
    # Samplers that accept NaN (as imbalanced-learn's) keep it: a row selection.
    out, _ = RandomUnderSampler(random_state=0).fit_resample(df, y)
    assert out["a"].isna().any()


def test_bad_labels_and_dtypes():
    df = pl.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0), "y": [0, 1, 0] * 10})
    with pytest.raises(ValueError, match="label column 'nope' is not in the frame"):
        SMOTE().fit_resample(df, label="nope")
    with pytest.raises(TypeError, match="either y or label"):
        SMOTE().fit_resample(df, df["y"], label="y")
    with pytest.raises(TypeError, match="needs a polars, pandas or pyarrow frame"):
        SMOTE().fit_resample(df.to_numpy(), label="y")
    nulls = df.with_columns(pl.when(pl.col("a") < 3).then(None).otherwise(pl.col("y")).alias("y"))
    with pytest.raises(ValueError, match="label column 'y' contains 3 null"):
        SMOTE(k_neighbors=2).fit_resample(nulls, label="y")
    dates = df.with_columns(pl.datetime(2020, 1, 1).alias("when"))
    with pytest.raises(TypeError, match="column 'when' has dtype"):
        SMOTE(k_neighbors=2).fit_resample(dates, label="y")
    strings = df.with_columns(pl.lit("x").alias("s"))
    with pytest.raises(ValueError, match=r"columns \['s'\] are categorical.*SMOTENC"):
        SMOTE(k_neighbors=2).fit_resample(strings, label="y")


def test_smotenc_all_categorical_frame_points_to_smoten():
    X, y, names = datasets.load("car_eval_4")
    df = pl.DataFrame({n: X[:, j].astype(str) for j, n in enumerate(names)})
    with pytest.raises(ValueError, match="Use SMOTEN"):
        SMOTENC(categorical_features="auto").fit_resample(df, y)
    with pytest.raises(ValueError, match="not columns of X"):
        SMOTENC(categorical_features=["nope"]).fit_resample(df, y)


# -- memory: what crosses into the core ----------------------------------------------------------
def test_numeric_columns_cross_without_row_major_copy():
    rng = np.random.default_rng(0)
    block = rng.normal(size=(1000, 4))
    df = pd.DataFrame(block, columns=list("abcd"))
    frame = _frames.Frame(df)
    with _frames.recording_copies() as copies:
        arr = frame.numeric_block(list("abcd"))
    # pandas keeps one float64 block: the core reads it in place (column-major, no copy).
    assert np.shares_memory(arr, df["a"].to_numpy()) and arr.flags.f_contiguous
    assert copies == []
    # polars: one column-major copy at most (never a row-major transposition).
    arr = _frames.Frame(pl.from_pandas(df)).numeric_block(list("abcd"))
    assert arr.flags.f_contiguous


def test_a_frame_call_leaves_no_state_that_another_call_on_the_estimator_sees(monkeypatch):
    # A frame call asks SMOTE for its new rows only. That must be an argument of the call: a
    # second caller of the same estimator (another thread) in the middle of it gets full arrays.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.r_[np.zeros(100, dtype=int), np.ones(20, dtype=int)]
    df = pd.DataFrame(X, columns=list("abc"))
    sampler = SMOTE(random_state=0)
    original = SMOTE._resample
    inner = {}

    def interleaved(self, *args, **kwargs):
        if kwargs.get("new_rows_only") and not inner:
            inner["out"] = self.fit_resample(X, y)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SMOTE, "_resample", interleaved)
    df_res, y_res = sampler.fit_resample(df, y)
    X_in, y_in = inner["out"]
    want_X, want_y = SMOTE(random_state=0).fit_resample(X, y)
    assert isinstance(X_in, np.ndarray)
    np.testing.assert_array_equal(X_in, want_X)
    np.testing.assert_array_equal(y_in, want_y)
    np.testing.assert_array_equal(df_res.to_numpy(), want_X)
    assert not [k for k in vars(sampler) if "new_rows" in k]


def test_optional_dependencies_are_imported_lazily():
    code = (
        "import sys\n"
        "for m in ('polars', 'pyarrow'):\n"
        "    sys.modules[m] = None\n"
        "import numpy as np\n"
        "from equipoise.over_sampling import SMOTENC, SMOTE\n"
        "X = np.random.default_rng(0).normal(size=(50, 2)); y = np.r_[[0] * 40, [1] * 10]\n"
        "SMOTE(random_state=0).fit_resample(X, y)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [n for n in datasets.list_datasets() if n != "car_eval_4"])
def test_every_real_dataset_every_frame_kind(kind, name):
    X, y, names = datasets.load(name, numeric_only=True)
    if name == "abalone_19":
        X, y, names = datasets.load(name)
        df = pd.DataFrame(X, columns=names).astype({n: np.float64 for n in names[1:]})
        df["Sex"] = df["Sex"].astype("category")
        sampler, ref_X = SMOTENC(categorical_features="auto", random_state=0), X
    else:
        df = pd.DataFrame(X, columns=names).astype(np.float32)
        sampler, ref_X = SMOTE(random_state=0), X.astype(np.float32)
    if name == "glass":  # multiclass with small classes
        sampler.set_params(k_neighbors=3)
    ref_params = sampler.get_params()
    if isinstance(sampler, SMOTENC):
        ref_params["categorical_features"] = [0]
    ref, ref_y = type(sampler)(**ref_params).fit_resample(ref_X, y)
    out = sampler.fit_resample(to_kind(df.assign(target=y), kind), label="target")
    out = to_pandas(out)
    assert list(out.columns) == list(df.columns) + ["target"]
    np.testing.assert_array_equal(out["target"].to_numpy(), ref_y)
    got = out.drop(columns="target").astype(object).to_numpy()
    if isinstance(sampler, SMOTENC):
        np.testing.assert_array_equal(got[:, 0], ref[:, 0])
        np.testing.assert_array_equal(got[:, 1:].astype(float), ref[:, 1:].astype(float))
    else:
        np.testing.assert_array_equal(got.astype(np.float32), ref)
    under = RandomUnderSampler(random_state=0)
    native = to_kind(df.assign(target=y), kind)
    taken = to_pandas(under.fit_resample(native, label="target"))
    expected = to_pandas(native).iloc[under.sample_indices_].reset_index(drop=True)
    if kind == "polars" and "Sex" in df:
        # polars Categorical has no category order: to_pandas orders by appearance.
        taken, expected = (f.astype({"Sex": object}) for f in (taken, expected))
    pd.testing.assert_frame_equal(taken, expected)
