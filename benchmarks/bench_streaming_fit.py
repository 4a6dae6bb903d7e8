"""Streaming dictionary building: hours of augmented training audio, bounded memory.

Builds a separator's dictionary from an augmented training set generated on
the fly -- every clean utterance of ``../shared/corpus`` and
``../shared/corpus-extra`` mixed again and again with random noises of up to
two types, SNRs in [-5, 10] dB, random gains and speed perturbation -- with
:meth:`skblsh.separation.MaskingSeparator.partial_fit`: batch by batch, each
batch's frames are hashed and only their codes and packed masks are kept.
The first batch fits every step (the hasher learns its bits from it).

Printed: audio hours and dictionary frames, wall time, and peak resident
memory (``ru_maxrss``) against the memory before the first batch (the corpus
itself, loaded once) and against what holding the same audio as float32
mixtures and sources would take (the ``fit`` path). Memory should follow the
dictionary (about 73 bytes a frame at 64 bits), not the audio.

Usage::

    python benchmarks/bench_streaming_fit.py                # ~10 hours
    python benchmarks/bench_streaming_fit.py --hours 0.5    # a quick look
"""

import argparse
import resource
import time
from pathlib import Path

import numpy as np
from _machine import describe

from skblsh.datasets import load_corpus, make_mixtures
from skblsh.separation import MaskingSeparator

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
SR = 16000


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batches(corpus, hours, batch_size, rng):
    """Augmented (mixtures, sources) batches until ``hours`` of audio."""
    speech = [
        w for w, k in zip(corpus.waveforms, corpus.kinds, strict=True) if k == "speech"
    ]
    is_noise = corpus.kinds == "noise"
    noise = [w for w, k in zip(corpus.waveforms, is_noise, strict=True) if k]
    noise_groups = corpus.groups[is_noise]
    total = 0.0
    while total < hours * 3600:
        pick = rng.choice(len(speech), size=batch_size, replace=False)
        data = make_mixtures(
            [speech[i] for i in pick],
            noise,
            noise_groups=noise_groups,
            snr_db=(-5.0, 10.0),
            noises_per_mixture=int(rng.integers(1, 3)),
            gain_db=(-20.0, 0.0),
            speed=(0.9, 1.1),
            random_state=int(rng.integers(2**31)),
        )
        keep = [i for i, m in enumerate(data.mixtures) if len(m) >= 1024]
        total += sum(len(data.mixtures[i]) for i in keep) / SR
        yield [data.mixtures[i] for i in keep], [data.sources[i] for i in keep]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=200, help="utterances")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(describe(2))
    t0 = time.perf_counter()
    corpus = load_corpus([SHARED / "corpus", SHARED / "corpus-extra"], sr=SR)
    corpus_mb = sum(w.nbytes for w in corpus.waveforms) / 2**20
    base_mb = peak_rss_mb()
    print(
        f"corpus: {len(corpus.waveforms)} files, {corpus_mb:.0f} MB as float32, "
        f"loaded in {time.perf_counter() - t0:.0f} s; peak RSS so far {base_mb:.0f} MB"
    )
    rng = np.random.default_rng(args.seed)
    sep = MaskingSeparator(random_state=args.seed)
    audio_s, n_batches, t0 = 0.0, 0, time.perf_counter()
    for mixtures, sources in batches(corpus, args.hours, args.batch_size, rng):
        sep.partial_fit(mixtures, sources)
        audio_s += sum(len(m) for m in mixtures) / SR
        n_batches += 1
        if n_batches % 10 == 1:
            print(
                f"  batch {n_batches}: {audio_s / 3600:.2f} h, {sep.n_frames_} "
                f"frames, {time.perf_counter() - t0:.0f} s, peak RSS "
                f"{peak_rss_mb():.0f} MB",
                flush=True,
            )
    elapsed = time.perf_counter() - t0
    knn = sep.estimator_[-1]
    dict_mb = (knn.codes_.nbytes + knn._targets.nbytes) / 2**20
    held_mb = audio_s * SR * 4 * 2 / 2**20  # float32 mixtures + sources
    peak = peak_rss_mb()
    print(
        f"streamed {audio_s / 3600:.2f} h of augmented audio in {n_batches} batches: "
        f"{sep.n_frames_} dictionary frames in {elapsed:.0f} s "
        f"({audio_s / elapsed:.0f}x real time)"
    )
    print(
        f"dictionary {dict_mb:.0f} MB = "
        f"{dict_mb * 2**20 / sep.n_frames_:.1f} bytes/frame; peak RSS {peak:.0f} MB, "
        f"{peak - base_mb:.0f} MB above the loaded corpus; the same audio held as "
        f"float32 mixtures and sources (the fit() path) would take {held_mb:.0f} MB "
        f"before any STFT"
    )


if __name__ == "__main__":
    main()
