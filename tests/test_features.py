import csv
import warnings

import librosa
import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from skblsh.features import SpectralFeatures

N_FFT = 1024
N_BINS = N_FFT // 2 + 1
KINDS = ["stft", "mel", "log-mel", "mfcc"]


@pytest.fixture(scope="module")
def speech_frames(corpus_path):
    """Magnitude STFT frames (n_frames, 513) of the first speech file, float64."""
    with open(corpus_path / "manifest.csv", newline="") as f:
        paths = sorted(r["path"] for r in csv.DictReader(f) if r["kind"] == "speech")
    y, sr = sf.read(corpus_path / paths[0], dtype="float32")
    assert sr == 16000
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=256, window="hann"))
    return S.T.astype(np.float64)


def _random_frames(n_frames=12, n_bins=N_BINS, seed=0):
    return np.abs(np.random.RandomState(seed).standard_normal((n_frames, n_bins)))


@pytest.mark.parametrize(
    "kind, params, width",
    [
        ("stft", {}, N_BINS),
        ("mel", {"n_mels": 40}, 40),
        ("log-mel", {"n_mels": 32}, 32),
        ("mfcc", {"n_mels": 40, "n_mfcc": 13}, 13),
    ],
)
def test_output_shape_and_fitted_attributes(kind, params, width):
    X = _random_frames()
    est = SpectralFeatures(kind, **params).fit(X)
    assert est.n_features_in_ == N_BINS
    assert est.n_fft_ == N_FFT
    if kind == "stft":
        assert est.filterbank_ is None
    else:
        assert est.filterbank_.shape == (params["n_mels"], N_BINS)
    Xt = est.transform(X)
    assert Xt.shape == (12, width)
    assert Xt.dtype == np.float64
    names = est.get_feature_names_out()
    assert names.shape == (width,)
    assert names[0] == "spectralfeatures0"
    assert names[-1] == f"spectralfeatures{width - 1}"


@pytest.mark.parametrize("kind", KINDS)
def test_rows_unit_norm_and_silent_rows_stay_zero(kind):
    X = _random_frames()
    X[[0, 5]] = 0.0  # digital silence
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero / log(0) warnings
        Xt = SpectralFeatures(kind, n_mels=40).fit_transform(X)
    assert np.all(np.isfinite(Xt))
    norms = np.linalg.norm(Xt, axis=1)
    assert_array_equal(Xt[[0, 5]], 0.0)
    assert_allclose(np.delete(norms, [0, 5]), 1.0, rtol=1e-12)


def test_normalize_is_robust_to_extreme_scales():
    # Squaring 1e200 overflows and squaring 1e-200 underflows in float64.
    X = np.vstack([np.full(N_BINS, 1e200), np.full(N_BINS, 1e-200)])
    Xt = SpectralFeatures().fit_transform(X)
    assert_allclose(Xt, 1 / np.sqrt(N_BINS), rtol=1e-12)


@pytest.mark.parametrize("power", [1.0, 0.3, 2])
def test_stft_is_compressed_frames_over_their_norm(power):
    X = _random_frames()
    Xp = X**power
    expected = Xp / np.linalg.norm(Xp, axis=1, keepdims=True)
    assert_allclose(
        SpectralFeatures(power=power).fit_transform(X), expected, rtol=1e-12
    )
    raw = SpectralFeatures(power=power, normalize=False).fit_transform(X)
    assert_allclose(raw, Xp, rtol=1e-14)
    # The output never aliases the input, even when nothing is computed.
    assert not np.shares_memory(raw, X)


@pytest.mark.parametrize("kind", ["stft", "mel"])
def test_normalized_features_ignore_gain(kind):
    # Linear features divided by their norm do not depend on the loudness,
    # which is why the paper normalises frames before hashing.
    X = _random_frames()
    est = SpectralFeatures(kind, n_mels=40).fit(X)
    assert_allclose(est.transform(X), est.transform(37.0 * X), rtol=1e-12)


