//! Batch samplers for training loops: a stream of index batches of exact class composition.
//!
//! * **Composition.** Each class `c` has an integer weight `w_c` (equal weights: balanced; the class
//!   counts: stratified; anything else: custom proportions). Over the epoch, the rows are
//!   apportioned *cumulatively*: after the first `t` rows of the epoch (at every batch boundary),
//!   class `c` has had the floor or the ceiling of its share `t w_c / W`, so a 0.5% class gets its
//!   share across batches instead of zero in every batch (docs/design.md, Batch samplers). The
//!   extra rows of a boundary go by largest remainder measured in time: to the classes whose share
//!   reaches their next row soonest ([`Apportionment`]); the plain largest remainder in shares can
//!   paint itself into a corner where no monotone choice stays within floor and ceiling.
//! * **Rows.** Class `c` draws from an endless sequence of shuffled passes over its rows (pass `k`
//!   is a random-access permutation keyed by (seed, class, k), [`Permutation`]). Epoch `e` takes the
//!   next stretch of that sequence, so a large class is walked without replacement (every row is
//!   seen before any repeats, across epochs too) and a small class is cycled with a fresh shuffle
//!   at every pass. The epoch's batches depend only on (seed, epoch).
//! * **Shards.** Global batch `j` goes to rank `j mod world_size`; every rank gets the same number
//!   of batches (the epoch is rounded up to a multiple of `world_size` batches, or down with
//!   `drop_last`).
//! * **Memory.** The row lists of the classes in one flat array of `u32` (of `u64` from 2^32 rows
//!   on): 4 bytes a row. Passes are never stored.

mod online_smote;
mod permutation;

pub use online_smote::smote_draws;
pub use permutation::Permutation;

use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::rng::{Purpose, Stream};

/// Batches between two checks for an interrupt in the sequential walks over an epoch's batch
/// boundaries (a few microseconds of work each).
const CHECK_EVERY: u64 = 4096;

/// The rows of every class, class after class in one flat array, each class in row order.
#[derive(Clone, Debug)]
pub enum RowStore {
    U32(Vec<u32>),
    U64(Vec<u64>),
}

/// Row lists of the classes (compressed: one flat array and `n_classes + 1` offsets).
#[derive(Clone, Debug)]
pub struct ClassRows {
    store: RowStore,
    offsets: Vec<u64>,
}

impl ClassRows {
    /// Group row numbers by class code.
    pub fn from_codes(codes: &[u32], n_classes: usize) -> Result<Self> {
        let mut counts = vec![0u64; n_classes];
        for &c in codes {
            match counts.get_mut(c as usize) {
                Some(k) => *k += 1,
                None => {
                    return Err(CoreError::InvalidArgument(format!(
                        "class code {c} is out of range for {n_classes} classes"
                    )))
                }
            }
        }
        let mut offsets = Vec::with_capacity(n_classes + 1);
        offsets.push(0u64);
        for &k in &counts {
            offsets.push(offsets.last().unwrap() + k);
        }
        let mut next: Vec<u64> = offsets[..n_classes].to_vec();
        let store = if codes.len() <= u32::MAX as usize {
            let mut flat = vec![0u32; codes.len()];
            for (i, &c) in codes.iter().enumerate() {
                let p = &mut next[c as usize];
                flat[*p as usize] = i as u32;
                *p += 1;
            }
            RowStore::U32(flat)
        } else {
            let mut flat = vec![0u64; codes.len()];
            for (i, &c) in codes.iter().enumerate() {
                let p = &mut next[c as usize];
                flat[*p as usize] = i as u64;
                *p += 1;
            }
            RowStore::U64(flat)
        };
        Ok(ClassRows { store, offsets })
    }

