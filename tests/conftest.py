"""Shared fixtures: the bundled real datasets, loaded from the installed package."""

import numpy as np
import pytest

from equipoise import datasets

NUMERIC = [name for name in datasets.list_datasets() if name not in ("car_eval_4",)]
BINARY_NUMERIC = [name for name in NUMERIC if name != "glass"]


@pytest.fixture(scope="session")
def load():
    cache = {}

    def _load(name):
        if name not in cache:
            X, y, _ = datasets.load(name, numeric_only=True)
            cache[name] = (X, y)
        return cache[name][0].copy(), cache[name][1].copy()

    return _load


def five_class(n=4000, d=6, seed=0, dtype=np.float64):
    """A small 5-class problem with ratios 100:30:10:3:1, overlapping clusters."""
    rng = np.random.default_rng(seed)
    ratios = np.array([100, 30, 10, 3, 1], dtype=float)
    counts = np.maximum((ratios / ratios.sum() * n).astype(int), 8)
    y = np.repeat(np.arange(5), counts)
    X = rng.normal(size=(y.size, d)) + y[:, None] * 0.7
    return X.astype(dtype), y


# imbalanced-learn's own test modules, run against equipoise (tests/imblearn_suite/).
from imblearn_suite._plugin import (  # noqa: E402, F401
    pytest_collect_directory,
    pytest_collection_modifyitems,
)
