//! Bindings of the SMOTE variants: Borderline-SMOTE and ADASYN (interpolation on segments to
//! neighbours that Python found with `kneighbors`), SMOTE-NC and SMOTE-N (on categorical codes,
//! never one-hot).

use equipoise_core::{self as core, Float};
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::common::{column_major, graph_of, row_indices, run, slice_of, Res};
use crate::with_features;

fn interpolate_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    bases: &[usize],
    graph: &Array2<usize>,
    draw: core::over_sampling::Draw<'_>,
    other: Option<&[bool]>,
    purpose: core::rng::Purpose,
    class: u32,
    seed: u64,
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    let xv = x.as_array();
    let out = run(py, n_threads, || {
        core::over_sampling::interpolate(xv, bases, graph.view(), draw, other, purpose, class, seed)
    })?;
    Ok(out.into_pyarray(py))
}

/// New rows on segments from `bases` to their neighbours in `graph` (rows of `x`): `n` rows from
/// uniformly drawn pairs, or `counts[b]` rows from base `b` when `counts` is given.
#[pyfunction]
#[pyo3(signature = (x, bases, graph, n, counts, other, method, class_code, seed, n_threads=0))]
fn interpolate<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    bases: PyReadonlyArray1<'py, i64>,
    graph: PyReadonlyArray2<'py, i64>,
    n: usize,
    counts: Option<Vec<usize>>,
    other: Option<PyReadonlyArray1<'py, bool>>,
    method: &str,
    class_code: u32,
    seed: u64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    use core::rng::Purpose;
    let purpose = match method {
        "borderline" => Purpose::Borderline,
        "adasyn" => Purpose::Adasyn,
        _ => return Err(PyValueError::new_err(format!("unknown method {method:?}"))),
    };
    let bases = row_indices(&bases)?;
    let graph = graph_of(&graph)?;
    let other = other.as_ref().map(slice_of);
    let other_slice = other.as_deref();
    Ok(with_features!(x, |a| {
        let draw = match &counts {
            Some(c) => core::over_sampling::Draw::PerBase(c),
            None => core::over_sampling::Draw::Pairs(n),
        };
        interpolate_impl(
            py,
            a,
            &bases,
            &graph,
            draw,
            other_slice,
            purpose,
            class_code,
            seed,
            n_threads,
        )?
        .into_any()
    }))
}

type MixedRows<'py> = (Bound<'py, PyAny>, Bound<'py, PyArray2<u32>>);

fn smotenc_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    num: PyReadonlyArray2<'py, F>,
    cat: &PyReadonlyArray2<'py, u32>,
    rows: &[usize],
    class: u32,
    n_new: usize,
    k: usize,
    penalty: f64,
    graph: Option<Array2<usize>>,
    seed: u64,
    n_threads: usize,
) -> Res<MixedRows<'py>> {
    let (nv, cv) = (num.as_array(), cat.as_array());
    let (xn, xc) = run(py, n_threads, || {
        let (xn, xc) =
            core::over_sampling::smotenc(nv, cv, rows, class, n_new, k, penalty, graph, seed)?;
        let (m, dn) = xn.dim();
        let xn = column_major(xn.as_slice().expect("row-major"), m, dn);
        Ok((xn, xc))
    })?;
    Ok((xn.into_pyarray(py).into_any(), xc.into_pyarray(py)))
}

/// SMOTE-NC rows of one class: (numeric rows in the dtype of `num`, column-major, category codes).
#[pyfunction]
#[pyo3(signature = (num, cat, rows, class_code, n_new, k, penalty, graph, seed, n_threads=0))]
fn smotenc<'py>(
    py: Python<'py>,
    num: &Bound<'py, PyAny>,
    cat: PyReadonlyArray2<'py, u32>,
    rows: PyReadonlyArray1<'py, i64>,
    class_code: u32,
    n_new: usize,
    k: usize,
    penalty: f64,
    graph: Option<PyReadonlyArray2<'py, i64>>,
    seed: u64,
    n_threads: usize,
) -> PyResult<MixedRows<'py>> {
    let rows = row_indices(&rows)?;
    let graph = graph.as_ref().map(graph_of).transpose()?;
    Ok(with_features!(num, |a| smotenc_impl(
        py, a, &cat, &rows, class_code, n_new, k, penalty, graph, seed, n_threads
    )?))
}

/// SMOTE-N rows of every class (`n_new[c]` of class code `c`, in code order), as category codes.
#[pyfunction]
#[pyo3(signature = (cat, codes, n_classes, levels, n_new, k, seed, n_threads=0))]
fn smoten<'py>(
    py: Python<'py>,
    cat: PyReadonlyArray2<'py, u32>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    levels: Vec<usize>,
    n_new: Vec<usize>,
    k: usize,
    seed: u64,
    n_threads: usize,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let cv = cat.as_array();
    let codes = slice_of(&codes);
    let out = run(py, n_threads, || {
        core::over_sampling::smoten(cv, &codes, n_classes, &levels, &n_new, k, seed)
    })?;
    Ok(out.into_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(smotenc, m)?)?;
    m.add_function(wrap_pyfunction!(smoten, m)?)?;
    Ok(())
}
