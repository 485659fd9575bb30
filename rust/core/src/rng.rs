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
        unit(self.next_u64())
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method). `n` must be > 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        below(|| self.next_u64(), n)
    }

    /// A [`Fast`] stream seeded by this one's next draw.
    pub fn fast(&mut self) -> Fast {
        Fast(self.next_u64())
    }

    /// Standard normal draw (Box-Muller, one value per pair of uniforms).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The top 53 bits of `v` as a value in [0, 1).
#[inline(always)]
fn unit(v: u64) -> f64 {
    (v >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in [0, n) from the draws of `next`, without modulo bias (Lemire's method).
#[inline(always)]
fn below(mut next: impl FnMut() -> u64, n: u64) -> u64 {
    debug_assert!(n > 0);
    let mut m = (next() as u128) * (n as u128);
    let mut lo = m as u64;
    if lo < n {
        let threshold = n.wrapping_neg() % n;
        while lo < threshold {
            m = (next() as u128) * (n as u128);
            lo = m as u64;
        }
    }
    (m >> 64) as u64
}

/// SplitMix64 (Steele, Lea and Flood, 2014; Java's `SplittableRandom`) from a start drawn from a
/// [`Stream`]: for the hot loops that draw a few numbers per row of output. A draw is an add and
/// a mix of three multiplies and shifts with no dependence on the previous mix, where ChaCha8 is
/// 8 rounds per 64 bytes: SMOTE's two draws per new row from ChaCha8 took 2.9 ms of a 1M-row
/// run's 16.6 (its neighbour graph given). SplitMix64 passes BigCrush; each unit of work starts
/// it at its own ChaCha8 draw, so units stay independent and the output the same for any number
/// of threads.
pub struct Fast(u64);

impl Fast {
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform integer in [0, n), without modulo bias. `n` must be > 0.
    #[inline(always)]
    pub fn below(&mut self, n: u64) -> u64 {
        below(|| self.next_u64(), n)
    }
}

/// SplitMix64's output function.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn splitmix(z: u64) -> u64 {
    mix(z.wrapping_add(0x9E37_79B9_7F4A_7C15))
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

    /// SplitMix64's published first outputs from seed 1234567 (its reference C code, as in
    /// `rand_xoshiro`'s tests), and uniform draws in [0, 1) with the moments of the uniform.
    #[test]
    fn fast_is_splitmix64() {
        let mut f = Fast(1234567);
        let want = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for w in want {
            assert_eq!(f.next_u64(), w);
        }
        let mut f = Stream::new(3, Purpose::Smote, 0, 0).fast();
        let (mut su, mut s2, n) = (0.0, 0.0, 200_000);
        let mut seen = [0usize; 7];
        for _ in 0..n {
            let u = f.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            s2 += u * u;
            seen[f.below(7) as usize] += 1;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.005 && (s2 / n - 1.0 / 3.0).abs() < 0.005);
        assert!(
            seen.iter()
                .all(|&c| (c as f64 - n / 7.0).abs() < 0.03 * n / 7.0),
            "{seen:?}"
        );
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
