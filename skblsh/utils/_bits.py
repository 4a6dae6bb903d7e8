"""Numba popcount kernels on packed codes: exact brute-force kNN.

The kernels take codes as uint64 words (:func:`skblsh.codes.as_words`), rows
zero-padded to a multiple of 8 bytes, which is exact because padding bits are
zero on both sides of every XOR.

The kNN kernels are compiled by numba on first use (``cache=True`` keeps the
machine code on disk for later processes) and release the GIL, so threads
over query blocks run in parallel.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

# Queries sharing one pass over the database, database rows per block (the
# transposed block, 32 KiB per word, stays in L1/L2 for all queries of a
# tile) and rows per threshold check.
_QUERY_TILE = 32
_BLOCK_ROWS = 4096
_CHUNK = 128
_NONE = 2**30  # distance "not found yet", larger than any real one


@intrinsic
def _popcount(typingctx, x):
    """LLVM ``ctpop``: one POPCNT (or a vector popcount once vectorised)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, sig, args):
        return builder.ctpop(args[0])

    return types.int64(x), codegen


@njit(nogil=True, cache=True)
def _insert(best_d, best_i, t, d, j):
    """Insert (d, j) into row t of the sorted top-k; returns the new k-th."""
    p = best_d.shape[1] - 1
    while p > 0 and best_d[t, p - 1] > d:
        best_d[t, p] = best_d[t, p - 1]
        best_i[t, p] = best_i[t, p - 1]
        p -= 1
    best_d[t, p] = d
    best_i[t, p] = j
    return best_d[t, -1]


@njit(nogil=True, cache=True)
def _scan_chunk(dist, best_d, best_i, t, thr, j0):
    """Offer the rows of a chunk whose distance beats the k-th best so far.

    Rows come in increasing index order, so a row tying the k-th best has a
    larger index than all kept ones and is rightly skipped: ties go to the
    smaller index.
    """
    for j in range(dist.shape[0]):
        if dist[j] < thr:
            thr = _insert(best_d, best_i, t, dist[j], j0 + j)
    return thr


# Every hot loop below runs over a slice from index 0: numba's negative-index
# wrap-around is then provably dead and LLVM emits contiguous vector loads
# (with ``range(c0, c1)`` it falls back to gathers, 2x slower).


@njit(nogil=True, cache=True)
def _offer_one_word(q, rows, best_d, best_i, t, thr, j0):
    """Offer ``rows`` (one word per code, indices from ``j0``) to query t.

    A vectorised pass keeps only the chunk minimum; the rare chunk whose
    minimum beats the k-th best distance is recomputed row by row.
    """
    for c0 in range(0, len(rows), _CHUNK):
        chunk = rows[c0 : c0 + _CHUNK]
        low = _NONE
        for j in range(len(chunk)):
            low = min(low, _popcount(q ^ chunk[j]))
        if low < thr:
            for j in range(len(chunk)):
                d = _popcount(q ^ chunk[j])
                if d < thr:
                    thr = _insert(best_d, best_i, t, d, j0 + c0 + j)
    return thr


@njit(nogil=True, cache=True)
def _offer_words(qw, block, m, dist, best_d, best_i, t, thr, j0):
    """Same for codes of several words, ``block[w, :m]`` holding word w.

    ``block`` is passed whole, not as ``block[:, :m]``: a C-contiguous array
    keeps its rows contiguous for numba, a 2-D slice would not.
    """
    for c0 in range(0, m, _CHUNK):
        n = min(_CHUNK, m - c0)
        rows = block[0, c0 : c0 + n]
        q = qw[0]
        for j in range(n):
            dist[j] = _popcount(q ^ rows[j])
        for w in range(1, len(qw)):
            rows = block[w, c0 : c0 + n]
            q = qw[w]
            for j in range(n):
                dist[j] += _popcount(q ^ rows[j])
        low = _NONE
        for j in range(n):
            low = min(low, dist[j])
        if low < thr:
            thr = _scan_chunk(dist[:n], best_d, best_i, t, thr, j0 + c0)
    return thr


