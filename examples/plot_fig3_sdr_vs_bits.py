"""
==============================================
Fig. 3: SDR against code length
==============================================

Reproduces the shape of Fig. 3 of the paper on the demo data: the SDR of kNN
separation with :class:`~skblsh.BoostedLSH` and :class:`~skblsh.RandomLSH`
codes as the code length L grows, with a 10% and a 1% dictionary. Each
dictionary is a random subset of the training frames, drawn again (with a new
hasher seed) for every repeat; bands are mean ± std over the repeats. The
full-corpus version is ``benchmarks/reproduce_paper.py``.

Two shortcuts, both exact: boosting and the random projections are built bit
by bit, so the first L bits of a 64-bit code *are* the L-bit code (we fit once
and keep prefixes), and each test utterance's BSS Eval decomposition is
prepared once with :class:`~skblsh.metrics.BSSEvalReference` and reused.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from skblsh import (
    BoostedLSH,
    HammingKNeighborsRegressor,
    RandomLSH,
    SpectralFeatures,
    pack_bits,
    unpack_bits,
)
from skblsh.datasets import load_demo
from skblsh.metrics import BSSEvalReference
from skblsh.separation import apply_masks, make_frames, stft

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))
BITS = [8, 32] if QUICK else [8, 16, 32, 64]
REPEATS = 2 if QUICK else 3
FRACTIONS = [0.1, 0.01]

demo = load_demo(random_state=0)
X, Y, _ = make_frames(demo.mixtures_train, demo.sources_train)
features = SpectralFeatures().fit(X)
F = features.transform(X)

# Test side, computed once: STFTs, features and BSS Eval references.
Z = [stft(m) for m in demo.mixtures_test]
Fq = features.transform(np.concatenate([np.abs(z) for z in Z]).astype(np.float32))
refs = [
    BSSEvalReference(s, m)
    for s, m in zip(demo.sources_test, demo.mixtures_test, strict=True)
]
weights = np.array([len(m) for m in demo.mixtures_test], dtype=float)


def sdr(masks):
    """Length-weighted mean SDR of the test set for stacked frame masks."""
    estimates = apply_masks(demo.mixtures_test, masks)
    scores = [ref.score(e)[0] for ref, e in zip(refs, estimates, strict=True)]
    return np.average(scores, weights=weights)


# %%
# SDR for every (hasher, dictionary, L, repeat).
results = {}
for frac in FRACTIONS:
    for rep in range(REPEATS):
        rng = np.random.RandomState(rep)
        keep = rng.choice(len(F), size=int(frac * len(F)), replace=False)
        for name, Hasher in [("BoostedLSH", BoostedLSH), ("RandomLSH", RandomLSH)]:
            hasher = Hasher(max(BITS), random_state=rep).fit(F[keep])
            bits_d = unpack_bits(hasher.transform(F[keep]), max(BITS))
            bits_q = unpack_bits(hasher.transform(Fq), max(BITS))
            for L in BITS:
                knn = HammingKNeighborsRegressor(n_neighbors=10)
                knn.fit(pack_bits(bits_d[:, :L]), Y[keep])
                masks = knn.predict(pack_bits(bits_q[:, :L]))
                results.setdefault((name, frac, L), []).append(sdr(masks))
    print(f"{frac:.0%} dictionary ({int(frac * len(F))} frames) done")

# %%
# Mean ± std over the repeats.
fig, ax = plt.subplots(figsize=(6, 4))
for name, color in [("BoostedLSH", "C0"), ("RandomLSH", "C3")]:
    for frac, style in zip(FRACTIONS, ["-", "--"], strict=True):
        runs = np.array([results[(name, frac, L)] for L in BITS])
        mean, std = runs.mean(axis=1), runs.std(axis=1)
        ax.plot(BITS, mean, style, color=color, marker="o", label=f"{name}, {frac:.0%}")
        ax.fill_between(BITS, mean - std, mean + std, color=color, alpha=0.15)
        print(
            f"{name:10s} {frac:4.0%}: "
            + "  ".join(
                f"L={L}: {m:.2f}±{s:.2f}"
                for L, m, s in zip(BITS, mean, std, strict=True)
            )
        )
ax.set_xscale("log", base=2)
ax.set_xticks(BITS, [str(b) for b in BITS])
ax.set_xlabel("code length L (bits)")
ax.set_ylabel("SDR (dB)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
