"""Block-wise prediction: same output as the one-shot path, bounded memory."""

import tracemalloc

import numpy as np
import pytest

from skblsh.separation import (
    MaskingSeparator,
    istft,
    make_separator_pipeline,
    stft,
)


def _train(n=6000, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    sources = [np.sin(t * f) * (1 + 0.3 * np.sin(t * 1e-3)) for f in (0.05, 0.11, 0.2)]
    mixtures = [s + 0.5 * rng.randn(n) for s in sources]
    return mixtures, sources


def _fit(n_fft=1024, hop_length=256, **kwargs):
    # The paper's analysis: raw magnitudes, no median or smoothing (the
    # one-shot reference below has none); the other stages are tested at
    # the end.
    pipe = make_separator_pipeline(16, 3, hasher="random", random_state=0)
    kwargs = {"level": None, "mask_median": 0, "mask_smoothing": 0, **kwargs}
    sep = MaskingSeparator(pipe, n_fft=n_fft, hop_length=hop_length, **kwargs)
    return sep.fit(*_train())


def _one_shot(sep, m):
    """The pre-blocking implementation of predict, kept as the reference."""
    Z = stft(m, n_fft=sep.n_fft, hop_length=sep.hop_length)
    mask = np.clip(sep.estimator_.predict(np.abs(Z).astype(np.float32)), 0, 1)
    out = istft(Z * mask, length=len(m), n_fft=sep.n_fft, hop_length=sep.hop_length)
    return out.astype(m.dtype), mask


@pytest.mark.parametrize(
    "n_fft, hop_length", [(1024, 256), (1024, 300), (255, 100), (64, 63)]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_predict_equals_one_shot(n_fft, hop_length, dtype):
    sep = _fit(n_fft, hop_length)
    rng = np.random.RandomState(1)
    for n in (n_fft, n_fft + 1, 12345):
        m = (0.3 * rng.randn(n)).astype(dtype)
        expected, expected_mask = _one_shot(sep, m)
        n_frames = len(expected_mask)
        for block_frames in (1, 2, 7, n_frames - 1, n_frames, 10**6):
            sep.set_params(block_frames=max(block_frames, 1))
            (out,) = sep.predict([m])
            assert out.shape == m.shape and out.dtype == m.dtype
            # Measured: bit-identical; the issue allows float rounding.
            assert np.max(np.abs(out - expected)) <= 1e-6
            np.testing.assert_array_equal(sep.predict_mask(m), expected_mask)


def test_blocked_predict_on_real_speech_equals_one_shot():
    from skblsh.datasets import load_demo

    demo = load_demo(random_state=0)
    pipe = make_separator_pipeline(32, 5, hasher="random", random_state=0)
    sep = MaskingSeparator(
        pipe, block_frames=10, level=None, mask_median=0, mask_smoothing=0
    )
    sep.fit(demo.mixtures_train[:4], demo.sources_train[:4])
    m = np.concatenate(demo.mixtures_test[:3])
    expected, _ = _one_shot(sep, m)
    (out,) = sep.predict([m])
    assert np.max(np.abs(out - expected)) <= 1e-6
    assert np.max(np.abs(out)) > 0.05  # not trivially silent


@pytest.mark.parametrize("block_frames", [1, 5, 40, 2048])
def test_mixtures_sharing_blocks_equal_each_mixture_alone(block_frames):
    # predict pools frames of consecutive mixtures into one estimator call;
    # each output must still be its own one-shot result, whatever the mix of
    # lengths and dtypes in the list.
    sep = _fit(block_frames=block_frames)
    rng = np.random.RandomState(3)
    mixtures = [
        (0.3 * rng.randn(n)).astype(dtype)
        for n, dtype in [
            (1024, np.float32),
            (5000, np.float64),
            (1025, np.float64),
            (30000, np.float32),
            (2048, np.float64),
        ]
    ]
    outputs = sep.predict(mixtures)
    assert len(outputs) == len(mixtures)
    for m, out in zip(mixtures, outputs, strict=True):
        expected, _ = _one_shot(sep, m)
        assert out.shape == m.shape and out.dtype == m.dtype
        assert np.max(np.abs(out - expected)) <= 1e-6
        assert np.max(np.abs(out)) > 0


def _peak_predict_bytes(sep, m):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        sep.predict([m])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_predict_memory_is_bounded_by_the_block_not_the_recording():
    sep = _fit()
    rng = np.random.RandomState(0)
    short = rng.randn(16000 * 5).astype(np.float32)
    long = np.tile(short, 8)  # 40 s
    sep.set_params(block_frames=64)
    sep.predict([short])  # first-call allocations (caches, compilation)
    peak_short = _peak_predict_bytes(sep, short)
    peak_long = _peak_predict_bytes(sep, long)
    # Beyond the output waveform (4 bytes a sample), memory must not grow with
    # the length: measured ~2 MB of block state for both. The one-shot path
    # needed ~60 MB extra for the 40 s file (complex STFT, masks, neighbours).
    extra_short = peak_short - short.nbytes
    extra_long = peak_long - long.nbytes
    assert extra_long < 1.5 * extra_short + 1e6
    assert extra_long < 8e6


def test_block_frames_is_validated():
    from sklearn.utils._param_validation import InvalidParameterError

    mixtures, sources = _train()
    sep = MaskingSeparator(make_separator_pipeline(8, 2, hasher="random"))
    with pytest.raises(InvalidParameterError, match="'block_frames' parameter"):
        sep.set_params(block_frames=0).fit(mixtures, sources)


@pytest.mark.parametrize(
    "params",
    [
        dict(level="recording", context=2),
        dict(level="running", context=1, mask_smoothing=2),
        dict(level=None, context=3, mask_smoothing=1, mask_floor=0.1),
        dict(level="recording", context=0, mask_median=3, mask_smoothing=0),
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_blocked_predict_with_context_and_smoothing_equals_one_shot(params):
    pipe = make_separator_pipeline(
        16, 3, hasher="random", random_state=0, normalize=params["level"] is None
    ).set_params(features__n_stacked=2 * params["context"] + 1)
    sep = MaskingSeparator(pipe, **params).fit(*_train())
    rng = np.random.RandomState(2)
    mixtures = [0.3 * rng.randn(n) for n in (1024, 9000, 30000)]
    sep.set_params(block_frames=10**6)
    expected = sep.predict(mixtures)
    expected_masks = [sep.predict_mask(m) for m in mixtures]
    for block_frames in (1, 3, 17):
        sep.set_params(block_frames=block_frames)
        for m, e, em, out in zip(
            mixtures, expected, expected_masks, sep.predict(mixtures), strict=True
        ):
            assert np.max(np.abs(out - e)) <= 1e-6
            np.testing.assert_array_equal(sep.predict_mask(m), em)
