"""Input validation audit: every public entry point, every bad input, one table.

Each row is (entry point, bad input) -> (exception type, regex the message
must match). The regexes insist on the argument's name and what was
expected, so a regression to an error from deep inside numpy or librosa (or
to no error at all) fails here.
"""

import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skblsh import (
    BoostedLSH,
    HammingKNNMaskRegressor,
    HammingNearestNeighbors,
    MaskingSeparator,
    RandomLSH,
    SpectralFeatures,
    hamming_distances,
    pack_bits,
    unpack_bits,
)
from skblsh.datasets import make_mixtures, read_audio, write_audio
from skblsh.metrics import bss_eval, separation_report, si_sdr
from skblsh.separation import (
    ideal_binary_mask,
    istft,
    make_frames,
    make_separator_pipeline,
    stft,
)

RNG = np.random.RandomState(0)
N = 4096
SIG = np.sin(np.arange(N) * 0.05)
NOISE = 0.5 * RNG.randn(N)
MIX = SIG + NOISE
X = RNG.rand(40, 20)
CODES = RandomLSH(16, random_state=0).fit_transform(X)
Y = RNG.rand(40, 3)
MAGS = np.abs(RNG.randn(12, 513))


def _pipe(n_bits=8, n_neighbors=2):
    return make_separator_pipeline(n_bits, n_neighbors, hasher="random", random_state=0)


def _fitted_separator():
    t = np.arange(6000)
    sources = [np.sin(t * f) for f in (0.05, 0.1)]
    mixtures = [s + 0.5 * RNG.randn(len(s)) for s in sources]
    return MaskingSeparator(_pipe()).fit(mixtures, sources)


SEP = _fitted_separator()
NN = HammingNearestNeighbors(3).fit(CODES)
REG = HammingKNNMaskRegressor(3).fit(CODES, Y)
LSH = RandomLSH(8, random_state=0).fit(X)
FEAT = SpectralFeatures().fit(MAGS)


def _with(arr, index, value):
    arr = np.array(arr, dtype=float)
    arr[index] = value
    return arr


NAN_AUDIO = _with(MIX, 10, np.nan)
INF_AUDIO = _with(MIX, 10, np.inf)
INT_PCM = (MIX * 8000).astype(np.int16)
STEREO = np.stack([MIX, MIX], axis=1)


def FIT(mixtures, sources, **params):
    return MaskingSeparator(_pipe(), **params).fit(mixtures, sources)


