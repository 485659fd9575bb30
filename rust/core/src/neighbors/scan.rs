//! A direct scan for tiny problems: every distance in `f64`, on the calling thread.
//!
//! Below about a million multiply-adds (a few hundred rows), building [`super::BruteForce`]'s
//! tiles and handing the work to a thread pool cost more than the distances themselves: on the
//! bundled 214-row `glass` set the tiled search took 0.45 ms a call where scikit-learn's took
//! 0.29 ms (the scan: 0.13 ms). The scan computes each query's distances to every row over a
//! feature-major `f64` copy, in blocks of rows held in vector registers (see [`nearest`]), and
//! ranks them by (distance, row): the same values and ranking as the tiled search. Above the
//! threshold it runs on the pool ([`par_scan_wins`]).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::isa::Isa;

/// Most `queries x rows x features` multiply-adds a call hands to [`Scan`] (a 300-row self-query
/// in 10 dimensions is 0.9M). The bindings' `kneighbors` uses it; the samplers' own searches
/// are parts of larger calls and stay on the tiled search.
pub const SCAN_WORK: usize = 1 << 20;

/// Most multiply-adds a call hands to a [`Scan::parallel`] on the pool, and most features: in
/// more dimensions, or more rows, the tiled search's `f32` kernel wins (self searches on two
/// threads, best of 50: 768 x 8 `pima` tiled 0.69 ms, scanned 0.45 ms; 1,484 x 8 `yeast_me2`
/// 1.41 ms and 1.48 ms; 569 x 30 `breast_cancer` 0.71 ms and 0.87 ms; 937 x 49 `oil_spill`
/// 1.72 ms and 2.58 ms).
const PAR_SCAN_WORK: usize = 1 << 24;
const PAR_SCAN_FEATURES: usize = 16;
/// Most multiply-adds a call in more than [`PAR_SCAN_FEATURES`] features hands to a
/// [`Scan::parallel`]: about 650 rows in 30. Self searches in 30 features, median of 200 calls,
/// tiled against scanned: 500 rows `gaussian` 0.66 / 0.61 ms, `clustered` 0.72 / 0.47 ms,
/// `manifold` 0.65 / 0.46 ms; 600 rows `gaussian` 0.83 / 0.84 ms, `duplicates` 0.71 / 0.54 ms,
/// `clustered` 0.81 / 0.62 ms; 700 rows `gaussian` 0.97 / 1.14 ms; 900 rows `gaussian` 1.22 /
/// 1.65 ms (the scan computes every distance twice, the tiled search once).
const PAR_SCAN_WORK_WIDE: usize = 12 << 20;

