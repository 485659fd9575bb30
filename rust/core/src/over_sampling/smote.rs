//! SMOTE (Chawla et al., 2002), as imbalanced-learn defines it.
//!
//! For each class to grow, the k nearest neighbours of every row among the rows of its own class
//! (the row itself excluded) are found exactly. Each new row picks a uniformly random pair
//! (row, one of its k neighbours) and a uniform gap in [0, 1), and lies at
//! `row + gap * (neighbour - row)`: on the segment between the two. New rows are computed in `f64`
//! and rounded to `F` once, as imbalanced-learn computes them in float64 and casts back.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::neighbors::{BruteForce, KnnIndex};
use crate::rng::{Purpose, Stream, CHUNK};

/// Gather rows into a contiguous matrix.
fn gather<F: Float>(x: ArrayView2<F>, rows: &[usize]) -> Array2<F> {
    let d = x.ncols();
    let mut out = vec![F::zero(); rows.len() * d];
    out.par_chunks_mut(d.max(1))
        .zip(rows.par_iter())
        .for_each(|(o, &r)| {
            for (dst, src) in o.iter_mut().zip(x.row(r).iter()) {
                *dst = *src;
            }
        });
    Array2::from_shape_vec((rows.len(), d), out).expect("shape")
}

/// The k nearest same-class neighbours of each row of a class, as positions within `rows`.
pub fn smote_class_neighbors<F: Float>(
    x: ArrayView2<F>,
    rows: &[usize],
    class: u32,
    k: usize,
) -> Result<Array2<usize>> {
    if rows.len() < k + 1 {
        return Err(CoreError::TooFewSamples {
            class,
            available: rows.len(),
            needed: k + 1,
        });
    }
    let class_x = gather(x, rows);
    Ok(BruteForce::new(class_x.view()).query_self(k)?.indices)
}

/// Generate `n_new[c]` SMOTE rows for every class code `c`, class by class in code order, into
/// `out` (row-major, `sum(n_new) x d`).
///
/// `graphs[c]`, when given, is the neighbour graph of class `c` (positions within its rows, one row
/// per class row, any number of columns >= 1): it replaces the exact search, for callers that bring
/// their own neighbour estimator.
pub fn smote<F: Float>(
    x: ArrayView2<F>,
    class_rows: &[Vec<usize>],
    n_new: &[usize],
    k: usize,
    graphs: &[Option<Array2<usize>>],
    seed: u64,
    out: &mut [F],
) -> Result<()> {
    let d = x.ncols();
    let total: usize = n_new.iter().sum();
    if n_new.len() != class_rows.len() {
        return Err(CoreError::Shape(
            "one target count per class is needed".into(),
        ));
    }
    if out.len() != total * d {
        return Err(CoreError::Shape(format!(
            "output holds {} values, {} needed",
            out.len(),
            total * d
        )));
    }
    if k == 0 {
        return Err(CoreError::InvalidArgument(
            "k_neighbors must be >= 1".into(),
        ));
    }
    let mut offset = 0usize;
    for (c, rows) in class_rows.iter().enumerate() {
        let n = n_new[c];
        if n == 0 {
            continue;
        }
        let class = c as u32;
        if rows.is_empty() {
            return Err(CoreError::InvalidArgument(format!(
                "class {class} has no rows to grow from"
            )));
        }
        // The class's rows, contiguous: searched and read from cache-friendly memory.
        let class_x = gather(x, rows);
        let graph = match graphs.get(c).and_then(|g| g.as_ref()) {
            // Checked by `smote_class_block`.
            Some(g) => g.clone(),
            None => {
                if rows.len() < k + 1 {
                    return Err(CoreError::TooFewSamples {
                        class,
                        available: rows.len(),
                        needed: k + 1,
                    });
                }
                BruteForce::new(class_x.view()).query_self(k)?.indices
            }
        };
        let dst = &mut out[offset * d..(offset + n) * d];
        smote_class_block(class_x.view(), &graph, class, 0, seed, dst)?;
        offset += n;
    }
    Ok(())
}

