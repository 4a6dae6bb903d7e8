"""Exactness of the popcount kNN kernel against an independent brute force."""

import numpy as np
import pytest
from _reference import brute_distances, brute_kneighbors

from skblsh.codes import as_words
from skblsh.utils._bits import hamming_kneighbors


def _brute_force(Q, D, k):
    return brute_kneighbors(brute_distances(Q, D), k)


@pytest.mark.parametrize(
    "n_bytes, n_samples, n_queries, k",
    [
        (1, 300, 40, 10),  # 8 bits: almost every distance is tied
        (2, 5000, 70, 25),  # more than one database block, ties across blocks
        (4, 257, 33, 257),  # k equal to the database size
        (8, 4097, 65, 10),  # one word, block edge, partial query tile
        (19, 600, 9, 7),  # 150 bits: three words, padded
        (32, 1000, 1, 1),  # 256 bits, a single query
        (40, 700, 20, 10),  # 320 bits: five words, the generic path
    ],
)
@pytest.mark.parametrize("n_threads", [1, 3])
def test_hamming_kneighbors_equals_brute_force(
    n_bytes, n_samples, n_queries, k, n_threads
):
    rng = np.random.default_rng(n_bytes * 1000 + n_samples)
    D = rng.integers(0, 256, (n_samples, n_bytes), dtype=np.uint8)
    # Duplicate rows and queries equal to database rows give exact ties.
    D[n_samples // 2 :: 7] = D[: len(D[n_samples // 2 :: 7])]
    Q = rng.integers(0, 256, (n_queries, n_bytes), dtype=np.uint8)
    Q[: n_queries // 2] = D[rng.integers(0, n_samples, n_queries // 2)]
    dist, ind = hamming_kneighbors(as_words(Q), as_words(D), k, n_threads=n_threads)
    ref_dist, ref_ind = _brute_force(Q, D, k)
    assert dist.dtype == np.int32 and ind.dtype == np.int64
    np.testing.assert_array_equal(dist, ref_dist)
    np.testing.assert_array_equal(ind, ref_ind)


def test_hamming_kneighbors_all_equal_codes_ordered_by_index():
    D = np.zeros((5000, 8), dtype=np.uint8)
    dist, ind = hamming_kneighbors(as_words(D[:3]), as_words(D), 12, n_threads=2)
    np.testing.assert_array_equal(dist, 0)
    np.testing.assert_array_equal(ind, np.broadcast_to(np.arange(12), (3, 12)))


# --------------------------------------------------------------------------
# The estimators on top of the kernel, against the previous numpy code
# (tests/test_neighbors.py holds their brute-force tests).


def _previous_kneighbors(codes, Q, k):
    """The numpy implementation the kernel replaced: full blocks + _top_k."""
    from skblsh.codes import hamming_block
    from skblsh.neighbors._topk import top_k as _top_k

    return _top_k(hamming_block(as_words(Q), as_words(codes)), k)


@pytest.mark.parametrize("n_bytes", [1, 4, 8, 19, 32])
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_kneighbors_equals_previous_implementation(n_bytes, n_jobs):
    from skblsh import HammingNearestNeighbors
    from skblsh.neighbors._topk import drop_self as _drop_self

    rng = np.random.default_rng(n_bytes)
    codes = rng.integers(0, 256, (3000, n_bytes), dtype=np.uint8)
    codes[1500:] = codes[:1500]  # every code twice: ties at distance 0
    Q = rng.integers(0, 256, (50, n_bytes), dtype=np.uint8)
    nn = HammingNearestNeighbors(n_neighbors=9, n_jobs=n_jobs).fit(codes)
    ind, dist = _previous_kneighbors(codes, Q, 9)
    new_dist, new_ind = nn.kneighbors(Q)
    np.testing.assert_array_equal(new_ind, ind)
    np.testing.assert_array_equal(new_dist, dist)
    ind, dist = _drop_self(*_previous_kneighbors(codes, codes, 10))
    new_dist, new_ind = nn.kneighbors()
    np.testing.assert_array_equal(new_ind, ind)
    np.testing.assert_array_equal(new_dist, dist)


def _previous_predict(reg, Q):
    """The previous regressor: float64 targets gathered, then averaged."""
    y = reg.targets_
    dist, ind = reg.kneighbors(Q)
    if reg.weights == "uniform":
        return y[ind].mean(axis=1)
    w = 1.0 / (1.0 + dist.astype(np.float64))
    return np.einsum("qk,qko->qo", w, y[ind]) / w.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize(
    "kind, binary",
    [("float32 masks", True), ("int masks", True), ("soft", False)],
)
def test_packed_targets_predict_like_float64_targets(weights, kind, binary):
    from skblsh import HammingKNNMaskRegressor

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (400, 2), dtype=np.uint8)
    Q = rng.integers(0, 256, (60, 2), dtype=np.uint8)
    masks = rng.random((400, 37)) < 0.3
    y = {
        "float32 masks": masks.astype(np.float32),
        "int masks": masks.astype(np.int64),
        "soft": rng.random((400, 37)).astype(np.float32),
    }[kind]
    reg = HammingKNNMaskRegressor(n_neighbors=7, weights=weights).fit(codes, y)
    assert reg.binary_targets_ is binary
    assert reg._targets.shape == ((400, 5) if binary else (400, 37))
    assert reg._targets.dtype == (np.uint8 if binary else np.float32)
    np.testing.assert_array_equal(reg.targets_, y.astype(np.float64))
    pred = reg.predict(Q)
    assert pred.dtype == np.float64
    np.testing.assert_array_equal(pred, _previous_predict(reg, Q))
    # A float64 copy of the same targets goes the same way.
    reg64 = HammingKNNMaskRegressor(n_neighbors=7, weights=weights)
    np.testing.assert_array_equal(
        reg64.fit(codes, y.astype(np.float64)).predict(Q), pred
    )


def test_binary_dictionary_bytes_per_frame():
    import pickle

    from skblsh import HammingKNNMaskRegressor

    rng = np.random.default_rng(0)
    n, n_bytes, n_outputs = 2000, 8, 513
    codes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    masks = (rng.random((n, n_outputs)) < 0.5).astype(np.float32)
    reg = HammingKNNMaskRegressor().fit(codes, masks)
    per_frame = n_bytes + -(-n_outputs // 8)  # 73 bytes at L=64, F=513
    assert reg.codes_.nbytes + reg._targets.nbytes == n * per_frame
    # Pickled: the same arrays once each, plus a few kilobytes of metadata.
    assert n * per_frame < len(pickle.dumps(reg)) < n * per_frame + 4096


@pytest.mark.parametrize("k", [1, 30, 255, 256, 600])
@pytest.mark.parametrize("n_outputs", [1, 9, 513])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_count_ones_equals_unpacked_sums(k, n_outputs, n_threads):
    from skblsh.utils._bits import count_ones

    rng = np.random.default_rng(k + n_outputs)
    bits = rng.random((800, n_outputs)) < 0.5
    bits[:20] = True  # all-ones rows: counts up to k, past a byte lane's 255
    packed = np.packbits(bits, axis=1, bitorder="little")
    ind = rng.integers(0, len(bits), (600, k))
    ind[:3] = rng.integers(0, 20, (3, k))
    expected = bits[ind].sum(axis=1)
    counts = count_ones(packed, ind, n_outputs, n_threads=n_threads)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, expected)
