//! A direct scan for tiny problems: every distance in `f64`, on the calling thread.
//!
//! Below about a million multiply-adds (a few hundred rows), building [`super::BruteForce`]'s
//! tiles and handing the work to a thread pool cost more than the distances themselves: on the
//! bundled 214-row `glass` set the tiled search took 0.45 ms a call where scikit-learn's took
//! 0.29 ms (the scan: 0.19 ms). The scan computes each query's distances to every row, feature by
//! feature over a feature-major `f64` copy (a vectorised loop), and ranks them by (distance, row):
//! the same values and ranking as the tiled search. Above the threshold the tiled search on two
//! threads wins (768 x 8 `pima`: 1.3 ms tiled, 1.7 ms scanned).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;

/// Most `queries x rows x features` multiply-adds a call hands to [`Scan`] (a 300-row self-query
/// in 10 dimensions is 0.9M). The bindings' `kneighbors` uses it; the samplers' own searches
/// are parts of larger calls and stay on the tiled search.
pub const SCAN_WORK: usize = 1 << 20;

/// Most multiply-adds a call hands to a [`Scan::parallel`] on the pool, and most features: in
/// more dimensions the tiled search's `f32` kernel wins (569 x 30 `breast_cancer`: tiled 1.25 ms,
/// scanned 1.5 ms; 768 x 8 `pima`: tiled 1.3 ms, scanned 1.0 ms).
pub const PAR_SCAN_WORK: usize = 1 << 24;
pub const PAR_SCAN_FEATURES: usize = 16;

/// Exact k-nearest neighbours by a direct scan of row-major rows (no index, no threads).
pub struct Scan<'a, F: Float> {
    data: ArrayView2<'a, F>,
    /// Spread the queries over the current rayon pool (else: the calling thread alone).
    parallel: bool,
}

impl<'a, F: Float> Scan<'a, F> {
    /// A scan on the calling thread alone.
    pub fn new(data: ArrayView2<'a, F>) -> Self {
        Scan {
            data,
            parallel: false,
        }
    }

    /// A scan whose queries are spread over the current rayon pool.
    pub fn parallel(data: ArrayView2<'a, F>) -> Self {
        Scan {
            data,
            parallel: true,
        }
    }

    /// The multiply-adds of a search of `n_queries` queries over `data`.
    pub fn work(n_queries: usize, data: ArrayView2<'_, F>) -> usize {
        n_queries
            .saturating_mul(data.nrows())
            .saturating_mul(data.ncols().max(1))
    }

    fn check_k(&self, k: usize, self_query: bool) -> Result<usize> {
        super::check_k(self.data.nrows(), k, self_query)
    }

    /// The `k` nearest rows of `q` (not `excl`), ranked by (distance, row), into `best`. `cols`
    /// holds the rows feature-major in `f64`; `acc` is scratch of one value per row.
    fn one(
        &self,
        q: &[F],
        excl: usize,
        k: usize,
        cols: &[f64],
        acc: &mut [f64],
        best: &mut Vec<(f64, usize)>,
    ) {
        let n = acc.len();
        // Feature by feature over all rows: each distance is summed in feature order from 0, as
        // `exact_sq_dist` sums it (the same value, bit for bit), and the loop vectorises.
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (f, &qv) in q.iter().enumerate() {
            let qv = qv.wide();
            for (a, &x) in acc.iter_mut().zip(&cols[f * n..(f + 1) * n]) {
                let t = qv - x;
                *a += t * t;
            }
        }
        best.clear();
        for (j, &dist) in acc.iter().enumerate() {
            // Rows come in index order: an equal distance ranks after the rows kept.
            if best.len() == k {
                if dist >= best[k - 1].0 {
                    continue;
                }
                if j == excl {
                    continue;
                }
                best.pop();
            } else if j == excl {
                continue;
            }
            let at = best.partition_point(|p| p.0 <= dist);
            best.insert(at, (dist, j));
        }
    }

