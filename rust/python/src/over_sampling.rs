//! Bindings of SMOTE and random over-sampling (`equipoise_core::over_sampling`).

use equipoise_core::{self as core, Float};
use ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::common::{
    alloc_rows, checked_bytes, checked_sum, codes_and_rows, column_major, graphs_of, indices_to_py,
    row_indices, run, slice_of, Res,
};
use crate::{return_for_int_labels, with_features};

/// What a SMOTE call asks of the core beside `x`: each row's class code, the number of classes,
/// the rows to make per class, `k`, the neighbour graphs handed in, the seed and the threads.
struct SmoteArgs<'a> {
    codes: &'a [u32],
    n_classes: usize,
    n_new: Vec<usize>,
    k: usize,
    graphs: Vec<Option<Array2<usize>>>,
    seed: u64,
    n_threads: usize,
}

fn smote_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    a: SmoteArgs<'_>,
    segments: Option<&Bound<'py, PyArray2<i64>>>,
    beside: impl FnOnce() -> core::Result<()> + Send,
) -> Res<Bound<'py, PyArray2<F>>> {
    let SmoteArgs {
        codes,
        n_classes,
        n_new,
        k,
        graphs,
        seed,
        n_threads,
    } = a;
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let total = checked_sum(&n_new, "SMOTE")?;
    check_segments(segments, total)?;
    let out = alloc_rows::<F>(py, checked_sum(&[n, total], "SMOTE")?, d)?;
    let mut pairs = segments.map(|_| vec![[0usize; 2]; total]);
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        let xv = x.as_array();
        // One pass: x copied into the output and checked for NaN and infinity as it is copied,
        // beside the search of the classes to grow and the making of their new rows.
        // `beside` (the output labels, when asked) runs on the same pool, beside that pass.
        run(py, n_threads, || {
            let (made, other) = rayon::join(
                || {
                    core::over_sampling::smote_full(
                        xv,
                        codes,
                        n_classes,
                        &n_new,
                        k,
                        &graphs,
                        seed,
                        buf,
                        pairs.as_deref_mut(),
                    )
                },
                beside,
            );
            made.and(other)
        })?;
    }
    if let (Some(seg), Some(pairs)) = (segments, pairs) {
        write_segments(seg, &pairs);
    }
    Ok(out)
}

/// Checks that `segments`, when given, has one row per new row: shape `(n, 2)`.
fn check_segments(segments: Option<&Bound<'_, PyArray2<i64>>>, n: usize) -> Res<()> {
    match segments.map(|s| s.dims()) {
        Some(dim) if dim != ndarray::Dim([n, 2]) => Err(crate::common::Error(
            pyo3::exceptions::PyValueError::new_err(format!(
                "segments must have shape ({n}, 2), got {:?}",
                (dim[0], dim[1])
            )),
        )),
        _ => Ok(()),
    }
}

/// Each new row's two rows into `segments` (of the shape [`check_segments`] checked).
fn write_segments(segments: &Bound<'_, PyArray2<i64>>, pairs: &[[usize; 2]]) {
    let mut w = segments.readwrite();
    for (mut r, p) in w.as_array_mut().outer_iter_mut().zip(pairs) {
        r[0] = p[0] as i64;
        r[1] = p[1] as i64;
    }
}

/// SMOTE: `X` followed by `n_new[c]` synthetic rows of each class code `c`. With `segments` (an
/// `int64` array of shape `(sum(n_new), 2)`), each new row's two rows of `X` are written there.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (x, codes, n_classes, n_new, k, graphs, seed, n_threads=0, segments=None))]
fn smote<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    n_new: Vec<usize>,
    k: usize,
    graphs: Vec<Option<PyReadonlyArray2<'py, i64>>>,
    seed: u64,
    n_threads: usize,
    segments: Option<Bound<'py, PyArray2<i64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let codes = slice_of(&codes);
    let args = SmoteArgs {
        codes: &codes,
        n_classes,
        n_new,
        k,
        graphs: graphs_of(&graphs)?,
        seed,
        n_threads,
    };
    Ok(with_features!(x, |a| smote_impl(
        py,
        a,
        args,
        segments.as_ref(),
        || Ok(())
    )?
    .into_any()))
}

