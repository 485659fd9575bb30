//! The self search of a small set of rows: every pair of rows once, no index.
//!
//! For a few thousand rows (SMOTE's minority class, the usual case) the tiled search of
//! [`BruteForce::query_self`](super::BruteForce) spends more than the distances cost: a 5,000-row,
//! 30-feature class took 2.3 ms to index and 15 ms to search on one core, where its 12.5M pairs are
//! 0.75 GFLOP, about 3 ms at one core's FMA peak. Tiles prune nothing there (in 30 dimensions every
//! row is about as far from every other), so this search computes each pair once with the same
//! register tiles ([`PanelDists`]): the upper triangle of the distance matrix, in blocks of `MQ`
//! rows against panels of `PANEL` rows, each distance offered to both rows' candidate lists (a
//! vector compare against the panel's thresholds first, so only the few below them reach scalar
//! code; each row's threshold starts at a bound from a sample of the rows, [`seeds`], so that
//! fewer do). Pass 2 and its proof are the tiled search's: the candidates ranked by their exact
//! `f64` distances, kept when pass 1's rounding bound ([`ErrBound`]) proves no other row can rank
//! among them; a row it cannot prove (near-ties: copies of a row) gets a direct scan, or, when
//! there are many, the tiled index's search. [`takes`] sends sets the tiled index searches faster
//! (structure its bounds prune, many copies) to it.
//!
//! Parallel without copies of the lists: the rows are cut into `2T` groups (`T` workers) and the
//! pairs of groups are taken in rounds where no group appears twice (a round-robin tournament,
//! then a round of each group with itself), so each worker of a round holds the lists of its
//! groups alone. Which worker saw which pair never changes the answer, the exact ranking by
//! (distance, row), so it is the same for any number of threads. (One set of lists per worker,
//! merged at the end, made 1.8 times the insertions: each set fills on its own.)

use std::collections::HashMap;
use std::sync::Mutex;

use ndarray::Array2;
use rayon::prelude::*;

use super::build::{shift, sq_norm};
use super::kernel::{Kernel, PanelDists, Portable};
use super::rounding::ErrBound;
use super::search::keep_for;
use super::{Neighbors, NONE, PANEL};
use crate::error::Result;
use crate::float::Float;
use crate::neighbors::{check_k, exact_sq_dist, push_exact, row_hash, KnnIndex};

/// Most rows the search takes; a larger set goes through the tiled index (see [`takes`]).
pub(super) const DENSE_MAX: usize = 1 << 17;

/// Rows up to which the search takes sets with some structure; above, only sets the probe finds
/// spread over many dimensions and without copies (see [`takes`]).
const SMALL_MAX: usize = 8192;

/// Rows that share a neighbour list (copies of one vector) and that list, as (distance, row).
type Settled = (Vec<usize>, Vec<(f64, usize)>);

/// Pending rows (pass 1 could not prove their lists) above `1 / PENDING_SHARE` of the rows go to
/// the tiled index rather than to direct scans.
const PENDING_SHARE: usize = 64;

/// Rows of a group boundary: a multiple of `PANEL` and of every kernel's `MQ` (12, 8, 6, 4, 3).
const UNIT: usize = 48;

/// The rows as the register tiles read them, shifted by the set's centre and padded to a
/// multiple of [`UNIT`]: panels of `PANEL` rows feature-major (`panels[(p * d + j) * PANEL + w]`),
/// blocks of `mq` rows transposed (`qt[(b * d + j) * mq + q]`), the rows' squared norms in `F`
/// (`+inf` for padding), and each row's rounding bound.
struct Layout<F> {
    d: usize,
    mq: usize,
    panels: Vec<F>,
    qt: Vec<F>,
    norms: Vec<F>,
    errs: Vec<ErrBound>,
}

impl<F: Float> Layout<F> {
    fn new(data: &[F], n: usize, d: usize, mq: usize) -> Self {
        // The mean (any centre keeps pass 1's bound, which counts the shift's rounding; the
        // tiled index's per-feature medians, chosen for its bounds, cost 0.5 ms here, a tenth
        // of a 5,000-row search).
        let mut sum = vec![0f64; d];
        for r in data.chunks_exact(d) {
            for (s, &v) in sum.iter_mut().zip(r) {
                *s += v.wide();
            }
        }
        let centre: Vec<F> = sum.iter().map(|&s| F::narrow(s / n as f64)).collect();
        let slots = n.div_ceil(UNIT) * UNIT;
        let mut norms = vec![F::infinity(); slots];
        let mut wide = vec![0f64; slots];
        let mut panels = vec![F::zero(); slots * d];
        let mut qt = vec![F::zero(); slots * d];
        // One unit of rows per task: its panels, blocks, norms.
        panels
            .par_chunks_mut(UNIT * d)
            .zip(qt.par_chunks_mut(UNIT * d))
            .zip(norms.par_chunks_mut(UNIT).zip(wide.par_chunks_mut(UNIT)))
            .enumerate()
            .for_each(|(u, ((pan, qtu), (nu, wu)))| {
                let mut s = vec![F::zero(); d];
                for r in 0..UNIT.min(n - u * UNIT) {
                    let i = u * UNIT + r;
                    for (c, v) in s.iter_mut().zip(shift(&data[i * d..(i + 1) * d], &centre)) {
                        *c = v;
                    }
                    nu[r] = sq_norm(s.iter().copied());
                    wu[r] = s.iter().map(|c| c.wide() * c.wide()).sum();
                    let (p, w) = (r / PANEL, r % PANEL);
                    let (b, q) = (r / mq, r % mq);
                    for (j, &c) in s.iter().enumerate() {
                        pan[(p * d + j) * PANEL + w] = c;
                        qtu[(b * d + j) * mq + q] = c;
                    }
                }
            });
        // The bound's `M`: every shifted row's squared norm (the queries are the rows).
        let max_norm = wide.iter().fold(0f64, |m, &v| m.max(v)) * (1.0 + 1e-9);
        let errs = wide[..n]
            .par_iter()
            .map(|&w| ErrBound::of_sq_norm::<F>(d, w, max_norm))
            .collect();
        Layout {
            d,
            mq,
            panels,
            qt,
            norms,
            errs,
        }
    }
}

