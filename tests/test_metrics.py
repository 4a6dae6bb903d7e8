import csv
import importlib.util
import sys
import warnings

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import LinAlgError
from sklearn.base import BaseEstimator
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils._param_validation import InvalidParameterError

import skblsh.metrics._bss_eval
from skblsh.datasets import load_demo
from skblsh.metrics import (
    BSSEvalReference,
    bss_eval,
    pesq,
    sdr_scorer,
    separation_report,
    si_sdr,
    si_sdr_scorer,
    stoi,
)

SR = 16000
# One speaker per group, paired with a different noise type each.
PAIRS = [
    ("en_f_allison", "rain"),
    ("fr_f_june", "wind"),
    ("it_m_carlo", "birds"),
    ("da_m_ktuberling", "workshop"),
]


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _first_file(rows, kind, group, min_seconds):
    paths = sorted(
        r["path"]
        for r in rows
        if r["kind"] == kind
        and r["group"] == group
        and float(r["duration_s"]) >= min_seconds
    )
    return paths[0]


def _mix_at_0db(speech, noise):
    noise = noise * np.sqrt(np.sum(speech**2) / np.sum(noise**2))
    return speech, noise, speech + noise


@pytest.fixture(scope="module")
def utterances(corpus_path):
    """Four real (speech, noise, mixture) triples of 2 s mixed at 0 dB SNR."""
    with open(corpus_path / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for k, (speaker, noise_type) in enumerate(PAIRS):
        speech, sr = sf.read(corpus_path / _first_file(rows, "speech", speaker, 2.0))
        noise, sr_noise = sf.read(
            corpus_path / _first_file(rows, "noise", noise_type, 4.0)
        )
        assert sr == sr_noise == SR
        offset = SR // 2 * k
        out.append(_mix_at_0db(speech[: 2 * SR], noise[offset : offset + 2 * SR]))
    return out


def _ibm_estimate(speech, noise, mixture):
    """Mixture masked by the ideal binary mask (speech louder than noise)."""
    kwargs = dict(fs=SR, nperseg=512, noverlap=384)
    _, _, S = scipy.signal.stft(speech, **kwargs)
    _, _, N = scipy.signal.stft(noise, **kwargs)
    _, _, M = scipy.signal.stft(mixture, **kwargs)
    _, y = scipy.signal.istft(M * (np.abs(S) > np.abs(N)), **kwargs)
    return y[: len(mixture)]


def _estimates(speech, noise, mixture, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "mixture": mixture,
        "speech+0.3noise": speech + 0.3 * noise,
        "ibm": _ibm_estimate(speech, noise, mixture),
        "speech+hiss": speech
        + 0.05 * np.std(speech) * rng.standard_normal(len(speech)),
    }


def _white_triplet(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    speech, noise, hiss = rng.standard_normal((3, n))
    return speech, speech + 0.3 * noise + 0.1 * hiss, speech + noise


# --------------------------------------------------------------------------
# BSS Eval: values on real speech


@pytest.mark.parametrize("backend", ["fast", "mir_eval"])
def test_bss_eval_perfect_estimate_is_very_large(utterances, backend):
    speech, _, mixture = utterances[0]
    sdr, sir, sar = bss_eval(speech, speech, mixture, backend=backend)
    # Measured: 258-300 dB (the residual is rounding error only).
    assert sdr > 100 and sir > 100 and sar > 100


def test_bss_eval_of_mixture_at_0db_is_near_0db(utterances):
    sdrs = [bss_eval(s, m, m)[0] for s, _, m in utterances]
    # Measured on these clips: 0.03 to 0.16 dB.
    assert np.all(np.abs(sdrs) < 1), sdrs


def test_bss_eval_orders_estimates_by_quality(utterances):
    speech, noise, mixture = utterances[1]
    sdr = {
        name: bss_eval(speech, est, mixture)[0]
        for name, est in _estimates(speech, noise, mixture).items()
    }
    assert sdr["mixture"] < sdr["speech+0.3noise"] < sdr["speech+hiss"]
    # 0.3 x noise at 0 dB SNR is -10.5 dB of interference.
    assert 9.5 < sdr["speech+0.3noise"] < 11.5
    assert sdr["ibm"] > sdr["mixture"] + 5


def test_fast_backend_matches_mir_eval_on_corpus(utterances):
    max_delta = 0.0
    for speech, noise, mixture in utterances:
        reference = BSSEvalReference(speech, mixture)
        for name, estimate in _estimates(speech, noise, mixture).items():
            expected = bss_eval(speech, estimate, mixture, backend="mir_eval")
            got = reference.score(estimate)
            for metric, e, g in zip(["sdr", "sir", "sar"], expected, got, strict=True):
                if e > 100:
                    # Estimate in the span of the references (e.g. the
                    # mixture's SAR): rounding error only, on both sides.
                    assert g > 100, (name, metric, e, g)
                    continue
                assert g == pytest.approx(e, abs=0.01), (name, metric)
                max_delta = max(max_delta, abs(g - e))
    # Measured: below 1e-9 dB; 0.01 dB is the required agreement.
    assert max_delta < 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_backend_matches_mir_eval_any_seed(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(600, 3000))
    # Coloured signals make the Gram matrix less well conditioned than white.
    speech = scipy.signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n))
    noise = rng.standard_normal(n)
    estimate = speech + 0.2 * noise + 0.05 * rng.standard_normal(n)
    mixture = speech + noise
    np.testing.assert_allclose(
        bss_eval(speech, estimate, mixture),
        bss_eval(speech, estimate, mixture, backend="mir_eval"),
        atol=1e-6,
    )


