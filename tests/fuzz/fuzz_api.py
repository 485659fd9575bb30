"""Coverage-guided fuzzing of equipoise's Python API (atheris).

Each input builds a feature matrix (numpy of several dtypes, pandas or polars; odd shapes, NaN,
infinity, duplicates, huge and tiny values), labels (ints, strings, floats, booleans, one class,
classes of one row) and parameters (odd k, odd sampling_strategy, odd n_jobs), then calls one
sampler's ``fit_resample`` or ``NearestNeighbors``. Every call must either return a valid result
or raise ValueError, TypeError or MemoryError: any other exception, a crash or a hang is a bug.

Run:  python tests/fuzz/fuzz_api.py -max_total_time=60 CORPUS_DIR   (atheris / libFuzzer flags)
The corpus in tests/fuzz/corpus/ is replayed by tests/test_fuzz_corpus.py on every test run.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

ALLOWED = (ValueError, TypeError, MemoryError)


def _samplers():
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

    return [
        SMOTE,
        BorderlineSMOTE,
        ADASYN,
        RandomOverSampler,
        SMOTEN,
        SMOTENC,
        RandomUnderSampler,
        TomekLinks,
        EditedNearestNeighbours,
        RepeatedEditedNearestNeighbours,
        AllKNN,
        NeighbourhoodCleaningRule,
        OneSidedSelection,
        CondensedNearestNeighbour,
        SMOTEENN,
        SMOTETomek,
    ]


_SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-308, 5e-324, 3.4e38, 1.0, -1.0]
_DTYPES = [np.float64, np.float32, np.int64, np.int32, np.uint8, np.float16, bool, object]


class Input:
    """Reads choices from the fuzzer's bytes (FuzzedDataProvider-like, but also usable without
    atheris, for the corpus replay)."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int(self, lo: int, hi: int) -> int:
        v = self.byte() | (self.byte() << 8)
        return lo + v % (hi - lo + 1)

    def pick(self, options):
        return options[self.byte() % len(options)]

    def float(self) -> float:
        kind = self.byte() % 4
        if kind == 0:
            return self.pick(_SPECIAL)
        return float(np.frombuffer(bytes(self.byte() for _ in range(8)), dtype=np.float64)[0])


