//! A class made by SMOTE, seen as capsules: each new row grouped with the others on its segment.
//!
//! SMOTE's new rows of a class lie on a few segments (each row of the class and its k nearest:
//! 25k segments for a million new rows at 1M rows). A bounded search of such a class's index from
//! a row of another class ("is any row of this class within my bound?") prunes by tiles, whose
//! balls are wide around the segments they cut across, and on a continuous cloud it ends up
//! computing most distances. A segment bounds its rows far better: every row `r` grouped on the
//! segment `[a, b]` lies within `rad` of it (`rad` the largest distance of its rows from it, each
//! computed), so no row of the capsule is nearer to a query `q` than `dist(q, [a, b]) - rad`.
//! [`Capsules::proven`] answers "none within the bound" from the capsules alone for most
//! queries, and [`Capsules::nearest`] finds the nearest row visiting few capsules (`docs/design.md`,
//! "Capsules"); the rest go on to the exact search.
//!
//! The pairs are only a hint (any pairs give the same answers: a wrong pair makes a wide
//! capsule), and the rows of the class that are not new (and any row whose pair is not given) are
//! capsules of their own, a point with radius 0. Distances are computed in `f64` from the rows'
//! differences (no norm expansion, so no cancellation far from the origin), and every bound keeps
//! a relative margin ([`slack`]) far above their rounding.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::float::Float;
use crate::neighbors::exact_sq_dist;

/// Capsules are worth their test only when they group rows: at least this many rows a capsule on
/// average (SMOTE at 0.5% minority makes about 40 new rows a segment).
const MIN_ROWS_PER_CAPSULE: usize = 4;

/// Queries tested together against the capsules' bounds (a panel of the query class's index).
const BLOCK: usize = 16;

/// `f64` lanes of a vector register (AVX-512): a block's bounds are computed a vector at a time.
const LANES: usize = 8;

/// A segment between two ends and the radius around it that holds every row grouped on it.
struct Cap {
    a: u32,
    b: u32,
    /// `|b - a|^2`, computed from the ends' differences.
    uu: f64,
    rad: f64,
}

/// The rows of one class grouped into capsules.
pub(crate) struct Capsules {
    d: usize,
    /// The capsules' ends (distinct data rows) in `f64`, feature-major (`d` x `n_ends`): one
    /// query's distances to all of them vectorise across ends, each summed in feature order.
    ends_t: Vec<f64>,
    n_ends: usize,
    /// Per capsule: its two ends (indices of `ends_t`), `|b - a|^2` and radius.
    a: Vec<u32>,
    b: Vec<u32>,
    uu: Vec<f64>,
    /// `1 / uu` (infinite for a point).
    iu: Vec<f64>,
    rad: Vec<f64>,
    /// The rows of capsule `t` (data rows): `members[starts[t]..starts[t + 1]]`.
    members: Vec<usize>,
    /// Per member, `(t, e)`: the point `a + t (b - a)` of its segment and an upper bound on its
    /// distance from that point.
    places: Vec<(f64, f64)>,
    starts: Vec<usize>,
}

/// Relative margin of every bound: covers the rounding of `d`-term sums of squares in `f64`
/// (`gamma(d + 4)`, below 1e-14 for a thousand features) many times over.
fn slack(d: usize) -> f64 {
    1e-12 + 64.0 * (d as f64 + 4.0) * f64::EPSILON
}

/// A lower bound on the squared distance from a point `q` to the segment `[a, b]`, from
/// `qa = |q - a|^2`, `qb = |q - b|^2` and `uu = |b - a|^2`, each computed with a relative error
/// below `s` (`slack`). With `w = (q - a).(b - a) = (qa + uu - qb) / 2` (exact in real numbers),
/// the nearest point of the segment is `a` when `w <= 0`, `b` when `w >= uu`, and otherwise at
/// squared distance `qa - w^2 / uu`; each case is taken only when the error bound on `w` decides
/// it, and the last is a lower bound on every case (the unconstrained minimum over the line).
///
/// Given `iu = 1 / uu` (rounded: the margin `s` covers it), without a division, and written
/// without branches, so that a loop over capsules vectorises.
#[inline(always)]
fn segment_lb(qa: f64, qb: f64, uu: f64, iu: f64, s: f64) -> f64 {
    let qa_lo = qa * (1.0 - s);
    let w = 0.5 * (qa + uu - qb);
    let ew = s * (qa + uu + qb);
    let wm = w.abs() + ew;
    let m2 = wm * wm * iu;
    // `m2` is at most a few roundings above `wm^2 / uu`; dividing by `1 - s` and the term
    // `s (qa + m2)` (the subtraction cancels: its rounding is below s times its larger term)
    // cover them.
    let line = (qa_lo - m2 * (1.0 + 2.0 * s) - s * (qa + m2)).max(0.0);
    let at_b = if w - ew >= uu * (1.0 + s) {
        qb * (1.0 - s)
    } else {
        line
    };
    if uu <= 0.0 || w + ew <= 0.0 {
        qa_lo.max(0.0)
    } else {
        at_b
    }
}

