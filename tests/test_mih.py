"""Multi-index hashing equals brute force, ties and all."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skblsh.codes import as_words, pack_bits, unpack_bits
from skblsh.neighbors._mih import MultiIndexHashingIndex, _plan, _table_bytes
from skblsh.utils._bits import hamming_kneighbors

N_BITS = [8, 20, 32, 45, 64, 128, 150]
KINDS = ["random", "duplicates", "clustered"]


def make_codes(kind, n, n_bits, rng):
    """Packed codes: uniform bits, 5 distinct codes, or centres + few flips."""
    if kind == "random":
        bits = rng.integers(0, 2, (n, n_bits))
    elif kind == "duplicates":
        bits = rng.integers(0, 2, (5, n_bits))[rng.integers(0, 5, n)]
    else:
        centres = rng.integers(0, 2, (8, n_bits))[rng.integers(0, 8, n)]
        bits = centres ^ (rng.random((n, n_bits)) < 2.0 / n_bits)
    return pack_bits(bits)


def make_queries(codes, n_bits, rng, n_each=8):
    """Indexed codes, indexed codes with 1-3 flipped bits, random codes."""
    bits = unpack_bits(codes, n_bits)
    rows = bits[rng.integers(0, len(bits), 2 * n_each)]
    for row in rows[n_each:]:
        row[rng.choice(n_bits, min(n_bits, rng.integers(1, 4)), replace=False)] ^= 1
    far = rng.integers(0, 2, (n_each, n_bits))
    return pack_bits(np.vstack([rows, far]))


def all_distances(codes, Q, n_bits):
    """Hamming distances from unpacked bits, |a - b| summed by a product."""
    A = unpack_bits(codes, n_bits).astype(np.int64)
    B = unpack_bits(Q, n_bits).astype(np.int64)
    return A.sum(1)[None, :] + B.sum(1)[:, None] - 2 * B @ A.T


def reference_knn(codes, Q, n_bits, k):
    D = all_distances(codes, Q, n_bits)
    order = np.argsort(D * len(codes) + np.arange(len(codes)), axis=1)[:, :k]
    return np.take_along_axis(D, order, axis=1), order


def reference_radius(codes, Q, n_bits, radius):
    D = all_distances(codes, Q, n_bits)
    indptr, ind, dist = [0], [], []
    for row in D:
        keep = np.flatnonzero(row <= radius)
        keep = keep[np.argsort(row[keep] * len(codes) + keep)]
        ind.append(keep)
        dist.append(row[keep])
        indptr.append(indptr[-1] + len(keep))
    return np.array(indptr), np.concatenate(ind), np.concatenate(dist)


def assert_knn_exact(index, codes, Q, n_bits, k, **kwargs):
    dist, ind = index.query(Q, k, **kwargs)
    assert dist.dtype == np.int32 and ind.dtype == np.int64
    assert dist.shape == ind.shape == (len(Q), k)
    ref_d, ref_i = reference_knn(codes, Q, n_bits, k)
    np.testing.assert_array_equal(dist, ref_d)
    np.testing.assert_array_equal(ind, ref_i)
    bf_d, bf_i = hamming_kneighbors(as_words(Q), as_words(codes), k)
    np.testing.assert_array_equal(dist, bf_d)
    np.testing.assert_array_equal(ind, bf_i)


def assert_radius_exact(index, codes, Q, n_bits, radius, **kwargs):
    got = index.query_radius(Q, radius, **kwargs)
    assert [a.dtype for a in got] == [np.int64, np.int64, np.int32]
    for a, b in zip(got, reference_radius(codes, Q, n_bits, radius), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_bits", N_BITS)
def test_knn_equals_brute_force(n_bits, kind):
    rng = np.random.default_rng(n_bits)
    codes = make_codes(kind, 400, n_bits, rng)
    Q = make_queries(codes, n_bits, rng)
    index = MultiIndexHashingIndex(codes, n_bits=n_bits)
    assert index.n_samples == 400 and index.n_bits == n_bits
    assert index.substring_lengths.sum() == n_bits
    for k in (1, 10, 400):
        assert_knn_exact(index, codes, Q, n_bits, k)


@pytest.mark.parametrize(
    ("n_bits", "n_tables"),
    # 1 table; keys of 1 bit; sparse tables (substring longer than the 8
    # offset bits of 400 codes) with suffixes of 1, 4 and 24 bits; uneven
    # substrings; filters of 8 to 64 bits.
    [
        (20, 1),
        (8, 8),
        (20, 20),
        (45, 5),
        (64, 2),
        (64, 5),
        (150, 5),
        (150, 13),
        (128, 4),
    ],
)
@pytest.mark.parametrize("kind", ["random", "clustered"])
def test_n_tables(n_bits, n_tables, kind):
    rng = np.random.default_rng(n_tables)
    codes = make_codes(kind, 400, n_bits, rng)
    Q = make_queries(codes, n_bits, rng)
    index = MultiIndexHashingIndex(codes, n_bits=n_bits, n_tables=n_tables)
    assert index.n_tables == n_tables
    lengths = index.substring_lengths
    assert lengths.sum() == n_bits and lengths.max() - lengths.min() <= 1
    for k in (1, 7, 400):
        assert_knn_exact(index, codes, Q, n_bits, k)
    assert_radius_exact(index, codes, Q, n_bits, n_bits // 5)


@pytest.mark.parametrize("n_bits", [20, 64, 150])
@pytest.mark.parametrize("kind", KINDS)
def test_radius_equals_brute_force(n_bits, kind):
    rng = np.random.default_rng(n_bits + 1)
    codes = make_codes(kind, 300, n_bits, rng)
    Q = make_queries(codes, n_bits, rng)
    index = MultiIndexHashingIndex(codes, n_bits=n_bits)
    for radius in (0, 2, n_bits // 4, n_bits, 10 * n_bits):
        assert_radius_exact(index, codes, Q, n_bits, radius)
    indptr, ind, _ = index.query_radius(Q, n_bits)
    np.testing.assert_array_equal(np.diff(indptr), 300)  # everything


def test_probing_is_sublinear_on_clustered_codes(monkeypatch):
    """The pigeonhole bound stops probing early (scanning is not allowed)."""
    monkeypatch.setattr(MultiIndexHashingIndex, "_budget", lambda self: 2**62)
    # 2000 clusters of 10 codes (a centre + 1 to 2 flipped bits).
    rng = np.random.default_rng(0)
    centres = rng.integers(0, 2, (2000, 64))
    bits = np.repeat(centres, 10, axis=0)
    flips = rng.integers(0, 64, (len(bits), 2))
    bits[np.arange(len(bits)), flips[:, 0]] ^= 1
    bits[np.arange(len(bits)), flips[:, 1]] ^= 1
    codes = pack_bits(bits)
    Q = make_queries(codes, 64, rng)[:16]  # indexed codes and near ones
    index = MultiIndexHashingIndex(codes, n_tables=4)
    assert_knn_exact(index, codes, Q, 64, 5)
    buckets, candidates, reads = index._last_work.T
    assert not index._last_failed.any()
    # The 5th neighbour is within 4 bits: tables probed to radius 1 at most.
    assert buckets.max() <= 4 * 17 and candidates.max() < 400 and reads.max() < 100


def test_scan_fallback(monkeypatch):
    """Queries over budget are scanned, with the same ties and order."""
    rng = np.random.default_rng(1)
    codes = make_codes("duplicates", 300, 45, rng)
    Q = make_queries(codes, 45, rng)
    index = MultiIndexHashingIndex(codes, n_bits=45)
    monkeypatch.setattr(MultiIndexHashingIndex, "_budget", lambda self: 0)
    for k in (1, 10, 300):
        assert_knn_exact(index, codes, Q, 45, k, n_threads=2)
        assert index._last_failed.all()
    for radius in (0, 5, 45):
        assert_radius_exact(index, codes, Q, 45, radius, n_threads=2)
        assert index._last_failed.all()


def test_partial_fallback(monkeypatch):
    """Some queries probed, the far ones scanned, results interleaved back."""
    rng = np.random.default_rng(2)
    codes = make_codes("clustered", 2000, 64, rng)
    Q = make_queries(codes, 64, rng, n_each=20)
    index = MultiIndexHashingIndex(codes)
    monkeypatch.setattr(MultiIndexHashingIndex, "_budget", lambda self: 3000)
    assert_knn_exact(index, codes, Q, 64, 10)
    assert 0 < index._last_failed.sum() < len(Q)
    assert_radius_exact(index, codes, Q, 64, 2)
    assert 0 < index._last_failed.sum() < len(Q)


def test_add_equals_fresh_build():
    rng = np.random.default_rng(3)
    codes = make_codes("clustered", 3000, 45, rng)
    Q = make_queries(codes, 45, rng)
    index = MultiIndexHashingIndex(codes[:1000], n_bits=45)
    index.add(codes[1000:1001])
    index.add(codes[1001:])
    fresh = MultiIndexHashingIndex(codes, n_bits=45)
    assert index.n_samples == 3000
    assert (index.n_tables, index.filter_bits) == (fresh.n_tables, fresh.filter_bits)
    assert index.nbytes == fresh.nbytes
    for a, b in zip(index.query(Q, 15), fresh.query(Q, 15), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(index.query_radius(Q, 6), fresh.query_radius(Q, 6), strict=True):
        np.testing.assert_array_equal(a, b)
    assert_knn_exact(index, codes, Q, 45, 15)
    # A fixed number of tables is kept.
    fixed = MultiIndexHashingIndex(codes[:10], n_bits=45, n_tables=4)
    fixed.add(codes[10:])
    assert fixed.n_tables == 4
    assert_knn_exact(fixed, codes, Q, 45, 15)


def test_threads_agree():
    rng = np.random.default_rng(4)
    codes = make_codes("clustered", 2000, 64, rng)
    Q = make_queries(codes, 64, rng, n_each=30)
    index = MultiIndexHashingIndex(codes)
    for a, b in zip(index.query(Q, 10), index.query(Q, 10, n_threads=2), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(
        index.query_radius(Q, 8), index.query_radius(Q, 8, n_threads=2), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_bits", [32, 64, 128])
def test_memory_within_three_times_the_codes(n_bits):
    codes = make_codes("random", 50000, n_bits, np.random.default_rng(5))
    index = MultiIndexHashingIndex(codes)
    plan = _plan(50000, n_bits, codes.shape[1])
    assert (index.n_tables, -(-index.filter_bits // 8)) == plan
    assert index.nbytes == _table_bytes(50000, n_bits, *plan)
    assert 2 * codes.nbytes < index.nbytes <= 3 * codes.nbytes


def test_plan():
    # Direct-addressed tables (substrings <= log2(n) bits) and the widest
    # filter within 3x the codes, for the measured settings.
    assert _plan(10**7, 64, 8) == (3, 4)
    assert _plan(10**7, 32, 4) == (2, 2)
    assert _plan(10**6, 64, 8) == (4, 2)
    for n in (10, 1000, 10**5, 10**7, 10**9):
        for n_bits in (16, 20, 32, 45, 64, 128, 150):
            n_bytes = -(-n_bits // 8)
            m, f = _plan(n, n_bits, n_bytes)
            assert -(-n_bits // 32) <= m <= n_bits
            if n >= 10**5 and n_bits > 16:  # 4-byte ids exceed 3 x 2 bytes
                assert _table_bytes(n, n_bits, m, f) <= 3 * n * n_bytes


def test_edge_cases():
    one = np.array([[5]], dtype=np.uint8)
    index = MultiIndexHashingIndex(one, n_bits=3)
    dist, ind = index.query(np.array([[2], [5]], dtype=np.uint8), 1)
    assert dist.tolist() == [[3], [0]] and ind.tolist() == [[0], [0]]
    empty_q = np.empty((0, 1), dtype=np.uint8)
    dist, ind = index.query(empty_q, 1)
    assert dist.shape == ind.shape == (0, 1)
    indptr, ind, dist = index.query_radius(empty_q, 2)
    assert indptr.tolist() == [0] and len(ind) == len(dist) == 0
    index = MultiIndexHashingIndex(np.empty((0, 2), dtype=np.uint8))
    assert index.n_samples == 0 and index.n_bits == 16
    index.add(np.array([[1, 0], [0, 1]], dtype=np.uint8))
    dist, ind = index.query(np.array([[1, 1]], dtype=np.uint8), 2)
    assert dist.tolist() == [[1, 1]] and ind.tolist() == [[0, 1]]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"codes": np.zeros((3, 2))}, TypeError, "uint8"),
        ({"codes": np.zeros(3, dtype=np.uint8)}, ValueError, "2-D"),
        ({"n_bits": 8}, ValueError, r"n_bits to be an integer in \[9, 16\], got 8"),
        ({"n_bits": 17}, ValueError, "n_bits"),
        ({"n_tables": 0}, ValueError, r"n_tables to be an integer in \[1, 16\], got 0"),
        ({"n_tables": 17}, ValueError, "n_tables"),
        ({"n_tables": 2.0}, ValueError, "n_tables"),
        ({"bit_weights": np.ones(16)}, ValueError, "Expected bit_weights=None"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    kwargs = {"codes": np.zeros((3, 2), dtype=np.uint8), **kwargs}
    with pytest.raises(error, match=match):
        MultiIndexHashingIndex(kwargs.pop("codes"), **kwargs)


def test_query_errors():
    codes = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    index = MultiIndexHashingIndex(codes, n_bits=12)
    Q = codes[:1]
    with pytest.raises(
        ValueError, match=r"k \(n_samples=2\) to be an integer in \[1, 2\], got 3"
    ):
        index.query(Q, 3)
    with pytest.raises(ValueError, match="k"):
        index.query(Q, 0)
    with pytest.raises(ValueError, match="radius to be an integer >= 0, got -1"):
        index.query_radius(Q, -1)
    with pytest.raises(ValueError, match="n_threads"):
        index.query(Q, 1, n_threads=0)
    with pytest.raises(ValueError, match="Q with 2 bytes per row"):
        index.query(np.zeros((1, 3), dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="4 padding bits of each row of Q"):
        index.query(np.array([[0, 16]], dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="padding bits of each row of codes"):
        index.add(np.array([[0, 255]], dtype=np.uint8))
    with pytest.raises(ValueError, match="padding bits of each row of codes"):
        MultiIndexHashingIndex(np.array([[0, 255]], dtype=np.uint8), n_bits=12)


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 80),
    n_bits=st.integers(1, 96),
    pool=st.integers(1, 100),
    table_choice=st.floats(0, 1),
    k_choice=st.floats(0, 1),
    radius=st.integers(0, 12),
)
def test_property_equals_brute_force(
    seed, n, n_bits, pool, table_choice, k_choice, radius
):
    """Any size, code length, number of tables and share of duplicates."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (pool, n_bits))[rng.integers(0, pool, n)]
    codes = pack_bits(bits)
    Q = np.vstack([codes[: n // 2], make_queries(codes, n_bits, rng, n_each=3)])
    low = -(-n_bits // 32)
    n_tables = low + int(table_choice * (n_bits - low))
    index = MultiIndexHashingIndex(codes, n_bits=n_bits, n_tables=n_tables)
    k = 1 + int(k_choice * (n - 1))
    assert_knn_exact(index, codes, Q, n_bits, k)
    assert_radius_exact(index, codes, Q, n_bits, radius)
