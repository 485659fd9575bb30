//! Exactness of the brute-force search against a direct scan, for every kernel and index kind.

use super::kernel::Kernel;
use super::pack::PanelCache;
use super::*;
use crate::neighbors::exact_sq_dist;
use ndarray::Array2;
use proptest::prelude::*;

pub(crate) static FALLBACKS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);
pub(crate) static KERNELS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
pub(crate) static VISITED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
pub(crate) static PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Tiles a task of the symmetric self search skipped, every distance to them already offered.
pub(crate) static COVERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
pub(crate) static NANOS: [std::sync::atomic::AtomicU64; 3] = [
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
];

/// Where the time of an all-rows search goes on the bundled mammography set (one group of 3,329
/// identical rows, one row of squared norm 1008 against a median of 3):
/// `cargo test --release -p equipoise-core mammography_report -- --ignored --nocapture`.
#[test]
#[ignore]
fn mammography_report() {
    use std::sync::atomic::Ordering::Relaxed;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../python/equipoise/datasets/data/mammography.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<Vec<f32>> = text
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            v[..v.len() - 1]
                .iter()
                .map(|x| x.parse().unwrap())
                .collect()
        })
        .collect();
    let (n, d) = (rows.len(), rows[0].len());
    let x = Array2::from_shape_fn((n, d), |(i, j)| rows[i][j]);
    for _ in 0..3 {
        PENDING.store(0, Relaxed);
        FALLBACKS.store(0, Relaxed);
        NANOS.iter().for_each(|v| v.store(0, Relaxed));
        let t = std::time::Instant::now();
        let bf = BruteForce::new(x.view());
        let tb = t.elapsed();
        let t = std::time::Instant::now();
        bf.query_self(4).unwrap();
        eprintln!(
            "build {tb:?} query {:?}: pending {} fallbacks {}; pass 1 {:.3} s, range {:.3} s, \
             scan {:.3} s (thread time)",
            t.elapsed(),
            PENDING.load(Relaxed),
            FALLBACKS.load(Relaxed),
            NANOS[0].load(Relaxed) as f64 * 1e-9,
            NANOS[1].load(Relaxed) as f64 * 1e-9,
            NANOS[2].load(Relaxed) as f64 * 1e-9,
        );
    }
}

#[test]
#[ignore]
fn pruning_report() {
    let (n, d) = (100_000, 30);
    let mut s = crate::rng::Stream::new(1, crate::rng::Purpose::Smote, 9, 0);
    let centers: Vec<f64> = (0..20 * d).map(|_| s.normal() * 3.0).collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        (centers[(i * 7919 % 20) * d + j] + s.normal()) as f32
    });
    let t = std::time::Instant::now();
    let bf = BruteForce::new(x.view());
    let radii: Vec<f64> = bf.tiles.iter().map(|t| t.radius).collect();
    eprintln!(
        "build {:?}, {} tiles, mean radius {}",
        t.elapsed(),
        bf.tiles.len(),
        radii.iter().sum::<f64>() / radii.len() as f64
    );
    let t = std::time::Instant::now();
    VISITED.store(0, std::sync::atomic::Ordering::Relaxed);
    let r = bf.query_self(4).unwrap();
    let v = VISITED.load(std::sync::atomic::Ordering::Relaxed);
    let kc = KERNELS.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "fallbacks {}",
        FALLBACKS.load(std::sync::atomic::Ordering::Relaxed)
    );
    let mut rs = radii.clone();
    rs.sort_by(f64::total_cmp);
    eprintln!(
        "kernel calls {} = {:.4} of block-tile pairs; radius min {} med {} max {}",
        kc,
        kc as f64 / (bf.tiles.len() as f64 * bf.tiles.len() as f64 * 390.0 / 6.0 / 2.0),
        rs[0],
        rs[rs.len() / 2],
        rs[rs.len() - 1]
    );
    eprintln!(
        "query {:?}, visited {:.4} of task-tile pairs, mean kth dist {}",
        t.elapsed(),
        v as f64 / (bf.tiles.len() * bf.tiles.len()) as f64,
        r.distances.column(3).mean().unwrap()
    );
}

