"""Synthetic noise: kinds of noise a corpus of recorded noise may lack.

Three kinds, each a random member of a family, drawn per call:

- ``"chirps"``: insect-like. One to three carriers between 1.5 and 7 kHz,
  each pulsed at 3 to 80 Hz (or steady), with a slight vibrato, half of them
  with a narrow band of noise around the tone, often in phrases with pauses;
- ``"sweeps"``: bird-like. Calls of 30 to 300 ms at random onsets, about 1
  to 10 a second, each a gliding tone between 1.5 and 7 kHz, half of them
  trilled, some with their second harmonic;
- ``"impacts"``: workshop-like. Either blows (decaying bursts of noise
  through one to three resonances between 300 Hz and 7 kHz, 0.5 to 10 a
  second) or sawing (coloured noise pulsing at 1.5 to 6 Hz).

Every tone and every resonance's centre stays below 45 % of the sample
rate. The recorded noise types such a corpus usually has (wind, water,
traffic, crowds, machines) are broadband and slowly varying; these are
narrowband, tonal or impulsive, and change within a frame. As extra
training noise types for the separator they gained SDR at low SNRs on
validation splits but not on the test splits, so ``skblsh fit`` adds them
only when asked (the separator's user guide has the numbers).
"""

from numbers import Integral

import numpy as np
from scipy.signal import lfilter
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, StrOptions, validate_params

__all__ = ["SYNTHETIC_KINDS", "make_synthetic_noise"]

SYNTHETIC_KINDS = ("chirps", "sweeps", "impacts")
_TOP = 0.45  # highest frequency, as a fraction of the sample rate


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _resonator(x, fc, q, sr):
    """``x`` through a two-pole resonance at ``fc`` Hz, bandwidth ``fc / q``."""
    r = np.exp(-np.pi * fc / q / sr)
    w = 2 * np.pi * fc / sr
    return lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], x)


def _phrases(rng, n, sr, mean_on, mean_off):
    """A 0-1 gate of alternating phrases and pauses (exponential lengths),
    its edges smoothed over 10 ms."""
    lengths = []
    total = 0
    on = rng.random() < 0.5
    first = on
    while total < n:
        d = int(rng.exponential(mean_on if on else mean_off) * sr) + 1
        lengths.append(d)
        total += d
        on = not on
    state = (np.arange(len(lengths)) % 2 == 0) == first
    gate = np.repeat(state.astype(float), lengths)[:n]
    k = max(1, int(0.01 * sr))
    # The middle n of the full convolution ("same" for clips longer than
    # the window, which "same" would return for shorter ones).
    smooth = np.convolve(gate, np.hanning(2 * k + 1) / k)[k : k + n]
    return smooth.clip(0, 1)


def _chirps(rng, n, sr):
    top = _TOP * sr
    t = np.arange(n) / sr
    y = np.zeros(n)
    for _ in range(rng.integers(1, 4)):
        fc = _log_uniform(rng, min(1500, top / 2), min(7000, top))
        rate = _log_uniform(rng, 3, 80)
        duty = rng.uniform(0.2, 0.8)
        phase = (t * rate + rng.random()) % 1.0
        pulses = np.where(phase < duty, np.sin(np.pi * phase / duty) ** 2, 0.0)
        if rng.random() < 0.3:
            pulses = np.ones(n)
        vibrato = 1 + rng.uniform(0, 0.03) * np.sin(
            2 * np.pi * rng.uniform(0.5, 20) * t
        )
        carrier = np.sin(
            2 * np.pi * np.cumsum(np.minimum(fc * vibrato, top)) / sr
            + rng.random() * 2 * np.pi
        )
        if rng.random() < 0.5:
            band = _resonator(
                rng.standard_normal(n), fc, fc / _log_uniform(rng, 30, 600), sr
            )
            carrier = carrier / (carrier.std() + 1e-12) + rng.uniform(0.5, 2) * band / (
                band.std() + 1e-12
            )
        gate = 1.0
        if rng.random() < 0.6:
            gate = _phrases(rng, n, sr, rng.uniform(0.3, 3), rng.uniform(0.1, 1.5))
        y += rng.uniform(0.3, 1) * pulses * gate * carrier / (carrier.std() + 1e-12)
    return y


