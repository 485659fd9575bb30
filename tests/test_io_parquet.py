"""The streaming engine (equipoise.io.resample_parquet and `equipoise resample`): the same answer
as the in-memory estimators, chunk after chunk under a tiny memory limit, and nothing lost when a
run fails or is stopped."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("tqdm")

from equipoise import datasets  # noqa: E402
from equipoise.cli import main as cli_main  # noqa: E402
from equipoise.cli import parse_steps  # noqa: E402
from equipoise.combine import SMOTEENN, SMOTETomek  # noqa: E402
from equipoise.io import parse_memory, resample_parquet  # noqa: E402
from equipoise.io._engine import expand_steps  # noqa: E402
from equipoise.over_sampling import (  # noqa: E402
    ADASYN,
    SMOTE,
    SMOTENC,
    BorderlineSMOTE,
    RandomOverSampler,
)
from equipoise.under_sampling import (  # noqa: E402
    EditedNearestNeighbours,
    RandomUnderSampler,
    TomekLinks,
)


def fraud_table(n=3000, d=5, seed=0, minority=0.06, classes=2, duplicates=0):
    """A continuous cloud with decreasing scales, the minority shifted onto its shoulder; an
    integer id and a timestamp that pass through."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * np.geomspace(2, 0.2, d)).astype(np.float32)
    y = np.zeros(n, dtype=np.int64)
    r = rng.random(n)
    for c in range(1, classes):
        y[(r >= minority * (c - 1)) & (r < minority * c)] = c
    X[y > 0] += 0.7 * y[y > 0, None]
    if duplicates:
        src = rng.integers(0, n, duplicates)
        dst = rng.integers(0, n, duplicates)
        X[dst] = X[src]
    cols = {f"f{j}": X[:, j] for j in range(d)}
    cols["id"] = np.arange(10_000, 10_000 + n, dtype=np.int64)
    cols["ts"] = pa.array(np.arange(n).astype("datetime64[s]"))
    cols["is_fraud"] = y
    return X, y, pa.table(cols)


def in_memory(steps, X, y):
    """The chain run in memory: final rows, labels, and for each row its input row (-1: made)."""
    ids = np.arange(len(y))
    for est in expand_steps(steps):
        est = clone(est)
        X_res, y_res = est.fit_resample(X, y)
        idx = getattr(est, "sample_indices_", None)
        if idx is not None and not isinstance(est, RandomOverSampler):
            ids = ids[idx]
        else:
            ids = np.concatenate([ids, np.full(len(y_res) - len(y), -1)])
        X, y = X_res, y_res
    return X, y, ids


def sorted_rows(A):
    return A[np.lexsort(A.T[::-1])] if len(A) else A


def run_and_compare(
    tmp_path, steps, X, y, table, memory_limit, batch_rows=256, files=1, neighbors="auto",
    reference=None,
):  # fmt: skip
    """Run the engine and check its output against the chain run in memory (``reference``, by
    default ``steps``)."""
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    bounds = np.linspace(0, table.num_rows, files + 1).astype(int)
    for i in range(files):
        pq.write_table(
            table.slice(bounds[i], bounds[i + 1] - bounds[i]),
            src / f"part-{i}.parquet",
            row_group_size=500,
        )
    target = tmp_path / "out.parquet"
    report = resample_parquet(
        src if files > 1 else src / "part-0.parquet",
        target,
        label="is_fraud",
        steps=steps,
        memory_limit=memory_limit,
        synthetic_flag="is_synthetic",
        batch_rows=batch_rows,
        overwrite=True,
        neighbors=neighbors,
    )
    out = pq.read_table(target)
    X_mem, y_mem, ids = in_memory(steps if reference is None else reference, X, y)
    made = out["is_synthetic"].to_numpy()
    d = X.shape[1]
    X_out = np.column_stack([out[f"f{j}"].to_numpy() for j in range(d)])
    # Kept input rows: the same set, every column as read.
    kept_rows = out["id"].filter(pa.array(~made)).to_numpy() - 10_000
    np.testing.assert_array_equal(np.sort(kept_rows), np.sort(ids[ids >= 0]))
    assert np.all(np.diff(kept_rows) > 0)  # input order
    as_read = pq.read_table(src) if files > 1 else pq.read_table(src / "part-0.parquet")
    orig = as_read.take(pa.array(kept_rows))
    assert out.filter(pa.array(~made)).drop_columns(["is_synthetic"]).equals(orig)
    # Made rows: the same rows, bit for bit (as a set), with their classes.
    got = np.column_stack([X_out[made], out["is_fraud"].to_numpy()[made]])
    want = np.column_stack([X_mem[ids < 0], y_mem[ids < 0]])
    np.testing.assert_array_equal(sorted_rows(got), sorted_rows(want.astype(got.dtype)))
    # Pass-through columns of made rows are null.
    assert out["id"].filter(pa.array(made)).null_count == int(made.sum())
    assert report.counts_after == np.bincount(y_mem, minlength=len(report.classes)).tolist()
    return report


