"""Validation helpers shared by the estimators."""

from equipoise.utils._validation import check_sampling_strategy

__all__ = ["check_sampling_strategy"]
