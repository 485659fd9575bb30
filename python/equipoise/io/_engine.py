"""The streaming engine: a chain of samplers over a table too large for memory.

See ``docs/design.md`` ("Out of core") for the decomposition and why the answer equals the
in-memory estimators'. In short:

* one pass reads the label column only: class counts, row count, null labels;
* random under-sampling is decided from the counts alone (the core draws positions within a class
  from its count and the seed), so it needs no feature read;
* every class but the largest ("held" classes: the minority side) is gathered in memory; the
  largest class is streamed in chunks, unless what remains of it fits in the memory limit, when it
  is gathered too and the rest of the chain runs in memory with the ordinary estimators;
* over-samplers need only the grown classes' rows (SMOTE, RandomOverSampler) or those rows and their
  nearest neighbours over all data (BorderlineSMOTE, ADASYN): the same estimator then runs in memory
  on that reduced set, with the targets computed from the full class counts;
* cleaners (EditedNearestNeighbours, TomekLinks) bound each streamed row's neighbourhood inside its
  chunk: the k-th neighbour distance within a chunk is never below the true one, so a row whose
  nearest held row is farther keeps only same-class neighbours and is settled as kept. The few
  other rows, and the held rows, get their exact neighbours by a pass over every chunk, and the
  same estimator decides them in memory on the set of those rows and their neighbours.

Rows are identified by their position in the current (in-memory-equivalent) dataset; ties between
equal distances rank by that position, as the in-memory engine ranks them by row index.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone

from equipoise import _core
from equipoise._chunk_knn import NO_POSITION, KnnAccumulator, settled_beside
from equipoise.io._source import Source, _pa, feature_matrix
from equipoise.io._write import AtomicTarget
from equipoise.neighbors._select import check_neighbors
from equipoise.utils._validation import check_sampling_strategy, seed_from

__all__ = ["resample_parquet", "parse_memory", "StreamReport"]

# Bytes per input row of the engine's own bookkeeping: class code (4) and position (8).
BOOKKEEPING_BYTES = 12


def _pc():
    _pa()
    import pyarrow.compute as pc

    return pc


def parse_memory(value) -> int:
    """``"8GB"``, ``"512MiB"``, ``"2.5G"`` or a number of bytes, as bytes."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"memory_limit must be positive, got {value}")
        return int(value)
    if not isinstance(value, str):
        raise TypeError(
            f"memory_limit must be a string like '8GB' or a number of bytes, got {value!r}"
        )
    s = value.strip().upper().replace(" ", "")
    units = {
        "TIB": 1 << 40, "GIB": 1 << 30, "MIB": 1 << 20, "KIB": 1 << 10,
        "TB": 10**12, "GB": 10**9, "MB": 10**6, "KB": 10**3,
        "T": 1 << 40, "G": 1 << 30, "M": 1 << 20, "K": 1 << 10, "B": 1,
    }  # fmt: skip
    num, mult = s, 1
    for unit, size in units.items():
        if s.endswith(unit):
            num, mult = s[: -len(unit)], size
            break
    try:
        out = float(num) * mult
    except ValueError:
        raise ValueError(
            f"cannot read memory_limit {value!r}; write e.g. '8GB' or '512MiB'"
        ) from None
    if not math.isfinite(out) or out <= 0:
        raise ValueError(f"memory_limit must be positive, got {value!r}")
    return int(out)


def default_memory_limit() -> int:
    """Half of the memory available now (``MemAvailable``), or 4 GiB where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    return 4 << 30


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


@dataclass
class StreamReport:
    """What a run did: class counts before and after, rows written, seconds per phase."""

    classes: list
    counts_before: list[int]
    counts_after: list[int] = field(default_factory=list)
    rows_written: int = 0
    made_rows: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    passthrough: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    estimated_bytes: int = 0
    memory_limit: int = 0
    streamed_class: object = None
    in_memory_from_step: int | None = None


# -- steps ------------------------------------------------------------------------------------

_RANDOM_UNDER = "RandomUnderSampler"
_RANDOM_OVER = "RandomOverSampler"
_SMOTENC = "SMOTENC"
_SMOTE_LIKE = ("SMOTE", "BorderlineSMOTE", "ADASYN", _SMOTENC)
_CLEANERS = ("EditedNearestNeighbours", "TomekLinks")
_COMBINED = ("SMOTEENN", "SMOTETomek")
SUPPORTED = (_RANDOM_UNDER, _RANDOM_OVER) + _SMOTE_LIKE + _CLEANERS + _COMBINED


def _kind(est) -> str:
    for cls in type(est).__mro__:
        if cls.__name__ in SUPPORTED:
            return cls.__name__
    raise TypeError(
        f"{type(est).__name__} is not supported by the streaming engine; it takes"
        f" {', '.join(SUPPORTED)}"
    )


def expand_steps(steps) -> list:
    """The chain as atomic steps: SMOTEENN/SMOTETomek become their SMOTE and their cleaner."""
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError("steps must be a non-empty list of samplers")
    out = []
    for est in steps:
        if not hasattr(est, "fit_resample"):
            raise TypeError(f"every step must be a sampler with fit_resample; got {est!r}")
        kind = _kind(est)
        if kind in _COMBINED:
            c = clone(est)
            c._validate_params()
            cleaner = c._validate_estimator()
            out += [c.smote_, cleaner]
        else:
            out.append(clone(est))
    for est in out:
        kind = _kind(est)
        if kind == _RANDOM_UNDER and est.replacement:
            raise ValueError(
                "RandomUnderSampler(replacement=True) repeats rows; the streaming engine keeps"
                " each input row at most once: use replacement=False"
            )
        if kind in _CLEANERS + _SMOTE_LIKE:
            _neighbour_counts(est)  # refuses neighbour objects it cannot reproduce
    return out


def _with_neighbors(steps: list, neighbors) -> list:
    """The run's ``neighbors`` on each (cloned) step whose own is ``'auto'``."""
    if isinstance(neighbors, str) and neighbors == "auto":
        return steps
    for est in steps:
        own = est.get_params(deep=False).get("neighbors")
        if isinstance(own, str) and own == "auto":
            est.set_params(neighbors=neighbors)
    return steps


