"""Sharded exact Hamming neighbours: the index stays on the dask workers.

Each row chunk of the training codes becomes a *shard*: a local estimator
from :mod:`skblsh.neighbors` fitted on that chunk by a task on the worker,
kept there as a persisted dask object (a future under ``distributed``).
A query asks every shard for its exact local top k with global indices and
merges the answers with :func:`skblsh.neighbors._topk.merge_top_k`, which
breaks ties by the smaller global index like the local search: distances,
indices and predictions equal the local estimator's, bit for bit.
"""

import dask
import dask.array as da
import numpy as np
from dask import delayed
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .. import neighbors as _local
from ..codes import check_codes
from ..neighbors._base import _check_count, check_bit_weights, validate_codes
from ..utils._sklearn import _fit_context
from ._shards import (
    build_shard,
    merge_kneighbors,
    merge_predict,
    shard_codes,
    shard_info,
    shard_kneighbors,
    shard_targets,
)

__all__ = ["HammingKNeighborsRegressor", "HammingNearestNeighbors"]

# Rows per task when numpy queries are sent to the shards: large enough that
# a task's fixed cost is small, small enough to spread over the workers.
_QUERY_BLOCK_ROWS = 65536


def _check_dask_codes(X, name, fitted=None):
    """Check a dask array of codes on its metadata only (nothing computed).

    ``fitted`` is the estimator whose ``n_features_in_`` queries must match.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected {name} to be a 2-D array of packed codes, got shape {X.shape}."
        )
    check_codes(np.empty((0, X.shape[1]), dtype=X.dtype), name=name)
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            f"Expected {name} with known chunk sizes, got unknown ones: call "
            f"{name}.compute_chunk_sizes() first."
        )
    if fitted is not None and X.shape[1] != fitted.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(fitted).__name__} is "
            f"expecting {fitted.n_features_in_} features as input."
        )
    return X.rechunk({1: -1})


def _compute(*collections):
    """``dask.compute``, naming the one failure dask cannot repair itself."""
    try:
        return dask.compute(*collections)
    except Exception as exc:
        try:
            from distributed.client import FutureCancelledError
        except ImportError:  # pragma: no cover - distributed is optional
            raise exc from None
        if isinstance(exc, FutureCancelledError):
            # Data without lineage (e.g. client.scatter) lost with a worker:
            # dask cannot recompute it, so no complete answer exists.
            raise RuntimeError(
                "Expected every shard of the index to be available or "
                "recomputable, got a shard whose input data was lost with its "
                "worker and has no lineage (scattered data?). Refit from a "
                f"dask array computed on the cluster. ({exc})"
            ) from exc
        raise


class _ShardedNeighborsBase(BaseEstimator):
    """Fitting the shards, querying them, and the local equivalent."""

    def _local_estimator(self, **overrides):
        return self._local_class(**{**self.get_params(), **overrides})

    def _fit_shards(self, X, y=None):
        if not isinstance(X, da.Array):
            X = da.asarray(X)
        X = _check_dask_codes(X, "X")
        n_samples, n_bytes = X.shape
        if n_samples == 0 or n_bytes == 0:
            raise ValueError(
                f"Expected X with at least one code and one byte, got shape {X.shape}."
            )
        if self.bit_weights is not None:
            check_bit_weights(self.bit_weights, 8 * n_bytes)
        sizes = np.array(X.chunks[0], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        x_blocks = X.to_delayed().ravel()
        if y is None:
            y_blocks = [None] * len(x_blocks)
        else:
            y = y if isinstance(y, da.Array) else da.asarray(y)
            if y.ndim not in (1, 2) or y.shape[0] != n_samples:
                raise ValueError(
                    f"Expected y of shape ({n_samples},) or ({n_samples}, "
                    f"n_outputs), as many rows as X, got shape {y.shape}."
                )
            y = y.rechunk({0: X.chunks[0], **({1: -1} if y.ndim == 2 else {})})
            y_blocks = y.to_delayed().ravel()
        # Empty chunks hold no codes: they make no shard.
        keep = np.flatnonzero(sizes)
        template = self._local_estimator(n_neighbors=1)
        shards = [
            delayed(build_shard)(template, x_blocks[i], y_blocks[i], offsets[i])
            for i in keep
        ]
        shards = list(dask.persist(*shards))
        # Waits for every shard (raising a shard's error here, at fit) and
        # brings back a few numbers per shard, never the codes.
        infos = dask.compute(*[delayed(shard_info)(s) for s in shards])
        self._shards = shards
        self._infos = infos
        self.shard_sizes_ = sizes[keep]
        self.n_shards_ = len(shards)
        self.n_samples_fit_ = int(n_samples)
        self.n_features_in_ = int(n_bytes)
        return X, y

    @property
    def codes_(self):
        """The indexed codes: a dask array computed from the shards."""
        check_is_fitted(self, "n_samples_fit_")
        return da.concatenate(
            [
                da.from_delayed(
                    delayed(shard_codes, pure=True)(s),
                    shape=(int(n), self.n_features_in_),
                    dtype=np.uint8,
                )
                for s, n in zip(self._shards, self.shard_sizes_, strict=True)
            ]
        )

    def _query_blocks(self, X):
        """``(blocks, sizes, as_dask, self_offsets)`` of the queries.

        Blocks are delayed arrays of query codes; None means the fitted codes
        themselves, one block per shard, each row excluding itself.
        """
        check_is_fitted(self, "n_samples_fit_")
        if X is None:
            blocks = [delayed(shard_codes, pure=True)(s) for s in self._shards]
            offsets = np.concatenate([[0], np.cumsum(self.shard_sizes_)[:-1]])
            return blocks, list(self.shard_sizes_), True, list(offsets)
        if isinstance(X, da.Array):
            X = _check_dask_codes(X, "X", self)
            if X.shape[0] == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a "
                    f"minimum of 1 is required by {type(self).__name__}."
                )
            # Empty chunks add no rows: they get no task.
            pairs = [
                (b, n)
                for b, n in zip(X.to_delayed().ravel(), X.chunks[0], strict=True)
                if n
            ]
            return [b for b, _ in pairs], [n for _, n in pairs], True, None
        Q = validate_codes(self, X, reset=False)
        parts = [
            Q[s : s + _QUERY_BLOCK_ROWS] for s in range(0, len(Q), _QUERY_BLOCK_ROWS)
        ]
        return [delayed(p) for p in parts], [len(p) for p in parts], False, None

    def _check_k(self, n_neighbors, n_queries, exclude_self):
        k = _check_count(
            self.n_neighbors if n_neighbors is None else n_neighbors, "n_neighbors"
        )
        if k > self.n_samples_fit_ - int(exclude_self):
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {n_queries}"
            )
        return k

    def _merged(self, block, k, self_offset=None):
        """Delayed ``(dist, ind)`` of one query block over every shard."""
        k_query = k if self_offset is None else k + 1
        parts = [
            delayed(shard_kneighbors, pure=True)(s, block, k_query)
            for s in self._shards
        ]
        return delayed(merge_kneighbors, pure=True)(parts, k, self_offset)

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest indexed codes of each query, over every shard.

        Parameters
        ----------
        X : array-like or dask array of shape (n_queries, n_bytes), dtype=uint8, \
default=None
            Query codes. A dask array is answered lazily, one task per query
            chunk and shard. If None, the neighbours of each indexed code,
            excluding the code itself (a dask array, chunked like the shards).
        n_neighbors : int, default=None
            Number of neighbours; defaults to the constructor's value.
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        distances : ndarray or dask array of shape (n_queries, n_neighbors)
            Hamming distances (int32), or weighted ones (float64) when
            ``bit_weights`` is set. Only returned if ``return_distance``.
        indices : ndarray or dask array of shape (n_queries, n_neighbors), \
dtype=int64
            Global indices in the fitted codes, nearest first, ties by the
            smaller index: the local estimator's answer.
        """
        blocks, sizes, as_dask, self_offsets = self._query_blocks(X)
        exclude_self = self_offsets is not None
        k = self._check_k(n_neighbors, sum(sizes), exclude_self)
        merged = [
            self._merged(b, k, None if self_offsets is None else self_offsets[i])
            for i, b in enumerate(blocks)
        ]
        dist_dtype = np.int32 if self.bit_weights is None else np.float64
        if as_dask:
            dist = da.concatenate(
                [
                    da.from_delayed(m[0], shape=(int(n), k), dtype=dist_dtype)
                    for m, n in zip(merged, sizes, strict=True)
                ]
            )
            ind = da.concatenate(
                [
                    da.from_delayed(m[1], shape=(int(n), k), dtype=np.int64)
                    for m, n in zip(merged, sizes, strict=True)
                ]
            )
        else:
            results = _compute(*merged)
            dist = np.concatenate([r[0] for r in results])
            ind = np.concatenate([r[1] for r in results])
        return (dist, ind) if return_distance else ind

    def _gather(self, *parts):
        """Compute small per-shard results on the client, in shard order."""
        return _compute(
            *[
                [delayed(fn, pure=True)(s, *args) for s in self._shards]
                for fn, *args in parts
            ]
        )