def test_bss_eval_reference_is_reusable_and_stateless():
    speech, estimate, mixture = _white_triplet()
    reference = BSSEvalReference(speech, mixture)
    first = reference.score(estimate)
    reference.score(mixture)
    reference.score(speech + 0.01 * estimate)
    assert reference.score(estimate) == first
    assert bss_eval(speech, estimate, mixture) == first
    assert repr(reference) == "BSSEvalReference(n_samples=4000)"


def test_bss_eval_returns_python_floats_and_accepts_float32():
    speech, estimate, mixture = (x.astype(np.float32) for x in _white_triplet())
    result = bss_eval(speech, estimate, mixture)
    assert all(type(v) is float for v in result)
    as64 = bss_eval(*(x.astype(np.float64) for x in (speech, estimate, mixture)))
    assert result == as64


def test_lu_fallback_matches_cholesky(monkeypatch):
    speech, estimate, mixture = _white_triplet()
    expected = bss_eval(speech, estimate, mixture)

    def not_positive_definite(*args, **kwargs):
        raise LinAlgError("not positive definite")

    monkeypatch.setattr(skblsh.metrics._bss_eval, "cho_factor", not_positive_definite)
    reference = BSSEvalReference(speech, mixture)
    assert reference._factor[0] == "lu"
    np.testing.assert_allclose(reference.score(estimate), expected, atol=1e-9)


# --------------------------------------------------------------------------
# mir_eval's deprecation warning