/// The SMOTE rows of one class from `first_chunk * CHUNK` on, `out.len() / d` of them (row-major),
/// given the class's rows in order (`class_x`, row-major) and their neighbour graph (positions
/// within the class). Rows `[a, b)` of a class made here are bit-identical to rows `[a, b)` of
/// [`smote`]'s output for that class, since each chunk of `CHUNK` rows has its own random stream
/// (seed, class, chunk): a distributed caller makes any run of chunks anywhere.
pub fn smote_class_block<F: Float>(
    class_x: ArrayView2<F>,
    graph: &Array2<usize>,
    class: u32,
    first_chunk: u64,
    seed: u64,
    out: &mut [F],
) -> Result<()> {
    let d = class_x.ncols();
    let n_rows = class_x.nrows();
    if graph.nrows() != n_rows || graph.ncols() == 0 {
        return Err(CoreError::Shape(format!(
            "the neighbour graph of class {class} has shape {:?}, expected ({n_rows}, k)",
            graph.dim()
        )));
    }
    if let Some(&bad) = graph.iter().find(|&&j| j >= n_rows) {
        return Err(CoreError::Shape(format!(
            "the neighbour graph of class {class} points at row {bad}, the class has {n_rows} rows"
        )));
    }
    if d > 0 && out.len() % d != 0 {
        return Err(CoreError::Shape(format!(
            "output holds {} values, not a whole number of rows of {d}",
            out.len()
        )));
    }
    let class_x = class_x.as_standard_layout();
    let cx = class_x.as_slice().expect("standard layout is contiguous");
    let neighbors_per_row = graph.ncols();
    let pairs = (n_rows * neighbors_per_row) as u64;
    out.par_chunks_mut(CHUNK * d.max(1))
        .enumerate()
        .for_each(|(chunk, block)| {
            let mut s = Stream::new(seed, Purpose::Smote, class, first_chunk + chunk as u64);
            for o in block.chunks_mut(d.max(1)) {
                let p = s.below(pairs) as usize;
                let (r, col) = (p / neighbors_per_row, p % neighbors_per_row);
                let gap = s.uniform();
                let nb = graph[[r, col]];
                let a = &cx[r * d..(r + 1) * d];
                let b = &cx[nb * d..(nb + 1) * d];
                for j in 0..d {
                    let (av, bv) = (a[j].wide(), b[j].wide());
                    o[j] = F::narrow(av + gap * (bv - av));
                }
            }
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::class_rows;
    use ndarray::Array2;

    fn data(n: usize, d: usize, seed: u64) -> (Array2<f64>, Vec<u32>) {
        let mut s = Stream::new(seed, Purpose::Shrinkage, 9, 0);
        let x = Array2::from_shape_fn((n, d), |_| s.normal());
        let codes = (0..n).map(|i| if i % 7 == 0 { 1 } else { 0 }).collect();
        (x, codes)
    }

    #[test]
    fn new_rows_lie_on_segments_to_k_nearest_neighbours() {
        let (x, codes) = data(700, 3, 1);
        let rows = class_rows(&codes, 2).unwrap();
        let n_new = vec![0, 500];
        let mut out = vec![0.0; 500 * 3];
        smote(x.view(), &rows, &n_new, 5, &[None, None], 42, &mut out).unwrap();
        let graph = smote_class_neighbors(x.view(), &rows[1], 1, 5).unwrap();
        for o in out.chunks(3) {
            let found = rows[1].iter().enumerate().any(|(r, &i)| {
                graph.row(r).iter().any(|&g| {
                    let (a, b) = (x.row(i), x.row(rows[1][g]));
                    // o = a + t (b - a) for one t in [0, 1]
                    let den: f64 = (0..3).map(|j| (b[j] - a[j]).powi(2)).sum();
                    if den == 0.0 {
                        return (0..3).all(|j| (o[j] - a[j]).abs() < 1e-12);
                    }
                    let t: f64 = (0..3).map(|j| (o[j] - a[j]) * (b[j] - a[j])).sum::<f64>() / den;
                    (-1e-12..=1.0 + 1e-12).contains(&t)
                        && (0..3).all(|j| (a[j] + t * (b[j] - a[j]) - o[j]).abs() < 1e-9)
                })
            });
            assert!(found, "row {o:?} is on no segment");
        }
    }

    #[test]
    fn identical_for_any_thread_count() {
        let (x, codes) = data(3000, 4, 2);
        let rows = class_rows(&codes, 2).unwrap();
        let run = |threads| {
            crate::threads::run_with_threads(threads, || {
                let mut out = vec![0.0f64; 10_000 * 4];
                smote(x.view(), &rows, &[0, 10_000], 5, &[None, None], 3, &mut out).unwrap();
                out
            })
            .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(5));
    }

    #[test]
    fn blocks_of_chunks_equal_the_whole_run() {
        let (x, codes) = data(900, 3, 4);
        let rows = class_rows(&codes, 2).unwrap();
        let n = 3 * CHUNK + 17;
        let mut whole = vec![0.0f64; n * 3];
        smote(x.view(), &rows, &[0, n], 5, &[None, None], 11, &mut whole).unwrap();
        let graph = smote_class_neighbors(x.view(), &rows[1], 1, 5).unwrap();
        let class_x = gather(x.view(), &rows[1]);
        let mut parts = Vec::new();
        for first in [0u64, 1, 3] {
            let len = if first == 3 {
                17
            } else if first == 1 {
                2 * CHUNK
            } else {
                CHUNK
            };
            let mut block = vec![0.0f64; len * 3];
            smote_class_block(class_x.view(), &graph, 1, first, 11, &mut block).unwrap();
            parts.extend(block);
        }
        assert_eq!(parts, whole);
    }

    #[test]
    fn too_few_rows_is_an_error() {
        let (x, _) = data(10, 2, 3);
        let codes: Vec<u32> = (0..10).map(|i| if i < 3 { 1 } else { 0 }).collect();
        let rows = class_rows(&codes, 2).unwrap();
        let mut out = vec![0.0; 5 * 2];
        let err = smote(x.view(), &rows, &[0, 5], 5, &[None, None], 0, &mut out).unwrap_err();
        assert_eq!(
            err,
            CoreError::TooFewSamples {
                class: 1,
                available: 3,
                needed: 6
            }
        );
    }
}
