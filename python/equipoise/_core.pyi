"""Type stubs of the compiled core. These functions are internal: use the estimators."""

from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BatchPlan",
    "EpochCursor",
    "HnswGraph",
    "__version__",
    "_panic_for_test",
    "apportion_batches",
    "check_finite",
    "chunk_knn",
    "default_threads",
    "edited_nearest_neighbours",
    "fma_peak_gflops",
    "grown_labels",
    "hnsw_build",
    "hnsw_defaults",
    "index_memory_bytes",
    "interpolate",
    "kneighbors",
    "label_codes",
    "merge_knn",
    "online_smote_draws",
    "random_over_sample_indices",
    "random_under_sample_indices",
    "rows_from_columns",
    "smoothed_bootstrap",
    "smote",
    "smote_block",
    "smote_chunk_rows",
    "smote_labeled",
    "smote_new_rows",
    "smoten",
    "smotenc",
    "take_rows",
    "tomek_links",
]

__version__: str

# Runtime (rust/python/src/runtime.rs)
def take_rows(
    x: npt.NDArray[np.floating], idx: npt.NDArray[np.int64], n_threads: int = 0
) -> npt.NDArray[np.floating]: ...
def check_finite(x: npt.NDArray[np.floating], n_threads: int = 0) -> None: ...
def label_codes(
    y: npt.NDArray[np.integer], max_span: int, n_threads: int = 0
) -> tuple[list[int], list[int], int, npt.NDArray[np.uint32]] | None: ...
def grown_labels(
    y: npt.NDArray[np.integer],
    classes: npt.NDArray[np.integer],
    n_new: list[int],
    n_threads: int = 0,
) -> npt.NDArray[np.integer] | None: ...
def default_threads() -> int: ...
def _panic_for_test() -> None: ...

# SMOTE and random over-sampling (rust/python/src/over_sampling.rs)
def smote(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    n_new: list[int],
    k: int,
    graphs: list[npt.NDArray[np.int64] | None],
    seed: int,
    n_threads: int = 0,
    segments: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.floating]: ...
def smote_labeled(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    n_new: list[int],
    k: int,
    graphs: list[npt.NDArray[np.int64] | None],
    seed: int,
    y: npt.NDArray[np.integer],
    classes: npt.NDArray[np.integer],
    n_threads: int = 0,
    segments: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.integer]] | None: ...
def smote_block(
    class_x: npt.NDArray[np.floating],
    graph: npt.NDArray[np.int64],
    class_code: int,
    first_chunk: int,
    n: int,
    seed: int,
    n_threads: int = 0,
    segments: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.floating]: ...
def smote_chunk_rows() -> int: ...
def smote_new_rows(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    n_new: list[int],
    k: int,
    graphs: list[npt.NDArray[np.int64] | None],
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.floating]: ...
def random_over_sample_indices(
    codes: npt.NDArray[np.uint32], n_classes: int, n_new: list[int], seed: int, n_threads: int = 0
) -> npt.NDArray[np.int64]: ...
def smoothed_bootstrap(
    x: npt.NDArray[np.floating],
    idx: npt.NDArray[np.int64],
    class_code: int,
    scale: list[float],
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.floating]: ...

# SMOTE variants (rust/python/src/variants.rs)
def interpolate(
    x: npt.NDArray[np.floating],
    bases: npt.NDArray[np.int64],
    graph: npt.NDArray[np.int64],
    n: int,
    counts: list[int] | None,
    other: npt.NDArray[np.bool_] | None,
    method: str,
    class_code: int,
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.floating]: ...
def smotenc(
    num: npt.NDArray[np.floating],
    cat: npt.NDArray[np.uint32],
    rows: npt.NDArray[np.int64],
    class_code: int,
    n_new: int,
    k: int,
    penalty: float,
    graph: npt.NDArray[np.int64] | None,
    seed: int,
    n_threads: int = 0,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.uint32]]: ...
def smoten(
    cat: npt.NDArray[np.uint32],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    levels: list[int],
    n_new: list[int],
    k: int,
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.uint32]: ...

