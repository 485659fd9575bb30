//! Exact blocked brute-force search.
//!
//! Pass 1 ranks every data row for a tile of queries with the norm expansion
//! `|q|^2 + |x|^2 - 2 q.x` in the data's own precision (a vectorisable tile product over a
//! transposed copy of the data). It keeps a few more candidates than asked for. Pass 2 recomputes the
//! candidates' distances directly in `f64` and ranks them by (distance, index). A rigorous bound on
//! the rounding error of pass 1 then proves that no row left out of the candidates could rank in the
//! top k; where the bound cannot prove it (many near-ties, far-from-origin data), that query falls
//! back to a direct scan. The result is the exact Euclidean ranking, whatever the rounding.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{exact_sq_dist, KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;

/// Data rows in one tile of pass 1.
const BLOCK: usize = 256;
/// Queries computed together against one tile (they share its loads).
const MICRO: usize = 4;
/// Queries handed to one parallel task.
const TASK: usize = 64;

/// Exact brute-force index over a set of rows.
pub struct BruteForce<'a, F: Float> {
    data: Cow<'a, [F]>,
    n: usize,
    d: usize,
    /// Squared norms of the rows, in `F` (pass 1 only).
    norms: Vec<F>,
    max_norm: f64,
    /// Tiles of `BLOCK` rows, each stored feature-major: `tiles[t][j * BLOCK + b]`.
    tiles: Vec<F>,
}

impl<'a, F: Float> BruteForce<'a, F> {
    /// Index the rows of `data`. Borrowed without a copy when it is row-major contiguous.
    pub fn new(data: ArrayView2<'a, F>) -> Self {
        let (n, d) = data.dim();
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        let norms: Vec<F> = if d == 0 {
            vec![F::zero(); n]
        } else {
            data.par_chunks(d)
                .map(|r| r.iter().map(|&v| v * v).sum())
                .collect()
        };
        let max_norm = norms.iter().fold(0.0f64, |m, v| m.max(v.wide()));
        let n_tiles = n.div_ceil(BLOCK);
        let mut tiles = vec![F::zero(); n_tiles * BLOCK * d.max(1)];
        if d > 0 {
            tiles
                .par_chunks_mut(BLOCK * d)
                .enumerate()
                .for_each(|(t, tile)| {
                    let start = t * BLOCK;
                    let end = (start + BLOCK).min(n);
                    for (b, i) in (start..end).enumerate() {
                        let row = &data[i * d..(i + 1) * d];
                        for j in 0..d {
                            tile[j * BLOCK + b] = row[j];
                        }
                    }
                });
        }
        BruteForce {
            data,
            n,
            d,
            norms,
            max_norm,
            tiles,
        }
    }

