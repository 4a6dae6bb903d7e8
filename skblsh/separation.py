"""Utterance-level masking separation: STFT, ideal binary masks, the separator.

The separator owns the signal processing (STFT, IBM targets, masking, iSTFT)
and delegates the frame-level mapping "magnitude frames -> masks" to any
scikit-learn regressor, by default the paper's pipeline of spectral features,
boosted LSH codes and a Hamming kNN mask regressor.
"""

from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .features import SpectralFeatures
from .hashing import BoostedLSH, RandomLSH
from .metrics import sdr_scorer
from .neighbors import HammingKNeighborsRegressor
from .utils._sklearn import HasMethods, Interval, _fit_context, validate_params
from .utils._validation import check_audio, check_audio_list, check_sample_rate

__all__ = [
    "MaskingSeparator",
    "ideal_binary_mask",
    "istft",
    "make_frames",
    "make_separator_pipeline",
    "stft",
]


_STFT_PARAMS = {
    "n_fft": [Interval(Integral, 2, None, closed="left")],
    "hop_length": [Interval(Integral, 1, None, closed="left")],
}


@validate_params(
    {"y": ["array-like"], **_STFT_PARAMS}, prefer_skip_nested_validation=True
)
def stft(y, *, n_fft=1024, hop_length=256):
    """Complex STFT with a Hann window, one row per frame.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono waveform, at least ``n_fft`` samples long.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    Z : ndarray of shape (n_frames, n_fft // 2 + 1), dtype=complex64 or complex128
        Frames are rows (scikit-learn's samples), frequencies columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import stft
    >>> stft(np.zeros(16000), n_fft=1024, hop_length=256).shape
    (63, 513)
    """
    y = check_audio(y, name="y", min_samples=n_fft)
    return librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window="hann").T


