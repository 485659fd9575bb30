"""Type stubs of the compiled core. These functions are internal: use the estimators."""

from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "check_finite",
    "default_threads",
    "kneighbors_self",
    "random_over_sample_indices",
    "random_under_sample_indices",
    "smote",
    "smoothed_bootstrap",
    "take_rows",
    "_panic_for_test",
    "online_smote_draws",
    "apportion_batches",
    "BatchPlan",
    "EpochCursor",
]

__version__: str

def smote(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    n_new: list[int],
    k: int,
    graphs: list[npt.NDArray[np.int64] | None],
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.floating]: ...
def kneighbors_self(
    x: npt.NDArray[np.floating], k: int, n_threads: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def random_over_sample_indices(
    codes: npt.NDArray[np.uint32], n_classes: int, n_new: list[int], seed: int, n_threads: int = 0
) -> npt.NDArray[np.int64]: ...
def random_under_sample_indices(
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targets: list[int | None],
    replacement: bool,
    seed: int,
) -> npt.NDArray[np.int64]: ...
def take_rows(
    x: npt.NDArray[np.floating], idx: npt.NDArray[np.int64], n_threads: int = 0
) -> npt.NDArray[np.floating]: ...
def smoothed_bootstrap(
    x: npt.NDArray[np.floating],
    idx: npt.NDArray[np.int64],
    class_code: int,
    scale: list[float],
    seed: int,
    n_threads: int = 0,
) -> npt.NDArray[np.floating]: ...
def check_finite(x: npt.NDArray[np.floating], n_threads: int = 0) -> None: ...
def default_threads() -> int: ...
def _panic_for_test() -> None: ...

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
