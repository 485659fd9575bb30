//! Approximate search: a hierarchical navigable small-world graph (Malkov & Yashunin, 2018).
//!
//! Deterministic for a given seed, whatever the number of threads: levels are drawn from
//! `rng::Stream(seed, Purpose::Hnsw)`, rows are inserted in row order, and insertion runs in
//! batches whose members search the graph as it stood before the batch (in parallel), after which
//! the links are committed in a fixed order. Batches stay small relative to the graph (1/32 of it)
//! so that the graph is as good as a sequential build. Distances during the search are computed in
//! the data's precision with a fixed summation order (identical on every instruction set); the
//! returned neighbours are re-ranked by their exact `f64` distance, ties by row index.
//!
//! Identical rows are indexed once (a graph node per distinct row, expanded to its rows in index
//! order when found): a large group of duplicates would otherwise fill its members' link lists
//! with one another and cut them off from the rest of the graph.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{exact_sq_dist, KnnIndex, Neighbors};
use crate::error::{CoreError, Result};
use crate::float::Float;
use crate::rng::{Purpose, Stream};

/// Build and search parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node on the upper levels (twice as many on level 0).
    pub m: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Candidate list size while searching (at least k is used).
    pub ef_search: usize,
    /// Seed of the level assignment.
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 200,
            ef_search: 64,
            seed: 0,
        }
    }
}

/// The graph of an HNSW index, without the data, so that a caller can keep it and attach the data
/// again ([`Hnsw::from_graph`]).
#[derive(Clone, Debug)]
pub struct HnswGraph {
    /// Graph nodes (distinct rows).
    n: usize,
    /// Indexed rows.
    n_rows: usize,
    d: usize,
    /// Rows of node `v`: `group_rows[group_start[v]..group_start[v + 1]]`, ascending; the first is
    /// the node's representative.
    /// Both empty when every row is distinct (node `v` is row `v`): no indirection on the hot path.
    group_start: Vec<u32>,
    group_rows: Vec<u32>,
    m: usize,
    m0: usize,
    levels: Vec<u8>,
    entry: usize,
    max_level: usize,
    /// Level 0: `n x (m0 + 1)`, a count then the ids.
    links0: Vec<u32>,
    /// Levels 1..=level of each node: `level x (m + 1)`, a count then the ids.
    upper: Vec<Vec<u32>>,
}

impl HnswGraph {
    /// Bytes held by the graph.
    pub fn memory_bytes(&self) -> usize {
        self.links0.len() * 4
            + self.levels.len()
            + (self.group_start.len() + self.group_rows.len()) * 4
            + self
                .upper
                .iter()
                .map(|u| u.len() * 4 + std::mem::size_of::<Vec<u32>>())
                .sum::<usize>()
    }

    /// Number of indexed rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    #[inline]
    fn group(&self, v: usize) -> &[u32] {
        &self.group_rows[self.group_start[v] as usize..self.group_start[v + 1] as usize]
    }

    #[inline]
    fn links(&self, i: usize, level: usize) -> &[u32] {
        if level == 0 {
            let b = i * (self.m0 + 1);
            let c = self.links0[b] as usize;
            &self.links0[b + 1..b + 1 + c]
        } else {
            let u = &self.upper[i];
            let b = (level - 1) * (self.m + 1);
            let c = u[b] as usize;
            &u[b + 1..b + 1 + c]
        }
    }

    fn set_links(&mut self, i: usize, level: usize, ids: &[u32]) {
        if level == 0 {
            let b = i * (self.m0 + 1);
            self.links0[b] = ids.len() as u32;
            self.links0[b + 1..b + 1 + ids.len()].copy_from_slice(ids);
        } else {
            let b = (level - 1) * (self.m + 1);
            let u = &mut self.upper[i];
            u[b] = ids.len() as u32;
            u[b + 1..b + 1 + ids.len()].copy_from_slice(ids);
        }
    }
}

/// A candidate: (distance, id), ordered by distance then id.
#[derive(Clone, Copy, Debug)]
struct Cand<F> {
    d: F,
    id: u32,
}

