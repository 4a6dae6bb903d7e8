"""Radius search, neighbour graphs, partial_fit and algorithm-agnosticity of
the Hamming neighbours estimators, against brute force on unpacked bits."""

import numpy as np
import pytest
from _reference import (
    brute_distances,
    brute_kneighbors,
    brute_radius,
    exclude_self,
    random_codes,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy.sparse import csr_matrix
from sklearn.cluster import DBSCAN, SpectralClustering
from sklearn.manifold import Isomap
from sklearn.neighbors import NearestNeighbors

from skblsh import HammingKNeighborsRegressor, HammingNearestNeighbors, RandomLSH
from skblsh.neighbors._base import ALGORITHMS
from skblsh.neighbors._brute import KERNEL_MAX_K

CASES = [  # n_bits, n_fit, n_distinct (duplicates force ties)
    (7, 120, 30),
    (20, 200, 200),
    (45, 150, 40),
    (64, 300, 300),
    (150, 90, 20),
]


@pytest.mark.parametrize("n_bits, n_fit, n_distinct", CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sort_results", [False, True])
def test_radius_neighbors_equal_brute_force(
    n_bits, n_fit, n_distinct, weighted, sort_results
):
    rng = np.random.RandomState(n_bits)
    F = random_codes(rng, n_fit, n_bits, n_distinct)
    Q = np.vstack([random_codes(rng, 15, n_bits), F[:5]])
    w = rng.rand(n_bits) * 2 if weighted else None
    radius = 0.3 * n_bits if weighted else n_bits // 3
    nn = HammingNearestNeighbors(radius=radius, bit_weights=w).fit(F)
    for X, D in [(Q, brute_distances(Q, F, n_bits, w)), (None, None)]:
        if X is None:
            D = exclude_self(brute_distances(F, F, n_bits, w))
        dist, ind = nn.radius_neighbors(X, sort_results=sort_results)
        expected = brute_radius(D, radius)
        assert len(ind) == len(expected) and sum(len(i) for i in ind) > 0
        for row, (d, i, (ed, ei)) in enumerate(zip(dist, ind, expected, strict=True)):
            if not sort_results:  # index order
                ei = np.sort(ei)
                ed = D[row][ei]
            assert_array_equal(i, ei)
            assert_allclose(d, ed, rtol=1e-12)
            assert i.dtype == np.int64


def test_radius_neighbors_index_order_and_default_radius():
    rng = np.random.RandomState(0)
    F = random_codes(rng, 50, 16, 10)
    nn = HammingNearestNeighbors().fit(F)
    with pytest.raises(ValueError, match=r"Expected radius >= 0.*got None"):
        nn.radius_neighbors(F[:2])
    ind = nn.radius_neighbors(F[:3], radius=4, return_distance=False)
    for row in ind:
        assert np.all(np.diff(row) > 0)
    ref = NearestNeighbors(radius=4, metric="hamming").fit(
        np.unpackbits(F, axis=1, bitorder="little")
    )
    # sklearn's "hamming" is the fraction of differing bits.
    ref_ind = ref.radius_neighbors(
        np.unpackbits(F[:3], axis=1, bitorder="little"),
        radius=4 / 16 + 1e-9,
        return_distance=False,
    )
    for a, b in zip(ind, ref_ind, strict=True):
        assert_array_equal(a, np.sort(b))


@pytest.mark.parametrize("mode", ["connectivity", "distance"])
@pytest.mark.parametrize("weighted", [False, True])
def test_graphs_equal_sklearn_layout(mode, weighted):
    rng = np.random.RandomState(1)
    n_bits = 24
    F = random_codes(rng, 80, n_bits, 40)
    Q = random_codes(rng, 10, n_bits)
    w = rng.rand(n_bits) if weighted else None
    nn = HammingNearestNeighbors(n_neighbors=6, radius=5, bit_weights=w).fit(F)
    for X, D in [
        (Q, brute_distances(Q, F, n_bits, w)),
        (None, exclude_self(brute_distances(F, F, n_bits, w))),
    ]:
        G = nn.kneighbors_graph(X, mode=mode)
        assert isinstance(G, csr_matrix) and G.shape == (len(D), 80)
        assert G.dtype == np.float64
        exp_d, exp_i = brute_kneighbors(D, 6)
        assert_array_equal(G.indices.reshape(-1, 6), exp_i)
        expected = np.ones_like(exp_d) if mode == "connectivity" else exp_d
        assert_allclose(G.data.reshape(-1, 6), expected)
        R = nn.radius_neighbors_graph(X, mode=mode, sort_results=True)
        for row, (ed, ei) in enumerate(brute_radius(D, 5)):
            sl = slice(R.indptr[row], R.indptr[row + 1])
            assert_array_equal(R.indices[sl], ei)
            assert_allclose(R.data[sl], np.ones(len(ei)) if mode != "distance" else ed)
    with pytest.raises(ValueError, match="Expected mode to be 'connectivity' or"):
        nn.kneighbors_graph(Q, mode="weights")


# Three separate clusters are three components: that is the point.
@pytest.mark.filterwarnings("ignore:Graph is not fully connected:UserWarning")
def test_graph_consumers_accept_code_graphs():
    """DBSCAN and Isomap on precomputed Hamming graphs of clustered codes."""
    rng = np.random.RandomState(0)
    centres = rng.rand(3, 64) < 0.5
    bits = np.repeat(centres, 40, axis=0)
    flips = rng.rand(*bits.shape) < 0.05
    codes = np.packbits(bits ^ flips, axis=1, bitorder="little")
    nn = HammingNearestNeighbors(radius=12).fit(codes)
    labels = DBSCAN(eps=12, min_samples=5, metric="precomputed").fit_predict(
        nn.radius_neighbors_graph(mode="distance")
    )
    truth = np.repeat(np.arange(3), 40)
    # Each cluster found whole: labels equal the truth up to renaming.
    assert len(set(labels)) == 3 and -1 not in labels
    assert len(set(zip(labels, truth, strict=True))) == 3
    spectral = SpectralClustering(
        n_clusters=3, affinity="precomputed_nearest_neighbors", random_state=0
    ).fit_predict(nn.kneighbors_graph(n_neighbors=10, mode="distance"))
    assert len(set(zip(spectral, truth, strict=True))) == 3
    # One cluster is connected: Isomap embeds it from the graph. As with
    # KNeighborsTransformer, the codes are queries of themselves (each its
    # own first neighbour), one more neighbour than Isomap's n_neighbors.
    one = HammingNearestNeighbors().fit(codes[:40])
    emb = Isomap(n_neighbors=10, n_components=2, metric="precomputed").fit_transform(
        one.kneighbors_graph(codes[:40], n_neighbors=11, mode="distance")
    )
    assert emb.shape == (40, 2) and np.all(np.isfinite(emb)) and emb.std() > 0


@pytest.mark.parametrize("n_bits", [16, 45])
def test_partial_fit_equals_fit_on_everything(n_bits):
    rng = np.random.RandomState(n_bits)
    F = random_codes(rng, 300, n_bits, 120)
    Q = random_codes(rng, 20, n_bits)
    Y = (rng.rand(300, 9) < 0.4).astype(np.float32)
    whole = HammingKNeighborsRegressor(n_neighbors=7).fit(F, Y)
    grown = HammingKNeighborsRegressor(n_neighbors=7)
    for part in np.array_split(np.arange(300), [1 * 7, 100, 250]):
        grown.partial_fit(F[part], Y[part])
    assert grown.n_samples_fit_ == 300 and grown.binary_targets_
    assert_array_equal(grown.codes_, F)
    assert_array_equal(grown.predict(Q), whole.predict(Q))
    assert_array_equal(grown.kneighbors()[1], whole.kneighbors()[1])
    # Soft targets arriving later turn the stored targets into floats.
    soft = rng.rand(5, 9)
    grown.partial_fit(Q[:5], soft)
    assert not grown.binary_targets_
    assert_array_equal(grown.targets_, np.vstack([Y, soft]).astype(np.float64))
    nn = HammingNearestNeighbors(n_neighbors=3).partial_fit(F[:10])
    nn.partial_fit(F[10:])
    assert_array_equal(
        nn.kneighbors(Q)[1], HammingNearestNeighbors(3).fit(F).kneighbors(Q)[1]
    )
    with pytest.raises(ValueError, match="X has 1 features, but"):
        nn.partial_fit(np.zeros((2, 1), np.uint8) if n_bits > 8 else F[:, :0])
    with pytest.raises(ValueError, match="Expected y with 9 outputs"):
        grown.partial_fit(Q[:2], np.zeros((2, 3)))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS) + ["auto"])
