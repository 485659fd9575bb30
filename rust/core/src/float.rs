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
}
