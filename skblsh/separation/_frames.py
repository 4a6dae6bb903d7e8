"""Analysis: from waveforms to the rows the frame-level estimator sees.

Per recording, never across recordings: the magnitude STFT frames, divided by
the recording's level (``level``), each stacked with its neighbours
(``context``); for training, their targets (ideal binary or ratio masks).
The separator's ``fit`` and ``predict`` and the public :func:`make_frames`
all go through :class:`FrameAnalysis`, so a dictionary frame and a query
frame are always built the same way.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.signal import lfilter

from ..stft import (
    _check_pair,
    frame_levels,
    ideal_binary_mask,
    ideal_ratio_mask,
    n_frames,
    stft,
)
from ..utils._sklearn import Interval, StrOptions, validate_params
from ..utils._validation import check_audio_list

__all__ = ["FrameAnalysis", "make_frames"]

TARGETS = {"ibm": ideal_binary_mask, "irm": ideal_ratio_mask}

ANALYSIS_PARAMS = {
    "n_fft": [Interval(Integral, 2, None, closed="left")],
    "hop_length": [Interval(Integral, 1, None, closed="left")],
    "sr": [Interval(Integral, 1, None, closed="left")],
    "level": [StrOptions({"recording", "running"}), None],
    "level_time_constant": [Interval(Real, 0, None, closed="neither")],
    "context": [Interval(Integral, 0, None, closed="left")],
    "target": [StrOptions(set(TARGETS))],
}


@dataclass(frozen=True)
class FrameAnalysis:
    """The frame analysis of one configuration (see the module docstring).

    Parameters
    ----------
    n_fft, hop_length : int
        STFT window and hop.
    sr : int
        Sample rate, for the running level's time constant.
    level : {"recording", "running"} or None
        ``"recording"``: divide every frame by the quadratic mean of the
        windowed RMS levels of the recording's frames
        (:func:`~skblsh.stft.frame_levels`: the recording's RMS seen through
        the window), so
        frames keep their level relative to the recording and an overall
        gain changes nothing. ``"running"``: divide by a causal running
        level instead, the bias-corrected exponential moving average of
        the frame levels so far (time constant ``level_time_constant``
        seconds), for streaming. None: raw magnitudes.
    level_time_constant : float
        Time constant of the running level, in seconds.
    context : int
        Frames stacked on each side of the centre frame; neighbours beyond
        the recording's edges repeat its first or last frame.
    target : {"ibm", "irm"}
        Training targets: ideal binary or ideal ratio masks.
    """

    n_fft: int = 1024
    hop_length: int = 256
    sr: int = 16000
    level: str | None = None
    level_time_constant: float = 2.0
    context: int = 0
    target: str = "ibm"

    @classmethod
    def of(cls, estimator):
        """The analysis configured by an estimator's parameters."""
        return cls(**{name: getattr(estimator, name) for name in ANALYSIS_PARAMS})

    def n_frames(self, n_samples):
        return n_frames(n_samples, n_fft=self.n_fft, hop_length=self.hop_length)

    def scales(self, y):
        """Per-frame divisor of the magnitudes (float64), or None."""
        if self.level is None:
            return None
        levels = frame_levels(y, n_fft=self.n_fft, hop_length=self.hop_length)
        if self.level == "recording":
            # The quadratic mean: the recording's RMS through the window,
            # a little better on validation splits than the plain mean.
            scales = np.full(len(levels), np.sqrt(np.mean(levels * levels)))
        else:
            decay = np.exp(-self.hop_length / (self.sr * self.level_time_constant))
            scales = _running_mean(levels, decay)
        # Only an all-zero stretch has level 0, and its magnitudes are 0.
        return np.where(scales > 0, scales, 1.0)

    def rows(self, magnitudes, a, b, scales, n_total, lo, hi):
        """Estimator rows of frames ``[lo, hi)`` from the frames ``[a, b)``.

        ``magnitudes`` are the frames ``a .. b - 1`` of a recording of
        ``n_total`` frames; every context neighbour of a frame in
        ``[lo, hi)`` (clipped to the recording) must lie in ``[a, b)``.
        """
        if scales is None:
            F = magnitudes.astype(np.float32, copy=False)
        else:
            # Divided in float64, then rounded: a gain on the input changes
            # the quotient by float64 rounding only, which float32 absorbs.
            F = (magnitudes / scales[a:b, None]).astype(np.float32)
        c = self.context
        if c == 0:
            return F[lo - a : hi - a]
        idx = np.arange(lo, hi)[:, None] + np.arange(-c, c + 1)
        np.clip(idx, 0, n_total - 1, out=idx)
        return F[idx - a].reshape(hi - lo, -1)

    def recording_rows(self, y, Z=None):
        """Rows of every frame of one recording (``Z`` its STFT, if known)."""
        if Z is None:
            Z = stft(y, n_fft=self.n_fft, hop_length=self.hop_length)
        n = len(Z)
        return self.rows(np.abs(Z), 0, n, self.scales(y), n, 0, n)

    def targets(self, mixture, source):
        """Training targets of every frame of one recording."""
        return TARGETS[self.target](
            mixture, source, n_fft=self.n_fft, hop_length=self.hop_length
        )

    def dataset(self, mixtures, sources):
        """Rows, targets and recording index of every frame of every pair."""
        mixtures, sources = check_lists(mixtures, sources, n_fft=self.n_fft)
        X, Y, groups = [], [], []
        for i, (m, s) in enumerate(zip(mixtures, sources, strict=True)):
            X.append(self.recording_rows(m))
            Y.append(self.targets(m, s))
            groups.append(np.full(len(X[-1]), i, dtype=np.int64))
        return np.concatenate(X), np.concatenate(Y), np.concatenate(groups)


