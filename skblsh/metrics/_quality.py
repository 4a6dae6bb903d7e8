"""Speech quality and intelligibility: STOI, extended STOI and PESQ.

Thin, validated wrappers around the reference Python implementations:
``pystoi`` (a dependency; a Python port of the authors' MATLAB code) and
``pesq`` (an optional extra, ``pip install skblsh[pesq]``; a wrapper of the
ITU-T P.862 reference C code). Values are the libraries' own; what is added
is the library's input validation, the sample-rate rules in the error
messages, and one error type (:class:`ValueError`) for audio on which a
measure is undefined (too short, no speech found).
"""

import warnings
from numbers import Integral

import numpy as np
import pystoi

from ..utils._sklearn import Interval, StrOptions, validate_params
from ..utils._validation import check_audio, check_length
from ._bss_eval import as_float64

# STOI's analysis (Taal et al., 2011): 10 kHz, 256-sample frames with 50 %
# overlap, 384 ms (30 frames) per intermediate score, frames more than 40 dB
# below the loudest dropped. Its 15 one-third octave bands reach 4.3 kHz,
# so audio sampled below 8 kHz lacks whole bands.
_STOI_MIN_SR = 8000
_STOI_MIN_FRAMES = 30
_PESQ_RATES = {"wb": (16000,), "nb": (8000, 16000)}
# P.862's buffer minimum.
_PESQ_MIN_SECONDS = 0.25


class _UndefinedScoreError(ValueError):
    """A measure that is undefined on valid audio (too short, no speech).

    :func:`separation_report` turns it into NaN plus a warning for that
    utterance, where every other error propagates.
    """


def _check_pair(reference, estimate, *, allow_silent_estimate):
    reference = as_float64(check_audio(reference, name="reference", allow_silent=False))
    estimate = as_float64(
        check_audio(estimate, name="estimate", allow_silent=allow_silent_estimate)
    )
    check_length(
        estimate, reference.shape[0], name="estimate", reference_name="reference"
    )
    return reference, estimate


def _check_stoi_rate(sr):
    if sr < _STOI_MIN_SR:
        raise ValueError(
            f"Expected sr >= {_STOI_MIN_SR} Hz for STOI (its one-third octave "
            f"bands reach 4.3 kHz), got sr={sr}."
        )


def _check_pesq_rate(sr, mode):
    rates = _PESQ_RATES[mode]
    if sr not in rates:
        kind = "wide-band" if mode == "wb" else "narrow-band"
        allowed = " or ".join(str(r) for r in rates)
        hint = " (use mode='nb' at 8000 Hz)" if mode == "wb" and sr == 8000 else ""
        raise ValueError(
            f"Expected sr={allowed} for {kind} PESQ (mode={mode!r}), got "
            f"sr={sr}{hint}; resample the audio first."
        )


def _import_pesq():
    try:
        import pesq
    except ImportError as exc:
        raise ImportError(
            "PESQ needs the optional 'pesq' package, which is not installed: "
            "pip install 'skblsh[pesq]' (or pip install pesq)."
        ) from exc
    return pesq


