//! Building the index: the split tree that orders rows into compact tiles and panels, and each
//! tile's and panel's centroid and radius.

use std::borrow::Cow;

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::{BruteForce, Tile, CENTRE_SAMPLE, LEAF, NONE, PANEL, SPLIT_SAMPLE};
use crate::float::Float;
use crate::neighbors::exact_sq_dist;
use crate::validate::distance_limit;

/// Lanes of the partial sums of [`wide_sum`].
const LANES: usize = 8;

/// `sum_j term(r_j, c_j)` in `f64`, in [`LANES`] interleaved partial sums added at the end: one
/// running sum is a chain of dependent additions, one feature every four cycles, and the build's
/// splits and radii (a dozen passes over every row) took a fifth of a 937 x 49 search that way;
/// the partial sums vectorise. The error bound of a `d`-term sum is the same either way.
#[inline(always)]
fn wide_sum<F: Float>(r: &[F], c: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = [0f64; LANES];
    let (rc, cc) = (r.chunks_exact(LANES), c.chunks_exact(LANES));
    let tail: f64 = rc
        .remainder()
        .iter()
        .zip(cc.remainder())
        .map(|(&x, &m)| term(x.wide(), m))
        .sum();
    for (x, m) in rc.zip(cc) {
        for l in 0..LANES {
            acc[l] += term(x[l].wide(), m[l]);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `sum_j (r_j - c_j)^2` in `f64` ([`wide_sum`]).
#[inline(always)]
fn wide_sq_dist<F: Float>(r: &[F], c: &[f64]) -> f64 {
    wide_sum(r, c, |x, m| (x - m) * (x - m))
}

/// `sum_j r_j c_j` in `f64` ([`wide_sum`]).
#[inline(always)]
fn wide_dot<F: Float>(r: &[F], c: &[f64]) -> f64 {
    wide_sum(r, c, |x, m| x * m)
}

/// The centroid (f64) of `rows`.
fn centroid<F: Float>(rows: &[&[F]], d: usize) -> Vec<f64> {
    let mut c = vec![0f64; d];
    for r in rows {
        for (cj, v) in c.iter_mut().zip(r.iter()) {
            *cj += v.wide();
        }
    }
    let inv = 1.0 / rows.len().max(1) as f64;
    c.iter_mut().for_each(|v| *v *= inv);
    c
}

/// Centroid (f64) and a radius that bounds every row's true distance to it from above.
pub(super) fn centroid_radius<F: Float>(rows: &[&[F]], d: usize) -> (Vec<f64>, f64) {
    let c = centroid(rows, d);
    let r2 = rows.iter().fold(0f64, |m, r| m.max(wide_sq_dist(r, &c)));
    // Relative slack far above f64 rounding of a d-term sum.
    (c, r2.sqrt() * (1.0 + 1e-9) + 1e-300)
}

/// The row `r` as pass 1 reads it: shifted by the index's centre, one rounding in `F`. Every
/// stored or packed panel, panel centroid and query goes through the same subtraction.
pub(super) fn shift<'r, F: Float>(r: &'r [F], centre: &'r [F]) -> impl Iterator<Item = F> + 'r {
    r.iter().zip(centre).map(|(&v, &m)| v - m)
}

/// The squared norm in `F` of a shifted row, summed as pass 1 adds it: one function for the
/// index's rows and for the queries, so the two are the same sum.
pub(super) fn sq_norm<F: Float>(shifted: impl Iterator<Item = F>) -> F {
    let mut nf = F::zero();
    for c in shifted {
        nf += c * c;
    }
    nf
}

/// The centre pass 1 shifts every row and query by: each feature's median over an evenly spaced
/// sample of at most [`CENTRE_SAMPLE`] indexed rows (`gid` maps a position to its data row), a
/// value of the data and so exact in `F`. The norm expansion errs by a multiple of the squared
/// norms it adds, so on rows far from the origin (float32 times or amounts, a feature offset by
/// 300 against a spread of 1) the unshifted bound exceeds the distances it must tell apart and
/// every query fell back to a direct scan: 8.4 s for 20k x 30 rows where scikit-learn takes
/// 0.57 s. Shifted, the norms are the spread's. The median, not the mean: with a heavy-tailed
/// feature (an area or an amount, mean 7.7e5 for a median of 3e4 in `oil_spill`) the mean lies far
/// from the bulk of the rows, whose norms it would inflate tenfold, and with them the bound
/// (`oil_spill`'s search took 1.7 times as long centred on its mean). Any centre keeps the
/// search exact; a better one only lets more queries prove their lists in pass 1.
///
/// Zero (no shift) when some value exceeds half of [`distance_limit`], the largest magnitude the
/// input checks let through: a shifted value stays within `|x| + |centre| <= limit`, so pass 1's
/// norms stay as finite as the data's own (values near both ends of the limit, shifted, would
/// overflow them); and when some value is not finite (input a caller did not check).
pub(super) fn centre_row<F: Float>(
    data: &[F],
    d: usize,
    n: usize,
    gid: &(impl Fn(usize) -> usize + Sync),
) -> Vec<F> {
    if n == 0 || d == 0 {
        return vec![F::zero(); d];
    }
    // The largest magnitude (a NaN counts as infinite), in blocks of rows on the pool.
    const BLOCK: usize = 4096;
    let big = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut big = 0f64;
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                for v in &data[gid(i) * d..(gid(i) + 1) * d] {
                    let a = v.wide().abs();
                    big = big.max(if a.is_nan() { f64::INFINITY } else { a });
                }
            }
            big
        })
        .reduce(|| 0.0, f64::max);
    if big > distance_limit::<F>(d) / 2.0 {
        return vec![F::zero(); d];
    }
    let sample: Vec<usize> = (0..n).step_by(n.div_ceil(CENTRE_SAMPLE)).map(gid).collect();
    (0..d)
        .into_par_iter()
        .map(|j| {
            let mut col: Vec<F> = sample.iter().map(|&r| data[r * d + j]).collect();
            let mid = col.len() / 2;
            *col.select_nth_unstable_by(mid, |a, b| a.wide().total_cmp(&b.wide()))
                .1
        })
        .collect()
}

