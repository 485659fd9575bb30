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


class CoreCalls(list):
    """The calls of one ``equipoise._core`` function, each an ``(args, kwargs)`` pair, recorded
    while the function runs as before; ``stop()`` puts the function back."""

    stop: object


@pytest.fixture
def core_calls(monkeypatch):
    """``calls = core_calls("tomek_links")``: record every call of that core function."""
    from equipoise import _core

    def watch(name) -> CoreCalls:
        real = getattr(_core, name)
        calls = CoreCalls()

        def spy(*args, **kw):
            calls.append((args, kw))
            return real(*args, **kw)

        calls.stop = lambda: monkeypatch.setattr(_core, name, real)
        monkeypatch.setattr(_core, name, spy)
        return calls

    return watch


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
