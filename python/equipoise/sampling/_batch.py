"""Batch samplers of exact class composition for training loops (PyTorch, JAX, numpy, Keras)."""

from __future__ import annotations

import math
import numbers
import sys
from fractions import Fraction

import numpy as np

from equipoise import _core
from equipoise.utils._validation import encode_labels, threads_from

__all__ = ["BalancedBatchSampler", "StratifiedBatchSampler", "as_label_array"]

# Indices handed out per call into the core: large enough to amortise the call, small enough to
# keep memory flat whatever the epoch size.
_BLOCK_ROWS = 1 << 18


def as_label_array(labels) -> np.ndarray:
    """A 1-D numpy array from numpy, pandas, polars or any array-like labels."""
    if hasattr(labels, "to_numpy") and not isinstance(labels, np.ndarray):
        labels = labels.to_numpy()
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got an array of shape {y.shape}")
    if y.size == 0:
        raise ValueError("labels are empty")
    return y


def _distributed_defaults(rank, world_size):
    # Like DistributedSampler: take them from torch.distributed when it is running. torch is only
    # looked at if the program already imported it.
    if rank is None or world_size is None:
        dist = sys.modules.get("torch.distributed")
        if dist is not None and dist.is_available() and dist.is_initialized():
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
    return (0 if rank is None else rank), (1 if world_size is None else world_size)


