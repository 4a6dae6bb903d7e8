"""skblsh.dask on a real two-process LocalCluster: the sharded answers equal
the local estimators' exactly, shards stay on their workers, and a killed
worker is either repaired from lineage or reported, never a partial answer."""

import os
import signal
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
from _reference import brute_distances, brute_kneighbors, random_codes  # noqa: E402
from distributed import Client, LocalCluster, futures_of  # noqa: E402

from skblsh import HammingKNeighborsRegressor as LocalRegressor  # noqa: E402
from skblsh import HammingNearestNeighbors as LocalNN  # noqa: E402
from skblsh.dask import HammingKNeighborsRegressor, HammingNearestNeighbors  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def _kill_worker(client, address):
    """SIGKILL a worker process and wait until the scheduler has noticed.

    Its nanny restarts it in the background: the test goes on with the
    other worker, as a real job would.
    """
    os.kill(client.run(os.getpid, workers=[address])[address], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while address in client.scheduler_info()["workers"]:
        assert time.monotonic() < deadline, "the killed worker never left"
        time.sleep(0.02)


def _holders(client, est):
    keys = [futures_of(s)[0].key for s in est._shards]
    who = client.who_has(futures_of(est._shards))
    return [tuple(sorted(who[key])) for key in keys]


def _assert_same(got, want):
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


# Row chunkings: uneven, one shard, shards smaller than k (with an empty
# chunk, which makes no shard).
CHUNKINGS = {
    "uneven": (37, 120, 3, 80),
    "single": (240,),
    "tiny": (4, 0, 6, 5, 225),
}


@pytest.mark.parametrize("n_bits", [16, 64, 150])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_kneighbors_equal_local(client, n_bits, chunking):
    rng = np.random.RandomState(n_bits)
    # 30 distinct patterns over 240 rows: duplicates in every shard, so most
    # neighbours tie across shards and only the global index orders them.
    codes = random_codes(rng, 240, n_bits, n_distinct=30)
    Q = random_codes(rng, 50, n_bits, n_distinct=20)
    X = da.from_array(codes, chunks=(CHUNKINGS[chunking], -1))
    k = 12
    nn = HammingNearestNeighbors(n_neighbors=k).fit(X)
    local = LocalNN(n_neighbors=k).fit(codes)
    assert nn.n_samples_fit_ == 240 and nn.n_features_in_ == codes.shape[1]
    assert nn.n_shards_ == sum(c > 0 for c in CHUNKINGS[chunking])

    want = local.kneighbors(Q)
    _assert_same(nn.kneighbors(Q), want)
    # The independent reference agrees on the order too (ties by index).
    np.testing.assert_array_equal(
        want[1], brute_kneighbors(brute_distances(Q, codes, n_bits), k)[1]
    )
    # Dask queries: lazy, chunked like the queries, same numbers.
    dist, ind = nn.kneighbors(da.from_array(Q, chunks=(17, -1)))
    assert isinstance(ind, da.Array) and ind.chunks[0] == (17, 17, 16)
    _assert_same(dask.compute(dist, ind), want)
    # The fitted codes as queries, each excluding itself.
    dist, ind = nn.kneighbors(n_neighbors=k)
    _assert_same(dask.compute(dist, ind), local.kneighbors())


def test_ties_and_bit_weights_across_shards(client):
    rng = np.random.RandomState(1)
    codes = np.repeat(random_codes(rng, 5, 64), 20, axis=0)  # 20 copies each
    rng.shuffle(codes)
    w = rng.randint(1, 4, size=64) / 4.0
    X = da.from_array(codes, chunks=(13, -1))
    Q = codes[:7] ^ np.uint8(1)
    for kwargs in ({}, {"bit_weights": w}):
        nn = HammingNearestNeighbors(n_neighbors=30, **kwargs).fit(X)
        want = LocalNN(n_neighbors=30, **kwargs).fit(codes).kneighbors(Q)
        got = nn.kneighbors(Q)
        _assert_same(got, want)
        # 20 copies at the nearest distance: the first 20 columns tie, and
        # they come out in increasing global index.
        assert np.all(np.diff(got[1][:, :20], axis=1) > 0)
        assert np.all(got[0][:, :20] == got[0][:, :1])


def test_k_larger_than_shards_and_errors(client):
    rng = np.random.RandomState(2)
    codes = random_codes(rng, 9, 24)
    nn = HammingNearestNeighbors(n_neighbors=9).fit(da.from_array(codes, chunks=2))
    _assert_same(
        nn.kneighbors(codes), LocalNN(n_neighbors=9).fit(codes).kneighbors(codes)
    )
    with pytest.raises(ValueError, match="n_neighbors = 10, n_samples_fit = 9"):
        nn.kneighbors(codes, n_neighbors=10)
    with pytest.raises(ValueError, match="n_neighbors = 9, n_samples_fit = 9"):
        nn.kneighbors(n_neighbors=9)  # 8 others only
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        nn.kneighbors(da.from_array(codes[:, :2]))
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        nn.kneighbors(codes[:, :2])
    with pytest.raises(ValueError, match="0 sample"):
        nn.kneighbors(da.from_array(codes[:0]))
    # An empty query chunk is no task, and no row.
    dist, ind = nn.kneighbors(da.from_array(codes, chunks=((4, 0, 5), -1)), 2)
    _assert_same(
        dask.compute(dist, ind), LocalNN(n_neighbors=2).fit(codes).kneighbors(codes)
    )
    with pytest.raises(TypeError, match="Expected X to hold packed uint8 codes"):
        HammingNearestNeighbors().fit(da.from_array(codes.astype(float)))
    with pytest.raises(ValueError, match="known chunk sizes"):
        HammingNearestNeighbors().fit(
            da.from_array(codes)[da.from_array(codes)[:, 0] > 3]
        )
    with pytest.raises(ValueError, match="Expected bit_weights"):
        HammingNearestNeighbors(bit_weights=np.ones(40)).fit(da.from_array(codes))
    with pytest.raises(ValueError, match="as many rows as X"):
        HammingKNeighborsRegressor(n_neighbors=1).fit(da.from_array(codes), np.ones(8))
    with pytest.raises(ValueError, match="n_neighbors = 10, n_samples = 9"):
        HammingKNeighborsRegressor().fit(da.from_array(codes), np.ones(9))
    # The shards' own validation runs on the workers and fails the fit.
    with pytest.raises(ValueError, match="values in \\[0, 255\\]"):
        HammingNearestNeighbors().fit(da.from_array(codes.astype(np.int16) + 250))


@pytest.mark.parametrize("n_bits", [16, 64, 150])
def test_predict_bit_identical(client, n_bits):
    rng = np.random.RandomState(n_bits + 1)
    codes = random_codes(rng, 300, n_bits, n_distinct=60)
    Q = random_codes(rng, 40, n_bits)
    X = da.from_array(codes, chunks=((90, 7, 150, 53), -1))
    masks = rng.rand(300, 19) < 0.4
    soft = rng.rand(300, 5).astype(np.float32)
    mixed = masks[:, :5].astype(np.float64)
    mixed[200:] = rng.rand(100, 5)  # binary shards before row 200, soft after
    cases = [
        (masks, {}),
        (soft, {}),
        (mixed, {}),
        (soft[:, 0], {}),  # 1-d targets
        (masks, {"weights": "distance"}),
        (soft, {"bit_weights": rng.rand(n_bits), "weights": "distance"}),
    ]
    for y, kwargs in cases:
        reg = HammingKNeighborsRegressor(n_neighbors=10, **kwargs).fit(
            X, da.from_array(y, chunks=70)
        )
        local = LocalRegressor(n_neighbors=10, **kwargs).fit(codes, y)
        assert reg.binary_targets_ == local.binary_targets_
        assert reg.n_outputs_ == local.n_outputs_
        want = local.predict(Q)
        got = reg.predict(Q)
        assert got.dtype == np.float64 and got.shape == want.shape
        # Bit for bit, not approximately.
        assert got.tobytes() == want.tobytes()
        lazy = reg.predict(da.from_array(Q, chunks=(15, -1)))
        assert isinstance(lazy, da.Array) and lazy.compute().tobytes() == want.tobytes()
    assert reg.to_local().predict(Q).tobytes() == want.tobytes()


def test_to_local_and_codes(client):
    rng = np.random.RandomState(3)
    codes = random_codes(rng, 50, 40)
    y = rng.rand(50, 3) < 0.5
    reg = HammingKNeighborsRegressor(n_neighbors=4).fit(
        da.from_array(codes, chunks=11), y
    )
    local = reg.to_local()
    assert isinstance(local, LocalRegressor)
    assert local.get_params() == reg.get_params()
    np.testing.assert_array_equal(local.codes_, codes)
    np.testing.assert_array_equal(local.targets_, y)
    np.testing.assert_array_equal(reg.codes_.compute(), codes)
    nn = HammingNearestNeighbors(n_neighbors=3).fit(da.from_array(codes, chunks=11))
    _assert_same(
        nn.to_local().kneighbors(), LocalNN(n_neighbors=3).fit(codes).kneighbors()
    )


def test_shards_stay_on_their_workers(client):
    rng = np.random.RandomState(4)
    codes = random_codes(rng, 1_000_000, 64)
    X = da.from_array(codes, chunks=250_000).persist()
    nn = HammingNearestNeighbors(n_neighbors=5).fit(X)
    before = _holders(client, nn)
    # Each shard was built where its chunk lives, both workers hold some.
    chunk_holders = [tuple(sorted(h)) for h in client.who_has(futures_of(X)).values()]
    assert sorted(before) == sorted(chunk_holders)
    assert len(set(before)) == 2 and all(len(h) == 1 for h in before)
    nn.kneighbors(codes[:100])
    dask.compute(*nn.kneighbors(da.from_array(codes[:300], chunks=100)))
    # Queries go to the shards: each stays where it was built. (dask's work
    # stealing may add a copy of a shard this small on an idle worker; it
    # weighs the transfer by the shard's size, so large shards stay single.)
    after = _holders(client, nn)
    assert all(set(b) <= set(a) for b, a in zip(before, after, strict=True))


def test_worker_killed_between_fit_and_query(client):
    rng = np.random.RandomState(5)
    codes = random_codes(rng, 2000, 64, n_distinct=500)
    y = rng.rand(2000, 9) < 0.5
    Q = random_codes(rng, 200, 64)
    X = da.from_array(codes, chunks=500)
    nn = HammingNearestNeighbors(n_neighbors=7).fit(X)
    reg = HammingKNeighborsRegressor(n_neighbors=7).fit(X, da.from_array(y, chunks=500))
    want = LocalNN(n_neighbors=7).fit(codes).kneighbors(Q)
    want_pred = LocalRegressor(n_neighbors=7).fit(codes, y).predict(Q)
    victim = _holders(client, nn)[0][0]
    _kill_worker(client, victim)
    # The lost shards are rebuilt from their chunks' lineage: same answers.
    _assert_same(nn.kneighbors(Q), want)
    assert reg.predict(Q).tobytes() == want_pred.tobytes()
    assert all(_holders(client, nn))  # every shard is held again


def test_worker_killed_during_query(client):
    rng = np.random.RandomState(6)
    codes = random_codes(rng, 20000, 64, n_distinct=3000)
    Q = random_codes(rng, 4000, 64)
    nn = HammingNearestNeighbors(n_neighbors=10).fit(da.from_array(codes, chunks=5000))
    want = LocalNN(n_neighbors=10).fit(codes).kneighbors(Q)
    dist, ind = nn.kneighbors(da.from_array(Q, chunks=(200, -1)))  # 100 tasks
    futures = client.compute([dist, ind])
    while not client.processing() or not any(client.processing().values()):
        time.sleep(0.01)
    victim = _holders(client, nn)[0][0]
    _kill_worker(client, victim)
    assert not all(f.done() for f in futures), "the query finished before the kill"
    _assert_same(client.gather(futures), want)


def test_lost_shard_without_lineage_is_an_error(client):
    rng = np.random.RandomState(7)
    codes = random_codes(rng, 400, 32)
    # Scattered data has no lineage: once its worker dies, dask cannot
    # recompute the shard built on it.
    scattered = client.scatter(codes[:200])
    X = da.concatenate(
        [
            da.from_delayed(dask.delayed(scattered), shape=(200, 4), dtype=np.uint8),
            da.from_array(codes[200:], chunks=100),
        ]
    )
    nn = HammingNearestNeighbors(n_neighbors=3).fit(X)
    _kill_worker(client, next(iter(client.who_has([scattered]).values()))[0])
    with pytest.raises(RuntimeError, match="lost with its worker and has no lineage"):
        nn.kneighbors(codes[:5])


def test_without_a_cluster():
    # The synchronous scheduler, in this process: the same answers.
    rng = np.random.RandomState(8)
    codes = random_codes(rng, 120, 64, n_distinct=40)
    with dask.config.set(scheduler="synchronous"):
        nn = HammingNearestNeighbors(n_neighbors=6).fit(da.from_array(codes, chunks=25))
        got = nn.kneighbors(codes[:10])
    _assert_same(got, LocalNN(n_neighbors=6).fit(codes).kneighbors(codes[:10]))
