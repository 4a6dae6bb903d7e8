"""Exact Hamming 10-NN: HammingNearestNeighbors against faiss, same run.

For each database size N and code length L, random packed codes (uniform
bits, the hardest case for pruning) are searched for their exact k nearest
neighbours by

* ``HammingNearestNeighbors(n_jobs=...)`` (the numba popcount kernel);
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

Usage::

    python benchmarks/bench_search.py [--quick] [--n-jobs 2] [--k 10]
        [--bits 16 32 150] [--sizes 100000 1000000]
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
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
    """Best wall and CPU queries/s of each callable, interleaved runs."""
    best = {name: [np.inf, np.inf, None] for name in fns}
    for _ in range(repeat):  # interleaved, so all see the same load
        for name, fn in fns.items():
            wall, cpu, out = timed(fn)
            b = best[name]
            b[0], b[1], b[2] = min(b[0], wall), min(b[1], cpu), out
    return {name: (n_queries / w, n_queries / c, o) for name, (w, c, o) in best.items()}


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
    nn = HammingNearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(codes)
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
        ham = HammingNearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(codes)
        ham.kneighbors(Qc[:64])
        c_w = rates({"cos": lambda: cos.kneighbors(Q)}, len(Q), repeat)["cos"][0]
        h_w = rates({"ham": lambda: ham.kneighbors(Qc)}, len(Qc), repeat)["ham"][0]
    print(
        f"plain kNN baseline, N={n}: cosine (brute, 513-dim float32) {c_w:.0f} q/s; "
        f"Hamming L=64 {h_w:.0f} q/s in the same run: {h_w / c_w:.0f}x faster"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bits", type=int, nargs="+", help="code lengths L")
    parser.add_argument("--sizes", type=int, nargs="+", help="database sizes N")
    args = parser.parse_args()
    sizes = args.sizes or ([100_000] if args.quick else [100_000, 1_000_000])
    bits = args.bits or ([64, 256] if args.quick else [32, 64, 150, 256])
    repeat = 2 if args.quick else args.repeat
    rng = np.random.default_rng(args.seed)

    print(describe(args.n_jobs))
    print(
        f"exact {args.k}-NN on random codes; queries/s of wall-clock time, best of "
        f"{repeat} interleaved runs; 'cpu' ratio = queries per CPU-second "
        f"(steadier on a shared machine); "
        + (f"faiss {faiss.__version__}" if faiss else "faiss not installed: skipped")
    )
    w0 = time.perf_counter()
    HammingNearestNeighbors(n_neighbors=1).fit(np.zeros((2, 8), np.uint8)).kneighbors(
        np.zeros((1, 8), np.uint8)
    )
    print(
        f"numba kernel compile or cache load, not counted below: "
        f"{time.perf_counter() - w0:.1f} s"
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
