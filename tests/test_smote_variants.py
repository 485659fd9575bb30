"""BorderlineSMOTE, ADASYN, SMOTENC and SMOTEN: class counts as imbalanced-learn's, and the
geometric or categorical guarantee of each new row checked against independent references
(scikit-learn's exact neighbours, imbalanced-learn's encodings and value difference metric)."""

import numpy as np
import pytest
from imblearn import over_sampling as imb
from imblearn.metrics.pairwise import ValueDifferenceMetric
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from equipoise import datasets
from equipoise.over_sampling import ADASYN, SMOTEN, SMOTENC, BorderlineSMOTE

REAL = ["ecoli", "yeast_me2", "wine_quality_red_4", "abalone_19", "pima"]


def segment_pairs(new, A, B, tol=1e-7):
    """For each new row, a boolean (n_pairs,) mask of the pairs (A[i], B[i]) whose segment holds
    it, and the position t on the segment."""
    D = B - A
    den = np.einsum("ij,ij->i", D, D)
    out, pos = [], []
    for row in new:
        num = np.einsum("ij,ij->i", row - A, D)
        t = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        t = np.clip(t, 0.0, 1.0)
        resid = np.abs(A + t[:, None] * D - row).max(axis=1)
        scale = 1.0 + np.abs(row).max()
        out.append(resid <= tol * scale)
        pos.append(t)
    return np.array(out), np.array(pos)


def exact_knn(X_fit, X_query, k, self_rows=None):
    """scikit-learn exact neighbours; with ``self_rows`` the query rows are rows of X_fit and are
    dropped from their own lists (k + 1 asked, first dropped), as imbalanced-learn does."""
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X_fit)
    return nn.kneighbors(X_query, return_distance=False)[:, 1:]


# -- BorderlineSMOTE ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("kind", ["borderline-1", "borderline-2"])
def test_borderline_matches_imblearn_danger_and_counts(load, name, kind):
    X, y = load(name)
    ours = BorderlineSMOTE(kind=kind, random_state=0)
    X_res, y_res = ours.fit_resample(X, y)
    ref = imb.BorderlineSMOTE(kind=kind, random_state=0)
    Xr, yr = ref.fit_resample(X, y)
    assert np.array_equal(np.bincount(y_res), np.bincount(yr))
    assert ours.in_danger_indices.keys() == ref.in_danger_indices.keys()
    for cls, rows in ref.in_danger_indices.items():
        # Exact neighbours on both sides: identical up to ties (none on these continuous data).
        assert np.array_equal(np.sort(ours.in_danger_indices[cls]), np.sort(rows))
    assert np.array_equal(X_res[: len(X)], X)


@pytest.mark.parametrize("kind", ["borderline-1", "borderline-2"])
def test_borderline_rows_lie_on_segments_from_danger_rows(load, kind):
    X, y = load("yeast_me2")
    sm = BorderlineSMOTE(kind=kind, random_state=3)
    X_res, y_res = sm.fit_resample(X, y)
    danger = sm.in_danger_indices[1]
    if kind == "borderline-1":
        cls_rows = np.flatnonzero(y == 1)
        nbrs = cls_rows[exact_knn(X[cls_rows], X[danger], 5)]
    else:
        nbrs = exact_knn(X, X[danger], 5)
    A = np.repeat(X[danger], 5, axis=0)
    B = X[nbrs.reshape(-1)]
    other = y[nbrs.reshape(-1)] != 1
    new = X_res[len(X) :][:300]
    on, t = segment_pairs(new, A, B)
    assert on.any(axis=1).all(), "a new row is on no (danger row, neighbour) segment"
    if kind == "borderline-2":
        # Steps towards another class's row go at most half way.
        for r in range(len(new)):
            hits = on[r] & other
            if hits.any() and not (on[r] & ~other).any():
                assert t[r][hits].min() <= 0.5 + 1e-9


