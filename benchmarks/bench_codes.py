"""Paired benchmark of learned against random binary codes for kNN denoising.

Runs the closed protocol (seen speakers and noise types) and the open,
leave-groups-out protocol (unseen speakers *and* unseen noise types) of
:func:`skblsh.datasets.make_separation_task` on ``../shared/corpus`` and
``../shared/corpus-extra`` pooled (35 speakers, 19 noise types; test
mixtures come from the pool too) and prints, for every code length L, the
SDR (dB) and STOI of each method and its paired gain over RandomLSH on the
same test mixtures: mean of the per-utterance differences +/- standard error
and share of utterances improved, pooled over the seeds, and the range of
the per-seed mean gains.

Features (``--features``):

- ``default``: the kNN stage of the library's default separator
  (:class:`MaskingSeparator` with ``refine=False``, as it was chosen before
  the refinement stage): magnitude STFT frames divided by their recording's
  level (``level="recording"``), not L2-normalised, K=30 neighbours,
  predicted masks averaged over 3 frames (``mask_smoothing=1``), IBM
  targets;
- ``paper``: the paper's pipeline: per-frame L2-normalised magnitude frames,
  K=10, no smoothing.

Methods (10% dictionary; ``--methods``, RandomLSH and BoostedLSH always):

- ``random``: RandomLSH (the reference); ``blsh``: BoostedLSH, defaults;
- ``pca``: PCA hashing, sign of the top-L centred principal components
  (median thresholds);
- ``knn-stft``: exact kNN on the float frames (no codes): cosine with
  ``paper`` features, Euclidean with ``default`` ones, as
  :func:`~skblsh.separation.make_separator_pipeline` builds it;
- ``blsh-spectral``: ``BoostedLSH(shrinkage=0)`` (off by default);
- ``blsh-paper``: the paper's algorithm, ``BoostedLSH(init="random",
  n_steps=...)`` with a reduced budget (``--paper-*``; off by default, slow);
- ``budgets``: BoostedLSH with a 1% dictionary against RandomLSH with 10%,
  full-size hashed dictionaries against the 10% float one, with exact kNN on
  1% and 100% of the frames (off by default);

and always the ideal binary mask (``oracle``) and the unprocessed input
(``mixture``).

Each hasher is fitted once at the largest L: bits are learned (or drawn) one
after the other from the same random stream, so the first L bits of a 150-bit
fit are exactly the L-bit model (checked for the current defaults of
RandomLSH and BoostedLSH: same projections, intercepts and codes).

Size: 30 utterances per speaker at most, each training utterance mixed with
2 noise types; 30 test mixtures per seed and protocol drawn from the test
split (``--n-eval``); seeds 0-4. The default run took 26 minutes on 2 cores
shared with other jobs (BoostedLSH fit at L=150: about 70 s per split). STOI
is NaN, and left out of the STOI gains, for a test utterance too short for
it (under 30 non-silent frames).

Settings of BoostedLSH were chosen with ``--split validation``, which never
touches the test mixtures: training and evaluation both come from the
training part of each protocol (closed: 20% of the training utterances held
out; open: an inner leave-groups-out split of the training speakers and
noise types).

Usage::

    python benchmarks/bench_codes.py                    # 5 seeds, both protocols
    python benchmarks/bench_codes.py --quick            # 1 seed, fewer utterances
    python benchmarks/bench_codes.py --features paper   # the paper's frames
    python benchmarks/bench_codes.py --methods pca knn-stft budgets
"""

import argparse
import pickle
import time
from pathlib import Path

import numpy as np
from sklearn.neighbors import KNeighborsRegressor

from skblsh import (
    BoostedLSH,
    HammingKNeighborsRegressor,
    RandomLSH,
    SpectralFeatures,
)
from skblsh.datasets import make_separation_task
from skblsh.metrics import BSSEvalReference, stoi
from skblsh.separation import apply_masks, ideal_binary_mask, make_frames
from skblsh.separation._postprocess import postprocess_masks

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPORA = [SHARED / "corpus", SHARED / "corpus-extra"]
SR = 16000
FEATURES = {
    # level, per-frame L2 normalisation, K, mask smoothing radius
    "default": dict(level="recording", normalize=False, k=30, smoothing=1),
    "paper": dict(level=None, normalize=True, k=10, smoothing=0),
}
OPTIONAL = ("pca", "knn-stft", "blsh-spectral", "blsh-paper", "budgets")
METRICS = ("SDR", "STOI")


