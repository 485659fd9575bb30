//! Exact k nearest neighbours of an in-memory query set over data that arrives in chunks (record
//! batches of a Parquet scan, partitions of a Spark DataFrame).
//!
//! Every row has a global position (its place in the data's canonical order). A chunk's rows come in
//! increasing position, so ranking a chunk's rows by (exact squared distance, row in the chunk) is
//! ranking them by (distance, position). Each chunk gives every query its `k` best candidates,
//! [`merge_knn`] keeps the `k` best of two candidate lists, and the lists merged over all chunks are
//! the exact neighbours, ties by position: the same lists as a search over all the rows at once.
//! Distances are exact squared Euclidean distances in `f64` ([`exact_sq_dist`]), the values the
//! in-memory search ranks by, so a tie there is a tie here.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{exact_sq_dist, BruteForce, KnnIndex};
use crate::error::{CoreError, Result};
use crate::float::Float;

/// Position of a query that is not one of the data's rows (nothing excluded).
pub const NO_POSITION: i64 = -1;
/// Position of an empty slot of a candidate list (fewer than `k` rows seen so far).
pub const EMPTY_SLOT: i64 = i64::MAX;

/// Candidate lists: squared distances and positions, each `n_queries x k`, rows ranked by
/// (distance, position); empty slots are `(inf, EMPTY_SLOT)`.
pub type Candidates = (Array2<f64>, Array2<i64>);

fn check_positions(pos: &[i64], n: usize, what: &str) -> Result<()> {
    if pos.len() != n {
        return Err(CoreError::Shape(format!(
            "{what}: {} positions for {n} rows",
            pos.len()
        )));
    }
    if pos.windows(2).any(|w| w[0] >= w[1]) || pos.first().is_some_and(|&p| p < 0) {
        return Err(CoreError::InvalidArgument(format!(
            "{what}: positions must be >= 0 and strictly increasing"
        )));
    }
    Ok(())
}

/// The `k` nearest rows of `chunk` (positions `chunk_pos`, strictly increasing) to each query,
/// excluding the row whose position is the query's own (`query_pos[i]`, or [`NO_POSITION`]).
pub fn chunk_knn<F: Float>(
    chunk: ArrayView2<F>,
    chunk_pos: &[i64],
    queries: ArrayView2<F>,
    query_pos: &[i64],
    k: usize,
) -> Result<Candidates> {
    let n = chunk.nrows();
    let m = queries.nrows();
    check_positions(chunk_pos, n, "the chunk")?;
    if query_pos.len() != m {
        return Err(CoreError::Shape(format!(
            "{} query positions for {m} queries",
            query_pos.len()
        )));
    }
    if k == 0 {
        return Err(CoreError::InvalidArgument("k must be >= 1".into()));
    }
    if m > 0 && queries.ncols() != chunk.ncols() {
        return Err(CoreError::Shape(format!(
            "queries have {} features, the chunk {}",
            queries.ncols(),
            chunk.ncols()
        )));
    }
    let mut sq = Array2::from_elem((m, k), f64::INFINITY);
    let mut pos = Array2::from_elem((m, k), EMPTY_SLOT);
    if n == 0 || m == 0 {
        return Ok((sq, pos));
    }
    let chunk = chunk.as_standard_layout();
    let queries = queries.as_standard_layout();
    // One more than k: the query's own row may be among them.
    let wanted = (k + 1).min(n);
    let found = BruteForce::new(chunk.view()).query(queries.view(), wanted)?;
    sq.outer_iter_mut()
        .into_par_iter()
        .zip(pos.outer_iter_mut().into_par_iter())
        .enumerate()
        .for_each(|(q, (mut s, mut p))| {
            let qrow = queries.row(q);
            let qrow = qrow.as_slice().expect("standard layout");
            let mut filled = 0;
            for &j in found.indices.row(q).iter() {
                if filled == k {
                    break;
                }
                if chunk_pos[j] == query_pos[q] {
                    continue;
                }
                let r = chunk.row(j);
                s[filled] = exact_sq_dist(qrow, r.as_slice().expect("standard layout"));
                p[filled] = chunk_pos[j];
                filled += 1;
            }
        });
    Ok((sq, pos))
}

