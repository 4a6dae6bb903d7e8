"""Paired benchmark of binary codes for kNN speech denoising (issue 5).

Runs the closed protocol (seen speakers and noise types) and the open,
leave-groups-out protocol (unseen speakers *and* unseen noise types) of
:func:`skblsh.datasets.make_separation_task` on ``../shared/corpus`` and prints,
for every code length L, the SDR (dB, mean over utterances) of each method and
its paired gain over RandomLSH on the same test mixtures: mean of the
per-utterance differences +/- standard error, and the share of utterances
improved, pooled over the seeds.

Methods (10% dictionary, K=10 neighbours, magnitude STFT frames):

- ``random``: RandomLSH on L2-normalised STFT frames (the reference);
- ``pca``: PCA hashing, sign of the top-L centred principal components
  (median thresholds);
- ``blsh-paper``: the paper's algorithm, ``BoostedLSH(init="random",
  n_steps=..., n_learned_bits=None)``, with fewer Adam steps and smaller
  segments than the paper (``--paper-*`` options) to keep the run short;
- ``blsh-spectral``: ``BoostedLSH(shrinkage=0)``, residual spectral
  directions without shrinkage toward random ones (the previous default);
- ``blsh``: ``BoostedLSH`` with its defaults (the candidate of issue 5);
- ``knn-stft``: exact cosine kNN on the float frames (no codes);
- ``oracle``: the ideal binary mask; ``mixture``: the unprocessed input.

and two budget comparisons: BoostedLSH with a 1% dictionary against RandomLSH
with 10% (beside exact cosine kNN with the same 1% dictionary, which bounds
what codes approximating the cosine similarity can reach), and full-size
hashed dictionaries against the 10% float one at a smaller memory footprint
(bytes per training frame and search time printed).

Each hasher is fitted once at the largest L: bits are learned (or drawn) one
after the other from the same random stream, so the first L bits of a 150-bit
fit are exactly the L-bit model.

Settings were chosen with ``--split validation``, which never touches the test
mixtures: training and evaluation both come from the training part of each
protocol (closed: 20% of the training utterances held out; open: an inner
leave-groups-out split of the training speakers and noise types).

Usage::

    python benchmarks/bench_codes.py            # both protocols, 3 seeds
    python benchmarks/bench_codes.py --quick    # 1 seed, fewer utterances
    python benchmarks/bench_codes.py --split validation
"""

import argparse
import pickle
import time
from pathlib import Path

import numpy as np
from sklearn.neighbors import KNeighborsRegressor

from skblsh import BoostedLSH, HammingKNNMaskRegressor, RandomLSH, SpectralFeatures
from skblsh.datasets import make_separation_task
from skblsh.metrics import BSSEvalReference
from skblsh.separation import apply_masks, ideal_binary_mask, make_frames, stft

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
K = 10


class PCAHash:
    """Sign of the top principal components, thresholded at their medians."""

    def __init__(self, n_bits):
        self.n_bits = n_bits

    def fit(self, X):
        mean = X.mean(axis=0)
        Vt = np.linalg.svd(X - mean, full_matrices=False)[2][: self.n_bits]
        self.projections_ = Vt
        self.intercepts_ = -np.median(X @ Vt.T, axis=0)
        return self


def _truncate(hasher, n_bits):
    return hasher.projections_[:n_bits], hasher.intercepts_[:n_bits]


def _codes(P, b, F):
    return np.packbits(F @ P.T + b > 0, axis=1, bitorder="little")


def _knn_codes(hasher, n_bits, Fd, Yd, Fq):
    P, b = _truncate(hasher, n_bits)
    reg = HammingKNNMaskRegressor(K).fit(_codes(P, b, Fd), Yd)
    Cq = _codes(P, b, Fq)
    start = time.perf_counter()
    M = reg.predict(Cq)
    return M, time.perf_counter() - start


