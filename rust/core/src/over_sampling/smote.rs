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
use crate::neighbors::self_neighbors;
use crate::rng::{Purpose, Stream, CHUNK};
use crate::validate::check_finite;

/// Rows of a unit of work of [`gather`].
const GATHER_ROWS: usize = 256;

/// Gather rows into a contiguous matrix.
///
/// A class's rows lie anywhere in a large `x`, so each is a cache miss; a row-major `x` is read
/// a whole row at a time, `GATHER_ROWS` rows a task, so that the misses of many rows are in flight
/// at once (one strided value at a time, a 5,000-row class of a 1M x 30 `x` took 0.8 ms of
/// SMOTE's path to its neighbour search).
fn gather<F: Float>(x: ArrayView2<F>, rows: &[usize]) -> Array2<F> {
    let d = x.ncols();
    let mut out = vec![F::zero(); rows.len() * d];
    if d > 0 {
        match x.as_slice() {
            Some(xs) => out
                .par_chunks_mut(GATHER_ROWS * d)
                .zip(rows.par_chunks(GATHER_ROWS))
                .for_each(|(o, rs)| {
                    for (o, &r) in o.chunks_exact_mut(d).zip(rs) {
                        o.copy_from_slice(&xs[r * d..(r + 1) * d]);
                    }
                }),
            None => out
                .par_chunks_mut(d)
                .zip(rows.par_iter())
                .for_each(|(o, &r)| {
                    for (dst, src) in o.iter_mut().zip(x.row(r).iter()) {
                        *dst = *src;
                    }
                }),
        }
    }
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
    Ok(self_neighbors(class_x.view(), k)?.indices)
}

/// A class to grow: its rows gathered contiguously and their neighbour graph.
struct Grown<F> {
    class: u32,
    n_new: usize,
    class_x: Array2<F>,
    graph: Array2<usize>,
}

/// A neighbour graph handed in must have one row per class row, at least one column, and point
/// only at rows of the class.
fn check_graph(g: &Array2<usize>, class: u32, n_rows: usize) -> Result<()> {
    if g.nrows() != n_rows || g.ncols() == 0 {
        return Err(CoreError::Shape(format!(
            "the neighbour graph of class {class} has shape {:?}, expected ({n_rows}, k)",
            g.dim()
        )));
    }
    if let Some(&bad) = g.iter().find(|&&j| j >= n_rows) {
        return Err(CoreError::Shape(format!(
            "the neighbour graph of class {class} points at row {bad}, the class has {n_rows} rows"
        )));
    }
    Ok(())
}

/// What the generation of a class's new rows reads: its rows (row-major, `d` columns) and its
/// neighbour graph (row-major, `per_row` neighbours a row).
struct Pairs<'a, F> {
    class: u32,
    d: usize,
    cx: &'a [F],
    per_row: usize,
    nbrs: &'a [usize],
}

impl<F: Float> Grown<F> {
    fn pairs(&self) -> Pairs<'_, F> {
        Pairs {
            class: self.class,
            d: self.class_x.ncols().max(1),
            cx: self
                .class_x
                .as_slice()
                .expect("gathered rows are contiguous"),
            per_row: self.graph.ncols(),
            nbrs: self
                .graph
                .as_slice()
                .expect("neighbour graphs are row-major"),
        }
    }
}

/// Check the arguments and, for every class to grow, gather its rows and find (or check) its
/// neighbour graph. With `check_x`, the gathered rows are checked for NaN, infinity and values too
/// large for distances before they are searched (the error names the cell of `x`).
fn prepare<F: Float>(
    x: ArrayView2<F>,
    class_rows: &[Vec<usize>],
    n_new: &[usize],
    k: usize,
    graphs: &[Option<Array2<usize>>],
    check_x: bool,
) -> Result<Vec<Grown<F>>> {
    if n_new.len() != class_rows.len() {
        return Err(CoreError::Shape(
            "one target count per class is needed".into(),
        ));
    }
    if k == 0 {
        return Err(CoreError::InvalidArgument(
            "k_neighbors must be >= 1".into(),
        ));
    }
    let mut grown = Vec::new();
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
        if check_x {
            // The error names the cell of `x`, not of the gathered rows.
            check_finite(class_x.view()).map_err(|e| match e {
                CoreError::NonFinite { what, row, col } => CoreError::NonFinite {
                    what,
                    row: rows[row],
                    col,
                },
                CoreError::TooLarge {
                    value,
                    row,
                    col,
                    d,
                    limit,
                    dtype,
                } => CoreError::TooLarge {
                    value,
                    row: rows[row],
                    col,
                    d,
                    limit,
                    dtype,
                },
                e => e,
            })?;
        }
        let graph = match graphs.get(c).and_then(|g| g.as_ref()) {
            Some(g) => {
                check_graph(g, class, rows.len())?;
                g.clone()
            }
            None => {
                if rows.len() < k + 1 {
                    return Err(CoreError::TooFewSamples {
                        class,
                        available: rows.len(),
                        needed: k + 1,
                    });
                }
                self_neighbors(class_x.view(), k)?.indices
            }
        };
        // Row-major, as `generate` reads it (a graph handed in may be column-major).
        let graph = if graph.is_standard_layout() {
            graph
        } else {
            graph.as_standard_layout().into_owned()
        };
        grown.push(Grown {
            class,
            n_new: n,
            class_x,
            graph,
        });
    }
    Ok(grown)
}

