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

/// [`class_rows`] for the classes with `wanted[c]` only (the others get an empty list), in one
/// parallel pass over `codes`; every code is still checked against `n_classes`. For a sampler that
/// grows a few small classes of a large input, whose largest class's rows it never reads.
pub fn class_rows_of(codes: &[u32], n_classes: usize, wanted: &[bool]) -> Result<Vec<Vec<usize>>> {
    use rayon::prelude::*;
    const BLOCK: usize = 1 << 16;
    let slots: Vec<usize> = wanted
        .iter()
        .enumerate()
        .filter(|(_, &w)| w)
        .map(|(c, _)| c)
        .collect();
    // Per-block lists cost one Vec per wanted class and block: many wanted classes go serially.
    if slots.len() > 64 || codes.len() <= BLOCK {
        let mut rows = class_rows(codes, n_classes)?;
        for (c, r) in rows.iter_mut().enumerate() {
            if !wanted.get(c).copied().unwrap_or(false) {
                *r = Vec::new();
            }
        }
        return Ok(rows);
    }
    let mut slot_of = vec![usize::MAX; n_classes];
    for (s, &c) in slots.iter().enumerate() {
        slot_of[c] = s;
    }
    let parts: Vec<Result<Vec<Vec<usize>>>> = codes
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(b, chunk)| {
            let mut rows = vec![Vec::new(); slots.len()];
            for (i, &c) in chunk.iter().enumerate() {
                let c = c as usize;
                if c >= n_classes {
                    return Err(CoreError::InvalidArgument(format!(
                        "class code {c} is out of range for {n_classes} classes"
                    )));
                }
                let s = slot_of[c];
                if s != usize::MAX {
                    rows[s].push(b * BLOCK + i);
                }
            }
            Ok(rows)
        })
        .collect();
    let mut rows = vec![Vec::new(); n_classes];
    for part in parts {
        for (s, r) in part?.into_iter().enumerate() {
            rows[slots[s]].extend_from_slice(&r);
        }
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

    #[test]
    fn rows_of_wanted_classes_match_class_rows() {
        // Large enough for the parallel path, with a bad code late in the codes.
        let codes: Vec<u32> = (0..300_000u32).map(|i| (i * 7 + i / 13) % 4).collect();
        let all = class_rows(&codes, 4).unwrap();
        let got = class_rows_of(&codes, 4, &[false, true, false, true]).unwrap();
        assert_eq!(got, vec![vec![], all[1].clone(), vec![], all[3].clone()]);
        let mut bad = codes.clone();
        bad[200_000] = 9;
        bad[250_000] = 5;
        assert_eq!(
            class_rows_of(&bad, 4, &[false, true, false, false]),
            Err(CoreError::InvalidArgument(
                "class code 9 is out of range for 4 classes".into()
            ))
        );
    }
}
