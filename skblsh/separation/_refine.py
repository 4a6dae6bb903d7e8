"""Learned refinement of the estimator's masks, before post-processing.

The kNN average of the neighbours' masks is decided by the frame distance,
which the loud low-frequency bins dominate: above 1 kHz the neighbours' masks
say little about the query and their average falls back towards the
dictionary's prior, removing most of the speech that STOI listens to. A small
per-bin classifier sees what the frame distance ignores - the bin's
a-posteriori SNR against the recording's noise floor, its level relative to
the recording - beside the kNN mask around the bin, and predicts the
probability that speech dominates the bin. It is trained in ``fit`` on
*cross-fitted* kNN masks (each training recording masked by an estimator
fitted without its group), so it learns how far to trust the search on audio
the dictionary has not heard. The validation numbers behind it are in
``docs/user_guide/separator.rst``.

Features of bin ``f`` of frame ``t`` (:func:`refine_features`). Averages
over frames repeat the recording's first or last frame beyond its edges,
like the post-processing, so a blocked run reproduces the one-shot one:

0. ``m``: the raw mask averaged over frames ``t - 1 .. t + 1``;
1. ``m`` averaged over bins ``f - 3 .. f + 3``; 2. over frames ``t - 2 ..
   t + 2``; 3. over all bins of the frame;
4. ``p = log10(|X|^2 / N^2 + 1e-3)``, ``N`` the recording's noise floor (per
   bin, the 10th percentile of its magnitudes); 5. ``p`` averaged over
   frames ``t - 1 .. t + 1``; 6. that averaged over bins ``f - 3 .. f + 3``;
7. ``log10(|X| / level + 1e-6)`` and 8. ``log10(frame norm / level +
   1e-6)``, ``level`` the recording's level (gain-invariant, like 4-6);
9. the bin's frequency as a fraction of Nyquist.
"""

import hashlib
import warnings

import numpy as np
from numba import njit, prange
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ..stft import stft_frames

__all__ = ["MaskRefiner", "noise_floor", "refine_features", "source_groups"]

#: Raw-mask frames needed beyond each side of the frames being refined.
MARGIN = 3
N_FEATURES = 10
# Bounded memory for long recordings: the floor's percentile reads at most
# this many frames, evenly spread over the recording.
FLOOR_FRAMES = 4096
# Bins the refiner is trained on: enough for a 10 -> 16 -> 1 network,
# small enough to keep ``fit`` within seconds.
TRAIN_FRAMES = 3000


