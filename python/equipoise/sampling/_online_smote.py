"""Online SMOTE batches: balanced batches whose minority share is synthesised on the fly."""

from __future__ import annotations

import numbers

import numpy as np

from equipoise import _core
from equipoise.base import take_rows
from equipoise.neighbors._select import check_neighbors, self_kneighbors
from equipoise.sampling._batch import BalancedBatchSampler, as_label_array
from equipoise.utils._docstring import HNSW_EXAMPLE, Substitution
from equipoise.utils._validation import encode_labels, threads_from

__all__ = ["OnlineSMOTE"]

_GAP_BITS = 20  # gaps are multiples of 2^-20, so that a synthetic row is named by one integer


class _IndexDataset:
    """A map-style dataset whose items are their own indices: the DataLoader hands the batch's
    index list to ``OnlineSMOTE.collate``, which builds the rows."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i

    def __getitems__(self, idx):
        return list(idx)


@Substitution(hnsw_example=HNSW_EXAMPLE)
class OnlineSMOTE:
    """Balanced batches whose minority share is filled with SMOTE rows made on the fly.

    No resampled dataset is materialised: a :class:`BalancedBatchSampler` plans every batch
    (exact composition, walks without repeats, ``set_epoch``, ``rank`` / ``world_size``); each
    slot of a class that the plan cycles (a class with fewer rows than its share of the epoch,
    the minority) becomes a SMOTE row: its planned row, moved a uniform fraction ``gap`` in
    [0, 1) of the way to one of that row's ``k_neighbors`` nearest neighbours within its class
    (the neighbour graph is computed once, exactly, on the class's rows). Every row of the class
    serves as a base equally often, and the choices are drawn from (seed, batch), so a batch is
    the same whoever builds it. Gaps are multiples of 2^-20.

    With PyTorch::

        smote = OnlineSMOTE(X, y, batch_size=64, seed=0, output="torch")
        loader = DataLoader(smote.index_dataset, batch_sampler=smote, collate_fn=smote.collate,
                            num_workers=2)
        for epoch in range(10):
            smote.set_epoch(epoch)
            for xb, yb in loader: ...

    The sampler yields lists of int: a real row is its index, a synthetic row an integer
    >= ``n_samples`` that names (base row, neighbour, gap); ``collate`` turns a list into
    ``(X_batch, y_batch)``. Without a DataLoader: ``for xb, yb in smote.iter_batches(epoch)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Numeric features (float32 stays float32).
    y : array-like of shape (n_samples,)
        Labels (numpy, pandas, polars).
    batch_size : int
    k_neighbors : int, default=5
    proportions, num_batches, drop_last, seed, rank, world_size, n_jobs
        As in :class:`BalancedBatchSampler`.
    output : {'numpy', 'torch'}, default='numpy'
        What ``collate`` returns.
    neighbors : {'auto', 'exact', 'kdtree', 'hnsw'} or dict, default='auto'
        The index of the neighbour graph: 'auto', 'exact' and 'kdtree' are exact; 'hnsw' is
        approximate (slower than the exact path on every data family measured); a dict such as
        ``{hnsw_example}``
        sets HNSW's options.

    Attributes
    ----------
    sampler : BalancedBatchSampler
        The plan of the batches.
    synthetic_classes_ : list
        The classes whose slots are synthesised.
    """

    sampler: BalancedBatchSampler
    output: str

    def __init__(
        self,
        X,
        y,
        batch_size: int,
        *,
        k_neighbors: int = 5,
        proportions=None,
        num_batches: int | None = None,
        drop_last: bool = False,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        n_jobs: int | None = None,
        output: str = "numpy",
        neighbors="auto",
    ):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        if X.dtype not in (np.float32, np.float64) or not X.dtype.isnative:
            X = X.astype(np.float64)
        X = np.ascontiguousarray(X)
        yy = as_label_array(y)
        if yy.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows, y has {yy.shape[0]}")
        if not isinstance(k_neighbors, numbers.Integral) or k_neighbors < 1:
            raise ValueError(f"k_neighbors must be an int >= 1, got {k_neighbors!r}")
        if output not in ("numpy", "torch"):
            raise ValueError(f"output must be 'numpy' or 'torch', got {output!r}")
        spec = check_neighbors(neighbors)
        threads = threads_from(n_jobs)
        _core.check_finite(X, threads)
        self.sampler = BalancedBatchSampler(
            yy,
            batch_size,
            proportions=proportions,
            num_batches=num_batches,
            drop_last=drop_last,
            seed=seed,
            rank=rank,
            world_size=world_size,
            n_jobs=n_jobs,
        )
        classes, codes, counts = encode_labels(yy, threads)
        n = X.shape[0]
        k = int(k_neighbors)
        if n * k >= 1 << (62 - _GAP_BITS):
            raise ValueError("too many rows for online SMOTE's row names")
        draws = self.sampler._plan.draws_per_epoch
        grown = [c for c in range(len(classes)) if draws[c] > counts[c]]
        self._class_of = codes.astype(np.int32)
        self._local = np.full(n, -1, dtype=np.int64)
        self._rows = {}
        self._graph = {}
        for c in grown:
            rows = np.flatnonzero(codes == c)
            if rows.size < k + 1:
                raise ValueError(
                    f"class {classes[c]!r} has {rows.size} rows, fewer than k_neighbors + 1 ="
                    f" {k + 1} needed to synthesise its rows"
                )
            if spec.exact:
                _, nn = _core.kneighbors(X[rows], k, algorithm="exact", n_threads=threads)
            else:
                nn = self_kneighbors(X[rows], k, spec, n_jobs=n_jobs)
            self._rows[c] = rows
            self._graph[c] = rows[nn]  # row numbers of the k neighbours of each class row
            self._local[rows] = np.arange(rows.size)
        self.X, self.y = X, yy
        self.k_neighbors = k
        self.seed = self.sampler.seed
        self.output = output
        self.n_jobs = n_jobs
        self.neighbors = neighbors
        self.synthetic_classes_ = [classes.tolist()[c] for c in grown]
        self._grown = np.zeros(len(classes), dtype=bool)
        self._grown[grown] = True
        self.index_dataset = _IndexDataset(n)

    # -- the batch sampler ---------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.sampler)

    def _encoded(self, epoch):
        s = self.sampler
        n, k = self.X.shape[0], self.k_neighbors
        g = s._plan.global_batches
        for b, idx in enumerate(s.iter_numpy(epoch)):
            j = s.rank + b * s.world_size
            cls = self._class_of[idx]
            out = idx.copy()
            for c in np.flatnonzero(self._grown):
                at = np.flatnonzero(cls == c)
                if at.size == 0:
                    continue
                slots, gaps = _core.online_smote_draws(self.seed, int(c), epoch * g + j, at.size, k)
                gq = (gaps * (1 << _GAP_BITS)).astype(np.int64)
                out[at] = n + (((idx[at] * k + slots) << _GAP_BITS) | gq)
            yield out

    def __iter__(self):
        """This rank's batches of the current epoch, as lists of int (see the class doc)."""
        for out in self._encoded(self.sampler.epoch):
            yield out.tolist()

    # -- building rows -------------------------------------------------------------------------
    def collate(self, indices):
        """``(X_batch, y_batch)`` of a list of (real or synthetic) row names."""
        e = np.asarray(indices, dtype=np.int64)
        n, k = self.X.shape[0], self.k_neighbors
        syn = e >= n
        code = e[syn] - n
        base = (code >> _GAP_BITS) // k
        slot = (code >> _GAP_BITS) % k
        gap = (code & ((1 << _GAP_BITS) - 1)) / float(1 << _GAP_BITS)
        rows = np.where(syn, 0, e)
        rows[syn] = base
        threads = threads_from(self.n_jobs)
        xb = take_rows(self.X, rows, threads)
        if syn.any():
            cls = self._class_of[base]
            nb = np.empty(base.size, dtype=np.int64)
            for c in np.unique(cls):
                m = cls == c
                nb[m] = self._graph[int(c)][self._local[base[m]], slot[m]]
            a = xb[syn].astype(np.float64)
            other = take_rows(self.X, nb, threads).astype(np.float64)
            xb[syn] = (a + gap[:, None] * (other - a)).astype(xb.dtype)
        yb = self.y[rows]
        if self.output == "torch":
            import torch

            return torch.from_numpy(xb), torch.from_numpy(np.asarray(yb))
        return xb, yb

    def iter_batches(self, epoch: int | None = None):
        """``(X_batch, y_batch)`` numpy pairs of an epoch (default: the current one)."""
        e = self.sampler.epoch if epoch is None else int(epoch)
        out = self.output
        self.output = "numpy"
        try:
            for idx in self._encoded(e):
                yield self.collate(idx)
        finally:
            self.output = out