/// Fill `block` (whole rows) with the new rows of unit of work `chunk` of a class: each a random
/// (row, neighbour) pair and a uniform gap, from that unit's own random stream.
/// With `parents`, row `i` of the block also records its (row, neighbour) pair there, as
/// positions in the class.
fn generate<F: Float>(
    g: &Pairs<'_, F>,
    seed: u64,
    chunk: u64,
    block: &mut [F],
    parents: Option<&mut [[usize; 2]]>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        /// `generate_rows` with [`lerp_f32_avx2`] for `f32` rows and [`lerp`] for `f64` rows,
        /// compiled into the instruction set of the function it is inlined into.
        ///
        /// # Safety
        ///
        /// The CPU must support AVX2.
        #[inline(always)]
        unsafe fn with_simd_lerp<F: Float>(
            g: &Pairs<'_, F>,
            seed: u64,
            chunk: u64,
            block: &mut [F],
            parents: Option<&mut [[usize; 2]]>,
        ) {
            if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() {
                // SAFETY: `F` is `f32` in this branch; the caller's CPU supports AVX2.
                generate_rows(g, seed, chunk, block, parents, |a, b, gap, o| unsafe {
                    lerp_f32_avx2(a, b, gap, o)
                })
            } else {
                generate_rows(g, seed, chunk, block, parents, lerp)
            }
        }
        /// # Safety
        ///
        /// The CPU must support AVX-512F (checked below before the call).
        #[target_feature(enable = "avx512f,avx2")]
        unsafe fn avx512<F: Float>(
            g: &Pairs<'_, F>,
            seed: u64,
            chunk: u64,
            block: &mut [F],
            parents: Option<&mut [[usize; 2]]>,
        ) {
            // SAFETY: AVX-512F implies AVX2.
            unsafe { with_simd_lerp(g, seed, chunk, block, parents) }
        }
        /// # Safety
        ///
        /// The CPU must support AVX2 (checked below before the call).
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<F: Float>(
            g: &Pairs<'_, F>,
            seed: u64,
            chunk: u64,
            block: &mut [F],
            parents: Option<&mut [[usize; 2]]>,
        ) {
            // SAFETY: the caller's CPU supports AVX2.
            unsafe { with_simd_lerp(g, seed, chunk, block, parents) }
        }
        // Every path makes the same operations in the same order (no fused multiply-add: Rust never
        // contracts a * b + c), only in wider vectors, so every path gives the plain loop's bits.
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected (it implies AVX2).
            return unsafe { avx512(g, seed, chunk, block, parents) };
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was detected.
            return unsafe { avx2(g, seed, chunk, block, parents) };
        }
    }
    generate_rows(g, seed, chunk, block, parents, lerp)
}

/// `o = a + gap (b - a)`, in `F` (a subtraction, a multiplication and an addition, each rounded to
/// nearest): the new row lies on the segment `[a, b]` to within a few units in the last place of
/// its values.
#[inline(always)]
fn lerp<F: Float>(a: &[F], b: &[F], gap: F, o: &mut [F]) {
    for ((o, &av), &bv) in o.iter_mut().zip(a).zip(b) {
        *o = av + gap * (bv - av);
    }
}

/// [`lerp`] for `f32` rows, eight features at a time in 256-bit vectors: the same three operations
/// in the same order, so the same bits. A row of at least 8 features whose width is not a multiple
/// of 8 ends with the group of its last eight, which makes the few features it shares with the
/// group before it again, from the same values, so to the same bits: no masked moves, which made
/// the row's last group its slowest step (perf, Zen 4); narrower rows go value by value. Made in
/// `f32`, not widened to `f64` lanes and rounded back (three conversions a group). On one Zen 4
/// core, a million 30-feature rows from a class of 5,000 rows (`generate_report`, drawn ahead):
/// 10.9-11.2 ns a row into a block in L1 with the widened lerp and its masked last group, 10.3
/// with the last group unmasked, 8.6-8.8 in `f32` with one bounds check a row; into warm memory
/// 14.3-15.2 ns before, 12.0-12.2 after.
///
/// # Safety
/// The CPU must support AVX2. (`F` must be `f32`, and `a` and `b` must hold at least `o.len()`
/// values: both are asserted, so neither is left to the caller.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn lerp_f32_avx2<F: Float>(a: &[F], b: &[F], gap: F, o: &mut [F]) {
    use std::arch::x86_64::*;
    // A constant for each `F`, so no test is left in the compiled code for `f32`.
    assert!(std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>());
    let d = o.len();
    if d < 8 {
        return lerp(a, b, gap, o);
    }
    assert!(a.len() >= d && b.len() >= d);
    let (a, b, o) = (
        a.as_ptr() as *const f32,
        b.as_ptr() as *const f32,
        o.as_mut_ptr() as *mut f32,
    );
    // SAFETY: `F` is `f32` (asserted above), so its bits are an `f32`.
    let g = _mm256_set1_ps(unsafe { std::mem::transmute_copy::<F, f32>(&gap) });
    // SAFETY: `j + 8 <= d`, within all three rows.
    let step = |j: usize| unsafe {
        let av = _mm256_loadu_ps(a.add(j));
        let bv = _mm256_loadu_ps(b.add(j));
        _mm256_storeu_ps(
            o.add(j),
            _mm256_add_ps(av, _mm256_mul_ps(g, _mm256_sub_ps(bv, av))),
        );
    };
    let mut j = 0;
    while j + 8 <= d {
        step(j);
        j += 8;
    }
    if j < d {
        step(d - 8);
    }
}

