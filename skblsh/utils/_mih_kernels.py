"""Numba kernels of multi-index hashing: table building, probing, the
fallback scan. The index around them is :mod:`skblsh.neighbors._mih`."""

from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ._bits import _popcount

_NONE = 2**30  # distance "not found yet", larger than any real one
_NO_INDEX = 2**62  # index "not found yet", larger than any real one
_CHUNK = 64  # keys located, or candidates filtered then read, per pass
_TASKS_PER_THREAD = 8
_SCAN_TILE = 32  # queries sharing one pass over a block of the fallback scan
_SCAN_BLOCK = 4096  # rows per block of the fallback scan
_SCAN_CHUNK = 128  # rows per threshold check of the fallback scan
# Probing stops (and the query is scanned) once its cost, counted in
# candidates filtered, exceeds n_samples * n_words / _WORK_RATIO: reading a
# bucket costs about _BUCKET_COST candidates and a random code read about
# _FETCH_COST, and a candidate costs about as much as scanning _WORK_RATIO
# packed words (per-query times regressed on these counts, 64-bit speech
# codes, 10M of them; see benchmarks/bench_mih.py for the end-to-end ratios).
_BUCKET_COST = 64
_FETCH_COST = 4
_WORK_RATIO = 30
_DOOMED = 8  # see _search


# ---------------------------------------------------------------------------
# Build.


@njit(nogil=True, cache=True)
def _extract(q, runs, r0, r1):
    """Value made of the code bits listed by ``runs[r0:r1]``."""
    v = np.uint64(0)
    for r in range(r0, r1):
        word, shift, mask, dest = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
        v |= ((q[word] >> shift) & mask) << dest
    return v


@njit(nogil=True, cache=True)
def _extract_all(words, runs, r0, r1, out):
    for i in range(words.shape[0]):
        out[i] = _extract(words[i], runs, r0, r1)


@njit(nogil=True, cache=True)
def _counting_sort(keys, n_buckets, order, offsets):
    """Stable sort of ``arange(n)`` by key: order and CSR offsets."""
    offsets[:] = 0
    for i in range(len(keys)):
        offsets[keys[i] + 1] += 1
    for b in range(n_buckets):
        offsets[b + 1] += offsets[b]
    fill = offsets[:n_buckets].astype(np.int64)
    for i in range(len(keys)):
        b = keys[i]
        order[fill[b]] = i
        fill[b] += 1


def _sort_table(words, runs, r0, r1, s, p, order, suffix):
    """Sort positions by key into ``order`` (and ``suffix``); returns offsets."""
    keys = np.empty(len(words), dtype=np.uint64)
    _extract_all(words, runs, r0, r1, keys)
    keys = keys.view(np.int64)
    offsets = np.empty(2**p + 1, dtype=np.uint32)
    if s == p:
        _counting_sort(keys, 2**p, order, offsets)
        return offsets
    order[:] = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    suffix[:] = sorted_keys & ((1 << (s - p)) - 1)
    offsets[0] = 0
    offsets[1:] = np.cumsum(np.bincount(sorted_keys >> (s - p), minlength=2**p))
    return offsets


# ---------------------------------------------------------------------------
# Search kernels.

# What the kernels read (numba passes a namedtuple of arrays as one
# argument). Filters and key suffixes come as bytes, viewed at their width
# inside the kernels, so one compiled kernel serves every width.
_Tables = namedtuple(
    "_Tables",
    [
        "words",  # codes as uint64 words, sorted by table-0 key
        "perm",  # caller's index of each position
        "ids",  # tables 1..m-1: positions sorted by key
        "filters",  # tables 1..m-1: filter bits beside each id
        "suffix",  # low key bits beside each entry (tables with s > p)
        "offsets",  # CSR offsets of all tables, concatenated
        "starts",  # where each table's offsets start
        "lengths",  # substring lengths s
        "prefix",  # offset bits p
        "key_runs",  # how to extract the keys (see _runs)
        "key_ptr",
        "filter_runs",  # how to extract the filters
        "filter_ptr",
        "masks",  # substring bit masks over the words
        "filter_width",  # bytes per filter
        "suffix_width",  # bytes per suffix
    ],
)


