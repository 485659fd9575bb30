"""Under-samplers: keep a subset of the rows."""

from equipoise.under_sampling._random_under_sampler import RandomUnderSampler

__all__ = ["RandomUnderSampler"]
