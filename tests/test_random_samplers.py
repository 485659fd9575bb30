"""RandomOverSampler and RandomUnderSampler against imbalanced-learn's."""

import numpy as np
import pytest
from conftest import BINARY_NUMERIC, five_class
from imblearn.over_sampling import RandomOverSampler as ImbROS
from imblearn.under_sampling import RandomUnderSampler as ImbRUS
from scipy import sparse

from equipoise.over_sampling import RandomOverSampler
from equipoise.under_sampling import RandomUnderSampler


def _counts(y):
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist()))


OVER_FORMS = ["auto", "minority", "not minority", "not majority", "all", 0.6, {1: 1000}]
UNDER_FORMS = ["auto", "majority", "not minority", "not majority", "all", 0.6, {0: 100}]


def _both(ours, theirs, X, y):
    try:
        expected = theirs.fit_resample(X, y)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)[:40]):
            ours.fit_resample(X, y)
        return None
    return ours.fit_resample(X, y), expected


@pytest.mark.parametrize("name", BINARY_NUMERIC)
def test_over_counts_and_indices_match_imblearn(load, name):
    X, y = load(name)
    for form in OVER_FORMS:
        if isinstance(form, dict):
            form = {1: max(form[1], int(np.sum(y == 1)))}
        ros = RandomOverSampler(sampling_strategy=form, random_state=0)
        got = _both(ros, ImbROS(sampling_strategy=form, random_state=0), X, y)
        if got is None:
            continue
        (X_res, y_res), (_, y_imb) = got
        assert _counts(y_res) == _counts(y_imb)
        idx = ros.sample_indices_
        np.testing.assert_array_equal(idx[: len(y)], np.arange(len(y)))
        np.testing.assert_array_equal(X_res, X[idx])
        np.testing.assert_array_equal(y_res, y[idx])


@pytest.mark.parametrize("name", BINARY_NUMERIC)
def test_under_counts_and_indices_match_imblearn(load, name):
    X, y = load(name)
    for form in UNDER_FORMS:
        for replacement in (False, True):
            params = dict(sampling_strategy=form, random_state=0, replacement=replacement)
            rus = RandomUnderSampler(**params)
            imb = ImbRUS(**params)
            got = _both(rus, imb, X, y)
            if got is None:
                continue
            (X_res, y_res), (_, y_imb) = got
            assert _counts(y_res) == _counts(y_imb)
            idx = rus.sample_indices_
            np.testing.assert_array_equal(X_res, X[idx])
            # Class by class, sorted, as imbalanced-learn lays them out.
            assert np.all(np.diff(y[idx]) >= 0)
            if not replacement:
                assert len(np.unique(idx)) == len(idx)


def test_multiclass_and_strings():
    X, y = five_class(n=2000)
    labels = np.array(["a", "b", "c", "d", "e"])[y]
    for Ours, Theirs in ((RandomOverSampler, ImbROS), (RandomUnderSampler, ImbRUS)):
        for form in ("auto", "all", "not majority"):
            _, y_res = Ours(sampling_strategy=form, random_state=1).fit_resample(X, labels)
            _, y_imb = Theirs(sampling_strategy=form, random_state=1).fit_resample(X, labels)
            assert _counts(y_res) == _counts(y_imb)


def test_accepts_what_imblearn_accepts():
    X, y = five_class(n=500, d=3)
    X_obj = X.astype(object)
    X_obj[0, 0] = "text"
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    for Xin in (X_obj, X_nan, sparse.csr_matrix(X), X.astype(np.float32), X.tolist()):
        for sampler in (RandomOverSampler(random_state=0), RandomUnderSampler(random_state=0)):
            X_res, y_res = sampler.fit_resample(Xin, y)
            ref = np.asarray(Xin.toarray() if sparse.issparse(Xin) else Xin, dtype=object)
            res = np.asarray(X_res.toarray() if sparse.issparse(X_res) else X_res, dtype=object)
            idx = sampler.sample_indices_
            assert [str(v) for v in res.ravel()] == [str(v) for v in ref[idx].ravel()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shrinkage_smoothed_bootstrap(load, dtype):
    X, y = load("phoneme")
    X = X.astype(dtype)
    ros = RandomOverSampler(shrinkage=1.0, random_state=0)
    X_res, y_res = ros.fit_resample(X, y)
    _, y_imb = ImbROS(shrinkage=1.0, random_state=0).fit_resample(X, y)
    assert _counts(y_res) == _counts(y_imb)
    assert X_res.dtype == dtype
    n = len(y)
    np.testing.assert_array_equal(X_res[:n], X)
    # The noise of each new row: centred, with the per-feature scale imbalanced-learn defines.
    new = X_res[n:].astype(np.float64) - X[ros.sample_indices_[n:]].astype(np.float64)
    n_features = X.shape[1]
    smoothing = (4 / ((n_features + 2) * n)) ** (1 / (n_features + 4))
    expected = smoothing * np.std(X[y == 1].astype(np.float64), axis=0)
    np.testing.assert_allclose(new.std(axis=0), expected, rtol=0.05)
    np.testing.assert_allclose(new.mean(axis=0), 0, atol=0.05 * expected.max())
    # shrinkage=0 is the plain bootstrap; per-class dicts are checked as imbalanced-learn does.
    X0, _ = RandomOverSampler(shrinkage=0.0, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X0[n:], X[ros.sample_indices_[n:]])
    with pytest.raises(ValueError, match="missing classes"):
        RandomOverSampler(shrinkage={0: 1.0}).fit_resample(X, y)


def test_determinism_across_threads(load):
    X, y = load("satimage")
    a = RandomOverSampler(random_state=3, n_jobs=1, shrinkage=0.5).fit_resample(X, y)[0]
    b = RandomOverSampler(random_state=3, n_jobs=4, shrinkage=0.5).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    i1 = RandomUnderSampler(random_state=3).fit(X, y)
    assert i1.sampling_strategy_ == {0: int(np.sum(y == 1))}
