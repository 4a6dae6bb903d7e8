"""Exact brute-force search: every query against every indexed code.

Plain Hamming distances use the numba popcount kernel of
:mod:`skblsh.utils._bits`; bit-weighted distances sum one 256-entry table per
byte of the XOR. Both are exact, in the order of :mod:`._topk`.
"""

import numpy as np
from joblib import Parallel, delayed

from ..codes import as_words, hamming_block
from ..utils._bits import hamming_kneighbors
from ..utils._sklearn import get_chunk_n_rows
from ._topk import top_k

# The kernel keeps each query's top k sorted by insertion, which costs O(k)
# per accepted row: beyond a few hundred neighbours a full distance block
# and a partial sort win (measured: 20k codes of 64 bits, 200 queries,
# k=256: kernel 0.12 s, blocks 0.35 s; k=1000: 1.3 s vs 0.5 s; k=5000:
# 30 s vs 1.0 s).
KERNEL_MAX_K = 512


def byte_tables(weights):
    """``tables[j, x]``: summed weights of the bits set in value ``x`` of byte ``j``."""
    bits = np.unpackbits(
        np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little"
    ).astype(np.float64)
    return (bits @ weights.reshape(-1, 8).T).T.copy()


def _parallel(fn, blocks, n_threads):
    if n_threads > 1 and len(blocks) > 1:
        return Parallel(n_jobs=n_threads, prefer="threads")(
            delayed(fn)(block) for block in blocks
        )
    return [fn(block) for block in blocks]


class BruteForceIndex:
    """Exact linear scan over packed codes.

    The codes are held once, as zero-padded 64-bit words (the layout the
    kernel reads), so no query copies the database.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_bytes), dtype=uint8
        Packed codes, padding bits zero.
    bit_weights : ndarray of shape (8 * n_bytes,), default=None
        Non-negative per-bit weights (zero-padded); None for plain Hamming.
    """

    def __init__(self, codes, *, bit_weights=None):
        self.n_bytes = codes.shape[1]
        self._words = as_words(codes)
        self._tables = None if bit_weights is None else byte_tables(bit_weights)

    @property
    def n_samples(self):
        return len(self._words)

    @property
    def codes(self):
        """The indexed codes, a view of the words (no copy)."""
        return self._words.view(np.uint8)[:, : self.n_bytes]

    @property
    def nbytes(self):
        """Memory beyond ``n_samples * n_bytes``: the words' zero padding."""
        return self._words.nbytes - self.n_samples * self.n_bytes

    def add(self, codes):
        self._words = np.concatenate([self._words, as_words(codes)])

    def _blocks(self, n_queries, row_bytes):
        step = get_chunk_n_rows(max(row_bytes, 1), max_n_rows=max(n_queries, 1))
        return [slice(s, s + step) for s in range(0, n_queries, step)]

    def _distances(self, Q):
        """Distances of a block of queries to every code: int32 or float64."""
        if self._tables is None:
            return hamming_block(as_words(Q), self._words)
        # One table look-up per byte of the XOR, summed in a fixed order:
        # equal XOR patterns (duplicate codes) get bit-identical distances,
        # so their ties are broken by index like unweighted ones.
        codes = self.codes
        D = np.zeros((len(Q), self.n_samples))
        for j, table in enumerate(self._tables):
            D += table[Q[:, j, None] ^ codes[None, :, j]]
        return D

    def query(self, Q, k, *, n_threads=1):
        """Exact k nearest of each query: distances and indices, sorted."""
        if self._tables is None:
            # The kernel bounds its own memory and releases the GIL.
            return hamming_kneighbors(as_words(Q), self._words, k, n_threads=n_threads)
        blocks = self._blocks(len(Q), 8 * self.n_samples)
        parts = _parallel(lambda s: top_k(self._distances(Q[s]), k), blocks, n_threads)
        ind = np.concatenate([p[0] for p in parts]).astype(np.int64, copy=False)
        return np.concatenate([p[1] for p in parts]), ind

    def query_radius(self, Q, radius, *, n_threads=1):
        """Every code within ``radius`` of each query, as CSR arrays.

        Returns ``indptr``, ``ind`` and ``dist``; each row is sorted by
        distance, ties by index.
        """
        blocks = self._blocks(len(Q), 8 * self.n_samples)

        def within(s):
            D = self._distances(Q[s])
            rows, cols = np.nonzero(D <= radius)  # row-major: index order
            d = D[rows, cols]
            order = np.lexsort((cols, d, rows))
            return rows[order], cols[order], d[order]

        parts = _parallel(within, blocks, n_threads)
        counts = np.zeros(len(Q), dtype=np.int64)
        for s, (rows, _, _) in zip(blocks, parts, strict=True):
            counts[s] = np.bincount(rows, minlength=len(counts[s]))
        indptr = np.concatenate([[0], np.cumsum(counts)])
        dist_dtype = np.int32 if self._tables is None else np.float64
        ind = np.concatenate([p[1] for p in parts] or [np.empty(0, np.int64)])
        dist = np.concatenate([p[2] for p in parts] or [np.empty(0, dist_dtype)])
        return indptr, ind.astype(np.int64), dist.astype(dist_dtype)
