//! Bindings of the neighbour engine: the one `kneighbors` entry point (exact and approximate
//! k-nearest-neighbour queries, of outside rows, of chosen rows of the data or of all of them),
//! HNSW graphs kept between calls, and the memory an index holds.

use equipoise_core::neighbors::{
    build_index, BruteForce, Hnsw, HnswGraph, HnswParams, IndexKind, KdTree, KnnIndex, Neighbors,
    Scan,
};
use equipoise_core::{self as core, CoreError, Float};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::common::{knn_arrays, optional_row_indices, run, Error, KnnArrays, Res};
use crate::with_features;

/// A built HNSW graph, kept apart from its data (the data stays with the caller).
#[pyclass(name = "HnswGraph", module = "equipoise._core", frozen)]
pub(crate) struct PyHnswGraph {
    graph: HnswGraph,
    /// Item size of the data it was built on (4 or 8).
    itemsize: usize,
}

#[pymethods]
impl PyHnswGraph {
    /// Bytes held by the graph.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.graph.memory_bytes()
    }

    /// Number of indexed rows.
    #[getter]
    fn n_rows(&self) -> usize {
        self.graph.n_rows()
    }
}

/// HNSW parameters: each one not given is the core's default (`HnswParams::default()`, the one
/// source of HNSW's defaults; Python reads them with `hnsw_defaults()`).
fn params(
    m: Option<usize>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
    seed: Option<u64>,
) -> HnswParams {
    let d = HnswParams::default();
    HnswParams {
        m: m.unwrap_or(d.m),
        ef_construction: ef_construction.unwrap_or(d.ef_construction),
        ef_search: ef_search.unwrap_or(d.ef_search),
        seed: seed.unwrap_or(d.seed),
    }
}

/// The core's HNSW defaults, under the names of the `neighbors={...}` options.
#[pyfunction]
fn hnsw_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = HnswParams::default();
    let out = PyDict::new(py);
    out.set_item("M", d.m)?;
    out.set_item("ef_construction", d.ef_construction)?;
    out.set_item("ef_search", d.ef_search)?;
    out.set_item("seed", d.seed)?;
    Ok(out)
}

fn ask<F: Float>(
    index: &dyn KnnIndex<F>,
    queries: Option<ndarray::ArrayView2<'_, F>>,
    rows: Option<&[usize]>,
    k: usize,
) -> core::Result<Neighbors> {
    match (queries, rows) {
        (Some(q), _) => {
            core::validate::check_finite(q)?;
            index.query(q, k)
        }
        (None, Some(r)) => index.query_self_rows(r, k),
        (None, None) => index.query_self(k),
    }
}

