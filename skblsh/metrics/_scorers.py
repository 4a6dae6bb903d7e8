"""Scorers with scikit-learn's ``(estimator, X, y)`` signature for separators.

Each predicts the clean sources of the mixtures ``X`` with the fitted
estimator and averages a per-utterance metric, weighted by utterance length,
as the paper's tables do. They are plain callables rather than
:func:`~sklearn.metrics.make_scorer` products because the metrics need more
than ``(y, y_pred)``: BSS Eval needs the mixtures, STOI and PESQ the sample
rate, which they read from ``estimator.sr`` unless given.
"""

from numbers import Integral

import numpy as np

from ..utils._sklearn import HasMethods, Interval, StrOptions, validate_params
from ..utils._validation import check_audio_list, check_length
from . import _quality
from ._bss_eval import si_sdr
from ._report import _bss_report, _weighted_mean


def _predict_sources(estimator, X, y):
    mixtures = check_audio_list(X, name="X")
    references = check_audio_list(y, name="y")
    if len(mixtures) != len(references):
        raise ValueError(
            "Expected X and y to hold the same number of waveforms, got "
            f"{len(mixtures)} and {len(references)}."
        )
    estimates = check_audio_list(estimator.predict(X), name="estimator.predict(X)")
    if len(estimates) != len(mixtures):
        raise ValueError(
            f"Expected estimator.predict(X) to return {len(mixtures)} waveforms "
            f"(one per mixture), got {len(estimates)}."
        )
    return references, estimates, mixtures


def _weighted_mean_over_utterances(metric, references, estimates):
    values = np.empty(len(references))
    for i, (reference, estimate) in enumerate(zip(references, estimates, strict=True)):
        check_length(
            estimate,
            reference.shape[0],
            name=f"estimator.predict(X)[{i}]",
            reference_name=f"y[{i}]",
        )
        try:
            values[i] = metric(reference, estimate)
        except ValueError as exc:
            raise ValueError(f"Utterance {i}: {exc}") from exc
    lengths = np.array([len(r) for r in references])
    return _weighted_mean(values, lengths)


def _sample_rate(estimator, sr):
    own = getattr(estimator, "sr", None)
    if isinstance(own, bool) or not isinstance(own, Integral) or own < 1:
        own = None
    if sr is None and own is None:
        raise ValueError(
            "Expected sr, or an estimator with an integer sr attribute (its "
            "sample rate in Hz, as MaskingSeparator has), got neither: pass it, "
            "e.g. scoring=functools.partial(stoi_scorer, sr=16000)."
        )
    if sr is not None and own is not None and sr != own:
        raise ValueError(
            f"Expected sr to match the estimator's sample rate "
            f"(estimator.sr={own}), got sr={sr}."
        )
    return int(own if sr is None else sr)


_SCORER_CONSTRAINTS = {
    "estimator": [HasMethods(["predict"])],
    "X": ["array-like"],
    "y": ["array-like"],
}
_QUALITY_SCORER_CONSTRAINTS = {
    **_SCORER_CONSTRAINTS,
    "sr": [Interval(Integral, 1, None, closed="left"), None],
}


@validate_params(_SCORER_CONSTRAINTS, prefer_skip_nested_validation=False)
def sdr_scorer(estimator, X, y):
    """Length-weighted mean BSS Eval SDR of ``estimator.predict(X)``, in dB.

    A scorer with scikit-learn's ``(estimator, X, y)`` signature, for
    ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. It is a plain callable
    rather than a :func:`~sklearn.metrics.make_scorer` product because BSS
    Eval needs the mixtures ``X`` as well as the predictions. Greater is
    better.

    Parameters
    ----------
    estimator : object
        Utterance-level separator: ``predict(X)`` returns one denoised
        waveform per mixture, of the same length.
    X : list of array-like of shape (n_samples_i,)
        Mixtures.
    y : list of array-like of shape (n_samples_i,)
        Clean sources.

    Returns
    -------
    float
        ``separation_report(y, estimator.predict(X), X).sdr_weighted``.

    See Also
    --------
    si_sdr_scorer : Cheaper scorer that does not need the mixtures.
    separation_report : All metrics, per utterance.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import sdr_scorer
    >>> class Identity:
    ...     def predict(self, X):
    ...         return list(X)
    >>> rng = np.random.default_rng(0)
    >>> speech = [rng.standard_normal(6000) for _ in range(2)]
    >>> mixtures = [s + 0.1 * rng.standard_normal(6000) for s in speech]
    >>> print(f"{sdr_scorer(Identity(), mixtures, speech):.1f}")
    20.4
    """
    references, estimates, mixtures = _predict_sources(estimator, X, y)
    return _bss_report(references, estimates, mixtures).sdr_weighted