@pytest.mark.parametrize("n_bits", [8, 20, 64, 150])
def test_every_algorithm_gives_identical_distances_and_indices(algorithm, n_bits):
    rng = np.random.RandomState(n_bits)
    F = random_codes(rng, 2000, n_bits, 600)
    Q = np.vstack([random_codes(rng, 40, n_bits), F[:10]])
    exp_d, exp_i = brute_kneighbors(brute_distances(Q, F, n_bits), 10)
    nn = HammingNearestNeighbors(n_neighbors=10, algorithm=algorithm).fit(F)
    dist, ind = nn.kneighbors(Q)
    assert_array_equal(ind, exp_i)
    assert_array_equal(dist, exp_d)
    r_dist, r_ind = nn.radius_neighbors(Q, radius=n_bits // 4, sort_results=True)
    for d, i, (ed, ei) in zip(
        r_dist,
        r_ind,
        brute_radius(brute_distances(Q, F, n_bits), n_bits // 4),
        strict=True,
    ):
        assert_array_equal(i, ei)
        assert_array_equal(d, ed)


def test_codes_stored_once_as_words():
    rng = np.random.RandomState(0)
    for n_bits, padded in [(64, 8), (150, 24)]:
        codes = random_codes(rng, 100, n_bits)
        nn = HammingNearestNeighbors().fit(codes)
        assert_array_equal(nn.codes_, codes)
        assert nn._index.nbytes == 100 * (padded - codes.shape[1])


def test_hashed_pipeline_neighbours_match_on_real_features():
    X = np.random.RandomState(0).rand(300, 20)
    codes = RandomLSH(32, random_state=0).fit_transform(X)
    nn = HammingNearestNeighbors(n_neighbors=5).fit(codes)
    G = nn.kneighbors_graph(mode="distance")
    assert_array_equal(G.getnnz(axis=1), 5)
    assert not np.any(G.indices.reshape(-1, 5) == np.arange(300)[:, None])


@pytest.mark.parametrize("k", [KERNEL_MAX_K, KERNEL_MAX_K + 1, 1500])
def test_many_neighbours_switch_paths_without_changing_results(k):
    rng = np.random.RandomState(k)
    F = random_codes(rng, 1500, 24, 300)
    Q = random_codes(rng, 12, 24)
    exp_d, exp_i = brute_kneighbors(brute_distances(Q, F), k)
    dist, ind = HammingNearestNeighbors(n_neighbors=k).fit(F).kneighbors(Q)
    assert dist.dtype == np.int32 and ind.dtype == np.int64
    assert_array_equal(ind, exp_i)
    assert_array_equal(dist, exp_d)


def test_mih_rejects_bit_weights_and_auto_follows_the_crossover(monkeypatch):
    import skblsh.neighbors._base as base

    rng = np.random.RandomState(0)
    F = random_codes(rng, 3000, 64, 500)
    Q = random_codes(rng, 30, 64)
    with pytest.raises(ValueError, match="Expected algorithm='brute' or 'auto' with"):
        HammingNearestNeighbors(algorithm="mih", bit_weights=np.ones(64)).fit(F)
    assert HammingNearestNeighbors().fit(F)._fit_method == "brute"
    monkeypatch.setattr(base, "MIH_MIN_SAMPLES", ((32, 10), (64, 2000), (128, 10)))
    auto = HammingNearestNeighbors().fit(F)
    assert auto._fit_method == "mih"
    assert HammingNearestNeighbors().fit(F[:1999])._fit_method == "brute"
    weighted = HammingNearestNeighbors(bit_weights=np.ones(64)).fit(F)
    assert weighted._fit_method == "brute"
    exp_d, exp_i = brute_kneighbors(brute_distances(Q, F), 10)
    dist, ind = auto.kneighbors(Q)
    assert_array_equal(ind, exp_i)
    assert_array_equal(dist, exp_d)
    assert_array_equal(auto.codes_, F)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_partial_fit_and_self_queries_on_every_index(algorithm):
    rng = np.random.RandomState(1)
    F = random_codes(rng, 900, 40, 200)
    nn = HammingNearestNeighbors(n_neighbors=6, algorithm=algorithm).fit(F[:400])
    nn.partial_fit(F[400:])
    exp_d, exp_i = brute_kneighbors(exclude_self(brute_distances(F, F)), 6)
    dist, ind = nn.kneighbors()
    assert_array_equal(ind, exp_i)
    assert_array_equal(dist, exp_d.astype(dist.dtype))
    G = nn.radius_neighbors_graph(radius=5, mode="distance", sort_results=True)
    for row, (ed, ei) in enumerate(
        brute_radius(exclude_self(brute_distances(F, F)), 5)
    ):
        span = slice(G.indptr[row], G.indptr[row + 1])
        assert_array_equal(G.indices[span], ei)
        assert_array_equal(G.data[span], ed)
