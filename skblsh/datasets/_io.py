"""Reading and writing audio files.

Every file the package reads goes through :func:`read_audio`, so a missing,
empty or corrupt file fails with the same one-line message wherever it is
read, and every conversion (down-mixing, resampling) is reported the same way.
"""

import os
import warnings
from math import gcd
from numbers import Integral
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..utils._atomic import atomic_path
from ..utils._sklearn import Interval, StrOptions, validate_params
from ..utils._validation import check_audio, check_sample_rate

__all__ = ["AudioConversionWarning", "AudioFileError", "read_audio", "write_audio"]


class AudioFileError(ValueError):
    """A file exists but cannot be used as audio: empty, a folder, or corrupt.

    A missing file raises the built-in :class:`FileNotFoundError` instead.

    Examples
    --------
    >>> from skblsh.datasets import AudioFileError
    >>> issubclass(AudioFileError, ValueError)
    True
    """


class AudioConversionWarning(UserWarning):
    """Issued when :func:`read_audio` down-mixes or resamples a file.

    The message names the file and says what was done, e.g.
    ``"noise.wav: down-mixed 2 channels to mono; resampled 44100 Hz -> 16000 Hz."``
    Filter it with :func:`warnings.simplefilter` or record it with
    :func:`warnings.catch_warnings` to print a note instead.

    Examples
    --------
    >>> from skblsh.datasets import AudioConversionWarning
    >>> issubclass(AudioConversionWarning, UserWarning)
    True
    """


def _check_file(path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Expected path to be an existing audio file, got '{path}' (no such file)."
        )
    if path.is_dir():
        raise AudioFileError(
            f"Expected path to be an audio file, got '{path}', which is a folder."
        )
    if path.stat().st_size == 0:
        raise AudioFileError(
            f"Expected path to be an audio file, got '{path}', which is empty "
            "(0 bytes)."
        )
    return path


