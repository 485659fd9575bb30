//! Class bookkeeping shared by every sampler: which rows belong to which class code.

use crate::error::{CoreError, Result};

/// Row indices of each class, in row order: `rows[c]` lists the rows whose code is `c`. A code
/// `>= n_classes` is an error.
pub fn class_rows(codes: &[u32], n_classes: usize) -> Result<Vec<Vec<usize>>> {
    let mut counts = vec![0usize; n_classes];
    for &c in codes {
        let c = c as usize;
        if c >= n_classes {
            return Err(CoreError::InvalidArgument(format!(
                "class code {c} is out of range for {n_classes} classes"
            )));
        }
        counts[c] += 1;
    }
    let mut rows: Vec<Vec<usize>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (i, &c) in codes.iter().enumerate() {
        rows[c as usize].push(i);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_class_in_row_order() {
        assert_eq!(
            class_rows(&[1, 0, 1, 2], 3).unwrap(),
            vec![vec![1], vec![0, 2], vec![3]]
        );
        assert_eq!(class_rows(&[0, 0], 2).unwrap(), vec![vec![0, 1], vec![]]);
        assert!(class_rows(&[0, 3], 3).is_err());
    }
}