def noise_floor(y, n_frames_total, *, n_fft, hop_length, q=10.0):
    """Per-bin ``q``-th percentile of the magnitudes of a recording's frames.

    Reads at most ``FLOOR_FRAMES`` frames (every ``step``-th), in blocks, so
    memory stays bounded however long the recording.
    """
    step = max(1, -(-n_frames_total // FLOOR_FRAMES))
    picked = []
    block = 512 * step
    for f0 in range(0, n_frames_total, block):
        f1 = min(f0 + block, n_frames_total)
        Z = stft_frames(y, f0, f1, n_fft=n_fft, hop_length=hop_length)
        picked.append(np.abs(Z[::step]))
    return np.percentile(np.concatenate(picked), q, axis=0)


def _frame_mean(A, s0, lo, hi, n_total, radius):
    """Mean of rows ``t - radius .. t + radius`` (clipped to the recording)
    of ``A`` (rows ``s0, s0 + 1, ...``) for ``t`` in ``[lo, hi)``."""
    t = np.arange(lo, hi)
    out = np.zeros((hi - lo, A.shape[1]), dtype=np.float32)
    # A fixed order of offsets: blocked and one-shot runs add the same
    # numbers in the same order.
    for offset in range(-radius, radius + 1):
        out += A[np.clip(t + offset, 0, n_total - 1) - s0]
    return out / np.float32(2 * radius + 1)


def _bin_mean(A, radius):
    """Mean over bins ``f - radius .. f + radius``, edges repeated."""
    c = np.cumsum(
        np.pad(A, ((0, 0), (radius + 1, radius)), mode="edge"),
        axis=1,
        dtype=np.float64,
    )
    width = 2 * radius + 1
    return ((c[:, width:] - c[:, :-width]) / width).astype(np.float32)


def refine_features(raw, m0, magnitudes, a, lo, hi, n_total, floor, level):
    """Per-bin features of frames ``[lo, hi)``, shape ``((hi - lo) * n_bins, 10)``.

    ``raw`` holds the raw masks of frames ``m0, m0 + 1, ...`` and must cover
    ``[lo - 3, hi + 3)`` clipped to the recording (``MARGIN``);
    ``magnitudes`` the STFT magnitudes of frames ``a, a + 1, ...``, covering
    ``[lo - 1, hi + 1)`` clipped. ``floor`` is :func:`noise_floor` and
    ``level`` the recording's level (positive).
    """
    raw = np.clip(raw, 0.0, 1.0).astype(np.float32, copy=False)
    n_bins = raw.shape[1]
    # m on [lo - 2, hi + 2) (clipped), from which its frame average reads.
    e0, e1 = max(lo - 2, 0), min(hi + 2, n_total)
    m_ext = _frame_mean(raw, m0, e0, e1, n_total, 1)
    m = m_ext[lo - e0 : hi - e0]
    m_t = _frame_mean(m_ext, e0, lo, hi, n_total, 2)
    floor2 = np.maximum(np.asarray(floor, dtype=np.float64), 1e-6 * level) ** 2
    # p on [lo - 1, hi + 1) (clipped), for its frame average.
    p0, p1 = max(lo - 1, 0), min(hi + 1, n_total)
    X = magnitudes[p0 - a : p1 - a].astype(np.float64)
    p_ext = np.log10(X * X / floor2 + 1e-3).astype(np.float32)
    p = p_ext[lo - p0 : hi - p0]
    p_t = _frame_mean(p_ext, p0, lo, hi, n_total, 1)
    X = X[lo - p0 : hi - p0]
    rel = np.log10(X / level + 1e-6).astype(np.float32)
    frame = np.log10(np.sqrt(np.sum(X * X, axis=1)) / level + 1e-6).astype(np.float32)
    shape = m.shape
    columns = [
        m,
        _bin_mean(m, 3),
        m_t,
        np.broadcast_to(m.mean(axis=1, keepdims=True), shape),
        p,
        p_t,
        _bin_mean(p_t, 3),
        rel,
        np.broadcast_to(frame[:, None], shape),
        np.broadcast_to(np.linspace(0.0, 1.0, n_bins, dtype=np.float32), shape),
    ]
    return np.stack([np.ravel(c) for c in columns], axis=1).astype(np.float32)


@njit(nogil=True, parallel=True, cache=True)
def _forward(F, W1, b1, w2, b2, out):
    """One-hidden-layer ReLU network with a sigmoid output, row by row (each
    row's arithmetic is the same however many rows a call gets)."""
    n, d = F.shape
    h = W1.shape[1]
    for r in prange(n):
        hidden = b1.copy()
        for i in range(d):
            x = F[r, i]
            for j in range(h):
                hidden[j] += x * W1[i, j]
        z = b2
        for j in range(h):
            if hidden[j] > 0:
                z += hidden[j] * w2[j]
        out[r] = 1.0 / (1.0 + np.exp(-z))


class MaskRefiner:
    """A fitted per-bin mask refiner (see the module docstring).

    Training goes through scikit-learn (``StandardScaler`` and
    ``MLPClassifier``, kept as ``scaler_`` and ``network_``); prediction
    runs the same network, the scaler folded into its first layer, in a
    numba kernel whose per-row arithmetic does not depend on the batch, so
    blocked and one-shot runs agree exactly.

    Parameters
    ----------
    hidden : int, default=16
        Hidden units of the network.
    random_state : int or RandomState, default=None
        Seed of the network's initialisation and of its mini-batches.
    """

    def __init__(self, hidden=16, random_state=None):
        self.hidden = hidden
        self.random_state = random_state

    def fit(self, F, y):
        """Fit on per-bin features ``F`` and binary labels ``y``."""
        scaler = StandardScaler().fit(F)
        batch = min(4096, len(F))
        # Six epochs of the ~1.5M bins a real fit samples (more barely move
        # the validation scores); small training sets get more epochs, for
        # at least ~2000 steps in all.
        epochs = int(min(200, max(6, np.ceil(2000 * batch / len(F)))))
        net = MLPClassifier(
            (self.hidden,),
            batch_size=batch,
            learning_rate_init=3e-3,
            max_iter=epochs,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # A fixed budget of epochs, by design (above).
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(scaler.transform(F), y)
        self.scaler_, self.network_ = scaler, net
        if len(net.classes_) < 2:
            # One class in the training bins: a constant answer.
            self.W1_ = np.zeros((F.shape[1], self.hidden), np.float32)
            self.b1_ = np.zeros(self.hidden, np.float32)
            self.w2_ = np.zeros(self.hidden, np.float32)
            self.b2_ = np.float32(20.0 if net.classes_[0] else -20.0)
            return self
        # The scaler folded into the first layer.
        W1 = net.coefs_[0] / scaler.scale_[:, None]
        self.W1_ = W1.astype(np.float32)
        self.b1_ = (net.intercepts_[0] - scaler.mean_ @ W1).astype(np.float32)
        self.w2_ = net.coefs_[1][:, 0].astype(np.float32)
        self.b2_ = np.float32(net.intercepts_[1][0])
        return self

    def predict(self, F):
        """Probability that speech dominates each bin, float64."""
        out = np.empty(len(F), dtype=np.float32)
        _forward(np.ascontiguousarray(F), self.W1_, self.b1_, self.w2_, self.b2_, out)
        return out.astype(np.float64)


def source_groups(sources):
    """Group index of every training pair: pairs sharing a clean source."""
    seen, groups = {}, []
    for s in sources:
        key = hashlib.sha1(np.ascontiguousarray(s).view(np.uint8)).hexdigest()
        groups.append(seen.setdefault(key, len(seen)))
    return np.asarray(groups)
