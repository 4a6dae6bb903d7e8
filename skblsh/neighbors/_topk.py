"""Selecting the k nearest: one ordering rule for every search path.

Neighbours are sorted by distance, ties going to the smaller index in the
fitted set. The brute-force kernel, the bit-weighted search, multi-index
hashing, self-exclusion and the merge of shards' partial results all produce
exactly this order, so every algorithm returns the same indices.
"""

import numpy as np


def top_k(D, k, *, offset=0):
    """Indices and distances of the k smallest entries of each row of ``D``.

    Ties are broken by the smaller column index. Column ``j`` stands for item
    ``offset + j``.
    """
    n = D.shape[1]
    if np.issubdtype(D.dtype, np.integer):
        key = D.astype(np.int64) * n + np.arange(n)
        if k < n:
            part = np.argpartition(key, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(n), D.shape)
        order = np.take_along_axis(
            part, np.argsort(np.take_along_axis(key, part, axis=1), axis=1), axis=1
        )
    else:
        order = np.lexsort((np.broadcast_to(np.arange(n), D.shape), D), axis=1)[:, :k]
    return order + offset, np.take_along_axis(D, order, axis=1)


def merge_top_k(dists, inds, k):
    """Merge sorted partial results (e.g. of shards) into the global top k.

    Parameters
    ----------
    dists, inds : list of ndarray of shape (n_queries, k_i)
        Each part's neighbours, with *global* indices. Parts may overlap in
        nothing (disjoint shards) and hold at least k neighbours in total.
    k : int
        Number of neighbours kept.

    Returns
    -------
    dist, ind : ndarray of shape (n_queries, k)
        Sorted by distance, ties by the smaller global index.
    """
    dist = np.concatenate(dists, axis=1)
    ind = np.concatenate(inds, axis=1)
    order = np.lexsort((ind, dist), axis=1)[:, :k]
    return (
        np.take_along_axis(dist, order, axis=1),
        np.take_along_axis(ind, order, axis=1),
    )


def drop_self(ind, dist):
    """Remove each row's own index from ``k + 1`` neighbours.

    Row ``i`` is item ``i`` of the fitted set. When the item itself is not
    among its ``k + 1`` nearest (more than k exact duplicates with smaller
    indices), the last column is dropped instead: the remaining k are then
    exactly the k nearest of the other items.
    """
    n, k1 = ind.shape
    is_self = ind == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return ind[keep].reshape(n, k1 - 1), dist[keep].reshape(n, k1 - 1)


def csr_drop_self(indptr, ind, dist):
    """Remove each row's own index from CSR radius results (row i is item i)."""
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    keep = ind != rows
    counts = np.bincount(rows[keep], minlength=len(indptr) - 1)
    return np.concatenate([[0], np.cumsum(counts)]), ind[keep], dist[keep]