/// The candidates of one group's rows (a worker of a round holds them alone): per row, at most
/// `keep` (pass-1 distance, row) in no order, and a threshold a new candidate must be under: the largest
/// value once the list is full (`+inf` before, `-inf` for padding slots). A full list replaces
/// its largest entry in place and finds the next largest by a pass of selects with no branch
/// on the values: a sorted insertion, whose loop exit the branch predictor misses, cost twice
/// as much on a 5,000-row class (50 insertions a row, in whatever order the rows come).
pub(super) struct Lists<F> {
    keep: usize,
    /// The first row of the group (lists are indexed from it).
    pub(super) start: usize,
    pub(super) thr: Vec<F>,
    cands: Vec<(F, usize)>,
    lens: Vec<u32>,
    /// Position of the largest entry of each full list.
    top: Vec<u32>,
}

impl<F: Float> Lists<F> {
    /// The lists of rows `start..end` (slots past `n` are padding), each row's threshold starting
    /// at its entry of `seed` (see [`seeds`]).
    pub(super) fn new(start: usize, end: usize, n: usize, keep: usize, seed: &[F]) -> Self {
        let len = end - start;
        let real = n.clamp(start, end) - start;
        let mut thr = vec![F::neg_infinity(); len];
        thr[..real].copy_from_slice(&seed[start..start + real]);
        Lists {
            keep,
            start,
            thr,
            cands: vec![(F::zero(), usize::MAX); len * keep],
            lens: vec![0; len],
            top: vec![0; len],
        }
    }

    pub(super) fn list(&self, r: usize) -> &[(F, usize)] {
        &self.cands[r * self.keep..r * self.keep + self.lens[r] as usize]
    }

    /// Set row `r`'s threshold and largest entry from its (full) list.
    #[inline(always)]
    fn find_top(&mut self, r: usize) {
        let c = &self.cands[r * self.keep..(r + 1) * self.keep];
        let (mut m, mut at) = (c[0].0, 0u32);
        for (e, v) in c.iter().enumerate().skip(1) {
            let gt = v.0 > m;
            m = if gt { v.0 } else { m };
            at = if gt { e as u32 } else { at };
        }
        self.thr[r] = m;
        self.top[r] = at;
    }

    #[inline(always)]
    pub(super) fn offer(&mut self, r: usize, dv: F, j: usize) {
        // The threshold may have dropped since the compare that found this distance.
        if dv >= self.thr[r] {
            return;
        }
        let keep = self.keep;
        let len = self.lens[r] as usize;
        if len < keep {
            self.cands[r * keep + len] = (dv, j);
            self.lens[r] = len as u32 + 1;
            if len + 1 == keep {
                self.find_top(r);
            }
        } else {
            self.cands[r * keep + self.top[r] as usize] = (dv, j);
            self.find_top(r);
        }
    }
}

/// Bits `w` of a panel starting at row `j0` that are rows after row `i` (each pair is offered
/// once, from the block of its first row).
#[inline(always)]
fn after(i: usize, j0: usize) -> u32 {
    let full = (1u32 << PANEL) - 1;
    if i < j0 {
        full
    } else if i + 1 - j0 >= PANEL {
        0
    } else {
        (full << (i + 1 - j0)) & full
    }
}

/// A piece of work: the rows of group `rows` against the rows of group `cols` (a later group),
/// or against its own later rows (`cols` None). Each pair's distance goes to both rows' lists.
struct Pairs<'l, F> {
    rows: &'l mut Lists<F>,
    cols: Option<&'l mut Lists<F>>,
}

