"""equipoise.spark in local mode against equipoise in memory on the same data, and against
Approx-SMOTE's published figure (7.3M rows x 28 features in 175.7 s on 2 workers x 2 vCPU).

The data: the ``pca_cloud`` family (30 float32 features, 0.5% minority) written to Parquet chunk by
chunk (each chunk its own seed), plus an ``id`` column used as ``order_by``. For each method the
script times Spark's stages (the engine's eager driver-side stages, then the write of the result to
Parquet, which runs the lazy rest) and equipoise's in-memory estimators on the same rows (SMOTE
then Tomek links as ``SMOTETomek`` with those two estimators, as a user would run them in memory),
and checks that both give the same rows (as multisets, by a hash of each row and its label).

    python benches/spark_resample.py --rows 10_000_000      # the issue's size
    python benches/spark_resample.py --rows 1_000_000 --methods smote,enn
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from data_families import pca_cloud

APPROX_SMOTE = (7_300_000, 28, 175.7)  # rows, features, seconds on 2 workers x 2 vCPU


def write_parquet(path, n_rows, chunk=1_000_000, seed=0):
    writer = None
    done = 0
    i = 0
    while done < n_rows:
        n = min(chunk, n_rows - done)
        X, y = pca_cloud(n, seed=seed + i)
        cols = {f"f{j}": pa.array(X[:, j]) for j in range(X.shape[1])}
        cols["is_fraud"] = pa.array(y)
        cols["id"] = pa.array(np.arange(done, done + n, dtype=np.int64))
        t = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
        done += n
        i += 1
    writer.close()


def steps_of(method):
    from equipoise.over_sampling import SMOTE
    from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks

    return {
        "smote": [SMOTE(sampling_strategy=0.1, random_state=0)],
        "smote+tomek": [SMOTE(sampling_strategy=0.1, random_state=0), TomekLinks()],
        "enn": [EditedNearestNeighbours()],
    }[method]


def in_memory_steps(method):
    """What a user runs in memory for the same steps: SMOTE then Tomek links as ``SMOTETomek``
    with those two estimators (the same rows; its cleaner takes SMOTE's segments)."""
    from equipoise.combine import SMOTETomek

    steps = steps_of(method)
    if method == "smote+tomek":
        return [SMOTETomek(smote=steps[0], tomek=steps[1])]
    return steps


def fingerprint(X, y):
    """The rows as a multiset: a sorted 64-bit hash of each row's bits and label."""
    bits = np.ascontiguousarray(X, dtype=np.float32).view(np.uint32).astype(np.uint64)
    mult = np.random.default_rng(0).integers(1, 2**63, size=bits.shape[1], dtype=np.uint64) | 1
    h = (bits * mult).sum(axis=1, dtype=np.uint64) ^ (
        y.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    )
    return np.sort(h)


def in_memory(path, method):
    t = pq.read_table(path)
    order = np.argsort(t.column("id").to_numpy())
    X = np.column_stack([t.column(f"f{j}").to_numpy()[order] for j in range(30)])
    y = t.column("is_fraud").to_numpy()[order]
    t0 = time.perf_counter()
    for s in in_memory_steps(method):
        X, y = s.fit_resample(X, y)
    return time.perf_counter() - t0, fingerprint(X, y)


def spark_rows(path):
    t = pq.read_table(path)
    X = np.column_stack([t.column(f"f{j}").to_numpy() for j in range(30)])
    return fingerprint(X, t.column("is_fraud").to_numpy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--methods", default="smote,smote+tomek,enn")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--dir", default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    from pyspark.sql import SparkSession

    from equipoise.spark import _engine, fit_resample

    work = args.dir or tempfile.mkdtemp(prefix="equipoise-spark-bench-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "input.parquet")
    t0 = time.perf_counter()
    write_parquet(src, args.rows)
    print(
        f"data: {args.rows:,} rows x 30 float32, pca_cloud, 0.5% minority "
        f"({time.perf_counter() - t0:.1f} s to write)"
    )
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    rows = []
    for method in args.methods.split(","):
        df = spark.read.parquet(src)
        out_path = os.path.join(work, f"out-{method}")
        shutil.rmtree(out_path, ignore_errors=True)
        t0 = time.perf_counter()
        out = fit_resample(df, label="is_fraud", steps=steps_of(method), order_by="id")
        stages = list(_engine.TIMINGS)
        t1 = time.perf_counter()
        out.write.parquet(out_path)
        t_write = time.perf_counter() - t1
        total = time.perf_counter() - t0
        got = spark_rows(out_path)
        t_mem, want = in_memory(src, method)
        same = got.shape == want.shape and bool((got == want).all())
        print(
            f"\n{method}: Spark {total:.1f} s, in memory {t_mem:.1f} s, ratio {total / t_mem:.1f}x;"
            f" rows out {len(got):,} (in memory {len(want):,}), same rows: {same}"
        )
        for name, sec in stages:
            print(f"  {name:<40} {sec:8.1f} s")
        print(f"  {'lazy rest + write of the result':<40} {t_write:8.1f} s")
        rows.append((method, total, t_mem, same))
    r, d, s = APPROX_SMOTE
    print(f"\nApprox-SMOTE (published): {r:,} x {d} in {s} s = {r / s:,.0f} rows/s on 2 x 2 vCPU")
    print("| method | rows | Spark local[2] s | rows/s | in memory s | ratio | same rows |")
    print("|---|---|---|---|---|---|---|")
    for method, total, t_mem, same in rows:
        print(
            f"| {method} | {args.rows:,} | {total:.1f} | {args.rows / total:,.0f} | {t_mem:.1f} |"
            f" {total / t_mem:.1f}x | {same} |"
        )
    spark.stop()
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
