//! The pass-1 microkernel: distances of a block of queries to a tile's panels by the norm
//! expansion, in the data's own precision, with the instruction set chosen at run time.

use super::pack::Panels;
#[cfg(target_arch = "x86_64")]
use super::simd;
use super::{NONE, PANEL};
use crate::float::Float;

/// A task's answers: (output slot, its k nearest as (squared distance, row)).
pub(super) type TaskResult = Vec<(usize, Vec<(f64, usize)>)>;

/// Up to `mq` queries of one microkernel call.
pub(super) struct Block<'b, F> {
    pub(super) qt: &'b [F],
    pub(super) qn: &'b [F],
    pub(super) excl: &'b [usize],
    /// Per query: pass 1's error bound, and `sqrt(threshold + error)`, both rounded up.
    pub(super) err: &'b [F],
    pub(super) reach: &'b [F],
    /// Relative slack of the panel test: its own rounding, and the `b D` part of pass 1's error
    /// bound (`(1 + 1e-5) (1 + b)`).
    pub(super) slack: F,
    /// Per query: once its candidate list is full and its last candidate's pass-1 distance is at
    /// most this, the query stops accepting rows (`-inf`: never).
    pub(super) stop: &'b [F],
}

/// The rows of a visited tile taking the distances of a self search's queries as their own
/// candidates (the symmetric self search of [`super::BruteForce::query_self`]): per panel slot
/// of the tile, a threshold (`-inf` for padding) and a sorted list of at most `keep`
/// (pass-1 distance, query row), stored flat (`keep` entries a slot) so that a visit allocates
/// nothing. The kernel offers each distance it computes under a slot's threshold; `full` stays
/// true while every panel of the tile is computed for every query.
pub(super) struct Offer<F> {
    pub(super) keep: usize,
    pub(super) thr: Vec<F>,
    pub(super) cands: Vec<(F, usize)>,
    pub(super) lens: Vec<usize>,
    pub(super) full: bool,
}

impl<F: Float> Offer<F> {
    /// Slot `s`'s candidates.
    pub(super) fn list(&self, s: usize) -> &[(F, usize)] {
        &self.cands[s * self.keep..s * self.keep + self.lens[s]]
    }

    /// Offer `(dv, j)` to slot `s` (`dv` under its threshold).
    #[inline(always)]
    fn offer(&mut self, s: usize, dv: F, j: usize) {
        let keep = self.keep;
        let n = self.lens[s];
        let c = &mut self.cands[s * keep..(s + 1) * keep];
        if n == keep && dv >= c[keep - 1].0 {
            return;
        }
        self.lens[s] = insert_sorted(c, n, keep, dv, j);
        if self.lens[s] == keep {
            self.thr[s] = c[keep - 1].0;
        }
    }
}

/// What one microkernel call does with a tile's panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// Only find which panels the block may reach (bit `p`), computing no panel.
    Probe,
    /// Find them, then compute those panels.
    Prune,
    /// Compute the panels of this mask (found by a probe, or every panel).
    Mask(u32),
}

/// Insert `(dv, j)` into the sorted list `c[..n]` of at most `keep` entries, after those of value
/// `<= dv` (`c` holds at least `min(n + 1, keep)` slots); a full list drops its last entry, which
/// the caller's threshold keeps above `dv`. Returns the new length. An insertion step from the
/// end: the lists are short, and the binary search and `Vec::insert` (a call to `memmove`) it
/// replaces took 9% and 8% of a 5,000-row self search.
#[inline(always)]
fn insert_sorted<F: Float>(c: &mut [(F, usize)], n: usize, keep: usize, dv: F, j: usize) -> usize {
    debug_assert!(n < keep || dv < c[keep - 1].0);
    let (mut i, len) = if n == keep {
        (keep - 1, keep)
    } else {
        (n, n + 1)
    };
    while i > 0 && c[i - 1].0 > dv {
        c[i] = c[i - 1];
        i -= 1;
    }
    c[i] = (dv, j);
    len
}

