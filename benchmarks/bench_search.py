"""Exact Hamming 10-NN: brute force, multi-index hashing and faiss, same run.

For each database size N and code length L, random packed codes (uniform
bits, the hardest case for pruning) are searched for their exact k nearest
neighbours by

* ``HammingNearestNeighbors(algorithm="brute", n_jobs=...)`` (the numba
  popcount kernel);
* ``faiss.IndexBinaryFlat`` with as many OpenMP threads, the reference
  (skipped when faiss is not installed: ``pip install faiss-cpu``, the
  ``bench`` extra). ``OMP_WAIT_POLICY=PASSIVE`` is set before faiss is
  imported: its default spin-waiting collapses on a busy machine;
* the previous numpy implementation (XOR + ``np.bitwise_count`` blocks and a
  partial sort), on fewer queries;
* at N=100k, the float baseline the hashing replaces: cosine kNN on
  513-dim frames (``sklearn.neighbors.NearestNeighbors(algorithm="brute")``
  on L2-normalised float32 rows, BLAS limited to the same threads).

Throughputs are queries per second of wall-clock time, the best of
``--repeat`` interleaved runs (plus the ratio of queries per CPU-second,
steadier when other jobs share the cores); numba's one-off compilation (cached on disk
after the first run) is timed separately and not counted. Distances are
checked equal to faiss' (indices may differ among equal distances: ours
breaks ties by smaller index, faiss does not promise an order).

The second part ("scaling") compares, in the same run, brute force
(``algorithm="brute"``), multi-index hashing (``algorithm="mih"``) and faiss'
``IndexBinaryFlat`` for N in ``--mih-sizes`` (1M, 10M; 100M added by
``--huge``) and L in ``--mih-bits`` (32, 64, 128), on realistic codes
(``BoostedLSH(L)`` codes of speech frames, replicated with 1 to 3 bit flips
up to N; queries from unseen speakers; see ``_codes.py``) and on uniformly
random codes. Each row gives the index's build time and memory (the codes,
and the multi-index tables beyond them), queries/s of each search, the
speed-ups, what ``algorithm="auto"`` would pick, the median number of
candidates MIH checked per query and the share of queries it answered by a
scan, and whether the answers agree (distances of all three equal, indices of
skblsh's two paths equal). Each search runs on a prefix of the same shuffled
queries, as many as take about ``--target`` seconds (at least 100, at most
``--n-queries``), so the slow scans of a large N stay affordable; the checks
compare the common prefix. ``--plot PATH`` draws queries/s against N.

Usage::

    python benchmarks/bench_search.py [--quick] [--n-jobs 2] [--k 10]
        [--bits 16 32 150] [--sizes 100000 1000000] [--part kernel]
    nice -n 10 python benchmarks/bench_search.py --part scaling \\
        --plot docs/_static/scaling/queries_vs_n.png --cache .codes_cache
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import csv  # noqa: E402
import gc  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _codes import CORPUS, replicate, speech_codes, uniform_codes  # noqa: E402
from _machine import describe  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skblsh import HammingNearestNeighbors  # noqa: E402
from skblsh.codes import as_words, hamming_block  # noqa: E402
from skblsh.neighbors._topk import top_k as _top_k  # noqa: E402

try:
    import faiss
except ImportError:
    faiss = None


def timed(fn):
    """(wall seconds, process CPU seconds, result) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def rates(fns, n_queries, repeat):
    """Best wall and CPU queries/s of each callable, interleaved runs.

    ``n_queries`` is one count for all, or a dict of counts by name.
    """
    best = {name: [np.inf, np.inf, None] for name in fns}
    for _ in range(repeat):  # interleaved, so all see the same load
        for name, fn in fns.items():
            wall, cpu, out = timed(fn)
            b = best[name]
            b[0], b[1], b[2] = min(b[0], wall), min(b[1], cpu), out
    count = n_queries if isinstance(n_queries, dict) else dict.fromkeys(fns, n_queries)
    return {
        name: (count[name] / w, count[name] / c, o) for name, (w, c, o) in best.items()
    }