def _knn_float(Fd, Yd, Fq):
    reg = KNeighborsRegressor(K, algorithm="brute").fit(Fd, Yd)
    start = time.perf_counter()
    M = reg.predict(Fq)
    return M, time.perf_counter() - start


def _split_closed_validation(task, rng, frac=0.2):
    utts = np.unique(task.groups_train)
    held = rng.choice(utts, max(1, int(frac * len(utts))), replace=False)
    is_held = np.isin(task.groups_train, held)
    # One mixture per held-out utterance, like the test split.
    _, first = np.unique(task.groups_train, return_index=True)
    evaluate = np.intersect1d(first, np.flatnonzero(is_held))
    return np.flatnonzero(~is_held), evaluate


def load_split(corpus, protocol, seed, split, max_utterances):
    """Training and evaluation (mixtures, sources) for one protocol and seed."""
    task = make_separation_task(
        corpus, protocol=protocol, max_utterances=max_utterances, random_state=seed
    )
    if split == "test":
        train = task.mixtures_train, task.sources_train
        evaluate = task.mixtures_test, task.sources_test
    elif protocol == "open":
        inner = make_separation_task(
            corpus,
            protocol="open",
            speech_groups=task.speech_groups_train,
            noise_groups=task.noise_groups_train,
            max_utterances=max_utterances,
            random_state=seed + 1000,
        )
        train = inner.mixtures_train, inner.sources_train
        evaluate = inner.mixtures_test, inner.sources_test
    else:
        tr, ev = _split_closed_validation(task, np.random.RandomState(seed + 1000))
        train = (
            [task.mixtures_train[i] for i in tr],
            [task.sources_train[i] for i in tr],
        )
        evaluate = (
            [task.mixtures_train[i] for i in ev],
            [task.sources_train[i] for i in ev],
        )
    return train, evaluate


class Scorer:
    """SDR of masks predicted for the evaluation mixtures, frames stacked."""

    def __init__(self, mixtures, sources):
        self.mixtures, self.sources = mixtures, sources
        self.Z = [stft(m) for m in mixtures]
        self.refs = [
            BSSEvalReference(s, m) for s, m in zip(sources, mixtures, strict=True)
        ]
        self.Q = np.concatenate([np.abs(z) for z in self.Z]).astype(np.float32)
        self.bounds = np.cumsum([0] + [len(z) for z in self.Z])

    def __call__(self, M):
        estimates = apply_masks(self.mixtures, M)
        return np.array(
            [ref.score(e)[0] for ref, e in zip(self.refs, estimates, strict=True)]
        )

    def oracle(self):
        return self(
            np.concatenate(
                [
                    ideal_binary_mask(m, s)
                    for m, s in zip(self.mixtures, self.sources, strict=True)
                ]
            )
        )

    def mixture(self):
        return np.array(
            [ref.score(m)[0] for ref, m in zip(self.refs, self.mixtures, strict=True)]
        )


