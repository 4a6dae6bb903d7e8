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

import numpy as np

from ..codes import as_words, check_codes
from ..utils._mih_kernels import (
    _BUCKET_COST,
    _WORK_RATIO,
    _extract_all,
    _merge_segments,
    _mih_knn,
    _mih_radius,
    _run_tasks,
    _scan_knn,
    _scan_radius,
    _sort_table,
    _Tables,
)

_MAX_SUBSTRING = 32  # key bits per table, so keys and masks fit one word


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
    bit_weights : None, default=None
        Only None: substring tables bound plain Hamming distances, not
        bit-weighted ones. Accepted so that every index of
        ``skblsh.neighbors`` is built with the same arguments.

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
    >>> from skblsh.neighbors._mih import MultiIndexHashingIndex
    >>> codes = np.array([[0b0000], [0b0111], [0b0001], [0b1111]], dtype=np.uint8)
    >>> index = MultiIndexHashingIndex(codes, n_bits=4, n_tables=2)
    >>> dist, ind = index.query(np.array([[0b0011]], dtype=np.uint8), k=3)
    >>> dist.tolist(), ind.tolist()
    ([[1, 1, 2]], [[1, 2, 0]])
    """

    def __init__(self, codes, *, n_bits=None, n_tables=None, bit_weights=None):
        if bit_weights is not None:
            raise ValueError(
                "Expected bit_weights=None for multi-index hashing (its substring "
                "tables bound plain Hamming distances), got bit weights."
            )
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
    def codes(self):
        """The indexed codes in the caller's order (a new array)."""
        words = np.empty_like(self._words)
        words[self._perm] = self._words
        return words.view(np.uint8)[:, : self._n_bytes]

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