def test_borderline_class_without_danger_is_not_grown():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(size=(20, 2)) + 50])
    y = np.array([0] * 100 + [1] * 20)
    sm = BorderlineSMOTE(random_state=0)
    X_res, y_res = sm.fit_resample(X, y)
    ref = imb.BorderlineSMOTE(random_state=0).fit_resample(X, y)
    assert len(y_res) == len(ref[1]) == 120 and sm.in_danger_indices == {}


# -- ADASYN ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REAL)
def test_adasyn_counts_match_imblearn(load, name):
    X, y = load(name)
    X_res, y_res = ADASYN(random_state=0).fit_resample(X, y)
    Xr, yr = imb.ADASYN(random_state=0).fit_resample(X, y)
    # The rounded per-row counts depend only on neighbours: same totals as imbalanced-learn.
    assert np.array_equal(np.bincount(y_res), np.bincount(yr))


def test_adasyn_rows_follow_the_weights(load):
    X, y = load("ecoli")
    X_res, y_res = ADASYN(random_state=1).fit_resample(X, y)
    rows = np.flatnonzero(y == 1)
    nn_all = exact_knn(X, X[rows], 5)
    ratio = np.sum(y[nn_all] != 1, axis=1) / 5
    ratio /= ratio.sum()
    want = np.rint(ratio * (np.sum(y == 0) - np.sum(y == 1))).astype(int)
    nbrs = rows[exact_knn(X[rows], X[rows], 5)]
    A = np.repeat(X[rows], 5, axis=0)
    B = X[nbrs.reshape(-1)]
    new = X_res[len(X) :]
    on, _ = segment_pairs(new, A, B)
    # Each new row lies on a segment from a row whose rounded weight is positive (rows with no
    # neighbour of another class never generate) to one of its same-class neighbours.
    base_of_pair = np.repeat(np.arange(rows.size), 5)
    assert (on & (want[base_of_pair] > 0)[None, :]).any(axis=1).all()
    assert new.shape[0] == want.sum()


def test_adasyn_error_when_no_neighbour_of_another_class():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(size=(20, 2)) + 50])
    y = np.array([0] * 100 + [1] * 20)
    with pytest.raises(RuntimeError, match="Not any neigbours belong to the majority"):
        imb.ADASYN().fit_resample(X, y)
    with pytest.raises(RuntimeError, match="Not any neigbours belong to the majority"):
        ADASYN().fit_resample(X, y)


# -- SMOTENC -----------------------------------------------------------------------------------
def abalone_mixed():
    X, y, names = datasets.load("abalone_19")
    return X, y, names


def reference_smotenc_graph(num, cat, k):
    """imbalanced-learn's encoding of one class (numeric + one-hot * median_std / sqrt(2)) and
    scikit-learn's exact neighbours on it."""
    med = np.median(np.std(num, axis=0))
    ohe = OneHotEncoder(handle_unknown="ignore").fit_transform(cat).toarray() * med / np.sqrt(2)
    enc = np.hstack([num, ohe])
    return exact_knn(enc, enc, k), med


@pytest.mark.parametrize("k", [3, 5])
def test_smotenc_rows_on_segments_with_modal_categories(k):
    X, y, _ = abalone_mixed()
    sm = SMOTENC(categorical_features=[0], k_neighbors=k, random_state=0)
    X_res, y_res = sm.fit_resample(X, y)
    Xi, yi = imb.SMOTENC(categorical_features=[0], k_neighbors=k, random_state=0).fit_resample(X, y)
    assert np.array_equal(np.bincount(y_res), np.bincount(yi))
    rows = np.flatnonzero(y == 1)
    num = X[rows][:, 1:].astype(float)
    cat = X[rows][:, :1]
    graph, med = reference_smotenc_graph(num, cat, k)
    assert sm.median_std_[1] == pytest.approx(med, rel=1e-12)
    A = np.repeat(num, k, axis=0)
    B = num[graph.reshape(-1)]
    base = np.repeat(np.arange(rows.size), k)
    new = X_res[len(X) :]
    on, _ = segment_pairs(new[:, 1:].astype(float), A, B)
    for r in range(new.shape[0]):
        ok = False
        for p in np.flatnonzero(on[r]):
            vals = cat[graph[base[p]], 0]
            u, c = np.unique(vals, return_counts=True)
            if new[r, 0] in set(u[c == c.max()]):
                ok = True
                break
        assert ok, f"new row {r} is not on a segment with a modal category"