/// [`smote`] and its output labels in one call: `y` followed by `n_new[c]` copies of
/// `classes[c]`, written beside the rows (a separate call after it took 0.8-1.4 ms of a 1M-row
/// SMOTE's 22, most of it faulting in the labels' fresh pages on one thread at a time). None
/// when `classes` is not of `y`'s dtype.
fn smote_labeled_impl<'py, F: Float + numpy::Element, T: numpy::Element + Copy + Send + Sync>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    args: SmoteArgs<'_>,
    segments: Option<&Bound<'py, PyArray2<i64>>>,
    y: &PyReadonlyArray1<'py, T>,
    classes: &Bound<'py, PyAny>,
) -> Res<Option<Bound<'py, PyAny>>> {
    let Ok(classes) = classes.extract::<PyReadonlyArray1<'py, T>>() else {
        return Ok(None);
    };
    let ys = slice_of(y);
    let (fill, total) = crate::runtime::label_fill(&slice_of(&classes), &args.n_new, ys.len())?;
    // SAFETY: integers have no invalid bit patterns, and the array reaches Python only after the
    // core wrote every label (on an error it is dropped unread).
    let y_out = unsafe { PyArray1::<T>::new(py, [total], false) };
    let out = {
        let mut w = y_out.readwrite();
        let ybuf = w.as_slice_mut().expect("fresh array is contiguous");
        smote_impl(py, x, args, segments, move || {
            core::classes::grown_labels(&ys, &fill, ybuf)
        })?
    };
    let both = pyo3::types::PyTuple::new(py, [out.into_any(), y_out.into_any()])?;
    Ok(Some(both.into_any()))
}

/// [`smote`] with its output labels: `(X_res, y_res)`, or None when `y` and `classes` are not
/// integer arrays of one dtype the core takes (the caller then makes the labels itself).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (x, codes, n_classes, n_new, k, graphs, seed, y, classes, n_threads=0, segments=None))]
fn smote_labeled<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    n_new: Vec<usize>,
    k: usize,
    graphs: Vec<Option<PyReadonlyArray2<'py, i64>>>,
    seed: u64,
    y: &Bound<'py, PyAny>,
    classes: &Bound<'py, PyAny>,
    n_threads: usize,
    segments: Option<Bound<'py, PyArray2<i64>>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let codes = slice_of(&codes);
    let args = SmoteArgs {
        codes: &codes,
        n_classes,
        n_new,
        k,
        graphs: graphs_of(&graphs)?,
        seed,
        n_threads,
    };
    return_for_int_labels!(y, |ya| Ok(with_features!(x, |a| smote_labeled_impl(
        py,
        a,
        args,
        segments.as_ref(),
        &ya,
        classes
    )?)));
    Ok(None)
}

fn smote_new_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    rows: &[Vec<usize>],
    n_new: &[usize],
    k: usize,
    graphs: &[Option<Array2<usize>>],
    seed: u64,
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    let d = x.shape()[1];
    let total = checked_sum(n_new, "SMOTE")?;
    checked_bytes(&[total, d, std::mem::size_of::<F>()], "SMOTE's new rows")?;
    let xv = x.as_array();
    let out = run(py, n_threads, || {
        core::validate::check_finite(xv)?;
        let mut buf = vec![F::zero(); total * d];
        core::over_sampling::smote(xv, rows, n_new, k, graphs, seed, &mut buf)?;
        Ok(column_major(&buf, total, d))
    })?;
    Ok(out.into_pyarray(py))
}

/// SMOTE's new rows only (for frames, whose input rows are kept as they are): the same rows as
/// `smote(...)[n:]`, column-major, without copying `x` into the output.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, n_new, k, graphs, seed, n_threads=0))]
fn smote_new_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    n_new: Vec<usize>,
    k: usize,
    graphs: Vec<Option<PyReadonlyArray2<'py, i64>>>,
    seed: u64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let rows = codes_and_rows(&codes, n_classes)?;
    let graphs = graphs_of(&graphs)?;
    Ok(with_features!(x, |a| smote_new_impl(
        py, a, &rows, &n_new, k, &graphs, seed, n_threads
    )?
    .into_any()))
}

/// Indices of a random over-sampling: `0..n`, then the bootstrap of each class in code order.
#[pyfunction]
#[pyo3(signature = (codes, n_classes, n_new, seed, n_threads=0))]
fn random_over_sample_indices<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    n_new: Vec<usize>,
    seed: u64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let rows = codes_and_rows(&codes, n_classes)?;
    let n_out = checked_sum(
        &[codes.len(), checked_sum(&n_new, "RandomOverSampler")?],
        "RandomOverSampler",
    )?;
    checked_bytes(&[n_out, 16], "RandomOverSampler's row indices")?;
    let idx = run(py, n_threads, || {
        core::over_sampling::random_over_sample_indices(&rows, &n_new, seed)
    })?;
    Ok(indices_to_py(py, idx))
}

