"""Evaluation metrics: separation quality and retrieval quality.

The paper reports BSS Eval (Vincent et al., 2006) for the speech row of a
two-source problem: the references are the clean speech ``s`` and the noise
``m - s``, the estimates are ``s_hat`` and ``m - s_hat``, and the distortion
filters have 512 taps, as in :func:`mir_eval.separation.bss_eval_sources`.

:func:`bss_eval` computes these numbers either with mir_eval itself or with
:class:`BSSEvalReference`, an exact re-implementation of mir_eval's
least-squares decomposition that factorises the Gram matrix of the delayed
references once per utterance, so that scoring an estimate costs a few FFTs
and two solves with the cached factor.

The modules follow the data flow: ``_bss_eval`` (one utterance: SDR, SIR,
SAR, SI-SDR), ``_report`` (a data set: per-utterance values and
length-weighted means), ``_scorers`` (a fitted separator's predictions,
for ``scoring=`` in model selection).
"""

from ._bss_eval import BSSEvalReference, bss_eval, si_sdr
from ._report import separation_report
from ._scorers import sdr_scorer, si_sdr_scorer

__all__ = [
    "BSSEvalReference",
    "bss_eval",
    "sdr_scorer",
    "separation_report",
    "si_sdr",
    "si_sdr_scorer",
]
