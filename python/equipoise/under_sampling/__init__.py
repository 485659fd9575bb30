"""Under-samplers: keep a subset of the rows."""

from equipoise.under_sampling._edited_nearest_neighbours import (
    AllKNN,
    EditedNearestNeighbours,
    RepeatedEditedNearestNeighbours,
)
from equipoise.under_sampling._neighbourhood_cleaning_rule import NeighbourhoodCleaningRule
from equipoise.under_sampling._one_sided_selection import (
    CondensedNearestNeighbour,
    OneSidedSelection,
)
from equipoise.under_sampling._random_under_sampler import RandomUnderSampler
from equipoise.under_sampling._tomek_links import TomekLinks

__all__ = [
    "AllKNN",
    "CondensedNearestNeighbour",
    "EditedNearestNeighbours",
    "NeighbourhoodCleaningRule",
    "OneSidedSelection",
    "RandomUnderSampler",
    "RepeatedEditedNearestNeighbours",
    "TomekLinks",
]
