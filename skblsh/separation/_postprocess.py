"""Post-processing of predicted masks, applied per recording.

The estimator's raw masks are clipped to [0, 1], averaged over
``2 * smoothing + 1`` consecutive frames (frames beyond the recording's edges
repeat its first or last mask), raised to ``exponent`` and floored at
``floor``. Every step reads only frames of the same recording, so the
blocked prediction of a long recording reproduces the one-shot one.
"""

import numpy as np

__all__ = ["frame_mean", "postprocess_masks"]


def frame_mean(A, s0, lo, hi, n_total, radius, *, dtype=np.float64):
    """Mean of rows ``t - radius .. t + radius`` (clipped to the recording
    of ``n_total`` frames) of ``A`` (rows ``s0, s0 + 1, ...``), for ``t``
    in ``[lo, hi)``."""
    t = np.arange(lo, hi)
    out = np.zeros((hi - lo, A.shape[1]), dtype=dtype)
    # Summed in a fixed order of offsets: one-shot and blocked runs add the
    # same numbers in the same order.
    for offset in range(-radius, radius + 1):
        out += A[np.clip(t + offset, 0, n_total - 1) - s0]
    out /= out.dtype.type(2 * radius + 1)
    return out


def postprocess_masks(
    raw, m0, g0, f1, n_total, *, smoothing=0, exponent=1.0, floor=0.0
):
    """Final masks of frames ``[g0, f1)`` from raw masks of frames ``[m0, ...)``.

    ``raw`` holds the estimator's masks of frames ``m0, m0 + 1, ...`` of a
    recording of ``n_total`` frames, covering ``[g0 - smoothing, f1 +
    smoothing)`` clipped to the recording.
    """
    raw = np.clip(raw, 0.0, 1.0)
    if smoothing:
        mask = frame_mean(raw, m0, g0, f1, n_total, smoothing)
    else:
        mask = raw[g0 - m0 : f1 - m0]
    if exponent != 1.0:
        mask = mask**exponent
    if floor > 0.0:
        mask = np.maximum(mask, floor)
    return mask
