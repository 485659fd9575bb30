"""The neighbour engine against scikit-learn: exact parity (ties shown to be ties), HNSW recall,
the estimator contract, and the ``neighbors=`` parameter."""

import pickle

import numpy as np
import pytest
from conftest import NUMERIC
from imblearn.over_sampling import SMOTE as ImbSMOTE
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors as SkNN

from equipoise import _core
from equipoise.datasets import make_fraud as fraud
from equipoise.neighbors import NearestNeighbors
from equipoise.neighbors._select import check_neighbors, kneighbors, self_kneighbors
from equipoise.over_sampling import SMOTE

# The benchmark data generator lives in the source tree's benches/ (tests run against the wheel).

K = 10


def finite_rows(X):
    return X[np.isfinite(X).all(axis=1)]


def exact_sq(X, i, js):
    """Squared distances from row i to rows js, summed feature by feature in float64 (the order
    the core uses, so equal values are equal bit for bit)."""
    X = X.astype(np.float64)
    s = np.zeros(len(js))
    for j in range(X.shape[1]):
        t = X[js, j] - X[i, j]
        s += t * t
    return s


def exact_sq_lists(X, ind, Q=None):
    """``exact_sq`` for every row at once: squared distances from query i to rows ``ind[i]``."""
    X = X.astype(np.float64)
    Q = X if Q is None else Q.astype(np.float64)
    s = np.zeros(ind.shape)
    for j in range(X.shape[1]):
        t = X[ind, j] - Q[:, j][:, None]
        s += t * t
    return s


def assert_same_up_to_ties(X, ours_ind, ours_dist, ref_ind, k):
    """Our lists are the exact ranking; where they differ from the reference, the rows swapped
    are at the same exact float64 distance (a tie)."""
    diff = np.flatnonzero((ours_ind != ref_ind).any(axis=1))
    d2 = exact_sq_lists(X, ours_ind)
    np.testing.assert_array_equal(np.sqrt(d2), ours_dist)
    assert np.all(np.diff(d2, axis=1) >= 0)
    n = X.shape[0]
    for i in diff[:: max(1, len(diff) // 100)]:  # a sample of at most ~100 rows, for time
        # Ours is the exact ranking by (float64 distance, row index), checked by a full scan...
        full = exact_sq(X, i, np.arange(n))
        full[i] = np.inf
        want = np.lexsort((np.arange(n), full))[:k]
        np.testing.assert_array_equal(ours_ind[i], want, err_msg=f"row {i}")
        # ...and the reference's list has the same distances: only tied rows are exchanged (or
        # rows within the reference's own rounding error, which its norm expansion leaves).
        a = exact_sq(X, i, ours_ind[i])
        b = exact_sq(X, i, ref_ind[i])
        np.testing.assert_allclose(np.sort(a), np.sort(b), rtol=1e-9, err_msg=f"row {i}")
    return len(diff)


@pytest.fixture(scope="module")
def datasets_f64(load):
    return {name: finite_rows(load(name)[0]) for name in NUMERIC}


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize("algorithm", ["exact", "kdtree"])
def test_exact_matches_sklearn_brute(name, algorithm, datasets_f64):
    X = datasets_f64[name]
    if algorithm == "kdtree" and X.shape[1] > 16:
        pytest.skip("a KD-tree is for low dimension (brute force covers this dataset)")
    ours = NearestNeighbors(n_neighbors=K, algorithm=algorithm).fit(X)
    dist, ind = ours.kneighbors()
    ref_dist, ref_ind = SkNN(n_neighbors=K, algorithm="brute").fit(X).kneighbors()
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-6, atol=1e-6)
    assert_same_up_to_ties(X, ind, dist, ref_ind, K)
    # External queries (a shifted copy of a few rows) against a direct float64 scan: scikit-learn's
    # norm expansion loses all precision where the norms are large (oil_spill: ~1e7).
    q = X[:100] + 0.125
    d2, i2 = ours.kneighbors(q, n_neighbors=3)
    Xw = X.astype(np.float64)
    for r in range(len(q)):
        full = np.zeros(len(X))
        for j in range(X.shape[1]):
            full += (Xw[:, j] - q[r, j]) ** 2
        want = np.lexsort((np.arange(len(X)), full))[:3]
        np.testing.assert_array_equal(i2[r], want)
        np.testing.assert_array_equal(d2[r], np.sqrt(full[want]))


@pytest.mark.parametrize("name", ["pen_digits", "satimage", "mammography"])
def test_float32_searched_in_float32_exactly(name, datasets_f64):
    X = datasets_f64[name].astype(np.float32)
    dist, ind = _core.kneighbors(X, 5, algorithm="exact")
    ref = SkNN(n_neighbors=5, algorithm="brute").fit(X.astype(np.float64)).kneighbors()[1]
    assert_same_up_to_ties(X, ind, dist, ref, 5)
    kd_dist, kd_ind = _core.kneighbors(X, 5, algorithm="kdtree")
    np.testing.assert_array_equal(kd_ind, ind)
    np.testing.assert_array_equal(kd_dist, dist)


@pytest.mark.parametrize("offset", [300.0, -1e4])
def test_float32_far_from_the_origin_searched_exactly(offset):
    """Rows far from the origin compared with their spread: pass 1 runs on them shifted by their
    mean (docs/design.md, "The shift"), and the answer is scikit-learn's float64 brute force."""
    rng = np.random.default_rng(5)
    X = (rng.standard_normal((3000, 30)) + offset).astype(np.float32)
    dist, ind = _core.kneighbors(X, 4, algorithm="exact")
    ref = SkNN(n_neighbors=4, algorithm="brute").fit(X.astype(np.float64)).kneighbors()[1]
    assert_same_up_to_ties(X, ind, dist, ref, 4)


def tie_aware_recall(X, approx_ind, exact_dist):
    """Share of returned neighbours no farther than the true k-th neighbour (a tie counts)."""
    d = np.sqrt(exact_sq_lists(X, approx_ind))
    return float(np.mean(d <= exact_dist[:, -1:]))


@pytest.mark.parametrize("name", NUMERIC)
def test_hnsw_recall_at_10(name, datasets_f64):
    X = datasets_f64[name]
    exact_dist, _ = _core.kneighbors(X, K, algorithm="exact")
    _, ind = NearestNeighbors(n_neighbors=K, algorithm="hnsw").fit(X).kneighbors()
    assert (ind != np.arange(len(X))[:, None]).all()
    assert tie_aware_recall(X, ind, exact_dist) >= 0.98


@pytest.fixture(scope="module")
def fraud_small():
    return fraud(10_000)


def test_hnsw_recall_on_fraud_data_and_determinism(fraud_small):
    X, _ = fraud_small
    exact_dist, exact_ind = _core.kneighbors(X, K, algorithm="exact")
    g = _core.hnsw_build(X, seed=3)
    d1, i1 = _core.kneighbors(X, K, algorithm="hnsw", graph=g)
    assert tie_aware_recall(X, i1, exact_dist) >= 0.98
    # The same seed gives the same graph, whatever the number of threads.
    g1 = _core.hnsw_build(X, seed=3, n_threads=1)
    d2, i2 = _core.kneighbors(X, K, algorithm="hnsw", graph=g1, n_threads=1)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d2)
    # Memory: the graph is reported; the exact indexes stay within 2x of the data.
    assert g.memory_bytes > 0
    assert _core.index_memory_bytes(X, "exact") <= 2 * X.nbytes
    assert _core.index_memory_bytes(X, "kdtree") <= 2 * X.nbytes