/// Every other row of row `i`, as (exact f64 squared distance, index), ranked by both.
fn ranked_from(data: &Array2<f64>, i: usize) -> Vec<(f64, usize)> {
    let row = |j: usize| data.row(j).to_slice().unwrap();
    let mut v: Vec<(f64, usize)> = (0..data.nrows())
        .filter(|&j| j != i)
        .map(|j| (exact_sq_dist(row(i), row(j)), j))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

/// Reference: sort every row by (exact f64 distance, index).
fn reference(data: &Array2<f64>, k: usize) -> Vec<Vec<usize>> {
    let n = data.nrows();
    (0..n)
        .map(|i| {
            let v = ranked_from(data, i);
            v.into_iter().take(k).map(|p| p.1).collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn self_query_matches_reference(
        n in 2usize..300, d in 1usize..9, k in 1usize..8, seed in 0u64..1000, dup in 0usize..3
    ) {
        let k = k.min(n - 1);
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 0, 0);
        // Few distinct values so that ties and duplicates are common.
        let mut data = Array2::from_shape_fn((n, d), |_| (s.below(5) as f64) * 0.5 + 1000.0 * dup as f64);
        if dup == 2 { let r0 = data.row(0).to_owned(); data.row_mut(n - 1).assign(&r0); }
        let idx = BruteForce::new(data.view()).query_self(k).unwrap();
        let want = reference(&data, k);
        for i in 0..n {
            prop_assert_eq!(idx.indices.row(i).to_vec(), want[i].clone());
        }
    }

    #[test]
    fn f32_query_matches_f64_reference(n in 2usize..600, d in 1usize..40, seed in 0u64..1000) {
        let k = 5.min(n - 1);
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 1, 0);
        let data32 = Array2::from_shape_fn((n, d), |_| (s.normal() * 3.0) as f32);
        let data64 = data32.mapv(|v| v as f64);
        let got = BruteForce::new(data32.view()).query_self(k).unwrap();
        let want = reference(&data64, k);
        for i in 0..n {
            prop_assert_eq!(got.indices.row(i).to_vec(), want[i].clone());
        }
    }

    /// Clustered data over many tiles, so that pruning skips most of them; subsets and
    /// external queries agree with the full self-query.
    #[test]
    fn pruned_clusters_match_reference(n in 300usize..1500, d in 1usize..12, seed in 0u64..1000) {
        let k = 4;
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 2, 0);
        let centers: Vec<f64> = (0..8 * d).map(|_| s.normal() * 20.0).collect();
        let data32 = Array2::from_shape_fn((n, d), |(i, j)| (centers[(i % 8) * d + j] + s.normal()) as f32);
        let data64 = data32.mapv(|v| v as f64);
        let bf = BruteForce::new(data32.view());
        let got = bf.query_self(k).unwrap();
        let want = reference(&data64, k);
        for i in 0..n {
            prop_assert_eq!(got.indices.row(i).to_vec(), want[i].clone());
        }
        let rows: Vec<usize> = (0..n).filter(|i| i % 3 == 1).collect();
        let sub = bf.query_self_rows(&rows, k).unwrap();
        for (r, &i) in rows.iter().enumerate() {
            prop_assert_eq!(sub.indices.row(r).to_vec(), want[i].clone());
        }
        let ext = bf.query(data32.view(), k + 1).unwrap();
        for i in 0..n {
            // The row itself (distance 0) or an equal duplicate comes first.
            prop_assert_eq!(ext.distances[[i, 0]], 0.0);
        }
    }
}

/// The nearest tiles' bound on each row's k-th neighbour distance: never below the true one, never
/// above its own tile's (which it searches too), and the true one when every tile is searched.
#[test]
fn near_tiles_bound_the_kth_distance() {
    for &(n, d, seed) in &[
        (3000usize, 30usize, 1u64),
        (2500, 5, 2),
        (900, 12, 3),
        (260, 3, 4),
    ] {
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 5, 0);
        // A continuous cloud with decreasing scales (the shape on which tiles bound loosely).
        let x = Array2::from_shape_fn((n, d), |(_, j)| {
            (s.normal() * 2.0 / (1.0 + j as f64 * 0.2)) as f32
        });
        let x64 = x.mapv(|v| v as f64);
        let bf = BruteForce::new(x.view());
        let n_tiles = bf.tiles.len();
        for k in [1usize, 3] {
            let truth: Vec<f64> = (0..n).map(|i| ranked_from(&x64, i)[k - 1].0).collect();
            let own = bf.tile_kth_sq(k);
            let near = bf.near_tiles_kth_sq(k, 6);
            let every = bf.near_tiles_kth_sq(k, n_tiles);
            let mut tighter = 0;
            for i in 0..n {
                assert!(
                    near[i] >= truth[i] && own[i] >= truth[i],
                    "row {i}: below the true k-th"
                );
                assert!(
                    near[i] <= own[i] * (1.0 + 1e-5),
                    "row {i}: {} > own tile's {}",
                    near[i],
                    own[i]
                );
                assert!(
                    every[i] <= truth[i] * (1.0 + 1e-5) + 1e-12,
                    "row {i}: every tile searched"
                );
                tighter += usize::from(near[i] < own[i]);
            }
            if n_tiles > 1 {
                assert!(
                    tighter > 0,
                    "n={n} d={d}: the nearest tiles tightened no bound"
                );
            }
        }
    }
}