@validate_params(
    {
        "Z": ["array-like"],
        "length": [Interval(Integral, 1, None, closed="left")],
        **_STFT_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def istft(Z, *, length, n_fft=1024, hop_length=256):
    """Inverse of :func:`stft`, trimmed or padded to exactly ``length`` samples.

    Parameters
    ----------
    Z : ndarray of shape (n_frames, n_fft // 2 + 1)
        Complex STFT frames as rows.
    length : int
        Output length in samples.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    y : ndarray of shape (length,)
        The waveform.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import istft, stft
    >>> y = np.random.RandomState(0).randn(4000)
    >>> bool(np.allclose(istft(stft(y), length=4000), y, atol=1e-6))
    True
    """
    Z = np.asarray(Z)
    n_bins = n_fft // 2 + 1
    if Z.ndim != 2 or Z.shape[1] != n_bins or len(Z) == 0:
        raise ValueError(
            f"Expected Z of shape (n_frames, n_fft // 2 + 1 = {n_bins}) with "
            f"n_frames >= 1, got shape {Z.shape}."
        )
    if not np.all(np.isfinite(Z)):
        raise ValueError("Expected Z to be finite, got NaN or infinite values.")
    return librosa.istft(
        Z.T,
        n_fft=n_fft,
        hop_length=hop_length,
        window="hann",
        length=length,
    )


def ideal_binary_mask(mixture, source, *, n_fft=1024, hop_length=256):
    """Ideal binary mask ``|S| > |N|`` with ``N`` the STFT of ``mixture - source``.

    Parameters
    ----------
    mixture : ndarray of shape (n_samples,)
        Mixture waveform.
    source : ndarray of shape (n_samples,)
        Target source (clean speech) in the mixture.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    mask : ndarray of shape (n_frames, n_fft // 2 + 1), dtype=float32
        1 where the source dominates, 0 elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import ideal_binary_mask
    >>> rng = np.random.RandomState(0)
    >>> s, n = rng.randn(4096), 0.1 * rng.randn(4096)
    >>> float(ideal_binary_mask(s + n, s).mean()) > 0.9
    True
    """
    mixture, source = _check_pair(mixture, source, n_fft=n_fft)
    S = np.abs(stft(source, n_fft=n_fft, hop_length=hop_length))
    N = np.abs(stft(mixture - source, n_fft=n_fft, hop_length=hop_length))
    return (S > N).astype(np.float32)


def _check_pair(mixture, source, *, n_fft, index=None):
    suffix = "" if index is None else f"[{index}]"
    mixture = check_audio(mixture, name=f"mixture{suffix}", min_samples=n_fft)
    source = check_audio(source, name=f"source{suffix}", min_samples=n_fft)
    if len(mixture) != len(source):
        raise ValueError(
            f"Expected source{suffix} to have the same length as "
            f"mixture{suffix} ({len(mixture)} samples), got {len(source)}."
        )
    return mixture, source


def make_frames(mixtures, sources, *, n_fft=1024, hop_length=256):
    """Turn lists of (mixture, source) waveforms into frame-level arrays.

    Parameters
    ----------
    mixtures : list of ndarray of shape (n_samples_i,)
        Mixture waveforms (lengths may differ).
    sources : list of ndarray of shape (n_samples_i,)
        Clean sources, one per mixture, of the same lengths.
    n_fft : int, default=1024
        Window and FFT length.
    hop_length : int, default=256
        Hop between frames.

    Returns
    -------
    X : ndarray of shape (n_frames_total, n_fft // 2 + 1), dtype=float32
        Magnitude STFT frames of the mixtures.
    Y : ndarray of shape (n_frames_total, n_fft // 2 + 1), dtype=float32
        Their ideal binary masks.
    groups : ndarray of shape (n_frames_total,), dtype=int64
        Index of the utterance each frame comes from (for group-wise CV).

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import make_frames
    >>> rng = np.random.RandomState(0)
    >>> s = [rng.randn(4096), rng.randn(8192)]
    >>> m = [x + rng.randn(len(x)) for x in s]
    >>> X, Y, groups = make_frames(m, s)
    >>> X.shape, Y.shape, np.bincount(groups).tolist()
    ((50, 513), (50, 513), [17, 33])
    """
    mixtures, sources = _check_lists(mixtures, sources, n_fft=n_fft)
    X, Y, groups = [], [], []
    for i, (m, s) in enumerate(zip(mixtures, sources, strict=True)):
        M = stft(m, n_fft=n_fft, hop_length=hop_length)
        X.append(np.abs(M).astype(np.float32))
        Y.append(ideal_binary_mask(m, s, n_fft=n_fft, hop_length=hop_length))
        groups.append(np.full(len(M), i, dtype=np.int64))
    return np.concatenate(X), np.concatenate(Y), np.concatenate(groups)


def _check_lists(mixtures, sources, *, n_fft):
    mixtures = check_audio_list(mixtures, name="mixtures", min_samples=n_fft)
    sources = check_audio_list(sources, name="sources", min_samples=n_fft)
    if len(mixtures) != len(sources):
        raise ValueError(
            f"Expected as many sources as mixtures ({len(mixtures)}), got "
            f"{len(sources)}."
        )
    for i, (m, s) in enumerate(zip(mixtures, sources, strict=True)):
        _check_pair(m, s, n_fft=n_fft, index=i)
    return mixtures, sources


def make_separator_pipeline(
    n_bits=64, n_neighbors=10, *, hasher="boosted", kind="stft", random_state=None
):
    """The paper's frame-level pipeline: features -> hash codes -> kNN masks.

    Parameters
    ----------
    n_bits : int, default=64
        Code length L (ignored when ``hasher=None``).
    n_neighbors : int, default=10
        Number of neighbours K.
    hasher : {"boosted", "random"} or None, default="boosted"
        :class:`~skblsh.BoostedLSH`, :class:`~skblsh.RandomLSH`, or None for
        the paper's first baseline: exact cosine kNN on the float features.
    kind : str, default="stft"
        Feature kind of :class:`~skblsh.SpectralFeatures`.
    random_state : int, RandomState instance or None, default=None
        Seed of the hasher.

    Returns
    -------
    pipeline : Pipeline
        Steps named ``"features"``, ``"hash"`` (absent when ``hasher=None``)
        and ``"knn"``.

    Examples
    --------
    >>> from skblsh.separation import make_separator_pipeline
    >>> [name for name, _ in make_separator_pipeline(32, 5).steps]
    ['features', 'hash', 'knn']
    >>> [name for name, _ in make_separator_pipeline(hasher=None).steps]
    ['features', 'knn']
    """
    features = ("features", SpectralFeatures(kind))
    if hasher is None:
        # Features are L2-normalised, so Euclidean order is cosine order.
        knn = KNeighborsRegressor(n_neighbors, algorithm="brute")
        return Pipeline([features, ("knn", knn)])
    hashers = {"boosted": BoostedLSH, "random": RandomLSH}
    if hasher not in hashers:
        raise ValueError(
            f"Expected hasher in {{'boosted', 'random', None}}, got {hasher!r}."
        )
    return Pipeline(
        [
            features,
            ("hash", hashers[hasher](n_bits, random_state=random_state)),
            ("knn", HammingKNeighborsRegressor(n_neighbors)),
        ]
    )


class MaskingSeparator(BaseEstimator):
    """Separate a source by masking the mixture STFT with predicted masks.

    ``fit(mixtures, sources)`` builds the magnitude frames of the training
    mixtures and their ideal binary masks, optionally subsamples this
    dictionary, and fits ``estimator`` (any regressor mapping magnitude frames
    to masks). ``predict(mixtures)`` predicts a mask per frame, clips it to
    [0, 1], applies it to the complex STFT and inverts it, returning waveforms
    of the inputs' exact lengths.

    Prediction works through the mixtures in blocks of about ``block_frames``
    STFT frames (STFT, mask and overlap-add per block), so memory beyond the
    input and output waveforms stays bounded however long the recording;
    frames of consecutive short mixtures share a block, so the frame-level
    estimator is called once per block rather than once per mixture. The
    result equals the one-shot ``istft(stft(m) * mask, length=len(m))`` of
    each mixture on its own to float rounding. This assumes, like any
    frame-level regressor should, that ``estimator.predict`` treats rows
    independently.

    Parameters
    ----------
    estimator : estimator object, default=None
        Frame-level regressor with ``fit(X, Y)`` and ``predict(X)``. None means
        :func:`make_separator_pipeline` ``(64, 10)``: spectral features,
        ``BoostedLSH(64)``, ``HammingKNeighborsRegressor(10)``, so nested
        parameters read ``estimator__hash__n_bits`` and
        ``estimator__knn__n_neighbors``.
    n_fft : int, default=1024
        STFT window and FFT length.
    hop_length : int, default=256
        STFT hop.
    sr : int, default=16000
        Sample rate the separator works at; ``fit``/``predict`` reject
        another ``sr`` rather than resampling silently.
    dictionary_fraction : float, default=1.0
        Fraction of training frames kept (uniformly at random) as the
        dictionary; the paper uses 0.1 and 0.01.
    block_frames : int, default=2048
        Frames per block in :meth:`predict` and :meth:`predict_mask` (2048
        frames are about 33 s at the default hop and 16 kHz). Smaller blocks
        use less memory; the output does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of the dictionary subsampling.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted frame-level regressor (a clone of ``estimator``).
    n_frames_ : int
        Number of dictionary frames the estimator was fitted on.
    n_features_in_ : int
        Number of frequency bins, ``n_fft // 2 + 1``.

    See Also
    --------
    make_frames : The frame-level arrays behind ``fit``.
    skblsh.metrics.sdr_scorer : The scorer used by :meth:`score`.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import MaskingSeparator, make_separator_pipeline
    >>> rng = np.random.RandomState(0)
    >>> sources = [np.sin(np.arange(8000) * f) for f in (0.05, 0.1, 0.2)]
    >>> mixtures = [s + 0.5 * rng.randn(8000) for s in sources]
    >>> sep = MaskingSeparator(make_separator_pipeline(16, 3, random_state=0))
    >>> estimates = sep.fit(mixtures, sources).predict(mixtures)
    >>> [len(e) for e in estimates]
    [8000, 8000, 8000]
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "dictionary_fraction": [Interval(Real, 0, 1, closed="right")],
        "block_frames": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_fft=1024,
        hop_length=256,
        sr=16000,
        dictionary_fraction=1.0,
        block_frames=2048,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.sr = sr
        self.dictionary_fraction = dictionary_fraction
        self.block_frames = block_frames
        self.random_state = random_state

    def _check_sr(self, sr):
        if sr is not None and check_sample_rate(sr) != self.sr:
            raise ValueError(
                f"Expected audio at sr={self.sr} Hz (the separator's rate), got "
                f"sr={sr}. Resample it first (skblsh.datasets.read_audio does)."
            )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, mixtures, sources, *, sr=None):
        """Build the dictionary of frames and masks and fit the estimator.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Training mixtures.
        sources : list of ndarray of shape (n_samples_i,)
            The clean source of each mixture.
        sr : int, default=None
            Sample rate of the audio, checked against ``self.sr`` if given.

        Returns
        -------
        self : object
            Fitted separator.
        """
        if self.hop_length >= self.n_fft:
            raise ValueError(
                f"Expected hop_length < n_fft, so that every sample lies inside "
                f"a window and the inverse STFT is exact, got "
                f"hop_length={self.hop_length} and n_fft={self.n_fft}."
            )
        self._check_sr(sr)
        X, Y, _ = make_frames(
            mixtures, sources, n_fft=self.n_fft, hop_length=self.hop_length
        )
        if self.dictionary_fraction < 1.0:
            rng = check_random_state(self.random_state)
            n_keep = max(1, int(round(self.dictionary_fraction * len(X))))
            keep = np.sort(rng.choice(len(X), size=n_keep, replace=False))
            X, Y = X[keep], Y[keep]
        estimator = (
            make_separator_pipeline() if self.estimator is None else self.estimator
        )
        self.estimator_ = clone(estimator).fit(X, Y)
        self.n_frames_ = len(X)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_mask(self, mixture):
        """Predicted mask of one mixture, in [0, 1].

        Parameters
        ----------
        mixture : ndarray of shape (n_samples,)
            Mixture waveform, at least ``n_fft`` samples long.

        Returns
        -------
        mask : ndarray of shape (n_frames, n_fft // 2 + 1)
            Predicted mask, frames as rows (the frames of :func:`stft`).
        """
        check_is_fitted(self)
        mixture = check_audio(mixture, name="mixture", min_samples=self.n_fft)
        n_frames = self._n_frames(len(mixture))
        mask = np.empty((n_frames, self.n_fft // 2 + 1))
        for f0 in range(0, n_frames, self.block_frames):
            f1 = min(f0 + self.block_frames, n_frames)
            Z = self._stft_frames(mixture, f0, f1)
            mask[f0:f1] = self._mask(np.abs(Z))
        return mask

    def predict(self, mixtures, *, sr=None):
        """Denoise mixtures.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Mono floating-point mixture waveforms, finite, each at least
            ``n_fft`` samples long. Integer PCM raises ``TypeError`` rather
            than being rescaled by a guess: divide int16 samples by 32768 (or
            read files with :func:`skblsh.datasets.read_audio`).
        sr : int, default=None
            Sample rate of the audio, checked against ``self.sr`` if given.

        Returns
        -------
        estimates : list of ndarray of shape (n_samples_i,)
            Estimated sources, each as long as its mixture and of its dtype.
            A silent mixture gives a silent estimate.
        """
        check_is_fitted(self)
        self._check_sr(sr)
        mixtures = check_audio_list(mixtures, name="mixtures", min_samples=self.n_fft)
        outputs = [np.zeros(len(y), dtype=y.dtype) for y in mixtures]
        # Blocks of several mixtures share one frame-level predict: its fixed
        # cost (validation, thread start-up of the search) dominated short
        # utterances, and rows are independent, so the output is unchanged.
        pending, n_pending = [], 0
        for index, y in enumerate(mixtures):
            for block in self._blocks(y):
                pending.append((index, *block))
                n_pending += len(block[-1])
                if n_pending >= self.block_frames:
                    self._write_blocks(pending, mixtures, outputs)
                    pending, n_pending = [], 0
        if pending:
            self._write_blocks(pending, mixtures, outputs)
        return outputs

    def _n_frames(self, n_samples):
        # Frames of librosa's centred STFT (n_fft // 2 zeros padded each side).
        return 1 + (n_samples + 2 * (self.n_fft // 2) - self.n_fft) // self.hop_length

    def _stft_frames(self, y, f0, f1):
        """Frames ``f0 .. f1 - 1`` of ``stft(y)``, computing only those."""
        n_fft, hop, pad = self.n_fft, self.hop_length, self.n_fft // 2
        # Samples of the zero-padded signal under these frames, padded here
        # so that the whole signal is never copied.
        start, stop = f0 * hop - pad, (f1 - 1) * hop + n_fft - pad
        segment = np.zeros(stop - start, dtype=y.dtype)
        a, b = max(start, 0), min(stop, len(y))
        segment[a - start : b - start] = y[a:b]
        Z = librosa.stft(
            segment, n_fft=n_fft, hop_length=hop, window="hann", center=False
        )
        return Z.T

    def _blocks(self, y):
        """STFT blocks ``(f0, f1, g0, Z)`` of one mixture, in order.

        Block ``[f0, f1)`` writes the output samples ``[f0, f1) * hop`` (in
        padded coordinates). Those samples are also covered by up to
        ``ceil(n_fft / hop) - 1`` earlier frames, so ``Z`` holds the frames
        from ``g0`` (that many before ``f0``) to ``f1``, and every written
        sample gets exactly the frames (and window normalisation) of the
        one-shot inverse.
        """
        n_frames = self._n_frames(len(y))
        margin = -(-self.n_fft // self.hop_length) - 1
        for f0 in range(0, n_frames, self.block_frames):
            f1 = min(f0 + self.block_frames, n_frames)
            g0 = max(f0 - margin, 0)
            yield f0, f1, g0, self._stft_frames(y, g0, f1)

    def _write_blocks(self, blocks, mixtures, outputs):
        """Mask blocks of one or more mixtures with one predict; overlap-add."""
        n_fft, hop, pad = self.n_fft, self.hop_length, self.n_fft // 2
        Zs = [block[-1] for block in blocks]
        masks = self._mask(np.abs(np.concatenate(Zs)))
        bounds = np.cumsum([0] + [len(Z) for Z in Zs])
        for (index, f0, f1, g0, Z), a0, a1 in zip(
            blocks, bounds, bounds[1:], strict=False
        ):
            y, out = mixtures[index], outputs[index]
            n_frames = self._n_frames(len(y))
            # The float64 mask makes the product (and the inverse) float64,
            # like the one-shot path; only the output is cast back.
            y_block = librosa.istft(
                (Z * masks[a0:a1]).T,
                n_fft=n_fft,
                hop_length=hop,
                window="hann",
                center=False,
            )
            # Output samples [lo, hi) of this block; y_block starts at g0 * hop.
            lo = f0 * hop - pad
            hi = (f1 * hop if f1 < n_frames else (f1 - 1) * hop + n_fft) - pad
            a, b = max(lo, 0), min(hi, len(y))
            offset = g0 * hop - pad
            if b > a:
                out[a:b] = y_block[a - offset : b - offset]

    def _mask(self, magnitudes):
        mask = np.asarray(self.estimator_.predict(magnitudes.astype(np.float32)))
        if mask.shape != magnitudes.shape:
            raise ValueError(
                f"Expected the estimator to predict masks of shape "
                f"{magnitudes.shape}, got {mask.shape}."
            )
        if not np.all(np.isfinite(mask)):
            raise ValueError(
                "Expected the estimator to predict finite masks, got NaN or "
                "infinite values."
            )
        return np.clip(mask, 0.0, 1.0)

    def score(self, mixtures, sources):
        """Length-weighted mean BSS Eval SDR (dB) of the estimates.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Mixture waveforms.
        sources : list of ndarray of shape (n_samples_i,)
            Their clean sources.

        Returns
        -------
        score : float
            Mean SDR weighted by utterance length, as in the paper's tables.
        """
        return sdr_scorer(self, mixtures, sources)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.target_tags.required = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags
