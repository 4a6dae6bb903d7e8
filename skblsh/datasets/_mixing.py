"""Mixing clean speech with noise at a prescribed signal-to-noise ratio."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn import Interval, validate_params
from ..utils._validation import check_audio_list

__all__ = ["make_mixtures"]


def _check_nonsilent(ys, name):
    for i, y in enumerate(ys):
        if not np.any(y):
            raise ValueError(
                f"Expected every waveform of {name} to contain a signal, got "
                f"all zeros in {name}[{i}]."
            )


@validate_params(
    {
        "speech": ["array-like"],
        "noise": ["array-like"],
        "snr_db": [Interval(Real, None, None, closed="neither")],
        "n_noises": [Interval(Integral, 1, None, closed="left")],
        "noise_groups": ["array-like", None],
        "max_abs": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_mixtures(
    speech,
    noise,
    *,
    snr_db=0.0,
    n_noises=1,
    noise_groups=None,
    max_abs=None,
    random_state=None,
):
    """Mix each speech utterance with noise clips at an exact SNR.

    For every utterance, `n_noises` different noise clips are drawn (from
    `n_noises` different groups when `noise_groups` is given, one clip chosen
    at random within each group). A random segment of each clip, as long as
    the utterance, is cropped; a clip shorter than the utterance is tiled
    (repeated end to end from a random offset). The segment is scaled so that
    ``10 * log10(sum(source**2) / sum(noise**2))`` equals `snr_db`, and added to
    the utterance, so that ``mixture == source + noise``. At low SNR a
    mixture may exceed [-1, 1]; pass `max_abs` to scale such a mixture, its
    source and its noise down by one common factor.

    Parameters
    ----------
    speech : list of array-like of shape (n_samples_i,)
        Clean utterances, floating-point mono waveforms of any lengths.
    noise : list of array-like of shape (m_samples_j,)
        Noise clips, floating-point mono waveforms of any lengths.
    snr_db : float, default=0.0
        Signal-to-noise ratio of every mixture, in dB.
    n_noises : int, default=1
        Number of mixtures made from each utterance, each with a different
        noise clip (or noise group).
    noise_groups : array-like of shape (n_noise_clips,), default=None
        Group label (e.g. noise type) of each clip. When given, the noises
        of one utterance come from different groups.
    max_abs : float, default=None
        If given, a mixture whose peak exceeds `max_abs` is scaled, together
        with its source and noise, to peak just below `max_abs` (the SNR is
        unchanged). None leaves levels as they are.
    random_state : int, RandomState instance or None, default=None
        Controls which clips are drawn and where they are cropped. Pass an int
        for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes, one entry per
        mixture, utterance-major (the `n_noises` mixtures of utterance 0
        first):

        mixtures : list of ndarray of shape (n_samples_i,)
            ``sources[k] + noises[k]``.
        sources : list of ndarray of shape (n_samples_i,)
            The clean utterance of each mixture.
        noises : list of ndarray of shape (n_samples_i,)
            The scaled noise segment of each mixture.
        speech_index : ndarray of shape (n_mixtures,), dtype=int64
            Index into `speech` of each mixture; pass it as ``groups`` to a
            group-aware splitter to keep an utterance in one fold.
        noise_index : ndarray of shape (n_mixtures,), dtype=int64
            Index into `noise` of each mixture.
        noise_offset : ndarray of shape (n_mixtures,), dtype=int64
            Start of the cropped segment within its clip, in samples.
        noise_gain : ndarray of shape (n_mixtures,), dtype=float64
            Factor applied to the segment to reach `snr_db`.
        scale : ndarray of shape (n_mixtures,), dtype=float64
            Factor applied to the whole mixture for `max_abs` (1.0 if none).

        Waveforms have the floating dtype of the inputs (float32 if both are
        float32, else float64).

    Raises
    ------
    ValueError
        If an utterance or a noise clip is all zeros, if a cropped noise
        segment is all zeros, or if there are fewer clips (or groups) than
        `n_noises`.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.datasets import make_mixtures
    >>> rng = np.random.default_rng(0)
    >>> speech = [rng.standard_normal(800), rng.standard_normal(1200)]
    >>> noise = [rng.standard_normal(1000), rng.standard_normal(3000)]
    >>> mix = make_mixtures(speech, noise, snr_db=5.0, n_noises=2, random_state=0)
    >>> mix.speech_index
    array([0, 0, 1, 1])
    >>> [len(m) for m in mix.mixtures]
    [800, 800, 1200, 1200]
    >>> s, n = mix.sources[0], mix.noises[0]
    >>> round(float(10 * np.log10(np.sum(s**2) / np.sum(n**2))), 6)
    5.0
    """
    speech = check_audio_list(speech, name="speech")
    noise = check_audio_list(noise, name="noise")
    _check_nonsilent(speech, "speech")
    _check_nonsilent(noise, "noise")
    dtype = np.result_type(*[y.dtype for y in speech], *[y.dtype for y in noise])

    if noise_groups is None:
        candidates = [np.array([j]) for j in range(len(noise))]
        what = "noise clips"
    else:
        noise_groups = np.asarray(noise_groups)
        if noise_groups.ndim != 1 or noise_groups.shape[0] != len(noise):
            raise ValueError(
                f"Expected noise_groups to have one label per noise clip "
                f"({len(noise)}), got shape {noise_groups.shape}."
            )
        labels = np.unique(noise_groups)
        candidates = [np.flatnonzero(noise_groups == g) for g in labels]
        what = "noise groups"
    if n_noises > len(candidates):
        raise ValueError(
            f"Expected n_noises <= the number of {what} ({len(candidates)}), "
            f"got n_noises={n_noises}."
        )

    rng = check_random_state(random_state)
    gain = 10.0 ** (-snr_db / 20.0)
    out = {k: [] for k in ("mixtures", "sources", "noises")}
    speech_index, noise_index, offsets, gains, scales = [], [], [], [], []
    for i, s in enumerate(speech):
        s = np.array(s, dtype=dtype)
        s64 = s.astype(np.float64)
        p_s = np.dot(s64, s64)
        if p_s == 0.0:
            raise ValueError(
                f"Expected every waveform of speech to contain a signal, got "
                f"all zeros in speech[{i}]."
            )
        n_len = s.shape[0]
        for k in rng.choice(len(candidates), size=n_noises, replace=False):
            j = int(rng.choice(candidates[k]))
            clip = noise[j]
            if clip.shape[0] >= n_len:
                offset = int(rng.randint(clip.shape[0] - n_len + 1))
            else:
                offset = int(rng.randint(clip.shape[0]))
            segment = np.take(clip, np.arange(offset, offset + n_len), mode="wrap")
            segment = segment.astype(np.float64)
            p_n = np.dot(segment, segment)
            if p_n == 0.0:
                raise ValueError(
                    f"Expected the noise segment drawn for speech[{i}] to contain "
                    f"a signal, got all zeros in noise[{j}][{offset}:"
                    f"{offset + n_len}]; trim silence from noise clips."
                )
            g = gain * np.sqrt(p_s / p_n)
            n64 = g * segment
            m64 = s64 + n64
            c = 1.0
            if max_abs is not None and np.max(np.abs(m64)) > max_abs:
                # A hair below max_abs, so that rounding source + noise to
                # float32 cannot push the peak over it.
                c = max_abs / np.max(np.abs(m64)) * (1 - 1e-6)
            n = (c * n64).astype(dtype)
            source = s if c == 1.0 else (c * s64).astype(dtype)
            out["mixtures"].append(source + n)
            out["sources"].append(source)
            out["noises"].append(n)
            scales.append(c)
            speech_index.append(i)
            noise_index.append(j)
            offsets.append(offset)
            gains.append(g)
    return Bunch(
        **out,
        speech_index=np.asarray(speech_index, dtype=np.int64),
        noise_index=np.asarray(noise_index, dtype=np.int64),
        noise_offset=np.asarray(offsets, dtype=np.int64),
        noise_gain=np.asarray(gains, dtype=np.float64),
        scale=np.asarray(scales, dtype=np.float64),
    )