def run_seed(args, protocol, seed, rows, timing):
    (tr_m, tr_s), (ev_m, ev_s) = load_split(
        args.corpus, protocol, seed, args.split, args.max_utterances
    )
    rng = np.random.RandomState(seed)
    if len(ev_m) > args.n_eval:
        pick = np.sort(rng.choice(len(ev_m), args.n_eval, replace=False))
        ev_m, ev_s = [ev_m[i] for i in pick], [ev_s[i] for i in pick]
    X, Y, _ = make_frames(tr_m, tr_s)
    score = Scorer(ev_m, ev_s)
    n = len(X)
    order = rng.permutation(n)
    dicts = {f: np.sort(order[: max(K, round(f * n))]) for f in (1.0, 0.1, 0.01)}
    features = SpectralFeatures().fit(X[:1])
    F, Fq = features.transform(X), features.transform(score.Q)
    L_max = max(args.n_bits)

    def add(name, L, sdr):
        rows.setdefault((protocol, name, L), []).append(sdr)

    add("oracle", 0, score.oracle())
    add("mixture", 0, score.mixture())
    for frac in (0.01, 0.1, 1.0):
        d = dicts[frac]
        M, t = _knn_float(F[d], Y[d], Fq)
        add(f"knn-stft@{frac:.0%}", 0, score(M))
        timing[(protocol, f"knn-stft@{frac:.0%}", 0)] = t

    hashers = {
        "random": lambda: RandomLSH(L_max, random_state=seed),
        "pca": lambda: PCAHash(L_max),
        "blsh": lambda: BoostedLSH(L_max, random_state=seed),
        "blsh-spectral": lambda: BoostedLSH(L_max, shrinkage=0.0, random_state=seed),
        "blsh-paper": lambda: BoostedLSH(
            L_max,
            init="random",
            n_steps=args.paper_iter,
            n_learned_bits=None,
            n_segments=args.paper_segments,
            segment_size=args.paper_segment_size,
            random_state=seed,
        ),
    }
    plan = {
        "random": (0.1, 1.0),
        "pca": (0.1,),
        "blsh-spectral": (0.1,),
        "blsh": (0.1, 0.01),
    }
    if protocol == "open":
        # Equal-memory comparison, asked for on unseen speakers and noises.
        plan["blsh"] += (1.0,)
    if args.paper_iter > 0:
        plan["blsh-paper"] = (0.1,)
    for name, fracs in plan.items():
        for frac in fracs:
            d = dicts[frac]
            start = time.perf_counter()
            hasher = hashers[name]().fit(F[d])
            timing[(protocol, f"fit {name}@{frac:.0%}", L_max)] = (
                time.perf_counter() - start
            )
            label = name if frac == 0.1 else f"{name}@{frac:.0%}"
            for L in args.n_bits:
                M, t = _knn_codes(hasher, L, F[d], Y[d], Fq)
                add(label, L, score(M))
                timing[(protocol, label, L)] = t
    last = {k[1:]: v[-1] for k, v in rows.items() if k[0] == protocol}
    gains = " ".join(
        f"L={L}:{np.mean(last['blsh', L] - last['random', L]):+.2f}"
        for L in args.n_bits
    )
    print(
        f"  [{protocol} seed {seed}] {len(tr_m)} training mixtures, {n} frames; "
        f"{len(ev_m)} evaluation mixtures; blsh - random: {gains}",
        flush=True,
    )


def _fmt_gain(d):
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    return f"{d.mean():+.2f}±{se:.2f} ({np.mean(d > 0):.0%})"