# Under-sampling and cleaning (rust/python/src/under_sampling.rs)
def random_under_sample_indices(
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targets: list[int | None],
    replacement: bool,
    seed: int,
) -> npt.NDArray[np.int64]: ...
def edited_nearest_neighbours(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targeted: list[bool],
    k: int,
    mode: bool,
    n_threads: int = 0,
    segments: npt.NDArray[np.int64] | None = None,
    segments_first: int = 0,
) -> npt.NDArray[np.int64]: ...
def tomek_links(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targeted: list[bool],
    n_threads: int = 0,
    segments: npt.NDArray[np.int64] | None = None,
    segments_first: int = 0,
) -> npt.NDArray[np.int64]: ...

# Neighbour searches (rust/python/src/neighbors.rs)

@final
class HnswGraph:
    """A built HNSW graph, kept apart from its data."""

    @property
    def memory_bytes(self) -> int: ...
    @property
    def n_rows(self) -> int: ...

def fma_peak_gflops(iters: int = 20_000_000, n_threads: int = 0) -> float: ...
def kneighbors(
    x: npt.NDArray[np.floating],
    k: int,
    queries: npt.NDArray[np.floating] | None = None,
    rows: npt.NDArray[np.int64] | None = None,
    algorithm: str = "auto",
    graph: HnswGraph | None = None,
    m: int | None = None,
    ef_construction: int | None = None,
    ef_search: int | None = None,
    seed: int | None = None,
    n_threads: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def hnsw_build(
    x: npt.NDArray[np.floating],
    m: int | None = None,
    ef_construction: int | None = None,
    seed: int | None = None,
    n_threads: int = 0,
) -> HnswGraph: ...
def hnsw_defaults() -> dict[str, int]: ...
def index_memory_bytes(x: npt.NDArray[np.floating], algorithm: str = "exact") -> int: ...

# Batch samplers (rust/python/src/batch.rs)

@final
class BatchPlan:
    def __new__(
        cls,
        codes: npt.NDArray[np.uint32],
        n_classes: int,
        weights: list[int],
        batch_size: int,
        num_batches: int | None,
        drop_last: bool,
        seed: int,
        rank: int,
        world_size: int,
    ) -> BatchPlan: ...
    @staticmethod
    def from_parts(
        rows: npt.NDArray[np.uint32] | npt.NDArray[np.uint64],
        offsets: list[int],
        weights: list[int],
        batch_size: int,
        num_batches: int | None,
        drop_last: bool,
        seed: int,
        rank: int,
        world_size: int,
    ) -> BatchPlan: ...
    def parts(self) -> tuple[npt.NDArray[np.unsignedinteger], list[int]]: ...
    def __len__(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def global_batches(self) -> int: ...
    @property
    def rows_per_epoch(self) -> int: ...
    @property
    def draws_per_epoch(self) -> list[int]: ...
    @property
    def class_counts(self) -> list[int]: ...
    def epoch_indices(
        self, epoch: int, n_threads: int = 0
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
    def composition(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]: ...
    def cursor(self, epoch: int) -> EpochCursor: ...

@final
class EpochCursor:
    def next_block(
        self, max_batches: int, n_threads: int = 0
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...

def online_smote_draws(
    seed: int, class_code: int, batch: int, n: int, k: int
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]: ...
def apportion_batches(
    weights: list[int], batch_size: int, n_batches: int, total_rows: int
) -> npt.NDArray[np.uint64]: ...

# Record batch columns to rows, for both streaming engines (rust/python/src/streaming.rs)

def rows_from_columns(
    columns: list[npt.NDArray[np.floating]], dtype: str, n_threads: int = 0
) -> tuple[npt.NDArray[np.floating], tuple[int, int, bool] | None]: ...

# Chunked exact neighbours (rust/python/src/chunks.rs)
def chunk_knn(
    x: npt.NDArray[np.floating],
    pos: npt.NDArray[np.int64],
    queries: npt.NDArray[np.floating],
    query_pos: npt.NDArray[np.int64],
    k: int,
    n_threads: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def merge_knn(
    a_sq: npt.NDArray[np.float64],
    a_pos: npt.NDArray[np.int64],
    b_sq: npt.NDArray[np.float64],
    b_pos: npt.NDArray[np.int64],
    n_threads: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
