"""Tests of the shared fit of the hashers (skblsh.hashing._base), of RandomLSH
(skblsh.hashing._random) and of the bit helpers. BoostedLSH's own tests are in
test_hashing_boosted.py."""

import pickle

import joblib
import numpy as np
import pytest
from _reference import brute_distances
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

from skblsh import BoostedLSH, RandomLSH
from skblsh.codes import check_codes as _check_codes
from skblsh.codes import hamming_distances, pack_bits, unpack_bits
from skblsh.utils._sklearn import get_chunk_n_rows

SEEDS = [0, 1, 2]


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _brute_hamming(A, B, n_bits):
    return brute_distances(A, B, n_bits)


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
# Both hashers: the shared fit


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        normalize(X), y, test_size=0.25, random_state=0, stratify=y
    )
    return Xtr, Xte, ytr, yte


@pytest.mark.parametrize(
    "Est, params",
    [
        (RandomLSH, {}),
        (RandomLSH, {"fit_intercept": False}),
        (BoostedLSH, {"segment_size": 200, "n_segments": 2}),
        (
            BoostedLSH,
            {"segment_size": 200, "n_segments": 2, "init": "random", "n_steps": 3},
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


@pytest.mark.parametrize(
    "est",
    [RandomLSH(n_bits=20, random_state=0), BoostedLSH(n_bits=20, segment_size=300)],
    ids=["RandomLSH", "BoostedLSH"],
)
def test_fitted_hyperplanes_take_the_dtype_of_X(digits, est):
    Xtr, Xte = digits[0], digits[1]
    est64 = clone(est).set_params(random_state=0).fit(Xtr)
    est32 = clone(est).set_params(random_state=0).fit(Xtr.astype(np.float32))
    assert est64.projections_.dtype == est64.intercepts_.dtype == np.float64
    assert est32.projections_.dtype == est32.intercepts_.dtype == np.float32
    # The same hyperplanes up to float32 rounding; BoostedLSH's greedy bits
    # amplify it (each bit re-weights the pairs of the next), so only its
    # first bit is compared.
    n_same = 20 if isinstance(est, RandomLSH) else 1
    assert_allclose(
        est32.projections_[:n_same], est64.projections_[:n_same], rtol=1e-4, atol=1e-6
    )
    bits32 = unpack_bits(est32.transform(Xte.astype(np.float32)), 20)[:, :n_same]
    bits64 = unpack_bits(est64.transform(Xte), 20)[:, :n_same]
    assert np.mean(bits32 != bits64) < 1e-3


# --------------------------------------------------------------------------
# Recorded codes: refactors and speed-ups must keep fits bit-identical

# Packed codes of the first 16 held-out digits (hex of the bytes), recorded
# with the implementation of commit 8d72b97 (before the hashers shared one
# fit); one BLAS thread (see conftest.one_blas_thread).
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
    "paper": (BoostedLSH, dict(init="random", n_steps=3, **_SMALL), False),
    "squared": (BoostedLSH, dict(loss="squared", n_steps=2, **_SMALL), False),
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