#[test]
fn query_other_set_and_errors() {
    let data = ndarray::array![[0.0f64, 0.0], [1.0, 0.0], [5.0, 5.0]];
    let bf = BruteForce::new(data.view());
    let q = ndarray::array![[0.9f64, 0.1]];
    let r = bf.query(q.view(), 2).unwrap();
    assert_eq!(r.indices.row(0).to_vec(), vec![1, 0]);
    assert!((r.distances[[0, 0]] - (0.01f64 + 0.01).sqrt()).abs() < 1e-12);
    assert!(bf.query_self(3).is_err());
    assert!(bf.query(q.view(), 4).is_err());
    assert!(bf.query(ndarray::array![[1.0f64]].view(), 1).is_err());
    assert!(bf.query_self_rows(&[3], 1).is_err());
}

#[test]
fn every_kernel_gives_the_same_answer() {
    let mut s = crate::rng::Stream::new(5, crate::rng::Purpose::Smote, 3, 0);
    let data = Array2::from_shape_fn((1500, 30), |_| s.normal() as f32);
    let all: Vec<usize> = (0..1500).collect();
    let want = reference(&data.mapv(|v| v as f64), 6);
    let kinds = Kernel::all_supported();
    // Stored panels, and a lean subset of every row (panels packed on demand).
    for (bf, kind) in [
        BruteForce::new(data.view()),
        BruteForce::subset(data.view(), &all).unwrap(),
    ]
    .iter()
    .flat_map(|bf| kinds.iter().map(move |&k| (bf, k)))
    {
        let rows: Vec<usize> = (0..1500).collect();
        let tasks = bf.self_tasks(&rows);
        let keep = 20;
        // One cache for every task, as a worker keeps it: reused tiles must stay right.
        let mut cache = PanelCache::new(30);
        for t in &tasks {
            for (slot, list) in bf.run_task(&mut cache, t, 6, keep, 1499, kind, None) {
                let got: Vec<usize> = list.iter().map(|p| p.1).collect();
                assert_eq!(got, want[slot], "{kind:?}");
            }
        }
    }
}

/// SMOTE-like output: rows packed on short segments far from the origin, so neighbours are
/// nearer to each other than pass 1's rounding error. The second (range) pass must still give
/// the exact ranking, for every kernel, and for a subset index.
#[test]
fn near_ties_below_the_rounding_error_stay_exact() {
    let mut s = crate::rng::Stream::new(8, crate::rng::Purpose::Smote, 4, 0);
    let (n, d) = (2400, 30);
    let ends: Vec<f64> = (0..40 * d).map(|_| 200.0 + s.normal() * 2.0).collect();
    let data = Array2::from_shape_fn((n, d), |(i, j)| {
        let seg = i % 20;
        let t = (i / 20) as f64 / (n / 20) as f64;
        (ends[seg * 2 * d + j] * (1.0 - t) + ends[(seg * 2 + 1) * d + j] * t) as f32
    });
    let want = reference(&data.mapv(|v| v as f64), 4);
    let rows: Vec<usize> = (0..n).collect();
    for bf in [
        BruteForce::new(data.view()),
        BruteForce::subset(data.view(), &rows).unwrap(),
    ] {
        for kind in Kernel::all_supported() {
            let mut cache = PanelCache::new(d);
            for t in &bf.self_tasks(&rows) {
                for (slot, list) in bf.run_task(&mut cache, t, 4, 10, n - 1, kind, None) {
                    let got: Vec<usize> = list.iter().map(|p| p.1).collect();
                    assert_eq!(got, want[slot], "{kind:?}");
                }
            }
        }
        let got = bf.query_self(4).unwrap().indices;
        for i in 0..n {
            assert_eq!(got.row(i).to_vec(), want[i]);
        }
    }
}

/// The machine's fused-multiply-add peak against the exact search's throughput on iid Gaussian
/// data (no pruning possible), both on every core. Run it alone on a quiet machine:
/// `cargo test --release -p equipoise-core peak_report -- --ignored --nocapture`.
#[test]
#[ignore]
fn peak_report() {
    let threads = rayon::current_num_threads();
    let peak = super::fma_peak_gflops(100_000_000);
    eprintln!("FMA peak (f32, this build's codegen): {peak:.0} GFLOP/s on {threads} threads");
    for n in [20_000usize, 100_000] {
        let d = 30;
        let mut s = crate::rng::Stream::new(3, crate::rng::Purpose::Smote, 9, 0);
        let x = Array2::from_shape_fn((n, d), |_| s.normal() as f32);
        let bf = BruteForce::new(x.view());
        let t = std::time::Instant::now();
        let r = bf.query_self(4).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let gflops = 2.0 * (n * n * d) as f64 / secs / 1e9;
        eprintln!(
            "iid Gaussian {n} x {d} f32, all rows k=4: {secs:.2} s = {gflops:.0} GFLOP/s \
             ({:.0}% of the peak); mean 4th distance {:.3}",
            100.0 * gflops / peak,
            r.distances.column(3).mean().unwrap()
        );
    }
}

