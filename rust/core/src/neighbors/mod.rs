//! Nearest-neighbour search: one trait, indexes behind it.
//!
//! Results are exact Euclidean neighbours ranked by (distance, row index): equal distances are
//! ranked by the lower row index first, which is the documented tie rule of the whole package.

mod brute;

pub use brute::BruteForce;

use ndarray::{Array2, ArrayView2};

use crate::error::Result;
use crate::float::Float;

/// The k nearest neighbours of a set of queries, row-major `n_queries x k`.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbors {
    /// Row indices into the indexed data.
    pub indices: Array2<usize>,
    /// Euclidean distances, non-decreasing along each row.
    pub distances: Array2<f64>,
}

/// A searchable set of rows.
pub trait KnnIndex<F: Float>: Send + Sync {
    /// Number of indexed rows.
    fn n_rows(&self) -> usize;

    /// The `k` nearest indexed rows of each row of `queries`.
    fn query(&self, queries: ArrayView2<F>, k: usize) -> Result<Neighbors>;

    /// The `k` nearest *other* indexed rows of each indexed row: row `i` is excluded from its own
    /// list by index (a duplicate of it at distance 0 is still a neighbour), as SMOTE and ENN need.
    fn query_self(&self, k: usize) -> Result<Neighbors>;
}

/// Squared Euclidean distance computed in `f64` (exact widening for `f32` data).
#[inline]
pub fn exact_sq_dist<F: Float>(a: &[F], b: &[F]) -> f64 {
    let mut s = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        let t = x.wide() - y.wide();
        s += t * t;
    }
    s
}
