//! The pass-1 microkernel: distances of a block of queries to a tile's panels by the norm
//! expansion, in the data's own precision, with the instruction set chosen at run time.

use super::pack::Panels;
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
pub(super) unsafe fn kernel_avx2<F: Float, const MQ: usize>(
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
pub(super) unsafe fn kernel_avx512<F: Float, const MQ: usize>(
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
pub(super) fn panel_dists<F: Float, const MQ: usize, const FMA: bool>(
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
pub(super) fn microkernel<F: Float, const MQ: usize, const FMA: bool>(
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