def enn_removed(y, nn_ind):
    """Rows ENN (kind_sel='all', 'auto': every class but the minority) removes: a neighbour of
    another class."""
    minority = np.argmin(np.bincount(y))
    return np.flatnonzero((y != minority) & (y[nn_ind] != y[:, None]).any(axis=1))


def tomek_majority(y, nn1):
    """Rows in a Tomek link (mutual nearest neighbours of different classes), minority aside."""
    j = nn1[:, 0]
    link = (j[j] == np.arange(len(y))) & (y[j] != y)
    return np.flatnonzero(link & (y != np.argmin(np.bincount(y))))


@pytest.mark.parametrize("name", ["satimage", "phoneme", "mammography"])
def test_hnsw_selection_agrees_with_exact(name, load):
    # The selections ENN and Tomek links make from these neighbours (imbalanced-learn's rules on
    # every row; the fraud-like data's classes barely touch, so both are empty there): approximate
    # neighbours change at most 1% of the selected rows.
    X, y = load(name)
    exact = self_kneighbors(X, 3, "exact")
    approx = self_kneighbors(X, 3, "hnsw")
    for sel in (enn_removed, lambda y, ind: tomek_majority(y, ind[:, :1])):
        a, b = set(sel(y, exact)), set(sel(y, approx))
        assert len(a) > 0
        assert len(a ^ b) <= 0.01 * len(a | b), (len(a), len(b), len(a ^ b))