STEPS = {
    "under": [RandomUnderSampler(sampling_strategy=0.2, random_state=1)],
    "smote": [SMOTE(random_state=0)],
    "over": [RandomOverSampler(random_state=0)],
    "over_shrink": [RandomOverSampler(random_state=0, shrinkage=0.5)],
    "borderline1": [BorderlineSMOTE(random_state=0)],
    "borderline2": [BorderlineSMOTE(random_state=0, kind="borderline-2")],
    "adasyn": [ADASYN(random_state=0)],
    "enn": [EditedNearestNeighbours()],
    "enn_mode_all": [EditedNearestNeighbours(kind_sel="mode", sampling_strategy="all")],
    "tomek": [TomekLinks()],
    "tomek_all": [TomekLinks(sampling_strategy="all")],
    "smoteenn": [SMOTEENN(random_state=0)],
    "smotetomek": [SMOTETomek(random_state=0)],
    "recipe": [
        RandomUnderSampler(sampling_strategy=0.1, random_state=0),
        SMOTE(random_state=0),
        TomekLinks(),
    ],
    "enn_then_under": [
        EditedNearestNeighbours(),
        RandomUnderSampler(sampling_strategy=0.3, random_state=3),
    ],
}


def tight_limit(table, steps, tmp_path, batch_rows=256):
    """Just above the run's own estimate: the minority and the rows made fit, the whole table
    does not, so the largest class is streamed in many small chunks."""
    pq.write_table(table, tmp_path / "plan.parquet")
    report = resample_parquet(
        tmp_path / "plan.parquet", tmp_path / "plan-out.parquet", label="is_fraud",
        steps=steps, dry_run=True, batch_rows=batch_rows,
    )  # fmt: skip
    (tmp_path / "plan.parquet").unlink()
    return report.estimated_bytes + 4096


@pytest.mark.parametrize(
    "name, limit",
    # Streaming the smoothed bootstrap is refused (test_smoothed_bootstrap_needs_the_whole_table).
    [(n, lim) for lim in ("big", "tight") for n in STEPS if (n, lim) != ("over_shrink", "tight")],
)
def test_same_answer_as_in_memory(tmp_path, name, limit):
    X, y, table = fraud_table()
    steps = STEPS[name]
    memory = "1GB" if limit == "big" else tight_limit(table, steps, tmp_path)
    report = run_and_compare(tmp_path, steps, X, y, table, memory)
    if limit == "tight" and name not in ("under", "recipe"):
        # The largest class was streamed, not gathered.
        assert "gather all" not in report.phases


