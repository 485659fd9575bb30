//! The neighbour-based cleaning rules of imbalanced-learn, decided exactly: Edited Nearest
//! Neighbours and Tomek links. This file checks the arguments and orders the output; the engine
//! that decides the rows (one index per class, bound then verify) is `by_class`. The neighbours
//! of chosen rows that the Neighbourhood Cleaning Rule and One-Sided Selection need are
//! `crate::neighbors::{knn_of_rows, knn_query}`.
//!
//! Neighbours of a row exclude the row itself by index and are ranked by (Euclidean distance, row
//! index). imbalanced-learn instead asks scikit-learn for `k + 1` neighbours and drops the first,
//! which is the row itself unless another row lies at distance 0 from it: the results differ only
//! where equal distances make the choice ambiguous.

use ndarray::ArrayView2;

use super::by_class::{enn_keep_mask, tomek_link_mask, Anchors};
use super::EnnRule;
use crate::classes::class_rows;
use crate::error::{CoreError, Result};
use crate::float::Float;

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

/// Edited Nearest Neighbours: the rows kept, class by class in code order, each class's rows in row
/// order (imbalanced-learn's `sample_indices_`). `anchors`: see [`Anchors`] (the same answer
/// with or without them).
pub fn edited_nearest_neighbours<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
    k: usize,
    kind: EnnRule,
    anchors: Option<Anchors>,
) -> Result<Vec<usize>> {
    check_inputs(x, codes, n_classes)?;
    if targeted.len() != n_classes {
        return Err(CoreError::Shape(
            "one target flag per class is needed".into(),
        ));
    }
    check_k(x.nrows(), k)?;
    // The per-class indexes read rows in place: row-major (a copy only for other layouts).
    let x = x.as_standard_layout();
    let x = x.view();
    let keep = enn_keep_mask(x, codes, n_classes, targeted, k, kind, anchors)?;
    let rows = class_rows(codes, n_classes)?;
    Ok(rows
        .into_iter()
        .flat_map(|r| r.into_iter())
        .filter(|&i| keep[i])
        .collect())
}

/// Tomek links: the rows kept (every row not a `targeted`-class member of a link), in row order.
/// `anchors`: see [`Anchors`] (the same answer with or without them).
pub fn tomek_links<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
    anchors: Option<Anchors>,
) -> Result<Vec<usize>> {
    check_inputs(x, codes, n_classes)?;
    if targeted.len() != n_classes {
        return Err(CoreError::Shape(
            "one target flag per class is needed".into(),
        ));
    }
    check_k(x.nrows(), 1)?;
    // The per-class indexes read rows in place: row-major (a copy only for other layouts).
    let x = x.as_standard_layout();
    let x = x.view();
    let mask = tomek_link_mask(x, codes, n_classes, targeted, anchors)?;
    Ok((0..x.nrows()).filter(|&i| !mask[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::exact_sq_dist;
    use crate::rng::{Purpose, Stream};
    use ndarray::Array2;
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
            let kind = if mode { EnnRule::Mode } else { EnnRule::All };
            let got = edited_nearest_neighbours(x.view(), &codes, n_classes, &targeted, k, kind, None).unwrap();
            let mut want = Vec::new();
            for c in 0..n_classes as u32 {
                for i in (0..n).filter(|&i| codes[i] == c) {
                    let nb = brute_knn(&x, i, k);
                    let keep = !targeted[c as usize] || match kind {
                        EnnRule::All => nb.iter().all(|&j| codes[j] == c),
                        EnnRule::Mode => {
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

            let got = tomek_links(x.view(), &codes, n_classes, &targeted, None).unwrap();
            let nn: Vec<usize> = (0..n).map(|i| brute_knn(&x, i, 1)[0]).collect();
            let want: Vec<usize> = (0..n).filter(|&i| {
                let j = nn[i];
                !(targeted[codes[i] as usize] && codes[j] != codes[i] && nn[j] == i)
            }).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let x = ndarray::array![[0.0f64], [1.0], [2.0]];
        let codes = [0u32, 0, 1];
        let e =
            edited_nearest_neighbours(x.view(), &codes, 2, &[true, false], 3, EnnRule::All, None)
                .unwrap_err();
        assert!(
            e.to_string().contains("n_neighbors = 4, n_samples_fit = 3"),
            "{e}"
        );
        assert!(tomek_links(x.view(), &codes[..2], 2, &[true, false], None).is_err());
        assert!(edited_nearest_neighbours(
            x.view(),
            &[0, 0, 5],
            2,
            &[true, true],
            1,
            EnnRule::All,
            None
        )
        .is_err());
    }

    #[test]
    fn float32_rows_far_from_the_origin() {
        let mut s = Stream::new(5, Purpose::Smote, 1, 0);
        let n = 600;
        let codes: Vec<u32> = (0..n).map(|i| (i % 9 == 0) as u32).collect();
        let x32 = Array2::from_shape_fn((n, 8), |_| (1.0e4 + s.normal()) as f32);
        let x64 = x32.mapv(|v| v as f64);
        let a =
            edited_nearest_neighbours(x32.view(), &codes, 2, &[true, false], 3, EnnRule::All, None)
                .unwrap();
        let b =
            edited_nearest_neighbours(x64.view(), &codes, 2, &[true, false], 3, EnnRule::All, None)
                .unwrap();
        assert_eq!(a, b);
    }
}
