"""Validation of waveforms and lists of waveforms.

Every public entry point that takes audio goes through :func:`check_audio`, so
a bad input fails the same clear way wherever it enters the library.
"""

import numbers

import numpy as np


def check_audio(y, *, name="y", min_samples=1, allow_silent=True):
    """Validate one mono waveform and return it as a float ndarray.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The waveform. Must be a floating-point array (integer PCM is rejected
        rather than guessed at), one-dimensional, finite and non-empty.
    name : str, default="y"
        Name used in error messages.
    min_samples : int, default=1
        Minimum accepted length, e.g. one STFT window.
    allow_silent : bool, default=True
        If False, an all-zero waveform raises ``ValueError``.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype=float32 or float64
        The validated waveform (not copied when already valid).
    """
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(
            f"Expected {name} to be a 1-D floating-point waveform, got "
            f"{type(y).__name__}."
        )
    try:
        arr = np.asarray(y)
    except ValueError:  # numpy refuses ragged nested sequences
        arr = np.empty(0, dtype=object)
    if arr.dtype == object:
        raise TypeError(
            f"Expected {name} to be a 1-D floating-point waveform, got an "
            "array of Python objects (ragged list?)."
        )
    if not np.issubdtype(arr.dtype, np.floating):
        hint = ""
        if np.issubdtype(arr.dtype, np.integer):
            hint = (
                " Integer PCM is not rescaled implicitly: convert it, e.g. "
                "y / 32768 for int16, or read files with soundfile "
                "(dtype='float32')."
            )
        raise TypeError(
            f"Expected {name} to have a floating-point dtype, got {arr.dtype}." + hint
        )
    if arr.ndim != 1:
        detail = ""
        if arr.ndim == 2 and min(arr.shape) <= 8:
            detail = " (multichannel audio? down-mix it to mono first)"
        raise ValueError(
            f"Expected {name} to be a 1-D mono waveform, got an array of "
            f"shape {arr.shape}{detail}."
        )
    if arr.shape[0] < max(min_samples, 1):
        raise ValueError(
            f"Expected {name} to have at least {max(min_samples, 1)} samples, "
            f"got {arr.shape[0]}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Expected {name} to be finite, got NaN or infinite samples.")
    if not allow_silent and not np.any(arr):
        raise ValueError(f"Expected {name} to contain a signal, got all zeros.")
    return arr


def check_audio_list(ys, *, name="X", min_samples=1):
    """Validate a non-empty list of mono waveforms of possibly different lengths.

    A single 1-D waveform is not accepted in place of a list, because it would
    be silently read as many one-sample waveforms.

    Returns
    -------
    ys : list of ndarray
    """
    if isinstance(ys, np.ndarray) and ys.ndim == 1 and ys.dtype != object:
        raise ValueError(
            f"Expected {name} to be a list of 1-D waveforms, got a single 1-D "
            f"array of shape {ys.shape}; wrap it in a list: [{name}]."
        )
    if isinstance(ys, (str, bytes)) or not hasattr(ys, "__len__"):
        raise TypeError(
            f"Expected {name} to be a list of 1-D waveforms, got {type(ys).__name__}."
        )
    if len(ys) == 0:
        raise ValueError(f"Expected {name} to contain at least one waveform, got 0.")
    return [
        check_audio(y, name=f"{name}[{i}]", min_samples=min_samples)
        for i, y in enumerate(ys)
    ]


def check_sample_rate(sr, *, name="sr"):
    """Validate a sample rate: a positive integer number of Hz."""
    if isinstance(sr, bool) or not isinstance(sr, numbers.Real) or sr <= 0:
        raise ValueError(f"Expected {name} to be a positive number of Hz, got {sr!r}.")
    if float(sr) != int(sr):
        raise ValueError(f"Expected {name} to be a whole number of Hz, got {sr!r}.")
    return int(sr)


def check_length(y, n_samples, *, name, reference_name):
    if y.shape[0] != n_samples:
        raise ValueError(
            f"Expected {name} to have the same length as {reference_name} "
            f"({n_samples} samples), got {y.shape[0]} samples."
        )
