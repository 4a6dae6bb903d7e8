"""skblsh: learned binary hashing and kNN source separation, scikit-learn style."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