@pytest.mark.parametrize("name", ["smotetomek", "smoteenn", "recipe"])
def test_smote_hands_its_segments_to_the_next_cleaner_in_memory(tmp_path, name, core_calls):
    """Run in memory, SMOTE then a cleaner pass SMOTE's segments to the core cleaner, as the
    in-memory SMOTETomek does, and the rows kept stay the in-memory estimators'."""
    X, y, table = fraud_table()
    seen = core_calls("edited_nearest_neighbours" if name == "smoteenn" else "tomek_links")
    report = run_and_compare(tmp_path, STEPS[name], X, y, table, "1GB")
    assert "gather all" in report.phases
    # The engine's call first, then the reference's (its steps run one by one, without segments).
    args = seen[0][0]
    assert len(seen) == 2 and len(seen[1][0]) == len(args) - 2
    pairs, first = args[-2], args[-1]
    n_made = len(args[1]) - first  # SMOTE's new rows, the last rows (the cleaner drops some)
    assert pairs.shape == (n_made, 2) and n_made >= report.made_rows > 0
    if name != "recipe":  # the recipe under-samples first
        assert first == len(y)
    x = args[0]
    for i in range(0, n_made, 37):  # every new row on the segment of its two rows
        a, b, o = (x[pairs[i, 0]].astype(np.float64), x[pairs[i, 1]], x[first + i])
        t = np.dot(o - a, b - a) / max(np.dot(b - a, b - a), 1e-30)
        np.testing.assert_allclose(o, a + np.clip(t, 0, 1) * (b - a), atol=1e-5)


@pytest.mark.parametrize("limit", ["big", "tight"])
def test_neighbors_reaches_the_steps_run_in_memory(tmp_path, limit, core_calls):
    """``neighbors="hnsw"`` is set on every step that runs in memory: all of them when the rows
    fit, the over-sampler on the classes it grows otherwise, whose rows are then those of the
    in-memory SMOTE with HNSW. A cleaner streamed in chunks stays exact (the in-memory exact
    TomekLinks' rows); a step's own ``neighbors`` is kept."""
    X, y, table = fraud_table()
    pq.write_table(table, tmp_path / "probe.parquet")
    steps = [SMOTE(random_state=0), TomekLinks()]
    memory = "1GB" if limit == "big" else tight_limit(table, steps, tmp_path)
    calls = core_calls("kneighbors")
    resample_parquet(
        tmp_path / "probe.parquet", tmp_path / "probe-out.parquet", label="is_fraud",
        steps=steps, memory_limit=memory, neighbors="hnsw", batch_rows=256,
    )  # fmt: skip
    n_min = int((y == 1).sum())
    algorithms = [(len(args[0]), kw["algorithm"]) for args, kw in calls]
    # SMOTE's graph over the minority (and, in memory, Tomek links' over every row) is HNSW's.
    assert (n_min, "hnsw") in algorithms
    if limit == "big":
        assert any(n > n_min and a == "hnsw" for n, a in algorithms)
    else:
        assert all(a != "hnsw" for n, a in algorithms if n > n_min)
    # Given the steps' own setting, the run's is not used.
    calls.clear()
    resample_parquet(
        tmp_path / "probe.parquet", tmp_path / "probe-out.parquet", label="is_fraud",
        steps=[SMOTE(random_state=0, neighbors="kdtree")], neighbors="hnsw", overwrite=True,
    )  # fmt: skip
    assert calls and all(kw["algorithm"] == "kdtree" for _, kw in calls)
    calls.stop()
    reference = [
        SMOTE(random_state=0, neighbors="hnsw"),
        TomekLinks(neighbors="hnsw" if limit == "big" else "exact"),
    ]
    run_and_compare(tmp_path, steps, X, y, table, memory, neighbors="hnsw", reference=reference)


def test_neighbors_bad_value_is_refused(tmp_path, src):
    with pytest.raises(ValueError, match="neighbors must be one of"):
        resample_parquet(
            src, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()], neighbors="ball"
        )
    with pytest.raises(ValueError, match="unknown neighbors option"):
        resample_parquet(
            src, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()], neighbors={"m": 8}
        )
    _no_output(tmp_path)


@pytest.mark.parametrize("name", ["enn", "tomek_all", "smoteenn", "borderline2"])
def test_multiclass_duplicates_and_many_files(tmp_path, name):
    X, y, table = fraud_table(n=2500, classes=3, duplicates=300, seed=4)
    steps = STEPS[name]
    run_and_compare(tmp_path, steps, X, y, table, tight_limit(table, steps, tmp_path), files=3)


