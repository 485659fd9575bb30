"""Frames in, the same frames out: polars, pandas and pyarrow tables, and their label columns.

Every sampler goes through :class:`Frame`: the features reach the core as numeric columns (a
column-major block, borrowed without a copy where the frame's memory allows it) and categorical
codes; the output is built from the input frame itself: a row selection (``take``: every dtype and
value kept, no numeric work) for the samplers that select rows, or the input followed by the new
rows, each column cast back to its own dtype, for the samplers that generate rows.

polars, pandas and pyarrow are optional: nothing here imports them unless the input is one of their
objects (which means the user has imported them already).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator

import numpy as np

NUMERIC, BOOLEAN, CATEGORICAL = "numeric", "boolean", "categorical"
#: Any other column (datetimes, durations, periods, intervals, complex numbers, ...): the samplers
#: that only pick rows pass it through; the others refuse it (``Frame.check_resamplable``).
OTHER = "other"

#: What ``pandas.api.types.infer_dtype`` calls an object column holding numbers only (None / NaN
#: allowed): read as numbers, as imbalanced-learn's ``check_array(dtype="numeric")`` reads them.
_NUMBERS = ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty")

# The log of `recording_copies()` active in this context, if any: nothing is kept otherwise.
_COPY_LOG: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "equipoise_frame_copies", default=None
)


@contextlib.contextmanager
def recording_copies() -> Iterator[list]:
    """Within the block, the copies made to cross a frame into the core, as a list of
    (column names, kind) that the block can read (for tests and ``benches/frame_copies.py``).
    Outside such a block nothing is recorded, and each thread or task records its own."""
    log: list = []
    token = _COPY_LOG.set(log)
    try:
        yield log
    finally:
        _COPY_LOG.reset(token)


def _note_copy(names, kind: str) -> None:
    log = _COPY_LOG.get()
    if log is not None:
        log.append((tuple(names), kind))


def _module(obj) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _is(obj, mod: str, name: str) -> bool:
    m = sys.modules.get(mod)
    return m is not None and isinstance(obj, getattr(m, name))


def is_frame(X) -> bool:
    """A frame handled here (pandas frames of sparse columns keep imbalanced-learn's path)."""
    if _is(X, "polars", "DataFrame") or _is(X, "pyarrow", "Table"):
        return True
    if _is(X, "pandas", "DataFrame"):
        import pandas as pd

        return not any(isinstance(t, pd.SparseDtype) for t in X.dtypes)
    return False


class NewRows:
    """What a generating sampler's ``_resample`` returns for a frame: only the new rows, column by
    column (numeric arrays, or :class:`Coded` for categorical columns), in the frame's order."""

    def __init__(self, columns):
        self.columns = columns


class Coded:
    """New values of a categorical column, as codes into ``categories`` (any order)."""

    def __init__(self, codes: np.ndarray, categories: np.ndarray):
        self.codes = codes
        self.categories = categories

    def values(self) -> np.ndarray:
        return self.categories[self.codes]


class Frame:
    """A pandas, polars or pyarrow table seen column by column."""

    def __init__(self, native):
        self.native = native
        if _is(native, "polars", "DataFrame"):
            self.lib = "polars"
            self.columns = list(native.columns)
        elif _is(native, "pyarrow", "Table"):
            self.lib = "arrow"
            self.columns = list(native.column_names)
        else:
            self.lib = "pandas"
            self.columns = list(native.columns)
        self.n_rows = native.shape[0]
        self.kinds = [self._kind(c) for c in self.columns]

    def check_resamplable(self, who: str):
        """A TypeError naming the first column of a dtype ``who`` cannot resample (OTHER)."""
        for name, kind in zip(self.columns, self.kinds):
            if kind == OTHER:
                raise TypeError(
                    f"column {name!r} has dtype {self._dtype(name)}, which {who} cannot resample:"
                    " use numeric, boolean or categorical (string, categorical, enum, dictionary)"
                    " columns; RandomOverSampler and RandomUnderSampler, which only pick rows,"
                    " pass such columns through"
                )

    def is_object_numeric(self, name) -> bool:
        """A pandas object column read as numbers."""
        if self.lib != "pandas":
            return False
        col = self.column(name)
        return col.dtype.kind == "O" and self.kinds[self.columns.index(name)] == NUMERIC

    @property
    def shape(self):
        return (self.n_rows, len(self.columns))

    def feature_names(self):
        names = np.asarray(self.columns, dtype=object)
        return names if all(isinstance(c, str) for c in self.columns) and names.size else None

    # -- columns -----------------------------------------------------------------------------
    def column(self, name):
        if self.lib == "pandas":
            return self.native[name]
        return self.native.column(name) if self.lib == "arrow" else self.native.get_column(name)

    def _kind(self, name) -> str:
        col = self.column(name)
        if self.lib == "polars":
            import polars as pl

            dt = col.dtype
            if dt == pl.Boolean:
                return BOOLEAN
            if dt.is_numeric() and not dt.is_decimal():
                return NUMERIC
            if dt in (pl.Categorical, pl.String) or isinstance(dt, pl.Enum):
                return CATEGORICAL
        elif self.lib == "arrow":
            import pyarrow as pa

            t = col.type
            if pa.types.is_boolean(t):
                return BOOLEAN
            if pa.types.is_integer(t) or pa.types.is_floating(t):
                return NUMERIC
            if pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
                return CATEGORICAL
        else:
            import pandas as pd

            dt = col.dtype
            if isinstance(dt, (pd.CategoricalDtype, pd.StringDtype)):
                return CATEGORICAL
            if isinstance(dt, np.dtype) and dt.kind == "O":
                # Numbers stored as objects are numbers (imbalanced-learn converts them);
                # anything else (strings, mixed values) is categorical.
                numbers = pd.api.types.infer_dtype(col, skipna=True) in _NUMBERS
                return NUMERIC if numbers else CATEGORICAL
            if dt.kind in "OUS":  # other object-like extension dtypes (Arrow strings, periods, ...)
                return CATEGORICAL
            if pd.api.types.is_bool_dtype(dt):
                return BOOLEAN
            if pd.api.types.is_numeric_dtype(dt) and dt.kind in "iuf":
                return NUMERIC
        return OTHER

    def _dtype(self, name):
        col = self.column(name)
        return col.type if self.lib == "arrow" else col.dtype

    def null_count(self, name) -> int:
        col = self.column(name)
        if self.lib == "pandas":
            return int(col.isna().sum())
        n = int(col.null_count() if self.lib == "polars" else col.null_count)
        if self.kinds[self.columns.index(name)] == NUMERIC:
            n += int(self._nan_count(col))
        return n

    def _nan_count(self, col) -> int:
        if self.lib == "polars":
            return int(col.is_nan().sum()) if col.dtype.is_float() else 0
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_floating(col.type):
            return 0
        return int(pc.sum(pc.is_nan(col)).as_py() or 0)

    def check_no_nulls(self, names=None, what="resample"):
        for name in self.columns if names is None else names:
            n = self.null_count(name)
            if n:
                raise ValueError(
                    f"column {name!r} contains {n} null or NaN values; this sampler cannot"
                    f" {what} them: drop or impute them first (for example with"
                    " sklearn.impute.SimpleImputer, or polars' fill_null)"
                )

    def numpy_column(self, name) -> np.ndarray:
        """A numeric or boolean column as a 1-D numpy array (a view when its memory allows)."""
        col = self.column(name)
        if self.lib == "polars":
            out = col.to_numpy()
        elif self.lib == "arrow":
            out = col.to_numpy()
        else:
            dt = col.dtype
            if isinstance(dt, np.dtype) and dt.kind == "O":  # numbers as objects: read as float64
                out = col.to_numpy(dtype=np.float64, na_value=np.nan)
            elif isinstance(dt, np.dtype):
                out = col.to_numpy()
            else:  # nullable extension dtypes
                out = col.to_numpy(dtype=np.float64 if dt.kind == "f" else dt.numpy_dtype)
        return out

    def numeric_block(self, names, dtype=None) -> np.ndarray:
        """``names`` as one column-major 2-D array of their common dtype (or ``dtype``)."""
        names = list(names)
        if not names:
            return np.empty((self.n_rows, 0), dtype=dtype or np.float64)
        if self.lib in ("pandas", "polars"):
            sub = self.native[names]
            if self.lib == "polars":
                block = sub.to_numpy(order="fortran")
            else:
                block = sub.to_numpy()
            if block.dtype != object and (dtype is None or block.dtype == dtype):
                shared = any(np.shares_memory(block, self.numpy_column(n)) for n in names[:1])
                if not shared:
                    _note_copy(names, "column-major block")
                return block
        cols = [self.numpy_column(n) for n in names]
        dt = dtype or np.result_type(*[c.dtype for c in cols])
        block = np.empty((self.n_rows, len(cols)), dtype=dt, order="F")
        for j, c in enumerate(cols):
            block[:, j] = c
        _note_copy(names, "column-major block")
        return block

    def codes(self, name):
        """A categorical column as (int64 codes, categories as a numpy array); -1 marks a null."""
        col = self.column(name)
        kind = self.kinds[self.columns.index(name)]
        if kind == BOOLEAN:
            vals = self.numpy_column(name).astype(bool)
            return vals.astype(np.int64), np.array([False, True])
        if kind == NUMERIC and not self.is_object_numeric(name):
            # numeric values taken as categories (SMOTEN): exact, no text round trip
            cats, codes = np.unique(self.numpy_column(name), return_inverse=True)
            return codes.reshape(-1).astype(np.int64), cats
        if self.lib == "pandas":
            import pandas as pd

            if isinstance(col.dtype, pd.CategoricalDtype):
                return col.cat.codes.to_numpy().astype(np.int64), np.asarray(col.cat.categories)
            codes, uniques = pd.factorize(col, sort=True)
            return codes.astype(np.int64), np.asarray(uniques, dtype=object)
        if self.lib == "polars":
            import polars as pl

            if isinstance(col.dtype, pl.Enum):
                cats = col.dtype.categories.to_numpy()
                codes = col.to_physical().fill_null(-1).to_numpy().astype(np.int64)
                return codes, cats.astype(object)
            if col.dtype == pl.Categorical:
                # Physical ids, mapped through the (few) distinct values: no string per row.
                uniq = col.drop_nulls().unique()
                ids = uniq.to_physical().cast(pl.Int64).to_numpy()
                names = uniq.cast(pl.String).to_numpy().astype(object)
                order = np.argsort(names, kind="stable")
                lut = np.full(int(ids.max()) + 1 if ids.size else 1, -1, dtype=np.int64)
                lut[ids[order]] = np.arange(ids.size)
                phys = col.to_physical().cast(pl.Int64).fill_null(-1).to_numpy()
                return np.where(phys >= 0, lut[np.maximum(phys, 0)], -1), names[order]
            s = col.cast(pl.String)
            uniq = s.drop_nulls().unique().sort()
            codes = s.cast(pl.Enum(uniq)).to_physical()
            codes = codes.cast(pl.Int64).fill_null(-1).to_numpy()
            return codes, uniq.to_numpy().astype(object)
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
        arr = arr.unify_dictionaries().combine_chunks()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.chunk(0) if arr.num_chunks else pa.array([], type=arr.type)
        codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        cats = arr.dictionary.to_numpy(zero_copy_only=False)
        return codes, np.asarray(cats, dtype=object)

    def to_array(self) -> np.ndarray:
        """The features as one array, as imbalanced-learn would see the frame: numeric
        (column-major) when every column is numeric or boolean, else an object array."""
        if all(k in (NUMERIC, BOOLEAN) for k in self.kinds):
            num = [n for n, k in zip(self.columns, self.kinds) if k == NUMERIC]
            if len(num) == len(self.columns):
                return self.numeric_block(self.columns)
            block = np.empty((self.n_rows, len(self.columns)), dtype=np.float64, order="F")
            for j, n in enumerate(self.columns):
                block[:, j] = self.numpy_column(n)
            return block
        out = np.empty((self.n_rows, len(self.columns)), dtype=object)
        for j, n in enumerate(self.columns):
            if self.kinds[j] == CATEGORICAL:
                codes, cats = self.codes(n)
                vals = np.empty(codes.shape, dtype=object)
                ok = codes >= 0
                vals[ok] = cats[codes[ok]]
                vals[~ok] = None
                out[:, j] = vals
            elif self.kinds[j] == OTHER:  # passed through: its values as objects
                col = self.column(n)
                if self.lib == "pandas":
                    out[:, j] = col.to_numpy(dtype=object)
                else:
                    vals = np.empty(self.n_rows, dtype=object)
                    vals[:] = col.to_list() if self.lib == "polars" else col.to_pylist()
                    out[:, j] = vals
            else:
                out[:, j] = self.numpy_column(n)
        return out

    # -- output ------------------------------------------------------------------------------
    def take(self, idx: np.ndarray):
        """Rows ``idx`` of the frame, every column with its own dtype (pandas: a fresh RangeIndex,
        as imbalanced-learn returns)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.lib == "polars":
            return self.native[idx]
        if self.lib == "arrow":
            return self.native.take(idx)
        return self.native.take(idx).reset_index(drop=True)

    def _np_dtype(self, name):
        return self.numpy_column(name)[:0].dtype

    def append(self, new_columns):
        """The frame followed by new rows; ``new_columns[j]`` holds column j's new values: a numeric
        array (cast to the column's dtype with ``astype``, truncation toward zero for integer
        columns, as imbalanced-learn casts) or a :class:`Coded` for a categorical column."""
        data = {}
        for name, kind, vals in zip(self.columns, self.kinds, new_columns):
            data[name] = self._new_column(name, kind, vals)
        if self.lib == "polars":
            import polars as pl

            new = pl.DataFrame(data)
            return pl.concat([self.native, new], how="vertical")
        if self.lib == "arrow":
            import pyarrow as pa

            new = pa.table(data, schema=self.native.schema)
            return pa.concat_tables([self.native, new])
        import pandas as pd

        dtypes = set(self.native.dtypes)
        if len(dtypes) == 1 and isinstance(next(iter(dtypes)), np.dtype):
            # One numpy dtype: one column-major block, filled once (no concat of blocks).
            n, m = self.n_rows, len(next(iter(data.values()))) if data else 0
            block = np.empty((n + m, len(self.columns)), dtype=next(iter(dtypes)), order="F")
            block[:n] = self.native.to_numpy()
            for j, name in enumerate(self.columns):
                block[n:, j] = data[name]
            return pd.DataFrame(block, columns=self.native.columns, copy=False)
        new = pd.DataFrame(data, columns=self.native.columns)
        out = pd.concat([self.native, new], ignore_index=True)
        return out.astype(self.native.dtypes.to_dict())

    def _new_coded(self, name, vals: Coded):
        """A categorical column's new values built from codes, without materialising Python
        strings; None when the column's type has no such fast path."""
        col = self.column(name)
        if self.lib == "pandas":
            import pandas as pd

            dt = col.dtype
            if isinstance(dt, pd.CategoricalDtype):
                lut = dt.categories.get_indexer(pd.Index(vals.categories))
                return pd.Categorical.from_codes(lut[vals.codes], dtype=dt)
            return None
        if self.lib == "polars":
            import polars as pl

            cats = pl.Series(name, vals.categories.tolist())
            out = cats.gather(pl.Series(vals.codes.astype(np.int64)))
            return out.cast(col.dtype) if cats.dtype != col.dtype else out
        import pyarrow as pa

        t = col.type
        cats = pa.array(vals.categories.tolist())
        idx = pa.array(vals.codes.astype(np.int64))
        if pa.types.is_dictionary(t):
            cats = cats.cast(t.value_type)
            return pa.DictionaryArray.from_arrays(idx.cast(t.index_type), cats)
        return cats.cast(t).take(idx)

    def _new_column(self, name, kind, vals):
        col = self.column(name)
        if isinstance(vals, Coded) and kind == CATEGORICAL:
            fast = self._new_coded(name, vals)
            if fast is not None:
                return fast
        if isinstance(vals, Coded):
            values = vals.values()
        else:
            values = np.asarray(vals)
        if kind == BOOLEAN:
            values = values.astype(bool)
        if self.lib == "polars":
            import polars as pl

            if kind == NUMERIC:
                values = values.astype(self._np_dtype(name), copy=False)
            elif kind == CATEGORICAL:
                values = np.asarray(values, dtype=object)
                return pl.Series(name, values, dtype=pl.String).cast(col.dtype)
            return pl.Series(name, values).cast(col.dtype)
        if self.lib == "arrow":
            import pyarrow as pa

            t = col.type
            if kind == NUMERIC:
                return pa.array(values.astype(t.to_pandas_dtype(), copy=False), type=t)
            if kind == CATEGORICAL and pa.types.is_dictionary(t):
                vals = pa.array(np.asarray(values, dtype=object), type=t.value_type)
                return vals.dictionary_encode().cast(t)
            if kind == CATEGORICAL:
                return pa.array(np.asarray(values, dtype=object), type=t)
            return pa.array(values, type=t)
        import pandas as pd

        dt = col.dtype
        if kind == NUMERIC:
            if isinstance(dt, np.dtype):
                return values.astype(dt, copy=False)
            np_dt = np.float64 if dt.kind == "f" else dt.numpy_dtype
            return pd.array(values.astype(np_dt), dtype=dt)
        if isinstance(dt, pd.CategoricalDtype):
            return pd.Categorical(values, dtype=dt)
        return pd.array(np.asarray(values, dtype=object), dtype=dt)


# -- targets -----------------------------------------------------------------------------------
class Target:
    """A polars Series or a pyarrow (Chunked)Array target; other targets go through unchanged."""

    def __init__(self, y, name=None):
        self.native = y
        if _is(y, "polars", "Series"):
            self.lib = "polars"
            self.name = y.name
        elif _is(y, "pyarrow", "Array") or _is(y, "pyarrow", "ChunkedArray"):
            self.lib = "arrow"
            self.name = name
        else:
            self.lib = None
            self.name = name
        nulls = 0
        if self.lib == "polars":
            nulls = y.null_count()
        elif self.lib == "arrow":
            nulls = y.null_count
        if nulls:
            what = f"label column {name!r}" if name is not None else "y"
            raise ValueError(f"{what} contains {nulls} null values; every row needs a class")

    @staticmethod
    def wraps(y) -> bool:
        return (
            _is(y, "polars", "Series")
            or _is(y, "pyarrow", "Array")
            or _is(y, "pyarrow", "ChunkedArray")
        )

    def values(self) -> np.ndarray:
        if self.lib == "polars":
            import polars as pl

            y = self.native
            if y.dtype in (pl.Categorical, pl.String) or isinstance(y.dtype, pl.Enum):
                return y.cast(pl.String).to_numpy().astype(object)
            return y.to_numpy()
        return np.asarray(self.native.to_numpy(zero_copy_only=False))

    def take(self, idx):
        if self.lib == "polars":
            return self.native[np.asarray(idx, dtype=np.int64)]
        return self.native.take(np.asarray(idx, dtype=np.int64))

    def from_values(self, values: np.ndarray):
        """A target of the input's type from resampled values (the input's rows come first)."""
        if self.lib == "polars":
            import polars as pl

            dt = self.native.dtype
            vals = values
            if values.dtype == object:
                return pl.Series(self.name, vals, dtype=pl.String).cast(dt)
            return pl.Series(self.name, vals).cast(dt)
        import pyarrow as pa

        arr = self.native
        t = arr.type
        if pa.types.is_dictionary(t):
            out = pa.array(values, type=t.value_type).dictionary_encode().cast(t)
        else:
            out = pa.array(values, type=t)
        return pa.chunked_array([out]) if isinstance(arr, pa.ChunkedArray) else out


def split_label(X, label):
    """``(features frame, label column)`` of a frame that carries its label."""
    if not is_frame(X):
        raise TypeError(
            f"label={label!r} needs a polars, pandas or pyarrow frame holding that column; got"
            f" {type(X).__name__}"
        )
    if _is(X, "polars", "DataFrame"):
        cols = X.columns
    elif _is(X, "pyarrow", "Table"):
        cols = X.column_names
    else:
        cols = list(X.columns)
    if label not in cols:
        raise ValueError(
            f"label column {label!r} is not in the frame; its columns are {list(cols)}"
        )
    pos = list(cols).index(label)
    if _is(X, "polars", "DataFrame"):
        return X.drop(label), X.get_column(label), pos
    if _is(X, "pyarrow", "Table"):
        return X.remove_column(pos), X.column(label), pos
    return X.drop(columns=[label]), X[label], pos


def join_label(X_res, y_res, label, pos):
    """The resampled features with the label column back at its place."""
    if _is(X_res, "polars", "DataFrame"):
        return X_res.insert_column(pos, y_res.alias(label))
    if _is(X_res, "pyarrow", "Table"):
        return X_res.add_column(pos, label, y_res)
    out = X_res.copy(deep=False)
    out.insert(pos, label, np.asarray(y_res) if not hasattr(y_res, "index") else y_res.to_numpy())
    out[label] = out[label].astype(y_res.dtype)
    return out
