"""Tests of BoostedLSH (skblsh.hashing._boosted) and of the boosting machinery
behind it (skblsh.hashing._boosting), through the estimator."""

import csv
import pickle

import librosa
import numpy as np
import pytest
import soundfile as sf
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import pdist, squareform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import InvalidParameterError

from skblsh import BoostedLSH, HammingNearestNeighbors, RandomLSH
from skblsh.codes import unpack_bits
from skblsh.metrics import mean_average_precision_at_k

SEEDS = [0, 1, 2]


pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _ssm_error(codes, n_bits, X):
    """Mean |T - S_hat| off the diagonal; T = clip(X X^T, 0, 1), S_hat = agreement."""
    B = unpack_bits(codes)[:, :n_bits].astype(np.float64)
    S_hat = (B @ B.T + (1 - B) @ (1 - B).T) / n_bits
    T = np.clip(X @ X.T, 0.0, 1.0)
    off = ~np.eye(len(X), dtype=bool)
    return float(np.abs(T - S_hat)[off].mean())


def _precision_at_10(codes_train, y_train, codes_test, y_test):
    nn = HammingNearestNeighbors(n_neighbors=10).fit(codes_train)
    ind = nn.kneighbors(codes_test, return_distance=False)
    return float((y_train[ind] == y_test[:, None]).mean())


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(
        normalize(X), y, test_size=0.25, random_state=0, stratify=y
    )
    return Xtr, Xte, ytr, yte


def test_boosted_lsh_fitted_state(digits):
    Xtr = digits[0]
    est = BoostedLSH(n_bits=13, segment_size=400, n_segments=2, random_state=0).fit(Xtr)
    assert est.projections_.shape == (13, 64)
    assert est.intercepts_.shape == est.bit_weights_.shape == est.errors_.shape == (13,)
    assert est.loss_curve_.shape == (13, 1)
    assert est.n_steps_ == 0
    assert est.n_bits_ == 13
    assert est.n_features_in_ == 64
    assert np.all(est.errors_ < 0.5)
    assert np.all(est.bit_weights_ > 0)
    codes = est.transform(Xtr)
    assert codes.shape == (len(Xtr), 2)
    expected = Xtr @ est.projections_.T + est.intercepts_ > 0
    assert_array_equal(unpack_bits(codes, 13), expected)
    assert not unpack_bits(codes)[:, 13:].any()
    assert_array_equal(est.get_feature_names_out(), ["boostedlsh0", "boostedlsh1"])


def test_boosted_lsh_auto_n_steps_is_the_papers_with_a_random_start(digits):
    Xtr = digits[0][:300]
    small = dict(n_bits=3, segment_size=100, n_segments=1, random_state=0)
    paper = BoostedLSH(init="random", **small).fit(Xtr)
    assert paper.n_steps_ == 100 and paper.loss_curve_.shape == (3, 101)
    explicit = BoostedLSH(init="random", n_steps=100, **small).fit(Xtr)
    assert_array_equal(paper.projections_, explicit.projections_)
    assert BoostedLSH(**small).fit(Xtr).n_steps_ == 0


def test_boosted_lsh_loads_models_pickled_with_max_iter(digits):
    # max_iter (and n_iter_) were renamed n_steps (n_steps_) in 0.2: the
    # parameter counts Adam steps, never a solver's maximum.
    Xtr = digits[0][:300]
    est = BoostedLSH(n_bits=4, segment_size=100, n_segments=1, random_state=0)
    est.fit(Xtr)
    state = est.__getstate__()
    state["max_iter"] = state.pop("n_steps")
    state["n_iter_"] = state.pop("n_steps_")
    old = pickle.loads(pickle.dumps(est))
    old.__dict__.clear()
    old.__setstate__(state)
    assert old.get_params()["n_steps"] == "auto"
    assert old.n_steps_ == 0
    assert not hasattr(old, "max_iter")
    assert_array_equal(clone(old).fit(Xtr).transform(Xtr), est.transform(Xtr))
    with pytest.raises(TypeError, match="max_iter"):
        BoostedLSH(max_iter=3)


