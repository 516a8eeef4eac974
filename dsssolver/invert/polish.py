"""Least-squares polish: Gauss-Newton on ``||G(z) - x||_2^2`` from an LP answer.

``G`` is piecewise linear: with the on/off pattern of every ReLU fixed at ``z``,
``G(z + d) = G(z) + J d`` near z.  Each step solves that linear least-squares problem and is
accepted only if the true loss decreases (halving the step up to 8 times otherwise), so
the loss never increases.  Started from the layerwise l_1 LP's answer, which sits in the
right linear piece or next to it, this minimises the same loss as gradient descent does,
to the precision of a least-squares solve, without its restarts.

Examples
--------
>>> import numpy as np
>>> from dsssolver.layers import as_network
>>> net = as_network([(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None)])
>>> x = net.forward(np.array([1.0, 2.0])) + np.array([0.01, -0.01, 0.0])
>>> z = gauss_newton(net, np.array([0.9, 2.1]), x)
>>> np.round(z, 6)
array([1.01, 1.99])
"""
from __future__ import annotations

import numpy as np

from ..layers import SparseMatrix

__all__ = ["gauss_newton", "jacobian"]


def _matmat(W, M):
    """``W @ M`` for a dense or :class:`SparseMatrix` W and a dense M (few columns)."""
    if not isinstance(W, SparseMatrix):
        return W @ M
    out = np.zeros((W.shape[0], M.shape[1]))
    nz = np.diff(W.indptr) > 0
    starts = W.indptr[:-1][nz]
    step = max(1, int(2e7 // max(W.nnz, 1)))  # bound the (nnz x columns) temporary
    for j in range(0, M.shape[1], step):
        prod = W.data[:, None] * M[W.indices, j:j + step]
        out[nz, j:j + step] = np.add.reduceat(prod, starts, axis=0)
    return out


def jacobian(net, z):
    """``(G(z), J)`` with ``J`` the Jacobian of G at z (one-sided where a ReLU is at 0)."""
    h = np.asarray(z, dtype=np.float64)
    J = np.eye(len(h))
    for layer in net.layers:
        p = layer.pre(h)
        if layer.activation == "relu":
            d = (p > 0).astype(np.float64)
        elif layer.activation == "leaky_relu":
            d = np.where(p >= 0, 1.0, layer.negative_slope)
        else:
            d = np.ones_like(p)
        J = _matmat(layer.W, J) * d[:, None]
        h = layer.act(p)
    return h, J


def gauss_newton(net, z0, x, *, iters=30, rtol=1e-13):
    """Minimise ``||G(z) - x||_2`` by monotone Gauss-Newton steps from ``z0``."""
    z = np.asarray(z0, dtype=np.float64).copy()
    g, J = jacobian(net, z)
    loss = float(((g - x) ** 2).sum())
    for _ in range(iters):
        d = np.linalg.lstsq(J, x - g, rcond=None)[0]
        t, moved = 1.0, False
        for _ in range(9):
            zt = z + t * d
            gt = net.forward(zt)
            lt = float(((gt - x) ** 2).sum())
            if lt < loss:
                z, loss, moved = zt, lt, True
                break
            t *= 0.5
        if not moved or t * np.linalg.norm(d) <= rtol * (1 + np.linalg.norm(z)):
            break
        g, J = jacobian(net, z)
    return z