/// The pairs of block `b` (rows `b * MQ ..`) with the rows of `pr.cols` (or with the later rows
/// of its own group), offered to both rows' lists.
#[inline(always)]
fn block<F: Float, const MQ: usize, K: PanelDists>(
    lay: &Layout<F>,
    b: usize,
    pr: &mut Pairs<'_, F>,
) {
    let d = lay.d;
    let i0 = b * MQ;
    let qt = &lay.qt[b * d * MQ..(b + 1) * d * MQ];
    let qn = &lay.norms[i0..i0 + MQ];
    let r0 = i0 - pr.rows.start;
    let (p_start, p_end) = match &pr.cols {
        Some(c) => (c.start / PANEL, (c.start + c.thr.len()) / PANEL),
        None => (i0 / PANEL, (pr.rows.start + pr.rows.thr.len()) / PANEL),
    };
    let mut dist = [[F::zero(); PANEL]; MQ];
    for p in p_start..p_end {
        let j0 = p * PANEL;
        let panel = &lay.panels[p * d * PANEL..(p + 1) * d * PANEL];
        let pn = &lay.norms[j0..j0 + PANEL];
        let cols: &mut Lists<F> = match pr.cols.as_deref_mut() {
            Some(c) => c,
            None => pr.rows,
        };
        let c0 = j0 - cols.start;
        // SAFETY: the slices hold the sizes `dists` and `below` read (`d * PANEL`, `d * MQ`,
        // `PANEL`, `MQ`); the caller runs `K` only where the CPU has its instruction set.
        let (hits, below) = unsafe {
            let hits =
                K::dists::<F, MQ>(panel, pn, qt, qn, &pr.rows.thr[r0..r0 + MQ], d, &mut dist);
            let cols: &Lists<F> = match pr.cols.as_deref() {
                Some(c) => c,
                None => pr.rows,
            };
            (hits, K::below::<F, MQ>(&dist, &cols.thr[c0..c0 + PANEL]))
        };
        // The queries with a hit either way, found without a branch per query.
        let mut qs = 0u32;
        for q in 0..MQ {
            qs |= (((hits[q] | below[q]) != 0) as u32) << q;
        }
        let own = pr.cols.is_none() && j0 < i0 + MQ;
        while qs != 0 {
            let q = qs.trailing_zeros() as usize;
            qs &= qs - 1;
            let i = i0 + q;
            let valid = if own { after(i, j0) } else { u32::MAX };
            let mut h = hits[q] & valid;
            while h != 0 {
                let w = h.trailing_zeros() as usize;
                h &= h - 1;
                pr.rows.offer(r0 + q, dist[q][w], j0 + w);
            }
            let mut h = below[q] & valid;
            let cols: &mut Lists<F> = match pr.cols.as_deref_mut() {
                Some(c) => c,
                None => pr.rows,
            };
            while h != 0 {
                let w = h.trailing_zeros() as usize;
                h &= h - 1;
                cols.offer(c0 + w, dist[q][w], i);
            }
        }
    }
}

/// Every block of `pr.rows`'s group with the register tiles `K`.
#[inline(always)]
fn blocks<F: Float, const MQ: usize, K: PanelDists>(lay: &Layout<F>, pr: &mut Pairs<'_, F>) {
    debug_assert_eq!(lay.mq, MQ);
    let (start, len) = (pr.rows.start, pr.rows.thr.len());
    for b in start / MQ..(start + len) / MQ {
        if crate::cancel::requested() {
            return;
        }
        block::<F, MQ, K>(lay, b, pr);
    }
}

/// `$name(kind, args)`: the generic `$body::<F, MQ, K>(args)` with the register tiles `K` and
/// block height `MQ` of the instruction set `kind` (compiled for it: the `K` methods inline
/// into a function with its target features).
macro_rules! per_kernel {
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name<F: Float>(kind: Kernel, $($arg: $ty),*) {
            /// # Safety
            /// The CPU must support AVX-512F (and AVX2, FMA).
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512<F: Float, const MQ: usize>($($arg: $ty),*) {
                $body::<F, MQ, super::simd::Avx512>($($arg),*)
            }
            /// # Safety
            /// The CPU must support AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<F: Float, const MQ: usize>($($arg: $ty),*) {
                $body::<F, MQ, super::simd::Avx2>($($arg),*)
            }
            let wide = std::mem::size_of::<F>() == 8;
            match kind {
                Kernel::Portable => $body::<F, 4, Portable>($($arg),*),
                // SAFETY: `Kernel::detect` (or a test's `Kernel::all_supported`) chose these only
                // where the CPU has the features they enable.
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => unsafe {
                    if wide {
                        avx2::<F, 3>($($arg),*)
                    } else {
                        avx2::<F, 6>($($arg),*)
                    }
                },
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx512 => unsafe {
                    if wide {
                        avx512::<F, 8>($($arg),*)
                    } else {
                        avx512::<F, 12>($($arg),*)
                    }
                },
            }
        }
    };
}

// The searches of chosen rows (`cross`) dispatch the same way.
pub(super) use per_kernel;