def build(inp: Input):
    n = inp.int(0, 60)
    d = inp.int(0, 6)
    rng = np.random.default_rng(inp.byte())
    X = rng.normal(scale=10.0 ** inp.int(-5, 5), size=(n, d))
    for _ in range(inp.int(0, 4)):  # special values
        if n and d:
            X[inp.int(0, n - 1), inp.int(0, d - 1)] = inp.float()
    if n and inp.byte() % 3 == 0:  # duplicate rows
        X[: n // 2] = X[0]
    n_classes = inp.int(1, 4)
    weights = np.array([inp.int(1, 20) for _ in range(n_classes)], dtype=float)
    y = rng.choice(n_classes, size=n, p=weights / weights.sum())
    labels = inp.pick(["int", "str", "float", "bool", "neg", "big"])
    if labels == "str":
        y = np.array([f"c{v}" for v in y], dtype=object)
    elif labels == "float":
        y = y.astype(float) + 0.5
    elif labels == "bool":
        y = y % 2 == 0
    elif labels == "neg":
        y = -y
    elif labels == "big":
        y = y.astype(np.int64) * (2**62)
    dtype = inp.pick(_DTYPES)
    with np.errstate(all="ignore"):
        if dtype is object:
            Xd = X.astype(object)
        elif dtype in (np.float64, np.float32, np.float16):
            Xd = X.astype(dtype)
        elif dtype is bool:
            Xd = X > 0
        else:
            Xd = np.nan_to_num(X, posinf=0, neginf=0).clip(-1e6, 1e6).astype(dtype)
    layout = inp.pick(["c", "f", "strided", "pandas", "polars", "list"])
    if layout == "f":
        Xd = np.asfortranarray(Xd)
    elif layout == "strided" and Xd.ndim == 2:
        Xd = np.repeat(Xd, 2, axis=1)[:, ::2]
    elif layout == "pandas":
        import pandas as pd

        Xd = pd.DataFrame(Xd, columns=[f"f{j}" for j in range(d)])
    elif layout == "polars":
        import polars as pl

        try:
            Xd = pl.DataFrame({f"f{j}": Xd[:, j] for j in range(d)})
        except Exception:
            pass  # a column polars cannot hold: stay numpy
    elif layout == "list":
        Xd = Xd.tolist()
    return Xd, y, n_classes


def params(inp: Input, cls, y):
    p = {}
    names = cls().get_params()
    if "random_state" in names:
        p["random_state"] = inp.int(0, 3)
    for key in ("k_neighbors", "n_neighbors", "m_neighbors"):
        if key in names and inp.byte() % 2:
            p[key] = inp.pick([1, 2, 3, 5, 50, 0, -1, 10**15, 2.5, None, "x"])
    if "n_jobs" in names and inp.byte() % 3 == 0:
        p["n_jobs"] = inp.pick([1, 2, -1, -2, 0, 10**6])
    if "neighbors" in names and inp.byte() % 3 == 0:
        p["neighbors"] = inp.pick(["exact", "kdtree", "hnsw", {"M": 2, "ef_search": 1}, "bad"])
    if "categorical_features" in names:
        p["categorical_features"] = inp.pick(["auto", [0], [True], [], [99], [-1]])
    if inp.byte() % 3 == 0:
        classes = list(np.unique(y)) if len(y) else [0]
        p["sampling_strategy"] = inp.pick(
            [
                "auto",
                "all",
                "minority",
                "majority",
                "not minority",
                0.5,
                1.0,
                2.0,
                -1.0,
                {classes[0]: inp.int(0, 200)},
                {classes[-1]: 10**12},
                {"nope": 3},
            ]
        )
    return p


def check_result(X_in, y_in, out):
    X_res, y_res = out
    n_out = X_res.shape[0] if hasattr(X_res, "shape") else len(X_res)
    assert n_out == len(y_res), (n_out, len(y_res))


def one_input(data: bytes) -> None:
    inp = Input(data)
    X, y, _ = build(inp)
    which = inp.byte() % 17
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if which == 16:
            from equipoise.neighbors import NearestNeighbors

            kw = {"n_neighbors": inp.pick([1, 2, 5, 0, 10**12])}
            kw["algorithm"] = inp.pick(["auto", "exact", "kdtree", "hnsw", "brute", "bad"])
            try:
                nn = NearestNeighbors(**kw).fit(X)
                dist, ind = nn.kneighbors()
                assert dist.shape == ind.shape and (ind >= 0).all()
                # Non-decreasing; not np.diff, whose inf - inf is NaN where squared distances of
                # values near 1e154 overflow to inf (as scikit-learn's do).
                assert (dist[:, 1:] >= dist[:, :-1]).all()
                # Outside queries (the first half of the rows, as vectors): the exact searches
                # find each at distance 0 from its own row.
                q = X[: len(X) // 2]
                qd, qi = nn.kneighbors(q)
                assert qd.shape == qi.shape == (len(q), dist.shape[1])
                assert (qd[:, 1:] >= qd[:, :-1]).all()
                assert kw["algorithm"] == "hnsw" or (qd[:, 0] == 0).all()
            except ALLOWED:
                pass
            return
        cls = _samplers()[which]
        try:
            p = params(inp, cls, y)
            est = cls(**p)
            out = est.fit_resample(X, y)
        except ALLOWED:
            return
        except RuntimeError as e:
            # imbalanced-learn's ADASYN raises exactly this on data where no row of a grown class
            # has a neighbour of another class; equipoise keeps its type and words (drop-in).
            if cls.__name__ == "ADASYN" and "Not any neigbours belong" in str(e):
                return
            raise
        check_result(X, y, out)


def main():
    import atheris

    with atheris.instrument_imports(include=["equipoise"]):
        import equipoise.combine  # noqa: F401
        import equipoise.neighbors  # noqa: F401
        import equipoise.over_sampling  # noqa: F401
        import equipoise.under_sampling  # noqa: F401
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
