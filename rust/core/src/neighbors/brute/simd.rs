//! The x86-64 register tiles of the pass-1 kernel, written with intrinsics so that the inner loop
//! is what it must be: per feature, one load of a panel column (`PANEL` rows) and one broadcast
//! fused multiply-add per query into accumulators that stay in registers. (Generic Rust over
//! `F: Float` compiled to scalar FMAs on memory, 16x below the vector throughput.)
//!
//! | ISA, type | panel column | queries `MQ` | accumulators |
//! |---|---|---|---|
//! | AVX-512, f32 | 1 zmm | 12 | 12 zmm |
//! | AVX-512, f64 | 2 zmm | 8 | 16 zmm |
//! | AVX2, f32 | 2 ymm | 6 | 12 ymm |
//! | AVX2, f64 | 4 ymm | 3 | 12 ymm |
//!
//! Each ends with `qn + pn - 2 acc` (one fused negated multiply-add) and a vector compare against
//! the queries' thresholds, so only rows under a threshold reach scalar code.

use std::any::TypeId;
use std::arch::x86_64::*;

use super::kernel::PanelDists;
use super::PANEL;
use crate::float::Float;

/// AVX-512F kernels (`Kernel::Avx512`).
pub(super) struct Avx512;
/// AVX2 + FMA kernels (`Kernel::Avx2`).
pub(super) struct Avx2;

/// `s` as `&[T]` where `F` is `T`.
///
/// # Safety
/// `F` and `T` must be the same type (checked by the callers through `TypeId`).
#[inline(always)]
unsafe fn cast<F, T>(s: &[F]) -> &[T] {
    std::slice::from_raw_parts(s.as_ptr() as *const T, s.len())
}

/// `out` as the same array of `T` where `F` is `T`.
///
/// # Safety
/// As [`cast`].
#[inline(always)]
unsafe fn cast_out<F, T, const MQ: usize>(out: &mut [[F; PANEL]; MQ]) -> &mut [[T; PANEL]; MQ] {
    &mut *(out as *mut [[F; PANEL]; MQ] as *mut [[T; PANEL]; MQ])
}

impl PanelDists for Avx512 {
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
        debug_assert!(panel.len() >= d * PANEL && qt.len() >= d * MQ);
        debug_assert!(pn.len() >= PANEL && qn.len() >= MQ && thr.len() >= MQ);
        // SAFETY: each branch casts to the type `F` is; the caller upholds the sizes and the CPU
        // features.
        if TypeId::of::<F>() == TypeId::of::<f32>() {
            f32_avx512::<MQ>(
                cast(panel),
                cast(pn),
                cast(qt),
                cast(qn),
                cast(thr),
                d,
                cast_out(out),
            )
        } else {
            f64_avx512::<MQ>(
                cast(panel),
                cast(pn),
                cast(qt),
                cast(qn),
                cast(thr),
                d,
                cast_out(out),
            )
        }
    }

    #[inline(always)]
    unsafe fn reach_mask<F: Float, const MQ: usize>(
        cdist: &[[F; PANEL]; MQ],
        rad: &[F],
        err: &[F],
        reach: &[F],
        slack: F,
    ) -> u32 {
        // SAFETY: `F` is `f32` in that branch; the caller upholds the sizes and the features.
        if TypeId::of::<F>() == TypeId::of::<f32>() {
            let cdist = &*(cdist as *const [[F; PANEL]; MQ] as *const [[f32; PANEL]; MQ]);
            let slack = slack.wide() as f32;
            Avx512::reach_mask_f32::<MQ>(cdist, cast(rad), cast(err), cast(reach), slack)
        } else {
            super::kernel::reach_mask_portable::<F, MQ>(cdist, rad, err, reach, slack)
        }
    }

    #[inline(always)]
    unsafe fn below<F: Float, const MQ: usize>(dist: &[[F; PANEL]; MQ], thr: &[F]) -> [u32; MQ] {
        assert!(thr.len() >= PANEL);
        // SAFETY: each branch casts to the type `F` is; the CPU has AVX-512F (the caller).
        if TypeId::of::<F>() == TypeId::of::<f32>() {
            let dist = &*(dist as *const [[F; PANEL]; MQ] as *const [[f32; PANEL]; MQ]);
            Avx512::below_f32::<MQ>(dist, cast(thr))
        } else {
            let dist = &*(dist as *const [[F; PANEL]; MQ] as *const [[f64; PANEL]; MQ]);
            Avx512::below_f64::<MQ>(dist, cast(thr))
        }
    }
}

