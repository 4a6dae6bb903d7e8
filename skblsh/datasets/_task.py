"""Train/test separation tasks on one or several corpora: the two protocols."""

import copy
import os
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn import Interval, StrOptions, validate_params
from ._corpus import _as_names, _as_sources, _catalog, _check_known
from ._mixing import (
    MAX_NOISE_SHIFT,
    _as_range,
    _candidates,
    _headroom,
    _plan_mixtures,
    make_mixtures,
)
from ._synthetic import SYNTHETIC_KINDS, make_synthetic_noise

__all__ = ["make_separation_task"]


def _n_test(n, test_size, what):
    if n < 2:
        raise ValueError(
            f"Expected at least 2 {what} to split into train and test, got {n}."
        )
    return min(max(1, round(test_size * n)), n - 1)


def _split_groups(available, test_groups, test_size, rng, what):
    """Open protocol: pick the held-out groups (or check the caller's)."""
    available = sorted(set(available))
    if test_groups is None:
        k = _n_test(len(available), test_size, what)
        test_groups = sorted(rng.choice(available, size=k, replace=False).tolist())
    else:
        _check_known(test_groups, available, f"test_{what}")
        if set(test_groups) >= set(available):
            raise ValueError(
                f"Expected test_{what} to leave at least one group for training, "
                f"got all of {available}."
            )
    return [g for g in available if g not in test_groups], sorted(test_groups)


def _select(kinds, groups, speech_groups, noise_groups, max_utterances, rng):
    """Rows of the speech and noise files the task draws from."""
    index = {}
    for kind, selected in (("speech", speech_groups), ("noise", noise_groups)):
        is_kind = kinds == kind
        if not np.any(is_kind):
            raise ValueError(f"Expected the corpus to hold {kind} files, got none.")
        if selected is not None:
            _check_known(selected, groups[is_kind], f"{kind}_groups")
            is_kind &= np.isin(groups, selected)
        index[kind] = np.flatnonzero(is_kind)
    speech = index["speech"]
    if max_utterances is not None:
        keep = []
        for g in np.unique(groups[speech]):
            rows_g = speech[groups[speech] == g]
            if rows_g.shape[0] > max_utterances:
                rows_g = np.sort(rng.choice(rows_g, max_utterances, replace=False))
            keep.append(rows_g)
        speech = np.sort(np.concatenate(keep))
    return speech, index["noise"]


def _split_open(groups, speech, noise, test_speech, test_noise, test_size, rng):
    """Rows of the train and test utterances and noise clips."""
    spk_train, spk_test = _split_groups(
        groups[speech], test_speech, test_size, rng, "speech_groups"
    )
    noi_train, noi_test = _split_groups(
        groups[noise], test_noise, test_size, rng, "noise_groups"
    )
    speech_split = {
        "train": speech[np.isin(groups[speech], spk_train)],
        "test": speech[np.isin(groups[speech], spk_test)],
    }
    noise_split = {
        "train": noise[np.isin(groups[noise], noi_train)],
        "test": noise[np.isin(groups[noise], noi_test)],
    }
    return speech_split, noise_split


def _split_closed(groups, speech, noise, clips, test_size, rng):
    """Rows of the train and test utterances; (row, waveform) noise pieces."""
    speech_split = {"train": [], "test": []}
    for g in np.unique(groups[speech]):
        rows_g = rng.permutation(speech[groups[speech] == g])
        k = _n_test(rows_g.shape[0], test_size, f"utterances of speaker '{g}'")
        speech_split["test"].append(rows_g[:k])
        speech_split["train"].append(rows_g[k:])
    speech_split = {s: np.sort(np.concatenate(v)) for s, v in speech_split.items()}
    clips = dict(zip(noise, clips, strict=True))
    pieces = {"train": [], "test": []}
    for g in np.unique(groups[noise]):
        rows_g = noise[groups[noise] == g]
        if rows_g.shape[0] == 1:
            y = clips[rows_g[0]]
            cut = int(round((1 - test_size) * y.shape[0]))
            if cut < 1 or cut >= y.shape[0]:
                raise ValueError(
                    f"Expected the single clip of noise type '{g}' to be long "
                    f"enough to split, got {y.shape[0]} samples."
                )
            pieces["train"].append((rows_g[0], y[:cut]))
            pieces["test"].append((rows_g[0], y[cut:]))
            continue
        rows_g = rng.permutation(rows_g)
        k = _n_test(rows_g.shape[0], test_size, f"clips of noise type '{g}'")
        pieces["test"] += [(i, clips[i]) for i in sorted(rows_g[:k])]
        pieces["train"] += [(i, clips[i]) for i in sorted(rows_g[k:])]
    return speech_split, pieces


