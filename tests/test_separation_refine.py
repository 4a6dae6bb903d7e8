"""The refinement stage: features against a direct computation, the network
against scikit-learn's, and refined prediction blocked against one-shot."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skblsh.separation import _refine, stft
from skblsh.separation._refine import (
    MaskRefiner,
    fidelity_bias,
    noise_spectrum,
    noise_statistics,
    recording_statistics,
    refine_features,
)


def _direct_features(raw, X, floor, level, noise):
    """Every feature of every frame from edge-padded whole-recording arrays."""

    def frames(A, r, reduce=np.mean):
        P = np.concatenate([A[:1].repeat(r, 0), A, A[-1:].repeat(r, 0)])
        return reduce([P[o : o + len(A)] for o in range(2 * r + 1)], axis=0)

    def bins(A, r):
        P = np.concatenate([A[:, :1].repeat(r, 1), A, A[:, -1:].repeat(r, 1)], 1)
        return np.mean([P[:, o : o + A.shape[1]] for o in range(2 * r + 1)], axis=0)

    m = frames(np.clip(raw, 0, 1), 1)
    p = np.log(X**2 / np.maximum(floor, 1e-6 * level) ** 2 + 1e-3)
    q = np.log(X**2 / np.maximum(noise, 1e-6 * level) ** 2 + 1e-3)
    frame = np.log(np.linalg.norm(X, axis=1) / level + 1e-6)
    columns = [
        m,
        bins(m, 3),
        frames(m, 2),
        np.repeat(m.mean(axis=1, keepdims=True), m.shape[1], 1),
        p,
        frames(p, 1),
        bins(frames(p, 1), 3),
        np.log(X / level + 1e-6),
        np.repeat(frame[:, None], m.shape[1], 1),
        np.repeat(np.linspace(0, 1, m.shape[1])[None], len(m), 0),
        frames(m, 1, np.max),
        frames(p, 1, np.max),
        q,
        frames(q, 1),
    ]
    return np.stack([c.ravel() for c in columns], axis=1)


def test_refine_features_against_direct_formula():
    rng = np.random.RandomState(0)
    n, n_bins = 30, 11
    raw = rng.rand(n, n_bins) * 1.4 - 0.2
    X = rng.rand(n, n_bins) + 0.01
    floor, level = np.percentile(X, 10, axis=0), 0.7
    weights = 1 - np.clip(raw, 0, 1)
    noise = np.sqrt((weights * X**2).sum(0) / weights.sum(0))
    assert_allclose(noise_spectrum(raw, X), noise, rtol=1e-12)
    noise[0] = 0.0  # a bin the masks never call noise: clamped like the floor
    expected = _direct_features(raw, X, floor, level, noise)
    whole = refine_features(raw, 0, X, 0, 0, n, n, floor, level, noise)
    assert whole.shape == (n * n_bins, _refine.N_FEATURES)
    assert_allclose(whole, expected, rtol=1e-5, atol=1e-5)
    # A window [lo, hi) from raw rows [lo - 3, hi + 3) and magnitudes
    # [lo - 1, hi + 1) (clipped): the rows of the whole computation.
    for lo, hi in [(0, 5), (4, 19), (25, 30), (29, 30)]:
        r0, r1 = max(lo - _refine.MARGIN, 0), min(hi + _refine.MARGIN, n)
        a, b = max(lo - 1, 0), min(hi + 1, n)
        part = refine_features(
            raw[r0:r1], r0, X[a:b], a, lo, hi, n, floor, level, noise
        )
        assert_array_equal(part, whole[lo * n_bins : hi * n_bins])


def test_refiner_network_equals_scikit_learn():
    rng = np.random.RandomState(0)
    F = rng.randn(20_000, _refine.N_FEATURES).astype(np.float32) * 3 + 1
    y = F[:, 0] + 0.5 * F[:, 4] ** 2 > 2
    refiner = MaskRefiner(random_state=0).fit(F, y)
    expected = refiner.network_.predict_proba(refiner.scaler_.transform(F))[:, 1]
    assert_allclose(refiner.predict(F), expected, atol=1e-5)
    # The fused kernel: the same network on features it never stores.
    n, n_bins = 40, 9
    raw, X = rng.rand(n, n_bins), rng.rand(n, n_bins) + 0.01
    stats = np.percentile(X, 10, axis=0), 0.3, noise_spectrum(raw, X)
    for lo, hi in [(0, n), (5, 12)]:
        r0, r1 = max(lo - _refine.MARGIN, 0), min(hi + _refine.MARGIN, n)
        G = refine_features(raw[r0:r1], r0, X, 0, lo, hi, n, *stats)
        masks = refiner.predict_masks(raw[r0:r1], r0, X, 0, lo, hi, n, *stats)
        assert masks.shape == (hi - lo, n_bins)
        assert_allclose(masks.ravel(), refiner.predict(G), atol=1e-5)
    assert np.mean((refiner.predict(F) > 0.5) == y) > 0.9
    # One class only: a constant, certain answer.
    constant = MaskRefiner(random_state=0).fit(F, np.ones(len(F), bool))
    assert np.all(constant.predict(F) > 0.999)


def test_refiner_saved_with_fewer_features_reads_the_first_ones():
    # Refiners fitted before features 10-13 existed have 10 or 12 inputs;
    # the kernel computes every feature and feeds them the first 10 or 12.
    rng = np.random.RandomState(1)
    n, n_bins = 30, 9
    raw, X = rng.rand(n, n_bins), rng.rand(n, n_bins) + 0.01
    stats = np.percentile(X, 10, axis=0), 0.3, noise_spectrum(raw, X)
    G = refine_features(raw, 0, X, 0, 0, n, n, *stats)
    for d in (10, 12):
        old = G[:, :d]
        refiner = MaskRefiner(random_state=0).fit(old, old[:, 0] + old[:, 4] > 1)
        assert refiner.W1_.shape[0] == d
        masks = refiner.predict_masks(raw, 0, X, 0, 0, n, n, *stats)
        assert_allclose(masks.ravel(), refiner.predict(old), atol=1e-5)
    # ... and not the new ones: a refiner on all of them predicts otherwise.
    new = MaskRefiner(random_state=0).fit(G, old[:, 0] + old[:, 4] > 1)
    assert not np.allclose(new.predict_masks(raw, 0, X, 0, 0, n, n, *stats), masks)


def test_noise_floor_is_the_percentile_of_the_frames(monkeypatch):
    y = np.random.RandomState(0).randn(40_000)
    mags = np.abs(stft(y))
    n = len(mags)
    masks = np.clip(mags / mags.max(axis=0), 0, 1)

    def blocked():
        # Rows of frames [f0, f1) are their magnitudes, masks as above.
        return noise_statistics(
            y,
            n,
            lambda M, a, f0, f1: M[f0 - a : f1 - a],
            lambda rows: np.clip(rows / mags.max(axis=0), 0, 1),
            n_fft=1024,
            hop_length=256,
            context=2,
        )

    assert_allclose(blocked()[0], np.percentile(mags, 10, axis=0), rtol=1e-5)
    # Long recordings: every step-th frame only, read in blocks.
    monkeypatch.setattr(_refine, "FLOOR_FRAMES", 20)
    step = -(-n // 20)
    floor, noise = blocked()
    assert_allclose(floor, np.percentile(mags[::step], 10, axis=0), rtol=1e-5)
    assert_allclose(noise, noise_spectrum(masks[::step], mags[::step]), rtol=1e-5)
    # The caller's whole |STFT| gives the blocked reading exactly.
    whole = np.abs(_refine.stft_frames(y, 0, n, n_fft=1024, hop_length=256))
    whole_masks = np.clip(whole / mags.max(axis=0), 0, 1)
    for a, b in zip(recording_statistics(whole, whole_masks), blocked(), strict=True):
        assert_array_equal(a, b)


def test_refined_blocked_predict_equals_one_shot(demo, demo_pairs, small_separator):
    m, s = demo_pairs()
    sep = small_separator(refine=True, mask_smoothing=2).fit(m, s)
    x = demo.mixtures_test[0].astype(np.float64)
    sep.set_params(block_frames=10**6)
    (expected,) = sep.predict([x])
    mask = sep.predict_mask(x)
    for block_frames in (1, 3, 17):
        sep.set_params(block_frames=block_frames)
        assert_array_equal(sep.predict([x])[0], expected)
        assert_array_equal(sep.predict_mask(x), mask)
    # The refiner changes the masks: this test exercises it.
    sep.refiner_ = None
    assert not np.allclose(sep.predict_mask(x), mask)


@pytest.mark.parametrize("context", [0, 1])
def test_refined_long_recording_blocked_equals_one_shot(
    demo, monkeypatch, demo_pairs, small_separator, context
):
    # A recording longer than FLOOR_FRAMES: the one-shot run takes the noise
    # floor and spectrum from its block's |STFT| and raw masks, every
    # step-th frame; the blocked run computes those frames in a first pass.
    m, s = demo_pairs()
    sep = small_separator(refine=True, context=context)
    sep.estimator.set_params(features__n_stacked=2 * context + 1)
    sep.fit(m, s)
    x = demo.mixtures_test[0].astype(np.float64)
    monkeypatch.setattr(_refine, "FLOOR_FRAMES", 20)
    sep.set_params(block_frames=10**6)
    expected = sep.predict_mask(x)
    for block_frames in (17, 40):
        sep.set_params(block_frames=block_frames)
        assert_array_equal(sep.predict_mask(x), expected)
    # The noise spectrum is an input the refiner uses.
    monkeypatch.setattr(_refine, "noise_spectrum", lambda masks, M: M.mean(0))
    assert not np.array_equal(sep.predict_mask(x), expected)


def test_band_weights_count_every_stoi_band_alike():
    F = np.zeros((513, _refine.N_FEATURES), np.float32)
    F[:, _refine.FREQUENCY] = np.linspace(0, 1, 513)
    w = _refine.band_weights(F, 16000)
    hz = np.linspace(0, 8000, 513)
    edges = 150.0 * 2.0 ** (np.arange(16) / 3)
    bands = [
        (hz >= lo) & (hz < hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    totals = [w[band].sum() for band in bands]
    assert_allclose(totals, totals[0], rtol=1e-12)
    # Outside the bands: a fifth of the lowest per-bin weight inside them.
    outside = (hz < 150) | (hz >= edges[-1])
    widest = max(band.sum() for band in bands)
    assert_allclose(w[outside], 0.2 * totals[0] / widest, rtol=1e-12)
    assert_allclose(w.mean(), 1.0)


def test_fidelity_bias_leaves_the_stoi_bands_alone():
    bias = fidelity_bias(513, 16000)
    hz = np.linspace(0, 8000, 513)
    assert_array_equal(bias[hz < 100], -1.0)
    assert_array_equal(bias[hz >= 4400], -2.0)
    # STOI's third-octave bands span 134 Hz to 4.28 kHz.
    inside = (hz >= 100) & (hz < 4400)
    assert_array_equal(bias[inside], 0.0)
    assert hz[inside][0] < 150.0 * 2 ** (-1 / 6) and hz[inside][-1] > 3810 * 2 ** (
        1 / 6
    )
    # Bins are placed by frequency at any rate and length.
    hz8 = np.linspace(0, 4000, 129)
    assert_array_equal(fidelity_bias(129, 8000), np.where(hz8 < 100, -1.0, 0.0))


def _logit(p):
    p = np.clip(p, 1e-300, 1.0)
    return np.log(p) - np.log1p(-np.minimum(p, 1 - 1e-16))


@pytest.fixture
def refined(demo, demo_pairs, small_separator):
    m, s = demo_pairs()
    sep = small_separator(refine=True, mask_median=0, mask_smoothing=0).fit(m, s)
    return sep, demo.mixtures_test[0].astype(np.float64)


def test_mask_bias_adds_to_the_refined_log_odds(refined):
    sep, x = refined
    plain = sep.set_params(mask_bias=0.0).predict_mask(x)
    rng = np.random.RandomState(0)
    for bias in (-1.5, 0.7, rng.randn(513)):
        biased = sep.set_params(mask_bias=bias).predict_mask(x)
        expected = 1 / (1 + np.exp(-(_logit(plain) + bias)))
        assert_allclose(biased, expected, atol=1e-9)
        assert np.abs(biased - plain).max() > 0.05
    # "auto" is the fidelity profile; the bins it leaves alone are unchanged
    # through the default post-processing, which works bin by bin.
    auto = sep.set_params(mask_bias="auto").predict_mask(x)
    assert_array_equal(
        auto, sep.set_params(mask_bias=fidelity_bias(513, 16000)).predict_mask(x)
    )
    sep.set_params(mask_median=2, mask_smoothing=2)
    auto, plain = (
        sep.set_params(mask_bias="auto").predict_mask(x),
        sep.set_params(mask_bias=0.0).predict_mask(x),
    )
    inside = fidelity_bias(513, 16000) == 0
    assert_array_equal(auto[:, inside], plain[:, inside])
    assert np.all(auto[:, ~inside] <= plain[:, ~inside])
    assert np.all(auto[:, ~inside].mean(0) < plain[:, ~inside].mean(0))


def test_bad_mask_bias_is_refused(refined):
    sep, x = refined
    for bias, match in [
        (np.zeros(3), r"mask_bias .*shape \(513,\).*got shape \(3,\)"),
        (np.zeros((2, 513)), r"mask_bias .*shape \(513,\)"),
        (np.nan, "finite mask_bias"),
        (np.full(513, np.inf), "finite mask_bias"),
        ("max", "mask_bias to be 'auto'.*'max'"),
        ({"low": -1}, "mask_bias to be 'auto'.*'low'"),
        (["a"] * 513, "mask_bias to be 'auto'"),
    ]:
        sep.set_params(mask_bias=bias)
        with pytest.raises(ValueError, match=match):
            sep.predict_mask(x)
        with pytest.raises(ValueError, match=match):
            sep.predict([x])


def test_mask_bias_needs_the_refinement_stage(demo, demo_pairs, small_separator):
    m, s = demo_pairs()
    sep = small_separator(refine=False).fit(m, s)
    x = demo.mixtures_test[0].astype(np.float64)
    expected = sep.predict_mask(x)
    assert_array_equal(sep.set_params(mask_bias=0.0).predict_mask(x), expected)
    sep.set_params(mask_bias=-0.5)
    with pytest.raises(ValueError, match="mask_bias .*no refinement stage"):
        sep.predict([x])
