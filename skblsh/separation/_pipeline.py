"""The frame-level estimator: features -> hash codes -> kNN masks."""

from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline

from ..features import SpectralFeatures
from ..hashing import BoostedLSH, RandomLSH
from ..neighbors import HammingKNeighborsRegressor

__all__ = ["make_separator_pipeline"]


def make_separator_pipeline(
    n_bits=64,
    n_neighbors=10,
    *,
    hasher="boosted",
    kind="stft",
    normalize=True,
    n_stacked=1,
    sr=16000,
    random_state=None,
):
    """The paper's frame-level pipeline: features -> hash codes -> kNN masks.

    Parameters
    ----------
    n_bits : int, default=64
        Code length L (ignored when ``hasher=None``).
    n_neighbors : int, default=10
        Number of neighbours K.
    hasher : {"boosted", "random"} or None, default="boosted"
        :class:`~skblsh.BoostedLSH`, :class:`~skblsh.RandomLSH`, or None for
        the paper's first baseline: exact kNN on the float features
        (cosine when ``normalize``, Euclidean otherwise).
    kind : str, default="stft"
        Feature kind of :class:`~skblsh.SpectralFeatures`.
    normalize : bool, default=True
        Scale every feature row to unit L2 norm (the paper). Level-normalised
        input (:class:`MaskingSeparator`'s ``level``) keeps its level only
        with ``normalize=False``.
    n_stacked : int, default=1
        Frames per input row (``2 * context + 1`` for a separator with
        ``context``), see :class:`~skblsh.SpectralFeatures`.
    sr : int, default=16000
        Sample rate, for the mel filters of ``kind`` other than ``"stft"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the hasher.

    Returns
    -------
    pipeline : Pipeline
        Steps named ``"features"``, ``"hash"`` (absent when ``hasher=None``)
        and ``"knn"``.

    Examples
    --------
    >>> from skblsh.separation import make_separator_pipeline
    >>> [name for name, _ in make_separator_pipeline(32, 5).steps]
    ['features', 'hash', 'knn']
    >>> [name for name, _ in make_separator_pipeline(hasher=None).steps]
    ['features', 'knn']
    """
    features = (
        "features",
        SpectralFeatures(kind, sr=sr, normalize=normalize, n_stacked=n_stacked),
    )
    if hasher is None:
        # With unit rows, Euclidean order is cosine order.
        knn = KNeighborsRegressor(n_neighbors, algorithm="brute")
        return Pipeline([features, ("knn", knn)])
    hashers = {"boosted": BoostedLSH, "random": RandomLSH}
    if hasher not in hashers:
        raise ValueError(
            f"Expected hasher in {{'boosted', 'random', None}}, got {hasher!r}."
        )
    return Pipeline(
        [
            features,
            ("hash", hashers[hasher](n_bits, random_state=random_state)),
            ("knn", HammingKNeighborsRegressor(n_neighbors)),
        ]
    )


def split_last_step(estimator):
    """``(fitted steps before the last as one transformer or None, last)``."""
    if isinstance(estimator, Pipeline):
        head = estimator[:-1] if len(estimator.steps) > 1 else None
        return head, estimator.steps[-1][1]
    return None, estimator
