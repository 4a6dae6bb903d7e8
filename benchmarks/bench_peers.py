"""Denoising against other systems: RNNoise, noisereduce and the paper's kNN.

What: speech denoising quality and speed of skblsh's default
``MaskingSeparator()`` beside

* the unprocessed mixture (floor) and the oracle ideal binary mask (ceiling);
* RNNoise (``pyrnnoise``'s librnnoise, a small recurrent network trained on
  other data: 16 kHz resampled to its 48 kHz, its delay removed);
* noisereduce (spectral gating, ``stationary=True``);
* the paper's three systems, in the paper's setting: every frame
  L2-normalised, K=10, no level normalisation, no mask smoothing
  (``MaskingSeparator(level=None, mask_median=0, mask_smoothing=0,
  estimator=...)``) with
  exact cosine kNN on the |STFT| frames (baseline 1), RandomLSH(64) and
  BoostedLSH(64) codes with Hamming kNN.

RNNoise and noisereduce are optional: a system whose package does not import
is skipped with a note.

How: both development corpora pooled (``../shared/corpus`` and
``../shared/corpus-extra``), leave-groups-out splits built with
:func:`skblsh.datasets.make_separation_task` (``protocol="open"``): each
split holds out 2 large speakers (>= 100 files), 4 small ones and 3 noise
types, taken in rotation from one seeded permutation so that the splits
cover different groups; test mixtures pair **unseen speakers with unseen
noise types**. Training (for the kNN systems): at most 40 utterances per
training speaker, each mixed with 2 training noise types at 0 dB; the
dictionary is a random subset of at most ``--dictionary-frames`` (100,000)
training frames (``dictionary_fraction``), the same frames for the four kNN
systems. The default separator (and its ablation by clean-source folds)
trains as ``skblsh fit`` does, on the same utterances and noise clips with
each training noise shifted and tilted (``RECOMMENDED_TRAINING``:
``noise_shift=(-1, 1)`` octaves, ``noise_tilt=(-6, 6)`` dB per octave;
``--default-training plain`` drops that, ``--default-training synthetic``
adds a quarter more mixtures with synthetic noise). Test: ``--n-test`` utterances
per split (spread over the held-out speakers), each with one held-out noise
clip, mixed at every SNR of ``--snrs`` by scaling the same noise crop
(paired across SNRs and systems).

Metrics per utterance by :func:`skblsh.metrics.separation_report`: BSS Eval
SDR of the speech (the paper's metric), SI-SDR, wide-band PESQ and STOI;
the table shows means over all test utterances of all splits (unweighted).
RTF is processing time / audio duration (one process, BLAS on
``--blas-threads`` threads; the kNN systems denoise a whole SNR's test list
in one ``predict`` call, after a warm-up call); fit time is reported apart.
Paired gains (per-utterance differences) of the default against the mixture
and against the paper's BoostedLSH: mean +/- standard error over utterances,
and min..max of the per-split means. That standard error leaves out the
randomness of the fits (hasher, dictionary frames, the refiner's folds and
network): ``--fit-seed 1, 2, ...`` refits every system with other seeds on
the same data and test mixtures, to measure it.

Usage::

    python benchmarks/bench_peers.py --quick     # ~2 min smoke run
    python benchmarks/bench_peers.py --plot docs/_static/peers/sdr_vs_stoi.png \\
        --csv peers.csv                          # 5 splits x 32 utterances, ~30 min
"""

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np
from _machine import describe
from scipy.signal import resample_poly
from threadpoolctl import threadpool_limits

from skblsh.cli._task import RECOMMENDED_TRAINING
from skblsh.datasets import make_separation_task
from skblsh.metrics import separation_report
from skblsh.separation import (
    MaskingSeparator,
    apply_masks,
    ideal_binary_mask,
    make_separator_pipeline,
)
from skblsh.stft import n_frames as count_frames

