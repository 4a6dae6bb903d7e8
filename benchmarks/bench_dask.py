"""skblsh.dask against the local estimators, same data, same run.

N random packed codes (default 2M, L=64) are generated *on the workers* of a
``distributed.LocalCluster`` (processes, one thread each) as a dask array of
``--n-shards`` row chunks; the local reference gets the same codes gathered
to this process. Timed, best of ``--repeat`` interleaved runs:

* fit: ``skblsh.dask`` builds one index per chunk on its worker; the local
  estimator indexes the gathered array;
* ``kneighbors`` on numpy queries (answered to this process) and on a dask
  array of queries (results computed, i.e. gathered, too);
* ``predict`` of ``HammingKNeighborsRegressor`` with binary targets
  (``--n-outputs`` bits per code, stored packed).

Every dask answer is checked equal to the local one (predictions bit for
bit). The ratios are local time / dask time (above 1: dask faster). Memory
is each process's resident set size after fitting, beside the bytes its
shards hold.

Usage::

    python benchmarks/bench_dask.py [--quick] [--n 2000000] [--n-workers 2]
"""

import argparse
import os
import time

import dask
import dask.array as da
import numpy as np
from _machine import describe
from distributed import Client, LocalCluster, futures_of

from skblsh import HammingKNeighborsRegressor as LocalRegressor
from skblsh import HammingNearestNeighbors as LocalNN
from skblsh.dask import HammingKNeighborsRegressor, HammingNearestNeighbors


def best(fn, repeat):
    """(best wall seconds, last result) over ``repeat`` calls."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def warm_up(n_bytes):
    """Compile (or load) the numba kernels in a process, outside the timings."""
    tiny = np.zeros((2, n_bytes), np.uint8)
    LocalNN(n_neighbors=1).fit(tiny).kneighbors(tiny)


def rss_mb():
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=200k, fewer runs")
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-shards", type=int, default=4)
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--n-queries", type=int, default=2000)
    parser.add_argument("--n-outputs", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.n, args.n_queries, args.repeat = 200_000, 500, 2
    n_bytes = -(-args.n_bits // 8)
    k = args.k

    cluster = LocalCluster(
        n_workers=args.n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    client = Client(cluster)
    print(describe(n_jobs=1))
    print(
        f"N={args.n} codes of L={args.n_bits} bits in {args.n_shards} shards on "
        f"{args.n_workers} worker processes x 1 thread; {args.n_queries} queries, "
        f"k={k}; best of {args.repeat}; ratio = local / dask"
    )

    rng = da.random.default_rng(0)
    chunk = -(-args.n // args.n_shards)
    X = rng.integers(0, 256, (args.n, n_bytes), dtype=np.uint8, chunks=(chunk, -1))
    padding = np.full(n_bytes, 255, dtype=np.uint8)
    if args.n_bits % 8:
        padding[-1] = (1 << (args.n_bits % 8)) - 1  # padding bits are zero
    X = X & padding
    n_packed = -(-args.n_outputs // 8)
    Y = rng.integers(0, 256, (args.n, n_packed), dtype=np.uint8, chunks=(chunk, -1))
    X, Y = dask.persist(X, Y)
    y = Y.map_blocks(
        lambda b: np.unpackbits(b, axis=1, count=args.n_outputs, bitorder="little"),
        chunks=(Y.chunks[0], (args.n_outputs,)),
        dtype=np.uint8,
    ).persist()
    codes, targets = dask.compute(X, y)
    Q = np.random.default_rng(1).integers(
        0, 256, (args.n_queries, n_bytes), dtype=np.uint8
    )
    Q[:, -1] &= codes[:, -1].max()
    Qd = da.from_array(Q, chunks=(max(1, args.n_queries // 4), -1))

    # Warm-up: numba kernels compiled or loaded in every process.
    warm_up(n_bytes)
    client.run(warm_up, n_bytes)

    rows = []
    t_loc, local = best(lambda: LocalNN(n_neighbors=k).fit(codes), args.repeat)
    t_dsk, nn = best(lambda: HammingNearestNeighbors(n_neighbors=k).fit(X), args.repeat)
    rows.append(("fit HammingNearestNeighbors", t_loc, t_dsk, True))

    t_loc, want = best(lambda: local.kneighbors(Q), args.repeat)
    t_dsk, got = best(lambda: nn.kneighbors(Q), args.repeat)
    same = all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))
    rows.append(("kneighbors, numpy queries", t_loc, t_dsk, same))
    t_dsk, got = best(lambda: dask.compute(*nn.kneighbors(Qd)), args.repeat)
    same = all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))
    rows.append(("kneighbors, dask queries", t_loc, t_dsk, same))
    local2 = LocalNN(n_neighbors=k, n_jobs=args.n_workers).fit(codes)
    t_loc2, _ = best(lambda: local2.kneighbors(Q), args.repeat)
    rows.append((f"  (local n_jobs={args.n_workers} vs dask)", t_loc2, t_dsk, True))

    t_loc, lreg = best(lambda: LocalRegressor(n_neighbors=k).fit(codes, targets), 1)
    t_dsk, reg = best(lambda: HammingKNeighborsRegressor(n_neighbors=k).fit(X, y), 1)
    rows.append(("fit HammingKNeighborsRegressor", t_loc, t_dsk, reg.binary_targets_))
    t_loc, want = best(lambda: lreg.predict(Q), args.repeat)
    t_dsk, got = best(lambda: reg.predict(Q), args.repeat)
    rows.append(
        ("predict, numpy queries", t_loc, t_dsk, got.tobytes() == want.tobytes())
    )

    print(f"{'':34} {'local s':>8} {'dask s':>8} {'ratio':>7}  equal")
    for name, a, b, same in rows:
        print(f"{name:34} {a:8.3f} {b:8.3f} {a / b:7.2f}  {same}")

    # Memory: what each worker holds against the shards' own bytes.
    shard_bytes = {}
    for est in (nn, reg):
        who = client.who_has(futures_of(est._shards))
        keys = [f.key for f in futures_of(est._shards)]
        sizes = dict(zip(keys, est.shard_sizes_, strict=True))
        for key, holders in who.items():
            for w in holders:
                shard_bytes[w] = shard_bytes.get(w, 0) + int(sizes[key]) * (
                    n_bytes + (n_packed if est is reg else 0)
                )
    rss = client.run(rss_mb)
    for w, mb in sorted(rss.items()):
        print(
            f"worker {w}: RSS {mb:.0f} MiB; its shards hold "
            f"{shard_bytes.get(w, 0) / 2**20:.0f} MiB of codes and packed targets"
        )
    print(
        f"this process: RSS {rss_mb():.0f} MiB (holds the local copies); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
