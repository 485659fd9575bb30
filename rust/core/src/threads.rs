//! Thread pools sized by the caller (`n_jobs`), safe across `fork`.
//!
//! A rayon pool's threads do not survive `fork()`: a child that touched a pool created by its parent
//! would wait forever for workers that do not exist. Pools are therefore cached per process id; a
//! forked child (DataLoader workers, joblib) builds fresh pools on first use.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::cancel;
use crate::error::{CoreError, Result};

type Pools = HashMap<(u32, usize), Arc<ThreadPool>>;

fn pools() -> &'static Mutex<Pools> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The number of threads used when the caller does not say (`n_jobs=None`): `RAYON_NUM_THREADS`
/// when set to a positive number, else `OMP_NUM_THREADS` (which joblib's workers, and schedulers
/// that split a machine between processes, set to each process's share of the cores, so that
/// equipoise inside a worker does not oversubscribe them), else the cores available to this
/// process (its CPU affinity and cgroup quota). Read at each call, so a change of the
/// environment applies to the next call.
pub fn default_threads() -> usize {
    threads_from_env(
        std::env::var("RAYON_NUM_THREADS").ok().as_deref(),
        std::env::var("OMP_NUM_THREADS").ok().as_deref(),
    )
    .unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

fn threads_from_env(rayon: Option<&str>, omp: Option<&str>) -> Option<usize> {
    let parse = |v: Option<&str>| {
        // OMP_NUM_THREADS may be a list ("4,2": nested levels); the first entry is the outer one.
        v.and_then(|s| s.split(',').next()?.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    };
    parse(rayon).or_else(|| parse(omp))
}

/// The most threads a pool gets: four per available core, at least 64. More threads than that
/// only add contention, and an absurd `n_jobs` (10^6) would otherwise start that many threads and
/// stall the process for minutes.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    cores.saturating_mul(4).max(64)
}

/// The thread count a call gets: `n_threads`, or [`default_threads`] for 0; at most
/// [`max_threads`].
fn resolve(n_threads: usize) -> usize {
    if n_threads == 0 {
        default_threads()
    } else {
        n_threads
    }
    .min(max_threads())
}

fn new_pool(n: usize, flag: Option<&'static AtomicBool>) -> Result<Arc<ThreadPool>> {
    let mut b = ThreadPoolBuilder::new().num_threads(n);
    b = match flag {
        Some(f) => b
            .thread_name(|i| format!("equipoise-i{i}"))
            .start_handler(move |_| cancel::attach(f)),
        None => b.thread_name(|i| format!("equipoise-{i}")),
    };
    b.build()
        .map(Arc::new)
        .map_err(|e| CoreError::InvalidArgument(format!("cannot start {n} threads: {e}")))
}

/// Forget the pools of a parent process (unusable after fork: their threads are gone, so leaking
/// the handles is all that can be done).
fn forget_other_processes<V>(map: &mut HashMap<(u32, usize), V>, pid: u32, leak: impl Fn(&V)) {
    map.retain(|(p, _), v| {
        if *p == pid {
            true
        } else {
            leak(v);
            false
        }
    });
}

/// Run `f` on a pool of `n_threads` threads (0 means [`default_threads`]; at most
/// [`max_threads`]).
pub fn run_with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let n = resolve(n_threads);
    let key = (std::process::id(), n);
    let pool = {
        let mut map = pools().lock().unwrap_or_else(|e| e.into_inner());
        forget_other_processes(&mut map, key.0, |p| std::mem::forget(Arc::clone(p)));
        match map.get(&key) {
            Some(p) => Arc::clone(p),
            None => {
                let p = new_pool(n, None)?;
                map.insert(key, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
}

/// A pool whose threads share a cancellation flag, lent to one call at a time.
struct Interruptible {
    pool: Arc<ThreadPool>,
    flag: &'static AtomicBool,
    busy: &'static AtomicBool,
}

fn interruptible_pools() -> &'static Mutex<HashMap<(u32, usize), Interruptible>> {
    static POOLS: OnceLock<Mutex<HashMap<(u32, usize), Interruptible>>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Gives the pool back (and lowers its flag) when the call ends, a panic included.
struct Lease {
    flag: &'static AtomicBool,
    busy: &'static AtomicBool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.flag.store(false, Ordering::SeqCst);
        self.busy.store(false, Ordering::Release);
    }
}

/// Run `f` as [`run_with_threads`] does, on a pool of its own, while the calling thread calls
/// `stop` every `every`: once `stop` returns true, the work is asked to stop
/// ([`crate::cancel::requested`] turns true on its threads), and this waits for it to return,
/// which the core's long loops do within a few tens of milliseconds (an entry point then returns
/// [`CoreError::Interrupted`]). `stop` is not called again after it returned true. Returns what
/// `f` returned: a call that finished before it saw the request returns its result.
///
/// The pool is lent to one call at a time (its flag belongs to that call); a call made while it
/// is lent (from `stop` itself, e.g. a signal handler that calls back) runs as
/// [`run_with_threads`] runs it, without being interruptible. The bindings use this from the
/// thread that receives signals only, so that other threads' calls share the ordinary pools.
pub fn run_interruptible<R: Send>(
    n_threads: usize,
    f: impl FnOnce() -> R + Send,
    every: Duration,
    mut stop: impl FnMut() -> bool,
) -> Result<R> {
    let n = resolve(n_threads);
    let key = (std::process::id(), n);
    let (pool, lease) = {
        let mut map = interruptible_pools()
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        forget_other_processes(&mut map, key.0, |p| std::mem::forget(Arc::clone(&p.pool)));
        let p = match map.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                // One flag per pool, for the life of the process (a few bytes per thread count).
                let flag: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
                let busy: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
                let pool = new_pool(n, Some(flag))?;
                e.insert(Interruptible { pool, flag, busy })
            }
        };
        if p.busy.swap(true, Ordering::Acquire) {
            drop(map);
            return run_with_threads(n_threads, f);
        }
        p.flag.store(false, Ordering::SeqCst);
        (
            Arc::clone(&p.pool),
            Lease {
                flag: p.flag,
                busy: p.busy,
            },
        )
    };
    let out = pool.in_place_scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<R>(1);
        scope.spawn(move |_| {
            // A panic drops the sender: the wait below ends, and the scope re-raises the panic.
            let _ = tx.send(f());
        });
        let mut stopped = false;
        loop {
            match rx.recv_timeout(every) {
                Ok(r) => return Some(r),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {
                    if !stopped && stop() {
                        lease.flag.store(true, Ordering::SeqCst);
                        stopped = true;
                    }
                }
            }
        }
    });
    drop(lease);
    Ok(out.expect("the work returned or panicked"))
}

#[cfg(test)]
mod tests {
    use super::threads_from_env;

    #[test]
    fn environment_thread_counts() {
        assert_eq!(threads_from_env(Some("3"), Some("2")), Some(3));
        assert_eq!(threads_from_env(None, Some("2")), Some(2));
        assert_eq!(threads_from_env(Some("0"), Some("4,2")), Some(4));
        assert_eq!(threads_from_env(Some("x"), None), None);
        assert_eq!(threads_from_env(None, None), None);
    }
}
