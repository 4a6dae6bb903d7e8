"""STOI, ESTOI and PESQ (skblsh/metrics/_quality.py) and their scorers."""

import functools
import sys

import numpy as np
import pystoi
import pytest
import scipy.signal
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError

from skblsh.datasets import load_demo
from skblsh.metrics import estoi_scorer, pesq, pesq_scorer, stoi, stoi_scorer

try:
    import pesq as pesq_lib
except ImportError:  # an optional extra: its tests are skipped
    pesq_lib = None

SR = 16000
needs_pesq = pytest.mark.skipif(
    pesq_lib is None, reason="the optional pesq package is not installed"
)


@pytest.fixture(scope="module")
def demo():
    """Three real test utterances of the demo set at 0 dB SNR, as float64."""
    data = load_demo()
    assert data.sr == SR
    speech = [s.astype(np.float64) for s in data.sources_test[:3]]
    mixtures = [m.astype(np.float64) for m in data.mixtures_test[:3]]
    return speech, mixtures


def _noisy(speech, mixture, gain):
    return speech + gain * (mixture - speech)


# --------------------------------------------------------------------------
# Values: the libraries' own, and what they mean


def _library(name, reference, estimate, sr):
    if name == "stoi":
        return pystoi.stoi(reference, estimate, sr)
    if name == "estoi":
        return pystoi.stoi(reference, estimate, sr, extended=True)
    return pesq_lib.pesq(sr, reference, estimate, name[-2:])


def _ours(name):
    return {
        "stoi": functools.partial(stoi, sr=SR),
        "estoi": functools.partial(stoi, sr=SR, extended=True),
        "pesq_wb": functools.partial(pesq, sr=SR, mode="wb"),
        "pesq_nb": functools.partial(pesq, sr=SR, mode="nb"),
    }[name]


METRICS = [
    "stoi",
    "estoi",
    pytest.param("pesq_wb", marks=needs_pesq),
    pytest.param("pesq_nb", marks=needs_pesq),
]


@pytest.mark.parametrize("name", METRICS)
def test_values_equal_the_libraries(demo, name):
    for s, m in zip(*demo, strict=True):
        for est in (m, _noisy(s, m, 0.3)):
            # Bit-identical up to summation order (1 ulp seen with ESTOI).
            assert _ours(name)(s, est) == pytest.approx(
                _library(name, s, est, SR), rel=1e-12
            )


@pytest.mark.parametrize(
    "name, expected",
    [
        ("stoi", 1.0),
        ("estoi", 1.0),
        # P.862.2 maps raw PESQ 4.5 to 4.644, P.862.1 to 4.549.
        pytest.param("pesq_wb", 4.644, marks=needs_pesq),
        pytest.param("pesq_nb", 4.549, marks=needs_pesq),
    ],
)
def test_clean_speech_scores_the_maximum(demo, name, expected):
    for s in demo[0]:
        assert _ours(name)(s, s) == pytest.approx(expected, abs=1e-3)
        # Level-invariant: a rescaled copy is still perfect.
        assert _ours(name)(s, 0.3 * s) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("name", METRICS)
def test_noisier_scores_lower(demo, name):
    for s, m in zip(*demo, strict=True):
        # 0, 10 and 20 dB SNR.
        values = [_ours(name)(s, e) for e in (m, _noisy(s, m, 0.3), _noisy(s, m, 0.1))]
        assert values[0] < values[1] < values[2], values


def test_stoi_values_on_the_demo(demo):
    for s, m in zip(*demo, strict=True):
        # Measured on these clips: 0.70-0.93 at 0 dB SNR, > 0.95 at 20 dB.
        assert 0.65 < stoi(s, m, sr=SR) < 0.94
        assert stoi(s, _noisy(s, m, 0.1), sr=SR) > 0.95


def test_stoi_at_8khz(demo):
    s16, m16 = demo[0][1], demo[1][1]
    s, m = (scipy.signal.resample_poly(x, 1, 2) for x in (s16, m16))
    assert stoi(s, m, sr=8000) == pystoi.stoi(s, m, 8000)
    # Measured 0.934 at 8 kHz and 0.933 at 16 kHz: the bands end near 4 kHz.
    assert stoi(s, m, sr=8000) == pytest.approx(stoi(s16, m16, sr=SR), abs=0.01)


@needs_pesq
def test_narrow_band_pesq_at_8khz(demo):
    s, m = (scipy.signal.resample_poly(x, 1, 2) for x in (demo[0][1], demo[1][1]))
    assert pesq(s, m, sr=8000, mode="nb") == pesq_lib.pesq(8000, s, m, "nb")
    assert pesq(s, s, sr=8000, mode="nb") == pytest.approx(4.549, abs=1e-3)