    /// Rebuild from [`ClassRows::parts`] (for pickling).
    pub fn from_parts(store: RowStore, offsets: Vec<u64>) -> Result<Self> {
        let len = match &store {
            RowStore::U32(v) => v.len(),
            RowStore::U64(v) => v.len(),
        } as u64;
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&len)
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err(CoreError::Shape(
                "class offsets must rise from 0 to the number of rows".into(),
            ));
        }
        Ok(ClassRows { store, offsets })
    }

    /// The flat row array and the class offsets.
    pub fn parts(&self) -> (&RowStore, &[u64]) {
        (&self.store, &self.offsets)
    }

    pub fn n_classes(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn n_rows(&self) -> u64 {
        *self.offsets.last().unwrap()
    }

    /// Number of rows of class `c`.
    #[inline]
    pub fn count(&self, c: usize) -> u64 {
        self.offsets[c + 1] - self.offsets[c]
    }

    /// Row number of the `i`-th row of class `c`.
    #[inline]
    pub fn get(&self, c: usize, i: u64) -> u64 {
        let at = (self.offsets[c] + i) as usize;
        match &self.store {
            RowStore::U32(v) => v[at] as u64,
            RowStore::U64(v) => v[at],
        }
    }
}

/// Cumulative apportionment of draws to classes, one batch boundary at a time.
///
/// Invariant after every [`Apportionment::advance`] to `t` draws: `counts[c]` is the floor or the
/// ceiling of `t * w_c / W`, the counts never decrease, and they sum to `t`.
#[derive(Clone, Debug)]
pub struct Apportionment {
    weights: Vec<u64>,
    total: u128,
    counts: Vec<u64>,
    t: u64,
    eligible: Vec<usize>,
}

impl Apportionment {
    pub fn new(weights: &[u64]) -> Result<Self> {
        let total: u128 = weights.iter().map(|&w| w as u128).sum();
        if total == 0 {
            return Err(CoreError::InvalidArgument(
                "at least one class needs a positive share".into(),
            ));
        }
        Ok(Apportionment {
            weights: weights.to_vec(),
            total,
            counts: vec![0; weights.len()],
            t: 0,
            eligible: Vec::with_capacity(weights.len()),
        })
    }

    /// Cumulative counts so far.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Draws so far.
    pub fn drawn(&self) -> u64 {
        self.t
    }

    /// Apportion the draws up to `t` (>= the current number).
    pub fn advance(&mut self, t: u64) -> Result<()> {
        debug_assert!(t >= self.t);
        let tt = t as u128;
        let mut assigned: u64 = 0;
        self.eligible.clear();
        let small = self.total <= u64::MAX as u128;
        for (c, &w) in self.weights.iter().enumerate() {
            // u64 division where the product fits (the common case): u128 division is slow.
            let (lo, exact) = match (small, t.checked_mul(w)) {
                (true, Some(share)) => {
                    let total = self.total as u64;
                    (share / total, share % total == 0)
                }
                _ => {
                    let share = tt * w as u128;
                    (
                        (share / self.total) as u64,
                        share.is_multiple_of(self.total),
                    )
                }
            };
            let l = self.counts[c].max(lo);
            self.counts[c] = l;
            assigned += l;
            if !exact && l == lo {
                self.eligible.push(c);
            }
        }
        let extra = t.checked_sub(assigned).ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "internal: apportionment of {t} draws is stuck (weights {:?}); please report it",
                self.weights
            ))
        })? as usize;
        if extra > self.eligible.len() {
            return Err(CoreError::InvalidArgument(format!(
                "internal: apportionment of {t} draws lacks classes; please report it"
            )));
        }
        if extra > 0 {
            // Earliest deadline first: the class whose share reaches count + 1 soonest, i.e. the
            // smallest (count + 1) / w; ties go to the lower class code.
            let (w, counts) = (&self.weights, &self.counts);
            let key = |&a: &usize, &b: &usize| {
                let lhs = (counts[a] as u128 + 1) * w[b] as u128;
                let rhs = (counts[b] as u128 + 1) * w[a] as u128;
                lhs.cmp(&rhs).then(a.cmp(&b))
            };
            if extra < self.eligible.len() {
                self.eligible.select_nth_unstable_by(extra - 1, key);
            }
            for &c in &self.eligible[..extra] {
                self.counts[c] += 1;
            }
        }
        self.t = t;
        Ok(())
    }
}

/// Options of a [`BatchPlan`].
#[derive(Clone, Debug)]
pub struct BatchOptions {
    pub batch_size: usize,
    /// Global batches per epoch (over all ranks); `None`: one pass over the largest class.
    pub num_batches: Option<u64>,
    pub drop_last: bool,
    pub seed: u64,
    pub rank: u64,
    pub world_size: u64,
}

