"""Exactness of the popcount kNN kernel against an independent brute force."""

import numpy as np
import pytest

from skblsh.utils._bits import as_words, hamming_kneighbors


def _brute_force(Q, D, k):
    """Sorted by (distance, index) from unpacked bits: no shared code."""
    qa = np.unpackbits(Q, axis=1).astype(np.int64)
    da = np.unpackbits(D, axis=1).astype(np.int64)
    dist = (qa[:, None, :] != da[None, :, :]).sum(axis=2)
    order = np.lexsort((np.broadcast_to(np.arange(len(D)), dist.shape), dist))
    order = order[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


@pytest.mark.parametrize(
    "n_bytes, n_samples, n_queries, k",
    [
        (1, 300, 40, 10),  # 8 bits: almost every distance is tied
        (2, 5000, 70, 25),  # more than one database block, ties across blocks
        (4, 257, 33, 257),  # k equal to the database size
        (8, 4097, 65, 10),  # one word, block edge, partial query tile
        (19, 600, 9, 7),  # 150 bits: three words, padded
        (32, 1000, 1, 1),  # 256 bits, a single query
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
