"""``skblsh denoise``: files and folders, sequentially, on threads or on a Dask
cluster, with identical outputs."""

import collections
import contextlib
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

from ..datasets import (
    AudioConversionWarning,
    read_audio,
    write_audio,
)
from ._common import _USER_ERRORS, _load_separator

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
    folders never collide. Files inside ``out`` itself are never inputs. A
    folder without audio files stays one input, which then fails on its own
    like any unreadable file while the others are denoised.
    """
    skip = out.resolve()
    jobs = []
    for item in map(Path, inputs):
        files = _audio_files(item, skip) if item.is_dir() else []
        if not files:
            jobs.append((item, out / f"{item.stem}.wav"))
            continue
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
    separator, _ = _load_separator(args.model, args.mask_bias)
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
