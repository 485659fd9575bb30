//! Exact blocked brute-force search, pruned by tile bounds.
//!
//! The rows are grouped into tiles of at most `LEAF` rows, the leaves of a median-split tree, so that
//! a tile is spatially compact; each tile keeps its centroid and radius (in `f64`). Queries are
//! processed in tasks of nearby queries (for self-queries: the rows of one tile). A task visits the
//! tiles nearest-first and stops as soon as a triangle-inequality bound proves that no row of the
//! remaining tiles could enter any of its candidate lists.
//!
//! Pass 1 ranks the rows of each visited tile with the norm expansion `|q|^2 + |x|^2 - 2 q.x` in the
//! data's own precision (a register-blocked microkernel over panels of `PANEL` rows stored
//! feature-major, compiled for AVX-512, AVX2+FMA or plain SSE2 and chosen at run time; a lean
//! [`BruteForce::subset`] index packs the panels from the data's rows when a search visits a tile
//! instead of storing them). It keeps a
//! few more candidates than asked for. Pass 2 recomputes the candidates' distances directly in `f64`
//! and ranks them by (distance, index). A rigorous bound on the rounding error of pass 1 then proves
//! that no row left out of the candidates could rank in the top k; where the bound cannot prove it
//! (many near-ties, far-from-origin data), that query falls back to a direct scan. The result is the
//! exact Euclidean ranking, whatever the rounding, the pruning or the instruction set.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard};

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{exact_sq_dist, KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;

/// Rows of one panel: the width of the microkernel (one AVX-512 vector of `f32`).
const PANEL: usize = 16;
/// Largest number of rows in a tile (a leaf of the split tree).
const LEAF: usize = 256;
/// Most candidates the second pass of a query with near-ties collects before a direct scan.
const RANGE_KEEP: usize = 1024;
/// Rows in which a split looks for its two far-apart rows.
const SPLIT_SAMPLE: usize = 512;
/// Queries of one task when they are not the data's own rows.
const TASK: usize = 128;
/// Slot of a padding row in `prow`.
const NONE: usize = usize::MAX;

/// One tile: a run of panels holding the rows `perm[row_start..row_end]`.
struct Tile {
    panel_start: usize,
    panel_end: usize,
    row_start: usize,
    row_end: usize,
    radius: f64,
}

/// Exact brute-force index over a set of rows.
pub struct BruteForce<'a, F: Float> {
    data: Cow<'a, [F]>,
    n: usize,
    d: usize,
    max_norm: f64,
    /// Panels of `PANEL` rows, feature-major: `panels[(p * d + j) * PANEL + w]`; empty for a
    /// [`BruteForce::subset`], which packs them from the data when a search visits them.
    panels: Vec<F>,
    /// Squared norms per panel slot (`+inf` for padding).
    pnorms: Vec<F>,
    /// Original row of each panel slot (`NONE` for padding).
    prow: Vec<usize>,
    /// Rows in tile order.
    perm: Vec<usize>,
    /// Tile of each row.
    tile_of: Vec<u32>,
    tiles: Vec<Tile>,
    /// Tile centroids, `tiles.len() x d`.
    centroids: Vec<f64>,
    /// Per tile, its panels' centroids as one panel (feature-major, `PANEL` slots: padding slots
    /// have an infinite norm), their squared norms, and radii (rounded up) about the stored
    /// centroids: `tiles.len() x d x PANEL`, `tiles.len() x PANEL`, `tiles.len() x PANEL`.
    pcent: Vec<F>,
    pcnorm: Vec<F>,
    prad: Vec<F>,
    /// For an index over some rows of `data` ([`BruteForce::subset`]): the data row of each
    /// indexed row, ascending. Indices in and out of the index are positions in this list.
    ids: Option<Vec<usize>>,
}

/// Centroid (f64) and a radius that bounds every row's true distance to it from above.
fn centroid_radius<F: Float>(rows: &[&[F]], d: usize) -> (Vec<f64>, f64) {
    let mut c = vec![0f64; d];
    for r in rows {
        for j in 0..d {
            c[j] += r[j].wide();
        }
    }
    let inv = 1.0 / rows.len().max(1) as f64;
    c.iter_mut().for_each(|v| *v *= inv);
    let mut r2 = 0f64;
    for r in rows {
        let mut s = 0f64;
        for j in 0..d {
            let t = r[j].wide() - c[j];
            s += t * t;
        }
        r2 = r2.max(s);
    }
    // Relative slack far above f64 rounding of a d-term sum.
    (c, r2.sqrt() * (1.0 + 1e-9) + 1e-300)
}

