"""Bad input gets a ValueError or TypeError that names the problem; inputs are never modified."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from equipoise import _core
from equipoise.over_sampling import SMOTE, RandomOverSampler
from equipoise.under_sampling import RandomUnderSampler


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.array([0] * 50 + [1] * 10)
    return X, y


def _check(sampler, X, y, exc, match):
    X_before = X.copy() if isinstance(X, np.ndarray) else X
    y_before = y.copy() if isinstance(y, np.ndarray) else y
    with pytest.raises(exc, match=match):
        sampler.fit_resample(X, y)
    if isinstance(X, np.ndarray):
        np.testing.assert_array_equal(X, X_before)
    if isinstance(y, np.ndarray):
        np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_name_the_cell(data, dtype, bad):
    X, y = data
    X = X.astype(dtype)
    X[17, 2] = bad
    what = "NaN" if np.isnan(bad) else "infinity"
    _check(SMOTE(), X, y, ValueError, f"contains {what} \\(first at row 17, column 2\\)")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_whose_squared_distances_overflow_are_refused(data, dtype):
    # Found by the fuzzer: with 3e228 in a float64 row, every squared distance to it overflowed to
    # inf and the exact search returned neighbour 0 five times at distance 0 (scikit-learn's brute
    # force returns arbitrary neighbours there too). The limit is the magnitude m at which
    # d * (2m)^2 reaches the dtype's largest value. Row 55 is a minority row, which SMOTE searches.
    from equipoise.neighbors import NearestNeighbors
    from equipoise.under_sampling import EditedNearestNeighbours

    X, y = data
    X = X.astype(dtype)
    d = X.shape[1]
    limit = np.sqrt(np.finfo(dtype).max / (4 * d))
    X[55, 1] = dtype(limit * 1.5)
    pattern = "too large for Euclidean distances .* at row 55, column 1"
    _check(SMOTE(), X, y, ValueError, pattern)
    _check(EditedNearestNeighbours(), X, y, ValueError, pattern)
    with pytest.raises(ValueError, match=pattern):
        NearestNeighbors(n_neighbors=3, algorithm="exact").fit(X).kneighbors()
    # Just under the limit every distance is finite and the neighbours are scikit-learn's.
    X[55, 1] = dtype(limit * 0.5)
    dist, ind = NearestNeighbors(n_neighbors=3, algorithm="exact").fit(X).kneighbors()
    assert np.isfinite(dist).all()
    from sklearn.neighbors import NearestNeighbors as SkNN

    ref = SkNN(n_neighbors=3, algorithm="brute").fit(X.astype(np.float64) / limit)
    np.testing.assert_array_equal(ind[55], ref.kneighbors()[1][55])
    # Resampling methods that compute no distance keep accepting such values.
    X[55, 1] = dtype(limit * 1.5)
    Xr, _ = RandomOverSampler(random_state=0).fit_resample(X, y)
    assert Xr.shape[0] == 100


def test_shapes(data):
    X, y = data
    _check(SMOTE(), X[:, 0], y, ValueError, "Expected 2D array")
    _check(SMOTE(), X[None], y, ValueError, "3")
    _check(SMOTE(), X[:-1], y, ValueError, "inconsistent numbers of samples")
    for sampler in (SMOTE(), RandomOverSampler(), RandomUnderSampler()):
        _check(sampler, X[:0], y[:0], ValueError, "0 sample")


def test_single_class(data):
    X, _ = data
    for sampler in (SMOTE(), RandomOverSampler(), RandomUnderSampler()):
        _check(sampler, X, np.zeros(len(X), dtype=int), ValueError, "more than 1 class")


def test_too_few_rows_for_k_names_the_class(data):
    X, y = data
    y = y.copy()
    y[:57] = 0
    y[57:] = 7  # class 7 has 3 rows, fewer than k_neighbors + 1 = 6
    _check(SMOTE(), X, y, ValueError, "class 7 has 3 rows, fewer than k_neighbors \\+ 1 = 6")
    # A class that receives no new rows may be small, as in imbalanced-learn.
    y2 = np.array([0] * 40 + [1] * 17 + [2] * 3)
    X_res, y_res = SMOTE(sampling_strategy={1: 40}).fit_resample(X, y2)
    assert np.sum(y_res == 1) == 40


def test_non_numeric_and_complex(data):
    X, y = data
    X_str = X.astype(str)
    X_str[0, 0] = "abc"
    _check(SMOTE(), X_str, y, ValueError, "not compatible with arrays of bytes/strings")
    _check(SMOTE(), X_str.astype(object), y, ValueError, "could not convert|abc")
    _check(SMOTE(), X.astype(np.complex128), y, ValueError, "Complex data not supported")


def test_bad_parameters(data):
    X, y = data
    bad = InvalidParameterError  # a ValueError subclass, naming the parameter
    _check(SMOTE(k_neighbors=0), X, y, bad, "k_neighbors")
    _check(SMOTE(k_neighbors=-3), X, y, bad, "k_neighbors")
    _check(SMOTE(k_neighbors="five"), X, y, bad, "k_neighbors")
    _check(SMOTE(sampling_strategy="sideways"), X, y, bad, "sampling_strategy")
    _check(SMOTE(sampling_strategy="majority"), X, y, bad, "sampling_strategy")
    _check(RandomUnderSampler(sampling_strategy="minority"), X, y, bad, "sampling_strategy")
    _check(SMOTE(sampling_strategy=1.5), X, y, bad, "sampling_strategy")
    _check(SMOTE(sampling_strategy={5: 100}), X, y, ValueError, "not present in the data")
    _check(SMOTE(sampling_strategy={1: 3}), X, y, ValueError, "greater or equal")
    _check(SMOTE(sampling_strategy={1: -3}), X, y, ValueError, "negative")
    _check(RandomUnderSampler(sampling_strategy={0: 500}), X, y, ValueError, "less or equal")
    _check(SMOTE(n_jobs=0), X, y, ValueError, "n_jobs")
    _check(RandomOverSampler(shrinkage=-1.0), X, y, bad, "shrinkage")
    assert issubclass(bad, ValueError)


def test_bad_targets(data):
    X, y = data
    _check(SMOTE(), X, y + 0.5, ValueError, "Unknown label type")
    _check(SMOTE(), X, np.column_stack([y, y]), ValueError, "Multilabel and multioutput")


def test_core_refuses_unsupported_dtypes_with_type_error(data):
    X, y = data
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.smote(X.astype(np.int64), y.astype(np.uint32), 2, [0, 1], 5, [None, None], 0)


def test_a_rust_panic_becomes_a_runtime_error():
    with pytest.raises(RuntimeError, match="internal error in equipoise's core"):
        _core._panic_for_test()
    # The core is still usable afterwards.
    X = np.random.default_rng(0).normal(size=(20, 2))
    dist, idx = _core.kneighbors(X, 3)
    assert idx.shape == (20, 3)


@pytest.mark.parametrize("lib", ["pandas", "polars"])
def test_a_frame_with_no_feature_column_is_refused_by_every_sampler(lib):
    # Found by the fuzz smoke run: SMOTEN returned the 13 input rows with 18 labels.
    import warnings

    import equipoise

    y = np.array([0] * 9 + [1] * 4)
    if lib == "pandas":
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(index=range(len(y)))
    else:
        pl = pytest.importorskip("polars")
        X = pl.DataFrame()  # a polars frame with no column has no row either
        assert X.shape == (0, 0)
    for module in (equipoise.over_sampling, equipoise.under_sampling, equipoise.combine):
        for name in module.__all__:
            cls = getattr(module, name)
            est = cls(categorical_features="auto") if name == "SMOTENC" else cls()
            if "k_neighbors" in est.get_params():
                est.set_params(k_neighbors=3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(ValueError, match="0 (feature|sample)"):
                    est.fit_resample(X, y)
