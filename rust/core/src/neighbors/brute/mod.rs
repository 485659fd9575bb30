//! Exact blocked brute-force search, pruned by tile bounds.
//!
//! The rows are grouped into tiles of at most `LEAF` rows, the leaves of a median-split tree, so that
//! a tile is spatially compact; each tile keeps its centroid and radius (in `f64`). Queries are
//! processed in tasks of nearby queries (for self-queries: the rows of one tile). A task visits the
//! tiles nearest-first and stops as soon as a triangle-inequality bound proves that no row of the
//! remaining tiles could enter any of its candidate lists.
//!
//! Pass 1 ranks the rows of each visited tile with the norm expansion `|q|^2 + |x|^2 - 2 q.x` in the
//! data's own precision, on rows and queries shifted by the rows' medians (a register-blocked
//! microkernel over panels of `PANEL` rows stored feature-major, compiled for AVX-512, AVX2+FMA or
//! plain SSE2 and chosen at run time; a lean [`BruteForce::subset`] index packs the panels from the
//! data's rows when a search visits a tile instead of storing them). It keeps a few more
//! candidates than asked for. Pass 2 recomputes the candidates' distances directly in `f64` from
//! the data's rows and ranks them by (distance, index). A rigorous bound on the rounding error of
//! pass 1 (the shift's included) then proves that no row left out of the candidates could rank in
//! the top k; where the bound cannot prove it (many near-ties), that query falls back to a direct
//! scan. The result is the exact Euclidean ranking, whatever the rounding, the pruning or the
//! instruction set.

mod build;
mod cross;
mod dense;
mod kernel;
mod pack;
mod projected;
mod rounding;
mod search;
#[cfg(target_arch = "x86_64")]
mod simd;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use ndarray::ArrayView2;

pub use projected::Projected;

use super::{KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;

/// Rows of one panel: the width of the microkernel (one AVX-512 vector of `f32`).
const PANEL: usize = 16;
/// Largest number of rows in a tile (a leaf of the split tree).
const LEAF: usize = 256;
/// Most candidates the second pass of a query with near-ties collects before a direct scan.
const RANGE_KEEP: usize = 1024;
/// Rows in which a split looks for its two far-apart rows.
const SPLIT_SAMPLE: usize = 512;
/// Rows (evenly spaced) whose per-feature medians centre pass 1 ([`build::centre_row`]).
const CENTRE_SAMPLE: usize = 16384;
/// Queries of one task when they are not the data's own rows.
const TASK: usize = 128;
/// Most bytes of candidates a symmetric self search holds for all rows at once (about 3M rows
/// for k = 4); a larger self search runs tile by tile, each distance computed twice.
const SYMMETRIC_BYTES: usize = 512 << 20;
/// Slot of a padding row in `prow`.
const NONE: usize = usize::MAX;

/// What [`BruteForce::self_within`] found for one query: up to `k` indexed rows (positions) with
/// their exact squared distances, ranked by (distance, position). When `complete`, they are every
/// row within the bound; otherwise they are `k` rows of smallest pass-1 distance, all strictly
/// within the bound when pass 1 proved it, and other rows within the bound may exist.
#[derive(Clone, Debug, PartialEq)]
pub struct Within {
    pub complete: bool,
    pub rows: Vec<(f64, usize)>,
}

/// One query of a search: its vector, where its answer goes, and the indexed row (position) it
/// excludes from its own neighbours (`NONE` for a query that is not an indexed row).
#[derive(Clone, Copy, Debug)]
pub(super) struct Query<'q, F> {
    pub(super) row: &'q [F],
    pub(super) slot: usize,
    pub(super) exclude: usize,
}

impl<'q, F> Query<'q, F> {
    pub(super) fn new(row: &'q [F], slot: usize, exclude: usize) -> Self {
        Query { row, slot, exclude }
    }
}

/// One tile: a run of panels holding the rows `perm[row_start..row_end]`.
struct Tile {
    panel_start: usize,
    panel_end: usize,
    row_start: usize,
    row_end: usize,
    radius: f64,
}

