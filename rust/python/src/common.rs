//! What every binding module shares, written once: the error conversion, the GIL-free panic-safe
//! and interruptible runner, the float-dtype dispatch, and the conversions of arguments and results (index arrays in
//! and out, a borrowed-or-copied 1-D array, the k-NN output arrays, row-major and column-major
//! output buffers).

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use equipoise_core::neighbors::Neighbors;
use equipoise_core::{self as core, CoreError, Float};
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Row indices from Python (int64) as `usize`; a negative one is a `ValueError`.
pub(crate) fn row_indices(a: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    a.as_array()
        .iter()
        .map(|&v| usize::try_from(v).map_err(|_| PyValueError::new_err("row indices must be >= 0")))
        .collect()
}

/// Optional row indices (see [`row_indices`]).
pub(crate) fn optional_row_indices(
    a: Option<PyReadonlyArray1<'_, i64>>,
) -> PyResult<Option<Vec<usize>>> {
    a.map(|r| row_indices(&r)).transpose()
}

/// Row indices of the core as the int64 array Python indexes with.
pub(crate) fn indices_to_py(py: Python<'_>, idx: Vec<usize>) -> Bound<'_, PyArray1<i64>> {
    idx.into_iter()
        .map(|v| v as i64)
        .collect::<Vec<_>>()
        .into_pyarray(py)
}

/// The elements of a 1-D array: borrowed when it is contiguous, else copied once (a strided view
/// such as `codes[::2]` is valid input, not an error).
pub(crate) fn slice_of<'a, T: numpy::Element + Copy>(
    a: &'a PyReadonlyArray1<'_, T>,
) -> Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().iter().copied().collect()),
    }
}

/// (distances, indices) of a neighbour search, as Python receives them.
pub(crate) type KnnArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

/// A neighbour search's result as (distances float64, indices int64), each `n_queries x k`.
pub(crate) fn knn_arrays(py: Python<'_>, nb: Neighbors) -> KnnArrays<'_> {
    (
        nb.distances.into_pyarray(py),
        nb.indices.mapv(|v| v as i64).into_pyarray(py),
    )
}

/// The one place where core errors become Python exceptions.
pub(crate) struct Error(pub(crate) PyErr);

impl From<CoreError> for Error {
    fn from(e: CoreError) -> Self {
        match e {
            // Normally the signal handler's own exception is raised instead (see `run`); this is
            // the same exception for a stop without one.
            CoreError::Interrupted => Error(PyKeyboardInterrupt::new_err(())),
            e => Error(PyValueError::new_err(e.to_string())),
        }
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        e.0
    }
}

pub(crate) type Res<T> = Result<T, Error>;

/// How often a call from the main thread looks for a pending signal (Ctrl-C) while the core works.
/// Each look takes the GIL for a moment; the core then stops within tens of milliseconds.
const SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// Whether this is the main thread of the process, the one thread Python runs signal handlers on
/// (`threading.main_thread()`, which a forked child resets to its forking thread).
fn on_main_thread(py: Python<'_>) -> PyResult<bool> {
    static GET_IDENT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static MAIN_THREAD: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get_ident = GET_IDENT.import(py, "threading", "get_ident")?;
    let main_thread = MAIN_THREAD.import(py, "threading", "main_thread")?;
    let main = main_thread.call0()?.getattr("ident")?;
    get_ident.call0()?.eq(main)
}

/// Run `f` without the GIL on a pool of `n_threads`, turning a panic into a `RuntimeError` so that
/// none crosses into Python as a crash.
///
/// On the main thread the call is interruptible: while the core works, this thread takes the GIL
/// every `SIGNAL_POLL` to run Python's pending signal handlers (`Python::check_signals`, as polars
/// does around its long calls). When a handler raises (Ctrl-C's `KeyboardInterrupt`), the core is
/// asked to stop (`equipoise_core::cancel`), its partial work is dropped, and that exception is
/// raised here. Other threads never receive signals: their calls just run, on the shared pools.
pub(crate) fn run<R: Send>(
    py: Python<'_>,
    n_threads: usize,
    f: impl FnOnce() -> core::Result<R> + Send,
) -> Res<R> {
    // At interpreter shutdown `threading` may be gone: the call then just runs, uninterruptible.
    let main = on_main_thread(py).unwrap_or(false);
    let mut raised: Option<PyErr> = None;
    let out = py.detach(|| {
        let start = std::time::Instant::now();
        let out =
            catch_unwind(AssertUnwindSafe(|| {
                if main {
                    core::threads::run_interruptible(n_threads, f, SIGNAL_POLL, || {
                        match Python::attach(|py| py.check_signals()) {
                            Ok(()) => false,
                            Err(e) => {
                                raised = Some(e);
                                true
                            }
                        }
                    })
                } else {
                    core::threads::run_with_threads(n_threads, f)
                }
            }));
        // Only a call that ran long enough to have built large scratch is worth the trim (about a
        // millisecond, more in a process with a large heap): the per-batch calls of the batch
        // samplers in a training loop skip it.
        if start.elapsed() >= TRIM_AFTER {
            release_free_memory();
        }
        out
    });
    if let Some(e) = raised {
        // The handler's exception, whatever the core returned: Python raises it at this point.
        return Err(Error(e));
    }
    match out {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) | Ok(Err(e)) => Err(e.into()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error(PyRuntimeError::new_err(format!(
                "internal error in equipoise's core (please report it): {msg}"
            ))))
        }
    }
}

