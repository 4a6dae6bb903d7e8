"""Bit-level kernels on packed codes: packing, popcount distances.

Codes are stored like faiss binary vectors: ``n_bits`` bits in
``ceil(n_bits / 8)`` bytes per row, bit ``l`` in byte ``l // 8`` at position
``l % 8`` (``np.packbits(..., bitorder="little")``). Distances are computed on
64-bit words (rows zero-padded to a multiple of 8 bytes), which is exact
because padding bits are zero on both sides of every XOR.
"""

import numpy as np


def n_bytes_for(n_bits):
    """Number of bytes holding ``n_bits`` packed bits."""
    return (int(n_bits) + 7) // 8


def as_words(codes):
    """View packed uint8 codes as uint64 words, zero-padding each row.

    Returns a C-contiguous ``(n, ceil(n_bytes / 8))`` uint64 array.
    """
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    n, n_bytes = codes.shape
    pad = (-n_bytes) % 8
    if pad:
        codes = np.concatenate([codes, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    return codes.view(np.uint64)


def hamming_block(words_a, words_b):
    """Exact Hamming distances between two blocks of uint64 words.

    Memory is ``len(words_a) * len(words_b) * n_words * 8`` bytes: callers
    bound it by blocking the queries.
    """
    n_words = words_a.shape[1]
    out = np.zeros((words_a.shape[0], words_b.shape[0]), dtype=np.int32)
    for w in range(n_words):
        out += np.bitwise_count(words_a[:, w, None] ^ words_b[None, :, w])
    return out


def block_rows(n_rows, n_cols, *, budget=2**24):
    """Rows per block so that an ``(rows, n_cols)`` int32 block fits ``budget``."""
    return max(1, min(n_rows, budget // max(n_cols, 1)))