/// More than `RANGE_KEEP` rows at distance 0 from a query (a duplicate-heavy real set such as
/// mammography): the direct scan decides, keeping only rows within the bound, and must still
/// give the exact ranking with ties by index.
#[test]
fn direct_scan_of_heavy_duplicates_stays_exact() {
    let mut s = crate::rng::Stream::new(4, crate::rng::Purpose::Smote, 5, 0);
    let (n, d) = (3000, 6);
    let data = Array2::from_shape_fn((n, d), |(i, _)| {
        if i % 3 == 0 {
            (s.normal() * 3.0) as f32
        } else {
            1.5f32
        }
    });
    let before = FALLBACKS.load(std::sync::atomic::Ordering::Relaxed);
    let got = BruteForce::new(data.view()).query_self(4).unwrap().indices;
    assert!(FALLBACKS.load(std::sync::atomic::Ordering::Relaxed) > before);
    let want = reference(&data.mapv(|v| v as f64), 4);
    for i in 0..n {
        assert_eq!(got.row(i).to_vec(), want[i], "row {i}");
    }
}

/// Reference for outside queries: every row by (exact f64 distance, index), the first `k`.
fn reference_query(data: &Array2<f64>, q: &[f64], k: usize) -> Vec<usize> {
    let mut v: Vec<(f64, usize)> = (0..data.nrows())
        .map(|j| (exact_sq_dist(q, data.row(j).as_slice().unwrap()), j))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.into_iter().take(k).map(|p| p.1).collect()
}

/// Data whose norms defeat a rounding bound taken from the largest norm: rows `offset` from the
/// origin with mutual distances of order `spread`, a share of them copies of a few rows (one group
/// spanning several tasks, two of its copies with `-0.0` for `0.0`), and optionally one row of
/// huge norm.
fn adversarial<F: Float>(
    n: usize,
    d: usize,
    offset: f64,
    spread: f64,
    huge: bool,
    seed: u64,
) -> Array2<F> {
    let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 6, 0);
    let base: Vec<f64> = (0..d).map(|j| if j == 0 { 0.0 } else { offset }).collect();
    let mut copies: Vec<Vec<f64>> = (0..3)
        .map(|_| base.iter().map(|&b| b + s.normal() * spread).collect())
        .collect();
    copies[0][0] = 0.0;
    let mut x = Array2::from_shape_fn((n, d), |(_, j)| F::narrow(base[j] + s.normal() * spread));
    for i in 0..n {
        let c = s.below(10) as usize;
        if c < 3 {
            // Half the rows copies of one row (a group spanning several tasks), a few of two others.
            let g = if c < 2 { 0 } else { 1 + (i % 2) };
            for j in 0..d {
                x[[i, j]] = F::narrow(copies[g][j]);
            }
        } else if c < 6 {
            x[[i, 0]] = F::narrow(0.0);
        }
    }
    // Copies of group 0 whose first feature is -0.0 for 0.0: at distance 0 from the group, but
    // with other bits.
    for i in [1, n / 3] {
        for j in 0..d {
            x[[i, j]] = F::narrow(copies[0][j]);
        }
        x[[i, 0]] = F::narrow(-0.0);
    }
    if huge {
        for j in 0..d {
            x[[n / 2, j]] = F::narrow(offset.max(1.0) * 1e3 + j as f64);
        }
    }
    x
}

