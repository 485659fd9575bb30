//! Input checks that are cheap in parallel and name the first offending cell.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;

/// The largest magnitude a feature may have for squared Euclidean distances over `d` of them to
/// stay finite in `F`: `d * (2 m)^2 <= F::MAX`.
pub fn distance_limit<F: Float>(d: usize) -> f64 {
    (F::max_value().wide() / (4.0 * d.max(1) as f64)).sqrt()
}

/// Fails on the first (lowest row, then column) NaN or infinite value, or value too large for
/// squared Euclidean distances to stay finite (see [`distance_limit`]): every caller computes
/// distances over these rows, and an overflowed distance would silently rank neighbours arbitrarily.
pub fn check_finite<F: Float>(x: ArrayView2<F>) -> Result<()> {
    let d = x.ncols();
    let limit = F::narrow(distance_limit::<F>(d));
    let bad = x
        .axis_chunks_iter(Axis(0), 8192)
        .into_par_iter()
        .enumerate()
        .find_map_first(|(chunk, block)| {
            // Fast path: v * 0 is 0 for a finite v and NaN otherwise, so a sum of them is finite iff
            // every value is; and the largest magnitude is compared with the limit once. Sixteen
            // independent lanes let the loop vectorise.
            let clean = match block.as_slice() {
                Some(s) => {
                    let mut acc = [F::zero(); 16];
                    let mut big = [F::zero(); 16];
                    let mut chunks = s.chunks_exact(16);
                    for c in &mut chunks {
                        for i in 0..16 {
                            acc[i] += c[i] * F::zero();
                            big[i] = big[i].max(c[i].abs());
                        }
                    }
                    let (rest, rest_big) = chunks
                        .remainder()
                        .iter()
                        .fold((F::zero(), F::zero()), |(a, m), &v| {
                            (a + v * F::zero(), m.max(v.abs()))
                        });
                    let big = big.iter().fold(rest_big, |m, &v| m.max(v));
                    acc.iter().fold(rest, |a, &v| a + v).is_finite() && big <= limit
                }
                None => {
                    let (a, m) = block.iter().fold((F::zero(), F::zero()), |(a, m), &v| {
                        (a + v * F::zero(), m.max(v.abs()))
                    });
                    a.is_finite() && m <= limit
                }
            };
            if clean {
                return None;
            }
            for (r, row) in block.outer_iter().enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    if !v.is_finite() || v.abs() > limit {
                        return Some((chunk * 8192 + r, c, v));
                    }
                }
            }
            None
        });
    match bad {
        None => Ok(()),
        Some((row, col, v)) if v.is_finite() => Err(CoreError::TooLarge {
            value: v.wide(),
            row,
            col,
            d,
            limit: limit.wide(),
            dtype: if std::mem::size_of::<F>() == 4 {
                "float32"
            } else {
                "float64"
            },
        }),
        Some((row, col, v)) => Err(CoreError::NonFinite {
            what: if v.is_nan() { "NaN" } else { "infinity" },
            row,
            col,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn refuses_values_whose_squared_distances_overflow() {
        // The fuzzer's find: 3e228 squared overflows float64, and every distance to that row
        // came back as 0 with neighbour 0 repeated.
        let x = array![[0.0f64, 0.0], [1.0, 1.0], [3.0, 3e228], [4.0, -1.0]];
        match check_finite(x.view()) {
            Err(CoreError::TooLarge { row, col, .. }) => assert_eq!((row, col), (2, 1)),
            other => panic!("{other:?}"),
        }
        let lim = distance_limit::<f32>(30);
        assert!(30.0 * (2.0 * lim).powi(2) <= f32::MAX as f64 * (1.0 + 1e-12));
        let ok = ndarray::Array2::from_elem((3, 30), (lim * 0.999) as f32);
        assert_eq!(check_finite(ok.view()), Ok(()));
        let mut big = ok.clone();
        big[[1, 7]] = -(lim * 1.01) as f32;
        match check_finite(big.view()) {
            Err(CoreError::TooLarge { row, col, .. }) => assert_eq!((row, col), (1, 7)),
            other => panic!("{other:?}"),
        }
        // NaN comes first when it is the first bad cell.
        let y = array![[f32::NAN, 1e30f32]];
        assert!(matches!(
            check_finite(y.view()),
            Err(CoreError::NonFinite { .. })
        ));
    }

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
        // Finite, but its squared distances overflow: refused as too large, not as non-finite.
        assert!(matches!(
            check_finite(array![[f64::MAX, f64::MAX]].view()),
            Err(CoreError::TooLarge { row: 0, col: 0, .. })
        ));
    }
}
