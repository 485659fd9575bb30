//! Pass 1's rounding-error bound, relative to the query: every search threshold, tile and panel
//! bound and exactness proof of the engine goes through [`ErrBound`], so that they stay consistent.
//!
//! For a query `q` and any point `x` (a row or a panel centroid) at true squared distance `D`,
//! pass 1's value `P` satisfies `|P - D| <= a + b D`, with
//! `a = g min(|q|^2 + M, 3 |q|^2) + abs` and `b = 2 g + u`, where `u` is the unit roundoff of the
//! data's type, `g = 2 gamma(d + 1) (1 + u)`, `gamma(n) = n u / (1 - n u)`, `M` bounds every
//! indexed row's and panel centroid's squared norm, and `abs` covers underflow. The derivation, for
//! the kernels' summation order, is in docs/design.md ("the exactness proof", step 2).

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

impl ErrBound {
    /// The bound for a query of true squared norm at most `qn` (computed in `f64`, rounded up),
    /// against rows and centroids of squared norm at most `max_norm`.
    pub(super) fn new<F: Float>(d: usize, qn: f64, max_norm: f64) -> Self {
        let (g, b, abs) = constants::<F>(d);
        // |x|^2 <= (|q| + |x - q|)^2 <= 2 |q|^2 + 2 D, so |q|^2 + |x|^2 <= 3 |q|^2 + 2 D; the
        // 2 D part is in `b`.
        let a = g * (qn + max_norm).min(3.0 * qn) * (1.0 + REL) + abs;
        ErrBound { a, b }
    }

    /// The bound of a query row, its squared norm computed in `f64` (rounded up).
    pub(super) fn of_row<F: Float>(q: &[F], max_norm: f64) -> Self {
        let qn: f64 = q.iter().map(|v| v.wide() * v.wide()).sum();
        Self::new::<F>(q.len(), qn * (1.0 + REL), max_norm)
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

    /// The bound holds for pass 1 as the kernels compute it (the dot product as an FMA chain, the
    /// norms as plain sums, then `fl(fl(qn + pn) - 2 acc)`), on points far from the origin and on
    /// a query far from every row; and it is far below the old global bound near the origin.
    #[test]
    fn bound_covers_fma_chain_pass1() {
        let mut s = crate::rng::Stream::new(3, crate::rng::Purpose::Smote, 0, 0);
        for &(d, off, spread) in &[
            (6, 0.0, 1.0),
            (30, 1000.0, 1e-3),
            (3, 30.0, 1.0),
            (64, 0.0, 5.0),
        ] {
            let rows: Vec<Vec<f32>> = (0..200)
                .map(|_| (0..d).map(|_| (off + s.normal() * spread) as f32).collect())
                .collect();
            let norm = |r: &[f32]| r.iter().map(|&v| v * v).sum::<f32>();
            let m = rows
                .iter()
                .map(|r| r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>())
                .fold(0.0, f64::max);
            for q in &rows {
                let e = ErrBound::of_row(q, m);
                for x in &rows {
                    let mut acc = 0f32;
                    for j in 0..d {
                        acc = q[j].mul_add(x[j], acc);
                    }
                    let p = (-2.0f32).mul_add(acc, norm(q) + norm(x)) as f64;
                    let dd: f64 = q
                        .iter()
                        .zip(x)
                        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                        .sum();
                    assert!((p - dd).abs() <= e.a + e.b * dd, "d={d} p={p} D={dd} {e:?}");
                    assert!(e.dist_above(p) <= dd && dd <= e.dist_below(p));
                    assert!(e.pass1_below(dd) <= p && p <= e.pass1_above(dd));
                }
            }
        }
    }
}
