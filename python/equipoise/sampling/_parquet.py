"""Balanced batches streamed from a Parquet dataset larger than memory."""

from __future__ import annotations

import numbers

import numpy as np

from equipoise import _core
from equipoise.sampling._batch import _integer_weights, _ProportionalBatchSampler

__all__ = ["ParquetBalancedBatches"]


class ParquetBalancedBatches:
    """Balanced (or stratified, or custom) batches of feature rows from a Parquet file, read one
    row group at a time, with bounded memory.

    Construction reads the label column once (one row group at a time), and keeps the rows of
    the *cycled* classes (those drawn more often per epoch than they have rows: the minority) in
    memory, since every batch needs them; their size is the minority's, not the file's. The
    other classes are streamed: each epoch visits the row groups in a shuffled order (seeded by
    (seed, epoch)), holding at most ``max_row_groups`` of them, and draws their rows in a
    shuffled order, oldest group first, each at most once per visit. A group leaves the window
    when its streamed rows are drawn; if the window is full before that (several streamed
    classes consumed at different rates), the oldest group leaves and its undrawn rows wait for
    another epoch. With one streamed class (balanced binary data) no row is dropped and none
    repeats within an epoch. Every batch has the exact composition of
    :class:`BalancedBatchSampler` (cumulative floor or ceiling of each class's share).

    Parameters
    ----------
    source : str, path or pyarrow.parquet.ParquetFile
    label : str
        Name of the label column.
    batch_size : int
    features : list of str, default=None
        Feature columns (numeric); None: every column but the label.
    proportions : 'balanced', 'stratified', dict or sequence, default='balanced'
    num_batches : int, default=None
        Batches per epoch; None: one pass over the largest class.
    max_row_groups : int, default=4
        Row groups held at once (the memory bound of the streamed classes).
    seed : int, default=0
    dtype : numpy dtype, default=float32

    Attributes
    ----------
    classes_, class_counts_, proportions_
    row_group_reads_ : int
        Row groups read so far (label pass and feature reads).
    max_row_groups_held_ : int
        Largest number of row groups held at once so far.
    cached_classes_, streamed_classes_ : list
        Classes held in memory (cycled) and classes streamed.
    """

    epoch: int
    _n_batches: int
    _plan: np.ndarray

    def __init__(
        self,
        source,
        label: str,
        batch_size: int,
        *,
        features=None,
        proportions="balanced",
        num_batches: int | None = None,
        max_row_groups: int = 4,
        seed: int = 0,
        dtype=np.float32,
    ):
        import pyarrow.parquet as pq

        self._pf = source if isinstance(source, pq.ParquetFile) else pq.ParquetFile(source)
        names = self._pf.schema_arrow.names
        if label not in names:
            raise ValueError(f"no column {label!r} in the Parquet file; columns: {names}")
        self.features = [c for c in names if c != label] if features is None else list(features)
        missing = [c for c in self.features if c not in names]
        if missing:
            raise ValueError(f"feature columns {missing} are not in the Parquet file")
        if not isinstance(max_row_groups, numbers.Integral) or max_row_groups < 1:
            raise ValueError(f"max_row_groups must be an int >= 1, got {max_row_groups!r}")
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.label, self.batch_size = label, int(batch_size)
        self.max_row_groups, self.seed, self.dtype = int(max_row_groups), int(seed), dtype
        self.epoch = 0
        self.row_group_reads_ = 0
        self.max_row_groups_held_ = 0
        n_groups = self._pf.num_row_groups
        # Label pass, one row group at a time: only each group's class counts are kept.
        per_group = []
        for g in range(n_groups):
            u, c = np.unique(self._read(g, [label])[label].to_numpy(), return_counts=True)
            per_group.append((u, c))
        classes = np.unique(np.concatenate([u for u, _ in per_group]))
        self.classes_ = classes
        group_counts = np.zeros((n_groups, classes.size), dtype=np.int64)
        for g, (u, c) in enumerate(per_group):
            group_counts[g, np.searchsorted(classes, u)] = c
        del per_group
        counts = group_counts.sum(0)
        self.class_counts_ = counts
        shares = _ProportionalBatchSampler._shares(proportions, classes, counts)
        self._weights = _integer_weights(shares)
        total = sum(self._weights)
        self.proportions_ = {c: w / total for c, w in zip(classes.tolist(), self._weights)}
        if num_batches is None:
            big = max(
                (c for c in range(classes.size) if self._weights[c] > 0), key=counts.__getitem__
            )
            rows = -(-int(counts[big]) * total // self._weights[big])
        else:
            rows = int(num_batches) * self.batch_size
        self.rows_per_epoch = rows
        self._n_batches = -(-rows // self.batch_size)
        self._plan = _core.apportion_batches(self._weights, self.batch_size, self._n_batches, rows)
        draws = self._plan.sum(0)
        empty = [classes[c] for c in range(classes.size) if draws[c] > 0 and counts[c] == 0]
        if empty:
            raise ValueError(f"classes {empty} have a share but no rows")
        self._cycled = [c for c in range(classes.size) if draws[c] > counts[c]]
        self._streamed = [c for c in range(classes.size) if draws[c] and c not in self._cycled]
        self.cached_classes_ = [classes.tolist()[c] for c in self._cycled]
        self.streamed_classes_ = [classes.tolist()[c] for c in self._streamed]
        self._group_counts = group_counts
        # Cache of the cycled classes' rows (features), read once.
        parts = {c: [] for c in self._cycled}
        if self._cycled:
            for g in range(n_groups):
                if group_counts[g, self._cycled].sum() == 0:
                    continue
                X, codes = self._features(g)
                for c in self._cycled:
                    parts[c].append(X[codes == c])
        self._cache = {
            c: np.concatenate(parts[c]) if parts[c] else np.empty((0, len(self.features)))
            for c in self._cycled
        }

    def _read(self, g, columns):
        self.row_group_reads_ += 1
        return self._pf.read_row_group(g, columns=columns)

    def _features(self, g):
        t = self._read(g, [*self.features, self.label])
        X = np.column_stack([t[c].to_numpy().astype(self.dtype) for c in self.features])
        codes = np.searchsorted(self.classes_, t[self.label].to_numpy())
        return X, codes

    def set_epoch(self, epoch: int) -> None:
        if not isinstance(epoch, numbers.Integral) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self._n_batches

    def composition(self) -> np.ndarray:
        """Rows of each class (columns in ``classes_`` order) in each batch."""
        return self._plan.astype(np.int64)

    def __iter__(self):
        """``(X_batch, y_batch)`` numpy pairs of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        n_groups = self._pf.num_row_groups
        # Cycled classes: shuffled passes over the cached rows.
        cyc_order = {c: rng.permutation(len(self._cache[c])) for c in self._cycled}
        cyc_pos = dict.fromkeys(self._cycled, 0)
        # Streamed classes: pools of rows from the row groups held.
        held: list[int] = []  # row groups held, oldest first
        pool_x = {c: [] for c in self._streamed}  # list of (group, rows) per class
        order = list(rng.permutation(n_groups))
        k = len(self.classes_)

        def available(c):
            return sum(len(x) for _, x in pool_x[c])

        def load():
            nonlocal order
            if not order:
                order = list(rng.permutation(n_groups))
            g = order.pop(0)
            # Groups whose streamed rows are all drawn leave first; when the window is still
            # full, the oldest leaves with its rows (another class's surplus) dropped.
            live = {h for c in self._streamed for h, x in pool_x[c] if len(x)}
            held[:] = [h for h in held if h in live]
            if len(held) == self.max_row_groups:
                old = held.pop(0)
                for c in self._streamed:
                    pool_x[c] = [(h, x) for h, x in pool_x[c] if h != old]
            X, codes = self._features(g)
            held.append(g)
            self.max_row_groups_held_ = max(self.max_row_groups_held_, len(held))
            for c in self._streamed:
                rows = X[codes == c]
                pool_x[c].append((g, rows[rng.permutation(len(rows))]))

        def take(c, m):
            # Oldest group first (rows within a group are shuffled), so that a group is used up
            # before the next one is needed and nothing is dropped when it leaves.
            out = []
            while m:
                g, x = pool_x[c][0]
                t = min(m, len(x))
                out.append(x[:t])
                if t == len(x):
                    pool_x[c].pop(0)
                else:
                    pool_x[c][0] = (g, x[t:])
                m -= t
            return out

        for b in range(self._n_batches):
            need = self._plan[b]
            for c in self._streamed:
                guard = 0
                while available(c) < need[c]:
                    load()
                    guard += 1
                    if guard > 2 * n_groups + self.max_row_groups:
                        raise ValueError(
                            f"class {self.classes_[c]!r} needs {need[c]} rows in one batch but"
                            f" {self.max_row_groups} row groups never hold that many;"
                            " raise max_row_groups"
                        )
            xs, ys = [], []
            for c in range(k):
                m = int(need[c])
                if m == 0:
                    continue
                if c in cyc_pos:
                    cache = self._cache[c]
                    got = []
                    while m:
                        if cyc_pos[c] == len(cache):
                            cyc_order[c] = rng.permutation(len(cache))
                            cyc_pos[c] = 0
                        t = min(m, len(cache) - cyc_pos[c])
                        got.append(cache[cyc_order[c][cyc_pos[c] : cyc_pos[c] + t]])
                        cyc_pos[c] += t
                        m -= t
                    xs.extend(got)
                else:
                    xs.extend(take(c, m))
                ys.append(np.full(int(need[c]), c))
            X = np.concatenate(xs)
            y = self.classes_[np.concatenate(ys)]
            perm = rng.permutation(len(y))
            yield X[perm], y[perm]
