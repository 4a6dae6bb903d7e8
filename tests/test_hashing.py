"""Tests of the hashers in skblsh.hashing (the shared fit, RandomLSH, BoostedLSH
and its boosting machinery) and of the bit helpers."""

import csv
import pickle

import joblib
import librosa
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from skblsh import BoostedLSH, HammingNearestNeighbors, RandomLSH
from skblsh.codes import check_codes as _check_codes
from skblsh.codes import hamming_distances, pack_bits, unpack_bits
from skblsh.utils._sklearn import get_chunk_n_rows

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    # The 2 cores are shared with other jobs; OpenBLAS threads spin-waiting
    # under oversubscription made BoostedLSH's 513x513 eigh ~100x slower.
    with threadpool_limits(1):
        yield


def _brute_hamming(A, B, n_bits):
    a = unpack_bits(A, n_bits).astype(bool)
    b = unpack_bits(B, n_bits).astype(bool)
    return (a[:, None, :] != b[None, :, :]).sum(axis=2)


def _ssm_error(codes, n_bits, X):
    """Mean |T - S_hat| off the diagonal; T = clip(X X^T, 0, 1), S_hat = agreement."""
    B = unpack_bits(codes)[:, :n_bits].astype(np.float64)
    S_hat = (B @ B.T + (1 - B) @ (1 - B).T) / n_bits
    T = np.clip(X @ X.T, 0.0, 1.0)
    off = ~np.eye(len(X), dtype=bool)
    return float(np.abs(T - S_hat)[off].mean())


def _precision_at_10(codes_train, y_train, codes_test, y_test):
    nn = HammingNearestNeighbors(n_neighbors=10).fit(codes_train)
    ind = nn.kneighbors(codes_test, return_distance=False)
    return float((y_train[ind] == y_test[:, None]).mean())


# --------------------------------------------------------------------------
# pack_bits / unpack_bits / hamming_distances


@st.composite
def _bit_matrices(draw, max_rows=12):
    n_bits = draw(st.integers(1, 300))
    n_rows = draw(st.integers(0, max_rows))
    return draw(arrays(np.bool_, (n_rows, n_bits)))


@settings(max_examples=150, deadline=None)
@given(_bit_matrices())
def test_pack_unpack_round_trip_and_zero_padding(bits):
    n_rows, n_bits = bits.shape
    codes = pack_bits(bits)
    assert codes.dtype == np.uint8
    assert codes.shape == (n_rows, (n_bits + 7) // 8)
    assert_array_equal(unpack_bits(codes, n_bits), bits.astype(np.uint8))
    # Integer 0/1 input packs the same as boolean input.
    assert_array_equal(pack_bits(bits.astype(np.int64)), codes)
    all_bits = unpack_bits(codes)
    assert all_bits.shape == (n_rows, 8 * codes.shape[1])
    assert not all_bits[:, n_bits:].any()


def test_pack_bits_layout_is_little_bit_order():
    bits = np.zeros((1, 11), dtype=bool)
    bits[0, [0, 3, 9]] = True
    assert_array_equal(pack_bits(bits), [[0b00001001, 0b00000010]])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_hamming_distances_match_brute_force(data):
    n_bits = data.draw(st.integers(1, 200), label="n_bits")
    A = data.draw(arrays(np.bool_, (data.draw(st.integers(0, 10)), n_bits)), label="A")
    B = data.draw(arrays(np.bool_, (data.draw(st.integers(1, 10)), n_bits)), label="B")
    cA, cB = pack_bits(A), pack_bits(B)
    D = hamming_distances(cA, cB)
    assert D.dtype == np.int32
    assert_array_equal(D, (A[:, None, :] != B[None, :, :]).sum(axis=2))
    DB = hamming_distances(cB)
    assert_array_equal(DB, DB.T)
    assert_array_equal(np.diag(DB), 0)


def test_hamming_distances_across_query_blocks():
    rng = np.random.RandomState(0)
    A = pack_bits(rng.rand(50, 77) < 0.5)
    B = pack_bits(rng.rand(40, 77) < 0.5)
    expected = _brute_hamming(A, B, 77)
    # 3 rows of 40 columns x 8 bytes per block: 17 blocks, the last one short.
    working_memory = 3 * 40 * 8 / 2**20
    assert get_chunk_n_rows(40 * 8, max_n_rows=50, working_memory=working_memory) == 3
    with config_context(working_memory=working_memory):
        assert_array_equal(hamming_distances(A, B), expected)


def test_bit_helpers_reject_bad_input():
    with pytest.raises(ValueError, match=r"only 0 and 1"):
        pack_bits([[0, 2]])
    with pytest.raises(ValueError, match=r"2-D array.*got shape \(3,\)"):
        pack_bits([0, 1, 1])
    with pytest.raises(ValueError, match=r"n_bits in \[1, 16\].*got 17"):
        unpack_bits(np.zeros((1, 2), dtype=np.uint8), 17)
    with pytest.raises(ValueError, match=r"same number of bytes.*2 and 3"):
        hamming_distances(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))
    with pytest.raises(TypeError, match=r"codes to hold packed uint8 codes.*float64"):
        _check_codes(np.zeros((2, 2)), name="codes")
    with pytest.raises(
        ValueError, match=r"values in \[0, 255\], got values in \[-1, 3\]"
    ):
        _check_codes(np.array([[-1, 3]]), name="codes")
    with pytest.raises(ValueError, match=r"values in \[0, 255\].*\[0, 256\]"):
        hamming_distances(np.array([[0, 256]]))
    with pytest.raises(ValueError, match=r"A to be a 2-D array"):
        hamming_distances(np.zeros(4, np.uint8))
    codes = _check_codes(np.array([[0, 255]], dtype=np.int64), name="codes")
    assert codes.dtype == np.uint8
    assert_array_equal(codes, [[0, 255]])


