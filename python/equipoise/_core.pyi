"""Type stubs of the compiled core. These functions are internal: use the estimators."""

import numpy as np
import numpy.typing as npt

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
def edited_nearest_neighbours(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targeted: list[bool],
    k: int,
    mode: bool,
    n_threads: int = 0,
) -> npt.NDArray[np.int64]: ...
def tomek_links(
    x: npt.NDArray[np.floating],
    codes: npt.NDArray[np.uint32],
    n_classes: int,
    targeted: list[bool],
    n_threads: int = 0,
) -> npt.NDArray[np.int64]: ...
def knn_of_rows(
    x: npt.NDArray[np.floating], rows: npt.NDArray[np.int64], k: int, n_threads: int = 0
) -> npt.NDArray[np.int64]: ...
def knn_query(
    data: npt.NDArray[np.floating], queries: npt.NDArray[np.floating], k: int, n_threads: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
