"""Separation quality metrics: BSS Eval SDR/SIR/SAR, SI-SDR and scorers.

The paper reports BSS Eval (Vincent et al., 2006) for the speech row of a
two-source problem: the references are the clean speech ``s`` and the noise
``m - s``, the estimates are ``s_hat`` and ``m - s_hat``, and the distortion
filters have 512 taps, as in :func:`mir_eval.separation.bss_eval_sources`.

:func:`bss_eval` computes these numbers either with mir_eval itself or with
:class:`BSSEvalReference`, an exact re-implementation of mir_eval's
least-squares decomposition that factorises the Gram matrix of the delayed
references once per utterance, so that scoring an estimate costs a few FFTs
and two solves with the cached factor.
"""

import numpy as np
from sklearn.utils import Bunch

from ..utils._sklearn import HasMethods, StrOptions, validate_params
from ..utils._validation import check_audio, check_audio_list, check_length
from ._bss_eval import (
    BSSEvalReference,
    as_float64,
    bss_eval_mir_eval,
    db,
    noise_of,
)

__all__ = [
    "BSSEvalReference",
    "bss_eval",
    "sdr_scorer",
    "separation_report",
    "si_sdr",
    "si_sdr_scorer",
]


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "mixture": ["array-like"],
        "backend": [StrOptions({"fast", "mir_eval"})],
    },
    prefer_skip_nested_validation=True,
)
def bss_eval(reference, estimate, mixture, *, backend="fast"):
    """BSS Eval SDR, SIR and SAR of the speech row, in dB.

    The two-source evaluation of the paper: references ``[s, m - s]``,
    estimates ``[s_hat, m - s_hat]``, 512-tap time-invariant distortion
    filters, no permutation search; the speech row (index 0) is returned.
    The speech row depends only on ``s``, ``m - s`` and ``s_hat``.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean source ``s``, floating point, not all zeros.
    estimate : array-like of shape (n_samples,)
        Estimated source ``s_hat``, floating point, not all zeros.
    mixture : array-like of shape (n_samples,)
        Mixture ``m``; the noise ``m - s`` must not be all zeros.
    backend : {"fast", "mir_eval"}, default="fast"
        ``"fast"`` uses :class:`BSSEvalReference`, which agrees with mir_eval
        to rounding error and is several times faster. ``"mir_eval"`` calls
        :func:`mir_eval.separation.bss_eval_sources` (its deprecation warning
        is silenced here; other warnings pass through). When the estimate
        equals the mixture, the all-zero second estimate that mir_eval would
        refuse is replaced by the noise, which leaves the speech row unchanged.

    Returns
    -------
    sdr : float
        Signal-to-distortion ratio.
    sir : float
        Signal-to-interference ratio.
    sar : float
        Signal-to-artifacts ratio.

    Raises
    ------
    ValueError
        If an input is not a finite 1-D floating-point waveform, the lengths
        differ, or the reference, the noise or the estimate is all zeros
        (BSS Eval is undefined then, and mir_eval refuses it too).
    TypeError
        If an input has an integer (PCM) dtype.

    See Also
    --------
    BSSEvalReference : Score many estimates of one utterance.
    si_sdr : Scale-invariant SDR.
    separation_report : Per-utterance and aggregate metrics for a data set.

    Notes
    -----
    A perfect estimate, or any estimate inside the span of the filtered
    references (such as the mixture itself, whose SAR is then meaningless),
    leaves a residual made of rounding errors only: the corresponding ratio
    is very large (typically 250-300 dB) rather than exactly ``inf``, and
    its precise value differs between backends. ``inf`` is returned when the
    residual is exactly zero.

    References
    ----------
    .. [1] E. Vincent, R. Gribonval and C. Fevotte, "Performance measurement
       in blind audio source separation", IEEE Trans. ASLP, 14(4), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import bss_eval
    >>> rng = np.random.default_rng(0)
    >>> speech, noise, hiss = rng.standard_normal((3, 8000))
    >>> estimate = speech + 0.1 * noise + 0.1 * hiss
    >>> sdr, sir, sar = bss_eval(speech, estimate, speech + noise)
    >>> print(f"SDR={sdr:.1f} SIR={sir:.1f} SAR={sar:.1f}")
    SDR=17.3 SIR=20.0 SAR=20.7
    >>> sdr_ref, _, _ = bss_eval(speech, estimate, speech + noise, backend="mir_eval")
    >>> print(f"{abs(sdr - sdr_ref) < 1e-6}")
    True
    """
    reference = as_float64(check_audio(reference, name="reference", allow_silent=False))
    estimate = as_float64(check_audio(estimate, name="estimate", allow_silent=False))
    mixture = as_float64(check_audio(mixture, name="mixture"))
    n = reference.shape[0]
    check_length(estimate, n, name="estimate", reference_name="reference")
    check_length(mixture, n, name="mixture", reference_name="reference")
    noise_of(reference, mixture)
    if backend == "fast":
        return BSSEvalReference(reference, mixture).score(estimate)
    return bss_eval_mir_eval(reference, estimate, mixture)


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "zero_mean": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def si_sdr(reference, estimate, *, zero_mean=True):
    """Scale-invariant signal-to-distortion ratio (SI-SDR), in dB.

    With ``alpha = <s_hat, s> / <s, s>``, the target is ``alpha * s`` and
    ``SI-SDR = 10 log10(|alpha s|^2 / |s_hat - alpha s|^2)`` (Le Roux et al.,
    2019). Rescaling the estimate by any non-zero factor, negative included,
    leaves the value unchanged.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean source, floating point, not all zeros (nor constant when
        ``zero_mean=True``).
    estimate : array-like of shape (n_samples,)
        Estimated source, same length, not all zeros (nor constant when
        ``zero_mean=True``).
    zero_mean : bool, default=True
        Subtract each signal's mean first, as the definition of Le Roux et al.
        assumes zero-mean signals. With ``False`` a DC offset in the estimate
        counts as distortion.

    Returns
    -------
    float
        SI-SDR in dB; ``inf`` if the residual is exactly zero, and very large
        (around 300 dB) for a perfect estimate up to rounding.

    Raises
    ------
    ValueError
        If an input is not a finite 1-D floating-point waveform, the lengths
        differ, or a signal is all zeros (after mean removal).
    TypeError
        If an input has an integer (PCM) dtype.

    See Also
    --------
    bss_eval : SDR with a 512-tap distortion filter, SIR and SAR.

    References
    ----------
    .. [1] J. Le Roux, S. Wisdom, H. Erdogan and J. R. Hershey, "SDR -
       half-baked or well done?", ICASSP 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import si_sdr
    >>> rng = np.random.default_rng(0)
    >>> speech, noise = rng.standard_normal((2, 8000))
    >>> print(f"{si_sdr(speech, speech + 0.1 * noise):.1f}")
    20.1
    >>> print(f"{si_sdr(speech, -3 * (speech + 0.1 * noise)):.1f}")
    20.1
    """
    reference = as_float64(check_audio(reference, name="reference", allow_silent=False))
    estimate = as_float64(check_audio(estimate, name="estimate", allow_silent=False))
    check_length(
        estimate, reference.shape[0], name="estimate", reference_name="reference"
    )
    if zero_mean:
        reference = reference - reference.mean()
        estimate = estimate - estimate.mean()
        for name, y in [("reference", reference), ("estimate", estimate)]:
            if not np.any(y):
                raise ValueError(
                    f"Expected {name} to contain a signal, got a constant "
                    "waveform (all zeros after mean removal with zero_mean=True)."
                )
    alpha = np.dot(estimate, reference) / np.dot(reference, reference)
    target = alpha * reference
    return db(np.sum(target**2), np.sum((estimate - target) ** 2))


