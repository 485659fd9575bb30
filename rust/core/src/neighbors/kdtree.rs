//! Exact KD-tree, for low dimension.
//!
//! Median splits on the feature of widest spread down to leaves of at most `LEAF` rows, every node
//! with its bounding box. A query descends nearer child first and prunes a node only when the
//! distance to its box is strictly above the current k-th distance, so that an equal distance of a
//! lower row index is still found. Distances are computed directly in `f64`, and the box distance is
//! computed with the same operations on values that are never nearer, so by monotone rounding it
//! never exceeds a computed row distance: the ranking is exactly (distance, row index).

use std::borrow::Cow;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{exact_sq_dist, KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;

const LEAF: usize = 32;

struct Node {
    start: usize,
    end: usize,
    /// Children, or `usize::MAX` for a leaf.
    left: usize,
    right: usize,
}

/// Exact KD-tree index over a set of rows.
pub struct KdTree<'a, F: Float> {
    data: Cow<'a, [F]>,
    n: usize,
    d: usize,
    /// Rows in leaf order.
    perm: Vec<usize>,
    /// Node boxes, `nodes.len() x d` each.
    lo: Vec<F>,
    hi: Vec<F>,
    nodes: Vec<Node>,
}

impl<'a, F: Float> KdTree<'a, F> {
    /// Index the rows of `data`. Borrowed without a copy when it is row-major contiguous.
    pub fn new(data: ArrayView2<'a, F>) -> Self {
        let (n, d) = data.dim();
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        let mut t = KdTree {
            data,
            n,
            d,
            perm: (0..n).collect(),
            lo: Vec::new(),
            hi: Vec::new(),
            nodes: Vec::new(),
        };
        if n > 0 {
            let mut perm = std::mem::take(&mut t.perm);
            t.build(&mut perm, 0);
            t.perm = perm;
        }
        t
    }

    /// Bytes held by the index beyond the data it borrows.
    pub fn memory_bytes(&self) -> usize {
        let f = std::mem::size_of::<F>();
        let owned = match self.data {
            Cow::Owned(ref v) => v.len() * f,
            Cow::Borrowed(_) => 0,
        };
        owned
            + self.perm.len() * 8
            + (self.lo.len() + self.hi.len()) * f
            + self.nodes.len() * std::mem::size_of::<Node>()
    }

    fn row(&self, i: usize) -> &[F] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// Build the subtree over `rows` (= `perm[start..]`); returns its node id.
    fn build(&mut self, rows: &mut [usize], start: usize) -> usize {
        let d = self.d;
        let id = self.nodes.len();
        self.nodes.push(Node {
            start,
            end: start + rows.len(),
            left: usize::MAX,
            right: usize::MAX,
        });
        let mut lo = vec![F::infinity(); d];
        let mut hi = vec![F::neg_infinity(); d];
        for &i in rows.iter() {
            let r = &self.data[i * d..(i + 1) * d];
            for j in 0..d {
                lo[j] = lo[j].min(r[j]);
                hi[j] = hi[j].max(r[j]);
            }
        }
        self.lo.extend_from_slice(&lo);
        self.hi.extend_from_slice(&hi);
        // An interrupted build ends its nodes as leaves: the tree stays valid (and is dropped,
        // since every search of it then reports the interrupt).
        if rows.len() <= LEAF || crate::cancel::requested() {
            return id;
        }
        let (mut best, mut spread) = (0usize, F::zero());
        for j in 0..d {
            if hi[j] - lo[j] > spread {
                best = j;
                spread = hi[j] - lo[j];
            }
        }
        if spread <= F::zero() {
            return id; // all rows equal: one leaf
        }
        let mid = rows.len() / 2;
        let data = &self.data;
        rows.select_nth_unstable_by(mid, |&a, &b| {
            data[a * d + best]
                .wide()
                .total_cmp(&data[b * d + best].wide())
                .then(a.cmp(&b))
        });
        let (l, r) = rows.split_at_mut(mid);
        let left = self.build(l, start);
        let right = self.build(r, start + mid);
        self.nodes[id].left = left;
        self.nodes[id].right = right;
        id
    }

