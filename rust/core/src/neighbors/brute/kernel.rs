//! The pass-1 microkernel: distances of a block of queries to a tile's panels by the norm
//! expansion, in the data's own precision, with the instruction set chosen at run time.

use super::pack::Panels;
#[cfg(target_arch = "x86_64")]
use super::simd;
use super::PANEL;
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
    ) {
        let wide = std::mem::size_of::<F>() == 8;
        match self {
            Kernel::Portable => microkernel::<F, 4, Portable>(tile, pack, d, blk, thr, cands, keep),
            // SAFETY: `detect` chose these kernels only where the CPU has the features they enable.
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

/// # Safety
/// The CPU must support AVX2 and FMA.
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
    microkernel::<F, MQ, simd::Avx2>(tile, pack, d, blk, thr, cands, keep)
}

/// # Safety
/// The CPU must support AVX-512F (and AVX2, FMA).
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
    microkernel::<F, MQ, simd::Avx512>(tile, pack, d, blk, thr, cands, keep)
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
#[inline(always)]
fn microkernel<F: Float, const MQ: usize, K: PanelDists>(
    tile: &TileData<F>,
    pack: &mut Panels<F>,
    d: usize,
    blk: &Block<F>,
    thr: &mut [F],
    cands: &mut [Vec<(F, usize)>],
    keep: usize,
) {
    let qt = &blk.qt[..d * MQ];
    let qn = &blk.qn[..MQ];
    assert!(thr.len() >= MQ && tile.cent.len() >= d * PANEL && tile.cnorm.len() >= PANEL);
    let n_panels = tile.pnorms.len() / PANEL;
    assert!(n_panels <= 32 && tile.prow.len() >= n_panels * PANEL);
    let mut dist = [[F::zero(); PANEL]; MQ];
    // Panel p may hold a row within reach of query q only if
    // pass1(q, centroid) - a(q) <= (radius_p + reach_q)^2 (1 + b) (`slack`, with this test's
    // own rounding).
    let none = [F::neg_infinity(); MQ];
    assert!(tile.rad.len() >= PANEL && blk.err.len() >= MQ && blk.reach.len() >= MQ);
    // SAFETY: the sizes were checked above (`qt`, `qn` by the slicing); `K` was chosen for this
    // CPU by `Kernel::detect`.
    let mut mask = unsafe {
        K::dists::<F, MQ>(tile.cent, tile.cnorm, qt, qn, &none, d, &mut dist);
        K::reach_mask::<F, MQ>(&dist, tile.rad, blk.err, blk.reach, blk.slack)
    };
    // Centroid slots past the tile's last panel are padding.
    mask &= ((1u64 << n_panels) - 1) as u32;
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
                let pos = c.partition_point(|&(v, _)| v <= dv);
                if c.len() == keep {
                    c.pop();
                }
                c.insert(pos, (dv, j));
                if c.len() == keep {
                    thr[q] = c[keep - 1].0;
                    if thr[q] <= blk.stop[q] {
                        thr[q] = F::neg_infinity();
                    }
                }
            }
        }
    }
}
