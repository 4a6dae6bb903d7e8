"""Tests of the training-diversity options of skblsh.datasets.make_mixtures."""

import numpy as np
import pytest

from skblsh.datasets import make_mixtures

SR = 16000
SEEDS = [0, 1, 42]


def snr(source, noise):
    s = np.asarray(source, dtype=np.float64)
    n = np.asarray(noise, dtype=np.float64)
    return 10 * np.log10(np.sum(s**2) / np.sum(n**2))


def _signals(seed, n_speech=4, n_noise=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    speech = [
        (0.3 * rng.standard_normal(rng.integers(500, 3000))).astype(dtype)
        for _ in range(n_speech)
    ]
    noise = [
        (0.1 * rng.standard_normal(rng.integers(200, 5000))).astype(dtype)
        for _ in range(n_noise)
    ]
    return speech, noise


def _tone(freq, n=SR, amplitude=0.5):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(n) / SR)


def _peak_hz(y):
    """Frequency of the spectral peak, to 1/8 of an FFT bin."""
    n = y.shape[0]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(n), 8 * n))
    return np.argmax(spectrum) * SR / (8 * n)


def _band_power(y, freq, width=20.0):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.shape[0]))) ** 2
    f = np.fft.rfftfreq(y.shape[0], 1 / SR)
    return spectrum[np.abs(f - freq) < width].sum()


def _assert_same(a, b):
    for key in a:
        if isinstance(a[key], list):
            for x, y in zip(a[key], b[key], strict=True):
                np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_array_equal(a[key], b[key])


# ---------------------------------------------------------------- plain mixer


def test_scalar_snr_keeps_the_recorded_draws():
    # Recorded with the mixer as it was before the diversity options: the
    # clips, crops and gains of a scalar SNR must not move.
    rng = np.random.default_rng(7)
    speech = [0.3 * rng.standard_normal(n) for n in (900, 2500, 1600)]
    noise = [0.1 * rng.standard_normal(n) for n in (400, 3000, 5000, 1200)]
    mix = make_mixtures(speech, noise, snr_db=3.0, n_noises=2, random_state=0)
    np.testing.assert_array_equal(mix.noise_index, [2, 3, 3, 0, 1, 2])
    np.testing.assert_array_equal(mix.noise_offset, [1033, 211, 599, 70, 314, 705])
    np.testing.assert_allclose(
        mix.noise_gain,
        [1.9535823649331892, 2.0606138474714073, 2.165539671965565]
        + [2.1590785105875008, 2.1795302568548607, 2.050387436905447],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        mix.mixtures[0][:3],
        [0.018520118290614125, 0.12983605510637575, 0.03460017349649237],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(mix.snr_db, 3.0)
    np.testing.assert_array_equal(mix.gain_db, 0.0)
    np.testing.assert_array_equal(mix.speed, 1.0)
    np.testing.assert_array_equal(mix.pitch_semitones, 0.0)
    np.testing.assert_array_equal(mix.noise_shift, 0.0)
    np.testing.assert_array_equal(mix.noise_tilt, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neutral_options_are_the_plain_mixer(dtype):
    speech, noise = _signals(0, dtype=dtype)
    plain = make_mixtures(speech, noise, snr_db=-2.0, n_noises=2, random_state=3)
    neutral = make_mixtures(
        speech,
        noise,
        snr_db=-2.0,
        n_noises=2,
        noises_per_mixture=1,
        gain_db=0.0,
        speed=1.0,
        pitch_semitones=0.0,
        noise_shift=0.0,
        noise_tilt=0.0,
        random_state=3,
    )
    _assert_same(plain, neutral)


# ------------------------------------------------------------------ SNR range


@pytest.mark.parametrize("seed", SEEDS)
def test_snr_range_is_exact_per_mixture(seed):
    speech, noise = _signals(seed, n_speech=10)
    mix = make_mixtures(speech, noise, snr_db=(-5, 10), n_noises=3, random_state=seed)
    assert mix.snr_db.shape == (30,)
    assert np.all((mix.snr_db >= -5) & (mix.snr_db <= 10))
    # Drawn per mixture, over the whole range.
    assert len(np.unique(mix.snr_db)) == 30
    assert mix.snr_db.min() < 0 and mix.snr_db.max() > 5
    for m, s, n, target in zip(
        mix.mixtures, mix.sources, mix.noises, mix.snr_db, strict=True
    ):
        assert abs(snr(s, n) - target) < 1e-6
        np.testing.assert_array_equal(m, s + n)


def test_snr_range_float32_keeps_the_sum_exact():
    speech, noise = _signals(0, dtype=np.float32)
    mix = make_mixtures(speech, noise, snr_db=[0, 20], n_noises=2, random_state=0)
    for m, s, n, target in zip(
        mix.mixtures, mix.sources, mix.noises, mix.snr_db, strict=True
    ):
        assert m.dtype == np.float32
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) - target) < 1e-5  # float32 rounding only


