"""The user contract: labels, ``sampling_strategy``, ``random_state`` and ``n_jobs``.

``check_sampling_strategy`` computes exactly what imbalanced-learn 0.14's function of the same name
computes (the tests compare them on every form), from class counts the estimators already have
instead of re-scanning ``y`` several times.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods

from equipoise import _core
from equipoise.utils._messages import classes_not_present, count_out_of_range

SAMPLING_KIND = ("over-sampling", "under-sampling", "clean-sampling", "ensemble", "bypass")


# Integer labels whose values span at most this many are coded through a table, by the core in
# parallel passes; other labels by ``np.unique`` (a sort).
_TABLE_SPAN = 1 << 20


def encode_labels(y: np.ndarray, n_threads: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``classes`` (sorted, as ``np.unique``), dense ``uint32`` codes and per-class counts, on
    ``n_threads`` threads of the core (0: the default)."""
    if y.dtype.kind in "iub" and y.size and y.dtype.isnative:
        yi = y.view(np.uint8) if y.dtype.kind == "b" else y
        try:
            found = _core.label_codes(np.ascontiguousarray(yi), _TABLE_SPAN, n_threads)
        except TypeError:  # an integer type the core does not take (e.g. a platform alias)
            found = None
        if found is not None:
            offsets, per_class, lo, table_codes = found
            values = np.array([lo + o for o in offsets], dtype=y.dtype)
            return values, table_codes, np.array(per_class, dtype=np.intp)
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return classes, codes.astype(np.uint32).reshape(-1), counts


def _stats(classes, counts) -> dict:
    return dict(zip(classes, (int(c) for c in counts)))


def _targets_all(stats, kind):
    if kind == "over-sampling":
        top = max(stats.values())
        return {k: top - v for k, v in stats.items()}
    low = min(stats.values())
    return {k: low for k in stats}


def _targets_majority(stats, kind):
    if kind == "over-sampling":
        raise ValueError("'sampling_strategy'='majority' cannot be used with over-sampler.")
    majority = max(stats, key=stats.get)
    low = min(stats.values())
    return {k: low for k in stats if k == majority}


def _targets_not_majority(stats, kind):
    majority = max(stats, key=stats.get)
    if kind == "over-sampling":
        top = max(stats.values())
        return {k: top - v for k, v in stats.items() if k != majority}
    low = min(stats.values())
    return {k: low for k in stats if k != majority}


def _targets_not_minority(stats, kind):
    minority = min(stats, key=stats.get)
    if kind == "over-sampling":
        top = max(stats.values())
        return {k: top - v for k, v in stats.items() if k != minority}
    low = min(stats.values())
    return {k: low for k in stats if k != minority}


def _targets_minority(stats, kind):
    if kind == "over-sampling":
        minority = min(stats, key=stats.get)
        top = max(stats.values())
        return {k: top - v for k, v in stats.items() if k == minority}
    raise ValueError(
        "'sampling_strategy'='minority' cannot be used with under-sampler and clean-sampler."
    )


def _targets_auto(stats, kind):
    if kind == "over-sampling":
        return _targets_not_majority(stats, kind)
    return _targets_not_minority(stats, kind)


TARGET_KIND = {
    "minority": _targets_minority,
    "majority": _targets_majority,
    "not minority": _targets_not_minority,
    "not majority": _targets_not_majority,
    "all": _targets_all,
    "auto": _targets_auto,
}


def _targets_dict(strategy, stats, kind):
    missing = set(strategy.keys()) - set(stats.keys())
    if missing:
        raise ValueError(classes_not_present(missing))
    if any(n < 0 for n in strategy.values()):
        raise ValueError(
            "The number of samples in a class cannot be negative."
            f"'sampling_strategy' contains some negative value: {strategy}"
        )
    out = {}
    if kind == "over-sampling":
        for cls, n in strategy.items():
            if n < stats[cls]:
                raise ValueError(count_out_of_range(kind, "greater", stats[cls], n))
            out[cls] = n - stats[cls]
    elif kind == "under-sampling":
        for cls, n in strategy.items():
            if n > stats[cls]:
                raise ValueError(count_out_of_range(kind, "less", stats[cls], n))
            out[cls] = n
    else:
        raise ValueError(
            "'sampling_strategy' as a dict for cleaning methods is not supported. Please give"
            " a list of the classes to be targeted by the sampling."
        )
    return out