def test_mel_matches_librosa_on_corpus_speech(speech_frames):
    X = speech_frames
    est = SpectralFeatures("mel", n_mels=64, normalize=False).fit(X)
    fb = librosa.filters.mel(sr=16000, n_fft=N_FFT, n_mels=64, dtype=np.float64)
    assert_array_equal(est.filterbank_, fb)
    mel = est.transform(X)
    assert_allclose(mel, X @ fb.T, rtol=1e-12)
    # librosa's own pipeline (float32 filterbank) on the same spectrogram.
    for power in (1.0, 2.0):
        ref = librosa.feature.melspectrogram(
            S=X.T**power, sr=16000, n_fft=N_FFT, n_mels=64
        ).T
        got = SpectralFeatures("mel", power=power, normalize=False).fit_transform(X)
        assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * ref.max())
    # Band-limited fmin/fmax reach the filterbank too.
    est = SpectralFeatures("mel", n_mels=20, fmin=300.0, fmax=4000.0).fit(X)
    fb = librosa.filters.mel(
        sr=16000, n_fft=N_FFT, n_mels=20, fmin=300.0, fmax=4000.0, dtype=np.float64
    )
    assert_array_equal(est.filterbank_, fb)
    freqs = librosa.fft_frequencies(sr=16000, n_fft=N_FFT)
    assert not est.filterbank_[:, (freqs < 300) | (freqs > 4000)].any()


def test_log_mel_is_offset_log_of_mel(speech_frames):
    X = speech_frames
    mel = SpectralFeatures("mel", power=2, normalize=False).fit_transform(X)
    eps = 1e-4
    logmel = SpectralFeatures(
        "log-mel", power=2, eps=eps, normalize=False
    ).fit_transform(X)
    assert_allclose(logmel, np.log(mel + eps) - np.log(eps), rtol=1e-10, atol=1e-12)
    assert logmel.min() >= 0.0
    # Real speech mel power spans > 80 dB; the log compresses it to < 16 nats.
    assert mel.max() / mel.min() > 1e8
    assert logmel.max() < 16


