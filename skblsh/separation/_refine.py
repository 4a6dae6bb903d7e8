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
4. ``p = log(|X|^2 / N^2 + 1e-3)``, ``N`` the recording's noise floor (per
   bin, the 10th percentile of its magnitudes); 5. ``p`` averaged over
   frames ``t - 1 .. t + 1``; 6. that averaged over bins ``f - 3 .. f + 3``;
7. ``log(|X| / level + 1e-6)`` and 8. ``log(frame norm / level + 1e-6)``,
   ``level`` the recording's level (gain-invariant, like 4-6);
9. the bin's frequency as a fraction of Nyquist;
10. the maximum of ``m`` and 11. of ``p`` over frames ``t - 1 .. t + 1``:
    whether speech is near the bin in time. The averages miss it at the
    edges of speech. On the validation splits these two gave STOI
    +0.002 / +0.002 / +0.002 at -5 / 0 / +5 dB and SDR -0.01 / +0.04 /
    +0.15 dB, each of three fits gaining STOI at every SNR;
12. ``q = log(|X|^2 / P + 1e-3)``, ``P`` the recording's noise spectrum
    (:func:`noise_spectrum`: each bin's power averaged over the frames
    with weights ``1 - raw mask``, where the search says noise), and 13.
    ``q`` averaged over frames ``t - 1 .. t + 1``. The floor of 4-6 sits
    under any noise that is not stationary; ``P`` is its mean. On the
    validation splits these two gave SDR +0.34 / +0.21 / +0.07 dB at -5 /
    0 / +5 dB at equal STOI (three fits).

Refiners saved with fewer features (before 10-13 existed) read those
alone: the kernel feeds the network as many as it has inputs.

