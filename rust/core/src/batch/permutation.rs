//! A random-access pseudo-random permutation of `0..n` (a keyed Feistel network with cycle
//! walking), so that position `i` of a shuffled pass is computed in O(1) without storing the pass:
//! a pass over 10^9 rows costs no memory, and any rank or thread can start anywhere in it.

use crate::rng::{Purpose, Stream};

const ROUNDS: usize = 4;

/// The permutation of one pass over a class: `apply(i)` is the position in the class's row list
/// drawn at step `i` of the pass.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    bits_l: u32,
    bits_r: u32,
    keys: [u64; ROUNDS],
}

/// Round function: a keyed multiply-xorshift; its high bits are well mixed.
#[inline]
fn mix(r: u64, k: u64) -> u64 {
    let z = (r ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

impl Permutation {
    /// The permutation of pass `pass` over a class of `n` rows, keyed by (seed, class, pass).
    pub fn new(n: u64, seed: u64, class: u32, pass: u64) -> Self {
        let mut s = Stream::new(seed, Purpose::BatchShuffle, class, pass);
        let keys = std::array::from_fn(|_| s.next_u64());
        // Smallest power of two >= n: cycle walking then needs fewer than 2 rounds on average.
        let bits = if n <= 1 {
            0
        } else {
            64 - (n - 1).leading_zeros()
        };
        Permutation {
            n,
            bits_l: bits / 2,
            bits_r: bits - bits / 2,
            keys,
        }
    }

    #[inline]
    fn encrypt(&self, mut x: u64) -> u64 {
        // Unbalanced Feistel: (L, R) -> (R, L ^ F(R)); the widths swap every round, so the
        // network is a bijection on `bits_l + bits_r` bits.
        let (mut bl, mut br) = (self.bits_l, self.bits_r);
        for &k in &self.keys {
            let r = x & ((1u64 << br) - 1);
            let l = x >> br;
            // The top `bl` bits of the mix (the best mixed ones); `bl` can be 0.
            let f = if bl == 0 { 0 } else { mix(r, k) >> (64 - bl) };
            x = (r << bl) | (l ^ f);
            std::mem::swap(&mut bl, &mut br);
        }
        x
    }

    /// The image of `i` (`i < n`), itself in `0..n`.
    #[inline]
    pub fn apply(&self, i: u64) -> u64 {
        debug_assert!(i < self.n);
        if self.n <= 1 {
            return 0;
        }
        // Cycle walking: re-encrypt until the value falls inside 0..n; a bijection on the
        // power-of-two domain restricted this way is a bijection on 0..n.
        let mut x = self.encrypt(i);
        while x >= self.n {
            x = self.encrypt(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_permutation_for_many_sizes() {
        for n in (0..70).chain([255, 256, 257, 1000, 4097]) {
            let p = Permutation::new(n, 3, 1, 7);
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let j = p.apply(i) as usize;
                assert!(!seen[j], "n={n}: {j} twice");
                seen[j] = true;
            }
        }
    }

    #[test]
    fn passes_differ_and_first_position_is_spread() {
        let n = 10u64;
        let mut first = vec![0usize; n as usize];
        for pass in 0..5000 {
            first[Permutation::new(n, 1, 0, pass).apply(0) as usize] += 1;
        }
        // 500 expected per value; a fixed or badly mixed permutation would concentrate them.
        assert!(first.iter().all(|&c| (350..650).contains(&c)), "{first:?}");
        let a: Vec<u64> = (0..1000)
            .map(|i| Permutation::new(1000, 1, 0, 0).apply(i))
            .collect();
        let b: Vec<u64> = (0..1000)
            .map(|i| Permutation::new(1000, 1, 0, 1).apply(i))
            .collect();
        assert_ne!(a, b);
    }
}

#[cfg(test)]
mod speed {
    use super::*;
    #[test]
    #[ignore]
    fn permutation_speed() {
        let n = 20_000_000u64;
        let p = Permutation::new(n, 1, 0, 0);
        let t = std::time::Instant::now();
        let mut acc = 0u64;
        for i in 0..n {
            acc = acc.wrapping_add(p.apply(i));
        }
        eprintln!(
            "apply: {:.1} ns/row ({acc})",
            t.elapsed().as_nanos() as f64 / n as f64
        );
        let rows: Vec<u32> = (0..n as u32).collect();
        let t = std::time::Instant::now();
        let mut acc = 0u64;
        for i in 0..n {
            acc = acc.wrapping_add(rows[p.apply(i) as usize] as u64);
        }
        eprintln!(
            "apply+gather: {:.1} ns/row ({acc})",
            t.elapsed().as_nanos() as f64 / n as f64
        );
    }
}
