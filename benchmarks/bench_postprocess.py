"""The SDR / STOI / PESQ trade-off of the separator's mask options.

Fits skblsh's default ``MaskingSeparator()`` once per leave-groups-out split
(the splits, training recipe and test picks of ``bench_peers.py``: unseen
speakers *and* noise types, both corpora, a 100,000-frame dictionary), then
denoises the same test mixtures with each post-processing option changed on
the fitted separator (``set_params``: median, smoothing, exponent and floor act on the
predicted masks, so no refit is needed) and with ratio-mask targets
(``target="irm"``, one more fit). Prints, per option, the mean SDR, STOI and
PESQ-WB and the paired gains over the default (mean +- standard error over
utterances), and ``--plot`` draws SDR and PESQ-WB against STOI, one marker
per option and input SNR.

These are the options the defaults were chosen among (on separate
validation groups, see the separator user guide); this script shows the
trade-off on the test groups.

Usage::

    python benchmarks/bench_postprocess.py [--splits 3] [--n-test 24]
        [--snrs 0 5] [--plot docs/_static/peers/postprocess_tradeoff.png]
"""

import argparse
import time

import numpy as np
from _machine import describe
from bench_peers import CORPORA, held_out_groups, pick_test
from threadpoolctl import threadpool_limits

from skblsh.datasets import make_separation_task
from skblsh.metrics import separation_report
from skblsh.separation import MaskingSeparator
from skblsh.stft import n_frames as count_frames

SR = 16000
# name -> parameters changed on the fitted default separator
OPTIONS = {
    "default (5-frame median, 5-frame smoothing)": {},
    "no median": {"mask_median": 0},
    "7-frame median": {"mask_median": 3},
    "no smoothing": {"mask_smoothing": 0},
    "5-frame smoothing": {"mask_smoothing": 2},
    "7-frame smoothing": {"mask_smoothing": 3},
    "exponent 0.5": {"mask_exponent": 0.5},
    "exponent 0.7": {"mask_exponent": 0.7},
    "exponent 1.5": {"mask_exponent": 1.5},
    "exponent 2": {"mask_exponent": 2.0},
    "floor 0.1": {"mask_floor": 0.1},
    "floor 0.2": {"mask_floor": 0.2},
    "floor 0.3": {"mask_floor": 0.3},
}
IRM = "ratio-mask targets (irm)"
MIXTURE = "unprocessed mixture"
METRICS = (("sdr", "SDR"), ("stoi", "STOI"), ("pesq_wb", "PESQ-WB"))


def run_split(split, groups, args):
    test_speakers, test_noises = groups
    task = make_separation_task(
        CORPORA,
        protocol="open",
        n_noises=2,
        test_speech_groups=test_speakers,
        test_noise_groups=test_noises,
        max_utterances=40,
        random_state=split,
    )
    index = pick_test(task, args.n_test, np.random.RandomState(split))
    sources = [task.sources_test[i] for i in index]
    noises = [task.noises_test[i] for i in index]
    n_frames = sum(count_frames(len(m)) for m in task.mixtures_train)
    fraction = min(1.0, args.dictionary_frames / n_frames)
    fitted = {}
    for target in ("ibm", "irm"):
        t0 = time.perf_counter()
        sep = MaskingSeparator(
            target=target, dictionary_fraction=fraction, random_state=split
        )
        fitted[target] = sep.fit(task.mixtures_train, task.sources_train)
        print(
            f"split {split}: fitted target={target} on {sep.n_frames_} frames "
            f"in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    del task
    rows = {}  # (option, snr) -> dict of per-utterance arrays
    for snr in args.snrs:
        mixtures = [
            s + 10.0 ** (-snr / 20.0) * n for s, n in zip(sources, noises, strict=True)
        ]
        variants = [(name, fitted["ibm"], p) for name, p in OPTIONS.items()]
        variants.append((IRM, fitted["irm"], {}))
        report = separation_report(sources, mixtures, mixtures)
        rows[MIXTURE, snr] = {m: np.asarray(getattr(report, m)) for m, _ in METRICS}
        for name, sep, params in variants:
            saved = sep.get_params(deep=False)
            estimates = sep.set_params(**params).predict(mixtures)
            sep.set_params(**{k: saved[k] for k in params})
            report = separation_report(sources, estimates, mixtures)
            rows[name, snr] = {m: np.asarray(getattr(report, m)) for m, _ in METRICS}
    return rows


def merge(parts):
    out = {}
    for rows in parts:
        for key, values in rows.items():
            acc = out.setdefault(key, {m: [] for m in values})
            for m, v in values.items():
                acc[m].append(v)
    return {k: {m: np.concatenate(v) for m, v in d.items()} for k, d in out.items()}


def report(rows, snrs):
    names = list(OPTIONS) + [IRM, MIXTURE]
    base = next(iter(OPTIONS))
    for snr in snrs:
        n = len(rows[base, snr]["sdr"])
        print(f"\ninput SNR {snr:+g} dB, {n} test utterances, paired gains vs default")
        print(
            "| option | SDR (dB) | STOI | PESQ-WB | SDR gain | STOI gain | PESQ gain |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name in names:
            cells, gains = [], []
            for m, _ in METRICS:
                v, b = rows[name, snr][m], rows[base, snr][m]
                ok = np.isfinite(v) & np.isfinite(b)
                d = v[ok] - b[ok]
                fmt = ".2f" if m == "sdr" else ".3f"
                cells.append(f"{np.mean(v[ok]):{fmt}}")
                se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
                gains.append(f"{d.mean():+{fmt}} ± {se:{fmt}}" if name != base else "-")
            print(f"| {name} | " + " | ".join(cells + gains) + " |")


def plot(rows, snrs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(OPTIONS) + [IRM]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    markers = "os^v<>DPX*hH"
    for ax, (m, label) in zip(axes, (METRICS[0], METRICS[2]), strict=True):
        for i, name in enumerate(names + [MIXTURE]):
            xs, ys = [], []
            for snr in snrs:
                r = rows[name, snr]
                ok = np.isfinite(r["stoi"]) & np.isfinite(r[m])
                xs.append(np.mean(r["stoi"][ok]))
                ys.append(np.mean(r[m][ok]))
            if name == MIXTURE:
                style = {"color": "grey", "linestyle": "--", "marker": "x"}
            else:
                style = {"marker": markers[i % len(markers)]}
                if i == 0:
                    style.update(color="black", zorder=3)
            ax.plot(xs, ys, label=name, **style)
        ax.set_xlabel("STOI")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(
        "Mask options of the default separator, unseen speakers and noises; "
        f"input SNR {', '.join(f'{s:+g}' for s in snrs)} dB, lower left to upper right",
        fontsize=9,
    )
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=7, loc="center right")
    fig.subplots_adjust(right=0.77, wspace=0.3)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--n-test", type=int, default=24)
    ap.add_argument("--snrs", type=float, nargs="+", default=[0.0, 5.0])
    ap.add_argument("--dictionary-frames", type=int, default=100_000)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args()
    print(describe(), flush=True)
    t0 = time.perf_counter()
    with threadpool_limits(1, user_api="blas"):
        parts = [
            run_split(i, groups, args)
            for i, groups in enumerate(held_out_groups(args.splits))
        ]
    rows = merge(parts)
    report(rows, args.snrs)
    if args.plot:
        plot(rows, args.snrs, args.plot)
    print(f"total wall time {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
