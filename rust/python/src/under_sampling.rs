//! Bindings of the under-samplers (`equipoise_core::under_sampling`): random under-sampling and
//! the exact cleaning rules, Edited Nearest Neighbours and Tomek links. The neighbour lists the
//! other cleaning samplers need come from `kneighbors` (the `neighbors` module).

use equipoise_core::{
    self as core,
    under_sampling::{Anchors, EnnRule},
};
use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::common::{codes_and_rows, indices_to_py, run, slice_of};
use crate::with_features;

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
    Ok(indices_to_py(py, idx))
}

/// The `(m, 2)` segment pairs of rows `first..first + m` (see `Anchors`), as the core reads them.
fn pairs_of(pairs: Option<PyReadonlyArray2<'_, i64>>) -> PyResult<Option<Vec<[usize; 2]>>> {
    let Some(p) = pairs else { return Ok(None) };
    let a = p.as_array();
    if a.ncols() != 2 {
        return Err(PyValueError::new_err(format!(
            "segment pairs must have 2 columns, got {}",
            a.ncols()
        )));
    }
    a.outer_iter()
        .map(|r| match (usize::try_from(r[0]), usize::try_from(r[1])) {
            (Ok(i), Ok(j)) => Ok([i, j]),
            _ => Err(PyValueError::new_err(
                "segment pairs must be row indices >= 0",
            )),
        })
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

/// Rows kept by Edited Nearest Neighbours, class by class in code order. `mode` is
/// imbalanced-learn's `kind_sel="mode"` (else `"all"`). `segments`: for rows `segments_first`
/// on, the two rows each lies between (SMOTE's new rows): a hint that changes no answer.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, targeted, k, mode, n_threads=0, segments=None, segments_first=0))]
#[allow(clippy::too_many_arguments)]
fn edited_nearest_neighbours<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    targeted: Vec<bool>,
    k: usize,
    mode: bool,
    n_threads: usize,
    segments: Option<PyReadonlyArray2<'py, i64>>,
    segments_first: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let codes = slice_of(&codes);
    let pairs = pairs_of(segments)?;
    let anchors = pairs.as_deref().map(|p| Anchors {
        first: segments_first,
        pairs: p,
    });
    let rule = if mode { EnnRule::Mode } else { EnnRule::All };
    let idx = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::under_sampling::edited_nearest_neighbours(
                v, &codes, n_classes, &targeted, k, rule, anchors,
            )
        })?
    });
    Ok(indices_to_py(py, idx))
}

/// Rows kept by Tomek links, in row order. `segments`, `segments_first`: as for
/// `edited_nearest_neighbours`.
#[pyfunction]
#[pyo3(signature = (x, codes, n_classes, targeted, n_threads=0, segments=None, segments_first=0))]
#[allow(clippy::too_many_arguments)]
fn tomek_links<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    codes: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    targeted: Vec<bool>,
    n_threads: usize,
    segments: Option<PyReadonlyArray2<'py, i64>>,
    segments_first: usize,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let codes = slice_of(&codes);
    let pairs = pairs_of(segments)?;
    let anchors = pairs.as_deref().map(|p| Anchors {
        first: segments_first,
        pairs: p,
    });
    let idx = with_features!(x, |a| {
        let v = a.as_array();
        run(py, n_threads, || {
            core::validate::check_finite(v)?;
            core::under_sampling::tomek_links(v, &codes, n_classes, &targeted, anchors)
        })?
    });
    Ok(indices_to_py(py, idx))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(random_under_sample_indices, m)?)?;
    m.add_function(wrap_pyfunction!(edited_nearest_neighbours, m)?)?;
    m.add_function(wrap_pyfunction!(tomek_links, m)?)?;
    Ok(())
}
