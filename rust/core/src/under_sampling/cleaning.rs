//! The neighbour-based cleaning rules of imbalanced-learn, decided exactly with [`ClassTree`]:
//! Edited Nearest Neighbours, Tomek links, and the k nearest neighbours of chosen rows (for the
//! Neighbourhood Cleaning Rule).
//!
//! Neighbours of a row exclude the row itself by index and are ranked by (Euclidean distance, row
//! index). imbalanced-learn instead asks scikit-learn for `k + 1` neighbours and drops the first,
//! which is the row itself unless another row lies at distance 0 from it: the results differ only
//! where equal distances make the choice ambiguous.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::class_tree::{Best, ClassTree};
use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::over_sampling::class_rows;

/// How ENN judges a row from the classes of its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindSel {
    /// Keep a row only when all of its k neighbours are of its class.
    All,
    /// Keep a row when the most frequent class among its neighbours (the lowest class code among
    /// equally frequent ones, as `scipy.stats.mode`) is its class.
    Mode,
}

fn check_k(n: usize, k: usize) -> Result<()> {
    if k == 0 {
        return Err(CoreError::InvalidArgument(
            "n_neighbors must be >= 1".into(),
        ));
    }
    if k + 1 > n {
        return Err(CoreError::InvalidArgument(format!(
            "Expected n_neighbors <= n_samples_fit, but n_neighbors = {}, n_samples_fit = {n}, \
             n_samples = {n}",
            k + 1
        )));
    }
    Ok(())
}

fn check_inputs<F: Float>(x: ArrayView2<F>, codes: &[u32], n_classes: usize) -> Result<()> {
    if codes.len() != x.nrows() {
        return Err(CoreError::Shape(format!(
            "X has {} rows but y has {}",
            x.nrows(),
            codes.len()
        )));
    }
    if let Some(&c) = codes.iter().find(|&&c| c as usize >= n_classes) {
        return Err(CoreError::InvalidArgument(format!(
            "class code {c} is out of range for {n_classes} classes"
        )));
    }
    Ok(())
}

fn mode_code(labels: impl Iterator<Item = u32>, scratch: &mut Vec<(u32, usize)>) -> u32 {
    scratch.clear();
    for c in labels {
        match scratch.iter_mut().find(|p| p.0 == c) {
            Some(p) => p.1 += 1,
            None => scratch.push((c, 1)),
        }
    }
    // Most frequent, then lowest code.
    scratch
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|p| p.0)
        .expect("k >= 1")
}

/// Per row: whether Edited Nearest Neighbours keeps it (rows of classes not `targeted` always stay).
pub fn enn_keep_mask<F: Float>(
    tree: &ClassTree<F>,
    codes: &[u32],
    targeted: &[bool],
    k: usize,
    kind: KindSel,
) -> Result<Vec<bool>> {
    let n = tree.n_rows();
    check_k(n, k)?;
    let mut keep = vec![true; n];
    let decided: Vec<(usize, bool)> = targeted_leaves(tree, targeted)
        .par_iter()
        .map_init(
            || (Best::new(k), Vec::new(), Vec::new()),
            |(best, scratch, dist), &(c, leaf)| {
                let proven = tree.prove_leaf(c, leaf, k, dist);
                let rows = tree.leaf_rows(c, leaf);
                rows.iter()
                    .zip(proven)
                    .map(|(&i, (proven, bound))| {
                        if proven {
                            return (i, true);
                        }
                        // The exact neighbours, searched only within the leaf's bound.
                        tree.knn_of_capped(i, bound, best);
                        let c = codes[i];
                        let labels = best.items.iter().map(|&(_, j)| codes[j]);
                        let kept = match kind {
                            KindSel::All => labels.into_iter().all(|l| l == c),
                            KindSel::Mode => mode_code(labels, scratch) == c,
                        };
                        (i, kept)
                    })
                    .collect::<Vec<_>>()
            },
        )
        .flatten()
        .collect();
    for (i, kept) in decided {
        keep[i] = kept;
    }
    Ok(keep)
}