@validate_params(_SCORER_CONSTRAINTS, prefer_skip_nested_validation=False)
def si_sdr_scorer(estimator, X, y):
    """Length-weighted mean SI-SDR of ``estimator.predict(X)``, in dB.

    A scorer with scikit-learn's ``(estimator, X, y)`` signature; see
    :func:`sdr_scorer`. SI-SDR needs only ``y`` and the predictions and costs
    one inner product per utterance. Greater is better.

    Parameters
    ----------
    estimator : object
        Utterance-level separator: ``predict(X)`` returns one denoised
        waveform per mixture, of the same length.
    X : list of array-like of shape (n_samples_i,)
        Mixtures.
    y : list of array-like of shape (n_samples_i,)
        Clean sources.

    Returns
    -------
    float
        Mean of :func:`si_sdr` (``zero_mean=True``) over utterances, weighted
        by their length.

    See Also
    --------
    sdr_scorer : The paper's BSS Eval SDR.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import si_sdr_scorer
    >>> class Identity:
    ...     def predict(self, X):
    ...         return list(X)
    >>> rng = np.random.default_rng(0)
    >>> speech = [rng.standard_normal(6000) for _ in range(2)]
    >>> mixtures = [s + 0.1 * rng.standard_normal(6000) for s in speech]
    >>> print(f"{si_sdr_scorer(Identity(), mixtures, speech):.1f}")
    20.1
    """
    references, estimates, _ = _predict_sources(estimator, X, y)
    return _weighted_mean_over_utterances(si_sdr, references, estimates)


_QUALITY_SCORER_DOC = """Length-weighted mean {what} of ``estimator.predict(X)``.

    A scorer with scikit-learn's ``(estimator, X, y)`` signature; see
    :func:`sdr_scorer`. {cost} Greater is better.

    Parameters
    ----------
    estimator : object
        Utterance-level separator: ``predict(X)`` returns one denoised
        waveform per mixture, of the same length.
    X : list of array-like of shape (n_samples_i,)
        Mixtures.
    y : list of array-like of shape (n_samples_i,)
        Clean sources.
    sr : int, default=None
        Sample rate in Hz; ``None`` reads ``estimator.sr``. Bind it with
        :func:`functools.partial` for estimators without that attribute.{extra}

    Returns
    -------
    float
        Mean of {call} over utterances, weighted by their length.

    Raises
    ------
    ValueError
        If a prediction is invalid or has the wrong length, the sample rate
        is unknown or unsuitable, or the metric is undefined on an utterance
        (named by index), e.g. one with under about 0.4 s of speech.{raises}

    See Also
    --------
    {see_also}
    separation_report : All metrics, per utterance.

    Examples
    --------
    >>> from skblsh.datasets import load_demo
    >>> from skblsh.metrics import {name}
    >>> class Identity:
    ...     sr = 16000
    ...     def predict(self, X):
    ...         return list(X)
    >>> data = load_demo()
    >>> X, y = data.mixtures_test[:3], data.sources_test[:3]
    >>> print(f"{{{name}(Identity(), X, y):.{digits}f}}")
    {value}
    """


@validate_params(_QUALITY_SCORER_CONSTRAINTS, prefer_skip_nested_validation=False)
def stoi_scorer(estimator, X, y, *, sr=None):
    sr = _sample_rate(estimator, sr)
    _quality._check_stoi_rate(sr)
    references, estimates, _ = _predict_sources(estimator, X, y)
    return _weighted_mean_over_utterances(
        lambda r, e: _quality.stoi(r, e, sr=sr), references, estimates
    )


@validate_params(_QUALITY_SCORER_CONSTRAINTS, prefer_skip_nested_validation=False)
def estoi_scorer(estimator, X, y, *, sr=None):
    sr = _sample_rate(estimator, sr)
    _quality._check_stoi_rate(sr)
    references, estimates, _ = _predict_sources(estimator, X, y)
    return _weighted_mean_over_utterances(
        lambda r, e: _quality.stoi(r, e, sr=sr, extended=True), references, estimates
    )


@validate_params(
    {**_QUALITY_SCORER_CONSTRAINTS, "mode": [StrOptions({"wb", "nb"})]},
    prefer_skip_nested_validation=False,
)
def pesq_scorer(estimator, X, y, *, sr=None, mode="wb"):
    _quality._import_pesq()
    sr = _sample_rate(estimator, sr)
    _quality._check_pesq_rate(sr, mode)
    references, estimates, _ = _predict_sources(estimator, X, y)
    return _weighted_mean_over_utterances(
        lambda r, e: _quality.pesq(r, e, sr=sr, mode=mode), references, estimates
    )


stoi_scorer.__doc__ = _QUALITY_SCORER_DOC.format(
    what="STOI",
    cost="About 4 ms per second of audio.",
    extra="",
    call=":func:`stoi`",
    raises="",
    see_also="estoi_scorer : Extended STOI.",
    name="stoi_scorer",
    digits=3,
    value="0.839",
)
estoi_scorer.__doc__ = _QUALITY_SCORER_DOC.format(
    what="extended STOI (ESTOI)",
    cost="About 6 ms per second of audio.",
    extra="",
    call=":func:`stoi` with ``extended=True``",
    raises="",
    see_also="stoi_scorer : The original STOI.",
    name="estoi_scorer",
    digits=3,
    value="0.678",
)
pesq_scorer.__doc__ = _QUALITY_SCORER_DOC.format(
    what="PESQ (MOS-LQO)",
    cost=(
        "Needs the optional ``pesq`` package (``pip install skblsh[pesq]``); "
        "about 15 ms per second of audio."
    ),
    extra="""
    mode : {"wb", "nb"}, default="wb"
        Wide-band PESQ (``sr`` must be 16000) or narrow-band (8000 or
        16000).""",
    call=":func:`pesq`",
    raises="""
    ImportError
        If the ``pesq`` package is not installed.""",
    see_also="stoi_scorer : Intelligibility rather than quality.",
    name="pesq_scorer",
    digits=2,
    value="1.07",
)