def _running_mean(levels, decay):
    """Bias-corrected exponential moving average: the mean of the frames so
    far, older frames weighted down by ``decay`` per frame."""
    acc = lfilter([1.0], [1.0, -decay], levels)
    norm = (1.0 - decay ** np.arange(1, len(levels) + 1)) / (1.0 - decay)
    return acc / norm


def check_lists(mixtures, sources, *, n_fft):
    mixtures = check_audio_list(mixtures, name="mixtures", min_samples=n_fft)
    sources = check_audio_list(sources, name="sources", min_samples=n_fft)
    if len(mixtures) != len(sources):
        raise ValueError(
            f"Expected as many sources as mixtures ({len(mixtures)}), got "
            f"{len(sources)}."
        )
    for i, (m, s) in enumerate(zip(mixtures, sources, strict=True)):
        _check_pair(m, s, n_fft=n_fft, index=i)
    return mixtures, sources


@validate_params(
    {"mixtures": ["array-like"], "sources": ["array-like"], **ANALYSIS_PARAMS},
    prefer_skip_nested_validation=True,
)
def make_frames(
    mixtures,
    sources,
    *,
    n_fft=1024,
    hop_length=256,
    sr=16000,
    level=None,
    level_time_constant=2.0,
    context=0,
    target="ibm",
):
    """Turn lists of (mixture, source) waveforms into frame-level arrays.

    The rows and targets :class:`MaskingSeparator` fits its estimator on
    (before any dictionary subsampling), built recording by recording.

    Parameters
    ----------
    mixtures : list of ndarray of shape (n_samples_i,)
        Mixture waveforms (lengths may differ).
    sources : list of ndarray of shape (n_samples_i,)
        Clean sources, one per mixture, of the same lengths.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.
    sr : int, default=16000
        Sample rate (used by ``level="running"`` only).
    level : {"recording", "running"} or None, default=None
        Level normalisation of each recording's magnitude frames; None keeps
        the raw magnitudes. See :class:`MaskingSeparator`.
    level_time_constant : float, default=2.0
        Time constant of ``level="running"``, in seconds.
    context : int, default=0
        Neighbouring frames stacked on each side of every frame.
    target : {"ibm", "irm"}, default="ibm"
        Ideal binary masks or ideal ratio masks as ``Y``.

    Returns
    -------
    X : ndarray of shape (n_frames_total, (2 * context + 1) * (n_fft // 2 + 1))
        Magnitude STFT frames of the mixtures (float32), level-normalised
        and stacked as asked.
    Y : ndarray of shape (n_frames_total, n_fft // 2 + 1), dtype=float32
        Their targets.
    groups : ndarray of shape (n_frames_total,), dtype=int64
        Index of the recording each frame comes from (for group-wise CV).

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import make_frames
    >>> rng = np.random.RandomState(0)
    >>> s = [rng.randn(4096), rng.randn(8192)]
    >>> m = [x + rng.randn(len(x)) for x in s]
    >>> X, Y, groups = make_frames(m, s)
    >>> X.shape, Y.shape, np.bincount(groups).tolist()
    ((50, 513), (50, 513), [17, 33])
    >>> make_frames(m, s, context=1, level="recording")[0].shape
    (50, 1539)
    """
    analysis = FrameAnalysis(
        n_fft=n_fft,
        hop_length=hop_length,
        sr=sr,
        level=level,
        level_time_constant=level_time_constant,
        context=context,
        target=target,
    )
    return analysis.dataset(mixtures, sources)