def test_mfcc_matches_librosa_up_to_log_base(speech_frames):
    X = speech_frames
    n_mels, n_mfcc = 64, 20
    k = np.log(10) / 10  # nats per decibel
    mel = SpectralFeatures("mel", power=2, normalize=False).fit_transform(X)

    # Same floored mel in both: exact up to dB -> nats and the c0 offset.
    eps = 1e-6
    got = SpectralFeatures(
        "mfcc", power=2, eps=eps, n_mfcc=n_mfcc, normalize=False
    ).fit_transform(X)
    ref = librosa.feature.mfcc(
        S=librosa.power_to_db((mel + eps).T, top_db=None), n_mfcc=n_mfcc
    ).T
    ref = k * ref
    ref[:, 0] -= np.sqrt(n_mels) * np.log(eps)
    assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())

    # Librosa's unfloored MFCCs: a tiny eps changes each log-mel value by at
    # most eps / min(mel) (< 5e-5 here), so each coefficient by < 8 * 5e-5.
    eps = 1e-12
    assert eps / mel.min() < 5e-5
    got = SpectralFeatures(
        "mfcc", power=2, eps=eps, n_mfcc=n_mfcc, normalize=False
    ).fit_transform(X)
    ref = (
        k
        * librosa.feature.mfcc(
            S=librosa.power_to_db(mel.T, amin=1e-30, top_db=None), n_mfcc=n_mfcc
        ).T
    )
    assert_allclose(got[:, 1:], ref[:, 1:], atol=4e-4)
    assert np.abs(ref[:, 1:]).max() > 10  # the comparison is not between zeros
    assert_allclose(got[:, 0], ref[:, 0] - np.sqrt(n_mels) * np.log(eps), atol=4e-4)

    # normalize=True divides each of those rows by its own norm.
    unit = SpectralFeatures("mfcc", power=2, eps=eps, n_mfcc=n_mfcc).fit_transform(X)
    assert_allclose(unit, got / np.linalg.norm(got, axis=1, keepdims=True), rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_is_preserved_and_close_to_float64(kind):
    X = _random_frames()
    est = SpectralFeatures(kind, n_mels=40)
    Xt64 = est.fit_transform(X)
    Xt32 = est.fit_transform(X.astype(np.float32))
    assert Xt32.dtype == np.float32
    assert_allclose(Xt32, Xt64, rtol=1e-4, atol=1e-5)
    assert est.fit_transform(X.astype(np.int64)).dtype == np.float64


@pytest.mark.parametrize(
    "X, match",
    [
        (-_random_frames(), r"Negative values in data.*got min\(X\) = -"),
        (np.full((3, 5), np.nan), "NaN"),
        (np.full((3, 5), np.inf), "infinity"),
        (np.ones(5), "Expected 2D array"),
        (np.ones((3, 1)), r"at least 2 frequency bins.*got 1 feature\(s\)"),
        (np.ones((0, 5)), "0 sample"),
        (np.ones((3, 5)) + 1j, r"complex.*np\.abs\(S\)\.T"),
    ],
)
def test_fit_rejects_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        SpectralFeatures().fit(X)


def test_transform_rejects_bad_input():
    est = SpectralFeatures("mel", n_mels=8).fit(_random_frames(n_bins=65))
    with pytest.raises(ValueError, match="65 features"):
        est.transform(_random_frames(n_bins=33))
    with pytest.raises(ValueError, match="Negative values in data"):
        est.transform(-_random_frames(n_bins=65))
    with pytest.raises(NotFittedError):
        SpectralFeatures().transform(_random_frames())


@pytest.mark.parametrize(
    "params, match",
    [
        ({"kind": "cqt"}, "'kind' parameter"),
        ({"power": 0.0}, "'power' parameter"),
        ({"power": 2.5}, "'power' parameter"),
        ({"n_mels": 0}, "'n_mels' parameter"),
        ({"eps": 0.0}, "'eps' parameter"),
        ({"normalize": "yes"}, "'normalize' parameter"),
    ],
)
def test_invalid_parameters(params, match):
    # InvalidParameterError (a ValueError) is private to scikit-learn; check
    # it by name rather than importing it.
    with pytest.raises(ValueError, match=match + " of SpectralFeatures must be") as exc:
        SpectralFeatures(**params).fit(_random_frames())
    assert exc.type.__name__ == "InvalidParameterError"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"kind": "mel", "fmax": 9000.0}, r"Expected fmax <= sr / 2 = 8000, got"),
        ({"kind": "mel", "fmin": 4000.0, "fmax": 3000.0}, "Expected fmin < fmax"),
        ({"kind": "log-mel", "fmin": 8000.0}, "Expected fmin < fmax"),
        ({"kind": "mfcc", "n_mels": 10, "n_mfcc": 13}, r"n_mfcc <= n_mels=10, got"),
    ],
)
def test_inconsistent_mel_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SpectralFeatures(**params).fit(_random_frames())
    # The same values are irrelevant, hence accepted, for plain STFT frames.
    SpectralFeatures(**{**params, "kind": "stft"}).fit(_random_frames())


def test_empty_mel_filters_warn_with_parameter_names():
    with pytest.warns(UserWarning, match=r"of the n_mels=64 mel filters are empty"):
        est = SpectralFeatures("mel", n_mels=64).fit(_random_frames(n_bins=33))
    empty = ~est.filterbank_.any(axis=1)
    assert empty.sum() > 0
    Xt = est.transform(_random_frames(n_bins=33))
    assert_array_equal(Xt[:, empty], 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SpectralFeatures("mel", n_mels=40).fit(_random_frames())


def test_set_output_pandas_columns(speech_frames):
    pd = pytest.importorskip("pandas")
    est = SpectralFeatures("mfcc", n_mfcc=13).set_output(transform="pandas")
    df = est.fit_transform(speech_frames)
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (speech_frames.shape[0], 13)
    assert list(df.columns) == [f"spectralfeatures{i}" for i in range(13)]