#[inline(always)]
fn generate_rows<F: Float>(
    g: &Pairs<'_, F>,
    seed: u64,
    chunk: u64,
    block: &mut [F],
    mut parents: Option<&mut [[usize; 2]]>,
    lerp: impl Fn(&[F], &[F], F, &mut [F]),
) {
    let (d, cx, nbrs) = (g.d, g.cx, g.nbrs);
    if block.is_empty() {
        return;
    }
    let pairs = nbrs.len() as u64;
    let m = cx.len() / d;
    let mut s = Stream::new(seed, Purpose::Smote, g.class, chunk).fast();
    // Row `i`'s draws (pair, then gap) are made DRAW rows ahead, and its neighbour read READ rows
    // ahead, each followed by a prefetch of what the next step reads, so that the class rows are
    // on their way to L1 before the row is made: from L2 or L3 (where the output written since
    // a class row's last use has pushed it) or, for a large class, from memory. The draws keep
    // their order, so the rows are the same as made one at a time as drawn; the few draws past
    // the block's end are of the unit's own stream, and unused.
    let (mut p, mut gap) = ([0usize; RING], [F::zero(); RING]);
    let mut pair = [[0usize; 2]; RING];
    for j in 0..DRAW {
        (p[j], gap[j]) = draw(&mut s, pairs, nbrs);
    }
    for j in 0..READ {
        pair[j] = read(g, p[j]);
    }
    for (i, o) in block.chunks_mut(d).enumerate() {
        let a = (i + DRAW) % RING;
        (p[a], gap[a]) = draw(&mut s, pairs, nbrs);
        let b = (i + READ) % RING;
        pair[b] = read(g, p[b]);
        let c = i % RING;
        let [r, nb] = pair[c];
        if let Some(pp) = parents.as_deref_mut() {
            pp[i] = [r, nb];
        }
        // One check for both rows (a slice check each was a fifth of the loop's instructions).
        assert!(r.max(nb) < m, "a neighbour outside the class");
        // SAFETY: `r, nb < m = cx.len() / d`, so both rows lie within `cx`.
        let (ra, rb) = unsafe {
            (
                cx.get_unchecked(r * d..(r + 1) * d),
                cx.get_unchecked(nb * d..(nb + 1) * d),
            )
        };
        lerp(ra, rb, gap[c], o);
    }
}

/// A new row's draws, in the order they are made: its pair (a position in `nbrs`, of `pairs`) and
/// its gap; the pair's entry of `nbrs` is prefetched.
#[inline(always)]
fn draw<F: Float>(s: &mut crate::rng::Fast, pairs: u64, nbrs: &[usize]) -> (usize, F) {
    let p = s.below(pairs) as usize;
    let gap = F::unit(s.next_u64());
    prefetch_at(nbrs.as_ptr().wrapping_add(p) as *const u8);
    (p, gap)
}

/// Pair `p`'s two class rows (the row and its neighbour), both prefetched.
#[inline(always)]
fn read<F: Float>(g: &Pairs<'_, F>, p: usize) -> [usize; 2] {
    let (r, nb) = (p / g.per_row, g.nbrs[p]);
    // A prefetch cannot fault, so the rows' addresses need no check (`wrapping_add`: no
    // pointer past the slice is ever read through).
    let base = g.cx.as_ptr();
    prefetch_row(base.wrapping_add(r * g.d), g.d);
    prefetch_row(base.wrapping_add(nb * g.d), g.d);
    [r, nb]
}

/// How many rows ahead [`generate_rows`] draws a row's pair and gap, and reads its neighbour. On
/// one Zen 4 core (`generate_report`, 1M rows of 30 `f32`): from a class of 500,000 rows (in
/// memory) 118-122 ns a row made as drawn, 58-60 ns drawn (8, 4) ahead, whether the output is in
/// L1 or not; from 5,000 rows (in L2) 16.0-20.6 and 15.4-17.7 ns into warm memory, 11.2-11.5 ns
/// both into L1 (the out-of-order core hides L2 alone). Deeper, up to (30, 16), gained nothing.
/// With the `f32` lerp: 500,000 rows 85-88 and 48-50 ns, 5,000 rows 12.5-13.1 and 12.0-12.2 ns
/// into warm memory; (16, 8) and (12, 4) gained nothing either.
/// `draw` and `read` are functions, not closures: as closures the compiler kept `read` out of
/// line, and the loop took 12.1-12.9 ns a row into L1.
const DRAW: usize = 8;
const READ: usize = 4;
/// Slots for the rows drawn ahead (a power of two above `DRAW`, so that a slot is drawn again only
/// after its row is made).
const RING: usize = 16;
const _: () = assert!(READ < DRAW && DRAW < RING && RING.is_power_of_two());

