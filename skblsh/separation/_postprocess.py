"""Post-processing of predicted masks, applied per recording.

The estimator's raw masks are clipped to [0, 1], replaced by their running
median over ``2 * median + 1`` consecutive frames, averaged over
``2 * smoothing + 1`` consecutive frames, raised to ``exponent`` and floored
at ``floor``. Frames beyond the recording's edges repeat its first or last
mask, and every step reads only frames of the same recording, so the blocked
prediction of a long recording reproduces the one-shot one.
"""

import numpy as np
from numba import njit, prange

__all__ = ["frame_mean", "frame_median", "postprocess_masks"]


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


@njit(nogil=True, parallel=True, cache=True)
def _median_kernel(A, s0, lo, hi, n_total, radius, out):
    width = 2 * radius + 1
    n_bins = A.shape[1]
    for t in prange(lo, hi):
        W = np.empty((width, n_bins), dtype=A.dtype)
        for k in range(width):
            W[k] = A[min(max(t - radius + k, 0), n_total - 1) - s0]
        # Odd-even transposition sort down the window: branch-free
        # compare-exchanges, vectorised over the bins.
        for step in range(width):
            for k in range(step % 2, width - 1, 2):
                a, b = W[k], W[k + 1]
                for f in range(n_bins):
                    x, y = a[f], b[f]
                    a[f] = min(x, y)
                    b[f] = max(x, y)
        out[t - lo] = W[radius]


def frame_median(A, s0, lo, hi, n_total, radius):
    """Median of rows ``t - radius .. t + radius`` (clipped to the recording
    of ``n_total`` frames) of ``A`` (rows ``s0, s0 + 1, ...``), for ``t``
    in ``[lo, hi)``. A median is one of its inputs, so it is exact."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    out = np.empty((hi - lo, A.shape[1]), dtype=np.float64)
    _median_kernel(A, s0, lo, hi, n_total, radius, out)
    return out


def postprocess_masks(
    raw, m0, g0, f1, n_total, *, median=0, smoothing=0, exponent=1.0, floor=0.0
):
    """Final masks of frames ``[g0, f1)`` from raw masks of frames ``[m0, ...)``.

    ``raw`` holds the estimator's masks of frames ``m0, m0 + 1, ...`` of a
    recording of ``n_total`` frames, covering ``[g0 - median - smoothing,
    f1 + median + smoothing)`` clipped to the recording.
    """
    raw = np.clip(raw, 0.0, 1.0)
    if median:
        # The median of every frame the moving average reads.
        s0 = max(g0 - smoothing, 0)
        raw = frame_median(raw, m0, s0, min(f1 + smoothing, n_total), n_total, median)
        m0 = s0
    if smoothing:
        mask = frame_mean(raw, m0, g0, f1, n_total, smoothing)
    else:
        mask = raw[g0 - m0 : f1 - m0]
    if exponent != 1.0:
        mask = mask**exponent
    if floor > 0.0:
        mask = np.maximum(mask, floor)
    return mask