# ----------------------------------------------------------------------- gain


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gain_range_scales_source_and_noise_together(dtype):
    speech, noise = _signals(1, n_speech=6, dtype=dtype)
    mix = make_mixtures(
        speech, noise, snr_db=5.0, gain_db=(-20, 6), n_noises=2, random_state=0
    )
    assert np.all((mix.gain_db >= -20) & (mix.gain_db <= 6))
    assert mix.gain_db.min() < -10 and mix.gain_db.max() > 0
    plain = make_mixtures(speech, noise, snr_db=5.0, n_noises=2, random_state=0)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for k, (m, s, n) in enumerate(
        zip(mix.mixtures, mix.sources, mix.noises, strict=True)
    ):
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) - 5.0) < (1e-5 if dtype == np.float32 else 1e-6)
        a = 10 ** (mix.gain_db[k] / 20)
        np.testing.assert_allclose(s, a * speech[mix.speech_index[k]], rtol=tol)
    # The first mixture's crop comes before any gain draw.
    assert mix.noise_offset[0] == plain.noise_offset[0]


def test_fixed_gain_and_max_abs():
    speech, noise = _signals(2)
    mix = make_mixtures(
        speech, noise, snr_db=-5.0, gain_db=30.0, max_abs=0.9, random_state=0
    )
    np.testing.assert_array_equal(mix.gain_db, 30.0)
    for m, s, n, c in zip(
        mix.mixtures, mix.sources, mix.noises, mix.scale, strict=True
    ):
        # +30 dB pushes every mixture over 0.9: max_abs brings it back.
        assert c < 1 and 0.899 < np.max(np.abs(m)) <= 0.9
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) + 5.0) < 1e-6


# ------------------------------------------------------- several noise types


def test_noises_per_mixture_sums_distinct_types():
    speech, noise = _signals(3, n_speech=8, n_noise=8)
    groups = np.repeat(["a", "b", "c", "d"], 2)
    mix = make_mixtures(
        speech,
        noise,
        snr_db=(-3, 3),
        n_noises=2,
        noises_per_mixture=2,
        noise_groups=groups,
        random_state=0,
    )
    assert mix.noise_index.shape == mix.noise_offset.shape == (16, 2)
    assert mix.noise_gain.shape == (16, 2)
    for i in range(8):
        # The 2 x 2 clips of one utterance come from the 4 different types.
        drawn = groups[mix.noise_index[mix.speech_index == i]].ravel()
        assert sorted(drawn) == ["a", "b", "c", "d"]
    for k, (m, s, n) in enumerate(
        zip(mix.mixtures, mix.sources, mix.noises, strict=True)
    ):
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) - mix.snr_db[k]) < 1e-6
        parts = [
            g * np.take(noise[j], o + np.arange(s.shape[0]), mode="wrap")
            for j, o, g in zip(
                mix.noise_index[k], mix.noise_offset[k], mix.noise_gain[k], strict=True
            )
        ]
        np.testing.assert_allclose(n, parts[0] + parts[1], rtol=1e-9, atol=1e-12)
        # The two components enter at equal power.
        p0, p1 = (np.sum(p**2) for p in parts)
        assert p0 == pytest.approx(p1, rel=1e-9)


