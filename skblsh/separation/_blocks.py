"""Prediction in blocks: which frames each block of a recording computes,
and which output samples it writes.

A block writes the output samples of its frames ``[f0, f1)``. Their
overlap-add needs the masks of the earlier frames whose windows reach into
them, ``[g0, f1)``; the post-processing (and refinement) of those masks
needs the raw masks of ``[m0, m1)``; and the estimator's rows of those
frames need the STFT frames of ``[a, b)`` for their context. Every range
follows from radii alone, clipped to the recording, so a blocked run
reproduces the one-shot computation exactly, in memory bounded by the
block size.
"""

from dataclasses import dataclass

import librosa
import numpy as np

__all__ = ["Block", "overlap_add", "plan_blocks"]


@dataclass
class Block:
    """Output frames ``[f0, f1)`` of recording ``index``; the mask of frames
    ``[g0, f1)`` is needed for their overlap-add, its raw rows ``[m0, m1)``
    for post-processing, and STFT frames ``[a, b)`` for the context."""

    index: int
    n_total: int
    f0: int
    f1: int
    g0: int
    m0: int
    a: int
    Z: np.ndarray
    rows: np.ndarray
    magnitudes: np.ndarray | None = None  # |Z|, kept when refining
    # The recording's noise floor and spectrum; None when the whole
    # recording is this block: then from its magnitudes and raw masks.
    floor: np.ndarray | None = None
    level: float = 1.0
    noise: np.ndarray | None = None


def plan_blocks(n_frames, block_frames, *, n_fft, hop_length, radius, context):
    """Yield ``(f0, f1, g0, m0, m1, a, b)`` of each block of a recording of
    ``n_frames`` frames (see the module docstring): ``radius`` frames of raw
    masks beyond each side of ``[g0, f1)``, ``context`` STFT frames beyond
    ``[m0, m1)``."""
    # Windows starting up to n_fft / hop - 1 frames before f0 overlap it.
    overlap = -(-n_fft // hop_length) - 1
    for f0 in range(0, n_frames, block_frames):
        f1 = min(f0 + block_frames, n_frames)
        g0 = max(f0 - overlap, 0)
        m0, m1 = max(g0 - radius, 0), min(f1 + radius, n_frames)
        yield f0, f1, g0, m0, m1, max(m0 - context, 0), min(m1 + context, n_frames)


def overlap_add(block, Z, mask, out, *, n_fft, hop_length):
    """Write the output samples of ``block`` into ``out`` from its masked
    frames: ``Z`` and ``mask`` are the STFT and mask of frames ``[g0, f1)``."""
    pad = n_fft // 2
    # The float64 mask makes the product (and the inverse) float64, like
    # the one-shot path; only the output is cast back.
    y_block = librosa.istft(
        (Z * mask).T, n_fft=n_fft, hop_length=hop_length, window="hann", center=False
    )
    # Output samples [lo, hi) of this block; y_block starts at g0 * hop.
    lo = block.f0 * hop_length - pad
    last = block.f1 == block.n_total
    hi = ((block.f1 - 1) * hop_length + n_fft if last else block.f1 * hop_length) - pad
    lo, hi = max(lo, 0), min(hi, len(out))
    offset = block.g0 * hop_length - pad
    if hi > lo:
        out[lo:hi] = y_block[lo - offset : hi - offset]