# --------------------------------------------------------------------------
# RandomLSH


@pytest.mark.parametrize("seed", SEEDS)
def test_random_lsh_bits_are_thresholded_projections(seed):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((40, 9))
    est = RandomLSH(n_bits=13, random_state=seed).fit(X)
    assert est.projections_.shape == (13, 9)
    assert est.n_bits_ == 13
    codes = est.transform(X)
    assert codes.shape == (40, 2)
    assert codes.dtype == np.uint8
    expected = X @ est.projections_.T + est.intercepts_ > 0
    assert_array_equal(unpack_bits(codes, 13), expected)
    assert not unpack_bits(codes)[:, 13:].any()
    # Median intercepts: every bit fires on exactly half the training rows.
    assert_array_equal(expected.sum(axis=0), 20)
    assert_array_equal(est.get_feature_names_out(), ["randomlsh0", "randomlsh1"])


@pytest.mark.parametrize("seed", SEEDS)
def test_simhash_estimates_angles(seed):
    X = np.random.RandomState(seed).standard_normal((30, 20))
    est = RandomLSH(n_bits=4096, fit_intercept=False, random_state=seed).fit(X)
    assert_array_equal(est.intercepts_, 0.0)
    codes = est.transform(X)
    # Sign hashes are scale invariant.
    assert_array_equal(est.transform(3.5 * X), codes)
    Xn = normalize(X)
    angles = np.arccos(np.clip(Xn @ Xn.T, -1, 1)) / np.pi
    err = np.abs(hamming_distances(codes) / 4096 - angles)[np.triu_indices(30, 1)]
    # Measured: mean 0.006-0.007, max 0.025-0.028 (std of one estimate <= 0.008).
    assert err.mean() < 0.012
    assert err.max() < 0.045


# --------------------------------------------------------------------------
# BoostedLSH


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        normalize(X), y, test_size=0.25, random_state=0, stratify=y
    )
    return Xtr, Xte, ytr, yte


def test_boosted_lsh_fitted_state(digits):
    Xtr = digits[0]
    est = BoostedLSH(n_bits=13, segment_size=400, n_segments=2, random_state=0).fit(Xtr)
    assert est.projections_.shape == (13, 64)
    assert est.intercepts_.shape == est.bit_weights_.shape == est.errors_.shape == (13,)
    assert est.loss_curve_.shape == (13, 1)
    assert est.n_iter_ == 0
    assert est.n_bits_ == 13
    assert est.n_features_in_ == 64
    assert np.all(est.errors_ < 0.5)
    assert np.all(est.bit_weights_ > 0)
    codes = est.transform(Xtr)
    assert codes.shape == (len(Xtr), 2)
    expected = Xtr @ est.projections_.T + est.intercepts_ > 0
    assert_array_equal(unpack_bits(codes, 13), expected)
    assert not unpack_bits(codes)[:, 13:].any()
    assert_array_equal(est.get_feature_names_out(), ["boostedlsh0", "boostedlsh1"])


