"""Brute-force references for every Hamming search test, sharing no code
with the library: distances come from unpacked bits, orders from a stable
argsort (nearest first, ties by smaller index)."""

import numpy as np


def random_codes(rng, n, n_bits, n_distinct=None):
    """Packed codes; drawn from ``n_distinct`` patterns to force duplicates."""
    pool = rng.rand(n_distinct or n, n_bits) < 0.5
    bits = pool[rng.randint(len(pool), size=n)]
    return np.packbits(bits, axis=1, bitorder="little")


def bits_of(codes, n_bits=None):
    codes = np.asarray(codes, dtype=np.uint8)
    n_bits = 8 * codes.shape[1] if n_bits is None else n_bits
    return np.unpackbits(codes, axis=1, count=n_bits, bitorder="little").astype(bool)


def brute_distances(Q, F, n_bits=None, bit_weights=None):
    """(n_queries, n_fit) Hamming distances, or bit-weighted ones."""
    diff = bits_of(Q, n_bits)[:, None, :] != bits_of(F, n_bits)[None, :, :]
    if bit_weights is None:
        return diff.sum(axis=2)
    return np.where(diff, bit_weights, 0.0).sum(axis=2)


def brute_kneighbors(D, k):
    """Distances and indices of the k nearest: a stable argsort of each row."""
    ind = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, ind, axis=1), ind


def exclude_self(D):
    """Distances with the diagonal at infinity (self never a neighbour)."""
    D = D.astype(np.float64)
    np.fill_diagonal(D, np.inf)
    return D


def brute_radius(D, radius):
    """Per row, the (distances, indices) within ``radius``, sorted by (d, i)."""
    out = []
    for row in D:
        ind = np.flatnonzero(row <= radius)
        order = np.argsort(row[ind], kind="stable")
        out.append((row[ind][order], ind[order]))
    return out
