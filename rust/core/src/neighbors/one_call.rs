//! One-call exact searches over a matrix, for callers that need one neighbour list and no index
//! kept between calls: the neighbours of chosen rows among all rows (the Neighbourhood Cleaning
//! Rule's minority rows), and the neighbours of outside query rows (One-Sided Selection's
//! 1-NN classifier). Both rank by (Euclidean distance, row), searched without an index or through
//! a [`super::BruteForce`] index ([`super::rows_neighbors`], [`super::queries_neighbors`]).

use ndarray::{Array2, ArrayView2};

use crate::error::{CoreError, Result};
use crate::float::Float;

/// The exact `k` nearest other rows of each row in `rows` (itself excluded by index), row-major
/// `rows.len() x k`, ranked by (distance, row index).
pub fn knn_of_rows<F: Float>(x: ArrayView2<F>, rows: &[usize], k: usize) -> Result<Array2<usize>> {
    let n = x.nrows();
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
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(CoreError::Shape(format!(
            "row {bad} is out of range for {n} rows"
        )));
    }
    Ok(super::rows_neighbors(x, rows, k)?.indices)
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
    let nb = super::queries_neighbors(data, queries, k)?;
    Ok((nb.distances, nb.indices))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::exact_sq_dist;
    use crate::rng::{Purpose, Stream};
    use proptest::prelude::*;

    /// Reference k nearest other rows of row i, by a full scan ranked by (distance, index).
    fn scan(x: &Array2<f64>, i: usize, k: usize) -> Vec<usize> {
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn chosen_rows_and_queries_match_a_full_scan(
            n in 3usize..400, d in 1usize..6, k in 1usize..5, seed in 0u64..1000,
            coarse in proptest::bool::ANY,
        ) {
            let k = k.min(n - 1);
            let mut s = Stream::new(seed, Purpose::Smote, 7, 0);
            let x = Array2::from_shape_fn((n, d), |_| {
                // Few distinct values: many ties and duplicates.
                if coarse { s.below(4) as f64 * 0.5 } else { s.normal() }
            });

            let (_, got_q) = knn_query(x.view(), x.view(), k).unwrap();
            for i in 0..n {
                let mut want = scan(&x, i, k.min(n - 1));
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
                prop_assert_eq!(got.row(r).to_vec(), scan(&x, i, k));
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let x = ndarray::array![[0.0f64], [1.0], [2.0]];
        let e = knn_of_rows(x.view(), &[0], 3).unwrap_err();
        assert!(
            e.to_string().contains("n_neighbors = 4, n_samples_fit = 3"),
            "{e}"
        );
        assert!(knn_of_rows(x.view(), &[0], 0).is_err());
        assert!(knn_of_rows(x.view(), &[3], 1).is_err());
        assert!(knn_query(x.view(), x.view(), 4).is_err());
        assert!(knn_query(x.view(), ndarray::array![[0.0f64, 1.0]].view(), 1).is_err());
    }
}
