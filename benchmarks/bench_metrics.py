"""BSS Eval against mir_eval, and STOI/PESQ against BSS Eval, same run.

Mixes real corpus speech with noise at 0 dB SNR, makes a few estimates per
utterance (the mixture, speech + 0.3 noise, an ideal-binary-mask estimate,
speech + white hiss, a 4 kHz low-pass of the mixture) and scores them with

* ``bss_eval(..., backend="mir_eval")``, the reference;
* ``BSSEvalReference(s, m)`` once per utterance, then ``.score`` per estimate;
* ``bss_eval(..., backend="fast")`` per estimate (no reuse across estimates);
* ``fast_bss_eval.bss_eval_sources`` when that package is installed (it is
  not a dependency; ``pip install fast-bss-eval`` to include it).

Prints the largest |difference| in dB from mir_eval for each metric (cases
where mir_eval itself reports more than 100 dB, i.e. a residual made of
rounding error such as the SAR of the mixture, are left out) and the
wall-clock speed-ups.

Then the cost per second of audio of STOI, ESTOI and PESQ (wide- and
narrow-band, when the optional ``pesq`` package is installed) on the same
estimates, as a ratio to the fast BSS Eval path (one ``BSSEvalReference``
per utterance, all its estimates scored), the way ``separation_report``
computes them.

Usage::

    python benchmarks/bench_metrics.py [--n-utterances 10] [--seconds 3]
                                       [--threads 1] [--corpus PATH]
"""

import argparse
import contextlib
import csv
import importlib.util
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf
from threadpoolctl import threadpool_limits

from skblsh.metrics import BSSEvalReference, bss_eval, pesq, stoi

SR = 16000


