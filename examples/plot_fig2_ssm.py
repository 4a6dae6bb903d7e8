"""
=======================================================
Fig. 2: self-similarity of learned and random codes
=======================================================

Reproduces Fig. 2 of the paper on the demo data. The ground-truth
self-similarity matrix (SSM) of a stretch of mixture frames is their cosine
similarity, clipped at zero (the target :class:`~skblsh.BoostedLSH` fits).
The SSM of L-bit codes is the fraction of agreeing bits,
``1 - hamming / L``. With a few boosted bits the block structure of speech
and pauses is already visible; random bits need many more.

The second plot follows the mean absolute error and the correlation between
each code SSM and the ground truth as bits are added: BoostedLSH (plain and
weighted by its ``bit_weights_``) against :class:`~skblsh.RandomLSH`.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from skblsh import BoostedLSH, RandomLSH, SpectralFeatures
from skblsh.codes import unpack_bits
from skblsh.datasets import load_demo
from skblsh.separation import make_frames

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))
N_BITS = 60 if QUICK else 200
SHOWN = (5, 20, 60) if QUICK else (5, 50, 200)

demo = load_demo(random_state=0)
X, Y, _ = make_frames(demo.mixtures_train, demo.sources_train)
features = SpectralFeatures().fit(X)
rng = np.random.RandomState(0)
idx = rng.choice(len(X), 300 if QUICK else 600, replace=False)
train = features.transform(X[idx])

# %%
# Fit both hashers on training frames, then look at 200 frames of a test
# mixture.
boosted = BoostedLSH(N_BITS, random_state=0).fit(train)
random = RandomLSH(N_BITS, random_state=0).fit(train)

Xq, _, _ = make_frames(demo.mixtures_test[:1], demo.sources_test[:1])
F = features.transform(Xq[:200])
truth = np.clip(F @ F.T, 0, 1)


def signs(hasher, F):
    return 2.0 * unpack_bits(hasher.transform(F), N_BITS) - 1.0


def code_ssm(S, L, weights=None):
    w = np.ones(L) if weights is None else weights[:L]
    return ((S[:, :L] * w) @ S[:, :L].T / w.sum() + 1) / 2


Sb, Sr = signs(boosted, F), signs(random, F)
fig, axes = plt.subplots(2, 4, figsize=(10, 5.2))
for row, (name, S) in enumerate([("BoostedLSH", Sb), ("RandomLSH", Sr)]):
    axes[row, 0].imshow(truth, cmap="magma", vmin=0, vmax=1)
    axes[row, 0].set_title("ground truth", fontsize=9)
    for ax, L in zip(axes[row, 1:], SHOWN, strict=True):
        ax.imshow(code_ssm(S, L), cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"{name}, L={L}", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %%
# SSM error and correlation with the ground truth as bits are added, on 300
# random held-out frames from all test mixtures (off-diagonal pairs). Balanced
# bits make a code SSM average 1/2 over the training pairs, so part of the
# absolute error is an offset; the correlation shows the structure alone.
Xt, _, _ = make_frames(demo.mixtures_test, demo.sources_test)
F = features.transform(Xt[rng.choice(len(Xt), 300, replace=False)])
truth = np.clip(F @ F.T, 0, 1)
Sb, Sr = signs(boosted, F), signs(random, F)
off = ~np.eye(len(F), dtype=bool)
Ls = np.arange(1, N_BITS + 1)


def curves(S, weights=None):
    ssms = [code_ssm(S, L, weights)[off] for L in Ls]
    err = [np.abs(s - truth[off]).mean() for s in ssms]
    corr = [np.corrcoef(s, truth[off])[0, 1] if s.std() > 0 else 0 for s in ssms]
    return np.array(err), np.array(corr)


results = {
    "BoostedLSH": curves(Sb),
    "BoostedLSH, β-weighted": curves(Sb, boosted.bit_weights_ + 1e-12),
    "RandomLSH": curves(Sr),
}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
for name, (err, corr) in results.items():
    ax1.plot(Ls, err, label=name)
    ax2.plot(Ls, corr, label=name)
ax1.set_ylabel("mean |code SSM - ground truth|")
ax2.set_ylabel("correlation with ground truth")
for ax in (ax1, ax2):
    ax.set_xlabel("number of bits L")
    ax.grid(alpha=0.3)
ax2.legend()
fig.tight_layout()
for name, (err, corr) in results.items():
    print(f"L={N_BITS}: {name:24s} error {err[-1]:.3f}  correlation {corr[-1]:.3f}")
plt.show()
