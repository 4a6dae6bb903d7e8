"""Fixed random_state -> bit-identical codes, dictionaries and outputs.

Across repeated fits, across threads (``n_jobs``), across BLAS thread counts
and across processes (a fresh interpreter, so no state left over from this
one: hash seeds, caches, first-call compilation).
"""

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skblsh import (
    BoostedLSH,
    HammingKNNMaskRegressor,
    HammingNearestNeighbors,
    MaskingSeparator,
    RandomLSH,
)
from skblsh.separation import make_frames, make_separator_pipeline


def _audio(seed=0, n=6000, count=3):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    sources = [np.sin(t * f) for f in (0.05, 0.1, 0.2)[:count]]
    return [s + 0.5 * rng.randn(n) for s in sources], sources


def _frames():
    X, Y, _ = make_frames(*_audio())
    return X, Y


def _boosted(n_bits=8, random_state=0):
    return BoostedLSH(n_bits, n_segments=2, segment_size=60, random_state=random_state)


@pytest.mark.parametrize(
    "make, seed",
    [(RandomLSH, 0), (RandomLSH, 7), (_boosted, 0)],
    ids=["random-0", "random-7", "boosted-0"],
)
def test_hashers_are_bit_identical_across_fits(make, seed):
    X, _ = _frames()
    a = make(8, random_state=seed).fit(X)
    b = make(8, random_state=seed).fit(X)
    np.testing.assert_array_equal(a.projections_, b.projections_)
    np.testing.assert_array_equal(a.intercepts_, b.intercepts_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    other = make(8, random_state=seed + 1).fit(X)
    assert not np.array_equal(a.projections_, other.projections_)


@pytest.mark.parametrize("make", [RandomLSH, _boosted], ids=["random", "boosted"])
def test_hashers_do_not_depend_on_blas_threads(make):
    X, _ = _frames()
    with threadpool_limits(1):
        one = make(8, random_state=0).fit(X)
        codes_one = one.transform(X)
    many = make(8, random_state=0).fit(X)
    np.testing.assert_array_equal(codes_one, many.transform(X))


def _index_data(seed=0, n=500, n_bytes=3):
    rng = np.random.RandomState(seed)
    codes = rng.randint(0, 256, size=(n, n_bytes)).astype(np.uint8)
    codes[50:60] = codes[0]  # many exact ties: they must break the same way
    queries = rng.randint(0, 256, size=(300, n_bytes)).astype(np.uint8)
    queries[:5] = codes[0]
    return codes, queries, rng.rand(n, 4)


@pytest.mark.parametrize("bit_weights", [None, "weighted"])
def test_knn_identical_across_n_jobs(bit_weights):
    codes, queries, Y = _index_data()
    w = None if bit_weights is None else np.linspace(0.5, 2, 24)
    results = []
    for n_jobs in (None, 1, 2, -1):
        nn = HammingNearestNeighbors(5, bit_weights=w, n_jobs=n_jobs).fit(codes)
        reg = HammingKNNMaskRegressor(5, bit_weights=w, n_jobs=n_jobs).fit(codes, Y)
        results.append((*nn.kneighbors(queries), reg.predict(queries)))
    for dist, ind, pred in results[1:]:
        np.testing.assert_array_equal(dist, results[0][0])
        np.testing.assert_array_equal(ind, results[0][1])
        np.testing.assert_array_equal(pred, results[0][2])


def _separator(random_state=0, hasher="random", **params):
    n_bits = 8 if hasher == "boosted" else 16
    pipe = make_separator_pipeline(n_bits, 3, hasher=hasher, random_state=random_state)
    if hasher == "boosted":
        pipe.set_params(hash__n_segments=2, hash__segment_size=60)
    return MaskingSeparator(
        pipe, dictionary_fraction=0.5, random_state=random_state, **params
    )


@pytest.mark.parametrize("hasher", ["random", "boosted"])
def test_separator_dictionary_and_outputs_are_bit_identical(hasher):
    mixtures, sources = _audio()
    test = _audio(seed=1, n=5000, count=2)[0]
    a = _separator(hasher=hasher).fit(mixtures, sources)
    b = _separator(hasher=hasher).fit(mixtures, sources)
    knn_a, knn_b = a.estimator_[-1], b.estimator_[-1]
    np.testing.assert_array_equal(knn_a.codes_, knn_b.codes_)
    np.testing.assert_array_equal(knn_a.targets_, knn_b.targets_)
    for x, y in zip(a.predict(test), b.predict(test), strict=True):
        np.testing.assert_array_equal(x, y)
    # Another seed draws another dictionary: the test can tell them apart.
    c = _separator(random_state=1, hasher=hasher).fit(mixtures, sources)
    assert not np.array_equal(c.estimator_[-1].targets_, knn_a.targets_)


def test_separator_output_identical_across_n_jobs_and_blocks():
    mixtures, sources = _audio()
    test = _audio(seed=1, n=7000, count=2)[0]
    ref = _separator().fit(mixtures, sources).predict(test)
    for params in (
        {"estimator__knn__n_jobs": 2},
        {"estimator__knn__n_jobs": -1, "block_frames": 3},
    ):
        sep = _separator().set_params(**params).fit(mixtures, sources)
        for x, y in zip(ref, sep.predict(test), strict=True):
            np.testing.assert_array_equal(x, y)


def test_separator_does_not_depend_on_blas_threads():
    # The refiner's network is trained with BLAS products: with OpenBLAS's
    # threads it rounded differently from one thread, so a process left
    # with a thread limit fitted another model.
    mixtures, sources = _audio()
    test = _audio(seed=1, n=5000, count=2)[0]
    with threadpool_limits(1):
        one = _separator().fit(mixtures, sources)
    with threadpool_limits(2):
        two = _separator().fit(mixtures, sources)
    assert one.refiner_ is not None
    np.testing.assert_array_equal(one.refiner_.W1_, two.refiner_.W1_)
    for x, y in zip(one.predict(test), two.predict(test), strict=True):
        np.testing.assert_array_equal(x, y)


_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import test_determinism as t
    print(t.fingerprint())
    """
)


def fingerprint():
    """SHA-256 of the codes, dictionary and outputs of a seeded fit."""
    mixtures, sources = _audio()
    X, _ = _frames()
    h = hashlib.sha256()
    h.update(RandomLSH(16, random_state=0).fit_transform(X).tobytes())
    h.update(_boosted().fit(X).transform(X).tobytes())
    sep = _separator().fit(mixtures, sources)
    h.update(sep.estimator_[-1].codes_.tobytes())
    for y in sep.predict(_audio(seed=1, n=5000, count=2)[0]):
        h.update(y.tobytes())
    return h.hexdigest()


def test_bit_identical_in_a_fresh_process():
    tests_dir = str(Path(__file__).parent)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, tests_dir],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert child.stdout.strip() == fingerprint()
