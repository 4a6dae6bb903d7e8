"""The one place that imports scikit-learn's private helpers.

Keeping these imports together means a scikit-learn upgrade that moves them
breaks exactly one module.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "_fit_context",
    "validate_params",
]
