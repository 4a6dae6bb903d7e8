"""Exact Hamming 10-NN: multi-index hashing against brute force, same run.

Realistic codes (``_codes.py``): ``BoostedLSH(L)`` codes of the speech frames
of ``make_separation_task(../shared/corpus, protocol="open")``, replicated
with 1 to 3 random bit flips each up to N codes (the originals kept once).
Queries are frames of the held-out, unseen speakers. For every (L, N) the
script prints the build time, the memory of the codes and of the tables,
queries per second of wall-clock time for brute force
(``hamming_kneighbors``) and for ``MultiIndexHashingIndex.query``, both with
``--n-threads`` threads (the best of ``--repeat`` interleaved runs), the
speed-up, whether distances and indices are identical on all queries, the
median 10th-neighbour distance and the share of queries that fell back to a
scan.

A second part measures the crossover: the N above which MIH beats brute
force, for the realistic codes and for uniformly random codes (the worst
case for MIH), per L; N between measured points is interpolated on a log
scale. Numba compilation is done before timing.

Usage::

    nice -n 10 python benchmarks/bench_mih.py                 # full run
    nice -n 10 python benchmarks/bench_mih.py --quick         # N <= 1M
    python benchmarks/bench_mih.py --sizes 1e6 1e7 1e8 --bits 64
"""

import argparse
import os
import time

import numpy as np
from _codes import CORPUS, replicate, speech_codes, uniform_codes
from _machine import describe

from skblsh.codes import as_words
from skblsh.neighbors._mih import MultiIndexHashingIndex
from skblsh.utils._bits import hamming_kneighbors

K = 10


def best_rates(fns, n_queries, repeat):
    """Best wall-clock queries/s of each callable, runs interleaved."""
    best = {name: (np.inf, None) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out = fn()
            wall = time.perf_counter() - t0
            if wall < best[name][0]:
                best[name] = (wall, out)
    return {name: (n_queries / wall, out) for name, (wall, out) in best.items()}


def compare(codes, Q, n_bits, n_threads, repeat):
    """One (codes, queries) setting: a dict of measurements."""
    t0 = time.perf_counter()
    index = MultiIndexHashingIndex(codes, n_bits=n_bits)
    build = time.perf_counter() - t0
    words, Qw = as_words(codes), as_words(Q)
    # Compile (or load from numba's cache) outside the timed runs; the
    # fallback scan too.
    index.query(Q[:2], K, n_threads=1)
    hamming_kneighbors(Qw[:2], words[:1000], K)
    index._budget = lambda: 0
    index.query(Q[:1], K)
    del index._budget
    res = best_rates(
        {
            "brute": lambda: hamming_kneighbors(Qw, words, K, n_threads=n_threads),
            "mih": lambda: index.query(Q, K, n_threads=n_threads),
        },
        len(Q),
        repeat,
    )
    (bf_rate, (bf_d, bf_i)), (mih_rate, (d, i)) = res["brute"], res["mih"]
    return {
        "build": build,
        "codes_mb": codes.nbytes / 1e6,
        "tables_mb": index.nbytes / 1e6,
        "brute": bf_rate,
        "mih": mih_rate,
        "exact": bool((d == bf_d).all() and (i == bf_i).all()),
        "d10": float(np.median(d[:, -1])),
        "fallback": float(index._last_failed.mean()),
        "layout": f"m={index.n_tables},f={index.filter_bits}",
    }


def main_table(args):
    print(
        f"\n== Realistic codes, k={K}, {args.n_queries} queries, "
        f"{args.n_threads} threads, best of {args.repeat} =="
    )
    head = (
        f"{'L':>4} {'N':>11} {'layout':>10} {'build s':>8} {'codes MB':>9} "
        f"{'tables MB':>10} {'brute q/s':>10} {'MIH q/s':>9} {'speed-up':>9} "
        f"{'exact':>6} {'med d10':>8} {'scanned':>8}"
    )
    print(head)
    rows = {}
    for n_bits in args.bits:
        base, test = speech_codes(args.corpus, n_bits, args.cache)
        Q = test[np.random.default_rng(1).choice(len(test), args.n_queries, False)]
        for n in args.sizes:
            codes = replicate(base, int(n), n_bits)
            r = compare(codes, Q, n_bits, args.n_threads, args.repeat)
            rows[(n_bits, int(n))] = r
            print(
                f"{n_bits:>4} {int(n):>11,} {r['layout']:>10} {r['build']:>8.1f} "
                f"{r['codes_mb']:>9.0f} {r['tables_mb']:>6.0f} "
                f"({r['tables_mb'] / r['codes_mb']:.1f}x) {r['brute']:>10.0f} "
                f"{r['mih']:>9.0f} {r['mih'] / r['brute']:>8.1f}x "
                f"{'yes' if r['exact'] else 'NO':>6} {r['d10']:>8.1f} "
                f"{100 * r['fallback']:>7.1f}%",
                flush=True,
            )
            del codes
    return rows


def crossover(points):
    """Smallest N where the speed-up reaches 1, interpolated in log N."""
    points = sorted(points)
    for (n0, s0), (n1, s1) in zip(points, points[1:], strict=False):
        if s0 < 1 <= s1:
            t = (0 - np.log(s0)) / (np.log(s1) - np.log(s0))
            return float(np.exp(np.log(n0) + t * (np.log(n1) - np.log(n0))))
    if points and points[0][1] >= 1:
        return f"<= {points[0][0]:,}"
    return f"> {points[-1][0]:,}"


def crossover_table(args):
    print(
        f"\n== Crossover: MIH / brute-force queries per second, k={K}, "
        f"{args.cross_queries} queries, {args.n_threads} threads =="
    )
    sizes = [int(n) for n in args.cross_sizes]
    print(
        f"{'codes':>9} {'L':>4} "
        + " ".join(f"{n:>9,}" for n in sizes)
        + "  crossover N"
    )
    for kind in ("speech", "uniform"):
        for n_bits in args.bits:
            if kind == "speech":
                base, test = speech_codes(args.corpus, n_bits, args.cache)
                pick = np.random.default_rng(2).choice(len(test), args.cross_queries)
                Q = test[pick]
            else:
                Q = uniform_codes(args.cross_queries, n_bits, seed=1)
            points = []
            for n in sizes:
                codes = (
                    replicate(base, n, n_bits)
                    if kind == "speech"
                    else uniform_codes(n, n_bits, seed=2)
                )
                r = compare(codes, Q, n_bits, args.n_threads, 1)
                assert r["exact"], (kind, n_bits, n)
                points.append((n, r["mih"] / r["brute"]))
            cross = crossover(points)
            cross = f"{cross:,.0f}" if isinstance(cross, float) else cross
            print(
                f"{kind:>9} {n_bits:>4} "
                + " ".join(f"{s:>8.2f}x" for _, s in points)
                + f"  {cross}",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--n-queries", type=int, default=2000)
    parser.add_argument("--n-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cross-sizes",
        type=float,
        nargs="+",
        default=[3e4, 1e5, 3e5, 1e6, 3e6, 1e7],
    )
    parser.add_argument("--cross-queries", type=int, default=500)
    parser.add_argument("--no-crossover", action="store_true")
    parser.add_argument("--cache", default=None, help="folder to keep hashed codes")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sizes = [1e6]
        args.cross_sizes = [1e4, 1e5, 1e6]
        args.n_queries, args.repeat = 500, 1
    print(describe(n_jobs=args.n_threads))
    print(f"nice {os.nice(0)}")
    main_table(args)
    if not args.no_crossover:
        crossover_table(args)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