/// Split `rows` in halves along the direction between two far-apart rows (a cheap stand-in for the
/// principal axis, as in a ball tree) until every part has at most `LEAF` rows; returns the part
/// sizes in order (the parts are consecutive in `rows`). Axis-parallel splits would leave a tile
/// unbounded in most features when d is large; this keeps tiles compact, so their bounds prune.
fn split<F: Float>(data: &[F], d: usize, rows: &mut [usize], leaf: usize) -> Vec<usize> {
    if rows.len() <= leaf {
        return vec![rows.len()];
    }
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // The two far-apart rows are looked for in an evenly spaced sample of the rows: the direction
    // is as good, and the whole part is then read once (for the projections) instead of four
    // times at random places.
    let sample: Vec<usize> = rows
        .iter()
        .step_by(rows.len().div_ceil(SPLIT_SAMPLE))
        .copied()
        .collect();
    let far = |from: &[f64]| -> usize {
        let mut best = (f64::NEG_INFINITY, usize::MAX);
        for &i in sample.iter() {
            let r = row(i);
            let mut s = 0f64;
            for j in 0..d {
                let t = r[j].wide() - from[j];
                s += t * t;
            }
            if s > best.0 || (s == best.0 && i < best.1) {
                best = (s, i);
            }
        }
        best.1
    };
    let mut c = vec![0f64; d];
    for &i in sample.iter() {
        for (cj, v) in c.iter_mut().zip(row(i)) {
            *cj += v.wide();
        }
    }
    let inv = 1.0 / sample.len() as f64;
    c.iter_mut().for_each(|v| *v *= inv);
    let a = far(&c);
    let av: Vec<f64> = row(a).iter().map(|v| v.wide()).collect();
    let b = far(&av);
    let dir: Vec<f64> = row(b).iter().zip(&av).map(|(x, y)| x.wide() - y).collect();
    let project = |&i: &usize| {
        let r = row(i);
        let mut s = 0f64;
        for j in 0..d {
            s += r[j].wide() * dir[j];
        }
        (s, i)
    };
    let mut keyed: Vec<(f64, usize)> = if rows.len() * d > 1 << 20 {
        rows.par_iter().map(project).collect()
    } else {
        rows.iter().map(project).collect()
    };
    let mid = rows.len() / 2;
    keyed.select_nth_unstable_by(mid, |x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    for (r, k) in rows.iter_mut().zip(&keyed) {
        *r = k.1;
    }
    drop(keyed);
    let (l, r) = rows.split_at_mut(mid);
    let (mut a, b) = if l.len() * d > 1 << 14 {
        rayon::join(|| split(data, d, l, leaf), || split(data, d, r, leaf))
    } else {
        (split(data, d, l, leaf), split(data, d, r, leaf))
    };
    a.extend(b);
    a
}

impl<'a, F: Float> BruteForce<'a, F> {
    /// Index the rows of `data` (borrowed without a copy when it is row-major contiguous). The
    /// index also stores the rows feature-major, as the kernel reads them (about the data's size
    /// again): the fastest layout for an index that answers many queries.
    pub fn new(data: ArrayView2<'a, F>) -> Self {
        Self::build(data, None, true)
    }

    /// Index the rows `rows` of `data` (strictly ascending), without copying them: the indexed
    /// row `r` is `data` row `rows[r]`. Queries and results use the positions `r` (so ties, ranked
    /// by position, are ranked by data row too); [`BruteForce::ids`] maps them back.
    ///
    /// The lean index of the cleaning samplers, whose peak memory must stay near the data's: it
    /// stores no feature-major copy of the rows but packs a tile's panels when a search visits
    /// it (10-20% slower on searches that visit many tiles, such as all rows of SMOTE output).
    pub fn subset(data: ArrayView2<'a, F>, rows: &[usize]) -> Result<Self> {
        if rows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CoreError::InvalidArgument(
                "the rows of a subset index must be strictly ascending".into(),
            ));
        }
        if let Some(&last) = rows.last() {
            if last >= data.nrows() {
                return Err(CoreError::Shape(format!(
                    "row {last} is out of range for {} rows",
                    data.nrows()
                )));
            }
        }
        Ok(Self::build(data, Some(rows.to_vec()), false))
    }

    /// The data row of each indexed row (for a [`BruteForce::subset`]), else None.
    pub fn ids(&self) -> Option<&[usize]> {
        self.ids.as_deref()
    }

    fn build(data: ArrayView2<'a, F>, ids: Option<Vec<usize>>, store_panels: bool) -> Self {
        let d = data.ncols();
        let n = ids.as_ref().map_or(data.nrows(), |v| v.len());
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        let gid = |i: usize| ids.as_ref().map_or(i, |v| v[i]);
        let norms: Vec<F> = if d == 0 {
            vec![F::zero(); n]
        } else {
            (0..n)
                .into_par_iter()
                .map(|i| {
                    data[gid(i) * d..(gid(i) + 1) * d]
                        .iter()
                        .map(|&v| v * v)
                        .sum()
                })
                .collect()
        };
        let max_norm = norms.iter().fold(0.0f64, |m, v| m.max(v.wide()));
        // The split reads data rows; positions and data rows are in the same order.
        let mut perm: Vec<usize> = (0..n).map(gid).collect();
        let sizes = if n == 0 {
            vec![]
        } else {
            split(&data, d, &mut perm, LEAF)
        };
        // Inside each tile, the same split down to panels orders the rows so that each panel of
        // PANEL consecutive rows is compact too (its own centroid and radius prune panels).
        {
            let mut rest: &mut [usize] = &mut perm;
            let mut parts = Vec::with_capacity(sizes.len());
            for &sz in &sizes {
                let (a, b) = rest.split_at_mut(sz);
                parts.push(a);
                rest = b;
            }
            parts.par_iter_mut().for_each(|t| {
                split(&data, d, t, PANEL);
            });
        }
        if let Some(ids) = &ids {
            for p in perm.iter_mut() {
                *p = ids.binary_search(p).expect("a row of the subset");
            }
        }
        let mut tiles = Vec::with_capacity(sizes.len());
        let (mut row, mut panel) = (0usize, 0usize);
        for s in sizes {
            let np = s.div_ceil(PANEL);
            tiles.push(Tile {
                panel_start: panel,
                panel_end: panel + np,
                row_start: row,
                row_end: row + s,
                radius: 0.0,
            });
            row += s;
            panel += np;
        }
        let n_panels = panel;
        let mut pnorms = vec![F::infinity(); n_panels * PANEL];
        let mut prow = vec![NONE; n_panels * PANEL];
        let mut tile_of = vec![0u32; n];
        for (t, tile) in tiles.iter().enumerate() {
            for (s, &i) in perm[tile.row_start..tile.row_end].iter().enumerate() {
                let slot = tile.panel_start * PANEL + s;
                pnorms[slot] = norms[i];
                prow[slot] = i;
                tile_of[i] = t as u32;
            }
        }
        let mut panels = Vec::new();
        if store_panels {
            panels = vec![F::zero(); n_panels * d * PANEL];
            let data = &data;
            let prow = &prow;
            panels
                .par_chunks_mut(d.max(1) * PANEL)
                .enumerate()
                .for_each(|(p, panel)| {
                    for w in 0..PANEL {
                        let i = prow[p * PANEL + w];
                        if i == NONE {
                            continue;
                        }
                        let g = gid(i);
                        for j in 0..d {
                            panel[j * PANEL + w] = data[g * d + j];
                        }
                    }
                });
        }
        let geo: Vec<(Vec<f64>, f64)> = tiles
            .par_iter()
            .map(|t| {
                let rows: Vec<&[F]> = perm[t.row_start..t.row_end]
                    .iter()
                    .map(|&i| &data[gid(i) * d..(gid(i) + 1) * d])
                    .collect();
                centroid_radius(&rows, d)
            })
            .collect();
        let mut centroids = Vec::with_capacity(tiles.len() * d);
        for (t, (c, r)) in tiles.iter_mut().zip(geo) {
            centroids.extend(c);
            t.radius = r;
        }
        // Panel centroids (in F, as the kernel reads them) and radii about them, rounded up.
        let mut pcent = vec![F::zero(); tiles.len() * d * PANEL];
        let mut pcnorm = vec![F::infinity(); tiles.len() * PANEL];
        let mut prad = vec![F::zero(); tiles.len() * PANEL];
        pcent
            .par_chunks_mut(d.max(1) * PANEL)
            .zip(pcnorm.par_chunks_mut(PANEL))
            .zip(prad.par_chunks_mut(PANEL))
            .zip(tiles.par_iter())
            .for_each(|(((cent, cn), rad), t)| {
                for (w, chunk) in perm[t.row_start..t.row_end].chunks(PANEL).enumerate() {
                    let rows: Vec<&[F]> = chunk
                        .iter()
                        .map(|&i| &data[gid(i) * d..(gid(i) + 1) * d])
                        .collect();
                    let (c, _) = centroid_radius(&rows, d);
                    let cf: Vec<F> = c.iter().map(|&v| F::narrow(v)).collect();
                    let mut r2 = 0f64;
                    for r in &rows {
                        r2 = r2.max(exact_sq_dist(r, &cf));
                    }
                    for (j, &v) in cf.iter().enumerate() {
                        cent[j * PANEL + w] = v;
                    }
                    cn[w] = cf.iter().map(|&v| v * v).sum();
                    rad[w] = F::narrow(r2.sqrt() * (1.0 + 1e-6) + 1e-30);
                }
            });
        BruteForce {
            data,
            n,
            d,
            max_norm,
            panels,
            pnorms,
            prow,
            perm,
            tile_of,
            tiles,
            centroids,
            pcent,
            pcnorm,
            prad,
            ids,
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
        KnnIndex::query_self_rows(self, rows, k)
    }

    /// Indexed row `i` (a position in the index).
    fn row(&self, i: usize) -> &[F] {
        let g = self.ids.as_ref().map_or(i, |v| v[i]);
        &self.data[g * self.d..(g + 1) * self.d]
    }

    /// Bytes held by the index beyond the data it borrows.
    pub fn memory_bytes(&self) -> usize {
        let f = std::mem::size_of::<F>();
        let owned = match self.data {
            Cow::Owned(ref v) => v.len() * f,
            Cow::Borrowed(_) => 0,
        };
        owned
            + self.panels.len() * f
            + self.pnorms.len() * f
            + self.prow.len() * 8
            + self.perm.len() * 8
            + self.tile_of.len() * 4
            + self.centroids.len() * 8
            + (self.pcent.len() + self.pcnorm.len() + self.prad.len()) * f
            + self.tiles.len() * std::mem::size_of::<Tile>()
            + self.ids.as_ref().map_or(0, |v| v.len() * 8)
    }

    fn check_k(&self, k: usize, self_query: bool) -> Result<usize> {
        let available = if self_query {
            self.n.saturating_sub(1)
        } else {
            self.n
        };
        if k == 0 || k > available {
            return Err(CoreError::InvalidArgument(format!(
                "Expected n_neighbors <= n_samples_fit, but n_neighbors = {}, n_samples_fit = {}",
                k + self_query as usize,
                self.n
            )));
        }
        Ok(available)
    }

    /// Search. Each task is a list of queries `(vector, output slot, excluded row)`.
    fn search(
        &self,
        tasks: Vec<Vec<(&[F], usize, usize)>>,
        nq: usize,
        k: usize,
        available: usize,
    ) -> Neighbors {
        // A few spare candidates: enough for the rounding proof, few enough to keep the pruning
        // threshold (the last candidate) tight.
        let keep = (k + k / 2 + 4).min(available);
        let kind = Kernel::detect();
        let caches = Caches::new(self.d);
        let results: Vec<TaskResult> = tasks
            .par_iter()
            .map(|t| self.run_task(&mut caches.get(), t, k, keep, available, kind))
            .collect();
        let mut indices = Array2::<usize>::zeros((nq, k));
        let mut distances = Array2::<f64>::zeros((nq, k));
        for task in results {
            for (slot, list) in task {
                for (t, &(dd, j)) in list.iter().enumerate() {
                    indices[[slot, t]] = j;
                    distances[[slot, t]] = dd.sqrt();
                }
            }
        }
        Neighbors { indices, distances }
    }

    /// Upper bound on |pass-1 distance - true distance| for a query of squared norm `qn`.
    fn error_bound(&self, qn: f64) -> f64 {
        let u = F::epsilon().wide();
        (2.0 * self.d as f64 + 8.0) * u * (qn + self.max_norm) * 1.1
    }

    fn run_task(
        &self,
        cache: &mut PanelCache<F>,
        qs: &[(&[F], usize, usize)],
        k: usize,
        keep: usize,
        available: usize,
        kind: Kernel,
    ) -> Vec<(usize, Vec<(f64, usize)>)> {
        let nq = qs.len();
        let (cands, qnorms) = self.pass1(cache, qs, keep, kind, None, None);
        let mut out = Vec::with_capacity(nq);
        // Queries whose candidates could not prove their top k: (query, output position, the
        // k-th exact distance among the candidates).
        let mut pending: Vec<(usize, usize, f64)> = Vec::new();
        let mut exact: Vec<(f64, usize)> = Vec::with_capacity(keep);
        for (i, &(q, slot, _)) in qs.iter().enumerate() {
            let cand = &cands[i];
            exact.clear();
            exact.extend(
                cand.iter()
                    .map(|&(_, j)| (exact_sq_dist(q, self.row(j)), j)),
            );
            exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let proven = cand.len() < keep || cand.len() == available || {
                // Pass 1's error is at most `err`; every row outside the candidates has a pass-1
                // distance >= the last candidate's, so a true distance >= last - err.
                let last = cand[keep - 1].0.wide();
                let kth = exact[k - 1].0;
                kth * (1.0 + 1e-12) + 1e-300 < last - self.error_bound(qnorms[i].wide())
            };
            if !proven {
                pending.push((i, out.len(), exact[k - 1].0));
                out.push((slot, Vec::new()));
                continue;
            }
            exact.truncate(k);
            out.push((slot, exact.clone()));
        }
        if !pending.is_empty() {
            // Near-ties closer than pass 1's error (dense data, rows far from the origin): every
            // row of the true top k lies within the k-th candidate's exact distance, so its pass-1
            // distance is below that plus the error. One more pass collects every row under that
            // threshold and ranks them exactly; only a query with more than RANGE_KEEP such rows
            // falls back to a direct scan.
            let sub: Vec<(&[F], usize, usize)> = pending.iter().map(|p| qs[p.0]).collect();
            let init: Vec<F> = pending
                .iter()
                .map(|&(i, _, kth)| {
                    let e = self.error_bound(qnorms[i].wide());
                    F::narrow((kth + 2.0 * e) * (1.0 + 1e-6))
                })
                .collect();
            let (wide, _) = self.pass1(cache, &sub, RANGE_KEEP, kind, Some(&init), None);
            for (&(i, o, _), cand) in pending.iter().zip(wide) {
                let (q, _, ex) = qs[i];
                exact.clear();
                if cand.len() < RANGE_KEEP {
                    exact.extend(
                        cand.iter()
                            .map(|&(_, j)| (exact_sq_dist(q, self.row(j)), j)),
                    );
                    exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                } else {
                    #[cfg(test)]
                    tests::FALLBACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.scan(q, ex, &mut exact);
                }
                exact.truncate(k);
                out[o].1 = exact.clone();
            }
        }
        out
    }

    /// The indexed rows (positions) grouped by tile: nearby rows together, groups in the split
    /// tree's leaf order. Good query groups for [`BruteForce::any_within`].
    pub fn tile_groups(&self) -> Vec<Vec<usize>> {
        self.tiles
            .iter()
            .map(|t| self.perm[t.row_start..t.row_end].to_vec())
            .collect()
    }

    /// For each indexed row, the exact squared distance to the `k`-th nearest other row of its own
    /// tile (`+inf` when the tile has at most `k` rows): an upper bound on its true `k`-th
    /// neighbour distance among the indexed rows, for about 1/(number of tiles) of a search.
    pub fn tile_kth_sq(&self, k: usize) -> Vec<f64> {
        let kind = Kernel::detect();
        let mut out = vec![f64::INFINITY; self.n];
        if k == 0 {
            out.iter_mut().for_each(|v| *v = 0.0);
            return out;
        }
        let caches = Caches::new(self.d);
        let found: Vec<Vec<(usize, f64)>> = self
            .tiles
            .par_iter()
            .enumerate()
            .map(|(t, tile)| {
                let cache = &mut *caches.get();
                let qs: Vec<(&[F], usize, usize)> = self.perm[tile.row_start..tile.row_end]
                    .iter()
                    .map(|&i| (self.row(i), i, i))
                    .collect();
                if qs.len() <= k {
                    return Vec::new();
                }
                let (cands, _) = self.pass1(cache, &qs, k, kind, None, Some(t));
                qs.iter()
                    .zip(cands)
                    .filter(|(_, c)| c.len() == k)
                    .map(|(q, c)| {
                        // Any k other rows bound the k-th nearest distance from above.
                        let far = c
                            .iter()
                            .map(|&(_, j)| exact_sq_dist(q.0, self.row(j)))
                            .fold(0f64, f64::max);
                        (q.1, far)
                    })
                    .collect()
            })
            .collect();
        for (i, v) in found.into_iter().flatten() {
            out[i] = v;
        }
        out
    }

    /// For each query `query(s)` (`s < bound_sq.len()`): `false` proves that no indexed row lies
    /// within squared distance `bound_sq[s]` of it (inclusive); `true` means one may (one does, or
    /// pass 1 could not separate it from the bound). Queries are searched in the given groups of
    /// slots, which should hold nearby queries (the bounds prune per group); slots in no group stay
    /// `true`, as do queries with an infinite bound (nothing is searched for them). The queries are
    /// read through `query` so that the caller need not list them.
    pub fn any_within<'q>(
        &self,
        query: impl Fn(usize) -> &'q [F] + Sync,
        bound_sq: &[f64],
        groups: &[Vec<usize>],
    ) -> Vec<bool> {
        let kind = Kernel::detect();
        let mut out = vec![true; bound_sq.len()];
        if self.n == 0 {
            out.iter_mut().for_each(|v| *v = false);
            return out;
        }
        let caches = Caches::new(self.d);
        let proven: Vec<Vec<usize>> = groups
            .par_iter()
            .map(|g| {
                let cache = &mut *caches.get();
                let g: Vec<usize> = g
                    .iter()
                    .copied()
                    .filter(|&s| bound_sq[s].is_finite())
                    .collect();
                if g.is_empty() {
                    return Vec::new();
                }
                let qs: Vec<(&[F], usize, usize)> =
                    g.iter().map(|&s| (query(s), s, NONE)).collect();
                // A pass-1 threshold that every row within the bound passes: its pass-1 distance
                // is at most the bound plus pass 1's error.
                let init: Vec<F> = qs
                    .iter()
                    .map(|q| {
                        let qn: F = q.0.iter().map(|&v| v * v).sum();
                        let t = (bound_sq[q.1] + 2.0 * self.error_bound(qn.wide())) * (1.0 + 1e-6);
                        F::narrow(t)
                    })
                    .collect();
                let (cands, _) = self.pass1(cache, &qs, 1, kind, Some(&init), None);
                // No candidate: every row has a pass-1 distance >= the threshold, so a true
                // distance >= bound + error > bound.
                qs.iter()
                    .zip(cands)
                    .filter(|(_, c)| c.is_empty())
                    .map(|(q, _)| q.1)
                    .collect()
            })
            .collect();
        for s in proven.into_iter().flatten() {
            out[s] = false;
        }
        out
    }

    /// Pass 1 of a task: for each query, the (at most `keep`) rows of smallest pass-1 distance
    /// below its threshold, sorted, with the queries' squared norms. Thresholds start at `+inf`,
    /// or at `init[i]` (a pass-1 value); with `only_tile`, that tile alone is searched.
    #[allow(clippy::too_many_arguments)]
    fn pass1(
        &self,
        cache: &mut PanelCache<F>,
        qs: &[(&[F], usize, usize)],
        keep: usize,
        kind: Kernel,
        init: Option<&[F]>,
        only_tile: Option<usize>,
    ) -> (Vec<Vec<(F, usize)>>, Vec<F>) {
        let d = self.d;
        let nq = qs.len();
        let qrows: Vec<&[F]> = qs.iter().map(|q| q.0).collect();
        let qnorms: Vec<F> = qrows
            .iter()
            .map(|r| r.iter().map(|&v| v * v).sum())
            .collect();
        let errs: Vec<f64> = qnorms.iter().map(|q| self.error_bound(q.wide())).collect();
        let err = errs.iter().copied().fold(0f64, f64::max);
        // Tiles nearest-first by a lower bound on the distance of any of their rows to any query.
        let (c, r) = centroid_radius(&qrows, d);
        let tile_lb = |t: usize| {
            let ct = &self.centroids[t * d..(t + 1) * d];
            let mut s = 0f64;
            for j in 0..d {
                let v = ct[j] - c[j];
                s += v * v;
            }
            let lb = (s.sqrt() * (1.0 - 1e-9) - (r + self.tiles[t].radius) * (1.0 + 1e-9)).max(0.0);
            (s, lb * lb * (1.0 - 1e-9), t)
        };
        let mut order: Vec<(f64, f64, usize)> = match only_tile {
            Some(t) => vec![tile_lb(t)],
            None => (0..self.tiles.len()).map(tile_lb).collect(),
        };
        // Nearest centroids first, so that the thresholds tighten early.
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));

        let mq = kind.mq::<F>();
        let n_blocks = nq.div_ceil(mq);
        // Queries transposed per block: qt[b][j * mq + qi]; padding queries never accept a row.
        let mut qt = vec![F::zero(); n_blocks * d * mq];
        let mut qn = vec![F::zero(); n_blocks * mq];
        let mut thr = vec![F::neg_infinity(); n_blocks * mq];
        let mut excl = vec![NONE; n_blocks * mq];
        // Queries transposed in f64 for the per-query tile bounds: q64[j * nq + i].
        let mut q64 = vec![0f64; d * nq];
        for (i, q) in qs.iter().enumerate() {
            let (b, qi) = (i / mq, i % mq);
            for j in 0..d {
                qt[(b * d + j) * mq + qi] = q.0[j];
                q64[j * nq + i] = q.0[j].wide();
            }
            qn[i] = qnorms[i];
            thr[i] = init.map_or(F::infinity(), |v| v[i]);
            excl[i] = q.2;
        }
        let mut cands: Vec<Vec<(F, usize)>> = (0..n_blocks * mq)
            .map(|_| Vec::with_capacity(keep + 1))
            .collect();
        let mut lb_q = vec![0f64; nq];
        // Padding queries: a NaN reach rules every panel out for them.
        let mut reach = vec![F::nan(); n_blocks * mq];
        let mut errf = vec![F::zero(); n_blocks * mq];
        for (e, &v) in errf.iter_mut().zip(&errs) {
            *e = F::narrow(v * (1.0 + 1e-6));
        }
        for &(_, lb, t) in &order {
            let worst = thr[..nq].iter().fold(F::neg_infinity(), |m, &v| m.max(v));
            if lb - err > worst.wide() {
                // Every row of this tile has a pass-1 distance above every query's threshold:
                // none of them can enter a candidate list.
                continue;
            }
            #[cfg(test)]
            tests::VISITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tile = &self.tiles[t];
            let (p0, p1) = (tile.panel_start, tile.panel_end);
            let mut pack = if self.panels.is_empty() {
                Panels::Packed(cache.packer(
                    t,
                    &self.prow[p0 * PANEL..p1 * PANEL],
                    &self.data,
                    self.ids.as_deref(),
                    d,
                ))
            } else {
                Panels::Stored(&self.panels[p0 * d * PANEL..p1 * d * PANEL])
            };
            let td = TileData {
                pnorms: &self.pnorms[p0 * PANEL..p1 * PANEL],
                prow: &self.prow[p0 * PANEL..p1 * PANEL],
                cent: &self.pcent[t * d * PANEL..(t + 1) * d * PANEL],
                cnorm: &self.pcnorm[t * PANEL..(t + 1) * PANEL],
                rad: &self.prad[t * PANEL..(t + 1) * PANEL],
            };
            // Per-query lower bound on the pass-1 distance of every row of the tile
            // (|q - c| - radius), all queries at once in a loop that vectorises.
            let ct = &self.centroids[t * d..(t + 1) * d];
            lb_q.iter_mut().for_each(|v| *v = 0.0);
            for (j, &cj) in ct.iter().enumerate() {
                for (s, &qv) in lb_q.iter_mut().zip(&q64[j * nq..(j + 1) * nq]) {
                    let u = qv - cj;
                    *s += u * u;
                }
            }
            for (s, &e) in lb_q.iter_mut().zip(&errs) {
                let l = (s.sqrt() * (1.0 - 1e-9) - tile.radius * (1.0 + 1e-9)).max(0.0);
                *s = l * l * (1.0 - 1e-9) - e;
            }
            for b in 0..n_blocks {
                // Skip the tile for this block when no query of it can accept a row of the tile.
                let needed = (b * mq..((b + 1) * mq).min(nq)).any(|i| lb_q[i] <= thr[i].wide());
                if !needed {
                    continue;
                }
                #[cfg(test)]
                tests::KERNELS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                for i in b * mq..((b + 1) * mq).min(nq) {
                    reach[i] = F::narrow((thr[i].wide() + errs[i]).sqrt() * (1.0 + 1e-6));
                }
                let blk = Block {
                    qt: &qt[b * d * mq..(b + 1) * d * mq],
                    qn: &qn[b * mq..(b + 1) * mq],
                    excl: &excl[b * mq..(b + 1) * mq],
                    err: &errf[b * mq..(b + 1) * mq],
                    reach: &reach[b * mq..(b + 1) * mq],
                };
                let th = &mut thr[b * mq..(b + 1) * mq];
                let cs = &mut cands[b * mq..(b + 1) * mq];
                kind.run(&td, &mut pack, d, &blk, th, cs, keep);
            }
        }
        cands.truncate(nq);
        (cands, qnorms)
    }

    /// Direct scan of every row in `f64`, for a query pass 1 could not settle.
    fn scan(&self, q: &[F], excl: usize, out: &mut Vec<(f64, usize)>) {
        out.clear();
        out.extend(
            (0..self.n)
                .filter(|&j| j != excl)
                .map(|j| (exact_sq_dist(q, self.row(j)), j)),
        );
        out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }

    /// Self-query tasks for the given rows, in tile order (nearby rows share a task).
    fn self_tasks(&self, rows: &[usize]) -> Vec<Vec<(&[F], usize, usize)>> {
        let mut by_tile: Vec<(u32, usize, usize)> = rows
            .iter()
            .enumerate()
            .map(|(slot, &i)| (self.tile_of[i], slot, i))
            .collect();
        by_tile.sort_unstable();
        // Tiles are in the split tree's leaf order, so consecutive rows of this list are near each
        // other: a sparse subset (a sample, the rows near a minority class) still fills its tasks.
        by_tile
            .chunks(TASK)
            .map(|c| {
                c.iter()
                    .map(|&(_, slot, i)| (self.row(i), slot, i))
                    .collect()
            })
            .collect()
    }
}