def test_boosted_lsh_auto_max_iter_is_the_papers_with_a_random_start(digits):
    Xtr = digits[0][:300]
    small = dict(n_bits=3, segment_size=100, n_segments=1, random_state=0)
    paper = BoostedLSH(init="random", **small).fit(Xtr)
    assert paper.n_iter_ == 100 and paper.loss_curve_.shape == (3, 101)
    explicit = BoostedLSH(init="random", max_iter=100, **small).fit(Xtr)
    assert_array_equal(paper.projections_, explicit.projections_)
    assert BoostedLSH(**small).fit(Xtr).n_iter_ == 0


def test_boosted_lsh_shrinkage_mixes_a_unit_random_direction(digits):
    Xtr = digits[0]
    small = dict(n_bits=1, segment_size=400, n_segments=2, random_state=0)
    pure = BoostedLSH(shrinkage=0.0, **small).fit(Xtr).projections_[0]
    mixed = BoostedLSH(shrinkage=0.7, **small).fit(Xtr).projections_[0]
    random = BoostedLSH(shrinkage=1.0, **small).fit(Xtr).projections_[0]
    assert np.linalg.norm(pure) == pytest.approx(1.0)
    assert np.linalg.norm(random) == pytest.approx(1.0)
    # Same segments and eigenvector, same random draw: the mix is exact.
    assert_allclose(mixed, np.sqrt(0.3) * pure + np.sqrt(0.7) * random)
    assert abs(pure @ random) < 0.5


def test_boosted_lsh_bits_are_balanced_on_a_single_segment(digits):
    X = digits[0][:300]
    est = BoostedLSH(n_bits=16, segment_size=1000, random_state=0).fit(X)
    counts = unpack_bits(est.transform(X)).sum(axis=0)
    # The intercepts are medians over float32 segments: allow a row or two
    # of rounding at the threshold.
    assert np.all(np.abs(counts.astype(int) - 150) <= 2), counts


def test_boosted_lsh_is_greedy_bit_by_bit(digits):
    # Bits are learned one after the other, so a shorter code is a prefix of a
    # longer one fitted with the same seed; the SSM tests below rely on it.
    Xtr = digits[0]
    params = dict(segment_size=300, n_segments=2, random_state=0)
    short = BoostedLSH(n_bits=8, **params).fit(Xtr)
    long = BoostedLSH(n_bits=24, **params).fit(Xtr)
    np.testing.assert_allclose(long.projections_[:8], short.projections_, rtol=1e-10)
    assert_array_equal(long.transform(Xtr)[:, :1], short.transform(Xtr))


