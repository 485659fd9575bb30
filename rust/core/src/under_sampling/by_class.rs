//! Edited Nearest Neighbours and Tomek links decided on one blocked brute-force index per class.
//!
//! For a row to change class-wise neighbourhood, a row of another class must be at least as near
//! as its `k`-th nearest row of its own class. Three stages, each exact:
//!
//! 1. **Bound**: the `k` nearest rows of its own class *within its tile (or its nearest tiles)*
//!    of that class's index bound its true `k`-th same-class distance from above
//!    ([`BruteForce::near_tiles_kth_sq`]).
//! 2. **Prove**: a bounded search of every other class's index ([`BruteForce::any_within`]) shows
//!    that none of its rows is that near. Most rows stop here: a fraud log's majority rows are far
//!    from every minority row, and SMOTE's new rows sit densely on segments, so their bounds are
//!    tiny. The bounds prune whole tiles, and what is left runs in the SIMD kernel. New rows whose
//!    segment is known ([`Anchors`]) are mostly proven before any search, from their segment's
//!    ends (`docs/design.md`, "SMOTE's segments").
//! 3. **Decide**: the few rows left get their exact `k` nearest rows over all classes (each class's
//!    index searched exactly, the lists merged by (squared distance, row)), and the rule is applied.
//!    ENN's "all" rule first tries a search bounded by the nearest row of another class, and
//!    counts what that search leaves with a scan over the class's leading principal components
//!    ([`Projected`]; `docs/design.md`, "Counting past the nearest tiles").
//!
//! Ties are ranked by row index everywhere (a subset index ranks by position, which follows the row
//! order), so the answer is the one a full scan ranked by (distance, row) gives.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::capsules::Capsules;
use super::copies::Copies;
use super::EnnRule;
use crate::classes::class_rows;
use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::neighbors::{exact_sq_dist, BruteForce, KnnIndex, Projected};

/// Rows known to lie between two other rows: row `first + i` on the segment of rows
/// `pairs[i]` (SMOTE's new rows, from SMOTEENN and SMOTETomek). Only a hint: the distances are
/// computed, never assumed, so any pairs give the exact answer; good ones make it cheap.
///
/// A row `s` near a row `a` is at least `F(a) - |s - a|` from every row of another class, where
/// `F(a)` is the distance from `a` to the nearest such row (the triangle inequality). SMOTE's new
/// rows sit densely on their segments, so their k-th same-class distance is tiny, and for nearly
/// all of them that bound proves no row of another class as near, from the `F` of the few
/// original rows alone: no search of the other classes for them.
#[derive(Clone, Copy, Debug)]
pub struct Anchors<'a> {
    pub first: usize,
    pub pairs: &'a [[usize; 2]],
}

/// One exact index per class over the rows of that class (no copy of the data; the kernel's
/// feature-major panels within [`PANEL_BUDGET`]).
pub(crate) struct ByClass<'a, F: Float> {
    x: ArrayView2<'a, F>,
    codes: &'a [u32],
    /// Per class, its index over its rows (None for an empty class); the index's ids are the
    /// class's rows, ascending.
    index: Vec<Option<BruteForce<'a, F>>>,
    anchors: Option<Anchors<'a>>,
    /// Per class, its rows as capsules around SMOTE's segments, built when first asked for.
    capsules: Vec<OnceLock<Option<Capsules>>>,
    /// The rows equal to one another, found when first asked for.
    copies: OnceLock<Option<Copies>>,
}

/// Queries from which the exact searches first answer the rows with enough copies from them
/// (finding the copies reads every row once, about one exact search of a few rows).
const COPIES_FROM: usize = 1024;

/// Most bytes the per-class indexes may store as feature-major panels: scikit-learn's default
/// `working_memory`, the scratch imbalanced-learn's own neighbour queries take. Above it, the
/// indexes pack a tile's panels when a search visits it (no copy of the data, slower).
const PANEL_BUDGET: usize = 1 << 30;

/// Tiles over which a row's `k`-th same-class distance is bounded: its own and the nearest others
/// by centroid. On a continuous cloud a row's nearest rows often lie in the next tiles, so its
/// own tile alone leaves many rows open for the costly last stage (3M rows of `pca_cloud`: 770k
/// of ENN's majority rows with 1 tile, 267k with 8). Measured with 1, 4, 6 and 8
/// (`docs/design.md`, "Bounds over the nearest tiles").
const NEAR_TILES: usize = 6;

/// Rows of a class from which its bound takes [`NEAR_TILES`] tiles whatever the other classes'
/// size (1M rows of `gaussian`: ENN 17.3 s with its own tile, 15.1 s with 6).
const NEAR_TILES_FROM: usize = 1 << 18;

/// Open rows (at least [`PROJECTED_FROM`] and one in `PROJECTED_SHARE` of the class) from which
/// ENN's last stage caps its bounded search and counts the rows it leaves with [`Projected`]:
/// building the projection reads the whole class (about 80 ms for 1M rows of 30 features), more
/// than a few open rows cost where the tiles prune (1M `manifold` rows: 3,721 open rows, their
/// whole bounded search 39 ms).
const PROJECTED_FROM: usize = 256;
const PROJECTED_SHARE: usize = 64;

/// Share of a class's tiles (one in `WITHIN_SHARE`, at least [`WITHIN_MIN`]) the capped bounded
/// search of ENN's last stage visits before leaving a row to [`Projected`].
const WITHIN_SHARE: usize = 64;
const WITHIN_MIN: usize = 4;

/// Open rows of a class of `n` rows from which ENN's last stage uses [`Projected`].
#[cfg(not(test))]
fn projected_from(n: usize) -> usize {
    PROJECTED_FROM.max(n / PROJECTED_SHARE)
}

#[cfg(not(test))]
fn within_tiles(n_tiles: usize) -> usize {
    (n_tiles / WITHIN_SHARE).max(WITHIN_MIN)
}

#[cfg(test)]
thread_local! {
    /// `(open rows, tiles)` from which a test's ENN uses the projection and how many tiles its
    /// capped search visits (0 tiles: the defaults).
    static TEST_PROJECTED: std::cell::Cell<(usize, usize)> =
        const { std::cell::Cell::new((PROJECTED_FROM, 0)) };
}

#[cfg(test)]
fn projected_from(n: usize) -> usize {
    match TEST_PROJECTED.with(|c| c.get()) {
        (_, 0) => PROJECTED_FROM.max(n / PROJECTED_SHARE),
        (from, _) => from,
    }
}

#[cfg(test)]
fn within_tiles(n_tiles: usize) -> usize {
    match TEST_PROJECTED.with(|c| c.get().1) {
        0 => (n_tiles / WITHIN_SHARE).max(WITHIN_MIN),
        t => t,
    }
}