impl Capsules {
    /// The capsules of class rows `rows` (data rows, ascending) given SMOTE's pairs (row
    /// `first + i` lies between the rows `pairs[i]`), or `None` when the pairs do not group the
    /// rows (fewer than [`MIN_ROWS_PER_CAPSULE`] rows a capsule).
    pub(crate) fn new<F: Float>(
        x: ArrayView2<F>,
        rows: &[usize],
        first: usize,
        pairs: &[[usize; 2]],
    ) -> Option<Self> {
        let d = x.ncols();
        let data = x.as_slice()?;
        let row = |i: usize| data[i * d..(i + 1) * d].iter().map(|v| v.wide());
        let end = first + pairs.len();
        let mut keyed: Vec<(usize, usize, usize)> = rows
            .par_iter()
            .map(|&r| {
                if (first..end).contains(&r) {
                    let [p, q] = pairs[r - first];
                    (p.min(q), p.max(q), r)
                } else {
                    (r, r, r)
                }
            })
            .collect();
        keyed.par_sort_unstable();
        let mut starts = vec![0];
        for i in 1..keyed.len() {
            if (keyed[i].0, keyed[i].1) != (keyed[i - 1].0, keyed[i - 1].1) {
                starts.push(i);
            }
        }
        if keyed.is_empty() || starts.len().saturating_mul(MIN_ROWS_PER_CAPSULE) > rows.len() {
            return None;
        }
        let mut end_rows: Vec<usize> = keyed.iter().flat_map(|k| [k.0, k.1]).collect();
        end_rows.par_sort_unstable();
        end_rows.dedup();
        let ends: Vec<f64> = end_rows.par_iter().flat_map_iter(|&i| row(i)).collect();
        let s = slack(d);
        starts.push(keyed.len());
        let (caps, places): (Vec<Cap>, Vec<Vec<(f64, f64)>>) = starts
            .par_windows(2)
            .map(|w| {
                let group = &keyed[w[0]..w[1]];
                let (ra, rb) = (group[0].0, group[0].1);
                let ia = end_rows.binary_search(&ra).expect("an end");
                let ib = end_rows.binary_search(&rb).expect("an end");
                let a = &ends[ia * d..(ia + 1) * d];
                let b = &ends[ib * d..(ib + 1) * d];
                let uu = exact_sq_dist(a, b);
                let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let norms = norm(a) + norm(b);
                let mut rad: f64 = 0.0;
                let (mut p, mut rv) = (vec![0.0; d], vec![0.0; d]);
                let mut place = Vec::with_capacity(group.len());
                for &(_, _, r) in group {
                    if r == ra || r == rb {
                        place.push((if r == ra { 0.0 } else { 1.0 }, 0.0));
                        continue;
                    }
                    rv.iter_mut().zip(row(r)).for_each(|(o, v)| *o = v);
                    let (qa, qb) = (exact_sq_dist(&rv, a), exact_sq_dist(&rv, b));
                    // Any point of the segment bounds the distance from above; its projection
                    // (t clamped to [0, 1]) is the nearest, up to rounding.
                    let t = if uu > 0.0 {
                        (0.5 * (qa + uu - qb) / uu).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    for j in 0..d {
                        p[j] = a[j] + t * (b[j] - a[j]);
                    }
                    // `p` errs from the exact point of the segment by a few roundings of the
                    // ends' coordinates: `s` times their norms covers it.
                    let dist = exact_sq_dist(&rv, &p).sqrt() * (1.0 + s) + s * norms;
                    rad = rad.max(dist);
                    place.push((t, dist * (1.0 + s)));
                }
                (
                    Cap {
                        a: ia as u32,
                        b: ib as u32,
                        uu,
                        rad: rad * (1.0 + s),
                    },
                    place,
                )
            })
            .unzip();
        let n_ends = end_rows.len();
        let mut ends_t = vec![0.0; n_ends * d];
        for e in 0..n_ends {
            for j in 0..d {
                ends_t[j * n_ends + e] = ends[e * d + j];
            }
        }
        Some(Capsules {
            d,
            ends_t,
            n_ends,
            a: caps.iter().map(|c| c.a).collect(),
            b: caps.iter().map(|c| c.b).collect(),
            uu: caps.iter().map(|c| c.uu).collect(),
            iu: caps.iter().map(|c| 1.0 / c.uu).collect(),
            rad: caps.iter().map(|c| c.rad).collect(),
            members: keyed.iter().map(|k| k.2).collect(),
            places: places.into_iter().flatten().collect(),
            starts,
        })
    }

    /// Per slot `s` of `groups` (nearby queries `q(s)` with squared bounds `bound_sq[s]`):
    /// `true` proves that no row of the capsules lies within the bound of the query (inclusive);
    /// `false` says nothing. Slots in no group, and infinite bounds, stay `false`.
    pub(crate) fn proven<'q, F: Float>(
        &self,
        q: impl Fn(usize) -> &'q [F] + Sync,
        bound_sq: &[f64],
        groups: &[Vec<usize>],
    ) -> Vec<bool> {
        let found: Vec<Vec<usize>> = groups
            .par_iter()
            .map(|g| {
                let live: Vec<usize> = g
                    .iter()
                    .copied()
                    .filter(|&i| bound_sq[i].is_finite())
                    .collect();
                self.group_proven(&q, bound_sq, &live)
            })
            .collect();
        let mut proven = vec![false; bound_sq.len()];
        for i in found.into_iter().flatten() {
            proven[i] = true;
        }
        proven
    }

