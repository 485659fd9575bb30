"""Collects imbalanced-learn's test modules, rewritten by ``_rewrite.py``, as part of ``tests/``.

The rewritten modules are written to a temporary directory at collection time and collected under
``tests/imblearn_suite/imblearn/<path of the module in imbalanced-learn>``. The tests listed in
``pinned.py`` (they pin imbalanced-learn's random draws or call its private methods) are marked as
expected failures, with their reason: ``xfail_strict`` makes them fail the run if they pass.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from imblearn_suite import _rewrite
from imblearn_suite.pinned import PINNED, SKLEARN_WARNINGS

HERE = Path(__file__).parent


class RewrittenModule(pytest.Module):
    """A rewritten imbalanced-learn module. imbalanced-learn 0.14.2 hands ``parametrize`` generators
    (``ParameterGrid``, ``_tested_estimators()``), which pytest 9 deprecates with a warning that
    ``filterwarnings = error`` turns into a collection error; it is silenced for these modules'
    collection only."""

    def collect(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=pytest.PytestRemovedIn10Warning)
            return super().collect()


class ImblearnSuite(pytest.Dir):
    """``tests/imblearn_suite``: its own files, plus the rewritten imbalanced-learn modules."""

    def collect(self):
        yield from super().collect()
        out = Path(tempfile.mkdtemp(prefix="equipoise-imblearn-suite-"))
        atexit.register(shutil.rmtree, out, ignore_errors=True)
        (out / "_instances.py").write_text((HERE / "_instances.py").read_text())
        for rel, path in _rewrite.generate(out, instances_module="_instances").items():
            yield RewrittenModule.from_parent(
                self, path=path, nodeid=f"{self.nodeid}/imblearn/{rel}"
            )


def pytest_collect_directory(path, parent):
    if path == HERE:
        return ImblearnSuite.from_parent(parent, path=path)
    return None


def pytest_collection_modifyitems(config, items):
    prefix = "tests/imblearn_suite/imblearn/"
    seen = set()
    for item in items:
        at = item.nodeid.find(prefix)
        if at < 0:
            continue
        key = item.nodeid[at + len(prefix) :]
        if key in PINNED:
            seen.add(key)
            reason, ours = PINNED[key]
            item.add_marker(pytest.mark.xfail(reason=f"{reason}; see {ours}", strict=True))
        if key in SKLEARN_WARNINGS:
            item.add_marker(pytest.mark.filterwarnings(SKLEARN_WARNINGS[key]))
    collected_all = any(prefix + "over_sampling/" in item.nodeid for item in items) and any(
        prefix + "combine/" in item.nodeid for item in items
    )
    missing = sorted(set(PINNED) - seen)
    if collected_all and not config.option.keyword and missing:
        raise pytest.UsageError(f"pinned.py lists tests imbalanced-learn does not have: {missing}")
