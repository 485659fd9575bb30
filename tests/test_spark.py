"""equipoise.spark in Spark local mode (local[2]): the rows kept and made equal the in-memory
estimators' on the same data in canonical order, for any number of partitions; exact class counts;
clear errors on bad input. Skipped without pyspark (.ci/run installs a pinned one in its own step).
"""

from __future__ import annotations

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")

from imblearn.under_sampling import RandomUnderSampler as ImbRUS  # noqa: E402

from equipoise.combine import SMOTEENN, SMOTETomek  # noqa: E402
from equipoise.datasets import load  # noqa: E402
from equipoise.over_sampling import (  # noqa: E402
    ADASYN,
    SMOTE,
    BorderlineSMOTE,
    RandomOverSampler,
)
from equipoise.under_sampling import (  # noqa: E402
    EditedNearestNeighbours,
    RandomUnderSampler,
    TomekLinks,
)

pytestmark = [
    # pyspark 4.x warns that it does not fully support pandas 3 (the tests do not use pandas).
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark"),
]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("equipoise-tests")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Keep the canonical sort's partitions: adaptive execution would coalesce this small data
        # into one partition, and the multi-partition paths (bound per partition, then verify
        # over every partition) would go untested.
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def frame(spark, X, y, partitions, extra=None):
    """A DataFrame of features f0.., label y (and extra columns), split into ``partitions``."""
    cols = {f"f{j}": pa.array(X[:, j]) for j in range(X.shape[1])}
    cols["y"] = pa.array(y)
    for name, v in (extra or {}).items():
        cols[name] = pa.array(v)
    t = pa.table(cols)
    return spark.createDataFrame(t).repartition(partitions)


def result(df_out, d):
    t = df_out.toArrow()
    X = np.column_stack([t.column(f"f{j}").to_numpy() for j in range(d)])
    return X, t.column("y").to_numpy(zero_copy_only=False), t


def as_set(X, y):
    """Rows with their labels, sorted: equality as multisets, bit for bit."""
    m = np.column_stack([X.astype(np.float64), y.astype(np.float64)])
    return m[np.lexsort(m.T[::-1])]


def canonical(X, y, extra=None):
    """The rows sorted by every column in schema order (features, then y), as the engine sorts
    them without order_by."""
    keys = [X[:, j] for j in range(X.shape[1])] + [y] + list(extra or [])
    order = np.lexsort(keys[::-1])
    return X[order], y[order]


def in_memory_chain(X, y, steps):
    """The in-memory chain with the engine's order between steps: kept rows in position order, then
    the new rows in the order the estimator appends them."""
    for s in steps:
        if isinstance(s, SMOTEENN | SMOTETomek):
            cleaner = s._validate_estimator()
            X, y = in_memory_chain(X, y, [s.smote_, cleaner])
            continue
        Xr, yr = s.fit_resample(X, y)
        idx = getattr(s, "sample_indices_", None)
        if idx is not None and not isinstance(s, RandomOverSampler):
            idx = np.sort(idx, kind="stable")
            X, y = X[idx], y[idx]
        else:
            X, y = Xr, yr
    return X, y


def real():
    X, y, _ = load("yeast_me2")
    return X.astype(np.float64), np.asarray(y)


SAMPLERS = [
    RandomUnderSampler(random_state=3),
    RandomUnderSampler(sampling_strategy=0.3, replacement=True, random_state=4),
    RandomOverSampler(random_state=5),
    SMOTE(random_state=0),
    BorderlineSMOTE(random_state=1),
    BorderlineSMOTE(kind="borderline-2", random_state=2),
    ADASYN(random_state=3),
    EditedNearestNeighbours(),
    EditedNearestNeighbours(kind_sel="mode", n_neighbors=5),
    TomekLinks(),
    SMOTEENN(random_state=6),
    SMOTETomek(random_state=7),
]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: repr(s).replace(" ", ""))
def test_equals_in_memory_on_a_real_dataset(spark, sampler):
    from equipoise.spark import fit_resample

    X, y = real()
    df = frame(spark, X, y, 3)
    Xs, ys, _ = result(fit_resample(df, label="y", steps=[sampler]), X.shape[1])
    Xc, yc = canonical(X, y)
    Xr, yr = in_memory_chain(Xc, yc, [sampler])
    assert len(Xs) == len(Xr)
    np.testing.assert_array_equal(as_set(Xs, ys), as_set(Xr, yr))


def synthetic(n=4000, d=5, seed=0, classes=(0, 1), p=(0.93, 0.07)):
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(classes), size=n, p=p)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 0] += (y == classes[-1]) * 1.5
    # Coarse values on one column: exact distance ties that positions must break.
    X[:, 1] = np.round(X[:, 1])
    return X, y


