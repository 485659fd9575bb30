//! Counting the rows of an index that rank before a given row, each query a scan filtered by the
//! rows' leading principal components.
//!
//! ENN's last stage asks, for a row `x` and its nearest row of another class `(m, jm)`, how many
//! rows of `x`'s own class rank before `(m, jm)` by (distance, row). Where fewer than `k` do (the
//! rows ENN removes), proving it means ruling out every row of the class, and on a continuous
//! cloud the tiles' balls rule out almost none: the bounded search computed 93% of the class's
//! distances for each such row (2M `pca_cloud` rows), a scan at the kernel's full cost.
//!
//! Distances shrink under an orthonormal projection, so the squared distance between two rows'
//! leading [`COMPONENTS`] principal components is a lower bound on theirs. On that cloud (1M
//! rows) the leading 10 components of a row already put 99.5% of the class beyond such a row's
//! `m`. The scan stores the 16 leading components of every row (`f32`, in the index's tile order,
//! blocks of 16 rows), skips a tile whose bounding box in those coordinates is out of reach,
//! sums a block's squared differences 4, then 8, then 16 components at a time for a group of
//! queries (stopping where no row of the block is still within reach), and computes the exact
//! distance of the few rows that pass.
//!
//! The bound is kept exact by margins far above its rounding: each stored coordinate errs by at
//! most `2^-23 R` (`R` the largest distance of a row from the mean; the `f64` projection's error
//! is far below the `f32` rounding), the basis's excess over an isometry is measured
//! (Gershgorin's bound on `B Bᵀ - I`), and the `f32` sum of `p` squared differences errs by less
//! than `(2p + 3) 2^-24` relatively. A row within `m` of the query therefore always passes
//! `(sqrt(1 + g) sqrt(m) + sqrt(p) 2^-22 R)^2 (1 + 1e-5)`; the rows that pass are ranked by their
//! exact `f64` distance, as everywhere, so the count is the one a full scan gives. A tile's box
//! bound is a sum over the box's gaps, each at most a row's own difference (rounding is
//! monotone), with a relative slack for both sums' rounding: a tile it skips holds no row the
//! filter would pass.

use rayon::prelude::*;

use super::kernel::Kernel;
use super::{BruteForce, LEAF};
use crate::float::Float;
use crate::neighbors::exact_sq_dist;

/// Leading principal components stored per row (64 bytes a row as `f32`).
const COMPONENTS: usize = 16;
/// The components a block's test has summed at each stage; the next stage runs only where one of
/// its rows still passes.
const STAGES: [usize; 3] = [4, 8, COMPONENTS];
/// Least share of the rows' variance the leading components must hold for the projection to be
/// used. Where they hold little (iid features) the bound is loose and lets most rows through to
/// their exact distance: 100k `gaussian` rows (16 of 30 components, 54%), ENN 0.22 s to 0.65 s
/// with it; `pca_cloud` (88%) and the other families of `benches/data_families.py` hold more.
const MIN_SHARE: f64 = 0.8;
/// Rows of a block: one AVX-512 vector of `f32`.
const BLOCK: usize = 16;
/// Most rows whose covariance gives the components (evenly spaced; the basis only has to be
/// good, any orthonormal one gives the same answer).
const SAMPLE: usize = 1 << 14;
/// Queries of one task: each task reads every stored tile once for all of them.
const TASK: usize = 1024;
/// Blocks of one tile at most.
const TILE_BLOCKS: usize = LEAF.div_ceil(BLOCK);

/// An index's rows as their leading principal components, in the index's tile order (blocks of
/// [`BLOCK`] rows, components-major within a block), with each tile's bounding box.
pub struct Projected<'i, 'a, F: Float> {
    index: &'i BruteForce<'a, F>,
    p: usize,
    mu: Vec<f64>,
    /// `p x d`, row-major, orthonormal rows.
    basis: Vec<f64>,
    /// `z[(b * p + j) * BLOCK + w]`: component `j` of the row in slot `w` of block `b`; padding
    /// slots hold `+inf`.
    z: Vec<f32>,
    /// The data row of each slot's row (`usize::MAX` for padding), read in tile order where the
    /// position's lookup would miss the cache.
    slot_row: Vec<usize>,
    /// Per tile (the index's order): its first block and its number of blocks.
    tiles: Vec<(usize, usize)>,
    /// Per tile, its bounding box: [`COMPONENTS`] lows, then as many highs (lanes past `p` span
    /// everything).
    boxes: Vec<f32>,
    /// `sqrt(1 + g)` and `sqrt(p) 2^-22 R`: the threshold's margins (module doc).
    rel: f64,
    abs: f64,
}

