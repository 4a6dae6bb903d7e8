"""Mask post-processing against a direct computation."""

import numpy as np
from numpy.testing import assert_allclose

from skblsh.separation._postprocess import postprocess_masks


def test_smoothing_exponent_floor_against_direct_formula():
    rng = np.random.RandomState(0)
    raw = rng.rand(40, 7) * 1.4 - 0.2  # values outside [0, 1] get clipped
    clipped = np.clip(raw, 0, 1)
    r = 2
    padded = np.concatenate(
        [clipped[:1].repeat(r, 0), clipped, clipped[-1:].repeat(r, 0)]
    )
    smoothed = np.mean([padded[o : o + 40] for o in range(2 * r + 1)], axis=0)
    expected = np.maximum(smoothed**1.5, 0.1)
    out = postprocess_masks(raw, 0, 0, 40, 40, smoothing=r, exponent=1.5, floor=0.1)
    assert_allclose(out, expected, rtol=1e-12)
    # A window of the frames [g0, f1) from raw rows starting at m0.
    part = postprocess_masks(
        raw[5:30], 5, 7, 28, 40, smoothing=r, exponent=1.5, floor=0.1
    )
    assert_allclose(part, expected[7:28], rtol=1e-12)
    assert out.min() >= 0.1 and out.max() <= 1
    plain = postprocess_masks(raw, 0, 3, 10, 40)
    assert_allclose(plain, clipped[3:10])


def test_median_then_smoothing_against_direct_formula():
    rng = np.random.RandomState(1)
    raw = rng.rand(30, 5) * 1.4 - 0.2
    clipped = np.clip(raw, 0, 1)
    q, r = 2, 1

    def running(A, radius, reduce):
        padded = np.concatenate([A[:1].repeat(radius, 0), A, A[-1:].repeat(radius, 0)])
        window = [padded[o : o + len(A)] for o in range(2 * radius + 1)]
        return reduce(window, axis=0)

    expected = running(running(clipped, q, np.median), r, np.mean)
    out = postprocess_masks(raw, 0, 0, 30, 30, median=q, smoothing=r)
    assert_allclose(out, expected, rtol=1e-12)
    # Frames [g0, f1) from raw rows [m0, ...) covering q + r more each side:
    # the same numbers as the whole recording's.
    part = postprocess_masks(raw[4:26], 4, 7, 23, 30, median=q, smoothing=r)
    assert_allclose(part, expected[7:23], rtol=1e-12)
    # The median alone: always one of its inputs.
    alone = postprocess_masks(raw, 0, 0, 30, 30, median=3)
    assert_allclose(alone, running(clipped, 3, np.median), rtol=0)
    assert np.isin(alone, clipped).all()
