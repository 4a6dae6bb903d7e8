"""BoostedLSH training time and SSM quality against its gradient version.

Fits ``BoostedLSH(n_bits)`` with the defaults (spectral initialisation, no
gradient steps) and with the straightforward gradient version
(``init="random"``, ``n_steps`` Adam steps per bit) on the same L2-normalised
STFT frames of the development corpus, and prints fit times, their ratio and
the SSM approximation error (mean |T - fraction of agreeing bits| over pairs
of held-out frames, T the clipped cosine SSM), with RandomLSH as the floor.

    python benchmarks/bench_training.py            # 100,000 frames, L=64
    python benchmarks/bench_training.py --quick    # 10,000 frames, L=32
"""

import argparse
import time
from pathlib import Path

import numpy as np
from _machine import describe

from skblsh import BoostedLSH, RandomLSH, SpectralFeatures, unpack_bits
from skblsh.datasets import make_separation_task
from skblsh.separation import make_frames

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def ssm_error(encoder, H, T, n_bits):
    A = 2.0 * unpack_bits(encoder.transform(H), n_bits) - 1.0
    upper = np.triu_indices(len(H), 1)
    return float(np.abs((A @ A.T / n_bits + 1) / 2 - T)[upper].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gradient-steps", type=int, default=20)
    args = parser.parse_args()
    n_frames, n_bits, n_utt = (10_000, 32, 30) if args.quick else (100_000, 64, 120)

    print(describe())
    task = make_separation_task(args.corpus, max_utterances=n_utt, random_state=0)
    X, _, _ = make_frames(task.mixtures_train, task.sources_train)
    rng = np.random.RandomState(0)
    order = rng.permutation(len(X))
    if len(X) < n_frames + 1000:
        raise SystemExit(f"only {len(X)} frames; need {n_frames + 1000}")
    features = SpectralFeatures().fit(X[:10])
    F = features.transform(X[order[:n_frames]])
    H = features.transform(X[order[-1000:]])
    H = H[np.linalg.norm(H, axis=1) > 0]
    T = np.clip(H @ H.T, 0.0, 1.0)
    print(f"{len(F)} training frames x {F.shape[1]} features, {len(H)} held-out frames")

    rows = []
    for name, est in [
        ("RandomLSH", RandomLSH(n_bits, random_state=0)),
        ("BoostedLSH (default)", BoostedLSH(n_bits, random_state=0)),
        (
            f"BoostedLSH (random init, {args.gradient_steps} Adam steps/bit)",
            BoostedLSH(
                n_bits, init="random", n_steps=args.gradient_steps, random_state=0
            ),
        ),
    ]:
        t0 = time.perf_counter()
        est.fit(F)
        rows.append((name, time.perf_counter() - t0, ssm_error(est, H, T, n_bits)))
    ref = rows[2][1]
    print(f"{'method':<48} {'fit (s)':>8} {'vs gradient':>12} {'SSM error':>10}")
    for name, fit_s, err in rows:
        print(f"{name:<48} {fit_s:8.1f} {fit_s / ref:11.2f}x {err:10.4f}")


if __name__ == "__main__":
    main()
