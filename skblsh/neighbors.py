"""Exact nearest neighbours on packed binary codes, and a kNN mask regressor.

Both estimators take packed uint8 codes as ``X`` (the output of
:class:`~skblsh.RandomLSH` or :class:`~skblsh.BoostedLSH`). Codes are never
produced from floats implicitly: float input raises ``TypeError``.
"""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .codes import as_words
from .codes import check_codes as _check_codes
from .utils._bits import hamming_kneighbors
from .utils._sklearn import Interval, StrOptions, _fit_context, get_chunk_n_rows

__all__ = ["HammingKNNMaskRegressor", "HammingNearestNeighbors"]


def _validate_codes(estimator, X, *, reset, y="no_validation"):
    """``validate_data`` for packed codes: keeps the dtype, then checks it.

    ``y="no_validation"`` (sklearn's convention) means X only; ``y=None`` is
    passed on so that a missing target fails with sklearn's clear message.
    """
    kwargs = dict(dtype=None, reset=reset)
    if isinstance(y, str) and y == "no_validation":
        X = validate_data(estimator, X, **kwargs)
        return _check_codes(X, name="X")
    X, y = validate_data(estimator, X, y, multi_output=True, y_numeric=True, **kwargs)
    return _check_codes(X, name="X"), y


def _check_bit_weights(bit_weights, n_bits):
    w = check_array(bit_weights, ensure_2d=False, input_name="bit_weights")
    if w.ndim != 1 or len(w) > n_bits or len(w) <= n_bits - 8:
        raise ValueError(
            f"Expected bit_weights of shape (n_bits,) with n_bits matching codes "
            f"of {n_bits // 8} bytes, got shape {w.shape}."
        )
    if np.any(w < 0):
        raise ValueError("Expected non-negative bit_weights.")
    return np.concatenate([w, np.zeros(n_bits - len(w))])


def _byte_tables(weights):
    """``tables[j, x]``: summed weights of the bits set in value ``x`` of byte ``j``."""
    bits = np.unpackbits(
        np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little"
    ).astype(np.float64)
    return (bits @ weights.reshape(-1, 8).T).T.copy()


def _top_k(D, k):
    """Indices and distances of the k smallest entries per row, ties by index."""
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
    return order, np.take_along_axis(D, order, axis=1)


