"""The time-frequency analysis shared by every separation path.

One STFT convention everywhere: a Hann window of ``n_fft`` samples, a hop of
``hop_length``, librosa's centred frames (``n_fft // 2`` zeros padded on each
side), frames as rows. :func:`stft_frames` computes any run of frames of
that STFT from the waveform alone, so long recordings can be processed in
blocks that reproduce the one-shot transform; :func:`frame_levels` gives
each frame's windowed RMS level, the statistic behind level normalisation.
"""

from numbers import Integral

import librosa
import numpy as np

from .utils._sklearn import Interval, validate_params
from .utils._validation import check_audio

__all__ = [
    "apply_masks",
    "frame_levels",
    "ideal_binary_mask",
    "ideal_ratio_mask",
    "istft",
    "n_frames",
    "stft",
    "stft_frames",
]

_STFT_PARAMS = {
    "n_fft": [Interval(Integral, 2, None, closed="left")],
    "hop_length": [Interval(Integral, 1, None, closed="left")],
}


@validate_params(
    {"y": ["array-like"], **_STFT_PARAMS}, prefer_skip_nested_validation=True
)
def stft(y, *, n_fft=1024, hop_length=256):
    """Complex STFT with a Hann window, one row per frame.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono waveform, at least ``n_fft`` samples long.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    Z : ndarray of shape (n_frames, n_fft // 2 + 1), dtype=complex64 or complex128
        Frames are rows (scikit-learn's samples), frequencies columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import stft
    >>> stft(np.zeros(16000), n_fft=1024, hop_length=256).shape
    (63, 513)
    """
    y = check_audio(y, name="y", min_samples=n_fft)
    return librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window="hann").T


