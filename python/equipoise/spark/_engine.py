"""The Spark engine: canonical order, per-step plans from class counts, and each step's work in
``mapInArrow`` on the executors (Arrow record batches in and out, the core on whole batches).

Canonical order. A DataFrame has no row order after a shuffle, so the engine sorts the rows once by
``order_by`` (when given) and then by every other sortable column in schema order; each row gets
its position in that order. Everything random or tie-breaking depends on positions and class
counts only (never on a partition or a thread), so the answer is the same for any partitioning and
equals the in-memory estimator's on the rows sorted the same way. Rows made by a step get the
positions after every existing row, class by class in class order, in the order the in-memory
estimator appends them, so a chain of steps also matches the in-memory chain (each step run on
the previous step's kept rows in position order, followed by its new rows).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from equipoise import _core
from equipoise._arrow_rows import batch_matrix, feature_dtype, matrix_columns
from equipoise._chunk_knn import KnnAccumulator, settled_beside
from equipoise._plan import StepPlan, expand_steps, kind_of, plan_step

#: (stage, seconds on the driver) of the last fit_resample: its eager work (sort, counts, gathers,
#: neighbour passes); the lazy rest runs when the caller writes the result. For benchmarks.
TIMINGS: list = []

POS = "__equipoise_pos"
MADE = "__equipoise_made"
EMPTY = np.iinfo(np.int64).max
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _bytes(limit) -> int:
    if isinstance(limit, int | np.integer):
        return int(limit)
    s = str(limit).strip().upper().replace("IB", "B")
    for unit in sorted(_UNITS, key=len, reverse=True):
        if s.endswith(unit):
            return int(float(s[: -len(unit)]) * _UNITS[unit])
    return int(float(s))


def fit_resample(
    df,
    *,
    label: str,
    steps,
    features=None,
    order_by=None,
    synthetic_flag: str | None = None,
    max_gather_bytes="1GB",
    n_threads: int = 0,
):
    """Resample a Spark DataFrame with equipoise's samplers, exactly, on the executors.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        The data: a label column, numeric feature columns, any other columns (passed through
        untouched for original rows, null for made rows).
    label : str
        The label column (no nulls; at least two classes).
    steps : list of samplers
        ``RandomUnderSampler``, ``RandomOverSampler`` (without ``shrinkage``), ``SMOTE``,
        ``BorderlineSMOTE``, ``ADASYN``, ``EditedNearestNeighbours``, ``TomekLinks``,
        ``SMOTEENN``, ``SMOTETomek``, applied in order; each plans from the exact class counts of
        the rows it receives, with imbalanced-learn's ``sampling_strategy`` arithmetic.
    features : list of str, optional
        Feature columns (default: the numeric columns other than the label and ``order_by``).
    order_by : str or list of str, optional
        Columns that define the canonical order of the rows (ties broken by the other columns'
        values). Without it, the rows' own values define it.
    synthetic_flag : str, optional
        Name of a boolean column added to the output, true for rows made by a step.
    max_gather_bytes : int or str, default '1GB'
        Largest feature matrix gathered on the driver and broadcast to the executors (the classes
        SMOTE grows, the rows a cleaning step must verify); more is refused with an error naming
        the figure before the step runs.
    n_threads : int, default 0
        Threads of the core in each executor task (0: every core of the worker).

    Returns
    -------
    pyspark.sql.DataFrame
        ``df``'s columns (plus ``synthetic_flag``), in no defined order: sort by ``order_by`` (or
        use the flag) for a stable one. Made rows have nulls outside the label and features.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    samplers = expand_steps(steps)
    cols = df.columns
    if not isinstance(label, str) or label not in cols:
        raise ValueError(f"label column {label!r} is not in the DataFrame (columns: {cols})")
    order = [order_by] if isinstance(order_by, str) else list(order_by or [])
    for c in order:
        if c not in cols:
            raise ValueError(f"order_by column {c!r} is not in the DataFrame (columns: {cols})")
    types = {f.name: f.dataType for f in df.schema.fields}
    numeric = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType)
    if features is None:
        features = [
            c for c in cols if c != label and c not in order and isinstance(types[c], numeric)
        ]
    else:
        features = list(features)
        for c in features:
            if c not in cols:
                raise ValueError(f"feature column {c!r} is not in the DataFrame (columns: {cols})")
            if c == label:
                raise ValueError(f"the label column {label!r} cannot be a feature")
            if not isinstance(types[c], numeric):
                raise TypeError(
                    f"feature column {c!r} has type {types[c].simpleString()}, not a numeric type"
                )
    if not features:
        raise ValueError("no numeric feature column: name them with features=")
    if synthetic_flag is not None and synthetic_flag in cols:
        raise ValueError(f"synthetic_flag {synthetic_flag!r} is already a column of the DataFrame")
    limit = _bytes(max_gather_bytes)
    spark = df.sparkSession

    # The canonical order, materialised once so that every later pass sees the same partitions.
    sortable = [c for c in cols if c not in order and not isinstance(types[c], T.MapType)]
    key = [F.col(c).asc_nulls_first() for c in order + sortable]
    TIMINGS.clear()
    t0 = time.perf_counter()
    base = df.orderBy(*key).localCheckpoint(eager=True)
    TIMINGS.append(("canonical sort", time.perf_counter() - t0))
    t0 = time.perf_counter()

    # One pass: class counts per partition, null labels, and non-finite feature values.
    bad: list[Any] = []
    for c in features:
        v = F.col(c)
        cond = v.isNull()
        if isinstance(types[c], T.FloatType | T.DoubleType):
            cond = cond | F.isnan(v) | (F.abs(v) == float("inf"))
        bad.append(F.sum(F.when(cond, 1).otherwise(0)).alias(f"bad{len(bad)}"))
    stats = (
        base.groupBy(F.spark_partition_id().alias("pid"), F.col(label).alias("y"))
        .agg(F.count(F.lit(1)).alias("n"), *bad)
        .collect()
    )
    nulls = sum(r["n"] for r in stats if r["y"] is None)
    if nulls:
        raise ValueError(f"the label column {label!r} has {nulls} null values")
    for j, c in enumerate(features):
        n_bad = sum(r[f"bad{j}"] or 0 for r in stats)
        if n_bad:
            raise ValueError(
                f"feature column {c!r} has {n_bad} null, NaN or infinite values: "
                "equipoise needs finite numbers"
            )
    TIMINGS.append(("class counts and checks", time.perf_counter() - t0))
    classes = sorted({r["y"] for r in stats})
    if len(classes) < 2:
        raise ValueError(
            f"The target 'y' needs to have more than 1 class. Got {len(classes)} class instead"
        )
    n_parts = base.rdd.getNumPartitions()
    per_part = np.zeros(n_parts, dtype=np.int64)
    for r in stats:
        per_part[r["pid"]] += r["n"]
    offsets = np.concatenate([[0], np.cumsum(per_part)[:-1]])

    out_schema = T.StructType(
        [T.StructField(f.name, f.dataType, True) for f in df.schema.fields]
        + [T.StructField(POS, T.LongType(), False), T.StructField(MADE, T.BooleanType(), False)]
    )
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow_schema = to_arrow_schema(out_schema)
    ctx = _Context(
        spark, label, classes, features, arrow_schema, out_schema, limit, n_threads, types
    )

    def assign_positions(batches):
        import pyarrow as pa
        from pyspark import TaskContext

        start = int(offsets[TaskContext.get().partitionId()])
        for b in batches:
            n = b.num_rows
            extra = [
                pa.array(np.arange(start, start + n, dtype=np.int64)),
                pa.array(np.zeros(n, dtype=bool)),
            ]
            start += n
            yield pa.RecordBatch.from_arrays(list(b.columns) + extra, schema=arrow_schema)

    cur = base.mapInArrow(assign_positions, out_schema)
    counts = _class_counts(stats, classes)
    for i, sampler in enumerate(samplers):
        plan = plan_step(sampler, classes, counts)
        t0 = time.perf_counter()
        # SMOTE's segments reach the step right after it only, when that step is a cleaner.
        ctx.segments, ctx.made_segments = ctx.made_segments, None
        ctx.want_segments = i + 1 < len(samplers) and kind_of(samplers[i + 1]) in ("enn", "tomek")
        cur, counts = _STEPS[plan.kind](ctx, cur, plan)
        TIMINGS.append((f"{type(sampler).__name__} (driver side)", time.perf_counter() - t0))

    out = cur.drop(POS)
    if synthetic_flag is None:
        return out.drop(MADE)
    return out.withColumnRenamed(MADE, synthetic_flag)