@pytest.mark.parametrize(
    "steps",
    [
        [
            RandomUnderSampler(sampling_strategy=0.2, random_state=1),
            SMOTE(random_state=0),
            TomekLinks(),
        ],
        [SMOTE(sampling_strategy=0.5, random_state=2), EditedNearestNeighbours()],
        [EditedNearestNeighbours(n_neighbors=4), TomekLinks()],
    ],
    ids=["under-smote-tomek", "smote-enn", "enn-tomek"],
)
def test_partition_count_independence_and_equality(spark, steps):
    """A multi-partition float32 set with an id column as order_by: the same rows for 1, 3 and 7
    partitions, equal to the in-memory chain on the rows sorted by id."""
    from equipoise.spark import fit_resample

    X, y = synthetic()
    ids = np.random.default_rng(9).permutation(len(y)).astype(np.int64)
    order = np.argsort(ids)
    Xr, yr = in_memory_chain(X[order], y[order], steps)
    outs = []
    for parts in (1, 3, 7):
        df = frame(spark, X, y, parts, {"id": ids})
        # The canonical sort's partitions (the ones the steps run on) as well as the input's.
        spark.conf.set("spark.sql.shuffle.partitions", str(parts))
        try:
            out = fit_resample(
                df, label="y", steps=steps, order_by="id", features=["f0", "f1", "f2", "f3", "f4"]
            )
            Xs, ys, t = result(out, X.shape[1])
            assert out.rdd.getNumPartitions() >= parts
        finally:
            spark.conf.set("spark.sql.shuffle.partitions", "4")
        assert t.column("f0").type == pa.float32()  # float32 stays float32
        outs.append(as_set(Xs, ys))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    np.testing.assert_array_equal(outs[0], as_set(Xr, yr))


def test_multiclass_string_labels(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=3000, classes=("a", "b", "c"), p=(0.8, 0.15, 0.05))
    X = X.astype(np.float64)
    steps = [SMOTE(random_state=4), EditedNearestNeighbours(sampling_strategy="all")]
    Xs, ys, _ = result(fit_resample(frame(spark, X, y, 4), label="y", steps=steps), X.shape[1])
    Xc, yc = canonical(X, y)
    Xr, yr = in_memory_chain(Xc, yc, steps)
    np.testing.assert_array_equal(
        as_set(Xs, ys.astype("U1").view(np.uint32)), as_set(Xr, yr.astype("U1").view(np.uint32))
    )


@pytest.mark.parametrize("strategy", ["auto", "all"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_tomek_links_over_many_partitions(spark, n_classes, strategy):
    """Tomek links over 8 partitions, equal to the in-memory estimator. With one class beside the
    largest, every link has a row of the largest class, which its own partition leaves open: the
    open rows and the gathered rows nearest them are verified, and most of the open rows here are
    in a link in their partition only (a nearer row of the largest class lies in another). With
    two classes beside it, links may join two gathered rows, so every gathered row is verified;
    the data has such links."""
    from equipoise.spark import fit_resample

    if n_classes == 2:
        X, y = synthetic(n=3000)
    else:
        X, y = synthetic(n=3000, classes=(0, 1, 2), p=(0.8, 0.12, 0.08))
        X[:, 0] += (y == 1) * 0.75
    steps = [TomekLinks(sampling_strategy=strategy)]
    spark.conf.set("spark.sql.shuffle.partitions", "8")
    try:
        out = fit_resample(frame(spark, X, y, 8), label="y", steps=steps)
        Xs, ys, _ = result(out, X.shape[1])
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    Xc, yc = canonical(X, y)
    Xr, yr = in_memory_chain(Xc, yc, steps)
    assert len(yr) < len(yc)
    np.testing.assert_array_equal(as_set(Xs, ys), as_set(Xr, yr))
    if n_classes == 3:
        # Links between the two smaller classes (mutual nearest rows, by scikit-learn).
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=2).fit(Xc).kneighbors(Xc)[1][:, 1]
        mutual = np.flatnonzero(nn[nn] == np.arange(len(nn)))
        assert any({yc[i], yc[nn[i]]} == {1, 2} for i in mutual)


@pytest.mark.parametrize("strategy", [0.25, "auto", {0: 500, 1: 100}])
@pytest.mark.parametrize("parts", [1, 7])
def test_random_under_sampling_exact_counts(spark, strategy, parts):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=3000)
    ref = ImbRUS(sampling_strategy=strategy, random_state=0)
    _, y_imb = ref.fit_resample(X, y)
    out = fit_resample(
        frame(spark, X, y, parts),
        label="y",
        steps=[RandomUnderSampler(sampling_strategy=strategy, random_state=8)],
    )
    _, ys, _ = result(out, X.shape[1])
    np.testing.assert_array_equal(np.bincount(ys, minlength=2), np.bincount(y_imb, minlength=2))