/// Exact brute-force index over a set of rows.
pub struct BruteForce<'a, F: Float> {
    data: Cow<'a, [F]>,
    n: usize,
    d: usize,
    /// The indexed rows' per-feature medians ([`build::centre_row`]). Pass 1 runs on every row
    /// and query shifted by it (`fl(x - centre)`, one rounding in `F`): its rounding error grows
    /// with the squared norms it adds, and shifted they are the spread's, however far from the
    /// origin the data lie.
    /// The tile centroids and radii, pass 2 and the results stay in the data's own coordinates.
    centre: Vec<F>,
    /// Squared norm (in `f64`, rounded up) of the farthest shifted row or panel centroid from
    /// the origin: one arm of the rounding bound ([`rounding::ErrBound`]).
    max_norm: f64,
    /// Panels of `PANEL` shifted rows, feature-major: `panels[(p * d + j) * PANEL + w]`; empty
    /// for a [`BruteForce::subset`], which packs them from the data when a search visits them.
    panels: Vec<F>,
    /// Squared norms of the shifted rows per panel slot (`+inf` for padding).
    pnorms: Vec<F>,
    /// Original row of each panel slot (`NONE` for padding).
    prow: Vec<usize>,
    /// Rows in tile order.
    perm: Vec<usize>,
    /// Tile of each row.
    tile_of: Vec<u32>,
    tiles: Vec<Tile>,
    /// Tile centroids, `tiles.len() x d`.
    centroids: Vec<f64>,
    /// Per tile, its panels' centroids as one panel (feature-major, `PANEL` slots: padding slots
    /// have an infinite norm), their squared norms, and radii (rounded up) about the stored
    /// centroids: `tiles.len() x d x PANEL`, `tiles.len() x PANEL`, `tiles.len() x PANEL`.
    panel_centroids: Vec<F>,
    panel_centroid_norms: Vec<F>,
    panel_radii: Vec<F>,
    /// For an index over some rows of `data` ([`BruteForce::subset`]): the data row of each
    /// indexed row, ascending. Indices in and out of the index are positions in this list.
    ids: Option<Vec<usize>>,
}

