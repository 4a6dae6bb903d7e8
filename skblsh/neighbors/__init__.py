"""Exact nearest neighbours on packed binary codes.

Estimators take packed uint8 codes as ``X`` (the output of
:class:`~skblsh.RandomLSH` or :class:`~skblsh.BoostedLSH`). Codes are never
produced from floats implicitly: float input raises ``TypeError``.
"""

from ._base import HammingNeighborsBase, KNeighborsMixin, RadiusNeighborsMixin
from ._classification import HammingKNeighborsClassifier
from ._regression import HammingKNeighborsRegressor, HammingKNNMaskRegressor
from ._unsupervised import HammingNearestNeighbors

__all__ = [
    "HammingKNNMaskRegressor",
    "HammingKNeighborsClassifier",
    "HammingKNeighborsRegressor",
    "HammingNearestNeighbors",
    "HammingNeighborsBase",
    "KNeighborsMixin",
    "RadiusNeighborsMixin",
]
