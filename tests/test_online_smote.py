"""Online SMOTE batches: balanced composition, every synthetic row on a segment to one of its base
row's k nearest same-class neighbours (checked against scikit-learn), determinism."""

import pickle

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from equipoise.sampling import BalancedBatchSampler, OnlineSMOTE


@pytest.mark.parametrize("name", ["yeast_me2", "ecoli"])
def test_synthetic_rows_lie_on_segments_to_k_nearest_neighbours(load, name):
    X, y = load(name)
    k = 5
    smote = OnlineSMOTE(X, y, 32, k_neighbors=k, seed=1)
    assert smote.synthetic_classes_ == [1]
    Xm = X[y == 1]
    nn = NearestNeighbors(n_neighbors=k + 1).fit(Xm)
    _, ind = nn.kneighbors(Xm)
    n = len(y)
    plan = smote.sampler.composition()
    for b, (names, (xb, yb)) in enumerate(zip(smote, smote.iter_batches())):
        names = np.array(names)
        # The sampler's exact composition, with every minority slot synthetic.
        np.testing.assert_array_equal(np.bincount(yb, minlength=2), plan[b])
        assert np.array_equal(names >= n, yb == 1)
        np.testing.assert_array_equal(xb[names < n], X[names[names < n]])
        for x in xb[yb == 1]:
            # x = a + t (c - a) with a a minority row, c one of its k nearest, t in [0, 1).
            found = False
            for i in range(len(Xm)):
                a = Xm[i]
                for j in ind[i, 1:]:
                    d = Xm[j] - a
                    den = d @ d
                    if den == 0:
                        found |= np.allclose(x, a)
                        continue
                    t = (x - a) @ d / den
                    found |= -1e-9 <= t < 1 + 1e-9 and np.allclose(a + t * d, x, atol=1e-9)
                if found:
                    break
            assert found, x
        if b == 3:
            break


def test_online_smote_is_deterministic_and_pickles(load):
    X, y = load("wine_quality_red_4")
    a = OnlineSMOTE(X.astype(np.float32), y, 64, seed=3)
    e0 = list(a.iter_batches(0))
    again = list(a.iter_batches(0))
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(e0, again))
    assert e0[0][0].dtype == np.float32
    e1 = list(a.iter_batches(1))
    assert not all(np.array_equal(p[0], q[0]) for p, q in zip(e0, e1))
    b = pickle.loads(pickle.dumps(a))
    names = list(b)
    assert all(np.array_equal(a.collate(nm)[0], p[0]) for nm, p in zip(names, e0))
    # The minority base rows are walked like the sampler's rows: the same plan.
    s = BalancedBatchSampler(y, 64, seed=3)
    assert len(s) == len(a) and np.array_equal(s.composition(), a.sampler.composition())


def test_online_smote_bad_input():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.array([0] * 17 + [1] * 3)
    with pytest.raises(ValueError, match="k_neighbors"):
        OnlineSMOTE(X, y, 4)
    with pytest.raises(ValueError, match="rows"):
        OnlineSMOTE(X[:5], y, 4)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        OnlineSMOTE(Xn, y, 4, k_neighbors=2)
    with pytest.raises(ValueError, match="output"):
        OnlineSMOTE(X, y, 4, k_neighbors=2, output="jax")