@pytest.mark.parametrize(
    "name, tol",
    [("stoi", 1e-6), ("estoi", 1e-6), pytest.param("pesq_wb", 1e-3, marks=needs_pesq)],
)
def test_float32_and_lists_agree_with_float64(demo, name, tol):
    s, m = demo[0][0], demo[1][0]
    expected = _ours(name)(s, m)
    assert type(expected) is float
    assert _ours(name)(s.astype(np.float32), m.astype(np.float32)) == pytest.approx(
        expected, abs=tol
    )
    assert _ours(name)(list(s), list(m)) == pytest.approx(expected, rel=1e-12)


def test_silent_estimate_has_stoi_near_zero(demo):
    s = demo[0][0]
    assert stoi(s, np.zeros_like(s), sr=SR) == 0.0
    # pystoi's ESTOI gives random values within +-0.006 here: its eps-level
    # dither from the global RNG is all that is left of the estimate.
    estoi = stoi(s, np.zeros_like(s), sr=SR, extended=True)
    assert abs(estoi) < 0.01
    assert stoi(s, np.zeros_like(s), sr=SR, extended=True) == estoi


def test_estoi_is_reproducible_and_leaves_the_global_rng_alone(demo):
    # The legacy global RNG is what pystoi draws its dither from.
    s, m = demo[0][0], demo[1][0]
    np.random.seed(1)  # noqa: NPY002
    expected_draw = np.random.rand()  # noqa: NPY002
    np.random.seed(1)  # noqa: NPY002
    first = stoi(s, m, sr=SR, extended=True)
    assert np.random.rand() == expected_draw  # noqa: NPY002
    np.random.rand(1000)  # noqa: NPY002 (pystoi alone would now dither differently)
    assert stoi(s, m, sr=SR, extended=True) == first


# --------------------------------------------------------------------------
# Errors


