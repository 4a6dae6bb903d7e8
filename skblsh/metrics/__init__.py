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

Speech intelligibility and quality come from the reference implementations:
:func:`stoi` (STOI and extended STOI, by ``pystoi``) and :func:`pesq` (ITU-T
P.862, by the optional ``pesq`` package: ``pip install skblsh[pesq]``).

The modules follow the data flow: ``_bss_eval`` and ``_quality`` (one
utterance: SDR, SIR, SAR, SI-SDR; STOI, PESQ), ``_report`` (a data set:
per-utterance values and length-weighted means), ``_scorers`` (a fitted
separator's predictions, for ``scoring=`` in model selection), and apart,
``_retrieval`` (rankings from kneighbors: :func:`precision_at_k`,
:func:`recall_at_k`, :func:`mean_average_precision_at_k`).
"""

from ._bss_eval import BSSEvalReference, bss_eval, si_sdr
from ._quality import pesq, stoi
from ._report import separation_report
from ._retrieval import mean_average_precision_at_k, precision_at_k, recall_at_k
from ._scorers import (
    estoi_scorer,
    pesq_scorer,
    sdr_scorer,
    si_sdr_scorer,
    stoi_scorer,
)

__all__ = [
    "BSSEvalReference",
    "bss_eval",
    "estoi_scorer",
    "mean_average_precision_at_k",
    "pesq",
    "pesq_scorer",
    "precision_at_k",
    "recall_at_k",
    "sdr_scorer",
    "separation_report",
    "si_sdr",
    "si_sdr_scorer",
    "stoi",
    "stoi_scorer",
]
