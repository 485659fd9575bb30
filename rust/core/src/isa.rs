//! The widest vectors this CPU has, for the loops that are compiled once per instruction set.
//!
//! The crate is built for baseline x86_64 (SSE2), so that a wheel runs on any such CPU; a loop
//! that gains from wider vectors has a copy compiled with `#[target_feature]` for AVX2 and for
//! AVX-512, chosen at run time from [`Isa::detect`]. Every copy gives the same results (the
//! tests compare them on [`Isa::supported`]).

/// An instruction set a loop may be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The widest this CPU runs (AVX-512F, else AVX2, else the baseline).
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// Every instruction set this CPU runs (the tests compare them all).
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Self> {
        #[allow(unused_mut)]
        let mut out = vec![Isa::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                out.push(Isa::Avx2);
            }
            if is_x86_feature_detected!("avx512f") {
                out.push(Isa::Avx512);
            }
        }
        out
    }
}
