//! Nearest-neighbour search: one trait, indexes behind it.
//!
//! Results are exact Euclidean neighbours ranked by (distance, row index): equal distances are
//! ranked by the lower row index first, which is the documented tie rule of the whole package.

mod brute;
pub mod chunks;
mod hnsw;
mod kdtree;
mod one_call;
mod scan;

pub use brute::{
    fma_peak_gflops, queries_neighbors, rows_neighbors, self_neighbors, BruteForce, Projected,
    Within,
};
pub use hnsw::{Hnsw, HnswGraph, HnswParams};
pub use kdtree::KdTree;
pub use one_call::{knn_of_rows, knn_query};
pub use scan::{par_scan_wins, Scan, SCAN_WORK};

use ndarray::{Array2, ArrayView2};

use crate::error::{CoreError, Result};
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

    /// [`KnnIndex::query_self`] for the indexed rows `rows` only (row `r` of the result is the
    /// neighbour list of indexed row `rows[r]`, itself excluded), e.g. the majority rows near a
    /// minority class.
    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors>;
}

/// The `k` nearest indexed rows of every indexed row, the row itself included: what
/// [`KnnIndex::query`] returns for the indexed rows as queries (ranked by distance, then index, so
/// a row comes after its lower-indexed copies at distance 0), from [`KnnIndex::query_self`]'s `k`
/// nearest *other* rows, which the exact brute force computes with each shared distance once.
/// Needs `k < n_rows`.
pub fn query_with_self<F: Float>(index: &dyn KnnIndex<F>, k: usize) -> Result<Neighbors> {
    let others = index.query_self(k)?;
    let n = index.n_rows();
    let mut indices = Array2::<usize>::zeros((n, k));
    let mut distances = Array2::<f64>::zeros((n, k));
    for i in 0..n {
        let (oi, od) = (others.indices.row(i), others.distances.row(i));
        // The row's own place: before the first other row ranked after (0, i).
        let at = (0..k).find(|&t| od[t] > 0.0 || oi[t] > i).unwrap_or(k);
        for t in 0..k {
            let (j, d) = match t.cmp(&at) {
                std::cmp::Ordering::Less => (oi[t], od[t]),
                std::cmp::Ordering::Equal => (i, 0.0),
                std::cmp::Ordering::Greater => (oi[t - 1], od[t - 1]),
            };
            indices[[i, t]] = j;
            distances[[i, t]] = d;
        }
    }
    Ok(Neighbors { indices, distances })
}

/// Which index [`build_index`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// Pick an exact index by size and dimension (never an approximate one).
    Auto,
    /// Blocked brute force ([`BruteForce`]).
    Exact,
    /// KD-tree ([`KdTree`]): exact, fastest in low dimension.
    KdTree,
    /// Approximate HNSW graph ([`Hnsw`]).
    Hnsw,
}

impl IndexKind {
    /// Parse `"auto" | "exact" | "kdtree" | "hnsw"`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(IndexKind::Auto),
            "exact" | "brute" => Ok(IndexKind::Exact),
            "kdtree" | "kd_tree" => Ok(IndexKind::KdTree),
            "hnsw" => Ok(IndexKind::Hnsw),
            _ => Err(CoreError::InvalidArgument(format!(
                "neighbors must be one of 'auto', 'exact', 'kdtree', 'hnsw'; got {s:?}"
            ))),
        }
    }

    /// The exact index "auto" picks for `n` rows of `d` features: a KD-tree in low dimension,
    /// where its pruning beats brute force, else brute force. Measured by `benches/tune_auto.py`
    /// (all-rows self-queries, Gaussian mixtures): the KD-tree wins up to 5 features from a few
    /// thousand rows on; from 6 features on the tiled brute force does (3.4x at 8 features).
    pub fn resolve(self, n: usize, d: usize) -> Self {
        match self {
            IndexKind::Auto if d <= 5 && n >= 2048 => IndexKind::KdTree,
            IndexKind::Auto => IndexKind::Exact,
            other => other,
        }
    }
}

/// Build an index of the given kind over `data` (`params` is used by HNSW only).
pub fn build_index<'a, F: Float>(
    kind: IndexKind,
    data: ArrayView2<'a, F>,
    params: &HnswParams,
) -> Result<Box<dyn KnnIndex<F> + 'a>> {
    let (n, d) = data.dim();
    Ok(match kind.resolve(n, d) {
        IndexKind::KdTree => Box::new(KdTree::new(data)),
        IndexKind::Hnsw => Box::new(Hnsw::new(data, params)?),
        _ => Box::new(BruteForce::new(data)),
    })
}

