//! Bindings of the batch samplers (`equipoise_core::batch`): a plan object holding the class rows,
//! and a cursor over one epoch. No logic here beyond argument conversion.

use std::sync::Arc;

use equipoise_core::batch::{BatchOptions, BatchPlan, ClassRows, EpochCursor, RowStore};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::common::{run, slice_of, Error};

/// Two int64 arrays (indices and offsets or sizes).
type IndexArrays<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>);
/// Two per-batch, per-class count matrices.
type CountMatrices<'py> = (Bound<'py, PyArray2<u64>>, Bound<'py, PyArray2<u64>>);
/// Neighbour slots and gaps of online SMOTE.
type SmoteDraws<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<f64>>);

fn options(
    batch_size: usize,
    num_batches: Option<u64>,
    drop_last: bool,
    seed: u64,
    rank: u64,
    world_size: u64,
) -> BatchOptions {
    BatchOptions {
        batch_size,
        num_batches,
        drop_last,
        seed,
        rank,
        world_size,
    }
}

/// The plan of a batch sampler: class rows (4 bytes a row), class weights and options.
#[pyclass(name = "BatchPlan", module = "equipoise._core", frozen)]
pub(crate) struct PyBatchPlan {
    plan: Arc<BatchPlan>,
}

#[pymethods]
impl PyBatchPlan {
    #[new]
    #[pyo3(signature = (codes, n_classes, weights, batch_size, num_batches, drop_last, seed, rank, world_size))]
    fn new(
        py: Python<'_>,
        codes: PyReadonlyArray1<'_, u32>,
        n_classes: usize,
        weights: Vec<u64>,
        batch_size: usize,
        num_batches: Option<u64>,
        drop_last: bool,
        seed: u64,
        rank: u64,
        world_size: u64,
    ) -> PyResult<Self> {
        let codes = slice_of(&codes);
        let o = options(batch_size, num_batches, drop_last, seed, rank, world_size);
        let plan = run(py, 1, || {
            BatchPlan::new(ClassRows::from_codes(&codes, n_classes)?, weights, o)
        })?;
        Ok(PyBatchPlan {
            plan: Arc::new(plan),
        })
    }

    /// Rebuild a plan from `parts()` (unpickling) with possibly other options.
    #[staticmethod]
    #[pyo3(signature = (rows, offsets, weights, batch_size, num_batches, drop_last, seed, rank, world_size))]
    fn from_parts(
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        offsets: Vec<u64>,
        weights: Vec<u64>,
        batch_size: usize,
        num_batches: Option<u64>,
        drop_last: bool,
        seed: u64,
        rank: u64,
        world_size: u64,
    ) -> PyResult<Self> {
        let store = if let Ok(a) = rows.extract::<PyReadonlyArray1<'_, u32>>() {
            RowStore::U32(a.as_array().to_vec())
        } else if let Ok(a) = rows.extract::<PyReadonlyArray1<'_, u64>>() {
            RowStore::U64(a.as_array().to_vec())
        } else {
            return Err(PyTypeError::new_err(
                "rows must be a 1-D uint32 or uint64 array",
            ));
        };
        let o = options(batch_size, num_batches, drop_last, seed, rank, world_size);
        let plan = run(py, 1, || {
            BatchPlan::new(ClassRows::from_parts(store, offsets)?, weights, o)
        })?;
        Ok(PyBatchPlan {
            plan: Arc::new(plan),
        })
    }

    /// (rows, offsets): the flat class row array (uint32 or uint64) and the class offsets.
    fn parts<'py>(&self, py: Python<'py>) -> (Bound<'py, PyAny>, Vec<u64>) {
        let (store, offsets) = self.plan.rows().parts();
        let rows = match store {
            RowStore::U32(v) => v.clone().into_pyarray(py).into_any(),
            RowStore::U64(v) => v.clone().into_pyarray(py).into_any(),
        };
        (rows, offsets.to_vec())
    }

    fn __len__(&self) -> usize {
        self.plan.len() as usize
    }

    /// Number of bytes held for the class rows.
    #[getter]
    fn nbytes(&self) -> usize {
        match self.plan.rows().parts().0 {
            RowStore::U32(v) => v.len() * 4,
            RowStore::U64(v) => v.len() * 8,
        }
    }

    #[getter]
    fn global_batches(&self) -> u64 {
        self.plan.global_batches()
    }

    #[getter]
    fn rows_per_epoch(&self) -> u64 {
        self.plan.rows_per_epoch()
    }

    #[getter]
    fn draws_per_epoch(&self) -> Vec<u64> {
        self.plan.draws_per_epoch().to_vec()
    }

    #[getter]
    fn class_counts(&self) -> Vec<u64> {
        let r = self.plan.rows();
        (0..r.n_classes()).map(|c| r.count(c)).collect()
    }

    /// This rank's whole epoch: (indices int64, offsets int64 of length len + 1).
    #[pyo3(signature = (epoch, n_threads=0))]
    fn epoch_indices<'py>(
        &self,
        py: Python<'py>,
        epoch: u64,
        n_threads: usize,
    ) -> PyResult<IndexArrays<'py>> {
        let plan = Arc::clone(&self.plan);
        let (idx, off) = run(py, n_threads, || plan.epoch_indices::<i64>(epoch))?;
        let off: Vec<i64> = off.into_iter().map(|v| v as i64).collect();
        Ok((idx.into_pyarray(py), off.into_pyarray(py)))
    }

    /// Per batch of this rank: (draws of each class before it, draws of each class in it).
    fn composition<'py>(&self, py: Python<'py>) -> PyResult<CountMatrices<'py>> {
        let plan = Arc::clone(&self.plan);
        let k = plan.rows().n_classes();
        let (s, c) = run(py, 1, || plan.composition())?;
        let n = s.len() / k.max(1);
        let s = ndarray::Array2::from_shape_vec((n, k), s).expect("shape");
        let c = ndarray::Array2::from_shape_vec((n, k), c).expect("shape");
        Ok((s.into_pyarray(py), c.into_pyarray(py)))
    }

    /// A cursor over this rank's batches of `epoch`.
    fn cursor(&self, epoch: u64) -> PyResult<PyEpochCursor> {
        let cursor = self.plan.cursor(epoch).map_err(Error::from)?;
        Ok(PyEpochCursor {
            plan: Arc::clone(&self.plan),
            cursor,
        })
    }
}