class PCAHash:
    """Sign of the top principal components, thresholded at their medians."""

    def __init__(self, n_bits):
        self.n_bits = n_bits

    def fit(self, X):
        Xc = X - X.mean(axis=0)
        # Eigenvectors of the covariance, largest first (the signs, which an
        # SVD would fix differently, only flip whole bits).
        Vt = np.linalg.eigh(Xc.T @ Xc)[1][:, ::-1][:, : self.n_bits].T
        self.projections_ = Vt
        self.intercepts_ = -np.median(X @ Vt.T, axis=0)
        return self


def _codes(hasher, n_bits, F):
    P, b = hasher.projections_[:n_bits], hasher.intercepts_[:n_bits]
    return np.packbits(F @ P.T + b > 0, axis=1, bitorder="little")


def _knn_codes(hasher, n_bits, k, Fd, Yd, Fq):
    reg = HammingKNeighborsRegressor(k).fit(_codes(hasher, n_bits, Fd), Yd)
    Cq = _codes(hasher, n_bits, Fq)
    start = time.perf_counter()
    M = reg.predict(Cq)
    return M, time.perf_counter() - start


def _knn_float(k, Fd, Yd, Fq):
    # Unit rows (paper features): Euclidean order is cosine order.
    reg = KNeighborsRegressor(k, algorithm="brute").fit(Fd, Yd)
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


def load_split(corpora, protocol, seed, split, max_utterances):
    """Training and evaluation (mixtures, sources) for one protocol and seed."""
    task = make_separation_task(
        corpora, protocol=protocol, max_utterances=max_utterances, random_state=seed
    )
    if split == "test":
        train = task.mixtures_train, task.sources_train
        evaluate = task.mixtures_test, task.sources_test
    elif protocol == "open":
        inner = make_separation_task(
            corpora,
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


def _stoi(reference, estimate):
    try:
        return stoi(reference, estimate, sr=SR)
    except ValueError:  # too few non-silent frames: STOI is undefined
        return np.nan


class Scorer:
    """SDR and STOI of masks predicted for the evaluation mixtures.

    Masks come stacked frame-wise; each utterance's are post-processed as
    :class:`~skblsh.separation.MaskingSeparator` does (clipped, smoothed).
    """

    def __init__(self, mixtures, sources, *, level, smoothing):
        self.mixtures, self.sources = mixtures, sources
        self.smoothing = smoothing
        self.Q, _, groups = make_frames(mixtures, sources, level=level)
        self.bounds = np.cumsum([0, *np.bincount(groups)])
        self.refs = [
            BSSEvalReference(s, m) for s, m in zip(sources, mixtures, strict=True)
        ]

    def _scores(self, estimates):
        sdr = [ref.score(e)[0] for ref, e in zip(self.refs, estimates, strict=True)]
        quality = [_stoi(s, e) for s, e in zip(self.sources, estimates, strict=True)]
        return {"SDR": np.array(sdr), "STOI": np.array(quality)}

    def __call__(self, M):
        masks = []
        for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            n = b - a
            masks.append(
                postprocess_masks(M[a:b], 0, 0, n, n, smoothing=self.smoothing)
            )
        return self._scores(apply_masks(self.mixtures, masks))

    def oracle(self):
        return self._scores(
            apply_masks(
                self.mixtures,
                [
                    ideal_binary_mask(m, s)
                    for m, s in zip(self.mixtures, self.sources, strict=True)
                ],
            )
        )

    def mixture(self):
        return self._scores(self.mixtures)


def run_seed(args, protocol, seed, rows, timing):
    config = FEATURES[args.features]
    k = config["k"]
    (tr_m, tr_s), (ev_m, ev_s) = load_split(
        args.corpus, protocol, seed, args.split, args.max_utterances
    )
    rng = np.random.RandomState(seed)
    if len(ev_m) > args.n_eval:
        pick = np.sort(rng.choice(len(ev_m), args.n_eval, replace=False))
        ev_m, ev_s = [ev_m[i] for i in pick], [ev_s[i] for i in pick]
    X, Y, _ = make_frames(tr_m, tr_s, level=config["level"])
    score = Scorer(ev_m, ev_s, level=config["level"], smoothing=config["smoothing"])
    n = len(X)
    order = rng.permutation(n)
    dicts = {f: np.sort(order[: max(k, round(f * n))]) for f in (1.0, 0.1, 0.01)}
    features = SpectralFeatures(normalize=config["normalize"]).fit(X[:1])
    F, Fq = features.transform(X), features.transform(score.Q)
    L_max = max(args.n_bits)
    methods = set(args.methods)

    def add(name, L, scores):
        for metric, values in scores.items():
            rows.setdefault((protocol, metric, name, L), []).append(values)

    add("oracle", 0, score.oracle())
    add("mixture", 0, score.mixture())
    float_fracs = ()
    if "knn-stft" in methods:
        float_fracs = (0.1,)
    if "budgets" in methods:
        float_fracs = (0.01, 0.1, 1.0)
    for frac in float_fracs:
        d = dicts[frac]
        M, t = _knn_float(k, F[d], Y[d], Fq)
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
            n_segments=args.paper_segments,
            segment_size=args.paper_segment_size,
            random_state=seed,
        ),
    }
    plan = {"random": [0.1], "blsh": [0.1]}
    for name in ("pca", "blsh-spectral", "blsh-paper"):
        if name in methods:
            plan[name] = [0.1]
    if "budgets" in methods:
        plan["random"].append(1.0)
        plan["blsh"].append(0.01)
        if protocol == "open":
            # Equal-memory comparison, asked for on unseen speakers and noises.
            plan["blsh"].append(1.0)
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
                M, t = _knn_codes(hasher, L, k, F[d], Y[d], Fq)
                add(label, L, score(M))
                timing[(protocol, label, L)] = t
    last = {key[2:]: v[-1] for key, v in rows.items() if key[:2] == (protocol, "SDR")}
    gains = " ".join(
        f"L={L}:{np.mean(last['blsh', L] - last['random', L]):+.2f}"
        for L in args.n_bits
    )
    print(
        f"  [{protocol} seed {seed}] {len(tr_m)} training mixtures, {n} frames "
        f"({len(dicts[0.1])} in the 10% dictionary); {len(ev_m)} evaluation "
        f"mixtures; blsh - random SDR: {gains}",
        flush=True,
    )