def _speaker_noise(speakers, noise_types):
    """(n, 2) speaker and noise type of each mixture; several noise types
    summed into a mixture are one group, their sorted names joined by "+"."""
    noise = np.asarray(noise_types).astype(str)
    if noise.ndim == 2:
        noise = np.array(["+".join(sorted(row)) for row in noise])
    return np.c_[np.asarray(speakers).astype(str), noise]


def _add_synthetic(out, fraction, max_abs, sr, rng):
    """Append the `synthetic_noise` mixtures to the training split of `out`;
    return how many. Drawn after the test split, from a stream of their
    own, so the recorded mixtures of both splits are those made without."""
    n_train = len(out.mixtures_train)
    n_new = int(round(fraction * n_train))
    if n_new == 0:
        return 0
    draw = check_random_state(rng.randint(np.iinfo(np.int32).max))
    picked = draw.choice(n_train, n_new, replace=n_new > n_train)
    kinds = [SYNTHETIC_KINDS[j % len(SYNTHETIC_KINDS)] for j in range(n_new)]
    for i, kind in zip(picked, kinds, strict=True):
        source = out.sources_train[i]
        noise = make_synthetic_noise(kind, source.shape[0], sr=sr, random_state=draw)
        snr = out.snr_db_train[i]
        src64 = source.astype(np.float64)
        noise *= np.sqrt(np.dot(src64, src64) / 10 ** (snr / 10) / np.dot(noise, noise))
        c = _headroom(src64 + noise, max_abs)
        if c != 1.0:
            source = (c * src64).astype(source.dtype)
        noise = (c * noise).astype(source.dtype)
        out.sources_train.append(source)
        out.noises_train.append(noise)
        out.mixtures_train.append(source + noise)
    labels = np.array([f"synthetic-{k}" for k in kinds])
    types = out.noise_types_train
    new_types = (
        labels if types.ndim == 1 else np.repeat(labels[:, None], types.shape[1], 1)
    )
    speakers = out.speakers_train[picked]
    out.noise_types_train = np.concatenate([types.astype(str), new_types])
    out.speaker_noise_train = np.concatenate(
        [out.speaker_noise_train, np.c_[speakers.astype(str), labels]]
    )
    ids = np.full((n_new, *types.shape[1:]), -1, dtype=np.int64)
    out.noise_ids_train = np.concatenate([out.noise_ids_train, ids])
    for key in ("groups_train", "speakers_train", "snr_db_train"):
        out[key] = np.concatenate([out[key], out[key][picked]])
    out.utterances_train = out.utterances_train + [
        out.utterances_train[i] for i in picked
    ]
    out.noise_groups_train = sorted({*out.noise_groups_train, *labels.tolist()})
    return n_new


def _range_text(spec, unit=""):
    low, high, drawn = spec
    return f"[{low:g}, {high:g}]{unit}" if drawn else f"{low:g}{unit}"


_RANGE = [Interval(Real, None, None, closed="neither"), tuple, list]


