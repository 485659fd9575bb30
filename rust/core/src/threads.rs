//! Thread pools sized by the caller (`n_jobs`), safe across `fork`.
//!
//! A rayon pool's threads do not survive `fork()`: a child that touched a pool created by its parent
//! would wait forever for workers that do not exist. Pools are therefore cached per process id; a
//! forked child (DataLoader workers, joblib) builds fresh pools on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

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

/// Run `f` on a pool of `n_threads` threads (0 means [`default_threads`]; at most
/// [`max_threads`]).
pub fn run_with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let n = if n_threads == 0 {
        default_threads()
    } else {
        n_threads
    }
    .min(max_threads());
    let key = (std::process::id(), n);
    let pool = {
        let mut map = pools().lock().unwrap_or_else(|e| e.into_inner());
        // Pools of a parent process are unusable after fork; forget them (their threads are gone,
        // so leaking the handles is all that can be done).
        map.retain(|(pid, _), p| {
            if *pid == key.0 {
                true
            } else {
                std::mem::forget(Arc::clone(p));
                false
            }
        });
        match map.get(&key) {
            Some(p) => Arc::clone(p),
            None => {
                let p = Arc::new(
                    ThreadPoolBuilder::new()
                        .num_threads(n)
                        .thread_name(|i| format!("equipoise-{i}"))
                        .build()
                        .map_err(|e| {
                            CoreError::InvalidArgument(format!("cannot start {n} threads: {e}"))
                        })?,
                );
                map.insert(key, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
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