/// A task's answers: (output slot, its k nearest as (squared distance, row)).
type TaskResult = Vec<(usize, Vec<(f64, usize)>)>;

/// Up to `mq` queries of one microkernel call.
struct Block<'b, F> {
    qt: &'b [F],
    qn: &'b [F],
    excl: &'b [usize],
    /// Per query: pass 1's error bound, and `sqrt(threshold + error)`, both rounded up.
    err: &'b [F],
    reach: &'b [F],
}

/// One tile as the kernel reads it.
struct TileData<'b, F> {
    pnorms: &'b [F],
    prow: &'b [usize],
    /// Its panels' centroids as one panel, their squared norms and radii.
    cent: &'b [F],
    cnorm: &'b [F],
    rad: &'b [F],
}

/// The panels of the tile being searched, packed from the data's rows when a query block first
/// needs them: the kernel reads `PANEL` rows feature-major, and packing them on demand (into a
/// slot of a small [`PanelCache`]) costs far less than the distances computed on them, where a
/// packed copy of the whole data would double the memory a search holds.
struct Packer<'b, F> {
    data: &'b [F],
    ids: Option<&'b [usize]>,
    d: usize,
    /// `LEAF / PANEL` panels: `buf[(p * d + j) * PANEL + w]`.
    buf: &'b mut [F],
    /// The tile's panel slots (`NONE` for padding).
    prow: &'b [usize],
    /// Bit p: panel p of the tile is in `buf`.
    packed: &'b mut u32,
}