/// Insert `(dv, j)` into the sorted list `c` of at most `keep` candidates (`dv` below its last
/// value when it is full); return its new threshold (its last value once it holds `keep`), or
/// None while it holds fewer.
#[inline(always)]
pub(super) fn insert_candidate<F: Float>(
    c: &mut Vec<(F, usize)>,
    keep: usize,
    dv: F,
    j: usize,
) -> Option<F> {
    let n = c.len();
    if n < keep {
        c.push((dv, j));
    }
    insert_sorted(c, n, keep, dv, j);
    (c.len() == keep).then(|| c[keep - 1].0)
}

/// One tile as the kernel reads it.
pub(super) struct TileData<'b, F> {
    pub(super) pnorms: &'b [F],
    pub(super) prow: &'b [usize],
    /// Its panels' centroids as one panel, their squared norms and radii.
    pub(super) cent: &'b [F],
    pub(super) cnorm: &'b [F],
    pub(super) rad: &'b [F],
}

/// The instruction set the microkernel runs with, detected once per search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    pub(super) fn detect() -> Self {
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

    /// Every kernel this CPU can run (the tests compare them all).
    #[cfg(test)]
    pub(super) fn all_supported() -> Vec<Kernel> {
        #[allow(unused_mut)]
        let mut out = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                out.push(Kernel::Avx2);
            }
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                out.push(Kernel::Avx512);
            }
        }
        out
    }

    /// Queries per microkernel call: as many accumulators as the register file holds.
    pub(super) fn mq<F: Float>(self) -> usize {
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
    pub(super) fn run<F: Float>(
        self,
        tile: &TileData<F>,
        pack: &mut Panels<F>,
        d: usize,
        blk: &Block<F>,
        thr: &mut [F],
        cands: &mut [Vec<(F, usize)>],
        keep: usize,
        plan: Plan,
        offer: Option<&mut Offer<F>>,
    ) -> u32 {
        let wide = std::mem::size_of::<F>() == 8;
        match self {
            Kernel::Portable => {
                microkernel::<F, 4, Portable>(tile, pack, d, blk, thr, cands, keep, plan, offer)
            }
            // SAFETY: `detect` chose these kernels only where the CPU has the features they enable.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe {
                if wide {
                    kernel_avx2::<F, 3>(tile, pack, d, blk, thr, cands, keep, plan, offer)
                } else {
                    kernel_avx2::<F, 6>(tile, pack, d, blk, thr, cands, keep, plan, offer)
                }
            },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe {
                if wide {
                    kernel_avx512::<F, 8>(tile, pack, d, blk, thr, cands, keep, plan, offer)
                } else {
                    kernel_avx512::<F, 12>(tile, pack, d, blk, thr, cands, keep, plan, offer)
                }
            },
        }
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx2<F: Float, const MQ: usize>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
    plan: Plan,
    offer: Option<&mut Offer<F>>,
) -> u32 {
    microkernel::<F, MQ, simd::Avx2>(tile, pack, d, blk, thr, cands, keep, plan, offer)
}

/// # Safety
/// The CPU must support AVX-512F (and AVX2, FMA).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx512<F: Float, const MQ: usize>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
    plan: Plan,
    offer: Option<&mut Offer<F>>,
) -> u32 {
    microkernel::<F, MQ, simd::Avx512>(tile, pack, d, blk, thr, cands, keep, plan, offer)
}

/// The register-tiled inner product of one instruction set: pass-1 distances of `MQ` queries to
/// the `PANEL` rows of one feature-major panel, and which of them fall under each query's
/// threshold.
pub(super) trait PanelDists {
    /// `out[q][w] = qn[q] + pn[w] - 2 <query q, row w>` (the query block `qt` is transposed:
    /// `qt[j * MQ + q]`); bit `w` of the returned `hits[q]` is set when `out[q][w] < thr[q]`.
    ///
    /// # Safety
    /// The CPU must support the instruction set of the implementation. `panel` holds at least
    /// `d * PANEL` values, `qt` at least `d * MQ`, `pn` `PANEL`, `qn` and `thr` `MQ`.
    unsafe fn dists<F: Float, const MQ: usize>(
        panel: &[F],
        pn: &[F],
        qt: &[F],
        qn: &[F],
        thr: &[F],
        d: usize,
        out: &mut [[F; PANEL]; MQ],
    ) -> [u32; MQ];

