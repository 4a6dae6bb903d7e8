"""Speech + noise corpora described by a manifest, and the evaluation protocols.

A corpus is a folder holding ``manifest.csv`` with at least the columns
``path`` (relative to the folder), ``kind`` (``speech`` or ``noise``) and
``group`` (speaker or noise type); optional columns such as ``license`` are
passed through. The development corpus and the vendored demo data share this
layout.
"""

import csv
import os
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn import Interval, StrOptions, validate_params
from ._io import read_audio_files
from ._mixing import make_mixtures

__all__ = ["load_corpus", "make_separation_task"]

REQUIRED_COLUMNS = ("path", "kind", "group")


def _read_manifest(path):
    """Return (root folder, list of row dicts) of a corpus folder or manifest."""
    path = Path(path)
    manifest = path if path.suffix.lower() == ".csv" else path / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"Expected path to be a corpus folder holding manifest.csv, got "
            f"'{path}' (no '{manifest.name}' found)."
        )
    with open(manifest, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        rows = list(reader)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValueError(
            f"Expected '{manifest}' to have the columns {', '.join(REQUIRED_COLUMNS)}"
            f", got {', '.join(columns) or 'no header'} (missing: "
            f"{', '.join(missing)})."
        )
    if not rows:
        raise ValueError(f"Expected '{manifest}' to list at least one file, got 0.")
    return manifest.parent, rows


def _check_files_exist(root, rel_paths):
    missing = [p for p in rel_paths if not (root / p).is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise FileNotFoundError(
            f"Expected every file listed in manifest.csv to exist, got "
            f"'{missing[0]}'{more} missing from '{root}'."
        )


def _as_names(groups):
    if groups is None:
        return None
    if isinstance(groups, str):
        return [groups]
    return [str(g) for g in groups]


def _check_known(requested, available, name):
    unknown = sorted(set(requested) - set(available))
    if unknown:
        raise ValueError(
            f"Expected {name} to be among {sorted(set(available))}, got "
            f"unknown {unknown}."
        )


@validate_params(
    {
        "path": [str, os.PathLike],
        "kind": [StrOptions({"speech", "noise"}), None],
        "groups": ["array-like", str, None],
        "sr": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_corpus(path, *, kind=None, groups=None, sr=16000):
    """Load a speech/noise corpus described by a ``manifest.csv``.

    Parameters
    ----------
    path : str or path-like
        Corpus folder holding ``manifest.csv`` (or the manifest itself). Its
        ``path`` column is relative to the folder; ``kind`` is ``speech`` or
        ``noise``; ``group`` is the speaker or noise type.
    kind : {"speech", "noise"}, default=None
        Load only this kind of file; None loads both.
    groups : str or list of str, default=None
        Load only these groups (speakers or noise types); None loads all.
    sr : int, default=16000
        Sample rate of the returned waveforms; other rates are resampled with
        an :class:`AudioConversionWarning`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes, in manifest
        order:

        waveforms : list of ndarray of shape (n_samples_i,), dtype=float32
        groups : ndarray of shape (n_files,), dtype=str
            Speaker or noise type of each file.
        kinds : ndarray of shape (n_files,), dtype=str
        paths : list of str
            Full path of each file.
        durations : ndarray of shape (n_files,), dtype=float64
            Length in seconds, measured on the loaded waveforms.
        licenses : ndarray of shape (n_files,), dtype=str
            The manifest's ``license`` column (empty strings if absent).
        sr : int

    Raises
    ------
    FileNotFoundError
        If the manifest, or a file it lists, is missing (the message names it).
    ValueError
        If the manifest lacks a required column, or `groups` names a group
        the manifest does not have.

    See Also
    --------
    make_separation_task : Train/test mixtures under the project's protocols.

    Examples
    --------
    >>> from skblsh.datasets import get_demo_path, load_corpus
    >>> noise = load_corpus(get_demo_path(), kind="noise", groups=["rain", "wind"])
    >>> noise.groups.tolist()
    ['rain', 'rain', 'wind', 'wind']
    >>> noise.durations.round(1).tolist()
    [6.0, 6.0, 6.0, 6.0]
    """
    root, rows = _read_manifest(path)
    groups = _as_names(groups)
    if kind is not None:
        rows = [r for r in rows if r["kind"] == kind]
        if not rows:
            raise ValueError(f"Expected the manifest to list {kind} files, got none.")
    if groups is not None:
        _check_known(groups, [r["group"] for r in rows], "groups")
        rows = [r for r in rows if r["group"] in groups]
    return _load_rows(root, rows, sr)


def _load_rows(root, rows, sr):
    rel = [r["path"] for r in rows]
    _check_files_exist(root, rel)
    paths = [str(root / p) for p in rel]
    waveforms = read_audio_files(paths, sr=sr)
    return Bunch(
        waveforms=waveforms,
        groups=np.array([r["group"] for r in rows], dtype=str),
        kinds=np.array([r["kind"] for r in rows], dtype=str),
        paths=paths,
        durations=np.array([y.shape[0] / sr for y in waveforms], dtype=np.float64),
        licenses=np.array([r.get("license", "") for r in rows], dtype=str),
        sr=sr,
    )


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


@validate_params(
    {
        "path_or_corpus": [str, os.PathLike, Mapping],
        "protocol": [StrOptions({"closed", "open"})],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "n_noises": [Interval(Integral, 1, None, closed="left")],
        "snr_db": [Interval(Real, None, None, closed="neither")],
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
    speech_groups=None,
    noise_groups=None,
    test_speech_groups=None,
    test_noise_groups=None,
    max_utterances=None,
    max_abs=None,
    sr=16000,
    random_state=0,
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
    clips of different types, and each test utterance with one, all at
    `snr_db` (see :func:`make_mixtures`). No utterance and no noise sample is
    shared between train and test.

    Parameters
    ----------
    path_or_corpus : str, path-like or Bunch
        A corpus folder with ``manifest.csv`` (only the files needed are
        read), or the output of :func:`load_corpus` with both kinds loaded.
    protocol : {"closed", "open"}, default="closed"
        Evaluation protocol, see above.
    test_size : float in (0, 1), default=0.2
        Fraction of utterances and clips (closed) or of speakers and noise
        types (open) held out for testing; at least one is held out and one
        kept.
    n_noises : int, default=2
        Number of mixtures per training utterance, each with a different
        noise type.
    snr_db : float, default=0.0
        SNR of every mixture, in dB.
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
        Sample rate used when reading from a folder.
    random_state : int, RandomState instance or None, default=0
        Controls the splits, the noise draws and the crops.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with, for ``split`` in ``train``, ``test``:

        mixtures_<split> : list of ndarray of shape (n_samples_i,)
        sources_<split> : list of ndarray of shape (n_samples_i,)
            Clean speech of each mixture.
        noises_<split> : list of ndarray of shape (n_samples_i,)
            Scaled noise of each mixture (``mixture = source + noise``).
        groups_<split> : ndarray of shape (n_mixtures,), dtype=int64
            Utterance id (row of the corpus) of each mixture: pass it as
            ``groups`` to a group-aware splitter.
        speakers_<split>, noise_types_<split> : ndarray of str
            Speaker and noise type of each mixture.
        noise_ids_<split> : ndarray of shape (n_mixtures,), dtype=int64
            Noise clip (row of the corpus) of each mixture. In the closed
            protocol a single-clip noise type has the same id in both splits,
            for disjoint parts of the clip.
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
        group is unknown, or if there are fewer training noise types than
        `n_noises`.

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
    """
    rng = check_random_state(random_state)
    if protocol == "closed" and (
        test_speech_groups is not None or test_noise_groups is not None
    ):
        raise ValueError(
            "Expected test_speech_groups and test_noise_groups to be None with "
            "protocol='closed' (held-out groups exist only in the open protocol)."
        )

    if isinstance(path_or_corpus, Mapping):
        corpus = path_or_corpus
        missing = {"waveforms", "groups", "kinds"} - set(corpus)
        if missing:
            raise ValueError(
                f"Expected path_or_corpus to be a corpus folder or the output of "
                f"load_corpus, got a mapping without {sorted(missing)}."
            )
        kinds = np.asarray(corpus["kinds"], dtype=str)
        groups = np.asarray(corpus["groups"], dtype=str)
        names = list(corpus.get("paths", [f"#{i}" for i in range(len(kinds))]))
        sr = corpus.get("sr", sr)
        waveforms = corpus["waveforms"]

        def get(index):
            return [np.asarray(waveforms[i]) for i in index]

    else:
        root, rows = _read_manifest(path_or_corpus)
        kinds = np.array([r["kind"] for r in rows], dtype=str)
        groups = np.array([r["group"] for r in rows], dtype=str)
        names = [str(root / r["path"]) for r in rows]

        def get(index):
            _check_files_exist(root, [rows[i]["path"] for i in index])
            return read_audio_files([names[i] for i in index], sr=sr)

    speech_groups = _as_names(speech_groups)
    noise_groups = _as_names(noise_groups)
    test_speech_groups = _as_names(test_speech_groups)
    test_noise_groups = _as_names(test_noise_groups)
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
    noise = index["noise"]

    if protocol == "open":
        spk_train, spk_test = _split_groups(
            groups[speech], test_speech_groups, test_size, rng, "speech_groups"
        )
        noi_train, noi_test = _split_groups(
            groups[noise], test_noise_groups, test_size, rng, "noise_groups"
        )
        speech_split = {
            "train": speech[np.isin(groups[speech], spk_train)],
            "test": speech[np.isin(groups[speech], spk_test)],
        }
        clips = get(noise)
        pieces = {"train": [], "test": []}
        for i, y in zip(noise, clips, strict=True):
            split = "train" if groups[i] in noi_train else "test"
            pieces[split].append((i, y))
    else:
        speech_split = {"train": [], "test": []}
        for g in np.unique(groups[speech]):
            rows_g = rng.permutation(speech[groups[speech] == g])
            k = _n_test(rows_g.shape[0], test_size, f"utterances of speaker '{g}'")
            speech_split["test"].append(rows_g[:k])
            speech_split["train"].append(rows_g[k:])
        speech_split = {s: np.sort(np.concatenate(v)) for s, v in speech_split.items()}
        clips = dict(zip(noise, get(noise), strict=True))
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

    out = Bunch(protocol=protocol, sr=sr)
    for split, n_mix in (("train", n_noises), ("test", 1)):
        utt = speech_split[split]
        noise_rows = np.array([i for i, _ in pieces[split]], dtype=np.int64)
        mix = make_mixtures(
            get(utt),
            [y for _, y in pieces[split]],
            snr_db=snr_db,
            n_noises=n_mix,
            noise_groups=groups[noise_rows],
            max_abs=max_abs,
            random_state=rng,
        )
        utt_of_mix = utt[mix.speech_index]
        out[f"mixtures_{split}"] = mix.mixtures
        out[f"sources_{split}"] = mix.sources
        out[f"noises_{split}"] = mix.noises
        out[f"groups_{split}"] = utt_of_mix.astype(np.int64)
        out[f"speakers_{split}"] = groups[utt_of_mix]
        out[f"noise_types_{split}"] = groups[noise_rows[mix.noise_index]]
        out[f"noise_ids_{split}"] = noise_rows[mix.noise_index]
        out[f"utterances_{split}"] = [names[i] for i in utt_of_mix]
        out[f"speech_groups_{split}"] = sorted(set(groups[utt].tolist()))
        out[f"noise_groups_{split}"] = sorted(set(groups[noise_rows].tolist()))
    out["DESCR"] = (
        f"Separation task, {protocol} protocol, {snr_db:g} dB SNR, {sr} Hz. "
        f"Train: {len(out.mixtures_train)} mixtures "
        f"({len(np.unique(out.groups_train))} utterances x {n_noises} noise "
        f"types) of speakers {out.speech_groups_train}, noise drawn from types "
        f"{out.noise_groups_train}. Test: {len(out.mixtures_test)} mixtures "
        f"(one noise each) of speakers {out.speech_groups_test}, noise drawn "
        f"from held-out clips of types {out.noise_groups_test}."
    )
    return out
