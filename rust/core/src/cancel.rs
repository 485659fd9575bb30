//! Cancellation of long calls (Ctrl-C in Python).
//!
//! A call run by [`crate::threads::run_interruptible`] runs on a thread pool of its own whose
//! threads share one flag; its caller polls for a reason to stop (the bindings: a pending signal)
//! while the work runs, and sets the flag when there is one. The long loops of the core (the exact
//! search's tiles, the KD-tree and HNSW builds and searches, SMOTE's generation, the batch plans)
//! call [`requested`] between chunks of work of at most a few tens of milliseconds and skip what
//! is left, and the entry points then return [`CoreError::Interrupted`] ([`check`]): partial
//! results are dropped, never returned.
//!
//! Code running anywhere else (another pool, a plain thread, a test) has no flag: [`requested`]
//! is always false there, so a call from a thread that cannot receive signals just runs.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{CoreError, Result};

thread_local! {
    /// The flag of the pool this thread belongs to (None outside an interruptible pool).
    static FLAG: Cell<Option<&'static AtomicBool>> = const { Cell::new(None) };
}

/// Make `flag` the cancellation flag of the current thread (a pool's start handler calls it).
pub(crate) fn attach(flag: &'static AtomicBool) {
    FLAG.with(|f| f.set(Some(flag)));
}

/// Whether the call this thread works for has been asked to stop. Cheap (a thread-local read and
/// a relaxed load): long loops call it between chunks of work.
#[inline]
pub fn requested() -> bool {
    FLAG.with(|f| f.get().is_some_and(|a| a.load(Ordering::Relaxed)))
}

/// `Err(CoreError::Interrupted)` when the call has been asked to stop: what an entry point
/// returns after a loop that skipped work because of [`requested`].
#[inline]
pub fn check() -> Result<()> {
    if requested() {
        Err(CoreError::Interrupted)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use ndarray::Array2;

    use crate::error::CoreError;
    use crate::neighbors::{BruteForce, HnswParams, KnnIndex};
    use crate::rng::{Purpose, Stream};
    use crate::threads::{run_interruptible, run_with_threads};

    fn data(n: usize, d: usize) -> Array2<f32> {
        let mut s = Stream::new(3, Purpose::Smote, 0, 0);
        Array2::from_shape_fn((n, d), |_| s.normal() as f32)
    }

    /// The interruptible pool of a thread count is lent to one call at a time; a call made while
    /// it is lent just runs (uninterruptible). Tests that expect to interrupt take turns.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops `after` the start: what the bindings' signal check does on Ctrl-C.
    fn stop_after(after: Duration) -> impl FnMut() -> bool {
        let start = Instant::now();
        move || start.elapsed() >= after
    }

    #[test]
    fn a_raised_flag_stops_a_long_search() {
        let _turn = turn();
        // High-dimensional noise: the tile bounds prune little, so the full self-search takes
        // about 5 s on 2 cores; it must end soon after the flag is raised.
        let x = data(60_000, 64);
        let start = Instant::now();
        let out = run_interruptible(
            2,
            || BruteForce::new(x.view()).query_self(5),
            Duration::from_millis(10),
            stop_after(Duration::from_millis(100)),
        )
        .unwrap();
        let took = start.elapsed();
        assert_eq!(out.unwrap_err(), CoreError::Interrupted);
        assert!(took < Duration::from_millis(1500), "stopped after {took:?}");

        // The same pool then answers the next call in full, as a fresh pool does.
        let small = x.slice(ndarray::s![..2000, ..8]).to_owned();
        let again = run_interruptible(
            2,
            || BruteForce::new(small.view()).query_self(3),
            Duration::from_millis(10),
            || false,
        )
        .unwrap()
        .unwrap();
        let plain = run_with_threads(2, || BruteForce::new(small.view()).query_self(3))
            .unwrap()
            .unwrap();
        assert_eq!(again, plain);
    }

    #[test]
    fn a_raised_flag_stops_an_hnsw_build_and_nothing_else() {
        let _turn = turn();
        // About 6 s on 2 cores when not stopped.
        let x = data(30_000, 32);
        let start = Instant::now();
        let out = run_interruptible(
            2,
            || crate::neighbors::Hnsw::new(x.view(), &HnswParams::default()).map(|_| ()),
            Duration::from_millis(10),
            stop_after(Duration::from_millis(100)),
        )
        .unwrap();
        assert_eq!(out.unwrap_err(), CoreError::Interrupted);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1500), "stopped after {took:?}");
        // Outside an interruptible pool nothing is ever stopped.
        assert!(!super::requested());
        assert!(run_with_threads(2, super::requested).map(|r| !r).unwrap());
    }

    #[test]
    fn a_call_that_finishes_first_keeps_its_result() {
        let _turn = turn();
        let x = data(500, 4);
        let got = run_interruptible(
            1,
            || BruteForce::new(x.view()).query_self(2),
            Duration::from_millis(1),
            || true,
        )
        .unwrap();
        // Either answer is allowed for a request that came while it ran; an answer is whole.
        match got {
            Ok(nb) => assert_eq!(nb, BruteForce::new(x.view()).query_self(2).unwrap()),
            Err(e) => assert_eq!(e, CoreError::Interrupted),
        }
    }
}
