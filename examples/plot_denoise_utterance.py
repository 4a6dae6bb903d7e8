"""
=========================
Denoise one utterance
=========================

Fit the paper's separator (spectral features, :class:`~skblsh.BoostedLSH`
codes, Hamming kNN over ideal binary masks) on the demo training mixtures,
denoise one held-out utterance, and compare the spectrograms and masks. The
SDR of the estimate is printed beside the unprocessed mixture's.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from skblsh import MaskingSeparator, make_separator_pipeline
from skblsh.datasets import load_demo
from skblsh.metrics import separation_report
from skblsh.separation import ideal_binary_mask, stft

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))

# %%
# Load the demo task: 54 training mixtures (0 dB SNR) and 9 test mixtures of
# held-out utterances and held-out noise clips.
demo = load_demo(snr_db=0.0, random_state=0)
print(demo.DESCR.splitlines()[-1])

# %%
# Fit the separator. ``dictionary_fraction`` keeps a random subset of the
# training frames as the kNN dictionary, as in the paper's 10% / 1% settings.
separator = MaskingSeparator(
    make_separator_pipeline(n_bits=64, n_neighbors=10, random_state=0),
    dictionary_fraction=0.05 if QUICK else 0.1,
    random_state=0,
)
separator.fit(demo.mixtures_train, demo.sources_train)
print(f"dictionary: {separator.n_frames_} frames")

# %%
# Denoise one test utterance and score it with BSS Eval.
i = 0
mixture, clean = demo.mixtures_test[i], demo.sources_test[i]
(estimate,) = separator.predict([mixture])
report = separation_report([clean, clean], [estimate, mixture], [mixture, mixture])
print(f"SDR of the estimate: {report.sdr[0]:.1f} dB (mixture: {report.sdr[1]:.1f} dB)")

# %%
# Spectrograms (dB) and masks, frequency on the vertical axis.


def db(y):
    return 20 * np.log10(np.abs(stft(y)).T + 1e-6)


panels = [
    ("mixture", db(mixture)),
    ("clean speech", db(clean)),
    (f"BoostedLSH estimate ({report.sdr[0]:.1f} dB SDR)", db(estimate)),
    ("ideal binary mask", ideal_binary_mask(mixture, clean).T),
    ("predicted mask", separator.predict_mask(mixture).T),
]
fig, axes = plt.subplots(len(panels), 1, figsize=(7, 9), sharex=True)
vmax = panels[0][1].max()
for ax, (title, image) in zip(axes, panels, strict=True):
    is_mask = "mask" in title
    ax.imshow(
        image,
        origin="lower",
        aspect="auto",
        cmap="gray_r" if is_mask else "magma",
        vmin=0 if is_mask else vmax - 80,
        vmax=1 if is_mask else vmax,
        extent=[0, len(mixture) / demo.sr, 0, demo.sr / 2000],
    )
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("kHz")
axes[-1].set_xlabel("time (s)")
fig.tight_layout()
plt.show()
