"""skblsh: learned binary hashing and kNN source separation, scikit-learn style."""

from . import codes, datasets, metrics, stft
from ._version import __version__
from .codes import hamming_distances, pack_bits, unpack_bits
from .features import SpectralFeatures
from .hashing import BoostedLSH, RandomLSH
from .neighbors import (
    HammingKNeighborsClassifier,
    HammingKNeighborsRegressor,
    HammingKNNMaskRegressor,
    HammingNearestNeighbors,
)
from .separation import MaskingSeparator, make_frames, make_separator_pipeline

__all__ = [
    "BoostedLSH",
    "HammingKNNMaskRegressor",
    "HammingKNeighborsClassifier",
    "HammingKNeighborsRegressor",
    "HammingNearestNeighbors",
    "MaskingSeparator",
    "RandomLSH",
    "SpectralFeatures",
    "__version__",
    "codes",
    "datasets",
    "hamming_distances",
    "make_frames",
    "make_separator_pipeline",
    "metrics",
    "stft",
    "pack_bits",
    "unpack_bits",
]
