"""Benchmark data families that equipoise was not tuned to.

Every side-by-side script measures on these, and every speed claim names its family; the worst
family is the headline. Each generator is deterministic in ``(n_rows, seed)`` and returns
``(X, y)``: ``X`` of shape ``(n_rows, 30)`` (float32 unless ``dtype`` says otherwise), ``y`` int64
with ``1`` the minority (``minority`` share, 0.5% by default) and ``0`` the majority.

- ``gaussian``: iid standard normal features, the minority a second normal shifted by one standard
  deviation along a random direction. No structure at all: the worst case for any spatial pruning.
- ``pca_cloud``: shaped like the public card-fraud data (28 PCA components, time, amount): one
  continuous cloud whose component scales decrease geometrically from 2.0 to 0.33, four of them
  heavy-tailed (Student-t, 3 degrees of freedom), a uniform time-like column and a log-normal
  amount-like column (scaled as a user's ``Amount / Amount.std()`` would be, so a few rows lie 100
  units out). The minority: four overlapping clusters on the cloud's shoulder (2 to 3 scales out
  along the leading components, spread as wide as the cloud there) plus a fifth of it drawn from
  the majority's own distribution (frauds hidden inside the cloud).
- ``clustered``: the earlier ``equipoise.datasets.make_fraud`` generator (20 well-separated
  Gaussian clusters), the family the first speed claims were measured on; kept for comparison.
- ``manifold``: a 4-dimensional curved manifold embedded in 30 dimensions (a random smooth map of
  a 4-d Gaussian plus 1% noise); the minority is a region of the manifold, with 10% label noise.
- ``duplicates``: ``n_rows / 20`` distinct rows of the ``pca_cloud`` family, each repeated about 20
  times (exact duplicates, so distance ties at zero everywhere); a minority prototype's copies are
  minority, and 5% of them are relabelled majority (the same transaction with both labels).
- ``far_gaussian``: ``gaussian`` shifted by 300 in every feature (raw, unscaled units: a sensor
  reading, a timestamp). Distances are those of ``gaussian``; what changes is the rounding of any
  search that expands ``|q|^2 + |x|^2 - 2 q.x`` in float32, whose error grows with the norms
  (equipoise's fell back to a direct scan on every query here, 15x slower than scikit-learn,
  until its pass 1 shifted the rows by their mean).
- ``real:<name>``: a bundled real dataset (``equipoise.datasets``), at its own size.

Categorical extension (for SMOTENC and SMOTEN, :func:`mixed` and :func:`categorical`): a family's
rows with some of its columns turned into categories by binning them at quantiles of Zipf-like
frequencies (level ``v`` about ``1 / (v + 1)`` as common as level 0: a few common levels, a long
tail), so that the categories keep the family's structure, the minority's position in the cloud
included, instead of being drawn apart from it. ``mixed`` keeps the family's first ten columns
numeric (float64) and bins the next five into 10, 50, 200, 1,000 and 2,000 levels (pandas
``category`` columns); ``categorical`` bins the first six columns into 4 to 40 levels (string
columns, as SMOTEN reads them). A real set with fewer columns gives up numeric columns first and
keeps at least one of each kind in ``mixed``.
"""

from __future__ import annotations

import numpy as np

N_FEATURES = 30

SYNTHETIC = ("gaussian", "pca_cloud", "clustered", "manifold", "duplicates", "far_gaussian")


def _minority_count(n_rows: int, minority: float) -> int:
    return max(int(round(n_rows * minority)), 8)


def _shuffle(rng, X, y, dtype):
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order], dtype=dtype), y[order].astype(np.int64)


