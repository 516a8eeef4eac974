"""Least-squares refinement: ``min ||G(z) - x||_2`` from an LP answer, to a local minimum.

``G`` is piecewise linear: with the on/off pattern of every ReLU fixed at ``z``,
``G(z + d) = G(z) + J d`` near z, so the loss is a convex quadratic on each linear piece
(a polyhedron of z-space) and continuous across pieces.  :func:`gauss_newton` takes
Gauss-Newton steps (the linear least-squares problem of the current piece), re-reads the
pattern after every step and accepts a step only if the true loss decreases.

A plain Gauss-Newton iteration stalls at a *kink*: when the minimum of the current
piece's quadratic lies outside the piece, the iterate ends on (or next to) the piece's
boundary, every step towards that minimum crosses into a neighbouring piece where the
loss rises, and backtracking finds no decrease although one exists along the boundary
(gradient descent, which re-reads the pattern at every small step, slides along it).  At
such a stall the units the step would cross first (at most ``kinks`` of them) are
enumerated: each is kept on its kink (the linearised constraint ``p_i(z + d) = 0``) or read
as on or off, and the least-squares step of every such choice is tried on the true loss.
If ``z`` is not a local minimum, the minimiser of some adjacent piece's convex problem is
one of these steps (its active constraints are kinks), so one of them decreases the loss;
when none does, ``z`` is a local minimum up to the tolerance.  Started from the layerwise
l_1 LP's answer, which sits in the right piece or next to it, this reaches the local
least-squares minimum gradient descent aims at, without restarts and to the precision of a
least-squares solve (relative decrease below ``rtol``).

Examples
--------
>>> import numpy as np
>>> from dsssolver.layers import as_network
>>> net = as_network([(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None)])
>>> x = net.forward(np.array([1.0, 2.0])) + np.array([0.01, -0.01, 0.0])
>>> z = gauss_newton(net, np.array([0.9, 2.1]), x)
>>> np.round(z, 6)
array([1.01, 1.99])

A kink: with ``G(z) = (relu(z), z)`` and ``x = (-2, 1)`` the loss is ``(relu(z) + 2)^2 +
(z - 1)^2``; each piece's minimum (-0.5 for z > 0, 1 for z < 0) lies in the other piece, so
the least-squares minimum is the kink z = 0, where every full step overshoots.

>>> net = as_network([(np.array([[1.0], [-1.0]]), None),
...                   (np.array([[1.0, 0.0], [1.0, -1.0]]), None)], last_activation="linear")
>>> float(abs(gauss_newton(net, np.array([0.5]), np.array([-2.0, 1.0]))[0])) < 1e-12
True
"""
from __future__ import annotations

import itertools

import numpy as np

__all__ = ["gauss_newton", "jacobian"]

#: a pre-activation within this of 0 (relative to the layer's largest) is on its kink
_ON_KINK = 1e-12


def _slopes(layer, p):
    """The activation's derivative at ``p`` (one-sided: 0 where a ReLU is exactly at 0)."""
    if layer.activation == "relu":
        return (p > 0).astype(np.float64)
    if layer.activation == "leaky_relu":
        return np.where(p >= 0, 1.0, layer.negative_slope)
    if layer.activation in ("tanh", "sigmoid"):
        a = layer.act(p)
        return 1.0 - a * a if layer.activation == "tanh" else a * (1.0 - a)
    return np.ones_like(p)


def _linearise(net, z, forced=None):
    """``(G(z), J, pres, grads)``: the output, its Jacobian, and per layer the
    pre-activations and (for layers with a kink) their gradients in z.

    ``forced`` maps ``(layer, unit)`` to a slope that replaces the unit's own in the
    Jacobian (the values stay the true ones): the linearisation of a neighbouring piece.
    """
    h = np.asarray(z, dtype=np.float64)
    J = np.eye(len(h))
    pres, grads = [], []
    for k, layer in enumerate(net.layers):
        p = layer.pre(h)
        P = layer.W @ J
        s = _slopes(layer, p)
        for (kk, i), v in (forced or {}).items():
            if kk == k:
                s[i] = v
        pres.append(p)
        grads.append(P if layer.activation in ("relu", "leaky_relu") else None)  # kinks
        J = P * s[:, None]
        h = layer.act(p)
    return h, J, pres, grads


def jacobian(net, z):
    """``(G(z), J)`` with ``J`` the Jacobian of G at z (one-sided where a ReLU is at 0)."""
    g, J, _, _ = _linearise(net, z)
    return g, J


def _loss(net, z, x):
    return float(((net.forward(z) - x) ** 2).sum())