/// Whether a search of `work` multiply-adds (see [`Scan::work`]) in `d` features goes to a
/// [`Scan::parallel`] rather than the tiled search.
pub fn par_scan_wins(work: usize, d: usize) -> bool {
    work <= PAR_SCAN_WORK_WIDE || (d <= PAR_SCAN_FEATURES && work <= PAR_SCAN_WORK)
}

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
    /// holds the rows feature-major in `f64`, padded as [`nearest`] reads them; `qw` and `acc`
    /// are scratch of one value per feature and per padded row.
    #[allow(clippy::too_many_arguments)]
    fn one(
        &self,
        isa: Isa,
        q: &[F],
        excl: usize,
        k: usize,
        cols: &[f64],
        qw: &mut [f64],
        acc: &mut [f64],
        best: &mut Vec<(f64, usize)>,
    ) {
        qw.iter_mut().zip(q).for_each(|(w, v)| *w = v.wide());
        nearest(isa, qw, cols, self.data.nrows(), excl, k, acc, best);
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
        // Feature-major, each feature's column padded with zeros to whole register blocks.
        let np = n.next_multiple_of(MAX_ROWS);
        let mut cols = vec![0f64; np * d];
        for (i, row) in self.data.outer_iter().enumerate() {
            for (f, &v) in row.iter().enumerate() {
                cols[f * np + i] = v.wide();
            }
        }
        let qs: Vec<(&[F], usize)> = queries.collect();
        // Each list holds exactly k rows (the callers checked k against the rows available).
        let isa = Isa::detect();
        let run = |chunk: &[(&[F], usize)]| {
            let mut acc = vec![0f64; np];
            let mut qw = vec![0f64; d];
            let mut buf = Vec::with_capacity(k + 1);
            let mut flat = Vec::with_capacity(chunk.len() * k);
            for &(q, excl) in chunk {
                self.one(isa, q, excl, k, &cols, &mut qw, &mut acc, &mut buf);
                flat.extend_from_slice(&buf);
            }
            flat
        };
        let flat: Vec<(f64, usize)> = if self.parallel {
            // Four chunks a thread (of at least 8 queries): chunks of 64 left one thread with
            // 128 of 200 queries.
            let chunk = nq.div_ceil(4 * rayon::current_num_threads()).max(8);
            qs.par_chunks(chunk).flat_map_iter(run).collect()
        } else {
            run(&qs)
        };
        debug_assert_eq!(flat.len(), nq * k);
        let indices = Array2::from_shape_fn((nq, k), |(r, t)| flat[r * k + t].1);
        let distances = Array2::from_shape_fn((nq, k), |(r, t)| flat[r * k + t].0.sqrt());
        Neighbors { indices, distances }
    }
}

/// The longest block of rows [`nearest`] keeps in registers (eight AVX-512 vectors of `f64`); the
/// columns are padded to a multiple of it.
const MAX_ROWS: usize = 64;