    /// The nearest row of the capsules to each data row in `qs`, as (exact squared distance by
    /// [`exact_sq_dist`], row), least by (distance, row): the capsule whose segment is nearest
    /// among those of the nearest first end first, then every capsule whose segment lies within
    /// the best distance found plus its radius, nearest segment first. Queries go in blocks of
    /// [`BLOCK`], each capsule's bounds computed for the whole block at once: on 1M `pca_cloud`
    /// rows a query visits three capsules of 25,000, so the cost is the bounds, and bounds
    /// computed one query and one end-group at a time (scalar, gathered) took 10.4 s for 278k
    /// queries.
    pub(crate) fn nearest<F: Float>(&self, x: ArrayView2<F>, qs: &[usize]) -> Vec<(f64, usize)> {
        let data = x.as_slice().expect("row-major data");
        // The capsules grouped by their first end `a` (they are sorted by it), for the first
        // guess of each query.
        let mut heads: Vec<(usize, usize)> = Vec::new();
        for t in 0..self.a.len() {
            match heads.last_mut() {
                Some(g) if self.a[g.0] == self.a[t] => g.1 = t + 1,
                _ => heads.push((t, t + 1)),
            }
        }
        qs.par_chunks(BLOCK * 16)
            .flat_map_iter(|chunk| self.nearest_chunk(data, &heads, chunk))
            .collect()
    }

