"""Per-utterance metrics of a data set and their length-weighted means."""

import numpy as np
from sklearn.utils import Bunch

from ..utils._sklearn import validate_params
from ..utils._validation import check_audio_list
from ._bss_eval import BSSEvalReference, si_sdr


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