    /// Bit `w` set when some query `q` may reach panel `w` of the tile: when
    /// `cdist[q][w] - err[q] <= (rad[w] + reach[q])^2 * slack` (`cdist`: pass-1 distances to the
    /// panels' centroids; `err` the constant part of pass 1's error bound, `slack` its relative
    /// part and this test's own rounding).
    ///
    /// # Safety
    /// The CPU must support the instruction set of the implementation; `rad` holds `PANEL`
    /// values, `err` and `reach` `MQ`.
    unsafe fn reach_mask<F: Float, const MQ: usize>(
        cdist: &[[F; PANEL]; MQ],
        rad: &[F],
        err: &[F],
        reach: &[F],
        slack: F,
    ) -> u32;

    /// Bit `w` of `out[q]` set when `dist[q][w] < thr[w]` (the panel's rows' own thresholds).
    ///
    /// # Safety
    /// The CPU must support the instruction set of the implementation; `thr` holds `PANEL`
    /// values.
    unsafe fn below<F: Float, const MQ: usize>(dist: &[[F; PANEL]; MQ], thr: &[F]) -> [u32; MQ];
}

/// [`PanelDists::below`] in plain Rust.
#[inline(always)]
pub(super) fn below_portable<F: Float, const MQ: usize>(
    dist: &[[F; PANEL]; MQ],
    thr: &[F],
) -> [u32; MQ] {
    let t: &[F; PANEL] = thr[..PANEL].try_into().unwrap();
    let mut out = [0u32; MQ];
    for (o, row) in out.iter_mut().zip(dist) {
        for w in 0..PANEL {
            *o |= ((row[w] < t[w]) as u32) << w;
        }
    }
    out
}

/// Plain Rust, for any CPU (and forced by `EQUIPOISE_PORTABLE_KERNEL` to test the dispatch).
pub(super) struct Portable;

impl PanelDists for Portable {
    #[inline(always)]
    unsafe fn dists<F: Float, const MQ: usize>(
        panel: &[F],
        pn: &[F],
        qt: &[F],
        qn: &[F],
        thr: &[F],
        d: usize,
        out: &mut [[F; PANEL]; MQ],
    ) -> [u32; MQ] {
        let two = F::one() + F::one();
        *out = [[F::zero(); PANEL]; MQ];
        for j in 0..d {
            let col = &panel[j * PANEL..(j + 1) * PANEL];
            let qj = &qt[j * MQ..(j + 1) * MQ];
            for (acc, &qv) in out.iter_mut().zip(qj) {
                for (a, &x) in acc.iter_mut().zip(col) {
                    *a += qv * x;
                }
            }
        }
        let mut hits = [0u32; MQ];
        for q in 0..MQ {
            for w in 0..PANEL {
                let v = qn[q] + pn[w] - two * out[q][w];
                out[q][w] = v;
                hits[q] |= ((v < thr[q]) as u32) << w;
            }
        }
        hits
    }

    #[inline(always)]
    unsafe fn reach_mask<F: Float, const MQ: usize>(
        cdist: &[[F; PANEL]; MQ],
        rad: &[F],
        err: &[F],
        reach: &[F],
        slack: F,
    ) -> u32 {
        reach_mask_portable::<F, MQ>(cdist, rad, err, reach, slack)
    }

    #[inline(always)]
    unsafe fn below<F: Float, const MQ: usize>(dist: &[[F; PANEL]; MQ], thr: &[F]) -> [u32; MQ] {
        below_portable::<F, MQ>(dist, thr)
    }
}

/// [`PanelDists::reach_mask`] in plain Rust.
#[inline(always)]
pub(super) fn reach_mask_portable<F: Float, const MQ: usize>(
    cdist: &[[F; PANEL]; MQ],
    rad: &[F],
    err: &[F],
    reach: &[F],
    slack: F,
) -> u32 {
    let mut mask = 0u32;
    for q in 0..MQ {
        let (e, s) = (err[q], reach[q]);
        for w in 0..PANEL {
            let t = rad[w] + s;
            mask |= ((cdist[q][w] - e <= t * t * slack) as u32) << w;
        }
    }
    mask
}