def _targets_list(strategy, stats, kind):
    if kind != "clean-sampling":
        raise ValueError(
            "'sampling_strategy' cannot be a list for samplers which are not cleaning methods."
        )
    missing = set(strategy) - set(stats.keys())
    if missing:
        raise ValueError(classes_not_present(missing))
    low = min(stats.values())
    return {k: low for k in strategy}


def _targets_float(ratio, stats, kind):
    if len(stats) != 2:
        raise ValueError(
            '"sampling_strategy" can be a float only when the type of target is binary.'
            " For multi-class, use a dict."
        )
    if kind == "over-sampling":
        top = max(stats.values())
        majority = max(stats, key=stats.get)
        out = {k: int(top * ratio - v) for k, v in stats.items() if k != majority}
        if any(n <= 0 for n in out.values()):
            raise ValueError(
                "The specified ratio required to remove samples from the minority class while"
                " trying to generate new samples. Please increase the ratio."
            )
    elif kind == "under-sampling":
        low = min(stats.values())
        minority = min(stats, key=stats.get)
        out = {k: int(low / ratio) for k in stats if k != minority}
        if any(n > stats[k] for k, n in out.items()):
            raise ValueError(
                "The specified ratio required to generate new sample in the majority class"
                " while trying to remove samples. Please increase the ratio."
            )
    else:
        raise ValueError("'clean-sampling' methods do let the user specify the sampling ratio.")
    return out


def check_sampling_strategy(
    sampling_strategy, y, sampling_type, *, classes=None, counts=None, **kwargs
):
    """Targeted classes and their number of samples, as imbalanced-learn computes them.

    Same arguments and result as ``imblearn.utils.check_sampling_strategy``; ``classes`` and
    ``counts`` (from :func:`encode_labels`) may be given to avoid scanning ``y`` again.
    """
    if sampling_type not in SAMPLING_KIND:
        raise ValueError(
            f"'sampling_type' should be one of {SAMPLING_KIND}. Got '{sampling_type} instead."
        )
    if classes is None or counts is None:
        classes, _, counts = encode_labels(np.asarray(y))
    if len(classes) <= 1:
        raise ValueError(
            f"The target 'y' needs to have more than 1 class. Got {len(classes)} class instead"
        )
    if sampling_type in ("ensemble", "bypass"):
        return sampling_strategy
    stats = _stats(classes, counts)
    if isinstance(sampling_strategy, str):
        if sampling_strategy not in TARGET_KIND:
            raise ValueError(
                "When 'sampling_strategy' is a string, it needs to be one of"
                f" {TARGET_KIND}. Got '{sampling_strategy}' instead."
            )
        out = TARGET_KIND[sampling_strategy](stats, sampling_type)
    elif isinstance(sampling_strategy, dict):
        out = _targets_dict(sampling_strategy, stats, sampling_type)
    elif isinstance(sampling_strategy, list):
        out = _targets_list(sampling_strategy, stats, sampling_type)
    elif isinstance(sampling_strategy, Real):
        if sampling_strategy <= 0 or sampling_strategy > 1:
            raise ValueError(
                "When 'sampling_strategy' is a float, it should be in the range (0, 1]."
                f" Got {sampling_strategy} instead."
            )
        out = _targets_float(sampling_strategy, stats, sampling_type)
    elif callable(sampling_strategy):
        out = _targets_dict(sampling_strategy(y, **kwargs), stats, sampling_type)
    else:
        raise ValueError(f"Unknown sampling_strategy: {sampling_strategy!r}")
    return OrderedDict(sorted(out.items()))


def seed_from(random_state) -> int:
    """A 64-bit seed for the core: an int is used as it is, a RandomState (or None) is drawn."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (1 << 64)
    rs = check_random_state(random_state)
    return int(rs.randint(np.iinfo(np.int64).max, dtype=np.int64))


#: The ``_parameter_constraints`` entry of an ``n_jobs`` parameter (read by :func:`threads_from`).
N_JOBS_CONSTRAINT: list = [numbers.Integral, None]

#: The ``_parameter_constraints`` entry of a sampler given as a parameter (``smote``, ``enn``, ...).
SAMPLER_CONSTRAINT: list = [HasMethods(["fit_resample"]), None]


def threads_from(n_jobs) -> int:
    """``n_jobs`` as joblib reads it: None and -1 use every core, -2 all but one, and so on."""
    if n_jobs is None:
        return 0
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or a positive number")
    if n_jobs < 0:
        return max(1, _core.default_threads() + 1 + n_jobs)
    return n_jobs