impl<F: Float> PartialEq for Cand<F> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl<F: Float> Eq for Cand<F> {}
impl<F: Float> PartialOrd for Cand<F> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<F: Float> Ord for Cand<F> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.d
            .partial_cmp(&o.d)
            .unwrap_or(Ordering::Equal)
            .then(self.id.cmp(&o.id))
    }
}

thread_local! {
    /// Visit stamps of the searches run on this thread (an entry is visited when it equals the
    /// current stamp; stamps only grow, so no clearing between searches).
    static VISITED: RefCell<(Vec<u32>, u32)> = const { RefCell::new((Vec::new(), 0)) };
}

const LANES: usize = 8;

/// Hint the CPU to load the cache lines of `v` (no effect on results; a no-op off x86-64).
#[inline(always)]
fn prefetch<T>(v: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = v.as_ptr() as *const i8;
        let bytes = std::mem::size_of_val(v);
        // SAFETY: prefetching is a hint; the addresses lie inside `v` (SSE is baseline on x86-64).
        unsafe {
            _mm_prefetch(p, _MM_HINT_T0);
            if bytes > 64 {
                _mm_prefetch(p.add(64), _MM_HINT_T0);
            }
            if bytes > 128 {
                _mm_prefetch(p.add(128), _MM_HINT_T0);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// Squared distance in `F` with a fixed summation order: `LANES` partial sums, then the tail.
#[inline(always)]
fn l2<F: Float>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); LANES];
    let n = a.len() / LANES * LANES;
    for (ca, cb) in a[..n].chunks_exact(LANES).zip(b[..n].chunks_exact(LANES)) {
        for l in 0..LANES {
            let t = ca[l] - cb[l];
            acc[l] += t * t;
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for j in n..a.len() {
        let t = a[j] - b[j];
        s += t * t;
    }
    s
}

fn l2_portable<F: Float>(a: &[F], b: &[F]) -> F {
    l2(a, b)
}

/// # Safety
///
/// The CPU must support AVX2 (checked by `pick_l2` with `is_x86_feature_detected!`); the body is
/// the portable `l2`, so the result is bit-identical to it (test `avx2_distance_matches_portable`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn l2_avx2_inner<F: Float>(a: &[F], b: &[F]) -> F {
    l2(a, b)
}

#[cfg(target_arch = "x86_64")]
fn l2_avx2<F: Float>(a: &[F], b: &[F]) -> F {
    // SAFETY: only handed out by `pick_l2` after AVX2 was detected.
    unsafe { l2_avx2_inner(a, b) }
}

fn pick_l2<F: Float>() -> fn(&[F], &[F]) -> F {
    #[cfg(target_arch = "x86_64")]
    {
        // EQUIPOISE_PORTABLE_KERNEL forces the portable code, as it does for the exact search.
        if std::env::var_os("EQUIPOISE_PORTABLE_KERNEL").is_none()
            && is_x86_feature_detected!("avx2")
        {
            return l2_avx2::<F>;
        }
    }
    l2_portable::<F>
}

/// Approximate HNSW index over a set of rows.
pub struct Hnsw<'a, F: Float> {
    data: Cow<'a, [F]>,
    graph: HnswGraph,
    ef_search: usize,
    dist: fn(&[F], &[F]) -> F,
}

/// Largest level drawn (more than enough for any n: level L holds ~n / m^L nodes).
const MAX_LEVEL: usize = 16;

