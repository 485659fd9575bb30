//! SMOTE-NC and SMOTE-N (Chawla et al., 2002) on categorical codes, as imbalanced-learn defines
//! them, without ever expanding a categorical column to one-hot.
//!
//! imbalanced-learn's SMOTENC one-hot encodes every categorical column and scales the ones by
//! `median_std / sqrt(2)`, so that two rows differing in one categorical feature are at squared
//! distance `median_std^2` on that feature. The same distance is computed here directly on the codes:
//! `d(a, b)^2 = sum_j (a_j - b_j)^2 + penalty * #{f : code_f(a) != code_f(b)}` with
//! `penalty = median_std^2`. Each categorical value of a new row is the most frequent value among
//! the k neighbours of its base row, ties broken uniformly at random (imbalanced-learn's rule).
//!
//! SMOTEN uses the value difference metric (VDM, k = 1, r = 2): for each feature, the distance
//! between two values is `(sum_c |P(c | v) - P(c | w)|)^2` with the class probabilities counted over
//! the whole data; a new row is the per-feature mode of the k + 1 nearest rows of its class (the
//! drawn row included), ties broken by the smallest code (scipy's `mode`), which is the first value
//! in sorted order when the codes follow the sorted categories (the callers ensure they do).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::rng::{Purpose, Stream, CHUNK};

/// Keeps the `k` smallest `(distance, index)` pairs, ordered.
struct TopK {
    k: usize,
    items: Vec<(f64, usize)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    /// The distance a candidate must not exceed to enter (ties enter by lower index, which a
    /// scan in index order never produces, so `<` suffices).
    #[inline]
    fn bound(&self) -> f64 {
        if self.items.len() < self.k {
            f64::INFINITY
        } else {
            self.items[self.k - 1].0
        }
    }

    #[inline]
    fn push(&mut self, d: f64, j: usize) {
        if d >= self.bound() {
            return;
        }
        let pos = self
            .items
            .partition_point(|&(v, i)| v < d || (v == d && i < j));
        self.items.insert(pos, (d, j));
        if self.items.len() > self.k {
            self.items.pop();
        }
    }
}

/// Gather the rows of a class, row-major, widened to `f64`.
fn gather_numeric<F: Float>(x: ArrayView2<F>, rows: &[usize]) -> Vec<f64> {
    let d = x.ncols();
    let mut out = vec![0.0f64; rows.len() * d];
    out.par_chunks_mut(d.max(1))
        .zip(rows.par_iter())
        .for_each(|(o, &r)| {
            for (dst, src) in o.iter_mut().zip(x.row(r).iter()) {
                *dst = src.wide();
            }
        });
    out
}

fn gather_codes(c: ArrayView2<u32>, rows: &[usize]) -> Vec<u32> {
    let d = c.ncols();
    let mut out = vec![0u32; rows.len() * d];
    out.par_chunks_mut(d.max(1))
        .zip(rows.par_iter())
        .for_each(|(o, &r)| {
            for (dst, src) in o.iter_mut().zip(c.row(r).iter()) {
                *dst = *src;
            }
        });
    out
}

fn check_rows(n: usize, rows: &[usize]) -> Result<()> {
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(CoreError::Shape(format!(
            "row index {bad} is out of range for {n} rows"
        )));
    }
    Ok(())
}

/// Candidate rows per tile of the neighbour search.
const TILE: usize = 256;
/// Queries computed together against one tile (they share its loads).
const QUERIES: usize = 8;

