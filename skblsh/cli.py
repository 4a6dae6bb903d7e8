"""The ``skblsh`` command: demo, fit, denoise, evaluate.

Every failure the user can cause (bad file, bad model, bad option) ends in a
one-line ``skblsh: error: ...`` message and a non-zero exit status, and no
output file is ever left half-written (all writes are temp file + rename).
"""

import argparse
import collections
import contextlib
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

from ._version import __version__
from .datasets import (
    AudioConversionWarning,
    AudioFileError,
    get_demo_path,
    load_demo,
    make_separation_task,
    read_audio,
    write_audio,
)
from .metrics import separation_report
from .persistence import load_model, save_model
from .separation import (
    MaskingSeparator,
    apply_masks,
    ideal_binary_mask,
    make_separator_pipeline,
    stft,
)
from .utils._atomic import atomic_path
from .utils._bits import warm_up

__all__ = ["main"]

_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, OSError, AudioFileError)


def _say(*args, quiet=False):
    if not quiet:
        print(*args, flush=True)


def _build_separator(args, random_state):
    hasher = None if args.hasher == "none" else args.hasher
    pipeline = make_separator_pipeline(
        args.n_bits,
        args.n_neighbors,
        hasher=hasher,
        kind=args.kind,
        random_state=random_state,
    )
    return MaskingSeparator(
        pipeline,
        dictionary_fraction=args.dictionary_fraction,
        random_state=random_state,
    )


def _oracle(mixtures, sources):
    masks = [ideal_binary_mask(m, s) for m, s in zip(mixtures, sources, strict=True)]
    return apply_masks(mixtures, masks)