/// Parts of at most this many bytes of rows are split from a copy of their rows, in their order:
/// above it, each level of the split reads every row of its part at a random place in the data (a
/// cache miss a row, a dozen levels for 1M rows); the copy costs one such read, and the levels
/// below read it in order, from the last-level cache (70k rows of 30 `f32` features). A bound in
/// bytes, not rows, so that wide rows make no large copy; the parts copied at once are disjoint,
/// so all their copies together hold at most the data's size (a thread waiting in a join may
/// start another part's copy), and in practice a few parts' worth.
const LOCAL_BYTES: usize = 8 << 20;

/// Split `rows` in halves along the direction between two far-apart rows (a cheap stand-in for the
/// principal axis, as in a ball tree) until every part has at most `LEAF` rows; returns the part
/// sizes in order (the parts are consecutive in `rows`). Axis-parallel splits would leave a tile
/// unbounded in most features when d is large; this keeps tiles compact, so their bounds prune.
pub(super) fn split<F: Float>(data: &[F], d: usize, rows: &mut [usize], leaf: usize) -> Vec<usize> {
    split_by(data, d, rows, leaf, None)
}

/// [`split`], ties broken by `ids[i]` for row `i` of `data` when `ids` is given (the rows' own
/// indices in the data they were copied from, so that a copy splits exactly as its original).
fn split_by<F: Float>(
    data: &[F],
    d: usize,
    rows: &mut [usize],
    leaf: usize,
    ids: Option<&[usize]>,
) -> Vec<usize> {
    if rows.len() <= leaf {
        return vec![rows.len()];
    }
    if ids.is_none() && d > 0 && rows.len() * d * std::mem::size_of::<F>() <= LOCAL_BYTES {
        // The same values in the same order, ties broken by the same indices: the same parts.
        let mut copy = vec![F::zero(); rows.len() * d];
        for (c, &i) in copy.chunks_exact_mut(d).zip(rows.iter()) {
            c.copy_from_slice(&data[i * d..(i + 1) * d]);
        }
        let orig = rows.to_vec();
        let mut pos: Vec<usize> = (0..rows.len()).collect();
        let sizes = split_by(&copy, d, &mut pos, leaf, Some(&orig));
        for (r, &p) in rows.iter_mut().zip(&pos) {
            *r = orig[p];
        }
        return sizes;
    }
    let tie = |i: usize| ids.map_or(i, |v| v[i]);
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // The two far-apart rows are looked for in an evenly spaced sample of the rows: the direction
    // is as good, and the whole part is then read once (for the projections) instead of four
    // times at random places.
    let sample: Vec<usize> = rows
        .iter()
        .step_by(rows.len().div_ceil(SPLIT_SAMPLE))
        .copied()
        .collect();
    let far = |from: &[f64]| -> usize {
        let mut best = (f64::NEG_INFINITY, usize::MAX, usize::MAX);
        for &i in sample.iter() {
            let s = wide_sq_dist(row(i), from);
            if s > best.0 || (s == best.0 && tie(i) < best.2) {
                best = (s, i, tie(i));
            }
        }
        best.1
    };
    let sample_rows: Vec<&[F]> = sample.iter().map(|&i| row(i)).collect();
    let a = far(&centroid(&sample_rows, d));
    let av: Vec<f64> = row(a).iter().map(|v| v.wide()).collect();
    let b = far(&av);
    let dir: Vec<f64> = row(b).iter().zip(&av).map(|(x, y)| x.wide() - y).collect();
    let project = |&i: &usize| (wide_dot(row(i), &dir), i);
    let mut keyed: Vec<(f64, usize)> = if rows.len() * d > 1 << 20 {
        rows.par_iter().map(project).collect()
    } else {
        rows.iter().map(project).collect()
    };
    let mid = rows.len() / 2;
    keyed.select_nth_unstable_by(mid, |x, y| {
        x.0.total_cmp(&y.0).then(tie(x.1).cmp(&tie(y.1)))
    });
    for (r, k) in rows.iter_mut().zip(&keyed) {
        *r = k.1;
    }
    drop(keyed);
    let (l, r) = rows.split_at_mut(mid);
    let (mut a, b) = if l.len() * d > 1 << 14 {
        rayon::join(
            || split_by(data, d, l, leaf, ids),
            || split_by(data, d, r, leaf, ids),
        )
    } else {
        (
            split_by(data, d, l, leaf, ids),
            split_by(data, d, r, leaf, ids),
        )
    };
    a.extend(b);
    a
}

