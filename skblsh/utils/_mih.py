"""Multi-index hashing: exact sublinear Hamming kNN and radius search.

Norouzi, Punjani & Fleet (CVPR 2012, TPAMI 2014). The ``n_bits`` bits of a
code are split into ``m`` disjoint substrings, each indexed by one table. By
the pigeonhole principle an item at Hamming distance ``D`` from the query
has a substring within ``floor(D / m)`` of the query's. Probing every table
with all keys at substring distance ``0, 1, 2, ...`` therefore meets the
near items first; once ``j + 1`` tables are probed to radius ``rho`` and the
others to ``rho - 1``, every item not met yet is at distance
``>= m * rho + j + 1``. When the k-th best distance found is below that
bound the answer is exact, ties included. Within a radius, the tables go in
increasing number of candidates they gave at the previous radius, so that
the bound rises cheaply where the query's neighbourhood is sparse.

Layout. The codes are kept sorted by their table-0 key (``perm`` maps a
position back to the caller's index), so table 0's buckets are contiguous
runs of codes, scanned like a brute-force block. Tables ``1..m-1`` hold
positions sorted by key and, beside each, a filter: up to 64 code bits from
outside the table's substring. ``rho + popcount(filter ^ query filter)``
bounds the distance from below, so most candidates are rejected without the
random read of their code. Each table's CSR offsets cover the key's top
``p <= log2(n)`` bits: all ``2**s`` keys when ``s <= p`` (direct
addressing), otherwise the remaining ``s - p`` key bits are stored per item
and a key is found by binary search within its ``p``-bit bucket.

An item is met in every table where its substring distance is within the
probed radius, but offered to the result only in the first table (in
probing order) where that distance is smallest: decided from its code, so
no per-query memory is needed. A query whose probing would cost more than a
scan of the whole database falls back to a scan (exact too, ties by smaller
index).
"""

import math
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ..codes import as_words, check_codes
from ..utils._bits import _popcount

_NONE = 2**30  # distance "not found yet", larger than any real one
_NO_INDEX = 2**62  # index "not found yet", larger than any real one
_MAX_SUBSTRING = 32  # key bits per table, so keys and masks fit one word
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
# Layout: which bits go to which table, how large the tables are.


def _substring_lengths(n_bits, n_tables):
    """Lengths of the ``n_tables`` contiguous substrings, as even as possible."""
    base, extra = divmod(n_bits, n_tables)
    return np.array([base + 1] * extra + [base] * (n_tables - extra), dtype=np.int64)


def _substring_bits(lengths):
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return [list(range(a, a + s)) for a, s in zip(starts, lengths, strict=True)]


def _filter_bits(lengths, n_bits, width):
    """Per table, ``width`` code bits outside its substring (fewer if short).

    The bits following the substring, cyclically: with two tables, the whole
    other substring when it fits.
    """
    bits = []
    for sub in _substring_bits(lengths):
        g = min(width, n_bits - len(sub))
        bits.append([(sub[-1] + 1 + t) % n_bits for t in range(g)])
    return bits


def _runs(bit_lists):
    """Runs of consecutive code bits inside one 64-bit word, per bit list.

    Row ``(word, shift, mask, dest)``: ``(code[word] >> shift) & mask`` is
    placed at bit ``dest`` of the extracted value; ``ptr`` delimits the rows
    of each list.
    """
    runs, ptr = [], [0]
    for bits in bit_lists:
        t = 0
        while t < len(bits):
            word, shift = divmod(bits[t], 64)
            length = 1
            while (
                t + length < len(bits)
                and bits[t + length] == bits[t] + length
                and shift + length < 64
            ):
                length += 1
            runs.append((word, shift, (1 << length) - 1, t))
            t += length
        ptr.append(len(runs))
    return np.array(runs, dtype=np.uint64).reshape(-1, 4), np.array(ptr, np.int64)