impl Avx512 {
    /// # Safety
    /// AVX-512F; `thr` holds `PANEL` values.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn below_f32<const MQ: usize>(dist: &[[f32; PANEL]; MQ], thr: &[f32]) -> [u32; MQ] {
        let t = _mm512_loadu_ps(thr.as_ptr());
        let mut out = [0u32; MQ];
        for (o, row) in out.iter_mut().zip(dist) {
            *o = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_loadu_ps(row.as_ptr()), t) as u32;
        }
        out
    }

    /// # Safety
    /// AVX-512F; `thr` holds `PANEL` values.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn below_f64<const MQ: usize>(dist: &[[f64; PANEL]; MQ], thr: &[f64]) -> [u32; MQ] {
        let (t0, t1) = (
            _mm512_loadu_pd(thr.as_ptr()),
            _mm512_loadu_pd(thr.as_ptr().add(8)),
        );
        let mut out = [0u32; MQ];
        for (o, row) in out.iter_mut().zip(dist) {
            let m0 = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_loadu_pd(row.as_ptr()), t0) as u32;
            let m1 =
                _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_loadu_pd(row.as_ptr().add(8)), t1) as u32;
            *o = m0 | (m1 << 8);
        }
        out
    }

    /// # Safety
    /// AVX-512F; `F` is `f32`; the sizes of [`PanelDists::reach_mask`].
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn reach_mask_f32<const MQ: usize>(
        cdist: &[[f32; PANEL]; MQ],
        rad: &[f32],
        err: &[f32],
        reach: &[f32],
        slack: f32,
    ) -> u32 {
        let r = _mm512_loadu_ps(rad.as_ptr());
        let slack = _mm512_set1_ps(slack);
        let mut mask = 0u32;
        for q in 0..MQ {
            let t = _mm512_add_ps(r, _mm512_set1_ps(reach[q]));
            let lim = _mm512_mul_ps(_mm512_mul_ps(t, t), slack);
            let v = _mm512_sub_ps(_mm512_loadu_ps(cdist[q].as_ptr()), _mm512_set1_ps(err[q]));
            mask |= _mm512_cmp_ps_mask::<_CMP_LE_OQ>(v, lim) as u32;
        }
        mask
    }
}

impl PanelDists for Avx2 {
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
        debug_assert!(panel.len() >= d * PANEL && qt.len() >= d * MQ);
        debug_assert!(pn.len() >= PANEL && qn.len() >= MQ && thr.len() >= MQ);
        // SAFETY: as for `Avx512`.
        if TypeId::of::<F>() == TypeId::of::<f32>() {
            f32_avx2::<MQ>(
                cast(panel),
                cast(pn),
                cast(qt),
                cast(qn),
                cast(thr),
                d,
                cast_out(out),
            )
        } else {
            f64_avx2::<MQ>(
                cast(panel),
                cast(pn),
                cast(qt),
                cast(qn),
                cast(thr),
                d,
                cast_out(out),
            )
        }
    }

    #[inline(always)]
    unsafe fn reach_mask<F: Float, const MQ: usize>(
        cdist: &[[F; PANEL]; MQ],
        rad: &[F],
        err: &[F],
        reach: &[F],
        slack: F,
    ) -> u32 {
        super::kernel::reach_mask_portable::<F, MQ>(cdist, rad, err, reach, slack)
    }

    #[inline(always)]
    unsafe fn below<F: Float, const MQ: usize>(dist: &[[F; PANEL]; MQ], thr: &[F]) -> [u32; MQ] {
        super::kernel::below_portable::<F, MQ>(dist, thr)
    }
}

