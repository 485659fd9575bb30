"""Estimator state: every estimator pickles, clones and deep-copies, fitted or not; a call that
fails leaves the estimator exactly as it was before the call."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from equipoise import _core
from equipoise.combine import SMOTEENN, SMOTETomek
from equipoise.neighbors import NearestNeighbors
from equipoise.over_sampling import (
    ADASYN,
    SMOTE,
    SMOTEN,
    SMOTENC,
    BorderlineSMOTE,
    RandomOverSampler,
)
from equipoise.sampling import BalancedBatchSampler, OnlineSMOTE, StratifiedBatchSampler
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


def _data(seed=0):
    rng = np.random.default_rng(seed)
    sizes = (70, 25, 15)
    X = np.vstack([rng.normal(loc=2.5 * c, size=(n, 4)) for c, n in enumerate(sizes)])
    y = np.repeat(np.arange(3), sizes)
    return X, y


def _categorical(seed=0):
    X, y = _data(seed)
    return np.where(X > np.median(X, axis=0), "hi", "lo").astype(object), y


def _mixed(seed=0):
    X, y = _data(seed)
    Xm = X.astype(object)
    Xm[:, 0] = np.where(X[:, 0] > 1, "a", "b")
    return Xm, y


SAMPLERS = {
    "SMOTE": (lambda: SMOTE(random_state=0), _data),
    "BorderlineSMOTE": (lambda: BorderlineSMOTE(random_state=0), _data),
    "ADASYN": (lambda: ADASYN(random_state=0), _data),
    "RandomOverSampler": (lambda: RandomOverSampler(random_state=0), _data),
    "RandomOverSampler-shrinkage": (
        lambda: RandomOverSampler(random_state=0, shrinkage=0.5),
        _data,
    ),
    "SMOTEN": (lambda: SMOTEN(random_state=0), _categorical),
    "SMOTENC": (lambda: SMOTENC(categorical_features=[0], random_state=0), _mixed),
    "RandomUnderSampler": (lambda: RandomUnderSampler(random_state=0), _data),
    "TomekLinks": (TomekLinks, _data),
    "EditedNearestNeighbours": (EditedNearestNeighbours, _data),
    "RepeatedEditedNearestNeighbours": (RepeatedEditedNearestNeighbours, _data),
    "AllKNN": (AllKNN, _data),
    "NeighbourhoodCleaningRule": (NeighbourhoodCleaningRule, _data),
    "OneSidedSelection": (lambda: OneSidedSelection(random_state=0), _data),
    "CondensedNearestNeighbour": (lambda: CondensedNearestNeighbour(random_state=0), _data),
    "SMOTEENN": (lambda: SMOTEENN(random_state=0), _data),
    "SMOTETomek": (lambda: SMOTETomek(random_state=0), _data),
    "SMOTE-hnsw": (lambda: SMOTE(random_state=0, neighbors="hnsw"), _data),
}


def _same(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
        return
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _snapshot(est):
    """The attribute dict: its keys, the identity of each value and its pickled bytes (so that an
    in-place change of a held object is seen too)."""
    return {k: (id(v), _bytes(v)) for k, v in est.__dict__.items()}


def _bytes(v):
    if isinstance(v, _core.HnswGraph):
        return None  # a core object without pickle support of its own: compared by identity
    return pickle.dumps(v)


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_sampler_pickles_clones_and_deep_copies(name, fitted):
    make, data = SAMPLERS[name]
    X, y = data()
    est = make()
    if fitted:
        expected = est.fit_resample(X, y)
    else:
        expected = make().fit_resample(X, y)
    for other in (
        pickle.loads(pickle.dumps(est)),
        copy.deepcopy(est),
        copy.copy(est),
        clone(est),
    ):
        assert type(other) is type(est)
        assert other.get_params().keys() == est.get_params().keys()
        assert repr(other) == repr(est)
        # Every copy resamples exactly as the original (the seed is a parameter).
        _same(other.fit_resample(X, y), expected)
    if fitted:
        # A copy of a fitted estimator keeps its fitted attributes.
        back = pickle.loads(pickle.dumps(est))
        assert sorted(back.__dict__) == sorted(est.__dict__)
        assert back.sampling_strategy_ == est.sampling_strategy_
        if hasattr(est, "sample_indices_"):
            np.testing.assert_array_equal(back.sample_indices_, est.sample_indices_)
        # clone gives an unfitted estimator with the same parameters.
        fresh = clone(est)
        assert not hasattr(fresh, "sampling_strategy_")
        assert not hasattr(fresh, "n_features_in_")


def _failing_calls(name, X, y, allow_nan):
    """Calls that must raise, after a successful fit on (X, y)."""
    n = len(y)
    calls = {
        # Found while validating y against X, after X was validated (n_features_in_ reset).
        "y of the wrong length": lambda est: est.fit_resample(X[:, :2], y[: n - 1]),
        "a one-class y": lambda est: est.fit_resample(X, np.zeros(n, dtype=int)),
        "y given twice": lambda est: est.fit_resample(X, y, label="y"),
        # Found only after sampling_strategy_ was computed.
        "a sampling_strategy naming an absent class": lambda est: est.set_params(
            sampling_strategy={0: 80, 1: 80, 7: 80}
            if "SMOTE" in name or "Over" in name or "ADASYN" in name
            else {0: 5, 7: 5}
        ).fit_resample(X, y),
    }
    if X.dtype != object and not allow_nan:
        bad = X[:, :3].copy()
        bad[-1, -1] = np.nan
        # Found by the core (or a neighbour search), after every Python-side check passed and
        # with fewer features than the previous fit.
        calls["NaN in X"] = lambda est: est.fit_resample(bad, y)
        big = X.copy()
        big[0, 0] = np.inf
        calls["infinity in X"] = lambda est: est.fit_resample(big, y)
    return calls


@pytest.mark.parametrize("name", SAMPLERS)
def test_failed_fit_resample_leaves_a_fitted_sampler_as_it_was(name):
    make, data = SAMPLERS[name]
    X, y = data()
    cols = [f"f{j}" for j in range(X.shape[1])]
    allow_nan = make().__sklearn_tags__().input_tags.allow_nan
    for what, call in _failing_calls(name, X, y, allow_nan).items():
        est = make()
        # Fitted on a frame, so that feature_names_in_ exists and could be lost.
        est.fit_resample(pd.DataFrame(X, columns=cols), y)
        params = est.get_params(deep=False)
        before = _snapshot(est)
        with pytest.raises((ValueError, TypeError)):
            call(est)
        est.set_params(**params)  # undo the parameter a call changed on purpose
        assert _snapshot(est) == before, f"{name}: {what} changed the estimator"
        # And it still works, with its previous fit intact.
        assert list(est.feature_names_in_) == cols
        est.fit_resample(X, y)


@pytest.mark.parametrize("name", SAMPLERS)
def test_failed_fit_leaves_a_fitted_sampler_as_it_was(name):
    make, data = SAMPLERS[name]
    X, y = data()
    est = make().fit(X, y)
    before = _snapshot(est)
    with pytest.raises(ValueError):
        est.fit(X[:, :2], y[:-1])
    assert _snapshot(est) == before


def test_failed_fit_of_an_unfitted_sampler_leaves_it_unfitted():
    est = SMOTE()
    before = _snapshot(est)
    bad = np.ones((10, 2))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError):
        est.fit_resample(bad, np.r_[np.zeros(7), np.ones(3)].astype(int))
    assert _snapshot(est) == before
    assert not hasattr(est, "n_features_in_")


# -- NearestNeighbors ------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["exact", "kdtree", "hnsw", "auto"])
@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_nearest_neighbors_pickles_clones_and_deep_copies(algorithm, fitted):
    X, _ = _data()
    Q = X[::7] + 0.01
    nn = NearestNeighbors(n_neighbors=4, algorithm=algorithm, random_state=3)
    if fitted:
        nn.fit(X)
        expected = nn.kneighbors(Q)
    for other in (pickle.loads(pickle.dumps(nn)), copy.deepcopy(nn), copy.copy(nn)):
        assert other.get_params() == nn.get_params()
        if fitted:
            _same(other.kneighbors(Q), expected)
            _same(other.kneighbors(), nn.kneighbors())
        else:
            _same(
                other.fit(X).kneighbors(Q), NearestNeighbors(**nn.get_params()).fit(X).kneighbors(Q)
            )
    fresh = clone(nn)
    assert fresh.get_params() == nn.get_params()
    assert not hasattr(fresh, "n_samples_fit_")


@pytest.mark.parametrize("algorithm", ["exact", "hnsw"])
def test_failed_fit_leaves_nearest_neighbors_as_it_was(algorithm):
    X, _ = _data()
    nn = NearestNeighbors(n_neighbors=3, algorithm=algorithm).fit(
        pd.DataFrame(X, columns=list("abcd"))
    )
    Q = pd.DataFrame(X[:5], columns=list("abcd"))
    expected = nn.kneighbors(Q)
    before = _snapshot(nn)
    bad = X[:, :2].copy()
    bad[1, 1] = np.nan
    for call in (
        lambda: nn.fit(bad),
        lambda: nn.fit(np.empty((0, 4))),
        lambda: nn.set_params(n_neighbors=0).fit(X),
    ):
        with pytest.raises(ValueError):
            call()
        nn.set_params(n_neighbors=3)
        assert _snapshot(nn) == before
    _same(nn.kneighbors(Q), expected)
    with pytest.raises(ValueError):
        nn.kneighbors(Q.iloc[:, :2])
    assert _snapshot(nn) == before


# -- batch samplers --------------------------------------------------------------------------------
def _batch_samplers():
    X, y = _data()
    return {
        "BalancedBatchSampler": BalancedBatchSampler(y, batch_size=9, seed=4),
        "StratifiedBatchSampler": StratifiedBatchSampler(y, batch_size=9, seed=4),
        "OnlineSMOTE": OnlineSMOTE(X, y, batch_size=9, seed=4, k_neighbors=3),
    }


def _epoch_of(sampler):
    return getattr(sampler, "sampler", sampler).epoch


def _epoch(sampler, epoch):
    if isinstance(sampler, OnlineSMOTE):
        return [tuple(map(np.asarray, b)) for b in sampler.iter_batches(epoch)]
    return [list(b) for b in sampler.iter_numpy(epoch)]


@pytest.mark.parametrize("name", ["BalancedBatchSampler", "StratifiedBatchSampler", "OnlineSMOTE"])
def test_batch_samplers_pickle_and_deep_copy(name):
    sampler = _batch_samplers()[name]
    sampler.set_epoch(2)
    expected = [_epoch(sampler, e) for e in (0, 2)]
    for other in (pickle.loads(pickle.dumps(sampler)), copy.deepcopy(sampler)):
        assert _epoch_of(other) == 2
        got = [_epoch(other, e) for e in (0, 2)]
        for a, b in zip(got, expected):
            assert len(a) == len(b)
            for u, v in zip(a, b):
                _same(
                    tuple(u) if isinstance(u, tuple) else u, tuple(v) if isinstance(v, tuple) else v
                )
        assert list(other) == list(sampler)


@pytest.mark.parametrize("name", ["BalancedBatchSampler", "StratifiedBatchSampler", "OnlineSMOTE"])
def test_failed_set_epoch_leaves_a_batch_sampler_as_it_was(name):
    sampler = _batch_samplers()[name]
    sampler.set_epoch(3)
    before = list(sampler)
    for bad in (-1, 1.5, "2", None):
        with pytest.raises((ValueError, TypeError)):
            sampler.set_epoch(bad)
        assert _epoch_of(sampler) == 3
    assert list(sampler) == before