/// Calls shorter than this leave their freed memory to the allocator.
const TRIM_AFTER: std::time::Duration = std::time::Duration::from_millis(20);

/// Hand the memory a call has freed back to the operating system. glibc keeps freed blocks in its
/// arenas for reuse (and raises its mmap threshold after a large free, so later large blocks stay
/// in the arenas too): without this, a call's scratch (indexes, candidate lists) stays resident
/// after it returns, and the output the caller allocates next (the resampled rows) adds its pages
/// on top, raising the process's peak by the whole scratch. Trimming costs a walk over the free
/// blocks, which is small beside any call that allocated enough to matter.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns free memory of glibc's arenas to the kernel; it is
        // thread-safe and leaves every live allocation alone.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// A feature matrix of one of the supported float types, borrowed from numpy without a copy.
pub(crate) enum Features<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

impl<'py> Features<'py> {
    pub(crate) fn extract(x: &Bound<'py, PyAny>) -> Res<Self> {
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f32>>() {
            return Ok(Features::F32(a));
        }
        if let Ok(a) = x.extract::<PyReadonlyArray2<'py, f64>>() {
            return Ok(Features::F64(a));
        }
        Err(Error(PyTypeError::new_err(
            "X must be a 2-D numpy array of float32 or float64",
        )))
    }
}

/// Dispatch once on the dtype; `$body` is written once over `F`.
#[macro_export]
macro_rules! with_features {
    ($x:expr, |$a:ident| $body:expr) => {
        match $crate::common::Features::extract($x)? {
            $crate::common::Features::F32($a) => $body,
            $crate::common::Features::F64($a) => $body,
        }
    };
}

/// The rows of each class code (`rows[c]`, in row order) from the codes Python hands in.
pub(crate) fn codes_and_rows(
    codes: &PyReadonlyArray1<'_, u32>,
    n_classes: usize,
) -> Res<Vec<Vec<usize>>> {
    Ok(core::classes::class_rows(&slice_of(codes), n_classes)?)
}

/// Bytes of physical memory (Linux `MemTotal`); `usize::MAX` where it cannot be read. The Python
/// side also applies cgroup and `RLIMIT_AS` limits before calling; this is the last line.
fn physical_memory() -> usize {
    static MEM: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MEM.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
                kb.checked_mul(1024)
            })
            .unwrap_or(usize::MAX)
    })
}