/// The k nearest other rows (positions within the class) of every row of a class under the SMOTE-NC
/// distance; `num` is the class's numeric block (`m x dn`, row-major), `cat` its codes (`m x dc`).
/// Exact: candidates are ranked by (distance, position).
///
/// The class is stored in feature-major tiles of `TILE` rows so that the distances of one query to a
/// whole tile are computed in vector lanes; each distance is the same sum, in the same order
/// (penalty times the mismatch count, then the numeric terms feature by feature), as a direct
/// pair-by-pair computation.
pub fn smotenc_neighbors(
    num: &[f64],
    dn: usize,
    cat: &[u32],
    dc: usize,
    penalty: f64,
    k: usize,
) -> Array2<usize> {
    let m = num.len().checked_div(dn).unwrap_or(cat.len() / dc.max(1));
    let n_tiles = m.div_ceil(TILE);
    let mut num_t = vec![0f64; n_tiles * TILE * dn];
    let mut cat_t = vec![0u32; n_tiles * TILE * dc];
    for j in 0..m {
        let (t, b) = (j / TILE, j % TILE);
        for f in 0..dn {
            num_t[(t * dn + f) * TILE + b] = num[j * dn + f];
        }
        for f in 0..dc {
            cat_t[(t * dc + f) * TILE + b] = cat[j * dc + f];
        }
    }
    let mut graph = vec![0usize; m * k];
    graph
        .par_chunks_mut(QUERIES * k.max(1))
        .enumerate()
        .for_each(|(chunk, out)| {
            if crate::cancel::requested() {
                return;
            }
            let q0 = chunk * QUERIES;
            let nq = (m - q0).min(QUERIES);
            let mut tops: Vec<TopK> = (0..nq).map(|_| TopK::new(k)).collect();
            let mut acc = [0f64; TILE];
            let mut mismatches = [0u32; TILE];
            for t in 0..n_tiles {
                let len = TILE.min(m - t * TILE);
                let nt = &num_t[t * dn * TILE..(t + 1) * dn * TILE];
                let ct = &cat_t[t * dc * TILE..(t + 1) * dc * TILE];
                for (qi, top) in tops.iter_mut().enumerate() {
                    let i = q0 + qi;
                    let (qa, qc) = (&num[i * dn..(i + 1) * dn], &cat[i * dc..(i + 1) * dc]);
                    mismatches.iter_mut().for_each(|v| *v = 0);
                    for f in 0..dc {
                        let (q, col) = (qc[f], &ct[f * TILE..(f + 1) * TILE]);
                        for b in 0..TILE {
                            mismatches[b] += u32::from(col[b] != q);
                        }
                    }
                    for b in 0..TILE {
                        acc[b] = penalty * f64::from(mismatches[b]);
                    }
                    for f in 0..dn {
                        let (q, col) = (qa[f], &nt[f * TILE..(f + 1) * TILE]);
                        for b in 0..TILE {
                            let diff = q - col[b];
                            acc[b] += diff * diff;
                        }
                    }
                    let mut bound = top.bound();
                    for b in 0..len {
                        if acc[b] < bound {
                            let j = t * TILE + b;
                            if j != i {
                                top.push(acc[b], j);
                                bound = top.bound();
                            }
                        }
                    }
                }
            }
            for (qi, top) in tops.iter().enumerate() {
                for (o, &(_, j)) in out[qi * k..(qi + 1) * k].iter_mut().zip(&top.items) {
                    *o = j;
                }
            }
        });
    Array2::from_shape_vec((m, k), graph).expect("shape")
}