impl<F: Float> Packer<'_, F> {
    /// Panel `p` of the current tile, feature-major (padding slots hold zeros).
    #[inline(always)]
    fn panel(&mut self, p: usize) -> &[F] {
        let d = self.d;
        let out = &mut self.buf[p * d * PANEL..(p + 1) * d * PANEL];
        if *self.packed & (1 << p) == 0 {
            *self.packed |= 1 << p;
            // Feature by feature, so that the stores run contiguously along the panel while the
            // loads follow PANEL sequential rows (padding slots get zeros).
            let mut rows: [&[F]; PANEL] = [&[]; PANEL];
            let mut pad = 0u32;
            for w in 0..PANEL {
                let i = self.prow[p * PANEL + w];
                if i == NONE {
                    pad |= 1 << w;
                    rows[w] = &self.data[..0];
                } else {
                    let g = self.ids.map_or(i, |v| v[i]);
                    rows[w] = &self.data[g * d..(g + 1) * d];
                }
            }
            if pad == 0 {
                for j in 0..d {
                    let col: &mut [F; PANEL] = (&mut out[j * PANEL..(j + 1) * PANEL])
                        .try_into()
                        .expect("panel");
                    for w in 0..PANEL {
                        col[w] = rows[w][j];
                    }
                }
            } else {
                for j in 0..d {
                    for w in 0..PANEL {
                        out[j * PANEL + w] = if pad & (1 << w) != 0 {
                            F::zero()
                        } else {
                            rows[w][j]
                        };
                    }
                }
            }
        }
        out
    }
}

