"""Base class and mixins of the Hamming-space neighbours estimators.

Like :mod:`sklearn.neighbors._base`: :class:`HammingNeighborsBase` validates
the packed codes once and builds the search structure (an *index*) in
``_fit``; :class:`KNeighborsMixin` and :class:`RadiusNeighborsMixin` query
it. Every index answers in the same order (distance, then smaller index),
so the algorithm never changes a result.
"""

from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..codes import check_codes
from ..utils._sklearn import Interval, StrOptions
from ._brute import BruteForceIndex
from ._mih import MultiIndexHashingIndex
from ._topk import csr_drop_self, drop_self

__all__ = [
    "HammingNeighborsBase",
    "KNeighborsMixin",
    "RadiusNeighborsMixin",
    "SupervisedNeighborsBase",
]

ALGORITHMS = {"brute": BruteForceIndex, "mih": MultiIndexHashingIndex}

# Smallest index for which "auto" builds multi-index hashing, by code length:
# the crossover with the brute-force kernel measured on BoostedLSH codes of
# speech frames (benchmarks/bench_mih.py, 2 threads): about 1e5-1.6e5 codes
# at 32 bits, 0.7e6-1e6 at 64 and 0.7e6-1.6e6 at 128, with margins for other
# data. Uniformly random codes (no neighbourhood structure) gain only above
# 1e6 at 32 bits and not up to 1e7 at 64: pass algorithm="brute" for them.
MIH_MIN_SAMPLES = ((32, 1_000_000), (64, 2_000_000), (128, 3_000_000))
MIH_MIN_SAMPLES_LONGER = 10_000_000


def validate_codes(estimator, X, *, reset, y="no_validation", **y_kwargs):
    """``validate_data`` for packed codes: keeps the dtype, then checks it.

    ``y="no_validation"`` (sklearn's convention) means X only; ``y=None`` is
    passed on so that a missing target fails with sklearn's clear message.
    """
    if isinstance(y, str) and y == "no_validation":
        X = validate_data(estimator, X, dtype=None, reset=reset)
        return check_codes(X, name="X")
    X, y = validate_data(estimator, X, y, dtype=None, reset=reset, **y_kwargs)
    return check_codes(X, name="X"), y


def check_bit_weights(bit_weights, n_bits):
    """Validate per-bit weights for codes of ``n_bits`` bits; zero-pad them."""
    w = check_array(bit_weights, ensure_2d=False, input_name="bit_weights")
    if w.ndim != 1 or len(w) > n_bits or len(w) <= n_bits - 8:
        raise ValueError(
            f"Expected bit_weights of shape (n_bits,) with n_bits matching codes "
            f"of {n_bits // 8} bytes, got shape {w.shape}."
        )
    if np.any(w < 0):
        raise ValueError("Expected non-negative bit_weights.")
    return np.concatenate([w, np.zeros(n_bits - len(w))])


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"Expected {name} > 0, got {value!r}.")
    return int(value)


