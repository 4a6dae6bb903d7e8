"""Multi-index hashing: exact sublinear Hamming kNN and radius search.

Norouzi, Punjani & Fleet (CVPR 2012, TPAMI 2014). The ``n_bits`` bits of a
code are split into ``m`` disjoint substrings, each indexed by one table. By
the pigeonhole principle an item at Hamming distance ``D`` from the query
has at least one substring within ``floor(D / m)`` of the query's. Probing
every table with all keys at substring distance ``0, 1, 2, ...`` therefore
finds the near items first, and once tables ``0..j`` are probed to radius
``rho`` and the others to ``rho - 1``, every item not yet seen is at
distance ``>= m * rho + j + 1``: when the k-th best distance found so far is
below that bound the answer is exact, ties included.

A table is a CSR over the substring values ("keys"): item ids sorted by key
and, for each value of the key's top ``p`` bits, the offset of its first id.
When the key has ``s == p`` bits this is a direct-address table over all
``2**s`` keys; when ``s > p`` the remaining ``s - p`` low key bits of each
item are kept beside its id, sorted, and a key is found by binary search in
its prefix bucket. ``p`` is at most ``log2(n)``, so the offsets never cost
more than the ids.

An item is found once in every table where its substring distance is within
the probed radius; it is offered to the top-k only at its first discovery
(the table and radius where the pigeonhole search meets it first), which is
decided from its code, so no per-query memory is needed. A query whose
probing would cost more than a scan of the whole database falls back to the
brute-force kernel (:func:`hamming_kneighbors`), still exact.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ..codes import as_words, check_codes
from ..utils._bits import _popcount, hamming_kneighbors

_NONE = 2**30  # distance "not found yet", larger than any real one
_NO_INDEX = 2**62  # index "not found yet", larger than any real one
_MAX_SUBSTRING = 32  # bits per table key, so keys and masks fit one word
# A query gives up multi-index probing once it has touched more than
# n_samples * n_words / _WORK_RATIO buckets and candidates: a random bucket
# or code access costs about as much as scanning that many packed words.
_WORK_RATIO = 24
_TASKS_PER_THREAD = 8


# ---------------------------------------------------------------------------
# Layout: which bits go to which table, how large the tables are.


def _substring_lengths(n_bits, n_tables):
    """Lengths of the ``n_tables`` contiguous substrings, as even as possible."""
    base, extra = divmod(n_bits, n_tables)
    return np.array(
        [base + 1] * extra + [base] * (n_tables - extra), dtype=np.int64
    )


def _runs(lengths):
    """Per table, runs of contiguous bits inside one 64-bit word.

    Row ``(word, shift, mask, dest)``: ``(code[word] >> shift) & mask`` is
    placed at bit ``dest`` of the table key.
    """
    runs, ptr, start = [], [0], 0
    for s in lengths:
        dest = 0
        while dest < s:
            bit = start + dest
            word, shift = divmod(bit, 64)
            length = min(s - dest, 64 - shift)
            runs.append((word, shift, (1 << length) - 1, dest))
            dest += length
        start += s
        ptr.append(len(runs))
    return np.array(runs, dtype=np.uint64).reshape(-1, 4), np.array(ptr, np.int64)


def _substring_masks(lengths, n_words):
    """Bit mask of each substring over the code's words, shape (m, n_words)."""
    masks = np.zeros((len(lengths), n_words), dtype=np.uint64)
    start = 0
    for j, s in enumerate(lengths):
        for bit in range(start, start + s):
            masks[j, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
        start += s
    return masks


def _prefix_bits(n_samples):
    """Directory bits ``p``: at most ``log2(n)`` so offsets cost <= the ids."""
    return max(1, int(math.floor(math.log2(max(n_samples, 2)))))


def _suffix_dtype(lengths, n_samples):
    extra = int(max(lengths)) - _prefix_bits(n_samples)
    if extra <= 0:
        return None
    for dtype in (np.uint8, np.uint16, np.uint32):
        if extra <= 8 * np.dtype(dtype).itemsize:
            return dtype


def _table_bytes(n_samples, n_bits, n_tables):
    """Bytes of the tables of :class:`MultiIndexHashingIndex` (see ``nbytes``)."""
    lengths = _substring_lengths(n_bits, n_tables)
    p = np.minimum(lengths, _prefix_bits(n_samples))
    suffix = _suffix_dtype(lengths, n_samples)
    per_table = 4 * n_samples + 4 * (2**p + 1)
    if suffix is not None:
        per_table = per_table + np.dtype(suffix).itemsize * n_samples
    return int(per_table.sum())


def _default_n_tables(n_samples, n_bits, n_bytes):
    """Norouzi's ``m ~ n_bits / log2(n)``, within 3x the codes' bytes.

    Among the table counts whose tables fit in three times the codes, the
    one closest (in ratio) to the rule; the smallest tables if none fits.
    """
    lo = -(-n_bits // _MAX_SUBSTRING)
    hi = max(lo, min(n_bits, 64))
    target = n_bits / max(math.log2(max(n_samples, 2)), 1.0)
    budget = 3 * n_bytes * max(n_samples, 1)
    sizes = {m: _table_bytes(max(n_samples, 1), n_bits, m) for m in range(lo, hi + 1)}
    fits = [m for m, b in sizes.items() if b <= budget]
    if not fits:
        return min(sizes, key=sizes.get)
    return min(fits, key=lambda m: (abs(math.log(m / target)), m))


# ---------------------------------------------------------------------------
# Build.


@njit(nogil=True, cache=True)
def _keys(words, runs, r0, r1, out):
    """Table key (substring value) of every code."""
    for i in range(words.shape[0]):
        key = np.uint64(0)
        for r in range(r0, r1):
            word, shift, mask, dest = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
            key |= ((words[i, word] >> shift) & mask) << dest
        out[i] = np.int64(key)


@njit(nogil=True, cache=True)
def _counting_sort(keys, n_buckets, ids, offsets):
    """Stable sort of ``arange(n)`` by key: ids and CSR offsets."""
    offsets[:] = 0
    for i in range(len(keys)):
        offsets[keys[i] + 1] += 1
    for b in range(n_buckets):
        offsets[b + 1] += offsets[b]
    fill = offsets[:n_buckets].astype(np.int64)
    for i in range(len(keys)):
        b = keys[i]
        ids[fill[b]] = i
        fill[b] += 1


def _build_table(words, runs, r0, r1, s, p, ids, suffix):
    """Fill one table's ids (and suffixes); returns its offsets."""
    keys = np.empty(len(words), dtype=np.int64)
    _keys(words, runs, r0, r1, keys)
    offsets = np.empty(2**p + 1, dtype=np.uint32)
    if s == p:
        _counting_sort(keys, 2**p, ids, offsets)
        return offsets
    order = np.argsort(keys, kind="stable")
    ids[:] = order
    sorted_keys = keys[order]
    suffix[:] = sorted_keys & ((1 << (s - p)) - 1)
    counts = np.bincount(sorted_keys >> (s - p), minlength=2**p)
    offsets[0] = 0
    offsets[1:] = np.cumsum(counts)
    return offsets


# ---------------------------------------------------------------------------
# Search kernels.


@njit(nogil=True, cache=True)
def _distance(q, x):
    d = 0
    for w in range(len(q)):
        d += _popcount(q[w] ^ x[w])
    return d


@njit(nogil=True, cache=True)
def _first_seen(q, x, masks, j, rho):
    """Whether probing meets item ``x`` first in table ``j`` at radius ``rho``.

    Probing goes radius by radius, tables in order within a radius, so an
    item is met first in the first table where its substring distance is
    smallest.
    """
    for t in range(masks.shape[0]):
        if t == j:
            continue
        d = 0
        for w in range(len(q)):
            d += _popcount((q[w] ^ x[w]) & masks[t, w])
        if d < rho or (d == rho and t < j):
            return False
    return True


@njit(nogil=True, cache=True)
def _query_keys(q, runs, run_ptr, out):
    for j in range(len(out)):
        key = np.uint64(0)
        for r in range(run_ptr[j], run_ptr[j + 1]):
            word, shift, mask, dest = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
            key |= ((q[word] >> shift) & mask) << dest
        out[j] = np.int64(key)


@njit(nogil=True, cache=True)
def _bucket(ids, offsets, suffix, j, key, s, p):
    """Range ``[a, b)`` of ``ids[j]`` holding the items whose key is ``key``."""
    if s == p:
        return np.int64(offsets[j, key]), np.int64(offsets[j, key + 1])
    e = s - p
    pre = key >> e
    want = key & ((1 << e) - 1)
    lo, hi = np.int64(offsets[j, pre]), np.int64(offsets[j, pre + 1])
    while lo < hi:  # first suffix >= want
        mid = (lo + hi) >> 1
        if np.int64(suffix[j, mid]) < want:
            lo = mid + 1
        else:
            hi = mid
    b = lo
    end = np.int64(offsets[j, pre + 1])
    while b < end and np.int64(suffix[j, b]) == want:
        b += 1
    return lo, b


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
    while p > 0 and (
        best_d[p - 1] > d or (best_d[p - 1] == d and best_i[p - 1] > i)
    ):
        best_d[p] = best_d[p - 1]
        best_i[p] = best_i[p - 1]
        p -= 1
    best_d[p] = d
    best_i[p] = i


@njit(nogil=True, cache=True)
def _mih_knn(Q, words, ids, offsets, suffix, lengths, prefix, runs, run_ptr,
                masks, budget, out_d, out_i, failed, out_work):
    """Exact kNN of each query by multi-index probing; ``failed`` if too costly.

    ``out_work[t]`` receives the (buckets, candidates) query t touched.
    """
    m = len(lengths)
    k = out_d.shape[1]
    best_d = np.empty(k, np.int64)
    best_i = np.empty(k, np.int64)
    qkeys = np.empty(m, np.int64)
    for t in range(Q.shape[0]):
        q = Q[t]
        _query_keys(q, runs, run_ptr, qkeys)
        best_d[:] = _NONE
        best_i[:] = _NO_INDEX
        work = 0
        n_look = 0
        done = False
        rho = 0
        while not done and not failed[t]:
            for j in range(m):
                s, p = lengths[j], prefix[j]
                if rho <= s:
                    mask = (np.int64(1) << rho) - 1
                    while mask < (np.int64(1) << s):
                        a, b = _bucket(ids, offsets, suffix, j, qkeys[j] ^ mask, s, p)
                        work += 1 + b - a
                        n_look += 1
                        for c in range(a, b):
                            i = np.int64(ids[j, c])
                            x = words[i]
                            d = _distance(q, x)
                            if d < best_d[k - 1] or (d == best_d[k - 1] and i < best_i[k - 1]):
                                if _first_seen(q, x, masks, j, rho):
                                    _insert_sorted(best_d, best_i, d, i)
                        if work > budget:
                            break
                        if rho == 0:
                            break
                        mask = _next_mask(mask)
                if work > budget:
                    failed[t] = True
                    break
                # Every item was seen once a table is probed to its full length.
                if rho >= s or best_d[k - 1] < m * rho + j + 1:
                    done = True
                    break
            rho += 1
        out_d[t] = best_d
        out_i[t] = best_i
        out_work[t, 0] = n_look
        out_work[t, 1] = work - n_look


@njit(nogil=True, cache=True)
def _sort_segment(dist, ind, a, b, n):
    """Sort ``[a, b)`` of the parallel arrays by (distance, index)."""
    if b - a < 2:
        return
    key = dist[a:b] * (n + 1) + ind[a:b]
    order = np.argsort(key)
    dist[a:b] = dist[a:b][order]
    ind[a:b] = ind[a:b][order]


@njit(nogil=True, cache=True)
def _grow(arr, size):
    out = np.empty(max(2 * len(arr), size), arr.dtype)
    out[: len(arr)] = arr
    return out


@njit(nogil=True, cache=True)
def _mih_radius(Q, words, ids, offsets, suffix, lengths, prefix, runs, run_ptr,
                   masks, radius, budget, counts, failed):
    """Items within ``radius`` of each query by multi-index probing.

    Returns the concatenated (indices, distances) of the queries that did not
    fail, each sorted by (distance, index); ``counts[t]`` is 0 for a failed t.
    """
    m = len(lengths)
    n = words.shape[0]
    ind = np.empty(1024, np.int64)
    dist = np.empty(1024, np.int64)
    size = 0
    qkeys = np.empty(m, np.int64)
    for t in range(Q.shape[0]):
        q = Q[t]
        _query_keys(q, runs, run_ptr, qkeys)
        start = size
        work = 0
        done = False
        rho = 0
        while not done and not failed[t]:
            for j in range(m):
                s, p = lengths[j], prefix[j]
                if m * rho + j > radius:  # all items within radius already seen
                    done = True
                    break
                if rho <= s:
                    mask = (np.int64(1) << rho) - 1
                    while mask < (np.int64(1) << s):
                        a, b = _bucket(ids, offsets, suffix, j, qkeys[j] ^ mask, s, p)
                        work += 1 + b - a
                        for c in range(a, b):
                            i = np.int64(ids[j, c])
                            x = words[i]
                            d = _distance(q, x)
                            if d <= radius and _first_seen(q, x, masks, j, rho):
                                if size == len(ind):
                                    ind = _grow(ind, size + 1)
                                    dist = _grow(dist, size + 1)
                                ind[size] = i
                                dist[size] = d
                                size += 1
                        if work > budget or rho == 0:
                            break
                        mask = _next_mask(mask)
                if work > budget:
                    failed[t] = True
                    size = start
                    break
                if rho >= s:
                    done = True
                    break
            rho += 1
        counts[t] = size - start
        _sort_segment(dist, ind, start, size, n)
    return ind[:size], dist[:size]


@njit(nogil=True, cache=True)
def _radius_scan(Q, words, radius, counts):
    """Brute-force radius search, sorted by (distance, index)."""
    n = words.shape[0]
    ind = np.empty(1024, np.int64)
    dist = np.empty(1024, np.int64)
    size = 0
    for t in range(Q.shape[0]):
        q = Q[t]
        start = size
        for i in range(n):
            d = _distance(q, words[i])
            if d <= radius:
                if size == len(ind):
                    ind = _grow(ind, size + 1)
                    dist = _grow(dist, size + 1)
                ind[size] = i
                dist[size] = d
                size += 1
        counts[t] = size - start
        _sort_segment(dist, ind, start, size, n)
    return ind[:size], dist[:size]


def _run_tasks(fn, n_items, n_threads):
    """Call ``fn(a, b)`` on contiguous blocks of ``range(n_items)``, threaded.

    Several tasks per thread, so a thread slowed down by other jobs on the
    machine takes fewer of them. Returns the results in block order.
    """
    n_threads = max(1, min(int(n_threads), n_items))
    n_tasks = 1 if n_threads == 1 else min(n_items, _TASKS_PER_THREAD * n_threads)
    bounds = [n_items * i // n_tasks for i in range(n_tasks + 1)]
    if n_tasks <= 1:
        return [fn(0, n_items)]
    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(fn, bounds[:-1], bounds[1:]))


# ---------------------------------------------------------------------------
# The index.


class MultiIndexHashingIndex:
    """Exact Hamming kNN and radius search by multi-index hashing.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_bytes), dtype=uint8
        Packed codes (``np.packbits(..., bitorder="little")``), padding bits
        zero. They are copied.
    n_bits : int, default=None
        Code length, ``8 * n_bytes - 7 <= n_bits <= 8 * n_bytes``; defaults
        to ``8 * n_bytes``.
    n_tables : int, default=None
        Number of substrings (one table each), between ``ceil(n_bits / 32)``
        and ``n_bits``. None picks ``n_bits / log2(n_samples)`` (Norouzi et
        al.'s rule: substrings of about ``log2(n_samples)`` bits) among the
        counts whose tables take at most three times the codes' bytes. It is
        chosen again by :meth:`add`.

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
        if n_bits is None:
            n_bits = 8 * n_bytes
        if (
            isinstance(n_bits, bool)
            or not isinstance(n_bits, (int, np.integer))
            or not 8 * n_bytes - 7 <= n_bits <= 8 * n_bytes
        ):
            raise ValueError(
                f"Expected n_bits to be an integer in [{8 * n_bytes - 7}, "
                f"{8 * n_bytes}] for codes of {n_bytes} bytes, got {n_bits!r}."
            )
        self.n_bits = int(n_bits)
        self._n_bytes = n_bytes
        if n_tables is not None:
            lo = -(-self.n_bits // _MAX_SUBSTRING)
            if (
                isinstance(n_tables, bool)
                or not isinstance(n_tables, (int, np.integer))
                or not lo <= n_tables <= self.n_bits
            ):
                raise ValueError(
                    f"Expected n_tables to be an integer in [{lo}, {self.n_bits}] "
                    f"(substrings of at most {_MAX_SUBSTRING} bits), got "
                    f"{n_tables!r}."
                )
            n_tables = int(n_tables)
        self._n_tables_param = n_tables
        self._words = np.array(as_words(self._check(codes, "codes")), copy=True)
        self._build()

    @property
    def n_samples(self):
        return len(self._words)

    @property
    def nbytes(self):
        """Bytes of the tables (ids, offsets, key suffixes) beyond the codes."""
        return self._ids.nbytes + self._offsets.nbytes + self._suffix.nbytes

    def _check(self, codes, name):
        codes = check_codes(codes, name=name)
        if codes.shape[1] != self._n_bytes:
            raise ValueError(
                f"Expected {name} with {self._n_bytes} bytes per row like the "
                f"index, got {codes.shape[1]}."
            )
        extra = 8 * self._n_bytes - self.n_bits
        if extra and len(codes) and (codes[:, -1] >> (8 - extra)).any():
            raise ValueError(
                f"Expected the {extra} padding bits of each row of {name} to be "
                f"zero (n_bits={self.n_bits}), got nonzero padding."
            )
        return codes

    def _build(self):
        n = self.n_samples
        m = self._n_tables_param
        if m is None:
            m = _default_n_tables(n, self.n_bits, self._n_bytes)
        self.n_tables = m
        lengths = _substring_lengths(self.n_bits, m)
        self.substring_lengths = lengths
        self._prefix = np.minimum(lengths, _prefix_bits(n))
        self._runs, self._run_ptr = _runs(lengths)
        self._masks = _substring_masks(lengths, self._words.shape[1])
        suffix_dtype = _suffix_dtype(lengths, n)
        self._ids = np.empty((m, n), dtype=np.uint32)
        self._suffix = np.empty(
            (m, n) if suffix_dtype else (m, 0), dtype=suffix_dtype or np.uint8
        )
        offsets = [
            _build_table(
                self._words,
                self._runs,
                self._run_ptr[j],
                self._run_ptr[j + 1],
                lengths[j],
                self._prefix[j],
                self._ids[j],
                self._suffix[j],
            )
            for j in range(m)
        ]
        # One 2-D array (tables padded to the largest) keeps the kernels'
        # signature fixed; the padding is at most one prefix bit's worth.
        width = max(len(o) for o in offsets)
        self._offsets = np.zeros((m, width), dtype=np.uint32)
        for j, o in enumerate(offsets):
            self._offsets[j, : len(o)] = o

    def add(self, codes):
        """Append codes; they get indices ``n_samples, n_samples + 1, ...``.

        The tables are rebuilt (``O(n_samples)``): add in batches.
        """
        codes = self._check(codes, "codes")
        if len(codes) + self.n_samples >= 2**32:
            raise ValueError("Expected fewer than 2**32 codes in total.")
        self._words = np.concatenate([self._words, as_words(codes)])
        self._build()

    def _tables(self):
        return (
            self._words,
            self._ids,
            self._offsets,
            self._suffix,
            self.substring_lengths,
            self._prefix,
            self._runs,
            self._run_ptr,
            self._masks,
        )

    def _budget(self):
        return max(64, self.n_samples * self._words.shape[1] // _WORK_RATIO)

    def _check_queries(self, Q, n_threads):
        if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
            raise ValueError(f"Expected n_threads to be a positive integer, got {n_threads!r}.")
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
        Qw = self._check_queries(Q, n_threads)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n_samples:
            raise ValueError(
                f"Expected k to be an integer in [1, n_samples={self.n_samples}], got {k!r}."
            )
        n_q = len(Qw)
        out_d = np.empty((n_q, k), dtype=np.int64)
        out_i = np.empty((n_q, k), dtype=np.int64)
        failed = np.zeros(n_q, dtype=np.bool_)
        work = np.zeros((n_q, 2), dtype=np.int64)
        tables, budget = self._tables(), self._budget()

        def run(a, b):
            _mih_knn(
                Qw[a:b], *tables, budget, out_d[a:b], out_i[a:b], failed[a:b], work[a:b]
            )

        if n_q:
            _run_tasks(run, n_q, n_threads)
        dist = out_d.astype(np.int32)
        self._last_work, self._last_failed = work, failed  # for benchmarks
        if failed.any():
            rows = np.flatnonzero(failed)
            d, i = hamming_kneighbors(Qw[rows], self._words, k, n_threads=n_threads)
            dist[rows], out_i[rows] = d, i
        return dist, out_i

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
        Qw = self._check_queries(Q, n_threads)
        if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
            raise ValueError(f"Expected radius to be a non-negative integer, got {radius!r}.")
        radius = int(min(radius, self.n_bits))
        n_q = len(Qw)
        counts = np.zeros(n_q, dtype=np.int64)
        failed = np.zeros(n_q, dtype=np.bool_)
        tables, budget = self._tables(), self._budget()

        def run(a, b):
            return _mih_radius(
                Qw[a:b], *tables, radius, budget, counts[a:b], failed[a:b]
            )

        parts = _run_tasks(run, n_q, n_threads) if n_q else []
        ind = np.concatenate([p[0] for p in parts] + [np.empty(0, np.int64)])
        dist = np.concatenate([p[1] for p in parts] + [np.empty(0, np.int64)])
        if failed.any():
            rows = np.flatnonzero(failed)
            scan_counts = np.zeros(len(rows), dtype=np.int64)

            def scan(a, b):
                return _radius_scan(Qw[rows[a:b]], self._words, radius, scan_counts[a:b])

            scanned = _run_tasks(scan, len(rows), n_threads)
            s_ind = np.concatenate([p[0] for p in scanned])
            s_dist = np.concatenate([p[1] for p in scanned])
            counts[rows] = scan_counts
            # Interleave: segments of the scanned queries go back in place.
            src = np.zeros(n_q, dtype=bool)
            src[rows] = True
            ind, dist = _merge_segments(counts, src, ind, dist, s_ind, s_dist)
        indptr = np.zeros(n_q + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return indptr, ind, dist.astype(np.int32)


@njit(nogil=True, cache=True)
def _merge_segments(counts, from_b, ind_a, dist_a, ind_b, dist_b):
    """Concatenate per-query segments taken from A or B, in query order."""
    total = counts.sum()
    ind = np.empty(total, np.int64)
    dist = np.empty(total, np.int64)
    pa = pb = pos = 0
    for t in range(len(counts)):
        c = counts[t]
        if from_b[t]:
            ind[pos : pos + c] = ind_b[pb : pb + c]
            dist[pos : pos + c] = dist_b[pb : pb + c]
            pb += c
        else:
            ind[pos : pos + c] = ind_a[pa : pa + c]
            dist[pos : pos + c] = dist_a[pa : pa + c]
            pa += c
        pos += c
    return ind, dist
