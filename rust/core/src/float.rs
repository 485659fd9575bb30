//! The float types the algorithms are written over once: `f32` and `f64`.

/// A feature value type. `f32` data stays `f32` end to end; exact comparisons widen to `f64`, which
/// represents every `f32` exactly.
pub trait Float:
    num_traits::Float
    + num_traits::NumAssign
    + Send
    + Sync
    + Copy
    + Default
    + std::fmt::Debug
    + std::iter::Sum
    + 'static
{
    fn narrow(v: f64) -> Self;
    fn wide(self) -> f64;
    /// Uniform in `[0, 1)` from the top bits of a random draw, as many as the type's significand
    /// holds (53 for `f64`, 24 for `f32`), so that every value is exact and below 1.
    fn unit(v: u64) -> Self;
}

impl Float for f32 {
    #[inline(always)]
    fn narrow(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn unit(v: u64) -> Self {
        // Below 2^24: the signed conversion is exact (and one instruction).
        ((v >> 40) as i32) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

impl Float for f64 {
    #[inline(always)]
    fn narrow(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
    #[inline(always)]
    fn unit(v: u64) -> Self {
        // Below 2^53: the signed conversion is exact (and one instruction).
        ((v >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_exact_in_zero_to_one() {
        // The ends: 0 and the largest value below 1 of each type.
        assert_eq!(f32::unit(0), 0.0);
        assert_eq!(f32::unit(u64::MAX), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(f64::unit(0), 0.0);
        assert_eq!(f64::unit(u64::MAX), 1.0 - f64::EPSILON / 2.0);
        // The top bits, exactly: `f64` gives the draws' own 53-bit uniform (`rng::Fast::uniform`),
        // `f32` its top 24 bits.
        let fast = || crate::rng::Stream::new(5, crate::rng::Purpose::Smote, 0, 0).fast();
        let (mut s, mut same) = (fast(), fast());
        for _ in 0..10_000 {
            let v = s.next_u64();
            assert_eq!(f64::unit(v), same.uniform());
            assert_eq!(f32::unit(v), (v >> 40) as f32 / (1u32 << 24) as f32);
            assert!(f32::unit(v) < 1.0 && f64::unit(v) < 1.0);
        }
    }
}
