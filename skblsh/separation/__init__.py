"""Utterance-level masking separation.

The file list reads as the data flow: :mod:`._frames` (analysis: waveforms
to estimator rows and targets), :mod:`._pipeline` (the frame-level
estimator), :mod:`._refine` (the learned per-bin refinement of its masks),
:mod:`._crossfit` (the refiner's training on cross-fitted masks),
:mod:`._postprocess` (mask post-processing), :mod:`._blocks` (the frames
each block of a long recording computes, and its overlap-add) and
:mod:`._separator` (the meta-estimator running them block by block). The STFT
itself lives in :mod:`skblsh.stft`; its functions are re-exported here.
"""

from ..stft import apply_masks, ideal_binary_mask, ideal_ratio_mask, istft, stft
from ._frames import make_frames
from ._pipeline import make_separator_pipeline
from ._separator import MaskingSeparator

__all__ = [
    "MaskingSeparator",
    "apply_masks",
    "ideal_binary_mask",
    "ideal_ratio_mask",
    "istft",
    "make_frames",
    "make_separator_pipeline",
    "stft",
]
