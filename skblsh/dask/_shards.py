"""What runs on the workers: one shard of a sharded index, and the merges.

Pure numpy and :mod:`skblsh.neighbors`, no dask: a :class:`Shard` is built,
queried and merged by plain functions that dask calls as tasks. A shard is
a local fitted estimator over one row block of the training codes plus the
global index of its first row, so whatever index the local estimator builds
(any entry of ``ALGORITHMS``) serves the shard unchanged.
"""

import numpy as np
from sklearn.base import clone

from ..neighbors import HammingKNeighborsRegressor
from ..neighbors._base import neighbour_weights
from ..neighbors._topk import drop_self, merge_top_k

__all__ = [
    "Shard",
    "build_shard",
    "merge_kneighbors",
    "merge_predict",
    "shard_codes",
    "shard_info",
    "shard_kneighbors",
    "shard_targets",
]


class Shard:
    """A fitted local estimator over rows ``offset .. offset + n_samples - 1``.

    Parameters
    ----------
    estimator : HammingNeighborsBase
        Fitted on this block of codes (and targets).
    offset : int
        Global index of the block's first row.
    """

    def __init__(self, estimator, offset):
        self.estimator = estimator
        self.offset = int(offset)

    @property
    def n_samples(self):
        return self.estimator.n_samples_fit_

    def __sizeof__(self):
        # dask's scheduler weighs moving a task's inputs by their sizeof: an
        # honest size keeps each query task on the worker holding its shard
        # instead of shipping the shard to the queries.
        index = self.estimator._index
        size = index.codes.nbytes + int(getattr(index, "nbytes", 0))
        targets = getattr(self.estimator, "_targets", None)
        return (
            object.__sizeof__(self) + size + (0 if targets is None else targets.nbytes)
        )


def build_shard(estimator, codes, targets, offset):
    """Fit a clone of ``estimator`` on a block; returns a :class:`Shard`."""
    # A clone: the threaded scheduler hands every task the same template.
    estimator = clone(estimator)
    if targets is None:
        estimator.fit(codes)
    else:
        estimator.fit(codes, targets)
    return Shard(estimator, offset)


def shard_info(shard):
    """What the client needs to know of a built shard: small values only."""
    info = {"n_samples": shard.n_samples}
    if hasattr(shard.estimator, "binary_targets_"):
        info["binary_targets"] = shard.estimator.binary_targets_
    return info


def shard_codes(shard):
    return shard.estimator.codes_


def shard_targets(shard, dtype):
    """The shard's training targets, 2-D, as ``dtype`` (binary ones unpacked)."""
    est = shard.estimator
    if est.binary_targets_:
        return est.targets_.astype(dtype)
    return est._targets


def shard_kneighbors(shard, Q, k, rows=None):
    """The shard's exact ``min(k, n_samples)`` nearest, with global indices.

    ``rows`` is None, or ``(binary, dtype)`` to also return the neighbours'
    targets: packed bytes when every shard's targets are binary (``binary``),
    else values of ``dtype`` (what the local regressor would have stored).
    """
    est = shard.estimator
    dist, ind = est.kneighbors(Q, n_neighbors=min(k, shard.n_samples))
    if rows is None:
        return dist, ind + shard.offset
    binary, dtype = rows
    if binary or not est.binary_targets_:
        values = est._targets[ind]
    else:
        values = np.unpackbits(
            est._targets[ind], axis=2, count=est.n_outputs_, bitorder="little"
        ).astype(dtype)
    return dist, ind + shard.offset, values


def _merge(parts, k):
    """Global top k of the shards' parts, and the column each came from."""
    dists = [p[0] for p in parts]
    total = sum(d.shape[1] for d in dists)
    if total < k:
        # Never a silently short answer: every shard must have replied.
        raise RuntimeError(
            f"Expected the shards to return at least {k} neighbours per query, "
            f"got {total}."
        )
    # Global indices are distinct, so ordering by index * total + column is
    # ordering by index: merge_top_k breaks ties as the local search does and
    # also tells which column (shard and rank) each neighbour came from.
    start = np.cumsum([0] + [d.shape[1] for d in dists])[:-1]
    keyed = [
        p[1] * total + np.arange(a, a + p[1].shape[1])
        for p, a in zip(parts, start, strict=True)
    ]
    dist, key = merge_top_k(dists, keyed, k)
    ind, column = np.divmod(key, total)
    return dist, ind, column


def merge_kneighbors(parts, k, self_offset=None):
    """Merge shards' ``(dist, ind)`` into the global k nearest.

    With ``self_offset``, the queries are the fitted rows starting at that
    global index, and the parts hold ``k + 1`` neighbours: each row's own
    index is dropped as the local estimator does.
    """
    dist, ind, _ = _merge(parts, k if self_offset is None else k + 1)
    if self_offset is not None:
        ind, dist = drop_self(ind - self_offset, dist)
        ind += self_offset
    return dist, ind


def merge_predict(parts, k, weights, binary, n_outputs, y_1d):
    """Merge shards' ``(dist, ind, rows)`` and average like the local regressor."""
    dist, ind, column = _merge(parts, k)
    rows = np.concatenate([p[2] for p in parts], axis=1)
    rows = np.take_along_axis(rows, column[:, :, None], axis=1)
    # The local regressor's own averaging, over the gathered rows: the same
    # arithmetic in the same order, so the same bits.
    local = HammingKNeighborsRegressor(n_neighbors=k, weights=weights)
    local._targets = rows.reshape(-1, rows.shape[2])
    local.binary_targets_ = binary
    local.n_outputs_ = n_outputs
    w = neighbour_weights(weights, dist)
    pred = local._average(w, np.arange(rows.shape[0] * k).reshape(-1, k))
    return pred.ravel() if y_1d else pred
