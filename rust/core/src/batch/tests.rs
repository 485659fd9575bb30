use super::*;
use proptest::prelude::*;

fn codes(counts: &[usize], seed: u64) -> Vec<u32> {
    // Classes interleaved pseudo-randomly, so that row numbers do not follow the classes.
    let mut v: Vec<u32> = counts
        .iter()
        .enumerate()
        .flat_map(|(c, &n)| std::iter::repeat_n(c as u32, n))
        .collect();
    let mut s = Stream::new(seed, Purpose::Shrinkage, 0, 0);
    for i in (1..v.len()).rev() {
        let j = s.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

fn opts(batch_size: usize) -> BatchOptions {
    BatchOptions {
        batch_size,
        num_batches: None,
        drop_last: false,
        seed: 11,
        rank: 0,
        world_size: 1,
    }
}

fn plan(counts: &[usize], weights: &[u64], o: BatchOptions) -> (Vec<u32>, BatchPlan) {
    let y = codes(counts, 5);
    let rows = ClassRows::from_codes(&y, counts.len()).unwrap();
    (y, BatchPlan::new(rows, weights.to_vec(), o).unwrap())
}

fn batches(p: &BatchPlan, epoch: u64) -> Vec<Vec<u64>> {
    let (idx, off) = p.epoch_indices::<u64>(epoch).unwrap();
    off.windows(2)
        .map(|w| idx[w[0] as usize..w[1] as usize].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn apportionment_stays_within_floor_and_ceiling(
        weights in prop::collection::vec(prop_oneof![0u64..4, 0u64..1000, 0u64..1_000_000, 0u64..(1 << 40)], 2..30),
        b in prop_oneof![1u64..4, 1u64..300, 1u64..5000],
        steps in 1usize..200,
    ) {
        prop_assume!(weights.iter().any(|&w| w > 0));
        let total: u128 = weights.iter().map(|&w| w as u128).sum();
        let mut app = Apportionment::new(&weights).unwrap();
        let mut prev = vec![0u64; weights.len()];
        for s in 1..=steps as u64 {
            let t = s * b;
            app.advance(t).unwrap();
            let a = app.counts();
            prop_assert_eq!(a.iter().sum::<u64>(), t);
            for c in 0..weights.len() {
                let share = t as u128 * weights[c] as u128;
                let lo = (share / total) as u64;
                let hi = share.div_ceil(total) as u64;
                prop_assert!(a[c] >= lo && a[c] <= hi, "class {} has {} of share {}/{}", c, a[c], share, total);
                prop_assert!(a[c] >= prev[c]);
            }
            prev = a.to_vec();
        }
    }

    #[test]
    fn every_batch_has_the_planned_composition(
        counts in prop::collection::vec(1usize..300, 2..6),
        b in 1usize..70,
        balanced in any::<bool>(),
        drop_last in any::<bool>(),
    ) {
        let weights: Vec<u64> = if balanced { vec![1; counts.len()] } else { counts.iter().map(|&n| n as u64).collect() };
        let mut o = opts(b);
        o.drop_last = drop_last;
        let (y, p) = plan(&counts, &weights, o);
        let total: u128 = weights.iter().map(|&w| w as u128).sum();
        let bs = batches(&p, 3);
        prop_assert_eq!(bs.len() as u64, p.len());
        let k = counts.len();
        let mut cum = vec![0u64; k];
        let mut t = 0u64;
        for batch in &bs {
            if drop_last { prop_assert_eq!(batch.len(), b); }
            prop_assert!(batch.len() <= b && !batch.is_empty());
            for &i in batch { cum[y[i as usize] as usize] += 1; }
            t += batch.len() as u64;
            for c in 0..k {
                let share = t as u128 * weights[c] as u128;
                prop_assert!(cum[c] as u128 * total >= share - share % total);
                prop_assert!(cum[c] as u128 <= share.div_ceil(total));
            }
        }
        prop_assert_eq!(t, p.rows_per_epoch());
        if !drop_last {
            // One pass over the largest class at least.
            let big = (0..k).max_by(|&a, &c| counts[a].cmp(&counts[c]).then(c.cmp(&a))).unwrap();
            prop_assert!(cum[big] >= counts[big] as u64);
        }
    }

    #[test]
    fn no_row_repeats_before_its_whole_class_is_seen(
        counts in prop::collection::vec(1usize..200, 2..5),
        b in 1usize..50,
    ) {
        let k = counts.len();
        let (y, p) = plan(&counts, &vec![1; k], opts(b));
        // Over consecutive epochs, after every batch, the draws of each row of a class differ by
        // at most one: no row comes back before all its class-mates have come.
        let mut seen: Vec<u32> = vec![0; y.len()];
        for epoch in 0..3 {
            for batch in batches(&p, epoch) {
                for &i in &batch { seen[i as usize] += 1; }
                for c in 0..k as u32 {
                    let (lo, hi) = y.iter().zip(&seen).filter(|(&yc, _)| yc == c)
                        .fold((u32::MAX, 0), |(lo, hi), (_, &s)| (lo.min(s), hi.max(s)));
                    prop_assert!(hi - lo <= 1, "class {} counts from {} to {}", c, lo, hi);
                }
            }
        }
    }
}

#[test]
fn shards_are_disjoint_equal_and_cover_the_global_batches() {
    let counts = [5000, 700, 45];
    let mut o = opts(32);
    o.num_batches = Some(120);
    let (_, whole) = plan(&counts, &[1, 1, 1], o.clone());
    let all = batches(&whole, 2);
    assert_eq!(all.len(), 120);
    for ws in [2u64, 3, 4] {
        let shards: Vec<Vec<Vec<u64>>> = (0..ws)
            .map(|r| {
                let mut o = o.clone();
                o.world_size = ws;
                o.rank = r;
                batches(&plan(&counts, &[1, 1, 1], o).1, 2)
            })
            .collect();
        for s in &shards {
            assert_eq!(s.len() as u64, 120 / ws);
        }
        for (j, batch) in all.iter().enumerate() {
            assert_eq!(&shards[j % ws as usize][j / ws as usize], batch);
        }
    }
    // Not divisible: every rank still gets as many batches; padding batches are new ones.
    let mut o7 = o.clone();
    o7.world_size = 7;
    let lens: Vec<u64> = (0..7)
        .map(|r| {
            let mut o = o7.clone();
            o.rank = r;
            plan(&counts, &[1, 1, 1], o).1.len()
        })
        .collect();
    assert!(lens.iter().all(|&l| l == 18), "{lens:?}");
}

#[test]
fn large_class_rows_are_disjoint_across_ranks_in_an_epoch() {
    let counts = [4000, 100];
    let ws = 4;
    let mut seen = std::collections::HashSet::new();
    let y = codes(&counts, 5);
    for r in 0..ws {
        let mut o = opts(50);
        o.world_size = ws;
        o.rank = r;
        let (_, p) = plan(&counts, &[1, 1], o);
        for batch in batches(&p, 0) {
            for i in batch {
                if y[i as usize] == 0 {
                    assert!(seen.insert(i), "majority row {i} on two ranks");
                }
            }
        }
    }
    assert_eq!(seen.len(), 4000);
}

#[test]
fn same_epoch_same_batches_other_epochs_differ_any_thread_count() {
    let (_, p) = plan(&[3000, 400, 20], &[1, 1, 1], opts(64));
    let run =
        |threads, epoch| crate::threads::run_with_threads(threads, || batches(&p, epoch)).unwrap();
    let a = run(1, 4);
    assert_eq!(a, run(3, 4));
    assert_ne!(a, run(1, 5));
    // The cursor gives the same batches, whatever its block size.
    for block in [1usize, 7, 1000] {
        let mut c = p.cursor(4).unwrap();
        let (mut out, mut sizes) = (Vec::<u64>::new(), Vec::new());
        while c.next_block(&p, block, &mut out, &mut sizes).unwrap() > 0 {}
        let mut got = Vec::new();
        let mut at = 0;
        for s in sizes {
            got.push(out[at..at + s as usize].to_vec());
            at += s as usize;
        }
        assert_eq!(got, a);
    }
}

#[test]
fn u64_row_store_gives_the_same_batches() {
    let counts = [900, 90, 9];
    let (y, p) = plan(&counts, &[1, 1, 1], opts(16));
    let rows = ClassRows::from_codes(&y, 3).unwrap();
    let (store, offsets) = rows.parts();
    let wide = match store {
        RowStore::U32(v) => RowStore::U64(v.iter().map(|&x| x as u64).collect()),
        RowStore::U64(_) => unreachable!(),
    };
    let rows64 = ClassRows::from_parts(wide, offsets.to_vec()).unwrap();
    let p64 = BatchPlan::new(rows64, vec![1, 1, 1], opts(16)).unwrap();
    assert_eq!(batches(&p, 1), batches(&p64, 1));
}

#[test]
fn tiny_share_class_gets_its_share_across_batches() {
    // 0.5% of the data, batches of 64: about one row every three batches, never zero overall.
    let counts = [19900, 100];
    let w: Vec<u64> = counts.iter().map(|&n| n as u64).collect();
    let (y, p) = plan(&counts, &w, opts(64));
    let bs = batches(&p, 0);
    let minority: Vec<usize> = bs
        .iter()
        .map(|b| b.iter().filter(|&&i| y[i as usize] == 1).count())
        .collect();
    assert_eq!(minority.iter().sum::<usize>(), 100);
    assert!(minority.iter().all(|&m| m <= 1));
    assert_eq!(p.rows_per_epoch(), 20000);
}

#[test]
fn bad_arguments_are_errors() {
    let y = codes(&[10, 0, 5], 1);
    let rows = ClassRows::from_codes(&y, 3).unwrap();
    assert!(BatchPlan::new(rows.clone(), vec![1, 1, 1], opts(4)).is_err());
    assert!(BatchPlan::new(rows.clone(), vec![1, 0, 1], opts(0)).is_err());
    assert!(BatchPlan::new(rows.clone(), vec![0, 0, 0], opts(4)).is_err());
    assert!(BatchPlan::new(rows.clone(), vec![1, 1], opts(4)).is_err());
    let mut o = opts(4);
    o.rank = 2;
    o.world_size = 2;
    assert!(BatchPlan::new(rows.clone(), vec![1, 0, 1], o).is_err());
    assert!(BatchPlan::new(rows, vec![1, 0, 1], opts(4)).is_ok());
    assert!(ClassRows::from_codes(&[0, 3], 2).is_err());
}