def _pesq_available():
    """Whether the optional ``pesq`` package can be imported."""
    try:
        _import_pesq()
    except ImportError:
        return False
    return True


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "extended": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def stoi(reference, estimate, *, sr, extended=False):
    """Short-time objective intelligibility (STOI) or extended STOI.

    Computed by :func:`pystoi.stoi`: both waveforms are resampled to 10 kHz,
    frames more than 40 dB below the loudest frame of the reference are
    dropped, and the short-time (384 ms) envelopes of 15 one-third octave
    bands are correlated. STOI (Taal et al., 2011) clips the estimate's
    envelopes first; extended STOI (Jensen and Taal, 2016) normalises rows
    and columns instead, which suits fluctuating noise better. Greater is
    better; a perfect estimate scores 1.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean speech, floating point, not all zeros.
    estimate : array-like of shape (n_samples,)
        Processed or noisy speech, same length and rate. An all-zero
        estimate scores 0 (ESTOI: about 0.005).
    sr : int
        Sample rate of both waveforms in Hz, at least 8000 (the highest
        one-third octave band reaches 4.3 kHz).
    extended : bool, default=False
        Compute extended STOI (ESTOI) instead of STOI.

    Returns
    -------
    float
        STOI or ESTOI, at most 1 (STOI is in practice between about 0.4
        for unintelligible and 1 for clean speech; ESTOI spreads lower).

    Raises
    ------
    ValueError
        If a waveform is not a finite 1-D floating-point array, the lengths
        differ, the reference is all zeros, ``sr`` is below 8000, or fewer
        than 30 frames (about 0.4 s) of the reference are left after dropping
        silent frames: STOI is undefined then (pystoi would warn and return
        1e-5).
    TypeError
        If a waveform has an integer (PCM) dtype.

    See Also
    --------
    pesq : Perceptual quality rather than intelligibility.
    stoi_scorer : Length-weighted mean STOI of a separator's predictions.

    References
    ----------
    .. [1] C. H. Taal, R. C. Hendriks, R. Heusdens and J. Jensen, "An
       algorithm for intelligibility prediction of time-frequency weighted
       noisy speech", IEEE Trans. ASLP, 19(7), 2011.
    .. [2] J. Jensen and C. H. Taal, "An algorithm for predicting the
       intelligibility of speech masked by modulated noise maskers",
       IEEE/ACM Trans. ASLP, 24(11), 2016.

    Examples
    --------
    >>> from skblsh.datasets import load_demo
    >>> from skblsh.metrics import stoi
    >>> data = load_demo()
    >>> speech, mixture = data.sources_test[0], data.mixtures_test[0]
    >>> print(f"{stoi(speech, mixture, sr=data.sr):.3f}")
    0.700
    >>> print(f"{stoi(speech, speech + 0.1 * (mixture - speech), sr=data.sr):.3f}")
    0.961
    >>> print(f"{stoi(speech, mixture, sr=data.sr, extended=True):.3f}")
    0.462
    """
    reference, estimate = _check_pair(reference, estimate, allow_silent_estimate=True)
    _check_stoi_rate(sr)
    # ESTOI in pystoi (as in the MATLAB original) dithers with machine-epsilon
    # noise from NumPy's global RNG: seed it so that the value is reproducible
    # (it differs in the last bits only, except on a silent estimate), and
    # give the caller their global RNG state back.
    rng_state = np.random.get_state()  # noqa: NPY002 (pystoi uses the global RNG)
    np.random.seed(0)  # noqa: NPY002
    with warnings.catch_warnings():
        # pystoi's only sign that too little speech is left is this warning,
        # after which it returns 1e-5 as if that were a score.
        warnings.filterwarnings(
            "error", message="Not enough STFT frames", category=RuntimeWarning
        )
        try:
            value = pystoi.stoi(reference, estimate, sr, extended=extended)
        except RuntimeWarning:
            raise _UndefinedScoreError(
                f"Expected at least {_STOI_MIN_FRAMES} frames (about 0.4 s) of "
                "speech in reference for STOI, got fewer after dropping frames "
                "more than 40 dB below its loudest: the reference lasts "
                f"{reference.shape[0] / sr:.2f} s at {sr} Hz."
            ) from None
        finally:
            np.random.set_state(rng_state)  # noqa: NPY002
    return float(value)


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"wb", "nb"})],
    },
    prefer_skip_nested_validation=True,
)
def pesq(reference, estimate, *, sr, mode="wb"):
    """Perceptual evaluation of speech quality (PESQ), as a MOS-LQO score.

    Computed by the ``pesq`` package (ITU-T P.862 reference code), an
    optional dependency: ``pip install skblsh[pesq]``. Wide-band PESQ
    (P.862.2) scores 16 kHz audio from about 1.04 to 4.64; narrow-band PESQ
    (P.862.1 mapping) filters to telephone band and scores from about 1.02
    to 4.55. Greater is better. PESQ aligns levels and delays itself, so
    rescaling the estimate barely changes it.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean speech, floating point, not all zeros, at least 0.25 s long.
    estimate : array-like of shape (n_samples,)
        Processed or noisy speech, same length and rate, not all zeros.
    sr : int
        Sample rate of both waveforms in Hz: 16000 for ``mode="wb"``; 8000
        or 16000 for ``mode="nb"``. Resample other rates first (PESQ is
        defined at these two rates only).
    mode : {"wb", "nb"}, default="wb"
        Wide-band or narrow-band PESQ.

    Returns
    -------
    float
        MOS-LQO.

    Raises
    ------
    ImportError
        If the ``pesq`` package is not installed.
    ValueError
        If a waveform is not a finite 1-D floating-point array, the lengths
        differ, a waveform is all zeros or shorter than 0.25 s, ``sr`` does
        not suit ``mode``, or PESQ's voice activity detector finds no speech
        (P.862 is undefined then).
    TypeError
        If a waveform has an integer (PCM) dtype.

    See Also
    --------
    stoi : Intelligibility rather than quality.
    pesq_scorer : Length-weighted mean PESQ of a separator's predictions.

    References
    ----------
    .. [1] ITU-T Recommendation P.862, "Perceptual evaluation of speech
       quality (PESQ)", 2001; P.862.2, "Wideband extension", 2007.

    Examples
    --------
    >>> from skblsh.datasets import load_demo
    >>> from skblsh.metrics import pesq
    >>> data = load_demo()
    >>> speech, mixture = data.sources_test[0], data.mixtures_test[0]
    >>> print(f"{pesq(speech, mixture, sr=data.sr):.2f}")
    1.03
    >>> lightly_noisy = speech + 0.1 * (mixture - speech)
    >>> print(f"{pesq(speech, lightly_noisy, sr=data.sr):.2f}")
    1.38
    >>> print(f"{pesq(speech, lightly_noisy, sr=data.sr, mode='nb'):.2f}")
    1.77
    """
    pesq_lib = _import_pesq()
    reference, estimate = _check_pair(reference, estimate, allow_silent_estimate=False)
    _check_pesq_rate(sr, mode)
    n_min = int(_PESQ_MIN_SECONDS * sr)
    if reference.shape[0] < n_min:
        raise _UndefinedScoreError(
            f"Expected reference to be at least {_PESQ_MIN_SECONDS} s long for "
            f"PESQ ({n_min} samples at {sr} Hz), got {reference.shape[0]} samples."
        )
    try:
        value = pesq_lib.pesq(sr, reference, estimate, mode)
    except pesq_lib.NoUtterancesError:
        raise _UndefinedScoreError(
            "Expected speech in reference and estimate for PESQ, got none "
            "detected by its voice activity detector (PESQ needs about 0.4 s "
            f"of speech; the waveforms last {reference.shape[0] / sr:.2f} s)."
        ) from None
    except pesq_lib.PesqError as exc:
        raise ValueError(f"PESQ failed: {exc}") from exc
    return float(value)