@njit(nogil=True, cache=True)
def _distance(q, x):
    d = 0
    for w in range(len(q)):
        d += _popcount(q[w] ^ x[w])
    return d


@njit(nogil=True, cache=True)
def _first_seen(q, x, masks, j, rho, rank):
    """Whether probing offers item ``x`` in table ``j`` at radius ``rho``.

    Probing goes radius by radius, tables in the order ``rank`` within a
    radius, so an item belongs to the first table where its substring
    distance is smallest: it is offered there only.
    """
    for t in range(masks.shape[0]):
        if t == j:
            continue
        d = 0
        for w in range(len(q)):
            d += _popcount((q[w] ^ x[w]) & masks[t, w])
        if d < rho or (d == rho and rank[t] < rank[j]):
            return False
    return True


@njit(nogil=True, cache=True)
def _binomial(n, r):
    out = 1
    for i in range(r):
        out = out * (n - i) // (i + 1)
    return out


@njit(nogil=True, cache=True)
def _next_mask(x):
    """Next integer with the same number of set bits (Gosper's hack)."""
    c = x & -x
    r = x + c
    return (((r ^ x) >> 2) // c) | r


@njit(nogil=True, cache=True)
def _insert_sorted(best_d, best_i, d, i):
    """Insert (d, i) into the top-k sorted by (distance, index)."""
    p = len(best_d) - 1
    while p > 0 and (best_d[p - 1] > d or (best_d[p - 1] == d and best_i[p - 1] > i)):
        best_d[p] = best_d[p - 1]
        best_i[p] = best_i[p - 1]
        p -= 1
    best_d[p] = d
    best_i[p] = i


@njit(nogil=True, cache=True)
def _find_suffixes(suffix, keys, nk, e, ranges):
    """Narrow each ``ranges[t]`` (a prefix bucket) to the items of ``keys[t]``.

    ``suffix`` holds the low ``e`` key bits of the table's items, sorted
    within each prefix bucket.
    """
    for t in range(nk):
        want = keys[t] & ((1 << e) - 1)
        lo, end = ranges[t, 0], ranges[t, 1]
        hi = end
        while lo < hi:  # first suffix >= want
            mid = (lo + hi) >> 1
            if np.int64(suffix[mid]) < want:
                lo = mid + 1
            else:
                hi = mid
        b = lo
        while b < end and np.int64(suffix[b]) == want:
            b += 1
        ranges[t, 0], ranges[t, 1] = lo, b


@njit(nogil=True, cache=True)
def _filter_distances(filters, c0, c1, qfilter, out):
    for c in range(c0, c1):
        out[c - c0] = _popcount(np.uint64(filters[c]) ^ qfilter)


@njit(nogil=True, cache=True)
def _locate(tables, j, keys, nk, ranges):
    """Bucket range of each of ``keys[:nk]`` in table j; returns a checksum.

    The lookups are independent, so issued together their memory latencies
    overlap; the first entry of each bucket is read here too (the checksum
    keeps the reads), so that :func:`_offer` finds it in cache.
    """
    words, ids, filters, suffix = (
        tables.words,
        tables.ids,
        tables.filters,
        tables.suffix,
    )
    offsets, base = tables.offsets, tables.starts[j]
    s, p = tables.lengths[j], tables.prefix[j]
    e = s - p
    for t in range(nk):
        key = keys[t] >> e
        ranges[t, 0] = offsets[base + key]
        ranges[t, 1] = offsets[base + key + 1]
    if e > 0:
        width = tables.suffix_width
        row = suffix[j]
        if width == 1:
            _find_suffixes(row, keys, nk, e, ranges)
        elif width == 2:
            _find_suffixes(row.view(np.uint16), keys, nk, e, ranges)
        else:
            _find_suffixes(row.view(np.uint32), keys, nk, e, ranges)
    check = np.uint64(0)
    n = words.shape[0]
    for t in range(nk if n > 0 else 0):
        a = min(ranges[t, 0], n - 1)
        if j == 0:
            check += words[a, 0]
        elif filters.shape[1] > 0:
            check += np.uint64(filters[j - 1, tables.filter_width * a])
        else:
            check += np.uint64(ids[j - 1, a])
    return check


@njit(nogil=True, cache=True)
def _row_distances(q, flat, r0, r1, dist):
    """Distances to ``q`` of rows ``r0:r1`` of the codes, given flat.

    Loops over contiguous slices from index 0 (one per word count), which
    LLVM turns into vector code; a 2-D row slice would not be.
    """
    n_words = len(q)
    if n_words == 1:
        rows = flat[r0:r1]
        q0 = q[0]
        for r in range(len(rows)):
            dist[r] = _popcount(q0 ^ rows[r])
    elif n_words == 2:
        rows = flat[2 * r0 : 2 * r1]
        q0, q1 = q[0], q[1]
        for r in range(r1 - r0):
            dist[r] = _popcount(q0 ^ rows[2 * r]) + _popcount(q1 ^ rows[2 * r + 1])
    else:
        for r in range(r1 - r0):
            d = 0
            for w in range(n_words):
                d += _popcount(q[w] ^ flat[(r0 + r) * n_words + w])
            dist[r] = d


@njit(nogil=True, cache=True)
def _offer(
    q, tables, j, rank, a, b, qfilter, rho, limit, best_d, best_i, hits, buf_p, buf_d
):
    """Offer the candidates of one bucket (substring distance ``rho``).

    kNN mode (``best_d`` non-empty): candidates beating the k-th best enter
    the top-k. Radius mode: candidates within ``limit`` are appended to
    ``hits``, whose row 0 counts the rows used and which has room for the
    whole bucket. Returns the number of random code reads.

    Table 0's bucket is a run of codes. Elsewhere candidates go in chunks
    through passes without unpredictable branches (filter, read the codes
    that passed, offer), so that the random reads overlap.
    """
    words, perm, ids, filters = tables.words, tables.perm, tables.ids, tables.filters
    knn = len(best_d) > 0
    has_filter = filters.shape[1] > 0
    fetched = 0
    for c0 in range(a, b, _CHUNK):
        c1 = min(c0 + _CHUNK, b)
        if knn:
            limit = best_d[-1]
        nb = c1 - c0
        if j == 0:
            _row_distances(q, words.reshape(words.size), c0, c1, buf_d)
            for t in range(nb):
                buf_p[t] = c0 + t
        else:
            if has_filter:
                # Only the filters stream through the cache; the ids of the
                # few candidates that pass are read afterwards.
                cut = limit - rho
                row, width = filters[j - 1], tables.filter_width
                if width == 1:
                    _filter_distances(row, c0, c1, qfilter, buf_d)
                elif width == 2:
                    _filter_distances(row.view(np.uint16), c0, c1, qfilter, buf_d)
                elif width == 4:
                    _filter_distances(row.view(np.uint32), c0, c1, qfilter, buf_d)
                else:
                    _filter_distances(row.view(np.uint64), c0, c1, qfilter, buf_d)
                nb = 0
                for c in range(c0, c1):
                    buf_p[nb] = c
                    nb += buf_d[c - c0] <= cut
                for t in range(nb):
                    buf_p[t] = ids[j - 1, buf_p[t]]
            else:
                for c in range(c0, c1):
                    buf_p[c - c0] = ids[j - 1, c]
            for t in range(nb):
                buf_d[t] = _distance(q, words[buf_p[t]])
            fetched += nb
        for t in range(nb):
            d, pos = buf_d[t], buf_p[t]
            if knn:
                if d < best_d[-1] or (d == best_d[-1] and perm[pos] < best_i[-1]):
                    if _first_seen(q, words[pos], tables.masks, j, rho, rank):
                        _insert_sorted(best_d, best_i, d, np.int64(perm[pos]))
            elif d <= limit and _first_seen(q, words[pos], tables.masks, j, rho, rank):
                size = hits[0, 0] + 1
                hits[size, 0] = perm[pos]
                hits[size, 1] = d
                hits[0, 0] = size
    return fetched


@njit(nogil=True, cache=True)
def _search(q, tables, limit, budget, best_d, best_i, hits, work):
    """Multi-index probing of one query (kNN or radius, see :func:`_offer`).

    Returns ``(complete, hits)``: ``complete`` is False when the cost went
    over ``budget`` (the result is then partial); ``hits`` is the radius
    buffer, reallocated when it grew. ``work`` receives (buckets,
    candidates, random code reads).
    """
    lengths = tables.lengths
    m = len(lengths)
    knn = len(best_d) > 0
    qkeys = np.empty(m, np.int64)
    qfilter = np.empty(m, np.uint64)
    for j in range(m):
        r0, r1 = tables.key_ptr[j], tables.key_ptr[j + 1]
        qkeys[j] = np.int64(_extract(q, tables.key_runs, r0, r1))
        r0, r1 = tables.filter_ptr[j], tables.filter_ptr[j + 1]
        qfilter[j] = _extract(q, tables.filter_runs, r0, r1)
    buf_p = np.empty(_CHUNK, np.int64)
    buf_d = np.empty(_CHUNK, np.int64)
    keys = np.empty(max(_CHUNK, m), np.int64)
    ranges = np.empty((max(_CHUNK, m), 2), np.int64)
    # Within a radius, tables go in increasing number of candidates they
    # gave at the previous radius (at radius 0, the query's own bucket):
    # the bound grows by one per table probed whichever the table, and a
    # table sparse around the query costs less. The order may change from
    # one radius to the next (see _first_seen).
    spent = np.empty(m, np.int64)
    for j in range(m):
        keys[j] = qkeys[j]
        _locate(tables, j, keys[j:], 1, ranges[j:])
        spent[j] = ranges[j, 1] - ranges[j, 0]
    rank = np.empty(m, np.int64)
    n_buckets = n_cands = n_fetched = 0
    rho = 0
    while True:
        order = np.argsort(spent, kind="mergesort")
        rank[order] = np.arange(m)
        spent[:] = 0
        for jj in range(m):
            j = order[jj]
            s = lengths[j]
            # Items not met yet are at distance >= m * rho + jj (pigeonhole).
            if not knn and m * rho + jj > limit:
                work[0], work[1], work[2] = n_buckets, n_cands, n_fetched
                return True, hits
            if rho <= s:
                # Give up as soon as the buckets left to probe, at the mean
                # size met so far, would go over budget, so that little work
                # is lost: the buckets of this radius, or far over budget,
                # those up to the radius the current k-th distance needs
                # (an overestimate, as the k-th distance shrinks).
                cost = _BUCKET_COST * n_buckets + n_cands + _FETCH_COST * n_fetched
                per_bucket = _BUCKET_COST + n_cands // max(1, n_buckets)
                ahead = _binomial(s, rho)
                doomed = cost + ahead * per_bucket > budget
                if knn and rho >= 2 and best_d[-1] < _NONE and not doomed:
                    need = (best_d[-1] - 1) // m + 1  # probe one table there
                    for r in range(rho + 1, min(need, s) + 1):
                        ahead += _binomial(s, r) * (m if r < need else 1)
                    doomed = cost + ahead * per_bucket > _DOOMED * budget
                if doomed:
                    work[0], work[1], work[2] = n_buckets, n_cands, n_fetched
                    return False, hits
                mask = (np.int64(1) << rho) - 1
                end = np.int64(1) << s
                while mask < end:
                    nk = 0
                    while mask < end and nk < _CHUNK:
                        keys[nk] = qkeys[j] ^ mask
                        nk += 1
                        mask = _next_mask(mask) if rho > 0 else end
                    if _locate(tables, j, keys, nk, ranges) == 1:
                        n_buckets += 0  # (uses the checksum)
                    size = 0
                    for t in range(nk):
                        size += ranges[t, 1] - ranges[t, 0]
                    if not knn and hits[0, 0] + size >= len(hits):
                        grown = np.empty((2 * (hits[0, 0] + size + 1), 2), np.int64)
                        grown[: len(hits)] = hits
                        hits = grown
                    for t in range(nk):
                        n_fetched += _offer(
                            q,
                            tables,
                            j,
                            rank,
                            ranges[t, 0],
                            ranges[t, 1],
                            qfilter[j],
                            rho,
                            limit,
                            best_d,
                            best_i,
                            hits,
                            buf_p,
                            buf_d,
                        )
                    n_buckets += nk
                    n_cands += size
                    spent[j] += size
                    cost = _BUCKET_COST * n_buckets + n_cands + _FETCH_COST * n_fetched
                    if cost > budget:
                        work[0], work[1], work[2] = n_buckets, n_cands, n_fetched
                        return False, hits
            # A table probed to its full length has met every item.
            if rho >= s or (knn and best_d[-1] < m * rho + jj + 1):
                work[0], work[1], work[2] = n_buckets, n_cands, n_fetched
                return True, hits
        rho += 1


@njit(nogil=True, cache=True)
def _mih_knn(Q, tables, budget, out_d, out_i, failed, work):
    """Exact kNN of each query by probing; ``failed`` when it cost too much."""
    k = out_d.shape[1]
    best_d = np.empty(k, np.int64)
    best_i = np.empty(k, np.int64)
    hits = np.zeros((1, 2), np.int64)
    for t in range(Q.shape[0]):
        best_d[:] = _NONE
        best_i[:] = _NO_INDEX
        ok, hits = _search(
            Q[t], tables, np.int64(_NONE), budget, best_d, best_i, hits, work[t]
        )
        failed[t] = not ok
        out_d[t] = best_d
        out_i[t] = best_i


@njit(nogil=True, cache=True)
def _sort_hits(hits, a, b, n):
    """Sort rows ``[a, b)`` of ``hits`` (index, distance) by (distance, index)."""
    if b - a > 1:
        order = np.argsort(hits[a:b, 1] * (n + 1) + hits[a:b, 0])
        hits[a:b] = hits[a:b][order]


@njit(nogil=True, cache=True)
def _mih_radius(Q, tables, radius, budget, counts, failed, work):
    """Items within ``radius`` of each query by probing.

    Returns the rows (index, distance) of the queries that did not fail,
    each query's sorted by (distance, index); ``counts[t]`` is 0 for a
    failed query.
    """
    n = tables.words.shape[0]
    empty = np.empty(0, np.int64)
    hits = np.zeros((1024, 2), np.int64)
    for t in range(Q.shape[0]):
        start = hits[0, 0]
        ok, hits = _search(Q[t], tables, radius, budget, empty, empty, hits, work[t])
        failed[t] = not ok
        if not ok:
            hits[0, 0] = start
        counts[t] = hits[0, 0] - start
        _sort_hits(hits, start + 1, hits[0, 0] + 1, n)
    return hits[1 : hits[0, 0] + 1]


def _make_scan_block(n_words):
    """Offer codes to a top-k, for codes of ``n_words`` words (0: any).

    ``rows`` holds the flat words of positions ``r0...``. A vectorised pass
    keeps only each chunk's smallest distance; the rare chunk that can enter
    the top-k is gone through row by row. Loops run over slices from index
    0 and ``n_words`` is a compile-time constant, so LLVM emits vector code.
    """

    @njit(nogil=True, cache=True)
    def scan_block(q, rows, perm, r0, best_d, best_i):
        w = len(q)
        thr = best_d[-1]
        q0, q1 = q[0], q[min(1, w - 1)]
        for c0 in range(0, len(rows), _SCAN_CHUNK * w):
            chunk = rows[c0 : c0 + _SCAN_CHUNK * w]
            n = len(chunk) // w
            low = _NONE
            for r in range(n):
                if n_words == 1:
                    d = _popcount(q0 ^ chunk[r])
                elif n_words == 2:
                    d = _popcount(q0 ^ chunk[2 * r]) + _popcount(q1 ^ chunk[2 * r + 1])
                else:
                    d = _distance(q, chunk[r * w : (r + 1) * w])
                low = min(low, d)
            if low > thr:
                continue
            # The distance is written out again rather than shared through an
            # inlined helper: measured, the helper made the generic (3+ word)
            # scan 20-40% slower.
            for r in range(n):
                if n_words == 1:
                    d = _popcount(q0 ^ chunk[r])
                elif n_words == 2:
                    d = _popcount(q0 ^ chunk[2 * r]) + _popcount(q1 ^ chunk[2 * r + 1])
                else:
                    d = _distance(q, chunk[r * w : (r + 1) * w])
                if d <= thr:
                    i = np.int64(perm[r0 + c0 // w + r])
                    if d < thr or i < best_i[-1]:
                        _insert_sorted(best_d, best_i, d, i)
                        thr = best_d[-1]

    return scan_block


_scan_block_1 = _make_scan_block(1)
_scan_block_2 = _make_scan_block(2)
_scan_block_n = _make_scan_block(0)


@njit(nogil=True, cache=True)
def _scan_knn(Q, words, perm, out_d, out_i):
    """Brute-force kNN over the (permuted) codes, ties by smaller index.

    Queries go in tiles sharing each block of codes while it is in cache.
    """
    n, n_words = words.shape
    flat = words.reshape(words.size)
    k = out_d.shape[1]
    best_d = np.empty((_SCAN_TILE, k), np.int64)
    best_i = np.empty((_SCAN_TILE, k), np.int64)
    for q0 in range(0, Q.shape[0], _SCAN_TILE):
        n_tile = min(_SCAN_TILE, Q.shape[0] - q0)
        best_d[:] = _NONE
        best_i[:] = _NO_INDEX
        for b0 in range(0, n, _SCAN_BLOCK):
            rows = flat[b0 * n_words : (b0 + _SCAN_BLOCK) * n_words]
            for t in range(n_tile):
                args = (Q[q0 + t], rows, perm, b0, best_d[t], best_i[t])
                if n_words == 1:
                    _scan_block_1(*args)
                elif n_words == 2:
                    _scan_block_2(*args)
                else:
                    _scan_block_n(*args)
        out_d[q0 : q0 + n_tile] = best_d[:n_tile]
        out_i[q0 : q0 + n_tile] = best_i[:n_tile]


@njit(nogil=True, cache=True)
def _scan_radius(Q, words, perm, radius, counts):
    """Brute-force radius search, rows (index, distance) sorted per query."""
    n = words.shape[0]
    flat = words.reshape(words.size)
    hits = np.zeros((1024, 2), np.int64)
    dist = np.empty(_SCAN_CHUNK, np.int64)
    size = 0
    for t in range(Q.shape[0]):
        start = size
        for r0 in range(0, n, _SCAN_CHUNK):
            r1 = min(r0 + _SCAN_CHUNK, n)
            _row_distances(Q[t], flat, r0, r1, dist)
            for r in range(r1 - r0):
                if dist[r] <= radius:
                    if size + 1 == len(hits):
                        grown = np.empty((2 * len(hits), 2), np.int64)
                        grown[: len(hits)] = hits
                        hits = grown
                    size += 1
                    hits[size, 0] = perm[r0 + r]
                    hits[size, 1] = dist[r]
        counts[t] = size - start
        _sort_hits(hits, start + 1, size + 1, n)
    return hits[1 : size + 1]


@njit(nogil=True, cache=True)
def _merge_segments(counts, from_b, rows_a, rows_b):
    """Concatenate per-query row segments taken from A or B, in query order."""
    out = np.empty((counts.sum(), 2), np.int64)
    pa = pb = pos = 0
    for t in range(len(counts)):
        c = counts[t]
        if from_b[t]:
            out[pos : pos + c] = rows_b[pb : pb + c]
            pb += c
        else:
            out[pos : pos + c] = rows_a[pa : pa + c]
            pa += c
        pos += c
    return out


def _run_tasks(fn, n_items, n_threads):
    """Call ``fn(a, b)`` on contiguous blocks of ``range(n_items)``, threaded.

    Several tasks per thread, so a thread slowed down by other jobs on the
    machine takes fewer of them. Returns the results in block order.
    """
    if n_items == 0:
        return []
    n_threads = max(1, min(int(n_threads), n_items))
    n_tasks = 1 if n_threads == 1 else min(n_items, _TASKS_PER_THREAD * n_threads)
    if n_tasks == 1:
        return [fn(0, n_items)]
    bounds = [n_items * i // n_tasks for i in range(n_tasks + 1)]
    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(fn, bounds[:-1], bounds[1:]))