class HammingNeighborsBase(BaseEstimator):
    """Shared parameters, fitting and index of the Hamming-space estimators."""

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "radius": [Interval(Real, 0, None, closed="left"), None],
        "algorithm": [StrOptions(set(ALGORITHMS) | {"auto"})],
        "bit_weights": ["array-like", None],
        "n_jobs": [Integral, None],
    }

    def _check_algorithm(self, n_samples, n_bits):
        """The index to build: resolves "auto", rejects impossible pairs."""
        if self.algorithm == "mih" and self.bit_weights is not None:
            raise ValueError(
                "Expected algorithm='brute' or 'auto' with bit_weights: multi-index "
                "hashing's substring tables bound plain Hamming distances only, "
                "got algorithm='mih'."
            )
        if self.algorithm != "auto":
            return self.algorithm
        if self.bit_weights is not None:
            return "brute"
        threshold = next(
            (n for bits, n in MIH_MIN_SAMPLES if n_bits <= bits),
            MIH_MIN_SAMPLES_LONGER,
        )
        return "mih" if n_samples >= threshold else "brute"

    def _fit(self, X, y="no_validation", **y_kwargs):
        """Validate codes (and targets), build the index; returns ``(X, y)``."""
        X, y = (
            (validate_codes(self, X, reset=True), None)
            if isinstance(y, str)
            else validate_codes(self, X, reset=True, y=y, **y_kwargs)
        )
        n_bits = 8 * X.shape[1]
        weights = (
            None
            if self.bit_weights is None
            else check_bit_weights(self.bit_weights, n_bits)
        )
        self._fit_method = self._check_algorithm(len(X), n_bits)
        self._index = ALGORITHMS[self._fit_method](X, bit_weights=weights)
        self.n_samples_fit_ = len(X)
        return X, y

    def _partial_fit_codes(self, X):
        """Validate codes for an already fitted index and append them."""
        X = validate_codes(self, X, reset=False)
        self._index.add(X)
        self.n_samples_fit_ = self._index.n_samples
        return X

    @property
    def codes_(self):
        """The indexed codes, of shape (`n_samples_fit_`, n_bytes), dtype uint8."""
        check_is_fitted(self, "n_samples_fit_")
        return self._index.codes

    def _queries(self, X):
        """Validated query codes, or the fitted codes (self excluded) for None."""
        check_is_fitted(self)
        if X is None:
            return self.codes_, True
        return validate_codes(self, X, reset=False), False

    @property
    def _n_threads(self):
        return effective_n_jobs(self.n_jobs)


