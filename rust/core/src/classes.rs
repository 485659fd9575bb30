//! Class bookkeeping shared by every sampler: which rows belong to which class code.

use crate::error::{CoreError, Result};
use crate::isa::Isa;

/// Row indices of each class, in row order: `rows[c]` lists the rows whose code is `c`. A code
/// `>= n_classes` is an error.
pub fn class_rows(codes: &[u32], n_classes: usize) -> Result<Vec<Vec<usize>>> {
    let mut counts = vec![0usize; n_classes];
    for &c in codes {
        let c = c as usize;
        if c >= n_classes {
            return Err(CoreError::InvalidArgument(format!(
                "class code {c} is out of range for {n_classes} classes"
            )));
        }
        counts[c] += 1;
    }
    let mut rows: Vec<Vec<usize>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (i, &c) in codes.iter().enumerate() {
        rows[c as usize].push(i);
    }
    Ok(rows)
}

/// Labels or codes a parallel pass over labels takes at a time.
const BLOCK: usize = 1 << 16;

/// [`class_rows`] for the classes with `wanted[c]` only (the others get an empty list), in one
/// parallel pass over `codes`; every code is still checked against `n_classes`. For a sampler that
/// grows a few small classes of a large input, whose largest class's rows it never reads.
pub fn class_rows_of(codes: &[u32], n_classes: usize, wanted: &[bool]) -> Result<Vec<Vec<usize>>> {
    use rayon::prelude::*;
    let slots: Vec<usize> = wanted
        .iter()
        .enumerate()
        .filter(|(_, &w)| w)
        .map(|(c, _)| c)
        .collect();
    // Per-block lists cost one Vec per wanted class and block: many wanted classes go serially.
    if slots.len() > 64 || codes.len() <= BLOCK {
        let mut rows = class_rows(codes, n_classes)?;
        for (c, r) in rows.iter_mut().enumerate() {
            if !wanted.get(c).copied().unwrap_or(false) {
                *r = Vec::new();
            }
        }
        return Ok(rows);
    }
    // One class wanted (binary data), or all but one (a sampler growing every class but the
    // largest): one code to compare with, 64 codes a step (`n_classes` as a `u32` bound).
    if (slots.len() == 1 || slots.len() + 1 == n_classes) && n_classes <= u32::MAX as usize {
        let (code, keep) = match slots.as_slice() {
            [c] => (*c as u32, true),
            _ => (
                (0..n_classes)
                    .find(|c| !slots.contains(c))
                    .expect("one class unwanted") as u32,
                false,
            ),
        };
        let isa = Isa::detect();
        let one = OneCode {
            code,
            keep,
            n_classes: n_classes as u32,
        };
        let parts: Vec<Result<Vec<usize>>> = codes
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(b, chunk)| {
                let mut rows = Vec::new();
                if !rows_by_one_code(isa, chunk, b * BLOCK, one, &mut rows) {
                    let c = chunk
                        .iter()
                        .find(|&&c| c as usize >= n_classes)
                        .expect("a bad code");
                    return Err(CoreError::InvalidArgument(format!(
                        "class code {c} is out of range for {n_classes} classes"
                    )));
                }
                Ok(rows)
            })
            .collect();
        let mut rows = vec![Vec::new(); n_classes];
        let mut mine: Vec<usize> = Vec::new();
        for part in parts {
            mine.extend_from_slice(&part?);
        }
        if keep {
            rows[code as usize] = mine;
        } else {
            // Every wanted class's rows, split by code in row order.
            let mut counts = vec![0usize; n_classes];
            for &r in &mine {
                counts[codes[r] as usize] += 1;
            }
            for (c, r) in rows.iter_mut().enumerate() {
                r.reserve_exact(counts[c]);
            }
            for &r in &mine {
                rows[codes[r] as usize].push(r);
            }
        }
        return Ok(rows);
    }
    let mut slot_of = vec![usize::MAX; n_classes];
    for (s, &c) in slots.iter().enumerate() {
        slot_of[c] = s;
    }
    let parts: Vec<Result<Vec<Vec<usize>>>> = codes
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(b, chunk)| {
            let mut rows = vec![Vec::new(); slots.len()];
            for (i, &c) in chunk.iter().enumerate() {
                let c = c as usize;
                if c >= n_classes {
                    return Err(CoreError::InvalidArgument(format!(
                        "class code {c} is out of range for {n_classes} classes"
                    )));
                }
                let s = slot_of[c];
                if s != usize::MAX {
                    rows[s].push(b * BLOCK + i);
                }
            }
            Ok(rows)
        })
        .collect();
    let mut rows = vec![Vec::new(); n_classes];
    for part in parts {
        for (s, r) in part?.into_iter().enumerate() {
            rows[slots[s]].extend_from_slice(&r);
        }
    }
    Ok(rows)
}

