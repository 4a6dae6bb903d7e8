"""The boosting machinery behind :class:`skblsh.BoostedLSH`.

Fixed segments of rows with their target self-similarity matrix and boosting
state, the weak learner (a residual spectral direction, optionally refined by
Adam on the pair-weighted loss) and the AdaBoost pair re-weighting. Kept apart
from the estimator so that ``_boosted.py`` reads as the public API.
"""

import numpy as np
from scipy.sparse.linalg import eigsh

from ._base import median_intercepts


def _l2_normalize(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)


def target_similarity(F):
    """Ground-truth SSM in [0, 1]: cosine similarities clipped at zero."""
    Fn = _l2_normalize(F)
    T = np.clip(Fn @ Fn.T, 0.0, 1.0)
    np.fill_diagonal(T, 0.0)
    return T


class Segment:
    """One fixed block of rows with its target SSM and boosting state.

    Holds four ``segment_size**2`` float32 matrices: the target ``T`` in
    [0, 1], the pair weights ``W`` (zero on the diagonal), the running
    beta-weighted vote ``R`` of the bits learned so far in the +/-1 domain, and
    a scratch buffer, reused so that no step allocates a new square matrix.
    """

    def __init__(self, X, T):
        n = len(X)
        self.X = X
        self.T = T
        self.t = 2.0 * T - 1.0
        self.W = np.ones((n, n), dtype=np.float32)
        np.fill_diagonal(self.W, 0.0)
        self.R = np.zeros((n, n), dtype=np.float32)
        self.buf = np.empty((n, n), dtype=np.float32)


def weak_loss_grad(seg, w, b, loss, total_weight):
    """Weighted loss of one relaxed bit on a segment and its gradient.

    The relaxed bit is ``h = tanh(X w + b)``; its SSM is ``(h h^T + 1) / 2``.
    """
    h = np.tanh(seg.X @ w + b)
    S_hat = (np.outer(h, h) + 1.0) * 0.5
    eps = 1e-6
    np.clip(S_hat, eps, 1.0 - eps, out=S_hat)
    Wn = seg.W / total_weight
    if loss == "cross_entropy":
        value = -np.sum(Wn * (seg.T * np.log(S_hat) + (1 - seg.T) * np.log1p(-S_hat)))
        dS = Wn * ((1 - seg.T) / (1 - S_hat) - seg.T / S_hat)
    else:
        diff = S_hat - seg.T
        value = np.sum(Wn * diff * diff)
        dS = 2.0 * Wn * diff
    # dS_hat/dP = 1/2 and P_ij = h_i h_j appears twice in a symmetric matrix.
    gz = (dS @ h) * (1.0 - h * h)
    return float(value), seg.X.T @ gz


def residual_direction(segments):
    """Unit top eigenvector of ``sum Xc^T (W * (t - R)) Xc`` over segments.

    The direction whose bit products best explain, in weighted pairs, what the
    bits learned so far left unexplained (a spectral relaxation of the weak
    learner's problem).
    """
    n_features = segments[0].X.shape[1]
    Q = np.zeros((n_features, n_features))
    for seg in segments:
        A = np.subtract(seg.t, seg.R, out=seg.buf)
        A *= seg.W
        Q += seg.X.T @ (A @ seg.X)
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


def refine(segments, w, *, n_iter, learning_rate, loss, fit_intercept):
    """Adam steps on the weak-learner loss from the direction ``w``.

    Returns the refined direction, its intercept and the loss before and
    after every step (``n_iter + 1`` values).
    """
    z = np.concatenate([seg.X @ w for seg in segments])
    scale = z.std()
    if not np.isfinite(scale) or scale < 1e-20:
        scale = 1.0
    # Unit spread of the pre-activation keeps tanh out of saturation.
    w = w / scale
    b = 0.0
    total_weight = sum(float(seg.W.sum()) for seg in segments)
    losses = np.zeros(n_iter + 1)
    lr = learning_rate * np.mean(np.abs(w))
    m, v = np.zeros_like(w), np.zeros_like(w)
    beta1, beta2, tiny = 0.9, 0.999, 1e-8
    w = w.astype(np.float32)
    for it in range(n_iter + 1):
        if fit_intercept:
            b = median_intercept(segments, w)
        value, grad = 0.0, np.zeros_like(w)
        for seg in segments:
            v_seg, g_seg = weak_loss_grad(seg, w, b, loss, total_weight)
            value += v_seg
            grad += g_seg
        losses[it] = value
        if it == n_iter:
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
    return eigsh(Q, k=1, which="LA", v0=np.ones(n))[1][:, 0]


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
        np.multiply(seg.W, seg.t, out=seg.buf)
        num += float(s @ seg.buf @ s)
        den += float(seg.W.sum())
        signs.append(s)
    eps = min(max(0.5 * (1.0 - num / den), 1e-10), 1 - 1e-10)
    beta = max(0.5 * np.log((1 - eps) / eps), 0.0)
    if beta > 0 and update:
        total = 0.0
        keep = beta_sum / (beta_sum + beta)
        for seg, s in zip(segments, signs, strict=True):
            agree = np.multiply.outer(s, s, out=seg.buf)
            seg.R *= keep
            seg.R += (1.0 - keep) * agree
            agree *= seg.t
            agree *= -beta
            np.exp(agree, out=agree)
            seg.W *= agree
            total += float(seg.W.sum())
        for seg in segments:
            seg.W *= den / total
    return eps, beta