@validate_params(
    {
        "path_or_corpus": [str, os.PathLike, Mapping, list, tuple],
        "protocol": [StrOptions({"closed", "open"})],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "n_noises": [Interval(Integral, 1, None, closed="left")],
        "snr_db": _RANGE,
        "noises_per_mixture": [Interval(Integral, 1, None, closed="left")],
        "gain_db": [*_RANGE, None],
        "speed": [Interval(Real, 0, None, closed="neither"), tuple, list, None],
        "pitch_semitones": [*_RANGE, None],
        "noise_shift": [*_RANGE, None],
        "noise_tilt": [*_RANGE, None],
        "synthetic_noise": [Interval(Real, 0, None, closed="left"), None],
        "speech_groups": ["array-like", str, None],
        "noise_groups": ["array-like", str, None],
        "test_speech_groups": ["array-like", str, None],
        "test_noise_groups": ["array-like", str, None],
        "max_utterances": [Interval(Integral, 1, None, closed="left"), None],
        "max_abs": [Interval(Real, 0, None, closed="neither"), None],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_separation_task(
    path_or_corpus,
    *,
    protocol="closed",
    test_size=0.2,
    n_noises=2,
    snr_db=0.0,
    noises_per_mixture=1,
    gain_db=None,
    speed=None,
    pitch_semitones=None,
    noise_shift=None,
    noise_tilt=None,
    synthetic_noise=None,
    speech_groups=None,
    noise_groups=None,
    test_speech_groups=None,
    test_noise_groups=None,
    max_utterances=None,
    max_abs=None,
    sr=16000,
    random_state=None,
):
    """Build train and test mixtures under the closed or open protocol.

    **closed** -- every speaker's utterances and every noise type's clips are
    split ``1 - test_size`` / `test_size`: test mixtures pair held-out
    utterances of seen speakers with held-out clips of seen noise types. A
    noise type with a single clip is split in time instead (its first
    ``1 - test_size`` for training, the rest for testing).

    **open** -- a `test_size` fraction of the speakers and of the noise types
    (at least one of each, drawn with `random_state` unless named by
    `test_speech_groups` / `test_noise_groups`) is held out: test mixtures
    pair unseen speakers with unseen noise types.

    In both protocols each training utterance is mixed with `n_noises` noise
    clips of different types, and each test utterance with one, at `snr_db`
    (see :func:`make_mixtures`). No utterance and no noise sample is shared
    between train and test. Several corpora are pooled before splitting, so
    the open protocol holds out speakers and noise types of the union; a
    group name found in several corpora is one group.

    `noises_per_mixture`, `gain_db`, `speed`, `pitch_semitones`,
    `noise_shift`, `noise_tilt` and `synthetic_noise` diversify the
    *training* mixtures only.
    The test split is the plain protocol, and for a given `random_state` it
    is the same with or without these options, so that models trained with
    and without them are scored on identical test mixtures.

    Parameters
    ----------
    path_or_corpus : str, path-like, Bunch or list of them
        A corpus folder with ``manifest.csv`` (only the files needed are
        read), the output of :func:`load_corpus` with both kinds loaded, or
        a list of these, pooled in the order given.
    protocol : {"closed", "open"}, default="closed"
        Evaluation protocol, see above.
    test_size : float in (0, 1), default=0.2
        Fraction of utterances and clips (closed) or of speakers and noise
        types (open) held out for testing; at least one is held out and one
        kept.
    n_noises : int, default=2
        Number of mixtures per training utterance; all the noises of one
        utterance are of different types.
    snr_db : float or (float, float), default=0.0
        SNR of every mixture in dB, train and test; a (low, high) pair draws
        each mixture's SNR uniformly in [low, high].
    noises_per_mixture : int, default=1
        Training only: number of noise types summed into each mixture (see
        :func:`make_mixtures`); ``n_noises * noises_per_mixture`` must not
        exceed the number of training noise types.
    gain_db : float or (float, float), default=None
        Training only: overall level change in dB of each mixture with its
        source and noise; a pair draws it per mixture.
    speed : float or (float, float), default=None
        Training only: speed factor of the speech, pitch kept (> 1 is
        faster); a pair draws it per mixture.
    pitch_semitones : float or (float, float), default=None
        Training only: pitch shift of the speech in semitones, duration kept;
        a pair draws it per mixture. The perturbed speech is the source.
    noise_shift : float or (float, float), default=None
        Training only: frequency shift of the noise in octaves (its
        frequencies scale by ``2 ** noise_shift``); a pair draws it per
        mixture. With `noise_tilt`, it trains on noise types the corpus does
        not have; on validation splits of unseen speakers and noise types,
        ``noise_shift=(-1, 1)`` with ``noise_tilt=(-6, 6)`` (what ``skblsh
        fit`` trains with) gained SDR and STOI at every SNR in each of three
        fits (the separator's user guide).
    noise_tilt : float or (float, float), default=None
        Training only: spectral tilt of the noise in dB per octave (see
        :func:`make_mixtures`); a pair draws it per mixture.
    synthetic_noise : float, default=None
        Training only: add ``round(synthetic_noise * n_train)`` mixtures
        (``n_train`` the training mixtures made above), each a training
        mixture's source, drawn at random, with synthetic noise at that
        mixture's SNR instead of its noise. The kinds of
        :func:`make_synthetic_noise` take turns, and each is a noise type of
        its own (``"synthetic-chirps"``, ...; noise id -1). They come after
        the recorded ones. None or 0 adds none. On validation splits of
        unseen speakers and noise types, 0.25 gained SDR at -5 and 0 dB and
        nothing at +5 dB, but lost a little on the test splits (the
        separator's user guide): ``skblsh fit`` does not add them unless
        asked (``--synthetic-noise``).
    speech_groups, noise_groups : str or list of str, default=None
        Restrict the task to these speakers / noise types (None: all).
    test_speech_groups, test_noise_groups : str or list of str, default=None
        Open protocol only: the held-out speakers / noise types.
    max_utterances : int, default=None
        Use at most this many utterances per speaker (a seeded random
        subset), e.g. for a quick run.
    max_abs : float, default=None
        Scale down any mixture peaking above `max_abs`, with its source and
        noise (see :func:`make_mixtures`); None keeps the corpus levels.
    sr : int, default=16000
        Sample rate used when reading from folders (corpora given as
        :func:`load_corpus` output keep, and impose, their own rate).
    random_state : int, RandomState instance or None, default=None
        Controls the splits, the noise draws, the crops and the draws of the
        options given as ranges. Pass an int for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with, for ``split`` in ``train``, ``test``:

        mixtures_<split> : list of ndarray of shape (n_samples_k,)
            The noisy mixtures.
        sources_<split> : list of ndarray of shape (n_samples_k,)
            Clean (for training, possibly perturbed) speech of each mixture.
        noises_<split> : list of ndarray of shape (n_samples_k,)
            Scaled noise of each mixture (``mixture = source + noise``).
        groups_<split> : ndarray of shape (n_mixtures,), dtype=int64
            Utterance id (row of the pooled manifests) of each mixture: pass
            it as ``groups`` to a group-aware splitter.
        speakers_<split> : ndarray of shape (n_mixtures,), dtype=str
            Speaker of each mixture.
        noise_types_<split>, noise_ids_<split> : ndarray of str, of int64
            Noise type and noise clip (row of the pooled manifests) of each
            mixture; of shape (n_mixtures, noises_per_mixture) for training
            when ``noises_per_mixture > 1``, else (n_mixtures,). In the closed
            protocol a single-clip noise type has the same id in both splits,
            for disjoint parts of the clip.
        speaker_noise_<split> : ndarray of shape (n_mixtures, 2), dtype=str
            Speaker and noise type of each mixture (the types summed into a
            mixture joined by ``"+"``): the ``groups`` to pass to
            :meth:`~skblsh.separation.MaskingSeparator.fit`, whose refiner
            then learns from folds that hold out both, as unseen audio will.
        snr_db_<split> : ndarray of shape (n_mixtures,), dtype=float64
            SNR of each mixture.
        utterances_<split> : list of str
            Path of the clean utterance of each mixture.

        and ``speech_groups_train``, ``speech_groups_test``,
        ``noise_groups_train``, ``noise_groups_test`` (sorted lists of the
        speakers / noise types each split draws from), ``protocol``, ``sr`` and
        a one-paragraph ``DESCR``.

    Raises
    ------
    ValueError
        If a speaker or noise type has too few files to split, if a named
        group is unknown, if a file is listed twice across the corpora, or
        if there are fewer training noise types than
        ``n_noises * noises_per_mixture``.

    See Also
    --------
    load_demo : The closed protocol on the vendored demo data.
    make_mixtures : Mix utterances with noise at an exact SNR.

    Examples
    --------
    >>> from skblsh.datasets import get_demo_path, make_separation_task
    >>> task = make_separation_task(get_demo_path(), protocol="open",
    ...                             test_size=0.34, n_noises=2, random_state=0)
    >>> task.speech_groups_test, task.noise_groups_test
    (['it_m_carlo'], ['jungle', 'stream'])
    >>> len(task.mixtures_train), len(task.mixtures_test)
    (48, 12)

    Training diversity leaves the test split as it was:

    >>> diverse = make_separation_task(
    ...     get_demo_path(), protocol="open", test_size=0.34, n_noises=2,
    ...     snr_db=0.0, gain_db=(-6, 0), noises_per_mixture=2, random_state=0)
    >>> diverse.noise_types_train.shape
    (48, 2)
    >>> all((a == b).all() for a, b in zip(diverse.mixtures_test, task.mixtures_test))
    True
    """
    snr = _as_range(snr_db, "snr_db")
    train_options = {
        "noises_per_mixture": noises_per_mixture,
        "gain_db": gain_db,
        "speed": speed,
        "pitch_semitones": pitch_semitones,
        "noise_shift": noise_shift,
        "noise_tilt": noise_tilt,
    }
    # Validate the ranges before any file is read.
    _as_range(gain_db, "gain_db")
    _as_range(speed, "speed", positive=True)
    _as_range(pitch_semitones, "pitch_semitones")
    _as_range(noise_shift, "noise_shift", bound=MAX_NOISE_SHIFT)
    _as_range(noise_tilt, "noise_tilt")
    diverse = noises_per_mixture != 1 or any(
        v is not None
        for v in (gain_db, speed, pitch_semitones, noise_shift, noise_tilt)
    )
    rng = check_random_state(random_state)
    if protocol == "closed" and (
        test_speech_groups is not None or test_noise_groups is not None
    ):
        raise ValueError(
            "Expected test_speech_groups and test_noise_groups to be None with "
            "protocol='closed' (held-out groups exist only in the open protocol)."
        )

    sources = _as_sources(path_or_corpus, "path_or_corpus", allow_bunch=True)
    corpus = _catalog(sources, sr)
    groups, names, sr = corpus.groups, corpus.names, corpus.sr
    speech, noise = _select(
        corpus.kinds,
        groups,
        _as_names(speech_groups),
        _as_names(noise_groups),
        max_utterances,
        rng,
    )
    if protocol == "open":
        speech_split, noise_split = _split_open(
            groups,
            speech,
            noise,
            _as_names(test_speech_groups),
            _as_names(test_noise_groups),
            test_size,
            rng,
        )
        clips = dict(zip(noise, corpus.read(noise), strict=True))
        pieces = {s: [(i, clips[i]) for i in rows] for s, rows in noise_split.items()}
    else:
        clips = corpus.read(noise)
        speech_split, pieces = _split_closed(
            groups, speech, noise, clips, test_size, rng
        )

    out = Bunch(protocol=protocol, sr=sr)
    for split, n_mix in (("train", n_noises), ("test", 1)):
        utt = speech_split[split]
        noise_rows = np.array([i for i, _ in pieces[split]], dtype=np.int64)
        speech_y = corpus.read(utt)
        noise_y = [y for _, y in pieces[split]]
        train_diverse = split == "train" and diverse
        mix = make_mixtures(
            speech_y,
            noise_y,
            snr_db=snr_db,
            n_noises=n_mix,
            noise_groups=groups[noise_rows],
            max_abs=max_abs,
            random_state=copy.deepcopy(rng) if train_diverse else rng,
            **(train_options if train_diverse else {}),
        )
        if train_diverse:
            # The diverse training set was drawn from a copy; move rng on as
            # the plain training set would have, so that the test split is
            # the same with or without the diversity options.
            _plan_mixtures(
                rng,
                [y.shape[0] for y in speech_y],
                [y.shape[0] for y in noise_y],
                _candidates(groups[noise_rows], len(noise_y))[0],
                n_noises=n_mix,
                noises_per_mixture=1,
                snr=snr,
                gain=None,
                speed=None,
                pitch=None,
            )
        utt_of_mix = utt[mix.speech_index]
        out[f"mixtures_{split}"] = mix.mixtures
        out[f"sources_{split}"] = mix.sources
        out[f"noises_{split}"] = mix.noises
        out[f"groups_{split}"] = utt_of_mix.astype(np.int64)
        out[f"speakers_{split}"] = groups[utt_of_mix]
        out[f"noise_types_{split}"] = groups[noise_rows[mix.noise_index]]
        out[f"speaker_noise_{split}"] = _speaker_noise(
            out[f"speakers_{split}"], out[f"noise_types_{split}"]
        )
        out[f"noise_ids_{split}"] = noise_rows[mix.noise_index]
        out[f"snr_db_{split}"] = mix.snr_db
        out[f"utterances_{split}"] = [names[i] for i in utt_of_mix]
        out[f"speech_groups_{split}"] = sorted(set(groups[utt].tolist()))
        out[f"noise_groups_{split}"] = sorted(set(groups[noise_rows].tolist()))
    n_synthetic = 0
    if synthetic_noise:
        n_synthetic = _add_synthetic(out, synthetic_noise, max_abs, sr, rng)

    extras = []
    if noises_per_mixture != 1:
        extras.append(f"{noises_per_mixture} noise types summed per mixture")
    for name, spec, unit in (
        ("level", _as_range(gain_db, "gain_db"), " dB"),
        ("speed", _as_range(speed, "speed", positive=True), ""),
        ("pitch shift", _as_range(pitch_semitones, "pitch_semitones"), " semitones"),
        ("noise shift", _as_range(noise_shift, "noise_shift"), " octaves"),
        ("noise tilt", _as_range(noise_tilt, "noise_tilt"), " dB/octave"),
    ):
        if spec is not None:
            extras.append(f"{name} {_range_text(spec, unit)}")
    if n_synthetic:
        extras.append(
            f"{n_synthetic} more mixtures with synthetic noise "
            f"({', '.join(SYNTHETIC_KINDS)})"
        )
    diversity = f" Training diversity: {', '.join(extras)}." if extras else ""
    corpora = "" if len(sources) == 1 else f" {len(sources)} corpora pooled."
    out["DESCR"] = (
        f"Separation task, {protocol} protocol, SNR {_range_text(snr, ' dB')}, "
        f"{sr} Hz.{corpora} "
        f"Train: {len(out.mixtures_train) - n_synthetic} mixtures "
        f"({len(np.unique(out.groups_train))} utterances x {n_noises} noise "
        f"types) of speakers {out.speech_groups_train}, noise drawn from types "
        f"{out.noise_groups_train}.{diversity} Test: {len(out.mixtures_test)} "
        f"mixtures (one noise each) of speakers {out.speech_groups_test}, noise "
        f"drawn from held-out clips of types {out.noise_groups_test}."
    )
    return out