def _integer_weights(shares: list) -> list[int]:
    """Exact integer weights of non-negative shares: integers as they are, decimals such as 0.7 as
    the fraction 7/10, anything else rounded to 2^-40 of the total."""
    if all(isinstance(s, numbers.Integral) for s in shares):
        w = [int(s) for s in shares]
    else:
        fr = [Fraction(float(s)).limit_denominator(1_000_000) for s in shares]
        exact = all(
            abs(float(f) - float(s)) <= 1e-12 * max(abs(float(s)), 1) for f, s in zip(fr, shares)
        )
        den = math.lcm(*(f.denominator for f in fr)) if exact else 0
        if exact and den * max(fr) < 2**62:
            w = [int(f * den) for f in fr]
        else:
            total = float(sum(float(s) for s in shares))
            w = [round(float(s) / total * 2**40) for s in shares]
    if sum(w) >= 2**63:
        g = math.gcd(*w)
        w = [v // g for v in w]
    if sum(w) >= 2**63:
        total = float(sum(w))
        w = [round(v / total * 2**40) for v in w]
    return w


class _ProportionalBatchSampler:
    """Batches whose class composition follows fixed proportions; see the public subclasses."""

    classes_: np.ndarray
    class_counts_: np.ndarray
    batch_size: int
    rank: int
    world_size: int
    n_jobs: int | None
    epoch: int
    _plan: _core.BatchPlan

    def __init__(
        self,
        labels,
        batch_size: int,
        *,
        shares,
        num_batches: int | None,
        drop_last: bool,
        seed: int,
        rank: int | None,
        world_size: int | None,
        n_jobs: int | None,
    ):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_batches is not None and (
            not isinstance(num_batches, numbers.Integral) or num_batches < 1
        ):
            raise ValueError(f"num_batches must be None or an int >= 1, got {num_batches!r}")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        rank, world_size = _distributed_defaults(rank, world_size)
        for name, v in (("rank", rank), ("world_size", world_size)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool):
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(
                f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}"
            )
        y = as_label_array(labels)
        classes, codes, counts = encode_labels(y, threads_from(n_jobs))
        weights = _integer_weights(self._shares(shares, classes, counts))
        self.classes_ = classes
        self.class_counts_ = np.asarray(counts, dtype=np.int64)
        total = sum(weights)
        self.proportions_ = {c: w / total for c, w in zip(classes.tolist(), weights)}
        self.batch_size = int(batch_size)
        self.num_batches = None if num_batches is None else int(num_batches)
        self.drop_last = bool(drop_last)
        self.seed = int(seed) % 2**64
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.n_jobs = n_jobs
        self.epoch = 0
        self._weights = weights
        self._plan = _core.BatchPlan(
            np.ascontiguousarray(codes, dtype=np.uint32),
            len(classes),
            weights,
            self.batch_size,
            self.num_batches,
            self.drop_last,
            self.seed,
            self.rank,
            self.world_size,
        )

    @staticmethod
    def _shares(shares, classes, counts) -> list:
        if isinstance(shares, str):
            if shares == "balanced":
                return [1] * len(classes)
            if shares == "stratified":
                return [int(c) for c in counts]
            raise ValueError(
                f"unknown proportions {shares!r}: use 'balanced', 'stratified' or a dict"
            )
        if isinstance(shares, dict):
            index = {c: i for i, c in enumerate(classes.tolist())}
            missing = [k for k in shares if k not in index]
            if missing:
                raise ValueError(f"proportions name classes absent from the labels: {missing}")
            out: list = [0] * len(classes)
            for k, v in shares.items():
                out[index[k]] = v
        else:
            out = list(np.asarray(shares).tolist())
            if len(out) != len(classes):
                raise ValueError(
                    f"proportions has {len(out)} entries for {len(classes)} classes"
                    f" {classes.tolist()}"
                )
        for v in out:
            if (
                not isinstance(v, numbers.Real)
                or isinstance(v, bool)
                or not math.isfinite(v)
                or v < 0
            ):
                raise ValueError(f"proportions must be finite and >= 0, got {v!r}")
        if sum(out) <= 0:
            raise ValueError("proportions must give at least one class a positive share")
        return out

    # -- the DistributedSampler-like interface -------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose batches the next iteration yields (seeded by (seed, epoch))."""
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        """Batches per epoch on this rank."""
        return len(self._plan)

    def __iter__(self):
        """This rank's batches of the current epoch, as lists of int (the DataLoader contract)."""
        for block, sizes in self._blocks(self.epoch):
            if sizes.size and (sizes == sizes[0]).all():
                # Equal sizes: one C call builds every list.
                yield from block.reshape(sizes.size, int(sizes[0])).tolist()
                continue
            flat = block.tolist()
            at = 0
            for s in sizes.tolist():
                yield flat[at : at + s]
                at += s

    def iter_numpy(self, epoch: int | None = None):
        """This rank's batches of ``epoch`` (default: the current one) as int64 numpy arrays."""
        for block, sizes in self._blocks(self.epoch if epoch is None else int(epoch)):
            ends = np.cumsum(sizes).tolist()
            at = 0
            for e in ends:
                yield block[at:e]
                at = e

    def _blocks(self, epoch):
        cursor = self._plan.cursor(epoch)
        per_block = max(1, _BLOCK_ROWS // self.batch_size)
        threads = threads_from(self.n_jobs)
        while True:
            block, sizes = cursor.next_block(per_block, threads)
            if sizes.size == 0:
                return
            yield block, sizes

    def epoch_indices(self, epoch: int | None = None):
        """All of this rank's batches of an epoch at once, computed in parallel.

        Returns
        -------
        indices : ndarray of int64
            The batches one after the other.
        offsets : ndarray of int64 of length ``len(self) + 1``
            Batch ``b`` is ``indices[offsets[b]:offsets[b + 1]]``.
        """
        e = self.epoch if epoch is None else int(epoch)
        return self._plan.epoch_indices(e, threads_from(self.n_jobs))

    def composition(self) -> np.ndarray:
        """Rows of each class (columns in ``classes_`` order) in each of this rank's batches."""
        return self._plan.composition()[1].astype(np.int64)

    @property
    def rows_per_epoch(self) -> int:
        """Rows drawn per epoch over all ranks."""
        return int(self._plan.rows_per_epoch)

    @property
    def nbytes(self) -> int:
        """Memory held for the labels: 4 bytes a row (8 from 2^32 rows on)."""
        return int(self._plan.nbytes)

    # -- pickling (DataLoader workers under spawn, DDP launchers) -------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_plan"] = self._plan.parts()
        return state

    def __setstate__(self, state):
        rows, offsets = state.pop("_plan")
        self.__dict__.update(state)
        self._plan = _core.BatchPlan.from_parts(
            rows,
            offsets,
            self._weights,
            self.batch_size,
            self.num_batches,
            self.drop_last,
            self.seed,
            self.rank,
            self.world_size,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_rows={int(self.class_counts_.sum())}, "
            f"batch_size={self.batch_size}, batches={len(self)},"
            f" rank={self.rank}/{self.world_size})"
        )


_COMMON_DOC = """
    Each batch has an exact class composition, not one drawn at random: the rows of the epoch are
    apportioned cumulatively, so that after every batch each class has had the floor or the ceiling
    of its share of the rows drawn so far (a class with 0.5% of a 64-row batch gets a row every
    third batch or so, not zero in every batch). A class drawn more often than it has rows is
    cycled, reshuffled at every pass; a larger one is walked without replacement: every row of a
    class is drawn before any repeats, across epochs too. Within a batch the rows are shuffled.

    Works as ``torch.utils.data.DataLoader(dataset, batch_sampler=sampler)`` (yields lists of
    int) with ``set_epoch`` as ``DistributedSampler``; ``iter_numpy()`` yields int64 arrays for
    other loops (JAX, numpy, Keras). Neither imports torch.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        The class of every row: numpy, pandas, polars or a list. Held as 4 bytes a row.
    batch_size : int
        Rows per batch.
    num_batches : int, default=None
        Batches per epoch over all ranks; None: one pass over the largest class.
    drop_last : bool, default=False
        Drop the last, incomplete batch (and, in distributed runs, the batches that would not
        give every rank one more).
    seed : int, default=0
        Seed of the shuffles. The same (seed, epoch) gives the same batches, whatever the
        number of threads; every rank of a distributed job must use the same seed.
    rank, world_size : int, default=None
        Shard for distributed data parallel: global batch ``j`` goes to rank
        ``j % world_size``, and every rank has ``len(sampler)`` batches. None: taken from
        ``torch.distributed`` when it is initialised, else 0 and 1. Rows of a cycled class may
        appear on several ranks in one epoch; rows of walked classes do not.
    n_jobs : int, default=None
        Threads used to produce batches (None: every core).

    Attributes
    ----------
    classes_ : ndarray
        The sorted classes.
    class_counts_ : ndarray
        Rows of each class.
    proportions_ : dict
        Target share of each class in the batches.
"""


class BalancedBatchSampler(_ProportionalBatchSampler):
    __doc__ = (
        """Batches with the same number of rows of every class, or custom class proportions.
"""
        + _COMMON_DOC.replace(
            "    num_batches : int",
            """    proportions : dict or sequence, default=None
        Share of each class (a dict keyed by class, or one value per class of ``classes_``);
        None: equal shares. Shares are normalised; classes left out get none.
    num_batches : int""",
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.sampling import BalancedBatchSampler
    >>> y = np.array([0] * 90 + [1] * 10)
    >>> sampler = BalancedBatchSampler(y, batch_size=10, seed=0)
    >>> len(sampler)                      # one pass over the 90 rows of class 0
    18
    >>> [int((y[b] == 1).sum()) for b in sampler][:4]
    [5, 5, 5, 5]
"""
    )

    def __init__(
        self,
        labels,
        batch_size: int,
        *,
        proportions=None,
        num_batches: int | None = None,
        drop_last: bool = False,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        n_jobs: int | None = None,
    ):
        super().__init__(
            labels,
            batch_size,
            shares="balanced" if proportions is None else proportions,
            num_batches=num_batches,
            drop_last=drop_last,
            seed=seed,
            rank=rank,
            world_size=world_size,
            n_jobs=n_jobs,
        )


class StratifiedBatchSampler(_ProportionalBatchSampler):
    __doc__ = (
        """Batches with the class proportions of the data: every batch is a stratified sample.
"""
        + _COMMON_DOC
        + """
    With the default ``num_batches``, an epoch draws every row exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> from equipoise.sampling import StratifiedBatchSampler
    >>> y = np.array([0] * 80 + [1] * 20)
    >>> sampler = StratifiedBatchSampler(y, batch_size=10, seed=0)
    >>> [int((y[b] == 1).sum()) for b in sampler]
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
"""
    )

    def __init__(
        self,
        labels,
        batch_size: int,
        *,
        num_batches: int | None = None,
        drop_last: bool = False,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        n_jobs: int | None = None,
    ):
        super().__init__(
            labels,
            batch_size,
            shares="stratified",
            num_batches=num_batches,
            drop_last=drop_last,
            seed=seed,
            rank=rank,
            world_size=world_size,
            n_jobs=n_jobs,
        )
