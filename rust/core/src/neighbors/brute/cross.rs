//! The search of a few chosen rows among many: every row streamed past the queries once per
//! group of them, no index.
//!
//! BorderlineSMOTE's and ADASYN's danger search asks for the neighbours of a class's few thousand
//! rows among all rows (5,000 among 1M). The tiled index spends a pass building itself over the
//! 1M rows (and a feature-major copy of them) for 5,000 queries, and on data its bounds cannot
//! prune (a continuous cloud) its search visits nearly every tile, at about two thirds of the
//! kernel's rate. This search holds the queries instead: cut into groups whose transposed blocks
//! fit in L2, each group streams every row of the data past its blocks, packing [`STREAM`] rows at
//! a time into panels (shifted by the data's mean) and running the register tiles of the small-set
//! search ([`super::dense`]) over them, each distance offered to its query's candidate list
//! (the same [`Lists`]: a vector compare first, so that only the few below a query's threshold
//! reach scalar code; the query's own row is never offered). Pass 2 and its proof are the dense
//! search's: the candidates ranked by exact `f64` distances, kept when pass 1's bound
//! ([`ErrBound`]) proves that no other row can rank among them. A query it cannot prove
//! (near-ties: copies of its row) gets a direct scan, or, when many are left, the tiled index's
//! search of those rows.
//!
//! Vectors from outside the data ([`queries_knn`]: `NearestNeighbors.kneighbors(Q)` with few
//! queries) are searched the same way, packed from their own rows and excluding no row.
//!
//! Each group's lists belong to one task, and the answer is the exact ranking by (distance, row),
//! so it is the same for any number of threads. [`takes`] and [`takes_queries`] send the searches
//! of more than [`FEW`] queries whose data the tiled index's bounds prune to it instead.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::build::{shift, sq_norm};
use super::dense::{per_kernel, probe, scan_nearest, settle, Lists};
use super::kernel::{Kernel, PanelDists, Portable};
use super::rounding::ErrBound;
use super::search::keep_for;
use super::{BruteForce, Neighbors, NONE, PANEL};
use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::neighbors::{check_k, row_hash, KnnIndex};

/// Data rows packed into panels at a time: 8 panels, 15 KB in 30 `f32` features, read from L1
/// by every query block of the group.
const STREAM: usize = 8 * PANEL;

/// Most bytes of a group's transposed query blocks, held in L2 while the data streams past.
const GROUP_BYTES: usize = 512 << 10;

/// Most (pending query, row) distances computed by direct scans; past it, the pending queries
/// go to the tiled index.
const SCAN_PAIRS: usize = 1 << 26;

/// The queries as the register tiles read them: blocks of `mq` rows transposed
/// (`qt[(b * d + j) * mq + q]`), shifted by the data's mean and padded to whole blocks; their
/// squared norms in `F` (`+inf` for padding), in `f64`, and the rows they exclude (`NONE` for
/// padding and outside vectors).
struct Queries<F> {
    qt: Vec<F>,
    norms: Vec<F>,
    wide: Vec<f64>,
    ids: Vec<usize>,
}

impl<F: Float> Queries<F> {
    fn new(set: &QuerySet<'_, F>, data: &[F], d: usize, centre: &[F], mq: usize) -> Self {
        let m = set.len(d);
        let slots = m.div_ceil(mq) * mq;
        let mut qt = vec![F::zero(); slots * d];
        let mut norms = vec![F::infinity(); slots];
        let mut wide = vec![0f64; slots];
        let mut ids = vec![NONE; slots];
        for t in 0..m {
            let (b, q) = (t / mq, t % mq);
            let s: Vec<F> = shift(set.vector(data, d, t), centre).collect();
            norms[t] = sq_norm(s.iter().copied());
            wide[t] = s.iter().map(|c| c.wide() * c.wide()).sum();
            ids[t] = set.id(t);
            for (j, &c) in s.iter().enumerate() {
                qt[(b * d + j) * mq + q] = c;
            }
        }
        Queries {
            qt,
            norms,
            wide,
            ids,
        }
    }
}