/// The exact `k` nearest other rows of every row of `data` (itself excluded by index), ranked by
/// (distance, row): the answer of `BruteForce::new(data).query_self(k)`, found for a small set by
/// one pass over its pairs without building the index (`dense.rs`).
pub fn self_neighbors<F: Float>(data: ArrayView2<'_, F>, k: usize) -> Result<Neighbors> {
    let (n, d) = data.dim();
    if n <= dense::DENSE_MAX {
        let rows: Cow<[F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        if dense::takes(&rows, n, d) {
            return dense::self_knn(&rows, n, d, k, kernel::Kernel::detect());
        }
    }
    BruteForce::new(data).query_self(k)
}

/// The exact `k` nearest other rows of each row of `rows` among the rows of `data` (each
/// itself excluded by index), ranked by (distance, row), as [`KnnIndex::query_self_rows`] gives
/// them: few rows among many (on data without structure, or at most 1,024 rows in 4 features or
/// more) are searched with no index, by streaming the data past them (`cross`), the others
/// through the tiled index.
pub fn rows_neighbors<F: Float>(
    data: ArrayView2<'_, F>,
    rows: &[usize],
    k: usize,
) -> Result<Neighbors> {
    let (n, d) = data.dim();
    if let Some(s) = data.to_slice() {
        if cross::takes(s, n, d, rows) {
            return cross::rows_knn(s, n, d, rows, k, kernel::Kernel::detect());
        }
    }
    BruteForce::new(data).query_self_rows(rows, k)
}

/// The exact `k` nearest rows of `data` to each row of `queries` (finite), ranked by (distance,
/// row), as [`KnnIndex::query`] gives them: few queries among many rows are searched with no
/// index under the same rule (`cross`), the others through the tiled index.
pub fn queries_neighbors<F: Float>(
    data: ArrayView2<'_, F>,
    queries: ArrayView2<'_, F>,
    k: usize,
) -> Result<Neighbors> {
    let (n, d) = data.dim();
    if let (Some(s), Some(q)) = (data.to_slice(), queries.to_slice()) {
        if queries.ncols() == d && cross::takes_queries(s, n, d, q) {
            return cross::queries_knn(s, n, d, q, k, kernel::Kernel::detect());
        }
    }
    BruteForce::new(data).query(queries, k)
}

impl<'a, F: Float> BruteForce<'a, F> {
    /// Index the rows of `data` (borrowed without a copy when it is row-major contiguous). The
    /// index also stores the rows feature-major, as the kernel reads them (about the data's size
    /// again): the fastest layout for an index that answers many queries.
    pub fn new(data: ArrayView2<'a, F>) -> Self {
        Self::build(data, None, true)
    }

    /// Index the rows `rows` of `data` (strictly ascending), without copying them: the indexed
    /// row `r` is `data` row `rows[r]`. Queries and results use the positions `r` (so ties, ranked
    /// by position, are ranked by data row too); [`BruteForce::ids`] maps them back.
    ///
    /// The lean index of the cleaning samplers, whose peak memory must stay near the data's: it
    /// stores no feature-major copy of the rows but packs a tile's panels when a search visits
    /// it (10-20% slower on searches that visit many tiles, such as all rows of SMOTE output;
    /// on a continuous cloud, where the bounded searches of many tasks each visit most tiles,
    /// packing costs more than the distances: see [`BruteForce::subset_with_panels`]).
    pub fn subset(data: ArrayView2<'a, F>, rows: &[usize]) -> Result<Self> {
        Self::check_subset(data, rows)?;
        Ok(Self::build(data, Some(rows.to_vec()), false))
    }

    /// As [`BruteForce::subset`], but the index stores its rows feature-major, as the kernel
    /// reads them (`rows.len() x d` values more), so that searches run at the kernel's speed
    /// instead of packing a tile again at each visit that misses the per-worker cache.
    pub fn subset_with_panels(data: ArrayView2<'a, F>, rows: &[usize]) -> Result<Self> {
        Self::check_subset(data, rows)?;
        Ok(Self::build(data, Some(rows.to_vec()), true))
    }

    fn check_subset(data: ArrayView2<'a, F>, rows: &[usize]) -> Result<()> {
        if rows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(CoreError::InvalidArgument(
                "the rows of a subset index must be strictly ascending".into(),
            ));
        }
        if let Some(&last) = rows.last() {
            if last >= data.nrows() {
                return Err(CoreError::Shape(format!(
                    "row {last} is out of range for {} rows",
                    data.nrows()
                )));
            }
        }
        Ok(())
    }

    /// The data row of each indexed row (for a [`BruteForce::subset`]), else None.
    pub fn ids(&self) -> Option<&[usize]> {
        self.ids.as_deref()
    }

    /// Indexed row `i` (a position in the index).
    fn row(&self, i: usize) -> &[F] {
        let g = self.ids.as_ref().map_or(i, |v| v[i]);
        &self.data[g * self.d..(g + 1) * self.d]
    }

    /// Number of tiles (leaves of the split tree).
    pub fn n_tiles(&self) -> usize {
        self.tiles.len()
    }

    /// Bytes held by the index beyond the data it borrows.
    pub fn memory_bytes(&self) -> usize {
        let f = std::mem::size_of::<F>();
        let owned = match self.data {
            Cow::Owned(ref v) => v.len() * f,
            Cow::Borrowed(_) => 0,
        };
        owned
            + self.panels.len() * f
            + self.pnorms.len() * f
            + self.prow.len() * 8
            + self.perm.len() * 8
            + self.tile_of.len() * 4
            + self.centroids.len() * 8
            + (self.panel_centroids.len()
                + self.panel_centroid_norms.len()
                + self.panel_radii.len())
                * f
            + self.tiles.len() * std::mem::size_of::<Tile>()
            + self.centre.len() * f
            + self.ids.as_ref().map_or(0, |v| v.len() * 8)
    }

    fn check_k(&self, k: usize, self_query: bool) -> Result<usize> {
        super::check_k(self.n, k, self_query)
    }
}

