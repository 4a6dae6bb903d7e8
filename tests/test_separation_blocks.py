"""The block plan of prediction and its overlap-add, against the whole
recording in one piece."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skblsh.separation._blocks import Block, overlap_add, plan_blocks
from skblsh.stft import istft, n_frames, stft


@pytest.mark.parametrize("n_fft, hop", [(1024, 256), (512, 256), (400, 160)])
@pytest.mark.parametrize("block_frames", [1, 3, 7, 50, 1000])
def test_plan_tiles_the_recording_with_the_margins_it_needs(n_fft, hop, block_frames):
    n, radius, context = 37, 4, 2
    plan = list(
        plan_blocks(
            n, block_frames, n_fft=n_fft, hop_length=hop, radius=radius, context=context
        )
    )
    assert [p[0] for p in plan] == list(range(0, n, block_frames))
    assert plan[-1][1] == n
    pad = n_fft // 2
    for f0, f1, g0, m0, m1, a, b in plan:
        # Frame g - 1's window ends before the block's first output sample,
        # frame g0's reaches into it: the fewest frames the overlap-add needs.
        if g0 > 0:
            assert (g0 - 1) * hop + n_fft - pad <= f0 * hop - pad
        assert g0 * hop + n_fft - pad > f0 * hop - pad
        assert (m0, m1) == (max(g0 - radius, 0), min(f1 + radius, n))
        assert (a, b) == (max(m0 - context, 0), min(m1 + context, n))


@pytest.mark.parametrize("block_frames", [1, 4, 9, 100])
def test_blocked_overlap_add_equals_the_whole_inverse(block_frames):
    rng = np.random.RandomState(0)
    n_fft, hop = 512, 128
    y = rng.randn(5000)
    Z = stft(y, n_fft=n_fft, hop_length=hop)
    mask = rng.rand(*Z.shape)
    n = n_frames(len(y), n_fft=n_fft, hop_length=hop)
    expected = istft(Z * mask, length=len(y), n_fft=n_fft, hop_length=hop)
    out = np.full(len(y), np.nan)
    plan = plan_blocks(
        n, block_frames, n_fft=n_fft, hop_length=hop, radius=0, context=0
    )
    for f0, f1, g0, m0, _, a, _ in plan:
        block = Block(0, n, f0, f1, g0, m0, a, Z[a:], None)
        overlap_add(block, Z[g0:f1], mask[g0:f1], out, n_fft=n_fft, hop_length=hop)
    # Every sample written once, each as the whole inverse computes it.
    assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
