"""Loaders for data sets users keep locally: TIMIT, DEMAND, any folder of audio.

None of these are downloaded; each loader reads a folder the user already has
and returns the same Bunch layout as :func:`load_corpus`.
"""

import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._sklearn import Interval, StrOptions, validate_params
from ._io import read_audio_files

__all__ = ["load_audio_folder", "load_demand", "load_timit"]


def _check_folder(path, what):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Expected path to be {what}, got '{path}' (no such folder)."
        )
    if not path.is_dir():
        raise NotADirectoryError(
            f"Expected path to be {what}, got '{path}', which is a file."
        )
    return path


def _bunch(paths, sr, **labels):
    waveforms = read_audio_files(paths, sr=sr)
    return Bunch(
        waveforms=waveforms,
        **{k: np.array(v, dtype=str) for k, v in labels.items()},
        paths=[str(p) for p in paths],
        durations=np.array([y.shape[0] / sr for y in waveforms], dtype=np.float64),
        sr=sr,
    )


def _case_insensitive(pattern):
    """Glob pattern matching letters in either case (outside [...] sets)."""
    out, in_set = [], False
    for c in pattern:
        if c == "[":
            in_set = True
        elif c == "]":
            in_set = False
        if c.isalpha() and not in_set:
            out.append(f"[{c.lower()}{c.upper()}]")
        else:
            out.append(c)
    return "".join(out)