@pytest.mark.parametrize("similarity", ["input", "target"])
def test_boosted_lsh_errors_and_weights_follow_the_documented_update(
    digits, similarity
):
    # One segment holds every row, so the boosting can be replayed from the
    # hard bits: eps_l = sum(W |T - S_l|) / sum(W),
    # beta_l = max(log((1 - eps_l) / eps_l) / 2, 0), W *= exp(beta_l (2 |T - S_l| - 1)).
    X, labels = digits[0][:300], digits[2][:300]
    Y = np.eye(10)[labels]
    est = BoostedLSH(
        n_bits=12, segment_size=1000, similarity=similarity, random_state=0
    )
    est.fit(X, Y)
    F = Y if similarity == "target" else X
    T = np.clip(F @ F.T, 0.0, 1.0)
    W = 1.0 - np.eye(len(X))
    signs = 2.0 * unpack_bits(est.transform(X), 12) - 1.0
    errors, betas = [], []
    for bit in signs.T:
        err = np.abs(T - (np.outer(bit, bit) + 1.0) / 2.0)
        eps = np.sum(W * err) / np.sum(W)
        errors.append(eps)
        betas.append(max(0.5 * np.log((1 - eps) / eps), 0.0))
        W *= np.exp(betas[-1] * (2.0 * err - 1.0))
    # Measured agreement ~1e-8 (float32 segments); without the re-weighting
    # the errors of later bits differ by 1e-3 to 1e-2.
    np.testing.assert_allclose(est.errors_, errors, rtol=1e-6)
    np.testing.assert_allclose(est.bit_weights_, betas, rtol=1e-5)
    assert np.all(est.bit_weights_ > 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_boosted_lsh_gradient_steps_reduce_the_loss(digits, seed):
    est = BoostedLSH(
        n_bits=8,
        segment_size=300,
        n_segments=2,
        init="random",
        max_iter=30,
        random_state=seed,
    ).fit(digits[0])
    assert est.n_iter_ == 30
    assert est.loss_curve_.shape == (8, 31)
    first, last = est.loss_curve_[:, 0], est.loss_curve_[:, -1]
    # Measured: 30 Adam steps take 8-12% off every bit's loss.
    assert np.all(last < 0.96 * first), last / first
    assert np.all(est.errors_ < 0.5)
    assert np.all(est.bit_weights_ >= 0)


@pytest.mark.parametrize(
    "Est, params",
    [
        (RandomLSH, {}),
        (RandomLSH, {"fit_intercept": False}),
        (BoostedLSH, {"segment_size": 200, "n_segments": 2}),
        (
            BoostedLSH,
            {"segment_size": 200, "n_segments": 2, "init": "random", "max_iter": 3},
        ),
    ],
)
def test_hashers_are_deterministic_and_round_trip(digits, tmp_path, Est, params):
    Xtr, Xte = digits[0], digits[1]
    est = Est(n_bits=20, random_state=0, **params).fit(Xtr)
    codes = est.transform(Xte)
    assert_array_equal(
        Est(n_bits=20, random_state=0, **params).fit(Xtr).transform(Xte), codes
    )
    assert_array_equal(clone(est).fit(Xtr).transform(Xte), codes)
    assert_array_equal(pickle.loads(pickle.dumps(est)).transform(Xte), codes)
    joblib.dump(est, tmp_path / "est.joblib")
    assert_array_equal(joblib.load(tmp_path / "est.joblib").transform(Xte), codes)
    other = Est(n_bits=20, random_state=1, **params).fit(Xtr).transform(Xte)
    if Est is RandomLSH or params.get("init") == "random":
        assert not np.array_equal(other, codes)


# --------------------------------------------------------------------------
# Recorded codes: refactors and speed-ups must keep fits bit-identical

# Packed codes of the first 16 held-out digits (hex of the bytes), recorded
# with the implementation of commit 8d72b97 (before the hashers shared one
# fit); one BLAS thread (see _one_blas_thread).
RECORDED_CODES = {
    "random": (
        "417a00446e004f52039167024f500d76c1092caf0cbe51038c2e02473e0d208d"
        "0af6d10bd4c304cc2e0220450a538404"
    ),
    "simhash": (
        "43d00742d8074bd007dbf0074bd00752c0054ba0055bd0074ad00643d00f43d0"
        "07d2d007d3d007cbf80703c00743d006"
    ),
    "random32": (
        "417a00446e004f52039167024f500d76c1092caf0cbe51038c2e02473e0d208d"
        "0af6d10bd4c304cc2e0220450a538404"
    ),
    "spectral": (
        "ba240b33c2088569027ea600a56d02ff2b0d50dc00df6f058bca0724a40f6a26"
        "08fd6f09fc2a0d3b8201622608368a04"
    ),
    "spectral32": (
        "ba240b33c2088569027ea600a56d02ff2b0d50dc00df6f058bca0724a40f6a26"
        "08fd6f09fc2a0d3b8201622608368a04"
    ),
    "pure": (
        "86990acb080b3d8601863c02ad2e0065eb04c8680b31e705abc302ac0e00de38"
        "0275b204e1a0028b2c035e3806668a00"
    ),
    "paper": (
        "38a20b18ce095628027c1209176d02bee00da5d404ff4707d46a076a34082812"
        "0dbf4709ce260d18c001203e0a8ab900"
    ),
    "squared": (
        "ba200333e608852d067e6209a52d0bff4f0550fc02df0f078bae072424096a40"
        "08fd4f02fc460d1be20962630816be04"
    ),
    "target": (
        "7aa00c53dc09ad4d0a5eb609a9ed08fd660d54f406bf0e07174e0428b508caf0"
        "09fd2e0b5c260d13d409c2b2090afe08"
    ),
    "learned8": (
        "baa20b33ce098528027e2209a56d02ffe00d50d504df47078b6a072434086a12"
        "0cfd4709fc600d3bc201623608363904"
    ),
    "nointercept": (
        "05b2070739061f3d08459207173d08bff60055ce021fff0057290621b6080590"
        "07adf7011df60545390745900705b106"
    ),
    "single": "88426196810d0c5b950d0f767a6b0f90b1fb844f6cbf0f30af52719a68b6a8d3",
}
_SMALL = dict(n_bits=20, segment_size=300, n_segments=2, random_state=0)
RECORDED_FITS = {
    "random": (RandomLSH, dict(n_bits=20, random_state=0), False),
    "simhash": (RandomLSH, dict(n_bits=20, fit_intercept=False, random_state=0), False),
    "random32": (RandomLSH, dict(n_bits=20, random_state=0), True),
    "spectral": (BoostedLSH, _SMALL, False),
    "spectral32": (BoostedLSH, _SMALL, True),
    "pure": (BoostedLSH, dict(shrinkage=0.0, **_SMALL), False),
    "paper": (BoostedLSH, dict(init="random", max_iter=3, **_SMALL), False),
    "squared": (BoostedLSH, dict(loss="squared", max_iter=2, **_SMALL), False),
    "target": (BoostedLSH, dict(similarity="target", **_SMALL), False),
    "learned8": (BoostedLSH, dict(n_learned_bits=8, **_SMALL), False),
    "nointercept": (BoostedLSH, dict(fit_intercept=False, **_SMALL), False),
}


@pytest.mark.parametrize("name", sorted(RECORDED_CODES))
def test_fits_are_bit_identical_to_recorded_codes(digits, name):
    Xtr, Xte, ytr, _ = digits
    if name == "single":
        # One segment holding every row.
        est = BoostedLSH(n_bits=16, segment_size=1000, random_state=0)
        codes = est.fit(Xtr[:300]).transform(Xte[:16])
    else:
        Est, params, float32 = RECORDED_FITS[name]
        if float32:
            Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
        Y = np.eye(10)[ytr] if params.get("similarity") == "target" else None
        codes = Est(**params).fit(Xtr, Y).transform(Xte[:16])
    assert codes.tobytes().hex() == RECORDED_CODES[name]


# --------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "est",
    [RandomLSH(n_bits=8), BoostedLSH(n_bits=8, segment_size=20)],
    ids=["RandomLSH", "BoostedLSH"],
)
def test_hashers_reject_bad_input(est):
    X = np.random.RandomState(0).rand(10, 4)
    for bad, msg in [(np.nan, "NaN"), (np.inf, "infinity")]:
        X_bad = X.copy()
        X_bad[3, 2] = bad
        with pytest.raises(ValueError, match=msg):
            clone(est).fit(X_bad)
        with pytest.raises(ValueError, match=msg):
            clone(est).fit(X).transform(X_bad)
    with pytest.raises(ValueError, match="0 sample"):
        clone(est).fit(np.empty((0, 4)))
    with pytest.raises(ValueError, match="0 feature"):
        clone(est).fit(np.empty((5, 0)))
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        clone(est).fit(X[0])
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
        clone(est).fit(X).transform(X[:, :3])
    for n_bits in [0, -3]:
        with pytest.raises(InvalidParameterError, match="'n_bits' parameter"):
            clone(est).set_params(n_bits=n_bits).fit(X)
    assert issubclass(InvalidParameterError, ValueError)