def _paired(a, b):
    """Per-utterance differences a - b where both are defined."""
    d = a - b
    return d[np.isfinite(d)]


def _fmt_gain(d, digits):
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
    return f"{d.mean():+.{digits}f}±{se:.{digits}f} ({np.mean(d > 0):.0%})"


def headline(args, rows, protocol, metric):
    """BoostedLSH against RandomLSH at every L, with the per-seed spread."""
    digits = 2 if metric == "SDR" else 3
    per_seed = lambda name, L: rows[(protocol, metric, name, L)]  # noqa: E731
    print(
        f"\n{metric}: blsh - random, paired per utterance (mean ± s.e., share "
        f"improved) and range of the per-seed mean gains"
    )
    print(f"{'L':>5}{'random':>9}{'blsh':>9}{'gain ± s.e.':>16}{'improved':>10}  seeds")
    for L in args.n_bits:
        r, b = per_seed("random", L), per_seed("blsh", L)
        d = _paired(np.concatenate(b), np.concatenate(r))
        seeds = [np.mean(_paired(bs, rs)) for bs, rs in zip(b, r, strict=True)]
        se = d.std(ddof=1) / np.sqrt(len(d))
        gain = f"{d.mean():+.{digits}f} ± {se:.{digits}f}"
        spread = f"{min(seeds):+.{digits}f}..{max(seeds):+.{digits}f}"
        mean_r = np.nanmean(np.concatenate(r))
        mean_b = np.nanmean(np.concatenate(b))
        print(
            f"{L:>5}{mean_r:>9.{digits}f}{mean_b:>9.{digits}f}{gain:>16}"
            f"{np.mean(d > 0):>10.0%}  {spread}"
        )


