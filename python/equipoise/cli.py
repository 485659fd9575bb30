"""The ``equipoise`` command: ``equipoise demo`` resamples a bundled real dataset;
``equipoise --version`` prints the installed version."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _counts(y) -> str:
    classes, counts = np.unique(y, return_counts=True)
    return ", ".join(f"{c}: {n}" for c, n in zip(classes.tolist(), counts.tolist()))


def demo(dataset: str = "mammography", random_state: int = 0) -> int:
    from equipoise import datasets
    from equipoise.over_sampling import SMOTE, RandomOverSampler
    from equipoise.under_sampling import RandomUnderSampler

    X, y, names = datasets.load(dataset, numeric_only=True)
    print(f"equipoise demo: {dataset} ({X.shape[0]} rows x {X.shape[1]} features)")
    print(f"  before                    {_counts(y)}")
    for sampler in (
        SMOTE(random_state=random_state),
        RandomOverSampler(random_state=random_state),
        RandomUnderSampler(random_state=random_state),
    ):
        t = time.perf_counter()
        X_res, y_res = sampler.fit_resample(X, y)
        ms = (time.perf_counter() - t) * 1000
        name = type(sampler).__name__
        print(f"  {name:<20} after  {_counts(y_res)}   ({X_res.shape[0]} rows, {ms:.1f} ms)")
    return 0


def main(argv: list[str] | None = None) -> int:
    from equipoise import __version__

    parser = argparse.ArgumentParser(prog="equipoise", description=__doc__)
    parser.add_argument("--version", action="version", version=f"equipoise {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="resample a bundled real imbalanced dataset and time it")
    from equipoise import datasets

    p.add_argument("--dataset", default="mammography", choices=datasets.list_datasets())
    p.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.dataset, args.random_state)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