def test_boosted_lsh_specific_errors():
    X = np.random.RandomState(0).rand(10, 4)
    with pytest.raises(ValueError, match="at least 2 samples.*got 1 sample"):
        BoostedLSH(n_bits=4).fit(X[:1])
    with pytest.raises(
        ValueError, match="Expected y when similarity='target'.*got None"
    ):
        BoostedLSH(n_bits=4, similarity="target").fit(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BoostedLSH(n_bits=4, similarity="target").fit(X, np.ones((9, 2)))
    with pytest.raises(InvalidParameterError, match="'init' parameter"):
        BoostedLSH(init="pca").fit(X)


# --------------------------------------------------------------------------
# Quality on real data


@pytest.fixture(scope="module")
def speech_frames(corpus_path):
    """L2-normalised |STFT| frames: 4000 train / 800 held-out (other files).

    Every other file is mixed with a noise clip at 5 dB SNR; frames more than
    40 dB below their file's loudest frame are dropped.
    """
    with open(corpus_path / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    speech = sorted(r["path"] for r in rows if r["kind"] == "speech")
    noise = sorted(r["path"] for r in rows if r["kind"] == "noise")
    rng = np.random.RandomState(0)
    files = [speech[i] for i in rng.choice(len(speech), 48, replace=False)]
    noises = [noise[i] for i in rng.choice(len(noise), 48)]
    frames = []
    for i, (s_path, n_path) in enumerate(zip(files, noises, strict=True)):
        y, sr = sf.read(corpus_path / s_path, dtype="float32")
        assert sr == 16000
        if i % 2:
            n, _ = sf.read(corpus_path / n_path, dtype="float32")
            n = np.resize(n, len(y))
            y = y + n * (np.linalg.norm(y) / np.linalg.norm(n) / 10 ** (5 / 20))
        S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)).T.astype(np.float64)
        energy = np.linalg.norm(S, axis=1)
        frames.append(normalize(S[energy > 1e-2 * energy.max()]))
    train, test = np.concatenate(frames[:36]), np.concatenate(frames[36:])
    pick = np.random.RandomState(1)
    train = train[pick.choice(len(train), 4000, replace=False)]
    test = test[pick.choice(len(test), 800, replace=False)]
    return train, test