def _as_k(value, name: str, est) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    metric = getattr(value, "metric", "minkowski")
    p = getattr(value, "p", 2)
    if metric in ("euclidean", "l2") or (metric == "minkowski" and p == 2):
        return int(value.n_neighbors) - 1 if name != "n_neighbors_enn" else int(value.n_neighbors)
    raise ValueError(
        f"{type(est).__name__}({name}={value!r}): the streaming engine searches Euclidean"
        " neighbours only"
    )


def _neighbour_counts(est) -> int:
    """How many nearest rows (the row itself included) over all data decide the step's rows."""
    kind = _kind(est)
    if kind == "EditedNearestNeighbours":
        return _as_k(est.n_neighbors, "n_neighbors_enn", est) + 1
    if kind == "TomekLinks":
        return 2
    if kind == "BorderlineSMOTE":
        return (
            max(
                _as_k(est.m_neighbors, "m_neighbors", est),
                _as_k(est.k_neighbors, "k_neighbors", est),
            )
            + 1
        )
    if kind == "ADASYN":
        return _as_k(est.n_neighbors, "n_neighbors", est) + 1
    if kind in ("SMOTE", _SMOTENC):
        return _as_k(est.k_neighbors, "k_neighbors", est) + 1
    return 0


def categorical_columns(steps) -> list[str]:
    """The categorical feature columns the chain's SMOTENC steps name (every such step must name
    the same columns, by name: the streaming engine reads a table, not a matrix)."""
    named = None
    for est in steps:
        if _kind(est) != _SMOTENC:
            continue
        cf = est.categorical_features
        if isinstance(cf, str) or not all(isinstance(c, str) for c in np.atleast_1d(cf)):
            raise ValueError(
                f"SMOTENC(categorical_features={cf!r}): the streaming engine takes the"
                " categorical columns by name, e.g. categorical_features=['merchant']"
            )
        cols = [str(c) for c in np.atleast_1d(cf)]
        if named is not None and cols != named:
            raise ValueError(
                f"every SMOTENC step must name the same categorical columns; got {named} and {cols}"
            )
        named = cols
    return named or []


def _sampling_type(est) -> str:
    return est._sampling_type


# -- the run ----------------------------------------------------------------------------------


class _Progress:
    """tqdm bars on stderr, silent when stderr is not a terminal or when asked."""

    def __init__(self, enabled):
        self.enabled = enabled

    def bar(self, total, desc):
        from tqdm.auto import tqdm

        disable = None if self.enabled is None else not self.enabled
        return tqdm(
            total=total, desc=desc, unit="rows", unit_scale=True, file=sys.stderr,
            disable=disable, leave=False, mininterval=0.5,
        )  # fmt: skip