/// The `k` best of two candidate lists per query, by (distance, position).
pub fn merge_knn(a: &Candidates, b: &Candidates) -> Result<Candidates> {
    let (m, k) = a.0.dim();
    if a.1.dim() != (m, k) || b.0.dim() != (m, k) || b.1.dim() != (m, k) {
        return Err(CoreError::Shape(
            "candidate lists to merge must all have the same shape".into(),
        ));
    }
    let mut sq = Array2::from_elem((m, k), f64::INFINITY);
    let mut pos = Array2::from_elem((m, k), EMPTY_SLOT);
    sq.outer_iter_mut()
        .into_par_iter()
        .zip(pos.outer_iter_mut().into_par_iter())
        .enumerate()
        .for_each(|(q, (mut s, mut p))| {
            let (mut i, mut j) = (0, 0);
            for slot in 0..k {
                let ka = (a.0[[q, i.min(k - 1)]], a.1[[q, i.min(k - 1)]]);
                let kb = (b.0[[q, j.min(k - 1)]], b.1[[q, j.min(k - 1)]]);
                let take_a = if i >= k {
                    false
                } else if j >= k {
                    true
                } else {
                    ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1)).is_le()
                };
                let v = if take_a {
                    i += 1;
                    ka
                } else {
                    j += 1;
                    kb
                };
                s[slot] = v.0;
                p[slot] = v.1;
            }
        });
    Ok((sq, pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// Reference: all rows at once, ranked by (exact squared distance, position).
    fn reference(x: &Array2<f64>, q: &Array2<f64>, qpos: &[i64], k: usize) -> Vec<Vec<(f64, i64)>> {
        (0..q.nrows())
            .map(|i| {
                let mut v: Vec<(f64, i64)> = (0..x.nrows())
                    .filter(|&j| j as i64 != qpos[i])
                    .map(|j| {
                        let a = q.row(i).to_vec();
                        let b = x.row(j).to_vec();
                        (exact_sq_dist(&a, &b), j as i64)
                    })
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                v.truncate(k);
                v
            })
            .collect()
    }

    #[test]
    fn merged_chunks_equal_one_search_with_ties() {
        let mut s = Stream::new(5, Purpose::Shrinkage, 0, 0);
        // Coarse values: many exact ties, which must be ranked by position across chunks.
        let x = Array2::from_shape_fn((300, 2), |_| (s.below(4)) as f64);
        let qrows: Vec<usize> = (0..300).step_by(7).collect();
        let q = Array2::from_shape_fn((qrows.len(), 2), |(i, j)| x[[qrows[i], j]]);
        let qpos: Vec<i64> = qrows.iter().map(|&r| r as i64).collect();
        let k = 6;
        let want = reference(&x, &q, &qpos, k);
        let mut acc: Option<Candidates> = None;
        for (a, b) in [(0, 40), (40, 41), (41, 200), (200, 300)] {
            let pos: Vec<i64> = (a..b).map(|p| p as i64).collect();
            let part = x.slice(ndarray::s![a..b, ..]);
            let c = chunk_knn(part, &pos, q.view(), &qpos, k).unwrap();
            acc = Some(match acc {
                None => c,
                Some(prev) => merge_knn(&prev, &c).unwrap(),
            });
        }
        let (sq, pos) = acc.unwrap();
        for i in 0..q.nrows() {
            let got: Vec<(f64, i64)> = (0..k).map(|j| (sq[[i, j]], pos[[i, j]])).collect();
            assert_eq!(got, want[i], "query {i}");
        }
    }

    #[test]
    fn positions_must_increase() {
        let x = Array2::<f64>::zeros((3, 1));
        assert!(chunk_knn(x.view(), &[0, 2, 1], x.view(), &[-1, -1, -1], 1).is_err());
    }
}
