"""Hypothesis properties of the samplers on small random inputs."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from equipoise.over_sampling import SMOTE, RandomOverSampler
from equipoise.under_sampling import RandomUnderSampler
from equipoise.utils._testing import assert_on_segments


@st.composite
def problems(draw, min_per_class=2):
    n_classes = draw(st.integers(2, 4))
    sizes = draw(st.lists(st.integers(min_per_class, 25), min_size=n_classes, max_size=n_classes))
    d = draw(st.integers(1, 5))
    n = sum(sizes)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    # Small integers make duplicates and distance ties common.
    values = st.integers(-4, 4).map(float) | st.floats(-1e3, 1e3, width=32)
    X = draw(arrays(dtype, (n, d), elements=values))
    y = np.repeat(np.arange(n_classes), sizes)
    perm = draw(st.permutations(range(n)))
    return X[list(perm)], y[list(perm)]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(problems(min_per_class=4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_smote_properties(problem, k, seed):
    X, y = problem
    X_before = X.copy()
    X_res, y_res = SMOTE(k_neighbors=k, random_state=seed).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_before)
    counts = np.bincount(y_res)
    assert np.all(counts == counts.max()), "'auto' equalises every class with the majority"
    assert X_res.dtype == X.dtype
    np.testing.assert_array_equal(X_res[: len(X)], X)
    rtol = 1e-6 if X.dtype == np.float32 else 1e-12
    assert_on_segments(X, y, X_res, y_res, k, rtol=rtol)
    again, _ = SMOTE(k_neighbors=k, random_state=seed, n_jobs=1).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, again)


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1), st.booleans())
def test_random_samplers_select_rows_of_the_right_class(problem, seed, replacement):
    X, y = problem
    ros = RandomOverSampler(random_state=seed)
    X_o, y_o = ros.fit_resample(X, y)
    np.testing.assert_array_equal(X_o, X[ros.sample_indices_])
    np.testing.assert_array_equal(y_o, y[ros.sample_indices_])
    assert len(set(np.bincount(y_o))) == 1
    rus = RandomUnderSampler(random_state=seed, replacement=replacement)
    X_u, y_u = rus.fit_resample(X, y)
    np.testing.assert_array_equal(X_u, X[rus.sample_indices_])
    assert np.all(np.bincount(y_u) == np.bincount(y).min())
    if not replacement:
        assert len(np.unique(rus.sample_indices_)) == len(rus.sample_indices_)
