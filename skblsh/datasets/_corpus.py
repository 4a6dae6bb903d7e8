"""Speech + noise corpora described by a manifest.

A corpus is a folder holding ``manifest.csv`` with at least the columns
``path`` (relative to the folder), ``kind`` (``speech`` or ``noise``) and
``group`` (speaker or noise type); optional columns such as ``license`` are
passed through (empty when a manifest lacks them). The development corpora
and the vendored demo data share this layout.

Several corpora can be used as one. Their files are concatenated in the order
given, and groups are identified by name across corpora: a group name found
in two corpora is **one** group (merged), so a speaker or noise type that two
corpora share is never on both sides of an open-protocol split. Give
different speakers or noise types different names in the manifests to keep
them apart. A file listed twice (e.g. the same folder given twice) is an
error.
"""

import csv
import os
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._sklearn import Interval, StrOptions, validate_params
from ._io import read_audio_files

__all__ = ["load_corpus"]

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


def _as_sources(value, name, *, allow_bunch):
    """One corpus or a list of them -> a non-empty list."""
    kinds = (str, os.PathLike, Mapping) if allow_bunch else (str, os.PathLike)
    expected = (
        "a corpus folder, the output of load_corpus, or a list of them"
        if allow_bunch
        else "a corpus folder or a list of corpus folders"
    )
    if isinstance(value, kinds):
        return [value]
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"Expected {name} to be {expected}, got an empty list.")
        for item in value:
            if not isinstance(item, kinds):
                raise TypeError(
                    f"Expected {name} to be {expected}, got a list holding "
                    f"{type(item).__name__} {item!r:.60}."
                )
        return list(value)
    raise TypeError(f"Expected {name} to be {expected}, got {type(value).__name__}.")


def _check_unique_files(names):
    seen = {}
    for name in names:
        if name.startswith("<"):  # in-memory waveform without a path
            continue
        key = os.path.realpath(name)
        if key in seen:
            raise ValueError(
                f"Expected each file to appear once across the corpora, got "
                f"'{name}' twice (the same corpus given twice?)."
            )
        seen[key] = name


def _catalog(sources, sr, name="path_or_corpus"):
    """Rows of one or several corpora (folders or load_corpus Bunches).

    Returns a Bunch with ``kinds``, ``groups``, ``names`` (file path of each
    row), ``sr`` and ``read(index)``, which returns the waveforms of the given
    rows: files are read only when asked, with conversions reported in one
    warning.
    """
    kinds, groups, names, where, rates = [], [], [], [], set()
    for c, src in enumerate(sources):
        if isinstance(src, Mapping):
            missing = {"waveforms", "groups", "kinds"} - set(src)
            if missing:
                raise ValueError(
                    f"Expected {name} to be a corpus folder or the output of "
                    f"load_corpus, got a mapping without {sorted(missing)}."
                )
            n = len(src["waveforms"])
            if len(src["kinds"]) != n or len(src["groups"]) != n:
                raise ValueError(
                    f"Expected the corpus mapping to have one kind and one group "
                    f"per waveform ({n}), got {len(src['kinds'])} kinds and "
                    f"{len(src['groups'])} groups."
                )
            default_names = [f"<corpus {c}>#{i}" for i in range(n)]
            kinds += [str(k) for k in src["kinds"]]
            groups += [str(g) for g in src["groups"]]
            names += [str(p) for p in src.get("paths", default_names)]
            where += [("array", src["waveforms"], i) for i in range(n)]
            if src.get("sr") is not None:
                rates.add(int(src["sr"]))
        else:
            root, rows = _read_manifest(src)
            kinds += [r["kind"] for r in rows]
            groups += [r["group"] for r in rows]
            names += [str(root / r["path"]) for r in rows]
            where += [("file", root, r["path"]) for r in rows]
    if len(rates) > 1:
        raise ValueError(
            f"Expected the corpora given as load_corpus output to share one "
            f"sample rate, got {sorted(rates)} Hz."
        )
    sr = rates.pop() if rates else sr
    _check_unique_files(names)

    def read(index):
        files = [where[i][1:] for i in index if where[i][0] == "file"]
        by_root = {}
        for root, rel in files:
            by_root.setdefault(root, []).append(rel)
        for root, rels in by_root.items():
            _check_files_exist(root, rels)
        loaded = iter(read_audio_files([str(r / p) for r, p in files], sr=sr))
        return [
            next(loaded)
            if where[i][0] == "file"
            else np.asarray(where[i][1][where[i][2]])
            for i in index
        ]

    return Bunch(
        kinds=np.array(kinds, dtype=str),
        groups=np.array(groups, dtype=str),
        names=names,
        sr=sr,
        read=read,
    )