/// One [`PanelCache`] per worker thread of the pool a search runs on, for the whole search: a
/// worker's consecutive tasks share its cache, whichever way the pool splits the work.
struct Caches<F>(Vec<Mutex<PanelCache<F>>>);

impl<F: Float> Caches<F> {
    fn new(d: usize) -> Self {
        Caches(
            (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(PanelCache::new(d)))
                .collect(),
        )
    }

    /// The calling worker's cache. A task holds it while it runs no parallel work of its own, so
    /// the lock is never contended.
    fn get(&self) -> MutexGuard<'_, PanelCache<F>> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        self.0[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The panels of the tile being searched: stored in the index, or packed on demand.
enum Panels<'b, F> {
    Stored(&'b [F]),
    Packed(Packer<'b, F>),
}

impl<F: Float> Panels<'_, F> {
    /// Panel `p` of the tile, feature-major.
    #[inline(always)]
    fn panel(&mut self, p: usize, d: usize) -> &[F] {
        match self {
            Panels::Stored(all) => &all[p * d * PANEL..(p + 1) * d * PANEL],
            Panels::Packed(pk) => pk.panel(p),
        }
    }
}

/// Bytes of packed panels one worker keeps (a few dozen tiles at 30 features).
const CACHE_BYTES: usize = 1 << 20;

/// The packed panels of the tiles a worker visited last, direct-mapped by tile. Nearby tasks (a
/// worker runs consecutive ones, which the split tree's leaf order makes neighbours) visit the same
/// tiles, so most panels are packed once per worker rather than once per task.
struct PanelCache<F> {
    /// Per slot: its tile (`NONE`: empty), which of its panels are packed, and the panels.
    tile: Vec<usize>,
    packed: Vec<u32>,
    bufs: Vec<Vec<F>>,
    /// Elements of one tile's panels.
    len: usize,
}

impl<F: Float> PanelCache<F> {
    fn new(d: usize) -> Self {
        let len = LEAF.div_ceil(PANEL) * d.max(1) * PANEL;
        let slots = (CACHE_BYTES / (len * std::mem::size_of::<F>())).clamp(1, 64);
        PanelCache {
            tile: vec![NONE; slots],
            packed: vec![0; slots],
            bufs: (0..slots).map(|_| Vec::new()).collect(),
            len,
        }
    }

