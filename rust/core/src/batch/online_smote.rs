//! Random choices of online SMOTE batches: for each synthetic slot of a batch, which of the base
//! row's k neighbours and where on the segment. Drawn from (seed, class, batch number), so a batch
//! synthesises the same rows whoever computes it (a DataLoader worker, any thread count).

use crate::error::{CoreError, Result};
use crate::rng::{Purpose, Stream};

/// `n` (neighbour slot in `0..k`, gap in `[0, 1)`) pairs of one class in one batch.
pub fn smote_draws(
    seed: u64,
    class: u32,
    batch: u64,
    n: usize,
    k: usize,
) -> Result<(Vec<u32>, Vec<f64>)> {
    if k == 0 {
        return Err(CoreError::InvalidArgument(
            "k_neighbors must be >= 1".into(),
        ));
    }
    let mut s = Stream::new(seed, Purpose::OnlineSmote, class, batch);
    let mut slots = Vec::with_capacity(n);
    let mut gaps = Vec::with_capacity(n);
    for _ in 0..n {
        slots.push(s.below(k as u64) as u32);
        gaps.push(s.uniform());
    }
    Ok((slots, gaps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_in_range_reproducible_and_batch_specific() {
        let (a, g) = smote_draws(1, 1, 7, 1000, 5).unwrap();
        assert!(a.iter().all(|&v| v < 5));
        assert!(g.iter().all(|&v| (0.0..1.0).contains(&v)));
        assert_eq!(
            (a.clone(), g.clone()),
            smote_draws(1, 1, 7, 1000, 5).unwrap()
        );
        assert_ne!(g, smote_draws(1, 1, 8, 1000, 5).unwrap().1);
        assert!(smote_draws(1, 1, 7, 3, 0).is_err());
    }
}
