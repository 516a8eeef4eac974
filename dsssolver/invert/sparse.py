"""Layers too large for dense algebra (convolutions of generators): least squares by CGLS.

A transposed convolution of a DCGAN-size generator has 10^4 rows and columns; its dense
matrix (a gigabyte) and an LP over it are out of reach per image, but products with the
sparse matrix and its transpose cost a few milliseconds.  At such a layer the rows read as
active (``y_i > tau``) are solved in the least-squares sense by conjugate gradients on the
normal equations (CGLS, Hestenes-Stiefel), and the other rows are checked afterwards:
when those rows have full column rank (an injective layer at this output) the answer is the
layer's preimage up to the solver's precision.  No exact evidence is produced at this size.

Examples
--------
>>> import numpy as np
>>> from dsssolver.layers import SparseMatrix
>>> A = SparseMatrix.from_coo([0, 1, 2, 2], [0, 1, 0, 1], [2.0, 1.0, 1.0, 1.0], (3, 2))
>>> x, it = cgls(A, A.T, np.ones(3), np.array([True, True, True]))
>>> np.round(A.toarray() @ x, 6)
array([0.888889, 0.777778, 1.222222])
"""
from __future__ import annotations

import numpy as np

__all__ = ["cgls"]


def cgls(A, AT, c, rows, *, x0=None, iters=3000, rtol=1e-12):
    """Least squares ``min ||A[rows] x - c[rows]||_2`` with products by ``A`` and ``AT`` only.

    Returns ``(x, iterations)``; stops when ``||A_S^T r|| <= rtol ||A_S^T c_S||``.
    """
    S = np.asarray(rows, dtype=bool)
    m, n = A.shape
    x = np.zeros(n) if x0 is None else np.asarray(x0, dtype=np.float64).copy()

    def a_s(v):
        return np.where(S, A @ v, 0.0)

    def at_s(r):
        return AT @ np.where(S, r, 0.0)

    r = np.where(S, c, 0.0) - a_s(x)
    s = at_s(r)
    goal = rtol * max(np.linalg.norm(at_s(np.where(S, c, 0.0))), 1e-300)
    p, gamma = s.copy(), float(s @ s)
    for it in range(1, iters + 1):
        if np.sqrt(gamma) <= goal:
            return x, it - 1
        q = a_s(p)
        qq = float(q @ q)
        if qq == 0.0:
            break
        alpha = gamma / qq
        x += alpha * p
        r -= alpha * q
        s = at_s(r)
        g_new = float(s @ s)
        p = s + (g_new / gamma) * p
        gamma = g_new
    return x, iters