def test_bundled_real_dataset(tmp_path):
    X, y, _ = datasets.load("mammography", numeric_only=True)
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    cols = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    cols["id"] = np.arange(10_000, 10_000 + len(y))
    cols["is_fraud"] = y
    table = pa.table(cols)
    steps = [SMOTE(random_state=0), TomekLinks(sampling_strategy="all")]
    limit = 12 * len(y) + 3 * int(2 * np.bincount(y).max()) * X.shape[1] * 8 + 200_000
    run_and_compare(tmp_path, steps, X, y, table, limit, batch_rows=2048)
    run_and_compare(tmp_path, [EditedNearestNeighbours()], X, y, table, limit, batch_rows=2048)


def test_csv_source_and_directory_target(tmp_path):
    import pyarrow.csv as pcsv

    X, y, table = fraud_table(n=800)
    table = table.drop_columns(["ts"])
    pcsv.write_csv(table, tmp_path / "in.csv")
    resample_parquet(
        tmp_path / "in.csv", tmp_path / "outdir", label="is_fraud", steps=[SMOTE(random_state=0)]
    )
    out = pq.read_table(tmp_path / "outdir")
    read = pcsv.read_csv(tmp_path / "in.csv")
    X = np.column_stack([read[f"f{j}"].to_numpy() for j in range(5)])
    X_mem, _, _ = in_memory([SMOTE(random_state=0)], X, y)
    got = np.column_stack([out[f"f{j}"].to_numpy() for j in range(5)])
    np.testing.assert_array_equal(sorted_rows(got), sorted_rows(X_mem))


def test_float32_stays_float32_and_integer_features_truncate(tmp_path):
    X, y, table = fraud_table(n=600)
    table = table.append_column("count", pa.array(np.arange(600) % 7, type=pa.int32()))
    pq.write_table(table, tmp_path / "in.parquet")
    resample_parquet(
        tmp_path / "in.parquet",
        tmp_path / "out.parquet",
        label="is_fraud",
        steps=[SMOTE(random_state=0)],
        features=["f0", "f1", "count"],
    )
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.equals(pq.read_schema(tmp_path / "in.parquet"))
    assert out["count"].type == pa.int32()
    assert out["id"].null_count == out.num_rows - 600  # id passes through (not a feature)
    # f2..f4 are not features: made rows get nulls there.
    assert out["f2"].null_count == out.num_rows - 600


def test_default_features_leave_integers_and_times_out(tmp_path):
    _, _, table = fraud_table(n=300)
    pq.write_table(table, tmp_path / "in.parquet")
    report = resample_parquet(
        tmp_path / "in.parquet", tmp_path / "o.parquet", label="is_fraud", steps=[TomekLinks()]
    )
    assert report.features == ["f0", "f1", "f2", "f3", "f4"]
    assert report.passthrough == ["id", "ts"]


# -- nothing lost, ever -------------------------------------------------------------------------


def categorical_table(n=3000, seed=0):
    """Numeric features with categorical columns of each kind a fraud table has: strings
    (merchant), a dictionary (country), integer codes far beyond float32's exact range (MCC) and a
    flag; an id that passes through."""
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, 4)) * np.geomspace(2, 0.2, 4)).astype(np.float32)
    y = (rng.random(n) < 0.06).astype(np.int64)
    X[y > 0] += 0.7
    cats = {
        # The minority favours a few merchants, so that the neighbours' modes are not all ties.
        "merchant": np.array([f"m{v:02d}" for v in rng.integers(0, 12, n) % (12 - 8 * y)]),
        "country": np.array(["FR", "DE", "US", "ES", "ÉI"], dtype=object)[rng.integers(0, 5, n)],
        "mcc": 10**12 + rng.integers(0, 6, n) * 7,
        "card_present": rng.random(n) < 0.3,
    }
    cols = {
        "f0": X[:, 0], "merchant": cats["merchant"], "f1": X[:, 1],
        "country": pa.array(cats["country"]).dictionary_encode(), "f2": X[:, 2],
        "mcc": cats["mcc"], "f3": X[:, 3], "card_present": cats["card_present"],
        "id": np.arange(10_000, 10_000 + n), "is_fraud": y,
    }  # fmt: skip
    import pandas as pd

    frame = pd.DataFrame({k: cats[k] if k == "country" else np.asarray(v) for k, v in cols.items()})
    return frame.drop(columns=["id", "is_fraud"]), y, pa.table(cols)