class _Run:
    def __init__(self, source: Source, label: str, features: list[str], dtype, memory: int,
                 batch_rows: int, n_jobs, progress: _Progress,
                 categorical=()):  # fmt: skip
        self.src = source
        # Categorical feature columns, held as codes into their sorted categories (found by the
        # label pass), so that a code's order is its category's, as the in-memory SMOTENC orders
        # them.
        self.categorical = list(categorical)
        self.categories: dict[str, Any] = {}
        # SMOTE's new rows' segments for the next step, a cleaner: (first new row, pairs).
        self.segments: tuple[int, np.ndarray] | None = None
        self.label = label
        self.features = features
        self.dtype = np.dtype(dtype)
        self.memory = memory
        self.batch_rows = batch_rows
        self.n_jobs = n_jobs
        self.progress = progress
        self.phases: dict[str, float] = {}
        self.n_features = len(features)
        self.row_bytes = self.n_features * self.dtype.itemsize

    # -- pass 1: labels ------------------------------------------------------------------------
    def read_labels(self) -> None:
        t0 = time.perf_counter()
        pa = _pa()
        ids: dict = {}
        chunks = []
        total = self.src.n_rows
        seen: dict[str, list] = {c: [] for c in self.categorical}
        with self.progress.bar(total, "labels") as bar:
            for start, batch in self.src.batches([self.label] + self.categorical, self.batch_rows):
                for j, name in enumerate(self.categorical):
                    seen[name].append(self._categories_of(batch.column(j + 1), name, start))
                arr = batch.column(0)
                if arr.null_count:
                    bad = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
                    raise ValueError(
                        f"the label column {self.label!r} is null in"
                        f" {self.src.locate(start + bad)}: every row needs a class"
                    )
                if pa.types.is_dictionary(arr.type):
                    arr = arr.cast(arr.type.value_type)
                enc = arr.dictionary_encode()
                values = enc.dictionary.to_pylist()
                lut = np.empty(len(values), dtype=np.uint32)
                for j, v in enumerate(values):
                    lut[j] = ids.setdefault(v, len(ids))
                chunks.append(lut[np.asarray(enc.indices)])
                bar.update(batch.num_rows)
        first_seen = np.concatenate(chunks) if chunks else np.empty(0, np.uint32)
        labels = list(ids)
        if len(labels) == 0:
            raise ValueError("the input has no rows")
        label_type = self.src.schema.field(self.label).type
        if pa.types.is_dictionary(label_type):
            label_type = label_type.value_type
        classes = pa.array(labels, type=label_type).to_numpy(zero_copy_only=False)
        order = np.argsort(classes, kind="stable")
        remap = np.empty(len(labels), dtype=np.uint32)
        remap[order] = np.arange(len(labels), dtype=np.uint32)
        self.classes = classes[order]
        self.label_type = label_type
        for name, parts in seen.items():
            values = _pc().unique(pa.chunked_array(parts))
            self.categories[name] = values.take(_pc().sort_indices(values))
            if self.dtype == np.float32 and len(values) > 1 << 24:
                raise ValueError(
                    f"the categorical column {name!r} has {len(values)} categories; float32"
                    " features hold category codes exactly up to 2^24: pass float64 features"
                )
        self.codes = remap[first_seen]
        self.counts = np.bincount(self.codes, minlength=len(labels)).astype(np.int64)
        self.n_rows = int(self.codes.size)
        if len(self.classes) < 2:
            raise ValueError(
                f"the label column {self.label!r} holds a single class ({self.classes[0]!r}):"
                " resampling needs at least two"
            )
        # Position of each input row in the current dataset (-1: dropped).
        self.pos = np.arange(self.n_rows, dtype=np.int64)
        self.n_cur = self.n_rows
        self.cur_counts = self.counts.copy()
        self.big = int(np.argmax(self.counts))  # the streamed class
        # Rows in memory: features, class code, position, input row (-1: made by a step).
        self.mem_X = np.empty((0, self.n_features), dtype=self.dtype)
        self.mem_code = np.empty(0, dtype=np.uint32)
        self.mem_pos = np.empty(0, dtype=np.int64)
        self.mem_gid = np.empty(0, dtype=np.int64)
        self.held_loaded = False
        self.all_in_memory = False
        self.phases["labels"] = time.perf_counter() - t0

    def _categories_of(self, arr, name, start):
        """The distinct values of a batch's categorical column (refusing nulls)."""
        pa = _pa()
        if arr.null_count:
            bad = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
            raise ValueError(
                f"the categorical column {name!r} is null in {self.src.locate(start + bad)}:"
                " SMOTENC needs a category in every row"
            )
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        return _pc().unique(arr)

    def _coded(self, batch):
        """``batch`` with its categorical columns replaced by their category codes."""
        if not self.categorical:
            return batch
        pa = _pa()
        cols, names = [], []
        for name in self.features:
            arr = batch.column(batch.schema.get_field_index(name))
            if name in self.categories:
                if pa.types.is_dictionary(arr.type):
                    arr = arr.cast(arr.type.value_type)
                arr = _pc().index_in(arr, value_set=self.categories[name]).cast(pa.float64())
            cols.append(arr)
            names.append(name)
        return pa.RecordBatch.from_arrays(cols, names=names)

    def decoded(self, name, codes: np.ndarray, type_):
        """Made rows' category codes of column ``name`` as its values, in the column's type."""
        pa = _pa()
        values = self.categories[name].take(pa.array(codes.astype(np.int64)))
        if pa.types.is_dictionary(type_):
            return values.dictionary_encode().cast(type_)
        return values.cast(type_)

    # -- reading rows --------------------------------------------------------------------------
    def _read_rows(self, wanted, desc):
        """Yield ``(input_ids, X)`` for the input rows where ``wanted(ids_of_batch)`` is true, a
        batch at a time (``ids`` ascending)."""
        pa = _pa()
        with self.progress.bar(self.n_rows, desc) as bar:
            for start, batch in self.src.batches(self.features, self.batch_rows):
                n = batch.num_rows
                ids = np.arange(start, start + n, dtype=np.int64)
                mask = wanted(ids)
                if mask.any():
                    sel = ids[mask]
                    sub = batch.filter(pa.array(mask)) if not mask.all() else batch
                    sub = self._coded(sub)
                    yield sel, feature_matrix(sub, self.features, self.dtype, self.src, sel)
                bar.update(n)

    def load_held(self) -> None:
        """Gather the rows of every class but the streamed one (kept by the steps so far)."""
        if self.held_loaded:
            return
        t0 = time.perf_counter()
        codes, pos, big = self.codes, self.pos, self.big
        parts, gids = [], []
        for ids, X in self._read_rows(
            lambda ids: (codes[ids] != big) & (pos[ids] >= 0), "minority"
        ):
            parts.append(X)
            gids.append(ids)
        self._append_mem(parts, gids)
        self.held_loaded = True
        self.phases["gather minority"] = (
            self.phases.get("gather minority", 0) + time.perf_counter() - t0
        )

    def _append_mem(self, parts, gids) -> None:
        if not parts:
            return
        gid = np.concatenate(gids)
        X = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.mem_X = np.concatenate([self.mem_X, X]) if self.mem_X.size else X
        self.mem_gid = np.concatenate([self.mem_gid, gid])
        self.mem_code = np.concatenate([self.mem_code, self.codes[gid]])
        self.mem_pos = np.concatenate([self.mem_pos, self.pos[gid]])
        self._sort_mem()

    def _sort_mem(self) -> None:
        order = np.argsort(self.mem_pos, kind="stable")
        if not np.array_equal(order, np.arange(order.size)):
            self.mem_X = self.mem_X[order]
            self.mem_code = self.mem_code[order]
            self.mem_pos = self.mem_pos[order]
            self.mem_gid = self.mem_gid[order]

    def streamed_ids(self) -> np.ndarray:
        """Input rows of the streamed class still in the dataset, not in memory."""
        if self.all_in_memory:
            return np.empty(0, np.int64)
        return np.flatnonzero((self.codes == self.big) & (self.pos >= 0))

    def stream_chunks(self, desc, chunk_rows):
        """The streamed rows in chunks of about ``chunk_rows``, each sorted by position:
        ``(positions, input_ids, X)``."""
        codes, pos, big = self.codes, self.pos, self.big
        buf_ids, buf_X, held = [], [], 0

        def flush():
            ids = np.concatenate(buf_ids)
            X = np.concatenate(buf_X) if len(buf_X) > 1 else buf_X[0]
            p = self.pos[ids]
            order = np.argsort(p, kind="stable")
            return p[order], ids[order], np.ascontiguousarray(X[order])

        for ids, X in self._read_rows(lambda ids: (codes[ids] == big) & (pos[ids] >= 0), desc):
            buf_ids.append(ids)
            buf_X.append(X)
            held += ids.size
            if held >= chunk_rows:
                yield flush()
                buf_ids, buf_X, held = [], [], 0
        if held:
            yield flush()

    def gather_all(self) -> None:
        """Gather the streamed class too: the rest of the chain runs in memory."""
        self.load_held()
        t0 = time.perf_counter()
        codes, pos, big = self.codes, self.pos, self.big
        parts, gids = [], []
        for ids, X in self._read_rows(lambda ids: (codes[ids] == big) & (pos[ids] >= 0), "gather"):
            parts.append(X)
            gids.append(ids)
        self._append_mem(parts, gids)
        self.all_in_memory = True
        self.phases["gather all"] = time.perf_counter() - t0

    # -- sizes ---------------------------------------------------------------------------------
    def chunk_rows(self, most: int = 1 << 16, copies: int = 4) -> int:
        free = self.memory - self.n_rows * BOOKKEEPING_BYTES - self.mem_X.nbytes * 2
        # A chunk, its neighbour lists and the reader's batch: about 4 copies of its rows.
        rows = free // max(1, copies * self.row_bytes + 64)
        return int(max(256, min(rows, most)))

    def fits_in_memory(self, extra_rows: int) -> bool:
        # The rows, the estimator's output and its scratch (neighbour lists, an index).
        need = self.n_rows * BOOKKEEPING_BYTES + 4 * (self.n_cur + extra_rows) * self.row_bytes
        return need <= self.memory

    # -- labels of rows ------------------------------------------------------------------------
    def labels_of(self, codes) -> np.ndarray:
        return self.classes[codes]

    # -- applying a row selection --------------------------------------------------------------
    def apply_order(self, new_of_old: np.ndarray, n_new: int) -> None:
        """``new_of_old[p]``: the new position of the row at position ``p`` (-1: removed)."""
        kept = self.pos >= 0
        self.pos[kept] = new_of_old[self.pos[kept]]
        mp = new_of_old[self.mem_pos]
        keep = mp >= 0
        self.mem_X, self.mem_code, self.mem_gid = (
            self.mem_X[keep],
            self.mem_code[keep],
            self.mem_gid[keep],
        )
        self.mem_pos = mp[keep]
        self.n_cur = n_new
        self._recount()
        self._sort_mem()

    def _recount(self) -> None:
        counts = np.bincount(self.codes[self.pos >= 0], minlength=len(self.classes))
        made = self.mem_gid < 0
        counts += np.bincount(self.mem_code[made], minlength=len(self.classes))
        self.cur_counts = counts.astype(np.int64)

    def append_made(self, X, codes) -> None:
        n = X.shape[0]
        if n == 0:
            return
        self.mem_X = np.concatenate([self.mem_X, X.astype(self.dtype, copy=False)])
        self.mem_code = np.concatenate([self.mem_code, codes.astype(np.uint32)])
        self.mem_pos = np.concatenate([self.mem_pos, np.arange(self.n_cur, self.n_cur + n)])
        self.mem_gid = np.concatenate([self.mem_gid, np.full(n, -1, np.int64)])
        self.n_cur += n
        self._recount()

    # -- one step in memory --------------------------------------------------------------------
    def run_in_memory(self, est, X, codes, pos) -> tuple[np.ndarray, Any, Any]:
        """Run ``est`` on rows ``X`` (sorted by ``pos``); return ``(selected, made_X, made_codes)``
        where ``selected`` are indices into ``X`` in output order."""
        y = self.labels_of(codes)
        X_res, y_res = est.fit_resample(X, y)
        idx = getattr(est, "sample_indices_", None)
        if idx is not None and _kind(est) != _RANDOM_OVER:
            return np.asarray(idx, dtype=np.int64), None, None
        n = X.shape[0]
        return np.arange(n), np.asarray(X_res[n:]), self._codes_of(y_res[n:])

    def _codes_of(self, y) -> np.ndarray:
        return np.searchsorted(self.classes, y).astype(np.uint32)

    def on_matrix(self, est):
        """``est`` for the held matrix: a SMOTENC names its categorical columns by position."""
        if _kind(est) != _SMOTENC:
            return est
        cols = [self.features.index(c) for c in self.categorical]
        return clone(est).set_params(categorical_features=cols)

    def step_all_in_memory(self, est, next_cleans: bool = False) -> None:
        """Run ``est`` on every row, in memory. A SMOTE followed by a cleaner records its new
        rows' segments and hands them to that cleaner, as SMOTEENN and SMOTETomek do in memory
        (``docs/design.md``, "SMOTE's segments"): the same rows kept, fewer searches. The rows of
        ``mem_X`` are in position order, so SMOTE's output is the cleaner's input row for row."""
        est = self.on_matrix(est)
        kind = _kind(est)
        record = next_cleans and kind == "SMOTE"
        if record:
            est._record_segments = True
        if kind in _CLEANERS and self.segments is not None:
            est._segments = self.segments
        n_in = self.mem_X.shape[0]
        try:
            sel, made_X, made_codes = self.run_in_memory(
                est, self.mem_X, self.mem_code, self.mem_pos
            )
        finally:
            est.__dict__.pop("_segments", None)
            est.__dict__.pop("_record_segments", None)
        self.segments = None
        segments = est.__dict__.pop("_segments_", None)
        if record and segments is not None:
            self.segments = (n_in, segments)
        new_of_old = np.full(self.n_cur, -1, dtype=np.int64)
        new_of_old[self.mem_pos[sel]] = np.arange(sel.size)
        self.apply_order(new_of_old, sel.size)
        if made_X is not None:
            self.append_made(made_X, made_codes)

    # -- random under-sampling from the counts -------------------------------------------------
    def step_random_under(self, est) -> None:
        strategy = check_sampling_strategy(
            est.sampling_strategy,
            None,
            "under-sampling",
            classes=self.classes,
            counts=self.cur_counts,
        )
        targets: list[int | None] = [None] * len(self.classes)
        for cls, n in strategy.items():
            targets[int(np.searchsorted(self.classes, cls))] = int(n)
        codes_cur = self.current_codes()
        idx = _core.random_under_sample_indices(
            codes_cur, len(self.classes), targets, False, seed_from(est.random_state)
        )
        idx = np.asarray(idx, dtype=np.int64)
        est.sampling_strategy_ = strategy
        new_of_old = np.full(self.n_cur, -1, dtype=np.int64)
        new_of_old[idx] = np.arange(idx.size)
        self.apply_order(new_of_old, idx.size)

    def current_codes(self) -> np.ndarray:
        out = np.empty(self.n_cur, dtype=np.uint32)
        kept = self.pos >= 0
        out[self.pos[kept]] = self.codes[kept]
        made = self.mem_gid < 0
        out[self.mem_pos[made]] = self.mem_code[made]
        return out

    # -- exact neighbours of in-memory queries over every row ----------------------------------
    def knn_all(self, Q, k, desc):
        """The ``k`` nearest rows over the whole current dataset of each row of ``Q`` (itself
        included when it is a row), ranked by (exact squared distance, position), as
        ``(pos, rows)``: positions ``(len(Q), k)`` and a dict from position to features of the
        streamed rows among them. Each chunk's candidates come from the core's exact chunk search,
        merged with the running lists by the core (the same merge ``equipoise.spark`` runs)."""
        acc = KnnAccumulator(Q.shape[0], k)
        pool: dict[int, np.ndarray] = {}
        if Q.shape[0] == 0:
            return acc.pos, pool
        # Queries are not excluded by position: a row of Q that is in the data finds itself.
        query_pos = np.full(Q.shape[0], NO_POSITION, dtype=np.int64)
        if self.mem_X.shape[0]:
            acc.offer_chunk(self.mem_X, self.mem_pos, Q, query_pos)
        for p, _ids, Xc in self.stream_chunks(desc, self.chunk_rows()):
            acc.offer_chunk(Xc, p, Q, query_pos)
            # Keep the features of this chunk's rows that are in the lists now; rows that later
            # drop out of every list are dropped below.
            entered = np.unique(acc.pos[np.isin(acc.pos, p)])
            for q, j in zip(entered, np.searchsorted(p, entered)):
                pool[int(q)] = Xc[j]
        live = set(acc.pos[np.isfinite(acc.sq)].tolist())
        pool = {q: x for q, x in pool.items() if q in live}
        return acc.pos, pool

    def _rows_at(self, positions, pool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features and codes of rows at ``positions`` (memory or ``pool``), sorted by position."""
        positions = np.unique(positions)
        X = np.empty((positions.size, self.n_features), dtype=self.dtype)
        codes = np.empty(positions.size, dtype=np.uint32)
        in_mem = np.isin(positions, self.mem_pos)
        where = np.searchsorted(self.mem_pos, positions[in_mem])
        X[in_mem] = self.mem_X[where]
        codes[in_mem] = self.mem_code[where]
        for t in np.flatnonzero(~in_mem):
            X[t] = pool[int(positions[t])]
            codes[t] = self.big
        return positions, X, codes

    # -- over-sampling on the held classes -----------------------------------------------------
    def step_over(self, est) -> None:
        kind = _kind(est)
        strategy = check_sampling_strategy(
            est.sampling_strategy,
            None,
            "over-sampling",
            classes=self.classes,
            counts=self.cur_counts,
        )
        grown = [int(np.searchsorted(self.classes, c)) for c, n in strategy.items() if n > 0]
        if not grown:
            est.sampling_strategy_ = strategy
            return
        if self.big in grown and not self.all_in_memory:
            raise MemoryError(
                f"{type(est).__name__} would grow class {self.classes[self.big]!r}, the largest"
                " class, which does not fit in memory_limit"
            )
        if kind == _RANDOM_OVER and est.shrinkage is not None:
            raise MemoryError(
                "RandomOverSampler(shrinkage=...) scales its noise by the whole table's row count,"
                " so it needs the whole table in memory, above memory_limit; raise memory_limit"
                " or use shrinkage=None"
            )
        targets = {
            self.classes[c]: int(self.cur_counts[c] + strategy[self.classes[c]]) for c in grown
        }
        grown_rows = np.isin(self.mem_code, grown)
        if kind in ("BorderlineSMOTE", "ADASYN"):
            k = _neighbour_counts(est)
            npos, pool = self.knn_all(self.mem_X[grown_rows], k, f"{kind} neighbours")
            positions = np.concatenate([self.mem_pos[grown_rows], npos.reshape(-1)])
        else:
            positions = self.mem_pos[grown_rows]
            pool = {}
        # One row of every class, so that the class codes (which seed the random streams) are the
        # same as over all data.
        extra = []
        present = set(np.unique(self.current_codes_of(positions, pool)).tolist())
        for c in range(len(self.classes)):
            if c in present:
                continue
            rows = np.flatnonzero(self.mem_code == c)
            if rows.size:
                extra.append(self.mem_pos[rows[0]])
            else:  # the streamed class: its first row
                for p, _ids, Xc in self.stream_chunks("one row", 1):
                    pool[int(p[0])] = Xc[0]
                    extra.append(p[0])
                    break
        positions = np.concatenate([positions, np.asarray(extra, dtype=np.int64)])
        positions, X, codes = self._rows_at(positions, pool)
        sub = clone(est).set_params(sampling_strategy=targets)
        _, made_X, made_codes = self.run_in_memory(self.on_matrix(sub), X, codes, positions)
        est.sampling_strategy_ = strategy
        if made_X is not None:
            self.append_made(made_X, made_codes)

    def current_codes_of(self, positions, pool) -> np.ndarray:
        in_mem = np.isin(positions, self.mem_pos)
        out = np.full(positions.size, self.big, dtype=np.uint32)
        out[in_mem] = self.mem_code[np.searchsorted(self.mem_pos, positions[in_mem])]
        return out

    # -- cleaning with the streamed class bounded chunk by chunk -------------------------------
    def step_clean(self, est) -> None:
        kind = _kind(est)
        k = _neighbour_counts(est)  # the row and its neighbours
        strategy = check_sampling_strategy(
            est.sampling_strategy,
            None,
            "clean-sampling",
            classes=self.classes,
            counts=self.cur_counts,
        )
        targets = {int(np.searchsorted(self.classes, c)) for c in strategy}
        est.sampling_strategy_ = strategy
        t0 = time.perf_counter()
        # 1. Bound: the streamed class's rows are decided chunk by chunk, with every held row
        # beside them (settled_beside); the rows a chunk cannot settle are verified below.
        und_pos, und_X = [], []
        if self.big in targets:
            # Larger chunks than elsewhere: the in-memory cleaner is near-linear in the rows, and
            # the denser a chunk, the fewer rows it leaves to the verification pass, whose cost is
            # every undecided row against every row.
            # A chunk there is held about 6 times: the reader's batch, the chunk, the chunk with
            # the held rows and its copy in position order, the cleaner's panels and its lists.
            chunk = self.chunk_rows(most=1 << 22, copies=6)
            for p, _ids, Xc in self.stream_chunks("bound", chunk):
                if Xc.shape[0] < k:
                    und_pos.append(p)
                    und_X.append(Xc)
                    continue
                if self.mem_X.shape[0]:
                    # The cleaner on the chunk beside every held row settles what it keeps (ENN)
                    # or finds in no link (Tomek links): other chunks add streamed rows only.
                    open_ = ~settled_beside(
                        Xc,
                        p,
                        self.mem_X,
                        self.mem_pos,
                        self.mem_code,
                        self.big,
                        len(self.classes),
                        k - 1,
                        kind == "TomekLinks",
                        mode=kind == "EditedNearestNeighbours" and est.kind_sel == "mode",
                    )
                else:
                    open_ = np.zeros(p.size, dtype=bool)
                und_pos.append(p[open_])
                und_X.append(Xc[open_])
        self.phases[f"{kind} bound"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        held_t = np.isin(self.mem_code, list(targets))
        core_pos = np.concatenate([self.mem_pos[held_t]] + und_pos)
        core_X = np.concatenate([self.mem_X[held_t]] + und_X) if und_X else self.mem_X[held_t]
        self.undecided_ = int(sum(x.size for x in und_pos))
        # 2. Exact neighbours of the undecided rows (and, for Tomek links, of their neighbours).
        npos, pool = self.knn_all(core_X, k, f"{kind} verify")
        positions = np.concatenate([core_pos, npos.reshape(-1)])
        for j in np.flatnonzero(~np.isin(core_pos, self.mem_pos)):
            pool.setdefault(int(core_pos[j]), core_X[j])
        if kind == "TomekLinks":
            second = np.setdiff1d(np.unique(npos), core_pos)
            second = second[second < np.iinfo(np.int64).max]
            sp, sX, _ = self._rows_at(second, pool)
            npos2, pool2 = self.knn_all(sX, k, "TomekLinks verify 2")
            pool.update(pool2)
            positions = np.concatenate([positions, npos2.reshape(-1)])
        positions = positions[positions < np.iinfo(np.int64).max]
        positions, X, codes = self._rows_at(positions, pool)
        self.phases[f"{kind} verify"] = time.perf_counter() - t0
        # 3. The estimator decides the undecided rows on their neighbourhoods.
        removed = np.empty(0, dtype=np.int64)
        present = np.unique(codes)
        clean_classes = [self.classes[c] for c in sorted(targets) if c in present]
        if present.size > 1 and clean_classes:
            sub = clone(est).set_params(sampling_strategy=clean_classes)
            if "neighbors" in sub.get_params(deep=False):
                # The neighbourhoods above are exact: so is the decision on them.
                sub.set_params(neighbors="exact")
            with warnings.catch_warnings():
                # The sub-run sees the undecided rows and their neighbours only: whether a class
                # is emptied is decided over all rows, below.
                warnings.filterwarnings("ignore", message="the cleaning removed every row")
                sel, _, _ = self.run_in_memory(sub, X, codes, positions)
            gone = np.setdiff1d(np.arange(positions.size), sel)
            removed = np.intersect1d(positions[gone], core_pos)
        # 4. The new order: imbalanced-learn's ENN regroups rows by class; Tomek links keep it.
        keep = np.ones(self.n_cur, dtype=bool)
        keep[removed] = False
        if kind == "EditedNearestNeighbours":
            codes_cur = self.current_codes()
            order = np.lexsort((np.arange(self.n_cur), codes_cur))
            order = order[keep[order]]
        else:
            order = np.flatnonzero(keep)
        new_of_old = np.full(self.n_cur, -1, dtype=np.int64)
        new_of_old[order] = np.arange(order.size)
        before = self.cur_counts.copy()
        self.apply_order(new_of_old, order.size)
        for c in np.flatnonzero((before > 0) & (self.cur_counts == 0)):
            warnings.warn(
                f"the cleaning removed every row of class {self.classes[c]!r}",
                UserWarning,
                stacklevel=2,
            )


def _is_text(type_) -> bool:
    pa = _pa()
    return (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_dictionary(type_)
    )


def _require_columns(names, columns, what) -> None:
    missing = [c for c in columns if c not in names]
    if missing:
        raise KeyError(f"{what} {missing} are not in the input; its columns are {names}")


def _select_columns(schema, label, features, exclude, categorical=()):
    pa = _pa()
    names = schema.names
    if label not in names:
        raise KeyError(f"the label column {label!r} is not in the input; its columns are {names}")
    _require_columns(names, categorical, "categorical columns")
    if label in categorical:
        raise ValueError(f"the label column {label!r} cannot also be a categorical feature")
    if features is not None:
        features = list(features)
        _require_columns(names, features, "feature columns")
        if label in features:
            raise ValueError(f"the label column {label!r} cannot also be a feature")
        missing = [c for c in categorical if c not in features]
        if missing:
            raise ValueError(f"the categorical columns {missing} are not among features={features}")
    else:
        exclude = set(exclude or ())
        _require_columns(names, sorted(exclude), "excluded columns")
        # The default numeric features, and the categorical columns the steps name.
        features = [
            f.name
            for f in schema
            if f.name != label
            and f.name not in exclude
            and (
                f.name in categorical or pa.types.is_floating(f.type) or pa.types.is_boolean(f.type)
            )
        ]
    if not features:
        raise ValueError(
            "no feature column: by default the features are the floating-point and boolean"
            " columns other than the label (integer, temporal and string columns pass through);"
            " name them with features=[...]"
        )
    for name in features:
        t = schema.field(name).type
        if name in categorical:
            if not (_is_text(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)):
                raise TypeError(
                    f"the categorical column {name!r} is {t}: the streaming engine takes"
                    " string, dictionary, integer or boolean categorical columns"
                )
            continue
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)):
            raise TypeError(
                f"the feature column {name!r} is {t}, not numeric: name it in a SMOTENC step's"
                " categorical_features, or leave it out of features (it then passes through)"
            )
    passthrough = [n for n in names if n != label and n not in features]
    # Categorical columns are held as positions in their sorted categories: exact in float32 (up
    # to 2^24 categories, checked when they are read), so they do not widen the features.
    all32 = all(
        pa.types.is_float32(schema.field(n).type) or pa.types.is_float16(schema.field(n).type)
        for n in features
        if n not in categorical
    )
    return features, passthrough, (np.float32 if all32 else np.float64)


def resample_parquet(
    source,
    target,
    *,
    label: str,
    steps,
    features=None,
    exclude=None,
    synthetic_flag: str | None = None,
    memory_limit=None,
    neighbors: str | dict = "auto",
    overwrite: bool = False,
    progress: bool | None = None,
    dry_run: bool = False,
    batch_rows: int = 65536,
    out=None,
) -> StreamReport:
    """Resample a Parquet (or CSV) table larger than memory with a chain of samplers, and write the
    result to Parquet.

    Parameters
    ----------
    source : str or path
        A Parquet file, a directory of Parquet files, or a glob (``"logs/*.parquet"``); CSV files
        are read the same way. Every file must have the same schema. The input is only read.
    target : str or path
        A ``.parquet`` file, or a directory (created) of part files. Written under a temporary
        name beside it and renamed when complete: a run that fails or is stopped leaves no
        partial output. It must not be (or be inside) the source.
    label : str
        The column holding the classes (no nulls).
    steps : list of samplers
        equipoise's (or imbalanced-learn's) ``RandomUnderSampler``, ``RandomOverSampler``,
        ``SMOTE``, ``BorderlineSMOTE``, ``ADASYN``, ``SMOTENC``, ``EditedNearestNeighbours``,
        ``TomekLinks``, ``SMOTEENN``, ``SMOTETomek``, applied in order, each to the previous one's
        output, as ``fit_resample`` would in memory. A ``SMOTENC`` names its categorical columns
        by name (``SMOTENC(categorical_features=["merchant", "country"])``): string, dictionary,
        integer or boolean columns, which become features; the chain may then hold only
        ``RandomUnderSampler``, ``RandomOverSampler`` and ``SMOTENC``.
    features, exclude : list of str, optional
        The feature columns. By default the floating-point and boolean columns other than the
        label, and the categorical columns a ``SMOTENC`` step names; integer, temporal and string
        columns (ids, timestamps) pass through untouched.
    synthetic_flag : str, optional
        Name of a boolean column added to the output, true on rows made by a step.
    memory_limit : str or int, optional
        ``"8GB"``, ``"512MiB"`` or bytes; default half of the available memory. It sets the chunk
        size, and a run whose in-memory part (the minority classes, the rows made, the engine's 12
        bytes per input row) cannot fit is refused before any work.
    neighbors : {'auto', 'exact', 'kdtree', 'hnsw'} or dict, default='auto'
        The neighbour search of the steps that run in memory (the over-samplers on the classes
        they grow, and every step once the rows left fit in ``memory_limit``), set on each step
        whose own ``neighbors`` is ``'auto'``, as its ``neighbors=`` would in memory: ``'hnsw'``
        (or a dict of HNSW options) makes those steps approximate. A cleaner streamed in chunks
        is exact whatever this says: its chunk bound and verification pass are exact searches,
        and the exact path measured faster than HNSW on every data family (README, "What is the
        same, what is added").
    overwrite : bool
        Replace an existing target.
    progress : bool or None
        Progress bars on stderr; None shows them only when stderr is a terminal.
    dry_run : bool
        Read the labels, print the plan and the memory estimate, write nothing.

    Returns
    -------
    StreamReport

    Notes
    -----
    The output holds the kept input rows first, in input order, every column as read; then the rows
    made by the steps (SMOTE's new rows, RandomOverSampler's copies), in the order the in-memory
    estimator appends them, with nulls in the pass-through columns. The kept rows and the made rows
    are those of the same chain run in memory with the same seeds (as sets; the in-memory chain
    orders rows differently).
    """
    t_start = time.perf_counter()
    check_neighbors(neighbors)  # names a bad value before any work
    steps = _with_neighbors(expand_steps(steps), neighbors)
    memory = default_memory_limit() if memory_limit is None else parse_memory(memory_limit)
    src = Source(source)
    _check_target_not_source(src, target)
    categorical = categorical_columns(steps)
    features, passthrough, dtype = _select_columns(
        src.schema, label, features, exclude, categorical
    )
    if categorical:
        for est in steps:
            # A smoothed bootstrap would add noise to the category codes.
            smoothed = _kind(est) == _RANDOM_OVER and est.shrinkage is not None
            if _kind(est) not in (_RANDOM_UNDER, _RANDOM_OVER, _SMOTENC) or smoothed:
                raise TypeError(
                    f"{type(est).__name__} cannot run on the categorical columns {categorical}"
                    " (it measures distances between numbers, or adds noise to them); with SMOTENC"
                    " the streaming engine chains RandomUnderSampler, RandomOverSampler without"
                    " shrinkage, and SMOTENC"
                )
    if synthetic_flag is not None and synthetic_flag in src.schema.names:
        raise ValueError(f"synthetic_flag {synthetic_flag!r} is already a column of the input")
    run = _Run(
        src, label, features, dtype, memory, batch_rows, None, _Progress(progress),
        categorical,
    )  # fmt: skip
    run.read_labels()
    report = StreamReport(
        classes=run.classes.tolist(), counts_before=run.counts.tolist(), features=features,
        passthrough=passthrough, memory_limit=memory, streamed_class=run.classes[run.big].item()
        if hasattr(run.classes[run.big], "item") else run.classes[run.big],
    )  # fmt: skip
    plan, need = _plan(run, steps)
    report.plan = plan
    report.estimated_bytes = need
    if out is not None or dry_run:
        _print_plan(report, run, out or sys.stdout)
    if need > memory:
        raise MemoryError(
            f"this run needs an estimated {_fmt_bytes(need)} in memory (the minority classes, the"
            f" rows the steps make, {BOOKKEEPING_BYTES} bytes per input row), above memory_limit"
            f" = {_fmt_bytes(memory)}"
        )
    if dry_run:
        return report
    writer = AtomicTarget(target, overwrite=overwrite)
    try:
        _execute(run, steps)
        t0 = time.perf_counter()
        _write(run, writer, label, synthetic_flag)
        writer.commit()
        run.phases["write"] = time.perf_counter() - t0
    except BaseException:
        writer.abort()
        raise
    report.counts_after = run.cur_counts.tolist()
    report.rows_written = writer.rows_written
    report.made_rows = int((run.mem_gid < 0).sum())
    report.phases = dict(run.phases)
    report.phases["total"] = time.perf_counter() - t_start
    return report


def _check_target_not_source(src: Source, target) -> None:
    t = os.path.realpath(os.fspath(target))
    for f in src.files:
        fr = os.path.realpath(f)
        if t == fr:
            raise ValueError(f"the target {os.fspath(target)!r} is the input file {str(f)!r}")
        if os.path.isdir(t) and fr.startswith(t.rstrip(os.sep) + os.sep):
            raise ValueError(f"the target {os.fspath(target)!r} holds the input file {str(f)!r}")


def _plan(run: _Run, steps) -> tuple[list[str], int]:
    """What each step will do from the class counts, and the memory the run needs."""
    counts = run.counts.astype(np.int64).copy()
    lines = []
    held = int(counts.sum() - counts[run.big])
    peak_mem_rows = held
    made = 0
    for i, est in enumerate(steps):
        kind = _kind(est)
        name = type(est).__name__
        if kind == _RANDOM_UNDER:
            s = check_sampling_strategy(
                est.sampling_strategy, None, "under-sampling", classes=run.classes, counts=counts
            )
            for c, n in s.items():
                counts[int(np.searchsorted(run.classes, c))] = n
            lines.append(f"{i + 1}. {name}: keeps {_counts_str(run.classes, counts)}")
        elif kind in (_RANDOM_OVER,) + _SMOTE_LIKE:
            s = check_sampling_strategy(
                est.sampling_strategy, None, "over-sampling", classes=run.classes, counts=counts
            )
            for c, n in s.items():
                counts[int(np.searchsorted(run.classes, c))] += n
                made += int(n)
            lines.append(
                f"{i + 1}. {name}: makes {sum(int(n) for n in s.values())} rows"
                f" -> {_counts_str(run.classes, counts)}"
            )
        else:
            s = check_sampling_strategy(
                est.sampling_strategy, None, "clean-sampling", classes=run.classes, counts=counts
            )
            lines.append(
                f"{i + 1}. {name}: may remove rows of classes {_labels_str(list(s))}"
                " (how many is known after the run)"
            )
        peak_mem_rows = max(peak_mem_rows, int(counts.sum() - counts[run.big]))
    need = run.n_rows * BOOKKEEPING_BYTES + 3 * peak_mem_rows * run.row_bytes
    need += 2 * run.batch_rows * (run.n_features + 2) * 8  # the reader's batch and its matrix
    return lines, int(need)


def _labels_str(labels) -> str:
    return ", ".join(str(c.item() if hasattr(c, "item") else c) for c in labels)


def _counts_str(classes, counts) -> str:
    return ", ".join(f"{c}: {int(n)}" for c, n in zip(classes.tolist(), counts))


def _print_plan(report: StreamReport, run: _Run, out) -> None:
    print(f"input: {run.n_rows} rows in {len(run.src.files)} file(s)", file=out)
    print(f"label: {run.label!r}; classes {_counts_str(run.classes, run.counts)}", file=out)
    print(
        f"features ({len(report.features)}, {np.dtype(run.dtype).name}): {report.features}",
        file=out,
    )
    if run.categorical:
        print(f"categorical features (SMOTENC's rule): {run.categorical}", file=out)
    print(f"pass-through columns: {report.passthrough}", file=out)
    print("steps:", file=out)
    for line in report.plan:
        print("  " + line, file=out)
    print(
        f"memory: estimated {_fmt_bytes(report.estimated_bytes)}"
        f" of memory_limit {_fmt_bytes(report.memory_limit)}",
        file=out,
    )


def _execute(run: _Run, steps) -> None:
    for i, est in enumerate(steps):
        kind = _kind(est)
        t0 = time.perf_counter()
        if kind == _RANDOM_UNDER and not run.all_in_memory:
            run.step_random_under(est)
        else:
            if not run.all_in_memory and run.fits_in_memory(0):
                run.gather_all()
            else:
                run.load_held()
            if run.all_in_memory:
                next_cleans = i + 1 < len(steps) and _kind(steps[i + 1]) in _CLEANERS
                run.step_all_in_memory(est, next_cleans)
            elif kind in _CLEANERS:
                run.step_clean(est)
            else:
                run.step_over(est)
        run.phases[f"step {i + 1} {type(est).__name__}"] = time.perf_counter() - t0


def _write(run: _Run, writer: AtomicTarget, label: str, synthetic_flag) -> None:
    pa = _pa()
    schema = run.src.schema
    out_schema = schema
    if synthetic_flag is not None:
        out_schema = schema.append(pa.field(synthetic_flag, pa.bool_(), nullable=False))
    writer.open(out_schema)
    pos = run.pos
    names = schema.names
    with run.progress.bar(run.n_rows, "write") as bar:
        for start, batch in run.src.batches(names, run.batch_rows):
            n = batch.num_rows
            mask = pos[start : start + n] >= 0
            if mask.any():
                sub = batch.filter(pa.array(mask)) if not mask.all() else batch
                if synthetic_flag is not None:
                    sub = pa.RecordBatch.from_arrays(
                        list(sub.columns) + [pa.array(np.zeros(sub.num_rows, dtype=np.bool_))],
                        schema=out_schema,
                    )
                writer.write(sub)
            bar.update(n)
    made = run.mem_gid < 0
    if made.any():
        order = np.argsort(run.mem_pos[made], kind="stable")
        X = run.mem_X[made][order]
        codes = run.mem_code[made][order]
        cols = []
        for f in out_schema:
            if f.name == label:
                cols.append(pa.array(run.classes[codes], type=run.label_type).cast(f.type))
            elif f.name in run.categories:
                j = run.features.index(f.name)
                cols.append(run.decoded(f.name, X[:, j], f.type))
            elif f.name in run.features:
                j = run.features.index(f.name)
                cols.append(_cast_feature(X[:, j], f.type))
            elif f.name == synthetic_flag:
                cols.append(pa.array(np.ones(X.shape[0], dtype=np.bool_)))
            else:
                cols.append(pa.nulls(X.shape[0], type=f.type))
        writer.write(pa.RecordBatch.from_arrays(cols, schema=out_schema))


def _cast_feature(values: np.ndarray, type_):
    """Made rows' values in the column's type: integer columns truncated toward zero, as
    imbalanced-learn casts its float output back."""
    pa = _pa()
    if pa.types.is_floating(type_):
        return pa.array(values).cast(type_)
    if pa.types.is_boolean(type_):
        return pa.array(values != 0)
    return pa.array(np.trunc(values).astype(np.int64)).cast(type_, safe=False)
