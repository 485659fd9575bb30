"""imbalanced-learn's shipped test modules, pointed at equipoise by rewriting their sampler imports.

``rewrite(source)`` changes only ``from imblearn.<over_sampling|under_sampling|combine> import ...``
statements: every name equipoise implements is imported from ``equipoise.<same module>`` instead,
the others (samplers equipoise does not implement, e.g. ``KMeansSMOTE``) stay imbalanced-learn's.
``imblearn/tests/test_common.py`` additionally takes its list of estimators from
``_instances.py`` (equipoise's samplers, with imbalanced-learn's own test parameters).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import imblearn

#: The imbalanced-learn test modules run against equipoise, relative to the imblearn package.
MODULES = [
    "over_sampling/_smote/tests/test_smote.py",
    "over_sampling/_smote/tests/test_borderline_smote.py",
    "over_sampling/_smote/tests/test_smote_nc.py",
    "over_sampling/_smote/tests/test_smoten.py",
    "over_sampling/tests/test_adasyn.py",
    "over_sampling/tests/test_random_over_sampler.py",
    "over_sampling/tests/test_common.py",
    "under_sampling/_prototype_selection/tests/test_random_under_sampler.py",
    "under_sampling/_prototype_selection/tests/test_edited_nearest_neighbours.py",
    "under_sampling/_prototype_selection/tests/test_repeated_edited_nearest_neighbours.py",
    "under_sampling/_prototype_selection/tests/test_allknn.py",
    "under_sampling/_prototype_selection/tests/test_tomek_links.py",
    "under_sampling/_prototype_selection/tests/test_neighbourhood_cleaning_rule.py",
    "under_sampling/_prototype_selection/tests/test_one_sided_selection.py",
    "under_sampling/_prototype_selection/tests/test_condensed_nearest_neighbour.py",
    "combine/tests/test_smote_enn.py",
    "combine/tests/test_smote_tomek.py",
    "tests/test_base.py",
    "tests/test_pipeline.py",
    "tests/test_common.py",
    "ensemble/tests/test_bagging.py",
    "ensemble/tests/test_easy_ensemble.py",
]

SAMPLER_PACKAGES = ("over_sampling", "under_sampling", "combine")
#: The one non-sampler import rewritten: test_common.py's estimator list.
INSTANCES = "imblearn.utils._test_common.instance_generator"


def imblearn_root() -> Path:
    return Path(imblearn.__file__).parent


def _equipoise_names(package: str) -> set[str]:
    return set(importlib.import_module(f"equipoise.{package}").__all__)


def _alias(a: ast.alias) -> str:
    return a.name if a.asname is None else f"{a.name} as {a.asname}"


def rewrite(source: str, instances_module: str | None = None) -> tuple[str, list[str]]:
    """The rewritten source and the list of rewritten imports (``old -> new`` lines)."""
    lines = source.splitlines(keepends=True)
    edits = []  # (first line, last line, replacement)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or node.module is None or node.level:
            continue
        parts = node.module.split(".")
        new = None
        if len(parts) == 2 and parts[0] == "imblearn" and parts[1] in SAMPLER_PACKAGES:
            ours = _equipoise_names(parts[1])
            mine = [a for a in node.names if a.name in ours]
            theirs = [a for a in node.names if a.name not in ours]
            if not mine:
                continue
            pad = " " * node.col_offset
            new = f"from equipoise.{parts[1]} import {', '.join(map(_alias, mine))}\n"
            if theirs:
                new += f"{pad}from {node.module} import {', '.join(map(_alias, theirs))}\n"
        elif node.module == INSTANCES and instances_module is not None:
            new = f"from {instances_module} import {', '.join(map(_alias, node.names))}\n"
        if new is not None:
            edits.append((node.lineno - 1, node.end_lineno, new))
    log = []
    for first, last, new in sorted(edits, reverse=True):
        old = "".join(lines[first:last])
        log.append(f"{' '.join(old.split())}  ->  {' '.join(new.split())}")
        # Keep the line count, so that tracebacks point at imbalanced-learn's own line numbers.
        new_lines = new.splitlines(keepends=True)
        n_old = last - first
        if len(new_lines) <= n_old:
            new_lines += ["\n"] * (n_old - len(new_lines))
            lines[first:last] = new_lines
        else:
            joined = "; ".join(line.strip() for line in new_lines) + "\n"
            lines[first:last] = [" " * (len(new) - len(new.lstrip())) + joined] + ["\n"] * (
                n_old - 1
            )
    return "".join(lines), log[::-1]


def generated_name(rel: str) -> str:
    """A flat, unique module file name for ``rel`` (two modules are called test_common.py)."""
    return "imblearn__" + rel.removesuffix(".py").replace("/", "__").replace("_tests__", "") + ".py"


def generate(out: Path, instances_module: str | None = None) -> dict[str, Path]:
    """Write the rewritten modules into ``out``; {relative source path: generated file}."""
    out.mkdir(parents=True, exist_ok=True)
    root = imblearn_root()
    written = {}
    for rel in MODULES:
        text, _ = rewrite((root / rel).read_text(), instances_module)
        dest = out / generated_name(rel)
        dest.write_text(text)
        written[rel] = dest
    return written


if __name__ == "__main__":  # print the rewrite, for review: python tests/imblearn_suite/_rewrite.py
    for rel in MODULES:
        _, log = rewrite((imblearn_root() / rel).read_text(), "_instances")
        print(f"imblearn/{rel}")
        for line in log:
            print(f"    {line}")