@pytest.fixture(scope="module")
def random_lsh_ssm_errors(speech_frames):
    Xtr, Xte = speech_frames
    return {
        n_bits: np.mean(
            [
                _ssm_error(
                    RandomLSH(n_bits, random_state=s).fit(Xtr).transform(Xte),
                    n_bits,
                    Xte,
                )
                for s in SEEDS
            ]
        )
        for n_bits in (16, 32)
    }


def test_boosted_lsh_approximates_speech_ssm_better_than_random(
    speech_frames, random_lsh_ssm_errors
):
    Xtr, Xte = speech_frames
    est = BoostedLSH(n_bits=32, segment_size=1000, n_segments=4, random_state=0)
    codes = est.fit(Xtr).transform(Xte)
    # Shorter codes are prefixes (see test_boosted_lsh_is_greedy_bit_by_bit).
    err = {n_bits: _ssm_error(codes, n_bits, Xte) for n_bits in (8, 16, 32)}
    # Measured (seeds 0-2): boosted 0.220/0.210/0.206 at 8/16/32 bits, the
    # same to +-0.0015 with shrinkage=0;
    # random (mean of 3 seeds) 0.225 at 16 bits, 0.217 at 32 bits.
    assert err[32] < random_lsh_ssm_errors[32] - 0.005, (err, random_lsh_ssm_errors)
    assert err[16] < random_lsh_ssm_errors[16] - 0.007, (err, random_lsh_ssm_errors)
    assert err[8] > err[16] + 0.004, err
    assert err[16] > err[32] + 0.0015, err
    assert 0.15 < err[32] < 0.25, err


@pytest.fixture(scope="module")
def random_lsh_precision(digits):
    Xtr, Xte, ytr, yte = digits

    def precision(n_bits, seed):
        est = RandomLSH(n_bits, random_state=seed).fit(Xtr)
        return _precision_at_10(est.transform(Xtr), ytr, est.transform(Xte), yte)

    return {
        n_bits: np.mean([precision(n_bits, s) for s in SEEDS]) for n_bits in (16, 32)
    }


@pytest.fixture(scope="module")
def boosted_precision(digits):
    """precision@10 of BoostedLSH codes at 16 and 32 bits, per seed and similarity."""
    Xtr, Xte, ytr, yte = digits
    cache = {}

    def precision(n_bits, seed, similarity="input"):
        if (seed, similarity) not in cache:
            est = BoostedLSH(
                32,
                segment_size=500,
                n_segments=4,
                similarity=similarity,
                # Shrinkage toward random directions is tuned on 513-dim
                # spectra; on 64-dim digits with class targets it costs
                # ~0.05 precision@10 (measured), so it is off for them.
                shrinkage=0.0 if similarity == "target" else 0.7,
                random_state=seed,
            )
            # One-hot labels: the target SSM is 1 within a class, 0 across classes.
            est.fit(Xtr, np.eye(10)[ytr] if similarity == "target" else None)
            cache[seed, similarity] = est.transform(Xtr), est.transform(Xte)
        codes_tr, codes_te = cache[seed, similarity]
        # 16-bit codes are the first 2 bytes of the 32-bit ones (greedy bits).
        n_bytes = n_bits // 8
        return _precision_at_10(codes_tr[:, :n_bytes], ytr, codes_te[:, :n_bytes], yte)

    return precision


