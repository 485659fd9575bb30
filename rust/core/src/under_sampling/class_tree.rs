//! One ball tree per class: exact, class-aware neighbour queries for the cleaning methods.
//!
//! The cleaning methods ask, for each row, "is a row of another class among my k nearest?". In a
//! fraud log almost every majority row is far from every other class, and that is cheap to prove:
//! the k nearest rows of its own class *inside its leaf* bound its true k-th neighbour distance
//! from above (a neighbour distance within a subset is never smaller than the true one), and a
//! pruned descent of the (small) trees of the other classes shows that none of their rows is that
//! close. Only rows where the proof fails get an exact search. Every answer is the exact Euclidean
//! ranking by (distance, row index) with distances in `f64`, whatever the pruning.

use std::borrow::Cow;

use ndarray::ArrayView2;

use crate::float::Float;
use crate::neighbors::exact_sq_dist;

/// Most rows in a leaf.
const LEAF: usize = 32;
/// Node sizes above which the two halves are built in parallel.
const PAR_BUILD: usize = 8192;

#[derive(Clone, Debug)]
struct Node {
    lo: usize,
    hi: usize,
    /// Children (0 for a leaf: the root is never a child).
    left: usize,
    right: usize,
    radius: f64,
}

/// A ball tree over some rows (all of one class).
#[derive(Default)]
struct Tree {
    /// Original row of each tree position.
    ids: Vec<usize>,
    nodes: Vec<Node>,
    /// Node centres, row-major `nodes x d`.
    centers: Vec<f64>,
}

/// A sorted list of the best `k` (squared distance, row) pairs seen.
pub(crate) struct Best {
    k: usize,
    pub(crate) items: Vec<(f64, usize)>,
}

impl Best {
    pub(crate) fn new(k: usize) -> Self {
        Best {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }
    fn clear(&mut self) {
        self.items.clear();
    }
    fn full(&self) -> bool {
        self.items.len() >= self.k
    }
    /// The pair a row must beat to enter, once full.
    fn worst(&self) -> Option<(f64, usize)> {
        self.full().then(|| self.items[self.k - 1])
    }
    #[inline]
    fn push(&mut self, d: f64, j: usize) {
        if self.items.len() == self.k {
            if (d, j) >= self.items[self.k - 1] {
                return;
            }
            self.items.pop();
        }
        let at = self.items.partition_point(|&p| p < (d, j));
        self.items.insert(at, (d, j));
    }
}

/// Relative error allowed for [`fast_sq_dist`] against the exact sequential sum, with a wide margin.
const FAST_EPS: f64 = 1e-9;

/// Squared distance with eight independent `f64` accumulators (vectorisable). Used only for
/// bounds, always with a [`FAST_EPS`] margin; rankings use [`exact_sq_dist`].
#[inline]
fn fast_sq_dist<A: Float, F: Float>(a: &[A], b: &[F]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            let t = x[l].wide() - y[l].wide();
            acc[l] += t * t;
        }
    }
    let mut s = 0.0f64;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x.wide() - y.wide();
        s += t * t;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

#[inline]
fn fast_center_sq<A: Float>(a: &[A], c: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut ca = a.chunks_exact(8);
    let mut cc = c.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cc) {
        for l in 0..8 {
            let t = x[l].wide() - y[l];
            acc[l] += t * t;
        }
    }
    let mut s = 0.0f64;
    for (x, y) in ca.remainder().iter().zip(cc.remainder()) {
        let t = x.wide() - y;
        s += t * t;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

/// Whether a ball (centre at distance `dqc`, radius `r`) lies entirely farther than `thr`, with a
/// margin covering the rounding of the three computed distances.
#[inline]
fn beyond(dqc: f64, r: f64, thr: f64) -> bool {
    (dqc - r) - 1e-12 * (dqc + r) > thr * (1.0 + 1e-12)
}

/// Exact, class-aware neighbour search over the rows of a matrix.
pub struct ClassTree<'a, F: Float> {
    /// The rows, row-major (borrowed when the input is row-major contiguous).
    data: Cow<'a, [F]>,
    n: usize,
    d: usize,
    codes: &'a [u32],
    /// One tree per class code.
    trees: Vec<Tree>,
}