    /// The packer of tile `t` (whose panel slots are `prow`), reusing what is packed of it.
    fn packer<'b>(
        &'b mut self,
        t: usize,
        prow: &'b [usize],
        data: &'b [F],
        ids: Option<&'b [usize]>,
        d: usize,
    ) -> Packer<'b, F> {
        let s = t % self.tile.len();
        if self.tile[s] != t {
            self.tile[s] = t;
            self.packed[s] = 0;
        }
        if self.bufs[s].is_empty() {
            self.bufs[s] = vec![F::zero(); self.len];
        }
        Packer {
            data,
            ids,
            d,
            buf: &mut self.bufs[s],
            prow,
            packed: &mut self.packed[s],
        }
    }
}

/// The instruction set the microkernel runs with, detected once per search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("EQUIPOISE_PORTABLE_KERNEL").is_some() {
                return Kernel::Portable;
            }
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                return Kernel::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Kernel::Avx2;
            }
        }
        Kernel::Portable
    }

    /// Queries per microkernel call: as many accumulators as the register file holds.
    fn mq<F: Float>(self) -> usize {
        let wide = std::mem::size_of::<F>() == 8;
        match self {
            Kernel::Portable => 4,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                if wide {
                    3
                } else {
                    6
                }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                if wide {
                    8
                } else {
                    12
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run<F: Float>(
        self,
        tile: &TileData<F>,
        pack: &mut Panels<F>,
        d: usize,
        blk: &Block<F>,
        thr: &mut [F],
        cands: &mut [Vec<(F, usize)>],
        keep: usize,
    ) {
        let wide = std::mem::size_of::<F>() == 8;
        match self {
            Kernel::Portable => microkernel::<F, 4, false>(tile, pack, d, blk, thr, cands, keep),
            // SAFETY: the features these functions enable were detected at run time.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe {
                if wide {
                    kernel_avx2::<F, 3>(tile, pack, d, blk, thr, cands, keep)
                } else {
                    kernel_avx2::<F, 6>(tile, pack, d, blk, thr, cands, keep)
                }
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe {
                if wide {
                    kernel_avx512::<F, 8>(tile, pack, d, blk, thr, cands, keep)
                } else {
                    kernel_avx512::<F, 12>(tile, pack, d, blk, thr, cands, keep)
                }
            },
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2<F: Float, const MQ: usize>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
) {
    microkernel::<F, MQ, true>(tile, pack, d, blk, thr, cands, keep)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn kernel_avx512<F: Float, const MQ: usize>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
) {
    microkernel::<F, MQ, true>(tile, pack, d, blk, thr, cands, keep)
}

/// Distances (pass 1) of `MQ` queries to the `PANEL` rows of one feature-major panel.
#[inline(always)]
fn panel_dists<F: Float, const MQ: usize, const FMA: bool>(
    panel: &[F],
    pn: &[F; PANEL],
    qt: &[F],
    qn: &[F; MQ],
    d: usize,
) -> [[F; PANEL]; MQ] {
    let two = F::one() + F::one();
    let mut acc = [[F::zero(); PANEL]; MQ];
    for j in 0..d {
        let col: &[F; PANEL] = panel[j * PANEL..(j + 1) * PANEL].try_into().expect("panel");
        let qj: &[F; MQ] = qt[j * MQ..(j + 1) * MQ].try_into().expect("block");
        for qi in 0..MQ {
            let qv = qj[qi];
            let a = &mut acc[qi];
            for w in 0..PANEL {
                a[w] = if FMA {
                    qv.mul_add(col[w], a[w])
                } else {
                    a[w] + qv * col[w]
                };
            }
        }
    }
    for qi in 0..MQ {
        for w in 0..PANEL {
            acc[qi][w] = qn[qi] + pn[w] - two * acc[qi][w];
        }
    }
    acc
}

/// Pass 1 of `MQ` queries over one tile: first the distances to its panels' centroids rule out
/// the panels no query can reach (|q - c| - radius above `sqrt(threshold + error)`), then each
/// remaining panel's `PANEL x MQ` distances are held in registers and only the rows under a
/// query's threshold go to its candidate list.
#[inline(always)]
fn microkernel<F: Float, const MQ: usize, const FMA: bool>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
) {
    let qt = &blk.qt[..d * MQ];
    let qn: &[F; MQ] = blk.qn[..MQ].try_into().expect("block");
    let n_panels = tile.pnorms.len() / PANEL;
    // Panel p may hold a row within reach of query q only if
    // pass1(q, centroid) - err(q) <= (radius_p + reach_q)^2 (slack covers this test's rounding).
    let mut mask: u32 = 0;
    {
        let cn: &[F; PANEL] = tile.cnorm[..PANEL].try_into().expect("panel");
        let dc = panel_dists::<F, MQ, FMA>(tile.cent, cn, qt, qn, d);
        let slack = F::one() + F::narrow(1e-5);
        for qi in 0..MQ {
            let (e, s) = (blk.err[qi], blk.reach[qi]);
            for w in 0..PANEL {
                let t = tile.rad[w] + s;
                mask |= ((dc[qi][w] - e <= t * t * slack) as u32) << w;
            }
        }
    }
    for p in 0..n_panels {
        if mask & (1 << p) == 0 {
            continue;
        }
        let panel = pack.panel(p, d);
        let pn: &[F; PANEL] = tile.pnorms[p * PANEL..(p + 1) * PANEL]
            .try_into()
            .expect("panel");
        let dist = panel_dists::<F, MQ, FMA>(panel, pn, qt, qn, d);
        for qi in 0..MQ {
            let t = thr[qi];
            let mut hits = 0u32;
            for w in 0..PANEL {
                hits += (dist[qi][w] < t) as u32;
            }
            if hits == 0 {
                continue;
            }
            let c = &mut cands[qi];
            for w in 0..PANEL {
                let dv = dist[qi][w];
                if dv >= thr[qi] {
                    continue;
                }
                let j = tile.prow[p * PANEL + w];
                if j == blk.excl[qi] {
                    continue;
                }
                // Sorted insertion; `keep` is small.
                let pos = c.partition_point(|&(v, _)| v <= dv);
                if c.len() == keep {
                    c.pop();
                }
                c.insert(pos, (dv, j));
                if c.len() == keep {
                    thr[qi] = c[keep - 1].0;
                }
            }
        }
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
        let available = self.check_k(k, false)?;
        let q: Cow<[F]> = match queries.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(queries.iter().copied().collect()),
        };
        let nq = queries.nrows();
        let d = self.d;
        // Group the queries by their nearest tile centroid so that a task's queries are close to
        // each other and its bounds prune; the cost is 1/LEAF of the search.
        let near: Vec<(u32, usize)> = (0..nq)
            .into_par_iter()
            .map(|i| {
                let qv = &q[i * d..(i + 1) * d];
                let mut best = (f64::INFINITY, 0u32);
                for t in 0..self.tiles.len() {
                    let ct = &self.centroids[t * d..(t + 1) * d];
                    let mut s = 0f64;
                    for j in 0..d {
                        let v = ct[j] - qv[j].wide();
                        s += v * v;
                    }
                    if s < best.0 {
                        best = (s, t as u32);
                    }
                }
                (best.1, i)
            })
            .collect();
        let mut near = near;
        near.sort_unstable();
        let tasks: Vec<Vec<(&[F], usize, usize)>> = near
            .chunks(TASK)
            .map(|c| {
                c.iter()
                    .map(|&(_, i)| (&q[i * d..(i + 1) * d], i, NONE))
                    .collect()
            })
            .collect();
        Ok(self.search(tasks, nq, k, available))
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        let available = self.check_k(k, true)?;
        let tasks: Vec<Vec<(&[F], usize, usize)>> = self
            .tiles
            .iter()
            .map(|t| {
                self.perm[t.row_start..t.row_end]
                    .iter()
                    .map(|&i| (self.row(i), i, i))
                    .collect()
            })
            .collect();
        Ok(self.search(tasks, self.n, k, available))
    }

    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        let available = self.check_k(k, true)?;
        if let Some(&bad) = rows.iter().find(|&&i| i >= self.n) {
            return Err(CoreError::Shape(format!(
                "row {bad} is out of range for an index of {} rows",
                self.n
            )));
        }
        let tasks = self.self_tasks(rows);
        Ok(self.search(tasks, rows.len(), k, available))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use proptest::prelude::*;

    pub(super) static FALLBACKS: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);
    pub(super) static KERNELS: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);
    pub(super) static VISITED: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    #[test]
    #[ignore]
    fn pruning_report() {
        let (n, d) = (100_000, 30);
        let mut s = crate::rng::Stream::new(1, crate::rng::Purpose::Smote, 9, 0);
        let centers: Vec<f64> = (0..20 * d).map(|_| s.normal() * 3.0).collect();
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            (centers[(i * 7919 % 20) * d + j] + s.normal()) as f32
        });
        let t = std::time::Instant::now();
        let bf = BruteForce::new(x.view());
        let radii: Vec<f64> = bf.tiles.iter().map(|t| t.radius).collect();
        eprintln!(
            "build {:?}, {} tiles, mean radius {}",
            t.elapsed(),
            bf.tiles.len(),
            radii.iter().sum::<f64>() / radii.len() as f64
        );
        let t = std::time::Instant::now();
        VISITED.store(0, std::sync::atomic::Ordering::Relaxed);
        let r = bf.query_self(4).unwrap();
        let v = VISITED.load(std::sync::atomic::Ordering::Relaxed);
        let kc = KERNELS.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "fallbacks {}",
            FALLBACKS.load(std::sync::atomic::Ordering::Relaxed)
        );
        let mut rs = radii.clone();
        rs.sort_by(f64::total_cmp);
        eprintln!(
            "kernel calls {} = {:.4} of block-tile pairs; radius min {} med {} max {}",
            kc,
            kc as f64 / (bf.tiles.len() as f64 * bf.tiles.len() as f64 * 390.0 / 6.0 / 2.0),
            rs[0],
            rs[rs.len() / 2],
            rs[rs.len() - 1]
        );
        eprintln!(
            "query {:?}, visited {:.4} of task-tile pairs, mean kth dist {}",
            t.elapsed(),
            v as f64 / (bf.tiles.len() * bf.tiles.len()) as f64,
            r.distances.column(3).mean().unwrap()
        );
    }

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

        /// Clustered data over many tiles, so that pruning skips most of them; subsets and
        /// external queries agree with the full self-query.
        #[test]
        fn pruned_clusters_match_reference(n in 300usize..1500, d in 1usize..12, seed in 0u64..1000) {
            let k = 4;
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 2, 0);
            let centers: Vec<f64> = (0..8 * d).map(|_| s.normal() * 20.0).collect();
            let data32 = Array2::from_shape_fn((n, d), |(i, j)| (centers[(i % 8) * d + j] + s.normal()) as f32);
            let data64 = data32.mapv(|v| v as f64);
            let bf = BruteForce::new(data32.view());
            let got = bf.query_self(k).unwrap();
            let want = reference(&data64, k);
            for i in 0..n {
                prop_assert_eq!(got.indices.row(i).to_vec(), want[i].clone());
            }
            let rows: Vec<usize> = (0..n).filter(|i| i % 3 == 1).collect();
            let sub = bf.query_self_rows(&rows, k).unwrap();
            for (r, &i) in rows.iter().enumerate() {
                prop_assert_eq!(sub.indices.row(r).to_vec(), want[i].clone());
            }
            let ext = bf.query(data32.view(), k + 1).unwrap();
            for i in 0..n {
                // The row itself (distance 0) or an equal duplicate comes first.
                prop_assert_eq!(ext.distances[[i, 0]], 0.0);
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
        assert!(bf.query_self_rows(&[3], 1).is_err());
    }

    #[test]
    fn every_kernel_gives_the_same_answer() {
        let mut s = crate::rng::Stream::new(5, crate::rng::Purpose::Smote, 3, 0);
        let data = Array2::from_shape_fn((1500, 30), |_| s.normal() as f32);
        let all: Vec<usize> = (0..1500).collect();
        let want = reference(&data.mapv(|v| v as f64), 6);
        let kinds = [Kernel::Portable, Kernel::detect()];
        // Stored panels, and a lean subset of every row (panels packed on demand).
        for (bf, kind) in [
            BruteForce::new(data.view()),
            BruteForce::subset(data.view(), &all).unwrap(),
        ]
        .iter()
        .flat_map(|bf| kinds.iter().map(move |&k| (bf, k)))
        {
            let rows: Vec<usize> = (0..1500).collect();
            let tasks = bf.self_tasks(&rows);
            let keep = 20;
            // One cache for every task, as a worker keeps it: reused tiles must stay right.
            let mut cache = PanelCache::new(30);
            for t in &tasks {
                for (slot, list) in bf.run_task(&mut cache, t, 6, keep, 1499, kind) {
                    let got: Vec<usize> = list.iter().map(|p| p.1).collect();
                    assert_eq!(got, want[slot], "{kind:?}");
                }
            }
        }
    }

    /// SMOTE-like output: rows packed on short segments far from the origin, so neighbours are
    /// nearer to each other than pass 1's rounding error. The second (range) pass must still give
    /// the exact ranking, for every kernel, and for a subset index.
    #[test]
    fn near_ties_below_the_rounding_error_stay_exact() {
        let mut s = crate::rng::Stream::new(8, crate::rng::Purpose::Smote, 4, 0);
        let (n, d) = (2400, 30);
        let ends: Vec<f64> = (0..40 * d).map(|_| 200.0 + s.normal() * 2.0).collect();
        let data = Array2::from_shape_fn((n, d), |(i, j)| {
            let seg = i % 20;
            let t = (i / 20) as f64 / (n / 20) as f64;
            (ends[seg * 2 * d + j] * (1.0 - t) + ends[(seg * 2 + 1) * d + j] * t) as f32
        });
        let want = reference(&data.mapv(|v| v as f64), 4);
        let rows: Vec<usize> = (0..n).collect();
        for bf in [
            BruteForce::new(data.view()),
            BruteForce::subset(data.view(), &rows).unwrap(),
        ] {
            for kind in [Kernel::Portable, Kernel::detect()] {
                let mut cache = PanelCache::new(d);
                for t in &bf.self_tasks(&rows) {
                    for (slot, list) in bf.run_task(&mut cache, t, 4, 10, n - 1, kind) {
                        let got: Vec<usize> = list.iter().map(|p| p.1).collect();
                        assert_eq!(got, want[slot], "{kind:?}");
                    }
                }
            }
            let got = bf.query_self(4).unwrap().indices;
            for i in 0..n {
                assert_eq!(got.row(i).to_vec(), want[i]);
            }
        }
    }
}