/// The byte size of `counts` multiplied out (`what` names it), refused with a `MemoryError`
/// before anything is allocated when the product overflows or exceeds physical memory.
pub(crate) fn checked_bytes(counts: &[usize], what: &str) -> PyResult<usize> {
    let total = counts
        .iter()
        .try_fold(1usize, |a, &c| a.checked_mul(c))
        .filter(|&b| b <= isize::MAX as usize);
    match total {
        Some(b) if b <= physical_memory() => Ok(b),
        _ => {
            let figure: u128 = counts.iter().map(|&c| c as u128).product();
            Err(PyMemoryError::new_err(format!(
                "{what} needs {figure} bytes, more than this machine's {} bytes of memory",
                physical_memory()
            )))
        }
    }
}

/// `a + b + ...` as a row count, a `MemoryError` on overflow.
pub(crate) fn checked_sum(parts: &[usize], what: &str) -> PyResult<usize> {
    parts
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .ok_or_else(|| PyMemoryError::new_err(format!("{what}: the row count overflows")))
}

/// A new C-ordered `n x d` array whose values are not initialised: zeroing hundreds of MiB that
/// are overwritten at once costs as much as writing them. Every caller writes every element before
/// the array reaches Python; on an error the array is dropped unread. A size that overflows or
/// exceeds physical memory is a `MemoryError` before allocating.
pub(crate) fn alloc_rows<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    n: usize,
    d: usize,
) -> PyResult<Bound<'py, PyArray2<F>>> {
    checked_bytes(
        &[n, d, std::mem::size_of::<F>()],
        &format!("an output of {n} rows x {d} features"),
    )?;
    // SAFETY: f32/f64 have no invalid bit patterns and no element is read before it is written
    // (every caller fills the whole array before it reaches Python; on an error it is dropped
    // unread). The parity tests compare every caller's output with imbalanced-learn's.
    Ok(unsafe { PyArray2::<F>::new(py, [n, d], false) })
}

/// A neighbour graph handed in from Python (int64, e.g. a NearestNeighbors' output), as row
/// positions; negative entries are refused.
pub(crate) fn graph_of(g: &PyReadonlyArray2<'_, i64>) -> PyResult<Array2<usize>> {
    let a = g.as_array();
    if a.iter().any(|&v| v < 0) {
        return Err(PyValueError::new_err("neighbour indices must be >= 0"));
    }
    Ok(a.mapv(|v| v as usize))
}

/// Neighbour graphs handed in per class (None: the core searches them).
pub(crate) fn graphs_of(
    graphs: &[Option<PyReadonlyArray2<'_, i64>>],
) -> PyResult<Vec<Option<Array2<usize>>>> {
    graphs
        .iter()
        .map(|g| g.as_ref().map(graph_of).transpose())
        .collect()
}

/// Row-major `n x d` rows into a column-major `n x d` array, for frames (one column each): the
/// columns are cut into groups of 8 (one cache line of `f64` per row), each group a parallel task
/// reading its part of every row once and writing 8 sequential columns.
pub(crate) fn column_major<F: Copy + Send + Sync + Default>(
    src: &[F],
    n: usize,
    d: usize,
) -> Array2<F> {
    use ndarray::ShapeBuilder;
    use rayon::prelude::*;
    const G: usize = 8;
    let mut dst = vec![F::default(); n * d];
    if n > 0 && d > 0 {
        dst.par_chunks_mut(n * G).enumerate().for_each(|(g, cols)| {
            let j0 = g * G;
            let gc = cols.len() / n;
            for i in 0..n {
                let row = &src[i * d + j0..i * d + j0 + gc];
                for (jj, &v) in row.iter().enumerate() {
                    cols[jj * n + i] = v;
                }
            }
        });
    }
    Array2::from_shape_vec((n, d).f(), dst).expect("shape")
}
