//! Random under-sampling.

use std::collections::HashMap;

use crate::error::{CoreError, Result};
use crate::rng::{Purpose, Stream};

/// Rows kept, class by class in code order: for a class with a target `Some(m)`, `m` of its rows
/// drawn uniformly (without replacement unless `replacement`), in the order drawn; for a class with
/// `None`, all of its rows in order. The same layout as imbalanced-learn's `sample_indices_`.
pub fn random_under_sample_indices(
    class_rows: &[Vec<usize>],
    targets: &[Option<usize>],
    replacement: bool,
    seed: u64,
) -> Result<Vec<usize>> {
    if targets.len() != class_rows.len() {
        return Err(CoreError::Shape("one target per class is needed".into()));
    }
    let mut out = Vec::new();
    for (c, rows) in class_rows.iter().enumerate() {
        match targets[c] {
            None => out.extend_from_slice(rows),
            Some(m) => {
                let n = rows.len();
                if m > n && !replacement {
                    return Err(CoreError::InvalidArgument(format!(
                        "cannot draw {m} rows without replacement from class {c}, which has {n}"
                    )));
                }
                if m > 0 && n == 0 {
                    return Err(CoreError::InvalidArgument(format!(
                        "class {c} has no rows to draw from"
                    )));
                }
                let mut s = Stream::new(seed, Purpose::RandomUnderSample, c as u32, 0);
                if replacement {
                    out.extend((0..m).map(|_| rows[s.below(n as u64) as usize]));
                } else {
                    // Partial Fisher-Yates over a sparse permutation: O(m) time and memory.
                    let mut swapped: HashMap<usize, usize> = HashMap::with_capacity(m);
                    for i in 0..m {
                        let j = i + s.below((n - i) as u64) as usize;
                        let vj = *swapped.get(&j).unwrap_or(&j);
                        let vi = *swapped.get(&i).unwrap_or(&i);
                        swapped.insert(j, vi);
                        out.push(rows[vj]);
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::class_rows;

    #[test]
    fn keeps_distinct_rows_of_the_right_class() {
        let codes: Vec<u32> = (0..5000).map(|i| (i % 50 == 0) as u32).collect();
        let rows = class_rows(&codes, 2).unwrap();
        let idx = random_under_sample_indices(&rows, &[Some(100), None], false, 1).unwrap();
        assert_eq!(idx.len(), 200);
        let mut first: Vec<usize> = idx[..100].to_vec();
        assert!(first.iter().all(|&i| codes[i] == 0));
        first.sort();
        first.dedup();
        assert_eq!(first.len(), 100);
        assert_eq!(&idx[100..], &rows[1][..]);
        assert!(random_under_sample_indices(&rows, &[Some(6000), None], false, 1).is_err());
        assert_eq!(
            random_under_sample_indices(&rows, &[Some(6000), None], true, 1)
                .unwrap()
                .len(),
            6100
        );
    }

    #[test]
    fn whole_class_draw_is_a_permutation() {
        let rows = vec![(0..37).collect::<Vec<_>>()];
        let mut idx = random_under_sample_indices(&rows, &[Some(37)], false, 9).unwrap();
        idx.sort();
        assert_eq!(idx, (0..37).collect::<Vec<_>>());
    }
}