/// Where the draws of an output index come from: a class and a position in its endless sequence
/// of shuffled passes.
pub trait IndexOut: Copy + Send + Sync + Default {
    fn from_row(v: u64) -> Self;
}
impl IndexOut for u64 {
    #[inline]
    fn from_row(v: u64) -> Self {
        v
    }
}
impl IndexOut for i64 {
    #[inline]
    fn from_row(v: u64) -> Self {
        v as i64
    }
}

/// A batch sampler: class rows, weights and options; batches of any epoch on demand.
#[derive(Clone, Debug)]
pub struct BatchPlan {
    rows: ClassRows,
    weights: Vec<u64>,
    opts: BatchOptions,
    /// Rows per epoch over all ranks.
    rows_per_epoch: u64,
    /// Global batches per epoch (a multiple of `world_size`).
    global_batches: u64,
    /// Draws of each class per epoch.
    per_epoch: Vec<u64>,
}

impl BatchPlan {
    pub fn new(rows: ClassRows, weights: Vec<u64>, opts: BatchOptions) -> Result<Self> {
        let k = rows.n_classes();
        if weights.len() != k {
            return Err(CoreError::Shape(format!(
                "{} class weights for {k} classes",
                weights.len()
            )));
        }
        if opts.batch_size == 0 {
            return Err(CoreError::InvalidArgument("batch_size must be >= 1".into()));
        }
        if opts.world_size == 0 || opts.rank >= opts.world_size {
            return Err(CoreError::InvalidArgument(format!(
                "rank must be in [0, world_size), got rank={} world_size={}",
                opts.rank, opts.world_size
            )));
        }
        if let Some(c) = (0..k).find(|&c| weights[c] > 0 && rows.count(c) == 0) {
            return Err(CoreError::InvalidArgument(format!(
                "class {c} has a positive share but no rows"
            )));
        }
        let total: u128 = weights.iter().map(|&w| w as u128).sum();
        if total == 0 {
            return Err(CoreError::InvalidArgument(
                "at least one class needs a positive share".into(),
            ));
        }
        let b = opts.batch_size as u64;
        let ws = opts.world_size;
        let t0: u64 = match opts.num_batches {
            Some(nb) => nb.checked_mul(b).ok_or_else(|| {
                CoreError::InvalidArgument("num_batches * batch_size overflows".into())
            })?,
            None => {
                // One pass over the largest class: its share of the epoch is its row count.
                let big = (0..k)
                    .filter(|&c| weights[c] > 0)
                    .max_by(|&a, &c| rows.count(a).cmp(&rows.count(c)).then(c.cmp(&a)))
                    .expect("a class with a positive share");
                let num = rows.count(big) as u128 * total;
                let den = weights[big] as u128;
                u64::try_from(num.div_ceil(den)).map_err(|_| {
                    CoreError::InvalidArgument("the epoch would exceed 2^64 rows".into())
                })?
            }
        };
        let g0 = if opts.drop_last {
            t0 / b
        } else {
            t0.div_ceil(b)
        };
        let per_rank = if opts.drop_last {
            g0 / ws
        } else {
            g0.div_ceil(ws)
        };
        let global_batches = per_rank * ws;
        let full = global_batches
            .checked_mul(b)
            .ok_or_else(|| CoreError::InvalidArgument("the epoch would exceed 2^64 rows".into()))?;
        // Padding batches (to give every rank as many batches) are full; otherwise the last batch
        // holds what is left of the nominal epoch.
        let rows_per_epoch = if global_batches > g0 {
            full
        } else {
            full.min(t0)
        };
        let mut plan = BatchPlan {
            rows,
            weights,
            opts,
            rows_per_epoch,
            global_batches,
            per_epoch: vec![],
        };
        let mut app = Apportionment::new(&plan.weights)?;
        for j in 0..global_batches {
            if j % CHECK_EVERY == 0 {
                crate::cancel::check()?;
            }
            app.advance(plan.boundary(j + 1))?;
        }
        plan.per_epoch = app.counts().to_vec();
        Ok(plan)
    }

    pub fn rows(&self) -> &ClassRows {
        &self.rows
    }

    pub fn weights(&self) -> &[u64] {
        &self.weights
    }

    pub fn options(&self) -> &BatchOptions {
        &self.opts
    }