/// The `k` nearest of the `n` rows to `qw` (not `excl`), ranked by (distance, row), into `best`;
/// `acc[r]` takes the squared distance to row `r` of the feature-major `cols` (`cols[f * np + r]`,
/// `np = acc.len()`, a multiple of [`MAX_ROWS`]: the rows past `n` are padding), summed feature by
/// feature from 0 with a separate multiply and add, as `exact_sq_dist` sums it: the same value,
/// bit for bit, on every instruction set (Rust never fuses a multiply and an add; only the vectors
/// are wider). Blocks of rows keep their sums in registers over all the features, eight vectors a
/// block (eight independent chains of additions, enough to hide their latency), and a block with
/// no distance under the k-th kept is passed over after one vector test. The earlier loop (one
/// feature over all rows at a time, compiled for SSE2 alone, every sum loaded and stored at every
/// feature, the rows past the last whole block one at a time, then each distance tested alone)
/// took 0.93 ms for a self search of 768 x 8 `pima` on two threads.
#[allow(clippy::too_many_arguments)]
fn nearest(
    isa: Isa,
    qw: &[f64],
    cols: &[f64],
    n: usize,
    excl: usize,
    k: usize,
    acc: &mut [f64],
    best: &mut Vec<(f64, usize)>,
) {
    debug_assert!(
        acc.len().is_multiple_of(MAX_ROWS) && n <= acc.len() && cols.len() == acc.len() * qw.len()
    );
    /// One instruction set's loop, with blocks of `R` rows (a divisor of [`MAX_ROWS`]).
    #[inline(always)]
    fn body<const R: usize>(
        qw: &[f64],
        cols: &[f64],
        n: usize,
        excl: usize,
        k: usize,
        acc: &mut [f64],
        best: &mut Vec<(f64, usize)>,
    ) {
        let np = acc.len();
        for r0 in (0..np).step_by(R) {
            let mut a = [0f64; R];
            for (f, &qv) in qw.iter().enumerate() {
                let x: &[f64; R] = cols[f * np + r0..f * np + r0 + R].try_into().unwrap();
                for (s, &xv) in a.iter_mut().zip(x) {
                    let t = qv - xv;
                    *s += t * t;
                }
            }
            acc[r0..r0 + R].copy_from_slice(&a);
        }
        best.clear();
        for (c, chunk) in acc[..n].chunks(R).enumerate() {
            // The block's distances under the k-th kept, as a mask from one vector test: most
            // blocks hold none or a few.
            let mut hits = if best.len() == k {
                let t = best[k - 1].0;
                let mut m = 0u64;
                for (l, &v) in chunk.iter().enumerate() {
                    m |= ((v < t) as u64) << l;
                }
                m
            } else {
                u64::MAX >> (64 - chunk.len())
            };
            while hits != 0 {
                let l = hits.trailing_zeros() as usize;
                hits &= hits - 1;
                let (j, dist) = (c * R + l, chunk[l]);
                if j == excl {
                    continue;
                }
                // Rows come in index order: an equal distance ranks after the rows kept.
                let mut i = best.len();
                if i == k {
                    if dist >= best[k - 1].0 {
                        continue;
                    }
                    i -= 1;
                } else {
                    best.push((dist, j));
                }
                while i > 0 && best[i - 1].0 > dist {
                    best[i] = best[i - 1];
                    i -= 1;
                }
                best[i] = (dist, j);
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The CPU must support AVX-512F.
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512(
            qw: &[f64],
            cols: &[f64],
            n: usize,
            excl: usize,
            k: usize,
            acc: &mut [f64],
            best: &mut Vec<(f64, usize)>,
        ) {
            body::<64>(qw, cols, n, excl, k, acc, best)
        }
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(
            qw: &[f64],
            cols: &[f64],
            n: usize,
            excl: usize,
            k: usize,
            acc: &mut [f64],
            best: &mut Vec<(f64, usize)>,
        ) {
            body::<32>(qw, cols, n, excl, k, acc, best)
        }
        match isa {
            // SAFETY: `Isa::detect` chose these only where the CPU has them.
            Isa::Avx512 => return unsafe { avx512(qw, cols, n, excl, k, acc, best) },
            Isa::Avx2 => return unsafe { avx2(qw, cols, n, excl, k, acc, best) },
            Isa::Baseline => {}
        }
    }
    body::<16>(qw, cols, n, excl, k, acc, best)
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
        /// On every instruction set, [`nearest`] gives each row's `exact_sq_dist`, bit for bit,
        /// and the k smallest ranked by (distance, row) without the excluded row: row counts on
        /// both sides of the register blocks, ties from coarse values.
        #[test]
        fn nearest_is_the_exact_ranking_on_every_instruction_set(
            n in 1usize..150, d in 1usize..12, k in 1usize..9, excl in 0usize..160,
            seed in 0u64..1000, coarse in proptest::bool::ANY,
        ) {
            let mut s = Stream::new(seed, Purpose::Smote, 4, 0);
            let val = |s: &mut Stream| if coarse { s.below(3) as f64 } else { s.normal() };
            let rows: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| val(&mut s)).collect()).collect();
            let q: Vec<f64> = (0..d).map(|_| val(&mut s)).collect();
            let np = n.next_multiple_of(MAX_ROWS);
            let mut cols = vec![0f64; np * d];
            for (j, r) in rows.iter().enumerate() {
                for f in 0..d {
                    cols[f * np + j] = r[f];
                }
            }
            let mut want: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != excl)
                .map(|j| (crate::neighbors::exact_sq_dist(&q, &rows[j]), j))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let k = k.min(want.len());
            prop_assume!(k > 0);
            want.truncate(k);
            for isa in Isa::supported() {
                let (mut acc, mut best) = (vec![0f64; np], Vec::new());
                nearest(isa, &q, &cols, n, excl, k, &mut acc, &mut best);
                for (j, r) in rows.iter().enumerate() {
                    prop_assert_eq!(acc[j].to_bits(), crate::neighbors::exact_sq_dist(&q, r).to_bits());
                }
                prop_assert_eq!(&best, &want);
            }
        }

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