/// Ask the CPU to bring the cache line of address `p` into L1 (a hint: nothing is read, and no
/// address faults, so `p` may point anywhere).
#[inline(always)]
fn prefetch_at(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints; it reads nothing and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch(p as *const i8, _MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch_at`] the cache lines of the `len` values from `row`: the first two and the one of the
/// last byte (a longer row's middle is left to the hardware prefetcher, which follows a run of
/// lines).
#[inline(always)]
fn prefetch_row<T>(row: *const T, len: usize) {
    let bytes = len * std::mem::size_of::<T>();
    let p = row as *const u8;
    if bytes > 0 {
        // `wrapping_add`: addresses only, never read through.
        prefetch_at(p);
        if bytes > 64 {
            prefetch_at(p.wrapping_add(64));
        }
        prefetch_at(p.wrapping_add(bytes - 1));
    }
}

/// A unit of work of the new rows: its class's pairs, its chunk, its block of the output and, when
/// asked, the slice of `parents` for its rows.
type Unit<'g, 'o, F> = (Pairs<'g, F>, u64, &'o mut [F], Option<&'o mut [[usize; 2]]>);

/// The units of work of the new rows, `CHUNK` rows a block, class by class, splitting `out` (the
/// new rows, row-major) in order, and `parents` (one pair per new row) the same way.
fn new_row_blocks<'o, 'g, F: Float>(
    grown: &'g [Grown<F>],
    d: usize,
    mut out: &'o mut [F],
    mut parents: Option<&'o mut [[usize; 2]]>,
) -> Vec<Unit<'g, 'o, F>> {
    let mut blocks = Vec::new();
    for g in grown {
        let (mut class_out, rest) = out.split_at_mut(g.n_new * d);
        out = rest;
        let mut class_par = take_front(&mut parents, g.n_new);
        let mut chunk = 0;
        while !class_out.is_empty() {
            let take = (CHUNK * d.max(1)).min(class_out.len());
            let (block, rest) = class_out.split_at_mut(take);
            let par = take_front(&mut class_par, take / d.max(1));
            blocks.push((g.pairs(), chunk, block, par));
            class_out = rest;
            chunk += 1;
        }
    }
    blocks
}

/// The first `n` items of `rest` (when there is a `rest`), leaving it the others.
fn take_front<'o, T>(rest: &mut Option<&'o mut [T]>, n: usize) -> Option<&'o mut [T]> {
    rest.take().map(|p| {
        let (a, b) = p.split_at_mut(n);
        *rest = Some(b);
        a
    })
}

fn check_len(out: usize, want: usize) -> Result<()> {
    if out != want {
        return Err(CoreError::Shape(format!(
            "output holds {out} values, {want} needed"
        )));
    }
    Ok(())
}

/// Generate `n_new[c]` SMOTE rows for every class code `c`, class by class in code order, into
/// `out` (row-major, `sum(n_new) x d`).
///
/// `graphs[c]`, when given, is the neighbour graph of class `c` (positions within its rows, one row
/// per class row, any number of columns >= 1): it replaces the exact search, for callers that bring
/// their own neighbour estimator. `x` is not checked for NaN or infinity (see [`smote_full`]).
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
    let grown = prepare(x, class_rows, n_new, k, graphs, false)?;
    check_len(out.len(), n_new.iter().sum::<usize>() * d)?;
    new_row_blocks(&grown, d, out, None)
        .into_par_iter()
        .for_each(|(g, chunk, block, _)| {
            if !crate::cancel::requested() {
                generate(&g, seed, chunk, block, None)
            }
        });
    crate::cancel::check()
}

/// The SMOTE rows of one class from `first_chunk * CHUNK` on, `out.len() / d` of them (row-major),
/// given the class's rows in order (`class_x`) and their neighbour graph (positions within the
/// class). Rows `[a, b)` of a class made here are bit-identical to rows `[a, b)` of [`smote`]'s
/// output for that class, since each chunk of `CHUNK` rows has its own random stream (seed, class,
/// chunk): a distributed caller makes any run of chunks anywhere. With `parents` (one entry per
/// new row), each row's two class rows (positions within `class_x`) are written there, as
/// [`smote_full`] reports them: the segments a cleaner that follows can take (see `Anchors`).
pub fn smote_class_block<F: Float>(
    class_x: ArrayView2<F>,
    graph: &Array2<usize>,
    class: u32,
    first_chunk: u64,
    seed: u64,
    out: &mut [F],
    parents: Option<&mut [[usize; 2]]>,
) -> Result<()> {
    let d = class_x.ncols();
    check_graph(graph, class, class_x.nrows())?;
    if d > 0 && !out.len().is_multiple_of(d) {
        return Err(CoreError::Shape(format!(
            "output holds {} values, not a whole number of rows of {d}",
            out.len()
        )));
    }
    let class_x = class_x.as_standard_layout();
    let graph = graph.as_standard_layout();
    let pairs = Pairs {
        class,
        d: d.max(1),
        cx: class_x.as_slice().expect("standard layout is contiguous"),
        per_row: graph.ncols(),
        nbrs: graph.as_slice().expect("standard layout is contiguous"),
    };
    let rows = out.len() / d.max(1);
    if let Some(p) = parents.as_deref() {
        if p.len() != rows {
            return Err(CoreError::Shape(format!(
                "{} parent pairs for {rows} new rows",
                p.len()
            )));
        }
    }
    let mut par: Vec<Option<&mut [[usize; 2]]>> = match parents {
        Some(p) => p.chunks_mut(CHUNK).map(Some).collect(),
        None => (0..rows.div_ceil(CHUNK)).map(|_| None).collect(),
    };
    out.par_chunks_mut(CHUNK * d.max(1))
        .zip(par.par_iter_mut())
        .enumerate()
        .for_each(|(chunk, (block, par))| {
            if !crate::cancel::requested() {
                generate(&pairs, seed, first_chunk + chunk as u64, block, par.take())
            }
        });
    crate::cancel::check()
}

/// Rows of `x` a unit of work copies.
const COPY_ROWS: usize = 4096;

/// Copy `rows` rows of `x` starting at `row0` into `dst`, checking them for NaN and infinity on
/// the way (one read of `x`): the first bad cell, as (row, column, what).
fn copy_checked<F: Float>(
    x: ArrayView2<F>,
    row0: usize,
    dst: &mut [F],
) -> Option<(usize, usize, &'static str)> {
    let d = x.ncols().max(1);
    let rows = dst.len() / d;
    let block = x.slice(ndarray::s![row0..row0 + rows, ..]);
    let clean = match block.as_slice() {
        Some(src) => copy_finite(crate::isa::Isa::detect(), src, dst),
        None => {
            let mut acc = F::zero();
            for (o, r) in dst.chunks_mut(d).zip(block.outer_iter()) {
                for (o, &v) in o.iter_mut().zip(r.iter()) {
                    *o = v;
                    acc += v * F::zero();
                }
            }
            acc.is_finite()
        }
    };
    if clean {
        return None;
    }
    for (r, row) in block.outer_iter().enumerate() {
        for (c, &v) in row.iter().enumerate() {
            if !v.is_finite() {
                let what = if v.is_nan() { "NaN" } else { "infinity" };
                return Some((row0 + r, c, what));
            }
        }
    }
    None
}

/// Copy `src` into `dst` (of one length): whether every value is finite. v * 0 is 0 for a finite
/// v and NaN otherwise, so a sum of them is finite iff every value is; sixteen independent lanes
/// let the copy and the check vectorise together, compiled for the widest instruction set
/// (`crate::isa`).
fn copy_finite<F: Float>(isa: crate::isa::Isa, src: &[F], dst: &mut [F]) -> bool {
    #[inline(always)]
    fn body<F: Float>(src: &[F], dst: &mut [F]) -> bool {
        let mut acc = [F::zero(); 16];
        let mut o16 = dst.chunks_exact_mut(16);
        let mut i16 = src.chunks_exact(16);
        for (o, i) in (&mut o16).zip(&mut i16) {
            o.copy_from_slice(i);
            for l in 0..16 {
                acc[l] += i[l] * F::zero();
            }
        }
        let mut rest = F::zero();
        for (o, &i) in o16.into_remainder().iter_mut().zip(i16.remainder()) {
            *o = i;
            rest += i * F::zero();
        }
        acc.iter().fold(rest, |a, &v| a + v).is_finite()
    }
    use crate::isa::Isa;
    match isa {
        Isa::Baseline => body(src, dst),
        // SAFETY (both): the `Isa` came from `Isa::detect` (or `Isa::supported`, in the tests),
        // which found the instruction sets the functions enable.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<F: Float>(src: &[F], dst: &mut [F]) -> bool {
                body(src, dst)
            }
            unsafe { avx2(src, dst) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            #[target_feature(enable = "avx512f,avx2")]
            unsafe fn avx512<F: Float>(src: &[F], dst: &mut [F]) -> bool {
                body(src, dst)
            }
            unsafe { avx512(src, dst) }
        }
    }
}

/// SMOTE's whole output in one parallel pass over `out` (row-major, `(n + sum(n_new)) x d`): the
/// rows of `x`, copied and checked for NaN and infinity as they are copied, then the rows
/// [`smote`] makes for the classes of `codes` (the same rows, bit for bit). The copy runs beside
/// the preparation of the classes to grow (their rows, gathered, and their neighbour search), then
/// beside their generation. A NaN or infinity in `x` is an error naming its first cell (lowest row,
/// then column), as [`check_finite`] names it; `out` is then garbage. With `parents` (one pair
/// per new row), each new row's (row, neighbour) pair, as rows of `x`: the segment it lies on,
/// which SMOTEENN and SMOTETomek hand to their cleaner (see `under_sampling::Anchors`).
#[allow(clippy::too_many_arguments)]
pub fn smote_full<F: Float>(
    x: ArrayView2<F>,
    codes: &[u32],
    n_classes: usize,
    n_new: &[usize],
    k: usize,
    graphs: &[Option<Array2<usize>>],
    seed: u64,
    out: &mut [F],
    parents: Option<&mut [[usize; 2]]>,
) -> Result<()> {
    let (n, d) = x.dim();
    if codes.len() != n {
        return Err(CoreError::Shape(format!(
            "{} class codes for {n} rows",
            codes.len()
        )));
    }
    if n_new.len() != n_classes {
        return Err(CoreError::Shape(
            "one target count per class is needed".into(),
        ));
    }
    let total = n_new.iter().sum::<usize>();
    check_len(out.len(), (n + total) * d)?;
    if let Some(p) = &parents {
        if p.len() != total {
            return Err(CoreError::Shape(format!(
                "{} parent pairs for {total} new rows",
                p.len()
            )));
        }
    }
    let (head, tail) = out.split_at_mut(n * d);
    let copies: Vec<(usize, &mut [F])> = head
        .chunks_mut(COPY_ROWS * d.max(1))
        .enumerate()
        .map(|(i, b)| (i * COPY_ROWS, b))
        .collect();
    let (bad, made) = rayon::join(
        || {
            copies
                .into_par_iter()
                .filter_map(|(row0, dst)| {
                    if crate::cancel::requested() {
                        return None;
                    }
                    copy_checked(x, row0, dst)
                })
                .min_by_key(|&(r, c, _)| (r, c))
        },
        || -> Result<()> {
            let wanted: Vec<bool> = n_new.iter().map(|&m| m > 0).collect();
            let class_rows = crate::classes::class_rows_of(codes, n_classes, &wanted)?;
            // A bad value in a grown class stops the search; the copy names the first of x.
            let grown = prepare(x, &class_rows, n_new, k, graphs, true)?;
            let mut parents = parents;
            new_row_blocks(&grown, d, tail, parents.as_deref_mut())
                .into_par_iter()
                .for_each(|(g, chunk, block, par)| {
                    if !crate::cancel::requested() {
                        generate(&g, seed, chunk, block, par)
                    }
                });
            if let Some(p) = parents {
                // Positions in the class to rows of `x`.
                let mut rest = p;
                for g in &grown {
                    let (mine, r) = rest.split_at_mut(g.n_new);
                    rest = r;
                    let rows = &class_rows[g.class as usize];
                    mine.par_iter_mut()
                        .for_each(|pr| *pr = [rows[pr[0]], rows[pr[1]]]);
                }
            }
            Ok(())
        },
    );
    crate::cancel::check()?;
    if let Some((row, col, what)) = bad {
        return Err(CoreError::NonFinite { what, row, col });
    }
    made
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_lerp_gives_the_plain_loop_bits() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let mut s = Stream::new(3, Purpose::Shrinkage, 1, 0);
        for d in 0..70 {
            for t in 0..50 {
                // Values of very different magnitudes, so that rounding matters.
                let a: Vec<f32> = (0..d)
                    .map(|_| (s.normal() * 10f64.powi(s.below(9) as i32 - 4)) as f32)
                    .collect();
                let b: Vec<f32> = (0..d)
                    .map(|_| (s.normal() * 10f64.powi(s.below(9) as i32 - 4)) as f32)
                    .collect();
                // The gap's two ends too: 0 and the largest value below 1.
                let gap = match t {
                    0 => f32::unit(0),
                    1 => f32::unit(u64::MAX),
                    _ => f32::unit(s.next_u64()),
                };
                let (mut want, mut got) = (vec![0f32; d], vec![7f32; d + 3]);
                lerp(&a, &b, gap, &mut want);
                // SAFETY: AVX2 was detected; the output is longer than the rows, and the values
                // past `d` must stay untouched.
                unsafe { lerp_f32_avx2(&a, &b, gap, &mut got[..d]) };
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got[..d]), bits(&want), "d = {d}");
                assert_eq!(&got[d..], &[7.0; 3]);
            }
        }
    }

    #[test]
    fn copy_finds_any_non_finite_value_on_every_instruction_set() {
        for isa in crate::isa::Isa::supported() {
            for n in [0usize, 5, 16, 47, 300] {
                let src: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
                let mut dst = vec![9f32; n];
                assert!(copy_finite(isa, &src, &mut dst), "{isa:?} {n}");
                assert_eq!(dst, src);
                for at in [0, n / 2, n.saturating_sub(1)]
                    .into_iter()
                    .filter(|&a| a < n)
                {
                    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                        let mut s = src.clone();
                        s[at] = bad;
                        assert!(!copy_finite(isa, &s, &mut dst), "{isa:?} {n} {at} {bad}");
                    }
                }
            }
        }
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
    fn full_output_is_x_then_the_same_new_rows() {
        let (x, codes) = data(20_000, 5, 4);
        let rows = class_rows(&codes, 2).unwrap();
        let n_new = [0, 15_000];
        let mut new = vec![0.0f64; 15_000 * 5];
        smote(x.view(), &rows, &n_new, 5, &[None, None], 7, &mut new).unwrap();
        let xt = x.t().to_owned();
        // Row-major and column-major x: the same output.
        for view in [x.view(), xt.t()] {
            let mut full = vec![0.0f64; 35_000 * 5];
            smote_full(
                view,
                &codes,
                2,
                &n_new,
                5,
                &[None, None],
                7,
                &mut full,
                None,
            )
            .unwrap();
            assert_eq!(&full[..20_000 * 5], x.as_slice().unwrap());
            assert_eq!(&full[20_000 * 5..], &new[..]);
        }
    }

    #[test]
    fn recorded_parents_are_the_segment_of_each_new_row() {
        let (x, codes) = data(20_000, 5, 4);
        let n_new = [0, 15_000];
        let mut plain = vec![0.0f64; 35_000 * 5];
        smote_full(
            x.view(),
            &codes,
            2,
            &n_new,
            5,
            &[None, None],
            7,
            &mut plain,
            None,
        )
        .unwrap();
        let mut full = vec![0.0f64; 35_000 * 5];
        let mut parents = vec![[usize::MAX; 2]; 15_000];
        let p = Some(&mut parents[..]);
        smote_full(
            x.view(),
            &codes,
            2,
            &n_new,
            5,
            &[None, None],
            7,
            &mut full,
            p,
        )
        .unwrap();
        // Recording them changes no row.
        assert_eq!(full, plain);
        let rows = class_rows(&codes, 2).unwrap();
        let graph = smote_class_neighbors(x.view(), &rows[1], 1, 5).unwrap();
        for (i, &[a, b]) in parents.iter().enumerate() {
            assert!(
                codes[a] == 1 && codes[b] == 1,
                "new row {i}: parents of another class"
            );
            // b is one of a's 5 nearest rows of the class.
            let ra = rows[1].binary_search(&a).unwrap();
            assert!(
                graph.row(ra).iter().any(|&g| rows[1][g] == b),
                "new row {i}"
            );
            // The row lies on the segment: o = a + t (b - a), one t in [0, 1] for every column.
            let o = &full[(20_000 + i) * 5..(20_001 + i) * 5];
            let (xa, xb) = (x.row(a), x.row(b));
            let t: Vec<f64> = (0..5)
                .filter(|&j| xb[j] != xa[j])
                .map(|j| (o[j] - xa[j]) / (xb[j] - xa[j]))
                .collect();
            assert!(
                t.iter().all(|&v| (-1e-9..=1.0 + 1e-9).contains(&v)),
                "new row {i}"
            );
            assert!(
                t.iter().all(|&v| (v - t[0]).abs() < 1e-6),
                "new row {i}: off the segment"
            );
        }
        // One pair per new row, or an error.
        let mut short = [[0usize; 2]; 3];
        let err = smote_full(
            x.view(),
            &codes,
            2,
            &n_new,
            5,
            &[None, None],
            7,
            &mut full,
            Some(&mut short[..]),
        );
        assert!(matches!(err, Err(CoreError::Shape(_))));
    }

    #[test]
    fn full_output_names_the_first_bad_cell_of_x() {
        let (x, codes) = data(20_000, 5, 5);
        let rows = class_rows(&codes, 2).unwrap();
        let first_minority = rows[1][3];
        // (bad cells, the one reported): in the majority only, in the grown class and the
        // majority (the lowest row wins, wherever it is), in the last row.
        let cases = [
            (
                vec![(12_345, 2, f64::NAN), (9_001, 4, f64::INFINITY)],
                (9_001, 4, "infinity"),
            ),
            (
                vec![
                    (first_minority, 1, f64::NAN),
                    (first_minority - 1, 3, f64::INFINITY),
                ],
                (first_minority - 1, 3, "infinity"),
            ),
            (
                vec![(first_minority, 0, f64::NEG_INFINITY)],
                (first_minority, 0, "infinity"),
            ),
            (vec![(19_999, 4, f64::NAN)], (19_999, 4, "NaN")),
        ];
        for (cells, (row, col, what)) in cases {
            let mut bad = x.clone();
            for &(r, c, v) in &cells {
                bad[[r, c]] = v;
            }
            let mut full = vec![0.0f64; 35_000 * 5];
            let err = smote_full(
                bad.view(),
                &codes,
                2,
                &[0, 15_000],
                5,
                &[None, None],
                0,
                &mut full,
                None,
            );
            assert_eq!(err, Err(CoreError::NonFinite { what, row, col }));
            assert_eq!(err, check_finite(bad.view()).map(|_| ()));
        }
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
        let mut pairs = Vec::new();
        for first in [0u64, 1, 3] {
            let len = if first == 3 {
                17
            } else if first == 1 {
                2 * CHUNK
            } else {
                CHUNK
            };
            let mut block = vec![0.0f64; len * 3];
            let mut par = vec![[0usize; 2]; len];
            smote_class_block(
                class_x.view(),
                &graph,
                1,
                first,
                11,
                &mut block,
                Some(&mut par),
            )
            .unwrap();
            parts.extend(block);
            // Class positions to rows of x, as smote_full reports them.
            pairs.extend(par.iter().map(|p| [rows[1][p[0]], rows[1][p[1]]]));
        }
        assert_eq!(parts, whole);
        // The pairs are those smote_full reports for the same rows, and each row lies on its own.
        let mut full = vec![0.0f64; (900 + n) * 3];
        let mut full_pairs = vec![[0usize; 2]; n];
        smote_full(
            x.view(),
            &codes,
            2,
            &[0, n],
            5,
            &[None, None],
            11,
            &mut full,
            Some(&mut full_pairs),
        )
        .unwrap();
        assert_eq!(&full[900 * 3..], &whole[..]);
        assert_eq!(pairs, full_pairs);
        assert!(pairs.iter().any(|p| p[0] != pairs[0][0]));
        let mut short = vec![[0usize; 2]; 3];
        let mut block = vec![0.0f64; 4 * 3];
        let err = smote_class_block(
            class_x.view(),
            &graph,
            1,
            0,
            11,
            &mut block,
            Some(&mut short),
        );
        assert!(matches!(err, Err(CoreError::Shape(_))));
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

    /// The rows of a unit of work made one at a time, each drawn when it is made: what
    /// `generate_rows` did before it drew ahead, and must still give.
    fn in_turn<F: Float>(
        g: &Pairs<'_, F>,
        seed: u64,
        chunk: u64,
        block: &mut [F],
        mut parents: Option<&mut [[usize; 2]]>,
        lerp: impl Fn(&[F], &[F], F, &mut [F]),
    ) {
        let d = g.d;
        let mut s = Stream::new(seed, Purpose::Smote, g.class, chunk).fast();
        for (i, o) in block.chunks_mut(d).enumerate() {
            let p = s.below(g.nbrs.len() as u64) as usize;
            let r = p / g.per_row;
            let gap = F::unit(s.next_u64());
            let nb = g.nbrs[p];
            if let Some(pp) = parents.as_deref_mut() {
                pp[i] = [r, nb];
            }
            lerp(
                &g.cx[r * d..(r + 1) * d],
                &g.cx[nb * d..(nb + 1) * d],
                gap,
                o,
            );
        }
    }

    /// Drawing ahead (with prefetches) changes no row and no parent pair, for blocks shorter and
    /// longer than the distance drawn ahead and the ring, any width, `f32` (the instruction set's
    /// lerp) and `f64`.
    #[test]
    fn rows_drawn_ahead_are_the_rows_drawn_in_turn() {
        fn check<F: Float>(cx: &[F], m: usize, d: usize, per_row: usize, nbrs: &[usize]) {
            assert_eq!(cx.len(), m * d);
            let g = Pairs {
                class: 3,
                d,
                cx,
                per_row,
                nbrs,
            };
            for rows in [0, 1, 3, READ, DRAW, RING - 1, RING, RING + 1, 100, 257] {
                for chunk in [0u64, 5] {
                    let (mut want, mut got) =
                        (vec![F::zero(); rows * d], vec![F::zero(); rows * d]);
                    let (mut wp, mut gp) = (vec![[0usize; 2]; rows], vec![[9usize; 2]; rows]);
                    in_turn(&g, 11, chunk, &mut want, Some(&mut wp), lerp);
                    generate(&g, 11, chunk, &mut got, Some(&mut gp));
                    let bits = |v: &[F]| v.iter().map(|x| x.wide().to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "d {d}, k {per_row}, {rows} rows");
                    assert_eq!(gp, wp, "d {d}, k {per_row}, {rows} rows");
                    // Without parents, the same rows.
                    let mut bare = vec![F::zero(); rows * d];
                    generate(&g, 11, chunk, &mut bare, None);
                    assert_eq!(bits(&bare), bits(&want));
                }
            }
        }
        let mut s = Stream::new(4, Purpose::Shrinkage, 2, 0);
        for (m, d, per_row) in [(7, 1, 1), (7, 3, 5), (300, 30, 5), (40, 70, 3), (2, 9, 1)] {
            let x: Vec<f64> = (0..m * d)
                .map(|_| s.normal() * 10f64.powi(s.below(7) as i32 - 3))
                .collect();
            let nbrs: Vec<usize> = (0..m * per_row)
                .map(|_| s.below(m as u64) as usize)
                .collect();
            check(&x, m, d, per_row, &nbrs);
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            check(&x32, m, d, per_row, &nbrs);
        }
    }

    /// The generating pass's own cost: a million 30-feature `f32` rows from a class of 5,000 rows
    /// (in L2) and of 500,000 (in memory), 5 neighbours a row, into memory already written once
    /// (no page faults), on one core: made one at a time as drawn (`in_turn`, the instruction
    /// set's lerp) and as `generate` makes them (drawn ahead). Run it alone on a quiet machine:
    /// `cargo test --release -p equipoise-core generate_report -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn generate_report() {
        let (d, k, rows) = (30usize, 5usize, 1_000_000usize);
        let (mut plain, mut fast) = (vec![1f32; rows * d], vec![1f32; rows * d]);
        for m in [5_000usize, 500_000] {
            let mut s = Stream::new(1, Purpose::Smote, 0, 0);
            let cx: Vec<f32> = (0..m * d).map(|_| s.normal() as f32).collect();
            let nbrs: Vec<usize> = (0..m * k).map(|_| s.below(m as u64) as usize).collect();
            let p = Pairs {
                class: 1,
                d,
                cx: &cx,
                per_row: k,
                nbrs: &nbrs,
            };
            // v = 0: made one at a time as drawn; v = 1: drawn ahead.
            let make = |v: usize, c: u64, b: &mut [f32]| {
                if v == 0 {
                    in_turn_fast(&p, c, b)
                } else {
                    generate(&p, 7, c, b, None)
                }
            };
            let best = best_of_7(|v| {
                let out = if v == 0 { &mut plain } else { &mut fast };
                for (c, b) in out.chunks_mut(CHUNK * d).enumerate() {
                    make(v, c as u64, b);
                }
            });
            assert!(plain == fast);
            eprintln!(
                "1M new rows x {d} f32 from a class of {m} rows, one core, warm output: \
                 made as drawn {:.1} ns a row, drawn ahead {:.1} ns a row",
                best[0] * 1e9 / rows as f64,
                best[1] * 1e9 / rows as f64
            );
            // The same rows made 256 at a time into one block in L1: the loop's own cost,
            // without the output's memory traffic.
            let mut small = [vec![0f32; 256 * d], vec![0f32; 256 * d]];
            let best = best_of_7(|v| {
                for c in 0..(rows / 256) as u64 {
                    make(v, c, &mut small[v]);
                }
            });
            assert!(small[0] == small[1]);
            eprintln!(
                "    the same into a block in L1: made as drawn {:.1} ns a row, drawn ahead \
                 {:.1} ns a row",
                best[0] * 1e9 / rows as f64,
                best[1] * 1e9 / rows as f64
            );
        }
    }

    /// The best of 7 wall times of `run(0)` and of `run(1)`, the two alternated.
    fn best_of_7(mut run: impl FnMut(usize)) -> [f64; 2] {
        let mut best = [f64::INFINITY; 2];
        for _ in 0..7 {
            for (v, b) in best.iter_mut().enumerate() {
                let t = std::time::Instant::now();
                run(v);
                *b = b.min(t.elapsed().as_secs_f64());
            }
        }
        best
    }

    /// `in_turn` with the lerp `generate` picks for `f32` on this CPU.
    fn in_turn_fast(p: &Pairs<'_, f32>, chunk: u64, b: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(p: &Pairs<'_, f32>, chunk: u64, b: &mut [f32]) {
                // SAFETY: the caller checked AVX2.
                in_turn(p, 7, chunk, b, None, |a, c, gap, o| unsafe {
                    lerp_f32_avx2(a, c, gap, o)
                })
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: detected above.
                return unsafe { avx2(p, chunk, b) };
            }
        }
        in_turn(p, 7, chunk, b, None, lerp)
    }
}
