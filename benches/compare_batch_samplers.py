"""Side by side: one epoch of balanced batch indices, equipoise vs torch's WeightedRandomSampler.

    python benches/compare_batch_samplers.py              # 100M labels alone, 2^24 side by side
    python benches/compare_batch_samplers.py --n 10000000     # smaller

Labels: 0.5% minority (fraud-like). Batches of 256. torch's ``WeightedRandomSampler`` (weights
1 / class count, the usual recipe for balanced batches) refuses more than 2^24 categories, so the
side-by-side runs at 2^24 rows, and equipoise runs alone at ``--n``. Each timing produces the
epoch's batches as a DataLoader consumes them (lists of int from ``BatchSampler``), and also the
raw index arrays (torch.multinomial vs ``epoch_indices``). Validity is checked on every output:
equipoise's batches must have the exact composition (minority count floor/ceil of its cumulative
share), WeightedRandomSampler's composition is only right in expectation (its spread is printed).
Peak memory: each library in its own process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

BATCH = 256
TWO24 = 1 << 24


def labels(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y = np.zeros(n, dtype=np.int8)
    y[rng.choice(n, size=max(n // 200, 2), replace=False)] = 1
    return y


def check_exact(y, idx, off) -> bool:
    """Cumulative minority count after every batch is floor or ceil of half the rows so far."""
    m = np.cumsum(y[idx].astype(np.int64))[off[1:] - 1]
    t = off[1:]
    return bool(np.all((m >= t // 2) & (m <= (t + 1) // 2)))


def run_ours(n: int, lists: bool) -> dict:
    from equipoise.sampling import BalancedBatchSampler

    y = labels(n)
    t = time.perf_counter()
    s = BalancedBatchSampler(y, BATCH, seed=0)
    build = time.perf_counter() - t
    out = dict(n=n, build_s=build, nbytes=s.nbytes)
    # Streaming the epoch batch by batch first: the peak memory of a training loop's use.
    t = time.perf_counter()
    for _ in s.iter_numpy():
        pass
    out["numpy_iter_s"] = time.perf_counter() - t
    out["peak_rss_mb_streaming"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if lists:
        t = time.perf_counter()
        k = 0
        for b in s:  # lists of int: what a DataLoader receives
            k += len(b)
        out["lists_s"] = time.perf_counter() - t
    t = time.perf_counter()
    idx, off = s.epoch_indices(0)
    out["arrays_s"] = time.perf_counter() - t
    out["rows"] = int(idx.size)
    out["exact"] = check_exact(y, idx, off)
    return out


def run_torch(n: int) -> dict:
    import torch
    from torch.utils.data import BatchSampler, WeightedRandomSampler

    y = labels(n)
    counts = np.bincount(y)
    w = torch.from_numpy((1.0 / counts)[y])
    rows = n  # num_samples = n: one epoch as long as the data
    t = time.perf_counter()
    raw = torch.multinomial(w, rows, replacement=True, generator=torch.Generator().manual_seed(0))
    arrays = time.perf_counter() - t
    mins = (y[raw.numpy()[: rows // BATCH * BATCH]].reshape(-1, BATCH)).sum(1)
    del raw
    sampler = BatchSampler(
        WeightedRandomSampler(
            w, rows, replacement=True, generator=torch.Generator().manual_seed(0)
        ),
        BATCH,
        drop_last=False,
    )
    t = time.perf_counter()
    k = 0
    for b in sampler:
        k += len(b)
    lists = time.perf_counter() - t
    return dict(
        n=n,
        rows=rows,
        arrays_s=arrays,
        lists_s=lists,
        minority_per_batch=[int(mins.min()), float(mins.mean()), int(mins.max())],
        exact=bool(mins.min() == mins.max() == BATCH // 2),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def torch_refuses_above_2_24() -> str:
    import torch
    from torch.utils.data import WeightedRandomSampler

    try:
        next(iter(WeightedRandomSampler(torch.ones(TWO24 + 1, dtype=torch.float64), 10)))
    except RuntimeError as e:
        return f"refused: {str(e).splitlines()[0]}"
    return "accepted"


def child(args) -> dict:
    cmd = [sys.executable, __file__, "--child", args[0], "--n", str(args[1])]
    if len(args) > 2 and args[2]:
        cmd.append("--lists")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100_000_000)
    p.add_argument("--child", choices=["ours", "torch"])
    p.add_argument("--lists", action="store_true")
    a = p.parse_args()
    if a.child == "ours":
        print(json.dumps(run_ours(a.n, a.lists)))
        return
    if a.child == "torch":
        print(json.dumps(run_torch(a.n)))
        return
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    side = min(a.n, TWO24)
    print(f"balanced batches of {BATCH}, 0.5% minority; side by side at n={side:,}")
    ours = child(("ours", side, True))
    print("equipoise:", json.dumps(ours))
    if have_torch:
        ref = child(("torch", side))
        print("WeightedRandomSampler:", json.dumps(ref))
        # Per row produced (equipoise's epoch is one pass over the majority: ~2x n rows).
        pr = lambda d, k: d[k] / d["rows"]  # noqa: E731
        print(
            f"ratio per row, DataLoader lists (BatchSampler(WeightedRandomSampler) / ours): "
            f"{pr(ref, 'lists_s') / pr(ours, 'lists_s'):.1f}x"
        )
        print(
            f"ratio per row, raw index arrays (torch.multinomial / epoch_indices): "
            f"{pr(ref, 'arrays_s') / pr(ours, 'arrays_s'):.1f}x"
        )
        print(f"WeightedRandomSampler at {TWO24 + 1:,} rows: {torch_refuses_above_2_24()}")
    else:
        print("torch is not installed: WeightedRandomSampler not measured")
    if a.n > side:
        big = child(("ours", a.n, False))
        print(f"equipoise alone at n={a.n:,}:", json.dumps(big))
        print(
            f"  {big['arrays_s'] / big['rows'] * 1e9:.1f} ns per index (arrays), "
            f"{big['numpy_iter_s'] / big['rows'] * 1e9:.1f} ns per index (numpy batches); "
            f"state {big['nbytes'] / big['n']:.2f} bytes per row; peak RSS while streaming the "
            f"epoch {big['peak_rss_mb_streaming']:.0f} MB (labels int8 {a.n / 2**20:.0f} MB)"
        )


if __name__ == "__main__":
    main()