class _Context:
    def __init__(
        self, spark, label, classes, features, arrow_schema, schema, limit, threads, types
    ):
        import pyarrow as pa

        self.spark, self.label, self.classes, self.features = spark, label, classes, features
        self.arrow_schema, self.schema, self.limit, self.threads = (
            arrow_schema,
            schema,
            limit,
            threads,
        )
        self.label_type = arrow_schema.field(label).type
        self.class_values = pa.array(classes, type=self.label_type)
        self.feature_types = [arrow_schema.field(c).type for c in features]
        self.dtype = feature_dtype(self.feature_types)
        # (first position, (m, 2) positions): the rows SMOTE made at positions first.. and the
        # two rows each lies between; made by a SMOTE step, taken by the step after it.
        self.made_segments = None
        self.segments = None
        self.want_segments = False

    def __getstate__(self):
        # Shipped to the executors inside the step functions: everything but the session and
        # SMOTE's segments (a broadcast carries those to the cleaner's tasks).
        state = dict(self.__dict__)
        state["spark"] = None
        state["segments"] = state["made_segments"] = None
        return state

    def codes(self, batch):
        import pyarrow.compute as pc

        return pc.index_in(batch.column(self.label), value_set=self.class_values).to_numpy(
            zero_copy_only=False
        )

    def gather(self, cur, what: str, n_rows: int):
        """Rows of ``cur`` (filtered already) on the driver, in position order, after checking their
        feature matrix against the limit."""
        need = n_rows * len(self.features) * self.dtype.itemsize
        if need > self.limit:
            raise MemoryError(
                f"{what}: {n_rows} rows x {len(self.features)} features need {need / 1e6:.1f} MB "
                f"on the driver and on every executor, more than max_gather_bytes="
                f"{self.limit / 1e6:.1f} MB; raise max_gather_bytes if the memory is there"
            )
        import pyarrow.compute as pc

        t = cur.select(*self.features, self.label, POS).toArrow()
        t = t.take(pc.sort_indices(t.column(POS)))
        return t.combine_chunks()

    def matrix(self, table):
        batches = table.to_batches()
        if not batches:
            return np.empty((0, len(self.features)), dtype=self.dtype)
        return batch_matrix(table.combine_chunks().to_batches()[0], self.features, self.dtype)

    def made_batch(self, x_colmajor, code, positions):
        """Made rows of class ``code``: features, label, positions, the rest null."""
        import pyarrow as pa

        n = len(positions)
        arrays = []
        feat = dict(zip(self.features, matrix_columns(x_colmajor, self.feature_types)))
        for f in self.arrow_schema:
            if f.name in feat:
                arrays.append(feat[f.name])
            elif f.name == self.label:
                arrays.append(pa.array([self.classes[code]] * n, type=f.type))
            elif f.name == POS:
                arrays.append(pa.array(np.asarray(positions, dtype=np.int64)))
            elif f.name == MADE:
                arrays.append(pa.array(np.ones(n, dtype=bool)))
            else:
                arrays.append(pa.nulls(n, type=f.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)


def _class_counts(stats, classes):
    pos = {c: i for i, c in enumerate(classes)}
    counts = [0] * len(classes)
    for r in stats:
        counts[pos[r["y"]]] += r["n"]
    return counts


def _partition_table(ctx, cur):
    """Per partition of ``cur``: (first position, class counts), ordered by position; the rows of a
    partition are in position order and partitions do not interleave (checked)."""
    from pyspark.sql import functions as F

    rows = (
        cur.groupBy(F.spark_partition_id().alias("pid"), F.col(ctx.label).alias("y"))
        .agg(F.min(POS).alias("lo"), F.max(POS).alias("hi"), F.count(F.lit(1)).alias("n"))
        .collect()
    )
    pos = {c: i for i, c in enumerate(ctx.classes)}
    parts: dict = {}
    for r in rows:
        lo, hi, counts = parts.setdefault(
            r["pid"], [EMPTY, -1, np.zeros(len(ctx.classes), np.int64)]
        )
        parts[r["pid"]][0] = min(lo, r["lo"])
        parts[r["pid"]][1] = max(hi, r["hi"])
        counts[pos[r["y"]]] += r["n"]
    table = sorted(parts.values(), key=lambda p: p[0])
    for a, b in zip(table, table[1:]):
        if a[1] >= b[0]:
            raise RuntimeError("internal error: partitions interleave in position order")
    firsts = np.array([p[0] for p in table], dtype=np.int64)
    counts = np.array([p[2] for p in table], dtype=np.int64).reshape(len(table), len(ctx.classes))
    return firsts, counts


def _ordinals(ctx, firsts, before):
    """Per batch of a partition: (batch, codes, within-class ordinals) per batch."""

    def run(batches):
        state = None
        for b in batches:
            if b.num_rows == 0:
                continue
            codes = ctx.codes(b)
            pos = b.column(POS).to_numpy()
            if state is None:
                i = int(np.searchsorted(firsts, pos[0]))
                if i >= len(firsts) or firsts[i] != pos[0]:
                    raise RuntimeError("internal error: a partition's first position is unknown")
                state = before[i].copy()
            ords = np.empty(b.num_rows, dtype=np.int64)
            for c in range(len(ctx.classes)):
                m = codes == c
                cnt = int(m.sum())
                ords[m] = state[c] + np.arange(cnt)
                state[c] += cnt
            yield b, codes, ords

    return run


def _kept_multiplicity(keys, mult, ords):
    """How many times each ordinal in ``ords`` is in the sorted ``keys`` (with ``mult``)."""
    if len(keys) == 0:
        return np.zeros(len(ords), dtype=np.int64)
    i = np.searchsorted(keys, ords)
    j = np.minimum(i, len(keys) - 1)
    return np.where(keys[j] == ords, mult[j], 0)


def _under(ctx, cur, plan: StepPlan):
    """RandomUnderSampler: the core draws each class's kept ordinals from its count alone (the same
    draws as in memory); each partition keeps its rows whose ordinal was drawn."""
    import pyarrow as pa

    firsts, counts = _partition_table(ctx, cur)
    before = np.cumsum(counts, axis=0) - counts
    nc = len(ctx.classes)
    kept = {}
    for c, m in enumerate(plan.targets):
        if m is None:
            continue
        codes = np.full(plan.counts[c], c, dtype=np.uint32)
        targets: list[int | None] = [None] * nc
        targets[c] = m
        idx = _core.random_under_sample_indices(
            codes, nc, targets, bool(plan.sampler.replacement), plan.seed
        )
        kept[c] = np.unique(idx, return_counts=True)
    # Output rows per partition, known up front: contiguous new positions.
    out_counts = counts.copy()
    for c, (keys, mult) in kept.items():
        cum = np.concatenate([[0], np.cumsum(mult)])
        lo = np.searchsorted(keys, before[:, c])
        hi = np.searchsorted(keys, before[:, c] + counts[:, c])
        out_counts[:, c] = cum[hi] - cum[lo]
    new_first = np.cumsum(out_counts.sum(axis=1)) - out_counts.sum(axis=1)
    ordinals = _ordinals(ctx, firsts, before)
    schema = ctx.arrow_schema

    def keep(batches):
        start = None
        for b, codes, ords in ordinals(batches):
            if start is None:
                start = int(new_first[int(np.searchsorted(firsts, b.column(POS)[0].as_py()))])
            rep = np.ones(b.num_rows, dtype=np.int64)
            for c, (keys, mult) in kept.items():
                m = codes == c
                rep[m] = _kept_multiplicity(keys, mult, ords[m])
            idx = np.repeat(np.arange(b.num_rows), rep)
            t = b.take(pa.array(idx))
            pos = pa.array(np.arange(start, start + len(idx), dtype=np.int64))
            start += len(idx)
            cols = [pos if f.name == POS else t.column(f.name) for f in schema]
            yield pa.RecordBatch.from_arrays(cols, schema=schema)

    new_counts = [
        plan.targets[c] if plan.targets[c] is not None else plan.counts[c] for c in range(nc)
    ]
    return cur.mapInArrow(keep, ctx.schema), new_counts


def _max_position(cur):
    from pyspark.sql import functions as F

    v = cur.agg(F.max(POS)).collect()[0][0]
    return -1 if v is None else int(v)


def _over(ctx, cur, plan: StepPlan):
    """RandomOverSampler: the core draws the copies' ordinals from each class's count alone; each
    partition emits copies of its drawn rows, positioned in draw order after every row."""
    import pyarrow as pa

    if getattr(plan.sampler, "shrinkage", None) is not None:
        raise NotImplementedError(
            "RandomOverSampler(shrinkage=...) is not supported on Spark yet; use shrinkage=None"
        )
    firsts, counts = _partition_table(ctx, cur)
    before = np.cumsum(counts, axis=0) - counts
    nc = len(ctx.classes)
    base = _max_position(cur) + 1
    draws = {}
    offset = 0
    for c, n_new in enumerate(plan.targets):
        if not n_new:
            continue
        codes = np.full(plan.counts[c], c, dtype=np.uint32)
        n = [0] * nc
        n[c] = n_new
        ords = _core.random_over_sample_indices(codes, nc, n, plan.seed)[plan.counts[c] :]
        order = np.argsort(ords, kind="stable")
        draws[c] = (ords[order], base + offset + order)  # sorted ordinals, their new positions
        offset += n_new
    ordinals = _ordinals(ctx, firsts, before)
    schema = ctx.arrow_schema

    def copies(batches):
        for b, codes, ords in ordinals(batches):
            take, new_pos = [], []
            for c, (keys, positions) in draws.items():
                m = np.flatnonzero(codes == c)
                lo = np.searchsorted(keys, ords[m], side="left")
                hi = np.searchsorted(keys, ords[m], side="right")
                rep = hi - lo
                take.append(np.repeat(m, rep))
                new_pos.append(
                    positions[
                        np.concatenate(
                            [np.arange(a, z) for a, z in zip(lo, hi) if z > a]
                            or [np.empty(0, np.int64)]
                        )
                    ]
                )
            idx = np.concatenate(take) if take else np.empty(0, np.int64)
            if len(idx) == 0:
                continue
            t = b.take(pa.array(idx))
            pos = pa.array(np.concatenate(new_pos).astype(np.int64))
            made = pa.array(np.ones(len(idx), dtype=bool))
            cols = [
                pos if f.name == POS else made if f.name == MADE else t.column(f.name)
                for f in schema
            ]
            yield pa.RecordBatch.from_arrays(cols, schema=schema)

    made = cur.mapInArrow(copies, ctx.schema).orderBy(POS)
    new_counts = [plan.counts[c] + (plan.targets[c] or 0) for c in range(nc)]
    return cur.union(made), new_counts


def _class_rows(ctx, cur, code, what):
    from pyspark.sql import functions as F

    return cur.filter(F.col(ctx.label) == F.lit(ctx.classes[code])), what


def _smote(ctx, cur, plan: StepPlan):
    """SMOTE: each grown class is gathered in position order and broadcast with its exact neighbour
    graph; the new rows are made on the executors, a block of 4096-row random streams per task,
    each stream derived from (seed, class, block), so the rows are those of the in-memory run."""
    k = plan.sampler.k_neighbors
    if not isinstance(k, int | np.integer):
        raise TypeError("on Spark, SMOTE's k_neighbors must be an int (exact neighbours)")
    k = int(k)
    nc = len(ctx.classes)
    base = _max_position(cur) + 1
    chunk = _core.smote_chunk_rows()
    per_task = 16  # random-stream chunks per task: 65,536 rows
    payload, tasks, pairs = {}, [], []
    offset = 0
    for c, n_new in enumerate(plan.targets):
        if not n_new:
            continue
        n_c = plan.counts[c]
        if n_c < k + 1:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k + 1}, "
                f"n_samples_fit = {n_c}: class {ctx.classes[c]!r} has {n_c} rows, fewer than "
                f"k_neighbors + 1 = {k + 1} needed to grow it"
            )
        sub, what = _class_rows(ctx, cur, c, f"SMOTE's class {ctx.classes[c]!r}")
        t = ctx.gather(sub, what, n_c)
        x = ctx.matrix(t)
        graph = _core.kneighbors(x, k, algorithm="exact", n_threads=ctx.threads)[1]
        payload[c] = (x, graph)
        if ctx.want_segments:
            # Each new row's two rows, as positions (the segments the cleaner after SMOTE
            # takes): the same random streams as the executors', replayed here.
            seg = np.empty((n_new, 2), dtype=np.int64)
            _core.smote_block(x, graph, c, 0, n_new, plan.seed, ctx.threads, segments=seg)
            pairs.append(t.column(POS).to_numpy()[seg])
        n_chunks = -(-n_new // chunk)
        for first in range(0, n_chunks, per_task):
            n = min(n_new, (first + per_task) * chunk) - first * chunk
            tasks.append((c, first, n, base + offset + first * chunk))
        offset += n_new
    if not tasks:
        return cur, list(plan.counts)
    if ctx.want_segments:
        ctx.made_segments = (base, np.concatenate(pairs))
    bc = ctx.spark.sparkContext.broadcast(payload)
    seed, threads = plan.seed, ctx.threads

    def generate(batches):
        for b in batches:
            for task_id in b.column(0).to_numpy():
                c, first, n, start = tasks[int(task_id)]
                x, graph = bc.value[c]
                new = _core.smote_block(x, graph, c, first, n, seed, threads)
                yield ctx.made_batch(new, c, np.arange(start, start + n))

    ids = ctx.spark.range(0, len(tasks), numPartitions=len(tasks))
    made = ids.mapInArrow(generate, ctx.schema)
    new_counts = [plan.counts[c] + (plan.targets[c] or 0) for c in range(nc)]
    return cur.union(made), new_counts


def _knn_over_partitions(ctx, cur, queries, query_pos, k):
    """Exact k nearest rows of ``cur`` (by squared distance, then position) of each query row,
    the query's own position excluded: each partition offers its candidates, the driver merges."""
    import pyarrow as pa

    bc = ctx.spark.sparkContext.broadcast((queries, query_pos))
    threads = ctx.threads
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField("sq", T.DoubleType(), False), T.StructField("pos", T.LongType(), False)]
    )

    def candidates(batches):
        bs = [b for b in batches if b.num_rows]
        if not bs:
            return
        t = pa.Table.from_batches(bs).combine_chunks().to_batches()[0]
        x = batch_matrix(t, ctx.features, ctx.dtype, threads)
        q, qpos = bc.value
        sq, pos = _core.chunk_knn(x, t.column(POS).to_numpy(), q, qpos, k, threads)
        yield pa.RecordBatch.from_arrays(
            [pa.array(sq.ravel()), pa.array(pos.ravel())], ["sq", "pos"]
        )

    acc = KnnAccumulator(len(query_pos), k)
    if len(query_pos) == 0:
        return acc
    table = cur.mapInArrow(candidates, schema).toArrow()
    sq = table.column("sq").to_numpy()
    pos = table.column("pos").to_numpy()
    per = len(query_pos) * k
    for i in range(0, len(sq), per):
        acc.offer(sq[i : i + per].reshape(-1, k), pos[i : i + per].reshape(-1, k))
    bc.unpersist()
    return acc