/// The neighbours a query can have among `n` indexed rows (one fewer for an indexed row, which is
/// excluded from its own list), or scikit-learn's error when `k` is 0 or more than that. Every
/// index checks `k` with it, so the message is the same whichever index answers.
pub(crate) fn check_k(n: usize, k: usize, self_query: bool) -> Result<usize> {
    let available = n.saturating_sub(self_query as usize);
    if k == 0 || k > available {
        return Err(CoreError::InvalidArgument(format!(
            "Expected n_neighbors <= n_samples_fit, but n_neighbors = {}, n_samples_fit = {n}",
            k + self_query as usize
        )));
    }
    Ok(available)
}

/// A hash of a row's values with `-0.0` taken as `0.0` (they compare equal): equal rows, equal
/// hashes (the cleaners' copies, the small-set search's count of copies).
pub(crate) fn row_hash<F: Float>(row: &[F]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &v in row {
        h = (h ^ (v.wide() + 0.0).to_bits())
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    h ^ (h >> 32)
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

/// [`exact_sq_dist`] from `q` to four rows (each at least as long as `q`): each sum in the same
/// order, so the same bits, the four side by side so that their adds overlap. One sum alone is a
/// chain of dependent adds (30 features: 30 adds, each waiting on the last), which made pass 2 of
/// the small-set search (7 candidates a row) cost a sixth of its pass 1.
#[inline]
pub fn exact_sq_dists4<F: Float>(q: &[F], rows: [&[F]; 4]) -> [f64; 4] {
    let d = q.len();
    let r = rows.map(|r| &r[..d]);
    let mut s = [0.0f64; 4];
    for (j, &x) in q.iter().enumerate() {
        let x = x.wide();
        for (s, r) in s.iter_mut().zip(&r) {
            let t = x - r[j].wide();
            *s += t * t;
        }
    }
    s
}

/// Appends `(exact_sq_dist(q, row(j)), j)` for each `j` of `ids`, in order, four rows at a time
/// ([`exact_sq_dists4`]: the same values; a last group of fewer fills its free lanes with a
/// repeat).
#[inline]
pub(crate) fn push_exact<'a, F: Float + 'a>(
    out: &mut Vec<(f64, usize)>,
    q: &[F],
    ids: impl IntoIterator<Item = usize>,
    row: impl Fn(usize) -> &'a [F],
) {
    let mut four = [0usize; 4];
    let mut held = 0;
    for j in ids {
        four[held] = j;
        held += 1;
        if held == 4 {
            let s = exact_sq_dists4(q, four.map(&row));
            out.extend(s.into_iter().zip(four));
            held = 0;
        }
    }
    if held > 0 {
        // The last one to three rows, the free lanes repeating the first of them.
        let first = four[0];
        four[held..].fill(first);
        let s = exact_sq_dists4(q, four.map(&row));
        out.extend(s.into_iter().zip(four).take(held));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// Four sums side by side, and any number of rows through `push_exact`, give exactly
    /// `exact_sq_dist`'s bits: values of very different magnitudes (where the order of the adds
    /// changes the rounding), every width up to 70 and every remainder of a group of four.
    fn same_bits<F: Float>(narrow: impl Fn(f64) -> F) {
        let mut s = Stream::new(5, Purpose::Shrinkage, 0, 0);
        for d in 0..70 {
            let v = |s: &mut Stream| narrow(s.normal() * 10f64.powi(s.below(13) as i32 - 6));
            let rows: Vec<Vec<F>> = (0..9)
                .map(|_| (0..d).map(|_| v(&mut s)).collect())
                .collect();
            let q: Vec<F> = (0..d).map(|_| v(&mut s)).collect();
            let want: Vec<u64> = rows
                .iter()
                .map(|r| exact_sq_dist(&q, r).to_bits())
                .collect();
            let four = exact_sq_dists4(&q, [&rows[0], &rows[1], &rows[2], &rows[3]]);
            assert_eq!(four.map(f64::to_bits).to_vec(), want[..4], "d = {d}");
            for m in 0..=9 {
                // The rows in another order, so that each lane meets every row.
                let ids: Vec<usize> = (0..m).map(|t| (t * 7 + d) % 9).collect();
                let mut got = vec![(1.5, 99)];
                push_exact(&mut got, &q, ids.iter().copied(), |j| &rows[j]);
                assert_eq!(got.len(), m + 1);
                assert_eq!(got[0], (1.5, 99), "what was there stays");
                for (&(dist, j), &i) in got[1..].iter().zip(&ids) {
                    assert_eq!((dist.to_bits(), j), (want[i], i), "d = {d}, {m} rows");
                }
            }
        }
    }

    #[test]
    fn four_sums_side_by_side_give_the_same_bits() {
        same_bits::<f32>(|v| v as f32);
        same_bits::<f64>(|v| v);
    }
}
