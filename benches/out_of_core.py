"""Out-of-core resampling of a large Parquet log: equipoise's streaming engine
(``equipoise.io.resample_parquet``) against the I/O floor (polars reading and rewriting the same
file) and imbalanced-learn on the same file.

The data is the ``pca_cloud`` family (``benches/data_families.py``: one continuous heavy-tailed
cloud shaped like PCA'd card transactions, 0.5% minority), 30 float32 features plus an int64
transaction id and a timestamp, written to Parquet one million rows at a time (never held whole).

Each scenario runs in a fresh process; its time per phase and its peak RSS (VmHWM) are reported:

- ``io``: the I/O floor, ``polars.scan_parquet(src).sink_parquet(dst)``;
- ``recipe``: RandomUnderSampler(0.1), SMOTE, TomekLinks (the fraud recipe);
- ``smote_tomek``: SMOTE(sampling_strategy=0.1), then TomekLinks;
- ``enn``: EditedNearestNeighbours;
- ``imblearn-<scenario>``: imbalanced-learn's estimators on the whole file loaded into memory
  (pyarrow -> numpy), under an address-space limit of ``--imblearn-memory`` so that a run that
  cannot fit fails with MemoryError instead of being OOM-killed.

    python benches/out_of_core.py --rows 1000000 \
        --scenarios io,recipe,smote_tomek,enn,imblearn-recipe
    python benches/out_of_core.py --rows 100000000 --scenarios io,recipe --memory-limit 8GB

Outputs are deleted after each scenario (only the input stays, for the next run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHUNK = 1_000_000


def generate(path: Path, rows: int, seed: int = 0) -> float:
    """Write ``rows`` rows of the pca_cloud family to ``path``, a million at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from data_families import pca_cloud

    meta = path.with_suffix(".json")
    if (
        path.exists()
        and meta.exists()
        and json.loads(meta.read_text()) == {"rows": rows, "seed": seed}
    ):
        return 0.0
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    writer = None
    done = 0
    start_ts = np.datetime64("2026-01-01T00:00:00", "ms")
    while done < rows:
        n = min(CHUNK, rows - done)
        X, y = pca_cloud(n, seed=seed * 1_000_003 + done // CHUNK)
        cols = {f"V{j}": X[:, j] for j in range(X.shape[1])}
        cols["transaction_id"] = np.arange(done, done + n, dtype=np.int64)
        # About 40 transactions a second, in order.
        cols["timestamp"] = pa.array(
            start_ts + (np.arange(done, done + n) * 25).astype("timedelta64[ms]")
        )
        cols["is_fraud"] = y.astype(np.int8)
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=CHUNK)
        done += n
        print(f"\rgenerated {done:,} rows", end="", file=sys.stderr, flush=True)
    writer.close()
    os.replace(tmp, path)
    meta.write_text(json.dumps({"rows": rows, "seed": seed}))
    print(file=sys.stderr)
    return time.perf_counter() - t0


def _steps(name: str, lib: str):
    if lib == "equipoise":
        from equipoise.over_sampling import SMOTE
        from equipoise.under_sampling import EditedNearestNeighbours, RandomUnderSampler, TomekLinks
    else:
        from imblearn.over_sampling import SMOTE
        from imblearn.under_sampling import EditedNearestNeighbours, RandomUnderSampler, TomekLinks
    return {
        "recipe": [
            RandomUnderSampler(sampling_strategy=0.1, random_state=0),
            SMOTE(random_state=0),
            TomekLinks(),
        ],
        "smote_tomek": [SMOTE(sampling_strategy=0.1, random_state=0), TomekLinks()],
        "enn": [EditedNearestNeighbours()],
    }[name]


def _vmhwm() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(scenario: str, src: str, dst: str, memory_limit: str | None) -> dict:
    t0 = time.perf_counter()
    out: dict = {"scenario": scenario}
    if scenario == "io":
        import polars as pl

        pl.scan_parquet(src).sink_parquet(dst, compression="zstd")
        out["phases"] = {"read + write": time.perf_counter() - t0}
    elif scenario.startswith("imblearn-"):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(src)
            X = np.column_stack([table[f"V{j}"].to_numpy() for j in range(30)])
            y = table["is_fraud"].to_numpy()
            del table
            t1 = time.perf_counter()
            out["phases"] = {"read": t1 - t0}
            for est in _steps(scenario.split("-", 1)[1], "imblearn"):
                t2 = time.perf_counter()
                X, y = est.fit_resample(X, y)
                out["phases"][type(est).__name__] = time.perf_counter() - t2
            out["rows_out"] = int(len(y))
        except MemoryError as e:
            out["failed"] = f"MemoryError: {e}"
    else:
        from equipoise.io import resample_parquet

        report = resample_parquet(
            src, dst, label="is_fraud", steps=_steps(scenario, "equipoise"),
            memory_limit=memory_limit, overwrite=True, progress=False,
        )  # fmt: skip
        out["phases"] = report.phases
        out["rows_out"] = report.rows_written
        out["counts_after"] = report.counts_after
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_bytes"] = _vmhwm()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--dir", default="/tmp/equipoise-out-of-core")
    parser.add_argument("--scenarios", default="io,recipe,smote_tomek,enn")
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument(
        "--imblearn-memory",
        default="22GB",
        help="address-space limit of imbalanced-learn's process",
    )
    parser.add_argument("--json", default=None, help="append results to this file")
    parser.add_argument("--_child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        scenario, src, dst, limit = args._child
        if scenario.startswith("imblearn-"):
            from equipoise.io import parse_memory

            cap = parse_memory(args.imblearn_memory)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        print(json.dumps(child(scenario, src, dst, limit)))
        return
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    src = d / f"pca_cloud_{args.rows}.parquet"
    gen = generate(src, args.rows)
    size = src.stat().st_size
    print(
        f"input: {src} ({args.rows:,} rows, {size / 1e9:.2f} GB on disk; generated in {gen:.0f} s)"
    )
    results = []
    for scenario in args.scenarios.split(","):
        dst = d / f"out_{scenario}.parquet"
        shutil.rmtree(dst, ignore_errors=True) if dst.is_dir() else dst.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            __file__,
            "--imblearn-memory",
            args.imblearn_memory,
            "--_child",
            scenario,
            str(src),
            str(dst),
            args.memory_limit,
        ]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            res = {
                "scenario": scenario,
                "failed": f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}",
            }
        else:
            res = json.loads(p.stdout.strip().splitlines()[-1])
        res["rows"] = args.rows
        results.append(res)
        dst.unlink(missing_ok=True)
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in res.get("phases", {}).items())
        peak = res.get("peak_rss_bytes", 0) / 2**30
        secs = res.get("seconds", float("nan"))
        failed = res.get("failed", "")
        print(
            f"{scenario:>20}: {secs:8.1f} s  peak RSS {peak:5.2f} GiB  {failed}  [{phases}]",
            flush=True,
        )
    floor = next((r["seconds"] for r in results if r["scenario"] == "io" and "seconds" in r), None)
    if floor:
        for r in results:
            if r["scenario"] != "io" and "seconds" in r and "failed" not in r:
                print(f"{r['scenario']:>20}: {r['seconds'] / floor:.2f}x the I/O floor")
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
