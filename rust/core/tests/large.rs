//! Property tests of the core's entry points at sizes where the search has thousands of tiles,
//! many tasks per thread and every stage of the cleaners does work (the unit tests' cases stay
//! under a few thousand rows). A full-scan reference would cost O(n^2), so each case checks a
//! random sample of rows against a full scan of those rows: a wrong answer anywhere is as likely
//! to be sampled as any other.
//!
//! Minutes on 2 cores, so not part of `cargo test`: run them with
//! `cargo test -p equipoise-core --test large -- --ignored`.

use equipoise_core::neighbors::{exact_sq_dist, BruteForce, KdTree, KnnIndex};
use equipoise_core::rng::{Purpose, Stream};
use equipoise_core::under_sampling::{edited_nearest_neighbours, tomek_links, EnnRule};
use ndarray::Array2;
use proptest::prelude::*;

/// Clustered data, classes overlapping, optionally far from the origin and with duplicated rows.
fn data(n: usize, d: usize, seed: u64, offset: f32, dups: bool) -> (Array2<f32>, Vec<u32>) {
    let mut s = Stream::new(seed, Purpose::Smote, 99, 0);
    let codes: Vec<u32> = (0..n).map(|_| u32::from(s.below(10) < 2)).collect();
    let centres: Vec<f32> = (0..8 * d).map(|_| (s.normal() * 3.0) as f32).collect();
    let mut x = Array2::from_shape_fn((n, d), |_| 0f32);
    for i in 0..n {
        let c = s.below(8) as usize;
        for j in 0..d {
            x[[i, j]] = offset + centres[c * d + j] + (s.normal() * 0.6) as f32 + codes[i] as f32;
        }
    }
    if dups {
        for _ in 0..n / 20 {
            let (a, b) = (s.below(n as u64) as usize, s.below(n as u64) as usize);
            let src = x.row(a).to_owned();
            x.row_mut(b).assign(&src);
        }
    }
    (x, codes)
}

/// The k nearest other rows of row i by (exact squared distance, row): a full scan.
fn scan(x: &Array2<f32>, i: usize, k: usize) -> Vec<(f64, usize)> {
    let q = x.row(i).to_vec();
    let mut all: Vec<(f64, usize)> = (0..x.nrows())
        .filter(|&j| j != i)
        .map(|j| (exact_sq_dist(&q, x.row(j).as_slice().unwrap()), j))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.truncate(k);
    all
}

fn sample(n: usize, m: usize, seed: u64) -> Vec<usize> {
    let mut s = Stream::new(seed, Purpose::Smote, 98, 0);
    (0..m).map(|_| s.below(n as u64) as usize).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Exact self-search (brute force and KD-tree) at up to 60k rows: sampled rows' neighbour
    /// lists equal a full scan's, indices and distances.
    #[test]
    #[ignore = "minutes: cargo test -p equipoise-core --test large -- --ignored"]
    fn exact_search_at_scale(
        n in 20_000usize..60_000, d in 2usize..24, k in 1usize..12, seed in 0u64..1000,
        offset in prop_oneof![Just(0f32), Just(1e3f32)], dups in any::<bool>(),
    ) {
        let (x, _) = data(n, d, seed, offset, dups);
        let brute = BruteForce::new(x.view()).query_self(k).unwrap();
        let kd = (d <= 6).then(|| KdTree::new(x.view()).query_self(k).unwrap());
        for i in sample(n, 60, seed) {
            let want = scan(&x, i, k);
            for (t, &(dd, j)) in want.iter().enumerate() {
                prop_assert_eq!(brute.indices[[i, t]], j, "row {} rank {}", i, t);
                prop_assert!((brute.distances[[i, t]] - dd.sqrt()).abs() <= 1e-9 * (1.0 + dd.sqrt()));
                if let Some(kd) = &kd {
                    prop_assert_eq!(kd.indices[[i, t]], j, "kd row {} rank {}", i, t);
                }
            }
        }
    }

    /// ENN and Tomek links at up to 40k rows: the decision of sampled rows equals the one a full
    /// scan of their neighbours gives.
    #[test]
    #[ignore = "minutes: cargo test -p equipoise-core --test large -- --ignored"]
    fn cleaners_at_scale(
        n in 10_000usize..40_000, d in 2usize..16, k in 1usize..6, seed in 0u64..1000,
        offset in prop_oneof![Just(0f32), Just(1e3f32)], dups in any::<bool>(),
        mode in any::<bool>(),
    ) {
        let (x, codes) = data(n, d, seed, offset, dups);
        let targeted = [true, false];
        let rule = if mode { EnnRule::Mode } else { EnnRule::All };
        let enn = edited_nearest_neighbours(x.view(), &codes, 2, &targeted, k, rule, None).unwrap();
        let tomek = tomek_links(x.view(), &codes, 2, &targeted, None).unwrap();
        let mut kept_enn = vec![false; n];
        enn.iter().for_each(|&i| kept_enn[i] = true);
        let mut kept_tomek = vec![false; n];
        tomek.iter().for_each(|&i| kept_tomek[i] = true);
        for i in sample(n, 40, seed ^ 7) {
            let c = codes[i];
            let nb = scan(&x, i, k);
            let same = nb.iter().filter(|p| codes[p.1] == c).count();
            let want = c == 1 || match rule {
                EnnRule::All => same == k,
                // Two classes: the mode is c unless the other class is more frequent, or as
                // frequent with the lower code.
                EnnRule::Mode => same * 2 > k || (same * 2 == k && c == 0),
            };
            prop_assert_eq!(kept_enn[i], want, "ENN row {}", i);
            let j = scan(&x, i, 1)[0].1;
            let link = c == 0 && codes[j] != c && scan(&x, j, 1)[0].1 == i;
            prop_assert_eq!(kept_tomek[i], !link, "Tomek row {}", i);
        }
    }
}
