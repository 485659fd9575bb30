//! Bindings that serve every estimator: input checks, label codes, row gathering, the thread
//! count, and the test hook showing that a panic in the core becomes a Python exception.

use equipoise_core::{self as core, CoreError, Float};
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::common::{alloc_rows, row_indices, run, Res};
use crate::with_features;

fn take_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    idx: &[usize],
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    use rayon::prelude::*;
    let (n, d) = (x.shape()[0], x.shape()[1]);
    if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
        return Err(
            CoreError::Shape(format!("row index {bad} is out of range for {n} rows")).into(),
        );
    }
    let out = alloc_rows::<F>(py, idx.len(), d)?;
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        let xv = x.as_array();
        run(py, n_threads, || {
            match xv.as_slice() {
                // Row-major input: whole-row memcpy.
                Some(src) if d > 0 => buf
                    .par_chunks_mut(d)
                    .zip(idx.par_iter())
                    .for_each(|(o, &i)| o.copy_from_slice(&src[i * d..(i + 1) * d])),
                _ => buf
                    .par_chunks_mut(d.max(1))
                    .zip(idx.par_iter())
                    .for_each(|(o, &i)| {
                        o.iter_mut()
                            .zip(xv.row(i).iter())
                            .for_each(|(a, b)| *a = *b)
                    }),
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// `x[idx]` for float matrices, gathered in parallel.
#[pyfunction]
#[pyo3(signature = (x, idx, n_threads=0))]
fn take_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    idx: PyReadonlyArray1<'py, i64>,
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let idx = row_indices(&idx)?;
    Ok(with_features!(x, |a| take_impl(py, a, &idx, n_threads)?.into_any()))
}

/// Raise `ValueError` naming the first NaN or infinite cell of `x`.
#[pyfunction]
#[pyo3(signature = (x, n_threads=0))]
fn check_finite(py: Python<'_>, x: &Bound<'_, PyAny>, n_threads: usize) -> PyResult<()> {
    with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || core::validate::check_finite(v))?
    });
    Ok(())
}

/// Returns `$body` from the enclosing function with `$a` bound to `$y` as a 1-D array of the first
/// integer type (of the types labels are coded in) it extracts as; falls through otherwise.
#[macro_export]
macro_rules! return_for_int_labels {
    ($y:expr, |$a:ident| $body:expr) => {
        return_for_int_labels!(@types $y, $a, $body, i64, i32, i16, i8, u64, u32, u16, u8)
    };
    (@types $y:expr, $a:ident, $body:expr, $($t:ty),*) => {
        $(if let Ok($a) = $y.extract::<PyReadonlyArray1<'_, $t>>() {
            return $body;
        })*
    };
}

/// [`core::classes::dense_label_codes`] as Python receives it: (offsets, counts, lo, codes).
type LabelCodes<'py> = (Vec<u64>, Vec<usize>, i128, Bound<'py, PyArray1<u32>>);

fn label_codes_impl<'py, T>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, T>,
    max_span: u64,
    n_threads: usize,
) -> Res<Option<LabelCodes<'py>>>
where
    T: numpy::Element + core::classes::Label,
{
    let n = y.len();
    // SAFETY: u32 has no invalid bit patterns, and the array reaches Python only after the core
    // wrote every code (on `None` or an error it is dropped unread).
    let codes = unsafe { PyArray1::<u32>::new(py, [n], false) };
    let found = {
        let mut w = codes.readwrite();
        let out = w.as_slice_mut().expect("fresh array is contiguous");
        let y = crate::common::slice_of(&y);
        run(py, n_threads, || {
            core::classes::dense_label_codes(&y, max_span, out)
        })?
    };
    Ok(found.map(|d| (d.offsets, d.counts, d.lo, codes)))
}

/// Dense class codes of integer labels: `(offsets, counts, lo, codes)`, the distinct values being
/// `lo + offsets` (ascending), or None when the values span more than `max_span`.
#[pyfunction]
#[pyo3(signature = (y, max_span, n_threads=0))]
fn label_codes<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    max_span: u64,
    n_threads: usize,
) -> PyResult<Option<LabelCodes<'py>>> {
    return_for_int_labels!(y, |a| Ok(label_codes_impl(py, a, max_span, n_threads)?));
    Err(pyo3::exceptions::PyTypeError::new_err(
        "labels must be a 1-D array of integers",
    ))
}

/// An over-sampler's output labels as [`core::classes::grown_labels`] takes them: `(classes[c],
/// n_new[c])` for each class, and their number with the `n` labels of `y` before them.
pub(crate) fn label_fill<T: Copy>(
    classes: &[T],
    n_new: &[usize],
    n: usize,
) -> Res<(Vec<(T, usize)>, usize)> {
    if classes.len() != n_new.len() {
        return Err(CoreError::Shape(format!(
            "{} classes for {} counts",
            classes.len(),
            n_new.len()
        ))
        .into());
    }
    let fill = classes.iter().copied().zip(n_new.iter().copied()).collect();
    let total =
        crate::common::checked_sum(&[n, crate::common::checked_sum(n_new, "labels")?], "labels")?;
    Ok((fill, total))
}

fn grown_labels_impl<'py, T: numpy::Element + Copy + Send + Sync>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, T>,
    classes: &Bound<'py, PyAny>,
    n_new: &[usize],
    n_threads: usize,
) -> Res<Option<Bound<'py, PyArray1<T>>>> {
    let Ok(classes) = classes.extract::<PyReadonlyArray1<'py, T>>() else {
        return Ok(None);
    };
    let y = crate::common::slice_of(&y);
    let (fill, total) = label_fill(&crate::common::slice_of(&classes), n_new, y.len())?;
    // SAFETY: integers have no invalid bit patterns, and the array reaches Python only after
    // the core wrote every label (on an error it is dropped unread).
    let out = unsafe { PyArray1::<T>::new(py, [total], false) };
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        run(py, n_threads, || {
            core::classes::grown_labels(&y, &fill, buf)
        })?;
    }
    Ok(Some(out))
}

/// An over-sampler's output labels: `y`, then `n_new[c]` copies of `classes[c]` for each class
/// in order (`classes` of `y`'s dtype); None for a dtype the core does not take.
#[pyfunction]
#[pyo3(signature = (y, classes, n_new, n_threads=0))]
fn grown_labels<'py>(
    py: Python<'py>,
    y: &Bound<'py, PyAny>,
    classes: &Bound<'py, PyAny>,
    n_new: Vec<usize>,
    n_threads: usize,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    return_for_int_labels!(y, |a| Ok(grown_labels_impl(
        py, a, classes, &n_new, n_threads
    )?
    .map(|o| o.into_any())));
    Ok(None)
}

/// The number of threads used when `n_jobs` is None.
#[pyfunction]
fn default_threads() -> usize {
    core::threads::default_threads()
}

/// Test hook: panic inside the core, to show that a panic becomes a `RuntimeError`.
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    run(py, 1, || -> core::Result<()> {
        panic!("deliberate test panic")
    })?;
    Ok(())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(take_rows, m)?)?;
    m.add_function(wrap_pyfunction!(check_finite, m)?)?;
    m.add_function(wrap_pyfunction!(label_codes, m)?)?;
    m.add_function(wrap_pyfunction!(grown_labels, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    Ok(())
}