def test_boosted_lsh_shrinkage_mixes_a_unit_random_direction(digits):
    Xtr = digits[0]
    small = dict(n_bits=1, segment_size=400, n_segments=2, random_state=0)
    pure = BoostedLSH(shrinkage=0.0, **small).fit(Xtr).projections_[0]
    mixed = BoostedLSH(shrinkage=0.7, **small).fit(Xtr).projections_[0]
    random = BoostedLSH(shrinkage=1.0, **small).fit(Xtr).projections_[0]
    assert np.linalg.norm(pure) == pytest.approx(1.0)
    assert np.linalg.norm(random) == pytest.approx(1.0)
    # Same segments and eigenvector, same random draw: the mix is exact.
    assert_allclose(mixed, np.sqrt(0.3) * pure + np.sqrt(0.7) * random)
    assert abs(pure @ random) < 0.5


def test_boosted_lsh_bits_are_balanced_on_a_single_segment(digits):
    X = digits[0][:300]
    est = BoostedLSH(n_bits=16, segment_size=1000, random_state=0).fit(X)
    counts = unpack_bits(est.transform(X)).sum(axis=0)
    # The intercepts are medians over float32 segments: allow a row or two
    # of rounding at the threshold.
    assert np.all(np.abs(counts.astype(int) - 150) <= 2), counts


def test_boosted_lsh_is_greedy_bit_by_bit(digits):
    # Bits are learned one after the other, so a shorter code is a prefix of a
    # longer one fitted with the same seed; the SSM tests below rely on it.
    Xtr = digits[0]
    params = dict(segment_size=300, n_segments=2, random_state=0)
    short = BoostedLSH(n_bits=8, **params).fit(Xtr)
    long = BoostedLSH(n_bits=24, **params).fit(Xtr)
    np.testing.assert_allclose(long.projections_[:8], short.projections_, rtol=1e-10)
    assert_array_equal(long.transform(Xtr)[:, :1], short.transform(Xtr))


@pytest.mark.parametrize("similarity", ["input", "target", "euclidean"])
def test_boosted_lsh_errors_and_weights_follow_the_documented_update(
    digits, similarity
):
    # One segment holds every row, so the boosting can be replayed from the
    # hard bits: eps_l = sum(W |T - S_l|) / sum(W),
    # beta_l = max(log((1 - eps_l) / eps_l) / 2, 0), W *= exp(beta_l (2 |T - S_l| - 1)).
    X, labels = digits[0][:300], digits[2][:300]
    Y = np.eye(10)[labels]
    est = BoostedLSH(
        n_bits=12, segment_size=1000, similarity=similarity, random_state=0
    )
    est.fit(X, Y)
    if similarity == "euclidean":
        distances = pdist(X)
        assert est.bandwidth_ == pytest.approx(np.median(distances), rel=1e-9)
        T = squareform(np.exp(-(distances**2) / est.bandwidth_**2))
    else:
        assert not hasattr(est, "bandwidth_")
        F = Y if similarity == "target" else X
        T = np.clip(F @ F.T, 0.0, 1.0)
    W = 1.0 - np.eye(len(X))
    signs = 2.0 * unpack_bits(est.transform(X), 12) - 1.0
    errors, betas = [], []
    for bit in signs.T:
        err = np.abs(T - (np.outer(bit, bit) + 1.0) / 2.0)
        eps = np.sum(W * err) / np.sum(W)
        errors.append(eps)
        betas.append(max(0.5 * np.log((1 - eps) / eps), 0.0))
        W *= np.exp(betas[-1] * (2.0 * err - 1.0))
    # Measured agreement ~1e-8 (float32 segments); without the re-weighting
    # the errors of later bits differ by 1e-3 to 1e-2.
    np.testing.assert_allclose(est.errors_, errors, rtol=1e-6)
    np.testing.assert_allclose(est.bit_weights_, betas, rtol=1e-5)
    assert np.all(est.bit_weights_ > 0)


def test_boosted_lsh_learns_in_the_principal_span(digits):
    X = digits[0][:400]
    # One segment holds every row: the span is that of the top principal
    # directions of the centred training rows.
    est = BoostedLSH(n_bits=24, segment_size=1000, n_components=10, random_state=0)
    est.fit(X)
    V = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)[2][:10]
    P = est.projections_
    assert P.shape == (24, 64)
    assert np.linalg.norm(P - P @ V.T @ V) < 1e-10 * np.linalg.norm(P)
    assert np.linalg.matrix_rank(P) == 10
    # Still one product: codes are the thresholded projections.
    bits = unpack_bits(est.transform(X), 24)
    assert_array_equal(bits, X @ P.T + est.intercepts_ > 0)
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) <= 2 / len(X))
    # As many components as features is no pre-projection at all.
    params = dict(n_bits=8, segment_size=200, n_segments=2, random_state=0)
    full = BoostedLSH(n_components=64, **params).fit(X)
    assert_array_equal(full.projections_, BoostedLSH(**params).fit(X).projections_)
    # Random bits are drawn inside the span too.
    mixed = BoostedLSH(n_learned_bits=4, n_components=10, **params)
    P = mixed.set_params(n_bits=12).fit(X).projections_
    assert np.linalg.matrix_rank(P) == 10