SR = 16000
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPORA = [SHARED / "corpus", SHARED / "corpus-extra"]
METRICS = [("sdr", "SDR (dB)"), ("si_sdr", "SI-SDR (dB)"), ("pesq_wb", "PESQ-WB")]
METRICS += [("stoi", "STOI")]
LABELS = {
    "mixture": "Unprocessed mixture",
    "oracle": "Oracle IBM (ceiling)",
    "rnnoise": "RNNoise (pyrnnoise)",
    "noisereduce": "noisereduce (stationary)",
    "knn-stft": "kNN on |STFT|, cosine, K=10",
    "random-lsh": "RandomLSH(64), K=10",
    "boosted-lsh": "BoostedLSH(64), K=10",
    "default-knn": "previous default (refine=False, mask_median=0, mask_smoothing=1)",
    "default-source": "MaskingSeparator(), refiner folds by clean source",
    "default": "skblsh default MaskingSeparator(), speaker + noise folds",
}
# The systems that train on skblsh fit's recommended training set.
RECOMMENDED_SYSTEMS = {"default-source", "default"}
TRAINING_NOTE = {
    "recommended": ", noise shifted/tilted",
    "synthetic": ", noise shifted/tilted, synthetic noise",
    "plain": "",
}
# Training-only options of each --default-training recipe beyond the plain
# task ("synthetic": the recommended one plus a quarter more mixtures with
# synthetic noise, measured and not adopted, docs/user_guide/separator.rst).
TRAINING_OPTIONS = {
    "recommended": RECOMMENDED_TRAINING,
    "synthetic": {**RECOMMENDED_TRAINING, "synthetic_noise": 0.25},
}
KNN_SYSTEMS = (
    "knn-stft",
    "random-lsh",
    "boosted-lsh",
    "default-knn",
    "default-source",
    "default",
)


# ----------------------------------------------------------------------
# the other systems


def load_rnnoise():
    """A function denoising one 16 kHz waveform with RNNoise, or None."""
    try:
        import ctypes

        from pyrnnoise.rnnoise import FRAME_SIZE, lib
    except (ImportError, OSError) as exc:
        print(f"note: RNNoise skipped (pyrnnoise not importable: {exc})")
        return None
    c_float_p = ctypes.POINTER(ctypes.c_float)

    def run(y):
        # RNNoise works on 480-sample frames at 48 kHz, int16 scale.
        x = resample_poly(np.asarray(y, np.float64), 3, 1) * 32768.0
        pad = (-len(x)) % FRAME_SIZE + 4 * FRAME_SIZE  # flushes its delay
        x = np.concatenate([x, np.zeros(pad)]).astype(np.float32)
        out = np.empty_like(x)
        state = lib.rnnoise_create(None)
        try:
            for a in range(0, len(x), FRAME_SIZE):
                frame = np.ascontiguousarray(x[a : a + FRAME_SIZE])
                lib.rnnoise_process_frame(
                    state,
                    out[a:].ctypes.data_as(c_float_p),
                    frame.ctypes.data_as(c_float_p),
                )
        finally:
            lib.rnnoise_destroy(state)
        return resample_poly(out.astype(np.float64) / 32768.0, 1, 3)

    return run


def rnnoise_lag(run, speech):
    """RNNoise's delay in samples at 16 kHz, measured on clean speech (which
    it passes nearly unchanged): the lag maximising the cross-correlation."""
    y = np.concatenate(speech)[: 10 * SR]
    z = run(y)
    lags = np.arange(0, 2048)
    corr = [np.dot(z[lag : lag + len(y) - 2048], y[: len(y) - 2048]) for lag in lags]
    return int(lags[np.argmax(corr)])


def load_noisereduce():
    try:
        import noisereduce
    except ImportError as exc:
        print(f"note: noisereduce skipped (not importable: {exc})")
        return None

    def run(y):
        return noisereduce.reduce_noise(y=y, sr=SR, stationary=True)

    return run


def make_knn_systems(fraction, seed, quick):
    """The kNN separators, unfitted."""
    paper = {"level": None, "mask_median": 0, "mask_smoothing": 0}
    common = {"dictionary_fraction": fraction, "random_state": seed}
    systems = {
        "knn-stft": MaskingSeparator(
            make_separator_pipeline(n_neighbors=10, hasher=None), **paper, **common
        ),
        "random-lsh": MaskingSeparator(
            make_separator_pipeline(64, 10, hasher="random", random_state=seed),
            **paper,
            **common,
        ),
        "boosted-lsh": MaskingSeparator(
            make_separator_pipeline(64, 10, random_state=seed), **paper, **common
        ),
        "default-knn": MaskingSeparator(
            refine=False, mask_median=0, mask_smoothing=1, **common
        ),
        # The same separator; fitted without groups (the refiner's folds
        # then split pairs by clean source) and, as `skblsh fit` does, with
        # each pair's speaker and noise type (`fit(..., groups=)`).
        "default-source": MaskingSeparator(**common),
        "default": MaskingSeparator(**common),
    }
    if quick:  # fewer boosting segments: a smoke run, not a measurement
        systems["boosted-lsh"].set_params(estimator__hash__n_segments=2)
        for name in ("default-knn", "default-source", "default"):
            default = systems[name]
            default.set_params(
                estimator=default._make_estimator().set_params(hash__n_segments=2)
            )
    return systems


