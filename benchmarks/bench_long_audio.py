"""Denoising an hour of audio: peak memory and time of the block-wise predict.

Fits ``MaskingSeparator(make_separator_pipeline(64, 10, hasher="random"))``
(RandomLSH, 64 bits, K=10) on the embedded demo training set, tiles the demo
test mixtures into one ``--minutes``-long 16 kHz recording, and measures, each
in a fresh subprocess so that peaks do not mix:

* ``predict``: ``separator.predict([y])`` on the whole recording, with the
  resident memory before it and the peak during it (Linux ``VmHWM``, reset
  just before the call), i.e. the growth the call causes beyond the input
  waveform and the loaded dictionary;
* ``one-shot``: the pre-blocking path ``istft(stft(y) * mask)`` on the first
  ``--ref-minutes`` of the same recording, the reference this run compares
  against (its memory grows linearly with the length, so it is extrapolated
  to the full recording rather than run on it);
* ``cli``: ``skblsh denoise --model model.joblib long.wav -o out``, the whole
  command (read, denoise, write) against a child that only imports skblsh and
  loads the model.

Usage::

    python benchmarks/bench_long_audio.py [--minutes 60] [--ref-minutes 2]
                                          [--block-frames 2048]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from skblsh.datasets import load_demo, write_audio
from skblsh.persistence import save_model
from skblsh.separation import MaskingSeparator, make_separator_pipeline

SR = 16000

_PEAK = r"""
def reset_peak():
    # Linux: writing 5 to clear_refs resets the peak RSS (VmHWM), so import-
    # time transients (numba, librosa) do not hide the peak of what follows.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

def rss_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
"""

_CHILD = (
    _PEAK
    + r"""
import json, sys, time
import numpy as np
from skblsh.datasets import read_audio
from skblsh.persistence import load_model
from skblsh.separation import istft, stft

mode, model_path, wav, block_frames, ref_minutes = sys.argv[1:6]
sep = load_model(model_path).set_params(block_frames=int(block_frames))
y = read_audio(wav, sr=sep.sr)
if mode == "one-shot":
    y = y[: int(float(ref_minutes) * 60 * sep.sr)].copy()
sep.predict([y[: 10 * sep.sr]])  # warm-up: compilation and caches
reset_peak()
before = rss_mb("VmRSS")
t0 = time.perf_counter()
if mode == "predict":
    (out,) = sep.predict([y])
else:
    Z = stft(y)
    mask = np.clip(sep.estimator_.predict(np.abs(Z).astype(np.float32)), 0, 1)
    out = istft(Z * mask, length=len(y)).astype(y.dtype)
seconds = time.perf_counter() - t0
assert len(out) == len(y) and np.all(np.isfinite(out))
print(json.dumps({"before_mb": before, "peak_mb": rss_mb("VmHWM"), "seconds": seconds,
                  "input_mb": y.nbytes / 2**20, "minutes": len(y) / sep.sr / 60}))
"""
)

_CLI = (
    _PEAK
    + r"""
import json, sys, time
from skblsh import cli
from skblsh.persistence import load_model

model, wav, out, block_frames = sys.argv[1:5]
# The CLI uses the model's own block_frames; set it as a user would refit it.
load = cli._load_separator
cli._load_separator = lambda path: (
    lambda sep_meta: (sep_meta[0].set_params(block_frames=int(block_frames)),
                      sep_meta[1]))(load(path))
reset_peak()
t0 = time.perf_counter()
status = cli.main(["-q", "denoise", "--model", model, wav, "-o", out])
assert status == 0
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": rss_mb("VmHWM")}))
"""
)

_BASELINE = (
    _PEAK
    + r"""
import sys
from skblsh.persistence import load_model
load_model(sys.argv[1])
print(rss_mb("VmRSS"))
"""
)


def _run(code, *args):
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--ref-minutes", type=float, default=2.0)
    parser.add_argument("--block-frames", type=int, default=2048)
    args = parser.parse_args()

    demo = load_demo(random_state=0)
    pipe = make_separator_pipeline(64, 10, hasher="random", random_state=0)
    t0 = time.perf_counter()
    sep = MaskingSeparator(pipe).fit(demo.mixtures_train, demo.sources_train)
    print(
        f"fitted RandomLSH(64), K=10 on {sep.n_frames_} dictionary frames "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    n = int(args.minutes * 60 * SR)
    piece = np.concatenate(demo.mixtures_test).astype(np.float32)
    y = np.resize(piece, n)
    y *= 0.9 / np.max(np.abs(y))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = save_model(sep, tmp / "model.joblib")
        wav = write_audio(tmp / "long.wav", y, sr=SR)
        del y
        print(
            f"input: {args.minutes:g} min at {SR} Hz, {n:,} samples "
            f"({n * 4 / 2**20:.0f} MiB as float32), block_frames={args.block_frames}"
        )
        results = {}
        for mode in ("predict", "one-shot"):
            results[mode] = json.loads(
                _run(_CHILD, mode, model, wav, args.block_frames, args.ref_minutes)
            )
        baseline_mb = float(_run(_BASELINE, model))
        cli = json.loads(_run(_CLI, model, wav, tmp / "out", args.block_frames))

    print(
        "\n| path | audio (min) | time (s) | RSS before (MiB) | peak (MiB) | "
        "growth (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for mode, r in results.items():
        print(
            f"| {mode} | {r['minutes']:.1f} | {r['seconds']:.1f} | "
            f"{r['before_mb']:.0f} | {r['peak_mb']:.0f} | "
            f"{r['peak_mb'] - r['before_mb']:.0f} |"
        )
    print(
        f"| skblsh denoise (read+denoise+write) | {args.minutes:g} | "
        f"{cli['seconds']:.1f} | {baseline_mb:.0f} (import + model) | "
        f"{cli['peak_mb']:.0f} | {cli['peak_mb'] - baseline_mb:.0f} |"
    )
    blocked, one = results["predict"], results["one-shot"]
    per_min = (one["peak_mb"] - one["before_mb"]) / one["minutes"]
    grow = blocked["peak_mb"] - blocked["before_mb"]
    print(
        f"\none-shot growth: {per_min:.0f} MiB per minute of audio, i.e. "
        f"~{per_min * args.minutes / 1024:.1f} GiB extrapolated to "
        f"{args.minutes:g} min; block-wise: {grow:.0f} MiB for all of it "
        f"(ratio {per_min * args.minutes / max(grow, 1):.0f}x). "
        f"Speed: {blocked['minutes'] * 60 / blocked['seconds']:.0f}x real time "
        f"block-wise, {one['minutes'] * 60 / one['seconds']:.0f}x one-shot."
    )


if __name__ == "__main__":
    main()
