"""Nearest-neighbour search: exact (blocked brute force, KD-tree) and approximate (HNSW).

:class:`NearestNeighbors` is a scikit-learn compatible estimator backed by equipoise's engine; pass
it as ``k_neighbors`` / ``n_neighbors`` to equipoise's or imbalanced-learn's samplers, or use it as
scikit-learn's.
"""

from equipoise.neighbors._nearest import NearestNeighbors

__all__ = ["NearestNeighbors"]
