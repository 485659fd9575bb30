//! Rows equal in every feature: exact copies of one another.
//!
//! A row with `k` copies has them as its `k` nearest other rows: they are at distance 0, nothing
//! is nearer, and equal distances rank by row. So the cleaners answer such a row from its copies,
//! without a search: on data with many duplicate rows (a transaction logged twice, SMOTE's rows
//! between two copies of a row), the searches found thousands of rows at distance 0 and could not
//! rank them by the float32 pass (`docs/design.md`, "Copies").
//!
//! Distance 0 means equal values only where no two values differ by so little that the square of
//! their difference underflows: true of every float32 value, and of float64 data with no value in
//! `(0, 1e-137)` in magnitude (two distinct doubles that close to each other are both that small).
//! Data with such a value gets no copies (the searches answer, as before).

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::float::Float;
use crate::neighbors::row_hash;

/// Below this magnitude, two distinct values may have a squared difference that underflows to 0.
const TINY: f64 = 1e-137;

/// The groups of rows equal to one another (groups of one left out).
pub(crate) struct Copies {
    /// Per row, its group, or `u32::MAX` when it has no copy.
    group: Vec<u32>,
    /// Group `g` is `members[starts[g]..starts[g + 1]]`, rows ascending.
    starts: Vec<usize>,
    members: Vec<usize>,
}

impl Copies {
    /// The copies among the rows of `x` (row-major), or `None` when no row has one or when a value
    /// is too small in magnitude for distance 0 to mean equality (see the module doc).
    pub(crate) fn new<F: Float>(x: ArrayView2<F>) -> Option<Self> {
        let (n, d) = x.dim();
        let data = x.as_slice()?;
        let row = |i: usize| &data[i * d..(i + 1) * d];
        let tiny = |v: F| {
            let a = v.wide().abs();
            a > 0.0 && a < TINY
        };
        if data.par_iter().any(|&v| tiny(v)) {
            return None;
        }
        let mut keyed: Vec<(u64, usize)> = (0..n)
            .into_par_iter()
            .map(|i| (row_hash(row(i)), i))
            .collect();
        keyed.par_sort_unstable();
        let mut group = vec![u32::MAX; n];
        let mut starts = vec![0];
        let mut members = Vec::new();
        let mut run: Vec<usize> = Vec::new();
        let mut a = 0;
        while a < n {
            let b = a + keyed[a..].partition_point(|p| p.0 == keyed[a].0);
            if b - a >= 2 {
                // Rows ascending (sorted by (hash, row)); equal hashes split by equal values.
                run.clear();
                run.extend(keyed[a..b].iter().map(|p| p.1));
                while let Some(&rep) = run.first() {
                    let same = |j: &usize| row(*j).iter().zip(row(rep)).all(|(p, q)| p == q);
                    let size = run.iter().filter(|j| same(j)).count();
                    if size >= 2 {
                        let g = starts.len() - 1;
                        for &j in run.iter().filter(|j| same(j)) {
                            group[j] = g as u32;
                            members.push(j);
                        }
                        starts.push(members.len());
                    }
                    run.retain(|j| !same(j));
                }
            }
            a = b;
        }
        if members.is_empty() || starts.len() > u32::MAX as usize {
            return None;
        }
        Some(Copies {
            group,
            starts,
            members,
        })
    }

    /// The rows equal to row `i` (itself included), ascending, when it has a copy.
    fn group(&self, i: usize) -> Option<&[usize]> {
        let g = *self.group.get(i)?;
        (g != u32::MAX).then(|| &self.members[self.starts[g as usize]..self.starts[g as usize + 1]])
    }

    /// Whether row `i` has at least `k` copies (then [`Copies::nearest`] answers it).
    pub(crate) fn has(&self, i: usize, k: usize) -> bool {
        self.group(i).is_some_and(|rows| rows.len() > k)
    }