@validate_params(
    {
        "Z": ["array-like"],
        "length": [Interval(Integral, 1, None, closed="left")],
        **_STFT_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def istft(Z, *, length, n_fft=1024, hop_length=256):
    """Inverse of :func:`stft`, trimmed or padded to exactly ``length`` samples.

    Parameters
    ----------
    Z : ndarray of shape (n_frames, n_fft // 2 + 1)
        Complex STFT frames as rows.
    length : int
        Output length in samples.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    y : ndarray of shape (length,)
        The waveform.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import istft, stft
    >>> y = np.random.RandomState(0).randn(4000)
    >>> bool(np.allclose(istft(stft(y), length=4000), y, atol=1e-6))
    True
    """
    Z = np.asarray(Z)
    n_bins = n_fft // 2 + 1
    if Z.ndim != 2 or Z.shape[1] != n_bins or len(Z) == 0:
        raise ValueError(
            f"Expected Z of shape (n_frames, n_fft // 2 + 1 = {n_bins}) with "
            f"n_frames >= 1, got shape {Z.shape}."
        )
    if not np.all(np.isfinite(Z)):
        raise ValueError("Expected Z to be finite, got NaN or infinite values.")
    return librosa.istft(
        Z.T, n_fft=n_fft, hop_length=hop_length, window="hann", length=length
    )


def n_frames(n_samples, *, n_fft=1024, hop_length=256):
    """Number of frames of :func:`stft` for ``n_samples`` samples.

    Examples
    --------
    >>> from skblsh.stft import n_frames
    >>> n_frames(16000)
    63
    """
    return 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length


def _padded_segment(y, f0, f1, n_fft, hop_length):
    """Samples of the centred, zero-padded signal under frames ``f0 .. f1-1``.

    Only the segment is copied, never the whole signal.
    """
    pad = n_fft // 2
    start, stop = f0 * hop_length - pad, (f1 - 1) * hop_length + n_fft - pad
    segment = np.zeros(stop - start, dtype=y.dtype)
    a, b = max(start, 0), min(stop, len(y))
    segment[a - start : b - start] = y[a:b]
    return segment


def stft_frames(y, f0, f1, *, n_fft=1024, hop_length=256):
    """Frames ``f0`` to ``f1 - 1`` of ``stft(y)``, computing only those.

    Equal to ``stft(y)[f0:f1]`` (the same samples under the same windows), so
    a long recording can be transformed block by block.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import stft, stft_frames
    >>> y = np.random.RandomState(0).randn(5000)
    >>> bool(np.allclose(stft_frames(y, 3, 9), stft(y)[3:9]))
    True
    """
    segment = _padded_segment(y, f0, f1, n_fft, hop_length)
    Z = librosa.stft(
        segment, n_fft=n_fft, hop_length=hop_length, window="hann", center=False
    )
    return Z.T


def frame_levels(y, *, n_fft=1024, hop_length=256, block_frames=256):
    """Windowed RMS level of every STFT frame, in float64.

    ``sqrt(mean((w * y_t) ** 2))`` for the Hann window ``w`` and the samples
    ``y_t`` under frame ``t`` of :func:`stft`: by Parseval, proportional to
    the frame's spectral norm up to its DC and Nyquist bins, and ten times
    cheaper than an STFT. Exactly proportional to any gain applied to ``y``
    (to float64 rounding), which makes level normalisation gain-invariant.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import frame_levels
    >>> y = np.random.RandomState(0).randn(4096)
    >>> levels = frame_levels(y)
    >>> levels.shape, bool(np.allclose(frame_levels(3 * y), 3 * levels))
    ((17,), True)
    """
    w2 = librosa.filters.get_window("hann", n_fft, fftbins=True) ** 2 / n_fft
    total = n_frames(len(y), n_fft=n_fft, hop_length=hop_length)
    out = np.empty(total)
    for f0 in range(0, total, block_frames):
        f1 = min(f0 + block_frames, total)
        seg = _padded_segment(y, f0, f1, n_fft, hop_length).astype(np.float64)
        windows = np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop_length]
        # einsum sums the squares without a (frames, n_fft) temporary.
        out[f0:f1] = np.sqrt(np.einsum("ij,ij,j->i", windows, windows, w2))
    return out


def _check_pair(mixture, source, *, n_fft, index=None):
    suffix = "" if index is None else f"[{index}]"
    mixture = check_audio(mixture, name=f"mixture{suffix}", min_samples=n_fft)
    source = check_audio(source, name=f"source{suffix}", min_samples=n_fft)
    if len(mixture) != len(source):
        raise ValueError(
            f"Expected source{suffix} to have the same length as "
            f"mixture{suffix} ({len(mixture)} samples), got {len(source)}."
        )
    return mixture, source


def _source_and_noise(mixture, source, n_fft, hop_length):
    mixture, source = _check_pair(mixture, source, n_fft=n_fft)
    S = np.abs(stft(source, n_fft=n_fft, hop_length=hop_length))
    N = np.abs(stft(mixture - source, n_fft=n_fft, hop_length=hop_length))
    return S, N


def ideal_binary_mask(mixture, source, *, n_fft=1024, hop_length=256):
    """Ideal binary mask ``|S| > |N|`` with ``N`` the STFT of ``mixture - source``.

    Parameters
    ----------
    mixture : ndarray of shape (n_samples,)
        Mixture waveform.
    source : ndarray of shape (n_samples,)
        Target source (clean speech) in the mixture.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    mask : ndarray of shape (n_frames, n_fft // 2 + 1), dtype=float32
        1 where the source dominates, 0 elsewhere.

    See Also
    --------
    ideal_ratio_mask : The soft counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import ideal_binary_mask
    >>> rng = np.random.RandomState(0)
    >>> s, n = rng.randn(4096), 0.1 * rng.randn(4096)
    >>> float(ideal_binary_mask(s + n, s).mean()) > 0.9
    True
    """
    S, N = _source_and_noise(mixture, source, n_fft, hop_length)
    return (S > N).astype(np.float32)


def ideal_ratio_mask(mixture, source, *, n_fft=1024, hop_length=256):
    """Ideal ratio mask ``sqrt(|S|^2 / (|S|^2 + |N|^2))``, in [0, 1].

    ``N`` is the STFT of ``mixture - source``; a bin where both are zero gets
    0. Its values, softer than :func:`ideal_binary_mask`'s, keep more of the
    speech where noise and speech overlap.

    Parameters
    ----------
    mixture : ndarray of shape (n_samples,)
        Mixture waveform.
    source : ndarray of shape (n_samples,)
        Target source (clean speech) in the mixture.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    mask : ndarray of shape (n_frames, n_fft // 2 + 1), dtype=float32

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import ideal_ratio_mask
    >>> rng = np.random.RandomState(0)
    >>> s = rng.randn(4096)
    >>> round(float(ideal_ratio_mask(2 * s, s).mean()), 3)
    0.707
    """
    S, N = _source_and_noise(mixture, source, n_fft, hop_length)
    S2 = S.astype(np.float64) ** 2
    total = S2 + N.astype(np.float64) ** 2
    ratio = np.divide(S2, total, out=np.zeros_like(S2), where=total > 0)
    return np.sqrt(ratio).astype(np.float32)


def apply_masks(mixtures, masks, *, n_fft=1024, hop_length=256):
    """Mask each mixture's STFT and invert it: ``istft(stft(m) * mask)``.

    Parameters
    ----------
    mixtures : list of ndarray of shape (n_samples_i,)
        Mixture waveforms.
    masks : list of ndarray of shape (n_frames_i, n_fft // 2 + 1), or ndarray
        One mask per mixture, or all of them stacked frame-wise in the order
        of the mixtures (the layout of :func:`~skblsh.separation.make_frames`).
        Values are clipped to [0, 1].
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    estimates : list of ndarray of shape (n_samples_i,)
        Masked waveforms, each as long as its mixture and of its dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.stft import apply_masks, n_frames
    >>> y = [np.random.RandomState(0).randn(4096)]
    >>> out = apply_masks(y, np.ones((n_frames(4096), 513)))
    >>> bool(np.allclose(out[0], y[0], atol=1e-6))
    True
    """
    Zs = [stft(m, n_fft=n_fft, hop_length=hop_length) for m in mixtures]
    if not isinstance(masks, (list, tuple)):
        masks = np.asarray(masks)
        bounds = np.cumsum([0] + [len(Z) for Z in Zs])
        if masks.ndim != 2 or len(masks) != bounds[-1]:
            raise ValueError(
                f"Expected stacked masks of shape ({bounds[-1]}, {n_fft // 2 + 1}) "
                f"(the mixtures' frames), got shape {masks.shape}."
            )
        masks = [masks[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    if len(masks) != len(Zs):
        raise ValueError(
            f"Expected one mask per mixture ({len(Zs)}), got {len(masks)}."
        )
    estimates = []
    for i, (m, Z, mask) in enumerate(zip(mixtures, Zs, masks, strict=True)):
        mask = np.asarray(mask)
        if mask.shape != Z.shape:
            raise ValueError(
                f"Expected masks[{i}] of shape {Z.shape} (the STFT of "
                f"mixtures[{i}]), got shape {mask.shape}."
            )
        y = istft(
            Z * np.clip(mask, 0.0, 1.0),
            length=len(m),
            n_fft=n_fft,
            hop_length=hop_length,
        )
        estimates.append(y.astype(m.dtype, copy=False))
    return estimates