#[cfg(not(test))]
fn panel_budget() -> usize {
    PANEL_BUDGET
}

#[cfg(test)]
thread_local! {
    /// The budget a test runs with (both paths are tested on small data).
    static TEST_BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(PANEL_BUDGET) };
}

#[cfg(test)]
thread_local! {
    /// Rows the segments settled on this thread (a test checks that they do).
    static SETTLED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
thread_local! {
    /// Rows whose neighbours their copies gave on this thread (a test checks that they do).
    static FROM_COPIES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn panel_budget() -> usize {
    TEST_BUDGET.with(|b| b.get())
}

impl<'a, F: Float> ByClass<'a, F> {
    pub(crate) fn new(
        x: ArrayView2<'a, F>,
        codes: &'a [u32],
        n_classes: usize,
        anchors: Option<Anchors<'a>>,
    ) -> Result<Self> {
        if let Some(a) = anchors {
            let n = x.nrows();
            if a.first.checked_add(a.pairs.len()).is_none_or(|end| end > n) {
                return Err(CoreError::Shape(format!(
                    "segment pairs for rows {}..{} of {n}",
                    a.first,
                    a.first.saturating_add(a.pairs.len())
                )));
            }
            if let Some(bad) = a.pairs.iter().flatten().find(|&&j| j >= n) {
                return Err(CoreError::Shape(format!(
                    "a segment pair names row {bad}; there are {n} rows"
                )));
            }
        }
        let rows = class_rows(codes, n_classes)?;
        let panels = x.len().saturating_mul(std::mem::size_of::<F>()) <= panel_budget();
        let index = rows
            .iter()
            .map(|r| {
                if r.is_empty() {
                    Ok(None)
                } else if panels {
                    BruteForce::subset_with_panels(x, r).map(Some)
                } else {
                    BruteForce::subset(x, r).map(Some)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ByClass {
            x,
            codes,
            capsules: (0..index.len()).map(|_| OnceLock::new()).collect(),
            index,
            anchors,
            copies: OnceLock::new(),
        })
    }

    /// The rows of class `c`, ascending.
    fn rows(&self, c: usize) -> &[usize] {
        self.index[c].as_ref().and_then(|i| i.ids()).unwrap_or(&[])
    }

    fn row(&self, i: usize) -> &[F] {
        let d = self.x.ncols();
        let s = self.x.as_slice().expect("row-major data");
        &s[i * d..(i + 1) * d]
    }

    /// The rows (data rows, ascending) of class `c` whose `k` nearest rows are not proven to be all
    /// of class `c`.
    fn unproven(&self, c: usize, k: usize) -> Result<Vec<usize>> {
        let Some(own) = &self.index[c] else {
            return Ok(Vec::new());
        };
        let rows = self.rows(c);
        let mut bounds = if rows.len() > k {
            own.near_tiles_kth_sq(k, self.tiles_for_bound(c))
        } else {
            vec![f64::INFINITY; rows.len()]
        };
        let mut open: Vec<bool> = bounds.iter().map(|b| b.is_infinite()).collect();
        // Rows their segment's ends prove: left out of the searches below.
        let settled = self.settled_by_anchors(c, rows, &bounds)?;
        let mut groups = own.tile_groups();
        if settled.iter().any(|&v| v) {
            for g in &mut groups {
                g.retain(|&s| !settled[s]);
            }
            groups.retain(|g| !g.is_empty());
        }
        self.open_within(c, rows, &mut bounds, &groups, &settled, &mut open);
        Ok(rows
            .iter()
            .zip(open)
            .filter(|&(_, o)| o)
            .map(|(&i, _)| i)
            .collect())
    }

    /// Class `c`'s rows as capsules around SMOTE's segments, when most of them are new rows
    /// whose pair is known and the pairs group them (see [`Capsules`]).
    fn capsules(&self, c: usize) -> Option<&Capsules> {
        let an = self.anchors?;
        self.capsules[c]
            .get_or_init(|| {
                let rows = self.rows(c);
                let lo = rows.partition_point(|&r| r < an.first);
                let hi = rows.partition_point(|&r| r < an.first + an.pairs.len());
                if (hi - lo) * 2 < rows.len() {
                    return None;
                }
                Capsules::new(self.x, rows, an.first, an.pairs)
            })
            .as_ref()
    }

    /// How many tiles bound the `k`-th same-class distance of class `c`'s rows (see
    /// [`NEAR_TILES`]): the nearest tiles where many rows would be left open otherwise (the other
    /// classes at least a tenth of `c`'s rows, as after SMOTE) or the class is large; its own tile
    /// alone for a small class among few rows of other classes (on 100k rows of a fraud log, the
    /// nearest tiles cost ENN more than the rows they settle save).
    fn tiles_for_bound(&self, c: usize) -> usize {
        let own = self.rows(c).len();
        let others: usize = (0..self.index.len())
            .filter(|&c2| c2 != c)
            .map(|c2| self.rows(c2).len())
            .sum();
        if own >= NEAR_TILES_FROM || others.saturating_mul(10) >= own {
            NEAR_TILES
        } else {
            1
        }
    }

    /// Marks `open` the rows of class `c` (`rows`; those in `groups`, not `settled`) that a row
    /// of another class may come within their bound `bounds` of (their bound then becomes
    /// infinite). Rows already open have an infinite bound: any_within skips them (and answers
    /// true).
    fn open_within(
        &self,
        c: usize,
        rows: &[usize],
        bounds: &mut [f64],
        groups: &[Vec<usize>],
        settled: &[bool],
        open: &mut [bool],
    ) {
        for (c2, other) in self.index.iter().enumerate() {
            let Some(other) = other else { continue };
            if c2 == c {
                continue;
            }
            if open.iter().all(|&o| o) {
                break;
            }
            // Rows the class's capsules prove out of its reach: left out of its search.
            let clear = self
                .capsules(c2)
                .map(|caps| caps.proven(|s| self.row(rows[s]), bounds, groups));
            let kept_groups: Vec<Vec<usize>>;
            let search = match &clear {
                Some(clear) => {
                    kept_groups = groups
                        .iter()
                        .map(|g| g.iter().copied().filter(|&s| !clear[s]).collect::<Vec<_>>())
                        .filter(|g| !g.is_empty())
                        .collect();
                    &kept_groups
                }
                None => groups,
            };
            let search = merge_sparse(search, bounds, SEARCH_GROUP);
            let hit = other.any_within(|s| self.row(rows[s]), bounds, &search);
            let clear = |s: usize| clear.as_ref().is_some_and(|c| c[s]);
            for (s, h) in hit.into_iter().enumerate() {
                if h && !open[s] && !settled[s] && !clear(s) {
                    open[s] = true;
                    bounds[s] = f64::INFINITY;
                }
            }
        }
    }

    /// Per row of class `c` (`rows`, with upper bounds `bounds` on their k-th same-class squared
    /// distance): whether its segment (see [`Anchors`]) proves that no row of another class lies
    /// within the bound: `F(a) - |s - a| > sqrt(bound)` for one of its two ends `a`, with `F(a)`
    /// the exact distance from `a` to the nearest row of another class. Exact distances in `f64`
    /// carry a relative error under 1e-14; the test keeps a 1e-12 margin on each term.
    fn settled_by_anchors(&self, c: usize, rows: &[usize], bounds: &[f64]) -> Result<Vec<bool>> {
        let mut out = vec![false; rows.len()];
        let Some(an) = self.anchors else {
            return Ok(out);
        };
        let end = an.first + an.pairs.len();
        let cand: Vec<usize> = (0..rows.len())
            .filter(|&s| (an.first..end).contains(&rows[s]) && bounds[s].is_finite())
            .collect();
        if cand.is_empty() {
            return Ok(out);
        }
        let mut ends: Vec<usize> = cand
            .iter()
            .flat_map(|&s| an.pairs[rows[s] - an.first])
            .collect();
        ends.sort_unstable();
        ends.dedup();
        let far: Vec<f64> = self
            .nearest_other(c, &ends)?
            .iter()
            .map(|n| n.0.sqrt())
            .collect();
        let proven: Vec<bool> = cand
            .par_iter()
            .map(|&s| {
                let q = self.row(rows[s]);
                let reach = bounds[s].sqrt() * (1.0 + 1e-12);
                an.pairs[rows[s] - an.first].iter().any(|&a| {
                    let f = far[ends.binary_search(&a).expect("an end")];
                    let d = exact_sq_dist(q, self.row(a)).sqrt();
                    f * (1.0 - 1e-12) - d * (1.0 + 1e-12) > reach
                })
            })
            .collect();
        for (&s, p) in cand.iter().zip(proven) {
            out[s] = p;
        }
        #[cfg(test)]
        SETTLED.with(|c| c.set(c.get() + out.iter().filter(|&&v| v).count()));
        Ok(out)
    }

    /// The copies among the rows (see [`Copies`]) when `n_queries` rows are to be searched (once
    /// found, for any number).
    fn copies(&self, n_queries: usize) -> Option<&Copies> {
        if let Some(found) = self.copies.get() {
            return found.as_ref();
        }
        if n_queries < COPIES_FROM {
            return None;
        }
        self.copies.get_or_init(|| Copies::new(self.x)).as_ref()
    }

    /// The rows of `qs` with at least `k` copies (their `k` nearest rows are copies) and the
    /// others, each in the order of `qs`.
    fn split_copies(&self, qs: Vec<usize>, k: usize) -> (Vec<usize>, Vec<usize>) {
        match self.copies(qs.len()) {
            Some(c) => qs.into_iter().partition(|&q| c.has(q, k)),
            None => (Vec::new(), qs),
        }
    }

    /// The exact `k` nearest other rows of each data row in `qs`, over every class, as
    /// (squared distance, row) ranked by (distance, row). A row with `k` copies has them as
    /// its `k` nearest rows (distance 0, ties by row): answered without a search.
    fn exact_knn(&self, qs: &[usize], k: usize) -> Result<Vec<Vec<(f64, usize)>>> {
        let Some(copies) = self.copies(qs.len()) else {
            return self.searched_knn(qs, k);
        };
        let direct: Vec<Option<Vec<(f64, usize)>>> =
            qs.par_iter().map(|&q| copies.nearest(q, k)).collect();
        let rest: Vec<usize> = qs
            .iter()
            .zip(&direct)
            .filter(|(_, d)| d.is_none())
            .map(|(&q, _)| q)
            .collect();
        #[cfg(test)]
        FROM_COPIES.with(|c| c.set(c.get() + qs.len() - rest.len()));
        let mut searched = self.searched_knn(&rest, k)?.into_iter();
        Ok(direct
            .into_iter()
            .map(|d| d.unwrap_or_else(|| searched.next().expect("a list per searched row")))
            .collect())
    }

    /// [`ByClass::exact_knn`] by searching every class's index.
    fn searched_knn(&self, qs: &[usize], k: usize) -> Result<Vec<Vec<(f64, usize)>>> {
        let mut lists: Vec<Vec<usize>> = vec![Vec::new(); qs.len()];
        let d = self.x.ncols();
        for (c, index) in self.index.iter().enumerate() {
            let Some(index) = index else { continue };
            let ids = index.ids().expect("a subset index");
            let n_c = self.rows(c).len();
            // Queries of class c: searched among their own class, themselves excluded.
            let own: Vec<(usize, usize)> = qs
                .iter()
                .enumerate()
                .filter(|&(_, &q)| self.codes[q] as usize == c)
                .map(|(s, &q)| (s, self.rows(c).binary_search(&q).expect("row of its class")))
                .collect();
            let k_own = k.min(n_c.saturating_sub(1));
            if !own.is_empty() && k_own > 0 {
                let pos: Vec<usize> = own.iter().map(|p| p.1).collect();
                let nb = index.query_self_rows(&pos, k_own)?;
                for (r, &(s, _)) in own.iter().enumerate() {
                    lists[s].extend(nb.indices.row(r).iter().map(|&p| ids[p]));
                }
            }
            // Queries of other classes.
            let foreign: Vec<usize> = (0..qs.len())
                .filter(|&s| self.codes[qs[s]] as usize != c)
                .collect();
            let k_other = k.min(n_c);
            if let Some(caps) = self.capsules(c).filter(|_| k_other == 1) {
                // The nearest row of a class of capsules (Tomek links): searched by capsule.
                let qrows: Vec<usize> = foreign.iter().map(|&s| qs[s]).collect();
                for (&s, (_, j)) in foreign.iter().zip(caps.nearest(self.x, &qrows)) {
                    lists[s].push(j);
                }
                continue;
            }
            if !foreign.is_empty() && k_other > 0 {
                let mut q = Array2::<F>::zeros((foreign.len(), d));
                for (r, &s) in foreign.iter().enumerate() {
                    q.row_mut(r)
                        .iter_mut()
                        .zip(self.row(qs[s]))
                        .for_each(|(a, &b)| *a = b);
                }
                let nb = index.query(q.view(), k_other)?;
                for (r, &s) in foreign.iter().enumerate() {
                    lists[s].extend(nb.indices.row(r).iter().map(|&p| ids[p]));
                }
            }
        }
        Ok(qs
            .par_iter()
            .zip(lists)
            .map(|(&q, cand)| {
                let qv = self.row(q);
                let mut ranked: Vec<(f64, usize)> = cand
                    .into_iter()
                    .map(|j| (exact_sq_dist(qv, self.row(j)), j))
                    .collect();
                ranked.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                ranked.truncate(k);
                ranked
            })
            .collect())
    }
}

impl<F: Float> ByClass<'_, F> {
    /// The nearest row of another class than `c` to each data row in `qs` (of class `c`), as
    /// (exact squared distance, row), least by (distance, row); `(inf, usize::MAX)` when no other
    /// class has rows.
    fn nearest_other(&self, c: usize, qs: &[usize]) -> Result<Vec<(f64, usize)>> {
        let d = self.x.ncols();
        let mut best = vec![(f64::INFINITY, usize::MAX); qs.len()];
        if qs.is_empty() {
            return Ok(best);
        }
        // The queries as a matrix, for the indexes (the capsules read the rows in place).
        let mut q: Option<Array2<F>> = None;
        for (c2, index) in self.index.iter().enumerate() {
            let Some(index) = index.as_ref().filter(|_| c2 != c) else {
                continue;
            };
            if let Some(caps) = self.capsules(c2) {
                let near = caps.nearest(self.x, qs);
                for (b, cand) in best.iter_mut().zip(near) {
                    // Least by (distance, row).
                    if cand < *b {
                        *b = cand;
                    }
                }
                continue;
            }
            let q = q.get_or_insert_with(|| {
                Array2::from_shape_fn((qs.len(), d), |(r, j)| self.row(qs[r])[j])
            });
            let ids = index.ids().expect("a subset index");
            let nb = index.query(q.view(), 1)?;
            best.par_iter_mut().enumerate().for_each(|(r, b)| {
                let j = ids[nb.indices[[r, 0]]];
                let cand = (exact_sq_dist(self.row(qs[r]), self.row(j)), j);
                if cand < *b {
                    *b = cand;
                }
            });
        }
        Ok(best)
    }

    /// Stage 3 of ENN's "all" rule for the open rows of class `c`: the nearest row of another
    /// class, then a search of `c`'s own index bounded by that distance, which stops as soon as `k`
    /// rows of `c` are proven nearer. With many open rows (and a class whose leading components
    /// hold most of its spread) that search visits only the tiles nearest each group of rows,
    /// and [`Projected`] counts exactly, for the rows it leaves, the rows of `c` that rank before
    /// the foreign row. Returns per open row `Some(kept)` where that decides it, `None` where only
    /// the full neighbour list can (near-ties within pass 1's rounding).
    fn all_rule(&self, c: usize, open: &[usize], k: usize) -> Result<Vec<Option<bool>>> {
        // An empty class has no open rows (and no index).
        let Some(own) = self.index[c].as_ref().filter(|_| !open.is_empty()) else {
            return Ok(Vec::new());
        };
        let ids = own.ids().expect("a subset index");
        let near = self.nearest_other(c, open)?;
        let pos: Vec<usize> = open
            .iter()
            .map(|&i| ids.binary_search(&i).expect("row of its class"))
            .collect();
        let bound: Vec<f64> = near.iter().map(|n| n.0).collect();
        // Many open rows: the bounded search stops after the nearest tiles, and the rows it
        // leaves (those ENN removes, for which it would compute most of the class's distances)
        // are counted by the projected scan.
        let projected = (open.len() >= projected_from(ids.len()))
            .then(|| Projected::new(own))
            .flatten();
        let cap = projected.as_ref().map(|_| within_tiles(own.n_tiles()));
        let found = own.self_within(&pos, &bound, k, cap);
        let mut out: Vec<Option<bool>> = found
            .iter()
            .zip(&near)
            .map(|(w, &(m, jm))| {
                // Own rows ranked before the nearest foreign row, by (distance, row).
                let before = w
                    .rows
                    .iter()
                    .filter(|&&(dd, p)| dd < m || (dd == m && ids[p] < jm))
                    .count();
                if before >= k {
                    Some(true)
                } else if w.complete {
                    Some(false)
                } else {
                    None
                }
            })
            .collect();
        if let Some(pr) = &projected {
            let rest: Vec<usize> = (0..out.len()).filter(|&s| out[s].is_none()).collect();
            let qs: Vec<(usize, f64, usize)> = rest
                .iter()
                .map(|&s| (pos[s], near[s].0, near[s].1))
                .collect();
            for (&s, c) in rest.iter().zip(pr.count_before(&qs, k)) {
                out[s] = Some(c >= k);
            }
        }
        Ok(out)
    }
}

/// The fewest rows (of finite bound) a group of [`BruteForce::any_within`] is given, where the
/// rows left to search are sparse among the tiles: after the segments' ends settled 987k of the
/// 995k rows of SMOTEENN's grown class on 1M `pca_cloud` rows, the other 7k came in groups of one
/// or two, each a search of the other class at matrix-vector speed (3.96 s; 0.77 s so merged,
/// 0.69 s at 512). A group of consecutive tiles stays near in space (tiles are listed in the
/// order of the tree that made them).
const SEARCH_GROUP: usize = 128;

/// `groups` with runs of consecutive groups merged until each holds at least `min` slots of
/// finite bound (the last may hold fewer).
fn merge_sparse(groups: &[Vec<usize>], bounds: &[f64], min: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut live = 0;
    for g in groups {
        cur.extend_from_slice(g);
        live += g.iter().filter(|&&s| bounds[s].is_finite()).count();
        if live >= min {
            out.push(std::mem::take(&mut cur));
            live = 0;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Most frequent code among `labels`, ties to the lowest code.
fn mode_code(labels: impl Iterator<Item = u32>, scratch: &mut Vec<(u32, usize)>) -> u32 {
    scratch.clear();
    for c in labels {
        match scratch.iter_mut().find(|p| p.0 == c) {
            Some(p) => p.1 += 1,
            None => scratch.push((c, 1)),
        }
    }
    scratch
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|p| p.0)
        .expect("k >= 1")
}

/// Per row: whether Edited Nearest Neighbours keeps it (rows of classes not `targeted` stay).
/// The caller has checked the inputs and `1 <= k < n`.
pub(crate) fn enn_keep_mask<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
    k: usize,
    kind: EnnRule,
    anchors: Option<Anchors>,
) -> Result<Vec<bool>> {
    let by = ByClass::new(x, codes, n_classes, anchors)?;
    let mut keep = vec![true; x.nrows()];
    for c in (0..n_classes).filter(|&c| targeted[c]) {
        let open = by.unproven(c, k)?;
        // The bounded searches skip their work once the call is interrupted: stop before their
        // partial answers are used.
        crate::cancel::check()?;
        // Rows with k copies: their neighbours are those copies, found without a search below.
        let (with_copies, mut open) = by.split_copies(open, k);
        if kind == EnnRule::All {
            // Most open rows are decided by a search bounded by the nearest foreign row.
            let decided = by.all_rule(c, &open, k)?;
            crate::cancel::check()?;
            for (&i, v) in open.iter().zip(&decided) {
                if let Some(kept) = *v {
                    keep[i] = kept;
                }
            }
            open = open
                .iter()
                .zip(&decided)
                .filter(|(_, v)| v.is_none())
                .map(|(&i, _)| i)
                .collect();
        }
        open.extend(with_copies);
        let lists = by.exact_knn(&open, k)?;
        let mut scratch = Vec::new();
        for (&i, list) in open.iter().zip(&lists) {
            let labels = list.iter().map(|&(_, j)| codes[j]);
            keep[i] = match kind {
                EnnRule::All => labels.into_iter().all(|l| l == c as u32),
                EnnRule::Mode => mode_code(labels, &mut scratch) == c as u32,
            };
        }
    }
    crate::cancel::check()?;
    Ok(keep)
}

/// Per row: whether it is a row of a `targeted` class in a Tomek link (it and its nearest
/// neighbour, of another class, are each other's nearest neighbour). Inputs checked, `n >= 2`.
pub(crate) fn tomek_link_mask<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    targeted: &[bool],
    anchors: Option<Anchors>,
) -> Result<Vec<bool>> {
    let by = ByClass::new(x, codes, n_classes, anchors)?;
    let mut mask = vec![false; x.nrows()];
    // Every link joins two classes, so one of its rows at least lies outside the largest class.
    // Where those rows are few (a fraud log's minority), their exact nearest rows, and the
    // nearest rows of those, find every link: a few exact queries instead of bounds on every row.
    // So too after SMOTE, however many rows it made: its segments prove most new rows' nearest
    // row to be of their class, so the rows left to search are few (SMOTETomek at 1:1 on 100k
    // `gaussian` rows: 2.34 s bounding the largest class's rows, 0.30 s this way).
    let largest = (0..n_classes)
        .max_by(|&a, &b| by.rows(a).len().cmp(&by.rows(b).len()).then(b.cmp(&a)))
        .expect("at least one class");
    let small: Vec<usize> = (0..x.nrows())
        .filter(|&i| codes[i] as usize != largest)
        .collect();
    if small.len() * 8 <= x.nrows() || by.anchors.is_some() {
        // With SMOTE's segments (SMOTETomek, or SMOTE then Tomek links streamed), most new rows
        // are proven to have a row of their own class nearest (stages 1-2, the segments settling
        // most without a search): such a row is in no link as its small-side member, and a link
        // has one. Only the others need their exact nearest row.
        let small: Vec<usize> = if by.anchors.is_some() {
            let mut open = Vec::new();
            for c in (0..n_classes).filter(|&c| c != largest) {
                open.extend(by.unproven(c, 1)?);
            }
            crate::cancel::check()?;
            open.sort_unstable();
            open
        } else {
            small
        };
        let near_small = by.exact_knn(&small, 1)?;
        // (row of the small side, its nearest row) where the two classes differ.
        let pairs: Vec<(usize, usize)> = small
            .iter()
            .zip(&near_small)
            .map(|(&j, l)| (j, l[0].1))
            .filter(|&(j, i)| codes[i] != codes[j])
            .collect();
        let mut partners: Vec<usize> = pairs
            .iter()
            .map(|p| p.1)
            .filter(|&i| codes[i] as usize == largest)
            .collect();
        partners.sort_unstable();
        partners.dedup();
        let near_partners = by.exact_knn(&partners, 1)?;
        for (j, i) in pairs {
            let nearest_of_i = match (small.binary_search(&i), partners.binary_search(&i)) {
                (Ok(s), _) => near_small[s][0].1,
                (_, Ok(p)) => near_partners[p][0].1,
                // A small-side row proven to have a row of its own class nearest: no link.
                _ => continue,
            };
            if nearest_of_i == j {
                mask[i] |= targeted[codes[i] as usize];
                mask[j] |= targeted[codes[j] as usize];
            }
        }
        crate::cancel::check()?;
        return Ok(mask);
    }
    // (row, its nearest row) where the two classes differ.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for c in (0..n_classes).filter(|&c| targeted[c]) {
        let open = by.unproven(c, 1)?;
        crate::cancel::check()?;
        let lists = by.exact_knn(&open, 1)?;
        pairs.extend(
            open.iter()
                .zip(&lists)
                .map(|(&i, l)| (i, l[0].1))
                .filter(|&(i, j)| codes[i] != codes[j]),
        );
    }
    let mut js: Vec<usize> = pairs.iter().map(|p| p.1).collect();
    js.sort_unstable();
    js.dedup();
    let nearest = by.exact_knn(&js, 1)?;
    for (i, j) in pairs {
        let s = js.binary_search(&j).expect("searched");
        if nearest[s][0].1 == i {
            mask[i] = true;
        }
    }
    crate::cancel::check()?;
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, Stream};
    use proptest::prelude::*;

    /// k nearest other rows of row i by (exact squared distance, row).
    fn scan(x: &Array2<f32>, i: usize, k: usize) -> Vec<usize> {
        let r = |j: usize| x.row(j).to_slice().unwrap().to_vec();
        let mut all: Vec<(f64, usize)> = (0..x.nrows())
            .filter(|&j| j != i)
            .map(|j| (exact_sq_dist(&r(i), &r(j)), j))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|p| p.1).collect()
    }

    /// SMOTE-shaped data: `n0` rows of class 0 (standard normal), `n1` of class 1 (normal times
    /// `spread`, shifted by `shift`), then `made` rows of class 1 on segments between two of
    /// those, a gap of 0 (an exact copy) for every ninth when `copies`. Returns the rows, codes
    /// and each new row's segment.
    fn smote_shaped(
        s: &mut Stream,
        (n0, n1, made, d): (usize, usize, usize, usize),
        spread: f64,
        shift: f64,
        copies: bool,
    ) -> (Array2<f32>, Vec<u32>, Vec<[usize; 2]>) {
        let n = n0 + n1 + made;
        let mut codes = vec![0u32; n];
        let mut x = Array2::<f32>::zeros((n, d));
        for i in 0..n0 + n1 {
            let minority = i >= n0;
            codes[i] = minority as u32;
            for j in 0..d {
                x[[i, j]] = if minority {
                    (s.normal() * spread + shift) as f32
                } else {
                    s.normal() as f32
                };
            }
        }
        let mut pairs = Vec::with_capacity(made);
        for m in 0..made {
            let i = n0 + n1 + m;
            codes[i] = 1;
            let a = n0 + s.below(n1 as u64) as usize;
            let b = n0 + s.below(n1 as u64) as usize;
            let t = if copies && m % 9 == 0 {
                0.0
            } else {
                s.uniform()
            };
            for j in 0..d {
                let (va, vb) = (x[[a, j]] as f64, x[[b, j]] as f64);
                x[[i, j]] = (va + t * (vb - va)) as f32;
            }
            pairs.push([a, b]);
        }
        (x, codes, pairs)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Several tiles per class, clustered and overlapping classes, many exact duplicates and a
        /// far-from-origin offset (rounding in pass 1): every stage must stay exact.
        #[test]
        fn many_tiles_match_a_full_scan(
            n in 600usize..2500, d in 1usize..12, nc in 2u32..4, k in 1usize..6,
            seed in 0u64..1000, offset in prop_oneof![Just(0f32), Just(1e3f32)], dup in 0usize..3,
            majority in prop_oneof![Just(70u64), Just(96u64)],
        ) {
            let mut s = Stream::new(seed, Purpose::Smote, 11, 0);
            // 96%: the other classes are few enough for Tomek links' small-side search.
            let codes: Vec<u32> = (0..n)
                .map(|_| if s.below(100) < majority { 0 } else { 1 + s.below(nc as u64 - 1) as u32 })
                .collect();
            let mut x = Array2::from_shape_fn((n, d), |(i, _)| {
                offset + (s.normal() * 0.7) as f32 + codes[i] as f32 * 0.9
            });
            // Duplicated rows (across classes too) make ties at distance 0.
            for i in 0..n / 7 * dup {
                let (a, b) = (s.below(n as u64) as usize, s.below(n as u64) as usize);
                let src = x.row(a).to_owned();
                x.row_mut(b).assign(&src);
                let _ = i;
            }
            let targeted: Vec<bool> = (0..nc as usize).map(|c| c != 1 || nc == 2).collect();
            // Stored panels, or (budget 0) panels packed when a search visits a tile.
            let budget = if seed % 2 == 0 { PANEL_BUDGET } else { 0 };
            TEST_BUDGET.with(|b| b.set(budget));
            let enn = enn_keep_mask(x.view(), &codes, nc as usize, &targeted, k, EnnRule::All, None).unwrap();
            let tomek = tomek_link_mask(x.view(), &codes, nc as usize, &targeted, None).unwrap();
            TEST_BUDGET.with(|b| b.set(PANEL_BUDGET));
            let nn: Vec<usize> = (0..n).map(|i| scan(&x, i, 1)[0]).collect();
            for i in 0..n {
                let c = codes[i];
                let want = !targeted[c as usize] || scan(&x, i, k).iter().all(|&j| codes[j] == c);
                prop_assert_eq!(enn[i], want, "ENN row {}", i);
                let j = nn[i];
                let link = targeted[c as usize] && codes[j] != c && nn[j] == i;
                prop_assert_eq!(tomek[i], link, "Tomek row {}", i);
            }
        }

        /// SMOTE-shaped data: rows of class 1 made on segments between two original rows of the
        /// class (some segments crossing class 0's rows, some rows duplicated), cleaned with
        /// their segments as anchors, and with wrong anchors (rows of the other class, far rows):
        /// every answer must be the full scan's.
        /// Tomek links on a small SMOTE side (at most 1/8 of the rows, as after
        /// SMOTE(sampling_strategy=0.1)): the segments prove most new rows out of every link,
        /// and the links found are a full scan's, with right or wrong pairs.
        #[test]
        fn anchored_small_side_tomek_matches_a_full_scan(
            n0 in 1200usize..2400, n1 in 8usize..40, made in 40usize..140, d in 1usize..8,
            seed in 0u64..1000, spread in prop_oneof![Just(0.3f64), Just(3.0f64)],
            wrong in 0usize..2,
        ) {
            let mut s = Stream::new(seed, Purpose::Smote, 13, 0);
            let n = n0 + n1 + made;
            let (x, codes, segs) = smote_shaped(&mut s, (n0, n1, made, d), spread, 1.0, true);
            let pairs: Vec<[usize; 2]> = segs
                .iter()
                .enumerate()
                .map(|(m, &seg)| if wrong == 1 && m % 3 == 0 { [s.below(n0 as u64) as usize, 0] } else { seg })
                .collect();
            let anchors = Anchors { first: n0 + n1, pairs: &pairs };
            for targeted in [vec![true, true], vec![true, false], vec![false, true]] {
                let tomek = tomek_link_mask(x.view(), &codes, 2, &targeted, Some(anchors)).unwrap();
                let plain = tomek_link_mask(x.view(), &codes, 2, &targeted, None).unwrap();
                let nn: Vec<usize> = (0..n).map(|i| scan(&x, i, 1)[0]).collect();
                for i in 0..n {
                    let j = nn[i];
                    let link = codes[j] != codes[i] && nn[j] == i && targeted[codes[i] as usize];
                    prop_assert_eq!(tomek[i], link, "Tomek row {}", i);
                    prop_assert_eq!(plain[i], link, "Tomek without segments, row {}", i);
                }
            }
        }

        #[test]
        fn anchored_rows_match_a_full_scan(
            n0 in 300usize..1200, n1 in 8usize..60, made in 100usize..900, d in 1usize..10,
            k in 1usize..5, seed in 0u64..1000, spread in prop_oneof![Just(0.3f64), Just(3.0f64)],
            wrong in 0usize..3,
        ) {
            let mut s = Stream::new(seed, Purpose::Smote, 12, 0);
            let n = n0 + n1 + made;
            let (x, codes, segs) = smote_shaped(&mut s, (n0, n1, made, d), spread, 1.0, true);
            let pairs: Vec<[usize; 2]> = segs
                .iter()
                .enumerate()
                .map(|(m, &seg)| match wrong {
                    // Any pair is only a hint: rows of class 0, or the row itself.
                    1 if m % 3 == 0 => [s.below(n0 as u64) as usize, n0 + n1 + m],
                    2 if m % 5 == 0 => [n0 + n1 + m, n0 + n1 + m],
                    _ => seg,
                })
                .collect();
            let anchors = Anchors { first: n0 + n1, pairs: &pairs };
            let targeted = vec![true, true];
            let enn = enn_keep_mask(x.view(), &codes, 2, &targeted, k, EnnRule::All, Some(anchors)).unwrap();
            let mode = enn_keep_mask(x.view(), &codes, 2, &targeted, k, EnnRule::Mode, Some(anchors)).unwrap();
            let plain_mode = enn_keep_mask(x.view(), &codes, 2, &targeted, k, EnnRule::Mode, None).unwrap();
            let tomek = tomek_link_mask(x.view(), &codes, 2, &targeted, Some(anchors)).unwrap();
            let nn: Vec<usize> = (0..n).map(|i| scan(&x, i, 1)[0]).collect();
            for i in 0..n {
                let c = codes[i];
                let want = scan(&x, i, k).iter().all(|&j| codes[j] == c);
                prop_assert_eq!(enn[i], want, "ENN row {}", i);
                prop_assert_eq!(mode[i], plain_mode[i], "ENN mode row {}", i);
                let j = nn[i];
                prop_assert_eq!(tomek[i], codes[j] != c && nn[j] == i, "Tomek row {}", i);
            }
        }
    }

    /// A minority grown inside the majority's cloud (SMOTE's segments crossing it): the
    /// capsules of the grown class prove most majority rows out of its reach and find the
    /// nearest grown row of the rest, and ENN and Tomek links answer as a full scan does.
    #[test]
    fn capsules_decide_the_majority_as_a_full_scan() {
        let mut s = Stream::new(5, Purpose::Smote, 14, 0);
        let (n0, n1, made, d) = (2500, 12, 900, 4);
        let (x, codes, pairs) = smote_shaped(&mut s, (n0, n1, made, d), 1.0, 0.5, true);
        let anchors = Anchors {
            first: n0 + n1,
            pairs: &pairs,
        };
        let by = ByClass::new(x.view(), &codes, 2, Some(anchors)).unwrap();
        let caps = by
            .capsules(1)
            .expect("the grown class is grouped into capsules");
        assert!(by.capsules(0).is_none(), "the majority has no segments");
        // Most majority rows are proven out of the grown class's reach by the capsules alone.
        let rows = by.rows(0);
        let bounds = by.index[0].as_ref().unwrap().near_tiles_kth_sq(3, 1);
        let groups = by.index[0].as_ref().unwrap().tile_groups();
        let proven = caps.proven(|i| by.row(rows[i]), &bounds, &groups);
        let n_proven = proven.iter().filter(|&&p| p).count();
        assert!(n_proven * 2 > n0, "{n_proven} of {n0} proven");
        for (i, &p) in proven.iter().enumerate() {
            if p {
                let q = by.row(rows[i]);
                let nearest = (n0..x.nrows())
                    .map(|j| exact_sq_dist(q, by.row(j)))
                    .fold(f64::INFINITY, f64::min);
                assert!(nearest > bounds[i], "row {i}: {nearest} <= {}", bounds[i]);
            }
        }
        // The nearest grown row of every majority row, ties by row.
        let near = caps.nearest(x.view(), rows);
        for (&r, &(dist, j)) in rows.iter().zip(&near) {
            let want = (n0..x.nrows())
                .map(|j| (exact_sq_dist(by.row(r), by.row(j)), j))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .unwrap();
            assert_eq!((dist, j), want, "row {r}");
        }
        let t = [true, true];
        for k in [1, 3] {
            let enn =
                enn_keep_mask(x.view(), &codes, 2, &t, k, EnnRule::All, Some(anchors)).unwrap();
            for i in 0..x.nrows() {
                let want = scan(&x, i, k).iter().all(|&j| codes[j] == codes[i]);
                assert_eq!(enn[i], want, "ENN k={k} row {i}");
            }
        }
        let tomek = tomek_link_mask(x.view(), &codes, 2, &t, Some(anchors)).unwrap();
        let nn: Vec<usize> = (0..x.nrows()).map(|i| scan(&x, i, 1)[0]).collect();
        for i in 0..x.nrows() {
            let j = nn[i];
            assert_eq!(
                tomek[i],
                codes[j] != codes[i] && nn[j] == i,
                "Tomek row {i}"
            );
        }
    }

    /// Duplicate-heavy data (a few hundred distinct rows, each copied with mixed labels, and
    /// SMOTE rows between copies): ENN (both rules) and Tomek links, with and without segments,
    /// answer as a full scan does, and most open rows are answered from their copies.
    #[test]
    fn copies_answer_as_a_full_scan() {
        let mut s = Stream::new(8, Purpose::Smote, 15, 0);
        let protos: Vec<Vec<f32>> = (0..300)
            .map(|_| (0..4).map(|_| s.below(5) as f32 * 0.25).collect())
            .collect();
        let n0 = 3000;
        let mut rows: Vec<Vec<f32>> = Vec::new();
        let mut codes: Vec<u32> = Vec::new();
        for i in 0..n0 {
            let p = s.below(300) as usize;
            rows.push(protos[p].clone());
            // A fifth of the prototypes are minority; a tenth of their copies majority.
            let minority = p.is_multiple_of(5) && s.below(10) != 0;
            codes.push(u32::from(minority && i % 97 != 0));
        }
        // SMOTE-like rows of class 1 between two of its rows: copies when the two are copies.
        let ones: Vec<usize> = (0..n0).filter(|&i| codes[i] == 1).collect();
        let mut pairs = Vec::new();
        for _ in 0..1500 {
            let a = ones[s.below(ones.len() as u64) as usize];
            let b = ones[s.below(ones.len() as u64) as usize];
            let b = if s.below(4) == 0 { b } else { a };
            let gap = s.uniform() as f32;
            rows.push(
                rows[a]
                    .iter()
                    .zip(&rows[b])
                    .map(|(&u, &v)| u + gap * (v - u))
                    .collect(),
            );
            codes.push(1);
            pairs.push([a, b]);
        }
        let n = rows.len();
        let x = Array2::from_shape_fn((n, 4), |(i, j)| rows[i][j]);
        let anchors = Anchors {
            first: n0,
            pairs: &pairs,
        };
        let r = |j: usize| x.row(j).to_vec();
        let t = [true, true];
        FROM_COPIES.with(|c| c.set(0));
        for anchors in [None, Some(anchors)] {
            for k in [1, 3, 5] {
                let all = enn_keep_mask(x.view(), &codes, 2, &t, k, EnnRule::All, anchors).unwrap();
                let mode =
                    enn_keep_mask(x.view(), &codes, 2, &t, k, EnnRule::Mode, anchors).unwrap();
                for i in 0..n {
                    let mut nb: Vec<(f64, usize)> = (0..n)
                        .filter(|&j| j != i)
                        .map(|j| (exact_sq_dist(&r(i), &r(j)), j))
                        .collect();
                    nb.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let labels: Vec<u32> = nb[..k].iter().map(|p| codes[p.1]).collect();
                    assert_eq!(
                        all[i],
                        labels.iter().all(|&l| l == codes[i]),
                        "ENN k={k} row {i}"
                    );
                    let ones = labels.iter().filter(|&&l| l == 1).count();
                    let m = u32::from(ones * 2 > k);
                    assert_eq!(mode[i], m == codes[i], "ENN mode k={k} row {i}");
                }
            }
            let tomek = tomek_link_mask(x.view(), &codes, 2, &t, anchors).unwrap();
            let nn: Vec<usize> = (0..n).map(|i| scan(&x, i, 1)[0]).collect();
            for i in 0..n {
                let j = nn[i];
                assert_eq!(
                    tomek[i],
                    codes[j] != codes[i] && nn[j] == i,
                    "Tomek row {i}"
                );
            }
        }
        let answered = FROM_COPIES.with(|c| c.get());
        assert!(
            answered > 5000,
            "{answered} rows answered from their copies"
        );
    }

    /// A separated minority grown along its segments: the segments settle nearly every new row
    /// (no search of the majority for them), and the answer is the one without them.
    #[test]
    fn segments_settle_most_new_rows() {
        let mut s = Stream::new(21, Purpose::Smote, 13, 0);
        let (n0, n1, made, d) = (3000, 40, 2960, 6);
        let (x, codes, pairs) = smote_shaped(&mut s, (n0, n1, made, d), 1.0, 6.0, false);
        let anchors = Anchors {
            first: n0 + n1,
            pairs: &pairs,
        };
        let t = [true, true];
        SETTLED.with(|c| c.set(0));
        let with = enn_keep_mask(x.view(), &codes, 2, &t, 3, EnnRule::All, Some(anchors)).unwrap();
        let settled = SETTLED.with(|c| c.get());
        let without = enn_keep_mask(x.view(), &codes, 2, &t, 3, EnnRule::All, None).unwrap();
        assert_eq!(with, without);
        assert!(
            settled * 10 >= made * 9,
            "{settled} of {made} new rows settled"
        );
    }

    #[test]
    fn anchors_out_of_range_are_an_error() {
        let x = Array2::<f32>::zeros((5, 2));
        let codes = [0, 0, 1, 1, 1];
        let t = [true, true];
        let bad_row = [[0usize, 7]];
        let a = Anchors {
            first: 4,
            pairs: &bad_row,
        };
        assert!(enn_keep_mask(x.view(), &codes, 2, &t, 1, EnnRule::All, Some(a)).is_err());
        let too_many = [[0usize, 1], [0, 1]];
        let a = Anchors {
            first: 4,
            pairs: &too_many,
        };
        assert!(tomek_link_mask(x.view(), &codes, 2, &t, Some(a)).is_err());
    }

    /// A continuous cloud of decreasing scales with a minority on its shoulder, far from the
    /// origin or not, in `f32` and `f64`: ENN with its bounded search capped at one tile, so that
    /// the projected scan counts nearly every open row (ties from copies included), answers as a
    /// full scan does, under both rules and for k = 1, 3 and 5.
    #[test]
    fn projected_counts_decide_enn_as_a_full_scan() {
        let mut s = Stream::new(11, Purpose::Smote, 16, 0);
        let n = 3000;
        for (offset, f64_data, d) in [
            (0.0, false, 12),
            (300.0, false, 12),
            (0.0, true, 12),
            (0.0, false, 3),
        ] {
            let mut x = Array2::<f32>::zeros((n, d));
            let mut codes = vec![0u32; n];
            for i in 0..n {
                let minority = i % 9 == 0;
                codes[i] = minority as u32;
                for j in 0..d {
                    let scale = 2.0 * (0.2f64).powf(j as f64 / (d - 1) as f64);
                    let shift = if minority && j < 3 { 1.5 * scale } else { 0.0 };
                    x[[i, j]] = (s.normal() * scale + shift + offset) as f32;
                }
                if i % 50 == 7 {
                    let r = x.row(i - 1).to_owned();
                    x.row_mut(i).assign(&r);
                }
            }
            let t = [true, true];
            TEST_PROJECTED.with(|c| c.set((0, 1)));
            for k in [1, 3, 5] {
                for kind in [EnnRule::All, EnnRule::Mode] {
                    let got = if f64_data {
                        let x64 = x.mapv(|v| v as f64);
                        enn_keep_mask(x64.view(), &codes, 2, &t, k, kind, None).unwrap()
                    } else {
                        enn_keep_mask(x.view(), &codes, 2, &t, k, kind, None).unwrap()
                    };
                    let mut removed = 0;
                    for i in 0..n {
                        let labels: Vec<u32> = scan(&x, i, k).iter().map(|&j| codes[j]).collect();
                        let want = match kind {
                            EnnRule::All => labels.iter().all(|&l| l == codes[i]),
                            EnnRule::Mode => {
                                let mut sc = Vec::new();
                                mode_code(labels.into_iter(), &mut sc) == codes[i]
                            }
                        };
                        removed += !want as usize;
                        assert_eq!(got[i], want, "offset {offset} k={k} {kind:?} row {i}");
                    }
                    assert!(
                        removed > 20,
                        "{removed} rows removed: the test must remove some"
                    );
                }
            }
            TEST_PROJECTED.with(|c| c.set((PROJECTED_FROM, 0)));
        }
    }

    #[test]
    fn sparse_groups_merge_in_order_to_the_minimum() {
        // Slots 0..40 in groups of 1..4; every third slot has an infinite bound.
        let bounds: Vec<f64> = (0..40)
            .map(|s| if s % 3 == 0 { f64::INFINITY } else { 1.0 })
            .collect();
        let mut groups = Vec::new();
        let mut s = 0;
        while s < 40 {
            let n = (s % 4 + 1).min(40 - s);
            groups.push((s..s + n).collect::<Vec<usize>>());
            s += n;
        }
        for min in [0, 1, 5, 17, 100] {
            let merged = merge_sparse(&groups, &bounds, min);
            // The same slots in the same order, each group whole inside one merged group.
            assert_eq!(merged.concat(), (0..40).collect::<Vec<_>>());
            let live = |g: &Vec<usize>| g.iter().filter(|&&s| bounds[s].is_finite()).count();
            for g in &merged[..merged.len() - 1] {
                assert!(live(g) >= min);
                assert!(groups.iter().any(|o| o[0] == g[0]));
            }
            if min == 0 {
                assert_eq!(merged, groups);
            }
        }
    }
}
