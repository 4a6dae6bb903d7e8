"""Signal-to-distortion ratios: speech-row BSS Eval and SI-SDR.

The paper reports BSS Eval (Vincent et al., 2006) for the speech row of a
two-source problem: references ``[s, m - s]``, estimates ``[s_hat, m -
s_hat]``, 512-tap distortion filters, as in
:func:`mir_eval.separation.bss_eval_sources`. :class:`BSSEvalReference`
re-implements mir_eval's least-squares decomposition exactly, factorising the
Gram matrix of the delayed references once per utterance, so that scoring an
estimate costs a few FFTs and two solves with the cached factor;
:func:`bss_eval` computes the same numbers with it or with mir_eval itself.
:func:`si_sdr` is the scale-invariant SDR, which needs no mixture. Public
names are re-exported by :mod:`skblsh.metrics`.
"""

import warnings

import numpy as np
import scipy.fft
from scipy.linalg import (
    LinAlgError,
    cho_factor,
    cho_solve,
    lu_factor,
    lu_solve,
    toeplitz,
)

from ..utils._sklearn import StrOptions, validate_params
from ..utils._validation import check_audio, check_length

# The distortion filter length that mir_eval.separation.bss_eval_sources fixes.
_FILTER_LENGTH = 512

# mir_eval 0.8 announces the removal of mir_eval.separation with a warning whose
# message starts with the qualified name of the deprecated function.
_MIR_EVAL_REMOVAL_MESSAGE = r"mir_eval\.separation\.\w+\s+Deprecated"


def as_float64(y):
    return np.asarray(y, dtype=np.float64)


def noise_of(reference, mixture):
    noise = mixture - reference
    if not np.any(noise):
        raise ValueError(
            "Expected mixture to differ from reference, got mixture == reference: "
            "the noise (mixture - reference) is all zeros and BSS Eval is "
            "undefined without it."
        )
    return noise


def db(num, den):
    # Same convention as mir_eval's _safe_db (+inf when nothing is left over),
    # plus -inf without a RuntimeWarning when the numerator vanishes.
    if den == 0:
        return np.inf
    if num == 0:
        return -np.inf
    return float(10 * np.log10(num / den))


def source_criteria(s_true, e_spat, e_interf, e_artif):
    # mir_eval.separation._bss_source_crit, term by term.
    s_filt = s_true + e_spat
    sdr = db(np.sum(s_filt**2), np.sum((e_interf + e_artif) ** 2))
    sir = db(np.sum(s_filt**2), np.sum(e_interf**2))
    sar = db(np.sum((s_filt + e_interf) ** 2), np.sum(e_artif**2))
    result = (sdr, sir, sar)
    if np.isnan(result).any():
        raise ValueError(
            f"BSS Eval gave NaN (SDR, SIR, SAR = {result}); the references are "
            "too close to linearly dependent for the decomposition."
        )
    return result