fn bootstrap_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    idx: &[usize],
    class: u32,
    scale: &[f64],
    seed: u64,
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    let d = x.shape()[1];
    let out = alloc_rows::<F>(py, idx.len(), d)?;
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        let xv = x.as_array();
        run(py, n_threads, || {
            core::over_sampling::smoothed_bootstrap(xv, idx, class, scale, seed, buf)
        })?;
    }
    Ok(out)
}

/// Smoothed bootstrap rows `x[idx] + scale * N(0, 1)`.
#[pyfunction]
#[pyo3(signature = (x, idx, class_code, scale, seed, n_threads=0))]
fn smoothed_bootstrap<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    idx: PyReadonlyArray1<'py, i64>,
    class_code: u32,
    scale: Vec<f64>,
    seed: u64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let idx = row_indices(&idx)?;
    Ok(with_features!(x, |a| bootstrap_impl(
        py, a, &idx, class_code, &scale, seed, n_threads
    )?
    .into_any()))
}

#[allow(clippy::too_many_arguments)]
fn smote_block_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    class_x: PyReadonlyArray2<'py, F>,
    graph: Array2<usize>,
    class_code: u32,
    first_chunk: u64,
    n: usize,
    seed: u64,
    n_threads: usize,
    segments: Option<&Bound<'py, PyArray2<i64>>>,
) -> Res<Bound<'py, PyArray2<F>>> {
    let d = class_x.shape()[1];
    checked_bytes(&[n, d, std::mem::size_of::<F>()], "SMOTE's new rows")?;
    check_segments(segments, n)?;
    let xv = class_x.as_array();
    let mut pairs = segments.map(|_| vec![[0usize; 2]; n]);
    let out = run(py, n_threads, || {
        core::validate::check_finite(xv)?;
        let mut buf = vec![F::zero(); n * d];
        core::over_sampling::smote_class_block(
            xv,
            &graph,
            class_code,
            first_chunk,
            seed,
            &mut buf,
            pairs.as_deref_mut(),
        )?;
        Ok(column_major(&buf, n, d))
    })?;
    if let (Some(seg), Some(pairs)) = (segments, pairs) {
        write_segments(seg, &pairs);
    }
    Ok(out.into_pyarray(py))
}

/// `n` SMOTE rows of class code `class_code` from chunk `first_chunk` on (`first_chunk * 4096` rows
/// into the class's new rows), from the class's rows `class_x` in order and their neighbour graph:
/// the same rows as that stretch of `smote_new_rows`, column-major. Any stretch can be made
/// anywhere (a Spark task), with the same result. With `segments` (an `int64` array of shape
/// `(n, 2)`), each new row's two rows of `class_x` are written there.
#[pyfunction]
#[pyo3(signature = (class_x, graph, class_code, first_chunk, n, seed, n_threads=0, segments=None))]
#[allow(clippy::too_many_arguments)]
fn smote_block<'py>(
    py: Python<'py>,
    class_x: &Bound<'py, PyAny>,
    graph: PyReadonlyArray2<'py, i64>,
    class_code: u32,
    first_chunk: u64,
    n: usize,
    seed: u64,
    n_threads: usize,
    segments: Option<Bound<'py, PyArray2<i64>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let graph = crate::common::graph_of(&graph)?;
    Ok(with_features!(class_x, |a| smote_block_impl(
        py,
        a,
        graph,
        class_code,
        first_chunk,
        n,
        seed,
        n_threads,
        segments.as_ref()
    )?
    .into_any()))
}

/// Rows per random stream of SMOTE: a block made by `smote_block` starts at a multiple of it.
#[pyfunction]
fn smote_chunk_rows() -> usize {
    core::rng::CHUNK
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(smote, m)?)?;
    m.add_function(wrap_pyfunction!(smote_labeled, m)?)?;
    m.add_function(wrap_pyfunction!(smote_block, m)?)?;
    m.add_function(wrap_pyfunction!(smote_chunk_rows, m)?)?;
    m.add_function(wrap_pyfunction!(smote_new_rows, m)?)?;
    m.add_function(wrap_pyfunction!(random_over_sample_indices, m)?)?;
    m.add_function(wrap_pyfunction!(smoothed_bootstrap, m)?)?;
    Ok(())
}