class HammingNearestNeighbors(_ShardedNeighborsBase):
    """Exact Hamming nearest neighbours over codes sharded on dask workers.

    The dask counterpart of :class:`skblsh.HammingNearestNeighbors`, with the
    same name in this namespace as dask-ml does for the scikit-learn
    estimators it scales. Each row chunk of ``X`` becomes a shard whose index
    is built and kept on the worker that computed the chunk; nothing is
    gathered on the client. Answers equal the local estimator's exactly
    (distances, and indices with ties broken by the smaller global index).
    A shard lost with its worker is rebuilt from its lineage when next used.

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours returned by :meth:`kneighbors`.
    algorithm : {"auto", "brute"}, default="auto"
        Search structure of each shard, see
        :class:`skblsh.HammingNearestNeighbors`; resolved per shard.
    bit_weights : array-like of shape (n_bits,), default=None
        Non-negative per-bit weights of the distance; None for plain Hamming.
    n_jobs : int, default=None
        Threads of each shard's search, on its worker.

    Attributes
    ----------
    n_samples_fit_ : int
        Number of indexed codes.
    n_features_in_ : int
        Bytes per code.
    n_shards_ : int
        Number of shards (non-empty row chunks of ``X``).
    shard_sizes_ : ndarray of shape (`n_shards_`,), dtype=int64
        Codes per shard, in order: shard ``j`` holds the global indices
        ``shard_sizes_[:j].sum()`` onwards.

    See Also
    --------
    skblsh.HammingNearestNeighbors : The local estimator.
    HammingKNeighborsRegressor : Sharded kNN regression.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skblsh.dask import HammingNearestNeighbors
    >>> codes = np.array([[0], [1], [3], [7], [15]], dtype=np.uint8)
    >>> nn = HammingNearestNeighbors(n_neighbors=2).fit(da.from_array(codes, chunks=2))
    >>> nn.n_shards_
    3
    >>> nn.kneighbors(np.array([[2]], dtype=np.uint8))
    (array([[1, 1]], dtype=int32), array([[0, 2]]))
    """

    _local_class = _local.HammingNearestNeighbors
    _parameter_constraints: dict = {
        key: value
        for key, value in _local.HammingNearestNeighbors._parameter_constraints.items()
        if key != "radius"
    }

    def __init__(
        self, n_neighbors=10, *, algorithm="auto", bit_weights=None, n_jobs=None
    ):
        self.n_neighbors = n_neighbors
        self.algorithm = algorithm
        self.bit_weights = bit_weights
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build one index per row chunk of ``X``, on the workers.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_bytes), dtype=uint8
            Packed codes; each row chunk is a shard (rechunk to choose their
            size). Other array-likes are wrapped with :func:`dask.array.asarray`.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            Fitted sharded index.
        """
        self._fit_shards(X)
        return self

    def to_local(self):
        """The equivalent local estimator, fitted on the gathered codes.

        Brings every code to the client: meant for small indexes.

        Returns
        -------
        estimator : skblsh.HammingNearestNeighbors
            Fitted, with the same parameters and the same answers.
        """
        check_is_fitted(self, "n_samples_fit_")
        (codes,) = self._gather((shard_codes,))
        return self._local_estimator().fit(np.concatenate(codes))


class HammingKNeighborsRegressor(
    MultiOutputMixin, RegressorMixin, _ShardedNeighborsBase
):
    """kNN regression on packed codes, with the training set sharded on dask.

    The dask counterpart of :class:`skblsh.HammingKNeighborsRegressor`: each
    row chunk of the codes and their targets becomes a shard on the worker
    that computed it. A prediction gathers, for each query, only the targets
    of its k nearest codes of every shard, keeps the global k nearest and
    averages them with the local regressor's arithmetic, so predictions are
    bit-identical to the local ones (binary targets: count of ones / K).

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours K.
    weights : {"uniform", "distance"} or callable, default="uniform"
        Weighting of the neighbours, see
        :class:`skblsh.HammingKNeighborsRegressor`.
    algorithm : {"auto", "brute"}, default="auto"
        Search structure of each shard.
    bit_weights : array-like of shape (n_bits,), default=None
        Per-bit weights for the distance.
    n_jobs : int, default=None
        Threads of each shard's search, on its worker.

    Attributes
    ----------
    binary_targets_ : bool
        Whether every training target is 0 or 1 (then stored packed).
    n_outputs_ : int
        Number of target columns.
    n_samples_fit_ : int
        Number of training codes.
    n_features_in_ : int
        Bytes per code.
    n_shards_ : int
        Number of shards.
    shard_sizes_ : ndarray of shape (`n_shards_`,), dtype=int64
        Training codes per shard, in order.

    See Also
    --------
    skblsh.HammingKNeighborsRegressor : The local estimator.
    HammingNearestNeighbors : The sharded search alone.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skblsh.dask import HammingKNeighborsRegressor
    >>> codes = np.array([[0], [1], [255]], dtype=np.uint8)
    >>> masks = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> reg = HammingKNeighborsRegressor(n_neighbors=2).fit(
    ...     da.from_array(codes, chunks=1), da.from_array(masks, chunks=1))
    >>> reg.predict(np.array([[3]], dtype=np.uint8))
    array([[1. , 0.5]])
    """

    _local_class = _local.HammingKNeighborsRegressor
    _parameter_constraints: dict = {
        **_local.HammingKNeighborsRegressor._parameter_constraints
    }

    def __init__(
        self,
        n_neighbors=10,
        *,
        weights="uniform",
        algorithm="auto",
        bit_weights=None,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.bit_weights = bit_weights
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build one index per row chunk, with its targets, on the workers.

        Parameters
        ----------
        X : dask array of shape (n_samples, n_bytes), dtype=uint8
            Packed codes; each row chunk is a shard.
        y : dask array or array-like of shape (n_samples,) or \
(n_samples, n_outputs)
            Targets, rechunked to the row chunks of ``X`` (on the workers).

        Returns
        -------
        self : object
            Fitted regressor.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        if self.n_neighbors > n:
            raise ValueError(
                f"Expected n_neighbors <= n_samples, but n_neighbors = "
                f"{self.n_neighbors}, n_samples = {n}"
            )
        _, y = self._fit_shards(X, y)
        self._y_1d = y.ndim == 1
        self.n_outputs_ = 1 if self._y_1d else int(y.shape[1])
        # What the local regressor would store for non-binary targets.
        self._target_dtype = y.dtype if y.dtype.kind == "f" else np.dtype(np.float64)
        self.binary_targets_ = all(info["binary_targets"] for info in self._infos)
        return self

    def predict(self, X):
        """Average the targets of each query's nearest codes over all shards.

        Parameters
        ----------
        X : array-like or dask array of shape (n_queries, n_bytes), dtype=uint8
            Query codes. A dask array gives a lazy dask array of predictions,
            chunked like ``X``.

        Returns
        -------
        y_pred : ndarray or dask array of shape (n_queries,) or \