per_kernel!(run_blocks, blocks, (lay: &Layout<F>, pr: &mut Pairs<'_, F>));

/// Rows of the sample [`seeds`] measures every row against (16 panels).
const SAMPLE: usize = 256;

/// Each row's starting threshold for pass 1: an upper bound on its `keep`-th smallest pass-1
/// distance to another row, from its distances to a sample of [`SAMPLE`] rows spread over the
/// set (`+inf` where there is none: small sets, large `keep`).
///
/// A list filled from `+inf` takes every row until it holds `keep`, then each row nearer than its
/// largest: about `keep (1 + ln(n / keep))` insertions a row for rows in random order, 52 on a
/// 5,000-row class for `keep = 7`, each a few branches the predictor misses: 3.6 of pass 1's
/// 8.1 ms on one core. Started at the sample's bound (about the 4% quantile of the row's
/// distances), a row takes 28, and pass 1 costs 6.7 ms plus 0.43 ms for this sample.
///
/// The bound needs no sort: per row and panel lane, the nearest of the sample's rows in that
/// lane (16 distinct rows), then the `keep + 1`-th smallest of those 16 values: `keep + 1`
/// distinct rows are at most that far, one of which may be the row itself. It is nudged up a
/// few units in the last place so that those rows pass pass 1's strict compares (pass 1 computes
/// each pair's value with the same operations in the same order, so the same value). The proof
/// of pass 2 does not depend on it: a list left short is not proven, and its row is scanned.
fn seeds<F: Float>(kind: Kernel, lay: &Layout<F>, n: usize, keep: usize) -> Vec<F> {
    let slots = lay.norms.len();
    let mut out = vec![F::infinity(); slots];
    if n < 4 * SAMPLE || keep + 1 > PANEL {
        return out;
    }
    let d = lay.d;
    // The sample's rows as panels: rows `s * n / SAMPLE`, read back from the set's panels.
    let mut panels = vec![F::zero(); SAMPLE * d];
    let mut norms = vec![F::infinity(); SAMPLE];
    for s in 0..SAMPLE {
        let i = s * n / SAMPLE;
        let (p, w) = (i / PANEL, i % PANEL);
        let (sp, sw) = (s / PANEL, s % PANEL);
        for j in 0..d {
            panels[(sp * d + j) * PANEL + sw] = lay.panels[(p * d + j) * PANEL + w];
        }
        norms[s] = lay.norms[i];
    }
    let sample = Sample { panels, norms };
    let mq = lay.mq;
    out.par_chunks_mut(UNIT)
        .enumerate()
        .for_each(|(u, o)| run_seed_blocks(kind, lay, &sample, keep, u * UNIT / mq, o));
    out[n..].iter_mut().for_each(|t| *t = F::neg_infinity());
    out
}

/// The rows of [`seeds`]' sample, as [`Layout`] holds panels.
struct Sample<F> {
    panels: Vec<F>,
    norms: Vec<F>,
}

/// [`seeds`] for the blocks of one unit (`out.len() / MQ` blocks from block `b0`).
#[inline(always)]
fn seed_blocks<F: Float, const MQ: usize, K: PanelDists>(
    lay: &Layout<F>,
    sample: &Sample<F>,
    keep: usize,
    b0: usize,
    out: &mut [F],
) {
    debug_assert_eq!(lay.mq, MQ);
    let d = lay.d;
    let open = [F::infinity(); MQ];
    let mut dist = [[F::zero(); PANEL]; MQ];
    let mut lo = vec![F::infinity(); MQ * PANEL];
    for (bb, o) in out.chunks_exact_mut(MQ).enumerate() {
        let b = b0 + bb;
        let qt = &lay.qt[b * d * MQ..(b + 1) * d * MQ];
        let qn = &lay.norms[b * MQ..(b + 1) * MQ];
        // Per query and panel lane, the nearest of the sample's rows in that lane.
        lo.iter_mut().for_each(|v| *v = F::infinity());
        for p in 0..SAMPLE / PANEL {
            let panel = &sample.panels[p * d * PANEL..(p + 1) * d * PANEL];
            let pn = &sample.norms[p * PANEL..(p + 1) * PANEL];
            // SAFETY: the slices hold the sizes `dists` reads; the caller runs `K` only where
            // the CPU has its instruction set.
            unsafe { K::dists::<F, MQ>(panel, pn, qt, qn, &open, d, &mut dist) };
            for (l, &v) in lo.iter_mut().zip(dist.as_flattened()) {
                *l = if v < *l { v } else { *l };
            }
        }
        // The `keep + 1`-th smallest of each query's 16 lane minima, the queries side by side:
        // each lane's value pushed through a sorted column of `keep + 1` (min, max) pairs.
        let mut best = [[F::infinity(); MQ]; PANEL];
        for w in 0..PANEL {
            let mut x = [F::zero(); MQ];
            for q in 0..MQ {
                x[q] = lo[q * PANEL + w];
            }
            for b in best.iter_mut().take(keep + 1) {
                for q in 0..MQ {
                    let (small, large) = if x[q] < b[q] {
                        (x[q], b[q])
                    } else {
                        (b[q], x[q])
                    };
                    b[q] = small;
                    x[q] = large;
                }
            }
        }
        for (q, o) in o.iter_mut().enumerate() {
            let t = best[keep][q];
            *o = if t.is_finite() {
                t + t.abs() * F::epsilon() * F::narrow(4.0) + F::min_positive_value()
            } else {
                F::infinity()
            };
        }
    }
}

per_kernel!(
    run_seed_blocks,
    seed_blocks,
    (lay: &Layout<F>, sample: &Sample<F>, keep: usize, b0: usize, out: &mut [F])
);

/// The rounds of the search over `g` groups: each a set of (group, later group or itself)
/// with no group twice, every pair of groups once (the circle method of round-robin
/// tournaments, `g` even), then every group with itself.
fn rounds(g: usize) -> Vec<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    if g >= 2 {
        for r in 0..g - 1 {
            // Group g - 1 stays; the others turn one place a round.
            let pos = |i: usize| if i == g - 1 { g - 1 } else { (i + r) % (g - 1) };
            out.push(
                (0..g / 2)
                    .map(|i| {
                        let (a, b) = (pos(i), pos(g - 1 - i));
                        (a.min(b), a.max(b))
                    })
                    .collect(),
            );
        }
    }
    out.push((0..g).map(|x| (x, x)).collect());
    out
}

/// The exact `k` nearest other rows of each of the `n` rows of `data` (row-major, `d > 0`
/// features), ranked by (distance, row), searched with the instruction set `kind`.
pub(super) fn self_knn<F: Float>(
    data: &[F],
    n: usize,
    d: usize,
    k: usize,
    kind: Kernel,
) -> Result<Neighbors> {
    let available = check_k(n, k, true)?;
    let keep = keep_for(k, available);
    let mq = kind.mq::<F>();
    let lay = Layout::new(data, n, d, mq);
    // `2T` groups of whole units (a single group for one worker or a few units).
    let units = lay.norms.len() / UNIT;
    let g = match (2 * rayon::current_num_threads()).min(units) {
        0 | 1 => 1,
        g => g - g % 2,
    };
    let edge = |x: usize| x * units / g * UNIT;
    let seed = seeds(kind, &lay, n, keep);
    let groups: Vec<Mutex<Lists<F>>> = (0..g)
        .map(|x| Mutex::new(Lists::new(edge(x), edge(x + 1), n, keep, &seed)))
        .collect();
    for round in rounds(g) {
        round.par_iter().for_each(|&(x, y)| {
            if crate::cancel::requested() {
                return;
            }
            // No group appears twice in a round: the locks are never waited on.
            let mut rows = lock(&groups[x]);
            if x == y {
                run_blocks(
                    kind,
                    &lay,
                    &mut Pairs {
                        rows: &mut rows,
                        cols: None,
                    },
                );
            } else {
                let mut cols = lock(&groups[y]);
                run_blocks(
                    kind,
                    &lay,
                    &mut Pairs {
                        rows: &mut rows,
                        cols: Some(&mut cols),
                    },
                );
            }
        });
    }
    let lists: Vec<Lists<F>> = groups
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let group_of = |i: usize| {
        let x = lists.partition_point(|l| l.start <= i) - 1;
        (&lists[x], i - lists[x].start)
    };
    crate::cancel::check()?;
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // Pass 2: proven rows' lists written in place; the others stay pending.
    let (mut indices, mut distances, proven) =
        settle(n, k, keep, available, group_of, row, |i| lay.errs[i], row);
    // The rows pass 1 could not settle (near-ties) and their lists, as (distance, row): a few go
    // to a direct scan, one per distinct vector (copies of a row share it: the k + 1 nearest of
    // every row, each copy then dropping itself); many, to the tiled index, whose range pass
    // settles near-ties without a scan (thousands of copies of a row made the scans quadratic).
    let pending: Vec<usize> = (0..n).filter(|&i| !proven[i]).collect();
    let scanned: Vec<Settled> = if pending.len() * PENDING_SHARE > n {
        let x = ndarray::ArrayView2::from_shape((n, d), data).expect("n x d rows");
        let nb = super::BruteForce::new(x).query_self_rows(&pending, k)?;
        pending
            .iter()
            .enumerate()
            .map(|(t, &i)| {
                let list = nb
                    .distances
                    .row(t)
                    .iter()
                    .copied()
                    .zip(nb.indices.row(t).iter().copied())
                    .collect();
                (vec![i], list)
            })
            .collect()
    } else {
        let mut groups: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for &i in &pending {
            let key = row(i).iter().map(|v| v.wide().to_bits()).collect();
            groups.entry(key).or_default().push(i);
        }
        let groups: Vec<Vec<usize>> = groups.into_values().collect();
        groups
            .into_par_iter()
            .map(|members| {
                let all = scan_nearest(row(members[0]), n, NONE, (k + 1).min(n), row);
                (members, all)
            })
            .collect()
    };
    crate::cancel::check()?;
    // A shared scan's list holds the row itself (and `k + 1` rows): each copy drops itself.
    for (members, all) in &scanned {
        for &i in members {
            for (t, (dist, j)) in all.iter().copied().filter(|p| p.1 != i).take(k).enumerate() {
                indices[[i, t]] = j;
                distances[[i, t]] = dist;
            }
        }
    }
    Ok(Neighbors { indices, distances })
}

/// The `kk` nearest rows to `q` among rows `0..n` but row `skip` (`NONE`: none), by a direct
/// scan of their exact `f64` distances, ranked by (distance, row): the fallback of the searches
/// without an index for the queries pass 1 leaves unproven.
pub(super) fn scan_nearest<'a, F: Float>(
    q: &[F],
    n: usize,
    skip: usize,
    kk: usize,
    row: impl Fn(usize) -> &'a [F],
) -> Vec<(f64, usize)> {
    let cmp = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    let mut all: Vec<(f64, usize)> = Vec::with_capacity(n);
    push_exact(&mut all, q, (0..n).filter(|&j| j != skip), row);
    if kk < all.len() {
        all.select_nth_unstable_by(kk - 1, cmp);
        all.truncate(kk);
    }
    all.sort_unstable_by(cmp);
    all.iter_mut().for_each(|p| p.0 = p.0.sqrt());
    all
}