impl<'a, F: Float> BruteForce<'a, F> {
    pub(super) fn build(
        data: ArrayView2<'a, F>,
        ids: Option<Vec<usize>>,
        store_panels: bool,
    ) -> Self {
        let d = data.ncols();
        let n = ids.as_ref().map_or(data.nrows(), |v| v.len());
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        let gid = |i: usize| ids.as_ref().map_or(i, |v| v[i]);
        let centre = centre_row(&data, d, n, &gid);
        // Squared norms of the shifted rows in `F` (as pass 1 adds them) and, for the rounding
        // bound, the largest in `f64` (rounded up).
        let (norms, wide_norms): (Vec<F>, Vec<f64>) = if d == 0 {
            (vec![F::zero(); n], vec![0.0; n])
        } else {
            (0..n)
                .into_par_iter()
                .map(|i| {
                    let r = &data[gid(i) * d..(gid(i) + 1) * d];
                    let nf = sq_norm(shift(r, &centre));
                    let nw: f64 = shift(r, &centre).map(|c| c.wide() * c.wide()).sum();
                    (nf, nw)
                })
                .unzip()
        };
        let mut max_norm = wide_norms.iter().fold(0.0f64, |m, &v| m.max(v)) * (1.0 + 1e-9);
        drop(wide_norms);
        // The split reads data rows; positions and data rows are in the same order.
        let mut perm: Vec<usize> = (0..n).map(gid).collect();
        let sizes = if n == 0 {
            vec![]
        } else {
            split(&data, d, &mut perm, LEAF)
        };
        // Inside each tile, the same split down to panels orders the rows so that each panel of
        // PANEL consecutive rows is compact too (its own centroid and radius prune panels).
        {
            let mut rest: &mut [usize] = &mut perm;
            let mut parts = Vec::with_capacity(sizes.len());
            for &sz in &sizes {
                let (a, b) = rest.split_at_mut(sz);
                parts.push(a);
                rest = b;
            }
            parts.par_iter_mut().for_each(|t| {
                split(&data, d, t, PANEL);
            });
        }
        if let Some(ids) = &ids {
            for p in perm.iter_mut() {
                *p = ids.binary_search(p).expect("a row of the subset");
            }
        }
        let mut tiles = Vec::with_capacity(sizes.len());
        let (mut row, mut panel) = (0usize, 0usize);
        for s in sizes {
            let np = s.div_ceil(PANEL);
            tiles.push(Tile {
                panel_start: panel,
                panel_end: panel + np,
                row_start: row,
                row_end: row + s,
                radius: 0.0,
            });
            row += s;
            panel += np;
        }
        let n_panels = panel;
        let mut pnorms = vec![F::infinity(); n_panels * PANEL];
        let mut prow = vec![NONE; n_panels * PANEL];
        let mut tile_of = vec![0u32; n];
        for (t, tile) in tiles.iter().enumerate() {
            for (s, &i) in perm[tile.row_start..tile.row_end].iter().enumerate() {
                let slot = tile.panel_start * PANEL + s;
                pnorms[slot] = norms[i];
                prow[slot] = i;
                tile_of[i] = t as u32;
            }
        }
        let mut panels = Vec::new();
        if store_panels {
            panels = vec![F::zero(); n_panels * d * PANEL];
            let data = &data;
            let prow = &prow;
            panels
                .par_chunks_mut(d.max(1) * PANEL)
                .enumerate()
                .for_each(|(p, panel)| {
                    for w in 0..PANEL {
                        let i = prow[p * PANEL + w];
                        if i == NONE {
                            continue;
                        }
                        let g = gid(i);
                        for j in 0..d {
                            panel[j * PANEL + w] = data[g * d + j] - centre[j];
                        }
                    }
                });
        }
        let geo: Vec<(Vec<f64>, f64)> = tiles
            .par_iter()
            .map(|t| {
                let rows: Vec<&[F]> = perm[t.row_start..t.row_end]
                    .iter()
                    .map(|&i| &data[gid(i) * d..(gid(i) + 1) * d])
                    .collect();
                centroid_radius(&rows, d)
            })
            .collect();
        let mut centroids = Vec::with_capacity(tiles.len() * d);
        for (t, (c, r)) in tiles.iter_mut().zip(geo) {
            centroids.extend(c);
            t.radius = r;
        }
        // Panel centroids (shifted, in F, as the kernel reads them) and radii about them (among
        // the shifted rows), rounded up.
        let mut panel_centroids = vec![F::zero(); tiles.len() * d * PANEL];
        let mut panel_centroid_norms = vec![F::infinity(); tiles.len() * PANEL];
        let mut panel_radii = vec![F::zero(); tiles.len() * PANEL];
        // The rounding bound covers the panel centroids too (pass 1 also measures them), so
        // their squared norms count in `max_norm`.
        let centroid_norm = panel_centroids
            .par_chunks_mut(d.max(1) * PANEL)
            .zip(panel_centroid_norms.par_chunks_mut(PANEL))
            .zip(panel_radii.par_chunks_mut(PANEL))
            .zip(tiles.par_iter())
            .map(|(((cent, cn), rad), t)| {
                let mut largest = 0f64;
                // The panel's shifted rows, one buffer for the tile.
                let mut shifted: Vec<F> = Vec::with_capacity(PANEL * d);
                for (w, chunk) in perm[t.row_start..t.row_end].chunks(PANEL).enumerate() {
                    shifted.clear();
                    for &i in chunk {
                        shifted.extend(shift(&data[gid(i) * d..(gid(i) + 1) * d], &centre));
                    }
                    let rows: Vec<&[F]> = if d == 0 {
                        vec![&shifted[..]; chunk.len()]
                    } else {
                        shifted.chunks_exact(d).collect()
                    };
                    let cf: Vec<F> = centroid(&rows, d).iter().map(|&v| F::narrow(v)).collect();
                    let mut r2 = 0f64;
                    for r in &rows {
                        r2 = r2.max(exact_sq_dist(r, &cf));
                    }
                    for (j, &v) in cf.iter().enumerate() {
                        cent[j * PANEL + w] = v;
                    }
                    cn[w] = cf.iter().map(|&v| v * v).sum();
                    rad[w] = F::narrow(r2.sqrt() * (1.0 + 1e-6) + 1e-30);
                    largest = largest.max(cf.iter().map(|v| v.wide() * v.wide()).sum::<f64>());
                }
                largest
            })
            .reduce(|| 0.0, f64::max);
        max_norm = max_norm.max(centroid_norm * (1.0 + 1e-9));
        BruteForce {
            data,
            n,
            d,
            centre,
            max_norm,
            panels,
            pnorms,
            prow,
            perm,
            tile_of,
            tiles,
            centroids,
            panel_centroids,
            panel_centroid_norms,
            panel_radii,
            ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};

    /// A part split from a copy of its rows ([`LOCAL_BYTES`]) ends as the same parts, in the same
    /// order, as split in place: duplicate rows (ties in every comparison) and a part larger than
    /// the copy's bound (its upper levels in place, the rest from copies).
    #[test]
    fn copied_parts_split_as_in_place() {
        let mut s = Stream::new(5, Purpose::Shrinkage, 0, 0);
        for (n, d, distinct) in [
            (3000, 7, 3000),
            (3000, 4, 40),
            (LOCAL_BYTES / (64 * 4) * 2 + 777, 64, 5000),
        ] {
            let base: Vec<f32> = (0..distinct * d).map(|_| s.normal() as f32).collect();
            let data: Vec<f32> = (0..n)
                .flat_map(|_| {
                    let r = s.below(distinct as u64) as usize;
                    base[r * d..(r + 1) * d].to_vec()
                })
                .collect();
            for leaf in [PANEL, LEAF] {
                let mut copied: Vec<usize> = (0..n).collect();
                let mut in_place = copied.clone();
                let ids: Vec<usize> = (0..n).collect();
                let a = split(&data, d, &mut copied, leaf);
                // Ties broken by the same indices, but never copied (`ids` is given).
                let b = split_by(&data, d, &mut in_place, leaf, Some(&ids));
                assert_eq!(a, b, "sizes, n = {n}, leaf = {leaf}");
                assert!(copied == in_place, "rows, n = {n}, leaf = {leaf}");
            }
        }
    }
}
