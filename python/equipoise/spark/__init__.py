"""Resample a Spark DataFrame exactly, with equipoise's Rust core on the executors.

``fit_resample(df, label="is_fraud", steps=[RandomUnderSampler(sampling_strategy=0.1),
SMOTE(random_state=0), TomekLinks()])`` returns a DataFrame with ``df``'s columns: the original rows
each step keeps and the rows the steps make, the same rows (bit for bit, for the same seeds) as the
in-memory estimators give on the data in its canonical order, for any number of partitions.

pyspark is an optional dependency (``pip install equipoise[spark]``); ``import equipoise`` never
imports it, only ``import equipoise.spark`` does.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without pyspark
    raise ImportError(
        "equipoise.spark needs pyspark: pip install 'equipoise[spark]' (or pip install pyspark)"
    ) from e

from equipoise.spark._engine import fit_resample

__all__ = ["fit_resample"]