def load_utterances(corpus, n_utterances, seconds, seed):
    with open(corpus / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(seed)
    speech_rows = [
        r for r in rows if r["kind"] == "speech" and float(r["duration_s"]) >= seconds
    ]
    noise_rows = [
        r
        for r in rows
        if r["kind"] == "noise" and float(r["duration_s"]) >= seconds + 1
    ]
    n = int(seconds * SR)
    out = []
    for i in rng.choice(len(speech_rows), n_utterances, replace=False):
        speech, _ = sf.read(corpus / speech_rows[i]["path"])
        noise, _ = sf.read(corpus / noise_rows[rng.integers(len(noise_rows))]["path"])
        offset = rng.integers(len(noise) - n)
        speech, noise = speech[:n], noise[offset : offset + n]
        noise = noise * np.sqrt(np.sum(speech**2) / np.sum(noise**2))
        out.append((speech, noise, speech + noise))
    return out


def make_estimates(speech, noise, mixture, rng):
    kwargs = dict(fs=SR, nperseg=512, noverlap=384)
    _, _, S = scipy.signal.stft(speech, **kwargs)
    _, _, N = scipy.signal.stft(noise, **kwargs)
    _, _, M = scipy.signal.stft(mixture, **kwargs)
    _, ibm = scipy.signal.istft(M * (np.abs(S) > np.abs(N)), **kwargs)
    sos = scipy.signal.butter(6, 4000, fs=SR, output="sos")
    return {
        "mixture": mixture,
        "speech+0.3noise": speech + 0.3 * noise,
        "ibm": ibm[: len(mixture)],
        "speech+hiss": speech
        + 0.05 * np.std(speech) * rng.standard_normal(len(speech)),
        "lowpass": scipy.signal.sosfilt(sos, mixture),
    }


@contextlib.contextmanager
def _numpy1_solve():
    # fast-bss-eval 0.1.4 predates NumPy 2, where np.linalg.solve(a, b) reads a
    # b of shape (..., M) as a stack of matrices, not of vectors.
    solve = np.linalg.solve

    def solve_vectors(a, b):
        if b.ndim == a.ndim - 1:
            return solve(a, b[..., None])[..., 0]
        return solve(a, b)

    np.linalg.solve = solve_vectors
    try:
        yield
    finally:
        np.linalg.solve = solve


def fast_bss_eval_speech_row(speech, noise, mixture, estimate):
    import fast_bss_eval

    other = mixture - estimate
    if not np.any(other):
        other = noise  # as in skblsh: the speech row does not depend on it
    with _numpy1_solve():
        sdr, sir, sar = fast_bss_eval.bss_eval_sources(
            np.stack([speech, noise]),
            np.stack([estimate, other]),
            compute_permutation=False,
        )
    return float(sdr[0]), float(sir[0]), float(sar[0])


def run(utterances, estimates):
    results, times = {}, {}

    def timed(name, fn):
        start = time.perf_counter()
        results[name] = fn()
        times[name] = time.perf_counter() - start

    timed(
        "mir_eval",
        lambda: [
            [bss_eval(s, e, m, backend="mir_eval") for e in ests.values()]
            for (s, _, m), ests in zip(utterances, estimates, strict=True)
        ],
    )

    def cached():
        out = []
        for (s, _, m), ests in zip(utterances, estimates, strict=True):
            reference = BSSEvalReference(s, m)
            out.append([reference.score(e) for e in ests.values()])
        return out

    timed("fast, BSSEvalReference reused", cached)
    timed(
        "fast, bss_eval per estimate",
        lambda: [
            [bss_eval(s, e, m) for e in ests.values()]
            for (s, _, m), ests in zip(utterances, estimates, strict=True)
        ],
    )
    try:
        import fast_bss_eval  # noqa: F401
    except ImportError:
        print("fast_bss_eval not installed: skipped")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            timed(
                "fast_bss_eval package",
                lambda: [
                    [fast_bss_eval_speech_row(s, n, m, e) for e in ests.values()]
                    for (s, n, m), ests in zip(utterances, estimates, strict=True)
                ],
            )
    return {k: np.array(v, dtype=float) for k, v in results.items()}, times


def run_quality(utterances, estimates, sr=SR):
    """Seconds per second of audio of each metric, over every estimate."""
    metrics = {
        "BSS Eval (fast, reference reused)": None,
        "STOI": lambda s, e: stoi(s, e, sr=sr),
        "ESTOI": lambda s, e: stoi(s, e, sr=sr, extended=True),
    }
    if importlib.util.find_spec("pesq") is not None:
        metrics["PESQ wide-band"] = lambda s, e: pesq(s, e, sr=sr)
        metrics["PESQ narrow-band"] = lambda s, e: pesq(s, e, sr=sr, mode="nb")
    else:
        print("pesq not installed (pip install skblsh[pesq]): PESQ skipped")
    pairs = zip(utterances, estimates, strict=True)
    audio_s = sum(len(s) * len(ests) for (s, _, _), ests in pairs) / sr
    cost = {}
    for name, metric in metrics.items():
        start = time.perf_counter()
        for (s, _, m), ests in zip(utterances, estimates, strict=True):
            if metric is None:
                reference = BSSEvalReference(s, m)
                for e in ests.values():
                    reference.score(e)
            else:
                for e in ests.values():
                    metric(s, e)
        cost[name] = (time.perf_counter() - start) / audio_s
    return cost


def main():
    default_corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--n-utterances", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads for every backend (default: the library's default)",
    )
    args = parser.parse_args()

    utterances = load_utterances(
        args.corpus.resolve(), args.n_utterances, args.seconds, args.seed
    )
    rng = np.random.default_rng(args.seed)
    estimates = [make_estimates(*u, rng) for u in utterances]
    n_est = len(estimates[0])
    print(
        f"{len(utterances)} utterances x {n_est} estimates, {args.seconds:g} s each, "
        f"BLAS threads: {args.threads or 'default'}"
    )
    with threadpool_limits(args.threads):
        results, times = run(utterances, estimates)

    reference = results["mir_eval"]
    meaningful = reference < 100
    header = f"{'backend':32s} {'time (s)':>9s} {'speed-up':>9s}"
    print(f"\n{header}   max |delta| dB vs mir_eval")
    print(f"{'':32s} {'':9s} {'':9s}   {'SDR':>9s} {'SIR':>9s} {'SAR':>9s}")
    for name, value in results.items():
        delta = np.where(meaningful, np.abs(value - reference), 0.0).max(axis=(0, 1))
        print(
            f"{name:32s} {times[name]:9.2f} {times['mir_eval'] / times[name]:8.1f}x   "
            + " ".join(f"{d:9.1e}" for d in delta)
        )
    names = list(estimates[0])
    print("\nmean mir_eval SDR per estimate type (dB):")
    for k, name in enumerate(names):
        print(f"  {name:16s} {reference[:, k, 0].mean():6.2f}")
    print(f"left out as > 100 dB: {np.sum(~meaningful)} of {meaningful.size} values")

    with threadpool_limits(args.threads):
        cost = run_quality(utterances, estimates)
    reference = cost["BSS Eval (fast, reference reused)"]
    print(f"\n{'metric':34s} {'ms per s of audio':>18s} {'x BSS Eval':>11s}")
    for name, value in cost.items():
        print(f"{name:34s} {1000 * value:18.1f} {value / reference:10.2f}x")


if __name__ == "__main__":
    main()