CATEGORICAL = ["merchant", "country", "mcc", "card_present"]


@pytest.mark.parametrize("limit", ["big", "tight"])
@pytest.mark.parametrize("under", [False, True])
def test_smotenc_categorical_columns_same_answer_as_in_memory(tmp_path, limit, under):
    """SMOTENC streamed over string, dictionary, integer and boolean categorical columns: the rows
    it makes are the in-memory SMOTENC's on the same frame (as a set), with categories as values
    of their column's type; input rows pass through untouched."""
    frame, y, table = categorical_table()
    smotenc = SMOTENC(categorical_features=CATEGORICAL, random_state=0)
    steps = [RandomUnderSampler(sampling_strategy=0.2, random_state=1)] * under + [smotenc]
    memory = "1GB" if limit == "big" else tight_limit(table, steps, tmp_path)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=500)
    report = resample_parquet(
        tmp_path / "in.parquet", tmp_path / "out.parquet", label="is_fraud", steps=steps,
        memory_limit=memory, synthetic_flag="is_synthetic", batch_rows=256,
    )  # fmt: skip
    assert report.features == ["f0", "merchant", "f1", "country", "f2", "mcc", "f3", "card_present"]
    if limit == "tight":
        assert "gather all" not in report.phases
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema == table.schema.append(pa.field("is_synthetic", pa.bool_(), nullable=False))
    made = out["is_synthetic"].to_numpy()
    # In memory, on the same frame.
    X_mem, y_mem, ids = frame, y, np.arange(len(y))
    for est in steps:
        est = clone(est)
        X_res, y_res = est.fit_resample(X_mem, y_mem)
        idx = getattr(est, "sample_indices_", None)
        if idx is not None:
            ids = ids[idx]
        else:
            ids = np.concatenate([ids, np.full(len(y_res) - len(y_mem), -1)])
        X_mem, y_mem = X_res, y_res
    kept = out["id"].filter(pa.array(~made)).to_numpy() - 10_000
    np.testing.assert_array_equal(np.sort(kept), np.sort(ids[ids >= 0]))
    orig = table.take(pa.array(kept))
    assert out.filter(pa.array(~made)).drop_columns(["is_synthetic"]).equals(orig)
    got = out.filter(pa.array(made)).drop_columns(["is_synthetic", "id"]).to_pandas()
    got["country"] = got["country"].astype(object)
    want = X_mem.iloc[len(ids[ids >= 0]) :].copy()
    want["is_fraud"] = y_mem[ids < 0]
    cols = list(want.columns)
    key = lambda f: f[cols].astype(object).sort_values(cols).reset_index(drop=True)  # noqa: E731
    assert len(got) == int((ids < 0).sum()) > 0
    assert key(got).equals(key(want))
    # The integer codes stayed exact (float32 features hold codes, not the values).
    assert set(got["mcc"]) <= set(frame["mcc"])
    assert out["id"].filter(pa.array(made)).null_count == int(made.sum())


@pytest.mark.parametrize(
    "steps, mutate, exc, match",
    [
        ([SMOTENC(categorical_features=["merchant"]), TomekLinks()], None, TypeError,
         "TomekLinks cannot run on the categorical columns"),
        ([SMOTENC(categorical_features=[1])], None, ValueError, "by name"),
        ([RandomOverSampler(shrinkage=0.5), SMOTENC(categorical_features=["merchant"])], None,
         TypeError, "RandomOverSampler cannot run on the categorical columns"),
        ([SMOTENC(categorical_features=["merchant"]), SMOTENC(categorical_features=["mcc"])],
         None, ValueError, "same categorical columns"),
        ([SMOTENC(categorical_features=["nope"])], None, KeyError, "nope"),
        ([SMOTE()], None, TypeError, "'merchant' is string, not numeric"),
        ([SMOTENC(categorical_features=["merchant"])], "null", ValueError,
         r"categorical column 'merchant' is null in .*row 7"),
    ],
)  # fmt: skip
def test_smotenc_streamed_refusals(tmp_path, steps, mutate, exc, match):
    _, _, table = categorical_table(n=400)
    if mutate == "null":
        m = table["merchant"].to_pylist()
        m[7] = None
        table = table.set_column(1, "merchant", pa.array(m))
    pq.write_table(table, tmp_path / "in.parquet")
    features = ["f0", "f1", "merchant"] if isinstance(steps[0], SMOTE) else None
    with pytest.raises(exc, match=match):
        resample_parquet(
            tmp_path / "in.parquet", tmp_path / "out.parquet", label="is_fraud", steps=steps,
            features=features,
        )  # fmt: skip
    assert not (tmp_path / "out.parquet").exists()