def _weighted_mean(values, weights):
    return float(np.sum(values * weights) / np.sum(weights))


@validate_params(
    {
        "references": ["array-like"],
        "estimates": ["array-like"],
        "mixtures": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def separation_report(references, estimates, mixtures):
    """Per-utterance BSS Eval and SI-SDR, with length-weighted and plain means.

    Each utterance is scored with :class:`BSSEvalReference` (the fast path of
    :func:`bss_eval`) and :func:`si_sdr`. The paper's tables average over
    utterances weighted by their length in samples (``*_weighted``); the
    unweighted mean is given too (``*_mean``).

    Parameters
    ----------
    references : list of array-like of shape (n_samples_i,)
        Clean sources.
    estimates : list of array-like of shape (n_samples_i,)
        Estimated sources, one per reference, same length as it.
    mixtures : list of array-like of shape (n_samples_i,)
        Mixtures, one per reference, same length as it.

    Returns
    -------
    :class:`~sklearn.utils.Bunch`
        With per-utterance arrays ``sdr``, ``sir``, ``sar``, ``si_sdr``
        (float64, dB) and ``length`` (int64, samples), and floats
        ``sdr_weighted``, ``sir_weighted``, ``sar_weighted``,
        ``si_sdr_weighted``, ``sdr_mean``, ``sir_mean``, ``sar_mean``,
        ``si_sdr_mean``. A perfect estimate (ratio ``inf`` or ~300 dB)
        dominates the means; see :func:`bss_eval`.

    Raises
    ------
    ValueError
        If the lists have different numbers of waveforms, or any utterance is
        invalid for :func:`bss_eval` (the message names it by index).

    See Also
    --------
    sdr_scorer : The length-weighted mean SDR as a scikit-learn scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import separation_report
    >>> rng = np.random.default_rng(0)
    >>> speech = [rng.standard_normal(n) for n in (4000, 12000)]
    >>> noise = [rng.standard_normal(n) for n in (4000, 12000)]
    >>> mixtures = [s + n for s, n in zip(speech, noise)]
    >>> estimates = [speech[0] + noise[0], speech[1] + 0.1 * noise[1]]
    >>> report = separation_report(speech, estimates, mixtures)
    >>> print(report.sdr.round(1), report.length)
    [ 1.1 20.2] [ 4000 12000]
    >>> print(f"{report.sdr_weighted:.1f} {report.sdr_mean:.1f}")
    15.4 10.7
    """
    references = check_audio_list(references, name="references")
    estimates = check_audio_list(estimates, name="estimates")
    mixtures = check_audio_list(mixtures, name="mixtures")
    if not len(references) == len(estimates) == len(mixtures):
        raise ValueError(
            "Expected references, estimates and mixtures to hold the same number "
            f"of waveforms, got {len(references)}, {len(estimates)} and "
            f"{len(mixtures)}."
        )
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
    for name in names:
        report[f"{name}_weighted"] = _weighted_mean(report[name], length)
        report[f"{name}_mean"] = float(np.mean(report[name]))
    return report


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


_SCORER_CONSTRAINTS = {
    "estimator": [HasMethods(["predict"])],
    "X": ["array-like"],
    "y": ["array-like"],
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
    return separation_report(references, estimates, mixtures).sdr_weighted


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
    references, estimates, mixtures = _predict_sources(estimator, X, y)
    values = np.empty(len(references))
    for i, (reference, estimate) in enumerate(zip(references, estimates, strict=True)):
        check_length(
            estimate,
            reference.shape[0],
            name=f"estimator.predict(X)[{i}]",
            reference_name=f"y[{i}]",
        )
        values[i] = si_sdr(reference, estimate)
    lengths = np.array([len(r) for r in references])
    return _weighted_mean(values, lengths)