The network's inference runs in a numba kernel that builds one frame's
features at a time and never stores them: at the default settings the whole
stage costs about as much as the kNN search.
"""

import warnings

import numpy as np
from numba import njit, prange
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ..stft import stft_frames
from ._postprocess import frame_mean

__all__ = [
    "MaskRefiner",
    "check_mask_bias",
    "fidelity_bias",
    "floor_step",
    "noise_spectrum",
    "noise_statistics",
    "recording_statistics",
    "refine_features",
]

#: Raw-mask frames needed beyond each side of the frames being refined.
MARGIN = 3
N_FEATURES = 14
# Column of the bin's frequency (band_weights reads it).
FREQUENCY = 9
# Bounded memory for long recordings: the floor's percentile reads at most
# this many frames, evenly spread over the recording.
FLOOR_FRAMES = 4096
FLOOR_PERCENTILE = 10.0
# mask_bias="auto": log-odds added below LOW_HZ and from HIGH_HZ up, outside
# STOI's third-octave bands (134 Hz to 4.3 kHz) with a margin for the two
# analyses' spectral leakage.
LOW_HZ, LOW_BIAS = 100.0, -1.0
HIGH_HZ, HIGH_BIAS = 4400.0, -2.0


def floor_step(n_frames_total):
    """Every how many frames the recording-wide statistics read a frame:
    at most ``FLOOR_FRAMES`` frames, evenly spread."""
    return max(1, -(-n_frames_total // FLOOR_FRAMES))


def recording_statistics(magnitudes, masks):
    """Noise floor and noise spectrum of a recording whose whole ``|STFT|``
    (``magnitudes``) and raw masks the caller has: the floor is each bin's
    ``FLOOR_PERCENTILE``-th percentile, the spectrum :func:`noise_spectrum`,
    both of every ``floor_step``-th frame."""
    step = floor_step(len(magnitudes))
    return _statistics(magnitudes[::step], masks[::step])


def noise_statistics(y, n_frames_total, rows, predict, *, n_fft, hop_length, context):
    """:func:`recording_statistics` of a recording longer than one block, in
    one pass over its picked frames, in blocks (bounded memory).

    ``rows(M, a, f0, f1)`` turns the magnitudes of frames ``a, a + 1, ...``
    into the estimator's rows of frames ``[f0, f1)`` (``context`` frames on
    each side); ``predict`` maps rows to raw masks, called once for all the
    picked frames. A frame's magnitudes are those of the whole ``|STFT|``
    bit for bit, and rows are independent, so the result equals
    :func:`recording_statistics` of the whole recording.
    """
    step = floor_step(n_frames_total)
    block = 512 * step
    picked, picked_rows = [], []
    for f0 in range(0, n_frames_total, block):
        f1 = min(f0 + block, n_frames_total)
        a, b = max(f0 - context, 0), min(f1 + context, n_frames_total)
        M = np.abs(stft_frames(y, a, b, n_fft=n_fft, hop_length=hop_length))
        picked.append(M[f0 - a : f1 - a : step])
        picked_rows.append(rows(M, a, f0, f1)[::step])
    masks = predict(np.concatenate(picked_rows))
    return _statistics(np.concatenate(picked), masks)


def _statistics(magnitudes, masks):
    floor = np.percentile(magnitudes, FLOOR_PERCENTILE, axis=0)
    return floor, noise_spectrum(masks, magnitudes)


def noise_spectrum(masks, magnitudes):
    """Per-bin noise amplitude: the root of the mean power over frames
    weighted by ``1 - mask``, the frames where the masks say noise.

    ``masks`` and ``magnitudes`` are the raw masks and ``|STFT|`` of the same
    frames: every ``floor_step``-th frame of the recording.
    """
    w = 1.0 - np.clip(masks, 0.0, 1.0).astype(np.float64)
    power = magnitudes.astype(np.float64) ** 2
    return np.sqrt(np.sum(w * power, axis=0) / np.maximum(np.sum(w, axis=0), 1e-12))


def _inputs(raw, m0, magnitudes, a, lo, hi, n_total, floor, level, noise):
    """The per-frame arrays the kernels read (see :func:`refine_features`)."""
    raw = np.clip(raw, 0.0, 1.0).astype(np.float32, copy=False)
    # m on [lo - 2, hi + 2) (clipped), from which its frame average reads.
    e0, e1 = max(lo - 2, 0), min(hi + 2, n_total)
    m = frame_mean(raw, m0, e0, e1, n_total, 1, dtype=np.float32)
    floor2 = np.maximum(np.asarray(floor, dtype=np.float64), 1e-6 * level) ** 2
    noise2 = np.maximum(np.asarray(noise, dtype=np.float64), 1e-6 * level) ** 2
    # p and q on [lo - 1, hi + 1) (clipped), for their frame averages. Ratios
    # in float64 (gain-invariant to rounding), logs in float32 (numpy's SIMD).
    p0, p1 = max(lo - 1, 0), min(hi + 1, n_total)
    X = magnitudes[p0 - a : p1 - a].astype(np.float64)
    power = X * X
    p = np.log((power / floor2 + 1e-3).astype(np.float32))
    q = np.log((power / noise2 + 1e-3).astype(np.float32))
    X = X[lo - p0 : hi - p0]
    rel = np.log((X / level + 1e-6).astype(np.float32))
    norm = np.sqrt(np.sum(X * X, axis=1))
    frame = np.log((norm / level + 1e-6).astype(np.float32))
    return m, e0, p, q, p0, rel, frame


@njit(nogil=True, cache=True)
def _frame_features(t, lo, n_total, m, e0, p, q, p0, rel, frame, out):
    """The (14, n_bins) features of frame ``t`` into ``out``; every sum in a
    fixed order, so a frame's features do not depend on the block."""
    n_bins = m.shape[1]
    mt = m[t - e0]
    for f in range(n_bins):
        out[0, f] = mt[f]
        # The frame averages' loops also take the maxima over t - 1 .. t + 1.
        acc = np.float32(0.0)
        m_max = mt[f]
        for o in range(-2, 3):
            v = m[min(max(t + o, 0), n_total - 1) - e0, f]
            acc += v
            if -1 <= o <= 1:
                m_max = max(m_max, v)
        out[2, f] = acc / np.float32(5.0)
        out[10, f] = m_max
        acc = np.float32(0.0)
        acc_q = np.float32(0.0)
        p_max = p[t - p0, f]
        for o in range(-1, 2):
            row = min(max(t + o, 0), n_total - 1) - p0
            v = p[row, f]
            acc += v
            p_max = max(p_max, v)
            acc_q += q[row, f]
        out[5, f] = acc / np.float32(3.0)
        out[11, f] = p_max
        out[12, f] = q[t - p0, f]
        out[13, f] = acc_q / np.float32(3.0)
        out[4, f] = p[t - p0, f]
        out[7, f] = rel[t - lo, f]
        out[8, f] = frame[t - lo]
        out[9, f] = np.float32(f / (n_bins - 1))
    total = 0.0
    for f in range(n_bins):
        total += mt[f]
    for f in range(n_bins):
        out[3, f] = np.float32(total / n_bins)
        a1 = np.float32(0.0)
        a6 = np.float32(0.0)
        for k in range(-3, 4):
            g = min(max(f + k, 0), n_bins - 1)
            a1 += out[0, g]
            a6 += out[5, g]
        out[1, f] = a1 / np.float32(7.0)
        out[6, f] = a6 / np.float32(7.0)


