"""Size of a fitted kNN mask dictionary: packed binary targets vs float64.

Fits ``HammingKNNMaskRegressor`` on ``--n-frames`` frames of L-bit codes with
ideal-binary-mask targets of F=513 bins (random codes and masks: the sizes do
not depend on the values) and reports, per frame and in total,

* the arrays the fitted model holds (codes + targets) and its joblib file;
* the same for the previous storage, targets as float64 (the regressor now
  keeps soft targets as given, so float64 soft targets reproduce it);
* the bound of the issue, ``L/8 + ceil(F/8)`` bytes per frame.

It also checks that both give identical float64 predictions on a few queries,
and times them (packed targets are unpacked only for the K neighbours).

Usage::

    python benchmarks/bench_memory.py [--quick] [--n-frames 100000] [--n-bits 64]
"""

import argparse
import os
import tempfile
import time

import joblib
import numpy as np
from _machine import describe

from skblsh import HammingKNNMaskRegressor


def model_bytes(reg):
    return reg.codes_.nbytes + reg._targets.nbytes


def file_bytes(obj, tmp):
    path = os.path.join(tmp, "model.joblib")
    joblib.dump(obj, path)
    size = os.path.getsize(path)
    os.remove(path)
    return size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--n-frames", type=int, default=None)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-bins", type=int, default=513)
    args = parser.parse_args()
    n = args.n_frames or (20_000 if args.quick else 100_000)
    n_bytes, F = (args.n_bits + 7) // 8, args.n_bins
    print(describe())
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    masks = (rng.random((n, F)) < 0.4).astype(np.float32)
    Q = rng.integers(0, 256, (500, n_bytes), dtype=np.uint8)

    packed = HammingKNNMaskRegressor(n_neighbors=10).fit(codes, masks)
    # Soft-looking float64 targets are stored as given: the previous layout.
    soft = masks.astype(np.float64)
    soft[0, 0] = 0.5
    previous = HammingKNNMaskRegressor(n_neighbors=10).fit(codes, soft)
    assert packed.binary_targets_ and not previous.binary_targets_
    previous._targets[0, 0] = 0.0  # same values as the packed model from here
    packed.predict(Q[:1])  # numba compile or cache load, not timed
    t0 = time.perf_counter()
    p_packed = packed.predict(Q)
    t1 = time.perf_counter()
    p_prev = previous.predict(Q)
    t2 = time.perf_counter()
    assert p_packed.dtype == np.float64 and np.array_equal(p_packed, p_prev)

    bound = n_bytes + -(-F // 8)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("packed binary targets", packed, file_bytes(packed, tmp)),
            ("float64 targets (previous)", previous, file_bytes(previous, tmp)),
        ]
    print(f"{n} frames, L={args.n_bits}, F={F}; bound L/8 + ceil(F/8) = {bound} B")
    print(f"{'':<28} {'in memory':>12} {'B/frame':>9} {'on disk':>12} {'B/frame':>9}")
    for name, reg, disk in rows:
        mem = model_bytes(reg)
        print(
            f"{name:<28} {mem / 1e6:>9.2f} MB {mem / n:>9.1f} "
            f"{disk / 1e6:>9.2f} MB {disk / n:>9.1f}"
        )
    ratio = model_bytes(previous) / model_bytes(packed)
    print(
        f"packed / previous: {ratio:.0f}x smaller in memory; predictions identical "
        f"(float64); predict of {len(Q)} queries: packed {1e3 * (t1 - t0):.1f} ms, "
        f"previous {1e3 * (t2 - t1):.1f} ms"
    )


if __name__ == "__main__":
    main()
