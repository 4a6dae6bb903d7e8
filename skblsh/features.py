"""Frame-level spectral features for the hashers.

The hashers and the kNN separator work on one feature vector per STFT frame.
:class:`SpectralFeatures` maps magnitude STFT frames to those vectors: the
(optionally compressed) magnitudes themselves, a mel spectrum, a log-mel
spectrum or MFCCs, each frame optionally scaled to unit L2 norm as in the
Boosted LSH paper.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.fft import dct
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._sklearn import Interval, StrOptions, _fit_context

__all__ = ["SpectralFeatures"]


class SpectralFeatures(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Map magnitude STFT frames to the feature frames the hashers see.

    Each row of ``X`` is one magnitude spectrum ``|STFT|`` with
    ``n_fft // 2 + 1`` frequency bins, e.g. ``np.abs(librosa.stft(y)).T``
    (note the transpose: librosa puts frequency first). The FFT size is
    inferred as ``n_fft_ = 2 * (n_features - 1)``, so the STFT must use an
    even ``n_fft``. The transform is stateless apart from the mel filterbank
    built in :meth:`fit`; every frame is processed independently.

    Parameters
    ----------
    kind : {"stft", "mel", "log-mel", "mfcc"}, default="stft"
        Which features to compute from ``M = X ** power``:

        - ``"stft"``: ``M`` itself, shape ``(n_frames, n_fft // 2 + 1)``;
        - ``"mel"``: ``M @ filterbank_.T``, shape ``(n_frames, n_mels)``;
        - ``"log-mel"``: ``log1p(mel / eps) = log(mel + eps) - log(eps)``,
          shape ``(n_frames, n_mels)``. The constant offset makes an all-zero
          (silent) frame map to an all-zero log-mel frame and keeps every
          value non-negative;
        - ``"mfcc"``: orthonormal DCT-II of the log-mel frame, first
          ``n_mfcc`` coefficients, shape ``(n_frames, n_mfcc)``.

    sr : float, default=16000
        Sample rate of the audio in Hz, used to place the mel filters.
        Ignored when ``kind="stft"``.
    n_mels : int, default=64
        Number of mel bands. Ignored when ``kind="stft"``. If the FFT is too
        short for this many bands, some filters are empty (their output
        column is always zero) and :meth:`fit` warns.
    n_mfcc : int, default=20
        Number of MFCCs kept; at most ``n_mels``. Used only when
        ``kind="mfcc"``.
    fmin : float, default=0.0
        Lowest mel filter edge in Hz. Ignored when ``kind="stft"``.
    fmax : float, default=None
        Highest mel filter edge in Hz, at most ``sr / 2``; ``None`` means
        ``sr / 2``. Ignored when ``kind="stft"``.
    power : float, default=1.0
        Exponent in ``(0, 2]`` applied to the magnitudes before anything
        else: 1 keeps magnitudes, 2 gives power spectra, values such as 0.3
        compress the dynamic range.
    eps : float, default=1e-6
        Floor of the logarithm for ``"log-mel"`` and ``"mfcc"``, in the units
        of the mel spectrum (so it depends on ``power`` and on the signal
        scale). Mel values far below ``eps`` are treated as silence. For
        signals in [-1, 1] and ``n_fft=1024`` the default lies about 20 dB
        below the mel magnitudes of 16-bit quantisation noise when
        ``power=1``; with ``power=2`` it floors the mel power about 25 dB
        above that noise. Ignored for ``"stft"`` and ``"mel"``.
    normalize : bool, default=True
        Scale every output row to unit L2 norm, the features of the paper.
        A row whose features are all zero (e.g. digital silence) has no
        direction and stays all-zero instead of becoming NaN.
    n_stacked : int, default=1
        Number of frames side by side in each row of ``X``, e.g. a frame
        with its neighbours (:class:`~skblsh.separation.MaskingSeparator`'s
        ``context``): ``X`` has ``n_stacked * (n_fft // 2 + 1)`` columns,
        every frame is transformed alike and the results are concatenated
        (``normalize`` then scales the whole row).

    Attributes
    ----------
    n_features_in_ : int
        Number of frequency bins seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`. Defined only when ``X``
        has feature names that are all strings.
    n_fft_ : int
        FFT size inferred from the input width,
        ``2 * (n_features_in_ // n_stacked - 1)``.
    filterbank_ : ndarray of shape (n_mels, `n_features_in_`), dtype=float64 or None
        Slaney-normalised mel filterbank, identical to
        ``librosa.filters.mel(sr=sr, n_fft=n_fft_, n_mels=n_mels, fmin=fmin,
        fmax=fmax, dtype=np.float64)``; ``None`` when ``kind="stft"``.

    See Also
    --------
    librosa.feature.melspectrogram : Mel spectrogram from a waveform.
    librosa.feature.mfcc : MFCCs; ``kind="mfcc"`` with ``power=2`` matches it
        up to a factor ``ln(10) / 10`` (natural log instead of decibels) on
        all coefficients, plus a constant ``-sqrt(n_mels) * ln(eps)`` on the
        first one, wherever the mel energies are well above ``eps`` and
        ``power_to_db`` does not clip (``top_db=None``).

    Notes
    -----
    Input values must be non-negative magnitudes; negative values raise a
    ``ValueError`` (a complex STFT or its real part is a common mistake).
    ``float32`` input gives ``float32`` output; any other numeric input is
    converted to ``float64``.

    References
    ----------
    .. [1] S. Kim, H. Yang and M. Kim, "Boosted locality sensitive hashing:
       discriminative binary codes for source separation", ICASSP 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.features import SpectralFeatures
    >>> sr, n_fft = 16000, 512
    >>> t = np.arange(n_fft) / sr
    >>> tone = np.abs(np.fft.rfft(np.hanning(n_fft) * np.sin(2 * np.pi * 1000 * t)))
    >>> X = np.vstack([tone, np.zeros_like(tone)])  # a 1 kHz frame, then silence
    >>> feats = SpectralFeatures("mel", n_mels=40).fit(X)
    >>> feats.n_fft_, feats.filterbank_.shape
    (512, (40, 257))
    >>> Xt = feats.transform(X)
    >>> Xt.shape
    (2, 40)
    >>> np.linalg.norm(Xt, axis=1)
    array([1., 0.])
    """

    _parameter_constraints: dict = {
        "kind": [StrOptions({"stft", "mel", "log-mel", "mfcc"})],
        "sr": [Interval(Real, 0, None, closed="neither")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "power": [Interval(Real, 0, 2, closed="right")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "normalize": ["boolean"],
        "n_stacked": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        kind="stft",
        *,
        sr=16000,
        n_mels=64,
        n_mfcc=20,
        fmin=0.0,
        fmax=None,
        power=1.0,
        eps=1e-6,
        normalize=True,
        n_stacked=1,
    ):
        self.kind = kind
        self.sr = sr
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.fmin = fmin
        self.fmax = fmax
        self.power = power
        self.eps = eps
        self.normalize = normalize
        self.n_stacked = n_stacked

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input width and build the mel filterbank.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_fft // 2 + 1)
            Non-negative magnitude STFT frames.
        y : None
            Ignored.

        Returns
        -------
        self : SpectralFeatures
            The fitted transformer.
        """
        X = self._check_frames(X, reset=True)
        if X.shape[1] % self.n_stacked:
            raise ValueError(
                f"Expected X to hold n_stacked={self.n_stacked} frames of equal "
                f"width per row, got {X.shape[1]} columns."
            )
        n_bins = X.shape[1] // self.n_stacked
        if n_bins < 2:
            raise ValueError(
                "Expected X to have at least 2 frequency bins (n_fft // 2 + 1 "
                f"columns with n_fft >= 2), got {n_bins} feature(s)."
            )
        self.n_fft_ = 2 * (n_bins - 1)
        if self.kind == "stft":
            self.filterbank_ = None
        else:
            self._check_mel_params()
            self.filterbank_ = self._mel_filterbank(self.n_fft_)
        return self

    @property
    def _n_features_out(self):
        # Read by get_feature_names_out; from the fitted state, like the
        # hashers' (they count bytes).
        if self.filterbank_ is None:
            per_frame = self.n_fft_ // 2 + 1
        else:
            per_frame = self.n_mfcc if self.kind == "mfcc" else len(self.filterbank_)
        return self.n_stacked * per_frame

    def transform(self, X):
        """Compute one feature frame per input frame.

        Parameters
        ----------
        X : array-like of shape (n_frames, `n_fft_` // 2 + 1)
            Non-negative magnitude STFT frames, as many bins as in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_frames, n_features_out)
            The features; ``n_features_out`` is ``n_stacked`` times
            ``n_fft_ // 2 + 1`` for ``"stft"``, ``n_mels`` for ``"mel"`` and
            ``"log-mel"`` and ``n_mfcc`` for ``"mfcc"``. Same dtype as ``X``
            if ``float32``, else ``float64``.
        """
        check_is_fitted(self)
        X = self._check_frames(X, reset=False)
        n_rows, dtype = len(X), X.dtype
        if self.n_stacked > 1:
            X = X.reshape(n_rows * self.n_stacked, -1)
        F = X if self.power == 1 else X**self.power
        if self.kind != "stft":
            F = F @ self.filterbank_.T.astype(dtype, copy=False)
        if self.kind in ("log-mel", "mfcc"):
            F = np.log1p(F / dtype.type(self.eps))
        if self.kind == "mfcc":
            F = dct(F, type=2, norm="ortho", axis=1)[:, : self.n_mfcc]
        untouched = F is X
        F = F.reshape(n_rows, -1)
        if self.normalize:
            F = _normalize_rows(F)
        elif untouched:
            F = F.copy()  # never hand back (a view of) the caller's array
        return F

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _check_frames(self, X, *, reset):
        dtype = getattr(X, "dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.complexfloating):
            raise ValueError(
                "Expected X to hold real magnitude STFT frames, got dtype "
                f"{X.dtype} (Complex data not supported); pass np.abs(S).T."
            )
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        x_min = X.min(initial=0.0)
        if x_min < 0:
            # The first words are what scikit-learn's common checks expect.
            raise ValueError(
                f"Negative values in data passed to {type(self).__name__}: "
                f"expected magnitude STFT frames (X >= 0), got min(X) = {x_min:.4g}."
                " Pass np.abs(S).T, not the complex STFT or its real part."
            )
        return X

    def _check_mel_params(self):
        nyquist = self.sr / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if fmax > nyquist:
            raise ValueError(
                f"Expected fmax <= sr / 2 = {nyquist:g}, got fmax={self.fmax!r}."
            )
        if self.fmin >= fmax:
            raise ValueError(
                f"Expected fmin < fmax, got fmin={self.fmin!r} and fmax={fmax:g}."
            )
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise ValueError(
                f"Expected n_mfcc <= n_mels={self.n_mels}, got n_mfcc={self.n_mfcc}."
            )

    def _mel_filterbank(self, n_fft):
        # Imported here: librosa takes ~1 s to import and "stft" never needs it.
        import librosa

        with warnings.catch_warnings():
            # Replaced by the warning below, which names our parameters.
            warnings.filterwarnings("ignore", "Empty filters", UserWarning)
            fb = librosa.filters.mel(
                sr=self.sr,
                n_fft=n_fft,
                n_mels=self.n_mels,
                fmin=self.fmin,
                fmax=self.fmax,
                dtype=np.float64,
            )
        n_empty = int(np.count_nonzero(fb.max(axis=1) == 0))
        if n_empty:
            warnings.warn(
                f"{n_empty} of the n_mels={self.n_mels} mel filters are empty for "
                f"n_fft={n_fft} (sr={self.sr}); their feature columns will always "
                "be zero. Use fewer mel bands or a longer FFT.",
                UserWarning,
                stacklevel=4,  # _mel_filterbank < fit < _fit_context < caller
            )
        return fb


def _normalize_rows(F):
    """Scale rows to unit L2 norm; rows of zeros stay zeros.

    Dividing by the row's largest magnitude first keeps the squared sum from
    overflowing or underflowing for extreme but finite inputs.
    """
    scale = np.max(np.abs(F), axis=1, keepdims=True)
    nonzero = scale > 0
    F = np.divide(F, scale, out=np.zeros_like(F), where=nonzero)
    norm = np.sqrt(np.einsum("ij,ij->i", F, F))[:, None]
    return np.divide(F, norm, out=F, where=nonzero)
