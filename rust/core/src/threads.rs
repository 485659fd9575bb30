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

/// The number of threads used when the caller does not say: the cores available to this process.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Run `f` on a pool of `n_threads` threads (0 means [`default_threads`]).
pub fn run_with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let n = if n_threads == 0 {
        default_threads()
    } else {
        n_threads
    };
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
