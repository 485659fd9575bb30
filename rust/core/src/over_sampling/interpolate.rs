//! The generation step shared by Borderline-SMOTE and ADASYN: new rows on segments between base
//! rows and their neighbours, as imbalanced-learn's `_make_samples` / ADASYN loop build them.
//!
//! The callers (which choose the base rows: the rows "in danger" for Borderline-SMOTE, every row of
//! the class with a per-row count for ADASYN) pass a neighbour graph in row indices of `x`.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::rng::{Purpose, Stream, CHUNK};

/// How the (base, neighbour) pairs of the new rows are drawn.
pub enum Draw<'a> {
    /// `n` rows, each from a pair drawn uniformly among all `bases x k` pairs (SMOTE's
    /// `_make_samples`).
    Pairs(usize),
    /// `counts[b]` rows from base `b`, in base order, each with a uniformly drawn neighbour column
    /// (ADASYN).
    PerBase(&'a [usize]),
}

/// New rows `x[base] + gap * shrink * (x[nb] - x[base])`, with `gap` uniform in [0, 1).
///
/// `bases` are rows of `x`; `graph` has one row per base, its entries are rows of `x`. When
/// `other` is given, a neighbour `nb` with `other[nb]` true (a row of another class: Borderline-SMOTE
/// 2) shrinks the step by `shrink` uniform in [0, 0.5); otherwise `shrink = 1`.
pub fn interpolate<F: Float>(
    x: ArrayView2<F>,
    bases: &[usize],
    graph: ArrayView2<usize>,
    draw: Draw<'_>,
    other: Option<&[bool]>,
    purpose: Purpose,
    class: u32,
    seed: u64,
) -> Result<Array2<F>> {
    let (n, d) = x.dim();
    let neighbors_per_row = graph.ncols();
    if graph.nrows() != bases.len() || neighbors_per_row == 0 {
        return Err(CoreError::Shape(format!(
            "the neighbour graph has shape {:?}, expected ({}, k >= 1)",
            graph.dim(),
            bases.len()
        )));
    }
    if let Some(&bad) = bases.iter().chain(graph.iter()).find(|&&r| r >= n) {
        return Err(CoreError::Shape(format!(
            "row index {bad} is out of range for {n} rows"
        )));
    }
    if other.is_some_and(|o| o.len() != n) {
        return Err(CoreError::Shape("one class flag per row is needed".into()));
    }
    let plan: Vec<usize> = match draw {
        Draw::Pairs(_) => Vec::new(),
        Draw::PerBase(counts) => {
            if counts.len() != bases.len() {
                return Err(CoreError::Shape("one count per base row is needed".into()));
            }
            counts
                .iter()
                .enumerate()
                .flat_map(|(b, &c)| std::iter::repeat_n(b, c))
                .collect()
        }
    };
    let total = match draw {
        Draw::Pairs(m) => m,
        Draw::PerBase(_) => plan.len(),
    };
    if total > 0 && bases.is_empty() {
        return Err(CoreError::InvalidArgument(format!(
            "class {class} has no rows to grow from"
        )));
    }
    let pairs = (bases.len() * neighbors_per_row) as u64;
    let mut out = vec![F::zero(); total * d];
    out.par_chunks_mut(CHUNK * d.max(1))
        .enumerate()
        .for_each(|(chunk, block)| {
            if crate::cancel::requested() {
                return;
            }
            let mut s = Stream::new(seed, purpose, class, chunk as u64);
            let rows_here = block
                .len()
                .checked_div(d)
                .unwrap_or_else(|| CHUNK.min(total - chunk * CHUNK));
            for t in 0..rows_here {
                let (b, col) = if plan.is_empty() {
                    let p = s.below(pairs) as usize;
                    (p / neighbors_per_row, p % neighbors_per_row)
                } else {
                    (
                        plan[chunk * CHUNK + t],
                        s.below(neighbors_per_row as u64) as usize,
                    )
                };
                let gap = s.uniform();
                let nb = graph[[b, col]];
                let shrink = match other {
                    Some(o) if o[nb] => 0.5 * s.uniform(),
                    _ => 1.0,
                };
                let (xa, xb) = (x.row(bases[b]), x.row(nb));
                for j in 0..d {
                    let (av, bv) = (xa[j].wide(), xb[j].wide());
                    block[t * d + j] = F::narrow(av + gap * (shrink * (bv - av)));
                }
            }
        });
    crate::cancel::check()?;
    Ok(Array2::from_shape_vec((total, d), out).expect("shape"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn rows_lie_on_segments_and_other_class_steps_are_halved() {
        let x = array![[0.0f64, 0.0], [1.0, 0.0], [0.0, 2.0], [4.0, 4.0]];
        let graph = array![[1usize, 3], [0, 2]];
        let other = [false, false, false, true];
        let out = interpolate(
            x.view(),
            &[0, 1],
            graph.view(),
            Draw::Pairs(2000),
            Some(&other),
            Purpose::Borderline,
            1,
            3,
        )
        .unwrap();
        let mut far = 0;
        for r in out.outer_iter() {
            if r[0] == r[1] && r[0] > 0.0 {
                // towards row 3 from row 0: at most half way
                assert!(r[0] < 2.0);
                far += 1;
            }
        }
        assert!(far > 300);
        let counts = [3usize, 0];
        let out = interpolate(
            x.view(),
            &[0, 1],
            graph.view(),
            Draw::PerBase(&counts),
            None,
            Purpose::Adasyn,
            1,
            3,
        )
        .unwrap();
        assert_eq!(out.nrows(), 3);
        for r in out.outer_iter() {
            // from row 0 towards row 1 or row 3
            assert!((r[1] == 0.0 && (0.0..=1.0).contains(&r[0])) || (r[0] == r[1]));
        }
    }
}
