//! Bindings of the chunked exact neighbour search (`equipoise_core::neighbors::chunks`): the k
//! nearest rows of an in-memory query set over data that arrives in chunks (Spark partitions,
//! Parquet record batches), merged by (distance, position).

use equipoise_core::neighbors::chunks::{self, Candidates};
use equipoise_core::Float;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::common::{run, slice_of, Error, Res};
use crate::with_features;

type CandidateArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

fn to_py(py: Python<'_>, c: Candidates) -> CandidateArrays<'_> {
    (c.0.into_pyarray(py), c.1.into_pyarray(py))
}

fn chunk_knn_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    pos: &[i64],
    queries: &Bound<'py, PyAny>,
    query_pos: &[i64],
    k: usize,
    n_threads: usize,
) -> Res<CandidateArrays<'py>> {
    let q = queries.extract::<PyReadonlyArray2<'py, F>>().map_err(|_| {
        Error(PyTypeError::new_err(
            "queries must be a 2-D array of the chunk's dtype",
        ))
    })?;
    let (xv, qv) = (x.as_array(), q.as_array());
    let c = run(py, n_threads, || {
        equipoise_core::validate::check_finite(xv)?;
        equipoise_core::validate::check_finite(qv)?;
        chunks::chunk_knn(xv, pos, qv, query_pos, k)
    })?;
    Ok(to_py(py, c))
}

/// The `k` nearest rows of a chunk `x` (positions `pos`, increasing) to each query (positions
/// `query_pos`, -1 for none; a query's own row is excluded): (squared distances, positions).
#[pyfunction]
#[pyo3(signature = (x, pos, queries, query_pos, k, n_threads=0))]
fn chunk_knn<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    pos: PyReadonlyArray1<'py, i64>,
    queries: &Bound<'py, PyAny>,
    query_pos: PyReadonlyArray1<'py, i64>,
    k: usize,
    n_threads: usize,
) -> PyResult<CandidateArrays<'py>> {
    let (pos, query_pos) = (slice_of(&pos), slice_of(&query_pos));
    Ok(with_features!(x, |a| chunk_knn_impl(
        py, a, &pos, queries, &query_pos, k, n_threads
    )?))
}

/// The `k` best of two candidate lists per query, by (squared distance, position).
#[pyfunction]
#[pyo3(signature = (a_sq, a_pos, b_sq, b_pos, n_threads=0))]
fn merge_knn<'py>(
    py: Python<'py>,
    a_sq: PyReadonlyArray2<'py, f64>,
    a_pos: PyReadonlyArray2<'py, i64>,
    b_sq: PyReadonlyArray2<'py, f64>,
    b_pos: PyReadonlyArray2<'py, i64>,
    n_threads: usize,
) -> PyResult<CandidateArrays<'py>> {
    let a = (a_sq.as_array().to_owned(), a_pos.as_array().to_owned());
    let b = (b_sq.as_array().to_owned(), b_pos.as_array().to_owned());
    let c = run(py, n_threads, || chunks::merge_knn(&a, &b))?;
    Ok(to_py(py, c))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(chunk_knn, m)?)?;
    m.add_function(wrap_pyfunction!(merge_knn, m)?)?;
    Ok(())
}
