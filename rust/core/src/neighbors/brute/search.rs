//! Searching: tasks of nearby queries, pass 1 over the tiles nearest-first with the kernel,
//! the exact re-rank in `f64` and its rounding proof, and the bounded searches of the cleaners.

use std::collections::HashMap;
use std::sync::Mutex;

use ndarray::Array2;
use rayon::prelude::*;
#[cfg(test)]
use std::sync::atomic::Ordering::Relaxed;

use super::build::{centroid_radius, shift, sq_norm};
use super::kernel::{Block, Kernel, Offer, Plan, TaskResult, TileData};
use super::pack::{Caches, PanelCache, Panels};
use super::rounding::ErrBound;
use super::{BruteForce, Query, Within, NONE, PANEL, RANGE_KEEP, TASK};
use crate::float::Float;
use crate::neighbors::{exact_sq_dist, push_exact, KnnIndex, Neighbors};

/// Most queries of one [`BruteForce::self_within`] task.
const WITHIN_TASK: usize = 2048;

/// Pending queries of one task with the same vector, searched once: the first one's index in the
/// task, an upper bound on the squared distance of every row the shared search must rank, and the
/// members (index in the task, output position, k-th exact distance among its candidates).
struct Group {
    query: usize,
    bound: f64,
    members: Vec<(usize, usize, f64)>,
}

impl<F: Float> BruteForce<'_, F> {
    /// Search. Each task is a list of queries `(vector, output slot, excluded row)`.
    pub(super) fn search(
        &self,
        tasks: Vec<Vec<Query<'_, F>>>,
        nq: usize,
        k: usize,
        available: usize,
    ) -> Neighbors {
        let keep = keep_for(k, available);
        let kind = Kernel::detect();
        let caches = Caches::new(self.d);
        let results: Vec<TaskResult> = tasks
            .par_iter()
            .map(|t| {
                if crate::cancel::requested() {
                    // Interrupted: dropped by the caller; skip even the per-query bookkeeping.
                    return Vec::new();
                }
                self.run_task(&mut caches.get(), t, k, keep, available, kind, None)
            })
            .collect();
        assemble(results, nq, k)
    }

    /// All rows' `k` nearest other rows, each pass-1 distance computed once for both of its rows
    /// where it can be: half the work of [`BruteForce::search`] on data whose bounds prune little
    /// (a continuous cloud), the same answer.
    ///
    /// First every tile's rows are searched among themselves, which seeds each row's candidates
    /// (and its threshold). Then each tile's task runs pass 1 from its seeds, skipping its own
    /// tile and every tile whose task already offered it all of its distances. A tile whose task
    /// has not started, and whose panels the task's blocks nearly all reach (3/4 of them, by a
    /// probe of their panel masks), is visited whole (every panel computed for every query), takes
    /// the visit's distances as candidates of its own rows, and its task later skips this one. A
    /// tile offers only whole visits, so no pair of rows is offered twice to one row; every row
    /// left out of a list still has a pass-1 distance at least its last candidate's (offered and
    /// refused, or ruled out by a bound), which is all the exactness proof of
    /// [`BruteForce::run_task`] needs. The answer is that proof's exact ranking, so it does not
    /// depend on which task offered what (nor on the number of threads).
    pub(super) fn query_self_symmetric(&self, k: usize, available: usize) -> Neighbors {
        let keep = keep_for(k, available);
        let kind = Kernel::detect();
        let caches = Caches::new(self.d);
        let nt = self.tiles.len();
        let tile_queries = |t: usize| -> Vec<Query<'_, F>> {
            let tile = &self.tiles[t];
            self.perm[tile.row_start..tile.row_end]
                .iter()
                .map(|&i| Query::new(self.row(i), i, i))
                .collect()
        };
        let states: Vec<Mutex<TileState<F>>> = (0..nt)
            .into_par_iter()
            .map(|t| {
                let qs = tile_queries(t);
                let cands = if crate::cancel::requested() {
                    vec![Vec::new(); qs.len()]
                } else {
                    let own = [t];
                    let mut cache = caches.get();
                    self.pass1(&mut cache, &qs, keep, kind, None, None, Some(&own), None)
                        .0
                };
                Mutex::new(TileState::new(cands, keep))
            })
            .collect();
        let results: Vec<TaskResult> = (0..nt)
            .into_par_iter()
            .map(|t| {
                if crate::cancel::requested() {
                    return Vec::new();
                }
                let (seeds, offered) = {
                    let mut st = lock(&states[t]);
                    st.started = true;
                    let seeds: Vec<Vec<(F, usize)>> =
                        (0..st.lens.len()).map(|r| st.list(r).to_vec()).collect();
                    (seeds, std::mem::take(&mut st.offered))
                };
                let mut covered = vec![false; nt];
                covered[t] = true;
                for o in offered {
                    covered[o] = true;
                }
                let task = SymTask {
                    own: t,
                    seeds,
                    covered,
                    states: &states,
                    keep,
                    buf: None,
                    merged: Vec::with_capacity(keep),
                };
                let qs = tile_queries(t);
                self.run_task(&mut caches.get(), &qs, k, keep, available, kind, Some(task))
            })
            .collect();
        assemble(results, self.n, k)
    }
}

/// How many candidates a k-NN pass 1 keeps per query: two spare ones, enough for the rounding
/// proof on every family measured, and few enough to keep the pruning threshold (the last
/// candidate) tight and the lists short. `k + k/2 + 4` before: `k + 2` measured faster on every
/// family and k tried, one build after the other (100k rows k = 4: `gaussian` 2.45 -> 2.26 s,
/// `pca_cloud` 2.41 -> 2.23 s, `manifold` 0.40 -> 0.37 s; k = 20 `pca_cloud` 3.39 -> 2.95 s; 20k
/// rows k = 50 0.50 -> 0.37 s; the bundled sets 5-25% faster), the same neighbours.
pub(super) fn keep_for(k: usize, available: usize) -> usize {
    (k + 2).min(available)
}