#[allow(clippy::too_many_arguments)]
fn kneighbors_impl<'py, F: Float + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, F>,
    k: usize,
    queries: Option<&Bound<'py, PyAny>>,
    rows: Option<Vec<usize>>,
    kind: IndexKind,
    graph: Option<&PyHnswGraph>,
    p: HnswParams,
    n_threads: usize,
) -> Res<KnnArrays<'py>> {
    let q = match queries {
        Some(q) => Some(q.extract::<PyReadonlyArray2<'py, F>>().map_err(|_| {
            Error(PyTypeError::new_err(
                "queries must be a 2-D numpy array of the fitted data's dtype",
            ))
        })?),
        None => None,
    };
    let xv = x.as_array();
    let qv = q.as_ref().map(|a| a.as_array());
    let rows = rows.as_deref();
    // The neighbour lists (an index and a distance each) in the core and in the arrays returned.
    let n_queries = rows.map_or_else(|| qv.map_or(xv.nrows(), |q| q.nrows()), |r| r.len());
    crate::common::checked_bytes(&[n_queries, k, 32], "the neighbour lists")?;
    let nb = match (kind, graph) {
        (IndexKind::Hnsw, Some(g)) => {
            if g.itemsize != std::mem::size_of::<F>() {
                return Err(Error(PyTypeError::new_err(
                    "the HNSW graph was built on data of another dtype",
                )));
            }
            let graph = g.graph.clone();
            run(py, n_threads, || {
                let h = Hnsw::from_graph(xv, graph, p.ef_search)?;
                ask(&h, qv, rows, k)
            })?
        }
        // A tiny search runs on this thread: starting the pool's work costs more than it. A small
        // one is scanned on the pool (see `neighbors::scan`).
        (IndexKind::Auto | IndexKind::Exact, _)
            if xv.is_standard_layout()
                && Scan::work(n_queries, xv) <= core::neighbors::SCAN_WORK =>
        {
            core::validate::check_finite(xv).map_err(Error::from)?;
            ask(&Scan::new(xv), qv, rows, k).map_err(Error::from)?
        }
        (IndexKind::Auto | IndexKind::Exact, _)
            if xv.is_standard_layout()
                && core::neighbors::par_scan_wins(Scan::work(n_queries, xv), xv.ncols()) =>
        {
            run(py, n_threads, || {
                core::validate::check_finite(xv)?;
                ask(&Scan::parallel(xv), qv, rows, k)
            })?
        }
        // Every row's neighbours among the others, by the tiled brute force: a small set is
        // searched without its index (`self_neighbors`), the same answer.
        (IndexKind::Auto | IndexKind::Exact, _)
            if qv.is_none()
                && rows.is_none()
                && kind.resolve(xv.nrows(), xv.ncols()) == IndexKind::Exact =>
        {
            run(py, n_threads, || {
                core::validate::check_finite(xv)?;
                core::neighbors::self_neighbors(xv, k)
            })?
        }
        // Chosen rows among all (BorderlineSMOTE's and ADASYN's danger search): without an index
        // when the rows are few enough for it (`rows_neighbors` decides).
        (IndexKind::Auto | IndexKind::Exact, _)
            if qv.is_none()
                && rows.is_some()
                && kind.resolve(xv.nrows(), xv.ncols()) == IndexKind::Exact =>
        {
            let rows = rows.unwrap_or_default();
            run(py, n_threads, || {
                core::validate::check_finite(xv)?;
                core::neighbors::rows_neighbors(xv, rows, k)
            })?
        }
        // Few outside queries among many rows (at most half as many: never the fitted rows
        // themselves, which the branch below answers from the self search), likewise.
        (IndexKind::Auto | IndexKind::Exact, _)
            if qv.is_some_and(|q| q.nrows() <= xv.nrows() / 2 && q.ncols() == xv.ncols())
                && rows.is_none()
                && kind.resolve(xv.nrows(), xv.ncols()) == IndexKind::Exact =>
        {
            run(py, n_threads, || {
                core::validate::check_finite(xv)?;
                let q = qv.ok_or_else(|| {
                    core::CoreError::InvalidArgument("queries were expected".into())
                })?;
                core::validate::check_finite(q)?;
                core::neighbors::queries_neighbors(xv, q, k)
            })?
        }
        _ => run(py, n_threads, || {
            core::validate::check_finite(xv)?;
            let index = build_index(kind, xv, &p)?;
            // The fitted rows passed again as queries (scikit-learn's `kneighbors(X)`): the same
            // answer from the self search, which computes each shared distance once.
            let own_rows = rows.is_none()
                && kind != IndexKind::Hnsw
                && k < xv.nrows()
                && qv.is_some_and(|q| q.dim() == xv.dim() && q == xv);
            if own_rows {
                return core::neighbors::query_with_self(index.as_ref(), k);
            }
            ask(index.as_ref(), qv, rows, k)
        })?,
    };
    Ok(knn_arrays(py, nb))
}

/// The k nearest neighbours (Euclidean, ties by row index) in the rows of `x` of: the rows of
/// `queries`; or, without queries, the rows `rows` of `x` (all rows when None), each excluding
/// itself by index. `algorithm` is "auto", "exact", "kdtree" or "hnsw" (with `graph`, a kept graph
/// built on `x`, or built here from `m`, `ef_construction`, `seed`).
#[pyfunction]
#[pyo3(signature = (x, k, queries=None, rows=None, algorithm="auto", graph=None, m=None,
    ef_construction=None, ef_search=None, seed=None, n_threads=0))]