def _table(rows):
    """Markdown table of (name, report, fit_s, predict_s) rows.

    STOI is a column when every report has it, PESQ-WB when every report
    has it (the optional ``pesq`` package is installed).
    """
    quality = [
        (key, label, digits)
        for key, label, digits in [("stoi", "STOI", 3), ("pesq_wb", "PESQ-WB", 2)]
        if all(key in rep for _, rep, _, _ in rows)
    ]
    header = ["method", "SDR (dB)", "SIR (dB)", "SAR (dB)"]
    header += [label for _, label, _ in quality] + ["fit (s)", "predict (s)"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for name, rep, fit_s, pred_s in rows:
        cells = [name] + [f"{rep[f'{k}_weighted']:.2f}" for k in ("sdr", "sir", "sar")]
        cells += [f"{rep[f'{key}_weighted']:.{d}f}" for key, _, d in quality]
        cells += ["" if t is None else f"{t:.1f}" for t in (fit_s, pred_s)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _evaluate_systems(systems, train, test, *, quiet=False):
    """Fit each system on train, score it on test; returns table rows."""
    rows = []
    estimates_by_name = {}
    for name, separator in systems:
        fit_s = pred_s = None
        if separator == "oracle":
            estimates = _oracle(test["mixtures"], test["sources"])
        elif separator == "mixture":
            estimates = test["mixtures"]
        else:
            _say(f"[skblsh] fitting {name} ...", quiet=quiet)
            t0 = time.perf_counter()
            separator.fit(train["mixtures"], train["sources"])
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            estimates = separator.predict(test["mixtures"])
            pred_s = time.perf_counter() - t0
        _say(f"[skblsh] scoring {name} ...", quiet=quiet)
        report = separation_report(test["sources"], estimates, test["mixtures"])
        rows.append((name, report, fit_s, pred_s))
        estimates_by_name[name] = estimates
    return rows, estimates_by_name


def _save_figure(path, mixture, source, estimate, mask_true, mask_pred, sr):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def db(y):
        return 20 * np.log10(np.abs(stft(y)).T + 1e-6)

    panels = [
        ("mixture", db(mixture), "magma"),
        ("clean speech", db(source), "magma"),
        ("BoostedLSH estimate", db(estimate), "magma"),
        ("ideal binary mask", mask_true.T, "gray"),
        ("predicted mask (BoostedLSH kNN)", mask_pred.T, "gray"),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 11), sharex=True)
    extent = [0, len(mixture) / sr, 0, sr / 2000]
    for ax, (title, img, cmap) in zip(axes, panels, strict=True):
        vmin = img.max() - 80 if cmap == "magma" else 0
        ax.imshow(
            img,
            origin="lower",
            aspect="auto",
            cmap=cmap,
            extent=extent,
            vmin=vmin,
            vmax=img.max() if cmap == "magma" else 1,
        )
        ax.set_title(title)
        ax.set_ylabel("kHz")
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    try:
        with atomic_path(path, suffix=".tmp.png") as tmp:
            fig.savefig(tmp, dpi=80)
    finally:
        plt.close(fig)


def _cmd_demo(args):
    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_demo(random_state=args.random_state)
    train = {"mixtures": data.mixtures_train, "sources": data.sources_train}
    test = {"mixtures": data.mixtures_test, "sources": data.sources_test}
    _say(
        f"[skblsh] demo data: {len(train['mixtures'])} training and "
        f"{len(test['mixtures'])} test mixtures at 0 dB SNR, {data.sr} Hz",
        quiet=args.quiet,
    )
    L, K = args.n_bits, args.n_neighbors
    boosted = make_separator_pipeline(L, K, random_state=args.random_state)
    if args.quick:
        boosted.set_params(hash__n_segments=2)
    systems = [
        ("Oracle IBM", "oracle"),
        (
            f"kNN on STFT (K={K})",
            MaskingSeparator(make_separator_pipeline(n_neighbors=K, hasher=None)),
        ),
        (
            f"RandomLSH (L={L}, K={K})",
            MaskingSeparator(
                make_separator_pipeline(
                    L, K, hasher="random", random_state=args.random_state
                )
            ),
        ),
        (f"BoostedLSH (L={L}, K={K})", MaskingSeparator(boosted)),
        ("Unprocessed mixture", "mixture"),
    ]
    # Numba compiles its kernels on first use (or loads them from its disk
    # cache): timed here so that it never counts as a system's predict time.
    _say(
        f"[skblsh] search kernels compiled or loaded in {warm_up():.1f} s "
        "(not counted in the table)",
        quiet=args.quiet,
    )
    rows, estimates = _evaluate_systems(systems, train, test, quiet=args.quiet)
    table = _table(rows) + (
        "\n\nSDR/SIR/SAR: BSS Eval, mean weighted by utterance length. The "
        "mixture's SAR is unbounded (it lies in the span of the references)."
    )
    print(table, flush=True)
    blsh_name, blsh = systems[3]
    n_wav = min(3, len(test["mixtures"]))
    for i in range(n_wav):
        trio = {
            "mixture": test["mixtures"][i],
            "clean": test["sources"][i],
            "boostedlsh": estimates[blsh_name][i],
        }
        # One gain per utterance keeps the three files comparable by ear and
        # inside [-1, 1] (0 dB mixtures of peak-normalised clips can exceed it).
        gain = 0.9 / max(float(np.max(np.abs(y))) for y in trio.values())
        for label, y in trio.items():
            write_audio(out / f"utt{i}_{label}.wav", y * gain, sr=data.sr)
    m, s = test["mixtures"][0], test["sources"][0]
    _save_figure(
        out / "spectrograms.png",
        m,
        s,
        estimates[blsh_name][0],
        ideal_binary_mask(m, s),
        blsh.predict_mask(m),
        data.sr,
    )
    report = out / "report.md"
    with atomic_path(report) as tmp:
        tmp.write_text(f"# skblsh demo (skblsh {__version__})\n\n{table}\n")
    _say(
        f"[skblsh] wrote {3 * n_wav} WAV files, spectrograms.png and report.md to "
        f"{out} in {time.perf_counter() - t_start:.0f} s",
        quiet=args.quiet,
    )
    return 0


# Options of make_separation_task that `skblsh fit` exposes, with the values
# `fit` stores when they are not given (the library's defaults).
_DIVERSITY = {
    "snr_db": 0.0,
    "gain_db": None,
    "noises_per_mixture": 1,
    "speed": None,
    "pitch_semitones": None,
}


def _range_option(values, name):
    """One number, or a [low, high] pair, from a ``nargs="+"`` option."""
    if values is None or not isinstance(values, list):
        return values
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return list(values)
    raise ValueError(
        f"Expected --{name.replace('_', '-')} to be one value or a LOW HIGH pair, "
        f"got {len(values)} values."
    )


def _task_kwargs(args):
    kwargs = {
        "protocol": args.protocol,
        "max_utterances": args.max_utterances,
        "random_state": args.random_state,
    }
    for name in _DIVERSITY:
        kwargs[name] = _range_option(getattr(args, name), name)
    return kwargs


def _option_text(value):
    if isinstance(value, (list, tuple)):
        return " ".join(f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _corpus_list(corpus):
    """None, or a list of corpus folders (old model files store one string)."""
    if corpus is None:
        return None
    if isinstance(corpus, (str, Path)):
        return [str(corpus)]
    return [str(c) for c in corpus]


def _load_task(corpus, kwargs, quiet):
    corpora = _corpus_list(corpus)
    if corpora is None:
        defaults = {"protocol": "closed", "max_utterances": None, **_DIVERSITY}
        ignored = [
            f"--{key.replace('_', '-')} {_option_text(kwargs.get(key))}"
            for key, default in defaults.items()
            if kwargs.get(key, default) != default
        ]
        if ignored:
            raise ValueError(
                f"Expected --corpus with {' and '.join(ignored)}, got none: the "
                "embedded demo set has a fixed closed-protocol split (its folder "
                f"is a corpus too: --corpus {get_demo_path()})."
            )
        return load_demo(random_state=kwargs["random_state"])
    _say(f"[skblsh] loading corpus {', '.join(corpora)} ...", quiet=quiet)
    return make_separation_task(corpora[0] if len(corpora) == 1 else corpora, **kwargs)


def _cmd_fit(args):
    kwargs = _task_kwargs(args)
    data = _load_task(args.corpus, kwargs, args.quiet)
    separator = _build_separator(args, args.random_state)
    _say(
        f"[skblsh] fitting on {len(data.mixtures_train)} training mixtures ...",
        quiet=args.quiet,
    )
    t0 = time.perf_counter()
    separator.fit(data.mixtures_train, data.sources_train)
    corpora = _corpus_list(args.corpus)
    metadata = {
        # One corpus is stored as a string, as before several were possible.
        "corpus": corpora[0] if corpora and len(corpora) == 1 else corpora,
        "task": kwargs,
    }
    save_model(separator, args.output, metadata=metadata)
    _say(
        f"[skblsh] {separator.n_frames_} dictionary frames, fitted in "
        f"{time.perf_counter() - t0:.1f} s; saved {args.output}",
        quiet=args.quiet,
    )
    return 0


def _load_separator(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, metadata = load_model(path, return_metadata=True)
    for w in caught:
        print(f"skblsh: note: {w.message}", file=sys.stderr)
    if not isinstance(model, MaskingSeparator):
        raise ValueError(
            f"Expected '{path}' to hold a MaskingSeparator, got {type(model).__name__}."
        )
    return model, metadata


# Suffixes of the audio files `denoise` picks up in input folders: the
# containers libsndfile reads (read_audio decodes every one of them).
_AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".aifc", ".au",
     ".caf", ".w64", ".rf64", ".sph", ".nist"}
)  # fmt: skip


def _audio_files(folder, skip):
    """Audio files under ``folder``, sorted; hidden ones and ``skip`` left out."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if (
            path.suffix.lower() in _AUDIO_SUFFIXES
            # Hidden files include atomic_path's temporaries and macOS "._x.wav".
            and not any(part.startswith(".") for part in rel.parts)
            and path.is_file()
            and skip not in path.resolve().parents
        ):
            found.append(path)
    return sorted(found)


def _denoise_jobs(inputs, out):
    """``(source, destination)`` of every file to denoise.

    A file goes to ``out/<stem>.wav``; a folder's audio files (recursively)
    keep their sub-folders under ``out``, so equal names in different
    folders never collide. Files inside ``out`` itself are never inputs.
    """
    skip = out.resolve()
    jobs = []
    for item in map(Path, inputs):
        if not item.is_dir():
            jobs.append((item, out / f"{item.stem}.wav"))
            continue
        files = _audio_files(item, skip)
        if not files:
            raise ValueError(
                f"Expected the folder '{item}' to hold audio files "
                f"({', '.join(sorted(_AUDIO_SUFFIXES))}), got none."
            )
        jobs += [(f, out / f.relative_to(item).with_suffix(".wav")) for f in files]
    names = [dst.relative_to(out).with_suffix("").as_posix() for _, dst in jobs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"Expected input files with distinct names, got several named "
            f"{', '.join(dupes)} (their outputs would overwrite each other)."
        )
    return jobs


def _read_mixture(path, separator):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioConversionWarning)
        y = read_audio(path, sr=separator.sr)
    for w in caught:
        print(f"skblsh: note: {w.message}", file=sys.stderr)
    if len(y) < separator.n_fft:
        raise ValueError(
            f"Expected at least {separator.n_fft} samples (one STFT "
            f"window, {1000 * separator.n_fft / separator.sr:.0f} ms at "
            f"{separator.sr} Hz), got {len(y)}."
        )
    return y


def _predict_one(separator, y):
    """Denoise one waveform: the only step that runs in the workers."""
    (estimate,) = separator.predict([y])
    return estimate


class _Now:
    """A future computed when its result is asked for (the sequential run)."""

    def __init__(self, fn, *args):
        self._call = (fn, args)

    def result(self):
        fn, args = self._call
        self._call = None  # drop the waveform before the next one is read
        return fn(*args)


class _Progress:
    """One line per finished file; a tqdm bar on a terminal if tqdm is there."""

    def __init__(self, total, quiet):
        self.total, self.done, self.quiet, self._bar = total, 0, quiet, None
        if not quiet and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=total, unit="file", file=sys.stderr)

    def _print(self, text, file):
        if self._bar is None:
            print(text, file=file, flush=True)
        else:
            self._bar.write(text, file=file)

    def finished(self, source, target=None, error=None):
        self.done += 1
        if error is not None:
            self._print(f"skblsh: error: {source}: {error}", sys.stderr)
        elif not self.quiet:
            self._print(
                f"[skblsh] {self.done}/{self.total} {source} -> {target}", sys.stdout
            )
        if self._bar is not None:
            self._bar.update()

    def close(self):
        if self._bar is not None:
            self._bar.close()


def _check_n_jobs(args):
    if args.n_jobs is None:
        return 1
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise ValueError(
            f"Expected --n-jobs to be a positive number of workers or -1 (one "
            f"per core), got {args.n_jobs}."
        )
    if args.scheduler is not None:
        raise ValueError(
            f"Expected either --n-jobs or --scheduler, got both (--n-jobs "
            f"{args.n_jobs} --scheduler {args.scheduler}): the cluster's "
            "workers set the parallelism."
        )
    return effective_n_jobs(args.n_jobs)


@contextlib.contextmanager
def _submitter(args, n_jobs, separator):
    """``(submit, window)``: how to run ``_predict_one``, and how many at once.

    Reading and writing stay in this process, so outputs land where the
    command runs (a cluster's workers need no shared file system) and every
    write goes through write_audio's temp file + rename.
    """
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError(
                "Expected the 'distributed' package for --scheduler, got none "
                "installed: pip install 'skblsh[dask]'."
            ) from None
        with Client(args.scheduler, timeout="30s") as client:
            # One copy per worker. Each task carries its own waveform, so
            # a task lost with a worker is rerun elsewhere from its inputs.
            model = client.scatter(separator, broadcast=True, hash=False)
            n_threads = sum(client.nthreads().values())

            def submit(y):
                return client.submit(_predict_one, model, y, pure=False)

            yield submit, 2 * max(n_threads, 1)
        return
    if n_jobs == 1:
        yield (lambda y: _Now(_predict_one, separator, y)), 1
        return
    # Threads share one model. BLAS is held to one thread per file: files
    # are the parallelism, and a fixed BLAS set-up keeps every output the
    # bits of the sequential run.
    with (
        ThreadPoolExecutor(n_jobs) as pool,
        threadpool_limits(1, user_api="blas"),
    ):
        yield (lambda y: pool.submit(_predict_one, separator, y)), 2 * n_jobs


def _cmd_denoise(args):
    separator, _ = _load_separator(args.model)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ValueError(
            f"Expected -o/--output to be a folder for the denoised files, got "
            f"'{out}', which is a file."
        )
    jobs = _denoise_jobs(args.inputs, out)
    n_jobs = _check_n_jobs(args)
    progress = _Progress(len(jobs), args.quiet)
    failed = 0

    def finish(source, target, future):
        nonlocal failed
        try:
            estimate = future.result()
            target.parent.mkdir(parents=True, exist_ok=True)
            written = write_audio(target, estimate, sr=separator.sr)
        except Exception as exc:
            # A file's failure, local or on a worker (even one that died),
            # is reported and the other files go on.
            failed += 1
            text = str(exc) if isinstance(exc, _USER_ERRORS) else repr(exc)
            progress.finished(source, error=text)
        else:
            progress.finished(source, written)

    try:
        with _submitter(args, n_jobs, separator) as (submit, window):
            out.mkdir(parents=True, exist_ok=True)
            pending = collections.deque()
            for source, target in jobs:
                try:
                    y = _read_mixture(source, separator)
                except _USER_ERRORS as exc:
                    failed += 1
                    progress.finished(source, error=exc)
                    continue
                pending.append((source, target, submit(y)))
                del y  # an hour of audio is 230 MB: only the tasks hold it
                while len(pending) >= window:
                    finish(*pending.popleft())
            while pending:
                finish(*pending.popleft())
    finally:
        progress.close()
    if failed:
        print(
            f"skblsh: error: {failed} of {len(jobs)} files failed",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_evaluate(args):
    separator, metadata = _load_separator(args.model)
    # Models saved before the diversity options existed store only protocol,
    # max_utterances and random_state; the others then take the library's
    # defaults, which is what those models were trained with.
    kwargs = dict(metadata.get("task") or {})
    for key in ("protocol", "max_utterances", "random_state"):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    kwargs.setdefault("random_state", 0)
    # A string (one corpus, also every older model) or a list of folders.
    corpus = args.corpus if args.corpus is not None else metadata.get("corpus")
    data = _load_task(corpus, kwargs, args.quiet)
    test = {"mixtures": data.mixtures_test, "sources": data.sources_test}
    t0 = time.perf_counter()
    estimates = separator.predict(test["mixtures"])
    pred_s = time.perf_counter() - t0
    sr = data.sr
    rows = [
        (
            "model",
            separation_report(test["sources"], estimates, test["mixtures"], sr=sr),
            None,
            pred_s,
        ),
        (
            "Unprocessed mixture",
            separation_report(
                test["sources"], test["mixtures"], test["mixtures"], sr=sr
            ),
            None,
            None,
        ),
    ]
    print(_table(rows), flush=True)
    return 0


def _add_model_options(p):
    p.add_argument("--n-bits", type=int, default=64, help="code length L (default 64)")
    p.add_argument(
        "--n-neighbors", type=int, default=10, help="neighbours K (default 10)"
    )
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skblsh",
        description="Learned binary hashing and kNN speech denoising.",
    )
    parser.add_argument("--version", action="version", version=f"skblsh {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="less output")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "demo", help="denoise the embedded demo set; print a Table-1-style report"
    )
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--quick", action="store_true", help="faster, smaller BoostedLSH training"
    )
    _add_model_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fit", help="fit a separator and save it")
    p.add_argument(
        "--corpus",
        action="append",
        default=None,
        metavar="FOLDER",
        help="corpus folder with manifest.csv; repeat to pool several corpora "
        "(default: the embedded demo data)",
    )
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.add_argument("--hasher", choices=["boosted", "random", "none"], default="boosted")
    p.add_argument("--kind", choices=["stft", "mel", "log-mel", "mfcc"], default="stft")
    p.add_argument("--dictionary-fraction", type=float, default=1.0)
    p.add_argument("--protocol", choices=["closed", "open"], default="closed")
    p.add_argument(
        "--max-utterances",
        type=int,
        default=None,
        help="utterances per speaker (default: all)",
    )
    p.add_argument(
        "--snr-db",
        nargs="+",
        type=float,
        default=0.0,
        metavar="DB",
        help="SNR of the train and test mixtures, or a LOW HIGH range drawn per "
        "mixture (default 0)",
    )
    p.add_argument(
        "--gain-db",
        nargs="+",
        type=float,
        default=None,
        metavar="DB",
        help="training mixtures: overall level change in dB, or a LOW HIGH range",
    )
    p.add_argument(
        "--noises-per-mixture",
        type=int,
        default=1,
        metavar="N",
        help="training mixtures: noise types summed per mixture (default 1)",
    )
    p.add_argument(
        "--speed",
        nargs="+",
        type=float,
        default=None,
        metavar="FACTOR",
        help="training speech: speed factor (pitch kept), or a LOW HIGH range",
    )
    p.add_argument(
        "--pitch-semitones",
        nargs="+",
        type=float,
        default=None,
        metavar="ST",
        help="training speech: pitch shift in semitones, or a LOW HIGH range",
    )
    _add_model_options(p)
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("denoise", help="denoise audio files with a saved model")
    p.add_argument("--model", required=True, help="model file from 'skblsh fit'")
    p.add_argument(
        "inputs",
        nargs="+",
        help="audio files or folders (searched recursively; any rate; stereo is "
        "down-mixed)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output folder (a folder input's sub-folders are kept under it)",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="files denoised at once, in threads (-1: one per core; default 1)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="denoise on a dask cluster, e.g. tcp://host:8786 (needs the 'dask' "
        "extra); files are read and written here",
    )
    p.set_defaults(func=_cmd_denoise)

    p = sub.add_parser("evaluate", help="score a saved model on a corpus test split")
    p.add_argument("--model", required=True, help="model file from 'skblsh fit'")
    p.add_argument(
        "--corpus",
        default=None,
        help="corpus folder (default: the one the model was fitted on)",
    )
    p.add_argument("--protocol", choices=["closed", "open"], default=None)
    p.add_argument("--max-utterances", type=int, default=None)
    p.add_argument("--random-state", type=int, default=None)
    p.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv=None):
    """Run the ``skblsh`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when something failed, 2 for usage errors.

    Examples
    --------
    >>> from skblsh.cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _USER_ERRORS as exc:
        print(f"skblsh: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skblsh: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