    /// [`Capsules::nearest`] for one chunk of queries, compiled for the widest vectors the CPU
    /// has (the same operations in the same order on each: the same answer).
    fn nearest_chunk<F: Float>(
        &self,
        data: &[F],
        heads: &[(usize, usize)],
        chunk: &[usize],
    ) -> Vec<(f64, usize)> {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU must support AVX-512F.
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512<F: Float>(
                c: &Capsules,
                data: &[F],
                heads: &[(usize, usize)],
                chunk: &[usize],
            ) -> Vec<(f64, usize)> {
                c.nearest_body(data, heads, chunk)
            }
            /// # Safety
            /// The CPU must support AVX2.
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<F: Float>(
                c: &Capsules,
                data: &[F],
                heads: &[(usize, usize)],
                chunk: &[usize],
            ) -> Vec<(f64, usize)> {
                c.nearest_body(data, heads, chunk)
            }
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was detected.
                return unsafe { avx512(self, data, heads, chunk) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected.
                return unsafe { avx2(self, data, heads, chunk) };
            }
        }
        self.nearest_body(data, heads, chunk)
    }

    #[inline(always)]
    fn nearest_body<F: Float>(
        &self,
        data: &[F],
        heads: &[(usize, usize)],
        chunk: &[usize],
    ) -> Vec<(f64, usize)> {
        let d = self.d;
        let s = slack(d);
        let row = |i: usize| &data[i * d..(i + 1) * d];
        let mut out = Vec::with_capacity(chunk.len());
        let mut de_blk = vec![0.0; self.n_ends * BLOCK];
        let mut order: Vec<Vec<(f64, u32)>> = vec![Vec::new(); BLOCK];
        // A capsule holds no row at or below the best when its segment is farther than the
        // best's distance plus its radius.
        let reach = |best: f64| best.sqrt() * (1.0 + s);
        for block in chunk.chunks(BLOCK) {
            let qs: Vec<Vec<f64>> = block
                .iter()
                .map(|&i| row(i).iter().map(|v| v.wide()).collect())
                .collect();
            self.block_dists(&qs, None, &mut de_blk);
            let mut best = [(f64::INFINITY, usize::MAX); BLOCK];
            let mut first = [usize::MAX; BLOCK];
            // Padding slots reach nothing: every comparison with NaN is false.
            let mut sb = [f64::NAN; BLOCK];
            for (j, &qi) in block.iter().enumerate() {
                let de = |e: u32| de_blk[e as usize * BLOCK + j];
                // The capsule whose segment is nearest among those of the nearest first end:
                // its rows' best bounds the rest.
                let g0 = heads
                    .iter()
                    .min_by(|g, h| de(self.a[g.0]).total_cmp(&de(self.a[h.0])))
                    .expect("a capsule");
                let lb =
                    |t: usize| segment_lb(de(self.a[t]), de(self.b[t]), self.uu[t], self.iu[t], s);
                let mut f = g0.0;
                for t in g0.0..g0.1 {
                    if lb(t) < lb(f) {
                        f = t;
                    }
                }
                first[j] = f;
                let (qa, qb) = (de(self.a[f]), de(self.b[f]));
                self.visit(row(qi), qa, qb, f, &row, &mut best[j]);
                sb[j] = reach(best[j].0);
            }
            // Every capsule's bounds for the block; the few within a query's reach are listed
            // for it.
            for o in &mut order {
                o.clear();
            }
            for t in 0..self.a.len() {
                let lb = self.block_lb(&de_blk, t, s);
                let lb = lb.as_flattened();
                let rad = self.rad[t];
                let mut hit = 0u32;
                for j in 0..BLOCK {
                    let far = sb[j] + rad;
                    hit |= u32::from(lb[j] * (1.0 - s) <= far * far * (1.0 + s)) << j;
                }
                while hit != 0 {
                    let j = hit.trailing_zeros() as usize;
                    hit &= hit - 1;
                    if j < block.len() && t != first[j] {
                        order[j].push((lb[j], t as u32));
                    }
                }
            }
            for (j, &qi) in block.iter().enumerate() {
                let mut b = best[j];
                let o = &mut order[j];
                o.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
                for &(lb, t) in o.iter() {
                    let t = t as usize;
                    let far = reach(b.0) + self.rad[t];
                    if lb * (1.0 - s) > far * far * (1.0 + s) {
                        continue;
                    }
                    let (qa, qb) = (
                        de_blk[self.a[t] as usize * BLOCK + j],
                        de_blk[self.b[t] as usize * BLOCK + j],
                    );
                    self.visit(row(qi), qa, qb, t, &row, &mut b);
                }
                out.push(b);
            }
        }
        out
    }

    /// The rows of capsule `t` nearer to `q` than `best` (by (distance, row)) make it theirs;
    /// `qa` and `qb` are `q`'s squared distances to the capsule's ends. A row is skipped when its
    /// place on the segment proves it no nearer than the best.
    #[inline(always)]
    fn visit<'r, F: Float + 'r>(
        &self,
        q: &[F],
        qa: f64,
        qb: f64,
        t: usize,
        row: &impl Fn(usize) -> &'r [F],
        best: &mut (f64, usize),
    ) {
        let s = slack(self.d);
        let uu = self.uu[t];
        let span = self.starts[t]..self.starts[t + 1];
        for (&r, &(f, e)) in self.members[span.clone()].iter().zip(&self.places[span]) {
            // |q - (a + f u)|^2 = (1 - f) qa + f qb - f (1 - f) uu for any point of the line;
            // the slack covers the three terms' errors.
            let pos = (1.0 - f) * qa + f * qb;
            let cross = f * (1.0 - f) * uu;
            let on = (pos - cross - 4.0 * s * (pos + cross)).max(0.0);
            let gap = (on.sqrt() * (1.0 - s) - e).max(0.0);
            if gap * gap * (1.0 - s) > best.0 * (1.0 + s) {
                continue;
            }
            let c = (exact_sq_dist(q, row(r)), r);
            if c < *best {
                *best = c;
            }
        }
    }

    /// The squared distances of a block's queries (at most `BLOCK`) to every end, into
    /// `de_blk` end-major (`BLOCK` queries an end; padding slots repeat the first query), so that
    /// a capsule's bounds for all the block's queries read two contiguous runs, not gathers
    /// (SMOTEENN on 1M `pca_cloud` rows: 85 s to 58 s); and, when given, those of `centre`
    /// into `de`. Each distance is summed in feature order; the ends are read [`ENDS_RUN`] at a
    /// time for every query: the ends of 5,000 rows are 1.2 MB, more than a core's L2, and
    /// reading them once per query streamed them from L3 seventeen times a block.
    #[inline(always)]
    fn block_dists(
        &self,
        qs: &[Vec<f64>],
        mut centre: Option<(&[f64], &mut [f64])>,
        de_blk: &mut [f64],
    ) {
        let n = self.n_ends;
        let mut e0 = 0;
        // A run's distances gathered end-major in a small array first (in L1, no bound checks),
        // then stored whole.
        let mut tile = [[0.0f64; BLOCK]; ENDS_RUN];
        while e0 + ENDS_RUN <= n {
            for (j, v) in qs.iter().enumerate().take(BLOCK) {
                let acc = run_dists(v, &self.ends_t, n, e0);
                for (row, &x) in tile.iter_mut().zip(&acc) {
                    row[j] = x;
                }
            }
            de_blk[e0 * BLOCK..(e0 + ENDS_RUN) * BLOCK].copy_from_slice(tile.as_flattened());
            if let Some((c, de)) = centre.as_mut() {
                de[e0..e0 + ENDS_RUN].copy_from_slice(&run_dists(c, &self.ends_t, n, e0));
            }
            e0 += ENDS_RUN;
        }
        for e in e0..n {
            for (j, v) in qs.iter().enumerate() {
                de_blk[e * BLOCK + j] = end_dist(v, &self.ends_t, n, e);
            }
            if let Some((c, de)) = centre.as_mut() {
                de[e] = end_dist(c, &self.ends_t, n, e);
            }
        }
        for j in qs.len()..BLOCK {
            for e in 0..n {
                de_blk[e * BLOCK + j] = de_blk[e * BLOCK];
            }
        }
    }

    /// Capsule `t`'s lower bounds (squared) for the block's queries, in vectors of [`LANES`]
    /// (so written, the compiler keeps each in one register; a flat array of 16 was split into
    /// vectors of 4, 8, 2 and 2).
    #[inline(always)]
    fn block_lb(&self, de_blk: &[f64], t: usize, s: f64) -> [[f64; LANES]; BLOCK / LANES] {
        let (a, b) = (self.a[t] as usize, self.b[t] as usize);
        let (uu, iu) = (self.uu[t], self.iu[t]);
        let da = &de_blk[a * BLOCK..(a + 1) * BLOCK];
        let db = &de_blk[b * BLOCK..(b + 1) * BLOCK];
        let mut out = [[0.0; LANES]; BLOCK / LANES];
        for (h, o) in out.iter_mut().enumerate() {
            let (da, db) = (
                &da[h * LANES..(h + 1) * LANES],
                &db[h * LANES..(h + 1) * LANES],
            );
            for l in 0..LANES {
                o[l] = segment_lb(da[l], db[l], uu, iu, s);
            }
        }
        out
    }

    /// Per capsule, a lower bound on the squared distance to its segment from the point whose
    /// squared distances to the ends are `de`, in `lb` (its rows are within its radius of the
    /// segment).
    #[inline(always)]
    fn cap_bounds(&self, de: &[f64], lb: &mut [f64], s: f64) {
        // Every end index is below `n_ends` (`Capsules::new` takes them from the list of ends):
        // with `de` that long, the reads below are in bounds. Unchecked, the loop vectorises
        // (AVX-512 gathers); checked, it ran one capsule at a time with four bound checks each,
        // 8 of the proof's 33 CPU seconds on 1M `pca_cloud` rows.
        assert!(de.len() >= self.n_ends && lb.len() <= self.a.len());
        let caps = self.a.iter().zip(&self.b).zip(self.uu.iter().zip(&self.iu));
        for (out, ((&a, &b), (&uu, &iu))) in lb.iter_mut().zip(caps) {
            debug_assert!((a as usize) < self.n_ends && (b as usize) < self.n_ends);
            // SAFETY: `a` and `b` are below `n_ends <= de.len()` (above).
            let (qa, qb) =
                unsafe { (*de.get_unchecked(a as usize), *de.get_unchecked(b as usize)) };
            *out = segment_lb(qa, qb, uu, iu, s);
        }
    }

    /// [`Capsules::proven`] for one group's slots (finite bounds), compiled for the widest
    /// vectors the CPU has (the same operations in the same order on each: the same answer).
    fn group_proven<'q, F: Float>(
        &self,
        q: &(impl Fn(usize) -> &'q [F] + Sync),
        bound_sq: &[f64],
        live: &[usize],
    ) -> Vec<usize> {
        #[cfg(target_arch = "x86_64")]
        {
            /// # Safety
            /// The CPU must support AVX-512F.
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512<'q, F: Float>(
                c: &Capsules,
                q: &(impl Fn(usize) -> &'q [F] + Sync),
                bound_sq: &[f64],
                live: &[usize],
            ) -> Vec<usize> {
                c.group_body(q, bound_sq, live)
            }
            /// # Safety
            /// The CPU must support AVX2.
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<'q, F: Float>(
                c: &Capsules,
                q: &(impl Fn(usize) -> &'q [F] + Sync),
                bound_sq: &[f64],
                live: &[usize],
            ) -> Vec<usize> {
                c.group_body(q, bound_sq, live)
            }
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was detected.
                return unsafe { avx512(self, q, bound_sq, live) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected.
                return unsafe { avx2(self, q, bound_sq, live) };
            }
        }
        self.group_body(q, bound_sq, live)
    }

    #[inline(always)]
    fn group_body<'q, F: Float>(
        &self,
        q: &(impl Fn(usize) -> &'q [F] + Sync),
        bound_sq: &[f64],
        live: &[usize],
    ) -> Vec<usize> {
        let d = self.d;
        let s = slack(d);
        let mut out = Vec::new();
        let mut de = vec![0.0; self.n_ends];
        let mut de_blk = vec![0.0; self.n_ends * BLOCK];
        let mut lb = vec![0.0; self.a.len()];
        let mut near: Vec<u32> = Vec::new();
        // Blocks of a panel's size: a tile's slots come in panel order, so a block's queries are
        // near each other (a whole tile of a heavy-tailed cloud is not).
        for block in live.chunks(BLOCK) {
            if crate::cancel::requested() {
                return Vec::new();
            }
            let qs: Vec<Vec<f64>> = block
                .iter()
                .map(|&i| q(i).iter().map(|v| v.wide()).collect())
                .collect();
            // The block's centre and radius: a capsule farther from the centre than the block's
            // radius, its largest bound and the capsule's radius is out of every query's reach.
            let mut centre = vec![0.0; d];
            for v in &qs {
                for (c, x) in centre.iter_mut().zip(v) {
                    *c += x;
                }
            }
            centre.iter_mut().for_each(|c| *c /= qs.len() as f64);
            let spread = qs
                .iter()
                .map(|v| exact_sq_dist(v, &centre).sqrt())
                .fold(0.0, f64::max)
                * (1.0 + s);
            let reach = block
                .iter()
                .map(|&i| bound_sq[i])
                .fold(0.0, f64::max)
                .sqrt()
                * (1.0 + s);
            // The block's and the centre's distances to the ends, then every capsule's bound
            // from the centre (a loop that vectorises), the near ones picked out.
            self.block_dists(&qs, Some((&centre, &mut de)), &mut de_blk);
            self.cap_bounds(&de, &mut lb, s);
            near.clear();
            for (t, (&lb, &rad)) in lb.iter().zip(&self.rad).enumerate() {
                let far = spread + reach + rad;
                if lb <= far * far * (1.0 + s) {
                    near.push(t as u32);
                }
            }
            // Each near capsule tested against all the block's queries at once.
            let mut sb = [0.0f64; BLOCK];
            for (j, &i) in block.iter().enumerate() {
                sb[j] = bound_sq[i].sqrt() * (1.0 + s);
            }
            // Capsules in runs of 256, stopping after the first run that leaves no query of
            // the block proven (each has a capsule within reach).
            // Per query, the least margin `lb - far^2 (1 + s)` over the capsules so far: one
            // within reach makes it at most 0 (a minimum vectorises where flags did not).
            let mut margin = [[f64::INFINITY; LANES]; BLOCK / LANES];
            for run in near.chunks(256) {
                for &t in run {
                    let t = t as usize;
                    let lb = self.block_lb(&de_blk, t, s);
                    let rad = self.rad[t];
                    for ((mg, lb), sb) in margin.iter_mut().zip(&lb).zip(sb.chunks_exact(LANES)) {
                        for l in 0..LANES {
                            let far = sb[l] + rad;
                            mg[l] = mg[l].min(lb[l] - far * far * (1.0 + s));
                        }
                    }
                }
                if margin.as_flattened()[..block.len()]
                    .iter()
                    .all(|&m| m <= 0.0)
                {
                    break;
                }
            }
            out.extend(
                block
                    .iter()
                    .zip(margin.as_flattened())
                    .filter(|&(_, &m)| m > 0.0)
                    .map(|(&i, _)| i),
            );
        }
        out
    }
}

