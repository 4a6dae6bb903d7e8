"""The pairs of a segment: condensed storage and the fused boosting passes.

A segment of ``n`` rows has ``n (n - 1) / 2`` pairs ``i < j``. Their target
``t``, AdaBoost weight ``W`` and running vote ``R`` are symmetric, so only the
upper triangle is stored, row by row, as one float32 vector (scipy's
``squareform`` order). Each boosting step touches every pair a few times; the
passes below fuse those touches (numba, vectorised), leaving the exponential
to numpy's SIMD ``exp``.
"""

import numpy as np
from numba import njit

__all__ = ["PairState"]

# Reassociation lets the sums vectorise; NaN and inf semantics are kept.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(nogil=True, cache=True)
def _condense(M, out):
    """Upper triangle (``i < j``) of the square ``M``, row by row, into ``out``."""
    n, k = M.shape[0], 0
    for i in range(n - 1):
        m = n - 1 - i
        out[k : k + m] = M[i, i + 1 :]
        k += m


@njit(nogil=True, cache=True)
def _fill_upper(c, A):
    """Write the condensed pairs ``c`` into the upper triangle of ``A``."""
    n, k = A.shape[0], 0
    for i in range(n - 1):
        m = n - 1 - i
        A[i, i + 1 :] = c[k : k + m]
        k += m


@njit(nogil=True, cache=True, fastmath=_FAST)
def _score(W, t, s):
    """``sum W t s_i s_j`` and ``sum W`` over the pairs."""
    n, k = s.shape[0], 0
    num = den = 0.0
    for i in range(n - 1):
        m = n - 1 - i
        Wi, ti, sj = W[k : k + m], t[k : k + m], s[i + 1 :]
        acc = acc_w = np.float32(0.0)
        for j in range(m):
            acc += Wi[j] * ti[j] * sj[j]
            acc_w += Wi[j]
        num += s[i] * acc
        den += acc_w
        k += m
    return num, den


@njit(nogil=True, cache=True, fastmath=_FAST)
def _margins(t, s, beta, out):
    """``out = -beta s_i s_j t_ij``: the AdaBoost exponent of every pair."""
    n, k = s.shape[0], 0
    for i in range(n - 1):
        m = n - 1 - i
        ti, oi, sj = t[k : k + m], out[k : k + m], s[i + 1 :]
        c = -beta * s[i]
        for j in range(m):
            oi[j] = c * sj[j] * ti[j]
        k += m


@njit(nogil=True, cache=True, fastmath=_FAST)
def _reweight(W, R, t, E, s, keep, A):
    """``W *= E``, ``R = keep R + (1 - keep) s_i s_j``, ``A = W (t - R)``.

    ``A`` receives the residual in its upper triangle. Returns ``sum W``.
    """
    n, k = s.shape[0], 0
    total = 0.0
    lose = np.float32(1.0) - keep
    for i in range(n - 1):
        m = n - 1 - i
        Wi, Ri, ti, Ei = W[k : k + m], R[k : k + m], t[k : k + m], E[k : k + m]
        sj, Ai = s[i + 1 :], A[i, i + 1 :]
        c = lose * s[i]
        acc = np.float32(0.0)
        for j in range(m):
            r = keep * Ri[j] + c * sj[j]
            w = Wi[j] * Ei[j]
            Ri[j] = r
            Wi[j] = w
            Ai[j] = w * (ti[j] - r)
            acc += w
        total += acc
        k += m
    return total


class PairState:
    """Target, weights and vote of the pairs of one segment of ``n`` rows.

    Holds three condensed float32 vectors of ``n (n - 1) / 2`` pairs (``t =
    2T - 1``, the AdaBoost weights ``W``, the beta-weighted vote ``R`` of the
    bits so far in the +/-1 domain), a condensed scratch vector, and the
    ``n x n`` float32 residual ``A = W * (t - R)`` whose upper triangle is
    kept current for :func:`scipy.linalg.blas.ssymm`: ``3 n**2`` values.

    Parameters
    ----------
    T : ndarray of shape (n, n)
        Symmetric target SSM in [0, 1]; its diagonal is ignored.
    """

    def __init__(self, T):
        n = len(T)
        self.n = n
        self.t = np.empty(n * (n - 1) // 2, dtype=np.float32)
        _condense(np.ascontiguousarray(T, dtype=np.float32), self.t)
        self.t *= 2.0
        self.t -= 1.0
        self.W = np.ones_like(self.t)
        self.R = np.zeros_like(self.t)
        self.E = np.empty_like(self.t)
        self.A = np.zeros((n, n), dtype=np.float32)
        _fill_upper(self.t, self.A)

    def score(self, s):
        """``(sum W t s_i s_j, sum W)`` over the pairs, for signs ``s``."""
        return _score(self.W, self.t, s)

    def reweight(self, s, beta, keep):
        """AdaBoost update of the pairs for the signs ``s``; returns ``sum W``."""
        _margins(self.t, s, np.float32(beta), self.E)
        np.exp(self.E, out=self.E)
        return _reweight(self.W, self.R, self.t, self.E, s, np.float32(keep), self.A)

    def dense(self, values):
        """Symmetric ``n x n`` float32 matrix of condensed ``values``, zero diagonal."""
        M = np.zeros((self.n, self.n), dtype=np.float32)
        _fill_upper(values, M)
        M += M.T
        return M