def test_smotenc_single_level_column_is_constant():
    rng = np.random.default_rng(0)
    X = np.empty((200, 3), dtype=object)
    X[:, 0] = rng.normal(size=200)
    X[:, 1] = "only"
    X[:, 2] = rng.choice(["a", "b"], size=200)
    y = (np.arange(200) < 30).astype(int)
    X_res, y_res = SMOTENC(categorical_features=[1, 2], random_state=0).fit_resample(X, y)
    assert set(X_res[:, 1]) == {"only"} and np.bincount(y_res).tolist() == [170, 170]


def test_smotenc_refuses_all_categorical_and_all_numeric(load):
    X, y, _ = datasets.load("car_eval_4")
    with pytest.raises(ValueError, match="SMOTEN"):
        SMOTENC(categorical_features="auto").fit_resample(X, y)
    Xn, yn = load("ecoli")
    with pytest.raises(ValueError, match="requires some categorical features"):
        SMOTENC(categorical_features="auto").fit_resample(Xn, yn)


def test_smotenc_categorical_features_forms_agree():
    X, y, names = abalone_mixed()
    ref = SMOTENC(categorical_features=[0], random_state=4).fit_resample(X, y)[0]
    mask = np.zeros(X.shape[1], dtype=bool)
    mask[0] = True
    for cf in (mask, "auto", [-X.shape[1]]):
        out = SMOTENC(categorical_features=cf, random_state=4).fit_resample(X, y)[0]
        assert np.array_equal(out, ref)


# -- SMOTEN ------------------------------------------------------------------------------------
def test_smoten_rows_are_modes_of_vdm_neighbourhoods():
    X, y, _ = datasets.load("car_eval_4")
    k = 5
    X_res, y_res = SMOTEN(k_neighbors=k, random_state=0).fit_resample(X, y)
    Xi, yi = imb.SMOTEN(k_neighbors=k, random_state=0).fit_resample(X, y)
    assert np.array_equal(np.bincount(y_res), np.bincount(yi))
    enc = OrdinalEncoder(dtype=np.int32).fit(X)
    codes = enc.transform(X)
    vdm = ValueDifferenceMetric(n_categories=[len(c) for c in enc.categories_]).fit(codes, y)
    rows = np.flatnonzero(y == 1)
    dist = vdm.pairwise(codes[rows])
    # Reference neighbourhoods: k + 1 nearest, the row itself included, ties by row index.
    order = np.lexsort((np.broadcast_to(np.arange(rows.size), dist.shape), dist), axis=1)
    hoods = order[:, : k + 1]
    modes = set()
    for h in hoods:
        vals = codes[rows][h]
        row = []
        for f in range(vals.shape[1]):
            u, c = np.unique(vals[:, f], return_counts=True)
            row.append(int(u[np.argmax(c)]))  # smallest modal code, as scipy's mode
        modes.add(tuple(row))
    new = enc.transform(X_res[len(X) :])
    for r in new:
        assert tuple(int(v) for v in r) in modes


def test_smoten_output_values_come_from_the_data():
    X, y, _ = datasets.load("car_eval_4")
    X_res, y_res = SMOTEN(random_state=0).fit_resample(X, y)
    assert X_res.dtype == object and X_res.shape == (2 * 1663, 6)
    for j in range(X.shape[1]):
        assert set(X_res[:, j]) <= set(X[:, j])


def test_smoten_neighbour_object_path():
    X, y, _ = datasets.load("car_eval_4")
    X_res, y_res = SMOTEN(k_neighbors=NearestNeighbors(n_neighbors=4), random_state=0).fit_resample(
        X, y
    )
    assert np.bincount(y_res).tolist() == [1663, 1663]
