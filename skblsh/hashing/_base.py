"""The shared fit and transform of the hashers, and their two building blocks.

Every hasher is a set of hyperplanes: bit ``l`` of ``x`` is
``x @ projections_[l] + intercepts_[l] > 0``. :class:`BaseLSH` validates the
input, asks the leaf class for the hyperplanes (``_fit_projections``), stores
them once in the input's dtype, and hashes; the leaves only say how the
directions are chosen.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..codes import n_bytes_for
from ..utils._sklearn import Interval, _fit_context

__all__ = ["BaseLSH", "median_intercepts", "random_directions"]


def random_directions(rng, n_directions, n_features, *, unit=False):
    """Gaussian directions, one per row, optionally scaled to unit norm.

    Parameters
    ----------
    rng : numpy.random.RandomState
        Source of the draws (consumed: ``n_directions * n_features`` normals).
    n_directions, n_features : int
        Shape of the result.
    unit : bool, default=False
        Scale each row to unit L2 norm.

    Returns
    -------
    directions : ndarray of shape (n_directions, n_features), dtype=float64
    """
    G = rng.standard_normal((n_directions, n_features))
    if unit:
        # Row by row: a 1-D norm (a dot product) rounds like the per-bit
        # draws this helper replaced, keeping fits bit-identical.
        for g in G:
            g /= np.linalg.norm(g)
    return G


def median_intercepts(Z):
    """Minus the median of each column of projections ``Z``: balanced bits.

    A bit thresholded at the median of its projection fires on half the rows,
    the split that carries the most information.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_bits)
        Projections of the training rows.

    Returns
    -------
    intercepts : ndarray of shape (n_bits,)
    """
    return -np.median(Z, axis=0)


class BaseLSH(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta
):
    """Base class of the hashers: thresholded projections, packed.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints: dict = {
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "fit_intercept": ["boolean"],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(self, n_bits=64, *, fit_intercept=True, random_state=None):
        self.n_bits = n_bits
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    @abstractmethod
    def _fit_projections(self, X, y, rng):
        """Learn or draw the hyperplanes.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype float64 or float32
            Validated training features.
        y : array-like or None
            ``y`` as given to ``fit`` (not validated).
        rng : numpy.random.RandomState
            The estimator's only source of randomness.

        Returns
        -------
        projections : ndarray of shape (n_bits, n_features)
        intercepts : ndarray of shape (n_bits,)
        """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the projections and intercepts of the bits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets, used only by hashers that learn from them
            (``BoostedLSH(similarity="target")``); ignored otherwise.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        rng = check_random_state(self.random_state)
        projections, intercepts = self._fit_projections(X, y, rng)
        # Stored once in X's dtype, so transform of the same dtype never
        # converts them (float32 data is hashed in float32).
        self.projections_ = projections.astype(X.dtype, copy=False)
        self.intercepts_ = intercepts.astype(X.dtype, copy=False)
        self.n_bits_ = len(projections)
        return self

    def transform(self, X):
        """Hash ``X`` into packed binary codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input features.

        Returns
        -------
        codes : ndarray of shape (n_samples, ceil(n_bits / 8)), dtype=uint8
            Packed codes, little bit order, zero padding bits.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        proj = self.projections_.astype(X.dtype, copy=False)
        bits = X @ proj.T + self.intercepts_.astype(X.dtype, copy=False) > 0
        return np.packbits(bits, axis=1, bitorder="little")

    @property
    def _n_features_out(self):
        # Output columns are bytes, not bits (see the package docstring).
        return n_bytes_for(self.n_bits_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