/// New rows of SMOTE-NC for one class: `n_new` rows, numeric part (`n_new x dn`, `F`) and codes
/// (`n_new x dc`).
///
/// `rows` are the rows of the class in `num` / `cat`; `penalty` is `median_std^2` of the class.
/// `graph`, when given, replaces the exact search (positions within `rows`, any number of columns).
pub fn smotenc<F: Float>(
    num: ArrayView2<F>,
    cat: ArrayView2<u32>,
    rows: &[usize],
    class: u32,
    n_new: usize,
    k: usize,
    penalty: f64,
    graph: Option<Array2<usize>>,
    seed: u64,
) -> Result<(Array2<F>, Array2<u32>)> {
    let (n, dn) = num.dim();
    let dc = cat.ncols();
    if cat.nrows() != n {
        return Err(CoreError::Shape(format!(
            "the numeric block has {n} rows, the categorical block {}",
            cat.nrows()
        )));
    }
    if !(penalty.is_finite() && penalty >= 0.0) {
        return Err(CoreError::InvalidArgument(format!(
            "the categorical penalty must be finite and >= 0, got {penalty}"
        )));
    }
    check_rows(n, rows)?;
    if n_new == 0 {
        return Ok((Array2::zeros((0, dn)), Array2::zeros((0, dc))));
    }
    let m = rows.len();
    let class_num = gather_numeric(num, rows);
    let class_cat = gather_codes(cat, rows);
    let graph = match graph {
        Some(g) => {
            if g.nrows() != m || g.ncols() == 0 || g.iter().any(|&j| j >= m) {
                return Err(CoreError::Shape(format!(
                    "the neighbour graph of class {class} has shape {:?} or points outside its {m} rows",
                    g.dim()
                )));
            }
            g
        }
        None => {
            if m < k + 1 {
                return Err(CoreError::TooFewSamples {
                    class,
                    available: m,
                    needed: k + 1,
                });
            }
            smotenc_neighbors(&class_num, dn, &class_cat, dc, penalty, k)
        }
    };
    crate::cancel::check()?;
    let neighbors_per_row = graph.ncols();
    let pairs = (m * neighbors_per_row) as u64;
    // The most frequent values among each class row's neighbours, per feature, computed once per
    // row (not once per new row): `modes[(r * dc + f)]` is a range of `tied`, sorted.
    let per_row: Vec<Vec<(usize, Vec<u32>)>> = (0..m)
        .into_par_iter()
        .map(|r| {
            let mut counts: Vec<(u32, usize)> = Vec::with_capacity(neighbors_per_row);
            (0..dc)
                .map(|f| {
                    counts.clear();
                    for &g in graph.row(r) {
                        let v = class_cat[g * dc + f];
                        match counts.iter_mut().find(|e| e.0 == v) {
                            Some(e) => e.1 += 1,
                            None => counts.push((v, 1)),
                        }
                    }
                    let top = counts.iter().map(|e| e.1).max().unwrap_or(0);
                    let mut tied: Vec<u32> =
                        counts.iter().filter(|e| e.1 == top).map(|e| e.0).collect();
                    tied.sort_unstable();
                    (tied.len(), tied)
                })
                .collect()
        })
        .collect();
    let mut out_num = vec![F::zero(); n_new * dn];
    let mut out_cat = vec![0u32; n_new * dc];
    let chunks_num = out_num.par_chunks_mut(CHUNK * dn.max(1));
    let chunks_cat = out_cat.par_chunks_mut(CHUNK * dc.max(1));
    chunks_num
        .zip(chunks_cat)
        .enumerate()
        .for_each(|(chunk, (bn, bc))| {
            if crate::cancel::requested() {
                return;
            }
            let mut s = Stream::new(seed, Purpose::SmoteNc, class, chunk as u64);
            let rows_here = bn.len().checked_div(dn).unwrap_or(bc.len() / dc.max(1));
            for t in 0..rows_here {
                let p = s.below(pairs) as usize;
                let (r, col) = (p / neighbors_per_row, p % neighbors_per_row);
                let gap = s.uniform();
                let nb = graph[[r, col]];
                let (a, b) = (
                    &class_num[r * dn..(r + 1) * dn],
                    &class_num[nb * dn..(nb + 1) * dn],
                );
                let o = &mut bn[t * dn..(t + 1) * dn];
                for j in 0..dn {
                    o[j] = F::narrow(a[j] + gap * (b[j] - a[j]));
                }
                for (f, (n_tied, tied)) in per_row[r].iter().enumerate() {
                    // Uniform among the tied values (imbalanced-learn's random tie break).
                    bc[t * dc + f] = if *n_tied == 1 {
                        tied[0]
                    } else {
                        tied[s.below(*n_tied as u64) as usize]
                    };
                }
            }
        });
    crate::cancel::check()?;
    Ok((
        Array2::from_shape_vec((n_new, dn), out_num).expect("shape"),
        Array2::from_shape_vec((n_new, dc), out_cat).expect("shape"),
    ))
}