def gaussian(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """iid N(0, 1) in 30-d; the minority shifted by 1 along a random unit direction."""
    rng = np.random.default_rng([seed, 1])
    n_min = _minority_count(n_rows, minority)
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    direction = rng.standard_normal(N_FEATURES)
    direction /= np.linalg.norm(direction)
    X[:n_min] += direction.astype(np.float32)
    y = np.zeros(n_rows, dtype=np.int64)
    y[:n_min] = 1
    return _shuffle(rng, X, y, dtype)


# Scales of the 28 components (card-fraud data: V1's std is about 1.96, V28's about 0.33).
_PCA_SCALES = 2.0 * (0.33 / 2.0) ** (np.arange(28) / 27)
# Components with heavy (Student-t, 3 d.o.f.) tails, as V5, V6, V7 and V20 have in that data.
_HEAVY = (4, 5, 6, 19)


def _pca_majority(rng, n):
    Z = rng.standard_normal((n, 28))
    for j in _HEAVY:
        # t with 3 d.o.f. has variance 3: scaled to unit variance, tails far longer than normal.
        Z[:, j] = rng.standard_t(3, size=n) / np.sqrt(3.0)
    Z *= _PCA_SCALES
    time = rng.uniform(-1.73, 1.73, size=n)  # two days of seconds, standardised
    amount = rng.lognormal(3.0, 1.5, size=n) / 250.0  # Amount / Amount.std()
    return np.column_stack([time, Z, amount])


def pca_cloud(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """One continuous heavy-tailed cloud shaped like PCA'd card transactions (see module doc)."""
    rng = np.random.default_rng([seed, 2])
    n_min = _minority_count(n_rows, minority)
    n_hidden = n_min // 5
    n_shoulder = n_min - n_hidden
    X = np.empty((n_rows, N_FEATURES))
    X[: n_rows - n_shoulder] = _pca_majority(rng, n_rows - n_shoulder)
    # Shoulder clusters: centres 2 to 3 scales out along a few leading components, each cluster as
    # wide as the cloud in its other directions, so that they overlap the majority and each other.
    centres = np.zeros((4, N_FEATURES))
    for c in range(4):
        lead = rng.choice(8, size=3, replace=False) + 1  # among V1..V8 (column 0 is time)
        centres[c, lead] = rng.choice([-1.0, 1.0], size=3) * rng.uniform(2.0, 3.0, 3)
        centres[c, lead] *= _PCA_SCALES[lead - 1]
    which = rng.integers(0, 4, size=n_shoulder)
    shoulder = _pca_majority(rng, n_shoulder) * 0.6
    shoulder[:, 1:29] += centres[which, 1:29]
    X[n_rows - n_shoulder :] = shoulder
    y = np.zeros(n_rows, dtype=np.int64)
    y[n_rows - n_min :] = 1  # the last n_hidden majority-drawn rows and every shoulder row
    return _shuffle(rng, X, y, dtype)


def clustered(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """The earlier well-separated clusters (``equipoise.datasets.make_fraud``)."""
    from equipoise.datasets import make_fraud

    return make_fraud(n_rows, minority=minority, seed=seed, dtype=dtype)


def manifold(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """A curved 4-d manifold in 30-d; the minority a region of it, with 10% label noise."""
    rng = np.random.default_rng([seed, 4])
    Z = rng.standard_normal((n_rows, 4))
    A = rng.standard_normal((4, 12))
    B = rng.standard_normal((12, N_FEATURES)) / np.sqrt(12)
    X = np.tanh(Z @ A) @ B * 3.0 + np.sin(Z @ rng.standard_normal((4, N_FEATURES)))
    X += 0.01 * rng.standard_normal(X.shape)
    # The minority: the rows nearest (in manifold coordinates) to a point on the shoulder.
    centre = np.array([1.5, -1.0, 0.5, 0.0])
    d2 = ((Z - centre) ** 2).sum(axis=1)
    n_min = _minority_count(n_rows, minority)
    y = np.zeros(n_rows, dtype=np.int64)
    y[np.argsort(d2, kind="stable")[:n_min]] = 1
    flip = rng.random(n_rows) < 0.1 * n_min / n_rows  # as many noisy minority rows elsewhere
    y[flip] = 1
    return _shuffle(rng, X, y, dtype)


def far_gaussian(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """``gaussian`` shifted by 300 in every feature (the shift added in float32)."""
    X, y = gaussian(n_rows, minority=minority, seed=seed, dtype=np.float32)
    X += np.float32(300.0)
    return np.ascontiguousarray(X, dtype=dtype), y


def duplicates(n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """About 20 exact copies of each of ``n_rows / 20`` distinct ``pca_cloud`` rows."""
    n_proto = max(n_rows // 20, 16)
    P, py = pca_cloud(n_proto, minority=minority, seed=seed, dtype=dtype)
    rng = np.random.default_rng([seed, 5])
    pick = rng.integers(0, n_proto, size=n_rows)
    pick[:n_proto] = np.arange(n_proto)  # every prototype at least once
    X, y = P[pick], py[pick].copy()
    y[(y == 1) & (rng.random(n_rows) < 0.05)] = 0
    return _shuffle(rng, X, y, dtype)


def real(name: str, *, dtype=np.float32):
    """A bundled real dataset, numeric columns, as ``(X, y)`` (NaN rows dropped)."""
    from equipoise.datasets import load

    X, y, _ = load(name, numeric_only=True)
    ok = ~np.isnan(X).any(axis=1)
    return np.ascontiguousarray(X[ok], dtype=dtype), y[ok]


def make(family: str, n_rows: int, *, minority: float = 0.005, seed: int = 0, dtype=np.float32):
    """``(X, y)`` of a family by name; ``real:<dataset>`` ignores ``n_rows``."""
    if family.startswith("real:"):
        return real(family[5:], dtype=dtype)
    gens = {
        "gaussian": gaussian,
        "pca_cloud": pca_cloud,
        "clustered": clustered,
        "manifold": manifold,
        "duplicates": duplicates,
        "far_gaussian": far_gaussian,
    }
    if family not in gens:
        raise ValueError(f"unknown family {family!r}: one of {list(gens)} or real:<dataset>")
    return gens[family](n_rows, minority=minority, seed=seed, dtype=dtype)


def _zipf_codes(col, levels: int) -> np.ndarray:
    """Codes ``0..levels-1`` of a column binned at quantiles with Zipf-like level frequencies
    (smallest values in level 0); equal values share a level."""
    p = 1.0 / np.arange(1, levels + 1)
    cdf = np.cumsum(p) / p.sum()
    values, inverse = np.unique(col, return_inverse=True)
    # The mid-rank quantile of each distinct value, so that ties fall in one level.
    counts = np.bincount(inverse.reshape(-1), minlength=len(values))
    mid = (np.cumsum(counts) - counts / 2) / len(col)
    return np.searchsorted(cdf, mid, side="right").clip(max=levels - 1)[inverse.reshape(-1)]


MIXED_LEVELS = (10, 50, 200, 1000, 2000)
CATEGORICAL_LEVELS = (4, 6, 10, 15, 25, 40)


def mixed(family: str, n_rows: int, *, minority: float = 0.005, seed: int = 0, n_numeric: int = 10):
    """A family as a mixed pandas frame: numeric ``num<j>`` (float64) then categorical ``cat<j>``
    columns (``MIXED_LEVELS``), and its labels (see the module doc)."""
    import pandas as pd

    X, y = make(family, n_rows, minority=minority, seed=seed, dtype=np.float64)
    d = X.shape[1]
    n_cat = max(1, min(len(MIXED_LEVELS), d // 2))
    n_num = max(1, min(n_numeric, d - n_cat))
    cols = {f"num{j}": X[:, j] for j in range(n_num)}
    for j, levels in enumerate(MIXED_LEVELS[:n_cat]):
        codes = _zipf_codes(X[:, n_num + j], levels).astype(np.int32)
        cats = [f"c{j}_{v}" for v in range(levels)]
        cols[f"cat{j}"] = pd.Categorical.from_codes(codes, categories=cats)
    return pd.DataFrame(cols), y


def categorical(family: str, n_rows: int, *, minority: float = 0.005, seed: int = 0):
    """A family as an all-categorical object array (``CATEGORICAL_LEVELS``, string values) and
    its labels (see the module doc)."""
    X, y = make(family, n_rows, minority=minority, seed=seed, dtype=np.float64)
    cols = []
    for j, levels in enumerate(CATEGORICAL_LEVELS[: X.shape[1]]):
        names = np.array([f"v{j}_{v}" for v in range(levels)], dtype=object)
        cols.append(names[_zipf_codes(X[:, j], levels)])
    return np.column_stack(cols), y


def add_family_argument(parser, default=("gaussian", "pca_cloud")):
    """``--families`` for a side-by-side script (``all`` = every synthetic family)."""
    parser.add_argument(
        "--families",
        nargs="+",
        default=list(default),
        help=f"data families: {', '.join(SYNTHETIC)}, real:<dataset>, or all",
    )


def expand(families):
    return list(SYNTHETIC) if families == ["all"] else list(families)
