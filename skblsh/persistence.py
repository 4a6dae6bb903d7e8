"""Saving and loading fitted models, atomically and with a version stamp."""

import warnings
from pathlib import Path

import joblib

from ._version import __version__
from .utils._atomic import atomic_path

__all__ = ["ModelVersionWarning", "load_model", "save_model"]

_FORMAT = "skblsh-model"


class ModelVersionWarning(UserWarning):
    """Issued when a model file was written by another skblsh version.

    Examples
    --------
    >>> from skblsh.persistence import ModelVersionWarning
    >>> issubclass(ModelVersionWarning, UserWarning)
    True
    """


def save_model(model, path, *, metadata=None):
    """Save a fitted model with joblib, stamped with the skblsh version.

    The file is written to a temporary name in the same folder and renamed
    into place, so a failure never leaves a truncated model behind.

    Parameters
    ----------
    model : object
        Any picklable estimator, e.g. a fitted
        :class:`~skblsh.separation.MaskingSeparator`.
    path : str or path-like
        Destination file.
    metadata : dict, default=None
        Extra picklable information stored beside the model (e.g. how its
        training data was built), returned by ``load_model(...,
        return_metadata=True)``.

    Returns
    -------
    path : Path
        The written file.

    Examples
    --------
    >>> import tempfile, os
    >>> from skblsh import RandomLSH
    >>> from skblsh.persistence import load_model, save_model
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(RandomLSH(8), os.path.join(tmp, "m.joblib"))
    ...     print(load_model(path))
    RandomLSH(n_bits=8)
    """
    path = Path(path)
    payload = {
        "format": _FORMAT,
        "skblsh_version": __version__,
        "model": model,
        "metadata": dict(metadata or {}),
    }
    with atomic_path(path) as tmp:
        joblib.dump(payload, tmp)
    return path


def load_model(path, *, return_metadata=False):
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        Model file.
    return_metadata : bool, default=False
        Also return the metadata dict given to :func:`save_model`.

    Returns
    -------
    model : object
        The saved model.
    metadata : dict
        Only if ``return_metadata``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a skblsh model file (corrupt, truncated, or
        another kind of file).

    Warns
    -----
    ModelVersionWarning
        If the file was written by another skblsh version.

    Examples
    --------
    >>> import tempfile, os
    >>> from skblsh import RandomLSH
    >>> from skblsh.persistence import load_model, save_model
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(RandomLSH(8), os.path.join(tmp, "m.joblib"),
    ...                       metadata={"corpus": "demo"})
    ...     model, meta = load_model(path, return_metadata=True)
    >>> model, meta
    (RandomLSH(n_bits=8), {'corpus': 'demo'})
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Expected an existing model file, got '{path}'.")
    if path.stat().st_size == 0:
        raise ValueError(
            f"Expected '{path}' to be a skblsh model file (skblsh fit -o ...), "
            "got an empty file."
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types on bad files
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ValueError(
            f"Expected '{path}' to be a skblsh model file (skblsh fit -o ...), "
            f"but it could not be read ({reason}); is it truncated or another "
            "kind of file?"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(
            f"Expected '{path}' to be a skblsh model file (skblsh fit -o ...), "
            f"got a joblib file of another kind."
        )
    saved = payload.get("skblsh_version")
    if saved != __version__:
        warnings.warn(
            f"'{path}' was saved by skblsh {saved}; this is skblsh {__version__}. "
            "It may load or behave differently: refit it if results look wrong.",
            ModelVersionWarning,
            stacklevel=2,
        )
    if return_metadata:
        return payload["model"], payload.get("metadata", {})
    return payload["model"]