    /// Batches per epoch on this rank.
    pub fn len(&self) -> u64 {
        self.global_batches / self.opts.world_size
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Global batches per epoch (all ranks).
    pub fn global_batches(&self) -> u64 {
        self.global_batches
    }

    /// Rows per epoch over all ranks.
    pub fn rows_per_epoch(&self) -> u64 {
        self.rows_per_epoch
    }

    /// Draws of each class per epoch (all ranks).
    pub fn draws_per_epoch(&self) -> &[u64] {
        &self.per_epoch
    }

    /// Draws before the end of global batch `j - 1` (batch `j` spans `boundary(j)..boundary(j+1)`).
    #[inline]
    fn boundary(&self, j: u64) -> u64 {
        (j * self.opts.batch_size as u64).min(self.rows_per_epoch)
    }

    /// The global batch numbers of this rank in an epoch.
    fn my_batches(&self) -> impl Iterator<Item = u64> + '_ {
        (self.opts.rank..self.global_batches).step_by(self.opts.world_size as usize)
    }

    /// Class composition of this rank's batches: the cumulative draws of each class at the start
    /// of each batch (row-major, `len() x n_classes`) and the counts of each batch.
    pub fn composition(&self) -> Result<(Vec<u64>, Vec<u64>)> {
        let k = self.rows.n_classes();
        let n = self.len() as usize;
        let mut starts = Vec::with_capacity(n * k);
        let mut counts = Vec::with_capacity(n * k);
        let mut app = Apportionment::new(&self.weights)?;
        let mut mine = self.my_batches().peekable();
        for j in 0..self.global_batches {
            if j % CHECK_EVERY == 0 {
                crate::cancel::check()?;
            }
            app.advance(self.boundary(j))?;
            if mine.peek() == Some(&j) {
                mine.next();
                let at = starts.len();
                starts.extend_from_slice(app.counts());
                app.advance(self.boundary(j + 1))?;
                let before = &starts[at..];
                counts.extend(app.counts().iter().zip(before).map(|(a, b)| a - b));
            }
        }
        Ok((starts, counts))
    }

    /// Fill one batch: `start[c]` draws of class `c` precede it in the epoch, `count[c]` are in it.
    fn fill<T: IndexOut>(&self, epoch: u64, j: u64, start: &[u64], count: &[u64], out: &mut [T]) {
        let mut at = 0usize;
        for c in 0..start.len() {
            let m = count[c];
            if m == 0 {
                continue;
            }
            let n_c = self.rows.count(c);
            let pos = epoch.wrapping_mul(self.per_epoch[c]) + start[c];
            let (mut pass, mut i) = (pos / n_c, pos % n_c);
            let mut perm = Permutation::new(n_c, self.opts.seed, c as u32, pass);
            // Two phases: the permuted positions first, then the gather, so that the gather's
            // cache misses overlap instead of waiting behind the cycle-walking branches.
            let mut tmp = [0u64; 256];
            let mut left = m;
            while left > 0 {
                let len = left.min(256) as usize;
                for slot in tmp[..len].iter_mut() {
                    if i == n_c {
                        (pass, i) = (pass + 1, 0);
                        perm = Permutation::new(n_c, self.opts.seed, c as u32, pass);
                    }
                    *slot = perm.apply(i);
                    i += 1;
                }
                let dst = out[at..at + len].iter_mut().zip(&tmp[..len]);
                let lo = self.rows.offsets[c] as usize;
                match &self.rows.store {
                    RowStore::U32(v) => {
                        let rows = &v[lo..lo + n_c as usize];
                        dst.for_each(|(o, &i)| *o = T::from_row(rows[i as usize] as u64));
                    }
                    RowStore::U64(v) => {
                        let rows = &v[lo..lo + n_c as usize];
                        dst.for_each(|(o, &i)| *o = T::from_row(rows[i as usize]));
                    }
                }
                at += len;
                left -= len as u64;
            }
        }
        // The classes arrive in blocks; shuffle the batch so that the order carries no label.
        let mut s = Stream::new(
            self.opts.seed,
            Purpose::BatchOrder,
            0,
            epoch.wrapping_mul(self.global_batches).wrapping_add(j),
        );
        for i in (1..out.len()).rev() {
            let r = s.below(i as u64 + 1) as usize;
            out.swap(i, r);
        }
    }

