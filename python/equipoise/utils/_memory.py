"""Requests that cannot fit in memory are refused before anything is allocated.

A ``sampling_strategy`` asking for 10^12 rows, or ``k_neighbors`` near the row count of a large
class, would otherwise be attempted: the process grows until the kernel's OOM killer ends it (the
notebook kernel, the scheduler's worker, the web service), with no Python exception to catch. The
figures needed (output rows, neighbour lists) are known before the core is called, so each such
request is compared with the memory the process can ever have: the machine's physical memory, or
less when a cgroup (container) limit or ``RLIMIT_AS`` says so. A request above that limit raises
``MemoryError`` naming the figure; one below it is attempted (other processes' use is not
predicted, so a request that fits the machine may still not fit the moment).
"""

from __future__ import annotations

import functools
import os
import resource


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
    return None


@functools.cache
def memory_limit() -> int:
    """Bytes this process can ever hold: physical memory, a cgroup limit or ``RLIMIT_AS``,
    whichever is smallest (``EQUIPOISE_MEMORY_LIMIT``, in bytes, overrides them)."""
    env = os.environ.get("EQUIPOISE_MEMORY_LIMIT")
    if env:
        return int(env)
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    cg = _cgroup_limit()
    if cg is not None:
        limits.append(cg)
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft != resource.RLIM_INFINITY and soft > 0:
        limits.append(soft)
    return min(limits) if limits else 1 << 62


def _size(n: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def check_fits(nbytes: int, what: str) -> None:
    """``MemoryError`` naming ``what`` and its size when ``nbytes`` exceeds :func:`memory_limit`."""
    limit = memory_limit()
    if nbytes > limit:
        raise MemoryError(
            f"{what} needs {_size(nbytes)} ({nbytes:,} bytes), more than the {_size(limit)} of"
            " memory this process can have: ask for fewer rows or neighbours"
        )


def check_output_rows(n_rows: int, n_features: int, row_bytes: int, what: str) -> None:
    """The resampled matrix (rows of ``row_bytes`` bytes, plus an 8-byte label a row)."""
    check_fits(
        int(n_rows) * (int(row_bytes) + 8),
        f"{what}'s output of {int(n_rows):,} rows x {int(n_features)} features",
    )


def check_neighbour_lists(n_rows: int, k: int, what: str) -> None:
    """``n_rows`` lists of ``k`` neighbours, each an index and a distance (16 bytes), twice (the
    core's lists and the arrays handed back)."""
    check_fits(
        2 * 16 * int(n_rows) * int(k),
        f"{what}: {int(k):,} neighbours of each of {int(n_rows):,} rows",
    )
