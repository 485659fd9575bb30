//! Random streams derived from (seed, purpose, class, chunk), so that the work split across threads
//! never changes the numbers drawn.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is used for; different purposes never share a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    Smote = 1,
    RandomOverSample = 2,
    Shrinkage = 3,
    RandomUnderSample = 4,
    /// Shuffled passes of batch samplers over a class.
    BatchShuffle = 5,
    /// Order of the rows inside a batch.
    BatchOrder = 6,
    /// Synthetic rows of online SMOTE batches.
    OnlineSmote = 7,
    // Numbered apart from the foundation's, so that parallel branches add theirs without clashing.
    SmoteNc = 21,
    SmoteN = 22,
    Borderline = 23,
    Adasyn = 24,
    /// Level assignment of an HNSW graph.
    Hnsw = 40,
}

/// A deterministic generator with the few draws the algorithms need, implemented here rather than
/// taken from `rand`'s distributions so that the values never change with a dependency upgrade.
pub struct Stream(ChaCha8Rng);

/// Number of draws of one unit of work; a unit gets its own stream.
pub const CHUNK: usize = 4096;

impl Stream {
    /// The stream of one unit of work.
    pub fn new(seed: u64, purpose: Purpose, class: u32, chunk: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(purpose as u64)));
        // 64-bit stream id: class in the high half, chunk in the low half.
        rng.set_stream(((class as u64) << 32) ^ chunk);
        Stream(rng)
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method). `n` must be > 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = (self.next_u64() as u128) * (n as u128);
        let mut lo = m as u64;
        if lo < n {
            let threshold = n.wrapping_neg() % n;
            while lo < threshold {
                m = (self.next_u64() as u128) * (n as u128);
                lo = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// Standard normal draw (Box-Muller, one value per pair of uniforms).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Smote, 1, 0), |s, _| {
                Some(s.next_u64())
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Smote, 1, 0), |s, _| {
                Some(s.next_u64())
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Stream::new(7, Purpose::Smote, 1, 1), |s, _| {
                Some(s.next_u64())
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_is_in_range_and_covers() {
        let mut s = Stream::new(1, Purpose::RandomOverSample, 0, 0);
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[s.below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut s = Stream::new(3, Purpose::Shrinkage, 0, 0);
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            let z = s.normal();
            sn += z;
            sn2 += z * z;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.01);
        assert!((sn / n).abs() < 0.01);
        assert!((sn2 / n - 1.0).abs() < 0.02);
    }
}