def _make_offer_fused(n_words):
    """:func:`_offer_words` for 2 to 4 words, summed in registers in one pass.

    ``n_words`` is a compile-time constant here, so the unused terms vanish.
    """

    @njit(nogil=True, cache=True)
    def offer(qw, block, m, dist, best_d, best_i, t, thr, j0):
        last = n_words - 1
        q0, q1, q2, q3 = qw[0], qw[min(1, last)], qw[min(2, last)], qw[min(3, last)]
        for c0 in range(0, m, _CHUNK):
            n = min(_CHUNK, m - c0)
            r0 = block[0, c0 : c0 + n]
            r1 = block[min(1, last), c0 : c0 + n]
            r2 = block[min(2, last), c0 : c0 + n]
            r3 = block[min(3, last), c0 : c0 + n]
            low = _NONE
            for j in range(n):
                d = _popcount(q0 ^ r0[j]) + _popcount(q1 ^ r1[j])
                if n_words > 2:
                    d += _popcount(q2 ^ r2[j])
                if n_words > 3:
                    d += _popcount(q3 ^ r3[j])
                dist[j] = d
                low = min(low, d)
            if low < thr:
                thr = _scan_chunk(dist[:n], best_d, best_i, t, thr, j0 + c0)
        return thr

    return offer


_offer_2_words = _make_offer_fused(2)
_offer_3_words = _make_offer_fused(3)
_offer_4_words = _make_offer_fused(4)


@njit(nogil=True, cache=True)
def _knn_kernel(Q, D, out_d, out_i):
    """Exact k smallest Hamming distances of each row of Q among the rows of D.

    Queries are processed in tiles sharing one database block (transposed to
    one row per word when codes span several words), so each database word
    is read from cache by the whole tile.
    """
    n_queries, n_words = Q.shape
    n = D.shape[0]
    k = out_d.shape[1]
    best_d = np.empty((_QUERY_TILE, k), np.int32)
    best_i = np.empty((_QUERY_TILE, k), np.int64)
    thr = np.empty(_QUERY_TILE, np.int64)
    dist = np.empty(_CHUNK, np.int64)
    block = np.empty((n_words, _BLOCK_ROWS), np.uint64)
    flat = D.reshape(n * n_words)  # the codes themselves when n_words == 1
    for q0 in range(0, n_queries, _QUERY_TILE):
        n_tile = min(_QUERY_TILE, n_queries - q0)
        best_d[:] = _NONE
        best_i[:] = -1
        thr[:] = _NONE
        for j0 in range(0, n, _BLOCK_ROWS):
            m = min(_BLOCK_ROWS, n - j0)
            if n_words == 1:
                rows = flat[j0 : j0 + m]
                for t in range(n_tile):
                    thr[t] = _offer_one_word(
                        Q[q0 + t, 0], rows, best_d, best_i, t, thr[t], j0
                    )
                continue
            sub = D[j0 : j0 + m]
            for j in range(m):
                for w in range(n_words):
                    block[w, j] = sub[j, w]
            # Explicit calls: a function held in a variable is numba's
            # experimental first-class function type.
            for t in range(n_tile):
                args = (Q[q0 + t], block, m, dist, best_d, best_i, t, thr[t], j0)
                if n_words == 2:
                    thr[t] = _offer_2_words(*args)
                elif n_words == 3:
                    thr[t] = _offer_3_words(*args)
                elif n_words == 4:
                    thr[t] = _offer_4_words(*args)
                else:
                    thr[t] = _offer_words(*args)
        out_d[q0 : q0 + n_tile] = best_d[:n_tile]
        out_i[q0 : q0 + n_tile] = best_i[:n_tile]