def _backtrack(net, z, d, x, loss, halvings):
    """The first of ``z + d, z + d/2, ...`` with a lower loss: ``(z', loss')`` or None."""
    t = 1.0
    for _ in range(halvings + 1):
        zt = z + t * d
        lt = _loss(net, zt, x)
        if lt < loss:
            return zt, lt
        t *= 0.5
    return None


def _constrained_lstsq(J, r, C, e):
    """``argmin ||J d - r||`` subject to ``C d = e`` (C: a few rows), or None if C d = e
    has no solution."""
    if not len(C):
        return np.linalg.lstsq(J, r, rcond=None)[0]
    C = np.asarray(C)
    U, s, Vt = np.linalg.svd(C)
    rank = int((s > 1e-12 * max(s[0], 1e-300)).sum())
    if rank == 0:
        return None
    d0 = Vt[:rank].T @ ((U[:, :rank].T @ e) / s[:rank])
    if np.linalg.norm(C @ d0 - e) > 1e-9 * (1 + np.linalg.norm(e)):
        return None  # inconsistent kink constraints
    N = Vt[rank:].T
    if N.shape[1] == 0:
        return d0
    y = np.linalg.lstsq(J @ N, r - J @ d0, rcond=None)[0]
    return d0 + N @ y


def _blocking_units(net, pres, grads, d, kinks):
    """Units whose linearised pre-activation along ``z + t d`` reaches 0 first (t in [0, 1]),
    those already on their kink included: at most ``kinks`` of them, as (layer, unit)."""
    cand = []
    for k, (p, P) in enumerate(zip(pres, grads)):
        if P is None:
            continue
        rate = P @ d
        on_kink = np.abs(p) <= _ON_KINK * max(np.abs(p).max(initial=0.0), 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(on_kink, 0.0, -p / rate)
        hit = on_kink | ((t >= 0) & (t <= 1) & (rate != 0))
        cand.extend((float(t[i]), k, int(i)) for i in np.flatnonzero(hit))
    cand.sort()
    return [(k, i) for _, k, i in cand[:kinks]]


def _kink_step(net, z, x, loss, pres, grads, d, kinks, halvings):
    """The best of the steps that keep each blocking unit on its kink or read it as on or
    off (see the module docstring): ``(z', loss')`` with a lower loss, or None."""
    units = _blocking_units(net, pres, grads, d, kinks)
    if not units:
        return None
    best = None
    for states in itertools.product(("kink", "on", "off"), repeat=len(units)):
        forced = {}
        for (k, i), st in zip(units, states):
            layer = net.layers[k]
            off = layer.negative_slope if layer.activation == "leaky_relu" else 0.0
            forced[(k, i)] = 1.0 if st == "on" else off
        g, J, pres_s, grads_s = _linearise(net, z, forced)
        kink = [(k, i) for (k, i), st in zip(units, states) if st == "kink"]
        C = [grads_s[k][i] for k, i in kink]
        e = np.array([-pres_s[k][i] for k, i in kink])
        ds = _constrained_lstsq(J, x - g, C, e)
        if ds is None:
            continue
        got = _backtrack(net, z, ds, x, loss if best is None else best[1], halvings)
        if got is not None:
            best = got
    return best


def gauss_newton(net, z0, x, *, iters=100, rtol=1e-14, kinks=3, halvings=8):
    """Minimise ``||G(z) - x||_2`` from ``z0`` to a local minimum (monotone steps).

    Parameters
    ----------
    net : Network
    z0, x : ndarray
        The start and the output to fit.
    iters : int
        At most this many accepted steps.
    rtol : float
        Stop when no step lowers the squared loss by more than ``rtol`` times itself.
    kinks : int
        Units enumerated at a stall (3 ** kinks least-squares steps tried).
    halvings : int
        Backtracking halvings of each trial step.

    Returns
    -------
    ndarray
        z; its loss is never above ``z0``'s.
    """
    z = np.asarray(z0, dtype=np.float64).copy()
    x = np.asarray(x, dtype=np.float64)
    loss = _loss(net, z, x)
    for _ in range(iters):
        g, J, pres, grads = _linearise(net, z)
        d = np.linalg.lstsq(J, x - g, rcond=None)[0]
        got = _backtrack(net, z, d, x, loss, halvings)
        if got is None or loss - got[1] <= rtol * loss:
            kinked = _kink_step(net, z, x, loss, pres, grads, d, kinks, halvings)
            if kinked is not None and (got is None or kinked[1] < got[1]):
                got = kinked
        if got is None:
            break
        small = loss - got[1] <= rtol * loss
        z, loss = got
        if small:
            break
    return z