/// What [`rows_by_one_code`] looks for: rows whose code is `code` (`keep`) or is not (`!keep`),
/// every code checked to be below `n_classes`.
#[derive(Clone, Copy)]
struct OneCode {
    code: u32,
    keep: bool,
    n_classes: u32,
}

/// The rows (from `row0`) of `chunk` that `one` looks for, pushed to `rows` in order; false (and
/// `rows` unspecified) when a code is `>= one.n_classes`. Each 64 codes become a bit mask by a
/// vector compare (and their largest a vector max), so that the rows of a small class cost a
/// step per 64 codes, not a branch per code: 1.3 ms of a 1M-row SMOTE on one core before.
fn rows_by_one_code(
    isa: Isa,
    chunk: &[u32],
    row0: usize,
    one: OneCode,
    rows: &mut Vec<usize>,
) -> bool {
    #[inline(always)]
    fn body(chunk: &[u32], row0: usize, one: OneCode, rows: &mut Vec<usize>) -> bool {
        let OneCode {
            code,
            keep,
            n_classes,
        } = one;
        let flip = if keep { 0 } else { u64::MAX };
        let mut it = chunk.chunks_exact(64);
        let mut base = row0;
        let mut hi = 0u32;
        for c in &mut it {
            let mut bits = 0u64;
            for (i, &v) in c.iter().enumerate() {
                bits |= ((v == code) as u64) << i;
                hi = hi.max(v);
            }
            bits ^= flip;
            while bits != 0 {
                rows.push(base + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
            base += 64;
        }
        for (i, &v) in it.remainder().iter().enumerate() {
            hi = hi.max(v);
            if (v == code) == keep {
                rows.push(base + i);
            }
        }
        hi < n_classes
    }
    match isa {
        Isa::Baseline => body(chunk, row0, one, rows),
        // SAFETY (both): the `Isa` came from `Isa::detect`, which found the instruction sets the
        // functions enable.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(c: &[u32], r: usize, one: OneCode, rows: &mut Vec<usize>) -> bool {
                body(c, r, one, rows)
            }
            unsafe { avx2(chunk, row0, one, rows) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            #[target_feature(enable = "avx512f,avx2")]
            unsafe fn avx512(c: &[u32], r: usize, one: OneCode, rows: &mut Vec<usize>) -> bool {
                body(c, r, one, rows)
            }
            unsafe { avx512(chunk, row0, one, rows) }
        }
    }
}

/// Integer labels as dense class codes: the distinct values (offsets from the smallest, `lo`),
/// ascending as `np.unique` sorts them, and how many labels hold each.
#[derive(Debug, PartialEq, Eq)]
pub struct DenseLabels {
    pub lo: i128,
    pub offsets: Vec<u64>,
    pub counts: Vec<usize>,
}

/// An integer label type: ordered, with its value as `i128` and as 64 bits whose wrapping
/// difference is the difference of two values (sign-extended for the signed types).
pub trait Label: Copy + Ord + Send + Sync {
    fn wide(self) -> i128;
    fn bits(self) -> u64;
}

macro_rules! label {
    ($($t:ty => $via:ty),*) => {
        $(impl Label for $t {
            #[inline(always)]
            fn wide(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn bits(self) -> u64 {
                self as $via as u64
            }
        })*
    };
}
label!(i8 => i64, i16 => i64, i32 => i64, i64 => i64, u8 => u64, u16 => u64, u32 => u64, u64 => u64);

// The per-block passes of `dense_label_codes`, compiled for each instruction set
// (`crate::isa`): baseline x86_64 (SSE2) has no 64-bit integer compare or narrowing, and on 1M
// `int64` labels the bounds and the slots took 1.1-2.1 ms of the call, 0.36-0.39 ms with AVX-512.

/// The smallest and largest label of a block (not empty).
fn block_bounds<T: Label>(isa: Isa, c: &[T]) -> (T, T) {
    #[inline(always)]
    fn body<T: Label>(c: &[T]) -> (T, T) {
        let lo = c.iter().copied().min().expect("blocks are not empty");
        let hi = c.iter().copied().max().expect("blocks are not empty");
        (lo, hi)
    }
    match isa {
        Isa::Baseline => body(c),
        // SAFETY (both): the `Isa` came from `Isa::detect` (or `Isa::supported`, in the tests),
        // which found the instruction sets the functions enable.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<T: Label>(c: &[T]) -> (T, T) {
                body(c)
            }
            unsafe { avx2(c) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            #[target_feature(enable = "avx512f,avx2")]
            unsafe fn avx512<T: Label>(c: &[T]) -> (T, T) {
                body(c)
            }
            unsafe { avx512(c) }
        }
    }
}

/// Each label's slot (its offset from the label whose bits are `base`) into `out`.
fn block_slots<T: Label>(isa: Isa, c: &[T], base: u64, out: &mut [u32]) {
    #[inline(always)]
    fn body<T: Label>(c: &[T], base: u64, out: &mut [u32]) {
        for (o, &v) in out.iter_mut().zip(c) {
            *o = v.bits().wrapping_sub(base) as u32;
        }
    }
    match isa {
        Isa::Baseline => body(c, base, out),
        // SAFETY (both): the `Isa` came from `Isa::detect` (or `Isa::supported`, in the tests),
        // which found the instruction sets the functions enable.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<T: Label>(c: &[T], base: u64, out: &mut [u32]) {
                body(c, base, out)
            }
            unsafe { avx2(c, base, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            #[target_feature(enable = "avx512f,avx2")]
            unsafe fn avx512<T: Label>(c: &[T], base: u64, out: &mut [u32]) {
                body(c, base, out)
            }
            unsafe { avx512(c, base, out) }
        }
    }
}

/// [`DenseLabels`] of `y`, each label's code (the rank of its value among the distinct values)
/// written to `codes`, in parallel passes over blocks of `y`; `None` (and `codes` untouched) when
/// the values span more than `max_span` (a table of that many slots maps values to codes).
pub fn dense_label_codes<T: Label>(
    y: &[T],
    max_span: u64,
    codes: &mut [u32],
) -> Result<Option<DenseLabels>> {
    use rayon::prelude::*;
    // Counting per block needs tables per block: a wide span is counted serially.
    const PARALLEL_SPAN: usize = 1 << 12;
    // Spans counted slot by slot from a block's codes.
    const FEW_SLOTS: usize = 8;
    if codes.len() != y.len() {
        return Err(CoreError::Shape(format!(
            "{} codes for {} labels",
            codes.len(),
            y.len()
        )));
    }
    let isa = Isa::detect();
    let Some((lo, hi)) = y
        .par_chunks(BLOCK)
        .map(|c| block_bounds(isa, c))
        .reduce_with(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    else {
        return Ok(Some(DenseLabels {
            lo: 0,
            offsets: Vec::new(),
            counts: Vec::new(),
        }));
    };
    if hi.wide() - lo.wide() >= i128::from(max_span) {
        return Ok(None);
    }
    let span = (hi.wide() - lo.wide() + 1) as usize;
    let base = lo.bits();
    let slot = move |v: T| v.bits().wrapping_sub(base) as usize;
    // Four interleaved tables for a small span: a run of equal labels (a class after another)
    // would otherwise wait on one counter's previous increment at every label. A wide span
    // (counted serially, below) keeps one table, four of which would be up to 32 MiB to zero.
    let lanes = if span <= PARALLEL_SPAN { 4 } else { 1 };
    let count = |c: &[T]| {
        let mut t = vec![0usize; lanes * span];
        let mut groups = c.chunks_exact(lanes);
        for q in &mut groups {
            for (l, &v) in q.iter().enumerate() {
                t[l * span + slot(v)] += 1;
            }
        }
        for &v in groups.remainder() {
            t[slot(v)] += 1;
        }
        let (first, rest) = t.split_at_mut(span);
        for part in rest.chunks_exact(span) {
            first.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        }
        t.truncate(span);
        t
    };
    let add = |mut a: Vec<usize>, b: Vec<usize>| {
        a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
        a
    };
    // A small span is counted in parallel blocks, each block also writing its labels' slots as
    // codes while it is in cache: when every value of the span occurs (labels 0..C-1, the usual
    // case), a slot is the code and `y` is read once more only for the bounds.
    let parallel = span <= PARALLEL_SPAN && y.len() > BLOCK;
    let table = if parallel {
        codes
            .par_chunks_mut(BLOCK)
            .zip(y.par_chunks(BLOCK))
            .map(|(out, c)| {
                block_slots(isa, c, base, out);
                if span > FEW_SLOTS {
                    return count(c);
                }
                // A pass over the block's slots per slot, compared 16 at a time, beats the
                // tables' one increment a label for a few classes.
                (0..span as u32)
                    .map(|s| out.iter().map(|&o| u32::from(o == s)).sum::<u32>() as usize)
                    .collect()
            })
            .reduce_with(add)
            .expect("y is not empty")
    } else {
        count(y)
    };
    let mut lut = vec![0u32; span];
    let (mut offsets, mut counts) = (Vec::new(), Vec::new());
    for (o, &n) in table.iter().enumerate() {
        if n > 0 {
            lut[o] = offsets.len() as u32;
            offsets.push(o as u64);
            counts.push(n);
        }
    }
    if !parallel {
        codes
            .par_chunks_mut(BLOCK)
            .zip(y.par_chunks(BLOCK))
            .for_each(|(out, c)| {
                for (o, &v) in out.iter_mut().zip(c) {
                    *o = lut[slot(v)];
                }
            });
    } else if offsets.len() < span {
        // Some value of the span does not occur: slots to ranks.
        codes.par_chunks_mut(BLOCK).for_each(|out| {
            for o in out.iter_mut() {
                *o = lut[*o as usize];
            }
        });
    }
    Ok(Some(DenseLabels {
        lo: lo.wide(),
        offsets,
        counts,
    }))
}

/// `y` followed by `n` copies of each `(value, n)` of `fill`, in order, written into `out` (of
/// length `y.len()` plus the copies) in parallel blocks: an over-sampler's output labels.
pub fn grown_labels<T: Copy + Send + Sync>(
    y: &[T],
    fill: &[(T, usize)],
    out: &mut [T],
) -> Result<()> {
    use rayon::prelude::*;
    let total = y.len() + fill.iter().map(|&(_, n)| n).sum::<usize>();
    if out.len() != total {
        return Err(CoreError::Shape(format!(
            "{} output labels for {total}",
            out.len()
        )));
    }
    let (head, mut rest) = out.split_at_mut(y.len());
    let mut parts: Vec<(&mut [T], Option<T>)> = head.chunks_mut(BLOCK).map(|c| (c, None)).collect();
    for &(v, n) in fill {
        let (mine, r) = rest.split_at_mut(n);
        rest = r;
        parts.extend(mine.chunks_mut(BLOCK).map(|c| (c, Some(v))));
    }
    parts
        .into_par_iter()
        .enumerate()
        .for_each(|(i, (c, v))| match v {
            Some(v) => c.fill(v),
            None => c.copy_from_slice(&y[i * BLOCK..i * BLOCK + c.len()]),
        });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_class_in_row_order() {
        assert_eq!(
            class_rows(&[1, 0, 1, 2], 3).unwrap(),
            vec![vec![1], vec![0, 2], vec![3]]
        );
        assert_eq!(class_rows(&[0, 0], 2).unwrap(), vec![vec![0, 1], vec![]]);
        assert!(class_rows(&[0, 3], 3).is_err());
    }

    #[test]
    fn rows_of_wanted_classes_match_class_rows() {
        // Large enough for the parallel path, with a bad code late in the codes.
        let codes: Vec<u32> = (0..300_000u32).map(|i| (i * 7 + i / 13) % 4).collect();
        let all = class_rows(&codes, 4).unwrap();
        let got = class_rows_of(&codes, 4, &[false, true, false, true]).unwrap();
        assert_eq!(got, vec![vec![], all[1].clone(), vec![], all[3].clone()]);
        let mut bad = codes.clone();
        bad[200_000] = 9;
        bad[250_000] = 5;
        assert_eq!(
            class_rows_of(&bad, 4, &[false, true, false, false]),
            Err(CoreError::InvalidArgument(
                "class code 9 is out of range for 4 classes".into()
            ))
        );
    }

    #[test]
    fn rows_of_one_code_on_every_instruction_set() {
        // Runs of each code, so that 64-code steps hold none, some and all of a class.
        let codes: Vec<u32> = (0..200_003u32).map(|i| (i / 37 + i / 1000) % 3).collect();
        let all = class_rows(&codes, 3).unwrap();
        for isa in Isa::supported() {
            for code in 0..3u32 {
                for (keep, row0) in [(true, 0), (false, 5)] {
                    let mut got = Vec::new();
                    let one = OneCode {
                        code,
                        keep,
                        n_classes: 3,
                    };
                    assert!(rows_by_one_code(isa, &codes, row0, one, &mut got));
                    let want: Vec<usize> = (0..codes.len())
                        .filter(|&i| (codes[i] == code) == keep)
                        .map(|i| i + row0)
                        .collect();
                    assert_eq!(got, want, "{isa:?} code {code} keep {keep}");
                }
            }
            let of_1 = |keep| OneCode {
                code: 1,
                keep,
                n_classes: 3,
            };
            let mut bad = codes.clone();
            bad[129] = 3;
            assert!(!rows_by_one_code(isa, &bad, 0, of_1(true), &mut Vec::new()));
            let mut bad = codes.clone();
            bad[200_002] = 7; // in the remainder past the last 64 codes
            assert!(!rows_by_one_code(
                isa,
                &bad,
                0,
                of_1(false),
                &mut Vec::new()
            ));
        }
        // Through `class_rows_of`: one class wanted, and all but one.
        assert_eq!(
            class_rows_of(&codes, 3, &[false, true, false]).unwrap(),
            vec![vec![], all[1].clone(), vec![]]
        );
        assert_eq!(
            class_rows_of(&codes, 3, &[true, false, true]).unwrap(),
            vec![all[0].clone(), vec![], all[2].clone()]
        );
        let mut bad = codes.clone();
        bad[150_000] = 4;
        assert_eq!(
            class_rows_of(&bad, 3, &[true, false, true]),
            Err(CoreError::InvalidArgument(
                "class code 4 is out of range for 3 classes".into()
            ))
        );
    }

    #[test]
    fn grown_labels_are_y_then_each_class_repeated() {
        let y: Vec<i32> = (0..150_001).map(|i| i % 3).collect();
        let fill = [(7, 70_000), (0, 0), (-2, 3)];
        let mut out = vec![99; y.len() + 70_003];
        grown_labels(&y, &fill, &mut out).unwrap();
        let mut want = y.clone();
        want.extend(std::iter::repeat_n(7, 70_000));
        want.extend([-2, -2, -2]);
        assert_eq!(out, want);
        assert!(grown_labels(&y, &fill, &mut out[1..]).is_err());
    }

    #[test]
    fn every_instruction_set_gives_the_same_bounds_and_slots() {
        fn check<T: Label + std::fmt::Debug>(y: &[T]) {
            // An independent reference: a plain fold, and the slots by `wide`.
            let lo = y.iter().copied().fold(y[0], std::cmp::min);
            let hi = y.iter().copied().fold(y[0], std::cmp::max);
            let base = lo.bits();
            let want: Vec<u32> = y.iter().map(|v| (v.wide() - lo.wide()) as u32).collect();
            for isa in Isa::supported() {
                assert_eq!(block_bounds(isa, y), (lo, hi));
                let mut got = vec![7u32; y.len()];
                block_slots(isa, y, base, &mut got);
                assert_eq!(got, want);
            }
        }
        // Lengths that are no multiple of a vector, each type's extremes among other values.
        for n in [1usize, 3, 17, 1001] {
            let pick = |i: usize| (i * 7919 % 1000) as i64 - 500;
            let v64: Vec<i64> = (0..n)
                .map(|i| match i % 5 {
                    1 => i64::MIN + 3,
                    3 => i64::MAX,
                    _ => pick(i),
                })
                .collect();
            check(&v64);
            check(&v64.iter().map(|&v| v as u64).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as i32).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as u32).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as i16).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as u16).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as i8).collect::<Vec<_>>());
            check(&v64.iter().map(|&v| v as u8).collect::<Vec<_>>());
        }
    }

    #[test]
    fn dense_codes_rank_values_as_np_unique() {
        // Large enough for the parallel passes; negative values, gaps, every code checked.
        let y: Vec<i64> = (0..200_003i64).map(|i| (i * 7919) % 11 * 3 - 12).collect();
        let mut codes = vec![u32::MAX; y.len()];
        let d = dense_label_codes(&y, 1 << 20, &mut codes).unwrap().unwrap();
        let mut values: Vec<i64> = y.clone();
        values.sort_unstable();
        values.dedup();
        assert_eq!(d.lo, -12);
        let got: Vec<i64> = d
            .offsets
            .iter()
            .map(|&o| (d.lo + o as i128) as i64)
            .collect();
        assert_eq!(got, values);
        for (i, &v) in y.iter().enumerate() {
            let rank = values.binary_search(&v).unwrap();
            assert_eq!(codes[i] as usize, rank, "label {i}");
        }
        let total: usize = d.counts.iter().sum();
        assert_eq!(total, y.len());
        for (c, &n) in d.counts.iter().enumerate() {
            assert_eq!(n, y.iter().filter(|&&v| v == values[c]).count());
        }
        // Every value of the span present (the codes are the slots, no remap), in parallel
        // blocks, one class only in the last block.
        let mut y: Vec<i8> = (0..200_000).map(|i| (i % 4) as i8 - 1).collect();
        y[199_999] = 3;
        let mut codes = vec![u32::MAX; y.len()];
        let d = dense_label_codes(&y, 1 << 20, &mut codes).unwrap().unwrap();
        assert_eq!((d.lo, d.offsets.clone()), (-1, vec![0, 1, 2, 3, 4]));
        assert_eq!(d.counts, vec![50_000, 50_000, 50_000, 49_999, 1]);
        assert!(y
            .iter()
            .zip(&codes)
            .all(|(&v, &c)| c as i64 == i64::from(v) + 1));
        // A wide span (serial count) and one past the table's limit.
        let y = [u64::MAX, 3, u64::MAX - 5000, 3];
        let mut codes = [9u32; 4];
        assert_eq!(dense_label_codes(&y, 1 << 20, &mut codes).unwrap(), None);
        assert_eq!(codes, [9; 4]);
        let y = [u64::MAX, u64::MAX - 5000, u64::MAX];
        let mut codes = [9u32; 3];
        let d = dense_label_codes(&y, 1 << 20, &mut codes).unwrap().unwrap();
        assert_eq!(d.offsets, vec![0, 5000]);
        assert_eq!(d.counts, vec![1, 2]);
        assert_eq!(codes, [1, 0, 1]);
        assert!(dense_label_codes(&y, 1 << 20, &mut [0u32; 2]).is_err());
    }
}
