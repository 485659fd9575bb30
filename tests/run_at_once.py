"""Run callables in threads that start together: the concurrency tests' one harness."""

from __future__ import annotations

import threading


def run_at_once(jobs):
    """Call every job in its own thread, all released at once by a barrier; return their results
    in order. A job that raises fails the caller's test with that exception, and a thread still
    running after five minutes fails it as a deadlock."""
    results, errors = {}, []
    barrier = threading.Barrier(len(jobs))

    def run(i, job):
        try:
            barrier.wait(timeout=60)
            results[i] = job()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a call deadlocked"
    assert not errors, errors
    return [results[i] for i in range(len(jobs))]