/// The value difference metric's tables: for each feature, `P(class | value)` (`levels x classes`,
/// row-major), counted over every row, as imbalanced-learn's `ValueDifferenceMetric(k=1, r=2)`.
pub struct Vdm {
    n_classes: usize,
    /// `probs[f][v * n_classes + c]`.
    probs: Vec<Vec<f64>>,
    /// Precomputed value-pair distances for features with few levels: `table[f][v * L + w]`.
    tables: Vec<Option<Vec<f64>>>,
    levels: Vec<usize>,
}

/// Features with at most this many levels get a precomputed value-pair table.
const VDM_TABLE_LEVELS: usize = 2048;

impl Vdm {
    pub fn fit(
        cat: ArrayView2<u32>,
        codes: &[u32],
        n_classes: usize,
        levels: &[usize],
    ) -> Result<Self> {
        let (n, d) = cat.dim();
        if codes.len() != n || levels.len() != d {
            return Err(CoreError::Shape(format!(
                "{n} rows, {} labels, {d} features, {} level counts",
                codes.len(),
                levels.len()
            )));
        }
        let probs: Vec<Vec<f64>> = (0..d)
            .into_par_iter()
            .map(|f| -> Result<Vec<f64>> {
                let l = levels[f];
                let mut cnt = vec![0f64; l * n_classes];
                for (i, &c) in codes.iter().enumerate() {
                    let v = cat[[i, f]] as usize;
                    if v >= l || c as usize >= n_classes {
                        return Err(CoreError::InvalidArgument(format!(
                            "code {v} of feature {f} (levels {l}) or class {c} out of range"
                        )));
                    }
                    cnt[v * n_classes + c as usize] += 1.0;
                }
                for v in 0..l {
                    let row = &mut cnt[v * n_classes..(v + 1) * n_classes];
                    let tot: f64 = row.iter().sum();
                    if tot > 0.0 {
                        row.iter_mut().for_each(|p| *p /= tot);
                    }
                }
                Ok(cnt)
            })
            .collect::<Result<_>>()?;
        let tables = (0..d)
            .into_par_iter()
            .map(|f| {
                let l = levels[f];
                (l <= VDM_TABLE_LEVELS).then(|| {
                    let mut t = vec![0f64; l * l];
                    for v in 0..l {
                        for w in 0..l {
                            t[v * l + w] = Self::value_distance(&probs[f], n_classes, v, w);
                        }
                    }
                    t
                })
            })
            .collect();
        Ok(Vdm {
            n_classes,
            probs,
            tables,
            levels: levels.to_vec(),
        })
    }

    #[inline]
    fn value_distance(p: &[f64], nc: usize, v: usize, w: usize) -> f64 {
        let (a, b) = (&p[v * nc..(v + 1) * nc], &p[w * nc..(w + 1) * nc]);
        let s: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum();
        s * s
    }

    /// VDM distance between two coded rows.
    #[inline]
    pub fn distance(&self, a: &[u32], b: &[u32]) -> f64 {
        let mut s = 0.0;
        for f in 0..a.len() {
            let (v, w) = (a[f] as usize, b[f] as usize);
            s += match &self.tables[f] {
                Some(t) => t[v * self.levels[f] + w],
                None => Self::value_distance(&self.probs[f], self.n_classes, v, w),
            };
        }
        s
    }
}

