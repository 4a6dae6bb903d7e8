"""Property-based tests (hypothesis) of the invariants the library promises.

Bounded ``max_examples`` and ``derandomize=True``: the module runs in well
under a minute and the same examples are drawn on every run (and in CI).
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import Ridge

from skblsh import (
    HammingKNNMaskRegressor,
    HammingNearestNeighbors,
    MaskingSeparator,
    hamming_distances,
    pack_bits,
    unpack_bits,
)
from skblsh.separation import make_separator_pipeline

SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def bit_matrices(draw, min_rows=1, max_rows=12):
    n_bits = draw(st.integers(1, 130))
    n_rows = draw(st.integers(min_rows, max_rows))
    return draw(arrays(np.uint8, (n_rows, n_bits), elements=st.integers(0, 1)))


@settings(max_examples=60, **SETTINGS)
@given(bit_matrices())
def test_pack_unpack_round_trip_any_n_bits(bits):
    n_bits = bits.shape[1]
    codes = pack_bits(bits)
    assert codes.dtype == np.uint8 and codes.shape[1] == -(-n_bits // 8)
    np.testing.assert_array_equal(unpack_bits(codes, n_bits), bits)
    # Padding bits are zero, so unpacking all bytes only appends zeros.
    assert not unpack_bits(codes)[:, n_bits:].any()


@settings(max_examples=60, **SETTINGS)
@given(bit_matrices(min_rows=3))
def test_hamming_distance_is_a_metric_equal_to_unpacked_count(bits):
    codes = pack_bits(bits)
    D = hamming_distances(codes)
    brute = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    np.testing.assert_array_equal(D, brute)
    np.testing.assert_array_equal(D, D.T)  # symmetry
    same = (bits[:, None, :] == bits[None, :, :]).all(axis=2)
    np.testing.assert_array_equal(D == 0, same)  # identity of indiscernibles
    assert (D >= 0).all()
    # Triangle inequality for every triple: D[i, k] <= D[i, j] + D[j, k].
    assert (D[:, None, :] <= D[:, :, None] + D[None, :, :]).all()


@st.composite
def search_cases(draw):
    n_bytes = draw(st.integers(1, 9))
    n_fit = draw(st.integers(1, 60))
    n_query = draw(st.integers(1, 40))
    # Few distinct values: many exact ties, the hard case for invariance.
    values = st.integers(0, 255) if draw(st.booleans()) else st.sampled_from([0, 1])
    codes = draw(arrays(np.uint8, (n_fit, n_bytes), elements=values))
    queries = draw(arrays(np.uint8, (n_query, n_bytes), elements=values))
    k = draw(st.integers(1, n_fit))
    perm = draw(st.permutations(range(n_query)))
    cuts = sorted(draw(st.sets(st.integers(1, max(n_query - 1, 1)), max_size=4)))
    weighted = draw(st.booleans())
    return codes, queries, k, np.array(perm), cuts, weighted


@settings(max_examples=50, **SETTINGS)
@given(search_cases())
def test_knn_invariant_to_query_order_blocks_and_threads(case):
    codes, queries, k, perm, cuts, weighted = case
    w = np.linspace(0.5, 2.0, 8 * codes.shape[1]) if weighted else None
    nn = HammingNearestNeighbors(k, bit_weights=w).fit(codes)
    dist, ind = nn.kneighbors(queries)
    # Query order: permuting the queries permutes the answers, nothing else.
    dist_p, ind_p = nn.kneighbors(queries[perm])
    np.testing.assert_array_equal(ind_p, ind[perm])
    np.testing.assert_array_equal(dist_p, dist[perm])
    # Blocks: any split of the queries gives the same rows.
    parts = [nn.kneighbors(q) for q in np.split(queries, cuts) if len(q)]
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), ind)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), dist)
    # Threads.
    nn2 = HammingNearestNeighbors(k, bit_weights=w, n_jobs=2).fit(codes)
    np.testing.assert_array_equal(nn2.kneighbors(queries)[1], ind)
    # Sorted, nearest first.
    assert (np.diff(dist, axis=1) >= 0).all()


@settings(max_examples=40, **SETTINGS)
@given(search_cases(), st.sampled_from(["uniform", "distance"]))
def test_knn_masks_stay_in_unit_interval(case, weights):
    codes, queries, k, *_ = case
    rng = np.random.RandomState(len(codes))
    masks = (rng.rand(len(codes), 5) > 0.5).astype(float)
    masks[:, 0] = 1.0  # a column that is always on must stay exactly 1
    pred = HammingKNNMaskRegressor(k, weights=weights).fit(codes, masks)
    out = pred.predict(queries)
    # A weighted mean of 0/1 rows can round to 1 + 2.2e-16 ("distance"
    # weights, found by this test); the separator clips, see below.
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-12
    np.testing.assert_allclose(out[:, 0], 1.0, rtol=0, atol=1e-12)


def _train(n_fft, hop_length, estimator):
    rng = np.random.RandomState(0)
    t = np.arange(4000)
    sources = [np.sin(t * f) for f in (0.05, 0.2)]
    mixtures = [s + 0.5 * rng.randn(len(s)) for s in sources]
    sep = MaskingSeparator(estimator, n_fft=n_fft, hop_length=hop_length)
    return sep.fit(mixtures, sources)


_SEPARATORS = {
    (n_fft, hop): _train(
        n_fft, hop, make_separator_pipeline(16, 3, hasher="random", random_state=0)
    )
    for n_fft, hop in [(64, 16), (64, 63), (101, 40), (256, 64)]
}
# A regressor with no notion of [0, 1]: the separator must clip it.
_RIDGE = _train(64, 16, Ridge(alpha=1e-3))


@st.composite
def waveforms(draw, min_len):
    n = draw(st.integers(min_len, min_len + 2000))
    kind = draw(st.sampled_from(["noise", "silence", "impulse", "loud", "tiny"]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    y = {
        "noise": lambda: rng.randn(n),
        "silence": lambda: np.zeros(n),
        "impulse": lambda: np.eye(1, n, rng.randint(n)).ravel(),
        "loud": lambda: 1e4 * rng.randn(n),
        "tiny": lambda: 1e-30 * rng.randn(n),
    }[kind]()
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return y.astype(dtype)


@st.composite
def separation_cases(draw):
    key = draw(st.sampled_from(sorted(_SEPARATORS)))
    y = draw(waveforms(min_len=key[0]))
    block_frames = draw(st.integers(1, 40))
    return key, y, block_frames


@settings(max_examples=40, **SETTINGS)
@given(separation_cases())
def test_output_length_dtype_and_finiteness_for_any_length(case):
    key, y, block_frames = case
    sep = _SEPARATORS[key]
    sep.set_params(block_frames=10**6)
    (whole,) = sep.predict([y])
    sep.set_params(block_frames=block_frames)
    (blocked,) = sep.predict([y])
    assert whole.shape == y.shape and whole.dtype == y.dtype
    assert np.all(np.isfinite(whole))
    np.testing.assert_array_equal(blocked, whole)
    if not y.any():
        assert not whole.any()


@settings(max_examples=30, **SETTINGS)
@given(waveforms(min_len=64))
def test_mask_estimates_always_in_unit_interval(y):
    for sep in (_SEPARATORS[64, 16], _RIDGE):
        mask = sep.predict_mask(y)
        n_frames = 1 + (len(y) + 2 * (64 // 2) - 64) // 16
        assert mask.shape == (n_frames, 33)
        assert np.all(np.isfinite(mask))
        assert mask.min() >= 0.0 and mask.max() <= 1.0