class KNeighborsMixin:
    """``kneighbors`` and ``kneighbors_graph`` over the fitted index."""

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
            Indices of the neighbours in the fitted set, nearest first, ties
            by the smaller index.
        """
        Q, exclude_self = self._queries(X)
        k = _check_count(
            self.n_neighbors if n_neighbors is None else n_neighbors, "n_neighbors"
        )
        available = self.n_samples_fit_ - int(exclude_self)
        if k > available:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {len(Q)}"
            )
        dist, ind = self._index.query(
            Q, k + int(exclude_self), n_threads=self._n_threads
        )
        if exclude_self:
            ind, dist = drop_self(ind, dist)
        return (dist, ind) if return_distance else ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """Sparse graph of the k nearest indexed codes of each query.

        The layout of :meth:`sklearn.neighbors.NearestNeighbors.kneighbors_graph`,
        which precomputed-graph consumers such as
        ``DBSCAN(metric="precomputed")``, ``Isomap(metric="precomputed")``,
        ``SpectralClustering(affinity="precomputed_nearest_neighbors")`` and
        ``TSNE(metric="precomputed")`` accept.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8, default=None
            Query codes; None means the fitted codes, each excluding itself.
        n_neighbors : int, default=None
            Number of neighbours; defaults to the constructor's value.
        mode : {"connectivity", "distance"}, default="connectivity"
            Ones, or the (float64) distances, as the stored values. Distances
            of exact duplicates are explicit zeros.

        Returns
        -------
        A : sparse matrix of shape (n_queries, `n_samples_fit_`), CSR
            Row i holds the neighbours of query i.
        """
        _check_mode(mode)
        dist, ind = self.kneighbors(X, n_neighbors)
        n_queries, k = ind.shape
        data = np.ones(ind.size) if mode == "connectivity" else dist.ravel()
        return csr_matrix(
            (data.astype(np.float64), ind.ravel(), np.arange(0, n_queries * k + 1, k)),
            shape=(n_queries, self.n_samples_fit_),
        )


class RadiusNeighborsMixin:
    """``radius_neighbors`` and ``radius_neighbors_graph`` over the index."""

    def _radius_csr(self, X, radius, sort_results):
        Q, exclude_self = self._queries(X)
        r = self.radius if radius is None else radius
        if r is None or isinstance(r, bool) or not isinstance(r, Real) or r < 0:
            raise ValueError(
                f"Expected radius >= 0 (as a parameter of {type(self).__name__} "
                f"or of this call), got {r!r}."
            )
        indptr, ind, dist = self._index.query_radius(Q, r, n_threads=self._n_threads)
        if exclude_self:
            indptr, ind, dist = csr_drop_self(indptr, ind, dist)
        if not sort_results:
            # Index order within each row: deterministic, and the order a
            # scan visits the items in.
            rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
            order = np.lexsort((ind, rows))
            ind, dist = ind[order], dist[order]
        return indptr, ind, dist

    def radius_neighbors(
        self, X=None, radius=None, return_distance=True, sort_results=False
    ):
        """Find the indexed codes within a distance of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8, default=None
            Query codes; None means the fitted codes, each excluding itself.
        radius : float, default=None
            Largest distance returned (inclusive); defaults to the
            constructor's ``radius``.
        return_distance : bool, default=True
            Whether to return the distances.
        sort_results : bool, default=False
            If True, each query's neighbours are sorted by distance (ties by
            index); otherwise they are in index order (scikit-learn leaves
            that order unspecified; here it is always defined).

        Returns
        -------
        distances : ndarray of shape (n_queries,), dtype=object
            Arrays of distances, one per query. Only if ``return_distance``.
        indices : ndarray of shape (n_queries,), dtype=object
            Arrays of indices in the fitted set, one per query.
        """
        indptr, ind, dist = self._radius_csr(X, radius, sort_results)
        bounds = list(zip(indptr[:-1], indptr[1:], strict=True))
        neigh_ind = np.empty(len(bounds), dtype=object)
        neigh_ind[:] = [ind[a:b] for a, b in bounds]
        if not return_distance:
            return neigh_ind
        neigh_dist = np.empty(len(bounds), dtype=object)
        neigh_dist[:] = [dist[a:b] for a, b in bounds]
        return neigh_dist, neigh_ind

    def radius_neighbors_graph(
        self, X=None, radius=None, mode="connectivity", sort_results=False
    ):
        """Sparse graph of the indexed codes within a distance of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8, default=None
            Query codes; None means the fitted codes, each excluding itself.
        radius : float, default=None
            Largest distance kept (inclusive); defaults to the constructor's.
        mode : {"connectivity", "distance"}, default="connectivity"
            Ones, or the (float64) distances, as the stored values.
        sort_results : bool, default=False
            Sort each row's entries by distance (ties by index) rather than
            by index.

        Returns
        -------
        A : sparse matrix of shape (n_queries, `n_samples_fit_`), CSR
        """
        _check_mode(mode)
        indptr, ind, dist = self._radius_csr(X, radius, sort_results)
        data = np.ones(len(ind)) if mode == "connectivity" else dist
        return csr_matrix(
            (data.astype(np.float64), ind, indptr),
            shape=(len(indptr) - 1, self.n_samples_fit_),
        )


def neighbour_weights(weights, dist):
    """Per-neighbour weights: None (uniform), ``1 / (1 + d)`` or a callable's."""
    if weights == "uniform":
        return None
    if weights == "distance":
        return 1.0 / (1.0 + dist.astype(np.float64))
    w = np.asarray(weights(dist), dtype=np.float64)
    if w.shape != dist.shape:
        raise ValueError(
            f"Expected the weights callable to return an array of shape "
            f"{dist.shape} (the distances'), got shape {w.shape}."
        )
    return w


class SupervisedNeighborsBase(KNeighborsMixin, HammingNeighborsBase):
    """Parameters and neighbour weighting of the kNN regressor and classifier."""

    _parameter_constraints: dict = {
        **HammingNeighborsBase._parameter_constraints,
        "weights": [StrOptions({"uniform", "distance"}), callable],
    }
    _parameter_constraints.pop("radius")

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

    def _check_n_neighbors(self, n_samples):
        if self.n_neighbors > n_samples:
            raise ValueError(
                f"Expected n_neighbors <= n_samples, but n_neighbors = "
                f"{self.n_neighbors}, n_samples = {n_samples}"
            )

    def _weighted_neighbours(self, X):
        """Validated queries' ``(weights or None, distances, indices)``."""
        check_is_fitted(self)
        # Validated here so that X=None, kneighbors' "the fitted codes, self
        # excluded", is refused; kneighbors' own check is then a no-copy pass.
        X = validate_codes(self, X, reset=False)
        dist, ind = self.kneighbors(X)
        return neighbour_weights(self.weights, dist), dist, ind


def _check_mode(mode):
    if mode not in ("connectivity", "distance"):
        raise ValueError(
            f"Expected mode to be 'connectivity' or 'distance', got {mode!r}."
        )