def test_rows_subset_and_external_queries(fraud_small):
    X, _ = fraud_small
    rows = np.arange(5, 10_000, 37)
    full = self_kneighbors(X, 4, "exact")
    for algo in ("exact", "kdtree"):
        np.testing.assert_array_equal(self_kneighbors(X, 4, algo, rows=rows), full[rows])
    ind = kneighbors(X[:3000], X[3000:3500], 4, "exact")
    ref = SkNN(n_neighbors=4, algorithm="brute").fit(X[:3000]).kneighbors(X[3000:3500])[1]
    assert (ind == ref).mean() > 0.999


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 300.0])
def test_few_rows_among_many_spread_rows(dtype, offset):
    """A few chosen rows among many rows of an iid Gaussian cloud: the search that streams the
    rows past the chosen ones, with no index (docs/design.md, "Few rows among many"). Its lists
    are the exact search of all rows' lists for those rows, and scikit-learn's brute force up to
    ties; with copies of the chosen rows (left to the tiled index) too."""
    rng = np.random.default_rng(7)
    X = (rng.standard_normal((20_000, 30)) + offset).astype(dtype)
    rows = np.sort(rng.choice(len(X), 150, replace=False))
    full_dist, full_ind = _core.kneighbors(X, 6, algorithm="exact")
    dist, ind = _core.kneighbors(X, 6, rows=rows, algorithm="exact")
    np.testing.assert_array_equal(ind, full_ind[rows])
    np.testing.assert_array_equal(dist, full_dist[rows])
    ref = SkNN(n_neighbors=7, algorithm="brute").fit(X.astype(np.float64))
    ref_ind = ref.kneighbors(X[rows].astype(np.float64))[1][:, 1:]
    assert (ind == ref_ind).mean() > 0.999
    copied = X.copy()
    copied[rows[1::2]] = copied[rows[::2]][: len(rows[1::2])]
    full_dist, full_ind = _core.kneighbors(copied, 6, algorithm="exact")
    dist, ind = _core.kneighbors(copied, 6, rows=rows, algorithm="exact")
    np.testing.assert_array_equal(ind, full_ind[rows])
    np.testing.assert_array_equal(dist, full_dist[rows])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_outside_queries_among_many_spread_rows(dtype):
    """A few outside queries among many rows of an iid Gaussian cloud: the same search with no
    index (docs/design.md, "Few rows among many"), nothing excluded. Its lists are those the
    tiled index gives the same queries when they are too many for that search (more than half as
    many as the rows), and scikit-learn's brute force up to ties; queries that copy rows (at
    distance 0) included."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((20_000, 30)).astype(dtype)
    Q = rng.standard_normal((150, 30)).astype(dtype)
    Q[::3] = X[rng.choice(len(X), 50, replace=False)]
    dist, ind = _core.kneighbors(X, 6, queries=Q, algorithm="exact")
    many = np.concatenate([Q, X[: len(X) // 2]])
    full_dist, full_ind = _core.kneighbors(X, 6, queries=many, algorithm="exact")
    np.testing.assert_array_equal(ind, full_ind[: len(Q)])
    np.testing.assert_array_equal(dist, full_dist[: len(Q)])
    assert (dist[::3, 0] == 0).all()
    ref = SkNN(n_neighbors=6, algorithm="brute").fit(X.astype(np.float64))
    ref_ind = ref.kneighbors(Q.astype(np.float64))[1]
    assert (ind == ref_ind).mean() > 0.999
    got = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(Q)
    np.testing.assert_array_equal(got[1], ind)
    # Bad queries of that size, answered by the same branch: clear errors.
    bad = Q.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"NaN \(first at row 3, column 4\)"):
        _core.kneighbors(X, 6, queries=bad, algorithm="exact")
    with pytest.raises(ValueError, match="n_neighbors = 20001"):
        _core.kneighbors(X, len(X) + 1, queries=Q, algorithm="exact")
    with pytest.raises(ValueError, match="features"):
        _core.kneighbors(X, 6, queries=Q[:, :5], algorithm="exact")


def test_estimator_contract(datasets_f64):
    X = datasets_f64["pima"]
    nn = NearestNeighbors(n_neighbors=4, algorithm="hnsw", ef_search=80, random_state=7)
    assert clone(nn).get_params() == nn.get_params()
    nn.fit(X)
    dist, ind = nn.kneighbors()
    nn2 = pickle.loads(pickle.dumps(nn))
    d2, i2 = nn2.kneighbors()
    np.testing.assert_array_equal(i2, ind)
    X = datasets_f64["breast_cancer"]  # no ties
    for mode in ("connectivity", "distance"):
        ref = SkNN(n_neighbors=4, algorithm="brute").fit(X).kneighbors_graph(X[:50], mode=mode)
        got = NearestNeighbors(n_neighbors=4).fit(X).kneighbors_graph(X[:50], mode=mode)
        assert got.shape == ref.shape
        # scikit-learn puts a query at ~1e-5 from itself (rounding of its norm expansion).
        np.testing.assert_allclose(got.toarray(), ref.toarray(), rtol=1e-6, atol=1e-4)
    assert nn.kneighbors_graph().shape == (nn.n_samples_fit_, nn.n_samples_fit_)
    with pytest.raises(ValueError, match="n_neighbors"):
        NearestNeighbors(n_neighbors=len(X)).fit(X).kneighbors()
    with pytest.raises(ValueError):
        NearestNeighbors(algorithm="nope").fit(X)
    with pytest.raises(ValueError, match="features"):
        NearestNeighbors().fit(X).kneighbors(X[:, :3])
    # float32 stays float32 in the index.
    assert NearestNeighbors().fit(X.astype(np.float32))._fit_X.dtype == np.float32


# Datasets without distance ties (with ties, scikit-learn's tie order is not the row order).
@pytest.mark.parametrize("name", ["pima", "yeast_me2", "breast_cancer"])
def test_as_k_neighbors_of_imblearn_and_equipoise_smote(name, load):
    X, y = load(name)
    X = X[np.isfinite(X).all(axis=1)]
    y = y[: len(X)]
    ours = NearestNeighbors(n_neighbors=6)
    ref = SkNN(n_neighbors=6)
    a = ImbSMOTE(k_neighbors=ours, random_state=0).fit_resample(X, y)[0]
    b = ImbSMOTE(k_neighbors=ref, random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    c = SMOTE(k_neighbors=ours, random_state=0).fit_resample(X, y)[0]
    d = SMOTE(k_neighbors=ref, random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(c, d)


def test_smote_neighbors_parameter(load):
    X, y = load("pen_digits")
    base = SMOTE(random_state=0).fit_resample(X, y)[0]
    for nb in ("exact", "kdtree", "auto"):
        np.testing.assert_array_equal(
            SMOTE(random_state=0, neighbors=nb).fit_resample(X, y)[0], base
        )
    approx = SMOTE(random_state=0, neighbors={"algorithm": "hnsw", "ef_search": 100})
    Xa, ya = approx.fit_resample(X, y)
    assert Xa.shape == base.shape
    # Nearly every generated row is the same: only rows built from a missed neighbour differ.
    same = np.all(Xa[len(X) :] == base[len(X) :], axis=1).mean()
    assert same > 0.95
    with pytest.raises(ValueError):
        SMOTE(neighbors="ball").fit_resample(X, y)
    with pytest.raises(ValueError, match="unknown neighbors option"):
        check_neighbors({"algorithm": "hnsw", "m": 3})
    with pytest.raises(ValueError, match="'M'"):
        check_neighbors({"M": 1})


@pytest.mark.parametrize("shape", ["continuous", "copies"])
@pytest.mark.parametrize("algorithm", ["auto", "exact", "kdtree"])
def test_kneighbors_of_the_fitted_rows_themselves(shape, algorithm):
    """``fit(X).kneighbors(X)`` (each row among its own neighbours, as in scikit-learn) is
    answered from the self search when the queries are the fitted rows: the same indices and
    distances as a float64 scan ranked by (distance, row), a row after its lower-indexed copies
    at distance 0; and the same as queries that differ from the rows only in one value."""
    rng = np.random.default_rng(5)
    if shape == "continuous":
        X = rng.standard_normal((2500, 20)).astype(np.float32)
    else:  # few values in 4 features: thousands of copies, searched by the KD-tree under 'auto'
        X = rng.integers(0, 3, (2500, 4)).astype(np.float32)
    nn = NearestNeighbors(n_neighbors=6, algorithm=algorithm).fit(X)
    dist, ind = nn.kneighbors(X)
    Xw = X.astype(np.float64)
    for i in range(0, len(X), 7):
        full = ((Xw - Xw[i]) ** 2).sum(axis=1)
        want = np.lexsort((np.arange(len(X)), full))[:6]
        np.testing.assert_array_equal(ind[i], want)
        np.testing.assert_allclose(dist[i], np.sqrt(full[want]), rtol=1e-12, atol=0)
    # A copy of X is recognised too; queries that differ take the ordinary path, same ranking.
    np.testing.assert_array_equal(nn.kneighbors(X.copy())[1], ind)
    Q = X.copy()
    Q[-1, 0] += 1.0
    d2, i2 = nn.kneighbors(Q)
    np.testing.assert_array_equal(i2[:-1], ind[:-1])
    np.testing.assert_array_equal(d2[:-1], dist[:-1])
