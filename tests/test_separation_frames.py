"""The analysis stage: level normalisation, context, targets, per recording."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skblsh.separation import make_frames
from skblsh.stft import frame_levels, ideal_ratio_mask, stft


def _pairs(seed=0, lengths=(4096, 6000, 9000)):
    rng = np.random.RandomState(seed)
    sources = [np.sin(np.arange(n) * 0.07) * (1 + rng.rand()) for n in lengths]
    mixtures = [s + 0.3 * rng.randn(len(s)) for s in sources]
    return mixtures, sources


@pytest.mark.parametrize("level", [None, "recording", "running"])
@pytest.mark.parametrize("context", [0, 1, 3])
def test_rows_of_each_recording_do_not_depend_on_the_others(level, context):
    mixtures, sources = _pairs()
    X, Y, groups = make_frames(mixtures, sources, level=level, context=context)
    assert X.shape[1] == (2 * context + 1) * 513
    for i in range(3):
        Xi, Yi, _ = make_frames(
            [mixtures[i]], [sources[i]], level=level, context=context
        )
        assert_array_equal(X[groups == i], Xi)
        assert_array_equal(Y[groups == i], Yi)


def test_context_repeats_edge_frames_within_the_recording():
    mixtures, sources = _pairs()
    X0, _, _ = make_frames(mixtures, sources)
    X, _, groups = make_frames(mixtures, sources, context=2)
    F = 513
    for i in range(3):
        rows, centre = X[groups == i], X0[groups == i]
        n = len(centre)
        for offset in range(-2, 3):
            block = rows[:, (offset + 2) * F : (offset + 3) * F]
            expected = centre[np.clip(np.arange(n) + offset, 0, n - 1)]
            assert_array_equal(block, expected)


def test_recording_level_divides_by_the_recording_rms():
    mixtures, sources = _pairs()
    X_raw, _, groups = make_frames(mixtures, sources)
    X, _, _ = make_frames(mixtures, sources, level="recording")
    for i, m in enumerate(mixtures):
        level = np.sqrt(np.mean(frame_levels(m) ** 2))
        assert_allclose(X[groups == i], X_raw[groups == i] / level, rtol=1e-6)
    # The statistic is the windowed RMS of each frame: for a stationary
    # signal, its RMS times the window's RMS.
    noise = np.random.RandomState(0).randn(160000)
    assert frame_levels(noise)[4:-4].mean() == pytest.approx(np.sqrt(3 / 8), rel=0.01)


@pytest.mark.parametrize("level", ["recording", "running"])
@pytest.mark.parametrize("gain", [0.01, 1.0, 100.0])
def test_level_normalised_rows_are_gain_invariant(level, gain):
    mixtures, sources = _pairs()
    X, _, _ = make_frames(mixtures, sources, level=level)
    Xg, _, _ = make_frames(
        [gain * m for m in mixtures], [gain * s for s in sources], level=level
    )
    assert_allclose(Xg, X, rtol=1e-6)


def test_running_level_is_causal_and_tracks_level_changes():
    rng = np.random.RandomState(0)
    quiet, loud = 0.01 * rng.randn(32000), rng.randn(32000)
    y = np.concatenate([quiet, loud])
    X, _, _ = make_frames([y], [0.5 * y], level="running", level_time_constant=0.5)
    X_prefix, _, _ = make_frames(
        [y[:20000]], [0.5 * y[:20000]], level="running", level_time_constant=0.5
    )
    # Frames wholly inside the prefix see the same past: identical rows.
    n = len(X_prefix) - 3
    assert_array_equal(X[:n], X_prefix[:n])
    # Half a second into the loud part the level has caught up: rows of
    # the loud part end up as large as those of the quiet part.
    norms = np.linalg.norm(X, axis=1)
    quiet_norm = np.median(norms[20:110])
    assert np.median(norms[-30:]) == pytest.approx(quiet_norm, rel=0.15)
    X_rec, _, _ = make_frames([y], [0.5 * y], level="recording")
    assert np.median(np.linalg.norm(X_rec[20:110], axis=1)) < 0.05 * quiet_norm


def test_ratio_mask_targets():
    mixtures, sources = _pairs()
    _, Y, groups = make_frames(mixtures, sources, target="irm")
    assert Y.dtype == np.float32 and 0 < Y.mean() < 1
    S = np.abs(stft(sources[1])) ** 2
    N = np.abs(stft(mixtures[1] - sources[1])) ** 2
    assert_allclose(Y[groups == 1], np.sqrt(S / (S + N)), rtol=1e-5, atol=1e-6)
    assert_array_equal(Y[groups == 1], ideal_ratio_mask(mixtures[1], sources[1]))


def test_bad_parameters():
    mixtures, sources = _pairs()
    with pytest.raises(ValueError, match="'level' parameter"):
        make_frames(mixtures, sources, level="frame")
    with pytest.raises(ValueError, match="'context' parameter"):
        make_frames(mixtures, sources, context=-1)
    with pytest.raises(ValueError, match="'target' parameter"):
        make_frames(mixtures, sources, target="soft")
