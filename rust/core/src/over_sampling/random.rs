//! Random over-sampling: a bootstrap of each class, optionally smoothed (imbalanced-learn's
//! `shrinkage`).

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::rng::{Purpose, Stream, CHUNK};

/// `0..n` followed by, for each class code in order, `n_new[c]` rows of class `c` drawn uniformly
/// with replacement: imbalanced-learn's `sample_indices_` layout.
pub fn random_over_sample_indices(
    class_rows: &[Vec<usize>],
    n_new: &[usize],
    seed: u64,
) -> Result<Vec<usize>> {
    if n_new.len() != class_rows.len() {
        return Err(CoreError::Shape(
            "one target count per class is needed".into(),
        ));
    }
    let n: usize = class_rows.iter().map(Vec::len).sum();
    let total: usize = n_new.iter().sum();
    let mut out: Vec<usize> = Vec::with_capacity(n + total);
    out.extend(0..n);
    out.resize(n + total, 0);
    let mut offset = n;
    for (c, rows) in class_rows.iter().enumerate() {
        let m = n_new[c];
        if m == 0 {
            continue;
        }
        if rows.is_empty() {
            return Err(CoreError::InvalidArgument(format!(
                "class {c} has no rows to draw from"
            )));
        }
        out[offset..offset + m]
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(chunk, block)| {
                if crate::cancel::requested() {
                    return;
                }
                let mut s = Stream::new(seed, Purpose::RandomOverSample, c as u32, chunk as u64);
                for o in block {
                    *o = rows[s.below(rows.len() as u64) as usize];
                }
            });
        crate::cancel::check()?;
        offset += m;
    }
    Ok(out)
}

/// Rows `x[idx[i]] + scale[c] * z` with `z` standard normal, for the bootstrap `idx` of class `c`:
/// imbalanced-learn's smoothed bootstrap, with `scale = shrinkage * smoothing_constant * std`.
pub fn smoothed_bootstrap<F: Float>(
    x: ArrayView2<F>,
    idx: &[usize],
    class: u32,
    scale: &[f64],
    seed: u64,
    out: &mut [F],
) -> Result<()> {
    let d = x.ncols();
    if scale.len() != d || out.len() != idx.len() * d {
        return Err(CoreError::Shape(
            "smoothed bootstrap: shapes do not fit".into(),
        ));
    }
    if let Some(&bad) = idx.iter().find(|&&i| i >= x.nrows()) {
        return Err(CoreError::Shape(format!("row {bad} is out of range")));
    }
    out.par_chunks_mut(CHUNK * d.max(1))
        .enumerate()
        .for_each(|(chunk, block)| {
            if crate::cancel::requested() {
                return;
            }
            let mut s = Stream::new(seed, Purpose::Shrinkage, class, chunk as u64);
            for (r, o) in block.chunks_mut(d.max(1)).enumerate() {
                let src = x.row(idx[chunk * CHUNK + r]);
                for j in 0..d {
                    o[j] = F::narrow(src[j].wide() + scale[j] * s.normal());
                }
            }
        });
    crate::cancel::check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::class_rows;

    #[test]
    fn draws_from_the_right_class_and_repeat() {
        let codes: Vec<u32> = (0..1000).map(|i| (i % 10 == 0) as u32).collect();
        let rows = class_rows(&codes, 2).unwrap();
        let idx = random_over_sample_indices(&rows, &[0, 800], 5).unwrap();
        assert_eq!(idx.len(), 1800);
        assert!(idx[..1000].iter().enumerate().all(|(i, &v)| i == v));
        assert!(idx[1000..].iter().all(|&i| codes[i] == 1));
        let again = crate::threads::run_with_threads(1, || {
            random_over_sample_indices(&rows, &[0, 800], 5).unwrap()
        })
        .unwrap();
        assert_eq!(idx, again);
    }
}
