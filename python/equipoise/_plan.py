"""From class counts to what a resampling step will do: the engines that never hold all the rows
(Spark, streamed Parquet) plan each step from the counts of a first pass, with imbalanced-learn's
``sampling_strategy`` arithmetic, exactly as the in-memory estimator plans from ``y``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.base import clone

from equipoise.combine import SMOTEENN, SMOTETomek
from equipoise.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from equipoise.under_sampling import EditedNearestNeighbours, RandomUnderSampler, TomekLinks
from equipoise.utils._validation import seed_from

#: The step kinds an engine implements, by sampler class (subclasses too).
KINDS: tuple = (
    (RandomUnderSampler, "under"),
    (RandomOverSampler, "over"),
    (BorderlineSMOTE, "smote-variant"),
    (ADASYN, "smote-variant"),
    (SMOTE, "smote"),
    (EditedNearestNeighbours, "enn"),
    (TomekLinks, "tomek"),
)


def expand_steps(steps) -> list:
    """The samplers of ``steps`` in order, a combined sampler (SMOTEENN, SMOTETomek) as its two
    steps, each a fresh clone (the caller's objects are not modified)."""
    if not isinstance(steps, list | tuple) or not steps:
        raise ValueError("steps must be a non-empty list of samplers, e.g. [SMOTE(random_state=0)]")
    out = []
    for s in steps:
        if isinstance(s, SMOTEENN | SMOTETomek):
            s = clone(s)
            cleaner = s._validate_estimator()
            out.extend([s.smote_, cleaner])
        else:
            out.append(clone(s))
    for s in out:
        kind_of(s)
    return out


def kind_of(sampler) -> str:
    for cls, kind in KINDS:
        if isinstance(sampler, cls):
            return kind
    names = "RandomUnderSampler, RandomOverSampler, SMOTE, BorderlineSMOTE, ADASYN, "
    names += "EditedNearestNeighbours, TomekLinks, SMOTEENN, SMOTETomek"
    raise TypeError(
        f"{type(sampler).__name__} is not supported here; the supported samplers are"
        f" equipoise's {names}"
    )


@dataclass
class StepPlan:
    """One step: its sampler, kind and, by class code, the target of imbalanced-learn's
    ``sampling_strategy_`` (rows to keep for an under-sampler, rows to add for an over-sampler;
    for a cleaner, whether the class is cleaned)."""

    sampler: Any
    kind: str
    classes: list
    counts: list
    strategy: dict
    targets: list = field(default_factory=list)
    seed: int = 0

    def describe(self) -> str:
        name = type(self.sampler).__name__
        parts = [f"{c!r}: {self.counts[i]}" for i, c in enumerate(self.classes)]
        return f"{name} on {{{', '.join(parts)}}} -> sampling_strategy_ {self.strategy}"


def _sampling_type(kind: str) -> str:
    return {
        "under": "under-sampling",
        "over": "over-sampling",
        "smote": "over-sampling",
        "smote-variant": "over-sampling",
        "enn": "clean-sampling",
        "tomek": "clean-sampling",
    }[kind]


def plan_step(sampler, classes, counts) -> StepPlan:
    """Plan one step from the class counts (``classes`` sorted as ``np.unique`` sorts them)."""
    kind = kind_of(sampler)
    if len(classes) < 2:
        raise ValueError(
            f"The target 'y' needs to have more than 1 class. Got {len(classes)} class instead"
        )
    # imbalanced-learn reads only the counts of `y` (and a callable strategy gets `y` itself): a
    # label array with these counts gives the same `sampling_strategy_` as the real column.
    y = np.repeat(np.arange(len(classes)), counts)
    strategy = sampler.sampling_strategy
    if isinstance(strategy, dict):
        pos = {c: i for i, c in enumerate(classes)}
        missing = [c for c in strategy if c not in pos]
        if missing:
            raise ValueError(
                f"The {missing} target class is/are not present in the data: {list(classes)}"
            )
        strategy = {pos[c]: v for c, v in strategy.items()}
    elif isinstance(strategy, list):
        pos = {c: i for i, c in enumerate(classes)}
        strategy = [pos[c] for c in strategy]
    elif callable(strategy):
        # The callable sees labels (with the real counts), and answers by label.
        labels = np.asarray(classes)[y]
        pos = {c: i for i, c in enumerate(classes)}
        strategy = {pos[c]: v for c, v in strategy(labels).items()}
    by_code = check_sampling_strategy(strategy, y, _sampling_type(kind))
    out = {classes[i]: (None if v is None else int(v)) for i, v in by_code.items()}
    targets: list = [None] * len(classes)
    for i, v in by_code.items():
        targets[i] = None if v is None else int(v)
    seed = seed_from(getattr(sampler, "random_state", None)) if kind not in ("enn", "tomek") else 0
    return StepPlan(sampler, kind, list(classes), list(counts), out, targets, seed)
