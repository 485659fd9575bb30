"""The ``equipoise`` command: ``equipoise demo`` resamples a bundled real dataset;
``equipoise resample`` resamples a Parquet/CSV table larger than memory; ``equipoise --version``
prints the installed version."""

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


#: ``--steps`` names: the sampler each builds.
STEP_NAMES = {
    "under": ("equipoise.under_sampling", "RandomUnderSampler"),
    "over": ("equipoise.over_sampling", "RandomOverSampler"),
    "smote": ("equipoise.over_sampling", "SMOTE"),
    "smotenc": ("equipoise.over_sampling", "SMOTENC"),
    "borderline": ("equipoise.over_sampling", "BorderlineSMOTE"),
    "adasyn": ("equipoise.over_sampling", "ADASYN"),
    "enn": ("equipoise.under_sampling", "EditedNearestNeighbours"),
    "tomek": ("equipoise.under_sampling", "TomekLinks"),
    "smoteenn": ("equipoise.combine", "SMOTEENN"),
    "smotetomek": ("equipoise.combine", "SMOTETomek"),
}


def _value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_steps(spec: str, random_state=None, categorical=None) -> list:
    """``"under:0.1,smote:k_neighbors=3,tomek"`` as sampler objects: each step is a name, then
    optional ``:``-separated parameters, a bare value being its ``sampling_strategy``. A
    ``smotenc`` step takes its categorical columns from ``categorical`` (``--categorical``)."""
    import importlib
    import inspect

    steps = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            raise ValueError(f"empty step in --steps {spec!r}")
        name, *params = item.split(":")
        key = name.strip().lower()
        if key not in STEP_NAMES:
            raise ValueError(
                f"unknown step {name!r} in --steps; the steps are {', '.join(STEP_NAMES)}"
            )
        module, cls_name = STEP_NAMES[key]
        cls = getattr(importlib.import_module(module), cls_name)
        kwargs: dict = {}
        for p in params:
            if "=" in p:
                k, v = p.split("=", 1)
                kwargs[k.strip()] = _value(v.strip())
            else:
                kwargs["sampling_strategy"] = _value(p.strip())
        accepted = inspect.signature(cls).parameters
        if cls_name == "SMOTENC" and "categorical_features" not in kwargs:
            if not categorical:
                raise ValueError(
                    f"step {item!r} needs its categorical columns: --categorical merchant,country"
                )
            kwargs["categorical_features"] = list(categorical)
        if "random_state" in accepted and "random_state" not in kwargs:
            kwargs["random_state"] = random_state
        bad = [k for k in kwargs if k not in accepted]
        if bad:
            raise ValueError(f"{cls_name} has no parameter {bad[0]!r} (step {item!r})")
        steps.append(cls(**kwargs))
    return steps


def resample(args) -> int:
    from equipoise.io import resample_parquet

    def cols(text):
        return None if text is None else [c.strip() for c in text.split(",") if c.strip()]

    steps = parse_steps(args.steps, args.random_state, cols(args.categorical))
    report = resample_parquet(
        args.input,
        args.output,
        label=args.label,
        steps=steps,
        features=cols(args.features),
        exclude=cols(args.exclude),
        synthetic_flag=args.synthetic_flag,
        memory_limit=args.memory_limit,
        neighbors=args.neighbors,
        overwrite=args.overwrite,
        progress=False if args.quiet else None,
        dry_run=args.dry_run,
        out=sys.stdout if (args.dry_run or not args.quiet) else None,
    )
    if not args.dry_run and not args.quiet:
        after = ", ".join(f"{c}: {n}" for c, n in zip(report.classes, report.counts_after))
        print(f"wrote {report.rows_written} rows ({report.made_rows} made) to {args.output}")
        print(f"classes after: {after}")
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
        print(f"time: {phases}")
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
    r = sub.add_parser(
        "resample",
        help="resample a Parquet/CSV table larger than memory into Parquet",
        description="Resample INPUT (a Parquet or CSV file, a directory of them, or a glob) with"
        " a chain of samplers and write OUTPUT (a .parquet file or a directory). The output is"
        " written under a temporary name and renamed when complete.",
    )
    r.add_argument("input", help="Parquet/CSV file, directory or glob")
    r.add_argument("output", help="a .parquet file or a directory")
    r.add_argument("--label", required=True, help="the column holding the classes")
    r.add_argument(
        "--steps",
        required=True,
        help="comma-separated steps, each NAME[:STRATEGY][:PARAM=VALUE...], e.g."
        f" 'under:0.1,smote,tomek'; names: {', '.join(STEP_NAMES)}",
    )
    r.add_argument("--random-state", type=int, default=None, help="seed of every random step")
    r.add_argument("--memory-limit", default=None, help="e.g. 8GB (default: half of free memory)")
    r.add_argument(
        "--neighbors",
        default="auto",
        choices=["auto", "exact", "kdtree", "hnsw"],
        help="the neighbour search of the steps that run in memory: auto, exact and kdtree are"
        " exact, hnsw approximate; a cleaner streamed in chunks is exact whatever this says",
    )
    r.add_argument("--features", default=None, help="comma-separated feature columns")
    r.add_argument("--exclude", default=None, help="comma-separated columns that are not features")
    r.add_argument(
        "--categorical",
        default=None,
        help="comma-separated categorical feature columns (strings, dictionaries, integer codes)"
        " of a smotenc step",
    )
    r.add_argument(
        "--synthetic-flag", default=None, metavar="COLUMN", help="boolean column marking made rows"
    )
    r.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    r.add_argument("--dry-run", action="store_true", help="print the plan and memory estimate only")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.dataset, args.random_state)
    if args.command == "resample":
        try:
            return resample(args)
        except KeyboardInterrupt:
            print("equipoise: interrupted; nothing was written", file=sys.stderr)
            return 130
        except (ValueError, TypeError, KeyError, OSError, MemoryError, ImportError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            print(f"equipoise: error: {msg}", file=sys.stderr)
            return 1
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
