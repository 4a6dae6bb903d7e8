"""skblsh: learned binary hashing and kNN source separation, scikit-learn style."""

from . import datasets, metrics
from .features import SpectralFeatures
from .hashing import BoostedLSH, RandomLSH, hamming_distances, pack_bits, unpack_bits
from .neighbors import HammingKNNMaskRegressor, HammingNearestNeighbors
from .separation import MaskingSeparator, make_frames, make_separator_pipeline

__version__ = "0.1.0.dev0"

__all__ = [
    "BoostedLSH",
    "HammingKNNMaskRegressor",
    "HammingNearestNeighbors",
    "MaskingSeparator",
    "RandomLSH",
    "SpectralFeatures",
    "__version__",
    "datasets",
    "hamming_distances",
    "make_frames",
    "make_separator_pipeline",
    "metrics",
    "pack_bits",
    "unpack_bits",
]
