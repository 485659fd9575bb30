//! An Arrow record batch's feature columns into the core's row-major matrix, checked for NaN and
//! infinity in the same pass: the input side of both streaming engines (`equipoise.io` over Parquet
//! record batches, `equipoise.spark` in `mapInArrow`). Their neighbour lists over chunks are
//! `chunks.rs`.

use numpy::{PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

use equipoise_core::Float;

use crate::common::{alloc_rows, run};

/// One feature column, borrowed from numpy (a zero-copy view of an Arrow buffer).
enum Column<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

impl Column<'_> {
    fn len(&self) -> usize {
        match self {
            Column::F32(a) => a.len().unwrap_or(0),
            Column::F64(a) => a.len().unwrap_or(0),
        }
    }
}

/// Rows per parallel task of the transposition: one task writes a contiguous block of rows.
const ROWS_PER_TASK: usize = 4096;

fn fill<F: Float>(
    cols: &[(usize, ColumnView<'_>)],
    n: usize,
    out: &mut [F],
) -> Option<(usize, usize, bool)> {
    let d = cols.len();
    if d == 0 || n == 0 {
        return None;
    }
    out.par_chunks_mut(ROWS_PER_TASK * d)
        .enumerate()
        .map(|(task, block)| {
            let r0 = task * ROWS_PER_TASK;
            let rows = block.len() / d;
            let mut bad: Option<(usize, usize, bool)> = None;
            for (j, (_, col)) in cols.iter().enumerate() {
                match col {
                    ColumnView::F32(s) => {
                        for (i, &v) in s[r0..r0 + rows].iter().enumerate() {
                            block[i * d + j] = F::narrow(v as f64);
                        }
                    }
                    ColumnView::F64(s) => {
                        for (i, &v) in s[r0..r0 + rows].iter().enumerate() {
                            block[i * d + j] = F::narrow(v);
                        }
                    }
                }
            }
            // NaN and infinity, found on the written block while it is in cache: v * 0 is 0 for a
            // finite v and NaN otherwise.
            let clean = block
                .iter()
                .fold(F::zero(), |a, &v| a + v * F::zero())
                .is_finite();
            if !clean {
                'scan: for i in 0..rows {
                    for j in 0..d {
                        let v = block[i * d + j];
                        if !v.is_finite() {
                            bad = Some((r0 + i, j, v.is_nan()));
                            break 'scan;
                        }
                    }
                }
            }
            bad
        })
        .reduce(
            || None,
            |a, b| match (a, b) {
                (Some(x), Some(y)) => Some(if (x.0, x.1) <= (y.0, y.1) { x } else { y }),
                (x, None) => x,
                (None, y) => y,
            },
        )
}

enum ColumnView<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// The feature columns of one record batch (1-D float32/float64 numpy arrays, typically zero-copy
/// views of Arrow buffers) as one C-ordered `n x d` matrix of `dtype`, transposed in parallel.
/// Returns `(matrix, bad)`: `bad` is `None`, or `(row, column, is_nan)` of the first value that is
/// NaN or infinite (the caller names the row and column).
#[pyfunction]
#[pyo3(signature = (columns, dtype, n_threads=0))]
#[allow(clippy::type_complexity)]
fn rows_from_columns<'py>(
    py: Python<'py>,
    columns: Vec<Bound<'py, PyAny>>,
    dtype: &str,
    n_threads: usize,
) -> PyResult<(Bound<'py, PyAny>, Option<(usize, usize, bool)>)> {
    let mut cols = Vec::with_capacity(columns.len());
    for (j, c) in columns.iter().enumerate() {
        if let Ok(a) = c.extract::<PyReadonlyArray1<'py, f32>>() {
            cols.push(Column::F32(a));
        } else if let Ok(a) = c.extract::<PyReadonlyArray1<'py, f64>>() {
            cols.push(Column::F64(a));
        } else {
            return Err(PyTypeError::new_err(format!(
                "feature column {j} must be a 1-D float32 or float64 array"
            )));
        }
    }
    let n = cols.first().map_or(0, Column::len);
    if cols.iter().any(|c| c.len() != n) {
        return Err(PyValueError::new_err("feature columns differ in length"));
    }
    let views: Vec<(usize, ColumnView<'_>)> = cols
        .iter()
        .enumerate()
        .map(|(j, c)| {
            (
                j,
                match c {
                    Column::F32(a) => {
                        ColumnView::F32(a.as_slice().expect("1-D arrays are contiguous"))
                    }
                    Column::F64(a) => {
                        ColumnView::F64(a.as_slice().expect("1-D arrays are contiguous"))
                    }
                },
            )
        })
        .collect();
    let d = views.len();
    macro_rules! build {
        ($t:ty) => {{
            let out = alloc_rows::<$t>(py, n, d)?;
            // SAFETY: `out` was just allocated here and is not yet shared with Python code; `fill`
            // writes every element of it before it is returned.
            let slice = unsafe { out.as_slice_mut() }.expect("a new array is contiguous");
            let bad =
                run(py, n_threads, || Ok(fill::<$t>(&views, n, slice))).map_err(PyErr::from)?;
            (out.into_any(), bad)
        }};
    }
    Ok(match dtype {
        "float32" => build!(f32),
        "float64" => build!(f64),
        other => {
            return Err(PyValueError::new_err(format!(
                "dtype must be 'float32' or 'float64', got {other:?}"
            )))
        }
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rows_from_columns, m)?)?;
    Ok(())
}