/// # Safety
/// AVX-512F; the sizes of [`PanelDists::dists`].
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn f32_avx512<const MQ: usize>(
    panel: &[f32],
    pn: &[f32],
    qt: &[f32],
    qn: &[f32],
    thr: &[f32],
    d: usize,
    out: &mut [[f32; PANEL]; MQ],
) -> [u32; MQ] {
    let (p, q) = (panel.as_ptr(), qt.as_ptr());
    let mut acc = [_mm512_setzero_ps(); MQ];
    for j in 0..d {
        let col = _mm512_loadu_ps(p.add(j * PANEL));
        let qj = q.add(j * MQ);
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm512_fmadd_ps(_mm512_set1_ps(*qj.add(i)), col, *a);
        }
    }
    let pnv = _mm512_loadu_ps(pn.as_ptr());
    let two = _mm512_set1_ps(2.0);
    let mut hits = [0u32; MQ];
    for i in 0..MQ {
        let v = _mm512_fnmadd_ps(two, acc[i], _mm512_add_ps(pnv, _mm512_set1_ps(qn[i])));
        _mm512_storeu_ps(out[i].as_mut_ptr(), v);
        hits[i] = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_set1_ps(thr[i])) as u32;
    }
    hits
}

/// # Safety
/// AVX-512F; the sizes of [`PanelDists::dists`].
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn f64_avx512<const MQ: usize>(
    panel: &[f64],
    pn: &[f64],
    qt: &[f64],
    qn: &[f64],
    thr: &[f64],
    d: usize,
    out: &mut [[f64; PANEL]; MQ],
) -> [u32; MQ] {
    let (p, q) = (panel.as_ptr(), qt.as_ptr());
    let mut lo = [_mm512_setzero_pd(); MQ];
    let mut hi = [_mm512_setzero_pd(); MQ];
    for j in 0..d {
        let c0 = _mm512_loadu_pd(p.add(j * PANEL));
        let c1 = _mm512_loadu_pd(p.add(j * PANEL + 8));
        let qj = q.add(j * MQ);
        for i in 0..MQ {
            let b = _mm512_set1_pd(*qj.add(i));
            lo[i] = _mm512_fmadd_pd(b, c0, lo[i]);
            hi[i] = _mm512_fmadd_pd(b, c1, hi[i]);
        }
    }
    let (p0, p1) = (
        _mm512_loadu_pd(pn.as_ptr()),
        _mm512_loadu_pd(pn.as_ptr().add(8)),
    );
    let two = _mm512_set1_pd(2.0);
    let mut hits = [0u32; MQ];
    for i in 0..MQ {
        let (n, t) = (_mm512_set1_pd(qn[i]), _mm512_set1_pd(thr[i]));
        let v0 = _mm512_fnmadd_pd(two, lo[i], _mm512_add_pd(p0, n));
        let v1 = _mm512_fnmadd_pd(two, hi[i], _mm512_add_pd(p1, n));
        _mm512_storeu_pd(out[i].as_mut_ptr(), v0);
        _mm512_storeu_pd(out[i].as_mut_ptr().add(8), v1);
        let m0 = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(v0, t) as u32;
        let m1 = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(v1, t) as u32;
        hits[i] = m0 | (m1 << 8);
    }
    hits
}

/// # Safety
/// AVX2 and FMA; the sizes of [`PanelDists::dists`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn f32_avx2<const MQ: usize>(
    panel: &[f32],
    pn: &[f32],
    qt: &[f32],
    qn: &[f32],
    thr: &[f32],
    d: usize,
    out: &mut [[f32; PANEL]; MQ],
) -> [u32; MQ] {
    let (p, q) = (panel.as_ptr(), qt.as_ptr());
    let mut lo = [_mm256_setzero_ps(); MQ];
    let mut hi = [_mm256_setzero_ps(); MQ];
    for j in 0..d {
        let c0 = _mm256_loadu_ps(p.add(j * PANEL));
        let c1 = _mm256_loadu_ps(p.add(j * PANEL + 8));
        let qj = q.add(j * MQ);
        for i in 0..MQ {
            let b = _mm256_set1_ps(*qj.add(i));
            lo[i] = _mm256_fmadd_ps(b, c0, lo[i]);
            hi[i] = _mm256_fmadd_ps(b, c1, hi[i]);
        }
    }
    let (p0, p1) = (
        _mm256_loadu_ps(pn.as_ptr()),
        _mm256_loadu_ps(pn.as_ptr().add(8)),
    );
    let two = _mm256_set1_ps(2.0);
    let mut hits = [0u32; MQ];
    for i in 0..MQ {
        let (n, t) = (_mm256_set1_ps(qn[i]), _mm256_set1_ps(thr[i]));
        let v0 = _mm256_fnmadd_ps(two, lo[i], _mm256_add_ps(p0, n));
        let v1 = _mm256_fnmadd_ps(two, hi[i], _mm256_add_ps(p1, n));
        _mm256_storeu_ps(out[i].as_mut_ptr(), v0);
        _mm256_storeu_ps(out[i].as_mut_ptr().add(8), v1);
        let m0 = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(v0, t)) as u32;
        let m1 = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(v1, t)) as u32;
        hits[i] = m0 | (m1 << 8);
    }
    hits
}