@pytest.mark.parametrize("parts", [1, 7])
def test_random_over_sampling_exact_counts_and_flag(spark, parts):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=2000)
    ids = np.arange(len(y), dtype=np.int64)
    out = fit_resample(
        frame(spark, X, y, parts, {"id": ids}),
        label="y",
        steps=[RandomOverSampler(sampling_strategy=0.5, random_state=1)],
        order_by="id",
        features=[f"f{j}" for j in range(5)],
        synthetic_flag="is_synthetic",
    )
    Xs, ys, t = result(out, X.shape[1])
    counts = np.bincount(y)
    want = [counts[0], int(0.5 * counts[0])]
    np.testing.assert_array_equal(np.bincount(ys), want)
    flag = t.column("is_synthetic").to_numpy(zero_copy_only=False)
    assert flag.sum() == want[1] - counts[1]
    # The copies are whole rows, pass-through columns included (as imbalanced-learn copies them).
    assert t.column("id").null_count == 0
    made_ids = t.column("id").to_numpy()[flag]
    assert np.isin(made_ids, ids[y == 1]).all()
    assert out.columns == df_columns(X) + ["y", "id", "is_synthetic"]


def df_columns(X):
    return [f"f{j}" for j in range(X.shape[1])]


def test_smote_new_rows_are_the_in_memory_ones_bit_for_bit(spark):
    """More new rows than one 4096-row stream and one task (blocks made on several executors)."""
    from equipoise.spark import fit_resample

    X, y = synthetic(n=5000, p=(0.98, 0.02))
    ids = np.arange(len(y), dtype=np.int64)[::-1].copy()
    steps = [SMOTE(sampling_strategy={1: 80_000}, random_state=11)]
    out = fit_resample(
        frame(spark, X, y, 3, {"id": ids}),
        label="y",
        steps=steps,
        order_by="id",
        features=df_columns(X),
        synthetic_flag="made",
    )
    t = out.filter("made").toArrow()
    assert t.column("id").null_count == t.num_rows  # made rows: pass-through columns are null
    Xs = np.column_stack([t.column(f"f{j}").to_numpy() for j in range(5)])
    order = np.argsort(ids)
    Xr, _ = steps[0].fit_resample(X[order], y[order])
    new = Xr[len(X) :]
    assert len(Xs) == len(new) == 80_000 - (y == 1).sum()
    np.testing.assert_array_equal(as_set(Xs, np.zeros(len(Xs))), as_set(new, np.zeros(len(new))))


# ----------------------------------------------------------------------------------- bad input


def test_missing_label_column(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=200)
    with pytest.raises(ValueError, match="label column 'target' is not in the DataFrame"):
        fit_resample(frame(spark, X, y, 2), label="target", steps=[SMOTE()])


def test_null_labels(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=200)
    t = pa.table(
        {
            "f0": X[:, 0],
            "f1": X[:, 1],
            "y": pa.array([None if i % 50 == 0 else int(v) for i, v in enumerate(y)]),
        }
    )
    with pytest.raises(ValueError, match="label column 'y' has 4 null values"):
        fit_resample(spark.createDataFrame(t), label="y", steps=[SMOTE()])


def test_non_numeric_feature(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=200)
    df = frame(spark, X, y, 2, {"name": np.array([f"r{i}" for i in range(200)])})
    with pytest.raises(
        TypeError, match="feature column 'name' has type string, not a numeric type"
    ):
        fit_resample(df, label="y", steps=[SMOTE()], features=["f0", "name"])
    # Without features=, the string column is passed through, not a feature.
    out = fit_resample(df, label="y", steps=[RandomUnderSampler(random_state=0)])
    assert out.columns == df.columns


def test_one_class(spark):
    from equipoise.spark import fit_resample

    X, _ = synthetic(n=100)
    with pytest.raises(ValueError, match="needs to have more than 1 class. Got 1 class"):
        fit_resample(frame(spark, X, np.zeros(100, dtype=np.int64), 2), label="y", steps=[SMOTE()])


def test_nan_in_a_feature(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=200)
    X[17, 3] = np.nan
    with pytest.raises(ValueError, match="feature column 'f3' has 1 null, NaN or infinite"):
        fit_resample(frame(spark, X, y, 2), label="y", steps=[TomekLinks()])


def test_unsupported_sampler_and_options(spark):
    from equipoise.over_sampling import SMOTEN
    from equipoise.spark import fit_resample

    X, y = synthetic(n=200)
    df = frame(spark, X, y, 2)
    with pytest.raises(TypeError, match="SMOTEN is not supported here"):
        fit_resample(df, label="y", steps=[SMOTEN()])
    with pytest.raises(NotImplementedError, match="shrinkage"):
        fit_resample(df, label="y", steps=[RandomOverSampler(shrinkage=1.0)])
    with pytest.raises(ValueError, match="steps must be a non-empty list"):
        fit_resample(df, label="y", steps=[])


def test_gather_limit_is_a_clear_error(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=2000)
    with pytest.raises(MemoryError, match="more than max_gather_bytes=0.0 MB"):
        fit_resample(frame(spark, X, y, 2), label="y", steps=[SMOTE()], max_gather_bytes="1KB")


def test_input_untouched(spark):
    from equipoise.spark import fit_resample

    X, y = synthetic(n=500)
    df = frame(spark, X, y, 3)
    before = as_set(*result(df, 5)[:2])
    fit_resample(df, label="y", steps=[SMOTE(random_state=0)]).count()
    np.testing.assert_array_equal(as_set(*result(df, 5)[:2]), before)