@validate_params(
    {
        "path": [str, os.PathLike, list, tuple],
        "kind": [StrOptions({"speech", "noise"}), None],
        "groups": ["array-like", str, None],
        "sr": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_corpus(path, *, kind=None, groups=None, sr=16000):
    """Load one or several speech/noise corpora described by ``manifest.csv``.

    Parameters
    ----------
    path : str, path-like or list of them
        Corpus folder holding ``manifest.csv`` (or the manifest itself). Its
        ``path`` column is relative to the folder; ``kind`` is ``speech`` or
        ``noise``; ``group`` is the speaker or noise type. A list loads
        several corpora as one, in the order given; a group name found in
        several corpora is one group.
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
        order (corpus by corpus):

        waveforms : list of ndarray of shape (n_samples_i,), dtype=float32
            The audio of each file, mono, at `sr`.
        groups : ndarray of shape (n_files,), dtype=str
            Speaker or noise type of each file.
        kinds : ndarray of shape (n_files,), dtype=str
            ``"speech"`` or ``"noise"``.
        paths : list of str
            Full path of each file.
        durations : ndarray of shape (n_files,), dtype=float64
            Length in seconds, measured on the loaded waveforms.
        licenses : ndarray of shape (n_files,), dtype=str
            The manifest's ``license`` column (empty strings if absent).
        sr : int
            Sample rate of the waveforms.

    Raises
    ------
    FileNotFoundError
        If a manifest, or a file it lists, is missing (the message names it).
    ValueError
        If a manifest lacks a required column, a file is listed twice across
        the corpora, or `groups` names a group the manifests do not have.

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
    sources = _as_sources(path, "path", allow_bunch=False)
    rows = []
    for src in sources:
        root, listed = _read_manifest(src)
        rows += [(root, r) for r in listed]
    _check_unique_files([str(root / r["path"]) for root, r in rows])
    groups = _as_names(groups)
    if kind is not None:
        rows = [(root, r) for root, r in rows if r["kind"] == kind]
        if not rows:
            where = "the manifest" if len(sources) == 1 else "the manifests"
            raise ValueError(f"Expected {where} to list {kind} files, got none.")
    if groups is not None:
        _check_known(groups, [r["group"] for _, r in rows], "groups")
        rows = [(root, r) for root, r in rows if r["group"] in groups]
    return _load_rows(rows, sr)


def _load_rows(rows, sr):
    by_root = {}
    for root, r in rows:
        by_root.setdefault(root, []).append(r["path"])
    for root, rels in by_root.items():
        _check_files_exist(root, rels)
    paths = [str(root / r["path"]) for root, r in rows]
    waveforms = read_audio_files(paths, sr=sr)
    return Bunch(
        waveforms=waveforms,
        groups=np.array([r["group"] for _, r in rows], dtype=str),
        kinds=np.array([r["kind"] for _, r in rows], dtype=str),
        paths=paths,
        durations=np.array([y.shape[0] / sr for y in waveforms], dtype=np.float64),
        licenses=np.array([r.get("license") or "" for _, r in rows], dtype=str),
        sr=sr,
    )