    /// This rank's whole epoch at once, in parallel: the indices of all its batches one after
    /// the other, and `len() + 1` offsets (batch `b` is `indices[offsets[b]..offsets[b + 1]]`).
    pub fn epoch_indices<T: IndexOut>(&self, epoch: u64) -> Result<(Vec<T>, Vec<u64>)> {
        let k = self.rows.n_classes();
        let (starts, counts) = self.composition()?;
        let n = self.len() as usize;
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0u64);
        for b in 0..n {
            let size: u64 = counts[b * k..(b + 1) * k].iter().sum();
            offsets.push(offsets[b] + size);
        }
        let mut out = vec![T::default(); offsets[n] as usize];
        let mut slices: Vec<&mut [T]> = Vec::with_capacity(n);
        let mut rest = out.as_mut_slice();
        for b in 0..n {
            let (head, tail) = rest.split_at_mut((offsets[b + 1] - offsets[b]) as usize);
            slices.push(head);
            rest = tail;
        }
        let js: Vec<u64> = self.my_batches().collect();
        slices.into_par_iter().enumerate().for_each(|(b, o)| {
            if crate::cancel::requested() {
                return;
            }
            self.fill(
                epoch,
                js[b],
                &starts[b * k..(b + 1) * k],
                &counts[b * k..(b + 1) * k],
                o,
            )
        });
        crate::cancel::check()?;
        Ok((out, offsets))
    }

    /// A sequential cursor over this rank's batches of an epoch (hand it this plan again at each
    /// step; it holds no borrow, so bindings can keep it beside a shared plan).
    pub fn cursor(&self, epoch: u64) -> Result<EpochCursor> {
        Ok(EpochCursor {
            epoch,
            app: Apportionment::new(&self.weights)?,
            j: self.opts.rank,
        })
    }
}

/// This rank's batches of one epoch, one (or a block) at a time.
#[derive(Clone, Debug)]
pub struct EpochCursor {
    epoch: u64,
    app: Apportionment,
    /// Next global batch of this rank.
    j: u64,
}

impl EpochCursor {
    /// The next up to `max_batches` batches of this rank, filled in parallel, appended to `out`
    /// with their sizes appended to `sizes`. Returns the number of batches (0 at the end).
    pub fn next_block<T: IndexOut>(
        &mut self,
        plan: &BatchPlan,
        max_batches: usize,
        out: &mut Vec<T>,
        sizes: &mut Vec<u64>,
    ) -> Result<usize> {
        let k = plan.rows.n_classes();
        let ws = plan.opts.world_size;
        let mut jobs: Vec<(u64, Vec<u64>, Vec<u64>)> = Vec::new();
        while jobs.len() < max_batches && self.j < plan.global_batches {
            let j = self.j;
            // Step through every boundary (the apportionment depends on its path), including
            // the batches of the other ranks.
            while self.app.drawn() < plan.boundary(j) {
                let next = plan.boundary(self.app.drawn() / plan.opts.batch_size as u64 + 1);
                self.app.advance(next)?;
            }
            let start = self.app.counts().to_vec();
            self.app.advance(plan.boundary(j + 1))?;
            let count: Vec<u64> = self
                .app
                .counts()
                .iter()
                .zip(&start)
                .map(|(a, b)| a - b)
                .collect();
            jobs.push((j, start, count));
            self.j += ws;
        }
        let base = out.len();
        let total: u64 = jobs.iter().map(|(_, _, c)| c.iter().sum::<u64>()).sum();
        out.resize(base + total as usize, T::default());
        let mut slices = Vec::with_capacity(jobs.len());
        let mut rest = &mut out[base..];
        for (_, _, c) in &jobs {
            let size: u64 = c.iter().sum();
            sizes.push(size);
            let (head, tail) = rest.split_at_mut(size as usize);
            slices.push(head);
            rest = tail;
        }
        let epoch = self.epoch;
        slices
            .into_par_iter()
            .zip(jobs.par_iter())
            .for_each(|(o, (j, s, c))| {
                debug_assert_eq!(s.len(), k);
                plan.fill(epoch, *j, s, c, o)
            });
        Ok(jobs.len())
    }
}

#[cfg(test)]
mod tests;