/// The queries of a search: rows of the data (each excluding itself), or vectors from outside
/// (row-major, excluding nothing).
#[derive(Clone, Copy)]
enum QuerySet<'q, F> {
    Rows(&'q [usize]),
    Outside(&'q [F]),
}

impl<F: Float> QuerySet<'_, F> {
    fn len(&self, d: usize) -> usize {
        match self {
            QuerySet::Rows(r) => r.len(),
            QuerySet::Outside(q) => q.len() / d,
        }
    }

    fn vector<'a>(&'a self, data: &'a [F], d: usize, t: usize) -> &'a [F] {
        match self {
            QuerySet::Rows(r) => &data[r[t] * d..(r[t] + 1) * d],
            QuerySet::Outside(q) => &q[t * d..(t + 1) * d],
        }
    }

    /// The data row query `t` excludes (`NONE`: none).
    fn id(&self, t: usize) -> usize {
        match self {
            QuerySet::Rows(r) => r[t],
            QuerySet::Outside(_) => NONE,
        }
    }
}

/// The data's per-feature mean in `F`: the centre pass 1 shifts rows and queries by (any centre
/// keeps pass 1's bound, which counts the shift's rounding; the mean keeps its norms small).
fn mean<F: Float>(data: &[F], n: usize, d: usize) -> Vec<F> {
    let sum = data
        .par_chunks(4096 * d)
        .map(|c| {
            let mut s = vec![0f64; d];
            for r in c.chunks_exact(d) {
                for (s, &v) in s.iter_mut().zip(r) {
                    *s += v.wide();
                }
            }
            s
        })
        .reduce(
            || vec![0f64; d],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    sum.iter().map(|&s| F::narrow(s / n as f64)).collect()
}

/// Every row of `data` (`n` rows) streamed past the query blocks of `lists`' group: each
/// distance below a query's threshold offered to its list (a chosen row never to its own).
/// `top` becomes the largest `f64` squared norm of a shifted row.
#[inline(always)]
fn scan_group<F: Float, const MQ: usize, K: PanelDists>(
    data: &[F],
    n: usize,
    d: usize,
    centre: &[F],
    qs: &Queries<F>,
    lists: &mut Lists<F>,
    top: &mut f64,
) {
    let mut panels = vec![F::zero(); STREAM * d];
    let mut pn = [F::infinity(); STREAM];
    let mut s = vec![F::zero(); d];
    let mut dist = [[F::zero(); PANEL]; MQ];
    let (b0, b1) = (lists.start / MQ, (lists.start + lists.thr.len()) / MQ);
    *top = 0.0;
    for c0 in (0..n).step_by(STREAM) {
        if crate::cancel::requested() {
            break;
        }
        let rows = STREAM.min(n - c0);
        for r in 0..rows {
            let x = &data[(c0 + r) * d..(c0 + r + 1) * d];
            let mut w = 0f64;
            for (c, v) in s.iter_mut().zip(shift(x, centre)) {
                *c = v;
                w += v.wide() * v.wide();
            }
            *top = top.max(w);
            pn[r] = sq_norm(s.iter().copied());
            let (p, l) = (r / PANEL, r % PANEL);
            for (j, &c) in s.iter().enumerate() {
                panels[(p * d + j) * PANEL + l] = c;
            }
        }
        // The last pack's padding slots: never below a threshold (their values are a previous
        // pack's, finite).
        pn[rows..].iter_mut().for_each(|v| *v = F::infinity());
        let np = rows.div_ceil(PANEL);
        for b in b0..b1 {
            let qt = &qs.qt[b * d * MQ..(b + 1) * d * MQ];
            let qn = &qs.norms[b * MQ..(b + 1) * MQ];
            let ids = &qs.ids[b * MQ..(b + 1) * MQ];
            let r0 = b * MQ - lists.start;
            for p in 0..np {
                // SAFETY: the slices hold the sizes `dists` reads (`d * PANEL`, `PANEL`,
                // `d * MQ`, `MQ`); the caller runs `K` only where the CPU has its instruction set.
                let hits = unsafe {
                    K::dists::<F, MQ>(
                        &panels[p * d * PANEL..(p + 1) * d * PANEL],
                        &pn[p * PANEL..(p + 1) * PANEL],
                        qt,
                        qn,
                        &lists.thr[r0..r0 + MQ],
                        d,
                        &mut dist,
                    )
                };
                let mut qs = 0u32;
                for (q, &h) in hits.iter().enumerate() {
                    qs |= ((h != 0) as u32) << q;
                }
                while qs != 0 {
                    let q = qs.trailing_zeros() as usize;
                    qs &= qs - 1;
                    let mut h = hits[q];
                    while h != 0 {
                        let w = h.trailing_zeros() as usize;
                        h &= h - 1;
                        let j = c0 + p * PANEL + w;
                        if j != ids[q] {
                            lists.offer(r0 + q, dist[q][w], j);
                        }
                    }
                }
            }
        }
    }
}

per_kernel!(
    run_group,
    scan_group,
    (data: &[F], n: usize, d: usize, centre: &[F], qs: &Queries<F>, lists: &mut Lists<F>, top: &mut f64)
);

/// The exact `k` nearest other rows of each row of `rows` among the `n` rows of `data`
/// (row-major, `d > 0` features), each itself excluded by index, ranked by (distance, row):
/// row `t` of the result is row `rows[t]`'s list, as [`KnnIndex::query_self_rows`] gives it.
pub(super) fn rows_knn<F: Float>(
    data: &[F],
    n: usize,
    d: usize,
    rows: &[usize],
    k: usize,
    kind: Kernel,
) -> Result<Neighbors> {
    knn_with(data, n, d, QuerySet::Rows(rows), k, kind, SCAN_PAIRS)
}

/// The exact `k` nearest rows of `data` (`n` rows, `d > 0` features) to each row of `queries`
/// (row-major, `d` features, finite), ranked by (distance, row), as [`KnnIndex::query`] gives
/// them.
pub(super) fn queries_knn<F: Float>(
    data: &[F],
    n: usize,
    d: usize,
    queries: &[F],
    k: usize,
    kind: Kernel,
) -> Result<Neighbors> {
    knn_with(data, n, d, QuerySet::Outside(queries), k, kind, SCAN_PAIRS)
}

#[allow(clippy::too_many_arguments)]
fn knn_with<F: Float>(
    data: &[F],
    n: usize,
    d: usize,
    set: QuerySet<'_, F>,
    k: usize,
    kind: Kernel,
    scan_pairs: usize,
) -> Result<Neighbors> {
    let own = matches!(set, QuerySet::Rows(_));
    let available = check_k(n, k, own)?;
    match &set {
        QuerySet::Rows(rows) => {
            if let Some(&bad) = rows.iter().find(|&&i| i >= n) {
                return Err(CoreError::Shape(format!(
                    "row {bad} is out of range for {n} rows"
                )));
            }
        }
        QuerySet::Outside(q) => {
            if !q.len().is_multiple_of(d) {
                return Err(CoreError::Shape(format!(
                    "queries hold {} values, not a whole number of rows of {d}",
                    q.len()
                )));
            }
        }
    }
    let m = set.len(d);
    let keep = keep_for(k, available);
    let mq = kind.mq::<F>();
    let centre = mean(data, n, d);
    let qs = Queries::new(&set, data, d, &centre, mq);
    // Groups of whole blocks, at most `GROUP_BYTES` of blocks each and at least one per worker.
    let blocks = qs.norms.len() / mq;
    let threads = rayon::current_num_threads().max(1);
    let by_size = (blocks * mq * d * std::mem::size_of::<F>()).div_ceil(GROUP_BYTES);
    let g = by_size.max(threads).div_ceil(threads) * threads;
    let g = g.clamp(1, blocks.max(1));
    let edge = |x: usize| x * blocks / g * mq;
    let seed = vec![F::infinity(); m];
    let mut lists: Vec<(Lists<F>, f64)> = (0..g)
        .map(|x| (Lists::new(edge(x), edge(x + 1), m, keep, &seed), 0f64))
        .collect();
    lists.par_iter_mut().for_each(|(l, top)| {
        run_group(kind, data, n, d, &centre, &qs, l, top);
    });
    crate::cancel::check()?;
    // The bound's `M`: every shifted row's squared norm (each group saw them all).
    let max_norm = lists.iter().fold(0f64, |a, l| a.max(l.1)) * (1.0 + 1e-9);
    let group_of = |t: usize| {
        let x = lists.partition_point(|l| l.0.start <= t) - 1;
        (&lists[x].0, t - lists[x].0.start)
    };
    let row = |i: usize| &data[i * d..(i + 1) * d];
    // Pass 2, the dense search's: a proven query's list is written in place, the others wait.
    let (mut indices, mut distances, proven) = settle(
        m,
        k,
        keep,
        available,
        group_of,
        |t| set.vector(data, d, t),
        |t| ErrBound::of_sq_norm::<F>(d, qs.wide[t], max_norm),
        row,
    );
    let pending: Vec<usize> = (0..m).filter(|&t| !proven[t]).collect();
    if pending.is_empty() {
        return Ok(Neighbors { indices, distances });
    }
    let lists_of: Vec<Vec<(f64, usize)>> = if pending.len().saturating_mul(n) <= scan_pairs {
        pending
            .par_iter()
            .map(|&t| scan_nearest(set.vector(data, d, t), n, set.id(t), k, row))
            .collect()
    } else {
        let x = ArrayView2::from_shape((n, d), data).expect("n x d rows");
        let index = BruteForce::new(x);
        let nb = match &set {
            QuerySet::Rows(rows) => {
                let wanted: Vec<usize> = pending.iter().map(|&t| rows[t]).collect();
                index.query_self_rows(&wanted, k)?
            }
            QuerySet::Outside(_) => {
                let wanted: Vec<F> = pending
                    .iter()
                    .flat_map(|&t| set.vector(data, d, t).iter().copied())
                    .collect();
                let q = ArrayView2::from_shape((pending.len(), d), &wanted[..])
                    .expect("pending x d rows");
                index.query(q, k)?
            }
        };
        (0..pending.len())
            .map(|p| {
                nb.distances
                    .row(p)
                    .iter()
                    .copied()
                    .zip(nb.indices.row(p).iter().copied())
                    .collect()
            })
            .collect()
    };
    crate::cancel::check()?;
    for (&t, list) in pending.iter().zip(&lists_of) {
        for (c, &(dist, j)) in list.iter().enumerate() {
            indices[[t, c]] = j;
            distances[[t, c]] = dist;
        }
    }
    Ok(Neighbors { indices, distances })
}

/// Whether [`rows_knn`] is the faster search for the chosen `rows` among the `n` rows of
/// `data`: data the tiled index's bounds cannot prune ([`probe`]) or at most [`FEW`] rows chosen
/// ([`spread_or_few`]), at most half of it chosen, and at most 1/[`COPIES_SHARE`] of the chosen
/// rows copies of another (a query with more copies than its list holds is left unproven by pass
/// 1, and its direct scan costs a pass over the data).
///
/// Measured at 1M rows, 30 `f32` features, 10 neighbours of the minority's 5,000 rows, 2 threads
/// (`benches/data_families.py`): `gaussian` (probe 0.69) 1.68 s here against 2.89 s through the
/// tiled index, `pca_cloud` (0.59) 1.67 s against 2.34 s; `clustered` (0.26) and `manifold`
/// (0.22) stay on the index (0.9 s, 0.8 s); `duplicates` (0.58, but 250 distinct rows among its
/// minority's 4,735) 2.6 s here against 1.0 s, so it stays too. With the minority's 0.5% at
/// 100k rows (500 rows), `clustered` 27 ms here against 60 ms, `manifold` 24 against 48; at
/// 200k (1,000-1,100 rows) 88 against 126 and 84 against 159; at 500k (2,500-2,700 rows, past
/// [`FEW`]) 431 against 476 and 515 against 375.
pub(super) fn takes<F: Float>(data: &[F], n: usize, d: usize, rows: &[usize]) -> bool {
    takes_set(data, n, d, QuerySet::Rows(rows))
}

/// [`takes`] for `queries` from outside (row-major, `d` features): the same rule.
pub(super) fn takes_queries<F: Float>(data: &[F], n: usize, d: usize, queries: &[F]) -> bool {
    takes_set(data, n, d, QuerySet::Outside(queries))
}

fn takes_set<F: Float>(data: &[F], n: usize, d: usize, set: QuerySet<'_, F>) -> bool {
    let m = if d == 0 { 0 } else { set.len(d) };
    let in_range = match set {
        QuerySet::Rows(rows) => rows.iter().all(|&i| i < n),
        QuerySet::Outside(_) => true,
    };
    if m == 0 || n < 2 || m > n / 2 || !in_range {
        return false;
    }
    spread_or_few(data, n, d, m) && few_copies((0..m).map(|t| set.vector(data, d, t)))
}

/// Whether `m` queries are few enough for this search to beat the tiled index's build alone
/// ([`FEW`] in at least [`FEW_MIN_D`] features), or the data spread enough ([`probe`] at least
/// [`PROBE`]) that its bounds prune nothing.
fn spread_or_few<F: Float>(data: &[F], n: usize, d: usize, m: usize) -> bool {
    (m <= FEW && d >= FEW_MIN_D) || probe(data, n, d) >= PROBE
}

/// Whether at most 1/[`COPIES_SHARE`] of `rows` are copies of another (by a 64-bit hash).
fn few_copies<'r, F: Float + 'r>(rows: impl ExactSizeIterator<Item = &'r [F]>) -> bool {
    let m = rows.len();
    let mut hashes: Vec<u64> = rows.map(row_hash).collect();
    hashes.sort_unstable();
    let copies: usize = hashes
        .chunk_by(|a, b| a == b)
        .filter(|g| g.len() > 1)
        .map(<[u64]>::len)
        .sum();
    copies * COPIES_SHARE <= m
}

/// The probe's ratio from which [`rows_knn`] takes a search (the dense search's threshold for
/// large sets: data spread over many dimensions).
const PROBE: f64 = 0.5;

/// See [`takes`].
const COPIES_SHARE: usize = 64;

/// Most queries this search takes whatever the data's structure: building the tiled index costs
/// about 0.6-0.75 us a row in 30 features and 0.22-0.27 us in 4 to 8 (2 threads, Zen 4), its
/// search of a few queries little more where it prunes, and this search about 0.03-0.1 us a row
/// per query, so up to about a thousand queries it is the faster (see [`takes`]).
const FEW: usize = 1024;

/// Fewest features for [`FEW`]: in 2 or 3 the index's bounds prune nearly everything, its build
/// is cheap, and this search's candidates fill with near-ties (2-d clusters, 200k rows: 46 ms
/// through the index, 83 ms here for 500 queries).
const FEW_MIN_D: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::exact_sq_dist;
    use crate::rng::{Purpose, Stream};
    use crate::threads::run_with_threads;
    use ndarray::Array2;
    use proptest::prelude::*;

    /// The k nearest rows to `q` but row `skip` (`NONE`: none) by a direct scan, ranked by
    /// (exact f64 distance, row): an independent reference.
    fn scan<F: Float>(x: &Array2<F>, q: &[F], skip: usize, k: usize) -> Vec<(f64, usize)> {
        let row = |j: usize| x.row(j).to_slice().unwrap();
        let mut v: Vec<(f64, usize)> = (0..x.nrows())
            .filter(|&j| j != skip)
            .map(|j| (exact_sq_dist(q, row(j)).sqrt(), j))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v.truncate(k);
        v
    }

    /// Every query's list of [`knn_with`] on every kernel and number of `threads` is [`scan`]'s.
    fn check<F: Float>(
        x: &Array2<F>,
        set: QuerySet<'_, F>,
        k: usize,
        threads: &[usize],
        scan_pairs: usize,
    ) -> std::result::Result<(), TestCaseError> {
        let (n, d) = x.dim();
        let data = x.as_slice().unwrap();
        let want: Vec<Vec<(f64, usize)>> = (0..set.len(d))
            .map(|t| scan(x, set.vector(data, d, t), set.id(t), k))
            .collect();
        for kind in Kernel::all_supported() {
            for &th in threads {
                let got = run_with_threads(th, || knn_with(data, n, d, set, k, kind, scan_pairs))
                    .unwrap()
                    .unwrap();
                for (t, w) in want.iter().enumerate() {
                    let g: Vec<(f64, usize)> = got
                        .distances
                        .row(t)
                        .iter()
                        .copied()
                        .zip(got.indices.row(t).iter().copied())
                        .collect();
                    prop_assert_eq!(
                        &g,
                        w,
                        "query {} (excluding {}) kernel {:?} threads {}",
                        t,
                        set.id(t),
                        kind,
                        th
                    );
                }
            }
        }
        Ok(())
    }

    /// `n x d` rows: Gaussian, or a few distinct values (many ties and copies), offset from the
    /// origin by `off` (the shift then rounds).
    fn rows_of(n: usize, d: usize, seed: u64, coarse: bool, off: f64) -> Array2<f64> {
        let mut s = Stream::new(seed, Purpose::Smote, 11, 0);
        Array2::from_shape_fn((n, d), |_| {
            off + if coarse {
                s.below(3) as f64 * 0.5
            } else {
                s.normal()
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        /// Every chosen row's list is the full scan's, in `f64` and `f32`, on every kernel, for
        /// 1 to 3 threads, with ties and copies (a chosen row may be chosen twice), far from the
        /// origin, and with the pending rows scanned directly or searched by the tiled index.
        #[test]
        fn chosen_rows_match_a_full_scan(
            n in 2usize..500, d in 1usize..40, k in 1usize..9, seed in 0u64..1000,
            coarse in proptest::bool::ANY, far in proptest::bool::ANY, threads in 1usize..4,
            by_index in proptest::bool::ANY, k_out in 1usize..10, far_out in proptest::bool::ANY,
        ) {
            let k = k.min(n - 1);
            let off = if far { 300.0 } else { 0.0 };
            let x = rows_of(n, d, seed, coarse, off);
            let x32 = x.mapv(|v| v as f32);
            let mut s = Stream::new(seed, Purpose::Smote, 12, 0);
            let m = 1 + s.below(n as u64) as usize;
            let rows: Vec<usize> = (0..m).map(|_| s.below(n as u64) as usize).collect();
            let pairs = if by_index { 0 } else { SCAN_PAIRS };
            check(&x, QuerySet::Rows(&rows), k, &[threads], pairs)?;
            check(&x32, QuerySet::Rows(&rows), k, &[threads], pairs)?;
            // Vectors from outside, up to every row as neighbours: copies of rows (ties at
            // distance 0), new ones, and rows moved (far outside the data, with `far_out`).
            let k_out = k_out.min(n);
            let fresh = rows_of(m, d, seed + 1, coarse, off);
            let q = Array2::from_shape_fn((m, d), |(t, j)| match t % 3 {
                0 => x[[rows[t], j]],
                1 => fresh[[t, j]],
                _ => x[[rows[t], j]] + if far_out { 1e4 } else { 0.5 * (fresh[[t, j]] - off) },
            });
            let q32 = q.mapv(|v| v as f32);
            check(&x, QuerySet::Outside(q.as_slice().unwrap()), k_out, &[threads], pairs)?;
            check(&x32, QuerySet::Outside(q32.as_slice().unwrap()), k_out, &[threads], pairs)?;
        }
    }

    /// Queries in several groups (more than `GROUP_BYTES` of blocks), the same lists as a full
    /// scan and for any number of threads.
    #[test]
    fn many_groups_match_a_full_scan() {
        let x = rows_of(4000, 120, 5, false, 0.0);
        let rows: Vec<usize> = (0..4000).step_by(2).collect();
        assert!(rows.len() * 120 * 8 > 3 * GROUP_BYTES);
        check(&x, QuerySet::Rows(&rows), 6, &[1, 2, 5], SCAN_PAIRS).unwrap();
    }

    /// Copies of a row beyond its list's length leave pass 1 unproven: both fallbacks give the
    /// full scan's lists.
    #[test]
    fn copies_are_settled_by_either_fallback() {
        let mut x = rows_of(600, 8, 9, false, 0.0);
        for i in 1..40 {
            let r = x.row(0).to_owned();
            x.row_mut(i * 7).assign(&r);
        }
        let rows = [0usize, 7, 14, 3, 599];
        for pairs in [0, SCAN_PAIRS] {
            check(&x, QuerySet::Rows(&rows), 5, &[2], pairs).unwrap();
            let x32 = x.mapv(|v| v as f32);
            check(&x32, QuerySet::Rows(&rows), 5, &[2], pairs).unwrap();
            // An outside copy of that row: 40 rows at distance 0.
            let q = x.row(0).to_vec();
            check(&x, QuerySet::Outside(&q), 5, &[2], pairs).unwrap();
        }
    }

    /// Two clouds far from the mean (at +-1,000 in every feature): pass 1's rounding grows with
    /// the squared norms (3e7 here, rounding errors of a few units) to the size of the distances
    /// within a cloud (spread 0.1 to 1 a feature), so it ranks a query's cloud partly by noise;
    /// the bound must count the norms and leave those queries to the exact fallbacks. Chosen rows
    /// and outside vectors alike.
    #[test]
    fn rounding_near_the_distances_is_not_proven() {
        let noise = rows_of(300, 30, 3, false, 0.0);
        let fresh = rows_of(6, 30, 4, false, 0.0);
        let rows = [0usize, 10, 149, 150, 299];
        for spread in [0.1, 0.3, 1.0] {
            let x = Array2::from_shape_fn((300, 30), |(i, j)| {
                let side = if i < 150 { 1e3 } else { -1e3 };
                (side + spread * noise[[i, j]]) as f32
            });
            let q = fresh.mapv(|v| (1e3 + spread * v) as f32);
            for pairs in [0, SCAN_PAIRS] {
                check(&x, QuerySet::Outside(q.as_slice().unwrap()), 5, &[2], pairs).unwrap();
                check(&x, QuerySet::Rows(&rows), 5, &[2], pairs).unwrap();
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let x = rows_of(5, 3, 1, false, 0.0);
        let e = rows_knn(x.as_slice().unwrap(), 5, 3, &[0], 5, Kernel::detect()).unwrap_err();
        assert!(e.to_string().contains("n_neighbors = 6"), "{e}");
        let e = rows_knn(x.as_slice().unwrap(), 5, 3, &[5], 1, Kernel::detect()).unwrap_err();
        assert!(e.to_string().contains("row 5 is out of range"), "{e}");
        let data = x.as_slice().unwrap();
        let e = queries_knn(data, 5, 3, &[0.0; 3], 6, Kernel::detect()).unwrap_err();
        assert!(e.to_string().contains("n_neighbors = 6"), "{e}");
        let e = queries_knn(data, 5, 3, &[0.0; 4], 1, Kernel::detect()).unwrap_err();
        assert!(e.to_string().contains("not a whole number of rows"), "{e}");
    }

    /// The search takes rows of a spread cloud, few rows of any data in 4 features or more, not
    /// many rows of data its probe finds structured, nor chosen rows with many copies, nor more
    /// than half of the rows.
    #[test]
    fn takes_spread_data_without_copies() {
        let (n, d) = (4096, 30);
        let x = rows_of(n, d, 3, false, 0.0).mapv(|v| v as f32);
        let data = x.as_slice().unwrap();
        let few: Vec<usize> = (0..n).step_by(50).collect();
        assert!(takes(data, n, d, &few));
        assert!(!takes(
            data,
            n,
            d,
            &(0..n).step_by(2).chain([1]).collect::<Vec<_>>()
        ));
        // Points on a line through 30 dimensions: one intrinsic dimension.
        let mut s = Stream::new(4, Purpose::Smote, 13, 0);
        let line: Vec<f32> = (0..n)
            .flat_map(|_| {
                let t = s.normal();
                (0..d).map(move |j| (t * (j + 1) as f64) as f32)
            })
            .collect();
        // Few rows of it are taken all the same (the index's build costs more), not many.
        assert!(takes(&line, n, d, &few));
        let many: Vec<usize> = (0..n).step_by(3).collect();
        assert!(many.len() > FEW && takes(data, n, d, &many) && !takes(&line, n, d, &many));
        // Nor few rows in 3 features of structured data (points on a line again).
        let line3: Vec<f32> = line.chunks(d).flat_map(|r| r[..3].to_vec()).collect();
        assert!(!takes(&line3, n, 3, &few));
        // Every chosen row copied once.
        let mut copied = x.clone();
        for (a, &i) in few.iter().enumerate().skip(1) {
            if a % 2 == 1 {
                let r = copied.row(few[a - 1]).to_owned();
                copied.row_mut(i).assign(&r);
            }
        }
        assert!(!takes(copied.as_slice().unwrap(), n, d, &few));
        // Outside vectors: the same rule.
        let q: Vec<f32> = few.iter().flat_map(|&i| x.row(i).to_vec()).collect();
        assert!(takes_queries(data, n, d, &q));
        assert!(takes_queries(&line, n, d, &q));
        let qm: Vec<f32> = many.iter().flat_map(|&i| x.row(i).to_vec()).collect();
        assert!(!takes_queries(&line, n, d, &qm));
        let twice: Vec<f32> = q.iter().chain(&q).copied().collect();
        assert!(!takes_queries(data, n, d, &twice));
        assert!(!takes_queries(data, n, d, &data[..(n / 2 + 1) * d]));
    }
}