    /// The `k` nearest other indexed rows of the indexed rows `rows` (each excluded from its own
    /// list by index): `query_self` restricted to some rows, e.g. the rows of one class searched
    /// among the whole data (Borderline-SMOTE's "danger" test, ADASYN's ratio).
    pub fn query_rows_self(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.n) {
            return Err(CoreError::Shape(format!(
                "row index {bad} is out of range for {} rows",
                self.n
            )));
        }
        let mut q = Vec::with_capacity(rows.len() * self.d);
        for &r in rows {
            q.extend_from_slice(self.row(r));
        }
        self.search(&q, Some(rows), k)
    }

    fn row(&self, i: usize) -> &[F] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// Search for `queries` (row-major, `nq x d`); `self_ids[i]`, when given, is excluded for query i.
    fn search(&self, queries: &[F], self_ids: Option<&[usize]>, k: usize) -> Result<Neighbors> {
        let d = self.d;
        let nq = queries
            .len()
            .checked_div(d)
            .unwrap_or_else(|| self_ids.map_or(0, |s| s.len()));
        let available = if self_ids.is_some() {
            self.n.saturating_sub(1)
        } else {
            self.n
        };
        if k == 0 || k > available {
            return Err(CoreError::InvalidArgument(format!(
                "Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, n_samples_fit = {available}"
            )));
        }
        let keep = (2 * k + 8).min(available);
        let mut indices = vec![0usize; nq * k];
        let mut distances = vec![0f64; nq * k];
        indices
            .par_chunks_mut(TASK * k)
            .zip(distances.par_chunks_mut(TASK * k))
            .enumerate()
            .for_each(|(task, (idx_out, dist_out))| {
                let q0 = task * TASK;
                let q1 = (q0 + TASK).min(nq);
                let mut acc = vec![F::zero(); MICRO * BLOCK];
                let mut cands: Vec<Vec<(F, usize)>> =
                    (0..MICRO).map(|_| Vec::with_capacity(keep + 1)).collect();
                let mut exact: Vec<(f64, usize)> = Vec::with_capacity(keep);
                let mut m0 = q0;
                while m0 < q1 {
                    let m1 = (m0 + MICRO).min(q1);
                    let mq = m1 - m0;
                    for c in cands.iter_mut() {
                        c.clear();
                    }
                    let qrows: Vec<&[F]> = (m0..m1).map(|i| &queries[i * d..(i + 1) * d]).collect();
                    let qnorms: Vec<F> = qrows
                        .iter()
                        .map(|r| r.iter().map(|&v| v * v).sum())
                        .collect();
                    self.pass1(
                        &qrows,
                        &qnorms,
                        self_ids.map(|s| &s[m0..m1]),
                        keep,
                        &mut acc,
                        &mut cands,
                    );
                    for qi in 0..mq {
                        let i = m0 + qi;
                        let excl = self_ids.map(|s| s[i]);
                        let q = qrows[qi];
                        exact.clear();
                        exact.extend(
                            cands[qi]
                                .iter()
                                .map(|&(_, j)| (exact_sq_dist(q, self.row(j)), j)),
                        );
                        exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        let proven = cands[qi].len() < keep
                            || {
                                // Pass 1's error is at most `err`; every row outside the candidates has a
                                // pass-1 distance >= the last candidate's, so a true distance >= last - err.
                                let last = cands[qi][keep - 1].0.wide();
                                let err = self.error_bound(qnorms[qi].wide());
                                let kth = exact[k - 1].0;
                                kth * (1.0 + 1e-12) + 1e-300 < last - err
                            }
                            || cands[qi].len() == available;
                        if !proven {
                            self.scan(q, excl, &mut exact);
                        }
                        let o = (i - q0) * k;
                        for t in 0..k {
                            idx_out[o + t] = exact[t].1;
                            dist_out[o + t] = exact[t].0.sqrt();
                        }
                    }
                    m0 = m1;
                }
            });
        Ok(Neighbors {
            indices: Array2::from_shape_vec((nq, k), indices).expect("shape"),
            distances: Array2::from_shape_vec((nq, k), distances).expect("shape"),
        })
    }

    /// Upper bound on |pass-1 distance - true distance| for a query of squared norm `qn`.
    fn error_bound(&self, qn: f64) -> f64 {
        let u = F::epsilon().wide();
        (2.0 * self.d as f64 + 8.0) * u * (qn + self.max_norm) * 1.1
    }

    /// Pass 1 over every tile for up to `MICRO` queries.
    fn pass1(
        &self,
        qrows: &[&[F]],
        qnorms: &[F],
        excl: Option<&[usize]>,
        keep: usize,
        acc: &mut [F],
        cands: &mut [Vec<(F, usize)>],
    ) {
        let d = self.d;
        let mq = qrows.len();
        let two = F::one() + F::one();
        for (t, tile) in self.tiles.chunks(BLOCK * d.max(1)).enumerate() {
            let start = t * BLOCK;
            let len = BLOCK.min(self.n - start);
            for a in acc[..mq * BLOCK].iter_mut() {
                *a = F::zero();
            }
            for j in 0..d {
                let col = &tile[j * BLOCK..j * BLOCK + BLOCK];
                for qi in 0..mq {
                    let qv = qrows[qi][j];
                    let a = &mut acc[qi * BLOCK..(qi + 1) * BLOCK];
                    for b in 0..BLOCK {
                        a[b] += qv * col[b];
                    }
                }
            }
            for qi in 0..mq {
                let c = &mut cands[qi];
                let ex = excl.map(|e| e[qi]);
                let qn = qnorms[qi];
                let a = &acc[qi * BLOCK..(qi + 1) * BLOCK];
                for b in 0..len {
                    let j = start + b;
                    let dist = qn + self.norms[j] - two * a[b];
                    if c.len() == keep && dist >= c[keep - 1].0 {
                        continue;
                    }
                    if Some(j) == ex {
                        continue;
                    }
                    // Sorted insertion; `keep` is small.
                    let pos = c.partition_point(|&(v, _)| v <= dist);
                    if c.len() == keep {
                        c.pop();
                    }
                    c.insert(pos, (dist, j));
                }
            }
        }
    }

    /// Direct scan of every row in `f64`, for a query pass 1 could not settle.
    fn scan(&self, q: &[F], excl: Option<usize>, out: &mut Vec<(f64, usize)>) {
        out.clear();
        out.extend(
            (0..self.n)
                .filter(|&j| Some(j) != excl)
                .map(|j| (exact_sq_dist(q, self.row(j)), j)),
        );
        out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
}

