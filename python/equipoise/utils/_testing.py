"""Independent reference for SMOTE's geometric guarantee, built on scikit-learn's exact search.

Shared by the test suite and the benchmarks (``benches/compare_imblearn.py``), which both import it
from the installed package rather than from each other's folders. Not part of the public API.
"""

import numpy as np
from sklearn.neighbors import NearestNeighbors


def allowed_segments(X_class: np.ndarray, k: int):
    """Pairs (a, b), b among the k nearest other rows of a (ties at the k-th distance included)."""
    Xc = np.asarray(X_class, dtype=np.float64)
    m = Xc.shape[0]
    # The k-th neighbour distance (column 0 is the row itself or a duplicate at distance 0), and
    # a few rows past it: the rows within it are among them unless more rows tie there.
    fetch = min(m, k + 9)
    nn = NearestNeighbors(n_neighbors=fetch, algorithm="brute").fit(Xc)
    dist, idx = nn.kneighbors(Xc)
    lim = dist[:, k] * (1 + 1e-9) + 1e-12
    found = []
    for a in range(m):
        if fetch < m and dist[a, -1] <= lim[a] * (1 + 1e-6):
            cand = np.arange(m)  # more rows than fetched may tie: every row
        else:
            cand = idx[a]
        d = np.sqrt(((Xc[cand] - Xc[a]) ** 2).sum(axis=1))
        for b in cand[(d <= lim[a]) & (cand != a)]:
            found.append((a, b))
    pairs = np.array(found)
    return Xc[pairs[:, 0]], Xc[pairs[:, 1]]


def distance_to_segments(S: np.ndarray, A: np.ndarray, B: np.ndarray, chunk: int = 256):
    """For each row of S, its distance to the nearest segment [A_i, B_i] (the rows of S in
    chunks whose temporaries stay near 256 MB)."""
    S = np.asarray(S, dtype=np.float64)
    chunk = max(1, min(chunk, (1 << 25) // max(1, A.size)))
    D = B - A
    dd = (D**2).sum(axis=1)
    safe = np.where(dd > 0, dd, 1.0)
    out = np.empty(S.shape[0])
    for s0 in range(0, S.shape[0], chunk):
        s = S[s0 : s0 + chunk][:, None, :]
        t = ((s - A[None]) * D[None]).sum(axis=2) / safe[None]
        t = np.clip(np.where(dd[None] > 0, t, 0.0), 0.0, 1.0)
        proj = A[None] + t[..., None] * D[None]
        out[s0 : s0 + chunk] = np.sqrt(((proj - s) ** 2).sum(axis=2)).min(axis=1)
    return out


def assert_on_segments(X, y, X_res, y_res, k, rtol, max_rows=1500):
    """Every new row of every class lies on a segment to one of its class's k nearest neighbours.

    At most ``max_rows`` new rows (an evenly spaced subset) are checked, to bound the test's time.
    """
    n = X.shape[0]
    new_X, new_y = X_res[n:], y_res[n:]
    if new_X.shape[0] > max_rows:
        pick = np.linspace(0, new_X.shape[0] - 1, max_rows).astype(int)
        new_X, new_y = new_X[pick], new_y[pick]
    scale = np.abs(np.asarray(X, dtype=np.float64)).max() + 1.0
    for cls in np.unique(new_y):
        A, B = allowed_segments(X[y == cls], k)
        dist = distance_to_segments(new_X[new_y == cls], A, B)
        worst = dist.max() / scale
        assert worst <= rtol, f"class {cls}: a new row is {worst:.3g} (relative) off every segment"