impl<'a, F: Float> Hnsw<'a, F> {
    /// Build the graph over the rows of `data` (borrowed without a copy when row-major contiguous).
    pub fn new(data: ArrayView2<'a, F>, params: &HnswParams) -> Result<Self> {
        if params.m < 2 {
            return Err(CoreError::InvalidArgument(format!(
                "M must be >= 2, got {}",
                params.m
            )));
        }
        if params.ef_construction == 0 || params.ef_search == 0 {
            return Err(CoreError::InvalidArgument(
                "ef_construction and ef_search must be >= 1".into(),
            ));
        }
        let (n, d) = data.dim();
        if n >= u32::MAX as usize {
            return Err(CoreError::InvalidArgument(
                "HNSW indexes at most 2^32 - 1 rows".into(),
            ));
        }
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        // Distinct rows, in order of their first row.
        let key = |i: usize| &data[i * d..(i + 1) * d];
        let mut order: Vec<usize> = (0..n).collect();
        order.par_sort_unstable_by(|&a, &b| {
            key(a)
                .iter()
                .zip(key(b))
                .map(|(x, y)| x.wide().to_bits().cmp(&y.wide().to_bits()))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                .then(a.cmp(&b))
        });
        let mut groups: Vec<&[usize]> = order.chunk_by(|&a, &b| key(a) == key(b)).collect();
        groups.sort_unstable_by_key(|g| g[0]);
        let mut group_start = Vec::with_capacity(groups.len() + 1);
        let mut group_rows = Vec::with_capacity(n);
        group_start.push(0u32);
        for g in &groups {
            group_rows.extend(g.iter().map(|&r| r as u32));
            group_start.push(group_rows.len() as u32);
        }
        let n_rows = n;
        let n = groups.len();
        if n == n_rows {
            group_start.clear();
            group_rows.clear();
        }
        drop(groups);
        drop(order);
        let (m, m0) = (params.m, 2 * params.m);
        let ml = 1.0 / (m as f64).ln();
        let mut s = Stream::new(params.seed, Purpose::Hnsw, 0, 0);
        let levels: Vec<u8> = (0..n)
            .map(|_| {
                let u = 1.0 - s.uniform();
                ((-u.ln() * ml).floor() as usize).min(MAX_LEVEL) as u8
            })
            .collect();
        let upper = levels
            .iter()
            .map(|&l| vec![0u32; l as usize * (m + 1)])
            .collect();
        let graph = HnswGraph {
            n,
            n_rows,
            d,
            group_start,
            group_rows,
            m,
            m0,
            entry: 0,
            max_level: levels.first().map_or(0, |&l| l as usize),
            levels,
            links0: vec![0u32; n * (m0 + 1)],
            upper,
        };
        let mut h = Hnsw {
            data,
            graph,
            ef_search: params.ef_search,
            dist: pick_l2::<F>(),
        };
        h.build(params.ef_construction);
        crate::cancel::check()?;
        Ok(h)
    }