def previous_numpy(codes, Q, k):
    step = max(1, 2**24 // len(codes))
    wc = as_words(codes)
    out = [
        _top_k(hamming_block(as_words(Q[s : s + step]), wc), k)
        for s in range(0, len(Q), step)
    ]
    return np.concatenate([o[1] for o in out]), np.concatenate([o[0] for o in out])


def search_row(rng, n, n_bits, k, n_jobs, repeat, quick):
    n_bytes = (n_bits + 7) // 8
    codes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    if n_bits % 8:
        codes[:, -1] &= (1 << (n_bits % 8)) - 1  # padding bits are zero
    # About 0.3 s of our search per run (0.1 s when quick).
    n_q = int(np.clip(1e9 / (n * -(-n_bytes // 8)), 64, 20000) // (3 if quick else 1))
    Q = rng.integers(0, 256, (n_q, n_bytes), dtype=np.uint8)
    Q[:, -1] &= codes[:, -1].max()
    nn = HammingNearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=n_jobs)
    nn.fit(codes)
    nn.kneighbors(Q[:64])
    fns = {"ours": lambda: nn.kneighbors(Q)}
    if faiss is not None:
        faiss.omp_set_num_threads(n_jobs)
        index = faiss.IndexBinaryFlat(8 * n_bytes)
        index.add(codes)
        index.search(Q[:64], k)
        fns["faiss"] = lambda: index.search(Q, k)
    res = rates(fns, n_q, repeat)
    n_np = min(n_q, max(8, int(1e8 // n)))
    res.update(rates({"numpy": lambda: previous_numpy(codes, Q[:n_np], k)}, n_np, 1))
    dist = res["ours"][2][0]
    assert np.array_equal(res["numpy"][2][0], dist[:n_np]), "differs from numpy"
    assert np.array_equal(res["numpy"][2][1], res["ours"][2][1][:n_np])
    ours_w, ours_c = res["ours"][:2]
    cells = [f"{n:>9} {n_bits:>4} {ours_w:>9.0f}"]
    if "faiss" in res:
        f_w, f_c, (f_dist, _) = res["faiss"]
        same = np.array_equal(dist, f_dist)
        cells.append(f"{f_w:>9.0f} {ours_w / f_w:>9.2f}x {ours_c / f_c:>9.2f}x")
    else:
        same = "-"
        cells.append(f"{'-':>9} {'-':>10} {'-':>10}")
    np_w = res["numpy"][0]
    cells.append(f"{np_w:>9.0f} {ours_w / np_w:>9.1f}x  {same}")
    print(" ".join(cells), flush=True)


def cosine_baseline(rng, n, k, n_jobs, repeat, quick):
    from sklearn.neighbors import NearestNeighbors

    frames = rng.random((n, 513), dtype=np.float32)
    frames /= np.linalg.norm(frames, axis=1, keepdims=True)
    Q = frames[rng.integers(0, n, 64 if quick else 400)] + np.float32(0.01)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    codes = rng.integers(0, 256, (n, 8), dtype=np.uint8)
    Qc = rng.integers(0, 256, (len(Q) * 20, 8), dtype=np.uint8)
    with threadpool_limits(n_jobs):
        cos = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=n_jobs)
        cos.fit(frames).kneighbors(Q[:8])
        ham = HammingNearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=n_jobs)
        ham.fit(codes)
        ham.kneighbors(Qc[:64])
        c_w = rates({"cos": lambda: cos.kneighbors(Q)}, len(Q), repeat)["cos"][0]
        h_w = rates({"ham": lambda: ham.kneighbors(Qc)}, len(Qc), repeat)["ham"][0]
    print(
        f"plain kNN baseline, N={n}: cosine (brute, 513-dim float32) {c_w:.0f} q/s; "
        f"Hamming L=64 {h_w:.0f} q/s in the same run: {h_w / c_w:.0f}x faster"
    )


# ---------------------------------------------------------------------------
# Scaling: brute force, multi-index hashing and faiss on large indexes.

COLUMNS = (
    "kind",
    "L",
    "N",
    "auto",
    "build_s",
    "codes_mb",
    "tables_mb",
    "brute_qps",
    "mih_qps",
    "faiss_qps",
    "n_scan",
    "n_mih",
    "candidates",
    "scanned",
    "exact",
    "load",
)


def n_within(fn, Q, target, low=100):
    """How many queries ``fn`` answers in about ``target`` seconds (a probe)."""
    n = min(len(Q), 64)
    wall = timed(lambda: fn(Q[:n]))[0]
    return int(np.clip(target * n / max(wall, 1e-6), min(low, len(Q)), len(Q)))


def scaling_row(kind, codes, Q, n_bits, k, n_jobs, repeat, target):
    """Brute force, MIH and faiss on one index: a dict of ``COLUMNS``."""
    n, n_bytes = codes.shape
    brute = HammingNearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=n_jobs)
    brute.fit(codes)
    t0 = time.perf_counter()
    mih = HammingNearestNeighbors(n_neighbors=k, algorithm="mih", n_jobs=n_jobs)
    mih.fit(codes)
    build = time.perf_counter() - t0
    # Kernels specialised on this index's table dtypes compile (or load from
    # numba's cache) here, outside the probes that size each search's share.
    mih.kneighbors(Q[:8])
    n_scan = n_within(brute.kneighbors, Q, target)
    n_mih = max(n_scan, n_within(mih.kneighbors, Q, target))
    fns = {
        "brute": lambda: brute.kneighbors(Q[:n_scan]),
        "mih": lambda: mih.kneighbors(Q[:n_mih]),
    }
    counts = {"brute": n_scan, "mih": n_mih}
    if faiss is not None:
        faiss.omp_set_num_threads(n_jobs)
        index = faiss.IndexBinaryFlat(8 * n_bytes)
        index.add(codes)
        index.search(Q[:8], k)
        fns["faiss"] = lambda: index.search(Q[:n_scan], k)
        counts["faiss"] = n_scan
    res = rates(fns, counts, repeat)
    d_b, i_b = res["brute"][2]
    d_m, i_m = res["mih"][2]
    exact = np.array_equal(d_m[:n_scan], d_b) and np.array_equal(i_m[:n_scan], i_b)
    if "faiss" in res:
        exact = exact and np.array_equal(res["faiss"][2][0], d_b)
    work = mih._index._last_work
    return {
        "kind": kind,
        "L": n_bits,
        "N": n,
        # What fit would pick, without building a second index to find out.
        "auto": HammingNearestNeighbors()._check_algorithm(n, 8 * n_bytes),
        "build_s": build,
        "codes_mb": codes.nbytes / 1e6,
        "tables_mb": mih._index.nbytes / 1e6,
        "brute_qps": res["brute"][0],
        "mih_qps": res["mih"][0],
        "faiss_qps": res["faiss"][0] if "faiss" in res else float("nan"),
        "n_scan": n_scan,
        "n_mih": n_mih,
        "candidates": float(np.median(work[:, 1])),
        "scanned": float(mih._index._last_failed.mean()),
        "exact": bool(exact),
        "load": os.getloadavg()[0],
    }


def print_scaling_row(r):
    if r is None:
        print(
            f"{'codes':>7} {'L':>4} {'N':>11} {'auto':>5} {'build s':>7} "
            f"{'codes MB':>8} {'tables MB':>13} {'brute q/s':>9} {'MIH q/s':>8} "
            f"{'faiss q/s':>9} {'MIH/brute':>9} {'MIH/faiss':>9} {'cand/q':>8} "
            f"{'scanned':>7} {'exact':>5} {'load':>5}"
        )
        return
    print(
        f"{r['kind']:>7} {r['L']:>4} {r['N']:>11,} {r['auto']:>5} "
        f"{r['build_s']:>7.1f} {r['codes_mb']:>8.0f} {r['tables_mb']:>6.0f} "
        f"({r['tables_mb'] / r['codes_mb']:.1f}x) {r['brute_qps']:>9.0f} "
        f"{r['mih_qps']:>8.0f} {r['faiss_qps']:>9.0f} "
        f"{r['mih_qps'] / r['brute_qps']:>8.1f}x "
        f"{r['mih_qps'] / r['faiss_qps']:>8.1f}x {r['candidates']:>8.0f} "
        f"{100 * r['scanned']:>6.1f}% {'yes' if r['exact'] else 'NO':>5} "
        f"{r['load']:>5.1f}",
        flush=True,
    )


def scaling_table(args):
    sizes = [int(n) for n in args.mih_sizes] + ([100_000_000] if args.huge else [])
    print(
        f"\n== Scaling: exact {args.k}-NN by brute force, multi-index hashing (MIH) "
        f"and faiss IndexBinaryFlat, {args.n_jobs} threads each, best of "
        f"{args.repeat} interleaved runs; speech = BoostedLSH(L) codes of speech "
        f"frames replicated with 1-3 bit flips, queries from unseen speakers; "
        f"uniform = random bits. Memory: the codes, and the MIH tables beyond "
        f"them; cand/q: median candidates MIH checked per query; scanned: "
        f"queries MIH answered by a scan; load: 1-min load average =="
    )
    print_scaling_row(None)
    rows = []
    for kind in args.kinds:
        for n_bits in args.mih_bits:
            if kind == "speech":
                base, test = speech_codes(args.corpus, n_bits, args.cache)
                pick = np.random.default_rng(1).permutation(len(test))
                Q = test[pick[: args.n_queries]]
            else:
                Q = uniform_codes(args.n_queries, n_bits, seed=1)
            for n in sizes:
                codes = (
                    replicate(base, n, n_bits)
                    if kind == "speech"
                    else uniform_codes(n, n_bits, seed=2)
                )
                row = scaling_row(
                    kind,
                    codes,
                    Q,
                    n_bits,
                    args.k,
                    args.n_jobs,
                    args.repeat,
                    args.target,
                )
                print_scaling_row(row)
                rows.append(row)
                del codes
                gc.collect()
    return rows


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in COLUMNS[1:]:
            if key not in ("auto", "exact"):
                r[key] = float(r[key])
    return rows


def plot_scaling(rows, path):
    """Queries/s against N in one log-log panel: colour the search, line the L.

    Brute force and faiss read every code whatever their bits, so they are
    drawn for the speech codes only; MIH for both kinds of codes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bits = sorted({int(r["L"]) for r in rows})
    styles = {32: (":", "o"), 64: ("-", "s"), 128: ("--", "^")}
    lines = (
        ("brute_qps", "speech", "brute force", "C0"),
        ("faiss_qps", "speech", "faiss", "C2"),
        ("mih_qps", "speech", "MIH, speech", "C3"),
        ("mih_qps", "uniform", "MIH, uniform", "C1"),
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for key, kind, name, color in lines:  # legend columns: one per search
        for n_bits in bits:
            sel = sorted(
                (r for r in rows if r["kind"] == kind and int(r["L"]) == n_bits),
                key=lambda r: r["N"],
            )
            pts = [(r["N"], r[key]) for r in sel if np.isfinite(r[key])]
            if not pts:
                continue
            line, marker = styles.get(n_bits, ("-.", "D"))
            x, y = zip(*pts, strict=True)
            ax.loglog(
                x, y, line, color=color, marker=marker, ms=5,
                label=f"{name}, L={n_bits}",
            )  # fmt: skip
    ax.set_xlabel("N, indexed codes")
    ax.set_ylabel("queries/s (exact 10-NN, 2 threads)")
    ax.grid(True, which="both", alpha=0.3)
    load = [float(r["load"]) for r in rows]
    ax.set_title(
        f"Exact Hamming 10-NN, one run; load average {min(load):.1f}-"
        f"{max(load):.1f} on 2 cores",
        fontsize=10,
    )
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(lines),
        fontsize=7, frameon=False,
    )  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"figure written to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a minute or two")
    parser.add_argument("--part", choices=("all", "kernel", "scaling"), default="all")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bits", type=int, nargs="+", help="code lengths L")
    parser.add_argument("--sizes", type=int, nargs="+", help="database sizes N")
    scaling = parser.add_argument_group("scaling part")
    scaling.add_argument("--mih-bits", type=int, nargs="+", default=[32, 64, 128])
    scaling.add_argument("--mih-sizes", type=float, nargs="+", default=[1e6, 1e7])
    scaling.add_argument("--huge", action="store_true", help="add N = 100M")
    scaling.add_argument(
        "--kinds",
        nargs="+",
        choices=("speech", "uniform"),
        default=["speech", "uniform"],
    )
    scaling.add_argument("--n-queries", type=int, default=2000)
    scaling.add_argument(
        "--target", type=float, default=2.0, help="seconds per timed run, about"
    )
    scaling.add_argument("--corpus", default=str(CORPUS))
    scaling.add_argument("--cache", default=None, help="folder to keep hashed codes")
    scaling.add_argument("--plot", default=None, help="write queries/s against N")
    scaling.add_argument("--csv", default=None, help="write the scaling rows")
    scaling.add_argument(
        "--replot", default=None, help="only redraw --plot from a --csv file"
    )
    args = parser.parse_args()
    if args.replot:
        if not args.plot:
            parser.error("--replot needs --plot PATH")
        plot_scaling(read_csv(args.replot), args.plot)
        return
    sizes = args.sizes or ([100_000] if args.quick else [100_000, 1_000_000])
    bits = args.bits or ([64, 256] if args.quick else [32, 64, 150, 256])
    repeat = 2 if args.quick else args.repeat
    if args.quick:
        args.mih_bits, args.mih_sizes, args.n_queries = [64], [1e6], 500
        args.repeat, args.target = 2, 0.5
    rng = np.random.default_rng(args.seed)

    print(describe(args.n_jobs) + f"; nice {os.nice(0)}")
    w0 = time.perf_counter()
    # On so few uniform codes MIH gives up on every query and scans, so this
    # compiles its fallback scan as well as its probing.
    tiny = rng.integers(0, 256, (5000, 8), dtype=np.uint8)
    for algorithm in ("brute", "mih"):
        nn = HammingNearestNeighbors(n_neighbors=10, algorithm=algorithm)
        nn.fit(tiny).kneighbors(tiny[:64])
    print(
        f"numba kernels compile or cache load, not counted below: "
        f"{time.perf_counter() - w0:.1f} s"
    )
    if args.part in ("all", "kernel"):
        kernel_table(args, rng, sizes, bits, repeat)
    if args.part in ("all", "scaling"):
        rows = scaling_table(args)
        if args.csv:
            write_csv(rows, args.csv)
        if args.plot:
            plot_scaling(rows, args.plot)
        if not all(r["exact"] for r in rows):
            raise SystemExit("answers differ between the searches (exact = NO)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def kernel_table(args, rng, sizes, bits, repeat):
    print(
        f"\n== Brute-force kernel: exact {args.k}-NN on random codes; queries/s of "
        f"wall-clock time, best of {repeat} interleaved runs; 'cpu' ratio = queries "
        f"per CPU-second (steadier on a shared machine); "
        + (f"faiss {faiss.__version__}" if faiss else "faiss not installed: skipped")
        + " =="
    )
    print(
        f"{'N':>9} {'L':>4} {'ours q/s':>9} {'faiss q/s':>9} {'wall ratio':>10} "
        f"{'cpu ratio':>10} {'numpy q/s':>9} {'vs numpy':>10}  dist==faiss"
    )
    for n in sizes:
        for n_bits in bits:
            search_row(rng, n, n_bits, args.k, args.n_jobs, repeat, args.quick)
    cosine_baseline(rng, 100_000, args.k, args.n_jobs, repeat, args.quick)


if __name__ == "__main__":
    main()