/// This rank's batches of one epoch, produced in blocks.
#[pyclass(name = "EpochCursor", module = "equipoise._core")]
pub(crate) struct PyEpochCursor {
    plan: Arc<BatchPlan>,
    cursor: EpochCursor,
}

#[pymethods]
impl PyEpochCursor {
    /// The next up to `max_batches` batches: (indices int64, sizes int64); empty at the end.
    #[pyo3(signature = (max_batches, n_threads=0))]
    fn next_block<'py>(
        &mut self,
        py: Python<'py>,
        max_batches: usize,
        n_threads: usize,
    ) -> PyResult<IndexArrays<'py>> {
        let plan = Arc::clone(&self.plan);
        let cursor = &mut self.cursor;
        let (idx, sizes) = run(py, n_threads, || {
            let (mut out, mut sizes) = (Vec::<i64>::new(), Vec::<u64>::new());
            cursor.next_block(&plan, max_batches.max(1), &mut out, &mut sizes)?;
            Ok((out, sizes))
        })?;
        let sizes: Vec<i64> = sizes.into_iter().map(|v| v as i64).collect();
        Ok((idx.into_pyarray(py), sizes.into_pyarray(py)))
    }
}

/// Online SMOTE choices of one class in one batch: (neighbour slots uint32, gaps float64).
#[pyfunction]
#[pyo3(signature = (seed, class_code, batch, n, k))]
fn online_smote_draws<'py>(
    py: Python<'py>,
    seed: u64,
    class_code: u32,
    batch: u64,
    n: usize,
    k: usize,
) -> PyResult<SmoteDraws<'py>> {
    let (a, g) = run(py, 1, || {
        equipoise_core::batch::smote_draws(seed, class_code, batch, n, k)
    })?;
    Ok((a.into_pyarray(py), g.into_pyarray(py)))
}

/// Per-batch class counts of the cumulative apportionment of `n_batches` batches of `batch_size`
/// rows (the last one holding what is left of `total_rows`), as the plans compute them.
#[pyfunction]
#[pyo3(signature = (weights, batch_size, n_batches, total_rows))]
fn apportion_batches<'py>(
    py: Python<'py>,
    weights: Vec<u64>,
    batch_size: u64,
    n_batches: u64,
    total_rows: u64,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let k = weights.len();
    let counts = run(py, 1, || {
        let mut app = equipoise_core::batch::Apportionment::new(&weights)?;
        let mut out = Vec::with_capacity(n_batches as usize * k);
        for j in 0..n_batches {
            let before = app.counts().to_vec();
            app.advance(((j + 1) * batch_size).min(total_rows))?;
            out.extend(app.counts().iter().zip(&before).map(|(a, b)| a - b));
        }
        Ok(out)
    })?;
    let a = ndarray::Array2::from_shape_vec((n_batches as usize, k), counts).expect("shape");
    Ok(a.into_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(online_smote_draws, m)?)?;
    m.add_function(wrap_pyfunction!(apportion_batches, m)?)?;
    m.add_class::<PyBatchPlan>()?;
    m.add_class::<PyEpochCursor>()?;
    Ok(())
}
