//! Pass 1's rounding-error bound, relative to the query: every search threshold, tile and panel
//! bound and exactness proof of the engine goes through [`ErrBound`], so that they stay consistent.
//!
//! Pass 1 runs on the rows shifted by the index's centre (`fl(x - m)`, rounded once in the data's
//! type; see [`BruteForce::centre`](super::BruteForce)). For a query `q` and any point `x` (a row
//! or a panel centroid) at true squared distance `D` (of the unshifted rows), pass 1's value `P`
//! satisfies `|P - D| <= a + b D`. Two parts make it up, with `u` the unit roundoff of the data's
//! type, `N = min(|q|^2 + M, 3 |q|^2)` (norms of the shifted points) and `M` a bound on every
//! indexed row's and panel centroid's shifted squared norm:
//!
//! - the norm expansion on the shifted points, `|P - D'| <= g N + b' D'` with `D'` their squared
//!   distance, `g = 2 gamma(d + 1) (1 + u)`, `gamma(n) = n u / (1 - n u)`, `b' = 2 g + u`
//!   (docs/design.md, "the exactness proof", step 2);
//! - the shift's rounding, `|D - D'| <= h N + beta D'` with `h = 2 u (1 + u) / (1 - u)^2` and
//!   `beta = 2 u + 2 h`: each shifted coordinate errs by at most `u` of itself, so the two
//!   distances' square roots differ by at most `delta = u (|q| + |x|) / (1 - u)`, and
//!   `|D - D'| <= 2 delta sqrt(D') + delta^2 <= u D' + delta^2 (1 + 1/u)`
//!   (and `|x|^2 <= 2 |q|^2 + 2 D'`).
//!
//! Together, with `D' <= (D + h N) / (1 - beta)`: `a = (g + h (1 + b)) N + abs`,
//! `b = (b' + beta) / (1 - beta)`; `abs` covers underflow.

use crate::float::Float;

/// Margin on relative rounding in `f64` of the few operations that use a bound: far above their
/// error, far below any effect on pruning.
const REL: f64 = 1e-9;

/// Pass 1's error bound for one query: `|P - D| <= a + b D` for every indexed row and panel
/// centroid (`P` its pass-1 value, `D` its true squared distance).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ErrBound {
    pub(super) a: f64,
    pub(super) b: f64,
}

/// The constants of the bound for the type `F` and `d` features: `(g, b, abs)`.
pub(super) fn constants<F: Float>(d: usize) -> (f64, f64, f64) {
    let u = F::epsilon().wide() / 2.0;
    let n = (d + 1) as f64;
    let gamma = n * u / (1.0 - n * u);
    let g = 2.0 * gamma * (1.0 + u) * (1.0 + REL);
    let b = (2.0 * g + u) * (1.0 + REL);
    // Each of the at most 3d + 2 roundings of pass 1 errs by at most u times the smallest normal
    // number in absolute terms when it underflows; this term covers them many times over.
    let abs = (8 * d + 8) as f64 * F::min_positive_value().wide();
    (g, b, abs)
}

/// The shift's part of the bound, `(h, beta)`: the true squared distance `D` of two rows and
/// `D'` of their shifted (rounded) copies satisfy `|D - D'| <= h N + beta D'`.
pub(super) fn shift_terms<F: Float>() -> (f64, f64) {
    let u = F::epsilon().wide() / 2.0;
    let h = 2.0 * u * (1.0 + u) / ((1.0 - u) * (1.0 - u)) * (1.0 + REL);
    let beta = (2.0 * u + 2.0 * h) * (1.0 + REL);
    (h, beta)
}

impl ErrBound {
    /// The bound for a query whose shifted row has a true squared norm at most `qn` (computed in
    /// `f64`, rounded up), against shifted rows and centroids of squared norm at most `max_norm`.
    pub(super) fn new<F: Float>(d: usize, qn: f64, max_norm: f64) -> Self {
        let (g, b1, abs) = constants::<F>(d);
        let (h, beta) = shift_terms::<F>();
        let b = (b1 + beta) / (1.0 - beta) * (1.0 + REL);
        // |x|^2 <= (|q| + |x - q|)^2 <= 2 |q|^2 + 2 D, so |q|^2 + |x|^2 <= 3 |q|^2 + 2 D; the
        // 2 D part is in `b`.
        let norms = (qn + max_norm).min(3.0 * qn);
        let a = (g + h * (1.0 + b)) * norms * (1.0 + REL) + abs;
        ErrBound { a, b }
    }

    /// The bound of a query whose shifted row is `q`, its squared norm computed in `f64`
    /// (rounded up).
    pub(super) fn of_row<F: Float>(q: &[F], max_norm: f64) -> Self {
        let qn: f64 = q.iter().map(|v| v.wide() * v.wide()).sum();
        Self::of_sq_norm::<F>(q.len(), qn, max_norm)
    }

    /// [`ErrBound::of_row`] from the shifted row's squared norm as it sums it (`d` features).
    pub(super) fn of_sq_norm<F: Float>(d: usize, qn: f64, max_norm: f64) -> Self {
        Self::new::<F>(d, qn * (1.0 + REL), max_norm)
    }

