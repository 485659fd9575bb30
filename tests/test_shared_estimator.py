"""No state carried between calls: how a call runs is given by its arguments, never by a flag left
on the estimator (two threads sharing one estimator each get their own call's result), and no
module-level container grows with the number of calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from run_at_once import run_at_once

from equipoise import _frames
from equipoise.over_sampling import SMOTE, SMOTENC


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    y = (np.arange(300) < 40).astype(np.int64)
    return X, y


def test_one_smote_shared_by_a_frame_call_and_an_array_call():
    # A frame call asks SMOTE for its new rows only (the frame keeps its own rows); an array call
    # asks for the whole output. Run side by side on one estimator, each must get its own kind.
    X, y = _data()
    frame = pl.DataFrame({f"f{j}": X[:, j] for j in range(X.shape[1])})
    smote = SMOTE(random_state=0)
    X_arr, y_arr = smote.fit_resample(X, y)
    X_pl, y_pl = smote.fit_resample(frame, y)
    jobs = [
        (lambda: smote.fit_resample(X, y)) if i % 2 else (lambda: smote.fit_resample(frame, y))
        for i in range(8)
    ]
    for i, (X_res, y_res) in enumerate(run_at_once(jobs)):
        if i % 2:
            assert isinstance(X_res, np.ndarray)
            np.testing.assert_array_equal(X_res, X_arr)
            np.testing.assert_array_equal(y_res, y_arr)
        else:
            assert isinstance(X_res, pl.DataFrame)
            assert X_res.equals(X_pl)
            np.testing.assert_array_equal(y_res, y_pl)
    # The frame's rows are its input rows, then the same new rows as the array call's.
    np.testing.assert_array_equal(X_pl.to_numpy(), X_arr)


def _module_containers():
    return {
        name: len(value)
        for name, value in vars(_frames).items()
        if isinstance(value, (list, dict, set)) and not name.startswith("__")
    }


def test_no_module_level_container_grows_with_calls():
    X, y = _data()
    df = pd.DataFrame({"num": X[:, 0], "cat": np.where(X[:, 1] > 0, "a", "b")})
    frame = pl.DataFrame({f"f{j}": X[:, j] for j in range(X.shape[1])})
    SMOTE(random_state=0).fit_resample(frame, y)
    SMOTENC(categorical_features=["cat"], random_state=0).fit_resample(df, y)
    before = _module_containers()
    for seed in range(5):
        SMOTE(random_state=seed).fit_resample(frame, y)
        SMOTENC(categorical_features=["cat"], random_state=seed).fit_resample(df, y)
    assert _module_containers() == before
    # Copies are recorded only inside a recording block, and only for that block.
    with _frames.recording_copies() as log:
        SMOTE(random_state=0).fit_resample(df[["num"]], y)
    SMOTE(random_state=0).fit_resample(df[["num"]], y)
    assert _module_containers() == before
    assert isinstance(log, list)
