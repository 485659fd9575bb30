"""How long a long core call takes to stop after Ctrl-C, at sizes the test suite cannot afford.

Each method runs in its own process on two overlapping Gaussian classes (balanced, 30 float32
features: the bounds settle few rows, so the cleaners run their longest stages); SIGINT is sent
``--after`` seconds into the call and the script prints the time from the signal to the
``KeyboardInterrupt``. ``tests/test_interrupts.py`` asserts under a second at small sizes; costs
that grow with the data after the stop was asked for (a setup per group of queries, say) show
only here.

    python benches/interrupt_latency.py --rows 10000000 --after 60 --methods tomek,enn
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, os, signal, sys, threading, time
import numpy as np
from equipoise.under_sampling import EditedNearestNeighbours, TomekLinks
from equipoise.neighbors import NearestNeighbors

method, rows, after = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(0)
y = (rng.random(rows) < 0.5).astype(np.int64)
X = rng.standard_normal((rows, 30), dtype=np.float32)
X += y[:, None].astype(np.float32) * np.float32(0.5)
call = {
    "tomek": lambda: TomekLinks().fit_resample(X, y),
    "enn": lambda: EditedNearestNeighbours().fit_resample(X, y),
    "kneighbors": lambda: NearestNeighbors(n_neighbors=5).fit(X).kneighbors(),
}[method]
sent = {}


def fire():
    sent["t"] = time.perf_counter()
    os.kill(os.getpid(), signal.SIGINT)


threading.Timer(after, fire).start()
t0 = time.perf_counter()
try:
    call()
    print(json.dumps({"method": method, "finished_after": time.perf_counter() - t0}))
except KeyboardInterrupt:
    now = time.perf_counter()
    print(json.dumps({"method": method, "ran": now - t0, "delay": now - sent["t"]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--after", type=float, default=60.0, help="seconds before SIGINT")
    ap.add_argument("--methods", default="tomek,enn,kneighbors")
    args = ap.parse_args()
    for method in args.methods.split(","):
        p = subprocess.run(
            [sys.executable, "-c", CHILD, method, str(args.rows), str(args.after)],
            capture_output=True,
            text=True,
        )
        if p.returncode != 0:
            print(f"{method:>12}: failed: {p.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if "delay" in r:
            ms, ran = r["delay"] * 1000, r["ran"]
            print(f"{method:>12}: stopped {ms:7.1f} ms after SIGINT ({ran:.1f} s in)")
        else:
            print(f"{method:>12}: finished in {r['finished_after']:.1f} s, before the signal")


if __name__ == "__main__":
    main()
