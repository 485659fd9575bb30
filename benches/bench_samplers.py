"""pytest-benchmark suite: each sampler, imbalanced-learn and equipoise, on the same data.

    python -m pytest benches/bench_samplers.py --benchmark-only -p no:cacheprovider

Each benchmark records in ``extra_info`` whether its output has the class counts imbalanced-learn's
targets ask for (``correct``). Not part of the test run.
"""

import numpy as np
import pytest

from benches.compare_imblearn import make
from equipoise.datasets import make_fraud as fraud
from equipoise.utils import check_sampling_strategy

ROWS = 100_000


@pytest.fixture(scope="module")
def fraud_data():
    return fraud(ROWS)


@pytest.mark.parametrize("lib", ["imblearn", "equipoise"])
@pytest.mark.parametrize("name", ["SMOTE", "RandomOverSampler", "RandomUnderSampler"])
def test_fit_resample(benchmark, fraud_data, lib, name):
    X, y = fraud_data
    benchmark.group = f"{name} {ROWS} rows"
    X_res, y_res = benchmark(lambda: make(lib, name).fit_resample(X, y))
    kind = "under-sampling" if name == "RandomUnderSampler" else "over-sampling"
    target = check_sampling_strategy("auto", y, kind)
    counts = np.bincount(y_res)
    base = np.bincount(y)
    expected = [
        (target[c] if kind == "under-sampling" else base[c] + target[c]) if c in target else base[c]
        for c in range(len(base))
    ]
    benchmark.extra_info["correct"] = bool(np.array_equal(counts, expected))
    assert benchmark.extra_info["correct"]