impl<'a, F: Float> ClassTree<'a, F> {
    /// Build one tree per class over the rows of `x`; `codes[i] < n_classes` is the class of row i.
    pub fn new(x: ArrayView2<'a, F>, codes: &'a [u32], n_classes: usize) -> Self {
        let (n, d) = x.dim();
        let data: Cow<'a, [F]> = match x.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(x.iter().copied().collect()),
        };
        let mut per_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for (i, &c) in codes.iter().enumerate() {
            per_class[c as usize].push(i);
        }
        let trees: Vec<Tree> = per_class
            .into_iter()
            .map(|mut ids| {
                if ids.is_empty() {
                    return Tree::default();
                }
                let (nodes, centers) = build(&data, d, &mut ids, 0);
                Tree {
                    ids,
                    nodes,
                    centers,
                }
            })
            .collect();
        ClassTree {
            data,
            n,
            d,
            codes,
            trees,
        }
    }

    pub fn n_rows(&self) -> usize {
        self.n
    }

    /// Every row, class by class, each class in tree order (neighbouring positions are near).
    pub fn order(&self) -> impl Iterator<Item = usize> + '_ {
        self.trees.iter().flat_map(|t| t.ids.iter().copied())
    }

    pub(crate) fn row(&self, i: usize) -> &[F] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    fn center_dist<Q: Float>(&self, tree: &Tree, q: &[Q], t: usize) -> f64 {
        let d = self.d;
        fast_center_sq(q, &tree.centers[t * d..(t + 1) * d]).sqrt()
    }

    /// Search `tree` near-first, adding rows other than `excl` to `best`.
    fn knn_tree(&self, tree: &Tree, q: &[F], excl: usize, best: &mut Best) {
        self.knn_tree_capped(tree, q, excl, f64::INFINITY, best);
    }

    /// As [`Self::knn_tree`], skipping nodes wholly farther than `cap` (a squared distance that
    /// the caller knows the k-th neighbour does not exceed).
    fn knn_tree_capped(&self, tree: &Tree, q: &[F], excl: usize, cap: f64, best: &mut Best) {
        if tree.nodes.is_empty() {
            return;
        }
        let d0 = self.center_dist(tree, q, 0);
        self.knn_rec(tree, q, excl, cap, 0, d0, best);
    }

    fn knn_rec(
        &self,
        tree: &Tree,
        q: &[F],
        excl: usize,
        cap: f64,
        t: usize,
        dqc: f64,
        best: &mut Best,
    ) {
        let node = &tree.nodes[t];
        let limit = best.worst().map_or(cap, |(w, _)| w.min(cap));
        if limit.is_finite() && beyond(dqc, node.radius, limit.sqrt()) {
            return;
        }
        if node.left == 0 {
            for &j in &tree.ids[node.lo..node.hi] {
                if j != excl {
                    best.push(exact_sq_dist(q, self.row(j)), j);
                }
            }
            return;
        }
        let (l, r) = (node.left, node.right);
        let (dl, dr) = (self.center_dist(tree, q, l), self.center_dist(tree, q, r));
        if dl <= dr {
            self.knn_rec(tree, q, excl, cap, l, dl, best);
            self.knn_rec(tree, q, excl, cap, r, dr, best);
        } else {
            self.knn_rec(tree, q, excl, cap, r, dr, best);
            self.knn_rec(tree, q, excl, cap, l, dl, best);
        }
    }

    /// The exact `k` nearest rows of row `i` (itself excluded by index), by (distance, index),
    /// into `best` (made with that `k`). Its own class is searched first: the tightest bound.
    pub(crate) fn knn_of(&self, i: usize, best: &mut Best) {
        best.clear();
        let q = self.row(i);
        let own = self.codes[i] as usize;
        self.knn_tree(&self.trees[own], q, i, best);
        for (c, tree) in self.trees.iter().enumerate() {
            if c != own {
                self.knn_tree(tree, q, i, best);
            }
        }
    }

    /// As [`Self::knn_of`], when the k-th neighbour of row `i` is known to lie within squared
    /// distance `cap`: nodes wholly beyond it are never opened.
    pub(crate) fn knn_of_capped(&self, i: usize, cap: f64, best: &mut Best) {
        best.clear();
        let q = self.row(i);
        let own = self.codes[i] as usize;
        self.knn_tree_capped(&self.trees[own], q, i, cap, best);
        for (c, tree) in self.trees.iter().enumerate() {
            if c != own {
                self.knn_tree_capped(tree, q, i, cap, best);
            }
        }
    }

    /// The exact `k` nearest rows of an arbitrary point `q`, by (distance, index), into `best`.
    pub(crate) fn knn_point(&self, q: &[F], best: &mut Best) {
        best.clear();
        for tree in &self.trees {
            self.knn_tree(tree, q, usize::MAX, best);
        }
    }

    /// Whether some row of a class other than `class` lies within squared distance `thr_sq` of `q`.
    pub(crate) fn any_other_within<Q: Float>(&self, q: &[Q], class: u32, thr_sq: f64) -> bool {
        let thr = thr_sq.sqrt();
        self.trees.iter().enumerate().any(|(c, tree)| {
            c != class as usize
                && !tree.nodes.is_empty()
                && self.within_rec(tree, q, thr_sq, thr, 0, self.center_dist(tree, q, 0))
        })
    }

    fn within_rec<Q: Float>(
        &self,
        tree: &Tree,
        q: &[Q],
        thr_sq: f64,
        thr: f64,
        t: usize,
        dqc: f64,
    ) -> bool {
        let node = &tree.nodes[t];
        if beyond(dqc, node.radius, thr) {
            return false;
        }
        if node.left == 0 {
            // Conservative: "maybe within" counts as within.
            return tree.ids[node.lo..node.hi]
                .iter()
                .any(|&j| fast_sq_dist(q, self.row(j)) * (1.0 - FAST_EPS) <= thr_sq);
        }
        let (l, r) = (node.left, node.right);
        let (dl, dr) = (self.center_dist(tree, q, l), self.center_dist(tree, q, r));
        let (a, da, b, db) = if dl <= dr {
            (l, dl, r, dr)
        } else {
            (r, dr, l, dl)
        };
        self.within_rec(tree, q, thr_sq, thr, a, da) || self.within_rec(tree, q, thr_sq, thr, b, db)
    }

    /// Whether at least `k` rows of class `class`, other than `excl`, rank strictly before `bound`
    /// (by (squared distance, index)) from `q`. Stops as soon as `k` are found.
    pub(crate) fn count_before(
        &self,
        q: &[F],
        class: u32,
        excl: usize,
        bound: (f64, usize),
        k: usize,
    ) -> bool {
        let tree = &self.trees[class as usize];
        if tree.nodes.is_empty() || k == 0 {
            return k == 0;
        }
        let mut found = 0usize;
        let d0 = self.center_dist(tree, q, 0);
        self.count_rec(tree, q, excl, bound, bound.0.sqrt(), k, 0, d0, &mut found);
        found >= k
    }

    fn count_rec(
        &self,
        tree: &Tree,
        q: &[F],
        excl: usize,
        bound: (f64, usize),
        thr: f64,
        k: usize,
        t: usize,
        dqc: f64,
        found: &mut usize,
    ) {
        let node = &tree.nodes[t];
        if *found >= k || beyond(dqc, node.radius, thr) {
            return;
        }
        if node.left == 0 {
            for &j in &tree.ids[node.lo..node.hi] {
                if j != excl && (exact_sq_dist(q, self.row(j)), j) < bound {
                    *found += 1;
                    if *found >= k {
                        return;
                    }
                }
            }
            return;
        }
        let (l, r) = (node.left, node.right);
        let (dl, dr) = (self.center_dist(tree, q, l), self.center_dist(tree, q, r));
        let (a, da, b, db) = if dl <= dr {
            (l, dl, r, dr)
        } else {
            (r, dr, l, dl)
        };
        self.count_rec(tree, q, excl, bound, thr, k, a, da, found);
        self.count_rec(tree, q, excl, bound, thr, k, b, db, found);
    }

    /// Whether any row other than `excl` (any class) ranks strictly before `bound` from `q`.
    pub(crate) fn any_before(&self, q: &[F], excl: usize, bound: (f64, usize)) -> bool {
        (0..self.trees.len()).any(|c| self.count_before(q, c as u32, excl, bound, 1))
    }

    /// The leaves of class `class`'s tree, as node indices.
    pub(crate) fn leaves(&self, class: usize) -> Vec<usize> {
        let tree = &self.trees[class];
        (0..tree.nodes.len())
            .filter(|&t| tree.nodes[t].left == 0)
            .collect()
    }

    /// The rows of leaf `leaf` of class `class`'s tree.
    pub(crate) fn leaf_rows(&self, class: usize, leaf: usize) -> &[usize] {
        let tree = &self.trees[class];
        let node = &tree.nodes[leaf];
        &tree.ids[node.lo..node.hi]
    }

    /// For each row of a leaf of class `class` (in [`Self::leaf_rows`] order): whether its `k`
    /// nearest rows are proven to share its class. One pairwise pass bounds every row's k-th
    /// same-class distance; when the ball around the leaf centre holding all those bounds has no
    /// other-class row, the whole leaf is proven by one search.
    /// Each row also gets its bound (a squared distance its k-th neighbour does not exceed;
    /// infinity when the leaf has too few rows).
    pub(crate) fn prove_leaf(
        &self,
        class: usize,
        leaf: usize,
        k: usize,
        scratch: &mut Vec<f64>,
    ) -> Vec<(bool, f64)> {
        let tree = &self.trees[class];
        let node = &tree.nodes[leaf];
        let ids = &tree.ids[node.lo..node.hi];
        let m = ids.len();
        if m <= k {
            return vec![(false, f64::INFINITY); m];
        }
        scratch.clear();
        scratch.resize(m * m, 0.0);
        for a in 0..m {
            for b in a + 1..m {
                let v = fast_sq_dist(self.row(ids[a]), self.row(ids[b])) * (1.0 + FAST_EPS);
                scratch[a * m + b] = v;
                scratch[b * m + a] = v;
            }
        }
        let mut bounds = Vec::with_capacity(m);
        let mut row = Vec::with_capacity(m);
        for a in 0..m {
            row.clear();
            row.extend((0..m).filter(|&b| b != a).map(|b| scratch[a * m + b]));
            row.select_nth_unstable_by(k - 1, |x, y| x.total_cmp(y));
            bounds.push(row[k - 1]);
        }
        let reach = bounds.iter().fold(0.0f64, |acc, &u| acc.max(u)).sqrt();
        let d = self.d;
        let center = &tree.centers[leaf * d..(leaf + 1) * d];
        let r = (node.radius + reach) * (1.0 + 1e-12);
        if !self.any_other_within(center, class as u32, r * r) {
            return bounds.into_iter().map(|u| (true, u)).collect();
        }
        (0..m)
            .map(|a| {
                let proven = !self.any_other_within(self.row(ids[a]), class as u32, bounds[a]);
                (proven, bounds[a])
            })
            .collect()
    }
}