# (id, callable, exception, message regex)
# fmt: off
CASES = [
    # --- MaskingSeparator.predict / predict_mask: audio inputs -------------
    ("predict-nan", lambda: SEP.predict([NAN_AUDIO]), ValueError,
     r"mixtures\[0\] to be finite, got NaN or infinite"),
    ("predict-inf", lambda: SEP.predict([MIX, INF_AUDIO]), ValueError,
     r"mixtures\[1\] to be finite"),
    ("predict-empty-waveform", lambda: SEP.predict([np.zeros(0)]), ValueError,
     r"mixtures\[0\] to have at least 1024 samples, got 0"),
    ("predict-shorter-than-window", lambda: SEP.predict([MIX[:1023]]), ValueError,
     r"mixtures\[0\] to have at least 1024 samples, got 1023"),
    ("predict-stereo", lambda: SEP.predict([STEREO]), ValueError,
     r"mixtures\[0\] to be a 1-D mono waveform.*\(4096, 2\).*down-mix"),
    ("predict-int16-pcm", lambda: SEP.predict([INT_PCM]), TypeError,
     r"mixtures\[0\] to have a floating-point dtype, got int16\. Integer PCM"),
    ("predict-complex", lambda: SEP.predict([MIX + 0j]), TypeError,
     r"mixtures\[0\] to have a floating-point dtype, got complex128"),
    ("predict-empty-list", lambda: SEP.predict([]), ValueError,
     r"mixtures to contain at least one waveform, got 0"),
    ("predict-bare-1d-array", lambda: SEP.predict(MIX), ValueError,
     r"mixtures to be a list of 1-D waveforms.*wrap it in a list"),
    ("predict-string", lambda: SEP.predict("noisy.wav"), TypeError,
     r"mixtures to be a list of 1-D waveforms, got str"),
    ("predict-ragged", lambda: SEP.predict([[MIX, MIX[:5]]]), TypeError,
     r"mixtures\[0\] to be a 1-D floating-point waveform.*ragged"),
    ("predict-wrong-sr", lambda: SEP.predict([MIX], sr=44100), ValueError,
     r"sr=16000 Hz \(the separator's rate\), got sr=44100"),
    ("predict-bad-sr", lambda: SEP.predict([MIX], sr=0), ValueError,
     r"sr to be a positive number of Hz, got 0"),
    ("predict-fractional-sr", lambda: SEP.predict([MIX], sr=16000.5), ValueError,
     r"sr to be a whole number of Hz"),
    ("predict_mask-stereo", lambda: SEP.predict_mask(STEREO), ValueError,
     r"mixture to be a 1-D mono waveform"),
    ("predict_mask-nan", lambda: SEP.predict_mask(NAN_AUDIO), ValueError,
     r"mixture to be finite"),
    ("predict_mask-short", lambda: SEP.predict_mask(MIX[:100]), ValueError,
     r"mixture to have at least 1024 samples, got 100"),
    # --- MaskingSeparator: not fitted ---------------------------------------
    ("predict-before-fit", lambda: MaskingSeparator().predict([MIX]),
     NotFittedError, r"MaskingSeparator instance is not fitted yet"),
    ("predict_mask-before-fit", lambda: MaskingSeparator().predict_mask(MIX),
     NotFittedError, r"not fitted yet"),
    ("score-before-fit", lambda: MaskingSeparator().score([MIX], [SIG]),
     NotFittedError, r"not fitted yet"),
    # --- MaskingSeparator.fit: data ----------------------------------------
    ("fit-length-mismatch", lambda: FIT([MIX], [SIG[:-1]]), ValueError,
     r"source\[0\] to have the same length as mixture\[0\] \(4096 samples\), "
     r"got 4095"),
    ("fit-list-length-mismatch", lambda: FIT([MIX, MIX], [SIG]), ValueError,
     r"as many sources as mixtures \(2\), got 1"),
    ("fit-nan-source", lambda: FIT([MIX], [NAN_AUDIO]), ValueError,
     r"sources\[0\] to be finite"),
    ("fit-int16-source", lambda: FIT([MIX], [INT_PCM]), TypeError,
     r"sources\[0\] to have a floating-point dtype.*Integer PCM"),
    ("fit-short", lambda: FIT([MIX[:500]], [SIG[:500]]), ValueError,
     r"mixtures\[0\] to have at least 1024 samples, got 500"),
    ("fit-wrong-sr",
     lambda: MaskingSeparator(_pipe()).fit([MIX], [SIG], sr=8000), ValueError,
     r"sr=16000 Hz.*got sr=8000"),
    ("fit-n_neighbors-above-dictionary",
     lambda: MaskingSeparator(_pipe(8, 10**4)).fit([MIX], [SIG]), ValueError,
     r"n_neighbors <= n_samples, but n_neighbors = 10000, n_samples = 17"),
    ("fit-n_neighbors-above-subsampled-dictionary",
     lambda: MaskingSeparator(_pipe(8, 5), dictionary_fraction=0.1).fit(
         [MIX], [SIG]), ValueError, r"n_neighbors = 5, n_samples = 2"),
    # --- MaskingSeparator.fit: parameters ----------------------------------
    ("param-hop-not-below-n_fft", lambda: FIT([MIX], [SIG], hop_length=1024),
     ValueError, r"hop_length < n_fft.*got hop_length=1024 and n_fft=1024"),
    ("param-n_fft", lambda: FIT([MIX], [SIG], n_fft=1), InvalidParameterError,
     r"'n_fft' parameter of MaskingSeparator must be an int in the range"),
    ("param-dictionary_fraction",
     lambda: FIT([MIX], [SIG], dictionary_fraction=0.0), InvalidParameterError,
     r"'dictionary_fraction' parameter"),
    ("param-block_frames", lambda: FIT([MIX], [SIG], block_frames=0),
     InvalidParameterError, r"'block_frames' parameter"),
    ("param-sr", lambda: FIT([MIX], [SIG], sr=0), InvalidParameterError,
     r"'sr' parameter"),
    ("param-estimator", lambda: MaskingSeparator(3).fit([MIX], [SIG]),
     InvalidParameterError, r"'estimator' parameter.*implementing 'fit'"),
    ("param-hasher", lambda: make_separator_pipeline(hasher="lsh"), ValueError,
     r"hasher in \{'boosted', 'random', None\}, got 'lsh'"),
    # --- STFT helpers -------------------------------------------------------
    ("stft-n_fft", lambda: stft(MIX, n_fft=0), InvalidParameterError,
     r"'n_fft' parameter of stft"),
    ("stft-hop_length", lambda: stft(MIX, hop_length=0), InvalidParameterError,
     r"'hop_length' parameter of stft"),
    ("stft-short", lambda: stft(MIX[:10]), ValueError,
     r"y to have at least 1024 samples, got 10"),
    ("istft-wrong-width", lambda: istft(np.zeros((3, 10)), length=100),
     ValueError, r"Z of shape \(n_frames, n_fft // 2 \+ 1 = 513\).*\(3, 10\)"),
    ("istft-no-frames", lambda: istft(np.zeros((0, 513)), length=100),
     ValueError, r"Z of shape .*got shape \(0, 513\)"),
    ("istft-nan", lambda: istft(np.full((3, 513), np.nan), length=100),
     ValueError, r"Z to be finite"),
    ("istft-length", lambda: istft(np.zeros((3, 513)), length=-1),
     InvalidParameterError, r"'length' parameter of istft"),
    ("ibm-length-mismatch", lambda: ideal_binary_mask(MIX, SIG[:-5]),
     ValueError, r"source to have the same length as mixture"),
    ("make_frames-mismatch", lambda: make_frames([MIX], [SIG, SIG]),
     ValueError, r"as many sources as mixtures"),
    # --- hashers ------------------------------------------------------------
    ("RandomLSH-nan", lambda: RandomLSH(8).fit(_with(X, (0, 0), np.nan)),
     ValueError, r"Input X contains NaN"),
    ("RandomLSH-inf", lambda: RandomLSH(8).fit(_with(X, (0, 0), np.inf)),
     ValueError, r"Input X contains infinity"),
    ("RandomLSH-empty", lambda: RandomLSH(8).fit(X[:0]), ValueError,
     r"0 sample\(s\).*minimum of 1 is required by RandomLSH"),
    ("RandomLSH-1d", lambda: RandomLSH(8).fit(X[0]), ValueError,
     r"Expected 2D array, got 1D array"),
    ("RandomLSH-complex", lambda: RandomLSH(8).fit(X + 1j), ValueError,
     r"Complex data not supported"),
    ("RandomLSH-wrong-width", lambda: LSH.transform(X[:, :5]), ValueError,
     r"X has 5 features, but RandomLSH is expecting 20"),
    ("RandomLSH-nan-transform", lambda: LSH.transform(_with(X, (1, 1), np.nan)),
     ValueError, r"Input X contains NaN"),
    ("RandomLSH-before-fit", lambda: RandomLSH(8).transform(X), NotFittedError,
     r"not fitted yet"),
    ("RandomLSH-n_bits", lambda: RandomLSH(0).fit(X), InvalidParameterError,
     r"'n_bits' parameter of RandomLSH"),
    ("BoostedLSH-nan", lambda: BoostedLSH(8).fit(_with(X, (0, 0), np.nan)),
     ValueError, r"Input X contains NaN"),
    ("BoostedLSH-one-sample", lambda: BoostedLSH(8).fit(X[:1]), ValueError,
     r"at least 2 samples"),
    ("BoostedLSH-loss", lambda: BoostedLSH(8, loss="hinge").fit(X),
     InvalidParameterError, r"'loss' parameter of BoostedLSH"),
    # --- Hamming index and regressor: codes ---------------------------------
    ("index-codes-wrong-width", lambda: NN.kneighbors(CODES[:, :1]), ValueError,
     r"X has 1 features, but HammingNearestNeighbors is expecting 2"),
    ("index-codes-float", lambda: NN.kneighbors(CODES.astype(np.float64)),
     TypeError, r"X to hold packed uint8 codes, got dtype float64"),
    ("index-codes-bool", lambda: NN.kneighbors(CODES.astype(bool)), TypeError,
     r"X to hold packed uint8 codes, got dtype bool"),
    ("index-codes-out-of-range",
     lambda: NN.kneighbors(CODES.astype(np.int64) + 256), ValueError,
     r"values in \[0, 255\], got values in"),
    ("index-codes-1d", lambda: NN.kneighbors(CODES[0]), ValueError,
     r"Expected 2D array, got 1D array"),
    ("index-n_neighbors-above-fitted", lambda: NN.kneighbors(CODES, 41),
     ValueError, r"n_neighbors <= n_samples_fit, but n_neighbors = 41, "
     r"n_samples_fit = 40"),
    ("index-n_neighbors-zero", lambda: NN.kneighbors(CODES, 0), ValueError,
     r"n_neighbors > 0, got 0"),
    ("index-before-fit", lambda: HammingNearestNeighbors().kneighbors(CODES),
     NotFittedError, r"not fitted yet"),
    ("index-fit-floats", lambda: HammingNearestNeighbors().fit(X), TypeError,
     r"packed uint8 codes.*Hash features first"),
    ("index-bit_weights-shape",
     lambda: HammingNearestNeighbors(bit_weights=np.ones(3)).fit(CODES),
     ValueError, r"bit_weights of shape \(n_bits,\).*got shape \(3,\)"),
    ("index-n_jobs", lambda: HammingNearestNeighbors(n_jobs="2").fit(CODES),
     InvalidParameterError, r"'n_jobs' parameter"),
    ("regressor-codes-wrong-width", lambda: REG.predict(CODES[:, :1]),
     ValueError, r"X has 1 features, but HammingKNNMaskRegressor is expecting 2"),
    ("regressor-codes-float32", lambda: REG.predict(CODES.astype(np.float32)),
     TypeError, r"packed uint8 codes, got dtype float32"),
    ("regressor-before-fit", lambda: HammingKNNMaskRegressor().predict(CODES),
     NotFittedError, r"not fitted yet"),
    ("regressor-n_neighbors-above-fitted",
     lambda: HammingKNNMaskRegressor(41).fit(CODES, Y), ValueError,
     r"n_neighbors <= n_samples, but n_neighbors = 41, n_samples = 40"),
    ("regressor-y-nan",
     lambda: HammingKNNMaskRegressor(3).fit(CODES, _with(Y, (0, 0), np.nan)),
     ValueError, r"Input y contains NaN"),
    ("regressor-y-length", lambda: HammingKNNMaskRegressor(3).fit(CODES, Y[:5]),
     ValueError, r"inconsistent numbers of samples: \[40, 5\]"),
    ("regressor-weights",
     lambda: HammingKNNMaskRegressor(weights="gaussian").fit(CODES, Y),
     InvalidParameterError, r"'weights' parameter"),
    ("pack_bits-non-binary", lambda: pack_bits(np.array([[0, 2]])), ValueError,
     r"bits to contain only 0 and 1"),
    ("pack_bits-1d", lambda: pack_bits(np.array([0, 1])), ValueError,
     r"bits to be a 2-D array"),
    ("unpack_bits-float", lambda: unpack_bits(CODES.astype(float)), TypeError,
     r"codes to hold packed uint8 codes"),
    ("unpack_bits-n_bits", lambda: unpack_bits(CODES, 17), ValueError,
     r"n_bits in \[1, 16\] for codes of 2 bytes, got 17"),
    ("hamming_distances-widths", lambda: hamming_distances(CODES, CODES[:, :1]),
     ValueError, r"same number of bytes per code, got 2 and 1"),
    # --- features -----------------------------------------------------------
    ("features-nan", lambda: SpectralFeatures().fit(_with(MAGS, (0, 0), np.nan)),
     ValueError, r"Input X contains NaN"),
    ("features-negative", lambda: SpectralFeatures().fit(-MAGS), ValueError,
     r"expected magnitude STFT frames \(X >= 0\)"),
    ("features-complex", lambda: SpectralFeatures().fit(MAGS + 0j), ValueError,
     r"real magnitude STFT frames, got dtype complex128"),
    ("features-wrong-width", lambda: FEAT.transform(MAGS[:, :10]), ValueError,
     r"X has 10 features, but SpectralFeatures is expecting 513"),
    ("features-kind", lambda: SpectralFeatures("cqt").fit(MAGS),
     InvalidParameterError, r"'kind' parameter"),
    # --- metrics ------------------------------------------------------------
    ("bss_eval-nan", lambda: bss_eval(SIG, NAN_AUDIO, MIX), ValueError,
     r"estimate to be finite"),
    ("bss_eval-silent-reference", lambda: bss_eval(np.zeros(N), MIX, MIX),
     ValueError, r"reference to contain a signal, got all zeros"),
    ("bss_eval-silent-estimate", lambda: bss_eval(SIG, np.zeros(N), MIX),
     ValueError, r"estimate to contain a signal, got all zeros"),
    ("bss_eval-no-noise", lambda: bss_eval(SIG, MIX, SIG), ValueError,
     r"mixture to differ from reference.*noise .* is all zeros"),
    ("bss_eval-int16", lambda: bss_eval(SIG, INT_PCM, MIX), TypeError,
     r"estimate to have a floating-point dtype, got int16"),
    ("bss_eval-stereo", lambda: bss_eval(SIG, STEREO.T, MIX), ValueError,
     r"estimate to be a 1-D mono waveform"),
    ("bss_eval-length", lambda: bss_eval(SIG, MIX[:100], MIX), ValueError,
     r"estimate to have the same length as reference \(4096 samples\), got 100"),
    ("bss_eval-empty", lambda: bss_eval(np.zeros(0), np.zeros(0), np.zeros(0)),
     ValueError, r"reference to have at least 1 samples, got 0"),
    ("bss_eval-backend", lambda: bss_eval(SIG, MIX, MIX, backend="museval"),
     InvalidParameterError, r"'backend' parameter"),
    ("si_sdr-silent", lambda: si_sdr(np.zeros(N), MIX), ValueError,
     r"reference to contain a signal"),
    ("si_sdr-constant", lambda: si_sdr(SIG, np.ones(N)), ValueError,
     r"estimate to contain a signal, got a constant waveform"),
    ("separation_report-list-lengths",
     lambda: separation_report([SIG], [MIX, MIX], [MIX]), ValueError,
     r"same number of waveforms, got 1, 2 and 1"),
    ("separation_report-silent-estimate",
     lambda: separation_report([SIG], [np.zeros(N)], [MIX]), ValueError,
     r"Utterance 0: Expected estimate to contain a signal"),
    # --- datasets -----------------------------------------------------------
    ("make_mixtures-silent-speech",
     lambda: make_mixtures([np.zeros(N)], [NOISE], snr_db=0), ValueError,
     r"speech to contain a signal, got all zeros in speech\[0\]"),
    ("make_mixtures-int", lambda: make_mixtures([INT_PCM], [NOISE], snr_db=0),
     TypeError, r"speech\[0\] to have a floating-point dtype"),
    ("make_mixtures-snr-nan",
     lambda: make_mixtures([SIG], [NOISE], snr_db=np.nan),
     InvalidParameterError, r"'snr_db' parameter"),
    ("write_audio-nan", lambda: write_audio("x.wav", NAN_AUDIO), ValueError,
     r"y to be finite"),
    ("write_audio-int16", lambda: write_audio("x.wav", INT_PCM), TypeError,
     r"y to have a floating-point dtype, got int16"),
    ("write_audio-stereo", lambda: write_audio("x.wav", STEREO), ValueError,
     r"y to be a 1-D mono waveform"),
    ("write_audio-empty", lambda: write_audio("x.wav", np.zeros(0)), ValueError,
     r"y to have at least 1 samples, got 0"),
    ("read_audio-sr", lambda: read_audio("x.wav", sr=-1), InvalidParameterError,
     r"'sr' parameter of read_audio"),
]
# fmt: on