/// Every query of the engine on adversarial norms against a direct f64 scan: self-queries, chosen
/// rows, outside queries (copies of rows among them), `any_within` and `self_within`.
fn check_adversarial<F: Float>(x: &Array2<F>, k: usize) {
    let n = x.nrows();
    let x64 = x.mapv(|v| v.wide());
    let want = reference(&x64, k);
    for bf in [
        BruteForce::new(x.view()),
        BruteForce::subset(x.view(), &(0..n).collect::<Vec<_>>()).unwrap(),
    ] {
        let got = bf.query_self(k).unwrap();
        for i in 0..n {
            assert_eq!(
                got.indices.row(i).to_vec(),
                want[i],
                "self-query of row {i}"
            );
            for t in 0..k {
                let dd = exact_sq_dist(
                    x64.row(i).as_slice().unwrap(),
                    x64.row(want[i][t]).as_slice().unwrap(),
                );
                assert_eq!(got.distances[[i, t]], dd.sqrt());
            }
        }
        let rows: Vec<usize> = (0..n).step_by(7).collect();
        let got = bf.query_self_rows(&rows, k).unwrap();
        for (s, &i) in rows.iter().enumerate() {
            assert_eq!(got.indices.row(s).to_vec(), want[i], "chosen row {i}");
        }
        // Outside queries: copies of rows (the duplicate groups, the huge row) and rows moved a
        // little.
        let qs = Array2::from_shape_fn((n, x.ncols()), |(i, j)| {
            let v = x[[(i * 37) % n, j]];
            if i % 3 == 0 {
                v
            } else {
                F::narrow(v.wide() * (1.0 + 1e-7 * (i % 5) as f64))
            }
        });
        let got = bf.query(qs.view(), k).unwrap();
        for i in 0..n {
            let q: Vec<f64> = qs.row(i).iter().map(|v| v.wide()).collect();
            assert_eq!(
                got.indices.row(i).to_vec(),
                reference_query(&x64, &q, k),
                "query {i}"
            );
        }
        // Bounds at exact neighbour distances (the inclusive edge) and a little below them.
        let dist = |a: usize, b: usize| {
            exact_sq_dist(
                x64.row(a).as_slice().unwrap(),
                x64.row(b).as_slice().unwrap(),
            )
        };
        let bound: Vec<f64> = (0..n)
            .map(|i| {
                let dd = dist(i, want[i][k - 1]);
                if i % 2 == 0 {
                    dd
                } else {
                    dd * (1.0 - 1e-7)
                }
            })
            .collect();
        let all: Vec<usize> = (0..n).collect();
        let within = bf.self_within(&all, &bound, k, None);
        for i in 0..n {
            let mut inside: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (dist(i, j), j))
                .filter(|p| p.0 <= bound[i])
                .collect();
            inside.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let w = &within[i];
            if w.complete {
                assert_eq!(w.rows, inside, "self_within of row {i}");
            } else {
                // k rows (not necessarily within the bound) with their exact distances.
                assert_eq!(w.rows.len(), k, "row {i}");
                for &(dd, j) in &w.rows {
                    assert!(j != i && dd == dist(i, j), "row {i}: {j}");
                }
            }
        }
        // any_within: false proves that no row lies within the bound (inclusive); a bound at a
        // row's own distance must answer true.
        let groups = bf.tile_groups();
        let qrow = |s: usize| x.row(s).to_slice().unwrap();
        let near: Vec<f64> = (0..n)
            .map(|i| if i % 2 == 0 { bound[i] } else { bound[i] * 0.5 })
            .collect();
        let any = bf.any_within(qrow, &near, &groups);
        for i in 0..n {
            let exists = (0..n).any(|j| dist(i, j) <= near[i]);
            assert!(any[i] || !exists, "any_within of row {i}");
            assert!(any[i], "row {i} lies within its own bound");
        }
    }
}

/// Rows far from the origin with tiny mutual distances, heavy duplicate groups and a row of huge
/// norm, in `f32` and `f64`: the answers stay the exact ranking with ties by index.
#[test]
fn adversarial_norms_stay_exact() {
    for &(n, d, offset, spread, huge) in &[
        (1500, 6, 0.0, 1.0, true),
        (1500, 6, 1e4, 1e-2, false),
        (1200, 30, 300.0, 1e-3, true),
        (900, 2, 1e5, 1.0, true),
    ] {
        check_adversarial(&adversarial::<f32>(n, d, offset, spread, huge, 1), 4);
        check_adversarial(&adversarial::<f64>(n, d, offset, spread, huge, 2), 4);
        check_adversarial(&adversarial::<f32>(n, d, offset, spread, huge, 3), 1);
    }
}

/// Values near the largest magnitude the input checks allow (`distance_limit`), most rows at one
/// end and a few at the other: shifted by the mean, the few would reach twice the limit and pass
/// 1's norms overflow, so such data is searched unshifted, and the answers stay exact.
#[test]
fn values_near_the_distance_limit_stay_exact() {
    fn case<F: Float>(seed: u64) {
        let (n, d) = (600, 4);
        let lim = crate::validate::distance_limit::<F>(d) * 0.999;
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 5, 0);
        let x = Array2::from_shape_fn((n, d), |(i, _)| {
            let end = if i % 50 == 0 { lim } else { -lim };
            F::narrow(end * (1.0 - 1e-3 * s.uniform()))
        });
        check_adversarial(&x, 3);
    }
    case::<f32>(1);
    case::<f64>(2);
}

