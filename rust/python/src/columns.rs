//! Arrow record batch columns to the core's row-major matrix: the columns arrive as 1-D numpy views
//! of the Arrow buffers (no copy), and are interleaved here, in parallel, into one row-major array.

use equipoise_core::Float;
use ndarray::ArrayView1;
use numpy::{PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::common::{alloc_rows, run, Error, Res};

fn interleave<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    cols: &[Bound<'py, PyAny>],
    n_threads: usize,
) -> Res<Bound<'py, PyArray2<F>>> {
    let arrays: Vec<PyReadonlyArray1<'py, F>> = cols
        .iter()
        .map(|c| c.extract::<PyReadonlyArray1<'py, F>>())
        .collect::<PyResult<_>>()
        .map_err(|_| {
            Error(PyTypeError::new_err(
                "all columns must be 1-D arrays of one float dtype",
            ))
        })?;
    let n = arrays.first().map_or(0, |a| a.len().unwrap_or(0));
    let views: Vec<ArrayView1<'_, F>> = arrays.iter().map(|a| a.as_array()).collect();
    if views.iter().any(|v| v.len() != n) {
        return Err(Error(PyValueError::new_err(
            "columns have different lengths",
        )));
    }
    let d = views.len();
    let out = alloc_rows::<F>(py, n, d)?;
    {
        let mut w = out.readwrite();
        let buf = w.as_slice_mut().expect("fresh array is contiguous");
        run(py, n_threads, || {
            if d > 0 {
                buf.par_chunks_mut(d * 1024)
                    .enumerate()
                    .for_each(|(b, block)| {
                        let r0 = b * 1024;
                        for (i, row) in block.chunks_mut(d).enumerate() {
                            for (j, v) in views.iter().enumerate() {
                                row[j] = v[r0 + i];
                            }
                        }
                    });
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Columns (1-D float32 or float64 arrays, all of one dtype and length) as one row-major matrix.
#[pyfunction]
#[pyo3(signature = (columns, n_threads=0))]
fn columns_to_rows<'py>(
    py: Python<'py>,
    columns: Vec<Bound<'py, PyAny>>,
    n_threads: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if columns.is_empty() {
        return Err(PyValueError::new_err("no feature column"));
    }
    if columns[0].extract::<PyReadonlyArray1<'py, f32>>().is_ok() {
        Ok(interleave::<f32>(py, &columns, n_threads)?.into_any())
    } else {
        Ok(interleave::<f64>(py, &columns, n_threads)?.into_any())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(columns_to_rows, m)?)?;
    Ok(())
}