def _sweeps(rng, n, sr):
    top = _TOP * sr
    low, high = min(1500, top / 2), min(7000, top)
    y = np.zeros(n)
    n_calls = max(1, rng.poisson(_log_uniform(rng, 1, 10) * n / sr))
    for _ in range(n_calls):
        d = int(_log_uniform(rng, 0.03, 0.3) * sr)
        start = rng.integers(0, max(1, n - d))
        f1, f2 = _log_uniform(rng, low, high), _log_uniform(rng, low, high)
        u = np.arange(d) / d
        f = f1 * (f2 / f1) ** u
        if rng.random() < 0.5:
            f = f * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(5, 40) * u * d / sr))
        f = np.minimum(f, top)
        phase = 2 * np.pi * np.cumsum(f) / sr
        call = np.sin(phase)
        if rng.random() < 0.5 and 2 * f.max() < top:
            call += rng.uniform(0.1, 0.6) * np.sin(2 * phase)
        call *= np.hanning(d) * rng.uniform(0.3, 1)
        e = min(d, n - start)
        y[start : start + e] += call[:e]
    return y


def _impacts(rng, n, sr):
    top = _TOP * sr
    if rng.random() < 0.6:
        y = np.zeros(n)
        n_blows = max(1, rng.poisson(_log_uniform(rng, 0.5, 10) * n / sr))
        for _ in range(n_blows):
            tau = _log_uniform(rng, 0.005, 0.1) * sr
            d = min(int(5 * tau), n)
            start = rng.integers(0, max(1, n - d))
            burst = rng.standard_normal(d) * np.exp(-np.arange(d) / tau)
            blow = np.zeros(d)
            for _ in range(rng.integers(1, 4)):
                fc = _log_uniform(rng, min(300, top / 4), min(7000, top))
                blow += _resonator(burst, fc, _log_uniform(rng, 5, 40), sr)
            blow *= rng.uniform(0.3, 1) / (np.abs(blow).max() + 1e-12)
            y[start : start + d] += blow[: n - start]
        return y
    t = np.arange(n) / sr
    phase = (t * rng.uniform(1.5, 6) + rng.random()) % 1.0
    strokes = 0.15 + np.sin(np.pi * phase) ** rng.uniform(1, 4)
    x = rng.standard_normal(n)
    coloured = x * rng.uniform(0, 1)
    for _ in range(2):
        fc = _log_uniform(rng, min(500, top / 2), min(7000, top))
        coloured += 5 * _resonator(x, fc, _log_uniform(rng, 1, 8), sr)
    return strokes * coloured


_KINDS = {"chirps": _chirps, "sweeps": _sweeps, "impacts": _impacts}


@validate_params(
    {
        "kind": [StrOptions(set(SYNTHETIC_KINDS))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "sr": [Interval(Integral, 1000, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_synthetic_noise(kind, n_samples, *, sr=16000, random_state=None):
    """Draw a clip of synthetic noise of one kind.

    Parameters
    ----------
    kind : {"chirps", "sweeps", "impacts"}
        Insect-like pulsed tones, bird-like gliding calls, or workshop-like
        blows and sawing (the module docstring describes each family).
    n_samples : int
        Length of the clip.
    sr : int, default=16000
        Sample rate; every tone and resonance centre stays below 45 % of it.
    random_state : int, RandomState instance or None, default=None
        Draws the member of the family and its noise. Pass an int for
        reproducible output.

    Returns
    -------
    noise : ndarray of shape (n_samples,), dtype=float64
        The clip, scaled to unit RMS.

    See Also
    --------
    make_separation_task : Its `synthetic_noise` option adds training
        mixtures with these kinds.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.datasets import make_synthetic_noise
    >>> y = make_synthetic_noise("chirps", 16000, random_state=0)
    >>> y.shape, round(float(np.sqrt(np.mean(y**2))), 6)
    ((16000,), 1.0)
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    y = _KINDS[kind](rng, n_samples, sr)
    rms = np.sqrt(np.mean(y**2))
    if not rms > 0:
        # A clip shorter than any event it drew: white noise instead.
        y = rng.standard_normal(n_samples)
        rms = np.sqrt(np.mean(y**2))
    return y / rms
