"""Side by side: equipoise's neighbour engine vs scikit-learn, faiss and hnswlib, in one process.

All-rows k-nearest-neighbour self-queries (each row's k nearest other rows) on each data family of
``benches/data_families.py`` (30 float32 features; ``--families``, default iid Gaussian and the
PCA-like cloud, the worst for pruning). Also prints equipoise's throughput in GFLOP/s (the norm
expansion's 2 n^2 d flops over the time) as a share of the machine's FMA peak, measured at the start
of the run on the threads the search uses.
Prints each library's time, its ratio to equipoise, and its recall@k against
equipoise's exact answer (which is checked against a direct float64 scan on a sample of rows).
faiss and hnswlib are optional (``pip install faiss-cpu hnswlib``): their rows are skipped without
them. Where a library would take too long on every row (``--query-sample``), it and equipoise
answer the same random sample of rows, and the full time is extrapolated linearly in the number of
queries (said so in the output). A call under 50 ms is timed as the median of repeated calls
(``timed``), so that the small real sets compare the libraries rather than the first call's start.

    python benches/compare_neighbors.py --rows 100000 --skip hnsw sklearn-kd_tree sklearn-ball_tree
    python benches/compare_neighbors.py --rows 100000 --families all --skip hnsw
    python benches/compare_neighbors.py --rows 1000000 --k 4 --query-sample 20000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from data_families import add_family_argument, expand, make

from equipoise import _core


def timed(f):
    """Wall time of ``f()`` and its result. A call under 50 ms is repeated for about half a second
    and the median of all its calls is reported, for every library alike: one call of a few hundred
    rows takes a millisecond or less, where the first call of a process (thread pools starting,
    BLAS loading) and the machine's noise would decide the ratio."""
    t = time.perf_counter()
    out = f()
    times = [time.perf_counter() - t]
    if times[0] < 0.05:
        while sum(times) < 0.5 and len(times) < 500:
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def recall(ind, exact):
    hits = sum(len(set(a) & set(b)) for a, b in zip(ind, exact))
    return hits / exact.size