def _smote_variant(ctx, cur, plan: StepPlan):
    """BorderlineSMOTE / ADASYN: their new rows depend only on the grown classes' rows and those
    rows' neighbourhoods in all the data. The grown classes plus every row among their K nearest
    neighbours (K = the largest neighbour count + 1), in position order, is an exact reduction:
    the in-memory estimator, run on it with the targets of the full counts, makes the same rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    s = plan.sampler
    ks = [getattr(s, a) for a in ("k_neighbors", "m_neighbors", "n_neighbors") if hasattr(s, a)]
    if not all(isinstance(v, int | np.integer) for v in ks):
        raise TypeError(f"on Spark, {type(s).__name__}'s neighbour counts must be ints")
    K = int(max(ks)) + 1
    grown = [c for c, n in enumerate(plan.targets) if n]
    if not grown:
        return cur, list(plan.counts)
    n_grown = sum(plan.counts[c] for c in grown)
    sub = cur.filter(F.col(ctx.label).isin([ctx.classes[c] for c in grown]))
    t = ctx.gather(sub, f"{type(s).__name__}'s grown classes", n_grown)
    q = ctx.matrix(t)
    qpos = t.column(POS).to_numpy()
    acc = _knn_over_partitions(ctx, cur, q, qpos, K)
    keep = np.union1d(qpos, acc.pos[acc.pos != EMPTY])
    ctx.gather(cur.limit(0), "the reduction", len(keep))  # size check only
    bc = ctx.spark.sparkContext.broadcast(keep)

    def pick(batches):
        for b in batches:
            m = np.isin(b.column(POS).to_numpy(), bc.value, assume_unique=True)
            if m.any():
                yield b.filter(pa.array(m))

    red = cur.mapInArrow(pick, ctx.schema)
    present = {r[0] for r in red.select(ctx.label).distinct().collect()}
    for cls in ctx.classes:
        if cls not in present:  # a row of each class, so that class codes (and streams) agree
            red = red.union(cur.filter(F.col(ctx.label) == F.lit(cls)).limit(1))
    t = red.select(*ctx.features, ctx.label, POS).toArrow()
    t = t.take(pc.sort_indices(t.column(POS))).combine_chunks()
    x = ctx.matrix(t)
    y = t.column(ctx.label).to_numpy(zero_copy_only=False)
    est = s.__class__(**s.get_params())
    est.set_params(
        sampling_strategy={ctx.classes[c]: plan.counts[c] + plan.targets[c] for c in grown},
        random_state=plan.seed,
    )
    x_res, y_res = est.fit_resample(x, y)
    new, y_new = x_res[len(x) :], y_res[len(x) :]
    base = _max_position(cur) + 1
    codes = np.searchsorted(np.asarray(ctx.classes), y_new) if len(y_new) else y_new
    batches = []
    start = base
    for c in grown:
        m = codes == c
        part = np.asfortranarray(new[m])
        batches.append(ctx.made_batch(part, c, np.arange(start, start + len(part))))
        start += len(part)
    made = ctx.spark.createDataFrame(pa.Table.from_batches(batches), schema=ctx.schema)
    new_counts = [plan.counts[c] + (plan.targets[c] or 0) for c in range(len(ctx.classes))]
    return cur.union(made), new_counts


def _mode_code(labels):
    """Most frequent code per row, ties to the lowest code (the core's rule)."""
    n_codes = int(labels.max()) + 1 if labels.size else 1
    counts = np.zeros((labels.shape[0], n_codes), dtype=np.int64)
    np.add.at(counts, (np.arange(labels.shape[0])[:, None], labels), 1)
    return counts.argmax(axis=1)


def _clean(ctx, cur, plan: StepPlan):
    """ENN and Tomek links, exactly, by bound then verify. The largest class L stays distributed;
    the other classes are gathered and broadcast. In each partition, the in-memory cleaner runs on
    the partition's rows of L and the broadcast rows (``settled_beside``): the rows of L it
    keeps (ENN) or finds in no link (Tomek) are settled, since the other partitions add rows of L
    only. The other rows are verified with their exact k nearest over every partition, and the
    rule applied as in memory."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    s = plan.sampler
    tomek = plan.kind == "tomek"
    if tomek:
        k = 1
    else:
        k = s.n_neighbors
        if not isinstance(k, int | np.integer):
            raise TypeError("on Spark, EditedNearestNeighbours' n_neighbors must be an int")
        k = int(k)
    nc = len(ctx.classes)
    targeted = np.zeros(nc, dtype=bool)
    for cls in plan.strategy:
        targeted[ctx.classes.index(cls)] = True
    big = int(np.argmax(plan.counts))
    n_small = sum(plan.counts) - plan.counts[big]
    small_t = ctx.gather(
        cur.filter(F.col(ctx.label) != F.lit(ctx.classes[big])),
        "the classes other than the largest",
        n_small,
    )
    sx = ctx.matrix(small_t)
    spos = small_t.column(POS).to_numpy()
    scode = ctx.codes(small_t.to_batches()[0]) if n_small else np.empty(0, np.int64)
    check_big = targeted[big] or tomek
    mode = not tomek and s.kind_sel == "mode"
    threads = ctx.threads
    # SMOTE's segments, when SMOTE made rows of the gathered classes only (they are then the
    # gathered rows from position `first` on, in every partition's set).
    segments = ctx.segments
    if segments is not None and (spos >= segments[0]).sum() != len(segments[1]):
        segments = None
    bc = ctx.spark.sparkContext.broadcast((sx, spos, scode, segments))
    schema = T.StructType(
        [T.StructField(POS, T.LongType(), False)]
        + [T.StructField(c, ctx.schema[c].dataType, True) for c in ctx.features]
    )

    def bound(batches):
        bs = [b for b in batches if b.num_rows]
        if not bs or not check_big:
            return
        t = pa.Table.from_batches(bs).combine_chunks().to_batches()[0]
        x = batch_matrix(t, ctx.features, ctx.dtype, threads)
        pos = t.column(POS).to_numpy()
        m = ctx.codes(t) == big
        sx_, spos_, scode_, seg_ = bc.value
        if len(spos_):
            settled = settled_beside(
                x[m], pos[m], sx_, spos_, scode_, big, nc, k, tomek, mode, threads, seg_
            )
        else:
            settled = np.ones(int(m.sum()), dtype=bool)
        open_ = np.flatnonzero(m)[~settled]
        if len(open_):
            yield t.select([POS, *ctx.features]).take(pa.array(open_))

    t0 = time.perf_counter()
    open_t = cur.mapInArrow(bound, schema).toArrow()
    TIMINGS.append((f"  bound in each partition ({open_t.num_rows:,} rows open)", _since(t0)))
    ctx.gather(cur.limit(0), "the rows to verify", open_t.num_rows + n_small)  # size check
    import pyarrow.compute as pc

    open_t = open_t.take(pc.sort_indices(open_t.column(POS))).combine_chunks()
    ox = ctx.matrix(open_t) if open_t.num_rows else np.empty((0, len(ctx.features)), ctx.dtype)
    opos = open_t.column(POS).to_numpy() if open_t.num_rows else np.empty(0, np.int64)
    t0 = time.perf_counter()
    if tomek and np.unique(scode).size <= 1:
        remove = _tomek_from_open(ctx, cur, ox, opos, sx, spos, scode, big, targeted)
        bc.unpersist()
        TIMINGS.append(("  verify the open rows and their partners", _since(t0)))
        return _drop_rows(ctx, cur, plan, remove, spos, scode, big)
    # Queries: the open rows of L and the other classes' rows (ENN: targeted ones; Tomek: all).
    s_query = np.ones(len(spos), dtype=bool) if tomek else targeted[scode]
    qx = np.concatenate([ox, sx[s_query]]) if len(ox) or s_query.any() else ox
    qpos = np.concatenate([opos, spos[s_query]])
    qcode = np.concatenate([np.full(len(opos), big), scode[s_query]]).astype(np.int64)
    acc = _knn_over_partitions(ctx, cur, np.ascontiguousarray(qx, dtype=ctx.dtype), qpos, k)
    bc.unpersist()
    TIMINGS.append((f"  verify {len(qpos):,} rows over every partition", _since(t0)))

    if tomek:
        nn = acc.pos[:, 0]
        # A link: nearest neighbours of each other, of different classes; the targeted side goes.
        order = np.argsort(qpos)
        j = np.minimum(np.searchsorted(qpos[order], nn), len(qpos) - 1)
        partner = order[j]
        known = qpos[partner] == nn
        mutual = known & (acc.pos[partner, 0] == qpos)
        link = mutual & (_code_of(nn, spos, scode, big) != qcode) & targeted[qcode]
        remove = np.sort(qpos[link])
    else:
        labels = _code_of(acc.pos, spos, scode, big)
        if s.kind_sel == "all":
            keep = (labels == qcode[:, None]).all(axis=1)
        else:
            keep = _mode_code(labels) == qcode
        remove = np.sort(qpos[~keep & targeted[qcode]])
    return _drop_rows(ctx, cur, plan, remove, spos, scode, big)


def _since(t0: float) -> float:
    return time.perf_counter() - t0


def _code_of(p, spos, scode, big):
    """Class code of rows by position: a gathered row's own (``spos``, ``scode``), else the
    largest class ``big``."""
    if len(spos) == 0:
        return np.full(np.shape(p), big)
    j = np.minimum(np.searchsorted(spos, p), len(spos) - 1)
    return np.where(spos[j] == p, scode[j], big)


def _tomek_from_open(ctx, cur, ox, opos, sx, spos, scode, big, targeted):
    """Tomek links when the rows outside the largest class L are of one class: every link then
    has a row of L, and that row is open (a link over all data is a link in its own partition,
    whose rows and every gathered row are there). So the open rows of L are queried, then the
    gathered rows nearest to one of them (the only possible partners), not every gathered row:
    two small exact searches over the partitions instead of one per gathered row (a SMOTE
    before Tomek links gathers a tenth of the data). Returns the positions to remove."""
    if len(opos) == 0:
        return np.empty(0, np.int64)
    acc = _knn_over_partitions(ctx, cur, ox, opos, 1)
    nn = acc.pos[:, 0]
    # Open rows whose nearest row is gathered (of the other class): a link if it answers back.
    cand = np.flatnonzero((nn != EMPTY) & (_code_of(nn, spos, scode, big) != big))
    partners = np.unique(nn[cand])
    at = np.searchsorted(spos, partners)
    acc2 = _knn_over_partitions(ctx, cur, np.ascontiguousarray(sx[at]), partners, 1)
    back = acc2.pos[np.searchsorted(partners, nn[cand]), 0]
    link = back == opos[cand]
    i, j = opos[cand][link], nn[cand][link]
    gone = []
    if targeted[big]:
        gone.append(i)
    gone.append(j[targeted[_code_of(j, spos, scode, big)]])
    return np.unique(np.concatenate(gone))


def _drop_rows(ctx, cur, plan: StepPlan, remove, spos, scode, big):
    """``cur`` without the rows at positions ``remove`` (sorted), and the class counts after."""
    import pyarrow as pa

    nc = len(ctx.classes)
    bc_r = ctx.spark.sparkContext.broadcast(remove)

    def drop(batches):
        r = bc_r.value
        for b in batches:
            if len(r) == 0:
                yield b
                continue
            m = ~np.isin(b.column(POS).to_numpy(), r, assume_unique=True)
            yield b.filter(pa.array(m))

    removed = (
        np.bincount(_code_of(remove, spos, scode, big), minlength=nc)
        if len(remove)
        else np.zeros(nc, int)
    )
    new_counts = [plan.counts[c] - int(removed[c]) for c in range(nc)]
    return cur.mapInArrow(drop, ctx.schema), new_counts


_STEPS = {
    "under": _under,
    "over": _over,
    "smote": _smote,
    "smote-variant": _smote_variant,
    "enn": _clean,
    "tomek": _clean,
}