def test_boosted_lsh_itq_init_starts_from_rotated_principal_directions(digits):
    X = digits[0][:400]
    # One segment holds every row: the first bits are the top principal
    # directions of the centred rows, rotated (orthonormal, same span).
    est = BoostedLSH(
        n_bits=12, init="itq", segment_size=1000, n_components=8, random_state=0
    )
    est.fit(X)
    V = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)[2][:8]
    P = est.projections_[:8]
    assert_allclose(P @ P.T, np.eye(8), atol=1e-10)
    assert np.linalg.norm(P - P @ V.T @ V) < 1e-10
    # Not the principal directions themselves: ITQ rotated them.
    assert np.abs(P @ V.T).max() < 0.99
    assert np.all(np.isnan(est.loss_curve_[:8]))
    # The following bits are boosted: weighted errors below one half.
    assert np.all(est.errors_ < 0.5)
    bits = unpack_bits(est.transform(X), 12)
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) <= 2 / len(X))
    refit = clone(est).fit(X)
    assert_array_equal(refit.projections_, est.projections_)


def _itq_codes(Xtr, Xte, n_bits, seed):
    """Textbook ITQ: PCA to n_bits, 50 Procrustes alternations, sign bits."""
    mean = Xtr.mean(axis=0)
    E = np.linalg.eigh(np.cov((Xtr - mean).T))[1][:, ::-1][:, :n_bits]
    V = (Xtr - mean) @ E
    R = np.linalg.qr(np.random.RandomState(seed).standard_normal((n_bits,) * 2))[0]
    for _ in range(50):
        U, _, Wt = np.linalg.svd(V.T @ np.where(V @ R >= 0, 1.0, -1.0))
        R = U @ Wt
    return [np.packbits((Z - mean) @ E @ R > 0, axis=1) for Z in (Xtr, Xte)]


def _map_at_100(codes_train, y_train, codes_test, y_test):
    nn = HammingNearestNeighbors(n_neighbors=100).fit(codes_train)
    ranking = nn.kneighbors(codes_test, return_distance=False)
    return mean_average_precision_at_k(
        ranking, query_labels=y_test, database_labels=y_train
    )


# Measured mAP@100 on the digits split (seeds 0/1/2): 16 bits, init="itq"
# 0.785/0.785/0.806, textbook ITQ 0.802/0.777/0.811, the spectral default
# 0.697/0.648/0.645; 32 bits 0.838/0.838/0.840, 0.835/0.837/0.826,
# 0.774/0.750/0.730.
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits", [16, 32])
def test_boosted_lsh_itq_init_retrieves_digits_as_well_as_itq(digits, n_bits, seed):
    Xtr, Xte, ytr, yte = digits
    est = BoostedLSH(n_bits, init="itq", random_state=seed).fit(Xtr)
    itq_init = _map_at_100(est.transform(Xtr), ytr, est.transform(Xte), yte)
    codes_train, codes_test = _itq_codes(Xtr, Xte, n_bits, seed)
    itq = _map_at_100(codes_train, ytr, codes_test, yte)
    est = BoostedLSH(n_bits, random_state=seed).fit(Xtr)
    spectral = _map_at_100(est.transform(Xtr), ytr, est.transform(Xte), yte)
    assert itq_init > itq - 0.03, (itq_init, itq)
    assert itq_init > spectral + 0.05, (itq_init, spectral)