impl<'i, 'a, F: Float> Projected<'i, 'a, F> {
    /// The projection of `index`'s rows, or `None` where the margins would not hold (rows more
    /// than 1e18 from their mean, whose squared differences overflow `f32`) or it cannot help
    /// (fewer than 2 features).
    pub fn new(index: &'i BruteForce<'a, F>) -> Option<Self> {
        let d = index.d;
        let n = index.n;
        if d < 2 || n == 0 || n >= u32::MAX as usize {
            return None;
        }
        let p = COMPONENTS.min(d);
        let step = n.div_ceil(SAMPLE);
        let sample: Vec<usize> = (0..n).step_by(step).collect();
        let mut mu = vec![0f64; d];
        for &s in &sample {
            for (m, v) in mu.iter_mut().zip(index.row(s)) {
                *m += v.wide();
            }
        }
        mu.iter_mut().for_each(|m| *m /= sample.len() as f64);
        let mut cov = vec![0f64; d * d];
        let mut c = vec![0f64; d];
        for &s in &sample {
            for ((ci, v), m) in c.iter_mut().zip(index.row(s)).zip(&mu) {
                *ci = v.wide() - m;
            }
            for a in 0..d {
                for b in a..d {
                    cov[a * d + b] += c[a] * c[b];
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                cov[a * d + b] = cov[b * d + a];
            }
        }
        let (vals, vecs) = jacobi(cov, d);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
        // Where the leading components hold little of the spread (iid features), the bound is
        // loose and lets most rows through to their exact distance: the bounded search is better.
        let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
        let lead: f64 = order.iter().take(p).map(|&e| vals[e].max(0.0)).sum();
        if !(lead.is_finite() && lead >= MIN_SHARE * total) {
            return None;
        }
        let mut basis = vec![0f64; p * d];
        for (j, &e) in order.iter().take(p).enumerate() {
            for i in 0..d {
                basis[j * d + i] = vecs[i * d + e];
            }
        }
        // Gershgorin: every eigenvalue of B Bᵀ is within g of 1, so |B v|^2 <= (1 + g) |v|^2.
        let mut g = 0f64;
        for a in 0..p {
            let mut row = 0f64;
            for b in 0..p {
                let dot: f64 = (0..d).map(|i| basis[a * d + i] * basis[b * d + i]).sum();
                row += (dot - if a == b { 1.0 } else { 0.0 }).abs();
            }
            g = g.max(row);
        }
        if g.is_nan() || g >= 1e-6 {
            return None;
        }
        // Slots: each tile's rows in tile order, padded to whole blocks.
        let mut tiles = Vec::with_capacity(index.tiles.len());
        let mut slot_pos: Vec<u32> = Vec::with_capacity(n + index.tiles.len() * BLOCK);
        for t in &index.tiles {
            let first = slot_pos.len() / BLOCK;
            let rows = &index.perm[t.row_start..t.row_end];
            slot_pos.extend(rows.iter().map(|&r| r as u32));
            slot_pos.resize(slot_pos.len().next_multiple_of(BLOCK), u32::MAX);
            tiles.push((first, slot_pos.len() / BLOCK - first));
        }
        let n_blocks = slot_pos.len() / BLOCK;
        let slot_row: Vec<usize> = slot_pos
            .par_iter()
            .map(|&r| match r {
                u32::MAX => usize::MAX,
                r => index.ids.as_ref().map_or(r as usize, |v| v[r as usize]),
            })
            .collect();
        let mut z = vec![f32::INFINITY; n_blocks * p * BLOCK];
        let kind = Kernel::detect();
        let data = &index.data[..];
        let r2 = z
            .par_chunks_mut(p * BLOCK)
            .enumerate()
            .map_init(
                || vec![0f64; d * BLOCK],
                |ct, (b, zb)| {
                    // The next block's rows are fetched while this one's are projected (rows in
                    // tile order are scattered over the data).
                    for &g in slot_row
                        .get((b + 1) * BLOCK..(b + 2) * BLOCK)
                        .unwrap_or(&[])
                    {
                        if g != usize::MAX {
                            prefetch(&data[g * d..(g + 1) * d]);
                        }
                    }
                    let rows: [Option<&[F]>; BLOCK] = std::array::from_fn(|w| {
                        let g = slot_row[b * BLOCK + w];
                        (g != usize::MAX).then(|| &data[g * d..(g + 1) * d])
                    });
                    // SAFETY: `Kernel::detect` chose an instruction set this CPU has.
                    unsafe { project_block_for(kind, &rows, &mu, &basis, ct, zb) }
                },
            )
            .reduce(|| 0f64, f64::max);
        let r = r2.sqrt() * (1.0 + 1e-9);
        if !r.is_finite() || r >= 1e18 {
            return None;
        }
        // Boxes over all COMPONENTS lanes: lanes past `p` span everything (a gap of 0).
        let mut boxes = vec![0f32; tiles.len() * 2 * COMPONENTS];
        boxes
            .par_chunks_mut(2 * COMPONENTS)
            .zip(&tiles)
            .for_each(|(bx, &(first, nb))| {
                let (lo, hi) = bx.split_at_mut(COMPONENTS);
                lo.fill(f32::INFINITY);
                hi.fill(f32::NEG_INFINITY);
                lo[p..].fill(f32::NEG_INFINITY);
                hi[p..].fill(f32::INFINITY);
                for b in first..first + nb {
                    for j in 0..p {
                        for w in 0..BLOCK {
                            if slot_row[b * BLOCK + w] != usize::MAX {
                                let v = z[(b * p + j) * BLOCK + w];
                                lo[j] = lo[j].min(v);
                                hi[j] = hi[j].max(v);
                            }
                        }
                    }
                }
            });
        Some(Projected {
            index,
            p,
            mu,
            basis,
            z,
            slot_row,
            tiles,
            boxes,
            rel: (1.0 + g).sqrt(),
            abs: (p as f64).sqrt() * (2f64).powi(-22) * r + 1e-37,
        })
    }

    /// For each query `(position, m, jm)` (an indexed row, an exact squared distance and a data
    /// row): how many other indexed rows rank strictly before `(m, jm)` by (exact squared
    /// distance, data row), counted up to `k`.
    pub fn count_before(&self, queries: &[(usize, f64, usize)], k: usize) -> Vec<usize> {
        self.count_with(queries, k, Kernel::detect())
    }

    fn count_with(&self, queries: &[(usize, f64, usize)], k: usize, kind: Kernel) -> Vec<usize> {
        // Tasks of rows near each other in tile order, so that their boxes agree.
        let mut by_slot: Vec<usize> = (0..queries.len()).collect();
        by_slot.sort_unstable_by_key(|&q| self.index.tile_of[queries[q].0]);
        let found: Vec<Vec<(usize, usize)>> = by_slot
            .par_chunks(TASK)
            .map(|task| {
                if crate::cancel::requested() {
                    return Vec::new();
                }
                let counts = self.run_task(task.iter().map(|&q| queries[q]), k, kind);
                task.iter().copied().zip(counts).collect()
            })
            .collect();
        let mut out = vec![0; queries.len()];
        for (q, c) in found.into_iter().flatten() {
            out[q] = c;
        }
        out
    }

    fn run_task(
        &self,
        qs: impl Iterator<Item = (usize, f64, usize)>,
        k: usize,
        kind: Kernel,
    ) -> Vec<usize> {
        let d = self.index.d;
        let mut c = vec![0f64; d];
        let mut st: Vec<QueryState> = qs
            .map(|(pos, m, jm)| {
                let mut z = [0f32; COMPONENTS];
                project(
                    self.index.row(pos),
                    &self.mu,
                    &self.basis,
                    &mut c,
                    |j, v| z[j] = v,
                );
                let t = (self.rel * m.sqrt() * (1.0 + 1e-9) + self.abs).powi(2) * (1.0 + 1e-5);
                QueryState {
                    pos,
                    row: self.index.ids.as_ref().map_or(pos, |v| v[pos]),
                    m,
                    jm,
                    z,
                    thr: round_up_f32(t),
                    count: 0,
                }
            })
            .collect();
        // Start at the first query's tile (rows near in tile order are near in space), so that a
        // row with k rows before its bound tends to find them early.
        let nt = self.tiles.len();
        let first_tile = st.first().map_or(0, |q| self.index.tile_of[q.pos] as usize);
        let mut scratch = Scratch::default();
        for i in 0..nt {
            if crate::cancel::requested() || st.iter().all(|q| q.count >= k) {
                break;
            }
            let t = (first_tile + i) % nt;
            // SAFETY: `kind` is an instruction set this CPU has (`Kernel::detect`, or a test's
            // `Kernel::all_supported`).
            unsafe { tile_for(kind, self, t, &mut st, &mut scratch, k) };
        }
        st.iter().map(|q| q.count.min(k)).collect()
    }

    /// Tile `t` for every query of `st` still counting: the queries its box does not rule out,
    /// in groups of [`GROUP`], then block by block each group's masks (`B`), and the rows that
    /// pass ranked exactly against their query's `(m, jm)`.
    #[inline(always)]
    fn tile_body<B: BlockTest>(&self, t: usize, st: &mut [QueryState], sc: &mut Scratch, k: usize) {
        let p = self.p;
        let bx: &[f32; 2 * COMPONENTS] = self.boxes[t * 2 * COMPONENTS..(t + 1) * 2 * COMPONENTS]
            .try_into()
            .unwrap();
        sc.live.clear();
        for (i, q) in st.iter().enumerate() {
            // SAFETY: as for `block` below.
            if q.count < k && unsafe { B::box_passes(bx, &q.z, q.thr) } {
                sc.live.push(i);
            }
        }
        if sc.live.is_empty() {
            return;
        }
        // Groups of GROUP live queries: their components side by side, their thresholds (-inf
        // in a group's empty slots: they pass nothing).
        let n_groups = sc.live.len().div_ceil(GROUP);
        sc.zq.clear();
        sc.zq.resize(n_groups * GROUP * COMPONENTS, 0.0);
        sc.thr.clear();
        sc.thr.resize(n_groups * GROUP, f32::NEG_INFINITY);
        for (s, &i) in sc.live.iter().enumerate() {
            sc.zq[s * COMPONENTS..(s + 1) * COMPONENTS].copy_from_slice(&st[i].z);
            sc.thr[s] = st[i].thr;
        }
        let (first, nb) = self.tiles[t];
        debug_assert!(nb <= TILE_BLOCKS);
        for b in first..first + nb {
            let zb = &self.z[b * p * BLOCK..(b + 1) * p * BLOCK];
            for g in 0..n_groups {
                let zq: &[f32; GROUP * COMPONENTS] = sc.zq
                    [g * GROUP * COMPONENTS..(g + 1) * GROUP * COMPONENTS]
                    .try_into()
                    .unwrap();
                let thr: &[f32; GROUP] = sc.thr[g * GROUP..(g + 1) * GROUP].try_into().unwrap();
                // SAFETY: the caller runs `B` only on a CPU with its instruction set; `zb` holds
                // `p` components of a block.
                let masks = unsafe { B::block(zb, zq, thr, p) };
                for (gi, &mask) in masks.iter().enumerate() {
                    let mut h = mask;
                    while h != 0 {
                        let w = h.trailing_zeros() as usize;
                        h &= h - 1;
                        sc.cand.push((g * GROUP + gi, b * BLOCK + w));
                    }
                }
            }
        }
        // The rows that passed, ranked exactly: their loads issued first, so that their cache
        // misses (the data rows are in the data's order) overlap.
        let d = self.index.d;
        let data = &self.index.data[..];
        for &(_, slot) in &sc.cand {
            let g = self.slot_row[slot];
            if g != usize::MAX {
                prefetch(&data[g * d..(g + 1) * d]);
            }
        }
        for &(s, slot) in &sc.cand {
            let q = &mut st[sc.live[s]];
            let g = self.slot_row[slot];
            if q.count >= k || g == usize::MAX || g == q.row {
                continue;
            }
            let dd = exact_sq_dist(&data[q.row * d..(q.row + 1) * d], &data[g * d..(g + 1) * d]);
            if dd < q.m || (dd == q.m && g < q.jm) {
                // A query that reaches k here leaves the live list at the next tile.
                q.count += 1;
            }
        }
        sc.cand.clear();
    }
}

/// Asks for the cache lines of `row` ahead of their use.
#[inline(always)]
fn prefetch<F>(row: &[F]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(row);
        let p = row.as_ptr() as *const i8;
        for off in (0..bytes).step_by(64) {
            // SAFETY: a prefetch does not fault, and `off` stays within the row.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// A task's scratch for [`Projected::tile_body`].
#[derive(Default)]
struct Scratch {
    live: Vec<usize>,
    /// (group slot, block slot) of the rows that passed in the tile.
    cand: Vec<(usize, usize)>,
    zq: Vec<f32>,
    thr: Vec<f32>,
}

/// Queries tested together against a block (their sums are independent chains).
const GROUP: usize = 8;

struct QueryState {
    pos: usize,
    /// Its data row.
    row: usize,
    m: f64,
    jm: usize,
    z: [f32; COMPONENTS],
    thr: f32,
    count: usize,
}

#[inline(always)]
fn below(acc: &[f32; BLOCK], thr: f32) -> u32 {
    let mut m = 0u32;
    for (w, &a) in acc.iter().enumerate() {
        m |= ((a <= thr) as u32) << w;
    }
    m
}

/// The least `f32` at or above `v` (`+inf` above the range).
fn round_up_f32(v: f64) -> f32 {
    let f = v as f32;
    if (f as f64) < v {
        f.next_up()
    } else {
        f
    }
}

/// Writes the components of `row` (centred by `mu`, `c` scratch) through `put(j, value)`;
/// returns the row's squared distance from `mu`.
#[inline]
fn project<F: Float>(
    row: &[F],
    mu: &[f64],
    basis: &[f64],
    c: &mut [f64],
    mut put: impl FnMut(usize, f32),
) -> f64 {
    let d = mu.len();
    let mut r2 = 0f64;
    for ((ci, v), m) in c.iter_mut().zip(row).zip(mu) {
        *ci = v.wide() - m;
        r2 += *ci * *ci;
    }
    for (j, b) in basis.chunks_exact(d).enumerate() {
        let s: f64 = b.iter().zip(c.iter()).map(|(x, y)| x * y).sum();
        put(j, s as f32);
    }
    r2
}

/// The components of a block's rows (`None`: padding, left as is) into `zb` (components-major),
/// sixteen rows at a time (the rows centred into `ct`, feature-major); returns the largest
/// squared distance of a row from `mu`. The same sums as [`project`], in the same order.
#[inline(always)]
fn project_block<F: Float>(
    rows: &[Option<&[F]>; BLOCK],
    mu: &[f64],
    basis: &[f64],
    ct: &mut [f64],
    zb: &mut [f32],
) -> f64 {
    let d = mu.len();
    let mut r2 = 0f64;
    for (w, row) in rows.iter().enumerate() {
        let mut s = 0f64;
        for i in 0..d {
            let c = row.map_or(0.0, |r| r[i].wide() - mu[i]);
            ct[i * BLOCK + w] = c;
            s += c * c;
        }
        r2 = r2.max(s);
    }
    for (j, b) in basis.chunks_exact(d).enumerate() {
        let mut acc = [0f64; BLOCK];
        for (i, &bi) in b.iter().enumerate() {
            let col: &[f64; BLOCK] = ct[i * BLOCK..(i + 1) * BLOCK].try_into().unwrap();
            for w in 0..BLOCK {
                acc[w] += bi * col[w];
            }
        }
        for w in 0..BLOCK {
            if rows[w].is_some() {
                zb[j * BLOCK + w] = acc[w] as f32;
            }
        }
    }
    r2
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn project_block_avx2<F: Float>(
    rows: &[Option<&[F]>; BLOCK],
    mu: &[f64],
    basis: &[f64],
    ct: &mut [f64],
    zb: &mut [f32],
) -> f64 {
    project_block(rows, mu, basis, ct, zb)
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn project_block_avx512<F: Float>(
    rows: &[Option<&[F]>; BLOCK],
    mu: &[f64],
    basis: &[f64],
    ct: &mut [f64],
    zb: &mut [f32],
) -> f64 {
    project_block(rows, mu, basis, ct, zb)
}

/// Eigenvalues and eigenvectors (`vecs[i * d + e]`: row `i` of eigenvector `e`) of the symmetric
/// `d x d` matrix `a`, by cyclic Jacobi rotations: a product of rotations, so the vectors stay
/// orthonormal to rounding.
fn jacobi(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _ in 0..64 {
        let total: f64 = a.iter().map(|x| x * x).sum();
        let off: f64 = (0..d)
            .flat_map(|i| (i + 1..d).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j] * a[i * d + j])
            .sum();
        if off.is_nan() || off <= 1e-26 * total {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (x, y) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * x - s * y;
                    a[k * d + q] = s * x + c * y;
                }
                for k in 0..d {
                    let (x, y) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * x - s * y;
                    a[q * d + k] = s * x + c * y;
                }
                for k in 0..d {
                    let (x, y) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * x - s * y;
                    v[k * d + q] = s * x + c * y;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

/// [`project_block`] compiled for `kind`'s instruction set.
///
/// # Safety
/// The CPU must support the instruction set `kind` names.
unsafe fn project_block_for<F: Float>(
    kind: Kernel,
    rows: &[Option<&[F]>; BLOCK],
    mu: &[f64],
    basis: &[f64],
    ct: &mut [f64],
    zb: &mut [f32],
) -> f64 {
    match kind {
        Kernel::Portable => project_block(rows, mu, basis, ct, zb),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => project_block_avx2(rows, mu, basis, ct, zb),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => project_block_avx512(rows, mu, basis, ct, zb),
    }
}

/// [`Projected::tile_body`] compiled for `kind`'s instruction set.
///
/// # Safety
/// The CPU must support the instruction set `kind` names.
unsafe fn tile_for<F: Float>(
    kind: Kernel,
    pr: &Projected<F>,
    t: usize,
    st: &mut [QueryState],
    sc: &mut Scratch,
    k: usize,
) {
    match kind {
        Kernel::Portable => pr.tile_body::<Portable>(t, st, sc, k),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => tile_avx2(pr, t, st, sc, k),
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => tile_avx512(pr, t, st, sc, k),
    }
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn tile_avx2<F: Float>(
    pr: &Projected<F>,
    t: usize,
    st: &mut [QueryState],
    sc: &mut Scratch,
    k: usize,
) {
    pr.tile_body::<Portable>(t, st, sc, k)
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn tile_avx512<F: Float>(
    pr: &Projected<F>,
    t: usize,
    st: &mut [QueryState],
    sc: &mut Scratch,
    k: usize,
) {
    pr.tile_body::<Avx512>(t, st, sc, k)
}

/// The filter of one block for a group of queries: bit `w` of `out[i]` set when row `w`'s
/// squared differences from query `i`, summed over the components, stay at most `thr[i]`
/// through every stage of [`STAGES`] (all 0 as soon as no row of the block passes for any
/// query); and the tile test: whether a query may reach a tile's box.
trait BlockTest {
    /// # Safety
    /// The CPU must support the implementation's instruction set; `zb` holds `p * BLOCK` values.
    unsafe fn block(
        zb: &[f32],
        zq: &[f32; GROUP * COMPONENTS],
        thr: &[f32; GROUP],
        p: usize,
    ) -> [u32; GROUP];

    /// Whether a row of the box `bx` (lows, then highs) may pass the filter of a query with
    /// components `z` and threshold `thr`. The box's sum is over the gaps, each at most the row's
    /// own difference (rounding is monotone), summed in any order: the `1e-5` relative slack
    /// covers both sums' rounding, the `1e-30` any underflow of their terms.
    ///
    /// # Safety
    /// The CPU must support the implementation's instruction set.
    unsafe fn box_passes(bx: &[f32; 2 * COMPONENTS], z: &[f32; COMPONENTS], thr: f32) -> bool;
}

struct Portable;

impl BlockTest for Portable {
    #[inline(always)]
    unsafe fn block(
        zb: &[f32],
        zq: &[f32; GROUP * COMPONENTS],
        thr: &[f32; GROUP],
        p: usize,
    ) -> [u32; GROUP] {
        let mut out = [0u32; GROUP];
        let mut any = 0;
        for (i, o) in out.iter_mut().enumerate() {
            let q = &zq[i * COMPONENTS..(i + 1) * COMPONENTS];
            let mut acc = [0f32; BLOCK];
            for j in 0..p {
                let col: &[f32; BLOCK] = zb[j * BLOCK..(j + 1) * BLOCK].try_into().unwrap();
                for w in 0..BLOCK {
                    let d = col[w] - q[j];
                    acc[w] += d * d;
                }
            }
            *o = below(&acc, thr[i]);
            any |= *o;
        }
        if any == 0 {
            [0; GROUP]
        } else {
            out
        }
    }

    #[inline(always)]
    unsafe fn box_passes(bx: &[f32; 2 * COMPONENTS], z: &[f32; COMPONENTS], thr: f32) -> bool {
        let mut lb = 0f32;
        for j in 0..COMPONENTS {
            let gap = (bx[j] - z[j]).max(z[j] - bx[COMPONENTS + j]).max(0.0);
            lb += gap * gap;
        }
        lb * (1.0 - 1e-5) <= thr + 1e-30
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl BlockTest for Avx512 {
    /// Sixteen rows a vector, one vector of sums a query; a stage's masks are taken for the whole
    /// group, and the block stops as soon as none is set.
    #[inline(always)]
    unsafe fn block(
        zb: &[f32],
        zq: &[f32; GROUP * COMPONENTS],
        thr: &[f32; GROUP],
        p: usize,
    ) -> [u32; GROUP] {
        use std::arch::x86_64::*;
        assert!(zb.len() >= p * BLOCK && p <= COMPONENTS);
        let mut acc = [_mm512_setzero_ps(); GROUP];
        let mut out = [0u32; GROUP];
        let mut from = 0;
        for &to in &STAGES {
            let to = to.min(p);
            if to <= from {
                continue;
            }
            for j in from..to {
                // SAFETY: `j < p`, and `zb` holds `p * BLOCK` values (asserted).
                let v = _mm512_loadu_ps(zb.as_ptr().add(j * BLOCK));
                for (i, a) in acc.iter_mut().enumerate() {
                    // SAFETY: `i < GROUP` and `j < p <= COMPONENTS` (asserted).
                    let c = *zq.get_unchecked(i * COMPONENTS + j);
                    let d = _mm512_sub_ps(v, _mm512_set1_ps(c));
                    *a = _mm512_fmadd_ps(d, d, *a);
                }
            }
            from = to;
            let mut any = 0;
            for (i, o) in out.iter_mut().enumerate() {
                *o = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(acc[i], _mm512_set1_ps(thr[i])) as u32;
                any |= *o;
            }
            if any == 0 {
                return [0; GROUP];
            }
        }
        out
    }

    #[inline(always)]
    unsafe fn box_passes(bx: &[f32; 2 * COMPONENTS], z: &[f32; COMPONENTS], thr: f32) -> bool {
        use std::arch::x86_64::*;
        let zv = _mm512_loadu_ps(z.as_ptr());
        let lo = _mm512_loadu_ps(bx.as_ptr());
        let hi = _mm512_loadu_ps(bx.as_ptr().add(COMPONENTS));
        let gap = _mm512_max_ps(
            _mm512_max_ps(_mm512_sub_ps(lo, zv), _mm512_sub_ps(zv, hi)),
            _mm512_setzero_ps(),
        );
        let lb = _mm512_reduce_add_ps(_mm512_mul_ps(gap, gap));
        lb * (1.0 - 1e-5) <= thr + 1e-30
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};
    use ndarray::Array2;

    /// Every instruction set counts, for each query, every row at most its bound away (rows at
    /// exactly the bound included: the bound is the exact distance of a chosen row), far from the
    /// origin, with fewer features than the first stage and with more than the components (the
    /// scales grow fast enough that the leading ones hold the share the projection asks for).
    #[test]
    fn counts_every_row_within_the_bound_on_every_instruction_set() {
        let mut s = Stream::new(12, Purpose::Smote, 17, 0);
        for (n, d, offset) in [(1500, 9, 1e3), (700, 3, 0.0), (900, 40, 0.0)] {
            let mut x = Array2::<f32>::zeros((n, d));
            for i in 0..n {
                for j in 0..d {
                    x[[i, j]] = (s.normal() * (1.0 + j as f64).powi(2) + offset) as f32;
                }
            }
            let rows: Vec<usize> = (0..n).collect();
            let index = BruteForce::subset(x.view(), &rows).unwrap();
            let pr = Projected::new(&index).expect("a projection");
            let row = |i: usize| x.row(i).to_slice().unwrap();
            let mut qs = Vec::new();
            let mut want = Vec::new();
            for q in (0..n).step_by(7) {
                let r = (q * 31 + 5) % n;
                let m = exact_sq_dist(row(q), row(r));
                let c = (0..n)
                    .filter(|&j| j != q && exact_sq_dist(row(q), row(j)) <= m)
                    .count();
                qs.push((q, m, n));
                want.push(c);
            }
            for kind in Kernel::all_supported() {
                assert_eq!(pr.count_with(&qs, usize::MAX, kind), want, "d={d}");
                let capped: Vec<usize> = want.iter().map(|&c| c.min(3)).collect();
                assert_eq!(pr.count_with(&qs, 3, kind), capped, "d={d}");
            }
        }
    }
}