@pytest.mark.parametrize(
    "call, err, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_clear_error(call, err, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the write_audio rows must not write anything
    with pytest.raises(err, match=match):
        call()
    assert list(tmp_path.iterdir()) == []


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_integer_pcm_rejection_says_how_to_convert():
    with pytest.raises(TypeError) as info:
        SEP.predict([INT_PCM])
    assert "y / 32768 for int16" in str(info.value)


# --- silence: defined results, never NaN -------------------------------------


def test_silent_mixture_gives_silent_estimate_and_finite_mask():
    silent = np.zeros(5000)
    (out,) = SEP.predict([silent])
    assert out.shape == silent.shape and not np.any(out)
    mask = SEP.predict_mask(silent)
    assert np.all(np.isfinite(mask)) and mask.min() >= 0 and mask.max() <= 1
    # float32 silence stays float32 silence.
    (out32,) = SEP.predict([silent.astype(np.float32)])
    assert out32.dtype == np.float32 and not np.any(out32)


def test_silent_sources_fit_and_predict_silence():
    # All-zero sources: every ideal mask is 0, so the separator learns to
    # output silence (a defined answer, not NaN).
    sep = MaskingSeparator(_pipe()).fit([MIX, NOISE], [np.zeros(N), np.zeros(N)])
    (out,) = sep.predict([MIX])
    assert not np.any(out)
    assert not np.any(ideal_binary_mask(MIX, np.zeros(N)))


def test_all_silent_training_and_silent_mask():
    assert not np.any(ideal_binary_mask(np.zeros(N), np.zeros(N)))
    sep = MaskingSeparator(_pipe()).fit([np.zeros(N)], [np.zeros(N)])
    (out,) = sep.predict([MIX])
    assert np.all(np.isfinite(out)) and not np.any(out)


def test_score_of_silent_estimate_raises_instead_of_nan():
    # What the separator returns for a silent mixture cannot be scored: BSS
    # Eval is undefined. The scorer says so (ValueError), it never returns NaN.
    sep = MaskingSeparator(_pipe()).fit([MIX], [np.zeros(N)])
    with pytest.raises(ValueError, match="estimate to contain a signal"):
        sep.score([MIX], [SIG])


def test_metrics_perfect_estimate_is_inf_not_nan():
    assert si_sdr(SIG, SIG) == np.inf
    sdr, sir, sar = bss_eval(SIG, SIG, MIX)
    assert min(sdr, sir, sar) > 100 and not np.isnan([sdr, sir, sar]).any()


def test_estimator_returning_nan_masks_is_caught():
    class NaNRegressor:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.full(X.shape, np.nan)

        def get_params(self, deep=True):
            return {}

    sep = MaskingSeparator(NaNRegressor()).fit([MIX], [SIG])
    with pytest.raises(ValueError, match="estimator to predict finite masks"):
        sep.predict([MIX])


def test_estimator_returning_wrong_shape_is_caught():
    class ScalarRegressor:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

        def get_params(self, deep=True):
            return {}

    sep = MaskingSeparator(ScalarRegressor()).fit([MIX], [SIG])
    with pytest.raises(ValueError, match=r"masks of shape \(17, 513\), got \(17,\)"):
        sep.predict([MIX])


# --- the command line: bad options are one-line errors, no model written -----


@pytest.mark.parametrize(
    "options, match",
    [
        (["--n-bits", "0"], r"'n_bits' parameter of RandomLSH must be an int"),
        (["--dictionary-fraction", "2"], r"'dictionary_fraction' parameter"),
        (["--n-neighbors", "100000"], r"n_neighbors = 100000, n_samples = \d+"),
        (["--max-utterances", "3"], r"Expected --corpus with --max-utterances 3"),
        (["--protocol", "open"], r"Expected --corpus with --protocol open"),
    ],
)
def test_cli_bad_options_are_one_line_errors(options, match, tmp_path, capsys):
    from skblsh.cli import main

    model = tmp_path / "m.joblib"
    argv = ["-q", "fit", "--hasher", "random", *options, "-o", str(model)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skblsh: error: ")
    assert re.search(match, err), err
    assert list(tmp_path.iterdir()) == []


def test_cli_usage_errors_exit_2(capsys):
    from skblsh.cli import main

    for argv in (["fit", "--n-bits", "many", "-o", "m"], ["denoise", "x.wav"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err
