"""kNN classification on packed codes: the neighbours' labels vote."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

from ..utils._sklearn import _fit_context
from ._base import SupervisedNeighborsBase

__all__ = ["HammingKNeighborsClassifier"]


class HammingKNeighborsClassifier(ClassifierMixin, SupervisedNeighborsBase):
    """kNN classification on packed codes.

    Each query gets the class with the largest (weighted) vote among its
    ``n_neighbors`` nearest training codes in Hamming space; ties between
    classes go to the first in ``classes_``, like :func:`numpy.argmax`.

    Parameters
    ----------
    n_neighbors : int, default=10
        Number of neighbours voting (scikit-learn's default is 5; 10 here,
        like the regressor's).
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"uniform"``: one vote per neighbour; ``"distance"``: votes of
        ``1 / (1 + d)``, see :class:`HammingKNeighborsRegressor`; a callable
        maps the distance array to a weight array of the same shape.
    algorithm : {"auto", "brute", "mih"}, default="auto"
        Search structure, see :class:`HammingNearestNeighbors`.
    bit_weights : array-like of shape (n_bits,), default=None
        Per-bit weights for the distance, see :class:`HammingNearestNeighbors`.
    n_jobs : int, default=None
        Threads for the neighbour search.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen at fit, sorted.
    codes_ : ndarray of shape (`n_samples_fit_`, n_bytes), dtype=uint8
        The training codes.
    n_samples_fit_ : int
        Number of training codes.
    n_features_in_ : int
        Bytes per code.

    See Also
    --------
    HammingKNeighborsRegressor : The same neighbours averaging targets.
    sklearn.neighbors.KNeighborsClassifier : The float-feature original.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh import HammingKNeighborsClassifier
    >>> codes = np.array([[0b0000], [0b0001], [0b1110], [0b1111]], dtype=np.uint8)
    >>> clf = HammingKNeighborsClassifier(n_neighbors=2)
    >>> clf.fit(codes, ["a", "a", "b", "b"]).predict(np.array([[0b0011]], np.uint8))
    array(['a'], dtype='<U1')
    >>> clf.predict_proba(np.array([[0b1110]], np.uint8))
    array([[0., 1.]])
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Index the training codes and store their labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bytes), dtype=uint8
            Packed codes.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            Fitted classifier.
        """
        X, y = self._fit(X, y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        self._y = encoder.transform(y).astype(np.intp)
        self._check_n_neighbors(len(X))
        return self

    def predict_proba(self, X):
        """Share of the (weighted) vote of each class, per query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8
            Query codes.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        w, _, ind = self._weighted_neighbours(X)
        if w is None:
            w = np.ones(ind.shape)
        n_queries, n_classes = len(ind), len(self.classes_)
        # One bincount over (query, class) cells: no loop over queries.
        cells = np.arange(n_queries)[:, None] * n_classes + self._y[ind]
        votes = np.bincount(
            cells.ravel(), weights=w.ravel(), minlength=n_queries * n_classes
        ).reshape(n_queries, n_classes)
        total = votes.sum(axis=1, keepdims=True)
        return np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)

    def predict(self, X):
        """Class with the largest vote of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bytes), dtype=uint8
            Query codes.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
            Predicted labels, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
