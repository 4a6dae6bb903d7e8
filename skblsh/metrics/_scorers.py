"""Scorers with scikit-learn's ``(estimator, X, y)`` signature for separators."""

import numpy as np

from ..utils._sklearn import HasMethods, validate_params
from ..utils._validation import check_audio_list, check_length
from ._bss_eval import si_sdr
from ._report import _weighted_mean, separation_report


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