class BSSEvalReference:
    """Speech-row BSS Eval for one utterance, prepared once, many estimates.

    Exact re-implementation of the decomposition behind
    :func:`mir_eval.separation.bss_eval_sources` (``compute_permutation=False``,
    512-tap distortion filters) for the first source of the pair
    ``[reference, mixture - reference]``. The Gram matrix of the delayed
    references and its Cholesky factor depend only on the reference and the
    mixture: they are computed here, once. :meth:`score` then needs two FFT
    correlations, two solves with the cached factor and two FFT filterings
    per estimate. Its results agree with mir_eval to rounding error
    (below 1e-9 dB on speech; see ``benchmarks/bench_metrics.py``).

    This is a plain helper object, not an estimator.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean source ``s``, floating point. Must not be all zeros.
    mixture : array-like of shape (n_samples,)
        Mixture ``m``. ``mixture - reference`` (the noise) must not be all
        zeros.

    Attributes
    ----------
    reference : ndarray of shape (n_samples,), dtype=float64
        The validated reference.
    noise : ndarray of shape (n_samples,), dtype=float64
        ``mixture - reference``, the second reference of BSS Eval.
    n_samples : int
        Length every estimate must have.

    See Also
    --------
    bss_eval : One-off evaluation, with a choice of backend.

    References
    ----------
    .. [1] E. Vincent, R. Gribonval and C. Fevotte, "Performance measurement
       in blind audio source separation", IEEE Trans. ASLP, 14(4), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import BSSEvalReference
    >>> rng = np.random.default_rng(0)
    >>> speech, noise = rng.standard_normal((2, 8000))
    >>> scorer = BSSEvalReference(speech, speech + noise)
    >>> for gain in [1.0, 0.3, 0.1]:
    ...     sdr, sir, sar = scorer.score(speech + gain * noise)
    ...     print(f"SDR={sdr:.1f} dB  SIR={sir:.1f} dB")
    SDR=0.5 dB  SIR=0.5 dB
    SDR=10.8 dB  SIR=10.8 dB
    SDR=20.3 dB  SIR=20.3 dB
    """

    def __init__(self, reference, mixture):
        reference = as_float64(
            check_audio(reference, name="reference", allow_silent=False)
        )
        mixture = as_float64(check_audio(mixture, name="mixture"))
        check_length(
            mixture, reference.shape[0], name="mixture", reference_name="reference"
        )
        noise = noise_of(reference, mixture)
        self.reference = reference
        self.noise = noise
        self.n_samples = reference.shape[0]

        flen = _FILTER_LENGTH
        # Same FFT size as mir_eval: no wrap-around for lags below flen.
        self._n_fft = int(2 ** np.ceil(np.log2(self.n_samples + flen - 1)))
        self._spectra = scipy.fft.rfft(
            np.stack([reference, noise]), n=self._n_fft, axis=1
        )
        gram = np.empty((2 * flen, 2 * flen))
        for i, j in [(0, 0), (0, 1), (1, 1)]:
            corr = scipy.fft.irfft(
                self._spectra[i] * np.conj(self._spectra[j]), n=self._n_fft
            )
            block = toeplitz(np.hstack((corr[0], corr[-1:-flen:-1])), r=corr[:flen])
            gram[i * flen : (i + 1) * flen, j * flen : (j + 1) * flen] = block
            gram[j * flen : (j + 1) * flen, i * flen : (i + 1) * flen] = block.T
        try:
            # The leading block of an upper Cholesky factor is the factor of
            # the leading block: one factorisation serves both projections.
            self._factor = ("cholesky", cho_factor(gram, lower=False)[0])
        except LinAlgError:
            # Numerically not positive definite: fall back to LU, which is
            # what mir_eval's np.linalg.solve does.
            self._factor = ("lu", (lu_factor(gram[:flen, :flen]), lu_factor(gram)))

    def __repr__(self):
        return f"{type(self).__name__}(n_samples={self.n_samples})"

    def score(self, estimate):
        """Return ``(sdr, sir, sar)`` in dB of an estimate of the reference.

        Parameters
        ----------
        estimate : array-like of shape (n_samples,)
            Estimated source ``s_hat``, floating point, not all zeros.

        Returns
        -------
        sdr : float
            Signal-to-distortion ratio of the speech row, in dB.
        sir : float
            Signal-to-interference ratio.
        sar : float
            Signal-to-artifacts ratio.

        See Also
        --------
        bss_eval : The same numbers, one call per estimate.

        Examples
        --------
        >>> import numpy as np
        >>> from skblsh.metrics import BSSEvalReference
        >>> rng = np.random.default_rng(0)
        >>> speech, noise = rng.standard_normal((2, 4000))
        >>> sdr, sir, sar = BSSEvalReference(speech, speech + noise).score(speech)
        >>> print(sdr > 100, sir > 100)
        True True
        """
        estimate = as_float64(
            check_audio(estimate, name="estimate", allow_silent=False)
        )
        check_length(
            estimate, self.n_samples, name="estimate", reference_name="reference"
        )
        flen, n, n_fft = _FILTER_LENGTH, self.n_samples, self._n_fft
        n_out = n + flen - 1

        # Inner products of the estimate with every delayed reference.
        corr = scipy.fft.irfft(
            self._spectra * np.conj(scipy.fft.rfft(estimate, n=n_fft)), n=n_fft, axis=1
        )
        inner = np.concatenate([corr[:, :1], corr[:, -1:-flen:-1]], axis=1)
        # Least-squares distortion filters: on the reference alone (SDR) and
        # on reference and noise together (SIR, SAR).
        kind, factor = self._factor
        if kind == "cholesky":
            filt_reference = cho_solve((factor[:flen, :flen], False), inner[0])
            filt_both = cho_solve((factor, False), inner.ravel())
        else:
            filt_reference = lu_solve(factor[0], inner[0])
            filt_both = lu_solve(factor[1], inner.ravel())
        filt_spectra = scipy.fft.rfft(
            np.stack([filt_reference, filt_both[:flen], filt_both[flen:]]),
            n=n_fft,
            axis=1,
        )
        proj_reference, proj_both = scipy.fft.irfft(
            np.stack(
                [
                    filt_spectra[0] * self._spectra[0],
                    filt_spectra[1] * self._spectra[0]
                    + filt_spectra[2] * self._spectra[1],
                ]
            ),
            n=n_fft,
            axis=1,
        )[:, :n_out]

        # mir_eval.separation._bss_decomp_mtifilt, term by term.
        s_true = np.zeros(n_out)
        s_true[:n] = self.reference
        e_spat = proj_reference - s_true
        e_interf = proj_both - s_true - e_spat
        e_artif = -s_true - e_spat - e_interf
        e_artif[:n] += estimate
        return source_criteria(s_true, e_spat, e_interf, e_artif)