/// (class, leaf) of every leaf of a targeted class.
fn targeted_leaves<F: Float>(tree: &ClassTree<F>, targeted: &[bool]) -> Vec<(usize, usize)> {
    targeted
        .iter()
        .enumerate()
        .filter(|&(_, &t)| t)
        .flat_map(|(c, _)| tree.leaves(c).into_iter().map(move |l| (c, l)))
        .collect()
}

/// Edited Nearest Neighbours: the rows kept, class by class in code order, each class's rows in row
/// order (imbalanced-learn's `sample_indices_`).
pub fn edited_nearest_neighbours<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
    k: usize,
    kind: KindSel,
) -> Result<Vec<usize>> {
    check_inputs(x, codes, n_classes)?;
    if targeted.len() != n_classes {
        return Err(CoreError::Shape(
            "one target flag per class is needed".into(),
        ));
    }
    check_k(x.nrows(), k)?;
    let tree = ClassTree::new(x, codes, n_classes);
    let keep = enn_keep_mask(&tree, codes, targeted, k, kind)?;
    let rows = class_rows(codes, n_classes)?;
    Ok(rows
        .into_iter()
        .flat_map(|r| r.into_iter())
        .filter(|&i| keep[i])
        .collect())
}

/// Per row: whether it is a row of a `targeted` class in a Tomek link (it and its nearest
/// neighbour, of another class, are each other's nearest neighbour).
pub fn tomek_link_mask<F: Float>(
    tree: &ClassTree<F>,
    codes: &[u32],
    targeted: &[bool],
) -> Result<Vec<bool>> {
    let n = tree.n_rows();
    check_k(n, 1)?;
    let linked: Vec<usize> = targeted_leaves(tree, targeted)
        .par_iter()
        .map_init(
            || (Vec::new(), Best::new(1)),
            |(dist, best), &(c, leaf)| {
                let proven = tree.prove_leaf(c, leaf, 1, dist);
                let rows = tree.leaf_rows(c, leaf);
                rows.iter()
                    .zip(proven)
                    .filter(|&(_, (proven, _))| !proven)
                    .filter_map(|(&i, (_, bound))| {
                        // i's exact nearest neighbour j, searched within the leaf's bound.
                        tree.knn_of_capped(i, bound, best);
                        let (d2, j) = best.items[0];
                        if codes[j] == codes[i] {
                            return None;
                        }
                        // A link iff no row beats i as j's nearest.
                        (!tree.any_before(tree.row(j), j, (d2, i))).then_some(i)
                    })
                    .collect::<Vec<_>>()
            },
        )
        .flatten()
        .collect();
    let mut mask = vec![false; n];
    for i in linked {
        mask[i] = true;
    }
    Ok(mask)
}

/// Tomek links: the rows kept (every row not a `targeted`-class member of a link), in row order.
pub fn tomek_links<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
) -> Result<Vec<usize>> {
    check_inputs(x, codes, n_classes)?;
    if targeted.len() != n_classes {
        return Err(CoreError::Shape(
            "one target flag per class is needed".into(),
        ));
    }
    check_k(x.nrows(), 1)?;
    let tree = ClassTree::new(x, codes, n_classes);
    let mask = tomek_link_mask(&tree, codes, targeted)?;
    Ok((0..x.nrows()).filter(|&i| !mask[i]).collect())
}

/// The exact `k` nearest other rows of each row in `rows` (itself excluded by index), row-major
/// `rows.len() x k`, ranked by (distance, row index).
pub fn knn_of_rows<F: Float>(x: ArrayView2<F>, rows: &[usize], k: usize) -> Result<Array2<usize>> {
    let n = x.nrows();
    check_k(n, k)?;
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(CoreError::Shape(format!(
            "row {bad} is out of range for {n} rows"
        )));
    }
    let codes = vec![0u32; n];
    let tree = ClassTree::new(x, &codes, 1);
    let mut out = vec![0usize; rows.len() * k];
    out.par_chunks_mut(k).zip(rows.par_iter()).for_each_init(
        || Best::new(k),
        |best, (o, &i)| {
            tree.knn_of(i, best);
            for (slot, &(_, j)) in o.iter_mut().zip(best.items.iter()) {
                *slot = j;
            }
        },
    );
    Ok(Array2::from_shape_vec((rows.len(), k), out).expect("shape"))
}

