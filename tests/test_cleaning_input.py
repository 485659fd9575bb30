"""Bad input and edge cases of the cleaning samplers: the same errors as imbalanced-learn, emptied
classes warned about by name, inputs left unmodified."""

import warnings

import numpy as np
import pytest
from imblearn import under_sampling as iu

from equipoise import under_sampling as eu
from equipoise.combine import SMOTEENN, SMOTETomek

CLEANERS = [
    "EditedNearestNeighbours",
    "RepeatedEditedNearestNeighbours",
    "AllKNN",
    "TomekLinks",
    "NeighbourhoodCleaningRule",
]


def small(seed=0, n=60):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 4 == 0).astype(int)
    X = rng.normal(size=(n, 3)) + y[:, None]
    return X, y


def _outcome(est, X, y):
    try:
        with warnings.catch_warnings():
            # Tiny data can be emptied of a class: equipoise warns (tested below), imblearn not.
            warnings.simplefilter("ignore", UserWarning)
            est.fit_resample(X, y)
    except ValueError as e:
        return str(e).split(",")[0]
    return est.sample_indices_.tolist()


@pytest.mark.parametrize("name", ["EditedNearestNeighbours", "NeighbourhoodCleaningRule", "AllKNN"])
@pytest.mark.parametrize("k", [5, 6, 9])
def test_neighbourhood_larger_than_the_data(name, k):
    # The same error as imbalanced-learn (scikit-learn's), or the same rows where it has none.
    X, y = small(n=6)
    ref = _outcome(getattr(iu, name)(n_neighbors=k), X, y)
    ours = _outcome(getattr(eu, name)(n_neighbors=k), X, y)
    assert ours == ref
    if k >= 6 and name == "EditedNearestNeighbours":
        assert ours.startswith("Expected n_neighbors <= n_samples_fit")


@pytest.mark.parametrize("name", CLEANERS)
def test_nan_and_bad_strategies_raise_like_imblearn(name):
    X, y = small()
    Xn = X.copy()
    Xn[3, 1] = np.nan
    for bad in (
        {"sampling_strategy": 0.5},
        {"sampling_strategy": "minority"},
        {"sampling_strategy": {0: 10}},
    ):
        with pytest.raises(ValueError):
            getattr(iu, name)(**bad).fit_resample(X, y)
        with pytest.raises(ValueError):
            getattr(eu, name)(**bad).fit_resample(X, y)
    with pytest.raises(ValueError, match="NaN"):
        getattr(eu, name)().fit_resample(Xn, y)
    with pytest.raises(ValueError, match="more than 1 class"):
        getattr(eu, name)().fit_resample(X, np.zeros(len(y), int))
    with pytest.raises(ValueError, match="not present"):
        getattr(eu, name)(sampling_strategy=[7]).fit_resample(X, y)


@pytest.mark.parametrize("name", CLEANERS)
def test_inputs_not_modified_and_dtypes_kept(name):
    X, y = small()
    for Xd in (X, X.astype(np.float32), np.asfortranarray(X), (X * 10).astype(np.int64)):
        X0, y0 = Xd.copy(), y.copy()
        Xr, yr = getattr(eu, name)().fit_resample(Xd, y)
        np.testing.assert_array_equal(Xd, X0)
        np.testing.assert_array_equal(y, y0)
        assert Xr.dtype == Xd.dtype
        ref = getattr(iu, name)()
        ref.fit_resample(Xd, y)
        est = getattr(eu, name)()
        est.fit_resample(Xd, y)
        np.testing.assert_array_equal(est.sample_indices_, ref.sample_indices_)


def test_emptied_class_is_emptied_with_a_warning_naming_it():
    # Class 2 has two rows, each surrounded by class 0: ENN on class 2 removes both, as imblearn.
    X = np.array([[0.0], [0.1], [0.2], [0.3], [0.15], [0.25], [5.0], [5.1], [5.2]])
    y = np.array([0, 0, 0, 0, 2, 2, 1, 1, 1])
    ref = iu.EditedNearestNeighbours(sampling_strategy=[2])
    ref.fit_resample(X, y)
    est = eu.EditedNearestNeighbours(sampling_strategy=[2])
    with pytest.warns(UserWarning, match="class np.int64\\(2\\)|class 2"):
        est.fit_resample(X, y)
    np.testing.assert_array_equal(est.sample_indices_, ref.sample_indices_)
    assert not np.isin(2, y[est.sample_indices_])


def test_sparse_and_object_neighbours_are_handed_to_imblearn():
    from scipy import sparse
    from sklearn.neighbors import NearestNeighbors

    X, y = small(n=120)
    ref = iu.EditedNearestNeighbours().fit(X, y)
    ref.fit_resample(X, y)
    est = eu.EditedNearestNeighbours()
    Xs, _ = est.fit_resample(sparse.csr_matrix(X), y)
    assert sparse.issparse(Xs)
    np.testing.assert_array_equal(est.sample_indices_, ref.sample_indices_)
    # A plain Euclidean NearestNeighbors runs in the core, with the same meaning.
    est = eu.EditedNearestNeighbours(n_neighbors=NearestNeighbors(n_neighbors=4))
    est.fit_resample(X, y)
    np.testing.assert_array_equal(est.sample_indices_, ref.sample_indices_)
    # Any other metric goes to imblearn.
    nn = NearestNeighbors(n_neighbors=4, metric="manhattan")
    ref = iu.EditedNearestNeighbours(n_neighbors=nn)
    ref.fit_resample(X, y)
    est = eu.EditedNearestNeighbours(n_neighbors=nn)
    est.fit_resample(X, y)
    np.testing.assert_array_equal(est.sample_indices_, ref.sample_indices_)


@pytest.mark.parametrize("cls", [SMOTEENN, SMOTETomek])
def test_combined_is_deterministic_and_thread_independent(cls):
    X, y = small(n=200)
    a = cls(random_state=3, n_jobs=1).fit_resample(X, y)
    b = cls(random_state=3, n_jobs=2).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