# ----------------------------------------------------------------------
# data


def manifest_groups(kind):
    """Group name -> number of files of this kind, over both corpora."""
    counts = {}
    for folder in CORPORA:
        with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["kind"] == kind:
                    counts[row["group"]] = counts.get(row["group"], 0) + 1
    return counts


def held_out_groups(n_splits, big=100, seed=12345):
    """Test speakers and noise types of each split, in rotation.

    One seeded permutation of the large speakers (>= ``big`` files), of the
    small ones and of the noise types; split ``i`` takes the i-th block of 2
    large + 4 small speakers and 3 noise types (wrapping around).
    """
    rng = np.random.RandomState(seed)
    speakers = manifest_groups("speech")
    large = rng.permutation(sorted(g for g, n in speakers.items() if n >= big))
    small = rng.permutation(sorted(g for g, n in speakers.items() if n < big))
    noises = rng.permutation(sorted(manifest_groups("noise")))

    def block(pool, i, k):
        return [str(pool[(i * k + j) % len(pool)]) for j in range(k)]

    return [
        (block(large, i, 2) + block(small, i, 4), block(noises, i, 3))
        for i in range(n_splits)
    ]


def pick_test(task, n_test, rng):
    """Indices of n_test test mixtures, round-robin over the test speakers."""
    by_speaker = [
        list(rng.permutation(np.flatnonzero(task.speakers_test == g)))
        for g in task.speech_groups_test
    ]
    chosen = []
    while len(chosen) < n_test and any(by_speaker):
        for queue in by_speaker:
            if queue and len(chosen) < n_test:
                chosen.append(int(queue.pop()))
    return sorted(chosen)