def bss_eval_mir_eval(reference, estimate, mixture):
    import mir_eval.separation

    noise = mixture - reference
    other = mixture - estimate
    if not np.any(other):
        # The estimate is the mixture. Only the speech row is reported and it
        # does not depend on the second estimate, which mir_eval would refuse
        # for being all zeros: hand it any non-silent signal.
        other = noise
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings(
                "ignore", message=_MIR_EVAL_REMOVAL_MESSAGE, category=category
            )
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(
            np.stack([reference, noise]),
            np.stack([estimate, other]),
            compute_permutation=False,
        )
    return float(sdr[0]), float(sir[0]), float(sar[0])


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "mixture": ["array-like"],
        "backend": [StrOptions({"fast", "mir_eval"})],
    },
    prefer_skip_nested_validation=True,
)
def bss_eval(reference, estimate, mixture, *, backend="fast"):
    """BSS Eval SDR, SIR and SAR of the speech row, in dB.

    The two-source evaluation of the paper: references ``[s, m - s]``,
    estimates ``[s_hat, m - s_hat]``, 512-tap time-invariant distortion
    filters, no permutation search; the speech row (index 0) is returned.
    The speech row depends only on ``s``, ``m - s`` and ``s_hat``.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean source ``s``, floating point, not all zeros.
    estimate : array-like of shape (n_samples,)
        Estimated source ``s_hat``, floating point, not all zeros.
    mixture : array-like of shape (n_samples,)
        Mixture ``m``; the noise ``m - s`` must not be all zeros.
    backend : {"fast", "mir_eval"}, default="fast"
        ``"fast"`` uses :class:`BSSEvalReference`, which agrees with mir_eval
        to rounding error and is several times faster. ``"mir_eval"`` calls
        :func:`mir_eval.separation.bss_eval_sources` (its deprecation warning
        is silenced here; other warnings pass through). When the estimate
        equals the mixture, the all-zero second estimate that mir_eval would
        refuse is replaced by the noise, which leaves the speech row unchanged.

    Returns
    -------
    sdr : float
        Signal-to-distortion ratio.
    sir : float
        Signal-to-interference ratio.
    sar : float
        Signal-to-artifacts ratio.

    Raises
    ------
    ValueError
        If an input is not a finite 1-D floating-point waveform, the lengths
        differ, or the reference, the noise or the estimate is all zeros
        (BSS Eval is undefined then, and mir_eval refuses it too).
    TypeError
        If an input has an integer (PCM) dtype.

    See Also
    --------
    BSSEvalReference : Score many estimates of one utterance.
    si_sdr : Scale-invariant SDR.
    separation_report : Per-utterance and aggregate metrics for a data set.

    Notes
    -----
    A perfect estimate, or any estimate inside the span of the filtered
    references (such as the mixture itself, whose SAR is then meaningless),
    leaves a residual made of rounding errors only: the corresponding ratio
    is very large (typically 250-300 dB) rather than exactly ``inf``, and
    its precise value differs between backends. ``inf`` is returned when the
    residual is exactly zero.

    References
    ----------
    .. [1] E. Vincent, R. Gribonval and C. Fevotte, "Performance measurement
       in blind audio source separation", IEEE Trans. ASLP, 14(4), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import bss_eval
    >>> rng = np.random.default_rng(0)
    >>> speech, noise, hiss = rng.standard_normal((3, 8000))
    >>> estimate = speech + 0.1 * noise + 0.1 * hiss
    >>> sdr, sir, sar = bss_eval(speech, estimate, speech + noise)
    >>> print(f"SDR={sdr:.1f} SIR={sir:.1f} SAR={sar:.1f}")
    SDR=17.3 SIR=20.0 SAR=20.7
    >>> sdr_ref, _, _ = bss_eval(speech, estimate, speech + noise, backend="mir_eval")
    >>> print(f"{abs(sdr - sdr_ref) < 1e-6}")
    True
    """
    reference = as_float64(check_audio(reference, name="reference", allow_silent=False))
    estimate = as_float64(check_audio(estimate, name="estimate", allow_silent=False))
    mixture = as_float64(check_audio(mixture, name="mixture"))
    n = reference.shape[0]
    check_length(estimate, n, name="estimate", reference_name="reference")
    check_length(mixture, n, name="mixture", reference_name="reference")
    noise_of(reference, mixture)
    if backend == "fast":
        return BSSEvalReference(reference, mixture).score(estimate)
    return bss_eval_mir_eval(reference, estimate, mixture)