/// A tile's state in the symmetric self search: whether its task has started, its rows'
/// candidates so far (in tile order, `keep` entries a row, flat so that an offer's thresholds
/// and merges read contiguous memory), and the tiles that offered them every distance.
pub(super) struct TileState<F> {
    started: bool,
    keep: usize,
    cands: Vec<(F, usize)>,
    lens: Vec<usize>,
    offered: Vec<usize>,
}

impl<F: Float> TileState<F> {
    fn new(lists: Vec<Vec<(F, usize)>>, keep: usize) -> Self {
        let mut cands = vec![(F::zero(), NONE); lists.len() * keep];
        let lens = lists.iter().map(|c| c.len().min(keep)).collect();
        for (r, c) in lists.iter().enumerate() {
            let n = c.len().min(keep);
            cands[r * keep..r * keep + n].copy_from_slice(&c[..n]);
        }
        TileState {
            started: false,
            keep,
            cands,
            lens,
            offered: Vec::new(),
        }
    }

    /// Row `r`'s candidates (its position in the tile).
    fn list(&self, r: usize) -> &[(F, usize)] {
        &self.cands[r * self.keep..r * self.keep + self.lens[r]]
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One task of the symmetric self search: its tile, its rows' seeded candidates, the tiles it
/// must not visit (its own, searched first, and those that offered it everything), and every
/// tile's state.
pub(super) struct SymTask<'s, F> {
    own: usize,
    seeds: Vec<Vec<(F, usize)>>,
    covered: Vec<bool>,
    states: &'s [Mutex<TileState<F>>],
    keep: usize,
    /// The offer buffer and a merge buffer, reused from visit to visit.
    buf: Option<Offer<F>>,
    merged: Vec<(F, usize)>,
}

impl<F: Float> SymTask<'_, F> {
    /// Whether tile `t`'s task has not started (it may still take an offer).
    fn may_offer(&self, t: usize) -> bool {
        !lock(&self.states[t]).started
    }

    /// An offer to the rows of tile `t`, thresholds from their candidates now, if its task has not
    /// started (in the task's buffer, reused from visit to visit).
    fn begin(&mut self, bf: &BruteForce<'_, F>, t: usize) -> Option<Offer<F>> {
        let st = lock(&self.states[t]);
        if st.started {
            return None;
        }
        let keep = self.keep;
        let tile = &bf.tiles[t];
        let slots = (tile.panel_end - tile.panel_start) * PANEL;
        let mut o = self.buf.take().unwrap_or(Offer {
            keep,
            thr: Vec::new(),
            cands: Vec::new(),
            lens: Vec::new(),
            full: true,
        });
        o.full = true;
        o.thr.clear();
        o.thr.resize(slots, F::neg_infinity());
        o.lens.clear();
        o.lens.resize(slots, 0);
        o.cands.resize(slots * keep, (F::zero(), NONE));
        for (r, (v, &n)) in o.thr.iter_mut().zip(&st.lens).enumerate() {
            *v = if n >= keep {
                st.cands[r * keep + keep - 1].0
            } else {
                F::infinity()
            };
        }
        Some(o)
    }

    /// Merge a whole visit's offer into tile `t`'s candidates, if its task has still not started;
    /// the offer's buffer goes back to the task.
    fn finish(&mut self, t: usize, offer: Offer<F>) {
        let keep = self.keep;
        {
            let mut st = lock(&self.states[t]);
            // A visit that missed a panel offers nothing (the plan computes them all).
            if !st.started && offer.full {
                let merged = &mut self.merged;
                for r in 0..st.lens.len() {
                    let o = offer.list(r);
                    if o.is_empty() {
                        continue;
                    }
                    let c = st.list(r);
                    merged.clear();
                    let (mut a, mut b) = (0, 0);
                    while merged.len() < keep && (a < c.len() || b < o.len()) {
                        if b == o.len() || (a < c.len() && c[a].0 <= o[b].0) {
                            merged.push(c[a]);
                            a += 1;
                        } else {
                            merged.push(o[b]);
                            b += 1;
                        }
                    }
                    st.cands[r * keep..r * keep + merged.len()].copy_from_slice(merged);
                    st.lens[r] = merged.len();
                }
                st.offered.push(self.own);
            }
        }
        self.buf = Some(offer);
    }
}