@validate_params(
    {
        "path": [str, os.PathLike],
        "subset": [StrOptions({"train", "test"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_timit(path, *, subset="train", sr=16000):
    """Load the TIMIT utterances of one subset from a local copy.

    Expects the LDC layout ``<path>/TRAIN/DR1/FCJF0/SA1.WAV`` (folder and file
    names in any case, the ``TRAIN`` folder possibly nested, e.g. under
    ``TIMIT/``). Files are NIST SPHERE or RIFF WAV; when a utterance exists as
    both ``SA1.WAV`` and ``SA1.WAV.wav`` (a common conversion), the RIFF copy
    is read.

    Parameters
    ----------
    path : str or path-like
        Root of the TIMIT copy.
    subset : {"train", "test"}, default="train"
        Which official subset to load.
    sr : int, default=16000
        Sample rate of the returned waveforms (TIMIT is 16 kHz).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, sorted by dialect region, speaker, sentence:

        waveforms : list of ndarray of shape (n_samples_i,), dtype=float32
            The audio of each file, mono, at `sr`.
        groups : ndarray of shape (n_utterances,), dtype=str
            Speaker id, e.g. ``"FCJF0"`` (upper case).
        dialect_regions : ndarray of shape (n_utterances,), dtype=str
            ``"DR1"`` ... ``"DR8"``.
        sexes : ndarray of shape (n_utterances,), dtype=str
            ``"F"`` or ``"M"``, the first letter of the speaker id.
        sentences : ndarray of shape (n_utterances,), dtype=str
            Sentence id, e.g. ``"SA1"``, ``"SX127"``.
        paths : list of str
            Full path of each file.
        durations : ndarray of shape (n_utterances,), dtype=float64
            Length in seconds, measured on the loaded waveforms.
        sr : int
            Sample rate of the waveforms.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist or holds no ``TRAIN``/``TEST`` folder.
    ValueError
        If the subset folder holds no ``DR*/<speaker>/*.wav`` file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from skblsh.datasets import load_timit, write_audio
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     spk = pathlib.Path(tmp, "TIMIT", "TRAIN", "DR1", "FCJF0")
    ...     spk.mkdir(parents=True)
    ...     _ = write_audio(spk / "SA1.wav", 0.1 * np.ones(1600))
    ...     timit = load_timit(tmp, subset="train")
    >>> timit.groups.tolist(), timit.dialect_regions.tolist(), timit.sexes.tolist()
    (['FCJF0'], ['DR1'], ['F'])
    """
    root = _check_folder(path, "a TIMIT folder")
    name = subset.upper()
    candidates = sorted(
        (p for p in root.rglob(_case_insensitive(name)) if p.is_dir()),
        key=lambda p: (len(p.parts), str(p)),
    )
    if not candidates:
        raise FileNotFoundError(
            f"Expected path to be a TIMIT folder holding {name}/DR*/<speaker>/"
            f"*.WAV, got '{root}' (no {name} folder)."
        )
    base = candidates[0]
    found = {}
    for wav in base.glob(_case_insensitive("DR*/*/*.wav")):
        dr, speaker = wav.parent.parent.name.upper(), wav.parent.name.upper()
        if not re.fullmatch(r"DR\d", dr) or not wav.is_file():
            continue
        sentence = wav.name.split(".")[0].upper()
        key = (dr, speaker, sentence)
        # Prefer the RIFF copy "SA1.WAV.wav" over the SPHERE original "SA1.WAV".
        if key not in found or wav.name.count(".") > found[key].name.count("."):
            found[key] = wav
    if not found:
        raise ValueError(
            f"Expected '{base}' to hold TIMIT utterances DR*/<speaker>/*.WAV, got none."
        )
    keys = sorted(found)
    return _bunch(
        [found[k] for k in keys],
        sr,
        groups=[k[1] for k in keys],
        dialect_regions=[k[0] for k in keys],
        sexes=[k[1][0] for k in keys],
        sentences=[k[2] for k in keys],
    )


@validate_params(
    {
        "path": [str, os.PathLike],
        "channel": [Interval(Integral, 1, 16, closed="both")],
        "environments": ["array-like", str, None],
        "sr": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_demand(path, *, channel=1, environments=None, sr=16000):
    """Load one microphone channel of the DEMAND noise recordings.

    Expects the layout of the DEMAND archives once extracted,
    ``<path>/DKITCHEN/ch01.wav`` ... ``<path>/TMETRO/ch16.wav`` (any nesting,
    names in any case). The 48 kHz release is resampled to `sr` with an
    :class:`AudioConversionWarning`.

    Parameters
    ----------
    path : str or path-like
        Folder holding the environment folders.
    channel : int in [1, 16], default=1
        Microphone of the 16-channel array to load.
    environments : str or list of str, default=None
        Load only these environments (e.g. ``["DKITCHEN", "STRAFFIC"]``);
        None loads all found.
    sr : int, default=16000
        Sample rate of the returned waveforms.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, sorted by environment:

        waveforms : list of ndarray of shape (n_samples_i,), dtype=float32
            The audio of each file, mono, at `sr`.
        groups : ndarray of shape (n_environments,), dtype=str
            Environment name (upper case), e.g. ``"DKITCHEN"``.
        paths : list of str
            Full path of each file.
        durations : ndarray of shape (n_environments,), dtype=float64
            Length in seconds, measured on the loaded waveforms.
        sr : int
            Sample rate of the waveforms.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If no ``chNN.wav`` file is found, an environment is found twice, or a
        requested environment is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from skblsh.datasets import load_demand, write_audio
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for env in ["DKITCHEN", "OOFFICE"]:
    ...         pathlib.Path(tmp, env).mkdir()
    ...         _ = write_audio(pathlib.Path(tmp, env, "ch01.wav"), 0.1 * np.ones(800))
    ...     demand = load_demand(tmp, channel=1)
    >>> demand.groups.tolist()
    ['DKITCHEN', 'OOFFICE']
    """
    root = _check_folder(path, "a DEMAND folder")
    target = f"ch{channel:02d}.wav"
    found = {}
    for wav in sorted(root.rglob(_case_insensitive(target))):
        env = wav.parent.name.upper()
        if env in found:
            raise ValueError(
                f"Expected one {target} per environment, got two for {env}: "
                f"'{found[env]}' and '{wav}'; pass the folder of one release."
            )
        found[env] = wav
    if not found:
        raise ValueError(
            f"Expected '{root}' to hold DEMAND recordings <ENVIRONMENT>/{target}, "
            "got none."
        )
    if environments is not None:
        wanted = [environments] if isinstance(environments, str) else list(environments)
        wanted = [str(e).upper() for e in wanted]
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise ValueError(
                f"Expected environments to be among {sorted(found)}, got unknown "
                f"{unknown}."
            )
        found = {e: found[e] for e in wanted}
    envs = sorted(found)
    return _bunch([found[e] for e in envs], sr, groups=envs)


@validate_params(
    {
        "path": [str, os.PathLike],
        "pattern": [str],
        "sr": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_audio_folder(path, *, pattern="**/*.wav", sr=16000):
    """Load every audio file under a folder that matches a glob pattern.

    Suits noise collections such as a flat folder of WAV files, or one
    sub-folder per noise type.

    Parameters
    ----------
    path : str or path-like
        The folder.
    pattern : str, default: ``"**/*.wav"``
        Glob pattern relative to `path`, matched case-insensitively
        (``"**/*.wav"`` also finds ``.WAV``; ``"**/*.flac"`` FLAC files).
    sr : int, default=16000
        Sample rate of the returned waveforms.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, sorted by path:

        waveforms : list of ndarray of shape (n_samples_i,), dtype=float32
            The audio of each file, mono, at `sr`.
        groups : ndarray of shape (n_files,), dtype=str
            Sub-folder of each file relative to `path` (e.g. ``"birds"``), or
            the file's stem for files directly in `path`.
        paths : list of str
            Full path of each file.
        durations : ndarray of shape (n_files,), dtype=float64
            Length in seconds, measured on the loaded waveforms.
        sr : int
            Sample rate of the waveforms.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If no file matches `pattern`.

    Examples
    --------
    >>> from skblsh.datasets import get_demo_path, load_audio_folder
    >>> noise = load_audio_folder(get_demo_path() / "noise", pattern="rain_*.flac")
    >>> noise.groups.tolist()
    ['rain_1', 'rain_2']
    """
    root = _check_folder(path, "a folder of audio files")
    files = sorted(p for p in root.glob(_case_insensitive(pattern)) if p.is_file())
    if not files:
        raise ValueError(
            f"Expected '{root}' to hold audio files matching '{pattern}', got none."
        )
    groups = []
    for f in files:
        parent = f.parent.relative_to(root).as_posix()
        groups.append(f.stem if parent == "." else parent)
    return _bunch(files, sr, groups=groups)