#[allow(clippy::too_many_arguments)]
fn kneighbors<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    k: usize,
    queries: Option<&Bound<'py, PyAny>>,
    rows: Option<PyReadonlyArray1<'py, i64>>,
    algorithm: &str,
    graph: Option<PyRef<'py, PyHnswGraph>>,
    m: Option<usize>,
    ef_construction: Option<usize>,
    ef_search: Option<usize>,
    seed: Option<u64>,
    n_threads: usize,
) -> PyResult<KnnArrays<'py>> {
    let kind = IndexKind::parse(algorithm).map_err(Error::from)?;
    let rows = optional_row_indices(rows)?;
    let p = params(m, ef_construction, ef_search, seed);
    let g = graph.as_deref();
    Ok(with_features!(x, |a| kneighbors_impl(
        py, a, k, queries, rows, kind, g, p, n_threads
    )?))
}

/// Build an HNSW graph over the rows of `x`, deterministically for a given seed.
#[pyfunction]
#[pyo3(signature = (x, m=None, ef_construction=None, seed=None, n_threads=0))]
fn hnsw_build(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    m: Option<usize>,
    ef_construction: Option<usize>,
    seed: Option<u64>,
    n_threads: usize,
) -> PyResult<PyHnswGraph> {
    let p = params(m, ef_construction, Some(1), seed);
    Ok(with_features!(x, |a| hnsw_build_impl(
        py, a, &p, n_threads
    )?))
}

fn hnsw_build_impl<F: Float + numpy::Element>(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, F>,
    p: &HnswParams,
    n_threads: usize,
) -> Res<PyHnswGraph> {
    let xv = x.as_array();
    // Bottom-level links (2 M per row) and about two more a row above, 4 bytes each.
    let links =
        p.m.checked_mul(2)
            .and_then(|v| v.checked_add(2))
            .unwrap_or(usize::MAX);
    crate::common::checked_bytes(&[xv.nrows(), links, 4], "the HNSW graph")?;
    let graph = run(py, n_threads, || {
        core::validate::check_finite(xv)?;
        Ok::<_, CoreError>(Hnsw::new(xv, p)?.into_graph())
    })?;
    Ok(PyHnswGraph {
        graph,
        itemsize: std::mem::size_of::<F>(),
    })
}

/// Bytes an exact index ("exact" or "kdtree") over `x` holds beyond the data it borrows.
#[pyfunction]
#[pyo3(signature = (x, algorithm="exact"))]
fn index_memory_bytes(py: Python<'_>, x: &Bound<'_, PyAny>, algorithm: &str) -> PyResult<usize> {
    let kind = IndexKind::parse(algorithm).map_err(Error::from)?;
    Ok(with_features!(x, |a| {
        let xv = a.as_array();
        let (n, d) = xv.dim();
        run(py, 1, || {
            Ok::<_, CoreError>(match kind.resolve(n, d) {
                IndexKind::KdTree => KdTree::new(xv).memory_bytes(),
                IndexKind::Exact => BruteForce::new(xv).memory_bytes(),
                _ => {
                    return Err(CoreError::InvalidArgument(
                        "use hnsw_build(...).memory_bytes for HNSW".into(),
                    ))
                }
            })
        })?
    }))
}

/// The fused-multiply-add peak of `n_threads` threads (0: the default), in f32 GFLOP/s, timed
/// over `iters` rounds of the peak loop (`equipoise_core::neighbors::fma_peak_gflops`): what the
/// benches set throughput and SMOTE's floor against, in the same run. NaN without AVX2 and FMA.
#[pyfunction]
#[pyo3(signature = (iters=20_000_000, n_threads=0))]
fn fma_peak_gflops(py: Python<'_>, iters: usize, n_threads: usize) -> PyResult<f64> {
    Ok(run(py, n_threads, || {
        Ok(core::neighbors::fma_peak_gflops(iters))
    })?)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHnswGraph>()?;
    m.add_function(wrap_pyfunction!(kneighbors, m)?)?;
    m.add_function(wrap_pyfunction!(fma_peak_gflops, m)?)?;
    m.add_function(wrap_pyfunction!(hnsw_build, m)?)?;
    m.add_function(wrap_pyfunction!(hnsw_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(index_memory_bytes, m)?)?;
    Ok(())
}