/// Pass 1 of `MQ` queries over one tile: first the distances to its panels' centroids rule out
/// the panels no query can reach (|q - c| - radius above `sqrt(threshold + error)`), then each
/// remaining panel's `PANEL x MQ` distances are computed in registers by `K`, and only the rows
/// under a query's threshold go to its candidate list.
///
/// With an `offer`, each distance is also offered to the tile's row as a candidate of its own
/// (the symmetric self search). A panel of the tile left out for this block makes the offer
/// partial (`full = false`), and a partial offer is never merged (pass 1 plans every panel for
/// the visits it offers, so this is a guard).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn microkernel<F: Float, const MQ: usize, K: PanelDists>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
    plan: Plan,
    mut offer: Option<&mut Offer<F>>,
) -> u32 {
    let qt = &blk.qt[..d * MQ];
    let qn = &blk.qn[..MQ];
    assert!(thr.len() >= MQ && tile.cent.len() >= d * PANEL && tile.cnorm.len() >= PANEL);
    let n_panels = tile.pnorms.len() / PANEL;
    assert!(n_panels <= 32 && tile.prow.len() >= n_panels * PANEL);
    let mut dist = [[F::zero(); PANEL]; MQ];
    // Centroid slots past the tile's last panel are padding.
    let all = ((1u64 << n_panels) - 1) as u32;
    let mut mask = match plan {
        Plan::Mask(m) => m & all,
        Plan::Probe | Plan::Prune => {
            // Panel p may hold a row within reach of query q only if
            // pass1(q, centroid) - a(q) <= (radius_p + reach_q)^2 (1 + b) (`slack`, with this
            // test's own rounding).
            let none = [F::neg_infinity(); MQ];
            assert!(tile.rad.len() >= PANEL && blk.err.len() >= MQ && blk.reach.len() >= MQ);
            // SAFETY: the sizes were checked above (`qt`, `qn` by the slicing); `K` was chosen
            // for this CPU by `Kernel::detect`.
            let m = unsafe {
                K::dists::<F, MQ>(tile.cent, tile.cnorm, qt, qn, &none, d, &mut dist);
                K::reach_mask::<F, MQ>(&dist, tile.rad, blk.err, blk.reach, blk.slack)
            };
            m & all
        }
    };
    if plan == Plan::Probe {
        return mask;
    }
    let computed = mask;
    if mask != all {
        if let Some(o) = offer.as_deref_mut() {
            o.full = false;
        }
    }
    let mut offer = offer.filter(|o| o.full);
    while mask != 0 {
        let p = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let panel = pack.panel(p, d);
        assert!(panel.len() >= d * PANEL);
        let pn = &tile.pnorms[p * PANEL..(p + 1) * PANEL];
        // SAFETY: as above; the panel's size was just checked.
        let hits = unsafe { K::dists::<F, MQ>(panel, pn, qt, qn, thr, d, &mut dist) };
        for q in 0..MQ {
            let mut h = hits[q];
            if h == 0 {
                continue;
            }
            let c = &mut cands[q];
            while h != 0 {
                let w = h.trailing_zeros() as usize;
                h &= h - 1;
                let dv = dist[q][w];
                // The threshold may have dropped since the hits were taken.
                if dv >= thr[q] {
                    continue;
                }
                let j = tile.prow[p * PANEL + w];
                if j == blk.excl[q] {
                    continue;
                }
                // Sorted insertion; `keep` is small.
                if let Some(t) = insert_candidate(c, keep, dv, j) {
                    thr[q] = if t <= blk.stop[q] {
                        F::neg_infinity()
                    } else {
                        t
                    };
                }
            }
        }
        if let Some(o) = offer.as_deref_mut() {
            // The same distances as candidates of the panel's rows: query `q` (an indexed row,
            // its own excluded row; padding slots exclude nothing) for row `w`.
            let base = p * PANEL;
            // SAFETY: `o.thr` holds a threshold per panel slot of the tile; `K` as above.
            let below = unsafe { K::below::<F, MQ>(&dist, &o.thr[base..base + PANEL]) };
            for q in 0..MQ {
                let qi = blk.excl[q];
                let mut h = below[q];
                if h == 0 || qi == NONE {
                    continue;
                }
                while h != 0 {
                    let w = h.trailing_zeros() as usize;
                    h &= h - 1;
                    let dv = dist[q][w];
                    if dv >= o.thr[base + w] {
                        continue;
                    }
                    o.offer(base + w, dv, qi);
                }
            }
        }
    }
    computed
}
