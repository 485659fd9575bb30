"""Over-samplers: grow the classes that need it."""

from equipoise.over_sampling._random_over_sampler import RandomOverSampler
from equipoise.over_sampling._smote import SMOTE

__all__ = ["RandomOverSampler", "SMOTE"]