def _resample(y, orig_sr, sr):
    g = gcd(orig_sr, sr)
    return resample_poly(y, sr // g, orig_sr // g).astype(np.float32, copy=False)


def _read(path, sr):
    """Read one file; return (y, notes) where notes lists the conversions done."""
    path = _check_file(path)
    try:
        data, orig_sr = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        reason = getattr(exc, "error_string", None) or str(exc)
        raise AudioFileError(
            f"Expected path to be a readable audio file, got '{path}' "
            f"(libsndfile: {reason.rstrip('.')})."
        ) from None
    n_samples, n_channels = data.shape
    if n_samples == 0:
        raise AudioFileError(
            f"Expected path to be an audio file with samples, got '{path}', "
            "which holds 0 samples."
        )
    if not np.all(np.isfinite(data)):
        raise AudioFileError(
            f"Expected path to hold finite samples, got NaN or infinite "
            f"samples in '{path}'."
        )
    notes = []
    if n_channels > 1:
        y = data.mean(axis=1, dtype=np.float32)
        notes.append(f"down-mixed {n_channels} channels to mono")
    else:
        y = data[:, 0]
    if orig_sr != sr:
        y = _resample(y, orig_sr, sr)
        notes.append(f"resampled {orig_sr} Hz -> {sr} Hz")
    return np.ascontiguousarray(y, dtype=np.float32), notes


@validate_params(
    {"path": [str, os.PathLike], "sr": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def read_audio(path, *, sr=16000):
    """Read an audio file as a mono float32 waveform at a given sample rate.

    Any format libsndfile reads is accepted (WAV, FLAC, OGG, NIST SPHERE, ...).
    Multichannel files are down-mixed by averaging the channels and other
    sample rates are resampled with a polyphase filter
    (:func:`scipy.signal.resample_poly`); either conversion issues an
    :class:`AudioConversionWarning` naming the file.

    Parameters
    ----------
    path : str or path-like
        The audio file.
    sr : int, default=16000
        Sample rate of the returned waveform, in Hz.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype=float32
        The waveform, in [-1, 1] for integer PCM files.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    AudioFileError
        If `path` is a folder, an empty file, holds no samples, or is not audio
        that libsndfile can decode. The message is one line naming the file.

    See Also
    --------
    write_audio : Write a waveform to a WAV or FLAC file atomically.

    Examples
    --------
    >>> from skblsh.datasets import get_demo_path, read_audio
    >>> y = read_audio(get_demo_path() / "noise" / "rain_1.flac")
    >>> y.dtype, y.ndim
    (dtype('float32'), 1)
    """
    y, notes = _read(path, sr)
    if notes:
        warnings.warn(
            f"{path}: {'; '.join(notes)}.", AudioConversionWarning, stacklevel=2
        )
    return y


def read_audio_files(paths, *, sr=16000):
    """Read many files; report all conversions in a single warning.

    Used by the dataset loaders so a folder of 48 kHz files gives one note
    rather than one per file.
    """
    waveforms, converted = [], []
    for path in paths:
        y, notes = _read(path, sr)
        waveforms.append(y)
        if notes:
            converted.append((path, notes))
    if converted:
        kinds = sorted({note for _, notes in converted for note in notes})
        warnings.warn(
            f"{len(converted)} of {len(waveforms)} files converted "
            f"({'; '.join(kinds)}), e.g. {converted[0][0]}.",
            AudioConversionWarning,
            stacklevel=3,
        )
    return waveforms


_WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


@validate_params(
    {
        "path": [str, os.PathLike],
        "y": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "subtype": [StrOptions({"PCM_16", "PCM_24", "FLOAT"})],
    },
    prefer_skip_nested_validation=True,
)
def write_audio(path, y, *, sr=16000, subtype="PCM_16"):
    """Write a mono waveform to a WAV (or FLAC) file, atomically.

    The data is first written to a temporary file in the destination folder,
    which then replaces `path` in one :func:`os.replace` call: if writing fails
    midway, `path` is left untouched (absent, or its previous content) and the
    temporary file is removed.

    Samples outside [-1, 1] are clipped, with a :class:`UserWarning` saying how
    many, since integer PCM cannot represent them.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its suffix chooses the container: ``.wav`` or
        ``.flac`` (case-insensitive).
    y : array-like of shape (n_samples,)
        Floating-point mono waveform.
    sr : int, default=16000
        Sample rate, in Hz.
    subtype : {"PCM_16", "PCM_24", "FLOAT"}, default="PCM_16"
        Sample encoding. ``"FLOAT"`` (32-bit float) is only valid for WAV.

    Returns
    -------
    path : pathlib.Path
        The written file.

    See Also
    --------
    read_audio : Read an audio file as a mono float32 waveform.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from skblsh.datasets import read_audio, write_audio
    >>> y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(1600) / 16000)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_audio(pathlib.Path(tmp) / "tone.wav", y)
    ...     z = read_audio(out)
    >>> z.shape, bool(np.max(np.abs(z - y)) < 1e-4)
    ((1600,), True)
    """
    sr = check_sample_rate(sr)
    path = Path(path)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"Expected path to end in .wav or .flac, got '{path.name}'.")
    if fmt == "FLAC" and subtype == "FLOAT":
        raise ValueError(
            "Expected subtype to be 'PCM_16' or 'PCM_24' for a .flac file, got 'FLOAT'."
        )
    y = check_audio(y, name="y")
    n_clipped = int(np.count_nonzero(np.abs(y) > 1.0))
    if n_clipped:
        warnings.warn(
            f"Clipping {n_clipped} of {y.shape[0]} samples outside [-1, 1] "
            f"while writing '{path.name}'.",
            UserWarning,
            stacklevel=2,
        )
        y = np.clip(y, -1.0, 1.0)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Expected path to be in an existing folder, got '{path}' "
            f"('{folder}' does not exist)."
        )
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        sf.write(fh, y, sr, format=fmt, subtype=subtype)
    return path