GOOD = np.random.default_rng(0).standard_normal((2, SR))
BAD_INPUTS = [
    ("nan", GOOD[0], np.r_[GOOD[1][:-1], np.nan], ValueError, "estimate to be finite"),
    ("stereo", GOOD[:2].T, GOOD[1], ValueError, "reference to be a 1-D mono"),
    ("int", GOOD[0], np.ones(SR, dtype=np.int16), TypeError, "Integer PCM"),
    (
        "lengths",
        GOOD[0],
        GOOD[1][:-5],
        ValueError,
        r"estimate to have the same length as reference \(16000 samples\), got 15995",
    ),
    ("silent reference", np.zeros(SR), GOOD[1], ValueError, "reference to contain"),
]


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize(
    "reference, estimate, err, match",
    [b[1:] for b in BAD_INPUTS],
    ids=[b[0] for b in BAD_INPUTS],
)
def test_rejects_bad_audio(name, reference, estimate, err, match):
    with pytest.raises(err, match=match):
        _ours(name)(reference, estimate)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: stoi(*GOOD, sr=4000), ValueError, r"sr >= 8000 Hz for STOI.*sr=4000"),
        (lambda: stoi(*GOOD, sr=0), InvalidParameterError, "'sr' parameter"),
        (lambda: stoi(*GOOD, sr=16000.0), InvalidParameterError, "'sr' parameter"),
        (lambda: stoi(*GOOD), TypeError, "sr"),
        pytest.param(
            lambda: pesq(*GOOD, sr=8000),
            ValueError,
            r"sr=16000 for wide-band PESQ \(mode='wb'\), got sr=8000 \(use mode='nb'",
            marks=needs_pesq,
        ),
        pytest.param(
            lambda: pesq(*GOOD, sr=44100, mode="nb"),
            ValueError,
            "sr=8000 or 16000 for narrow-band PESQ .*got sr=44100; resample",
            marks=needs_pesq,
        ),
        (lambda: pesq(*GOOD, sr=SR, mode="swb"), InvalidParameterError, "'mode'"),
    ],
)
def test_rejects_bad_sample_rates_and_modes(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_too_little_speech_for_stoi_is_an_error_not_a_score(demo):
    s, m = demo[0][0], demo[1][0]
    # pystoi would warn and return 1e-5.
    with pytest.raises(ValueError, match="at least 30 frames .* lasts 0.30 s"):
        stoi(s[: int(0.3 * SR)], m[: int(0.3 * SR)], sr=SR)
    # Long enough, but a single 0.2 s burst of speech in 2 s of near silence.
    quiet = np.full(2 * SR, 1e-6)
    burst = quiet.copy()
    burst[SR : SR + int(0.2 * SR)] = s[SR // 2 : SR // 2 + int(0.2 * SR)]
    with pytest.raises(ValueError, match="at least 30 frames"):
        stoi(burst, burst + quiet, sr=SR)


@needs_pesq
def test_too_little_speech_for_pesq_is_a_clear_error(demo):
    s, m = demo[0][0], demo[1][0]
    with pytest.raises(ValueError, match=r"at least 0.25 s long .*\(4000 samples"):
        pesq(s[:3000], m[:3000], sr=SR)
    # The pesq package raises NoUtterancesError (a RuntimeError) here.
    with pytest.raises(ValueError, match="no.* detected by its voice activity"):
        pesq(s[:4000], m[:4000], sr=SR)


def test_missing_pesq_package_names_the_extra(monkeypatch, demo):
    monkeypatch.setitem(sys.modules, "pesq", None)  # import pesq -> ImportError
    s, m = demo[0][0], demo[1][0]
    with pytest.raises(ImportError, match=r"pip install 'skblsh\[pesq\]'"):
        pesq(s, m, sr=SR)
    with pytest.raises(ImportError, match=r"skblsh\[pesq\]"):
        pesq_scorer(PassThrough(), [m], [s])
    assert stoi(s, m, sr=SR) == pystoi.stoi(s, m, SR)


# --------------------------------------------------------------------------
# Scorers


class PassThrough(BaseEstimator):
    """Returns the mixtures unchanged; audio at 16 kHz."""

    sr = SR

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return [np.asarray(x) for x in X]


class Blend(BaseEstimator):
    """Returns source + noise_level * (mixture - source), sources known."""

    def __init__(self, sources=None, noise_level=0.1, sr=SR):
        self.sources = sources
        self.noise_level = noise_level
        self.sr = sr

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        out = []
        for mixture in X:
            source = self.sources[np.asarray(mixture).tobytes()]
            out.append(source + self.noise_level * (mixture - source))
        return out


SCORERS = {
    "stoi": stoi_scorer,
    "estoi": estoi_scorer,
    "pesq_wb": pesq_scorer,
    "pesq_nb": functools.partial(pesq_scorer, mode="nb"),
}


@pytest.mark.parametrize("name", METRICS)
def test_scorers_are_length_weighted_means(demo, name):
    speech, mixtures = demo
    weights = np.array([len(s) for s in speech], dtype=float)
    values = np.array(
        [_ours(name)(s, m) for s, m in zip(speech, mixtures, strict=True)]
    )
    assert SCORERS[name](PassThrough(), mixtures, speech) == pytest.approx(
        values @ weights / weights.sum(), rel=1e-12
    )


def test_stoi_scorer_selects_the_cleanest_blend_in_grid_search(demo):
    speech, mixtures = demo
    lookup = {m.tobytes(): s for s, m in zip(speech, mixtures, strict=True)}
    search = GridSearchCV(
        Blend(lookup),
        {"noise_level": [1.0, 0.1, 0.3]},
        scoring={"stoi": stoi_scorer, "estoi": estoi_scorer},
        refit="stoi",
        cv=KFold(3),
        error_score="raise",
    ).fit(mixtures, speech)
    assert search.best_params_ == {"noise_level": 0.1}
    for name in ("stoi", "estoi"):
        scores = search.cv_results_[f"mean_test_{name}"]
        assert scores[0] < scores[2] < scores[1], scores  # 1.0 < 0.3 < 0.1


def test_scorer_sample_rate_from_estimator_or_argument(demo):
    speech, mixtures = demo
    expected = stoi_scorer(PassThrough(), mixtures, speech)
    assert stoi_scorer(PassThrough(), mixtures, speech, sr=SR) == expected

    class NoRate(PassThrough):
        sr = None

    assert stoi_scorer(NoRate(), mixtures, speech, sr=SR) == expected
    with pytest.raises(ValueError, match="Expected sr, or an estimator with an"):
        stoi_scorer(NoRate(), mixtures, speech)
    with pytest.raises(ValueError, match=r"\(estimator.sr=16000\), got sr=8000"):
        stoi_scorer(PassThrough(), mixtures, speech, sr=8000)
    with pytest.raises(ValueError, match="sr >= 8000 Hz for STOI"):
        estoi_scorer(Blend({}, sr=4000), mixtures, speech)


@needs_pesq
def test_pesq_scorer_checks_the_rate_before_predicting(demo):
    speech, mixtures = demo
    # Blend({}) would fail with KeyError if it were asked to predict.
    with pytest.raises(ValueError, match="sr=16000 for wide-band PESQ"):
        pesq_scorer(Blend({}, sr=8000), mixtures, speech)


@pytest.mark.parametrize("name", METRICS)
def test_scorers_name_the_utterance_where_a_metric_is_undefined(demo, name):
    speech, mixtures = demo
    X = [mixtures[0], mixtures[1][:3000]]
    y = [speech[0], speech[1][:3000]]
    match = "at least 30 frames" if "stoi" in name else "at least 0.25 s long"
    with pytest.raises(ValueError, match=f"Utterance 1: Expected .*{match}"):
        SCORERS[name](PassThrough(), X, y)

    class Truncates(PassThrough):
        def predict(self, X):
            return [x[:-10] for x in X]

    with pytest.raises(ValueError, match=r"predict\(X\)\[0\] to have the same"):
        SCORERS[name](Truncates(), mixtures, speech)