(n_queries, n_outputs)
            Predicted targets, dtype float64: the local regressor's, bit for
            bit.
        """
        check_is_fitted(self, "n_samples_fit_")
        if X is None:
            raise ValueError("Expected X to be an array of query codes, got None.")
        blocks, sizes, as_dask, _ = self._query_blocks(X)
        k = self.n_neighbors
        rows = (self.binary_targets_, self._target_dtype)
        preds = []
        for block in blocks:
            parts = [
                delayed(shard_kneighbors, pure=True)(s, block, k, rows)
                for s in self._shards
            ]
            preds.append(
                delayed(merge_predict, pure=True)(
                    parts,
                    k,
                    self.weights,
                    self.binary_targets_,
                    self.n_outputs_,
                    self._y_1d,
                )
            )
        if not as_dask:
            return np.concatenate(_compute(*preds))
        tail = () if self._y_1d else (self.n_outputs_,)
        return da.concatenate(
            [
                da.from_delayed(p, shape=(int(n), *tail), dtype=np.float64)
                for p, n in zip(preds, sizes, strict=True)
            ]
        )

    def to_local(self):
        """The equivalent local regressor, fitted on the gathered codes and targets.

        Brings every code and target to the client: meant for small indexes.

        Returns
        -------
        estimator : skblsh.HammingKNeighborsRegressor
            Fitted, with the same parameters and the same predictions.
        """
        check_is_fitted(self, "n_samples_fit_")
        codes, targets = self._gather(
            (shard_codes,), (shard_targets, self._target_dtype)
        )
        y = np.concatenate(targets)
        return self._local_estimator().fit(
            np.concatenate(codes), y.ravel() if self._y_1d else y
        )
