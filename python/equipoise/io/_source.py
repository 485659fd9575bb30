"""The input of the streaming engine: one or more Parquet (or CSV) files read as Arrow record
batches, a few columns at a time, with bounded memory."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from equipoise._arrow_rows import batch_matrix

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv",)


def _pa():
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401
    except ImportError as e:  # pragma: no cover - the extra is installed in CI
        raise ImportError("equipoise.io needs pyarrow: pip install 'equipoise[parquet]'") from e
    return pa


def list_files(source) -> list[Path]:
    """The files of ``source``: one file, a directory (every Parquet or CSV file under it, sorted
    by path) or a glob pattern."""
    s = os.fspath(source)
    if any(ch in s for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(s, recursive=True) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(f"no file matches {s!r}")
    else:
        p = Path(s)
        if p.is_dir():
            files = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix.lower() in PARQUET_SUFFIXES + CSV_SUFFIXES
                and not f.name.startswith((".", "_"))
            )
            if not files:
                raise FileNotFoundError(f"the directory {s!r} holds no Parquet or CSV file")
        elif p.is_file():
            files = [p]
        else:
            raise FileNotFoundError(f"no such file or directory: {s!r}")
    kinds = {_kind(f) for f in files}
    if len(kinds) > 1:
        raise ValueError(f"{s!r} mixes Parquet and CSV files; give one kind")
    return files


def _kind(path: Path) -> str:
    return "csv" if path.suffix.lower() in CSV_SUFFIXES else "parquet"


class Source:
    """The input files, their common schema and row counts.

    Parquet files are opened with ``pre_buffer=False`` and read one batch of ``batch_rows`` rows
    at a time, only the columns asked for: pyarrow's default pre-buffering reads whole row groups
    ahead and grows the process to the file's size.
    """

    def __init__(self, source):
        pa = _pa()
        self.files = list_files(source)
        self.kind = _kind(self.files[0])
        self.schema = None
        self.rows_per_file: list[int] | None = None
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            rows = []
            for f in self.files:
                try:
                    pf = pq.ParquetFile(f, pre_buffer=False)
                except (pa.ArrowException, OSError) as e:
                    raise ValueError(f"cannot read {f} as Parquet: {e}") from e
                schema = pf.schema_arrow
                self._check_schema(f, schema)
                rows.append(pf.metadata.num_rows)
            self.rows_per_file = rows
        else:
            import pyarrow.csv as pcsv

            for f in self.files:
                try:
                    reader = pcsv.open_csv(f)
                except (pa.ArrowException, OSError) as e:
                    raise ValueError(f"cannot read {f} as CSV: {e}") from e
                schema = reader.schema
                reader.close()
                if self.schema is None:
                    self.schema = schema
                elif schema.names != self.schema.names:
                    raise ValueError(
                        f"{f} has the columns {schema.names}, but {self.files[0]} has"
                        f" {self.schema.names}: every file must have the same schema"
                    )

    def _check_schema(self, path, schema) -> None:
        if self.schema is None:
            self.schema = schema
            return
        if schema.names != self.schema.names:
            raise ValueError(
                f"{path} has the columns {schema.names}, but {self.files[0]} has"
                f" {self.schema.names}: every file must have the same schema"
            )
        for field, first in zip(schema, self.schema):
            if field.type != first.type:
                raise ValueError(
                    f"column {field.name!r} is {field.type} in {path} but {first.type} in"
                    f" {self.files[0]}: every file must have the same schema"
                )

    @property
    def n_rows(self) -> int | None:
        return None if self.rows_per_file is None else int(sum(self.rows_per_file))

    def locate(self, row: int) -> str:
        """Where input row ``row`` (0-based over all files) is: its file and row in it."""
        if self.rows_per_file is None:
            return f"row {row}"
        start = 0
        for f, n in zip(self.files, self.rows_per_file):
            if row < start + n:
                if len(self.files) == 1:
                    return f"row {row}"
                return f"row {row} (row {row - start} of {f})"
            start += n
        return f"row {row}"

    def batches(self, columns: list[str], batch_rows: int) -> Iterator[tuple[int, Any]]:
        """``(first_row, record_batch)`` over every file in order, only ``columns``."""
        pa = _pa()
        start = 0
        counts = []
        for f in self.files:
            n_file = 0
            try:
                for batch in self._file_batches(f, columns, batch_rows):
                    yield start, batch
                    start += batch.num_rows
                    n_file += batch.num_rows
            except pa.ArrowException as e:
                raise ValueError(f"cannot read {f}: {e}") from e
            counts.append(n_file)
        if self.rows_per_file is None:
            self.rows_per_file = counts

    def _file_batches(self, f, columns, batch_rows):
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(f, pre_buffer=False)
            try:
                yield from pf.iter_batches(batch_size=batch_rows, columns=columns)
            finally:
                pf.close()
        else:
            import pyarrow.csv as pcsv

            schema = self.schema
            types = {name: schema.field(name).type for name in columns}
            reader = pcsv.open_csv(
                f,
                read_options=pcsv.ReadOptions(block_size=max(1 << 20, batch_rows * 64)),
                convert_options=pcsv.ConvertOptions(include_columns=columns, column_types=types),
            )
            try:
                for batch in reader:
                    yield batch.select(columns)
            finally:
                reader.close()


def feature_matrix(batch, names: list[str], dtype, source: Source, row_ids):
    """The feature columns of ``batch`` as a C-ordered ``(rows, features)`` matrix of ``dtype``
    (``row_ids``: the input rows of the batch's rows, which errors name by file and row)."""
    return batch_matrix(batch, names, dtype, locate=lambda row: source.locate(int(row_ids[row])))