    /// Attach `data` (the rows the graph was built on) to a kept graph.
    pub fn from_graph(data: ArrayView2<'a, F>, graph: HnswGraph, ef_search: usize) -> Result<Self> {
        if data.dim() != (graph.n_rows, graph.d) {
            return Err(CoreError::Shape(format!(
                "the graph was built on {} x {} data, got {:?}",
                graph.n_rows,
                graph.d,
                data.dim()
            )));
        }
        if ef_search == 0 {
            return Err(CoreError::InvalidArgument("ef_search must be >= 1".into()));
        }
        let data: Cow<'a, [F]> = match data.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(data.iter().copied().collect()),
        };
        Ok(Hnsw {
            data,
            graph,
            ef_search,
            dist: pick_l2::<F>(),
        })
    }

    /// The graph (to keep it apart from the data).
    pub fn graph(&self) -> &HnswGraph {
        &self.graph
    }

    /// Consume the index, keeping its graph.
    pub fn into_graph(self) -> HnswGraph {
        self.graph
    }

    /// Change the search's candidate list size.
    pub fn set_ef_search(&mut self, ef: usize) {
        self.ef_search = ef.max(1);
    }

    /// Data row `i`.
    #[inline]
    fn row(&self, i: usize) -> &[F] {
        let d = self.graph.d;
        &self.data[i * d..(i + 1) * d]
    }

    /// The row of graph node `v` (its representative).
    #[inline]
    fn node(&self, v: usize) -> &[F] {
        let g = &self.graph;
        if g.group_rows.is_empty() {
            self.row(v)
        } else {
            self.row(g.group_rows[g.group_start[v] as usize] as usize)
        }
    }

    #[inline]
    fn dist_to(&self, q: &[F], v: usize) -> F {
        (self.dist)(q, self.node(v))
    }

    fn build(&mut self, ef_c: usize) {
        let n = self.graph.n;
        let mut i = 1usize;
        while i < n {
            if crate::cancel::requested() {
                // Interrupted: `new` drops the partial graph.
                return;
            }
            // A batch is at most 1/32 of the graph; a node that raises the top level goes alone.
            let size = (i / 32).clamp(1, 1024).min(n - i);
            let mut end = i;
            while end < i + size {
                if self.graph.levels[end] as usize > self.graph.max_level {
                    if end == i {
                        end += 1;
                    }
                    break;
                }
                end += 1;
            }
            let plans: Vec<Vec<Vec<u32>>> = if end - i == 1 {
                vec![self.plan(i, ef_c)]
            } else {
                (i..end)
                    .into_par_iter()
                    .map(|j| {
                        if crate::cancel::requested() {
                            return Vec::new();
                        }
                        self.plan(j, ef_c)
                    })
                    .collect()
            };
            self.commit(i, &plans);
            i = end;
        }
    }

    /// The neighbours node `i` links to on each of its levels, found in the current graph.
    fn plan(&self, i: usize, ef_c: usize) -> Vec<Vec<u32>> {
        let g = &self.graph;
        let q = self.node(i);
        let level = g.levels[i] as usize;
        let mut cur = Cand {
            d: self.dist_to(q, g.entry),
            id: g.entry as u32,
        };
        for l in (level + 1..=g.max_level).rev() {
            cur = self.greedy(q, cur, l);
        }
        let top = level.min(g.max_level);
        let mut out = vec![Vec::new(); top + 1];
        let mut eps = vec![cur];
        for l in (0..=top).rev() {
            let w = self.search_layer(q, &eps, ef_c, l);
            out[l] = self.select(&w, g.m);
            eps = w;
        }
        out
    }

    /// Commit the plans of nodes `first..first + plans.len()`: their own links, then the reverse
    /// links, grouped by target so that each target's list is rebuilt once, in a fixed order.
    fn commit(&mut self, first: usize, plans: &[Vec<Vec<u32>>]) {
        let mut reverse: Vec<(usize, u32, u32)> = Vec::new();
        for (t, plan) in plans.iter().enumerate() {
            let i = first + t;
            for (l, ids) in plan.iter().enumerate() {
                self.graph.set_links(i, l, ids);
                reverse.extend(ids.iter().map(|&nb| (l, nb, i as u32)));
            }
        }
        reverse.sort_unstable();
        let groups: Vec<&[(usize, u32, u32)]> =
            reverse.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1).collect();
        let updates: Vec<(usize, u32, Vec<u32>)> = groups
            .par_iter()
            .map(|grp| {
                let (l, nb) = (grp[0].0, grp[0].1);
                let cur = self.graph.links(nb as usize, l);
                let cap = if l == 0 { self.graph.m0 } else { self.graph.m };
                let mut ids: Vec<u32> = cur.to_vec();
                ids.extend(grp.iter().map(|e| e.2));
                if ids.len() > cap {
                    let base = self.node(nb as usize);
                    let mut cands: Vec<Cand<F>> = ids
                        .iter()
                        .map(|&id| Cand {
                            d: self.dist_to(base, id as usize),
                            id,
                        })
                        .collect();
                    cands.sort_unstable();
                    ids = self.select(&cands, cap);
                }
                (l, nb, ids)
            })
            .collect();
        for (l, nb, ids) in updates {
            self.graph.set_links(nb as usize, l, &ids);
        }
        for t in 0..plans.len() {
            let i = first + t;
            if self.graph.levels[i] as usize > self.graph.max_level {
                self.graph.max_level = self.graph.levels[i] as usize;
                self.graph.entry = i;
            }
        }
    }

    /// The neighbour-selection heuristic: take candidates nearest first, skipping one that is
    /// nearer to an already selected neighbour than to the base (it is reachable through it).
    fn select(&self, sorted: &[Cand<F>], m: usize) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(m);
        for c in sorted {
            if out.len() >= m {
                break;
            }
            let row = self.node(c.id as usize);
            if out.iter().all(|&s| self.dist_to(row, s as usize) >= c.d) {
                out.push(c.id);
            }
        }
        out
    }

    /// Greedy descent on one level from `cur`.
    fn greedy(&self, q: &[F], mut cur: Cand<F>, level: usize) -> Cand<F> {
        loop {
            let mut best = cur;
            let links = self.graph.links(cur.id as usize, level);
            for (t, &nb) in links.iter().enumerate() {
                if let Some(&next) = links.get(t + 1) {
                    prefetch(self.node(next as usize));
                }
                let c = Cand {
                    d: self.dist_to(q, nb as usize),
                    id: nb,
                };
                if c < best {
                    best = c;
                }
            }
            if best.id == cur.id {
                return cur;
            }
            cur = best;
        }
    }

    /// Beam search of one level: the `ef` nearest found, sorted.
    fn search_layer(&self, q: &[F], eps: &[Cand<F>], ef: usize, level: usize) -> Vec<Cand<F>> {
        VISITED.with(|v| {
            let mut v = v.borrow_mut();
            let (ref mut seen, ref mut stamp) = *v;
            if seen.len() < self.graph.n {
                seen.resize(self.graph.n, 0);
            }
            if *stamp == u32::MAX {
                seen.iter_mut().for_each(|s| *s = 0);
                *stamp = 0;
            }
            *stamp += 1;
            let st = *stamp;
            let mut cands: BinaryHeap<Reverse<Cand<F>>> = BinaryHeap::with_capacity(ef * 4);
            let mut best: BinaryHeap<Cand<F>> = BinaryHeap::with_capacity(ef + 1);
            for &e in eps {
                if seen[e.id as usize] != st {
                    seen[e.id as usize] = st;
                    cands.push(Reverse(e));
                    best.push(e);
                    if best.len() > ef {
                        best.pop();
                    }
                }
            }
            while let Some(Reverse(c)) = cands.pop() {
                if best.len() >= ef && c > *best.peek().expect("non-empty") {
                    break;
                }
                // The next candidate's link list, while this one's neighbours are measured.
                if let Some(Reverse(next)) = cands.peek() {
                    prefetch(self.graph.links(next.id as usize, level));
                }
                let links = self.graph.links(c.id as usize, level);
                for (t, &nb) in links.iter().enumerate() {
                    // The rows of a beam search are scattered over the data: ask for the next
                    // neighbour's row and stamp while this one is measured (as hnswlib does).
                    if let Some(&next) = links.get(t + 1) {
                        prefetch(self.node(next as usize));
                        prefetch(&seen[next as usize..next as usize + 1]);
                    }
                    let s = &mut seen[nb as usize];
                    if *s == st {
                        continue;
                    }
                    *s = st;
                    let e = Cand {
                        d: self.dist_to(q, nb as usize),
                        id: nb,
                    };
                    if best.len() < ef || e < *best.peek().expect("non-empty") {
                        cands.push(Reverse(e));
                        best.push(e);
                        if best.len() > ef {
                            best.pop();
                        }
                    }
                }
            }
            best.into_sorted_vec()
        })
    }

    /// The `k` nearest rows found for `q` (excluding `excl`), re-ranked by exact distance.
    fn search_one(&self, q: &[F], k: usize, excl: usize) -> Vec<(f64, usize)> {
        let g = &self.graph;
        if g.n == 0 {
            return Vec::new();
        }
        let want = k + (excl != usize::MAX) as usize;
        let mut cur = Cand {
            d: self.dist_to(q, g.entry),
            id: g.entry as u32,
        };
        for l in (1..=g.max_level).rev() {
            cur = self.greedy(q, cur, l);
        }
        let w = self.search_layer(q, &[cur], self.ef_search.max(want), 0);
        let mut out: Vec<(f64, usize)> = Vec::with_capacity(w.len() + 8);
        for c in &w {
            let dist = exact_sq_dist(q, self.node(c.id as usize));
            if g.group_rows.is_empty() {
                if c.id as usize != excl {
                    out.push((dist, c.id as usize));
                }
                continue;
            }
            for &r in g.group(c.id as usize) {
                if r as usize != excl {
                    out.push((dist, r as usize));
                }
            }
        }
        out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        out.truncate(k);
        out
    }

    fn run(&self, qs: Vec<(&[F], usize)>, k: usize) -> Result<Neighbors> {
        let nq = qs.len();
        let mut indices = Array2::<usize>::zeros((nq, k));
        let mut distances = Array2::<f64>::zeros((nq, k));
        // Each search writes its row in place: no list per query is kept (a search's list has
        // room for ef_search candidates, which for millions of queries is gigabytes).
        let found: Vec<usize> = indices
            .as_slice_mut()
            .expect("standard layout")
            .par_chunks_mut(k)
            .zip(
                distances
                    .as_slice_mut()
                    .expect("standard layout")
                    .par_chunks_mut(k),
            )
            .zip(qs.par_iter())
            .map(|((ri, rd), &(q, ex))| {
                if crate::cancel::requested() {
                    return k;
                }
                let l = self.search_one(q, k, ex);
                for (t, &(dd, j)) in l.iter().enumerate() {
                    ri[t] = j;
                    rd[t] = dd.sqrt();
                }
                l.len()
            })
            .collect();
        crate::cancel::check()?;
        if let Some((i, &len)) = found.iter().enumerate().find(|&(_, &len)| len < k) {
            return Err(CoreError::InvalidArgument(format!(
                "the HNSW search found {len} neighbours of query {i}, {k} wanted: raise ef_search"
            )));
        }
        Ok(Neighbors { indices, distances })
    }

    fn check_k(&self, k: usize, self_query: bool) -> Result<usize> {
        super::check_k(self.graph.n_rows, k, self_query)
    }
}