    /// Squared distance from `q` to the box of `node`, never above a computed row distance.
    fn box_dist(&self, node: usize, q: &[F]) -> f64 {
        let d = self.d;
        let (lo, hi) = (
            &self.lo[node * d..(node + 1) * d],
            &self.hi[node * d..(node + 1) * d],
        );
        let mut s = 0f64;
        for j in 0..d {
            let v = q[j].wide();
            let t = if v < lo[j].wide() {
                lo[j].wide() - v
            } else if v > hi[j].wide() {
                v - hi[j].wide()
            } else {
                0.0
            };
            s += t * t;
        }
        s
    }

    fn search_one(&self, q: &[F], excl: usize, k: usize, best: &mut Vec<(f64, usize)>) {
        best.clear();
        let mut stack: Vec<(f64, usize)> = vec![(0.0, 0)];
        while let Some((bd, node)) = stack.pop() {
            if best.len() == k && bd > best[k - 1].0 {
                continue;
            }
            let nd = &self.nodes[node];
            if nd.left == usize::MAX {
                for &j in &self.perm[nd.start..nd.end] {
                    if j == excl {
                        continue;
                    }
                    let dist = exact_sq_dist(q, self.row(j));
                    if best.len() == k {
                        let last = best[k - 1];
                        if dist > last.0 || (dist == last.0 && j > last.1) {
                            continue;
                        }
                        best.pop();
                    }
                    let pos = best.partition_point(|&(v, i)| v < dist || (v == dist && i < j));
                    best.insert(pos, (dist, j));
                }
                continue;
            }
            let (a, b) = (nd.left, nd.right);
            let (da, db) = (self.box_dist(a, q), self.box_dist(b, q));
            // Push the farther child first so that the nearer one is searched first.
            if da <= db {
                stack.push((db, b));
                stack.push((da, a));
            } else {
                stack.push((da, a));
                stack.push((db, b));
            }
        }
    }

    fn run(&self, qs: Vec<(&[F], usize)>, k: usize) -> Neighbors {
        let nq = qs.len();
        let lists: Vec<Vec<(f64, usize)>> = qs
            .par_iter()
            .map_init(Vec::new, |best, &(q, ex)| {
                if crate::cancel::requested() {
                    return Vec::new();
                }
                self.search_one(q, ex, k, best);
                best.clone()
            })
            .collect();
        let mut indices = Array2::<usize>::zeros((nq, k));
        let mut distances = Array2::<f64>::zeros((nq, k));
        for (i, l) in lists.iter().enumerate() {
            for (t, &(dd, j)) in l.iter().enumerate() {
                indices[[i, t]] = j;
                distances[[i, t]] = dd.sqrt();
            }
        }
        Neighbors { indices, distances }
    }

    fn check_k(&self, k: usize, self_query: bool) -> Result<usize> {
        super::check_k(self.n, k, self_query)
    }
}

impl<F: Float> KnnIndex<F> for KdTree<'_, F> {
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
        self.check_k(k, false)?;
        let q: Cow<[F]> = match queries.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(queries.iter().copied().collect()),
        };
        let d = self.d;
        let qs = (0..queries.nrows())
            .map(|i| (&q[i * d..(i + 1) * d], usize::MAX))
            .collect();
        let nb = self.run(qs, k);
        crate::cancel::check()?;
        Ok(nb)
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        let rows: Vec<usize> = (0..self.n).collect();
        self.query_self_rows(&rows, k)
    }

    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        self.check_k(k, true)?;
        if let Some(&bad) = rows.iter().find(|&&i| i >= self.n) {
            return Err(CoreError::Shape(format!(
                "row {bad} is out of range for an index of {} rows",
                self.n
            )));
        }
        let qs = rows.iter().map(|&i| (self.row(i), i)).collect();
        let nb = self.run(qs, k);
        crate::cancel::check()?;
        Ok(nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::BruteForce;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn matches_brute_force(n in 2usize..1500, d in 1usize..6, k in 1usize..8, seed in 0u64..1000, coarse in any::<bool>()) {
            let k = k.min(n - 1);
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 4, 0);
            // Coarse values make ties and duplicates common.
            let data = Array2::from_shape_fn((n, d), |_| if coarse { s.below(4) as f64 } else { s.normal() });
            let kd = KdTree::new(data.view());
            let bf = BruteForce::new(data.view());
            prop_assert_eq!(kd.query_self(k).unwrap(), bf.query_self(k).unwrap());
            let q = data.mapv(|v| v + 0.25);
            prop_assert_eq!(kd.query(q.view(), k).unwrap(), bf.query(q.view(), k).unwrap());
        }
    }
}