    /// The `k` nearest other rows of row `i`, as (squared distance, row), when it has `k` copies:
    /// its `k` lowest copies, at distance 0.
    pub(crate) fn nearest(&self, i: usize, k: usize) -> Option<Vec<(f64, usize)>> {
        let rows = self.group(i)?;
        (rows.len() > k).then(|| {
            rows.iter()
                .filter(|&&j| j != i)
                .take(k)
                .map(|&j| (0.0, j))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::exact_sq_dist;
    use crate::rng::{Purpose, Stream};
    use ndarray::Array2;

    /// The k nearest other rows of row i by (exact squared distance, row): a full scan.
    fn scan(x: &Array2<f64>, i: usize, k: usize) -> Vec<(f64, usize)> {
        let r = |j: usize| x.row(j).to_vec();
        let mut all: Vec<(f64, usize)> = (0..x.nrows())
            .filter(|&j| j != i)
            .map(|j| (exact_sq_dist(&r(i), &r(j)), j))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
        all
    }

    #[test]
    fn copies_are_the_nearest_rows_of_a_full_scan() {
        let mut s = Stream::new(3, Purpose::Smote, 2, 0);
        // Distinct rows in 3 features on a coarse grid, drawn 400 times: groups of every size
        // (few prototypes: large groups; many: groups of 2 and 3), near rows at small distances,
        // and -0.0 beside 0.0.
        for n_protos in [40, 160] {
            let protos: Vec<[f64; 3]> = (0..n_protos)
                .map(|_| [0.0; 3].map(|_| s.below(4) as f64 * 0.5 - 0.5))
                .collect();
            let x = Array2::from_shape_fn((400, 3), |(i, j)| {
                let v = protos[(i * 7919 + i / 3) % n_protos][j];
                if v == 0.0 && i % 2 == 0 {
                    -0.0
                } else {
                    v
                }
            });
            let copies = Copies::new(x.view()).expect("rows with copies");
            let (mut answered, mut not) = (0, 0);
            for k in [1, 2, 3, 9, 30] {
                for i in 0..x.nrows() {
                    match copies.nearest(i, k) {
                        Some(near) => {
                            assert_eq!(near, scan(&x, i, k), "row {i}, k={k}");
                            answered += 1;
                        }
                        None => {
                            // Fewer than k copies: the k-th nearest row is not a copy.
                            assert!(scan(&x, i, k)[k - 1].0 > 0.0, "row {i}, k={k}");
                            not += 1;
                        }
                    }
                }
            }
            assert!(
                answered > 500 && not > 100,
                "{answered} answered, {not} not"
            );
        }
        // A row without copies is not answered.
        let mut one = Array2::from_shape_fn((400, 3), |(i, j)| ((i + j) % 7) as f64);
        one[[0, 0]] = 70.0;
        let copies = Copies::new(one.view()).unwrap();
        assert!(copies.nearest(0, 1).is_none());
        assert!(copies.nearest(1, 1).is_some());
    }

    #[test]
    fn tiny_values_or_no_copies_give_none() {
        let distinct = Array2::from_shape_fn((50, 2), |(i, j)| (i * 2 + j) as f64);
        assert!(Copies::new(distinct.view()).is_none());
        // Two rows 1e-163 apart are at squared distance 0 (it underflows) without being equal.
        let mut tiny = Array2::from_shape_fn((50, 2), |(i, _)| (i % 5) as f64);
        tiny[[0, 1]] = 1e-163;
        assert_eq!(exact_sq_dist(&[0.0, 1e-163], &[0.0, 0.0]), 0.0);
        assert!(Copies::new(tiny.view()).is_none());
        let f32s = Array2::from_shape_fn((50, 2), |(i, _)| f32::from_bits(1 + (i % 5) as u32));
        let c = Copies::new(f32s.view()).expect("float32 subnormals are never that close");
        assert_eq!(c.nearest(0, 2), Some(vec![(0.0, 5), (0.0, 10)]));
    }
}
