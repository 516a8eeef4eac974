"""Noise levels and the a-posteriori error bound of an inverted code.

Three ways to know the noise ``e = x - G(z_true)``:

* ``noise=eps``: a bound ``||e||_inf <= eps`` (the bound holds for certain);
* ``noise_std=sigma``: iid Gaussian entries; ``||e||_inf <= sigma sqrt(2 ln(2m/delta))``
  and ``||e||_2 <= sigma (sqrt(m) + sqrt(2 ln(1/delta)))``, each with probability
  ``>= 1 - delta`` (``delta = 1%``);
* neither: ``sigma`` is estimated robustly from the residual of an l_1 fit (its median
  absolute value, the rows the fit interpolates exactly left out), then used as above.

:func:`error_bound` turns a level into a bound on ``||z - z_true||_2`` valid for *any* ``z``
(so for every method, and for gradient descent too): at each layer, from the output
down, the rows whose value exceeds the error bound of that value are surely active, and on
them ``W_S (u - u_true) = (y_S - y_true,S) + r_S`` with ``r_S`` the residual of ``u``, so

    ||u - u_true||_2 <= (||r_S||_2 + min(sqrt|S| e_inf, e_2)) / sigma_min(W_S),
    |u_j - u_true,j| <= ||P_j||_1 (||r_S||_inf + e_inf)            (P = W_S^+),

which are the errors of the next layer's value.  ``1 / sigma_min(W_S)`` is the layer's
local error amplification.  The bound is infinite where ``W_S`` has rank below n.

Examples
--------
>>> lv = NoiseLevel.from_bound(0.01, 100)
>>> lv.inf, round(lv.l2, 6), lv.source
(0.01, 0.1, 'bound')
>>> round(robust_sigma(np.array([0.0, 0.0, 1.0, -1.0, 1.0, -1.0])), 4)
1.4826
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["NoiseLevel", "robust_sigma", "error_bound", "beyond_noise", "DELTA"]

#: failure probability of each Gaussian tail bound used for ``noise_std`` / estimates
DELTA = 0.01
#: a residual this many times the noise level is not an answer "within the noise"
RESIDUAL_FACTOR = 3.0
#: sparse layers larger than this (rows x columns) are not densified: no LP, no dense bound
MAX_DENSE = 2e6


@dataclass
class NoiseLevel:
    """Bounds on the noise of one output: ``inf`` (l_inf), ``l2`` (l_2), ``typ`` (a typical
    entry, for thresholds) and where they come from (``source``)."""

    inf: float
    l2: float
    typ: float
    source: str

    @classmethod
    def exact(cls):
        return cls(0.0, 0.0, 0.0, "exact")

    @classmethod
    def from_bound(cls, eps, m):
        return cls(float(eps), float(eps) * math.sqrt(m), float(eps), "bound")

    @classmethod
    def from_std(cls, sigma, m, source="std"):
        s = float(sigma)
        return cls(s * math.sqrt(2 * math.log(2 * m / DELTA)),
                   s * (math.sqrt(m) + math.sqrt(2 * math.log(1 / DELTA))), s, source)


def beyond_noise(r, x, level):
    """How far the residual ``r = G(z) - x`` is beyond ``level`` (more than
    ``RESIDUAL_FACTOR`` times its l_2 size, plus a relative 1e-12 of x for round-off), or
    None when it is within it.  A measurement only: it does not show that no code fits."""
    r2 = float(np.linalg.norm(r))
    if r2 <= RESIDUAL_FACTOR * level.l2 + 1e-12 * max(float(np.linalg.norm(x)), 1e-300):
        return None
    return (f"||G(z) - x||_2 = {r2:.3g} is {r2 / max(level.l2, 1e-300):.3g} times the "
            f"{level.source} noise level {level.l2:.3g}")


def robust_sigma(r, scale=1.0):
    """Standard deviation of the bulk of ``r`` (1.4826 x median |r|), ignoring entries that
    are 0 up to ``1e-9 scale`` (rows an LP interpolated exactly carry no noise estimate)."""
    a = np.abs(np.asarray(r, dtype=np.float64))
    a = a[a > 1e-9 * scale]
    return float(1.4826 * np.median(a)) if a.size >= 3 else 0.0


def _inv_act(layer, y, e_inf, e_2):
    """Rows surely active, their pre-activation estimate, and the errors scaled for it."""
    if layer.activation == "relu":
        S = y > e_inf
        return S, y[S] - layer.b[S], e_inf, e_2
    if layer.activation == "linear":
        return np.ones(len(y), bool), y - layer.b, e_inf, e_2
    s = layer.negative_slope  # leaky: pre = y / s below 0; Lipschitz max(1, 1/s)
    lip = max(1.0, 1.0 / s)
    return np.ones(len(y), bool), np.where(y >= 0, y, y / s) - layer.b, e_inf * lip, e_2 * lip


def _gram_inverse_norms(A):
    """``(sigma_min, max_j ||P_j||_1)`` of ``P = A^+`` for a full-column-rank A, else (0, inf)."""
    if A.shape[0] < A.shape[1]:
        return 0.0, math.inf
    G = A.T @ A
    lam, V = np.linalg.eigh(G)
    if lam[0] <= 1e-12 * max(lam[-1], 1e-300):
        return 0.0, math.inf
    P = (V / lam) @ (V.T @ A.T)
    return float(math.sqrt(lam[0])), float(np.abs(P).sum(axis=1).max())


def error_bound(net, dense, z, x, level):
    """Bound ``||z - z_true||_2`` over every ``z_true`` whose output is within ``level`` of x.

    Parameters
    ----------
    net : Network
    dense : list
        ``dense[k]`` is layer k's weight as a dense array, or None (too large: not bounded).
    z, x : ndarray
    level : NoiseLevel

    Returns
    -------
    (bound, amplifications)
        ``amplifications[k]`` is ``1 / sigma_min`` of layer k's surely active rows (None
        where not computed).  ``bound`` is ``inf`` when some layer's rows lack full rank.
    """
    hs = [np.asarray(z, dtype=np.float64)]
    for layer in net.layers:
        hs.append(layer(hs[-1]))
    L = len(net.layers)
    amps = [None] * L
    e_inf, e_2 = level.inf, level.l2
    for k in reversed(range(L)):
        if dense[k] is None:
            return math.inf, amps
        y = x if k == L - 1 else hs[k + 1]
        S, pre, ei, e2 = _inv_act(net.layers[k], y, e_inf, e_2)
        A = dense[k][S]
        smin, n1 = _gram_inverse_norms(A)
        if smin == 0.0:
            amps[k] = math.inf
            return math.inf, amps
        amps[k] = 1.0 / smin
        r = A @ hs[k] - pre
        b2 = (float(np.linalg.norm(r)) + min(math.sqrt(S.sum()) * ei, e2)) / smin
        # float round-off of the residual itself: a relative 1e-12 of the data, made explicit
        b2 += 1e-12 * (1 + float(np.abs(pre).max(initial=0))) * math.sqrt(S.sum()) / smin
        e_inf, e_2 = min(b2, n1 * (float(np.abs(r).max(initial=0)) + ei)), b2
    return e_2, amps