def test_boosted_lsh_never_repeats_a_rejected_bit(digits):
    # A bit with eps >= 0.5 gets beta = 0 and leaves the weights unchanged; its
    # spectral direction is excluded afterwards, or every following bit would
    # repeat it (cosine 1 between consecutive bits before the exclusion).
    X, labels = digits[0], digits[2]
    est = BoostedLSH(
        32,
        segment_size=500,
        n_segments=2,
        similarity="target",
        shrinkage=0.0,
        n_components=8,
        random_state=0,
    ).fit(X, np.eye(10)[labels])
    rejected = np.flatnonzero(est.bit_weights_ == 0)
    # Measured: bits 20 and 28 are rejected.
    assert len(rejected) >= 2, est.bit_weights_
    P = est.projections_ / np.linalg.norm(est.projections_, axis=1, keepdims=True)
    cosines = np.abs(P @ P.T)
    for bit in rejected[rejected < 31]:
        assert cosines[bit, bit + 1] < 0.99, (bit, cosines[bit, bit + 1])
    # Rejected directions are orthogonal to each other.
    between = cosines[np.ix_(rejected, rejected)] - np.eye(len(rejected))
    assert np.all(between < 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_euclidean_similarity_finds_euclidean_neighbours(seed):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte = train_test_split(X / 16.0, test_size=0.25, random_state=0, stratify=y)
    true = NearestNeighbors(n_neighbors=10).fit(Xtr).kneighbors(Xte)[1]

    def recall(est):
        # Share of the exact Euclidean 10-NN among the 50 Hamming-nearest.
        est.fit(Xtr)
        nn = HammingNearestNeighbors(n_neighbors=50).fit(est.transform(Xtr))
        ind = nn.kneighbors(est.transform(Xte), return_distance=False)
        return np.mean([np.isin(t, i).mean() for t, i in zip(true, ind, strict=True)])

    boosted = BoostedLSH(
        16,
        segment_size=500,
        n_segments=4,
        similarity="euclidean",
        shrinkage=0.0,
        random_state=seed,
    )
    # Measured, seeds 0/1/2: 0.743/0.734/0.751 against RandomLSH's
    # 0.551/0.585/0.576 (on centred pixels, as the cosine target with
    # shrinkage=0 does: 0.743/0.739/0.732).
    assert recall(boosted) > recall(RandomLSH(16, random_state=seed)) + 0.12


@pytest.mark.parametrize("seed", SEEDS)
def test_boosted_lsh_gradient_steps_reduce_the_loss(digits, seed):
    est = BoostedLSH(
        n_bits=8,
        segment_size=300,
        n_segments=2,
        init="random",
        n_steps=30,
        random_state=seed,
    ).fit(digits[0])
    assert est.n_steps_ == 30
    assert est.loss_curve_.shape == (8, 31)
    first, last = est.loss_curve_[:, 0], est.loss_curve_[:, -1]
    # Measured: 30 Adam steps take 8-12% off every bit's loss.
    assert np.all(last < 0.96 * first), last / first
    assert np.all(est.errors_ < 0.5)
    assert np.all(est.bit_weights_ >= 0)


def test_boosted_lsh_specific_errors():
    X = np.random.RandomState(0).rand(10, 4)
    with pytest.raises(ValueError, match="at least 2 samples.*got 1 sample"):
        BoostedLSH(n_bits=4).fit(X[:1])
    with pytest.raises(
        ValueError, match="Expected y when similarity='target'.*got None"
    ):
        BoostedLSH(n_bits=4, similarity="target").fit(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BoostedLSH(n_bits=4, similarity="target").fit(X, np.ones((9, 2)))
    with pytest.raises(InvalidParameterError, match="'init' parameter"):
        BoostedLSH(init="pca").fit(X)


# --------------------------------------------------------------------------
# Quality on real data


@pytest.fixture(scope="module")
def speech_frames(corpus_path):
    """L2-normalised |STFT| frames: 4000 train / 800 held-out (other files).

    Every other file is mixed with a noise clip at 5 dB SNR; frames more than
    40 dB below their file's loudest frame are dropped.
    """
    with open(corpus_path / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    speech = sorted(r["path"] for r in rows if r["kind"] == "speech")
    noise = sorted(r["path"] for r in rows if r["kind"] == "noise")
    rng = np.random.RandomState(0)
    files = [speech[i] for i in rng.choice(len(speech), 48, replace=False)]
    noises = [noise[i] for i in rng.choice(len(noise), 48)]
    frames = []
    for i, (s_path, n_path) in enumerate(zip(files, noises, strict=True)):
        y, sr = sf.read(corpus_path / s_path, dtype="float32")
        assert sr == 16000
        if i % 2:
            n, _ = sf.read(corpus_path / n_path, dtype="float32")
            n = np.resize(n, len(y))
            y = y + n * (np.linalg.norm(y) / np.linalg.norm(n) / 10 ** (5 / 20))
        S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)).T.astype(np.float64)
        energy = np.linalg.norm(S, axis=1)
        frames.append(normalize(S[energy > 1e-2 * energy.max()]))
    train, test = np.concatenate(frames[:36]), np.concatenate(frames[36:])
    pick = np.random.RandomState(1)
    train = train[pick.choice(len(train), 4000, replace=False)]
    test = test[pick.choice(len(test), 800, replace=False)]
    return train, test


@pytest.fixture(scope="module")
def random_lsh_ssm_errors(speech_frames):
    Xtr, Xte = speech_frames
    return {
        n_bits: np.mean(
            [
                _ssm_error(
                    RandomLSH(n_bits, random_state=s).fit(Xtr).transform(Xte),
                    n_bits,
                    Xte,
                )
                for s in SEEDS
            ]
        )
        for n_bits in (16, 32)
    }


def test_boosted_lsh_approximates_speech_ssm_better_than_random(
    speech_frames, random_lsh_ssm_errors
):
    Xtr, Xte = speech_frames
    est = BoostedLSH(n_bits=32, segment_size=1000, n_segments=4, random_state=0)
    codes = est.fit(Xtr).transform(Xte)
    # Shorter codes are prefixes (see test_boosted_lsh_is_greedy_bit_by_bit).
    err = {n_bits: _ssm_error(codes, n_bits, Xte) for n_bits in (8, 16, 32)}
    # Measured (seeds 0-2): boosted 0.220/0.210/0.206 at 8/16/32 bits, the
    # same to +-0.0015 with shrinkage=0;
    # random (mean of 3 seeds) 0.225 at 16 bits, 0.217 at 32 bits.
    assert err[32] < random_lsh_ssm_errors[32] - 0.005, (err, random_lsh_ssm_errors)
    assert err[16] < random_lsh_ssm_errors[16] - 0.007, (err, random_lsh_ssm_errors)
    assert err[8] > err[16] + 0.004, err
    assert err[16] > err[32] + 0.0015, err
    assert 0.15 < err[32] < 0.25, err


@pytest.fixture(scope="module")
def random_lsh_precision(digits):
    Xtr, Xte, ytr, yte = digits

    def precision(n_bits, seed):
        est = RandomLSH(n_bits, random_state=seed).fit(Xtr)
        return _precision_at_10(est.transform(Xtr), ytr, est.transform(Xte), yte)

    return {
        n_bits: np.mean([precision(n_bits, s) for s in SEEDS]) for n_bits in (16, 32)
    }


@pytest.fixture(scope="module")
def boosted_precision(digits):
    """precision@10 of BoostedLSH codes at 16 and 32 bits, per seed and similarity."""
    Xtr, Xte, ytr, yte = digits
    cache = {}

    def precision(n_bits, seed, similarity="input"):
        if (seed, similarity) not in cache:
            est = BoostedLSH(
                32,
                segment_size=500,
                n_segments=4,
                similarity=similarity,
                # Shrinkage toward random directions is tuned on 513-dim
                # spectra; on 64-dim digits with class targets it costs
                # ~0.05 precision@10 (measured), so it is off for them.
                shrinkage=0.0 if similarity == "target" else 0.7,
                random_state=seed,
            )
            # One-hot labels: the target SSM is 1 within a class, 0 across classes.
            est.fit(Xtr, np.eye(10)[ytr] if similarity == "target" else None)
            cache[seed, similarity] = est.transform(Xtr), est.transform(Xte)
        codes_tr, codes_te = cache[seed, similarity]
        # 16-bit codes are the first 2 bytes of the 32-bit ones (greedy bits).
        n_bytes = n_bits // 8
        return _precision_at_10(codes_tr[:, :n_bytes], ytr, codes_te[:, :n_bytes], yte)

    return precision


# Measured precision@10 (test queries vs train codes, seeds 0/1/2):
#   16 bits: random 0.604 (mean), boosted 0.760/0.709/0.728 (0.772/0.750/0.758
#            with shrinkage=0), target (shrinkage=0) 0.836/0.828/0.834
#   32 bits: random 0.797 (mean), boosted 0.847/0.818/0.831 (0.844/0.836/0.842
#            with shrinkage=0), target (shrinkage=0) 0.886/0.894/0.905
# The fused float32 pair passes changed these by rounding only: over seeds
# 0-9 the means moved by -0.002 to +0.001 (boosted 0.742/0.834 -> 0.740/0.831,
# target 0.834/0.894 -> 0.832/0.895 at 16/32 bits), seed by seed by up to
# 0.02 either way.
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits, margin", [(16, 0.08), (32, 0.015)])
def test_boosted_lsh_retrieves_digits_better_than_random(
    random_lsh_precision, boosted_precision, n_bits, margin, seed
):
    boosted = boosted_precision(n_bits, seed)
    assert boosted > random_lsh_precision[n_bits] + margin, (
        boosted,
        random_lsh_precision,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bits", [16, 32])
def test_target_similarity_beats_input_similarity_on_digits(
    boosted_precision, n_bits, seed
):
    target = boosted_precision(n_bits, seed, similarity="target")
    boosted = boosted_precision(n_bits, seed)
    # Smallest measured gap: 0.039 (32 bits, seed 0).
    assert target > boosted + 0.03, (target, boosted)


def test_boosted_lsh_learned_bits_then_random_bits(digits):
    Xtr = digits[0]
    small = dict(segment_size=300, n_segments=2, random_state=0)
    est = BoostedLSH(n_bits=20, n_learned_bits=8, **small).fit(Xtr)
    learned = BoostedLSH(n_bits=8, **small).fit(Xtr)
    # The learned bits are the 8-bit model, the rest are balanced random bits,
    # only scored (their weights leave the boosting state untouched).
    assert_array_equal(est.projections_[:8], learned.projections_)
    assert_array_equal(est.bit_weights_[:8], learned.bit_weights_)
    bits = unpack_bits(est.transform(Xtr), 20)[:, 8:]
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) <= 1 / len(Xtr))
    assert np.all(np.isnan(est.loss_curve_[8:]))
    assert np.all((est.errors_[8:] > 0) & (est.errors_[8:] < 0.5))
    # n_learned_bits >= n_bits learns every bit.
    full = BoostedLSH(n_bits=8, n_learned_bits=20, **small).fit(Xtr)
    assert_array_equal(full.projections_, learned.projections_)