class HammingNearestNeighbors(BaseEstimator):
    """Exact k-nearest neighbours in Hamming space on packed codes.

    Distances are counts of differing bits (or their ``bit_weights``-weighted
    sum). Neighbours are sorted nearest first, ties broken by the smaller index
    in the fitted set, so results are deterministic. Queries are processed in
    blocks, so memory stays bounded whatever the number of queries.

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours returned by :meth:`kneighbors`.
    bit_weights : array-like of shape (n_bits,), default=None
        Non-negative per-bit weights (e.g. ``BoostedLSH.bit_weights_``): the
        distance becomes ``sum_l bit_weights[l] * (a_l != b_l)``. None means
        plain Hamming distance.
    n_jobs : int, default=None
        Threads over query blocks (None means 1, -1 all cores).

    Attributes
    ----------
    codes_ : ndarray of shape (n_samples_fit_, n_bytes), dtype=uint8
        The indexed codes.
    n_samples_fit_ : int
        Number of indexed codes.
    n_features_in_ : int
        Bytes per code.

    See Also
    --------
    HammingKNNMaskRegressor : Averages the targets of the neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh import HammingNearestNeighbors
    >>> codes = np.array([[0b0000], [0b0001], [0b0111]], dtype=np.uint8)
    >>> nn = HammingNearestNeighbors(n_neighbors=2).fit(codes)
    >>> dist, ind = nn.kneighbors(np.array([[0b0011]], dtype=np.uint8))
    >>> dist, ind
    (array([[1, 1]], dtype=int32), array([[1, 2]]))
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "bit_weights": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_neighbors=10, *, bit_weights=None, n_jobs=None):
        self.n_neighbors = n_neighbors
        self.bit_weights = bit_weights
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Index packed codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bytes), dtype=uint8
            Packed codes.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            Fitted index.
        """
        self.codes_ = _validate_codes(self, X, reset=True)
        self.n_samples_fit_ = len(self.codes_)
        self._tables = (
            None
            if self.bit_weights is None
            else _byte_tables(
                _check_bit_weights(self.bit_weights, 8 * self.codes_.shape[1])
            )
        )
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest indexed codes of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8, default=None
            Query codes. If None, the neighbours of each indexed code are
            returned, excluding the code itself.
        n_neighbors : int, default=None
            Number of neighbours; defaults to the constructor's value.
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Hamming distances (int32), or weighted ones (float64) when
            ``bit_weights`` is set. Only returned if ``return_distance``.
        indices : ndarray of shape (n_queries, n_neighbors), dtype=int64
            Indices of the neighbours in the fitted set, nearest first.
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(f"Expected n_neighbors > 0, got {k!r}.")
        exclude_self = X is None
        if exclude_self:
            X = self.codes_
        else:
            X = _validate_codes(self, X, reset=False)
        available = self.n_samples_fit_ - int(exclude_self)
        if k > available:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {len(X)}"
            )
        k_search = k + int(exclude_self)
        if self._tables is None:
            # The popcount kernel bounds its own memory and releases the GIL.
            # as_words is a view of codes_ when n_bytes % 8 == 0 (a padded
            # copy otherwise), so the index stores the codes only once.
            dist, ind = hamming_kneighbors(
                as_words(X),
                as_words(self.codes_),
                k_search,
                n_threads=effective_n_jobs(self.n_jobs),
            )
            if exclude_self:
                ind, dist = _drop_self(ind, dist)
            return (dist, ind) if return_distance else ind
        step = get_chunk_n_rows(8 * self.n_samples_fit_, max_n_rows=len(X))
        starts = range(0, len(X), step)
        results = (
            Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._search_block)(X[s : s + step], k_search) for s in starts
            )
            if effective_n_jobs(self.n_jobs) > 1
            else [self._search_block(X[s : s + step], k_search) for s in starts]
        )
        ind = np.concatenate([r[0] for r in results]).astype(np.int64, copy=False)
        dist = np.concatenate([r[1] for r in results])
        if exclude_self:
            ind, dist = _drop_self(ind, dist)
        return (dist, ind) if return_distance else ind

    def _search_block(self, Q, k):
        # One table look-up per byte of the XOR, summed in a fixed order:
        # equal XOR patterns (duplicate codes) get bit-identical distances,
        # so their ties are broken by index like unweighted ones.
        D = np.zeros((len(Q), self.n_samples_fit_))
        for j, table in enumerate(self._tables):
            D += table[Q[:, j, None] ^ self.codes_[None, :, j]]
        return _top_k(D, k)


def _drop_self(ind, dist):
    """Remove each row's own index (or its last column if self was not found)."""
    n, k1 = ind.shape
    is_self = ind == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return ind[keep].reshape(n, k1 - 1), dist[keep].reshape(n, k1 - 1)


class HammingKNNMaskRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """kNN regression on packed codes: averages the neighbours' targets.

    In kNN source separation the targets are the ideal binary masks of the
    dictionary frames, and the prediction for a query frame is the mean mask
    of its ``n_neighbors`` nearest dictionary frames in Hamming space.

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours K.
    weights : {"uniform", "distance"}, default="uniform"
        ``"uniform"`` averages the neighbours' rows equally; ``"distance"``
        weights them by ``1 / (1 + d)`` with ``d`` the Hamming distance (the
        ``+1`` keeps exact matches, common with short codes, finite).
    bit_weights : array-like of shape (n_bits,), default=None
        Per-bit weights for the distance, see :class:`HammingNearestNeighbors`.
    n_jobs : int, default=None
        Threads for the neighbour search.

    Attributes
    ----------
    index_ : HammingNearestNeighbors
        The fitted index of training codes.
    binary_targets_ : bool
        Whether every training target is 0 or 1 (ideal binary masks). Such
        targets are stored packed, 8 per byte, so a dictionary frame costs
        ``n_bytes + ceil(n_outputs / 8)`` bytes; other targets are stored as
        given (floating dtypes kept, others cast to float64).
    n_outputs_ : int
        Number of target columns.
    n_features_in_ : int
        Bytes per code.

    See Also
    --------
    HammingNearestNeighbors : The underlying exact search.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh import HammingKNNMaskRegressor
    >>> codes = np.array([[0], [1], [255]], dtype=np.uint8)
    >>> masks = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> reg = HammingKNNMaskRegressor(n_neighbors=2).fit(codes, masks)
    >>> reg.predict(np.array([[3]], dtype=np.uint8))
    array([[1. , 0.5]])
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "weights": [StrOptions({"uniform", "distance"})],
        "bit_weights": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, n_neighbors=10, *, weights="uniform", bit_weights=None, n_jobs=None
    ):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.bit_weights = bit_weights
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Index the training codes and store their targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bytes), dtype=uint8
            Packed codes.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, e.g. ideal binary masks.

        Returns
        -------
        self : object
            Fitted regressor.
        """
        X, y = _validate_codes(self, X, reset=True, y=y)
        y = np.asarray(y)
        if y.dtype.kind != "f":
            y = y.astype(np.float64)
        self._y_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        self.n_outputs_ = y.shape[1]
        self.binary_targets_ = bool(np.all((y == 0) | (y == 1)))
        self._targets = (
            np.packbits(y == 1, axis=1, bitorder="little")
            if self.binary_targets_
            else y
        )
        if self.n_neighbors > len(X):
            raise ValueError(
                f"Expected n_neighbors <= n_samples, but n_neighbors = "
                f"{self.n_neighbors}, n_samples = {len(X)}"
            )
        self.index_ = HammingNearestNeighbors(
            n_neighbors=self.n_neighbors,
            bit_weights=self.bit_weights,
            n_jobs=self.n_jobs,
        ).fit(X)
        return self

    def predict(self, X):
        """Average the targets of each query's nearest training codes.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8
            Query codes.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Predicted targets, dtype float64.
        """
        check_is_fitted(self)
        X = _validate_codes(self, X, reset=False)
        dist, ind = self.index_.kneighbors(X)
        pred = self._average(dist, ind)
        return pred.ravel() if self._y_1d else pred

    def _average(self, dist, ind):
        """Mean (or distance-weighted mean) of the neighbours' targets."""
        neighbours = self._targets[ind]
        if self.binary_targets_:
            neighbours = np.unpackbits(
                neighbours, axis=2, count=self.n_outputs_, bitorder="little"
            )
        if self.weights == "uniform":
            if self.binary_targets_:
                # Counts of ones are exact integers: dividing them by K gives
                # the float64 mean bit for bit, without a float64 gather.
                pred = neighbours.sum(axis=1) / ind.shape[1]
            else:
                pred = neighbours.astype(np.float64, copy=False).mean(axis=1)
        else:
            w = 1.0 / (1.0 + dist.astype(np.float64))
            pred = np.einsum(
                "qk,qko->qo", w, neighbours.astype(np.float64, copy=False)
            ) / w.sum(axis=1, keepdims=True)
        return pred

    @property
    def targets_(self):
        """Training targets as float64, of shape (n_samples_fit, n_outputs).

        Unpacked on access when :attr:`binary_targets_` is True.
        """
        if self.binary_targets_:
            return np.unpackbits(
                self._targets, axis=1, count=self.n_outputs_, bitorder="little"
            ).astype(np.float64)
        return self._targets.astype(np.float64, copy=False)
