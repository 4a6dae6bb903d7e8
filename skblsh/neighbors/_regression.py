"""kNN regression on packed codes: the mean target of the neighbours."""

import numpy as np
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._bits import count_ones
from ..utils._sklearn import _fit_context
from ._base import SupervisedNeighborsBase, validate_codes

__all__ = ["HammingKNNMaskRegressor", "HammingKNeighborsRegressor"]


class HammingKNeighborsRegressor(
    MultiOutputMixin, RegressorMixin, SupervisedNeighborsBase
):
    """kNN regression on packed codes: averages the neighbours' targets.

    In kNN source separation the targets are the ideal binary masks of the
    dictionary frames, and the prediction for a query frame is the mean mask
    of its ``n_neighbors`` nearest dictionary frames in Hamming space.

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours K.
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"uniform"`` averages the neighbours' rows equally; ``"distance"``
        weights them by ``1 / (1 + d)`` with ``d`` the Hamming distance.
        Unlike scikit-learn's ``1 / d`` (under which one exact match takes
        all the weight), the ``+1`` keeps exact matches, common with short
        codes, finite and merely heavier. A callable maps the distance array
        to a weight array of the same shape.
    algorithm : {"auto", "brute", "mih"}, default="auto"
        Search structure, see :class:`HammingNearestNeighbors`.
    bit_weights : array-like of shape (n_bits,), default=None
        Per-bit weights for the distance, see :class:`HammingNearestNeighbors`.
    n_jobs : int, default=None
        Threads for the neighbour search.

    Attributes
    ----------
    codes_ : ndarray of shape (`n_samples_fit_`, n_bytes), dtype=uint8
        The training codes.
    binary_targets_ : bool
        Whether every training target is 0 or 1 (ideal binary masks). Such
        targets are stored packed, 8 per byte, so a dictionary frame costs
        ``n_bytes + ceil(n_outputs / 8)`` bytes; other targets are stored as
        given (floating dtypes kept, others cast to float64).
    n_outputs_ : int
        Number of target columns.
    n_samples_fit_ : int
        Number of training codes.
    n_features_in_ : int
        Bytes per code.

    See Also
    --------
    HammingNearestNeighbors : The underlying exact search.
    HammingKNeighborsClassifier : The same neighbours voting for labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh import HammingKNeighborsRegressor
    >>> codes = np.array([[0], [1], [255]], dtype=np.uint8)
    >>> masks = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> reg = HammingKNeighborsRegressor(n_neighbors=2).fit(codes, masks)
    >>> reg.predict(np.array([[3]], dtype=np.uint8))
    array([[1. , 0.5]])
    """

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
        X, y = self._fit(X, y, multi_output=True, y_numeric=True)
        y = np.asarray(y)
        self._y_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        self.n_outputs_ = y.shape[1]
        self.binary_targets_ = bool(np.all((y == 0) | (y == 1)))
        self._targets = self._store(y)
        self._check_n_neighbors(len(X))
        return self

    def _store(self, y):
        if self.binary_targets_:
            return np.packbits(y == 1, axis=1, bitorder="little")
        return y if y.dtype.kind == "f" else y.astype(np.float64)

    def partial_fit(self, X, y):
        """Append training codes and their targets (fit if not fitted yet).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bytes), dtype=uint8
            Packed codes.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Their targets, as many outputs as the fitted ones.

        Returns
        -------
        self : object
            The grown regressor.
        """
        if not hasattr(self, "n_samples_fit_"):
            return self.fit(X, y)
        X, y = validate_codes(
            self, X, reset=False, y=y, multi_output=True, y_numeric=True
        )
        y = np.asarray(y).reshape(len(X), -1)
        if y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"Expected y with {self.n_outputs_} outputs (as fitted), got "
                f"{y.shape[1]}."
            )
        if self.binary_targets_ and not np.all((y == 0) | (y == 1)):
            # Soft targets join binary ones: unpack what is stored.
            self._targets = self.targets_
            self.binary_targets_ = False
        new = self._store(y)
        self._targets = np.concatenate(
            [self._targets, new.astype(self._targets.dtype, copy=False)]
        )
        self._index.add(X)
        self.n_samples_fit_ = self._index.n_samples
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
        w, _, ind = self._weighted_neighbours(X)
        pred = self._average(w, ind)
        return pred.ravel() if self._y_1d else pred

    def _average(self, w, ind):
        """Mean (or weighted mean, weights ``w``) of the neighbours' targets."""
        if w is None and self.binary_targets_:
            # Counts of ones are exact integers: dividing them by K gives the
            # float64 mean bit for bit, without unpacking the neighbours.
            n_threads = self._n_threads
            counts = count_ones(
                self._targets, ind, self.n_outputs_, n_threads=n_threads
            )
            return counts / ind.shape[1]
        neighbours = self._targets[ind]
        if self.binary_targets_:
            neighbours = np.unpackbits(
                neighbours, axis=2, count=self.n_outputs_, bitorder="little"
            )
        if w is None:
            return neighbours.astype(np.float64, copy=False).mean(axis=1)
        return np.einsum(
            "qk,qko->qo", w, neighbours.astype(np.float64, copy=False)
        ) / w.sum(axis=1, keepdims=True)

    @property
    def targets_(self):
        """Training targets as float64, of shape (`n_samples_fit_`, `n_outputs_`).

        Unpacked on access when :attr:`binary_targets_` is True.
        """
        check_is_fitted(self)
        if self.binary_targets_:
            return np.unpackbits(
                self._targets, axis=1, count=self.n_outputs_, bitorder="little"
            ).astype(np.float64)
        return self._targets.astype(np.float64, copy=False)


class HammingKNNMaskRegressor(HammingKNeighborsRegressor):
    """The name :class:`HammingKNeighborsRegressor` had before 0.2.

    Kept so that existing code runs unchanged (the class is not specific to
    masks: new code should use :class:`HammingKNeighborsRegressor`).

    Examples
    --------
    >>> from skblsh import HammingKNeighborsRegressor, HammingKNNMaskRegressor
    >>> issubclass(HammingKNNMaskRegressor, HammingKNeighborsRegressor)
    True
    """