    /// A lower bound on the true squared distance of a point whose pass-1 value is `p`:
    /// `D >= (p - a) / (1 + b)`.
    pub(super) fn dist_above(&self, p: f64) -> f64 {
        let v = (p - self.a) / (1.0 + self.b);
        if v > 0.0 {
            v * (1.0 - REL)
        } else {
            v * (1.0 + REL)
        }
    }

    /// An upper bound on the true squared distance of a point whose pass-1 value is `p`:
    /// `D <= (p + a) / (1 - b)`.
    pub(super) fn dist_below(&self, p: f64) -> f64 {
        let v = (p + self.a) / (1.0 - self.b);
        if v > 0.0 {
            v * (1.0 + REL)
        } else {
            v * (1.0 - REL)
        }
    }

    /// An upper bound on the pass-1 value of a point at true squared distance at most `dist`:
    /// `P <= dist (1 + b) + a`.
    pub(super) fn pass1_above(&self, dist: f64) -> f64 {
        (dist * (1.0 + self.b) + self.a) * (1.0 + REL)
    }

    /// A lower bound on the pass-1 value of a point at true squared distance at least `dist`
    /// (`>= 0`): `P >= dist (1 - b) - a`.
    pub(super) fn pass1_below(&self, dist: f64) -> f64 {
        let v = dist * (1.0 - self.b) * (1.0 - REL) - self.a;
        if v > 0.0 {
            v * (1.0 - REL)
        } else {
            v * (1.0 + REL)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound holds for pass 1 as the kernels compute it (the rows and the query shifted by a
    /// centre in `f32`, the dot product as an FMA chain, the norms as plain sums, then
    /// `fl(fl(qn + pn) - 2 acc)`) against the true distance of the unshifted rows: on points far
    /// from the origin, with a centre that is the mean or far from it (so that the shift rounds),
    /// on heavy-tailed columns whose shift rounds at every magnitude, and on a query far from every
    /// row.
    #[test]
    fn bound_covers_shifted_fma_chain_pass1() {
        let mut s = crate::rng::Stream::new(3, crate::rng::Purpose::Smote, 0, 0);
        for &(d, off, spread, tail, shift) in &[
            (6, 0.0, 1.0, false, None),
            (30, 1000.0, 1e-3, false, None),
            (30, 300.0, 1.0, false, None),
            (3, 30.0, 1.0, false, Some(-700.0)),
            (64, 0.0, 5.0, false, Some(1e-3)),
            (30, 5.0, 1.0, true, None),
            (8, 1e4, 3.0, true, Some(-1e4)),
        ] {
            let rows: Vec<Vec<f32>> = (0..200)
                .map(|_| {
                    (0..d)
                        .map(|_| {
                            let z = s.normal();
                            // A Student-t-like tail: a normal over a small |normal|.
                            let z = if tail {
                                z / (0.05 + s.normal().abs())
                            } else {
                                z
                            };
                            (off + z * spread) as f32
                        })
                        .collect()
                })
                .collect();
            let centre: Vec<f32> = match shift {
                Some(c) => vec![c as f32; d],
                None => (0..d)
                    .map(|j| (rows.iter().map(|r| r[j] as f64).sum::<f64>() / 200.0) as f32)
                    .collect(),
            };
            let shifted: Vec<Vec<f32>> = rows
                .iter()
                .map(|r| r.iter().zip(&centre).map(|(&v, &m)| v - m).collect())
                .collect();
            let norm = |r: &[f32]| r.iter().map(|&v| v * v).sum::<f32>();
            let m = shifted
                .iter()
                .map(|r| r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>())
                .fold(0.0, f64::max);
            let (h, beta) = shift_terms::<f32>();
            let mut rounded = 0;
            for (q, qs) in rows.iter().zip(&shifted) {
                let e = ErrBound::of_row(qs, m);
                let qn: f64 = qs.iter().map(|&v| (v as f64).powi(2)).sum();
                for (x, xs) in rows.iter().zip(&shifted) {
                    let mut acc = 0f32;
                    for j in 0..d {
                        acc = qs[j].mul_add(xs[j], acc);
                    }
                    let p = (-2.0f32).mul_add(acc, norm(qs) + norm(xs)) as f64;
                    let dd: f64 = q
                        .iter()
                        .zip(x)
                        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                        .sum();
                    // The shift's part alone.
                    let ds: f64 = qs
                        .iter()
                        .zip(xs)
                        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                        .sum();
                    let n_ = (qn + m).min(3.0 * qn + 2.0 * ds);
                    assert!((dd - ds).abs() <= h * n_ + beta * ds, "D={dd} D'={ds}");
                    rounded += (dd != ds) as usize;
                    assert!((p - dd).abs() <= e.a + e.b * dd, "d={d} p={p} D={dd} {e:?}");
                    assert!(e.dist_above(p) <= dd && dd <= e.dist_below(p));
                    assert!(e.pass1_below(dd) <= p && p <= e.pass1_above(dd));
                }
            }
            if shift.is_some() || tail {
                assert!(rounded > 0, "the shift rounds somewhere: d={d} off={off}");
            }
        }
    }
}