def report(args, rows, timing, protocol):
    Ls = args.n_bits
    get = lambda name, L: np.concatenate(rows[(protocol, name, L)])  # noqa: E731
    n_utt = len(get("oracle", 0))
    print(
        f"\n== {protocol} protocol, split={args.split}: {n_utt} utterances pooled "
        f"over seeds {args.seeds}; 10% dictionary unless stated, K={K} =="
    )
    print(
        "SDR in dB (mean over utterances); gain = paired difference vs random at "
        "the same L, mean ± s.e. (share of utterances improved)"
    )
    width = 22
    head = f"{'method':<22}" + "".join(f"{'L=' + str(L):>{width}}" for L in Ls)
    print(head)
    names = ["random", "pca", "blsh-paper", "blsh-spectral", "blsh"]
    for name in names:
        if (protocol, name, Ls[0]) not in rows:
            continue
        print(
            f"{name + ' SDR':<22}"
            + "".join(f"{get(name, L).mean():>{width}.2f}" for L in Ls)
        )
        if name != "random":
            print(
                f"{'  gain vs random':<22}"
                + "".join(
                    f"{_fmt_gain(get(name, L) - get('random', L)):>{width}}" for L in Ls
                )
            )
    print(
        f"{'blsh gain vs pca':<22}"
        + "".join(f"{_fmt_gain(get('blsh', L) - get('pca', L)):>{width}}" for L in Ls)
    )
    print("\nBudgets (same utterances):")
    print(
        f"{'blsh@1% SDR':<22}"
        + "".join(f"{get('blsh@1%', L).mean():>{width}.2f}" for L in Ls)
    )
    print(
        f"{'  vs random@10%':<22}"
        + "".join(
            f"{_fmt_gain(get('blsh@1%', L) - get('random', L)):>{width}}" for L in Ls
        )
    )
    # Exact cosine kNN bounds what codes approximating it can reach with the
    # same dictionary.
    print(
        f"{'knn@1% vs random@10%':<22}"
        + "".join(
            f"{_fmt_gain(get('knn-stft@1%', 0) - get('random', L)):>{width}}"
            for L in Ls
        )
    )
    knn = get("knn-stft@10%", 0)
    budget = [
        n for n in ("random@100%", "blsh@100%", "blsh") if (protocol, n, Ls[0]) in rows
    ]
    for name in budget:
        print(
            f"{name + ' vs knn@10%':<22}"
            + "".join(f"{_fmt_gain(get(name, L) - knn):>{width}}" for L in Ls)
        )
    for name in ("knn-stft@1%", "knn-stft@10%", "knn-stft@100%", "oracle", "mixture"):
        print(f"{name:<22}{get(name, 0).mean():>{width}.2f}")
    print(
        "\nMemory per training frame (bytes) and search time for the evaluation "
        "frames (s, last seed):"
    )
    print(
        f"  knn-stft@10%: {0.1 * 513 * 4:.0f} B, "
        f"{timing[(protocol, 'knn-stft@10%', 0)]:.2f} s"
    )
    for L in Ls:
        times = ", ".join(f"{n} {timing[(protocol, n, L)]:.2f} s" for n in budget)
        print(f"  codes L={L}: {np.ceil(L / 8):.0f} B; {times}")
    fits = {
        k[1]: v
        for k, v in timing.items()
        if k[0] == protocol and k[1].startswith("fit")
    }
    print(
        f"  fit times at L={max(Ls)} (s, last seed): "
        + ", ".join(f"{k[4:]} {v:.1f}" for k, v in fits.items())
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--protocols", nargs="+", default=["closed", "open"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-bits", type=int, nargs="+", default=[16, 32, 64, 150])
    parser.add_argument(
        "--max-utterances",
        type=int,
        default=30,
        help="utterances per speaker (default: %(default)s)",
    )
    parser.add_argument(
        "--n-eval",
        type=int,
        default=30,
        help="evaluation mixtures per seed (default: %(default)s)",
    )
    parser.add_argument(
        "--paper-iter",
        type=int,
        default=20,
        help="Adam steps per bit of blsh-paper (paper: 100; 0 skips)",
    )
    parser.add_argument(
        "--paper-segments",
        type=int,
        default=2,
        help="segments of blsh-paper (paper: 10)",
    )
    parser.add_argument(
        "--paper-segment-size",
        type=int,
        default=500,
        help="rows per segment of blsh-paper (paper: 1000)",
    )
    parser.add_argument(
        "--save", help="pickle the per-utterance results here (to --merge runs)"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        help="print the tables of saved runs (e.g. one per seed) pooled",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 seed, 15 utterances per speaker, 15 evaluation mixtures",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.max_utterances, args.n_eval = [0], 15, 15
    start = time.perf_counter()
    rows, timing = {}, {}
    if args.merge:
        args.seeds = []
        for path in args.merge:
            with open(path, "rb") as f:
                saved = pickle.load(f)
            for key, value in saved["rows"].items():
                rows.setdefault(key, []).extend(value)
            timing.update(saved["timing"])
            args.seeds += saved["seeds"]
        for protocol in args.protocols:
            report(args, rows, timing, protocol)
        return
    for protocol in args.protocols:
        for seed in args.seeds:
            run_seed(args, protocol, seed, rows, timing)
            if args.save:
                with open(args.save, "wb") as f:
                    pickle.dump(dict(rows=rows, timing=timing, seeds=args.seeds), f)
        report(args, rows, timing, protocol)
    print(f"\nTotal time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
