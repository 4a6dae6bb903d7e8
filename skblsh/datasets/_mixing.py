"""Mixing clean speech with noise at a prescribed signal-to-noise ratio.

Besides the SNR, :func:`make_mixtures` offers the usual training-diversity
options: an SNR drawn per mixture from a range, a random overall level,
several noise types summed into one mixture, speed / pitch perturbation of
the speech, and a frequency shift and spectral tilt of the noise (noise types
the training set does not have). With all of them at their defaults the
random draws, and hence the output for a given seed, are those of the plain
mixer.
"""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn import Interval, validate_params
from ..utils._validation import check_audio_list

__all__ = ["make_mixtures"]

# Perturbation is sample-rate free (only ratios enter). 512-sample vocoder
# frames are 32 ms at 16 kHz, a usual speech frame (librosa defaults to 2048,
# 128 ms, and longer frames smear onsets more).
_VOCODER = {"n_fft": 512, "hop_length": 128}
_NOMINAL_SR = 16000.0


def _check_nonsilent(ys, name):
    for i, y in enumerate(ys):
        if not np.any(y):
            raise ValueError(
                f"Expected every waveform of {name} to contain a signal, got "
                f"all zeros in {name}[{i}]."
            )


def _as_range(value, name, *, positive=False, bound=None):
    """Return ``(low, high, drawn)`` for a number or a (low, high) pair.

    None stays None. A number gives ``drawn=False`` (used as is, no random
    draw); a pair gives ``drawn=True`` (uniform draw in [low, high]).
    ``bound`` limits the values to [-bound, bound].
    """
    if value is None:
        return None
    what = "positive" if positive else "finite"
    expected = (
        f"Expected {name} to be a {what} number or a (low, high) pair of {what} "
        f"numbers with low <= high, got {value!r}."
    )

    def ok(v):
        return (
            isinstance(v, Real)
            and not isinstance(v, bool)
            and np.isfinite(v)
            and (v > 0 or not positive)
        )

    if isinstance(value, Real) and not isinstance(value, bool):
        if not ok(value):
            raise ValueError(expected)
        spec = (value, value, False)
    else:
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError(expected)
        low, high = value
        if not (ok(low) and ok(high)) or low > high:
            raise ValueError(expected)
        spec = (float(low), float(high), True)
    if bound is not None and max(abs(spec[0]), abs(spec[1])) > bound:
        raise ValueError(
            f"Expected {name} within [-{bound:g}, {bound:g}], got {value!r}."
        )
    return spec


def _draw(rng, spec, default):
    if spec is None:
        return default
    low, high, drawn = spec
    return float(rng.uniform(low, high)) if drawn else low


def _candidates(noise_groups, n_clips):
    """Clip indices of each noise group (each clip its own group if None)."""
    if noise_groups is None:
        return [np.array([j]) for j in range(n_clips)], "noise clips"
    noise_groups = np.asarray(noise_groups)
    if noise_groups.ndim != 1 or noise_groups.shape[0] != n_clips:
        raise ValueError(
            f"Expected noise_groups to have one label per noise clip "
            f"({n_clips}), got shape {noise_groups.shape}."
        )
    labels = np.unique(noise_groups)
    return [np.flatnonzero(noise_groups == g) for g in labels], "noise groups"


def _stretched_length(n, rate):
    # librosa.effects.time_stretch's output length.
    return n if rate == 1.0 else int(round(n / rate))


def _plan_mixtures(
    rng,
    speech_lengths,
    clip_lengths,
    candidates,
    *,
    n_noises,
    noises_per_mixture,
    snr,
    gain,
    speed,
    pitch,
    shift=None,
    tilt=None,
):
    """Make every random draw of :func:`make_mixtures`, without touching audio.

    Options left at their defaults draw nothing, so the plain mixer's draws
    come out in the plain mixer's order. Returns one tuple per mixture:
    (utterance, rate, semitones, length, [(clip, offset), ...], snr, gain_db,
    noise shift in octaves, noise tilt in dB per octave).
    """
    plan = []
    for i, n in enumerate(speech_lengths):
        picks = rng.choice(
            len(candidates), size=n_noises * noises_per_mixture, replace=False
        )
        for mixture_picks in picks.reshape(n_noises, noises_per_mixture):
            rate = _draw(rng, speed, 1.0)
            steps = _draw(rng, pitch, 0.0)
            n_len = _stretched_length(n, rate)
            if n_len < 1:
                raise ValueError(
                    f"Expected speed to keep at least one sample of speech[{i}] "
                    f"({n} samples), got a rate of {rate:g}."
                )
            clips = []
            for k in mixture_picks:
                j = int(rng.choice(candidates[k]))
                size = clip_lengths[j]
                if size >= n_len:
                    offset = int(rng.randint(size - n_len + 1))
                else:
                    offset = int(rng.randint(size))
                clips.append((j, offset))
            plan.append(
                (
                    i,
                    rate,
                    steps,
                    n_len,
                    clips,
                    _draw(rng, snr, None),
                    _draw(rng, gain, 0.0),
                    _draw(rng, shift, 0.0),
                    _draw(rng, tilt, 0.0),
                )
            )
    return plan


