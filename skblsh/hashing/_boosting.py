"""The boosting machinery behind :class:`skblsh.BoostedLSH`.

Target similarities, the optional principal pre-projection, fixed segments of
rows with the boosting state of their pairs (:mod:`._pairs`), the weak
learner (a residual spectral direction, optionally refined by Adam on the
pair-weighted loss), the ITQ rotation of ``init="itq"`` and the AdaBoost
pair re-weighting. Kept apart from the
estimator so that ``_boosted.py`` reads as the public API.
"""

import numpy as np
from scipy.linalg import eigh
from scipy.linalg.blas import ssymm
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from ._base import median_intercepts
from ._pairs import PairState


def _l2_normalize(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)


def principal_basis(X, n_components):
    """Top principal directions of the centred rows ``X``, as columns.

    Returns an orthonormal ``(n_features, n_components)`` matrix, each
    column's largest entry made positive (eigh's signs are arbitrary).
    """
    X = X.astype(np.float64, copy=False)
    n_features = X.shape[1]
    n_components = min(n_components, n_features)
    _, V = eigh(X.T @ X, subset_by_index=[n_features - n_components, n_features - 1])
    V = V[:, ::-1]
    return V * np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(n_components)])


def itq_rotation(V, rng, n_iter=50):
    """Rotation of iterative quantisation (Gong & Lazebnik, CVPR 2011).

    Alternates the codes ``B = sign(V R)`` and the orthogonal Procrustes
    rotation ``R`` minimising ``||B - V R||``, from a random rotation.

    Parameters
    ----------
    V : ndarray of shape (n_samples, n_bits)
        Centred principal coordinates, one column per bit.
    rng : numpy.random.RandomState
        Source of the initial rotation.
    n_iter : int, default=50
        Alternations (the paper's count).

    Returns
    -------
    R : ndarray of shape (n_bits, n_bits)
        Orthogonal matrix; the bits are ``V @ R > 0``.
    """
    n = V.shape[1]
    R = np.linalg.qr(rng.standard_normal((n, n)))[0]
    for _ in range(n_iter):
        B = np.where(V @ R >= 0, 1.0, -1.0)
        U, _, Wt = np.linalg.svd(V.T @ B)
        R = U @ Wt
    return R


def target_similarity(F):
    """Ground-truth SSM in [0, 1]: cosine similarities clipped at zero."""
    Fn = _l2_normalize(F)
    T = np.clip(Fn @ Fn.T, 0.0, 1.0)
    np.fill_diagonal(T, 0.0)
    return T


def squared_distances(F):
    """Squared Euclidean distances between the rows of ``F``, zero diagonal."""
    F = F.astype(np.float64, copy=False)
    sq = np.einsum("ij,ij->i", F, F)
    D2 = sq[:, None] + sq[None, :] - 2.0 * (F @ F.T)
    np.maximum(D2, 0.0, out=D2)
    np.fill_diagonal(D2, 0.0)
    return D2


def median_distance(D2s):
    """Median distance over the pairs ``i < j`` of squared-distance matrices."""
    pairs = [D2[np.triu_indices_from(D2, 1)] for D2 in D2s]
    return float(np.sqrt(np.median(np.concatenate(pairs))))


def kernel_similarity(D2, bandwidth):
    """Ground-truth SSM in [0, 1]: ``exp(-D2 / bandwidth**2)``, zero diagonal.

    A zero bandwidth (all rows of the segments equal) is the kernel's limit:
    1 for equal rows, 0 otherwise.
    """
    if bandwidth == 0:
        T = (D2 == 0).astype(np.float64)
    else:
        T = np.exp(-D2 / bandwidth**2)
    np.fill_diagonal(T, 0.0)
    return T


class Segment:
    """One fixed block of rows and the boosting state of its pairs.

    ``X`` is stored as float32 in Fortran order (BLAS reads it in place);
    ``pairs`` is a :class:`~._pairs.PairState` built from the target SSM
    ``T``.
    """

    def __init__(self, X, T):
        self.X = np.asfortranarray(X, dtype=np.float32)
        self.pairs = PairState(T)


def weak_loss_grad(X, T, W, w, b, loss):
    """Weighted loss of one relaxed bit on a segment and its gradient.

    The relaxed bit is ``h = tanh(X w + b)``; its SSM is ``(h h^T + 1) / 2``;
    ``T`` and ``W`` are dense symmetric matrices (``W`` normalised over all
    segments, zero diagonal).
    """
    h = np.tanh(X @ w + b)
    S_hat = (np.outer(h, h) + 1.0) * 0.5
    eps = 1e-6
    np.clip(S_hat, eps, 1.0 - eps, out=S_hat)
    if loss == "cross_entropy":
        value = -np.sum(W * (T * np.log(S_hat) + (1 - T) * np.log1p(-S_hat)))
        dS = W * ((1 - T) / (1 - S_hat) - T / S_hat)
    else:
        diff = S_hat - T
        value = np.sum(W * diff * diff)
        dS = 2.0 * W * diff
    # dS_hat/dP = 1/2 and P_ij = h_i h_j appears twice in a symmetric matrix.
    gz = (dS @ h) * (1.0 - h * h)
    return float(value), X.T @ gz


