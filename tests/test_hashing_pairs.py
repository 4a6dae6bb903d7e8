"""Tests of the condensed pair state and its fused passes (skblsh.hashing._pairs)
against the dense numpy formulas they replace."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skblsh.hashing._pairs import PairState


def _dense_state(n, seed):
    rng = np.random.RandomState(seed)
    F = rng.rand(n, 5)
    T = np.clip(np.corrcoef(F), 0.0, 1.0)
    s = np.where(rng.rand(n) > 0.5, 1.0, -1.0).astype(np.float32)
    return T, s


@pytest.mark.parametrize("n", [2, 3, 17, 64])
def test_pairs_are_the_upper_triangle_row_by_row(n):
    T, _ = _dense_state(n, 0)
    pairs = PairState(T)
    iu = np.triu_indices(n, 1)
    assert pairs.t.dtype == np.float32 and pairs.t.shape == (n * (n - 1) // 2,)
    assert_allclose(pairs.t, 2 * T[iu] - 1, rtol=1e-6, atol=1e-7)
    assert_array_equal(pairs.W, 1.0)
    assert_array_equal(pairs.R, 0.0)
    # Before any bit, the residual is t itself (W = 1, R = 0), upper triangle.
    assert_array_equal(
        np.triu(pairs.A, 1), pairs.dense(pairs.t) * np.triu(np.ones((n, n)), 1)
    )
    D = pairs.dense(pairs.t)
    assert_array_equal(D, D.T)
    assert_array_equal(np.diag(D), 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_passes_match_the_dense_formulas(seed):
    n = 50
    T, s = _dense_state(n, seed)
    pairs = PairState(T)
    t = 2 * T - 1
    W = 1.0 - np.eye(n)
    R = np.zeros((n, n))
    beta_sum = 0.0
    for beta in [0.4, 0.1, 0.7]:
        num, den = pairs.score(s)
        # Sums over i < j: half the dense sums. num cancels (its terms have
        # both signs): only num / den, the weighted agreement, matters.
        assert den == pytest.approx(0.5 * W.sum(), rel=1e-5)
        assert num / den == pytest.approx(s @ (W * t) @ s / W.sum(), abs=1e-6)
        keep = beta_sum / (beta_sum + beta)
        total = pairs.reweight(s, beta, keep)
        agree = np.outer(s, s)
        W = W * np.exp(-beta * agree * t)
        R = keep * R + (1 - keep) * agree
        assert total == pytest.approx(0.5 * W.sum(), rel=1e-5)
        assert_allclose(pairs.dense(pairs.W), W, rtol=1e-5)
        assert_allclose(pairs.dense(pairs.R), R - np.diag(np.diag(R)), atol=1e-6)
        residual = W * (t - R)
        assert_allclose(np.triu(pairs.A, 1), np.triu(residual, 1), rtol=1e-5, atol=1e-6)
        beta_sum += beta
        s = -np.roll(s, 3)
