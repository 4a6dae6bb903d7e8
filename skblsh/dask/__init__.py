"""Exact Hamming neighbours with the index sharded over dask workers.

Needs the ``dask`` extra (``pip install "skblsh[dask]"``: ``dask[array]`` and
``distributed``). The estimators here have the names of their local
counterparts in :mod:`skblsh`, as dask-ml names its scaled scikit-learn
estimators: ``skblsh.dask.HammingNearestNeighbors`` answers exactly like
``skblsh.HammingNearestNeighbors`` fitted on the same codes.
"""

try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skblsh.dask needs dask: pip install 'skblsh[dask]' (dask[array] and "
        "distributed)."
    ) from exc

from ._neighbors import HammingKNeighborsRegressor, HammingNearestNeighbors

__all__ = ["HammingKNeighborsRegressor", "HammingNearestNeighbors"]
