"""Post-processing of predicted masks, applied per recording.

The estimator's raw masks are clipped to [0, 1], averaged over
``2 * smoothing + 1`` consecutive frames (frames beyond the recording's edges
repeat its first or last mask), raised to ``exponent`` and floored at
``floor``. Every step reads only frames of the same recording, so the
blocked prediction of a long recording reproduces the one-shot one.
"""

import numpy as np

__all__ = ["postprocess_masks"]


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
        t = np.arange(g0, f1)
        mask = np.zeros((f1 - g0, raw.shape[1]))
        # Summed in a fixed order of offsets: one-shot and blocked runs add
        # the same numbers in the same order.
        for offset in range(-smoothing, smoothing + 1):
            mask += raw[np.clip(t + offset, 0, n_total - 1) - m0]
        mask /= 2 * smoothing + 1
    else:
        mask = raw[g0 - m0 : f1 - m0]
    if exponent != 1.0:
        mask = mask**exponent
    if floor > 0.0:
        mask = np.maximum(mask, floor)
    return mask