@njit(nogil=True, cache=True)
def _features_kernel(lo, hi, n_total, m, e0, p, q, p0, rel, frame, out):
    for t in range(lo, hi):
        _frame_features(t, lo, n_total, m, e0, p, q, p0, rel, frame, out[t - lo])


@njit(nogil=True, parallel=True, cache=True)
def _refine_kernel(lo, hi, n_total, m, e0, p, q, p0, rel, frame, W1, b1, w2, b2, z):
    """The network's output logit for every bin of frames ``[lo, hi)``:
    features of one frame at a time, never stored, the loops over bins
    innermost (vectorised; each bin's arithmetic independent of the others)."""
    # d < N_FEATURES for refiners saved before the last features existed:
    # they read the first d.
    d, h = W1.shape
    n_bins = m.shape[1]
    for t in prange(lo, hi):
        F = np.empty((N_FEATURES, n_bins), dtype=np.float32)
        _frame_features(t, lo, n_total, m, e0, p, q, p0, rel, frame, F)
        out = z[t - lo]
        out[:] = b2
        hidden = np.empty(n_bins, dtype=np.float32)
        for j in range(h):
            hidden[:] = b1[j]
            for i in range(d):
                w = W1[i, j]
                for f in range(n_bins):
                    hidden[f] += F[i, f] * w
            w = w2[j]
            for f in range(n_bins):
                if hidden[f] > 0:
                    out[f] += hidden[f] * w


def refine_features(raw, m0, magnitudes, a, lo, hi, n_total, floor, level, noise):
    """Per-bin features of frames ``[lo, hi)``, shape ``((hi - lo) * n_bins, 14)``.

    ``raw`` holds the raw masks of frames ``m0, m0 + 1, ...`` and must cover
    ``[lo - 3, hi + 3)`` clipped to the recording (``MARGIN``);
    ``magnitudes`` the STFT magnitudes of frames ``a, a + 1, ...``, covering
    ``[lo - 1, hi + 1)`` clipped. ``floor`` and ``noise`` are
    :func:`recording_statistics` and ``level`` the recording's level
    (positive). Rows run over frames, then
    bins: the training rows of :class:`MaskRefiner`.
    """
    inputs = _inputs(raw, m0, magnitudes, a, lo, hi, n_total, floor, level, noise)
    out = np.empty((hi - lo, N_FEATURES, raw.shape[1]), dtype=np.float32)
    _features_kernel(lo, hi, n_total, *inputs, out)
    return out.transpose(0, 2, 1).reshape(-1, N_FEATURES)


class MaskRefiner:
    """A fitted per-bin mask refiner (see the module docstring).

    Training goes through scikit-learn (``StandardScaler`` and
    ``MLPClassifier``, kept as ``scaler_`` and ``network_``); inference
    runs the same network, the scaler folded into its first layer
    (``W1_``, ``b1_``, ``w2_``, ``b2_``). :meth:`predict_masks` does it in
    a kernel whose arithmetic per bin does not depend on the block, so
    blocked and one-shot runs agree exactly.

    The training bins are weighted so that each third-octave band that STOI
    reads (150 Hz to 4.8 kHz) counts alike and each bin outside them counts
    a fifth of the lowest per-bin weight inside: on the validation splits this
    gained +0.2 to +0.3 dB SDR and +0.002 to +0.004 STOI over uniform
    weights.

    Parameters
    ----------
    hidden : int, default=16
        Hidden units of the network.
    sr : int, default=16000
        Sample rate, to place the bands of the training weights.
    random_state : int or RandomState, default=None
        Seed of the network's initialisation and of its mini-batches.
    """

    def __init__(self, hidden=16, sr=16000, random_state=None):
        self.hidden = hidden
        self.sr = sr
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
        # One BLAS thread, as BoostedLSH's fit: OpenBLAS's threaded products
        # round differently, and the network would then depend on the
        # machine's thread set-up (and a test process's leftover limits).
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            # A fixed budget of epochs, by design (above).
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(scaler.transform(F), y, sample_weight=band_weights(F, self.sr))
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
        """Probability that speech dominates each row of features ``F``."""
        z = np.maximum(F @ self.W1_ + self.b1_, 0) @ self.w2_ + self.b2_
        return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))

    def predict_masks(
        self, raw, m0, magnitudes, a, lo, hi, n_total, floor, level, noise, bias=None
    ):
        """Refined masks of frames ``[lo, hi)`` (the arguments of
        :func:`refine_features`), shape ``(hi - lo, n_bins)``, float64.
        ``bias``, of shape ``(n_bins,)``, is added to each bin's log-odds."""
        inputs = _inputs(raw, m0, magnitudes, a, lo, hi, n_total, floor, level, noise)
        z = np.empty((hi - lo, raw.shape[1]), dtype=np.float32)
        W = (self.W1_, self.b1_, self.w2_, self.b2_)
        _refine_kernel(lo, hi, n_total, *inputs, *W, z)
        z = z.astype(np.float64)
        if bias is not None:
            z += bias
        # numpy's exp treats every element alike, whatever the array's length.
        return 1.0 / (1.0 + np.exp(-z))