/// `out[s]` = the squared distance (in `f64`) from the centroid `ct` to slot `s`'s query, whose
/// feature `j` is `q64[j * cap + s]`. The same operations in the same order for each slot on
/// every instruction set (Rust never fuses a multiply and an add), only wider vectors with the
/// kernel's (`kind`): pass 1 runs it for every tile it visits, about a fifth of its own time on a
/// continuous cloud when compiled for SSE2 alone.
fn centroid_sq_dists(kind: Kernel, ct: &[f64], q64: &[f64], cap: usize, out: &mut [f64]) {
    #[inline(always)]
    fn body(ct: &[f64], q64: &[f64], cap: usize, out: &mut [f64]) {
        let ns = out.len();
        out.iter_mut().for_each(|v| *v = 0.0);
        for (j, &cj) in ct.iter().enumerate() {
            for (s, &qv) in out.iter_mut().zip(&q64[j * cap..j * cap + ns]) {
                let u = qv - cj;
                *s += u * u;
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The CPU must support AVX-512F.
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512(ct: &[f64], q64: &[f64], cap: usize, out: &mut [f64]) {
            body(ct, q64, cap, out)
        }
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(ct: &[f64], q64: &[f64], cap: usize, out: &mut [f64]) {
            body(ct, q64, cap, out)
        }
        match kind {
            // SAFETY: `Kernel::detect` chose these kernels only where the CPU has AVX-512F, or
            // AVX2 and FMA.
            Kernel::Avx512 => return unsafe { avx512(ct, q64, cap, out) },
            Kernel::Avx2 => return unsafe { avx2(ct, q64, cap, out) },
            Kernel::Portable => {}
        }
    }
    body(ct, q64, cap, out)
}

/// Queries [`BruteForce::nearest_tiles`] measures against the tile centroids at once.
const NEAR_BLOCK: usize = 256;

/// The tasks' answers as one result of `nq` lists of `k`.
fn assemble(results: Vec<TaskResult>, nq: usize, k: usize) -> Neighbors {
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

impl<F: Float> BruteForce<'_, F> {
    /// Pass 1's rounding-error bound for the query `q` (relative to the query: see
    /// [`ErrBound`]).
    pub(super) fn err_bound(&self, q: &[F]) -> ErrBound {
        let shifted: Vec<F> = self.shift(q).collect();
        ErrBound::of_row(&shifted, self.max_norm)
    }

    /// The row `q` as pass 1 reads it (see [`shift`]).
    pub(super) fn shift<'q>(&'q self, q: &'q [F]) -> impl Iterator<Item = F> + 'q {
        shift(q, &self.centre)
    }

    /// Each query's nearest tile centroid (the lowest tile among equals), as `(tile, query)` in
    /// query order: `q` holds `nq` rows of `d` features. Blocks of `NEAR_BLOCK` queries, feature-
    /// major in `f64`, meet each centroid in [`centroid_sq_dists`] (the kernel's vector width): a
    /// query at a time, in scalar `f64`, this was 12% of a 300k-row SMOTEENN, whose cleaner
    /// groups every new row this way.
    pub(super) fn nearest_tiles(&self, q: &[F], nq: usize) -> Vec<(u32, usize)> {
        let d = self.d;
        let kind = Kernel::detect();
        (0..nq.div_ceil(NEAR_BLOCK))
            .into_par_iter()
            .flat_map_iter(|b| {
                let lo = b * NEAR_BLOCK;
                let len = NEAR_BLOCK.min(nq - lo);
                let mut best = vec![(f64::INFINITY, 0u32); len];
                if !crate::cancel::requested() {
                    let mut q64 = vec![0f64; d * len];
                    for s in 0..len {
                        for j in 0..d {
                            q64[j * len + s] = q[(lo + s) * d + j].wide();
                        }
                    }
                    let mut dist = vec![0f64; len];
                    for t in 0..self.tiles.len() {
                        let ct = &self.centroids[t * d..(t + 1) * d];
                        centroid_sq_dists(kind, ct, &q64, len, &mut dist);
                        for (bst, &v) in best.iter_mut().zip(&dist) {
                            if v < bst.0 {
                                *bst = (v, t as u32);
                            }
                        }
                    }
                }
                best.into_iter()
                    .enumerate()
                    .map(move |(s, (_, t))| (t, lo + s))
            })
            .collect()
    }

    /// A pass-1 threshold (rounded up, strictly above) that every row within exact squared
    /// distance `bound_sq` of a query with error bound `eb` passes: its pass-1 distance is at most
    /// `bound (1 + b) + a`. The range pass, `any_within` and `self_within` start their searches
    /// here.
    fn pass1_ceiling(&self, bound_sq: f64, eb: &ErrBound) -> F {
        F::narrow(eb.pass1_above(bound_sq) * (1.0 + 1e-6))
    }

    pub(super) fn run_task(
        &self,
        cache: &mut PanelCache<F>,
        qs: &[Query<'_, F>],
        k: usize,
        keep: usize,
        available: usize,
        kind: Kernel,
        sym: Option<SymTask<'_, F>>,
    ) -> Vec<(usize, Vec<(f64, usize)>)> {
        let nq = qs.len();
        #[cfg(test)]
        let clock = std::time::Instant::now();
        let (cands, errs) = self.pass1(cache, qs, keep, kind, None, None, None, sym);
        #[cfg(test)]
        super::tests::NANOS[0].fetch_add(clock.elapsed().as_nanos() as u64, Relaxed);
        let mut out = Vec::with_capacity(nq);
        // Queries whose candidates could not prove their top k: (query, output position, the
        // k-th exact distance among the candidates).
        let mut pending: Vec<(usize, usize, f64)> = Vec::new();
        let mut exact: Vec<(f64, usize)> = Vec::with_capacity(keep);
        for (i, &Query { row: q, slot, .. }) in qs.iter().enumerate() {
            let cand = &cands[i];
            exact.clear();
            push_exact(&mut exact, q, cand.iter().map(|&(_, j)| j), |j| self.row(j));
            exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let proven = cand.len() < keep || cand.len() == available || {
                // Every row outside the candidates has a pass-1 distance >= the last
                // candidate's, so a true distance >= (last - a) / (1 + b).
                let last = cand[keep - 1].0.wide();
                let kth = exact[k - 1].0;
                kth * (1.0 + 1e-12) + 1e-300 < errs[i].dist_above(last)
            };
            if !proven {
                pending.push((i, out.len(), exact[k - 1].0));
                out.push((slot, Vec::new()));
                continue;
            }
            exact.truncate(k);
            out.push((slot, exact.clone()));
        }
        #[cfg(test)]
        super::tests::PENDING.fetch_add(pending.len(), Relaxed);
        #[cfg(test)]
        let clock = std::time::Instant::now();
        if !pending.is_empty() {
            // Near-ties closer than pass 1's error (dense data, rows far from the origin, many
            // copies of one row): every row of the true top k lies within the k-th candidate's
            // exact distance, so its pass-1 distance is below `pass1_ceiling` of it. One more pass
            // collects every row under that threshold and ranks them exactly; only a search with
            // more than RANGE_KEEP such rows falls back to a direct scan.
            //
            // Queries with the same vector (bit for bit) have the same distance to every row, so
            // they share that search: it ranks k + 1 rows with nothing excluded, and each query
            // then drops its own excluded row. (The bundled mammography set has 3,329 copies of
            // one row, every one pending: one search per task instead of one per copy.)
            let mut groups: Vec<Group> = Vec::new();
            let mut by_key: HashMap<Vec<u64>, usize> = HashMap::new();
            for &(i, o, kth) in &pending {
                let key: Vec<u64> = qs[i].row.iter().map(|v| v.wide().to_bits()).collect();
                let g = *by_key.entry(key).or_insert_with(|| {
                    groups.push(Group {
                        query: i,
                        bound: kth,
                        members: Vec::new(),
                    });
                    groups.len() - 1
                });
                groups[g].members.push((i, o, kth));
            }
            // Each group's search: the query's own exclusion and `kth` when alone; else nothing
            // excluded, one more row, and a bound on the (k+1)-th distance: any member's k rows
            // within its `kth`, and its excluded row.
            let plan: Vec<(Query<'_, F>, usize)> = groups
                .iter_mut()
                .map(|g| {
                    let q = qs[g.query];
                    if g.members.len() == 1 {
                        return (q, k);
                    }
                    g.bound = g
                        .members
                        .iter()
                        .map(|&(i, _, kth)| match qs[i].exclude {
                            NONE => kth,
                            e => kth.max(exact_sq_dist(qs[i].row, self.row(e))),
                        })
                        .fold(f64::INFINITY, f64::min);
                    let any_excl = g.members.iter().any(|m| qs[m.0].exclude != NONE);
                    let kk = (k + any_excl as usize).min(self.n);
                    (Query::new(q.row, q.slot, NONE), kk)
                })
                .collect();
            let sub: Vec<Query<'_, F>> = plan.iter().map(|p| p.0).collect();
            let init: Vec<F> = groups
                .iter()
                .map(|g| self.pass1_ceiling(g.bound, &errs[g.query]))
                .collect();
            let (wide, _) =
                self.pass1(cache, &sub, RANGE_KEEP, kind, Some(&init), None, None, None);
            #[cfg(test)]
            super::tests::NANOS[1].fetch_add(clock.elapsed().as_nanos() as u64, Relaxed);
            #[cfg(test)]
            let clock = std::time::Instant::now();
            for ((g, &(q, kk)), cand) in groups.iter().zip(&plan).zip(wide) {
                exact.clear();
                if cand.len() < RANGE_KEEP {
                    push_exact(&mut exact, q.row, cand.iter().map(|&(_, j)| j), |j| {
                        self.row(j)
                    });
                    exact.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                } else {
                    #[cfg(test)]
                    super::tests::FALLBACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.scan(q.row, q.exclude, g.bound, kk, &mut exact);
                }
                exact.truncate(kk);
                for &(i, o, _) in &g.members {
                    let ex = qs[i].exclude;
                    out[o].1 = exact
                        .iter()
                        .copied()
                        .filter(|p| p.1 != ex)
                        .take(k)
                        .collect();
                }
            }
            #[cfg(test)]
            super::tests::NANOS[2].fetch_add(clock.elapsed().as_nanos() as u64, Relaxed);
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
        self.near_tiles_kth_sq(k, 1)
    }

    /// As [`BruteForce::tile_kth_sq`], each row over the rows of its tile and of the `m - 1`
    /// tiles whose centroids are nearest that tile's: a tighter bound for a row near its tile's
    /// edge, whose nearest rows lie in the next tiles, for about `m` times the work.
    pub fn near_tiles_kth_sq(&self, k: usize, m: usize) -> Vec<f64> {
        let groups: Vec<(usize, Vec<usize>)> = self
            .tiles
            .iter()
            .enumerate()
            .map(|(t, tile)| (t, self.perm[tile.row_start..tile.row_end].to_vec()))
            .collect();
        let near = self.near_tiles(m);
        let mut out = vec![f64::INFINITY; self.n];
        for (pos, v) in self.kth_over_tiles(&groups, &near, k) {
            out[pos] = v;
        }
        out
    }

    /// Per tile, the `m` tiles (itself first, then by centroid distance) whose centroids are
    /// nearest its own. Found with an index over the centroids, a small fraction of a search.
    fn near_tiles(&self, m: usize) -> Vec<Vec<usize>> {
        let nt = self.tiles.len();
        let own = || (0..nt).map(|t| vec![t]).collect();
        if m <= 1 || nt <= 1 {
            return own();
        }
        let d = self.d;
        let c = Array2::from_shape_fn((nt, d), |(t, j)| F::narrow(self.centroids[t * d + j]));
        let all: Vec<usize> = (0..nt).collect();
        // Which tiles are searched changes only how tight the bound is, never its validity.
        match BruteForce::new(c.view()).query_self_rows(&all, (m - 1).min(nt - 1)) {
            Ok(nb) => (0..nt)
                .map(|t| {
                    std::iter::once(t)
                        .chain(nb.indices.row(t).iter().copied())
                        .collect()
                })
                .collect(),
            Err(_) => own(),
        }
    }

    /// For each group (a tile and some of its rows, positions): each row's exact squared distance
    /// to the `k`-th of the `k` other rows of smallest pass-1 distance in the tiles `tiles[tile]`,
    /// as (position, value); rows for which those tiles hold fewer than `k` other rows are left out.
    /// Any `k` other rows bound the `k`-th nearest distance from above.
    fn kth_over_tiles<'s>(
        &'s self,
        groups: &'s [(usize, Vec<usize>)],
        tiles: &'s [Vec<usize>],
        k: usize,
    ) -> impl Iterator<Item = (usize, f64)> + 's {
        let kind = Kernel::detect();
        let caches = Caches::new(self.d);
        let found: Vec<Vec<(usize, f64)>> = groups
            .par_iter()
            .map(|(t, rows)| {
                if crate::cancel::requested() {
                    return Vec::new();
                }
                if k == 0 {
                    return rows.iter().map(|&p| (p, 0.0)).collect();
                }
                let searched: usize = tiles[*t]
                    .iter()
                    .map(|&u| self.tiles[u].row_end - self.tiles[u].row_start)
                    .sum();
                if searched <= k {
                    return Vec::new();
                }
                let cache = &mut *caches.get();
                let qs: Vec<Query<'_, F>> = rows
                    .iter()
                    .map(|&i| Query::new(self.row(i), i, i))
                    .collect();
                let (cands, _) =
                    self.pass1(cache, &qs, k, kind, None, None, Some(&tiles[*t]), None);
                qs.iter()
                    .zip(cands)
                    .filter(|(_, c)| c.len() == k)
                    .map(|(q, c)| {
                        let far = c
                            .iter()
                            .map(|&(_, j)| exact_sq_dist(q.row, self.row(j)))
                            .fold(0f64, f64::max);
                        (q.slot, far)
                    })
                    .collect()
            })
            .collect();
        found.into_iter().flatten()
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
                if crate::cancel::requested() {
                    return Vec::new();
                }
                let cache = &mut *caches.get();
                let g: Vec<usize> = g
                    .iter()
                    .copied()
                    .filter(|&s| bound_sq[s].is_finite())
                    .collect();
                if g.is_empty() {
                    return Vec::new();
                }
                let qs: Vec<Query<'_, F>> =
                    g.iter().map(|&s| Query::new(query(s), s, NONE)).collect();
                let init: Vec<F> = qs
                    .iter()
                    .map(|q| self.pass1_ceiling(bound_sq[q.slot], &self.err_bound(q.row)))
                    .collect();
                // One candidate settles a query (its answer stays `true`): it stops there.
                let stop = vec![F::infinity(); qs.len()];
                let (cands, _) =
                    self.pass1(cache, &qs, 1, kind, Some(&init), Some(&stop), None, None);
                // No candidate: every row has a pass-1 distance >= the threshold, above that of
                // any row within the bound.
                qs.iter()
                    .zip(cands)
                    .filter(|(_, c)| c.is_empty())
                    .map(|(q, _)| q.slot)
                    .collect()
            })
            .collect();
        for s in proven.into_iter().flatten() {
            out[s] = false;
        }
        out
    }

    /// For each indexed row `rows[s]` (a position; itself excluded) and an exact squared distance
    /// `bound_sq[s]`: whether `k` other indexed rows lie strictly nearer than the bound, and which.
    /// A query stops as soon as pass 1 proves `k` rows under the bound, so rows deep inside their
    /// class cost little even where tile bounds cannot prune (the cleaning samplers' last stage,
    /// with the bound the distance to the nearest row of another class).
    ///
    /// With `max_tiles`, each task searches only that many tiles, the nearest to its queries'
    /// centroid first: a query that has not found `k` rows strictly within its bound there is
    /// left incomplete (for [`super::Projected`] to settle at a fraction of the cost).
    pub fn self_within(
        &self,
        rows: &[usize],
        bound_sq: &[f64],
        k: usize,
        max_tiles: Option<usize>,
    ) -> Vec<Within> {
        let capped = max_tiles.is_some_and(|m| m < self.tiles.len());
        let kind = Kernel::detect();
        let caches = Caches::new(self.d);
        // Larger tasks than a k-NN search's. A bounded search's queries stop one by one, so a
        // tile visit runs few blocks, and on a continuous cloud every task still visits most
        // tiles: with 128 queries a task, ENN's last stage on 1M pca_cloud rows streamed the class
        // from memory a thousand times and waited on its loads (12.5 s; 2,048 a task: 3.7 s).
        // Enough tasks stay for the pool to balance them.
        let size =
            (rows.len() / (8 * rayon::current_num_threads().max(1))).clamp(TASK, WITHIN_TASK);
        let tasks = self.self_tasks_of(rows, size);
        let found: Vec<Vec<(usize, Within)>> = tasks
            .par_iter()
            .map(|t| {
                if crate::cancel::requested() {
                    return Vec::new();
                }
                let cache = &mut *caches.get();
                // Rows within the bound pass `hi`; a pass-1 distance at most `lo` proves a row
                // strictly within it (its true distance is at most `(lo + a) / (1 - b)`).
                let (hi, lo): (Vec<F>, Vec<F>) = t
                    .iter()
                    .map(|q| {
                        let e = self.err_bound(q.row);
                        let b = bound_sq[q.slot];
                        let lo = e.pass1_below(b);
                        let lo = if lo > 0.0 {
                            F::narrow(lo * (1.0 - 1e-6))
                        } else {
                            F::neg_infinity()
                        };
                        (self.pass1_ceiling(b, &e), lo)
                    })
                    .unzip();
                let nearest_tiles: Option<Vec<usize>> = capped.then(|| {
                    let qrows: Vec<&[F]> = t.iter().map(|q| q.row).collect();
                    let (c, _) = centroid_radius(&qrows, self.d);
                    let mut order: Vec<(f64, usize)> = (0..self.tiles.len())
                        .map(|i| {
                            let ct = &self.centroids[i * self.d..(i + 1) * self.d];
                            let s: f64 = ct.iter().zip(&c).map(|(a, b)| (a - b) * (a - b)).sum();
                            (s, i)
                        })
                        .collect();
                    let m = max_tiles.unwrap_or(usize::MAX);
                    order.select_nth_unstable_by(m, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    order[..m].iter().map(|o| o.1).collect()
                });
                let (cands, _) = self.pass1(
                    cache,
                    t,
                    k,
                    kind,
                    Some(&hi),
                    Some(&lo),
                    nearest_tiles.as_deref(),
                    None,
                );
                t.iter()
                    .zip(cands)
                    .map(|(q, c)| {
                        // Fewer than k candidates: every row within the bound is among them
                        // (when every tile was searched).
                        let complete = c.len() < k && !capped;
                        let mut near: Vec<(f64, usize)> = Vec::with_capacity(c.len());
                        push_exact(&mut near, q.row, c.iter().map(|&(_, j)| j), |j| self.row(j));
                        near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        if complete {
                            near.retain(|r| r.0 <= bound_sq[q.slot]);
                        }
                        (
                            q.slot,
                            Within {
                                complete,
                                rows: near,
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        let mut out: Vec<Within> = (0..rows.len())
            .map(|_| Within {
                complete: false,
                rows: Vec::new(),
            })
            .collect();
        for (slot, w) in found.into_iter().flatten() {
            out[slot] = w;
        }
        out
    }

    /// Pass 1 of a task: for each query, the (at most `keep`) rows of smallest pass-1 distance
    /// below its threshold, sorted, with the queries' rounding-error bounds. Thresholds start at `+inf`,
    /// or at `init[i]` (a pass-1 value); with `only_tiles`, those tiles alone are searched.
    ///
    /// With `sym`, a task of the symmetric self search ([`BruteForce::query_self_symmetric`]):
    /// the queries start from their seeded candidates, skip their own tile and the tiles that
    /// already offered them every distance, and offer the distances of every tile they visit
    /// whole to that tile's rows, when its task has not started.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pass1(
        &self,
        cache: &mut PanelCache<F>,
        qs: &[Query<'_, F>],
        keep: usize,
        kind: Kernel,
        init: Option<&[F]>,
        stop: Option<&[F]>,
        only_tiles: Option<&[usize]>,
        mut sym: Option<SymTask<'_, F>>,
    ) -> (Vec<Vec<(F, usize)>>, Vec<ErrBound>) {
        let d = self.d;
        let nq = qs.len();
        let qrows: Vec<&[F]> = qs.iter().map(|q| q.row).collect();
        // The queries as pass 1 reads them (shifted by the centre), their norms summed as the
        // index's are.
        let mut shifted: Vec<F> = Vec::with_capacity(nq * d);
        for r in &qrows {
            shifted.extend(self.shift(r));
        }
        let srow = |i: usize| &shifted[i * d..(i + 1) * d];
        let qnorms: Vec<F> = (0..nq).map(|i| sq_norm(srow(i).iter().copied())).collect();
        let errs: Vec<ErrBound> = (0..nq)
            .map(|i| ErrBound::of_row(srow(i), self.max_norm))
            .collect();
        // One bound for every query of the task (`b` is the same for all).
        let task_err = ErrBound {
            a: errs.iter().map(|e| e.a).fold(0f64, f64::max),
            b: errs.first().map_or(0.0, |e| e.b),
        };
        if crate::cancel::requested() {
            // The call is being interrupted: its callers drop these results. Skip even the tile
            // ordering below, which costs about a millisecond over a large index: a cleaner
            // calls pass 1 once per group of queries, thousands of times, and those calls were
            // what made a 10M-row TomekLinks take 23 s to stop.
            return (vec![Vec::new(); nq], errs);
        }
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
        let mut order: Vec<(f64, f64, usize)> = match only_tiles {
            Some(ts) => ts.iter().map(|&t| tile_lb(t)).collect(),
            None => (0..self.tiles.len()).map(tile_lb).collect(),
        };
        // Nearest centroids first, so that the thresholds tighten early.
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));

        let mq = kind.mq::<F>();
        let seeds = sym.as_mut().map(|s| std::mem::take(&mut s.seeds));
        let mut sl = Slots::new(qs, &shifted, mq, keep, &qnorms, &errs, init, stop, seeds);
        let mut lb_q = vec![0f64; sl.len()];
        let mut masks: Vec<u32> = Vec::new();
        // The panel test's slack: its own rounding, and the `b D` part of the error bound.
        let slack = F::narrow((1.0 + 1e-5) * (1.0 + task_err.b));
        for &(_, lb, t) in &order {
            if crate::cancel::requested() {
                // The call is being interrupted: its callers drop these results.
                break;
            }
            sl.compact_if_sparse();
            let ns = sl.len();
            let worst = sl.thr[..ns]
                .iter()
                .fold(F::neg_infinity(), |m, &v| m.max(v));
            if task_err.pass1_below(lb) > worst.wide() {
                // Every row of this tile has a pass-1 distance above every query's threshold:
                // none of them can enter a candidate list.
                continue;
            }
            if sym.as_ref().is_some_and(|s| s.covered[t]) {
                #[cfg(test)]
                super::tests::COVERED.fetch_add(1, Relaxed);
                // Every distance to this tile's rows is among the seeded candidates already.
                continue;
            }
            #[cfg(test)]
            super::tests::VISITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tile = &self.tiles[t];
            let (p0, p1) = (tile.panel_start, tile.panel_end);
            let mut pack = if self.panels.is_empty() {
                Panels::Packed(cache.packer(
                    t,
                    &self.prow[p0 * PANEL..p1 * PANEL],
                    &self.data,
                    self.ids.as_deref(),
                    d,
                    &self.centre,
                ))
            } else {
                Panels::Stored(&self.panels[p0 * d * PANEL..p1 * d * PANEL])
            };
            let tile_data = TileData {
                pnorms: &self.pnorms[p0 * PANEL..p1 * PANEL],
                prow: &self.prow[p0 * PANEL..p1 * PANEL],
                cent: &self.panel_centroids[t * d * PANEL..(t + 1) * d * PANEL],
                cnorm: &self.panel_centroid_norms[t * PANEL..(t + 1) * PANEL],
                rad: &self.panel_radii[t * PANEL..(t + 1) * PANEL],
            };
            // Per-slot lower bound on the pass-1 distance of every row of the tile
            // (|q - c| - radius), all slots at once in a loop that vectorises.
            let ct = &self.centroids[t * d..(t + 1) * d];
            let lbs = &mut lb_q[..ns];
            centroid_sq_dists(kind, ct, &sl.q64, sl.cap, lbs);
            for (s, e) in lbs.iter_mut().zip(&sl.errs) {
                let l = (s.sqrt() * (1.0 - 1e-9) - tile.radius * (1.0 + 1e-9)).max(0.0);
                *s = e.pass1_below(l * l * (1.0 - 1e-9));
            }
            let n_blocks = ns / mq;
            // A query may accept a row of the tile (padding slots have a `-inf` threshold).
            let needed = |sl: &Slots<F>, b: usize| {
                (b * mq..(b + 1) * mq).any(|s| lbs[s] <= sl.thr[s].wide())
            };
            let set_reach = |sl: &mut Slots<F>, b: usize| {
                for s in b * mq..(b + 1) * mq {
                    if sl.qid[s] != NONE {
                        sl.reach[s] = F::narrow(
                            sl.errs[s].dist_below(sl.thr[s].wide()).sqrt() * (1.0 + 1e-6),
                        );
                    }
                }
            };
            let run_block = |sl: &mut Slots<F>,
                             pack: &mut Panels<'_, F>,
                             b: usize,
                             plan: Plan,
                             offer: Option<&mut Offer<F>>| {
                let (blk, th, cs) = sl.block(b, slack);
                kind.run(&tile_data, pack, d, &blk, th, cs, keep, plan, offer)
            };
            // The symmetric self search offers a visit's distances to the tile's rows only when
            // the visit computes every panel for every block: when every block needs the tile
            // and they reach at least 3/4 of its panels (a probe of the blocks' panel masks), the
            // rest is computed too, which spares the tile's task this whole visit.
            let mut offer = None;
            let mut probed = false;
            if sym.as_ref().is_some_and(|s| s.may_offer(t)) && (0..n_blocks).all(|b| needed(&sl, b))
            {
                let n_panels = p1 - p0;
                let mut reachable = 0;
                masks.clear();
                for b in 0..n_blocks {
                    set_reach(&mut sl, b);
                    let m = run_block(&mut sl, &mut pack, b, Plan::Probe, None);
                    reachable += m.count_ones() as usize;
                    masks.push(m);
                }
                probed = true;
                if reachable * 4 >= n_blocks * n_panels * 3 {
                    offer = sym.as_mut().and_then(|s| s.begin(self, t));
                    if offer.is_some() {
                        masks.iter_mut().for_each(|m| *m = u32::MAX);
                    }
                }
            }
            for b in 0..n_blocks {
                // Skip the tile for this block when no query of it can accept a row of the tile
                // (unless the visit is offered whole).
                if offer.is_none() && !needed(&sl, b) {
                    continue;
                }
                #[cfg(test)]
                super::tests::KERNELS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let plan = if probed {
                    Plan::Mask(masks[b])
                } else {
                    set_reach(&mut sl, b);
                    Plan::Prune
                };
                run_block(&mut sl, &mut pack, b, plan, offer.as_mut());
            }
            if let (Some(s), Some(o)) = (sym.as_mut(), offer) {
                s.finish(t, o);
            }
        }
        (sl.into_candidates(nq), errs)
    }

    /// Direct scan of every row in `f64`, for a query pass 1 could not settle: its `k` nearest
    /// other rows, ranked by (distance, row). `bound_sq` (the k-th exact distance among its
    /// candidates) bounds the true k-th distance from above, so only rows within it are kept and
    /// ranked: duplicate-heavy data (thousands of rows at distance 0) need not sort every row.
    pub(super) fn scan(
        &self,
        q: &[F],
        excl: usize,
        bound_sq: f64,
        k: usize,
        out: &mut Vec<(f64, usize)>,
    ) {
        let cmp = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        out.clear();
        out.extend(
            (0..self.n)
                .filter(|&j| j != excl)
                .map(|j| (exact_sq_dist(q, self.row(j)), j))
                .filter(|p| p.0 <= bound_sq),
        );
        if out.len() > k {
            out.select_nth_unstable_by(k - 1, cmp);
            out.truncate(k);
        }
        out.sort_unstable_by(cmp);
    }

    /// Self-query tasks for the given rows, in tile order (nearby rows share a task).
    pub(super) fn self_tasks(&self, rows: &[usize]) -> Vec<Vec<Query<'_, F>>> {
        self.self_tasks_of(rows, TASK)
    }

    /// [`BruteForce::self_tasks`] with `size` queries a task.
    pub(super) fn self_tasks_of(&self, rows: &[usize], size: usize) -> Vec<Vec<Query<'_, F>>> {
        let mut by_tile: Vec<(u32, usize, usize)> = rows
            .iter()
            .enumerate()
            .map(|(slot, &i)| (self.tile_of[i], slot, i))
            .collect();
        by_tile.sort_unstable();
        // Tiles are in the split tree's leaf order, so consecutive rows of this list are near each
        // other: a sparse subset (a sample, the rows near a minority class) still fills its tasks.
        by_tile
            .chunks(size)
            .map(|c| {
                c.iter()
                    .map(|&(_, slot, i)| Query::new(self.row(i), slot, i))
                    .collect()
            })
            .collect()
    }
}

/// A block of slots as the kernel takes it: the block, its thresholds and candidate lists.
type BlockParts<'s, F> = (Block<'s, F>, &'s mut [F], &'s mut [Vec<(F, usize)>]);

/// The queries of one pass 1, in the kernel's slots: blocks of `mq` slots, each slot's query
/// shifted by the index's centre and transposed into its block (`qt[(b * d + j) * mq + i]`), and
/// unshifted in `f64` (`q64[j * cap + s]`, for the tile centroids), with
/// its threshold, excluded row, stop value, error bound and candidates. Queries that stop (a
/// `-inf` threshold: a bounded search that proved what it needed) leave their slot idle; once
/// they free enough slots, [`Slots::compact_if_sparse`] packs the active queries into fewer
/// blocks, so that the kernel's register tile stays full (ENN's bounded searches left 4 of 5
/// slots idle before).
struct Slots<F: Float> {
    mq: usize,
    d: usize,
    /// Slots in use: a multiple of `mq`.
    len: usize,
    /// Row stride of `q64`.
    cap: usize,
    qid: Vec<usize>,
    qt: Vec<F>,
    qn: Vec<F>,
    q64: Vec<f64>,
    thr: Vec<F>,
    excl: Vec<usize>,
    stops: Vec<F>,
    reach: Vec<F>,
    errf: Vec<F>,
    errs: Vec<ErrBound>,
    cands: Vec<Vec<(F, usize)>>,
    /// Candidates of queries moved out of their slots, by query.
    done: Vec<Option<Vec<(F, usize)>>>,
}

impl<F: Float> Slots<F> {
    fn new(
        qs: &[Query<'_, F>],
        shifted: &[F],
        mq: usize,
        keep: usize,
        qnorms: &[F],
        errs: &[ErrBound],
        init: Option<&[F]>,
        stop: Option<&[F]>,
        seeds: Option<Vec<Vec<(F, usize)>>>,
    ) -> Self {
        let nq = qs.len();
        let d = qs.first().map_or(0, |q| q.row.len());
        let cap = nq.div_ceil(mq) * mq;
        let mut sl = Slots {
            mq,
            d,
            len: cap,
            cap,
            qid: vec![NONE; cap],
            qt: vec![F::zero(); cap * d],
            qn: vec![F::zero(); cap],
            q64: vec![0f64; cap * d],
            // Padding slots never accept a row.
            thr: vec![F::neg_infinity(); cap],
            excl: vec![NONE; cap],
            stops: vec![F::neg_infinity(); cap],
            // A NaN reach rules every panel out for a padding slot.
            reach: vec![F::nan(); cap],
            errf: vec![F::zero(); cap],
            errs: vec![ErrBound { a: 0.0, b: 0.0 }; cap],
            cands: (0..cap).map(|_| Vec::with_capacity(keep + 1)).collect(),
            done: Vec::new(),
        };
        for (i, q) in qs.iter().enumerate() {
            let (b, qi) = (i / mq, i % mq);
            for j in 0..d {
                sl.qt[(b * d + j) * mq + qi] = shifted[i * d + j];
                sl.q64[j * cap + i] = q.row[j].wide();
            }
            sl.qid[i] = i;
            sl.qn[i] = qnorms[i];
            sl.thr[i] = init.map_or(F::infinity(), |v| v[i]);
            sl.excl[i] = q.exclude;
            sl.stops[i] = stop.map_or(F::neg_infinity(), |v| v[i]);
            sl.errf[i] = F::narrow(errs[i].a * (1.0 + 1e-6));
            sl.errs[i] = errs[i];
        }
        if let Some(seeds) = seeds {
            // Candidates found before this pass (sorted, at most `keep`): a full list's last
            // value is the query's threshold.
            for (i, c) in seeds.into_iter().enumerate().take(nq) {
                if c.len() >= keep {
                    sl.thr[i] = sl.thr[i].min(c[keep - 1].0);
                }
                sl.cands[i] = c;
                sl.cands[i].reserve(keep + 1);
            }
        }
        sl
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Block `b` as the kernel takes it, with its thresholds and candidate lists.
    fn block(&mut self, b: usize, slack: F) -> BlockParts<'_, F> {
        let (mq, d) = (self.mq, self.d);
        let r = b * mq..(b + 1) * mq;
        let blk = Block {
            qt: &self.qt[b * d * mq..(b + 1) * d * mq],
            qn: &self.qn[r.clone()],
            excl: &self.excl[r.clone()],
            err: &self.errf[r.clone()],
            reach: &self.reach[r.clone()],
            slack,
            stop: &self.stops[r.clone()],
        };
        (blk, &mut self.thr[r.clone()], &mut self.cands[r])
    }

    /// Pack the active slots (a threshold above `-inf`) into the first blocks when that frees at
    /// least a quarter of the blocks in use. Stopped queries' candidates move to `done`.
    fn compact_if_sparse(&mut self) {
        let (mq, d) = (self.mq, self.d);
        let blocks = self.len / mq;
        if blocks < 2 {
            return;
        }
        // Counted without allocating: a k-NN search, whose queries never stop, asks at every tile.
        let n_active = self.thr[..self.len]
            .iter()
            .filter(|&&t| t > F::neg_infinity())
            .count();
        let need = n_active.div_ceil(mq);
        if need * 4 > blocks * 3 {
            return;
        }
        let active: Vec<usize> = (0..self.len)
            .filter(|&s| self.thr[s] > F::neg_infinity())
            .collect();
        if self.done.is_empty() {
            self.done = (0..self.cap).map(|_| None).collect();
        }
        for s in 0..self.len {
            if self.qid[s] != NONE && self.thr[s] == F::neg_infinity() {
                self.done[self.qid[s]] = Some(std::mem::take(&mut self.cands[s]));
                self.qid[s] = NONE;
            }
        }
        // Active slots only move down (new slot <= old slot), so one forward pass suffices.
        for (new, &old) in active.iter().enumerate() {
            if new == old {
                continue;
            }
            let (nb, ni, ob, oi) = (new / mq, new % mq, old / mq, old % mq);
            for j in 0..d {
                self.qt[(nb * d + j) * mq + ni] = self.qt[(ob * d + j) * mq + oi];
                self.q64[j * self.cap + new] = self.q64[j * self.cap + old];
            }
            self.qid[new] = self.qid[old];
            self.qn[new] = self.qn[old];
            self.thr[new] = self.thr[old];
            self.excl[new] = self.excl[old];
            self.stops[new] = self.stops[old];
            self.reach[new] = self.reach[old];
            self.errf[new] = self.errf[old];
            self.errs[new] = self.errs[old];
            self.cands.swap(new, old);
            self.qid[old] = NONE;
        }
        let len = need * mq;
        for s in active.len()..len {
            self.qid[s] = NONE;
            self.thr[s] = F::neg_infinity();
            self.excl[s] = NONE;
            self.stops[s] = F::neg_infinity();
            self.reach[s] = F::nan();
            self.qn[s] = F::zero();
            self.errf[s] = F::zero();
            self.cands[s].clear();
            let (b, i) = (s / mq, s % mq);
            for j in 0..d {
                self.qt[(b * d + j) * mq + i] = F::zero();
                self.q64[j * self.cap + s] = 0.0;
            }
        }
        self.len = len;
    }

    /// Every query's candidates, in query order.
    fn into_candidates(mut self, nq: usize) -> Vec<Vec<(F, usize)>> {
        if self.done.is_empty() {
            self.cands.truncate(nq);
            return self.cands;
        }
        for s in 0..self.len {
            if self.qid[s] != NONE {
                self.done[self.qid[s]] = Some(std::mem::take(&mut self.cands[s]));
            }
        }
        self.done
            .into_iter()
            .take(nq)
            .map(|c| c.unwrap_or_default())
            .collect()
    }
}