/// The bound is relative to the query: one row of huge norm does not widen the bound of queries
/// near the origin (the bundled mammography set: one row of squared norm 1008, median 3).
#[test]
fn one_huge_row_leaves_small_queries_a_small_bound() {
    let x = adversarial::<f32>(1000, 6, 0.0, 1.0, true, 4);
    let bf = BruteForce::new(x.view());
    let huge = bf.err_bound(x.row(500).to_slice().unwrap());
    let small = bf.err_bound(x.row(10).to_slice().unwrap());
    assert!(bf.max_norm > 1e6);
    assert!(small.a * 1e5 < huge.a, "{small:?} vs {huge:?}");
}

/// The vectorised grouping of outside queries finds each query's nearest tile centroid, the
/// lowest tile among equals, as a direct loop does (full blocks of queries, a last partial one,
/// a query on a centroid).
#[test]
fn nearest_tiles_equal_a_direct_loop() {
    let mut s = crate::rng::Stream::new(9, crate::rng::Purpose::Smote, 5, 0);
    let (n, d, nq) = (5000, 7, 700);
    let x = Array2::from_shape_fn((n, d), |_| s.normal() as f32);
    let bf = BruteForce::new(x.view());
    let nt = bf.tiles.len();
    assert!(nt > 4);
    let mut q: Vec<f32> = (0..nq * d).map(|_| (s.normal() * 1.5) as f32).collect();
    // Query 0 sits on tile 3's centroid (rounded to f32).
    for j in 0..d {
        q[j] = bf.centroids[3 * d + j] as f32;
    }
    let got = bf.nearest_tiles(&q, nq);
    assert_eq!(got.len(), nq);
    for (i, &(t, qi)) in got.iter().enumerate() {
        assert_eq!(qi, i);
        let mut best = (f64::INFINITY, 0u32);
        for tt in 0..nt {
            let dd: f64 = (0..d)
                .map(|j| (bf.centroids[tt * d + j] - q[i * d + j] as f64).powi(2))
                .sum();
            if dd < best.0 {
                best = (dd, tt as u32);
            }
        }
        assert_eq!(t, best.1, "query {i}");
    }
}

