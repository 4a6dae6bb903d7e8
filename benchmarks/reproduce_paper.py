"""Reproduce Table 1 and Fig. 3 of Kim, Yang & Kim (ICASSP 2020) on a corpus.

Protocol (the paper's, on whatever corpus folder is given):

- **closed set**: seen speakers and noise types, held-out utterances and
  noise clips; **open set**: unseen speakers and noise types, either a split by
  group of the same corpus (default) or a second corpus folder given with
  ``--open-corpus`` (its test split is used, training stays on ``--corpus``);
- every training utterance mixed with 2 noise types at 0 dB, every test
  utterance with one (:func:`skblsh.datasets.make_separation_task`);
- the dictionary is a random 10% or 1% of the training frames, redrawn for
  every repeat (``--repeats``), as ``MaskingSeparator(dictionary_fraction=...)``
  does;
- systems: Oracle IBM, kNN on the STFT frames (cosine, K=10), RandomLSH and
  BoostedLSH with L in {16, 32, 64, 150} and Hamming kNN (K=10), and the
  unprocessed mixture as a floor. Every hasher uses the library defaults of
  :func:`skblsh.make_separator_pipeline`.

Scores are BSS Eval SDR/SIR/SAR of the speech, averaged over test utterances
weighted by length (as :func:`skblsh.metrics.separation_report` does), then
mean and standard deviation over the repeats. The table is printed as
markdown and Fig. 3 (SDR against L, shaded mean +/- std) saved as a PNG.

Two shortcuts keep the default run under ~30 minutes on 2 cores, neither of
which changes a number:

- the STFT of the training and test mixtures is computed once per protocol and
  the frame-level pipeline steps are fitted on the subsampled dictionary
  directly (what ``MaskingSeparator.fit`` does after ``make_frames``);
- boosting is greedy, so the first L bits of a 150-bit BoostedLSH are the
  L-bit BoostedLSH fitted with the same seed. The script checks this prefix
  property on a small sample at start-up and, if it holds, fits 150 bits once
  per dictionary and truncates; otherwise it fits every L separately.

Each test utterance's BSS Eval decomposition is prepared once
(:class:`skblsh.metrics.BSSEvalReference`) and reused for every system; the
mixture row is also scored through :func:`separation_report` and the two paths
are checked to agree.

Usage::

    python benchmarks/reproduce_paper.py             # default size (~25 min)
    python benchmarks/reproduce_paper.py --quick     # ~3 min smoke run
    python benchmarks/reproduce_paper.py --corpus my_corpus --open-corpus other
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from skblsh import make_separator_pipeline
from skblsh.datasets import make_separation_task
from skblsh.metrics import BSSEvalReference, separation_report
from skblsh.separation import apply_masks, ideal_binary_mask, make_frames, stft

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
N_FFT, HOP, K = 1024, 256, 10
LINESTYLES = ("-", "--", ":", "-.")

_T0 = time.perf_counter()


def say(*args):
    print(f"[{time.perf_counter() - _T0:7.1f}s]", *args, flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="corpus folder with manifest.csv (default: ../shared/corpus "
        "relative to the repository root)",
    )
    p.add_argument(
        "--open-corpus",
        type=Path,
        default=None,
        help="second corpus with unseen speakers and noise types for the open "
        "set (default: split --corpus by group)",
    )
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--max-utterances", type=int, default=None)
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--n-bits", type=int, nargs="+", default=[16, 32, 64, 150])
    p.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.01])
    p.add_argument("--protocols", nargs="+", default=["closed", "open"])
    p.add_argument("--out", type=Path, default=Path("reproduce_out"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--replot",
        type=Path,
        default=None,
        help="redraw Fig. 3 from a table1.md of an earlier run, without rerunning",
    )
    args = p.parse_args(argv)
    if args.max_utterances is None:
        args.max_utterances = 6 if args.quick else 30
    if args.repeats is None:
        args.repeats = 2
    return args


def load_task(args, protocol):
    kw = dict(max_utterances=args.max_utterances, random_state=args.seed)
    if protocol == "closed":
        return make_separation_task(args.corpus, protocol="closed", **kw)
    if args.open_corpus is None:
        return make_separation_task(args.corpus, protocol="open", **kw)
    train = make_separation_task(args.corpus, protocol="closed", **kw)
    test = make_separation_task(args.open_corpus, protocol="closed", **kw)
    for key in ("mixtures", "sources"):
        train[f"{key}_test"] = test[f"{key}_test"]
    return train


class TestSet:
    """STFTs of the test mixtures and their BSS Eval decompositions, once."""

    def __init__(self, mixtures, sources):
        self.mixtures, self.sources = mixtures, sources
        self.Z = [stft(m, n_fft=N_FFT, hop_length=HOP) for m in mixtures]
        self.bounds = np.cumsum([0] + [len(z) for z in self.Z])
        self.M = np.concatenate([np.abs(z) for z in self.Z]).astype(np.float32)
        pairs = zip(sources, mixtures, strict=True)
        self.refs = [BSSEvalReference(s, m) for s, m in pairs]
        self.length = np.array([len(s) for s in sources], dtype=np.float64)

    def score_estimates(self, estimates):
        pairs = zip(self.refs, estimates, strict=True)
        scores = np.array([r.score(e) for r, e in pairs])
        w = self.length / self.length.sum()
        return w @ scores  # length-weighted mean SDR, SIR, SAR

    def score_masks(self, masks):
        estimates = apply_masks(self.mixtures, masks, n_fft=N_FFT, hop_length=HOP)
        return self.score_estimates(estimates)


def prefix_property_holds(X, Y, seed):
    """True if the first L bits of a longer fit equal an L-bit fit."""
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(X), size=min(400, len(X)), replace=False)
    pipe = make_separator_pipeline(12, K, random_state=seed)
    F = pipe.named_steps["features"].fit_transform(X[idx])
    long = clone(pipe.named_steps["hash"]).set_params(n_bits=12).fit(F, Y[idx])
    short = clone(pipe.named_steps["hash"]).set_params(n_bits=6).fit(F, Y[idx])
    return np.allclose(long.projections_[:6], short.projections_) and np.allclose(
        long.intercepts_[:6], short.intercepts_
    )


def truncate(hasher, n_bits):
    """The first ``n_bits`` bits of a fitted hasher, as a fitted hasher."""
    out = clone(hasher).set_params(n_bits=n_bits)
    for name, value in vars(hasher).items():
        if name.endswith("_") and not name.startswith("_"):
            if isinstance(value, np.ndarray) and value.shape[:1] == (hasher.n_bits_,):
                value = value[:n_bits]
            setattr(out, name, value)
    out.n_bits_ = n_bits
    return out


def hash_knn_masks(hasher, knn, Fd, Yd, Fq):
    """Masks of the test frames: Hamming kNN on the codes (the pipeline's tail)."""
    return clone(knn).fit(hasher.transform(Fd), Yd).predict(hasher.transform(Fq))


def run_protocol(args, protocol, results, use_prefix):
    say(f"== {protocol} set: building mixtures")
    task = load_task(args, protocol)
    say(
        f"{len(task.mixtures_train)} training / {len(task.mixtures_test)} test "
        f"mixtures; test speakers {sorted(set(map(str, task.speakers_test)))}"
    )
    X, Y, _ = make_frames(
        task.mixtures_train, task.sources_train, n_fft=N_FFT, hop_length=HOP
    )
    test = TestSet(task.mixtures_test, task.sources_test)
    say(f"{len(X)} training frames, {len(test.M)} test frames")

    oracle = test.score_masks(
        np.concatenate(
            [
                ideal_binary_mask(m, s, n_fft=N_FFT, hop_length=HOP)
                for m, s in zip(test.mixtures, test.sources, strict=True)
            ]
        )
    )
    results[(protocol, "Oracle IBM", None, None)] = [oracle]
    mix = test.score_estimates(test.mixtures)
    rep = separation_report(test.sources, test.mixtures, test.mixtures)
    assert np.allclose(mix, [rep.sdr_weighted, rep.sir_weighted, rep.sar_weighted])
    results[(protocol, "Mixture", None, None)] = [mix]

    Ls = sorted(args.n_bits)
    for frac in args.fractions:
        for rep_i in range(args.repeats):
            seed = args.seed + rep_i
            rng = np.random.RandomState(seed)
            n_keep = max(K, int(round(frac * len(X))))
            keep = np.sort(rng.choice(len(X), size=n_keep, replace=False))
            Xd, Yd = X[keep], Y[keep]
            tag = f"{protocol} {frac:.0%} repeat {rep_i + 1}/{args.repeats}"
            say(f"{tag}: dictionary of {n_keep} frames")

            knn = make_separator_pipeline(n_neighbors=K, hasher=None).fit(Xd, Yd)
            results.setdefault((protocol, "kNN-STFT", frac, None), []).append(
                test.score_masks(knn.predict(test.M))
            )

            base = make_separator_pipeline(Ls[-1], K, random_state=seed)
            feats = base.named_steps["features"].fit(Xd)
            Fd, Fq = feats.transform(Xd), feats.transform(test.M)
            for kind in ("random", "boosted"):
                name = "RandomLSH" if kind == "random" else "BoostedLSH"
                pipe = make_separator_pipeline(
                    Ls[-1], K, hasher=kind, random_state=seed
                )
                template = pipe.named_steps["hash"]
                t = time.perf_counter()
                full = None
                if kind == "boosted" and use_prefix:
                    full = clone(template).fit(Fd, Yd)
                for L in Ls:
                    if full is not None:
                        hasher = truncate(full, L)
                    else:
                        hasher = clone(template).set_params(n_bits=L).fit(Fd, Yd)
                    masks = hash_knn_masks(hasher, pipe.named_steps["knn"], Fd, Yd, Fq)
                    results.setdefault((protocol, name, frac, L), []).append(
                        test.score_masks(masks)
                    )
                sdrs = [results[(protocol, name, frac, L)][-1][0] for L in Ls]
                say(
                    f"{tag}: {name} done in {time.perf_counter() - t:.0f}s, SDR "
                    + " ".join(f"L={L}:{v:.2f}" for L, v in zip(Ls, sdrs, strict=True))
                )


def table(results, args):
    lines = [
        "| set | method | dict. | L | SDR | SIR | SAR |",
        "|---|---|---|---|---|---|---|",
    ]
    for protocol in args.protocols:
        keys = [k for k in results if k[0] == protocol]
        order = {
            "Oracle IBM": 0,
            "kNN-STFT": 1,
            "RandomLSH": 2,
            "BoostedLSH": 3,
            "Mixture": 4,
        }
        keys.sort(key=lambda k: (order[k[1]], -(k[2] or 0), k[3] or 0))
        for key in keys:
            runs = np.array(results[key])
            mean, std = runs.mean(axis=0), runs.std(axis=0)
            cells = [
                f"{m:.2f} ± {s:.2f}" if len(runs) > 1 else f"{m:.2f}"
                for m, s in zip(mean, std, strict=True)
            ]
            frac = "—" if key[2] is None else f"{key[2]:.0%}"
            L = "—" if key[3] is None else str(key[3])
            lines.append(
                f"| {protocol} | {key[1]} | {frac} | {L} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def summarize(results):
    """Mean and std of the SDR over repeats, per (set, method, dict., L)."""
    return {
        key: (np.mean([r[0] for r in runs]), np.std([r[0] for r in runs]))
        for key, runs in results.items()
    }


def read_table(path):
    """The SDR summary of a ``table1.md`` written by this script."""
    summary = {}
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] in ("set", "---"):
            continue
        protocol, name, frac, L, sdr = cells[:5]
        frac = None if frac == "—" else float(frac.rstrip("%")) / 100
        L = None if L == "—" else int(L)
        mean, _, std = sdr.partition(" ± ")
        summary[(protocol, name, frac, L)] = (float(mean), float(std or 0))
    return summary


def figure(summary, args, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ls = sorted(args.n_bits)
    fig, axes = plt.subplots(
        1,
        len(args.protocols),
        figsize=(4.2 * len(args.protocols), 3.8),
        sharey=True,
        squeeze=False,
    )
    styles = {"BoostedLSH": "C0", "RandomLSH": "C3"}
    for ax, protocol in zip(axes[0], args.protocols, strict=True):
        for name, color in styles.items():
            for i, frac in enumerate(sorted(args.fractions, reverse=True)):
                ls = LINESTYLES[i % len(LINESTYLES)]
                mean, std = np.array([summary[(protocol, name, frac, L)] for L in Ls]).T
                ax.plot(
                    Ls,
                    mean,
                    ls,
                    color=color,
                    marker="o",
                    ms=3,
                    label=f"{name} {frac:.0%}",
                )
                ax.fill_between(Ls, mean - std, mean + std, color=color, alpha=0.15)
        for i, frac in enumerate(sorted(args.fractions, reverse=True)):
            ls = LINESTYLES[i % len(LINESTYLES)]
            knn = summary[(protocol, "kNN-STFT", frac, None)][0]
            ax.axhline(knn, color="0.4", ls=ls, lw=1, label=f"kNN-STFT {frac:.0%}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(Ls, [str(L) for L in Ls])
        ax.set_xlabel("code length L (bits)")
        ax.set_title(f"{protocol} set")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("SDR (dB)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if args.replot is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        figure(read_table(args.replot), args, args.out / "fig3_sdr_vs_bits.png")
        say(f"wrote {args.out / 'fig3_sdr_vs_bits.png'}")
        return
    if not (args.corpus / "manifest.csv").is_file():
        sys.exit(f"reproduce_paper: no manifest.csv in corpus folder '{args.corpus}'")
    args.out.mkdir(parents=True, exist_ok=True)
    say(
        f"corpus {args.corpus.name}, {args.max_utterances} utterances per "
        f"speaker, L={args.n_bits}, fractions={args.fractions}, "
        f"repeats={args.repeats}"
    )
    probe = make_separation_task(args.corpus, max_utterances=2, random_state=args.seed)
    Xp, Yp, _ = make_frames(probe.mixtures_train[:6], probe.sources_train[:6])
    use_prefix = prefix_property_holds(Xp, Yp, args.seed)
    say(
        "BoostedLSH prefix property "
        + (
            "holds: one fit per dictionary, truncated to each L"
            if use_prefix
            else "does not hold: one fit per L"
        )
    )
    results = {}
    for protocol in args.protocols:
        run_protocol(args, protocol, results, use_prefix)
    md = table(results, args)
    wall = time.perf_counter() - _T0
    note = (
        f"\n\nBSS Eval of the speech, mean over test utterances weighted by "
        f"length; ± is the std over {args.repeats} random dictionary subsamples "
        f"(and hasher seeds). {args.max_utterances} utterances per speaker, "
        f"0 dB SNR, K={K}. Wall time {wall / 60:.1f} min."
    )
    print("\n" + md + note, flush=True)
    (args.out / "table1.md").write_text(md + note + "\n")
    figure(summarize(results), args, args.out / "fig3_sdr_vs_bits.png")
    say(f"wrote {args.out / 'table1.md'} and {args.out / 'fig3_sdr_vs_bits.png'}")


if __name__ == "__main__":
    main()