@pytest.fixture
def src(tmp_path):
    _, _, table = fraud_table(n=1500)
    path = tmp_path / "in.parquet"
    pq.write_table(table, path, row_group_size=300)
    return path


def _untouched(path, before):
    assert path.read_bytes() == before


def _no_output(tmp_path, name="out.parquet"):
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("in.parquet", "in")]
    assert not (tmp_path / name).exists()
    assert leftovers == [], leftovers


@pytest.mark.parametrize(
    "mutate, match",
    [
        (
            lambda t: t.set_column(
                7, "is_fraud", pa.array([None] + [0] * (t.num_rows - 1), pa.int64())
            ),
            "null in row 0",
        ),
        (
            lambda t: t.set_column(
                2, "f2", pa.array(np.r_[np.float32(np.nan), np.zeros(t.num_rows - 1, np.float32)])
            ),
            "NaN: column 'f2', row 0",
        ),
        (
            lambda t: t.set_column(
                3,
                "f3",
                pa.array(
                    np.r_[
                        np.zeros(5, np.float32),
                        np.float32(np.inf),
                        np.zeros(t.num_rows - 6, np.float32),
                    ]
                ),
            ),
            "infinity: column 'f3', row 5",
        ),
        (
            lambda t: t.set_column(7, "is_fraud", pa.array(np.zeros(t.num_rows, np.int64))),
            "single class",
        ),
        (lambda t: t.drop_columns(["is_fraud"]), "label column 'is_fraud' is not in the input"),
        (lambda t: t.set_column(1, "f1", pa.array([None] * t.num_rows, pa.float32())), "is null"),
    ],
    ids=["null-label", "nan", "inf", "one-class", "no-label", "null-feature"],
)
def test_bad_input_is_refused_with_nothing_written(tmp_path, mutate, match):
    _, _, table = fraud_table(n=1500)
    path = tmp_path / "in.parquet"
    pq.write_table(mutate(table), path, row_group_size=300)
    before = path.read_bytes()
    with pytest.raises((ValueError, KeyError), match=match):
        resample_parquet(path, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()])
    _untouched(path, before)
    _no_output(tmp_path)


def test_schema_differs_between_files(tmp_path):
    _, _, table = fraud_table(n=600)
    d = tmp_path / "in"
    d.mkdir()
    pq.write_table(table, d / "a.parquet")
    pq.write_table(table.set_column(0, "f0", table["f0"].cast(pa.float64())), d / "b.parquet")
    with pytest.raises(ValueError, match=r"column 'f0' is double in .*b.parquet"):
        resample_parquet(d, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()])
    _no_output(tmp_path)


def test_corrupt_file(tmp_path, src):
    data = src.read_bytes()
    (tmp_path / "in").mkdir()
    bad = tmp_path / "in" / "bad.parquet"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read .*bad.parquet"):
        resample_parquet(bad, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()])
    assert not (tmp_path / "out.parquet").exists()


def test_target_may_not_be_the_input(tmp_path, src):
    before = src.read_bytes()
    with pytest.raises((ValueError, FileExistsError), match="input|exists"):
        resample_parquet(src, src, label="is_fraud", steps=[SMOTE()], overwrite=True)
    _untouched(src, before)
    with pytest.raises(ValueError, match="holds the input file"):
        resample_parquet(tmp_path, tmp_path, label="is_fraud", steps=[SMOTE()], overwrite=True)
    _untouched(src, before)


def test_existing_target_needs_overwrite(tmp_path, src):
    (tmp_path / "out.parquet").write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        resample_parquet(src, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()])
    assert (tmp_path / "out.parquet").read_bytes() == b"keep me"


