"""Random-projection LSH: Gaussian directions, median or zero thresholds."""

import numpy as np

from ._base import BaseLSH, median_intercepts, random_directions

__all__ = ["RandomLSH"]


class RandomLSH(BaseLSH):
    """Random-projection locality sensitive hashing with packed codes.

    Each bit is the sign of a Gaussian random projection,
    ``x @ projections_[l] + intercepts_[l] > 0``. Without an intercept this is
    SimHash, whose Hamming distance estimates the angle between inputs.

    Parameters
    ----------
    n_bits : int, default=64
        Code length L.
    fit_intercept : bool, default=True
        If True, each bit's intercept is minus the median of its projection on
        the training data, so every bit splits the training set in half
        (balanced bits carry the most information). If False, intercepts are
        zero (SimHash).
    random_state : int, RandomState instance or None, default=None
        Seed of the projections.

    Attributes
    ----------
    projections_ : ndarray of shape (n_bits, `n_features_in_`)
        Gaussian projection directions, in the dtype of the training data.
    intercepts_ : ndarray of shape (n_bits,)
        Bit thresholds, in the dtype of the training data.
    n_bits_ : int
        Number of bits per code.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    BoostedLSH : Projections learned to approximate the input similarities.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh import RandomLSH
    >>> X = np.random.RandomState(0).rand(5, 20)
    >>> codes = RandomLSH(n_bits=12, random_state=0).fit_transform(X)
    >>> codes.shape, codes.dtype
    ((5, 2), dtype('uint8'))
    """

    def __init__(self, n_bits=64, *, fit_intercept=True, random_state=None):
        super().__init__(
            n_bits=n_bits, fit_intercept=fit_intercept, random_state=random_state
        )

    def _fit_projections(self, X, y, rng):
        P = random_directions(rng, self.n_bits, X.shape[1])
        if self.fit_intercept:
            return P, median_intercepts(X @ P.T)
        return P, np.zeros(self.n_bits)