def _substring_masks(lengths, n_words):
    """Bit mask of each substring over the code's words, shape (m, n_words)."""
    masks = np.zeros((len(lengths), n_words), dtype=np.uint64)
    for j, bits in enumerate(_substring_bits(lengths)):
        for bit in bits:
            masks[j, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
    return masks


def _prefix_bits(n_samples):
    """Offset bits ``p``: at most ``log2(n)``, so offsets cost <= the ids."""
    return max(1, int(math.floor(math.log2(max(n_samples, 2)))))


def _uint_bytes(n_bits):
    """Bytes of the smallest unsigned dtype holding ``n_bits`` bits (0 if 0)."""
    return 0 if n_bits <= 0 else 1 << max(0, math.ceil(math.log2(n_bits)) - 3)


def _table_bytes(n_samples, n_bits, n_tables, filter_bytes):
    """Bytes of the tables (see ``MultiIndexHashingIndex.nbytes``)."""
    n = max(n_samples, 1)
    lengths = _substring_lengths(n_bits, n_tables)
    p = np.minimum(lengths, _prefix_bits(n))
    suffix = _uint_bytes(int((lengths - p).max()))
    per_item = 4 + (n_tables - 1) * (4 + filter_bytes) + n_tables * suffix
    return int(per_item * n + 4 * (2**p + 1).sum())


def _plan(n_samples, n_bits, n_bytes, n_tables=None):
    """(n_tables, filter_bytes) of the default layout.

    The fewest tables whose substrings have at most ``p + 1`` bits (``p =
    floor(log2(n))`` offset bits), i.e. Norouzi et al.'s ``log2(n)``-bit
    substrings rounded toward more tables: longer substrings need a binary
    search per key and were 2-10x slower on the speech codes of
    ``benchmarks/bench_mih.py`` (2 tables instead of 3 at L=64, N=10M),
    while one extra bit was faster (3 tables instead of 4 at N=3M). Then the
    widest filter that keeps the tables within three times the codes'
    bytes. When those tables do not fit, the most tables that fit.
    """
    low = -(-n_bits // _MAX_SUBSTRING)
    budget = 3 * n_bytes * max(n_samples, 1)
    if n_tables is None:
        target = max(low, -(-n_bits // (_prefix_bits(n_samples) + 1)))
        sizes = {
            m: _table_bytes(n_samples, n_bits, m, 0)
            for m in range(low, max(low, min(n_bits, 64)) + 1)
        }
        fits = [m for m, size in sizes.items() if size <= budget]
        below = [m for m in fits if m <= target]
        if below:
            n_tables = max(below)
        else:
            n_tables = min(fits) if fits else min(sizes, key=sizes.get)
    if n_tables == 1:
        return 1, 0
    lengths = _substring_lengths(n_bits, n_tables)
    useful = _uint_bytes(n_bits - int(lengths.min()))
    for f in (8, 4, 2, 1):
        if f <= useful and _table_bytes(n_samples, n_bits, n_tables, f) <= budget:
            return n_tables, f
    return n_tables, 0


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


# ---------------------------------------------------------------------------
# The index.


def _check_int(value, name, low, high=None):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"Expected {name} to be an integer {bounds}, got {value!r}.")
    return int(value)


class MultiIndexHashingIndex:
    """Exact Hamming kNN and radius search by multi-index hashing.

    Sublinear on clustered codes (learned hashes of real data); on uniformly
    random codes it only beats a scan for very large ``n_samples`` (see
    ``benchmarks/bench_mih.py``).

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_bytes), dtype=uint8
        Packed codes (``np.packbits(..., bitorder="little")``), padding bits
        zero. They are copied (sorted by their first substring).
    n_bits : int, default=None
        Code length, ``8 * n_bytes - 7 <= n_bits <= 8 * n_bytes``; defaults
        to ``8 * n_bytes``.
    n_tables : int, default=None
        Number of substrings (one table each), between ``ceil(n_bits / 32)``
        and ``n_bits``. None picks about ``n_bits / log2(n_samples)``
        (Norouzi et al.'s substrings of ``log2(n_samples)`` bits) among the
        counts whose tables take at most three times the codes' bytes;
        :meth:`add` picks again.

    Attributes
    ----------
    n_samples : int
        Number of indexed codes.
    n_bits : int
        Code length.
    n_tables : int
        Number of tables.
    substring_lengths : ndarray of shape (n_tables,), dtype=int64
        Bits of each table's key (consecutive bits of the code).
    filter_bits : int
        Code bits from outside its substring that tables ``1..n_tables-1``
        keep beside each entry (the most that fits in the memory budget).

    References
    ----------
    M. Norouzi, A. Punjani and D. J. Fleet, "Fast exact search in Hamming
    space with multi-index hashing", IEEE TPAMI 36(6), 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.utils._mih import MultiIndexHashingIndex
    >>> codes = np.array([[0b0000], [0b0111], [0b0001], [0b1111]], dtype=np.uint8)
    >>> index = MultiIndexHashingIndex(codes, n_bits=4, n_tables=2)
    >>> dist, ind = index.query(np.array([[0b0011]], dtype=np.uint8), k=3)
    >>> dist.tolist(), ind.tolist()
    ([[1, 1, 2]], [[1, 2, 0]])
    """

    def __init__(self, codes, *, n_bits=None, n_tables=None):
        codes = check_codes(codes, name="codes")
        n_bytes = codes.shape[1]
        if n_bytes == 0:
            raise ValueError("Expected codes with at least one byte per row, got 0.")
        self._n_bytes = n_bytes
        self.n_bits = _check_int(
            8 * n_bytes if n_bits is None else n_bits,
            "n_bits",
            8 * n_bytes - 7,
            8 * n_bytes,
        )
        if n_tables is not None:
            low = -(-self.n_bits // _MAX_SUBSTRING)
            n_tables = _check_int(n_tables, "n_tables", low, self.n_bits)
        self._n_tables_param = n_tables
        self._build(as_words(self._check(codes, "codes")))

    @property
    def n_samples(self):
        return len(self._words)

    @property
    def nbytes(self):
        """Bytes held beyond the codes: order, ids, filters, suffixes, offsets."""
        return sum(
            a.nbytes
            for a in (self._perm, self._ids, self._filters, self._suffix, self._offsets)
        )

    def _check(self, codes, name):
        codes = check_codes(codes, name=name)
        if codes.shape[1] != self._n_bytes:
            raise ValueError(
                f"Expected {name} with {self._n_bytes} bytes per row like the "
                f"indexed codes, got {codes.shape[1]}."
            )
        extra = 8 * self._n_bytes - self.n_bits
        if extra and len(codes) and (codes[:, -1] >> (8 - extra)).any():
            raise ValueError(
                f"Expected the {extra} padding bits of each row of {name} to be "
                f"zero (n_bits={self.n_bits}), got nonzero padding."
            )
        return codes

    def _build(self, words):
        """Tables for ``words`` (uint64 codes in the caller's order)."""
        n, n_bits = len(words), self.n_bits
        if n >= 2**32:
            raise ValueError(f"Expected fewer than 2**32 codes, got {n}.")
        m, f = _plan(n, n_bits, self._n_bytes, self._n_tables_param)
        lengths = _substring_lengths(n_bits, m)
        prefix = np.minimum(lengths, _prefix_bits(n))
        self.n_tables, self.substring_lengths, self._prefix = m, lengths, prefix
        self._key_runs, self._key_ptr = _runs(_substring_bits(lengths))
        filter_bits = _filter_bits(lengths, n_bits, 8 * f)
        filter_bits[0] = []  # table 0 reads the codes themselves
        self.filter_bits = min(len(b) for b in filter_bits[1:]) if f else 0
        self._filter_runs, self._filter_ptr = _runs(filter_bits if f else [[]] * m)
        self._masks = _substring_masks(lengths, words.shape[1])
        suffix_bytes = _uint_bytes(int((lengths - prefix).max()))
        self._suffix = np.empty(
            (m, n if suffix_bytes else 0), dtype=f"u{max(suffix_bytes, 1)}"
        )
        self._ids = np.empty((m - 1, n), dtype=np.uint32)
        self._filters = np.empty((m - 1, n if f else 0), dtype=f"u{max(f, 1)}")
        self._perm = np.empty(n, dtype=np.uint32)
        runs, ptr = self._key_runs, self._key_ptr
        offsets = [
            _sort_table(
                words,
                runs,
                ptr[0],
                ptr[1],
                lengths[0],
                prefix[0],
                self._perm,
                self._suffix[0],
            )
        ]
        self._words = np.ascontiguousarray(words[self._perm])
        for j in range(1, m):
            ids = self._ids[j - 1]
            offsets.append(
                _sort_table(
                    self._words,
                    runs,
                    ptr[j],
                    ptr[j + 1],
                    lengths[j],
                    prefix[j],
                    ids,
                    self._suffix[j],
                )
            )
            if f:
                values = np.empty(n, dtype=np.uint64)
                r0, r1 = self._filter_ptr[j], self._filter_ptr[j + 1]
                _extract_all(self._words, self._filter_runs, r0, r1, values)
                self._filters[j - 1] = values[ids]
        self._starts = np.cumsum([0] + [len(o) for o in offsets[:-1]]).astype(np.int64)
        self._offsets = np.concatenate(offsets)

    def add(self, codes):
        """Append codes; they get indices ``n_samples, n_samples + 1, ...``.

        The tables are rebuilt (``O(n_samples)``): add in batches.

        Parameters
        ----------
        codes : ndarray of shape (n_new, n_bytes), dtype=uint8
            Packed codes with the same number of bytes.
        """
        new = as_words(self._check(codes, "codes"))
        words = np.empty((self.n_samples + len(new), new.shape[1]), dtype=np.uint64)
        words[self._perm] = self._words
        words[self.n_samples :] = new
        self._build(words)

    def _tables(self):
        return _Tables(
            self._words,
            self._perm,
            self._ids,
            self._filters.view(np.uint8),
            self._suffix.view(np.uint8),
            self._offsets,
            self._starts,
            self.substring_lengths,
            self._prefix,
            self._key_runs,
            self._key_ptr,
            self._filter_runs,
            self._filter_ptr,
            self._masks,
            self._filters.dtype.itemsize,
            self._suffix.dtype.itemsize,
        )

    def _budget(self):
        """Probing cost (see ``_WORK_RATIO``) of about one scan of the codes."""
        return max(64 * _BUCKET_COST, self._words.size // _WORK_RATIO)

    def _queries(self, Q, n_threads):
        _check_int(n_threads, "n_threads", 1)
        return np.ascontiguousarray(as_words(self._check(Q, "Q")))

    def query(self, Q, k, *, n_threads=1):
        """Exact k nearest neighbours, sorted by (distance, index).

        Parameters
        ----------
        Q : ndarray of shape (n_queries, n_bytes), dtype=uint8
            Packed query codes.
        k : int
            Number of neighbours, ``1 <= k <= n_samples``.
        n_threads : int, default=1
            Threads over blocks of queries.

        Returns
        -------
        distances : ndarray of shape (n_queries, k), dtype=int32
        indices : ndarray of shape (n_queries, k), dtype=int64
            Nearest first; among equal distances, smaller index first.
        """
        Qw = self._queries(Q, n_threads)
        k = _check_int(k, f"k (n_samples={self.n_samples})", 1, self.n_samples)
        # Queries sorted by their table-0 key: similar queries read the same
        # buckets one after the other, from cache.
        order = self._query_order(Qw)
        Qw = Qw[order]
        n_q = len(Qw)
        out_d = np.empty((n_q, k), dtype=np.int64)
        out_i = np.empty((n_q, k), dtype=np.int64)
        failed = np.zeros(n_q, dtype=np.bool_)
        work = np.zeros((n_q, 3), dtype=np.int64)
        tables, budget = self._tables(), self._budget()

        def probe(a, b):
            _mih_knn(
                Qw[a:b], tables, budget, out_d[a:b], out_i[a:b], failed[a:b], work[a:b]
            )

        _run_tasks(probe, n_q, n_threads)
        rows = np.flatnonzero(failed)
        if len(rows):
            scan_d = np.empty((len(rows), k), dtype=np.int64)
            scan_i = np.empty((len(rows), k), dtype=np.int64)

            def scan(a, b):
                _scan_knn(
                    Qw[rows[a:b]], self._words, self._perm, scan_d[a:b], scan_i[a:b]
                )

            _run_tasks(scan, len(rows), n_threads)
            out_d[rows], out_i[rows] = scan_d, scan_i
        back = np.argsort(order)
        # For benchmarks: (buckets, candidates, code reads) and scanned, per query.
        self._last_work, self._last_failed = work[back], failed[back]
        return out_d[back].astype(np.int32), out_i[back]

    def _query_order(self, Qw):
        keys = np.empty(len(Qw), dtype=np.uint64)
        _extract_all(Qw, self._key_runs, self._key_ptr[0], self._key_ptr[1], keys)
        return np.argsort(keys, kind="stable")

    def query_radius(self, Q, radius, *, n_threads=1):
        """All items within ``radius``, per query sorted by (distance, index).

        Parameters
        ----------
        Q : ndarray of shape (n_queries, n_bytes), dtype=uint8
            Packed query codes.
        radius : int
            Largest distance returned, ``>= 0``.
        n_threads : int, default=1
            Threads over blocks of queries.

        Returns
        -------
        indptr : ndarray of shape (n_queries + 1,), dtype=int64
            Query ``t``'s neighbours are ``indices[indptr[t]:indptr[t + 1]]``.
        indices : ndarray of shape (indptr[-1],), dtype=int64
        distances : ndarray of shape (indptr[-1],), dtype=int32
        """
        Qw = self._queries(Q, n_threads)
        radius = min(_check_int(radius, "radius", 0), self.n_bits)
        n_q = len(Qw)
        counts = np.zeros(n_q, dtype=np.int64)
        failed = np.zeros(n_q, dtype=np.bool_)
        work = np.zeros((n_q, 3), dtype=np.int64)
        tables, budget = self._tables(), self._budget()

        def probe(a, b):
            return _mih_radius(
                Qw[a:b], tables, radius, budget, counts[a:b], failed[a:b], work[a:b]
            )

        empty = [np.empty((0, 2), np.int64)]
        hits = np.concatenate(empty + _run_tasks(probe, n_q, n_threads))
        rows = np.flatnonzero(failed)
        if len(rows):
            scan_counts = np.zeros(len(rows), dtype=np.int64)

            def scan(a, b):
                return _scan_radius(
                    Qw[rows[a:b]], self._words, self._perm, radius, scan_counts[a:b]
                )

            scanned = np.concatenate(empty + _run_tasks(scan, len(rows), n_threads))
            counts[rows] = scan_counts
            hits = _merge_segments(counts, failed, hits, scanned)
        self._last_work, self._last_failed = work, failed
        indptr = np.zeros(n_q + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, hits[:, 0].copy(), hits[:, 1].astype(np.int32)
