"""Tests of make_synthetic_noise: what each kind is, and its contract."""

import numpy as np
import pytest
from scipy.signal import welch

from skblsh.datasets import make_synthetic_noise
from skblsh.datasets._synthetic import SYNTHETIC_KINDS

SEEDS = range(10)


def _band_share(y, sr, low):
    power = np.abs(np.fft.rfft(y)) ** 2
    hz = np.fft.rfftfreq(len(y), 1 / sr)
    return power[hz >= low].sum() / power.sum()


@pytest.mark.parametrize("kind", SYNTHETIC_KINDS)
@pytest.mark.parametrize("sr", [8000, 16000, 44100])
def test_unit_rms_length_and_below_the_top_frequency(kind, sr):
    for seed in range(3):
        y = make_synthetic_noise(kind, sr, sr=sr, random_state=seed)
        assert y.shape == (sr,) and y.dtype == np.float64
        assert np.sqrt(np.mean(y**2)) == pytest.approx(1.0, rel=1e-9)
        # Tones and resonance centres stop at 45 % of the rate; a broad
        # resonance's skirt reaches beyond.
        assert _band_share(y, sr, 0.46 * sr) < 0.05


@pytest.mark.parametrize("kind", ["chirps", "sweeps"])
def test_chirps_and_sweeps_are_high_and_tonal(kind):
    for seed in SEEDS:
        y = make_synthetic_noise(kind, 32000, random_state=seed)
        assert _band_share(y, 16000, 1200.0) > 0.9
        _, psd = welch(y, 16000, nperseg=1024)
        # White noise's peak is about 1.5 times its median.
        assert psd.max() / np.median(psd) > 5


def test_each_kind_changes_within_a_second():
    # Stationary noise has a 16 ms frame energy ratio (90th / 10th
    # percentile) of about 1.25; these pulse, call and strike.
    for kind in SYNTHETIC_KINDS:
        changing = 0
        for seed in SEEDS:
            y = make_synthetic_noise(kind, 32000, random_state=seed)
            energy = np.mean(y.reshape(-1, 256) ** 2, axis=1)
            changing += np.percentile(energy, 90) > 3 * np.percentile(energy, 10)
        assert changing >= 7, kind


def test_random_state():
    a = make_synthetic_noise("impacts", 4000, random_state=3)
    np.testing.assert_array_equal(
        a, make_synthetic_noise("impacts", 4000, random_state=3)
    )
    assert not np.allclose(a, make_synthetic_noise("impacts", 4000, random_state=4))
    rng = np.random.RandomState(0)
    b, c = (make_synthetic_noise("sweeps", 4000, random_state=rng) for _ in range(2))
    assert not np.allclose(b, c)


def test_a_clip_too_short_for_its_events_is_still_noise():
    for kind in SYNTHETIC_KINDS:
        for seed in SEEDS:
            y = make_synthetic_noise(kind, 1, random_state=seed)
            assert np.all(np.isfinite(y)) and np.abs(y[0]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="crickets", n_samples=100), "'kind' parameter"),
        (dict(kind="chirps", n_samples=0), "'n_samples' parameter"),
        (dict(kind="chirps", n_samples=1.5), "'n_samples' parameter"),
        (dict(kind="chirps", n_samples=100, sr=500), "'sr' parameter"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_noise(**kwargs)