def _perturb(y, rate, steps):
    """Speed by `rate` and pitch by `steps` semitones, in one vocoder pass.

    librosa's pitch_shift is time_stretch followed by resampling; folding the
    speed factor into that one time_stretch avoids a second phase-vocoder
    pass (and its extra smearing) when both are asked for.
    """
    factor = 2.0 ** (-steps / 12.0)
    out = librosa.effects.time_stretch(y, rate=rate * factor, **_VOCODER)
    if steps != 0.0:
        out = librosa.resample(
            out, orig_sr=_NOMINAL_SR / factor, target_sr=_NOMINAL_SR, res_type="soxr_hq"
        )
    return librosa.util.fix_length(out, size=_stretched_length(y.shape[0], rate))


# The tilt pivots on an eighth of the Nyquist frequency (1 kHz at 16 kHz),
# flat below a 160th of it (50 Hz), and stays within this many dB: the
# power is rescaled to the SNR afterwards, so only the spectral shape counts.
_TILT_LIMIT_DB = 18.0
# Octaves: a shift of k reads 2 ** k times the utterance's length from the
# clip, and beyond 4 little of the noise stays below Nyquist.
MAX_NOISE_SHIFT = 4.0


def _perturb_noise(segment_at, n_len, shift, tilt):
    """A noise segment of ``n_len`` samples, frequency-shifted by ``shift``
    octaves and tilted by ``tilt`` dB per octave.

    ``segment_at(n)`` reads ``n`` samples of the clip (float64); with no
    shift and no tilt the segment is returned as read. A shift scales every
    frequency by ``2 ** shift``: ``n_len * 2 ** shift`` samples are read and
    resampled to ``n_len`` (content shifted above Nyquist is dropped).
    """
    factor = 2.0**shift
    if shift == 0.0:
        segment = segment_at(n_len)
    else:
        n_read = max(1, int(round(n_len * factor)))
        segment = librosa.resample(
            segment_at(n_read),
            orig_sr=_NOMINAL_SR * factor,
            target_sr=_NOMINAL_SR,
            res_type="soxr_hq",
        )
        segment = librosa.util.fix_length(segment, size=n_len)
    if tilt != 0.0:
        octaves = np.log2(
            np.maximum(np.linspace(0.0, 1.0, n_len // 2 + 1), 1 / 160) * 8
        )
        gain_db = np.clip(tilt * octaves, -_TILT_LIMIT_DB, _TILT_LIMIT_DB)
        segment = np.fft.irfft(np.fft.rfft(segment) * 10.0 ** (gain_db / 20), n=n_len)
    return segment


@validate_params(
    {
        "speech": ["array-like"],
        "noise": ["array-like"],
        "snr_db": [Interval(Real, None, None, closed="neither"), tuple, list],
        "n_noises": [Interval(Integral, 1, None, closed="left")],
        "noises_per_mixture": [Interval(Integral, 1, None, closed="left")],
        "noise_groups": ["array-like", None],
        "gain_db": [Interval(Real, None, None, closed="neither"), tuple, list, None],
        "speed": [Interval(Real, 0, None, closed="neither"), tuple, list, None],
        "pitch_semitones": [
            Interval(Real, None, None, closed="neither"),
            tuple,
            list,
            None,
        ],
        "noise_shift": [
            Interval(Real, None, None, closed="neither"),
            tuple,
            list,
            None,
        ],
        "noise_tilt": [
            Interval(Real, None, None, closed="neither"),
            tuple,
            list,
            None,
        ],
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
    noises_per_mixture=1,
    noise_groups=None,
    gain_db=None,
    speed=None,
    pitch_semitones=None,
    noise_shift=None,
    noise_tilt=None,
    max_abs=None,
    random_state=None,
):
    """Mix each speech utterance with noise clips at an exact SNR.

    For every utterance, `n_noises` mixtures are made, each from
    `noises_per_mixture` noise clips; all the clips of one utterance come
    from different noise groups when `noise_groups` is given (one clip chosen
    at random within each group), else they are different clips. A random
    segment of each clip, as long as the utterance, is cropped; a clip
    shorter than the utterance is tiled (repeated end to end from a random
    offset). Several segments of one mixture are first brought to equal
    power and summed. The noise is scaled so that
    ``10 * log10(sum(source**2) / sum(noise**2))`` equals the mixture's SNR,
    and added to the source, so that ``mixture == source + noise``. At low SNR
    a mixture may exceed [-1, 1]; pass `max_abs` to scale such a mixture, its
    source and its noise down by one common factor.

    Parameters
    ----------
    speech : list of array-like of shape (n_samples_i,)
        Clean utterances, floating-point mono waveforms of any lengths.
    noise : list of array-like of shape (m_samples_j,)
        Noise clips, floating-point mono waveforms of any lengths.
    snr_db : float or (float, float), default=0.0
        Signal-to-noise ratio of every mixture, in dB; a (low, high) pair
        draws each mixture's SNR uniformly in [low, high].
    n_noises : int, default=1
        Number of mixtures made from each utterance.
    noises_per_mixture : int, default=1
        Number of noise clips summed into each mixture, at equal power
        before the SNR scaling. ``n_noises * noises_per_mixture`` must not
        exceed the number of clips (or of groups).
    noise_groups : array-like of shape (n_noise_clips,), default=None
        Group label (e.g. noise type) of each clip. When given, the noises
        of one utterance come from different groups.
    gain_db : float or (float, float), default=None
        Overall level change in dB applied to the mixture, its source and its
        noise together (so the SNR and ``mixture == source + noise`` hold); a
        pair draws it uniformly per mixture. None changes nothing.
    speed : float or (float, float), default=None
        Speed factor of the speech (> 1 is faster and shorter), applied with
        a phase vocoder (:func:`librosa.effects.time_stretch`, 512-sample
        frames) that keeps the pitch; a pair draws it uniformly per mixture.
        The mixture, source and noise then have ``round(n_samples_i / speed)``
        samples. None leaves the speech as it is.
    pitch_semitones : float or (float, float), default=None
        Pitch shift of the speech in semitones (as
        :func:`librosa.effects.pitch_shift`: frequencies scale by
        ``2 ** (pitch_semitones / 12)``, duration kept); a pair draws it
        uniformly per mixture. None leaves the pitch as it is. The perturbed
        speech is the mixture's source.
    noise_shift : float or (float, float), default=None
        Frequency shift of the noise in octaves: every frequency of the
        noise scales by ``2 ** noise_shift`` (``n_samples * 2 **
        noise_shift`` samples of the clip are read and resampled to the
        utterance's length, so its time scale changes too; what a shift up
        moves above the Nyquist frequency is lost), at most 4 octaves either
        way; a pair draws it uniformly per mixture. With `noise_tilt`, it
        makes noise types the clips do not have (insects chirping an octave
        lower, a machine's hum higher). None leaves the noise as it is.
    noise_tilt : float or (float, float), default=None
        Spectral tilt of the noise in dB per octave (positive boosts the
        high frequencies), pivoting on an eighth of the Nyquist frequency
        (1 kHz at 16 kHz), flat below a 160th of it and at most 18 dB either
        way; a pair draws it uniformly per mixture. The tilted noise is then
        scaled to the SNR like any other. None leaves it as it is.
    max_abs : float, default=None
        If given, a mixture whose peak exceeds `max_abs` is scaled, together
        with its source and noise, to peak just below `max_abs` (the SNR is
        unchanged). None leaves levels as they are.
    random_state : int, RandomState instance or None, default=None
        Controls which clips are drawn, where they are cropped and the draws
        of the options given as ranges. Pass an int for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes, one entry per
        mixture, utterance-major (the `n_noises` mixtures of utterance 0
        first):

        mixtures : list of ndarray of shape (n_samples_k,)
            ``sources[k] + noises[k]``.
        sources : list of ndarray of shape (n_samples_k,)
            The clean (possibly perturbed and rescaled) utterance of each
            mixture.
        noises : list of ndarray of shape (n_samples_k,)
            The scaled noise of each mixture.
        speech_index : ndarray of shape (n_mixtures,), dtype=int64
            Index into `speech` of each mixture; pass it as ``groups`` to a
            group-aware splitter to keep an utterance in one fold.
        noise_index : ndarray of shape (n_mixtures,) or \
(n_mixtures, noises_per_mixture), dtype=int64
            Index into `noise` of each mixture's clip(s); 2-D only when
            ``noises_per_mixture > 1``, like the next two.
        noise_offset : ndarray, dtype=int64
            Start of each cropped segment within its clip, in samples.
        noise_gain : ndarray, dtype=float64
            Factor applied to each segment to reach the SNR.
        snr_db : ndarray of shape (n_mixtures,), dtype=float64
            SNR of each mixture.
        gain_db : ndarray of shape (n_mixtures,), dtype=float64
            Overall level change of each mixture (0.0 without `gain_db`).
        speed : ndarray of shape (n_mixtures,), dtype=float64
            Speed factor of each mixture's speech (1.0 without `speed`).
        pitch_semitones : ndarray of shape (n_mixtures,), dtype=float64
            Pitch shift of each mixture's speech (0.0 without it).
        noise_shift, noise_tilt : ndarray of shape (n_mixtures,), dtype=float64
            Frequency shift (octaves) and tilt (dB per octave) of each
            mixture's noise (0.0 without them).
        scale : ndarray of shape (n_mixtures,), dtype=float64
            Factor applied to the whole mixture for `max_abs` (1.0 if none).

        ``noises[k]`` is ``scale[k] * 10 ** (gain_db[k] / 20)`` times the sum
        of ``noise_gain[k]`` times the segments (up to float rounding).
        Waveforms have the floating dtype of the inputs (float32 if both are
        float32, else float64).

    Raises
    ------
    ValueError
        If an utterance or a noise clip is all zeros, if a cropped noise
        segment is all zeros, if there are fewer clips (or groups) than
        ``n_noises * noises_per_mixture``, if a range is not a
        (low, high) pair with low <= high, or if `noise_shift` goes beyond
        4 octaves.

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

    An SNR range, and both clips summed into each mixture:

    >>> mix = make_mixtures(speech, noise, snr_db=(-5, 10), noises_per_mixture=2,
    ...                     random_state=0)
    >>> mix.noise_index
    array([[1, 0],
           [0, 1]])
    >>> bool(np.all((mix.snr_db >= -5) & (mix.snr_db <= 10)))
    True
    """
    speech = check_audio_list(speech, name="speech")
    noise = check_audio_list(noise, name="noise")
    _check_nonsilent(speech, "speech")
    _check_nonsilent(noise, "noise")
    snr = _as_range(snr_db, "snr_db")
    gain = _as_range(gain_db, "gain_db")
    rate_range = _as_range(speed, "speed", positive=True)
    pitch = _as_range(pitch_semitones, "pitch_semitones")
    shift = _as_range(noise_shift, "noise_shift", bound=MAX_NOISE_SHIFT)
    tilt = _as_range(noise_tilt, "noise_tilt")
    dtype = np.result_type(*[y.dtype for y in speech], *[y.dtype for y in noise])

    candidates, what = _candidates(noise_groups, len(noise))
    n_drawn = n_noises * noises_per_mixture
    if n_drawn > len(candidates):
        detail = (
            f"n_noises={n_noises}"
            if noises_per_mixture == 1
            else f"n_noises * noises_per_mixture = {n_noises} * "
            f"{noises_per_mixture} = {n_drawn}"
        )
        name = (
            "n_noises" if noises_per_mixture == 1 else "n_noises * noises_per_mixture"
        )
        raise ValueError(
            f"Expected {name} <= the number of {what} ({len(candidates)}), "
            f"got {detail}."
        )

    rng = check_random_state(random_state)
    plan = _plan_mixtures(
        rng,
        [y.shape[0] for y in speech],
        [y.shape[0] for y in noise],
        candidates,
        n_noises=n_noises,
        noises_per_mixture=noises_per_mixture,
        snr=snr,
        gain=gain,
        speed=rate_range,
        pitch=pitch,
        shift=shift,
        tilt=tilt,
    )
    return _render(plan, speech, noise, dtype, max_abs, noises_per_mixture)


_COLUMNS = {
    "speech_index": np.int64,
    "noise_index": np.int64,
    "noise_offset": np.int64,
    "noise_gain": np.float64,
    "snr_db": np.float64,
    "gain_db": np.float64,
    "speed": np.float64,
    "pitch_semitones": np.float64,
    "noise_shift": np.float64,
    "noise_tilt": np.float64,
    "scale": np.float64,
}


def _headroom(mixture, max_abs):
    """Factor bringing a float64 mixture's peak under `max_abs` (1.0 when it
    is under already or `max_abs` is None)."""
    peak = np.max(np.abs(mixture))
    if max_abs is None or peak <= max_abs:
        return 1.0
    # A hair below max_abs, so that rounding source + noise to float32
    # cannot push the peak over it.
    return max_abs / peak * (1 - 1e-6)


def _render(plan, speech, noise, dtype, max_abs, noises_per_mixture):
    """Make the mixtures of a plan from :func:`_plan_mixtures`."""
    out = {k: [] for k in ("mixtures", "sources", "noises")}
    cols = {k: [] for k in _COLUMNS}
    current = None
    for i, rate, steps, n_len, clips, snr, level, shift, tilt in plan:
        if current != i:  # the plan is utterance-major: convert each once
            current = i
            s = np.array(speech[i], dtype=dtype)
            s64 = s.astype(np.float64)
        perturbed = rate != 1.0 or steps != 0.0
        src64 = _perturb(s64, rate, steps) if perturbed else s64
        p_s = np.dot(src64, src64)
        if p_s == 0.0:
            raise ValueError(
                f"Expected every waveform of speech to contain a signal, got "
                f"all zeros in speech[{i}]."
            )
        segments = []
        for j, offset in clips:

            def segment_at(size, clip=noise[j], offset=offset):
                segment = np.take(clip, np.arange(offset, offset + size), mode="wrap")
                return segment.astype(np.float64)

            segment = _perturb_noise(segment_at, n_len, shift, tilt)
            p_n = np.dot(segment, segment)
            if p_n == 0.0:
                raise ValueError(
                    f"Expected the noise segment drawn for speech[{i}] to contain "
                    f"a signal, got all zeros in noise[{j}][{offset}:"
                    f"{offset + n_len}]; trim silence from noise clips."
                )
            segments.append((segment, p_n))
        target = 10.0 ** (-snr / 20.0)
        if len(segments) == 1:
            segment, p_n = segments[0]
            g = target * np.sqrt(p_s / p_n)
            n64 = g * segment
            noise_gain = g
        else:
            weights = [1.0 / np.sqrt(p_n) for _, p_n in segments]
            total = sum(w * seg for w, (seg, _) in zip(weights, segments, strict=True))
            g = target * np.sqrt(p_s / np.dot(total, total))
            n64 = g * total
            noise_gain = [g * w for w in weights]
        if level != 0.0:
            a = 10.0 ** (level / 20.0)
            src64, n64 = a * src64, a * n64
        c = _headroom(src64 + n64, max_abs)
        n = (c * n64).astype(dtype)
        untouched = c == 1.0 and level == 0.0 and not perturbed
        source = s if untouched else (c * src64).astype(dtype)
        out["mixtures"].append(source + n)
        out["sources"].append(source)
        out["noises"].append(n)
        for key, value in (
            ("speech_index", i),
            ("noise_index", [j for j, _ in clips]),
            ("noise_offset", [o for _, o in clips]),
            ("noise_gain", noise_gain),
            ("snr_db", snr),
            ("gain_db", level),
            ("speed", rate),
            ("pitch_semitones", steps),
            ("noise_shift", shift),
            ("noise_tilt", tilt),
            ("scale", c),
        ):
            cols[key].append(value)
    result = Bunch(**out)
    for key, values in cols.items():
        column = np.asarray(values, dtype=_COLUMNS[key])
        if column.ndim == 2 and noises_per_mixture == 1:
            column = column[:, 0]
        result[key] = column
    return result