/// Ends read together by [`Capsules::block_dists`]: their sums are held in
/// registers over all the features.
const ENDS_RUN: usize = 32;

/// Squared distances from `v` to the points `e0..e0 + ENDS_RUN` of `pts_t` (feature-major, `n`
/// points), summed in feature order.
#[inline(always)]
fn run_dists(v: &[f64], pts_t: &[f64], n: usize, e0: usize) -> [f64; ENDS_RUN] {
    let mut acc = [0.0f64; ENDS_RUN];
    for (j, &qj) in v.iter().enumerate() {
        let col = &pts_t[j * n + e0..j * n + e0 + ENDS_RUN];
        for l in 0..ENDS_RUN {
            acc[l] += (qj - col[l]) * (qj - col[l]);
        }
    }
    acc
}

/// Squared distance from `v` to point `e` of `pts_t` (feature-major, `n` points), summed in
/// feature order.
#[inline(always)]
fn end_dist(v: &[f64], pts_t: &[f64], n: usize, e: usize) -> f64 {
    v.iter()
        .enumerate()
        .map(|(j, &qj)| (qj - pts_t[j * n + e]) * (qj - pts_t[j * n + e]))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (the tests need no statistical quality).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 11
        }
        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 53) as f64
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn seg_dist_sq(q: &[f64], a: &[f64], b: &[f64]) -> f64 {
        // The minimum over a fine grid and the exact projection: a reference for the bound.
        let u: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        let uu: f64 = u.iter().map(|v| v * v).sum();
        let t = if uu > 0.0 {
            (q.iter()
                .zip(a)
                .zip(&u)
                .map(|((q, a), u)| (q - a) * u)
                .sum::<f64>()
                / uu)
                .clamp(0.0, 1.0)
        } else {
            0.0
        };
        q.iter()
            .zip(a)
            .zip(&u)
            .map(|((q, a), u)| ((q - a) - t * u).powi(2))
            .sum()
    }

    #[test]
    fn segment_bound_is_below_the_distance_and_close_to_it() {
        let mut rng = Lcg(3);
        for case in 0..20_000 {
            let d = 1 + case % 12;
            let scale = [1e-3, 1.0, 1e3][case % 3];
            let off = [0.0, 300.0, -1e4][(case / 3) % 3];
            let a: Vec<f64> = (0..d).map(|_| off + scale * rng.unit()).collect();
            let b: Vec<f64> = if case % 7 == 0 {
                a.clone()
            } else {
                (0..d).map(|_| off + scale * rng.unit()).collect()
            };
            let q: Vec<f64> = (0..d).map(|_| off + scale * 2.0 * rng.unit()).collect();
            let s = slack(d);
            let uu = exact_sq_dist(&a, &b);
            let lb = segment_lb(
                exact_sq_dist(&q, &a),
                exact_sq_dist(&q, &b),
                uu,
                1.0 / uu,
                s,
            );
            let exact = seg_dist_sq(&q, &a, &b);
            assert!(lb <= exact * (1.0 + 1e-9), "case {case}: {lb} > {exact}");
            // Tight where the distance is not lost in the cancellation of far-off values.
            if exact > 1e-6 * (off * off + scale * scale) {
                assert!(lb >= exact * (1.0 - 1e-6), "case {case}: {lb} << {exact}");
            }
        }
    }

    #[test]
    fn proven_queries_have_no_row_within_their_bound() {
        // Rows on segments between a few ends, some pairs wrong, some rows not anchored.
        let mut rng = Lcg(7);
        let (n_ends, n_new, d) = (8, 900, 5);
        let mut x = Vec::new();
        for _ in 0..n_ends {
            x.extend((0..d).map(|_| (rng.unit() as f32) * 4.0));
        }
        let mut pairs = Vec::new();
        for i in 0..n_new {
            let (a, b) = (rng.below(n_ends), rng.below(n_ends));
            let t = rng.unit() as f32;
            let row: Vec<f32> = (0..d)
                .map(|j| x[a * d + j] + t * (x[b * d + j] - x[a * d + j]))
                .collect();
            x.extend(row);
            // Every tenth pair names the wrong ends.
            pairs.push(if i % 10 == 0 {
                [b, (a + 1) % n_ends]
            } else {
                [a, b]
            });
        }
        let n = n_ends + n_new;
        let x = ndarray::Array2::from_shape_vec((n, d), x).unwrap();
        // The class: every row but the last 50 (anchored only for the first n_new - 50 new rows).
        let rows: Vec<usize> = (0..n).collect();
        let caps =
            Capsules::new(x.view(), &rows, n_ends, &pairs[..n_new - 50]).expect("rows grouped");
        let queries: Vec<Vec<f32>> = (0..400)
            .map(|_| (0..d).map(|_| (rng.unit() as f32) * 10.0 - 3.0).collect())
            .collect();
        let bounds: Vec<f64> = (0..400).map(|i| [0.01, 0.1, 0.5][i % 3]).collect();
        let groups: Vec<Vec<usize>> = (0..400)
            .collect::<Vec<_>>()
            .chunks(16)
            .map(|c| c.to_vec())
            .collect();
        let proven = caps.proven(|i| &queries[i][..], &bounds, &groups);
        let (mut n_proven, mut n_clear) = (0, 0);
        for (i, q) in queries.iter().enumerate() {
            let nearest = (0..n)
                .map(|r| {
                    let qv: Vec<f64> = q.iter().map(|v| *v as f64).collect();
                    let rv: Vec<f64> = x.row(r).iter().map(|v| *v as f64).collect();
                    exact_sq_dist(&qv, &rv)
                })
                .fold(f64::INFINITY, f64::min);
            n_clear += usize::from(nearest > bounds[i]);
            if proven[i] {
                n_proven += 1;
                assert!(
                    nearest > bounds[i],
                    "query {i}: a row at {nearest} <= {}",
                    bounds[i]
                );
            }
        }
        // The wrong pairs make a few wide capsules; the right ones still prove most clear queries.
        assert!(
            n_proven * 2 > n_clear,
            "{n_proven} proven of {n_clear} with no row within their bound"
        );
        assert!(
            n_clear > 100,
            "the test needs queries with no row near: {n_clear}"
        );
    }
}