def test_memory_refused_up_front(tmp_path, src):
    with pytest.raises(MemoryError, match=r"needs an estimated .* above memory_limit = 1000 B"):
        resample_parquet(
            src, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()], memory_limit=1000
        )
    _no_output(tmp_path)


def test_smoothed_bootstrap_needs_the_whole_table(tmp_path, src):
    steps = [RandomOverSampler(sampling_strategy=0.2, shrinkage=0.5)]
    limit = tight_limit(pq.read_table(src), steps, tmp_path)
    with pytest.raises(MemoryError, match="shrinkage"):
        resample_parquet(
            src, tmp_path / "out.parquet", label="is_fraud", steps=steps, memory_limit=limit,
            batch_rows=256,
        )  # fmt: skip
    _no_output(tmp_path)


def test_parse_memory():
    assert parse_memory("8GB") == 8 * 10**9
    assert parse_memory("512MiB") == 512 << 20
    assert parse_memory("1.5G") == 3 << 29
    assert parse_memory(4096) == 4096
    for bad in ("lots", "-1GB", 0, "0"):
        with pytest.raises(ValueError):
            parse_memory(bad)


def _child(script: str, tmp_path, **kw):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


CHILD = """
    import sys, time
    from equipoise.io import resample_parquet
    from equipoise.io import _engine
    from equipoise.over_sampling import SMOTE
    slow = _engine._Run._read_rows
    def read_slowly(self, wanted, desc):
        for item in slow(self, wanted, desc):
            print("reading", flush=True)
            time.sleep(0.05)
            yield item
    _engine._Run._read_rows = read_slowly
    resample_parquet("in.parquet", "out.parquet", label="is_fraud", steps=[SMOTE()],
                     batch_rows=20, progress=False)
"""


def test_sigkill_leaves_no_output_and_the_next_run_cleans_up(tmp_path, src):
    before = src.read_bytes()
    p = _child(CHILD, tmp_path)
    assert p.stdout.readline().startswith("reading")
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    assert not (tmp_path / "out.parquet").exists()
    _untouched(src, before)
    resample_parquet(src, tmp_path / "out.parquet", label="is_fraud", steps=[SMOTE()])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]


def test_ctrl_c_stops_within_a_second_leaving_nothing(tmp_path, src):
    before = src.read_bytes()
    script = CHILD.replace(
        "    resample_parquet(",
        "    try:\n        resample_parquet(",
    ).replace(
        "batch_rows=20, progress=False)",
        "batch_rows=20, progress=False)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', time.monotonic(), flush=True)\n",
    )
    p = _child(script, tmp_path)
    assert p.stdout.readline().startswith("reading")
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    line = [x for x in out.splitlines() if x.startswith("interrupted")]
    assert line, err
    assert float(line[0].split()[1]) - sent < 1.0
    _untouched(src, before)
    _no_output(tmp_path)


def test_full_disk_leaves_no_partial_output(tmp_path, src):
    # A file-size limit makes the writer fail part-way, as a full disk would.
    before = src.read_bytes()
    script = """
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        from equipoise.io import resample_parquet
        from equipoise.over_sampling import SMOTE
        resample_parquet("in.parquet", "out.parquet", label="is_fraud", steps=[SMOTE()],
                         progress=False)
    """
    p = _child(script, tmp_path)
    out, err = p.communicate(timeout=60)
    assert p.returncode != 0
    assert "File too large" in err or "EFBIG" in err or "OSError" in err, err
    _untouched(src, before)
    _no_output(tmp_path)
    assert resource.getrlimit(resource.RLIMIT_FSIZE)  # the parent is not limited


# -- the command line -------------------------------------------------------------------------