# ----------------------------------------------------------------------
# one split


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def run_split(split, groups, args, peers):
    test_speakers, test_noises = groups
    t0 = time.perf_counter()
    spec = dict(
        protocol="open",
        n_noises=2,
        snr_db=0.0,
        test_speech_groups=test_speakers,
        test_noise_groups=test_noises,
        max_utterances=args.max_utterances,
        random_state=split,
    )
    task = make_separation_task(CORPORA, **spec)
    training = {"plain": task}
    recipe = args.default_training
    if recipe in TRAINING_OPTIONS and RECOMMENDED_SYSTEMS & set(args.systems):
        # The same utterances, clips and test mixtures (the options are
        # training-only); the training noises shifted and tilted.
        training[recipe] = make_separation_task(
            CORPORA, **spec, **TRAINING_OPTIONS[recipe]
        )
    rng = np.random.RandomState(split)
    index = pick_test(task, args.n_test, rng)
    sources = [task.sources_test[i] for i in index]
    noises = [task.noises_test[i] for i in index]
    speakers = [str(task.speakers_test[i]) for i in index]
    noise_types = [str(task.noise_types_test[i]) for i in index]
    seconds = sum(len(s) for s in sources) / SR
    n_frames = sum(count_frames(len(m)) for m in task.mixtures_train)
    fraction = min(1.0, args.dictionary_frames / n_frames)
    print(
        f"\nsplit {split}: test speakers {test_speakers}, noise types "
        f"{test_noises}; {len(task.mixtures_train)} training mixtures "
        f"({n_frames} frames), {len(index)} test utterances ({seconds:.0f} s); "
        f"data in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )

    fitted, fit_time = {}, {}
    knn = make_knn_systems(fraction, split + 100 * args.fit_seed, args.quick)
    for name in [s for s in args.systems if s in KNN_SYSTEMS]:
        train = task
        if name in RECOMMENDED_SYSTEMS:
            train = training.get(args.default_training, task)
        groups = train.speaker_noise_train if name == "default" else None
        if train is not task:
            # A recipe that adds mixtures (synthetic_noise) adds frames: the
            # same dictionary size as the others, as `skblsh fit` keeps it.
            frames = sum(count_frames(len(m)) for m in train.mixtures_train)
            knn[name].set_params(
                dictionary_fraction=min(1.0, args.dictionary_frames / frames)
            )
        sep, fit_time[name] = timed(
            knn[name].fit, train.mixtures_train, train.sources_train, groups=groups
        )
        fitted[name] = sep
        sep.predict(task.mixtures_test[:1])  # warm-up: numba kernels, caches
        print(
            f"  fit {name}: {fit_time[name]:.1f} s on {sep.n_frames_} frames",
            flush=True,
        )
    task_names = ["/".join(Path(task.utterances_test[i]).parts[-3:]) for i in index]
    del task, training

    rows, proc_time = [], {}
    for snr in args.snrs:
        # The 0 dB noise crop scaled: the same crop at every SNR (the
        # corpus SNR is the ratio of whole-utterance energies).
        mixtures = [
            s + 10.0 ** (-snr / 20.0) * n for s, n in zip(sources, noises, strict=True)
        ]
        for name in args.systems:
            if name in fitted:
                estimates, dt = timed(fitted[name].predict, mixtures)
            elif name == "oracle":
                masks = [
                    ideal_binary_mask(m, s)
                    for m, s in zip(mixtures, sources, strict=True)
                ]
                estimates, dt = apply_masks(mixtures, masks), None
            elif name == "mixture":
                estimates, dt = mixtures, None
            elif peers.get(name) is not None:
                estimates, dt = timed(
                    lambda ms, f=peers[name]: [f(m) for m in ms], mixtures
                )
            else:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = separation_report(
                    sources,
                    [np.asarray(e, np.float64) for e in estimates],
                    mixtures,
                    sr=SR,
                    pesq=True,
                )
            if dt is not None:
                proc_time[name] = proc_time.get(name, 0.0) + dt
            for k in range(len(index)):
                rows.append(
                    {
                        "split": split,
                        "utterance": task_names[k],
                        "speaker": speakers[k],
                        "noise_type": noise_types[k],
                        "snr_db": snr,
                        "system": name,
                        "seconds": len(sources[k]) / SR,
                        **{m: float(report[m][k]) for m, _ in METRICS},
                    }
                )
        print(f"  {snr:+g} dB scored", flush=True)
    audio = seconds * len(args.snrs)
    rtf = {name: dt / audio for name, dt in proc_time.items()}
    return rows, rtf, fit_time


# ----------------------------------------------------------------------
# summary


def mean_table(rows, systems, snrs, rtf, fit_time):
    """Markdown table: per system, each metric at every SNR, RTF, fit time."""
    head = ["system"] + [f"{label} at {snrs_text(snrs)} dB" for _, label in METRICS]
    head += ["RTF", "fit (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in systems:
        cells = [LABELS[name]]
        for metric, _ in METRICS:
            values = []
            for snr in snrs:
                v = [
                    r[metric]
                    for r in rows
                    if r["system"] == name and r["snr_db"] == snr
                ]
                digits = 3 if metric == "stoi" else 2
                values.append(f"{np.nanmean(v):.{digits}f}" if v else "-")
            cells.append(" / ".join(values))
        cells.append(f"{np.mean(rtf[name]):.4f}" if name in rtf else "-")
        cells.append(f"{np.mean(fit_time[name]):.0f}" if name in fit_time else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def undefined_note(rows):
    """Which utterances STOI / PESQ is undefined on (too little speech)."""
    notes = []
    for metric, label in METRICS:
        bad = {(r["split"], r["utterance"]) for r in rows if not np.isfinite(r[metric])}
        if bad:
            notes.append(f"{label} on {len(bad)}")
    if not notes:
        return "Every metric is defined on every utterance."
    return (
        f"Undefined (too little speech; left out of that metric's means): "
        f"{', '.join(notes)} utterance(s)."
    )


def snrs_text(snrs):
    return " / ".join(f"{s:+g}" if s else "0" for s in snrs)


def paired_gains(rows, system, reference, snrs):
    """Per metric and SNR: mean +/- s.e. of the per-utterance differences,
    and min..max of the per-split means."""
    key = {(r["split"], r["utterance"], r["snr_db"], r["system"]): r for r in rows}
    lines = []
    for metric, label in METRICS:
        cells = []
        for snr in snrs:
            diff, split = [], []
            for (sp, utt, s, name), r in key.items():
                if name == system and s == snr and (sp, utt, s, reference) in key:
                    d = r[metric] - key[sp, utt, s, reference][metric]
                    if np.isfinite(d):
                        diff.append(d)
                        split.append(sp)
            diff, split = np.array(diff), np.array(split)
            if len(diff) < 2:
                cells.append("-")
                continue
            per_split = [diff[split == sp].mean() for sp in np.unique(split)]
            d = 3 if metric == "stoi" else 2
            cells.append(
                f"{diff.mean():+.{d}f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.{d}f}"
                f" ({min(per_split):+.{d}f}..{max(per_split):+.{d}f})"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    head = "| gain | " + " | ".join(f"{s:+g} dB" for s in snrs) + " |"
    return "\n".join([head, "|" + "---|" * (len(snrs) + 1), *lines])


def plot(rows, systems, snrs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7, 4.5), sharex=True)
    markers = "os^vDP*Xh"
    for j, name in enumerate(systems):
        pts = []
        for snr in snrs:
            sel = [r for r in rows if r["system"] == name and r["snr_db"] == snr]
            if sel:
                pts.append(
                    [
                        np.nanmean([r[m] for r in sel])
                        for m in ("stoi", "sdr", "pesq_wb")
                    ]
                )
        if not pts:
            continue
        pts = np.array(pts)
        style = {"marker": markers[j % len(markers)], "ms": 5, "lw": 1.2}
        if name == "mixture":
            style.update(color="0.4", ls="--")
        elif name == "oracle":
            style.update(color="0.7", ls=":")
        elif name == "default":
            style.update(color="k", lw=2.2, ms=6)
        for ax, col in zip(axes, (1, 2), strict=True):
            ax.plot(pts[:, 0], pts[:, col], label=LABELS[name], **style)
    for ax, label in zip(axes, ("SDR (dB)", "PESQ-WB"), strict=True):
        ax.set_xlabel("STOI")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"one marker per SNR ({snrs_text(snrs)} dB)", fontsize=9)
    axes[1].set_title("up and right is better", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path} ({Path(path).stat().st_size / 1e3:.0f} kB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 split, smoke run")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--n-test", type=int, default=32, help="per split")
    parser.add_argument("--snrs", type=float, nargs="+", default=[-5, 0, 5, 10])
    parser.add_argument(
        "--systems", nargs="+", choices=list(LABELS), default=list(LABELS)
    )
    parser.add_argument("--dictionary-frames", type=int, default=100_000)
    parser.add_argument("--max-utterances", type=int, default=40, help="per speaker")
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument(
        "--fit-seed",
        type=int,
        default=0,
        help="redraw every fit's randomness (random_state = split + 100 * "
        "fit_seed), the data unchanged: the spread between fits",
    )
    parser.add_argument(
        "--default-training",
        choices=["recommended", "plain", "synthetic"],
        default="recommended",
        help="training set of the default separator: skblsh fit's (training "
        "noises shifted and tilted), the plain one of the paper's systems, or "
        "skblsh fit's plus a quarter more mixtures with synthetic noise",
    )
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.splits, args.n_test = 1, min(args.n_test, 4)
        args.dictionary_frames, args.max_utterances = 20_000, 10
    print(describe() + f"; BLAS threads {args.blas_threads}")
    for name in RECOMMENDED_SYSTEMS:
        LABELS[name] += TRAINING_NOTE[args.default_training]
    t_start = time.perf_counter()

    peers = {}
    if "rnnoise" in args.systems:
        run = load_rnnoise()
        if run is not None:
            from skblsh.datasets import load_demo

            lag = rnnoise_lag(run, load_demo().sources_train)
            print(f"RNNoise delay at 16 kHz: {lag} samples, removed")
            peers["rnnoise"] = lambda y, run=run, lag=lag: run(y)[lag : lag + len(y)]
    if "noisereduce" in args.systems:
        peers["noisereduce"] = load_noisereduce()
    systems = [s for s in args.systems if s not in peers or peers[s] is not None]

    rows, rtf, fit_time = [], {}, {}
    with threadpool_limits(args.blas_threads):
        for split, groups in enumerate(held_out_groups(args.splits)):
            r, t, f = run_split(split, groups, args, peers)
            rows += r
            for name, v in t.items():
                rtf.setdefault(name, []).append(v)
            for name, v in f.items():
                fit_time.setdefault(name, []).append(v)

    n_utt = len({(r["split"], r["utterance"]) for r in rows})
    print(
        f"\nMeans over {n_utt} test utterances ({args.splits} splits, unseen "
        f"speakers and noise types); RTF = processing time / audio duration; fit "
        f"= mean seconds per split, dictionary <= {args.dictionary_frames} frames."
    )
    print(mean_table(rows, systems, args.snrs, rtf, fit_time))
    print(undefined_note(rows))
    for reference in ("mixture", "boosted-lsh", "default-knn", "default-source"):
        if "default" in systems and reference in systems:
            print(
                f"\nPaired gain of the default over {LABELS[reference]}: mean ± "
                f"s.e. over utterances (min..max of the per-split means)"
            )
            print(paired_gains(rows, "default", reference, args.snrs))
    if args.plot:
        plot(rows, systems, args.snrs, args.plot)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {len(rows)} rows to {args.csv}")
    print(f"total wall time {(time.perf_counter() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
