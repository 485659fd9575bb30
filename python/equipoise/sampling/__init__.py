"""Samplers for training loops: batches of exact class composition, sharded for distributed data
parallel, without materialising a resampled dataset. Nothing here imports torch."""

from equipoise.sampling._batch import BalancedBatchSampler, StratifiedBatchSampler
from equipoise.sampling._online_smote import OnlineSMOTE
from equipoise.sampling._parquet import ParquetBalancedBatches

__all__ = [
    "BalancedBatchSampler",
    "OnlineSMOTE",
    "ParquetBalancedBatches",
    "StratifiedBatchSampler",
]
