"""pytest-benchmark suite: each sampler, imbalanced-learn and equipoise, on the same data.

    python -m pytest benches/bench_samplers.py --benchmark-only -p no:cacheprovider
    python -m pytest benches/bench_samplers.py --benchmark-only --families all --rows 1000000

Runs on each data family of ``data_families.py`` given by ``--families`` (default: the PCA-like
cloud; see ``conftest.py``). Each benchmark records in ``extra_info`` whether its output has the
class counts imbalanced-learn's targets ask for (``correct``). Not part of the test run.
"""

import numpy as np
import pytest
from compare_imblearn import sampler
from data_families import make

from equipoise.utils import check_sampling_strategy

ROWS = 100_000


@pytest.fixture(scope="module")
def data(request, family):
    rows = request.config.getoption("rows") or ROWS
    return make(family, rows)


@pytest.mark.parametrize("lib", ["imblearn", "equipoise"])
@pytest.mark.parametrize("name", ["SMOTE", "RandomOverSampler", "RandomUnderSampler"])
def test_fit_resample(benchmark, data, family, lib, name):
    X, y = data
    benchmark.group = f"{name} {family} {len(y)} rows"
    X_res, y_res = benchmark(lambda: sampler(lib, name).fit_resample(X, y))
    kind = "under-sampling" if name == "RandomUnderSampler" else "over-sampling"
    target = check_sampling_strategy("auto", y, kind)
    classes, base = np.unique(y, return_counts=True)
    got = dict(zip(*np.unique(y_res, return_counts=True)))
    expected = {
        c: (target[c] if kind == "under-sampling" else n + target[c]) if c in target else n
        for c, n in zip(classes, base)
    }
    benchmark.extra_info["correct"] = got == expected
    assert benchmark.extra_info["correct"]
