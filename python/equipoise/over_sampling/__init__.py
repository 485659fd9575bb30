"""Over-samplers: grow the classes that need it."""

from equipoise.over_sampling._borderline_adasyn import ADASYN, BorderlineSMOTE
from equipoise.over_sampling._random_over_sampler import RandomOverSampler
from equipoise.over_sampling._smote import SMOTE
from equipoise.over_sampling._smote_nominal import SMOTEN, SMOTENC

__all__ = ["ADASYN", "BorderlineSMOTE", "RandomOverSampler", "SMOTE", "SMOTEN", "SMOTENC"]