impl<F: Float> KnnIndex<F> for Hnsw<'_, F> {
    fn n_rows(&self) -> usize {
        self.graph.n_rows
    }

    fn query(&self, queries: ArrayView2<F>, k: usize) -> Result<Neighbors> {
        let d = self.graph.d;
        if queries.ncols() != d {
            return Err(CoreError::Shape(format!(
                "queries have {} features, the index has {d}",
                queries.ncols()
            )));
        }
        self.check_k(k, false)?;
        let q: Cow<[F]> = match queries.to_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(queries.iter().copied().collect()),
        };
        let qs = (0..queries.nrows())
            .map(|i| (&q[i * d..(i + 1) * d], usize::MAX))
            .collect();
        self.run(qs, k)
    }

    fn query_self(&self, k: usize) -> Result<Neighbors> {
        let rows: Vec<usize> = (0..self.graph.n_rows).collect();
        self.query_self_rows(&rows, k)
    }

    fn query_self_rows(&self, rows: &[usize], k: usize) -> Result<Neighbors> {
        self.check_k(k, true)?;
        if let Some(&bad) = rows.iter().find(|&&i| i >= self.graph.n_rows) {
            return Err(CoreError::Shape(format!(
                "row {bad} is out of range for an index of {} rows",
                self.graph.n_rows
            )));
        }
        let qs = rows.iter().map(|&i| (self.row(i), i)).collect();
        self.run(qs, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::BruteForce;

    fn clustered(n: usize, d: usize, seed: u64) -> Array2<f32> {
        let mut s = Stream::new(seed, Purpose::Smote, 7, 0);
        let centers: Vec<f64> = (0..10 * d).map(|_| s.normal() * 3.0).collect();
        Array2::from_shape_fn((n, d), |(i, j)| {
            (centers[(i % 10) * d + j] + s.normal()) as f32
        })
    }

    fn recall(a: &Neighbors, b: &Neighbors) -> f64 {
        let mut hit = 0usize;
        for (ra, rb) in a.indices.outer_iter().zip(b.indices.outer_iter()) {
            hit += ra.iter().filter(|x| rb.iter().any(|y| y == *x)).count();
        }
        hit as f64 / a.indices.len() as f64
    }

    #[test]
    fn recall_against_exact_and_determinism() {
        let x = clustered(4000, 16, 1);
        let p = HnswParams::default();
        let h = Hnsw::new(x.view(), &p).unwrap();
        let exact = BruteForce::new(x.view()).query_self(10).unwrap();
        let got = h.query_self(10).unwrap();
        let r = recall(&exact, &got);
        assert!(r >= 0.98, "recall@10 = {r}");
        // Self excluded by index; distances sorted.
        for i in 0..4000 {
            assert!(got.indices.row(i).iter().all(|&j| j != i));
            let dr = got.distances.row(i).to_vec();
            assert!(dr.windows(2).all(|w| w[0] <= w[1]));
        }
        // Same seed, other thread count: the same graph and answers.
        let h1 = crate::threads::run_with_threads(1, || Hnsw::new(x.view(), &p).unwrap()).unwrap();
        assert_eq!(h1.graph().links0, h.graph().links0);
        assert_eq!(h1.graph().upper, h.graph().upper);
        assert_eq!(h1.query_self(10).unwrap(), got);
        // A kept graph answers the same once the data is attached again.
        let g = h.into_graph();
        let h2 = Hnsw::from_graph(x.view(), g, p.ef_search).unwrap();
        assert_eq!(h2.query_self(10).unwrap(), got);
        let q = x.slice(ndarray::s![..50, ..]).mapv(|v| v + 0.01);
        let ext = h2.query(q.view(), 3).unwrap();
        let ex = BruteForce::new(x.view()).query(q.view(), 3).unwrap();
        assert!(recall(&ex, &ext) >= 0.98);
    }

    #[test]
    fn duplicate_groups_are_found_whole() {
        // 40 copies each of 50 points: every row's 10 nearest are copies of it, in index order.
        let mut s = Stream::new(2, Purpose::Smote, 8, 0);
        let base: Vec<f64> = (0..50 * 4).map(|_| s.normal()).collect();
        let x = Array2::from_shape_fn((2000, 4), |(i, j)| base[(i % 50) * 4 + j]);
        let h = Hnsw::new(x.view(), &HnswParams::default()).unwrap();
        let got = h.query_self(10).unwrap();
        let want = BruteForce::new(x.view()).query_self(10).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn tiny_and_bad_inputs() {
        let x = ndarray::array![[0.0f64], [1.0], [3.0]];
        let h = Hnsw::new(x.view(), &HnswParams::default()).unwrap();
        let r = h.query_self(2).unwrap();
        assert_eq!(r.indices.row(0).to_vec(), vec![1, 2]);
        assert_eq!(r.indices.row(2).to_vec(), vec![1, 0]);
        assert!(h.query_self(3).is_err());
        let bad = HnswParams {
            m: 1,
            ..HnswParams::default()
        };
        assert!(Hnsw::new(x.view(), &bad).is_err());
        assert!(Hnsw::from_graph(x.slice(ndarray::s![..2, ..]), h.into_graph(), 10).is_err());
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod unsafe_invariants {
    use super::{l2_portable, pick_l2, prefetch};

    #[test]
    fn avx2_distance_matches_portable() {
        // The dispatched distance (AVX2 when present) equals the portable one bit for bit, on
        // every length around the 8-lane blocks.
        let dist = pick_l2::<f64>();
        for n in 0..40 {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            assert_eq!(dist(&a, &b).to_bits(), l2_portable(&a, &b).to_bits());
        }
    }

    #[test]
    fn prefetch_accepts_empty_and_short_slices() {
        // The pointer offsets stay inside the slice for every length (Miri would flag otherwise).
        for n in [0usize, 1, 15, 16, 17, 32, 33, 100] {
            prefetch(&vec![0f32; n]);
        }
    }
}
