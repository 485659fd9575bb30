"""Options of the pytest-benchmark suites (``benches/bench_*.py``).

``--families`` (comma-separated; ``all`` = every synthetic family of ``data_families.py``) and
``--rows`` choose the data the suites measure on; a test that takes a ``family`` argument runs once
per family. The defaults keep a run short: the PCA-like cloud, the headline family, at each suite's
own size.

    python -m pytest benches/bench_samplers.py --benchmark-only --families all --rows 1000000
"""

from data_families import expand


def pytest_addoption(parser):
    parser.addoption(
        "--families",
        default="pca_cloud",
        help="comma-separated data families (data_families.py), or all",
    )
    parser.addoption("--rows", type=int, default=None, help="rows of the synthetic families")


def pytest_generate_tests(metafunc):
    if "family" in metafunc.fixturenames:
        families = expand(metafunc.config.getoption("families").split(","))
        metafunc.parametrize("family", families, scope="module")