@validate_params(
    {
        "reference": ["array-like"],
        "estimate": ["array-like"],
        "zero_mean": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def si_sdr(reference, estimate, *, zero_mean=True):
    """Scale-invariant signal-to-distortion ratio (SI-SDR), in dB.

    With ``alpha = <s_hat, s> / <s, s>``, the target is ``alpha * s`` and
    ``SI-SDR = 10 log10(|alpha s|^2 / |s_hat - alpha s|^2)`` (Le Roux et al.,
    2019). Rescaling the estimate by any non-zero factor, negative included,
    leaves the value unchanged.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Clean source, floating point, not all zeros (nor constant when
        ``zero_mean=True``).
    estimate : array-like of shape (n_samples,)
        Estimated source, same length, not all zeros (nor constant when
        ``zero_mean=True``).
    zero_mean : bool, default=True
        Subtract each signal's mean first, as the definition of Le Roux et al.
        assumes zero-mean signals. With ``False`` a DC offset in the estimate
        counts as distortion.

    Returns
    -------
    float
        SI-SDR in dB; ``inf`` if the residual is exactly zero, and very large
        (around 300 dB) for a perfect estimate up to rounding.

    Raises
    ------
    ValueError
        If an input is not a finite 1-D floating-point waveform, the lengths
        differ, or a signal is all zeros (after mean removal).
    TypeError
        If an input has an integer (PCM) dtype.

    See Also
    --------
    bss_eval : SDR with a 512-tap distortion filter, SIR and SAR.

    References
    ----------
    .. [1] J. Le Roux, S. Wisdom, H. Erdogan and J. R. Hershey, "SDR -
       half-baked or well done?", ICASSP 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.metrics import si_sdr
    >>> rng = np.random.default_rng(0)
    >>> speech, noise = rng.standard_normal((2, 8000))
    >>> print(f"{si_sdr(speech, speech + 0.1 * noise):.1f}")
    20.1
    >>> print(f"{si_sdr(speech, -3 * (speech + 0.1 * noise)):.1f}")
    20.1
    """
    reference = as_float64(check_audio(reference, name="reference", allow_silent=False))
    estimate = as_float64(check_audio(estimate, name="estimate", allow_silent=False))
    check_length(
        estimate, reference.shape[0], name="estimate", reference_name="reference"
    )
    if zero_mean:
        reference = reference - reference.mean()
        estimate = estimate - estimate.mean()
        for name, y in [("reference", reference), ("estimate", estimate)]:
            if not np.any(y):
                raise ValueError(
                    f"Expected {name} to contain a signal, got a constant "
                    "waveform (all zeros after mean removal with zero_mean=True)."
                )
    alpha = np.dot(estimate, reference) / np.dot(reference, reference)
    target = alpha * reference
    return db(np.sum(target**2), np.sum((estimate - target) ** 2))