def drop_self(ind, rows, k):
    """Remove each query's own row from a (k+1)-list (or the last column when it is absent)."""
    out = np.empty((len(rows), k), dtype=np.int64)
    for r, (lst, i) in enumerate(zip(ind, rows)):
        lst = [j for j in lst if j != i][:k]
        out[r] = lst
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0, help="0: every core")
    ap.add_argument("--query-sample", type=int, default=0, help="0: every row")
    ap.add_argument("--ef", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument(
        "--skip", nargs="*", default=[], help="sklearn-brute, sklearn-kd_tree, faiss, hnsw, ..."
    )
    add_family_argument(ap)
    args = ap.parse_args()
    from equipoise import _core

    args.peak = max(_core.fma_peak_gflops(n_threads=args.threads) for _ in range(3))
    print(f"FMA peak, measured: {args.peak:.0f} GFLOP/s (f32)")
    for family in expand(args.families):
        compare(args, family)


def compare(args, family):
    import os

    threads = args.threads or os.cpu_count()
    X, _ = make(family, args.rows)
    n, d, k = X.shape[0], X.shape[1], args.k
    if d == 0:
        print(f"\n# {family}: no numeric features, skipped")
        return
    rng = np.random.default_rng(0)
    sample = args.query_sample and args.query_sample < n
    rows = np.sort(rng.choice(n, args.query_sample, replace=False)) if sample else np.arange(n)
    scale = n / len(rows)
    note = f" (extrapolated x{scale:.1f} from {len(rows)} query rows)" if sample else ""
    print(f"\n# {family}: {n} rows x {d} float32 features, k={k}, {threads} threads{note}")
    results = []

    def report(name, seconds, ind=None, extra=""):
        full = seconds * scale if name != "hnsw build" else seconds
        rec = "" if ind is None else f"recall@{k}={recall(ind, exact):.4f}"
        results.append((name, full))
        base = results[0][1]
        print(f"{name:34s} {full:10.4f} s  x{full / base:8.2f} vs equipoise exact  {rec} {extra}")

    if sample:
        t, (dist, exact) = timed(lambda: _core.kneighbors(X, k, rows=rows, algorithm="exact"))
    else:
        # The estimator a user calls, as for scikit-learn below (its Python layer included).
        from equipoise.neighbors import NearestNeighbors

        t, (dist, exact) = timed(
            lambda: NearestNeighbors(n_neighbors=k, algorithm="exact").fit(X).kneighbors()
        )
    # Check equipoise's exact answer on a few rows against a direct float64 scan.
    Xw = X.astype(np.float64)
    for r in rng.choice(len(rows), 20, replace=False):
        i = rows[r]
        full = ((Xw - Xw[i]) ** 2).sum(axis=1)
        full[i] = np.inf
        want = np.lexsort((np.arange(n), full))[:k]
        assert np.allclose(full[want], dist[r] ** 2, rtol=1e-9), "exact search is wrong"
    gflops = 2 * n * len(rows) * d / t / 1e9
    report("equipoise exact", t, exact, f"({gflops:.0f} GFLOP/s, {gflops / args.peak:.0%} of peak)")
    mem = _core.index_memory_bytes(X, "exact")
    print(f"  exact index memory: {mem / X.nbytes:.2f} x the data ({X.nbytes / 1e6:.0f} MB)")

    from sklearn.neighbors import NearestNeighbors as SkNN

    for algo in ("brute", "kd_tree", "ball_tree"):
        if f"sklearn-{algo}" in args.skip:
            continue
        nn = SkNN(n_neighbors=k, algorithm=algo, n_jobs=threads)
        t, _ = timed(lambda nn=nn: nn.fit(X))
        tq, ind = timed(lambda nn=nn: nn.kneighbors(X[rows], k + 1, return_distance=False))
        report(f"sklearn {algo}", t / scale + tq, drop_self(ind, rows, k))

    try:
        import faiss
    except ImportError:
        faiss = None
        print("faiss not installed: skipped")
    if faiss is not None:
        faiss.omp_set_num_threads(threads)
    if faiss is not None and "faiss-flat" not in args.skip:
        index = faiss.IndexFlatL2(d)
        t, _ = timed(lambda: index.add(X))
        tq, (_, ind) = timed(lambda: index.search(X[rows], k + 1))
        report("faiss IndexFlatL2", t / scale + tq, drop_self(ind, rows, k))

    if "hnsw" in args.skip:
        return
    print("# approximate (build + query; the build is not extrapolated)")
    tb, g = timed(lambda: _core.hnsw_build(X, m=16, ef_construction=200, seed=0))
    print(f"  equipoise HNSW graph: {g.memory_bytes / X.nbytes:.2f} x the data")
    for ef in args.ef:
        tq, (_, ind) = timed(
            lambda ef=ef: _core.kneighbors(
                X, k, rows=rows if sample else None, algorithm="hnsw", graph=g, ef_search=ef
            )
        )
        report(f"equipoise hnsw ef={ef}", tb / scale + tq, ind, f"(build {tb:.1f} s)")
    try:
        import hnswlib
    except ImportError:
        hnswlib = None
        print("hnswlib not installed: skipped")
    if hnswlib is not None:
        p = hnswlib.Index(space="l2", dim=d)

        def build():
            p.init_index(max_elements=n, ef_construction=200, M=16, random_seed=0)
            p.add_items(X, np.arange(n), num_threads=threads)

        tb, _ = timed(build)
        for ef in args.ef:
            p.set_ef(max(ef, k + 1))
            tq, (ind, _) = timed(lambda: p.knn_query(X[rows], k=k + 1, num_threads=threads))
            report(
                f"hnswlib ef={ef}", tb / scale + tq, drop_self(ind, rows, k), f"(build {tb:.1f} s)"
            )
    if faiss is not None:
        index = faiss.IndexHNSWFlat(d, 16)
        index.hnsw.efConstruction = 200
        tb, _ = timed(lambda: index.add(X))
        for ef in args.ef:
            index.hnsw.efSearch = max(ef, k + 1)
            tq, (_, ind) = timed(lambda: index.search(X[rows], k + 1))
            report(
                f"faiss HNSW ef={ef}",
                tb / scale + tq,
                drop_self(ind, rows, k),
                f"(build {tb:.1f} s)",
            )


if __name__ == "__main__":
    main()
