"""The error messages that several estimators raise, each written once.

A message that one place raises stays beside its check; a message raised from several places (or
built from scikit-learn's wording, which tests and users match on) is a function here, so that its
words cannot drift apart between estimators.
"""

from __future__ import annotations

import numpy as np


def _label(cls) -> object:
    """A class label as the user wrote it (``7``, not ``np.int64(7)``)."""
    return cls.item() if isinstance(cls, np.generic) else cls


def too_many_neighbors(
    n_neighbors: int,
    n_samples_fit: int,
    *,
    n_samples: int | None = None,
    strict: bool = False,
    detail: str | None = None,
) -> str:
    """scikit-learn's words for a neighbourhood larger than the data ("Expected n_neighbors <=
    n_samples_fit, ..."; ``<`` when ``strict``: the rows themselves are excluded), which its
    callers and imbalanced-learn's tests recognise, then what is too small (``detail``)."""
    rel = "<" if strict else "<="
    msg = (
        f"Expected n_neighbors {rel} n_samples_fit, but n_neighbors = {n_neighbors},"
        f" n_samples_fit = {n_samples_fit}"
    )
    if n_samples is not None:
        msg += f", n_samples = {n_samples}"
    if detail is not None:
        msg += f": {detail}"
    return msg


def class_too_small(cls, n_rows: int, k_neighbors: int) -> str:
    """A class to grow with fewer rows than an over-sampler's ``k_neighbors + 1``."""
    return too_many_neighbors(
        k_neighbors + 1,
        n_rows,
        detail=f"class {_label(cls)!r} has {n_rows} rows, fewer than k_neighbors + 1 ="
        f" {k_neighbors + 1} needed to grow it",
    )


def param_too_small(param: str, k: int, n_rows: int) -> str:
    """A neighbour search ``param=k`` (the row itself excluded) over fewer than ``k + 1`` rows."""
    return too_many_neighbors(k + 1, n_rows, detail=f"{param}={k} needs at least {k + 1} rows")


def values_not_resamplable(column, n_bad: int, what: str) -> str:
    """A categorical (or numeric) column of SMOTENC / SMOTEN holding ``n_bad`` values of kind
    ``what`` ("null", "NaN or infinity", ...), which cannot be resampled."""
    return (
        f"column {column!r} contains {n_bad} {what} values; SMOTENC and SMOTEN cannot resample"
        " them: drop or impute them first"
    )


def classes_not_present(missing) -> str:
    """``sampling_strategy`` names classes that ``y`` does not hold (imbalanced-learn's words)."""
    return f"The {missing} target class is/are not present in the data."


def count_out_of_range(kind: str, bound: str, n_original: int, n_asked: int) -> str:
    """A ``sampling_strategy`` dict asking a class to shrink under over-sampling or to grow under
    under-sampling (imbalanced-learn's words); ``bound`` is "greater" or "less"."""
    return (
        f"With {kind} methods, the number of samples in a class should be {bound} or equal to the"
        f" original number of samples. Originally, there is {n_original} samples and {n_asked}"
        " samples are asked."
    )