@pytest.mark.parametrize(
    "n_bits, max_utterances, min_gain",
    [
        # Measured paired gains, seeds 0/1/2 (s.e. 0.3-0.5 over 10 or 20
        # mixtures): L=16, 8 utterances per speaker: +1.42/+1.52/+0.96 dB
        # (+2.12/+1.66/+0.76 with shrinkage=0); L=64, 20 utterances per
        # speaker: +0.76/+1.02/+1.15 dB. The test uses seed 0. Smaller tasks
        # are not stable at L=64, nor is the open protocol at this size (+-1
        # dB between seeds); benchmarks/bench_codes.py measures those.
        (16, 8, 0.5),
        (64, 20, 0.3),
    ],
)
def test_boosted_lsh_separates_speech_better_than_random(
    corpus_path, n_bits, max_utterances, min_gain
):
    # Reduced closed protocol of benchmarks/bench_codes.py: 10% dictionary,
    # K=10; paired SDR gain of BoostedLSH over RandomLSH on the same test
    # mixtures. The codes' own effect: no refinement stage (it narrows the
    # gap between codes), bench_codes' 3-frame smoothing.
    from skblsh.datasets import make_separation_task
    from skblsh.metrics import separation_report
    from skblsh.separation import MaskingSeparator, make_separator_pipeline

    task = make_separation_task(
        corpus_path, protocol="closed", max_utterances=max_utterances, random_state=0
    )
    sdr = {}
    for hasher in ("random", "boosted"):
        sep = MaskingSeparator(
            make_separator_pipeline(n_bits, 10, hasher=hasher, random_state=0),
            dictionary_fraction=0.1,
            refine=False,
            mask_smoothing=1,
            random_state=0,
        ).fit(task.mixtures_train, task.sources_train)
        estimates = sep.predict(task.mixtures_test)
        sdr[hasher] = separation_report(
            task.sources_test, estimates, task.mixtures_test
        ).sdr
    gain = sdr["boosted"] - sdr["random"]
    assert gain.mean() > min_gain, gain
    assert np.mean(gain > 0) >= 0.6, gain
