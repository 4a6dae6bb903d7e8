"""
==============================================
Grid search over code length and neighbours
==============================================

:class:`~skblsh.MaskingSeparator` is a scikit-learn estimator whose ``X`` is a
list of mixtures and ``y`` the list of clean sources, so it drops into
:class:`~sklearn.model_selection.GridSearchCV`. Nested parameters reach the
frame-level pipeline (``estimator__hash__n_bits``,
``estimator__knn__n_neighbors``), :func:`~skblsh.metrics.sdr_scorer` scores
the utterances with BSS Eval, and :class:`~sklearn.model_selection.GroupKFold`
keeps the two mixtures of one utterance in the same fold.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold

from skblsh import MaskingSeparator, make_separator_pipeline
from skblsh.datasets import load_demo
from skblsh.metrics import sdr_scorer

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))

demo = load_demo(random_state=0)
# A subset of the training utterances keeps the example fast; each utterance
# appears in two mixtures (two noise types), identified by groups_train.
n_mix = 12 if QUICK else 16
mixtures, sources = demo.mixtures_train[:n_mix], demo.sources_train[:n_mix]
groups = demo.groups_train[:n_mix]

param_grid = {
    "estimator__hash__n_bits": [16, 32] if QUICK else [16, 64],
    "estimator__knn__n_neighbors": [1, 10] if QUICK else [1, 5, 20],
}
search = GridSearchCV(
    MaskingSeparator(
        make_separator_pipeline(random_state=0),
        dictionary_fraction=0.1 if QUICK else 0.2,
        # The test suite's quick run searches the kNN stage alone: the
        # refinement stage trains a network in every fit.
        refine=False if QUICK else "auto",
        random_state=0,
    ),
    param_grid,
    scoring=sdr_scorer,
    cv=GroupKFold(n_splits=2),
    refit=False,  # only the scores are needed here
)
search.fit(mixtures, sources, groups=groups)
print("best:", search.best_params_, f"SDR {search.best_score_:.2f} dB")

# %%
# The cross-validated SDR as a heat map.
bits = param_grid["estimator__hash__n_bits"]
ks = param_grid["estimator__knn__n_neighbors"]
scores = np.empty((len(bits), len(ks)))
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    scores[
        bits.index(params["estimator__hash__n_bits"]),
        ks.index(params["estimator__knn__n_neighbors"]),
    ] = score

fig, ax = plt.subplots(figsize=(4.5, 3.5))
im = ax.imshow(scores, cmap="viridis", origin="lower")
for (r, c), v in np.ndenumerate(scores):
    ax.text(c, r, f"{v:.1f}", ha="center", va="center", color="w")
ax.set_xticks(range(len(ks)), ks)
ax.set_yticks(range(len(bits)), bits)
ax.set_xlabel("n_neighbors K")
ax.set_ylabel("n_bits L")
fig.colorbar(im, label="mean CV SDR (dB)")
fig.tight_layout()
plt.show()