/// Build the tree over `ids` (positions `offset..` of the whole order); node indices are local,
/// the root at 0. Splits along the line from the centre to the farthest row, at the median.
fn build<F: Float>(
    data: &[F],
    d: usize,
    ids: &mut [usize],
    offset: usize,
) -> (Vec<Node>, Vec<f64>) {
    let m = ids.len();
    let row = |i: usize| &data[i * d..(i + 1) * d];
    let mut center = vec![0.0f64; d];
    for &i in ids.iter() {
        for (c, v) in center.iter_mut().zip(row(i)) {
            *c += v.wide();
        }
    }
    for c in center.iter_mut() {
        *c /= m as f64;
    }
    let mut far = ids[0];
    let mut r2 = -1.0f64;
    for &i in ids.iter() {
        let s = fast_center_sq(row(i), &center);
        if s > r2 {
            r2 = s;
            far = i;
        }
    }
    let radius = (r2.max(0.0) * (1.0 + FAST_EPS)).sqrt();
    let mut node = Node {
        lo: offset,
        hi: offset + m,
        left: 0,
        right: 0,
        radius,
    };
    if m <= LEAF || d == 0 || r2 <= 0.0 {
        return (vec![node], center);
    }
    let dir: Vec<f64> = row(far)
        .iter()
        .zip(&center)
        .map(|(v, c)| v.wide() - c)
        .collect();
    let mut keyed: Vec<(f64, usize)> = ids
        .iter()
        .map(|&i| {
            let p: f64 = row(i).iter().zip(&dir).map(|(v, w)| v.wide() * w).sum();
            (p, i)
        })
        .collect();
    let mid = m / 2;
    keyed.select_nth_unstable_by(mid, |p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
    for (slot, (_, i)) in ids.iter_mut().zip(keyed) {
        *slot = i;
    }
    let (lo_ids, hi_ids) = ids.split_at_mut(mid);
    let ((ln, lc), (rn, rc)) = if m >= PAR_BUILD {
        rayon::join(
            || build(data, d, lo_ids, offset),
            || build(data, d, hi_ids, offset + mid),
        )
    } else {
        (
            build(data, d, lo_ids, offset),
            build(data, d, hi_ids, offset + mid),
        )
    };
    node.left = 1;
    node.right = 1 + ln.len();
    let mut nodes = Vec::with_capacity(1 + ln.len() + rn.len());
    let mut centers = Vec::with_capacity((1 + ln.len() + rn.len()) * d);
    nodes.push(node);
    centers.extend_from_slice(&center);
    for (part, shift) in [(ln, 1), (rn, node_right(&nodes))] {
        for mut c in part {
            if c.left != 0 {
                c.left += shift;
                c.right += shift;
            }
            nodes.push(c);
        }
    }
    centers.extend_from_slice(&lc);
    centers.extend_from_slice(&rc);
    (nodes, centers)
}

fn node_right(nodes: &[Node]) -> usize {
    nodes[0].right
}