/// The exact `k` nearest rows of `data` to each row of `queries`, by (distance, row index):
/// (Euclidean distances, row indices), each `queries.nrows() x k`.
pub fn knn_query<F: Float>(
    data: ArrayView2<F>,
    queries: ArrayView2<F>,
    k: usize,
) -> Result<(Array2<f64>, Array2<usize>)> {
    let n = data.nrows();
    if k == 0 || k > n {
        return Err(CoreError::InvalidArgument(format!(
            "Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, n_samples_fit = {n}, \
             n_samples = {}",
            queries.nrows()
        )));
    }
    if queries.ncols() != data.ncols() {
        return Err(CoreError::Shape(format!(
            "queries have {} features, the data {}",
            queries.ncols(),
            data.ncols()
        )));
    }
    let codes = vec![0u32; n];
    let tree = ClassTree::new(data, &codes, 1);
    let q: Vec<F> = queries.iter().copied().collect();
    let d = data.ncols();
    let nq = queries.nrows();
    let mut dist = vec![0f64; nq * k];
    let mut idx = vec![0usize; nq * k];
    dist.par_chunks_mut(k)
        .zip(idx.par_chunks_mut(k))
        .enumerate()
        .for_each_init(
            || Best::new(k),
            |best, (r, (od, oi))| {
                tree.knn_point(&q[r * d..(r + 1) * d], best);
                for (t, &(s, j)) in best.items.iter().enumerate() {
                    od[t] = s.sqrt();
                    oi[t] = j;
                }
            },
        );
    Ok((
        Array2::from_shape_vec((nq, k), dist).expect("shape"),
        Array2::from_shape_vec((nq, k), idx).expect("shape"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::exact_sq_dist;
    use crate::rng::{Purpose, Stream};
    use proptest::prelude::*;

    /// Reference k nearest (distance, index) of row i, by a full scan.
    fn brute_knn(x: &Array2<f64>, i: usize, k: usize) -> Vec<usize> {
        let mut v: Vec<(f64, usize)> = (0..x.nrows())
            .filter(|&j| j != i)
            .map(|j| {
                (
                    exact_sq_dist(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap()),
                    j,
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v.into_iter().take(k).map(|p| p.1).collect()
    }

    fn data(
        n: usize,
        d: usize,
        n_classes: u64,
        seed: u64,
        coarse: bool,
    ) -> (Array2<f64>, Vec<u32>) {
        let mut s = Stream::new(seed, Purpose::Smote, 7, 0);
        let codes: Vec<u32> = (0..n).map(|_| s.below(n_classes) as u32).collect();
        let x = Array2::from_shape_fn((n, d), |(i, _)| {
            if coarse {
                // Few distinct values: many ties and duplicates.
                s.below(4) as f64 * 0.5
            } else {
                s.normal() + codes[i] as f64 * 0.8
            }
        });
        (x, codes)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn enn_and_tomek_match_a_full_scan(
            n in 3usize..400, d in 1usize..6, nc in 2u64..4, k in 1usize..5, seed in 0u64..1000,
            coarse in proptest::bool::ANY, mode in proptest::bool::ANY,
        ) {
            let k = k.min(n - 1);
            let (x, codes) = data(n, d, nc, seed, coarse);
            let n_classes = nc as usize;
            let targeted: Vec<bool> = (0..n_classes).map(|c| c != 1).collect();
            let kind = if mode { KindSel::Mode } else { KindSel::All };
            let got = edited_nearest_neighbours(x.view(), &codes, n_classes, &targeted, k, kind).unwrap();
            let mut want = Vec::new();
            for c in 0..n_classes as u32 {
                for i in (0..n).filter(|&i| codes[i] == c) {
                    let nb = brute_knn(&x, i, k);
                    let keep = !targeted[c as usize] || match kind {
                        KindSel::All => nb.iter().all(|&j| codes[j] == c),
                        KindSel::Mode => {
                            let mut cnt = vec![0usize; n_classes];
                            for &j in &nb { cnt[codes[j] as usize] += 1; }
                            let top = *cnt.iter().max().unwrap();
                            cnt.iter().position(|&v| v == top).unwrap() as u32 == c
                        }
                    };
                    if keep { want.push(i); }
                }
            }
            prop_assert_eq!(got, want);

            let got = tomek_links(x.view(), &codes, n_classes, &targeted).unwrap();
            let nn: Vec<usize> = (0..n).map(|i| brute_knn(&x, i, 1)[0]).collect();
            let want: Vec<usize> = (0..n).filter(|&i| {
                let j = nn[i];
                !(targeted[codes[i] as usize] && codes[j] != codes[i] && nn[j] == i)
            }).collect();
            prop_assert_eq!(got, want);

            let (_, got_q) = knn_query(x.view(), x.view(), k).unwrap();
            for i in 0..n {
                let mut want = brute_knn(&x, i, k.min(n - 1));
                // The point itself (distance 0) ranks among equals by index.
                want.push(i);
                let di = |j: usize| exact_sq_dist(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap());
                want.sort_by(|&a, &b| di(a).total_cmp(&di(b)).then(a.cmp(&b)));
                want.truncate(k);
                prop_assert_eq!(got_q.row(i).to_vec(), want);
            }

            let rows: Vec<usize> = (0..n).step_by(3).collect();
            let got = knn_of_rows(x.view(), &rows, k).unwrap();
            for (r, &i) in rows.iter().enumerate() {
                prop_assert_eq!(got.row(r).to_vec(), brute_knn(&x, i, k));
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let x = ndarray::array![[0.0f64], [1.0], [2.0]];
        let codes = [0u32, 0, 1];
        let e = edited_nearest_neighbours(x.view(), &codes, 2, &[true, false], 3, KindSel::All)
            .unwrap_err();
        assert!(
            e.to_string().contains("n_neighbors = 4, n_samples_fit = 3"),
            "{e}"
        );
        assert!(tomek_links(x.view(), &codes[..2], 2, &[true, false]).is_err());
        assert!(
            edited_nearest_neighbours(x.view(), &[0, 0, 5], 2, &[true, true], 1, KindSel::All)
                .is_err()
        );
    }

    #[test]
    fn float32_rows_far_from_the_origin() {
        let mut s = Stream::new(5, Purpose::Smote, 1, 0);
        let n = 600;
        let codes: Vec<u32> = (0..n).map(|i| (i % 9 == 0) as u32).collect();
        let x32 = Array2::from_shape_fn((n, 8), |_| (1.0e4 + s.normal()) as f32);
        let x64 = x32.mapv(|v| v as f64);
        let a = edited_nearest_neighbours(x32.view(), &codes, 2, &[true, false], 3, KindSel::All)
            .unwrap();
        let b = edited_nearest_neighbours(x64.view(), &codes, 2, &[true, false], 3, KindSel::All)
            .unwrap();
        assert_eq!(a, b);
    }
}

#[cfg(test)]
mod profile {
    use super::*;
    use std::time::Instant;

    /// Timing of the phases on a dump of the benchmark data (`/tmp/p3_X.bin`, f32 x 30).
    #[test]
    #[ignore]
    fn profile_fraud() {
        let xb = std::fs::read("/tmp/p3_X.bin").unwrap();
        let yb = std::fs::read("/tmp/p3_y.bin").unwrap();
        let x: Vec<f32> = xb
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let codes: Vec<u32> = yb
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let n = codes.len();
        let x = ndarray::ArrayView2::from_shape((n, 30), &x).unwrap();
        let t = Instant::now();
        let _tree = ClassTree::new(x, &codes, 2);
        eprintln!("build {:?}", t.elapsed());
        let t = Instant::now();
        let e = edited_nearest_neighbours(x, &codes, 2, &[true, false], 3, KindSel::All).unwrap();
        eprintln!("enn {:?} kept {}", t.elapsed(), e.len());
        let t = Instant::now();
        let e = tomek_links(x, &codes, 2, &[true, false]).unwrap();
        eprintln!("tomek {:?} kept {}", t.elapsed(), e.len());
    }
}
