"""Samplers for training loops: batches of exact class composition, sharded for distributed data
parallel, without materialising a resampled dataset. Nothing here imports torch.

* :class:`BalancedBatchSampler` (equal or custom class shares) and :class:`StratifiedBatchSampler`
  (the data's shares): ``DataLoader(dataset, batch_sampler=sampler)``, ``set_epoch(epoch)``,
  ``rank`` / ``world_size``; ``iter_numpy()`` and ``epoch_indices()`` for other loops.
* :class:`OnlineSMOTE`: balanced batches whose minority share is synthesised on the fly.
* :class:`ParquetBalancedBatches`: balanced batches of feature rows streamed from Parquet row
  groups, with bounded memory.

Example::

    sampler = BalancedBatchSampler(y, batch_size=256, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, num_workers=2)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            ...
"""

from equipoise.sampling._batch import BalancedBatchSampler, StratifiedBatchSampler
from equipoise.sampling._online_smote import OnlineSMOTE
from equipoise.sampling._parquet import ParquetBalancedBatches

__all__ = [
    "BalancedBatchSampler",
    "OnlineSMOTE",
    "ParquetBalancedBatches",
    "StratifiedBatchSampler",
]
