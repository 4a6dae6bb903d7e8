"""The one place that imports scikit-learn's private helpers.

Keeping these imports together means a scikit-learn upgrade that moves them
breaks exactly one module.
"""

from sklearn.base import _fit_context
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "get_chunk_n_rows",
    "validate_params",
]