def fidelity_bias(n_bins, sr):
    """Log-odds bias of each bin for ``mask_bias="auto"``.

    The network is trained for intelligibility: its training bins are
    weighted by the STOI bands, and its output is the probability that
    speech dominates the bin. Below ``LOW_HZ`` and from ``HIGH_HZ`` up, out
    of every band STOI reads, a bin counts only for fidelity, and there a
    lower log-odds (more noise removed) serves it. On the validation splits
    this gained +0.5 / +0.4 / +0.3 dB SDR and +0.04 / +0.06 / +0.07 PESQ-WB
    at -5 / 0 / +5 dB, at equal STOI (the separator's user guide).

    Examples
    --------
    >>> from skblsh.separation._refine import fidelity_bias
    >>> bias = fidelity_bias(513, 16000)
    >>> float(bias[0]), float(bias[100]), float(bias[-1])
    (-1.0, 0.0, -2.0)
    """
    hz = np.fft.rfftfreq(2 * (n_bins - 1), 1 / sr)
    bias = np.zeros(n_bins)
    bias[hz < LOW_HZ] = LOW_BIAS
    bias[hz >= HIGH_HZ] = HIGH_BIAS
    return bias


def check_mask_bias(mask_bias, n_bins, sr, refining):
    """A separator's ``mask_bias`` as a log-odds vector over the bins, or
    None when there is nothing to add."""
    if isinstance(mask_bias, str):
        if mask_bias == "auto":
            return fidelity_bias(n_bins, sr) if refining else None
        bias = None  # numpy would parse "1.5": a string is "auto" or refused
    else:
        try:
            bias = np.asarray(mask_bias, dtype=np.float64)
        except (TypeError, ValueError):
            bias = None
    if bias is None:
        raise ValueError(
            f"Expected mask_bias to be 'auto', a number or an array of "
            f"log-odds, got {mask_bias!r}."
        )
    if bias.ndim == 0:
        bias = np.full(n_bins, float(bias))
    if bias.shape != (n_bins,):
        raise ValueError(
            f"Expected mask_bias to be 'auto', a number or an array of shape "
            f"{(n_bins,)} (one log-odds per bin), got shape {bias.shape}."
        )
    if not np.all(np.isfinite(bias)):
        raise ValueError("Expected a finite mask_bias, got NaN or infinite values.")
    if refining:
        return bias
    if np.any(bias != 0.0):
        raise ValueError(
            "mask_bias shifts the refinement stage's log-odds, but this "
            "separator has no refinement stage (refine=False, a level other "
            "than 'recording', or a single training group): leave "
            "mask_bias='auto'."
        )
    return None


def band_weights(F, sr):
    """Training weight of each bin (row of ``F``): equal per STOI band."""
    hz = F[:, FREQUENCY].astype(np.float64) * sr / 2
    edges = 150.0 * 2.0 ** (np.arange(16) / 3)
    band = np.searchsorted(edges, hz, side="right") - 1
    inside = (band >= 0) & (band < len(edges) - 1)
    counts = np.bincount(band[inside], minlength=len(edges) - 1).astype(np.float64)
    weights = np.full(len(F), 0.2 / max(counts.max(), 1.0))
    weights[inside] = 1.0 / counts[band[inside]]
    return weights / weights.mean()
