"""The output of the streaming engine: written under a temporary name beside the target and
renamed only once complete, so that a run that stops at any point leaves no partial output."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from equipoise.io._source import PARQUET_SUFFIXES

TMP_MARK = ".equipoise-tmp-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> None:
    """Remove what runs killed before their end (SIGKILL, power loss) left beside ``target``:
    their temporary outputs, whose process no longer exists."""
    parent = target.parent
    if not parent.is_dir():
        return
    prefix = f".{target.name}{TMP_MARK}"
    for p in parent.iterdir():
        if p.name.startswith(prefix):
            try:
                pid = int(p.name[len(prefix) :].split(".")[0])
            except ValueError:
                continue
            if not _pid_alive(pid):
                _remove(p)


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


class AtomicTarget:
    """A Parquet file (a target ending in .parquet/.pq) or a directory of part files.

    Rows are written to ``.<name>.equipoise-tmp-<pid>`` beside the target; :meth:`commit` renames
    it to the target (replacing an existing one only with ``overwrite``), :meth:`abort` removes it.
    """

    def __init__(self, target, *, overwrite: bool = False, rows_per_file: int = 50_000_000):
        self.target = Path(os.fspath(target)).absolute()
        self.is_file = self.target.suffix.lower() in PARQUET_SUFFIXES
        if self.target.exists() and not overwrite:
            raise FileExistsError(
                f"the target {str(self.target)!r} exists; pass overwrite=True (--overwrite) to"
                " replace it"
            )
        if not self.target.parent.is_dir():
            raise FileNotFoundError(
                f"the target's directory {str(self.target.parent)!r} does not exist"
            )
        remove_stale(self.target)
        self.tmp = self.target.parent / f".{self.target.name}{TMP_MARK}{os.getpid()}"
        _remove(self.tmp)
        if not self.is_file:
            self.tmp.mkdir()
        self.rows_per_file = rows_per_file
        self._writer: Any = None
        self._part = 0
        self._rows_in_part = 0
        self.rows_written = 0
        self.schema = None

    def open(self, schema) -> None:
        self.schema = schema

    def _new_writer(self):
        import pyarrow.parquet as pq

        path = self.tmp if self.is_file else self.tmp / f"part-{self._part:05d}.parquet"
        self._part += 1
        self._rows_in_part = 0
        return pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, table) -> None:
        """Append a pyarrow Table or RecordBatch with the output schema."""
        if table.num_rows == 0 and self._writer is not None:
            return
        if self._writer is None:
            self._writer = self._new_writer()
        elif not self.is_file and self._rows_in_part >= self.rows_per_file:
            self._writer.close()
            self._writer = self._new_writer()
        if hasattr(table, "to_batches"):
            self._writer.write_table(table)
        else:
            self._writer.write_batch(table)
        self._rows_in_part += table.num_rows
        self.rows_written += table.num_rows

    def commit(self) -> None:
        if self._writer is None:
            self._writer = self._new_writer()  # an empty output still has its schema
        self._writer.close()
        self._writer = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}{TMP_MARK}{os.getpid()}.old"
            os.replace(self.target, old)
            os.replace(self.tmp, self.target)
            _remove(old)
        else:
            os.replace(self.tmp, self.target)
        _fsync_dir(self.target.parent)

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        _remove(self.tmp)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