def test_cli_resample_and_dry_run(tmp_path, src, capsys):
    rc = cli_main(
        [
            "resample", str(src), str(tmp_path / "out.parquet"), "--label", "is_fraud",
            "--steps", "under:0.1,smote,tomek", "--random-state", "0", "--dry-run",
        ]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "RandomUnderSampler: keeps" in text and "SMOTE: makes" in text
    assert "pass-through columns: ['id', 'ts']" in text and "memory: estimated" in text
    assert not (tmp_path / "out.parquet").exists()
    rc = cli_main(
        [
            "resample", str(src), str(tmp_path / "out.parquet"), "--label", "is_fraud",
            "--steps", "under:0.1,smote:k_neighbors=3,tomek", "--random-state", "0", "-q",
            "--synthetic-flag", "made", "--neighbors", "hnsw",
        ]
    )  # fmt: skip
    assert rc == 0
    out = pq.read_table(tmp_path / "out.parquet")
    X, y, _ = fraud_table(n=1500)
    steps = [
        RandomUnderSampler(sampling_strategy=0.1, random_state=0),
        SMOTE(k_neighbors=3, random_state=0, neighbors="hnsw"),
        TomekLinks(neighbors="hnsw"),  # the rows left fit in memory: every step runs there
    ]
    _, y_mem, ids = in_memory(steps, X, y)
    assert out.num_rows == len(y_mem) and int(out["made"].to_numpy().sum()) == int((ids < 0).sum())


def test_cli_smotenc_with_categorical_columns(tmp_path, capsys):
    frame, y, table = categorical_table(n=1200)
    pq.write_table(table, tmp_path / "in.parquet")
    rc = cli_main(
        [
            "resample", str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), "--label",
            "is_fraud", "--steps", "under:0.2,smotenc:k_neighbors=3", "--categorical",
            "merchant,country", "--exclude", "card_present", "--random-state", "0", "-q",
            "--synthetic-flag", "made",
        ]
    )  # fmt: skip
    assert rc == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("country").type == table.schema.field("country").type
    X, y_mem = frame.drop(columns=["mcc", "card_present"]), y
    for est in [
        RandomUnderSampler(sampling_strategy=0.2, random_state=0),
        SMOTENC(categorical_features=["merchant", "country"], k_neighbors=3, random_state=0),
    ]:
        X, y_mem = est.fit_resample(X, y_mem)
    made = out.filter(out["made"]).to_pandas()
    assert out.num_rows == len(y_mem) and len(made) > 0
    want = X.iloc[out.num_rows - len(made) :]
    cols = ["f0", "merchant", "f1", "country", "f2", "f3"]
    key = lambda f: f[cols].astype(object).sort_values(cols).reset_index(drop=True)  # noqa: E731
    assert key(made).equals(key(want))
    rc = cli_main(
        [
            "resample", str(tmp_path / "in.parquet"), str(tmp_path / "out2.parquet"), "--label",
            "is_fraud", "--steps", "smotenc",
        ]
    )  # fmt: skip
    assert rc != 0 and "--categorical" in capsys.readouterr().err
    assert not (tmp_path / "out2.parquet").exists()


def test_cli_errors_exit_nonzero(tmp_path, src, capsys):
    rc = cli_main(
        ["resample", str(src), str(tmp_path / "o.parquet"), "--label", "nope", "--steps", "smote"]
    )
    assert rc == 1 and "label column 'nope'" in capsys.readouterr().err
    rc = cli_main(
        [
            "resample",
            str(src),
            str(tmp_path / "o.parquet"),
            "--label",
            "is_fraud",
            "--steps",
            "smoth",
        ]
    )
    assert rc == 1 and "unknown step 'smoth'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="has no parameter 'k'"):
        parse_steps("smote:k=3")
    with pytest.raises(SystemExit) as e:  # argparse's usage error, exit code 2
        cli_main(
            ["resample", str(src), str(tmp_path / "o.parquet"), "--label", "is_fraud",
             "--steps", "smote", "--neighbors", "ball"]
        )  # fmt: skip
    assert e.value.code == 2 and "invalid choice: 'ball'" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    assert os.path.exists(src)


def test_cli_subprocess_exit_code(tmp_path, src):
    p = subprocess.run(
        [sys.executable, "-m", "equipoise.cli", "resample", str(src), str(tmp_path / "o.parquet"),
         "--label", "is_fraud", "--steps", "smote", "--memory-limit", "1KB"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 1 and "memory_limit" in p.stderr
    assert not Path(tmp_path / "o.parquet").exists()
