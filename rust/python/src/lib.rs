//! pyo3 bindings of equipoise-core: extract arguments, release the GIL, call the core, convert.
//! No algorithm lives here.

mod batch;
mod cleaning;
mod common;
mod neighbors;
mod variants;

use common::{
    alloc_rows, checked_sum, codes_and_rows, copy_into, graph_of, row_indices, run, Error, Res,
};
use equipoise_core::{self as core, Float};
use ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn smote_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    rows: Vec<Vec<usize>>,
    n_new: Vec<usize>,
    k: usize,
    graphs: Vec<Option<Array2<usize>>>,
    seed: u64,
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let total = checked_sum(&n_new, "SMOTE")?;
    let out = alloc_rows::<F>(py, checked_sum(&[n, total], "SMOTE")?, d)?;
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        let xv = x.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(xv)?;
            let (head, tail) = buf.split_at_mut(n * d);
            copy_into(xv, head);
            core::over_sampling::smote(xv, &rows, &n_new, k, &graphs, seed, tail)
        })?;
    }
    Ok(out)
}

/// SMOTE: `X` followed by `n_new[c]` synthetic rows of each class code `c`.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, n_new, k, graphs, seed, n_threads=0))]
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
) -> PyResult<Bound<'py, PyAny>> {
    let rows = codes_and_rows(&codes, n_classes)?;
    let owned_graphs = graphs
        .iter()
        .map(|g| g.as_ref().map(graph_of).transpose())
        .collect::<PyResult<Vec<_>>>()?;
    Ok(with_features!(x, |a| smote_impl(
        py,
        a,
        rows,
        n_new,
        k,
        owned_graphs,
        seed,
        n_threads
    )?
    .into_any()))
}

/// (distances, indices) of a neighbour search.
type KnnArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

/// The k nearest same-class neighbours (positions within the class) of each row of one class.
#[pyfunction]
#[pyo3(signature = (x, k, n_threads=0))]
fn kneighbors_self<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    k: usize,
    n_threads: usize,
) -> PyResult<KnnArrays<'py>> {
    use equipoise_core::neighbors::{BruteForce, KnnIndex};
    let nb = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            BruteForce::new(v).query_self(k)
        })?
    });
    Ok((
        nb.distances.into_pyarray(py),
        nb.indices.mapv(|v| v as i64).into_pyarray(py),
    ))
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
        "",
    )?;
    common::checked_bytes(&[n_out, 16], "RandomOverSampler's row indices")?;
    let idx = run(py, n_threads, || {
        core::over_sampling::random_over_sample_indices(&rows, &n_new, seed)
    })?;
    Ok(idx
        .into_iter()
        .map(|v| v as i64)
        .collect::<Vec<_>>()
        .into_pyarray(py))
}

/// Indices kept by a random under-sampling, class by class in code order.
#[pyfunction]
#[pyo3(signature = (codes, n_classes, targets, replacement, seed))]
fn random_under_sample_indices<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    targets: Vec<Option<usize>>,
    replacement: bool,
    seed: u64,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let rows = codes_and_rows(&codes, n_classes)?;
    let idx = run(py, 1, || {
        core::under_sampling::random_under_sample_indices(&rows, &targets, replacement, seed)
    })?;
    Ok(idx
        .into_iter()
        .map(|v| v as i64)
        .collect::<Vec<_>>()
        .into_pyarray(py))
}

fn take_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    idx: &[usize],
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    use rayon::prelude::*;
    let (n, d) = (x.shape()[0], x.shape()[1]);
    if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
        return Err(Error(PyValueError::new_err(format!(
            "row index {bad} is out of range for {n} rows"
        ))));
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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(smote, m)?)?;
    m.add_function(wrap_pyfunction!(kneighbors_self, m)?)?;
    m.add_function(wrap_pyfunction!(random_over_sample_indices, m)?)?;
    m.add_function(wrap_pyfunction!(random_under_sample_indices, m)?)?;
    m.add_function(wrap_pyfunction!(take_rows, m)?)?;
    m.add_function(wrap_pyfunction!(smoothed_bootstrap, m)?)?;
    m.add_function(wrap_pyfunction!(check_finite, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    batch::register(m)?;
    variants::register(m)?;
    neighbors::register(m)?;
    cleaning::register(m)?;
    Ok(())
}