impl<F: Float> BruteForce<'_, F> {
    /// [`KnnIndex::query_self`] one task a tile, each computing all of its own distances (the
    /// search of a self query too large for [`BruteForce::query_self_symmetric`]).
    fn query_self_by_tiles(&self, k: usize, available: usize) -> Neighbors {
        let tasks: Vec<Vec<Query<'_, F>>> = self
            .tiles
            .iter()
            .map(|t| {
                self.perm[t.row_start..t.row_end]
                    .iter()
                    .map(|&i| Query::new(self.row(i), i, i))
                    .collect()
            })
            .collect();
        self.search(tasks, self.n, k, available)
    }
}

impl<F: Float> KnnIndex<F> for BruteForce<'_, F> {
    fn n_rows(&self) -> usize {
        self.n
    }

    fn query(&self, queries: ArrayView2<F>, k: usize) -> Result<Neighbors> {
        if queries.ncols() != self.d {
            return Err(CoreError::Shape(format!(
                "queries have {} features, the index has {}",
                queries.ncols(),
                self.d
            )));
        }
        let available = self.check_k(k, false)?;
        let q: Cow<[F]> = match queries.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(queries.iter().copied().collect()),
        };
        let nq = queries.nrows();
        let d = self.d;
        // Group the queries by their nearest tile centroid so that a task's queries are close to
        // each other and its bounds prune; the cost is 1/LEAF of the search.
        let mut near = self.nearest_tiles(&q, nq);
        near.sort_unstable();
        let tasks: Vec<Vec<Query<'_, F>>> = near
            .chunks(TASK)
            .map(|c| {
                c.iter()
                    .map(|&(_, i)| Query::new(&q[i * d..(i + 1) * d], i, NONE))
                    .collect()
            })
            .collect();
        let nb = self.search(tasks, nq, k, available);
        crate::cancel::check()?;
        Ok(nb)
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        let available = self.check_k(k, true)?;
        // Every row's candidates are held at once (a list of `keep` and, while a task starts,
        // its `Vec` header): within SYMMETRIC_BYTES, about 3M rows.
        let keep = search::keep_for(k, available);
        let seeds = self.n * (keep * std::mem::size_of::<(F, usize)>() + 24);
        let nb = if self.tiles.len() >= 2 && seeds <= SYMMETRIC_BYTES {
            self.query_self_symmetric(k, available)
        } else {
            self.query_self_by_tiles(k, available)
        };
        crate::cancel::check()?;
        Ok(nb)
    }

    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        let available = self.check_k(k, true)?;
        if let Some(&bad) = rows.iter().find(|&&i| i >= self.n) {
            return Err(CoreError::Shape(format!(
                "row {bad} is out of range for an index of {} rows",
                self.n
            )));
        }
        let tasks = self.self_tasks(rows);
        let nb = self.search(tasks, rows.len(), k, available);
        crate::cancel::check()?;
        Ok(nb)
    }
}

/// The fused-multiply-add peak of the current thread pool, in f32 GFLOP/s: every thread runs
/// `iters` rounds of 12 independent 16-lane FMA chains (the pass-1 kernel's instruction mix
/// without its loads), timed together. The figure the benches set the exact search and SMOTE's
/// floor against, measured in the same run. NaN on a CPU without AVX2 and FMA (and off x86-64).
pub fn fma_peak_gflops(iters: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads();
        let t = std::time::Instant::now();
        let sums: Vec<f32> = (0..threads)
            .into_par_iter()
            .map(|s| simd::fma_chains(iters, s as f32))
            .collect();
        let secs = t.elapsed().as_secs_f64();
        if sums.iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        (threads * iters * 12 * 16 * 2) as f64 / secs / 1e9
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = iters;
        f64::NAN
    }
}