def report(args, rows, timing, protocol):
    Ls = args.n_bits
    k = FEATURES[args.features]["k"]

    def get(metric, name, L):
        return np.concatenate(rows[(protocol, metric, name, L)])

    def has(name, L):
        return (protocol, "SDR", name, L) in rows

    def gains(metric, name, ref, digits, width):
        cells = []
        for L in Ls:
            a = get(metric, name, L if has(name, L) else 0)
            b = get(metric, ref, L if has(ref, L) else 0)
            cells.append(f"{_fmt_gain(_paired(a, b), digits):>{width}}")
        return "".join(cells)

    n_utt = len(get("SDR", "oracle", 0))
    n_stoi = int(np.isfinite(get("STOI", "mixture", 0)).sum())
    print(
        f"\n== {protocol} protocol, split={args.split}, features={args.features}: "
        f"{n_utt} utterances ({n_stoi} with STOI) pooled over seeds {args.seeds}; "
        f"10% dictionary unless stated, K={k} =="
    )
    for metric in METRICS:
        headline(args, rows, protocol, metric)
    width = 22
    for metric in METRICS:
        digits = 2 if metric == "SDR" else 3
        print(
            f"\n{metric} (mean over utterances); gain = paired difference vs "
            "random at the same L, mean ± s.e. (share of utterances improved)"
        )
        print(f"{'method':<28}" + "".join(f"{'L=' + str(L):>{width}}" for L in Ls))
        for name in ("random", "pca", "blsh-paper", "blsh-spectral", "blsh"):
            if not has(name, Ls[0]):
                continue
            print(
                f"{name:<28}"
                + "".join(
                    f"{np.nanmean(get(metric, name, L)):>{width}.{digits}f}" for L in Ls
                )
            )
            if name != "random":
                print(
                    f"{'  gain vs random':<28}"
                    + gains(metric, name, "random", digits, width)
                )
        if has("pca", Ls[0]):
            print(
                f"{'blsh gain vs pca':<28}"
                + gains(metric, "blsh", "pca", digits, width)
            )
        if has("blsh@1%", Ls[0]):
            print("Budgets (same utterances):")
            print(
                f"{'blsh@1%':<28}"
                + "".join(
                    f"{np.nanmean(get(metric, 'blsh@1%', L)):>{width}.{digits}f}"
                    for L in Ls
                )
            )
            # Exact kNN bounds what codes approximating it can reach with
            # the same dictionary.
            for name, ref in (
                ("blsh@1%", "random"),
                ("knn-stft@1%", "random"),
                ("random@100%", "knn-stft@10%"),
                ("blsh@100%", "knn-stft@10%"),
                ("blsh", "knn-stft@10%"),
            ):
                if not (has(name, Ls[0]) or has(name, 0)):
                    continue
                print(
                    f"{name + ' vs ' + ref:<28}"
                    + gains(metric, name, ref, digits, width)
                )
        for name in ("knn-stft@1%", "knn-stft@10%", "knn-stft@100%"):
            if has(name, 0):
                print(
                    f"{name:<28}{np.nanmean(get(metric, name, 0)):>{width}.{digits}f}"
                )
        for name in ("oracle", "mixture"):
            print(f"{name:<28}{np.nanmean(get(metric, name, 0)):>{width}.{digits}f}")
    print("\nSearch time for the evaluation frames (s, last seed):")
    if (protocol, "knn-stft@10%", 0) in timing:
        print(f"  knn-stft@10%: {timing[(protocol, 'knn-stft@10%', 0)]:.2f} s")
    for L in Ls:
        times = ", ".join(
            f"{name} {timing[(protocol, name, L)]:.2f} s"
            for name in ("random", "blsh", "random@100%", "blsh@100%")
            if (protocol, name, L) in timing
        )
        print(f"  codes L={L} ({np.ceil(L / 8):.0f} B/frame): {times}")
    fits = {
        key[1]: v
        for key, v in timing.items()
        if key[0] == protocol and key[1].startswith("fit")
    }
    print(
        f"  fit times at L={max(Ls)} (s, last seed): "
        + ", ".join(f"{name[4:]} {v:.1f}" for name, v in fits.items())
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=[str(c) for c in CORPORA],
        help="corpus folders, pooled (default: corpus and corpus-extra)",
    )
    parser.add_argument("--features", choices=tuple(FEATURES), default="default")
    parser.add_argument(
        "--methods",
        nargs="*",
        choices=OPTIONAL,
        default=["pca", "knn-stft"],
        help="methods besides random, blsh, oracle and mixture (default: %(default)s)",
    )
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--protocols", nargs="+", default=["closed", "open"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
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
        help="Adam steps per bit of blsh-paper (paper: 100)",
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
            args.features = saved["features"]
        for protocol in args.protocols:
            report(args, rows, timing, protocol)
        return
    for protocol in args.protocols:
        for seed in args.seeds:
            run_seed(args, protocol, seed, rows, timing)
            if args.save:
                with open(args.save, "wb") as f:
                    pickle.dump(
                        dict(
                            rows=rows,
                            timing=timing,
                            seeds=args.seeds,
                            features=args.features,
                        ),
                        f,
                    )
        report(args, rows, timing, protocol)
    print(f"\nTotal time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