def test_mir_eval_backend_is_silent_even_with_warnings_as_errors():
    speech, estimate, mixture = _white_triplet(n=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bss_eval(speech, estimate, mixture, backend="mir_eval")


def test_mir_eval_backend_silences_only_the_removal_warning(monkeypatch):
    import mir_eval.separation

    def fake_bss_eval_sources(reference_sources, estimated_sources, **kwargs):
        warnings.warn(
            "mir_eval.separation.bss_eval_sources\n\tDeprecated as of mir_eval "
            "version 0.8.\n\tIt will be removed in mir_eval version 0.9.",
            FutureWarning,
            stacklevel=2,
        )
        warnings.warn("some other change", FutureWarning, stacklevel=2)
        warnings.warn("a numerical problem", RuntimeWarning, stacklevel=2)
        zeros = np.zeros(2)
        return zeros, zeros, zeros, np.arange(2)

    monkeypatch.setattr(mir_eval.separation, "bss_eval_sources", fake_bss_eval_sources)
    speech, estimate, mixture = _white_triplet(n=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bss_eval(speech, estimate, mixture, backend="mir_eval")
    assert sorted(str(w.message) for w in caught) == [
        "a numerical problem",
        "some other change",
    ]


def test_mir_eval_backend_scores_the_mixture_itself():
    # mir_eval refuses the all-zero second estimate m - s_hat; the speech row
    # does not depend on it.
    speech, _, mixture = _white_triplet()
    np.testing.assert_allclose(
        bss_eval(speech, mixture, mixture, backend="mir_eval")[:2],
        bss_eval(speech, mixture, mixture)[:2],
        atol=1e-9,
    )


# --------------------------------------------------------------------------
# Bad inputs

GOOD = np.random.default_rng(0).standard_normal((3, 64))


def _with(position, value):
    args = [GOOD[0], GOOD[0] + GOOD[1], GOOD[0] + GOOD[2]]
    args[position] = value
    return args


REF, EST, MIX = 0, 1, 2
BAD_INPUTS = [
    (
        "nan",
        _with(EST, np.r_[GOOD[1][:-1], np.nan]),
        ValueError,
        "estimate to be finite",
    ),
    ("inf", _with(MIX, np.r_[np.inf, GOOD[1][1:]]), ValueError, "mixture to be finite"),
    ("2-D", _with(REF, GOOD[:2]), ValueError, "reference to be a 1-D mono waveform"),
    ("empty", _with(REF, np.zeros(0)), ValueError, "at least 1 samples, got 0"),
    ("int", _with(EST, np.ones(64, dtype=np.int16)), TypeError, "Integer PCM"),
    (
        "estimate length",
        _with(EST, GOOD[1][:63]),
        ValueError,
        r"estimate to have the same length as reference \(64 samples\), got 63",
    ),
    (
        "mixture length",
        _with(MIX, np.r_[GOOD[1], 0.0]),
        ValueError,
        r"mixture to have the same length as reference \(64 samples\), got 65",
    ),
    ("silent reference", _with(REF, np.zeros(64)), ValueError, "reference to contain"),
    ("silent estimate", _with(EST, np.zeros(64)), ValueError, "estimate to contain"),
    (
        "silent noise",
        _with(MIX, GOOD[0]),
        ValueError,
        "mixture to differ from reference",
    ),
]


@pytest.mark.parametrize("api", ["fast", "mir_eval", "BSSEvalReference"])
@pytest.mark.parametrize(
    "args, err, match", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bss_eval_rejects_bad_input(api, args, err, match):
    reference, estimate, mixture = args
    with pytest.raises(err, match=match):
        if api == "BSSEvalReference":
            BSSEvalReference(reference, mixture).score(estimate)
        else:
            bss_eval(reference, estimate, mixture, backend=api)


def test_bss_eval_rejects_bad_parameters():
    with pytest.raises(InvalidParameterError, match="'backend' parameter"):
        bss_eval(*_with(0, GOOD[0]), backend="museval")
    with pytest.raises(InvalidParameterError, match="'reference' parameter"):
        bss_eval("speech.wav", GOOD[0], GOOD[1])
    with pytest.raises(TypeError, match="Expected reference to be a 1-D"):
        BSSEvalReference("speech.wav", GOOD[1])


# --------------------------------------------------------------------------
# SI-SDR


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    scale=st.floats(1e-3, 1e3),
    sign=st.sampled_from([-1.0, 1.0]),
    zero_mean=st.booleans(),
)
def test_si_sdr_is_scale_invariant(seed, scale, sign, zero_mean):
    rng = np.random.default_rng(seed)
    speech, noise = rng.standard_normal((2, 500))
    estimate = speech + 0.5 * noise
    assert si_sdr(speech, sign * scale * estimate, zero_mean=zero_mean) == (
        pytest.approx(si_sdr(speech, estimate, zero_mean=zero_mean), abs=1e-6)
    )


def test_si_sdr_known_values(utterances):
    speech, noise, _ = utterances[0]
    # Remove from the noise its component along the speech: SI-SDR is then
    # exactly the energy ratio.
    speech = speech - speech.mean()
    noise = noise - noise.mean()
    noise = noise - (noise @ speech) / (speech @ speech) * speech
    for gain in [0.1, 1.0, 3.0]:
        expected = 10 * np.log10(np.sum(speech**2) / np.sum((gain * noise) ** 2))
        assert si_sdr(speech, 0.7 * (speech + gain * noise)) == pytest.approx(
            expected, abs=1e-9
        )
    assert si_sdr(speech, speech) > 100
    assert si_sdr(speech, 2 * speech) > 100


def test_si_sdr_zero_mean_ignores_dc_offset():
    speech, estimate, _ = _white_triplet()
    clean = si_sdr(speech, estimate)
    assert si_sdr(speech, estimate + 5.0) == pytest.approx(clean, abs=1e-9)
    assert si_sdr(speech, estimate + 5.0, zero_mean=False) < clean - 10


@pytest.mark.parametrize(
    "args, kwargs, err, match",
    [
        ((GOOD[0], GOOD[1][:10]), {}, ValueError, "estimate to have the same length"),
        ((np.zeros(64), GOOD[1]), {}, ValueError, "reference to contain a signal"),
        ((GOOD[0], np.full(64, 0.5)), {}, ValueError, "estimate to contain.*constant"),
        ((GOOD[0], np.full(64, np.nan)), {}, ValueError, "estimate to be finite"),
        ((GOOD[:2], GOOD[1]), {}, ValueError, "reference to be a 1-D"),
        ((GOOD[0], np.ones(64, dtype=int)), {}, TypeError, "Integer PCM"),
        ((GOOD[0], GOOD[1]), {"zero_mean": "yes"}, InvalidParameterError, "zero_mean"),
    ],
)
def test_si_sdr_rejects_bad_input(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        si_sdr(*args, **kwargs)


# --------------------------------------------------------------------------
# separation_report


def test_separation_report_per_utterance_and_aggregates(utterances):
    lengths = [SR, 3 * SR // 2, 2 * SR]
    references, estimates, mixtures = [], [], []
    for (speech, noise, _), n, gain in zip(
        utterances[:3], lengths, [1.0, 0.3, 0.1], strict=True
    ):
        references.append(speech[:n])
        mixtures.append(speech[:n] + noise[:n])
        estimates.append(speech[:n] + gain * noise[:n])
    report = separation_report(references, estimates, mixtures)

    np.testing.assert_array_equal(report.length, lengths)
    expected = np.array(
        [
            bss_eval(r, e, m)
            for r, e, m in zip(references, estimates, mixtures, strict=True)
        ]
    )
    np.testing.assert_allclose(report.sdr, expected[:, 0])
    np.testing.assert_allclose(report.sir, expected[:, 1])
    np.testing.assert_allclose(report.sar, expected[:, 2])
    np.testing.assert_allclose(
        report.si_sdr,
        [si_sdr(r, e) for r, e in zip(references, estimates, strict=True)],
    )
    np.testing.assert_allclose(
        report.stoi,
        [stoi(r, e, sr=SR) for r, e in zip(references, estimates, strict=True)],
    )
    weights = np.array(lengths) / np.sum(lengths)
    for name in ["sdr", "sir", "sar", "si_sdr", "stoi"]:
        assert report[f"{name}_weighted"] == pytest.approx(weights @ report[name])
        assert report[f"{name}_mean"] == pytest.approx(np.mean(report[name]))
    # Longer utterances have the better estimates here.
    assert report.sdr_weighted > report.sdr_mean + 1
    assert np.all(np.diff(report.sdr) > 5)
    assert np.all(np.diff(report.stoi) > 0)


def test_separation_report_rejects_bad_input():
    speech, estimate, mixture = _white_triplet(n=200)
    with pytest.raises(ValueError, match="same number of waveforms, got 2, 1 and 2"):
        separation_report([speech, speech], [estimate], [mixture, mixture])
    with pytest.raises(ValueError, match=r"estimates\[1\] to be finite"):
        separation_report(
            [speech, speech], [estimate, np.full(200, np.nan)], [mixture, mixture]
        )
    with pytest.raises(ValueError, match="Utterance 1: Expected estimate to have"):
        separation_report([speech, speech], [estimate, estimate[:-1]], [mixture] * 2)
    with pytest.raises(ValueError, match="wrap it in a list"):
        separation_report(speech, estimate, mixture)


@pytest.fixture(scope="module")
def demo_triples():
    """Three demo test utterances: speech, an estimate per quality, mixture."""
    data = load_demo()
    speech, mixtures = data.sources_test[:3], data.mixtures_test[:3]
    estimates = [
        s + gain * (m - s)
        for s, m, gain in zip(speech, mixtures, [1.0, 0.3, 0.1], strict=True)
    ]
    return speech, estimates, mixtures


needs_pesq = pytest.mark.skipif(
    importlib.util.find_spec("pesq") is None,
    reason="the optional pesq package is not installed",
)


@needs_pesq
def test_separation_report_adds_pesq_when_installed(demo_triples):
    speech, estimates, mixtures = demo_triples
    report = separation_report(speech, estimates, mixtures)
    expected = [pesq(s, e, sr=SR) for s, e in zip(speech, estimates, strict=True)]
    np.testing.assert_array_equal(report.pesq_wb, expected)
    weights = report.length / report.length.sum()
    assert report.pesq_wb_weighted == pytest.approx(weights @ report.pesq_wb)
    assert report.pesq_wb_mean == pytest.approx(np.mean(report.pesq_wb))
    assert np.all(np.diff(report.pesq_wb) > 0)  # 0, 10, 20 dB SNR
    assert (
        report.keys()
        == separation_report(speech, estimates, mixtures, pesq=True).keys()
    )
    assert "pesq_wb" not in separation_report(speech, estimates, mixtures, pesq=False)


def test_separation_report_keeps_every_field_without_pesq(demo_triples, monkeypatch):
    monkeypatch.setitem(sys.modules, "pesq", None)  # import pesq -> ImportError
    speech, estimates, mixtures = demo_triples
    report = separation_report(speech, estimates, mixtures)
    per_utterance = ["sdr", "sir", "sar", "si_sdr", "stoi"]
    assert sorted(report) == sorted(
        per_utterance
        + ["length"]
        + [f"{n}_{kind}" for n in per_utterance for kind in ("weighted", "mean")]
    )
    # 0, 10 and 20 dB SNR.
    assert np.all(np.diff(report.sdr) > 8) and np.all(np.diff(report.stoi) > 0)
    with pytest.raises(ImportError, match=r"pip install 'skblsh\[pesq\]'"):
        separation_report(speech, estimates, mixtures, pesq=True)


def test_separation_report_sample_rate(demo_triples):
    speech, estimates, mixtures = demo_triples
    # STOI depends on the rate, BSS Eval does not: the same samples read as
    # 8 kHz audio (half the speed) score differently.
    at_16k = separation_report(speech, estimates, mixtures, pesq=False)
    at_8k = separation_report(speech, estimates, mixtures, sr=8000)
    assert "pesq_wb" not in at_8k  # wide-band PESQ needs 16 kHz: left out
    np.testing.assert_array_equal(at_8k.sdr, at_16k.sdr)
    assert np.all(np.abs(at_8k.stoi - at_16k.stoi) > 1e-3)
    np.testing.assert_allclose(
        at_8k.stoi,
        [stoi(s, e, sr=8000) for s, e in zip(speech, estimates, strict=True)],
    )
    with pytest.raises(ValueError, match="sr=16000 for wide-band PESQ .pesq=True."):
        separation_report(speech, estimates, mixtures, sr=8000, pesq=True)
    with pytest.raises(ValueError, match="Utterance 0: Expected sr >= 8000 Hz"):
        separation_report(speech, estimates, mixtures, sr=4000)
    with pytest.raises(InvalidParameterError, match="'pesq' parameter"):
        separation_report(speech, estimates, mixtures, pesq="always")


def test_separation_report_marks_undefined_stoi_as_nan(demo_triples):
    speech, estimates, mixtures = demo_triples
    # The second utterance cut to 0.2 s: too short for STOI and PESQ.
    cut = int(0.2 * SR)
    speech = [speech[0], speech[1][:cut], speech[2]]
    estimates = [estimates[0], estimates[1][:cut], estimates[2]]
    mixtures = [mixtures[0], mixtures[1][:cut], mixtures[2]]
    with pytest.warns(UndefinedMetricWarning) as record:
        report = separation_report(speech, estimates, mixtures)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("STOI is undefined on 1 of 3 utterances") for m in messages)
    assert "utterance 1 (Expected at least 30 frames" in messages[0]
    assert np.isnan(report.stoi[1]) and not np.isnan(report.stoi[[0, 2]]).any()
    assert np.isnan(report.stoi_weighted) and np.isnan(report.stoi_mean)
    assert np.all(np.isfinite(report.sdr)) and np.isfinite(report.sdr_weighted)
    if "pesq_wb" in report:
        assert np.isnan(report.pesq_wb[1]) and np.isnan(report.pesq_wb_weighted)
        assert any(m.startswith("PESQ is undefined on 1 of 3") for m in messages)


def test_sdr_scorer_skips_stoi_and_pesq(demo_triples):
    # MaskingSeparator.score (sdr_scorer) stays as cheap as BSS Eval, and
    # works on utterances too short for STOI.
    speech, _, mixtures = demo_triples
    X = [m[: int(0.2 * SR)] for m in mixtures]
    y = [s[: int(0.2 * SR)] for s in speech]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = sdr_scorer(PassThrough(), X, y)
    with pytest.warns(UndefinedMetricWarning, match="STOI is undefined on 3 of 3"):
        report = separation_report(y, X, X, pesq=False)
    assert value == report.sdr_weighted


# --------------------------------------------------------------------------
# Scorers, with utterance-level stand-ins for the separator


class PassThrough(BaseEstimator):
    """Returns the mixtures unchanged."""

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return [np.asarray(x) for x in X]


class OracleBlend(BaseEstimator):
    """Returns source + noise_level * (mixture - source), sources known in advance."""

    def __init__(self, sources=None, noise_level=0.1):
        self.sources = sources
        self.noise_level = noise_level

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        out = []
        for mixture in X:
            source = self.sources[np.asarray(mixture).tobytes()]
            out.append(source + self.noise_level * (mixture - source))
        return out


@pytest.fixture(scope="module")
def dataset(utterances):
    X = [m for _, _, m in utterances]
    y = [s for s, _, _ in utterances]
    return X, y


def test_scorers_on_pass_through_and_oracle(dataset):
    X, y = dataset
    assert abs(sdr_scorer(PassThrough(), X, y)) < 1
    assert abs(si_sdr_scorer(PassThrough(), X, y)) < 1
    oracle = OracleBlend(
        {x.tobytes(): s for x, s in zip(X, y, strict=True)}, noise_level=0.1
    )
    # -20 dB of noise: measured 20.06 (SDR) and 20.00 (SI-SDR) on these clips.
    assert 19 < sdr_scorer(oracle, X, y) < 21.5
    assert 19 < si_sdr_scorer(oracle, X, y) < 21.5
    assert (
        sdr_scorer(oracle, X, y)
        == separation_report(y, oracle.predict(X), X).sdr_weighted
    )


def test_scorers_in_grid_search_and_cross_validate(dataset):
    X, y = dataset
    lookup = {x.tobytes(): s for x, s in zip(X, y, strict=True)}
    search = GridSearchCV(
        OracleBlend(lookup),
        {"noise_level": [1.0, 0.1, 0.3]},
        scoring={"sdr": sdr_scorer, "si_sdr": si_sdr_scorer},
        refit="sdr",
        cv=KFold(2),
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_ == {"noise_level": 0.1}
    sdr = search.cv_results_["mean_test_sdr"]
    assert np.all(np.diff(sdr[[0, 2, 1]]) > 5)  # 1.0 < 0.3 < 0.1
    assert abs(sdr[0]) < 1

    cv = cross_validate(PassThrough(), X, y, scoring=si_sdr_scorer, cv=KFold(2))
    assert np.all(np.abs(cv["test_score"]) < 1)


def test_scorers_reject_bad_predictions(dataset):
    X, y = dataset

    class DropsOne(PassThrough):
        def predict(self, X):
            return super().predict(X)[:-1]

    class Truncates(PassThrough):
        def predict(self, X):
            return [x[:-10] for x in X]

    for scorer in [sdr_scorer, si_sdr_scorer]:
        with pytest.raises(ValueError, match="return 4 waveforms .*got 3"):
            scorer(DropsOne(), X, y)
        with pytest.raises(ValueError, match="same length"):
            scorer(Truncates(), X, y)
        with pytest.raises(ValueError, match="X and y to hold the same number"):
            scorer(PassThrough(), X, y[:2])
        with pytest.raises(InvalidParameterError, match="'estimator' parameter"):
            scorer(object(), X, y)
