//! Bindings of the SMOTE variants: Borderline-SMOTE and ADASYN (neighbours among all rows, then
//! interpolation), SMOTE-NC and SMOTE-N (on categorical codes, never one-hot).

use equipoise_core::{self as core, Float};
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::common::{graph_of, row_indices, run, Res};
use crate::with_features;

/// Row-major `n x d` rows into a column-major `n x d` array, for frames (one column each): the
/// columns are cut into groups of 8 (one cache line of `f64` per row), each group a parallel task
/// reading its part of every row once and writing 8 sequential columns.
fn column_major<F: Copy + Send + Sync + Default>(src: &[F], n: usize, d: usize) -> Array2<F> {
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

type KnnArrays<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<i64>>);

/// The k nearest other rows of `x` (row indices of `x`) of each row listed in `rows`.
#[pyfunction]
#[pyo3(signature = (x, rows, k, n_threads=0))]
fn kneighbors_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    rows: PyReadonlyArray1<'py, i64>,
    k: usize,
    n_threads: usize,
) -> PyResult<KnnArrays<'py>> {
    use core::neighbors::BruteForce;
    let rows = row_indices(&rows)?;
    let nb = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            BruteForce::new(v).query_rows_self(&rows, k)
        })?
    });
    Ok((
        nb.distances.into_pyarray(py),
        nb.indices.mapv(|v| v as i64).into_pyarray(py),
    ))
}

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
    let other_slice = match &other {
        Some(o) => Some(
            o.as_slice()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        ),
        None => None,
    };
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
    let codes = codes
        .as_slice()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = run(py, n_threads, || {
        core::over_sampling::smoten(cv, codes, n_classes, &levels, &n_new, k, seed)
    })?;
    Ok(out.into_pyarray(py))
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
    let total = crate::common::checked_sum(n_new, "SMOTE")?;
    crate::common::checked_bytes(&[total, d, std::mem::size_of::<F>()], "SMOTE's new rows")?;
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
    let rows = crate::common::codes_and_rows(&codes, n_classes)?;
    let graphs = graphs
        .iter()
        .map(|g| g.as_ref().map(graph_of).transpose())
        .collect::<PyResult<Vec<_>>>()?;
    Ok(with_features!(x, |a| smote_new_impl(
        py, a, &rows, &n_new, k, &graphs, seed, n_threads
    )?
    .into_any()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(smote_new_rows, m)?)?;
    m.add_function(wrap_pyfunction!(kneighbors_rows, m)?)?;
    m.add_function(wrap_pyfunction!(interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(smotenc, m)?)?;
    m.add_function(wrap_pyfunction!(smoten, m)?)?;
    Ok(())
}
