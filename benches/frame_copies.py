"""What crossing into the core costs for each kind of frame: the copies of the numeric columns made
before the core reads them, and the time of SMOTE on the frame against the numpy array.

    python benches/frame_copies.py [n_rows]

A pandas frame built from one float block is read in place (its block is the column-major matrix
the core takes); a polars frame is gathered column by column into one column-major block (polars
keeps each column in its own buffer); an Arrow table likewise. No row-major (transposed) copy is
made on the way in; SMOTE on a frame then makes only its new rows.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from equipoise import _frames
from equipoise.datasets import make_fraud as fraud
from equipoise.over_sampling import SMOTE


def main(n_rows: int = 1_000_000):
    X, y = fraud(n_rows, dtype=np.float64)
    names = [f"f{j}" for j in range(X.shape[1])]
    frames = {
        "numpy": X,
        "pandas": pd.DataFrame(np.asfortranarray(X), columns=names, copy=False),
        "polars": pl.from_numpy(X, schema=names),
        "arrow": pa.Table.from_arrays([pa.array(X[:, j]) for j in range(X.shape[1])], names=names),
    }
    mib = X.nbytes / (1 << 20)
    print(f"SMOTE on {n_rows:,} rows x {X.shape[1]} float64 columns ({mib:.0f} MiB of features)")
    base = None
    for kind, data in frames.items():
        SMOTE(random_state=0).fit_resample(data, y)  # warm up
        with _frames.recording_copies() as log:
            t0 = time.perf_counter()
            SMOTE(random_state=0).fit_resample(data, y)
            dt = time.perf_counter() - t0
        base = base or dt
        copies = [f"{kind_}: {len(cols)} columns" for cols, kind_ in log]
        print(
            f"  {kind:<7} {dt:6.3f} s ({dt / base:4.2f}x numpy);"
            f" copies before the core: {copies or 'none (read in place)'}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
