"""The doctests of skblsh.dask need the optional dask extra: skip them without it."""

from importlib.util import find_spec

collect_ignore_glob = [] if find_spec("dask") is not None else ["*.py"]