/// # Safety
/// AVX2 and FMA; the sizes of [`PanelDists::dists`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn f64_avx2<const MQ: usize>(
    panel: &[f64],
    pn: &[f64],
    qt: &[f64],
    qn: &[f64],
    thr: &[f64],
    d: usize,
    out: &mut [[f64; PANEL]; MQ],
) -> [u32; MQ] {
    let (p, q) = (panel.as_ptr(), qt.as_ptr());
    let mut acc = [[_mm256_setzero_pd(); 4]; MQ];
    for j in 0..d {
        let c = [
            _mm256_loadu_pd(p.add(j * PANEL)),
            _mm256_loadu_pd(p.add(j * PANEL + 4)),
            _mm256_loadu_pd(p.add(j * PANEL + 8)),
            _mm256_loadu_pd(p.add(j * PANEL + 12)),
        ];
        let qj = q.add(j * MQ);
        for i in 0..MQ {
            let b = _mm256_set1_pd(*qj.add(i));
            for (a, &cv) in acc[i].iter_mut().zip(&c) {
                *a = _mm256_fmadd_pd(b, cv, *a);
            }
        }
    }
    let two = _mm256_set1_pd(2.0);
    let mut hits = [0u32; MQ];
    for i in 0..MQ {
        let (n, t) = (_mm256_set1_pd(qn[i]), _mm256_set1_pd(thr[i]));
        for (s, &a) in acc[i].iter().enumerate() {
            let base = _mm256_add_pd(_mm256_loadu_pd(pn.as_ptr().add(4 * s)), n);
            let v = _mm256_fnmadd_pd(two, a, base);
            _mm256_storeu_pd(out[i].as_mut_ptr().add(4 * s), v);
            let m = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(v, t)) as u32;
            hits[i] |= m << (4 * s);
        }
    }
    hits
}

/// `iters` rounds of 12 independent 16-lane f32 FMA chains (AVX-512, else AVX2 twice): the
/// machine's fused-multiply-add peak, for the throughput reports of the tests and the benches
/// ([`fma_peak_gflops`](super::fma_peak_gflops)). NaN without AVX2 and FMA.
pub(super) fn fma_chains(iters: usize, seed: f32) -> f32 {
    /// # Safety
    ///
    /// The CPU must have the enabled features (the caller checks them).
    #[target_feature(enable = "avx512f")]
    unsafe fn chains512(iters: usize, seed: f32) -> f32 {
        let mut acc = [_mm512_set1_ps(seed); 12];
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        acc.iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
    }
    /// # Safety
    ///
    /// The CPU must have the enabled features (the caller checks them).
    #[target_feature(enable = "avx2,fma")]
    unsafe fn chains256(iters: usize, seed: f32) -> f32 {
        let mut acc = [_mm256_set1_ps(seed); 12];
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..2 * iters {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let mut out = [0f32; 8];
        acc.iter().fold(0.0, |s, &v| {
            _mm256_storeu_ps(out.as_mut_ptr(), v);
            s + out.iter().sum::<f32>()
        })
    }
    // SAFETY: each is called only where its features were detected.
    unsafe {
        if is_x86_feature_detected!("avx512f") {
            chains512(iters, seed)
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            chains256(iters, seed)
        } else {
            f32::NAN
        }
    }
}