def test_noises_per_mixture_hears_both_tones():
    # Noise types are tones of different frequencies: each mixture's noise
    # holds both of its types' tones at the same power, and no other.
    freqs = {"low": 500.0, "mid": 1500.0, "high": 3000.0}
    noise = [_tone(f, 2 * SR) for f in freqs.values()]
    speech = [_tone(220.0, SR // 2, 0.3) for _ in range(6)]
    mix = make_mixtures(
        speech,
        noise,
        n_noises=1,
        noises_per_mixture=2,
        noise_groups=list(freqs),
        random_state=0,
    )
    names = np.array(list(freqs))
    for n, idx in zip(mix.noises, mix.noise_index, strict=True):
        power = {name: _band_power(n, f) for name, f in freqs.items()}
        chosen = set(names[idx])
        assert len(chosen) == 2
        (absent,) = set(freqs) - chosen
        low, high = sorted(power[c] for c in chosen)
        assert high / low < 1.05
        assert power[absent] < 1e-6 * low


def test_noises_per_mixture_needs_enough_types():
    speech, noise = _signals(0, n_noise=4)
    with pytest.raises(
        ValueError,
        match=r"n_noises \* noises_per_mixture <= the number of noise groups "
        r"\(3\), got n_noises \* noises_per_mixture = 2 \* 2 = 4",
    ):
        make_mixtures(
            speech,
            noise,
            n_noises=2,
            noises_per_mixture=2,
            noise_groups=["a", "b", "c", "c"],
        )


# ---------------------------------------------------------- speed and pitch


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_speed_changes_length_not_pitch(rate):
    speech = [_tone(440.0)]
    noise = [np.random.default_rng(0).standard_normal(3 * SR)]
    mix = make_mixtures(speech, noise, speed=rate, snr_db=30.0, random_state=0)
    s = mix.sources[0]
    assert s.shape[0] == round(SR / rate) == mix.mixtures[0].shape[0]
    assert mix.noises[0].shape == s.shape
    assert _peak_hz(s) == pytest.approx(440.0, rel=0.005)
    np.testing.assert_array_equal(mix.speed, rate)
    np.testing.assert_array_equal(mix.mixtures[0], s + mix.noises[0])
    assert abs(snr(s, mix.noises[0]) - 30.0) < 1e-6


@pytest.mark.parametrize("steps", [-3.0, 2.0, 7.0])
def test_pitch_moves_a_tone_by_the_factor(steps):
    speech = [_tone(440.0)]
    noise = [np.random.default_rng(0).standard_normal(3 * SR)]
    mix = make_mixtures(speech, noise, pitch_semitones=steps, random_state=0)
    s = mix.sources[0]
    assert s.shape[0] == SR
    # Measured within 0.002% (the peak-picking resolution, 0.125 Hz).
    assert _peak_hz(s) == pytest.approx(440.0 * 2 ** (steps / 12), rel=0.002)
    np.testing.assert_array_equal(mix.mixtures[0], s + mix.noises[0])


def test_speed_and_pitch_ranges_per_mixture():
    speech = [_tone(400.0), _tone(600.0, SR // 2)]
    noise = [np.random.default_rng(0).standard_normal(3 * SR) for _ in range(3)]
    mix = make_mixtures(
        speech,
        noise,
        n_noises=3,
        speed=(0.8, 1.2),
        pitch_semitones=(-4, 4),
        snr_db=(0, 10),
        random_state=0,
    )
    assert np.all((mix.speed >= 0.8) & (mix.speed <= 1.2))
    assert np.all((mix.pitch_semitones >= -4) & (mix.pitch_semitones <= 4))
    assert len(np.unique(mix.speed)) == len(np.unique(mix.pitch_semitones)) == 6
    for k, (m, s, n) in enumerate(
        zip(mix.mixtures, mix.sources, mix.noises, strict=True)
    ):
        i = mix.speech_index[k]
        assert s.shape[0] == round(speech[i].shape[0] / mix.speed[k])
        base = 400.0 if i == 0 else 600.0
        expected = base * 2 ** (mix.pitch_semitones[k] / 12)
        assert _peak_hz(s) == pytest.approx(expected, rel=0.005)
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) - mix.snr_db[k]) < 1e-6


# ------------------------------------------------------ noise shift and tilt


@pytest.mark.parametrize("octaves", [-1.0, -0.5, 0.5, 1.0])
def test_noise_shift_moves_a_tone_by_the_factor(octaves):
    speech = [np.random.default_rng(0).standard_normal(SR)]
    noise = [_tone(1000.0, 3 * SR)]
    mix = make_mixtures(speech, noise, noise_shift=octaves, snr_db=5.0, random_state=0)
    s, n = mix.sources[0], mix.noises[0]
    assert n.shape == s.shape == (SR,)
    assert _peak_hz(n) == pytest.approx(1000.0 * 2**octaves, rel=0.002)
    np.testing.assert_array_equal(mix.mixtures[0], s + n)
    np.testing.assert_array_equal(s, speech[0])  # the speech is untouched
    assert abs(snr(s, n) - 5.0) < 1e-9
    np.testing.assert_array_equal(mix.noise_shift, octaves)


@pytest.mark.parametrize("tilt", [-6.0, 3.0, 6.0])
def test_noise_tilt_changes_the_band_ratio_by_its_slope(tilt):
    rng = np.random.default_rng(1)
    speech = [rng.standard_normal(SR)]
    noise = [_tone(500.0, 2 * SR) + _tone(2000.0, 2 * SR)]
    plain = make_mixtures(speech, noise, random_state=0).noises[0]
    tilted = make_mixtures(speech, noise, noise_tilt=tilt, random_state=0).noises[0]

    def ratio_db(y):
        return 10 * np.log10(_band_power(y, 2000.0) / _band_power(y, 500.0))

    # Two octaves apart: the ratio moves by twice the slope.
    assert ratio_db(tilted) - ratio_db(plain) == pytest.approx(2 * tilt, abs=0.05)
    assert abs(snr(speech[0], tilted) - 0.0) < 1e-9


def test_noise_options_draw_per_mixture_and_keep_the_snr():
    speech, noise = _signals(2, dtype=np.float32)
    mix = make_mixtures(
        speech,
        noise,
        n_noises=2,
        noises_per_mixture=2,
        snr_db=(-5, 10),
        noise_shift=(-0.5, 0.5),
        noise_tilt=(-4, 4),
        random_state=0,
    )
    assert np.all(np.abs(mix.noise_shift) <= 0.5) and np.all(
        np.abs(mix.noise_tilt) <= 4
    )
    assert len(np.unique(mix.noise_shift)) == len(np.unique(mix.noise_tilt)) == 8
    for m, s, n, target in zip(
        mix.mixtures, mix.sources, mix.noises, mix.snr_db, strict=True
    ):
        assert m.dtype == np.float32 and n.shape == s.shape
        np.testing.assert_array_equal(m, s + n)
        assert abs(snr(s, n) - target) < 1e-4  # float32 audio


# ------------------------------------------------------------- determinism


def test_all_options_are_seeded():
    speech, noise = _signals(4)
    speech = [np.tile(s, 3) for s in speech]  # longer than a vocoder frame
    kwargs = dict(
        snr_db=(-5, 5),
        gain_db=(-6, 0),
        n_noises=2,
        noises_per_mixture=2,
        speed=(0.9, 1.1),
        pitch_semitones=(-1, 1),
        noise_shift=(-0.5, 0.5),
        noise_tilt=(-4, 4),
    )
    a = make_mixtures(speech, noise, random_state=5, **kwargs)
    b = make_mixtures(speech, noise, random_state=5, **kwargs)
    c = make_mixtures(speech, noise, random_state=6, **kwargs)
    _assert_same(a, b)
    for key in (
        "snr_db",
        "gain_db",
        "speed",
        "pitch_semitones",
        "noise_shift",
        "noise_tilt",
        "noise_offset",
    ):
        assert not np.array_equal(a[key], c[key]), key


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(snr_db=(10, -5)), ValueError, r"snr_db to be a finite number or a"),
        (dict(snr_db=(0, 1, 2)), ValueError, r"\(low, high\) pair.*got \(0, 1, 2\)"),
        (dict(snr_db=(0, np.nan)), ValueError, "snr_db to be a finite number"),
        (dict(snr_db="5"), ValueError, "'snr_db' parameter"),
        (dict(gain_db=(3, "x")), ValueError, "gain_db to be a finite number"),
        (dict(gain_db=np.inf), ValueError, "'gain_db' parameter"),
        (dict(speed=(0.0, 1.2)), ValueError, "speed to be a positive number"),
        (dict(speed=-1.0), ValueError, "'speed' parameter"),
        (dict(speed=1e9), ValueError, "speed to keep at least one sample"),
        (dict(pitch_semitones=(2, 1)), ValueError, "pitch_semitones to be a finite"),
        (dict(noise_shift=(1, -1)), ValueError, "noise_shift to be a finite"),
        (dict(noise_shift=np.nan), ValueError, "'noise_shift' parameter"),
        (dict(noise_shift=(-1, 5)), ValueError, r"noise_shift within \[-4, 4\]"),
        (dict(noise_tilt=(0, np.inf)), ValueError, "noise_tilt to be a finite"),
        (dict(noise_tilt="steep"), ValueError, "'noise_tilt' parameter"),
        (dict(noises_per_mixture=0), ValueError, "'noises_per_mixture' parameter"),
        (dict(noises_per_mixture=3), ValueError, r"noise clips \(2\)"),
    ],
)
def test_diversity_options_reject_bad_values(kwargs, err, match):
    with pytest.raises(err, match=match):
        make_mixtures([np.ones(1000)], [np.ones(500), np.ones(2000)], **kwargs)
