//! Input checks that are cheap in parallel and name the first offending cell.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;

/// Fails on the first (lowest row, then column) NaN or infinite value.
pub fn check_finite<F: Float>(x: ArrayView2<F>) -> Result<()> {
    let bad = x
        .axis_chunks_iter(Axis(0), 8192)
        .into_par_iter()
        .enumerate()
        .find_map_first(|(chunk, block)| {
            // Fast path: v * 0 is 0 for a finite v and NaN otherwise, so a sum of them is finite iff
            // every value is. Sixteen independent lanes let the loop vectorise.
            let clean = match block.as_slice() {
                Some(s) => {
                    let mut acc = [F::zero(); 16];
                    let mut chunks = s.chunks_exact(16);
                    for c in &mut chunks {
                        for i in 0..16 {
                            acc[i] += c[i] * F::zero();
                        }
                    }
                    let rest = chunks
                        .remainder()
                        .iter()
                        .fold(F::zero(), |a, &v| a + v * F::zero());
                    acc.iter().fold(rest, |a, &v| a + v).is_finite()
                }
                None => block
                    .iter()
                    .fold(F::zero(), |a, &v| a + v * F::zero())
                    .is_finite(),
            };
            if clean {
                return None;
            }
            for (r, row) in block.outer_iter().enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    if !v.is_finite() {
                        let what = if v.is_nan() { "NaN" } else { "infinity" };
                        return Some((chunk * 8192 + r, c, what));
                    }
                }
            }
            None
        });
    match bad {
        Some((row, col, what)) => Err(CoreError::NonFinite { what, row, col }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn finds_first_bad_cell() {
        let x = array![[1.0f32, 2.0], [3.0, f32::NAN], [f32::INFINITY, 0.0]];
        assert_eq!(
            check_finite(x.view()),
            Err(CoreError::NonFinite {
                what: "NaN",
                row: 1,
                col: 1
            })
        );
        let y = array![[1.0f64, 2.0], [f64::NEG_INFINITY, 1.0]];
        assert_eq!(
            check_finite(y.view()),
            Err(CoreError::NonFinite {
                what: "infinity",
                row: 1,
                col: 0
            })
        );
        assert!(check_finite(array![[f64::MAX, f64::MAX]].view()).is_ok());
    }
}