/// float32 rows 300 from the origin with a spread of 1 (the case that fell back to a direct scan
/// for every query, 15x slower than scikit-learn): pass 1 runs on rows shifted by their mean, so
/// a query's rounding bound is of the spread's size (unshifted it was about 30, above the
/// nearest-neighbour squared distances), and the answers stay the exact ranking.
#[test]
fn far_from_origin_rows_are_searched_shifted() {
    let mut s = crate::rng::Stream::new(8, crate::rng::Purpose::Smote, 5, 0);
    let (n, d) = (3000, 30);
    let x = Array2::from_shape_fn((n, d), |_| (300.0 + s.normal()) as f32);
    for bf in [
        BruteForce::new(x.view()),
        BruteForce::subset(x.view(), &(0..n).collect::<Vec<_>>()).unwrap(),
    ] {
        for i in [0, n / 2, n - 1] {
            let e = bf.err_bound(x.row(i).to_slice().unwrap());
            assert!(e.a < 1e-2, "row {i}: {e:?}");
        }
        let got = bf.query_self(4).unwrap().indices;
        let want = reference(&x.mapv(|v| v as f64), 4);
        for i in 0..n {
            assert_eq!(got.row(i).to_vec(), want[i], "row {i}");
        }
        let q = x.slice(ndarray::s![..200, ..]).mapv(|v| v + 0.25);
        let got = bf.query(q.view(), 3).unwrap().indices;
        let xw = x.mapv(|v| v as f64);
        for i in 0..200 {
            let qw: Vec<f64> = q.row(i).iter().map(|&v| v as f64).collect();
            assert_eq!(
                got.row(i).to_vec(),
                reference_query(&xw, &qw, 3),
                "query {i}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// The symmetric self search (each distance offered to both of its rows) gives the exact
    /// ranking, equal to the search tile by tile and to a direct scan, on data of every shape:
    /// a continuous cloud (whole visits, offered), separated clusters (pruned, partial visits),
    /// few distinct values (ties and duplicates across tiles), in both precisions and on 1 to 3
    /// threads.
    #[test]
    fn symmetric_self_query_matches_tiles_and_reference(
        n in 300usize..1800, d in 1usize..14, k in 1usize..7, shape in 0usize..3,
        seed in 0u64..1000, threads in 1usize..4,
    ) {
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 5, 0);
        let centers: Vec<f64> = (0..8 * d).map(|_| s.normal() * 20.0).collect();
        let data64 = Array2::from_shape_fn((n, d), |(i, j)| match shape {
            0 => s.normal() * (1.0 + j as f64),
            1 => centers[(i % 8) * d + j] + s.normal(),
            _ => s.below(3) as f64 * 0.5,
        });
        let data32 = data64.mapv(|v| v as f32);
        let want = reference(&data32.mapv(|v| v as f64), k);
        let want64 = reference(&data64, k);
        let (got32, tiled32, got64) = crate::threads::run_with_threads(threads, || {
            let bf32 = BruteForce::new(data32.view());
            let bf64 = BruteForce::new(data64.view());
            prop_assume!(bf32.tiles.len() >= 2);
            let available = bf32.check_k(k, true).unwrap();
            Ok((
                bf32.query_self_symmetric(k, available),
                bf32.query_self_by_tiles(k, available),
                bf64.query_self_symmetric(k, available),
            ))
        })
        .unwrap()?;
        prop_assert_eq!(&got32, &tiled32);
        for i in 0..n {
            prop_assert_eq!(got32.indices.row(i).to_vec(), want[i].clone());
            prop_assert_eq!(got64.indices.row(i).to_vec(), want64[i].clone());
        }
    }
}

/// On a continuous cloud, the symmetric self search skips the tiles that offered a task all of
/// their distances (about half of the task-tile pairs): each such distance is computed once.
#[test]
fn symmetric_self_query_computes_shared_distances_once() {
    use std::sync::atomic::Ordering::Relaxed;
    let mut s = crate::rng::Stream::new(11, crate::rng::Purpose::Smote, 6, 0);
    let x = Array2::from_shape_fn((6000, 12), |_| s.normal() as f32);
    let bf = BruteForce::new(x.view());
    let nt = bf.tiles.len();
    COVERED.store(0, Relaxed);
    let got = bf.query_self(4).unwrap();
    let covered = COVERED.load(Relaxed);
    // Other tests may run beside this one and add to the counter: a lower bound only.
    assert!(
        covered * 3 >= nt * nt,
        "covered {covered} of {} task-tile pairs",
        nt * nt
    );
    let available = bf.check_k(4, true).unwrap();
    assert_eq!(got, bf.query_self_by_tiles(4, available));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The rows' neighbours with the row itself included, built from the self search, are what
    /// the query path returns for the same rows as queries: ranks, indices and distances, with
    /// many copies at distance 0 (a row after its lower-indexed copies), for both exact indexes.
    #[test]
    fn query_with_self_equals_querying_the_rows(
        n in 2usize..700, d in 1usize..7, k in 1usize..9, seed in 0u64..1000, coarse in 0usize..2,
    ) {
        let k = k.min(n - 1);
        let mut s = crate::rng::Stream::new(seed, crate::rng::Purpose::Smote, 7, 0);
        let data = Array2::from_shape_fn((n, d), |_| {
            if coarse == 1 { s.below(3) as f32 } else { s.normal() as f32 }
        });
        let bf = BruteForce::new(data.view());
        let got = crate::neighbors::query_with_self(&bf, k).unwrap();
        prop_assert_eq!(&got, &bf.query(data.view(), k).unwrap());
        let kd = crate::neighbors::KdTree::new(data.view());
        prop_assert_eq!(&crate::neighbors::query_with_self(&kd, k).unwrap(), &got);
    }
}

/// A heavy-tailed feature (log-normal, its mean about 20 times its median, like `oil_spill`'s
/// areas) leaves most rows far below its mean. Pass 1 centred on the per-feature medians keeps
/// their shifted norms, and so their rounding bound, below the distance to their 4th neighbour
/// for most rows, more than twice as many as a centre on the mean would (a query whose bound
/// exceeds it ends in the range pass or a direct scan). The search stays exact either way.
#[test]
fn heavy_tailed_feature_keeps_the_bulk_provable() {
    let mut s = crate::rng::Stream::new(9, crate::rng::Purpose::Smote, 5, 0);
    let (n, d) = (2000, 8);
    let x = Array2::from_shape_fn((n, d), |(_, j)| {
        if j == 0 {
            (1e4 * (2.5 * s.normal()).exp()) as f32
        } else {
            s.normal() as f32
        }
    });
    let xw = x.mapv(|v| v as f64);
    let bf = BruteForce::new(x.view());
    // The bound the same search would have centred on the mean (rounded to f32).
    let mean: Vec<f32> = (0..d)
        .map(|j| xw.column(j).mean().unwrap() as f32)
        .collect();
    let by_mean = |r: &[f32]| -> Vec<f32> { r.iter().zip(&mean).map(|(&v, &m)| v - m).collect() };
    let max_norm = (0..n)
        .map(|i| {
            let r = by_mean(x.row(i).to_slice().unwrap());
            r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        })
        .fold(0.0, f64::max);
    let (mut provable, mut provable_mean) = (0, 0);
    for i in 0..n {
        let r = xw.row(i);
        let mut dist: Vec<f64> = (0..n)
            .filter(|&j| j != i)
            .map(|j| exact_sq_dist(r.as_slice().unwrap(), xw.row(j).as_slice().unwrap()))
            .collect();
        dist.select_nth_unstable_by(3, f64::total_cmp);
        let row = x.row(i).to_slice().unwrap();
        provable += (bf.err_bound(row).a < dist[3]) as usize;
        provable_mean +=
            (super::rounding::ErrBound::of_row(&by_mean(row), max_norm).a < dist[3]) as usize;
    }
    assert!(
        provable >= n * 2 / 3 && provable >= 2 * provable_mean,
        "{provable} of {n} rows provable ({provable_mean} centred on the mean)"
    );
    let got = bf.query_self(4).unwrap().indices;
    let want = reference(&xw, 4);
    for i in 0..n {
        assert_eq!(got.row(i).to_vec(), want[i], "row {i}");
    }
}

/// The small-set search of `dense.rs` against the tiled index, on five kinds of rows (30
/// features, 5 neighbours, this machine's threads), and which one `self_neighbors` picks:
/// `cargo test --release -p equipoise-core dense_report -- --ignored --nocapture`.
#[test]
#[ignore]
fn dense_report() {
    let d = 30;
    // iid Gaussian; 20 clusters; a 2-d curve with a little noise; 3-d and 4-d curved manifolds
    // (as `benches/data_families.py`'s `manifold`); decreasing variances; 50 distinct rows.
    let families = [
        "gaussian",
        "clustered",
        "manifold",
        "latent3",
        "latent4",
        "variances",
        "copies",
    ];
    for fam in families {
        for n in [300usize, 1000, 3000, 5000, 8192, 16000, 32000, 65536] {
            let mut s = crate::rng::Stream::new(3, crate::rng::Purpose::Smote, 9, 0);
            let centers: Vec<f64> = (0..20 * d).map(|_| s.normal() * 3.0).collect();
            let basis: Vec<f64> = (0..3 * d).map(|_| s.normal()).collect();
            // The latent manifolds: tanh(z A) B * 3 + sin(z C) for a Gaussian z of m dimensions.
            let m = match fam {
                "latent3" => 3,
                "latent4" => 4,
                _ => 0,
            };
            let z: Vec<f64> = (0..n * m).map(|_| s.normal()).collect();
            let a: Vec<f64> = (0..m * 12).map(|_| s.normal()).collect();
            let b: Vec<f64> = (0..12 * d).map(|_| s.normal() / 12f64.sqrt()).collect();
            let c: Vec<f64> = (0..m * d).map(|_| s.normal()).collect();
            let latent = |i: usize, j: usize| {
                let zi = &z[i * m..(i + 1) * m];
                let h: f64 = (0..12)
                    .map(|t| {
                        (0..m).map(|u| zi[u] * a[u * 12 + t]).sum::<f64>().tanh() * b[t * d + j]
                    })
                    .sum();
                h * 3.0 + (0..m).map(|u| zi[u] * c[u * d + j]).sum::<f64>().sin()
            };
            let x = Array2::from_shape_fn((n, d), |(i, j)| match fam {
                "gaussian" => s.normal() as f32,
                "clustered" => (centers[(i % 20) * d + j] + s.normal()) as f32,
                "manifold" => {
                    let t = (i as f64 * 0.618).sin();
                    (basis[j] * t + basis[d + j] * (i as f64 * 0.3).cos() + 0.01 * s.normal())
                        as f32
                }
                "latent3" | "latent4" => (latent(i, j) + 0.01 * s.normal()) as f32,
                "variances" => (s.normal() * 3.0 / (1.0 + j as f64)) as f32,
                _ => ((i % 50) as f64 + 0.0 * s.normal()) as f32 + j as f32,
            });
            let mut best = [f64::INFINITY; 2];
            for _ in 0..if n > 20000 { 2 } else { 5 } {
                let t = std::time::Instant::now();
                let a = BruteForce::new(x.view()).query_self(5).unwrap();
                best[0] = best[0].min(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let b = super::dense::self_knn(x.as_slice().unwrap(), n, d, 5, Kernel::detect())
                    .unwrap();
                best[1] = best[1].min(t.elapsed().as_secs_f64());
                assert_eq!(a, b);
            }
            let picked = if super::dense::takes(x.as_slice().unwrap(), n, d) {
                "dense"
            } else {
                "tiled"
            };
            let probe = super::dense::probe(x.as_slice().unwrap(), n, d);
            eprintln!(
                "{fam:10} {n:6} rows: tiled {:8.3} ms, dense {:8.3} ms ({:.2}x); probe {probe:.3}, picks {picked}",
                best[0] * 1e3,
                best[1] * 1e3,
                best[0] / best[1]
            );
        }
    }
}
