"""
=====================================================
Hashing beyond audio: retrieval on handwritten digits
=====================================================

The hashers are ordinary scikit-learn transformers, so they work on any
feature matrix. On :func:`~sklearn.datasets.load_digits` we compare
:class:`~skblsh.BoostedLSH` and :class:`~skblsh.RandomLSH` codes for
retrieval: for each test image, the share of its 10 Hamming-nearest training
images with the same label (precision@10). BoostedLSH can also learn from the
labels: with ``similarity="target"`` its target SSM is the similarity of the
one-hot labels, i.e. supervised hashing.

Finally the codes are used as features in a classification pipeline.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skblsh import (
    BoostedLSH,
    HammingNearestNeighbors,
    RandomLSH,
    pack_bits,
    unpack_bits,
)

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))
BITS = [8, 32] if QUICK else [8, 16, 32, 64]

X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:700], y[:700]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
onehot = np.eye(10)[y_train]


def precision_at_10(bits_train, bits_test):
    nn = HammingNearestNeighbors(n_neighbors=10).fit(pack_bits(bits_train))
    ind = nn.kneighbors(pack_bits(bits_test), return_distance=False)
    return np.mean(y_train[ind] == y_test[:, None])


# Three segments of 1000 pairs' rows are plenty for 64-dimensional inputs and
# keep the fit to a few seconds.
L_max = max(BITS)
hashers = {
    "RandomLSH": RandomLSH(L_max, random_state=0).fit(X_train),
    "BoostedLSH": BoostedLSH(L_max, n_segments=3, random_state=0).fit(X_train),
    "BoostedLSH (labels)": BoostedLSH(
        L_max, n_segments=3, similarity="target", random_state=0
    ).fit(X_train, onehot),
}
# Codes are built bit by bit, so the first L bits of the L_max-bit code are
# the L-bit code: fit once, evaluate prefixes.
precision = {}
for name, hasher in hashers.items():
    bits_train = unpack_bits(hasher.transform(X_train), L_max)
    bits_test = unpack_bits(hasher.transform(X_test), L_max)
    precision[name] = [
        precision_at_10(bits_train[:, :L], bits_test[:, :L]) for L in BITS
    ]
    print(
        f"{name:20s}",
        "  ".join(
            f"L={L}: {v:.3f}" for L, v in zip(BITS, precision[name], strict=True)
        ),
    )

fig, ax = plt.subplots(figsize=(5.5, 3.8))
for name, p in precision.items():
    ax.plot(BITS, p, marker="o", label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(BITS, [str(b) for b in BITS])
ax.set_xlabel("code length L (bits)")
ax.set_ylabel("precision@10")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# Codes as features. The hashers output packed bytes; ``unpack_bits`` turns
# them into 0/1 columns a linear model can weigh.
L = 32
for name, hasher in [
    ("RandomLSH", RandomLSH(L, random_state=0)),
    ("BoostedLSH", BoostedLSH(L, n_segments=3, random_state=0)),
]:
    clf = make_pipeline(
        StandardScaler(),
        hasher,
        FunctionTransformer(unpack_bits),
        LogisticRegression(max_iter=1000),
    )
    scores = cross_val_score(clf, X, y, cv=3)
    print(f"{name} {L}-bit codes + logistic regression: accuracy {scores.mean():.3f}")
plt.show()
