"""Denoising throughput of MaskingSeparator.predict, with the per-stage split.

Fits ``MaskingSeparator(make_separator_pipeline(64, 10, hasher="random"))`` on
corpus mixtures (closed protocol, 0 dB), keeping ``--dictionary-frames``
frames as the dictionary, then denoises held-out mixtures and reports

* end-to-end ``predict`` speed in seconds of audio per second (x real time),
  the best of ``--repeat`` runs, against the same work done with one
  frame-level call per mixture (``predict`` pools the frames of consecutive
  mixtures into blocks of ``block_frames``);
* the same work split by stage (STFT, features, hashing, kNN search, mask
  averaging, masking + iSTFT), timed stage by stage in one pass;
* the plain kNN baseline measured in the same run: the same separator with
  ``hasher=None`` (cosine kNN on the 513-dim frames, scikit-learn brute
  force), on a few seconds of the test audio because it is slow;
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

from skblsh.datasets import make_separation_task
from skblsh.separation import MaskingSeparator, istft, make_separator_pipeline, stft


def best_time(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def stage_split(sep, mixtures):
    """Seconds per stage over all mixtures, mirroring MaskingSeparator.predict.

    Like ``predict``, whose blocks pool the frames of consecutive mixtures,
    the frame-level stages run on blocks of ``block_frames`` frames taken
    from all mixtures together.
    """
    pipe = sep.estimator_
    feats, hasher, knn = (pipe.named_steps[s] for s in ("features", "hash", "knn"))
    t = dict.fromkeys(
        ["STFT", "features", "hashing", "search", "mask averaging", "mask + iSTFT"],
        0.0,
    )
    t0 = time.perf_counter()
    Z = [stft(m, n_fft=sep.n_fft, hop_length=sep.hop_length) for m in mixtures]
    mags = np.concatenate([np.abs(z) for z in Z]).astype(np.float32)
    t["STFT"] = time.perf_counter() - t0
    masks = []
    for f0 in range(0, len(mags), sep.block_frames):
        block = mags[f0 : f0 + sep.block_frames]
        t0 = time.perf_counter()
        F = feats.transform(block)
        t1 = time.perf_counter()
        codes = hasher.transform(F)
        t2 = time.perf_counter()
        dist, ind = knn.kneighbors(codes)
        t3 = time.perf_counter()
        masks.append(knn._average(None, ind))  # uniform weights
        t4 = time.perf_counter()
        for name, dt in zip(
            ["features", "hashing", "search", "mask averaging"],
            [t1 - t0, t2 - t1, t3 - t2, t4 - t3],
            strict=True,
        ):
            t[name] += dt
    t0 = time.perf_counter()
    masks = np.concatenate(masks)
    bounds = np.cumsum([0] + [len(z) for z in Z])
    for z, m, a, b in zip(Z, mixtures, bounds[:-1], bounds[1:], strict=True):
        istft(
            z * np.clip(masks[a:b], 0.0, 1.0),
            length=len(m),
            n_fft=sep.n_fft,
            hop_length=sep.hop_length,
        ).astype(m.dtype, copy=False)
    t["mask + iSTFT"] = time.perf_counter() - t0
    return t


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
    train_frames = sum(1 + len(m) // 256 for m in task.mixtures_train)
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
        pipe = make_separator_pipeline(64, 10, hasher="random", random_state=0)
        pipe.set_params(knn__n_jobs=args.n_jobs)
        sep = MaskingSeparator(pipe, dictionary_fraction=fraction, random_state=0)
        t0 = time.perf_counter()
        sep.fit(task.mixtures_train, task.sources_train)
        print(
            f"fitted on a {sep.n_frames_}-frame dictionary (L=64, K=10, RandomLSH) "
            f"in {time.perf_counter() - t0:.0f} s"
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

        base = MaskingSeparator(
            make_separator_pipeline(hasher=None, n_neighbors=10),
            dictionary_fraction=fraction,
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
    knn = sep.estimator_.named_steps["knn"]
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