/// SMOTE-N: `n_new[c]` new coded rows for every class `c`, class by class in code order.
/// `cat` holds every row's codes (`n x d`); `levels[f]` is the number of values of feature `f`.
pub fn smoten(
    cat: ArrayView2<u32>,
    codes: &[u32],
    n_classes: usize,
    levels: &[usize],
    n_new: &[usize],
    k: usize,
    seed: u64,
) -> Result<Array2<u32>> {
    let d = cat.ncols();
    if n_new.len() != n_classes {
        return Err(CoreError::Shape(
            "one target count per class is needed".into(),
        ));
    }
    let vdm = Vdm::fit(cat, codes, n_classes, levels)?;
    let class_rows = crate::classes::class_rows(codes, n_classes)?;
    let total: usize = n_new.iter().sum();
    let mut out = vec![0u32; total * d];
    let mut offset = 0;
    for (c, rows) in class_rows.iter().enumerate() {
        let class_new = n_new[c];
        if class_new == 0 {
            continue;
        }
        let m = rows.len();
        // k + 1 neighbours, the row itself among them, as imbalanced-learn's precomputed search.
        let k_with_self = k + 1;
        if m < k_with_self {
            return Err(CoreError::TooFewSamples {
                class: c as u32,
                available: m,
                needed: k_with_self,
            });
        }
        let class_codes = gather_codes(cat, rows);
        let mut graph = vec![0usize; m * k_with_self];
        graph
            .par_chunks_mut(k_with_self)
            .enumerate()
            .for_each(|(i, o)| {
                if crate::cancel::requested() {
                    return;
                }
                let q = &class_codes[i * d..(i + 1) * d];
                let mut top = TopK::new(k_with_self);
                for j in 0..m {
                    let dist = vdm.distance(q, &class_codes[j * d..(j + 1) * d]);
                    top.push(dist, j);
                }
                for (dst, &(_, j)) in o.iter_mut().zip(&top.items) {
                    *dst = j;
                }
            });
        let dst = &mut out[offset * d..(offset + class_new) * d];
        dst.par_chunks_mut(CHUNK * d.max(1))
            .enumerate()
            .for_each(|(chunk, block)| {
                if crate::cancel::requested() {
                    return;
                }
                let mut s = Stream::new(seed, Purpose::SmoteN, c as u32, chunk as u64);
                let mut vals: Vec<u32> = Vec::with_capacity(k_with_self);
                for o in block.chunks_mut(d.max(1)) {
                    let r = s.below(m as u64) as usize;
                    let nb = &graph[r * k_with_self..(r + 1) * k_with_self];
                    for f in 0..d {
                        vals.clear();
                        vals.extend(nb.iter().map(|&g| class_codes[g * d + f]));
                        vals.sort_unstable();
                        // Mode, smallest value on ties (runs of a sorted list, first longest).
                        let (mut best, mut best_len, mut i) = (vals[0], 0usize, 0usize);
                        while i < vals.len() {
                            let mut j = i;
                            while j < vals.len() && vals[j] == vals[i] {
                                j += 1;
                            }
                            if j - i > best_len {
                                best = vals[i];
                                best_len = j - i;
                            }
                            i = j;
                        }
                        o[f] = best;
                    }
                }
            });
        crate::cancel::check()?;
        offset += class_new;
    }
    Ok(Array2::from_shape_vec((total, d), out).expect("shape"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn mixed(n: usize, seed: u64) -> (Array2<f64>, Array2<u32>) {
        let mut s = Stream::new(seed, Purpose::Shrinkage, 7, 0);
        let num = Array2::from_shape_fn((n, 3), |_| s.normal());
        let cat =
            Array2::from_shape_fn((n, 2), |(_, f)| s.below(if f == 0 { 3 } else { 5 }) as u32);
        (num, cat)
    }

    /// Reference neighbours by a full sort of every candidate.
    fn reference(
        num: &Array2<f64>,
        cat: &Array2<u32>,
        rows: &[usize],
        pen: f64,
        k: usize,
    ) -> Vec<Vec<usize>> {
        rows.iter()
            .enumerate()
            .map(|(i, &ri)| {
                let mut v: Vec<(f64, usize)> = rows
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, &rj)| {
                        let dn: f64 = (0..num.ncols())
                            .map(|t| (num[[ri, t]] - num[[rj, t]]).powi(2))
                            .sum();
                        let mm = (0..cat.ncols())
                            .filter(|&f| cat[[ri, f]] != cat[[rj, f]])
                            .count();
                        (dn + pen * mm as f64, j)
                    })
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                v.into_iter().take(k).map(|p| p.1).collect()
            })
            .collect()
    }

    #[test]
    fn smotenc_neighbours_match_reference_and_rows_are_valid() {
        let (num, cat) = mixed(400, 1);
        let rows: Vec<usize> = (0..400).step_by(3).collect();
        let pen = 0.7;
        let cn = gather_numeric(num.view(), &rows);
        let cc = gather_codes(cat.view(), &rows);
        let g = smotenc_neighbors(&cn, 3, &cc, 2, pen, 5);
        let want = reference(&num, &cat, &rows, pen, 5);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(&g.row(i).to_vec(), w);
        }
        let (xn, xc) = smotenc(num.view(), cat.view(), &rows, 1, 300, 5, pen, None, 9).unwrap();
        for t in 0..300 {
            // Some (row, neighbour) pair puts the numeric part on its segment and every code is a
            // most frequent value among that row's neighbours.
            let ok = (0..rows.len()).any(|r| {
                g.row(r).iter().any(|&nb| {
                    let (a, b) = (num.row(rows[r]), num.row(rows[nb]));
                    let den: f64 = (0..3).map(|j| (b[j] - a[j]).powi(2)).sum();
                    let tt = if den == 0.0 {
                        0.0
                    } else {
                        (0..3)
                            .map(|j| (xn[[t, j]] - a[j]) * (b[j] - a[j]))
                            .sum::<f64>()
                            / den
                    };
                    let on = (-1e-12..=1.0 + 1e-12).contains(&tt)
                        && (0..3).all(|j| (a[j] + tt * (b[j] - a[j]) - xn[[t, j]]).abs() < 1e-9);
                    on && (0..2).all(|f| {
                        let cnt =
                            |v: u32| g.row(r).iter().filter(|&&q| cat[[rows[q], f]] == v).count();
                        let best = g
                            .row(r)
                            .iter()
                            .map(|&q| cnt(cat[[rows[q], f]]))
                            .max()
                            .unwrap();
                        cnt(xc[[t, f]]) == best
                    })
                })
            });
            assert!(ok, "new row {t} is not a valid SMOTE-NC row");
        }
    }

    #[test]
    fn smotenc_identical_for_any_thread_count() {
        let (num, cat) = mixed(3000, 2);
        let rows: Vec<usize> = (0..3000).step_by(5).collect();
        let run = |t| {
            crate::threads::run_with_threads(t, || {
                smotenc(num.view(), cat.view(), &rows, 1, 9000, 5, 0.3, None, 4).unwrap()
            })
            .unwrap()
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn smoten_rows_are_modes_of_vdm_neighbourhoods() {
        let mut s = Stream::new(5, Purpose::Shrinkage, 1, 0);
        let n = 300;
        let cat = Array2::from_shape_fn((n, 3), |(_, f)| s.below([2, 4, 3][f]) as u32);
        let codes: Vec<u32> = (0..n).map(|i| u32::from(i % 4 == 0)).collect();
        let levels = [2, 4, 3];
        let out = smoten(cat.view(), &codes, 2, &levels, &[0, 50], 5, 1).unwrap();
        let vdm = Vdm::fit(cat.view(), &codes, 2, &levels).unwrap();
        let rows: Vec<usize> = (0..n).filter(|i| i % 4 == 0).collect();
        let modes: Vec<Vec<u32>> = rows
            .iter()
            .map(|&ri| {
                let mut v: Vec<(f64, usize)> = rows
                    .iter()
                    .map(|&rj| {
                        (
                            vdm.distance(
                                cat.row(ri).as_slice().unwrap(),
                                cat.row(rj).as_slice().unwrap(),
                            ),
                            rj,
                        )
                    })
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                (0..3)
                    .map(|f| {
                        let vals: Vec<u32> = v[..6].iter().map(|p| cat[[p.1, f]]).collect();
                        let best = (0..levels[f] as u32)
                            .max_by_key(|&x| {
                                (
                                    vals.iter().filter(|&&y| y == x).count(),
                                    std::cmp::Reverse(x),
                                )
                            })
                            .unwrap();
                        best
                    })
                    .collect()
            })
            .collect();
        for t in 0..50 {
            assert!(modes
                .iter()
                .any(|m| m.as_slice() == out.row(t).as_slice().unwrap()));
        }
    }
}