/// Pass 2 of the searches without an index (this one and [`super::cross`]'s), for `m` queries:
/// each query's candidates (`lists(t)`: its group's lists and its slot there) ranked by their
/// exact `f64` distances from `query(t)` to the rows (`row(j)`), and written in place when pass
/// 1's bound (`err(t)`) proves that no row left out can rank among the first `k` (each such row
/// has a pass-1 value at least its list's largest, `thr`), or when the list holds every
/// `available` row. Returns the lists and which queries were proven; the others are the
/// caller's to settle.
#[allow(clippy::too_many_arguments)]
pub(super) fn settle<'a, F: Float>(
    m: usize,
    k: usize,
    keep: usize,
    available: usize,
    lists: impl Fn(usize) -> (&'a Lists<F>, usize) + Sync,
    query: impl Fn(usize) -> &'a [F] + Sync,
    err: impl Fn(usize) -> ErrBound + Sync,
    row: impl Fn(usize) -> &'a [F] + Sync,
) -> (Array2<usize>, Array2<f64>, Vec<bool>) {
    let mut indices = Array2::<usize>::zeros((m, k));
    let mut distances = Array2::<f64>::zeros((m, k));
    let proven: Vec<bool> = indices
        .as_slice_mut()
        .expect("fresh arrays are contiguous")
        .par_chunks_mut(k)
        .zip(
            distances
                .as_slice_mut()
                .expect("fresh arrays are contiguous")
                .par_chunks_mut(k),
        )
        .enumerate()
        .map_init(Vec::new, |exact, (t, (ids, dists))| {
            let (l, r) = lists(t);
            let cand = l.list(r);
            let q = query(t);
            exact.clear();
            push_exact(exact, q, cand.iter().map(|&(_, j)| j), &row);
            exact.sort_unstable_by(|a: &(f64, usize), b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let proven = cand.len() == available || {
                cand.len() == keep && {
                    // The largest pass-1 value of the list: every row left out is at least it.
                    let last = l.thr[r].wide();
                    exact[k - 1].0 * (1.0 + 1e-12) + 1e-300 < err(t).dist_above(last)
                }
            };
            if proven {
                for ((id, dist), &(dd, j)) in ids.iter_mut().zip(dists.iter_mut()).zip(exact.iter())
                {
                    *id = j;
                    *dist = dd.sqrt();
                }
            }
            proven
        })
        .collect();
    (indices, distances, proven)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether [`self_knn`] is the faster search for `n` rows of `d` features: a set with no
/// structure for the tiled index's bounds to prune nor copies for pass 1 to leave unproven.
///
/// The probe: for 16 rows, the distance to the nearest of 512 others over the median distance
/// to them (the median over the 16 rows), about `512^(-1/m)` for rows spread over `m`
/// dimensions: 0.7 for iid Gaussian rows in 30, 0.6 for `pca_cloud`'s majority, 0.3 for SMOTE's
/// minority of `pca_cloud`, 0.17-0.19 for its minority of `manifold` (a 4-d manifold) and of
/// `clustered`, 0.14-0.16 on a 3-d manifold, 0.02-0.06 on a 2-d one, 0 with copies
/// (`benches/data_families.py`). Measured against the tiled search (5 neighbours, 2 threads, 30
/// features; both searches forced): dense faster from the 5-d manifold down to the 3-d one
/// (1.2-1.8x at 1,500 to 5,500 rows; the 3-d one 7% slower at 8k), the tiled index faster on the
/// 2-d manifolds from 3,000 rows (up to 1.3x at 8k) and with copies (1.4-1.9x), dense faster on
/// everything below 2,048 rows but copies. So up to [`SMALL_MAX`] rows: dense from a ratio of
/// 0.25, from 0.1 up to 6,144 rows, from above 0 up to 2,048 rows.
///
/// Above, the index's bounds prune more as the rows grow on any structure, and dense wins only
/// where they prune nothing: 16k to 131k rows, dense 1.3-1.8x faster on iid Gaussian rows
/// (probe 0.65-0.69) and on `pca_cloud`'s majority (0.60), slower from 16k or 32k rows on
/// clusters (0.26-0.31; 0.31x at 131k), manifolds (0.24-0.25 and below; 0.23x), steeply
/// decreasing variances (0.38-0.42; 0.73x at 65k), and even with `duplicates`' majority (0.58,
/// but a share of its rows copies of others: 0.78x at 16k and 131k). SMOTE's minorities of
/// `pca_cloud` at 1%, 2% and 5% of 1M rows (probe 0.33; 10k, 20k, 50k rows): dense 1.61x,
/// 1.23x, 1.11x faster; of `clustered` and `manifold` (0.17-0.18), the index from 20k rows
/// (dense 0.46-0.78x). So from [`SMALL_MAX`] to [`DENSE_MAX`] rows: dense from a ratio of 0.5,
/// from 0.3 up to 20,480 rows (steep variances, 0.4, are 1.15x faster dense at 16k, 0.92x at
/// 32k), and only when at most 1/64 of the rows are copies of another (pass 1 leaves copies
/// unproven, and beyond that share they go to the index anyway).
pub(super) fn takes<F: Float>(data: &[F], n: usize, d: usize) -> bool {
    if n > DENSE_MAX || d == 0 || n < 2 {
        return false;
    }
    if n <= UNIT {
        return true;
    }
    let r = probe(data, n, d);
    if n > SMALL_MAX {
        let spread = r >= PROBE_LARGE || (r >= PROBE_MIDDLE && n <= MIDDLE_MAX);
        return spread && copied_rows(data, n, d) * PENDING_SHARE <= n;
    }
    r >= PROBE_MIN || (r >= PROBE_LOW && n <= MID_SET) || (r > 0.0 && n <= SMALL_SET)
}

/// About how many of the `n` rows have an exact copy among the others (rows compared by a
/// 64-bit hash of their bits: a collision may count a row or two too many).
fn copied_rows<F: Float>(data: &[F], n: usize, d: usize) -> usize {
    let mut hashes: Vec<u64> = data.par_chunks_exact(d).map(row_hash).collect();
    hashes.par_sort_unstable();
    debug_assert_eq!(hashes.len(), n);
    hashes
        .chunk_by(|a, b| a == b)
        .filter(|g| g.len() > 1)
        .map(<[u64]>::len)
        .sum()
}

/// [`takes`]' probe: the median over 16 rows of the distance to the nearest of 512 others over
/// the median distance to them (`n >= 2`, `d > 0`).
pub(super) fn probe<F: Float>(data: &[F], n: usize, d: usize) -> f64 {
    let row = |i: usize| &data[i * d..(i + 1) * d];
    let (nq, ns) = (16.min(n), 512.min(n));
    let mut ratios: Vec<f64> = (0..nq)
        .map(|a| {
            let q = a * n / nq;
            let mut dists: Vec<f64> = (0..ns)
                .map(|b| b * n / ns)
                .filter(|&j| j != q)
                .map(|j| exact_sq_dist(row(q), row(j)))
                .collect();
            let mid = dists.len() / 2;
            let (lo, &mut median, _) = dists.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
            let nearest = lo.iter().copied().fold(median, f64::min);
            if median > 0.0 {
                (nearest / median).sqrt()
            } else {
                0.0
            }
        })
        .collect();
    ratios.sort_by(|a, b| a.total_cmp(b));
    ratios[nq / 2]
}

/// The probe's ratio from which the search takes a set of more than [`SMALL_MAX`] rows.
const PROBE_LARGE: f64 = 0.5;
/// The probe's ratio from which it takes a set of at most [`MIDDLE_MAX`] rows.
const PROBE_MIDDLE: f64 = 0.3;
const MIDDLE_MAX: usize = 20_480;
/// The probe's ratio from which the search takes a set of at most [`SMALL_MAX`] rows.
const PROBE_MIN: f64 = 0.25;
/// The probe's ratio from which it takes a set of at most [`MID_SET`] rows.
const PROBE_LOW: f64 = 0.1;
const MID_SET: usize = 6144;
/// Rows up to which it takes any set but one of copies.
const SMALL_SET: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::BruteForce;
    use crate::threads::run_with_threads;
    use ndarray::Array2;
    use proptest::prelude::*;

    /// Every row's k nearest other rows by a direct scan, ranked by (exact f64 distance, row):
    /// an independent reference.
    fn scan<F: Float>(x: &Array2<F>, k: usize) -> Vec<Vec<(f64, usize)>> {
        let row = |j: usize| x.row(j).to_slice().unwrap();
        (0..x.nrows())
            .map(|i| {
                let mut v: Vec<(f64, usize)> = (0..x.nrows())
                    .filter(|&j| j != i)
                    .map(|j| (exact_sq_dist(row(i), row(j)).sqrt(), j))
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                v.truncate(k);
                v
            })
            .collect()
    }

    fn check<F: Float>(
        x: &Array2<F>,
        k: usize,
        threads: usize,
    ) -> std::result::Result<(), TestCaseError> {
        let (n, d) = x.dim();
        let want = scan(x, k);
        for kind in Kernel::all_supported() {
            let got = run_with_threads(threads, || self_knn(x.as_slice().unwrap(), n, d, k, kind))
                .unwrap()
                .unwrap();
            for i in 0..n {
                let g: Vec<(f64, usize)> = got
                    .distances
                    .row(i)
                    .iter()
                    .copied()
                    .zip(got.indices.row(i).iter().copied())
                    .collect();
                prop_assert_eq!(
                    &g,
                    &want[i],
                    "row {} kernel {:?} threads {}",
                    i,
                    kind,
                    threads
                );
            }
        }
        Ok(())
    }

    /// Every pair of groups in exactly one round, no group twice in a round.
    #[test]
    fn rounds_pair_every_two_groups_once() {
        for g in [1usize, 2, 4, 6, 8, 12, 16] {
            let mut seen = vec![vec![0; g]; g];
            for round in rounds(g) {
                let mut used = vec![false; g];
                for (x, y) in round {
                    assert!(x <= y);
                    assert!(!used[x] && !used[y], "group twice in a round of {g}");
                    used[x] = true;
                    used[y] = true;
                    seen[x][y] += 1;
                }
            }
            for x in 0..g {
                for y in x..g {
                    assert_eq!(seen[x][y], 1, "groups {x}, {y} of {g}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Gaussian rows, near the origin or far from it (where pass 1's rounding is coarse), in
        /// `f32` and `f64`, with every kernel and 1 to 5 workers (groups of 48 rows: up to 10).
        #[test]
        fn matches_a_direct_scan(
            n in 2usize..700, d in 1usize..40, k in 1usize..9, seed in 0u64..1000,
            far in 0usize..3, threads in 1usize..6,
        ) {
            let k = k.min(n - 1);
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 3, 0);
            let off = [0.0, 300.0, 1e4][far];
            let x64 = Array2::from_shape_fn((n, d), |_| s.normal() + off);
            let x32 = x64.mapv(|v| v as f32);
            check(&x64, k, threads)?;
            check(&x32, k, threads)?;
        }

        /// Few distinct values: ties at every rank and copies of rows (pass 1 cannot separate
        /// them, so the direct scan settles them).
        #[test]
        fn ties_and_copies_match_a_direct_scan(
            n in 2usize..400, d in 1usize..6, k in 1usize..8, seed in 0u64..1000, threads in 1usize..4,
        ) {
            let k = k.min(n - 1);
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 4, 0);
            let x = Array2::from_shape_fn((n, d), |_| s.below(3) as f32 * 0.5);
            check(&x, k, threads)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        /// Sets large enough for [`seeds`]' starting thresholds: Gaussian rows near or far from
        /// the origin, and rows of few distinct values (copies and ties at every rank, where a
        /// row's threshold starts at about 0).
        #[test]
        fn seeded_sets_match_a_direct_scan(
            n in (4 * SAMPLE)..(6 * SAMPLE), d in 1usize..24, k in 1usize..12, seed in 0u64..1000,
            shape in 0usize..4, threads in 1usize..4,
        ) {
            let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 6, 0);
            let x64 = match shape {
                0 => Array2::from_shape_fn((n, d), |_| s.normal()),
                1 => Array2::from_shape_fn((n, d), |_| s.normal() + 1e4),
                2 => Array2::from_shape_fn((n, d), |_| s.below(3) as f64 * 0.5),
                _ => Array2::from_shape_fn((n, d), |_| s.below(40) as f64),
            };
            check(&x64.mapv(|v| v as f32), k, threads)?;
            if shape % 2 == 0 {
                check(&x64, k, threads)?;
            }
        }
    }

    /// Each row's starting threshold is at least its `keep`-th smallest squared distance to
    /// another row (else its list could not fill: the row would be scanned), and on data without
    /// structure under the 10% quantile of its distances (else it would save few insertions).
    #[test]
    fn seeds_bound_the_lists_from_above_and_closely() {
        let (n, d, keep) = (3000, 30, 7);
        let mut s = crate::rng::Stream::new(9, crate::rng::Purpose::Smote, 7, 0);
        let x = Array2::from_shape_fn((n, d), |(_, j)| (s.normal() * (1.0 + j as f64)) as f32);
        let data = x.as_slice().unwrap();
        for kind in Kernel::all_supported() {
            let lay = Layout::new(data, n, d, kind.mq::<f32>());
            let seed = seeds(kind, &lay, n, keep);
            assert_eq!(seed.len(), lay.norms.len());
            assert!(seed[n..].iter().all(|&t| t == f32::NEG_INFINITY));
            for i in (0..n).step_by(7) {
                let row = |j: usize| &data[j * d..(j + 1) * d];
                let mut dist: Vec<f64> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| exact_sq_dist(row(i), row(j)))
                    .collect();
                dist.sort_by(f64::total_cmp);
                let t = seed[i] as f64;
                assert!(t >= dist[keep - 1] * (1.0 - 1e-4), "row {i} {kind:?}");
                assert!(
                    t < dist[n / 10],
                    "row {i} {kind:?}: {t} not below the 10% quantile"
                );
            }
        }
    }

    /// Above [`MIDDLE_MAX`] rows the search takes iid rows only: not clusters, not steeply
    /// decreasing variances, not a set where 5% of the rows are copies of others; up to it also
    /// the steep variances; up to [`SMALL_MAX`] also the clusters.
    #[test]
    fn takes_large_sets_without_structure_or_copies() {
        let (n, d) = (24_000, 30);
        let mut s = crate::rng::Stream::new(11, crate::rng::Purpose::Smote, 8, 0);
        let iid = Array2::from_shape_fn((n, d), |_| s.normal() as f32);
        assert!(takes(iid.as_slice().unwrap(), n, d));
        let mut copied = iid.clone();
        for i in 0..n / 20 {
            let src = copied.row(i * 7 + 1).to_owned();
            copied.row_mut(i * 7).assign(&src);
        }
        assert_eq!(copied_rows(copied.as_slice().unwrap(), n, d), n / 10);
        assert!(!takes(copied.as_slice().unwrap(), n, d));
        let centers: Vec<f64> = (0..20 * d).map(|_| s.normal() * 3.0).collect();
        let clusters = Array2::from_shape_fn((n, d), |(i, j)| {
            (centers[(i % 20) * d + j] + s.normal()) as f32
        });
        let steep = Array2::from_shape_fn((n, d), |(_, j)| {
            (s.normal() * 3.0 / (1.0 + j as f64)) as f32
        });
        let (clusters, steep) = (clusters.as_slice().unwrap(), steep.as_slice().unwrap());
        assert!(!takes(clusters, n, d));
        assert!(!takes(steep, n, d));
        let m = 12_000;
        assert!(!takes(&clusters[..m * d], m, d));
        assert!(takes(&steep[..m * d], m, d));
        let m = 6000;
        assert!(takes(&clusters[..m * d], m, d));
        assert!(takes(&steep[..m * d], m, d));
    }

    /// A set above [`SMALL_MAX`] rows: the same answer as the tiled search, on one or two threads.
    #[test]
    fn a_large_set_as_the_tiled_search() {
        let (n, d) = (SMALL_MAX + 1000, 24);
        let mut s = crate::rng::Stream::new(12, crate::rng::Purpose::Smote, 8, 1);
        let x = Array2::from_shape_fn((n, d), |_| s.normal() as f32);
        let tiled = BruteForce::new(x.view()).query_self(5).unwrap();
        for threads in [1, 2] {
            let got = run_with_threads(threads, || {
                self_knn(x.as_slice().unwrap(), n, d, 5, Kernel::detect())
            })
            .unwrap()
            .unwrap();
            assert_eq!(got, tiled, "threads {threads}");
        }
    }

    /// A SMOTE-sized class: the same answer as the tiled search, for any number of threads.
    #[test]
    fn a_5000_row_class_as_the_tiled_search() {
        let (n, d) = (5000, 30);
        let mut s = crate::rng::Stream::new(5, crate::rng::Purpose::Smote, 5, 0);
        let x = Array2::from_shape_fn((n, d), |(_, j)| (s.normal() * (1.0 + j as f64)) as f32);
        let tiled = BruteForce::new(x.view()).query_self(5).unwrap();
        for threads in [1, 2, 3, 8] {
            let got = run_with_threads(threads, || {
                self_knn(x.as_slice().unwrap(), n, d, 5, Kernel::detect())
            })
            .unwrap()
            .unwrap();
            assert_eq!(got, tiled, "threads {threads}");
        }
    }
}