impl<F: Float> KnnIndex<F> for BruteForce<'_, F> {
    fn n_rows(&self) -> usize {
        self.n
    }

    fn query(&self, queries: ArrayView2<F>, k: usize) -> Result<Neighbors> {
        if queries.ncols() != self.d {
            return Err(CoreError::Shape(format!(
                "queries have {} features, the index has {}",
                queries.ncols(),
                self.d
            )));
        }
        let q: Cow<[F]> = match queries.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(queries.iter().copied().collect()),
        };
        self.search(&q, None, k)
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        let ids: Vec<usize> = (0..self.n).collect();
        self.search(&self.data, Some(&ids), k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use proptest::prelude::*;

    /// Reference: sort every row by (exact f64 distance, index).
    fn reference(data: &Array2<f64>, k: usize) -> Vec<Vec<usize>> {
        let n = data.nrows();
        (0..n)
            .map(|i| {
                let mut v: Vec<(f64, usize)> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| {
                        (
                            exact_sq_dist(
                                data.row(i).as_slice().unwrap(),
                                data.row(j).as_slice().unwrap(),
                            ),
                            j,
                        )
                    })
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                v.into_iter().take(k).map(|p| p.1).collect()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn self_query_matches_reference(
            n in 2usize..300, d in 1usize..9, k in 1usize..8, seed in 0u64..1000, dup in 0usize..3
        ) {
            let k = k.min(n - 1);
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 0, 0);
            // Few distinct values so that ties and duplicates are common.
            let mut data = Array2::from_shape_fn((n, d), |_| (s.below(5) as f64) * 0.5 + 1000.0 * dup as f64);
            if dup == 2 { let r0 = data.row(0).to_owned(); data.row_mut(n - 1).assign(&r0); }
            let idx = BruteForce::new(data.view()).query_self(k).unwrap();
            let want = reference(&data, k);
            for i in 0..n {
                prop_assert_eq!(idx.indices.row(i).to_vec(), want[i].clone());
            }
        }

        #[test]
        fn f32_query_matches_f64_reference(n in 2usize..600, d in 1usize..40, seed in 0u64..1000) {
            let k = 5.min(n - 1);
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 1, 0);
            let data32 = Array2::from_shape_fn((n, d), |_| (s.normal() * 3.0) as f32);
            let data64 = data32.mapv(|v| v as f64);
            let got = BruteForce::new(data32.view()).query_self(k).unwrap();
            let want = reference(&data64, k);
            for i in 0..n {
                prop_assert_eq!(got.indices.row(i).to_vec(), want[i].clone());
            }
        }
    }

    #[test]
    fn query_other_set_and_errors() {
        let data = ndarray::array![[0.0f64, 0.0], [1.0, 0.0], [5.0, 5.0]];
        let bf = BruteForce::new(data.view());
        let q = ndarray::array![[0.9f64, 0.1]];
        let r = bf.query(q.view(), 2).unwrap();
        assert_eq!(r.indices.row(0).to_vec(), vec![1, 0]);
        assert!((r.distances[[0, 0]] - (0.01f64 + 0.01).sqrt()).abs() < 1e-12);
        assert!(bf.query_self(3).is_err());
        assert!(bf.query(q.view(), 4).is_err());
        assert!(bf.query(ndarray::array![[1.0f64]].view(), 1).is_err());
    }
}
