//! Bindings of the cleaning methods (ENN, Tomek links, neighbours of chosen rows).

use equipoise_core as core;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::common::{row_indices, run, Res};
use crate::with_features;

fn to_py_indices<'py>(py: Python<'py>, idx: Vec<usize>) -> Bound<'py, PyArray1<i64>> {
    idx.into_iter()
        .map(|v| v as i64)
        .collect::<Vec<_>>()
        .into_pyarray(py)
}

fn codes_slice<'a>(codes: &'a PyReadonlyArray1<'_, u32>) -> Res<&'a [u32]> {
    Ok(codes
        .as_slice()
        .map_err(|e| PyValueError::new_err(e.to_string()))?)
}

/// Rows kept by Edited Nearest Neighbours, class by class in code order.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, targeted, k, mode, n_threads=0))]
fn edited_nearest_neighbours<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    targeted: Vec<bool>,
    k: usize,
    mode: bool,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let c = codes_slice(&codes)?;
    let kind = if mode {
        core::under_sampling::KindSel::Mode
    } else {
        core::under_sampling::KindSel::All
    };
    let idx = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::under_sampling::edited_nearest_neighbours(v, c, n_classes, &targeted, k, kind)
        })?
    });
    Ok(to_py_indices(py, idx))
}

/// Rows kept by Tomek links, in row order.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, targeted, n_threads=0))]
fn tomek_links<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    targeted: Vec<bool>,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let c = codes_slice(&codes)?;
    let idx = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::under_sampling::tomek_links(v, c, n_classes, &targeted)
        })?
    });
    Ok(to_py_indices(py, idx))
}

/// The exact k nearest other rows of each of `rows` (itself excluded), by (distance, index).
#[pyfunction]
#[pyo3(signature = (x, rows, k, n_threads=0))]
fn knn_of_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    rows: PyReadonlyArray1<'py, i64>,
    k: usize,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let rows = row_indices(&rows)?;
    let nb = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::under_sampling::knn_of_rows(v, &rows, k)
        })?
    });
    Ok(nb.mapv(|v| v as i64).into_pyarray(py))
}

/// (distances, indices) of a neighbour search.
type KnnArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

/// (distances, indices) of the exact k nearest rows of `data` to each row of `queries`.
#[pyfunction]
#[pyo3(signature = (data, queries, k, n_threads=0))]
fn knn_query<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    queries: &Bound<'py, PyAny>,
    k: usize,
    n_threads: usize,
) -> PyResult<KnnArrays<'py>> {
    let (dist, idx) = with_features!(data, |a| {
        let q = queries
            .extract::<numpy::PyReadonlyArray2<'py, _>>()
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("queries must have the dtype of data")
            })?;
        let (v, qv) = (a.as_array(), q.as_array());
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::validate::check_finite(qv)?;
            core::under_sampling::knn_query(v, qv, k)
        })?
    });
    Ok((
        dist.into_pyarray(py),
        idx.mapv(|v| v as i64).into_pyarray(py),
    ))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(edited_nearest_neighbours, m)?)?;
    m.add_function(wrap_pyfunction!(tomek_links, m)?)?;
    m.add_function(wrap_pyfunction!(knn_of_rows, m)?)?;
    m.add_function(wrap_pyfunction!(knn_query, m)?)?;
    Ok(())
}
