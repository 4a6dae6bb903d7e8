"""Per-utterance metrics of a data set and their length-weighted means."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils import Bunch

from ..utils._sklearn import Interval, StrOptions, validate_params
from ..utils._validation import check_audio_list
from . import _quality
from ._bss_eval import BSSEvalReference, si_sdr


def _weighted_mean(values, weights):
    return float(np.sum(values * weights) / np.sum(weights))


def _add_means(report, names):
    for name in names:
        report[f"{name}_weighted"] = _weighted_mean(report[name], report.length)
        report[f"{name}_mean"] = float(np.mean(report[name]))


def _check_triples(references, estimates, mixtures):
    references = check_audio_list(references, name="references")
    estimates = check_audio_list(estimates, name="estimates")
    mixtures = check_audio_list(mixtures, name="mixtures")
    if not len(references) == len(estimates) == len(mixtures):
        raise ValueError(
            "Expected references, estimates and mixtures to hold the same number "
            f"of waveforms, got {len(references)}, {len(estimates)} and "
            f"{len(mixtures)}."
        )
    return references, estimates, mixtures


def _bss_report(references, estimates, mixtures):
    """BSS Eval and SI-SDR part of the report, from validated lists."""
    scores = np.empty((len(references), 4))
    for i, (reference, estimate, mixture) in enumerate(
        zip(references, estimates, mixtures, strict=True)
    ):
        try:
            scores[i, :3] = BSSEvalReference(reference, mixture).score(estimate)
            scores[i, 3] = si_sdr(reference, estimate)
        except ValueError as exc:
            raise ValueError(f"Utterance {i}: {exc}") from exc
    length = np.array([len(r) for r in references], dtype=np.int64)
    names = ["sdr", "sir", "sar", "si_sdr"]
    report = Bunch(**dict(zip(names, scores.T.copy(), strict=True)), length=length)
    _add_means(report, names)
    return report


def _quality_values(metric, label, references, estimates):
    """Per-utterance values; NaN and one warning where ``metric`` is undefined."""
    values = np.empty(len(references))
    undefined = []
    for i, (reference, estimate) in enumerate(zip(references, estimates, strict=True)):
        try:
            values[i] = metric(reference, estimate)
        except _quality._UndefinedScoreError as exc:
            values[i] = np.nan
            undefined.append(f"{i} ({exc})")
        except ValueError as exc:
            raise ValueError(f"Utterance {i}: {exc}") from exc
    if undefined:
        warnings.warn(
            f"{label} is undefined on {len(undefined)} of {len(values)} "
            f"utterances, set to NaN there and in the {label} means: utterance "
            + "; utterance ".join(undefined),
            UndefinedMetricWarning,
            # _quality_values < separation_report < validate_params < caller
            stacklevel=4,
        )
    return values


@validate_params(
    {
        "references": ["array-like"],
        "estimates": ["array-like"],
        "mixtures": ["array-like"],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "pesq": [StrOptions({"auto"}), "boolean"],
    },
    prefer_skip_nested_validation=True,
)
def separation_report(references, estimates, mixtures, *, sr=16000, pesq="auto"):
    """Per-utterance BSS Eval, SI-SDR, STOI and PESQ, with their means.

    Each utterance is scored with :class:`BSSEvalReference` (the fast path of
    :func:`bss_eval`), :func:`si_sdr`, :func:`stoi` and, when the optional
    ``pesq`` package is installed, wide-band :func:`pesq`. The paper's tables
    average over utterances weighted by their length in samples
    (``*_weighted``); the unweighted mean is given too (``*_mean``).

    Parameters
    ----------
    references : list of array-like of shape (n_samples_i,)
        Clean sources.
    estimates : list of array-like of shape (n_samples_i,)
        Estimated sources, one per reference, same length as it.
    mixtures : list of array-like of shape (n_samples_i,)
        Mixtures, one per reference, same length as it.
    sr : int, default=16000
        Sample rate of every waveform in Hz, the library's default rate.
        STOI and PESQ depend on it (BSS Eval and SI-SDR do not): pass the
        true rate for other audio.
    pesq : "auto" or bool, default="auto"
        Whether to add wide-band PESQ (about 15 ms per second of audio).
        ``"auto"`` adds it when the ``pesq`` package is installed and ``sr``
        is 16000; ``True`` requires both; ``False`` leaves it out.

    Returns
    -------
    :class:`~sklearn.utils.Bunch`
        With per-utterance arrays ``sdr``, ``sir``, ``sar``, ``si_sdr``
        (float64, dB), ``stoi`` (float64) and ``length`` (int64, samples),
        and floats ``sdr_weighted``, ``sir_weighted``, ``sar_weighted``,
        ``si_sdr_weighted``, ``stoi_weighted``, ``sdr_mean``, ``sir_mean``,
        ``sar_mean``, ``si_sdr_mean``, ``stoi_mean``; when PESQ is computed,
        also ``pesq_wb`` (per utterance), ``pesq_wb_weighted`` and
        ``pesq_wb_mean``. A perfect estimate (ratio ``inf`` or ~300 dB)
        dominates the SDR means; see :func:`bss_eval`. STOI or PESQ of an
        utterance on which it is undefined (under about 0.4 s of speech) is
        NaN, which the corresponding means then are too, with an
        :class:`~sklearn.exceptions.UndefinedMetricWarning` naming the
        utterances.

    Raises
    ------
    ValueError
        If the lists have different numbers of waveforms, any utterance is
        invalid for :func:`bss_eval` (the message names it by index), or
        ``pesq=True`` with ``sr`` other than 16000.
    ImportError
        If ``pesq=True`` and the ``pesq`` package is not installed.

    See Also
    --------
    sdr_scorer : The length-weighted mean SDR as a scikit-learn scorer.
    stoi_scorer, pesq_scorer : The same for STOI and PESQ.

    Examples
    --------
    >>> from skblsh.datasets import load_demo
    >>> from skblsh.metrics import separation_report
    >>> data = load_demo()
    >>> speech, mixtures = data.sources_test[:2], data.mixtures_test[:2]
    >>> estimates = [speech[0] + 0.1 * (mixtures[0] - speech[0]), mixtures[1]]
    >>> report = separation_report(speech, estimates, mixtures, sr=data.sr)
    >>> print(report.sdr.round(1), report.stoi.round(2), report.length)
    [20.1  0.2] [0.96 0.93] [27396 39798]
    >>> print(f"{report.sdr_weighted:.1f} {report.sdr_mean:.1f}")
    8.3 10.2
    >>> print(f"{report.stoi_weighted:.3f}")
    0.944
    """
    references, estimates, mixtures = _check_triples(references, estimates, mixtures)
    if isinstance(pesq, str):  # "auto"
        with_pesq = sr == 16000 and _quality._pesq_available()
    else:
        with_pesq = bool(pesq)
        if with_pesq:
            _quality._import_pesq()
            if sr != 16000:
                raise ValueError(
                    f"Expected sr=16000 for wide-band PESQ (pesq=True), got "
                    f"sr={sr}; pass pesq=False, or resample the audio to 16 kHz."
                )
    report = _bss_report(references, estimates, mixtures)
    report.stoi = _quality_values(
        lambda r, e: _quality.stoi(r, e, sr=sr), "STOI", references, estimates
    )
    names = ["stoi"]
    if with_pesq:
        report.pesq_wb = _quality_values(
            lambda r, e: _quality.pesq(r, e, sr=sr, mode="wb"),
            "PESQ",
            references,
            estimates,
        )
        names.append("pesq_wb")
    _add_means(report, names)
    return report
