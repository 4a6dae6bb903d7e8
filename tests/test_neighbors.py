"""Tests of the Hamming-space estimators against brute force on unpacked bits."""

import contextlib
import pickle

import joblib
import numpy as np
import pytest
from _reference import brute_distances as _brute_distances
from _reference import brute_kneighbors as _brute_kneighbors
from _reference import exclude_self as _brute_exclude_self
from _reference import random_codes as _random_codes
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from skblsh import (
    BoostedLSH,
    HammingKNNMaskRegressor,
    HammingNearestNeighbors,
    RandomLSH,
)
from skblsh.codes import pack_bits
from skblsh.utils._sklearn import get_chunk_n_rows

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    # The 2 cores are shared with other jobs; spinning OpenBLAS threads make
    # small factorisations (BoostedLSH in the pipeline test) far slower.
    with threadpool_limits(1):
        yield


@contextlib.contextmanager
def _small_blocks(rows, n_fit):
    """Blocked distance computations of ``rows`` query rows at most."""
    working_memory = rows * 8 * n_fit / 2**20
    assert get_chunk_n_rows(8 * n_fit, working_memory=working_memory) == rows
    with config_context(working_memory=working_memory):
        yield


@pytest.fixture(scope="module")
def real_codes():
    """RandomLSH codes (20 bits, so with ties) of train/test data and mask targets."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((160, 12))
    hasher = RandomLSH(n_bits=20, random_state=0).fit(X[:120])
    codes = hasher.transform(X)
    Y = (X[:, :6] > 0).astype(np.float64)  # binary "masks"
    return codes[:120], Y[:120], codes[120:]


# --------------------------------------------------------------------------
# HammingNearestNeighbors: exactness


@st.composite
def _search_cases(draw):
    n_bits = draw(st.integers(1, 140))
    n_fit = draw(st.integers(1, 40))
    n_distinct = draw(st.integers(1, n_fit))
    pool = draw(arrays(np.bool_, (n_distinct, n_bits)))
    rows = draw(arrays(np.intp, n_fit, elements=st.integers(0, n_distinct - 1)))
    queries = draw(arrays(np.bool_, (draw(st.integers(1, 12)), n_bits)))
    k = draw(st.integers(1, n_fit))
    return pack_bits(pool[rows]), pack_bits(queries), n_bits, k


@settings(max_examples=200, deadline=None)
@given(_search_cases())
def test_kneighbors_equals_brute_force(case):
    F, Q, n_bits, k = case
    nn = HammingNearestNeighbors(n_neighbors=k).fit(F)
    dist, ind = nn.kneighbors(Q)
    exp_dist, exp_ind = _brute_kneighbors(_brute_distances(Q, F, n_bits), k)
    assert dist.dtype == np.int32
    assert ind.dtype == np.int64
    assert_array_equal(ind, exp_ind)
    assert_array_equal(dist, exp_dist)
    assert_array_equal(nn.kneighbors(Q, return_distance=False), exp_ind)


@settings(max_examples=100, deadline=None)
@given(_search_cases())
def test_kneighbors_without_queries_excludes_self(case):
    F, _, n_bits, k = case
    if len(F) < 2:
        return
    k = min(k, len(F) - 1)
    dist, ind = HammingNearestNeighbors(n_neighbors=k).fit(F).kneighbors()
    D = _brute_exclude_self(_brute_distances(F, F, n_bits))
    exp_dist, exp_ind = _brute_kneighbors(D, k)
    assert_array_equal(ind, exp_ind)
    assert_array_equal(dist, exp_dist)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "n_bits, n_fit, n_distinct",
    [(3, 200, None), (13, 150, 20), (64, 100, None), (130, 90, 30)],
)
def test_kneighbors_all_neighbours_with_many_ties(seed, n_bits, n_fit, n_distinct):
    # k = n_samples: the full ordering, including every tie, must match.
    rng = np.random.RandomState(seed)
    F = _random_codes(rng, n_fit, n_bits, n_distinct)
    Q = _random_codes(rng, 25, n_bits)
    nn = HammingNearestNeighbors(n_neighbors=n_fit).fit(F)
    dist, ind = nn.kneighbors(Q)
    exp_dist, exp_ind = _brute_kneighbors(_brute_distances(Q, F, n_bits), n_fit)
    assert_array_equal(ind, exp_ind)
    assert_array_equal(dist, exp_dist)
    assert_array_equal(
        np.sort(ind, axis=1), np.broadcast_to(np.arange(n_fit), ind.shape)
    )
    # With X=None the last neighbour is dropped with self: k = n_samples - 1.
    dist_self, ind_self = nn.kneighbors(n_neighbors=n_fit - 1)
    exp_dist, exp_ind = _brute_kneighbors(
        _brute_exclude_self(_brute_distances(F, F, n_bits)), n_fit - 1
    )
    assert_array_equal(ind_self, exp_ind)
    assert_array_equal(dist_self, exp_dist)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_kneighbors_across_query_blocks(n_jobs):
    rng = np.random.RandomState(0)
    F = _random_codes(rng, 60, 45, n_distinct=25)
    Q = _random_codes(rng, 100, 45)
    exp_dist, exp_ind = _brute_kneighbors(_brute_distances(Q, F, 45), 7)
    exp_self = _brute_kneighbors(_brute_exclude_self(_brute_distances(F, F, 45)), 7)
    # 7 query rows per block: 15 blocks for Q, the last one short.
    nn = HammingNearestNeighbors(n_neighbors=7, n_jobs=n_jobs).fit(F)
    with _small_blocks(7, len(F)):
        dist, ind = nn.kneighbors(Q)
    assert_array_equal(ind, exp_ind)
    assert_array_equal(dist, exp_dist)
    dist_self, ind_self = nn.kneighbors()
    assert_array_equal(ind_self, exp_self[1])
    assert_array_equal(dist_self, exp_self[0])


def test_kneighbors_on_many_queries_at_the_default_budget():
    # Enough queries for two blocks at the default budget (4096 + 104 rows).
    rng = np.random.RandomState(0)
    F = _random_codes(rng, 4096, 24, n_distinct=1500)
    Q = _random_codes(rng, 4200, 24)
    dist, ind = HammingNearestNeighbors(n_neighbors=5).fit(F).kneighbors(Q)
    rows = np.r_[0:100, 4000:4200]  # both sides of the block boundary
    exp_dist, exp_ind = _brute_kneighbors(_brute_distances(Q[rows], F, 24), 5)
    assert_array_equal(ind[rows], exp_ind)
    assert_array_equal(dist[rows], exp_dist)


# --------------------------------------------------------------------------
# bit_weights


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits", [5, 21, 64, 100])
def test_weighted_kneighbors_equals_brute_force(seed, n_bits):
    rng = np.random.RandomState(seed)
    F = _random_codes(rng, 80, n_bits, n_distinct=30)  # duplicates: exact ties
    Q = np.concatenate([_random_codes(rng, 20, n_bits), F[:5]])
    w = rng.rand(n_bits)
    w[rng.rand(n_bits) < 0.2] = 0.0
    nn = HammingNearestNeighbors(n_neighbors=80, bit_weights=w).fit(F)
    dist, ind = nn.kneighbors(Q)
    D = _brute_distances(Q, F, n_bits, w)
    exp_dist, exp_ind = _brute_kneighbors(D, 80)
    assert dist.dtype == np.float64
    assert_array_equal(ind, exp_ind)
    assert_allclose(dist, exp_dist, rtol=1e-12, atol=1e-12)
    # A query equal to an indexed code is at distance exactly 0.
    assert_array_equal(dist[20:, 0], 0.0)
    dist_self, ind_self = nn.kneighbors(n_neighbors=79)
    exp_dist, exp_ind = _brute_kneighbors(
        _brute_exclude_self(_brute_distances(F, F, n_bits, w)), 79
    )
    assert_array_equal(ind_self, exp_ind)
    assert_allclose(dist_self, exp_dist, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_bits", [7, 16, 45])
def test_unit_bit_weights_match_plain_hamming(n_bits):
    rng = np.random.RandomState(n_bits)
    F = _random_codes(rng, 70, n_bits, n_distinct=25)
    Q = _random_codes(rng, 30, n_bits)
    plain = HammingNearestNeighbors(n_neighbors=70).fit(F)
    weighted = HammingNearestNeighbors(n_neighbors=70, bit_weights=np.ones(n_bits)).fit(
        F
    )
    for args in [(Q,), ()]:
        n_neighbors = 70 if args else 69
        d_plain, i_plain = plain.kneighbors(*args, n_neighbors=n_neighbors)
        with _small_blocks(4, len(F)):
            d_weighted, i_weighted = weighted.kneighbors(*args, n_neighbors=n_neighbors)
        assert_array_equal(i_weighted, i_plain)
        assert_array_equal(d_weighted, d_plain.astype(np.float64))


def test_bit_weights_validation():
    F = _random_codes(np.random.RandomState(0), 10, 20)  # 3 bytes: 17..24 weights
    for n in [17, 20, 24]:
        HammingNearestNeighbors(3, bit_weights=np.ones(n)).fit(F)
    for n in [16, 25]:
        with pytest.raises(
            ValueError, match=rf"bit_weights of shape \(n_bits,\).*\({n},\)"
        ):
            HammingNearestNeighbors(3, bit_weights=np.ones(n)).fit(F)
    with pytest.raises(ValueError, match="non-negative bit_weights"):
        HammingNearestNeighbors(3, bit_weights=-np.ones(20)).fit(F)
    with pytest.raises(ValueError, match="bit_weights contains NaN"):
        HammingNearestNeighbors(3, bit_weights=np.full(20, np.nan)).fit(F)


# --------------------------------------------------------------------------
# HammingKNNMaskRegressor


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("use_bit_weights", [False, True])
def test_regressor_equals_brute_force_average(seed, weights, use_bit_weights):
    rng = np.random.RandomState(seed)
    n_bits = 19
    F = _random_codes(rng, 90, n_bits, n_distinct=40)
    Q = _random_codes(rng, 30, n_bits)
    Y = rng.standard_normal((90, 4))
    w = rng.rand(n_bits) if use_bit_weights else None
    reg = HammingKNNMaskRegressor(n_neighbors=6, weights=weights, bit_weights=w).fit(
        F, Y
    )
    pred = reg.predict(Q)
    dist, ind = _brute_kneighbors(_brute_distances(Q, F, n_bits, w), 6)
    if weights == "uniform":
        expected = Y[ind].mean(axis=1)
    else:
        omega = 1.0 / (1.0 + dist)
        expected = (omega[:, :, None] * Y[ind]).sum(axis=1) / omega.sum(axis=1)[:, None]
    assert pred.dtype == np.float64
    assert pred.shape == (30, 4)
    assert_allclose(pred, expected, rtol=1e-12, atol=1e-12)


def test_distance_weights_favour_closer_neighbours():
    F = np.array([[0b0000], [0b0001], [0b1111]], dtype=np.uint8)
    y = np.array([1.0, 0.0, 10.0])
    reg = HammingKNNMaskRegressor(n_neighbors=3, weights="distance").fit(F, y)
    # Query 0b0000: distances 0, 1, 4 -> weights 1, 1/2, 1/5.
    expected = (1.0 * 1 + 0.5 * 0 + 0.2 * 10) / (1 + 0.5 + 0.2)
    assert_allclose(
        reg.predict(np.array([[0]], dtype=np.uint8)), [expected], rtol=1e-15
    )
    uniform = HammingKNNMaskRegressor(n_neighbors=3).fit(F, y)
    assert_allclose(uniform.predict(np.array([[0]], dtype=np.uint8)), [11.0 / 3])


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_output_shapes_range_and_dtype(real_codes, weights):
    F, Y, Q = real_codes
    reg = HammingKNNMaskRegressor(n_neighbors=5, weights=weights)
    pred_2d = reg.fit(F, Y).predict(Q)
    assert pred_2d.shape == (len(Q), 6)
    assert pred_2d.min() >= 0.0 and pred_2d.max() <= 1.0
    # The masks are not constant around the queries: predictions are soft.
    assert 0.0 < pred_2d.mean() < 1.0
    assert np.any((pred_2d > 0) & (pred_2d < 1))
    if weights == "uniform":
        assert_allclose(pred_2d * 5, np.round(pred_2d * 5), atol=1e-12)
    pred_1d = clone(reg).fit(F, Y[:, 2]).predict(Q)
    assert pred_1d.shape == (len(Q),)
    assert_allclose(pred_1d, pred_2d[:, 2], rtol=1e-14)
    pred_col = clone(reg).fit(F, Y[:, 2:3]).predict(Q)
    assert pred_col.shape == (len(Q), 1)
    for y in [Y.astype(bool), Y.astype(np.int64), Y.astype(np.float32)]:
        pred = clone(reg).fit(F, y).predict(Q)
        assert pred.dtype == np.float64
        assert_allclose(pred, pred_2d, rtol=1e-6)


@st.composite
def _regression_data(draw):
    n = draw(st.integers(10, 40))
    n_features = draw(st.integers(1, 12))
    n_outputs = draw(st.integers(1, 5))
    # Realistic magnitudes: BoostedLSH stores its segments in float32.
    value = st.one_of(st.just(0.0), st.floats(1e-6, 1e6), st.floats(-1e6, -1e-6))
    X = draw(arrays(np.float64, (n, n_features), elements=value))
    Y = draw(arrays(np.float64, (n, n_outputs), elements=value))
    return X, Y


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(_regression_data())
def test_hash_then_knn_pipeline_fits_any_2d_data(data):
    X, Y = data
    pipe = Pipeline([("hash", BoostedLSH(32)), ("knn", HammingKNNMaskRegressor(10))])
    pred = pipe.fit(X, Y).predict(X)
    assert pred.shape == Y.shape
    assert pred.dtype == np.float64
    # Averages of 10 training rows stay within each column's range.
    tol = 1e-9 * (1 + np.abs(Y).max())
    assert np.all(pred >= Y.min(axis=0) - tol)
    assert np.all(pred <= Y.max(axis=0) + tol)
    assert pipe.named_steps["knn"].n_features_in_ == 4


# --------------------------------------------------------------------------
# The common-check properties, on real codes


def _outputs(est, Q):
    if isinstance(est, HammingNearestNeighbors):
        return est.kneighbors(Q)
    return (est.predict(Q),)


def _assert_same_outputs(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert_array_equal(x, y)


ESTIMATORS = [
    HammingNearestNeighbors(n_neighbors=5),
    HammingNearestNeighbors(n_neighbors=5, bit_weights=np.linspace(0.1, 2, 20)),
    HammingKNNMaskRegressor(n_neighbors=5),
    HammingKNNMaskRegressor(n_neighbors=5, weights="distance", n_jobs=2),
]
IDS = ["nn", "nn-weighted", "knn-uniform", "knn-distance"]


@pytest.fixture(params=ESTIMATORS, ids=IDS)
def fitted(request, real_codes):
    F, Y, Q = real_codes
    return clone(request.param).fit(F, Y), F, Y, Q


def test_fit_is_idempotent_and_deterministic(fitted):
    est, F, Y, Q = fitted
    expected = _outputs(est, Q)
    _assert_same_outputs(_outputs(est.fit(F, Y), Q), expected)
    _assert_same_outputs(_outputs(clone(est).fit(F, Y), Q), expected)
    # Refitting on other data, then on the first data again, forgets the former.
    est.fit(F[::-1][:50], Y[::-1][:50])
    _assert_same_outputs(_outputs(est.fit(F, Y), Q), expected)
    assert est.n_features_in_ == 3


def test_pickle_and_joblib_round_trips(fitted, tmp_path):
    est, F, Y, Q = fitted
    expected = _outputs(est, Q)
    _assert_same_outputs(_outputs(pickle.loads(pickle.dumps(est)), Q), expected)
    joblib.dump(est, tmp_path / "est.joblib")
    _assert_same_outputs(_outputs(joblib.load(tmp_path / "est.joblib"), Q), expected)


def test_subset_and_query_order_invariance(fitted):
    est, F, Y, Q = fitted
    full = _outputs(est, Q)
    for part in np.array_split(np.arange(len(Q)), 3):
        _assert_same_outputs(_outputs(est, Q[part]), [x[part] for x in full])
    perm = np.random.RandomState(0).permutation(len(Q))
    _assert_same_outputs(_outputs(est, Q[perm]), [x[perm] for x in full])


def test_readonly_and_integer_codes_are_accepted(fitted, tmp_path):
    est, F, Y, Q = fitted
    expected = _outputs(est, Q)
    F_mm = np.memmap(tmp_path / "F.dat", dtype=np.uint8, mode="w+", shape=F.shape)
    F_mm[:] = F
    F_mm.flush()
    F_ro = np.memmap(tmp_path / "F.dat", dtype=np.uint8, mode="r", shape=F.shape)
    Q_ro = Q.copy()
    Q_ro.setflags(write=False)
    Y_ro = Y.copy()
    Y_ro.setflags(write=False)
    _assert_same_outputs(_outputs(clone(est).fit(F_ro, Y_ro), Q_ro), expected)
    for dtype in [np.int16, np.int64, np.uint32]:
        refit = clone(est).fit(F.astype(dtype), Y)
        _assert_same_outputs(_outputs(refit, Q.astype(dtype)), expected)
    _assert_same_outputs(_outputs(clone(est).fit(np.asfortranarray(F), Y), Q), expected)


def test_codes_validation_errors(fitted):
    est, F, Y, Q = fitted
    for bad_dtype in [np.float64, np.float32, bool]:
        with pytest.raises(TypeError, match=r"Expected X to hold packed uint8 codes"):
            clone(est).fit(F.astype(bad_dtype), Y)
        with pytest.raises(TypeError, match=r"Expected X to hold packed uint8 codes"):
            _outputs(est, Q.astype(bad_dtype))
    with pytest.raises(ValueError, match=r"values in \[0, 255\], got values in \[-1,"):
        clone(est).fit(np.where(F == 0, -1, F.astype(int)), Y)
    with pytest.raises(ValueError, match="0 sample"):
        clone(est).fit(F[:0], Y[:0])
    with pytest.raises(ValueError, match="0 sample"):
        _outputs(est, Q[:0])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        clone(est).fit(F[:, 0], Y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        _outputs(est, Q[0])
    with pytest.raises(
        ValueError, match="X has 2 features, but .* is expecting 3 features"
    ):
        _outputs(est, Q[:, :2])
    with pytest.raises(
        ValueError, match="X has 4 features, but .* is expecting 3 features"
    ):
        _outputs(est, np.concatenate([Q, Q[:, :1]], axis=1))
    with pytest.raises(NotFittedError):
        _outputs(clone(est), Q)


def test_regressor_target_errors(real_codes):
    F, Y, _ = real_codes
    Y_nan = Y.copy()
    Y_nan[4, 1] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        HammingKNNMaskRegressor(3).fit(F, Y_nan)
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[120, 119\]"
    ):
        HammingKNNMaskRegressor(3).fit(F, Y[:-1])
    with pytest.raises(
        ValueError, match="requires y to be passed, but the target y is None"
    ):
        HammingKNNMaskRegressor(3).fit(F, None)


def test_too_many_neighbours_is_a_clear_error(real_codes):
    F, Y, Q = real_codes
    with pytest.raises(ValueError, match="n_neighbors = 5, n_samples = 4"):
        HammingKNNMaskRegressor(n_neighbors=5).fit(F[:4], Y[:4])
    HammingKNNMaskRegressor(n_neighbors=4).fit(F[:4], Y[:4])
    nn = HammingNearestNeighbors(n_neighbors=4).fit(F[:4])
    assert nn.kneighbors(Q)[1].shape == (len(Q), 4)
    with pytest.raises(ValueError, match="n_neighbors = 5, n_samples_fit = 4"):
        nn.kneighbors(Q, n_neighbors=5)
    # Without queries each code is excluded from its own neighbours.
    with pytest.raises(ValueError, match="n_neighbors = 4, n_samples_fit = 4"):
        nn.kneighbors()
    assert nn.kneighbors(n_neighbors=3)[1].shape == (4, 3)
    for bad in [0, -1, 2.5, True]:
        with pytest.raises(ValueError, match=r"Expected n_neighbors > 0, got"):
            nn.kneighbors(Q, n_neighbors=bad)
    with pytest.raises(InvalidParameterError, match="'n_neighbors' parameter"):
        HammingNearestNeighbors(n_neighbors=0).fit(F)
    with pytest.raises(InvalidParameterError, match="'weights' parameter"):
        HammingKNNMaskRegressor(weights="gaussian").fit(F, Y)