def hamming_kneighbors(query_words, words, k, *, n_threads=1):
    """Exact k-nearest neighbours in Hamming distance, ties by smaller index.

    Parameters
    ----------
    query_words : ndarray of shape (n_queries, n_words), dtype=uint64
        Queries, as returned by :func:`as_words`.
    words : ndarray of shape (n_samples, n_words), dtype=uint64
        Database, as returned by :func:`as_words`.
    k : int
        Number of neighbours, ``1 <= k <= n_samples``.
    n_threads : int, default=1
        Threads over contiguous blocks of queries.

    Returns
    -------
    distances : ndarray of shape (n_queries, k), dtype=int32
        Sorted distances.
    indices : ndarray of shape (n_queries, k), dtype=int64
        Indices in ``words``, nearest first, ties by smaller index.
    """
    query_words = np.ascontiguousarray(query_words, dtype=np.uint64)
    words = np.ascontiguousarray(words, dtype=np.uint64)
    n_queries = len(query_words)
    out_d = np.empty((n_queries, k), dtype=np.int32)
    out_i = np.empty((n_queries, k), dtype=np.int64)
    # Whole query tiles per task, several tasks per thread: a thread slowed
    # down by other jobs on the machine then takes fewer tasks instead of
    # holding up the others.
    n_tiles = -(-n_queries // _QUERY_TILE)
    n_threads = max(1, min(int(n_threads), n_tiles))
    n_tasks = 1 if n_threads == 1 else min(n_tiles, 8 * n_threads)
    bounds = [
        min(n_queries, _QUERY_TILE * (n_tiles * i // n_tasks))
        for i in range(n_tasks + 1)
    ]

    def run(i):
        a, b = bounds[i], bounds[i + 1]
        if b > a:
            _knn_kernel(query_words[a:b], words, out_d[a:b], out_i[a:b])

    if n_threads == 1:
        run(0)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(run, range(n_tasks)))
    return out_d, out_i


# Byte value -> its 8 bits spread over the 8 bytes of a uint64, bit i in byte
# i: adding up to 255 spread rows counts the ones of every bit position in
# its own byte, 8 positions per addition, and the little-endian bytes of the
# sums are the counts in ``bitorder="little"`` order.
_SPREAD = (
    (np.arange(256, dtype=np.uint64)[:, None] >> np.arange(8, dtype=np.uint64)) & 1
) @ (np.uint64(1) << (8 * np.arange(8, dtype=np.uint64)))


@njit(nogil=True, cache=True)
def _count_kernel(packed, ind, spread, out):
    n_bytes = packed.shape[1]
    k = ind.shape[1]
    lanes = np.empty(n_bytes, dtype=np.uint64)
    for q in range(ind.shape[0]):
        for start in range(0, k, 255):  # a byte lane holds counts up to 255
            lanes[:] = 0
            for t in range(start, min(k, start + 255)):
                row = packed[ind[q, t]]
                for b in range(n_bytes):
                    lanes[b] += spread[row[b]]
            for b in range(n_bytes):
                v = lanes[b]
                for i in range(8):
                    out[q, 8 * b + i] += (v >> np.uint64(8 * i)) & np.uint64(255)


def count_ones(packed, ind, n_outputs, *, n_threads=1):
    """Per query, how many of its neighbours have each packed bit set.

    Parameters
    ----------
    packed : ndarray of shape (n_samples, n_bytes), dtype=uint8
        Rows of bits packed with ``bitorder="little"``.
    ind : ndarray of shape (n_queries, k), dtype=int
        Row indices of each query's neighbours.
    n_outputs : int
        Number of bits per row, ``<= 8 * n_bytes``.
    n_threads : int, default=1
        Threads over contiguous blocks of queries.

    Returns
    -------
    counts : ndarray of shape (n_queries, n_outputs), dtype=int64
        ``unpackbits(packed[ind], axis=2).sum(axis=1)``, without unpacking.
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    ind = np.ascontiguousarray(ind, dtype=np.int64)
    out = np.zeros((len(ind), 8 * packed.shape[1]), dtype=np.int64)
    n_threads = max(1, min(int(n_threads), len(ind) // 256))
    bounds = np.linspace(0, len(ind), n_threads + 1).astype(int)

    def run(i):
        a, b = bounds[i], bounds[i + 1]
        _count_kernel(packed, ind[a:b], _SPREAD, out[a:b])

    if n_threads == 1:
        run(0)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(run, range(n_threads)))
    return out[:, :n_outputs]


def warm_up():
    """Compile the kernels (or load them from numba's on-disk cache).

    Numba compiles on the first call; callers that time their work call this
    first so that one-off compilation is not counted as search time.
    Returns the seconds it took.
    """
    import time

    start = time.perf_counter()
    words = np.zeros((2, 1), dtype=np.uint64)
    hamming_kneighbors(words, words, 1)
    count_ones(np.zeros((1, 1), dtype=np.uint8), np.zeros((1, 1), dtype=np.int64), 1)
    return time.perf_counter() - start