    fn search<'q>(
        &self,
        queries: impl ExactSizeIterator<Item = (&'q [F], usize)>,
        k: usize,
    ) -> Neighbors
    where
        F: 'q,
    {
        let nq = queries.len();
        let (n, d) = self.data.dim();
        let mut cols = vec![0f64; n * d];
        for (i, row) in self.data.outer_iter().enumerate() {
            for (f, &v) in row.iter().enumerate() {
                cols[f * n + i] = v.wide();
            }
        }
        let qs: Vec<(&[F], usize)> = queries.collect();
        // Each list holds exactly k rows (the callers checked k against the rows available).
        let run = |chunk: &[(&[F], usize)]| {
            let mut acc = vec![0f64; n];
            let mut buf = Vec::with_capacity(k + 1);
            let mut flat = Vec::with_capacity(chunk.len() * k);
            for &(q, excl) in chunk {
                self.one(q, excl, k, &cols, &mut acc, &mut buf);
                flat.extend_from_slice(&buf);
            }
            flat
        };
        let flat: Vec<(f64, usize)> = if self.parallel {
            qs.par_chunks(64).flat_map_iter(run).collect()
        } else {
            run(&qs)
        };
        debug_assert_eq!(flat.len(), nq * k);
        let indices = Array2::from_shape_fn((nq, k), |(r, t)| flat[r * k + t].1);
        let distances = Array2::from_shape_fn((nq, k), |(r, t)| flat[r * k + t].0.sqrt());
        Neighbors { indices, distances }
    }
}

impl<F: Float> KnnIndex<F> for Scan<'_, F> {
    fn n_rows(&self) -> usize {
        self.data.nrows()
    }

    fn query(&self, queries: ArrayView2<F>, k: usize) -> Result<Neighbors> {
        if queries.ncols() != self.data.ncols() {
            return Err(CoreError::Shape(format!(
                "queries have {} features, the index has {}",
                queries.ncols(),
                self.data.ncols()
            )));
        }
        self.check_k(k, false)?;
        let q = queries.as_standard_layout();
        let (d, all) = (q.ncols(), q.as_slice().expect("standard layout"));
        Ok(self.search(
            (0..q.nrows()).map(|i| (&all[i * d..(i + 1) * d], usize::MAX)),
            k,
        ))
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        self.check_k(k, true)?;
        let d = self.data.ncols();
        let all = self.data.as_slice().expect("row-major");
        Ok(self.search(
            (0..self.data.nrows()).map(|i| (&all[i * d..(i + 1) * d], i)),
            k,
        ))
    }

    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        self.check_k(k, true)?;
        let n = self.data.nrows();
        if let Some(&bad) = rows.iter().find(|&&i| i >= n) {
            return Err(CoreError::Shape(format!(
                "row {bad} is out of range for an index of {n} rows"
            )));
        }
        let d = self.data.ncols();
        let all = self.data.as_slice().expect("row-major");
        Ok(self.search(rows.iter().map(|&i| (&all[i * d..(i + 1) * d], i)), k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::BruteForce;
    use crate::rng::{Purpose, Stream};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The scan and the tiled search give the same lists, distances included, on data with
        /// ties and duplicates.
        #[test]
        fn scan_equals_the_tiled_search(
            n in 2usize..300, d in 1usize..8, k in 1usize..6, seed in 0u64..1000,
            coarse in proptest::bool::ANY,
        ) {
            let k = k.min(n - 1);
            let mut s = Stream::new(seed, Purpose::Smote, 3, 0);
            let x = Array2::from_shape_fn((n, d), |_| {
                if coarse { s.below(3) as f32 } else { s.normal() as f32 }
            });
            let (scan, tiled) = (Scan::new(x.view()), BruteForce::new(x.view()));
            prop_assert_eq!(scan.query_self(k).unwrap(), tiled.query_self(k).unwrap());
            prop_assert_eq!(Scan::parallel(x.view()).query_self(k).unwrap(), tiled.query_self(k).unwrap());
            let rows: Vec<usize> = (0..n).rev().step_by(2).collect();
            prop_assert_eq!(
                scan.query_self_rows(&rows, k).unwrap(),
                tiled.query_self_rows(&rows, k).unwrap()
            );
            let q = x.slice(ndarray::s![..n.min(7), ..]);
            prop_assert_eq!(scan.query(q, k).unwrap(), tiled.query(q, k).unwrap());
            prop_assert!(scan.query_self(n).is_err() && scan.query(q, n + 1).is_err());
        }
    }
}
