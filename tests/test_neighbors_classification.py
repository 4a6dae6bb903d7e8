"""HammingKNeighborsClassifier against a brute-force vote and sklearn."""

import numpy as np
import pytest
from _reference import brute_distances, brute_kneighbors, random_codes
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skblsh import HammingKNeighborsClassifier, RandomLSH


@pytest.mark.parametrize("weights", ["uniform", "distance", lambda d: np.exp(-d)])
@pytest.mark.parametrize("n_bits", [12, 45])
def test_predict_proba_equals_brute_force_vote(weights, n_bits):
    rng = np.random.RandomState(n_bits)
    F = random_codes(rng, 200, n_bits, 80)
    Q = random_codes(rng, 30, n_bits)
    labels = np.array(["cat", "dog", "eel"])[rng.randint(3, size=200)]
    clf = HammingKNeighborsClassifier(7, weights=weights).fit(F, labels)
    assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    dist, ind = brute_kneighbors(brute_distances(Q, F, n_bits), 7)
    if weights == "uniform":
        w = np.ones(dist.shape)
    elif weights == "distance":
        w = 1.0 / (1.0 + dist)
    else:
        w = np.exp(-dist)
    expected = np.stack(
        [(w * (labels[ind] == c)).sum(axis=1) for c in clf.classes_], axis=1
    )
    expected /= expected.sum(axis=1, keepdims=True)
    proba = clf.predict_proba(Q)
    assert_allclose(proba, expected, rtol=1e-12)
    # Ties between classes go to the first class, as numpy's argmax.
    assert_array_equal(clf.predict(Q), clf.classes_[np.argmax(expected, axis=1)])


def test_same_votes_as_sklearn_on_unpacked_bits():
    rng = np.random.RandomState(0)
    F = random_codes(rng, 1000, 64)
    Q = random_codes(rng, 200, 64)
    y = rng.randint(4, size=1000)
    ours = HammingKNeighborsClassifier(5).fit(F, y)
    bits = np.unpackbits(F, axis=1, bitorder="little")
    ref = KNeighborsClassifier(5, metric="hamming", algorithm="brute").fit(bits, y)
    q_bits = np.unpackbits(Q, axis=1, bitorder="little")
    d_ref, i_ref = ref.kneighbors(q_bits)
    d, i = ours.kneighbors(Q)
    assert_array_equal(d, np.round(d_ref * 64).astype(int))
    # Where the k-th distance is not tied, the neighbour sets agree.
    untied = d[:, -1] < brute_kneighbors(brute_distances(Q, F), 6)[0][:, -1]
    assert untied.sum() > 40
    assert_array_equal(np.sort(i[untied]), np.sort(i_ref[untied]))
    assert_allclose(ours.predict_proba(Q)[untied], ref.predict_proba(q_bits)[untied])


def test_hashed_digits_accuracy():
    """64-bit codes classify digits within a few points of the float features."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    scaled = make_pipeline(StandardScaler(), KNeighborsClassifier(5))
    float_acc = scaled.fit(X_tr, y_tr).score(X_te, y_te)
    accs = [
        make_pipeline(
            StandardScaler(),
            RandomLSH(64, random_state=seed),
            HammingKNeighborsClassifier(5),
        )
        .fit(X_tr, y_tr)
        .score(X_te, y_te)
        for seed in range(3)
    ]
    # Measured: float 0.970; codes 0.909, 0.898, 0.913; chance is 0.1.
    assert float_acc > 0.96
    assert min(accs) > 0.88 and max(accs) < float_acc


def test_errors():
    F = np.zeros((4, 2), np.uint8)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        HammingKNeighborsClassifier(2).fit(F, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        HammingKNeighborsClassifier(2).fit(F, [0.5, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match=r"Expected n_neighbors <= n_samples.*= 5"):
        HammingKNeighborsClassifier(5).fit(F, [0, 1, 0, 1])
    with pytest.raises(TypeError, match="Expected X to hold packed uint8 codes"):
        HammingKNeighborsClassifier(2).fit(F.astype(float), [0, 1, 0, 1])
