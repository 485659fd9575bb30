"""Arrow record batches and the core's row-major matrices, both ways, without pandas: the columns
of a batch are read as numpy views of their Arrow buffers and interleaved in Rust
(``_core.rows_from_columns``, which also finds NaN and infinity); new rows go back as one Arrow
array per column."""

from __future__ import annotations

import numpy as np

from equipoise import _core


def feature_dtype(types) -> np.dtype:
    """float32 when every feature column is float32, else float64 (as the in-memory samplers)."""
    import pyarrow as pa

    return (
        np.dtype(np.float32) if all(pa.types.is_float32(t) for t in types) else np.dtype(np.float64)
    )


def batch_matrix(batch, names, dtype, n_threads: int = 0, locate=None) -> np.ndarray:
    """The columns ``names`` of a record batch as one C-contiguous ``(rows, features)`` matrix of
    ``dtype``, interleaved in the Rust core. Nulls, NaN and infinity are refused, naming the column
    and the row: ``locate(row)`` says where row ``row`` of the batch is (default: its row in the
    batch). Float columns go to the core as they are (no copy; it narrows or widens them); other
    numeric columns are cast to float64 first."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if locate is None:

        def locate(row: int) -> str:
            return f"row {row} of its batch"

    cols = []
    for name in names:
        arr = batch.column(name)
        if arr.null_count:
            bad = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
            raise ValueError(
                f"the feature column {name!r} is null (missing) in {locate(bad)}: fill or drop"
                " missing values first"
            )
        if not (pa.types.is_float32(arr.type) or pa.types.is_float64(arr.type)):
            arr = pc.cast(arr, pa.float64())
        cols.append(arr.to_numpy(zero_copy_only=False))
    if not cols:
        return np.empty((batch.num_rows, 0), dtype=dtype)
    kind = "float32" if np.dtype(dtype) == np.float32 else "float64"
    x, bad_cell = _core.rows_from_columns(cols, kind, n_threads)
    if bad_cell is not None:
        row, col, is_nan = bad_cell
        what = "NaN" if is_nan else "infinity"
        raise ValueError(f"Input contains {what}: column {names[col]!r}, {locate(row)}")
    return x


def matrix_columns(x: np.ndarray, types) -> list:
    """Columns of a (preferably column-major) matrix as Arrow arrays of the given types; integer
    columns are cast with numpy's ``astype`` (truncation toward zero), as imbalanced-learn does."""
    import pyarrow as pa

    out = []
    for j, t in enumerate(types):
        col = x[:, j]
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            col = col.astype(t.to_pandas_dtype(), copy=False)
            out.append(pa.array(col, type=t))
        else:
            out.append(pa.array(col).cast(t))
    return out