# Measured precision@10 (test queries vs train codes, seeds 0/1/2):
#   16 bits: random 0.604 (mean), boosted 0.760/0.714/0.726 (0.769/0.751/0.759
#            with shrinkage=0), target (shrinkage=0) 0.839/0.828/0.827
#   32 bits: random 0.797 (mean), boosted 0.847/0.820/0.831 (0.833/0.824/0.838
#            with shrinkage=0), target (shrinkage=0) 0.894/0.892/0.906
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits, margin", [(16, 0.08), (32, 0.015)])
def test_boosted_lsh_retrieves_digits_better_than_random(
    random_lsh_precision, boosted_precision, n_bits, margin, seed
):
    boosted = boosted_precision(n_bits, seed)
    assert boosted > random_lsh_precision[n_bits] + margin, (
        boosted,
        random_lsh_precision,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits", [16, 32])
def test_target_similarity_beats_input_similarity_on_digits(
    boosted_precision, n_bits, seed
):
    target = boosted_precision(n_bits, seed, similarity="target")
    boosted = boosted_precision(n_bits, seed)
    assert target > boosted + 0.04, (target, boosted)


def test_boosted_lsh_learned_bits_then_random_bits(digits):
    Xtr = digits[0]
    small = dict(segment_size=300, n_segments=2, random_state=0)
    est = BoostedLSH(n_bits=20, n_learned_bits=8, **small).fit(Xtr)
    learned = BoostedLSH(n_bits=8, **small).fit(Xtr)
    # The learned bits are the 8-bit model, the rest are balanced random bits,
    # only scored (their weights leave the boosting state untouched).
    assert_array_equal(est.projections_[:8], learned.projections_)
    assert_array_equal(est.bit_weights_[:8], learned.bit_weights_)
    bits = unpack_bits(est.transform(Xtr), 20)[:, 8:]
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) <= 1 / len(Xtr))
    assert np.all(np.isnan(est.loss_curve_[8:]))
    assert np.all((est.errors_[8:] > 0) & (est.errors_[8:] < 0.5))
    # n_learned_bits >= n_bits learns every bit.
    full = BoostedLSH(n_bits=8, n_learned_bits=20, **small).fit(Xtr)
    assert_array_equal(full.projections_, learned.projections_)


@pytest.mark.parametrize(
    "n_bits, max_utterances, min_gain",
    [
        # Measured paired gains, seeds 0/1/2 (s.e. 0.3-0.5 over 10 or 20
        # mixtures): L=16, 8 utterances per speaker: +1.42/+1.52/+0.96 dB
        # (+2.12/+1.66/+0.76 with shrinkage=0); L=64, 20 utterances per
        # speaker: +0.76/+1.02/+1.15 dB. The test uses seed 0. Smaller tasks
        # are not stable at L=64, nor is the open protocol at this size (+-1
        # dB between seeds); benchmarks/bench_codes.py measures those.
        (16, 8, 0.5),
        (64, 20, 0.3),
    ],
)
def test_boosted_lsh_separates_speech_better_than_random(
    corpus_path, n_bits, max_utterances, min_gain
):
    # Reduced closed protocol of benchmarks/bench_codes.py: 10% dictionary,
    # K=10; paired SDR gain of BoostedLSH over RandomLSH on the same test
    # mixtures.
    from skblsh.datasets import make_separation_task
    from skblsh.metrics import separation_report
    from skblsh.separation import MaskingSeparator, make_separator_pipeline

    task = make_separation_task(
        corpus_path, protocol="closed", max_utterances=max_utterances, random_state=0
    )
    sdr = {}
    for hasher in ("random", "boosted"):
        sep = MaskingSeparator(
            make_separator_pipeline(n_bits, 10, hasher=hasher, random_state=0),
            dictionary_fraction=0.1,
            random_state=0,
        ).fit(task.mixtures_train, task.sources_train)
        estimates = sep.predict(task.mixtures_test)
        sdr[hasher] = separation_report(
            task.sources_test, estimates, task.mixtures_test
        ).sdr
    gain = sdr["boosted"] - sdr["random"]
    assert gain.mean() > min_gain, gain
    assert np.mean(gain > 0) >= 0.6, gain
