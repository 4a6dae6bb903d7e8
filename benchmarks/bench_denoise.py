"""Denoising throughput of MaskingSeparator.predict, with the per-stage split.

Fits the default ``MaskingSeparator()`` (``--hasher random`` swaps its hasher
for RandomLSH, faster to fit) on corpus mixtures (closed protocol, 0 dB),
keeping ``--dictionary-frames`` frames as the dictionary, then denoises
held-out mixtures and reports

* end-to-end ``predict`` speed in seconds of audio per second (x real time),
  the best of ``--repeat`` runs, against the same work done with one
  frame-level call per mixture (``predict`` pools the frames of consecutive
  mixtures into blocks of ``block_frames``);
* the same work split by stage (STFT, level normalisation and context,
  features, hashing, kNN search, mask averaging, the refiner's noise floor
  and network, post-processing, masking + iSTFT), the functions of one
  real ``predict`` call timed in place;
* the plain kNN baseline measured in the same run: the same separator with
  ``hasher=None`` (cosine kNN on the 513-dim frames, scikit-learn brute
  force) and ``refine=False``, on a few seconds of the test audio because
  it is slow;
* the fitted model's dictionary size in memory and its joblib file size.

The kNN search runs on ``--n-jobs`` threads (the pipeline's
``knn__n_jobs``); BLAS is limited to one thread (``--blas-threads``): the
per-utterance products are tiny, and OpenBLAS threads waking up on a busy
2-core machine made the hashing stage ~40x slower (20 ms instead of 0.5 ms a
call). Numba's compilation (cached
on disk after the first run) happens in a warm-up call, not counted.

Usage::

    python benchmarks/bench_denoise.py [--quick] [--n-jobs 2] [--corpus PATH]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from _machine import describe
from threadpoolctl import threadpool_limits

from skblsh import RandomLSH
from skblsh.datasets import make_separation_task
from skblsh.separation import MaskingSeparator, _separator, make_separator_pipeline
from skblsh.separation._frames import FrameAnalysis
from skblsh.stft import n_frames as count_frames


def best_time(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


class StageTimer:
    """Seconds spent in each stage of the real ``predict`` path.

    The functions behind each stage are wrapped (and restored on exit), so
    the split measures ``MaskingSeparator.predict`` itself rather than a
    re-implementation of it.
    """

    def __init__(self, sep):
        steps = dict(sep.estimator_.steps)
        knn = steps["knn"]
        self.targets = [
            ("STFT", _separator, "stft_frames"),
            ("level + context", FrameAnalysis, "scales"),
            ("level + context", FrameAnalysis, "rows"),
            ("features", steps["features"], "transform"),
            ("hashing", steps.get("hash"), "transform"),
            ("search", knn, "kneighbors"),
            ("mask averaging", knn, "_average"),
            ("noise statistics", _separator, "recording_statistics"),
            ("refinement", _separator.MaskingSeparator, "_refined"),
            ("post-processing", _separator, "postprocess_masks"),
            ("mask + iSTFT", _separator, "overlap_add"),
        ]
        self.seconds = {}

    def __enter__(self):
        self.saved = []
        for name, owner, attr in self.targets:
            if owner is None:
                continue
            original = getattr(owner, attr)
            self.saved.append((owner, attr, original))
            setattr(owner, attr, self._timed(name, original))
            self.seconds.setdefault(name, 0.0)
        return self

    def _timed(self, name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0

        return wrapper

    def __exit__(self, *exc):
        for owner, attr, original in reversed(self.saved):
            setattr(owner, attr, original)


def stage_split(sep, mixtures):
    """Seconds per stage of one ``sep.predict(mixtures)``."""
    with StageTimer(sep) as timer:
        t0 = time.perf_counter()
        sep.predict(mixtures)
        total = time.perf_counter() - t0
    stages = dict(timer.seconds)
    stages["other"] = total - sum(stages.values())
    return stages


def predict_one_by_one(sep, mixtures):
    """One frame-level predict per mixture: what predict did before pooling."""
    return [sep.predict([m])[0] for m in mixtures]


def main():
    default_corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds")
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--dictionary-frames", type=int, default=None)
    parser.add_argument("--test-seconds", type=float, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--hasher", choices=["default", "random"], default="default")
    args = parser.parse_args()
    n_dict = args.dictionary_frames or (20_000 if args.quick else 100_000)
    test_seconds = args.test_seconds or (20.0 if args.quick else 120.0)
    repeat = 2 if args.quick else args.repeat
    print(describe(args.n_jobs) + f", BLAS threads {args.blas_threads}")

    t0 = time.perf_counter()
    task = make_separation_task(
        args.corpus.resolve(),
        max_utterances=20 if args.quick else None,
        random_state=0,
    )
    train_frames = sum(count_frames(len(m)) for m in task.mixtures_train)
    fraction = min(1.0, n_dict / train_frames)
    test, total = [], 0.0
    for m in task.mixtures_test:
        if total >= test_seconds:
            break
        test.append(m)
        total += len(m) / 16000
    print(
        f"corpus task: {len(task.mixtures_train)} training mixtures "
        f"({train_frames} frames), test audio {total:.1f} s in {len(test)} "
        f"mixtures; built in {time.perf_counter() - t0:.0f} s"
    )

    with threadpool_limits(args.blas_threads):
        sep = MaskingSeparator(dictionary_fraction=fraction, random_state=0)
        pipe = sep._make_estimator().set_params(knn__n_jobs=args.n_jobs)
        if args.hasher == "random":
            pipe.set_params(hash=RandomLSH(pipe.named_steps["hash"].n_bits))
        sep.set_params(estimator=pipe)
        t0 = time.perf_counter()
        sep.fit(task.mixtures_train, task.sources_train)
        knn = sep.estimator_.named_steps["knn"]
        print(
            f"fitted on a {sep.n_frames_}-frame dictionary in "
            f"{time.perf_counter() - t0:.0f} s: {sep!r}"
        )
        t0 = time.perf_counter()
        sep.predict(test[:1])
        print(
            f"warm-up predict (numba compile or cache load, not counted): "
            f"{time.perf_counter() - t0:.1f} s"
        )
        t_pred = best_time(lambda: sep.predict(test), repeat)
        t_single = best_time(lambda: predict_one_by_one(sep, test), repeat)
        stages = stage_split(sep, test)

        # The search alone: its refinement stage would cross-fit two more
        # brute-force dictionaries (minutes) and time the network as well.
        base = MaskingSeparator(
            make_separator_pipeline(hasher=None, n_neighbors=10),
            dictionary_fraction=fraction,
            refine=False,
            random_state=0,
        ).fit(task.mixtures_train, task.sources_train)
        base_test = test[:1] if args.quick else test[:3]
        base_audio = sum(len(m) for m in base_test) / 16000
        t_base = best_time(lambda: base.predict(base_test), 1)

    speed = total / t_pred
    print(
        f"end to end: {total:.1f} s of audio in {t_pred:.3f} s = {speed:.0f}x real "
        f"time (target 200x)"
    )
    print(
        f"same work with one frame-level predict per mixture ({len(test)} "
        f"calls, the previous implementation): {total / t_single:.0f}x real "
        f"time; pooling frames is {t_single / t_pred:.2f}x faster"
    )
    split_total = sum(stages.values())
    print(f"per stage (one pass, {split_total:.3f} s):")
    for name, dt in stages.items():
        if dt == 0:
            # e.g. the noise floor of recordings that fit in one block,
            # taken from that block's STFT.
            print(f"  {name:<15}  not called")
            continue
        print(
            f"  {name:<15} {1e3 * dt:8.1f} ms  {100 * dt / split_total:5.1f}%  "
            f"{total / dt:8.0f}x real time"
        )
    base_speed = base_audio / t_base
    print(
        f"plain kNN baseline (cosine, 513-dim float frames, same dictionary), "
        f"{base_audio:.1f} s of audio: {base_speed:.1f}x real time; hashing "
        f"separator {speed / base_speed:.0f}x faster"
    )
    in_memory = knn.codes_.nbytes + knn._targets.nbytes
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "separator.joblib")
        joblib.dump(sep, path)
        on_disk = os.path.getsize(path)
    print(
        f"dictionary in memory: {in_memory / 1e6:.2f} MB = "
        f"{in_memory / sep.n_frames_:.1f} bytes/frame (binary targets packed: "
        f"{knn.binary_targets_}); whole separator on disk (joblib): "
        f"{on_disk / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