def residual_direction(segments, spent=()):
    """Unit top eigenvector of ``sum Xc^T (W * (t - R)) Xc`` over segments.

    The direction whose bit products best explain, in weighted pairs, what the
    bits learned so far left unexplained (a spectral relaxation of the weak
    learner's problem). Directions in ``spent`` are excluded: a bit whose
    weighted error reached 0.5 leaves the weights as they were, so without
    the exclusion the following bits would repeat it.
    """
    n_features = segments[0].X.shape[1]
    Q = np.zeros((n_features, n_features))
    for seg in segments:
        # The upper triangle of A = W (t - R) is kept current by the
        # re-weighting (up to a positive factor, which leaves the direction
        # unchanged); A.T is its Fortran view, so BLAS reads it in place.
        Q += seg.X.T @ ssymm(1.0, seg.pairs.A.T, seg.X, lower=1)
    # Once the spent directions would fill the space, the oldest are let go.
    spent = spent[max(len(spent) - n_features + 1, 0) :]
    if len(spent):
        # Solve in an orthonormal basis B of the complement of the spent
        # directions: the top eigenvector of B^T Q B, mapped back.
        n_spent = len(spent)
        B = np.linalg.qr(np.column_stack(spent), mode="complete")[0][:, n_spent:]
        w = B @ top_eigenvector(B.T @ Q @ B)
    else:
        w = top_eigenvector(Q)
    # eigh's sign is arbitrary; fix it for reproducibility across BLAS.
    return w * np.sign(w[np.argmax(np.abs(w))])


def median_intercept(segments, w):
    """Minus the median projection: the intercept of a balanced bit."""
    # Intercepts are not free parameters: a free intercept lets the weak
    # learner collapse to a constant bit ("all pairs similar"), which
    # approximates a mostly-positive cosine SSM well and carries no
    # information. Keeping every bit balanced rules that out.
    z = np.concatenate([seg.X @ w for seg in segments])
    return float(median_intercepts(z[:, None])[0])


def refine(segments, w, *, n_steps, learning_rate, loss, fit_intercept):
    """Adam steps on the weak-learner loss from the direction ``w``.

    Returns the refined direction, its intercept and the loss before and
    after every step (``n_steps + 1`` values).
    """
    z = np.concatenate([seg.X @ w for seg in segments])
    scale = z.std()
    if not np.isfinite(scale) or scale < 1e-20:
        scale = 1.0
    # Unit spread of the pre-activation keeps tanh out of saturation.
    w = w / scale
    b = 0.0
    total_weight = 2.0 * sum(float(seg.pairs.W.sum()) for seg in segments)
    dense = [
        (
            seg.X,
            0.5 * (seg.pairs.dense(seg.pairs.t) + 1.0),
            seg.pairs.dense(seg.pairs.W) / np.float32(total_weight),
        )
        for seg in segments
    ]
    losses = np.zeros(n_steps + 1)
    lr = learning_rate * np.mean(np.abs(w))
    m, v = np.zeros_like(w), np.zeros_like(w)
    beta1, beta2, tiny = 0.9, 0.999, 1e-8
    w = w.astype(np.float32)
    for it in range(n_steps + 1):
        if fit_intercept:
            b = median_intercept(segments, w)
        value, grad = 0.0, np.zeros_like(w)
        for X, T, W in dense:
            v_seg, g_seg = weak_loss_grad(X, T, W, w, b, loss)
            value += v_seg
            grad += g_seg
        losses[it] = value
        if it == n_steps:
            break
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        step = (m / (1 - beta1 ** (it + 1))) / (
            np.sqrt(v / (1 - beta2 ** (it + 1))) + tiny
        )
        w = (w - lr * step).astype(np.float32)
    return w.astype(np.float64), b, losses


def top_eigenvector(Q):
    """Eigenvector of the largest eigenvalue of a symmetric matrix."""
    n = len(Q)
    if n <= 32:
        return np.linalg.eigh(Q)[1][:, -1]
    # Lanczos needs only mat-vecs: a full LAPACK eigh is ~20x slower on a
    # busy 2-core machine. A fixed start vector keeps fits reproducible.
    try:
        return eigsh(Q, k=1, which="LA", v0=np.ones(n))[1][:, 0]
    except ArpackNoConvergence:
        # Nearly equal top eigenvalues: any of them will do, LAPACK finds one.
        return np.linalg.eigh(Q)[1][:, -1]


def boost(segments, w, b, beta_sum, *, update=True):
    """Score one hard bit, then re-weight pairs and update the running vote.

    With hard bits ``s`` in {-1, 1} and the target ``t = 2T - 1``, the pair
    error ``|T - (1 + s_i s_j) / 2|`` equals ``(1 - s_i s_j t_ij) / 2``, so the
    AdaBoost update ``W *= exp(beta * (2 err - 1))`` is
    ``W *= exp(-beta * s_i s_j t_ij)``: the margin form of AdaBoost with
    ``t`` as the label and ``s_i s_j`` as the prediction.

    Returns the weighted error eps and the bit weight beta. With
    ``update=False`` the bit is only scored: weights and vote are kept.
    """
    w = w.astype(np.float32)
    signs, num, den = [], 0.0, 0.0
    for seg in segments:
        s = np.where(seg.X @ w + b > 0, 1.0, -1.0).astype(np.float32)
        num_seg, den_seg = seg.pairs.score(s)
        num += num_seg
        den += den_seg
        signs.append(s)
    eps = min(max(0.5 * (1.0 - num / den), 1e-10), 1 - 1e-10)
    beta = max(0.5 * np.log((1 - eps) / eps), 0.0)
    if beta > 0 and update:
        keep = beta_sum / (beta_sum + beta)
        total = sum(
            seg.pairs.reweight(s, beta, keep)
            for seg, s in zip(segments, signs, strict=True)
        )
        # Weights keep their initial sum, so they never overflow.
        for seg in segments:
            seg.pairs.W *= np.float32(den / total)
    return eps, beta
