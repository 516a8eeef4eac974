"""Generators whose last layer ends in tanh or a sigmoid (image outputs), inverted through
the activation's inverse.

``x = sigma(W_L h + b_L)`` with sigma strictly increasing, so the last layer's
pre-activation is ``sigma^{-1}(x)`` entry by entry and the rest is the layerwise inversion
of a network whose last layer is linear.  Two things need care:

* **Saturation.** Near the ends of sigma's range its inverse is steep: an entry
  ``x_i = 1 - 1e-15`` of a tanh output is a float with 16 digits, but its pre-activation
  ``atanh(x_i)`` is known to about one, and ``x_i = 1`` (float tanh of anything above ~19)
  fixes no pre-activation at all.  Such entries are left out of the LPs: an entry is kept
  when ``sigma^{-1}`` is at most ``AMP_CAP`` times steeper over ``x_i``'s noise interval
  than at the middle of the range (at least n entries are kept, the least steep), or, for
  exact data, when its rounding, ``2^-52`` times that slope, stays ``1e-3 tol`` below
  the tolerance.  Leaving equations out is always safe
  (the true code still satisfies the rest); whether the code found meets the entries left
  out is checked on ``x`` itself, and the message says how many were left out.
* **Evidence.** ``sigma^{-1}(x)`` is computed in floating point and is not ``x``'s exact
  pre-activation, so the exact end-to-end uniqueness evidence of
  :mod:`dsssolver.invert.exact` does not pass through sigma: ``unique`` is None, and the
  message reports what the inner inversion proved about the rounded targets.

Noise on ``x`` becomes noise on the pre-activation scaled by ``sigma^{-1}``'s slope: an
l_inf bound ``eps`` gives the bound ``eps * max_i slope_i`` over the kept entries (slope
taken at the steep end of ``[x_i - eps, x_i + eps]``), a standard deviation the same
factor (to first order), and an estimated level is estimated on the pre-activations.
``error_bound`` then holds in that sense.  The residual reported is ``||G(z) - x|| /
||x||`` on every entry of ``x``.

Examples
--------
>>> import numpy as np, dsssolver as dss
>>> rng = np.random.default_rng(1)
>>> layers = [(rng.normal(size=(30, 4)), None), (rng.normal(size=(60, 30)) / 6, None)]
>>> net = dss.layers.as_network(layers, last_activation="tanh")
>>> z = rng.normal(size=4)
>>> res = dss.invert(net, net.forward(z))
>>> res.status, bool(np.allclose(res.z, z, atol=1e-8)), res.unique
('exact', True, None)
"""
from __future__ import annotations

import math

import numpy as np

from ..layers import Layer, Network, SparseMatrix
from .noise import NoiseLevel, beyond_noise
from .result import APPROXIMATE, EXACT, FAILED, INFEASIBLE, JOINT, make_result

__all__ = ["SQUASHES", "AMP_CAP", "inverse", "inverse_slope", "keep_rows", "invert_one"]

SQUASHES = ("tanh", "sigmoid")
#: an entry is used by the LPs when sigma^{-1} is at most this many times steeper on it
#: than at the middle of sigma's range (tanh: |x| + noise <= 0.9487)
AMP_CAP = 10.0
_MIDDLE = {"tanh": 1.0, "sigmoid": 4.0}  # sigma^{-1}'s slope at the middle of the range
_BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # the closed range of sigma's outputs
_EPS = 2.0 ** -52


def inverse(name, y):
    """sigma^{-1}(y) for y inside sigma's open range."""
    y = np.asarray(y, dtype=np.float64)
    if name == "tanh":
        return np.arctanh(y)
    return np.log(y) - np.log1p(-y)


def inverse_slope(name, y):
    """The slope of sigma^{-1} at y (inf at or beyond the ends of the range)."""
    y = np.asarray(y, dtype=np.float64)
    d = 1.0 - y * y if name == "tanh" else y * (1.0 - y)
    with np.errstate(divide="ignore"):
        return np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), np.inf)


def outside(name, x, margin=0.0):
    """Entries no output of sigma can have, not even rounded, nor moved by noise up to
    ``margin``."""
    lo, hi = _BOUNDS[name]
    return (x < lo - margin) | (x > hi + margin)


def _range(name):
    return "[{:g}, {:g}]".format(*_BOUNDS[name])


def _steepest(name, x, eps):
    """sigma^{-1}'s largest slope on ``[x - eps, x + eps]`` (inf where that leaves the range)."""
    if name == "tanh":
        return inverse_slope(name, np.abs(x) + eps)
    near = np.minimum(x - eps, 1.0 - x - eps)  # distance to the nearer end of (0, 1)
    return np.where(near > 0, inverse_slope(name, np.clip(near, 0.0, 0.5)), np.inf)


def keep_rows(name, x, eps, n, *, tol=None):
    """Entries of x whose pre-activation the LPs use, and sigma^{-1}'s slope on each.

    Parameters
    ----------
    name : {"tanh", "sigmoid"}
    x : ndarray
    eps : float
        An l_inf bound on x's noise (0 for exact data).
    n : int
        The last layer's input dimension.  Noisy data: if the cap leaves fewer than n
        entries, the n least steep entries inside the range are kept (the noise bound
        carried to the pre-activations grows with them, honestly).
    tol : float, optional
        Exact data: keep an entry only if its rounding, carried through sigma^{-1}, stays
        ``1e-3 tol`` below the tolerance; never more (an entry read from x to a few digits
        is not an equation; with fewer than n rows the joint MILP takes over below).

    Returns
    -------
    keep : ndarray of bool
    slope : ndarray
        ``_steepest`` per entry (inf for entries outside the range).
    """
    slope = _steepest(name, x, eps)
    inside = np.isfinite(slope)
    if tol is None:
        cap = AMP_CAP * _MIDDLE[name]
    else:
        cap = 1e-3 * tol / _EPS
    keep = inside & (slope <= cap)
    if tol is None and keep.sum() < n <= inside.sum():
        keep = inside & (slope <= np.sort(slope[inside])[n - 1])
    elif tol is None and keep.sum() < n:
        keep = inside
    return keep, slope


def _inner_network(net, keep):
    """The same network with a linear last layer restricted to the kept rows."""
    last = net.layers[-1]
    W = last.W.take_rows(keep) if isinstance(last.W, SparseMatrix) else last.W[keep]
    return Network(list(net.layers[:-1]) + [Layer(W, last.b[keep], "linear", 0.0)])


#: inner Inverters kept per Inverter (a batch of outputs with the same kept entries and noise
#: reuses one, and with it its warm HiGHS models)
_CACHE_SIZE = 8


def _inner_inverter(inv, keep, opts):
    """The inner Inverter for these kept rows and options (cached on ``inv``)."""
    cache = inv.__dict__.setdefault("_squash_inners", {})
    key = (np.packbits(keep).tobytes(), len(keep), opts.get("noise"), opts.get("noise_std"))
    if key not in cache:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        inner = type(inv)(_inner_network(inv.net, keep), **opts)
        inner.float_targets = True
        cache[key] = inner
    return cache[key]


def invert_one(inv, x):
    """Invert one output of ``inv.net`` (last activation tanh or sigmoid).

    ``inv`` is the :class:`~dsssolver.invert.layerwise.Inverter` holding the network and
    the options; an inner Inverter (of the same class, so this module need not import it)
    over the linear-output network does the work.
    """
    name = inv.net.layers[-1].activation
    n = inv.net.layers[-1].shape[1]
    exact = inv.method == "exact"
    opts = dict(inv.options)
    if exact:
        keep, slope = keep_rows(name, x, 0.0, n, tol=inv.tol)
    elif inv.noise is not None:
        keep, slope = keep_rows(name, x, inv.noise, n)
        opts["noise"] = inv.noise * float(slope[keep].max(initial=0.0))
    elif inv.noise_std is not None:
        # a margin of three standard deviations for the slope; to first order the
        # pre-activation's noise has the standard deviation times the slope
        keep, slope = keep_rows(name, x, 3 * inv.noise_std, n)
        opts["noise_std"] = inv.noise_std * float(slope[keep].max(initial=0.0))
    else:
        keep, slope = keep_rows(name, x, 0.0, n)
    # noisy data may step past the end of the range by up to the noise: only an l_inf
    # bound can say an entry is too far out; otherwise such entries are merely left out
    if exact or inv.noise is not None:
        bad = np.flatnonzero(outside(name, x, 0.0 if exact else inv.noise))
    else:
        bad = np.array([], dtype=np.int64)
    if keep.sum() == 0:
        return _no_rows(inv, x, name, bad)
    inner = _inner_inverter(inv, keep, opts)
    res = inner._invert_one(inverse(name, x[keep]))
    left = int(len(x) - keep.sum())
    note = (f"{name} output: {int(keep.sum())} of {len(x)} entries inverted through "
            f"{name}^-1" + (f", {left} near or at saturation left out" if left else ""))
    if res.layers:
        info = res.layers[-1]
        info.message = f"{info.message}; {note}" if info.message else note
    if res.status == FAILED:
        res.message = f"{res.message} ({note})"
        return res
    r = inv.net.forward(res.z) - x
    res.residual = float(np.linalg.norm(r) / max(np.linalg.norm(x), 1e-300))
    # the level given for x (not the one carried to the pre-activations inside)
    level = inv._level(x) if inv.noise is not None or inv.noise_std is not None else None
    if level is not None:
        res.noise = level.inf
    what = res.unique
    res.unique = None
    if bad.size:
        i = int(bad[0])
        res.status, res.success = INFEASIBLE, False
        res.error_bound = math.inf  # nothing to bound: no code gives x
        res.message = (f"no z gives x: x[{i}] = {x[i]:.6g} is outside {name}'s range "
                       f"{_range(name)}; z inverts the entries inside it ({note})")
        return res
    if exact and res.status in (EXACT, JOINT) and res.residual > inv.tol:
        res.status, res.success = FAILED, False
        res.message = (f"z fits {name}^-1 of the kept entries, but ||G(z) - x|| / ||x|| = "
                       f"{res.residual:.3g} > tol {inv.tol:g}: the entries left out are not "
                       f"met ({note})")
        return res
    # the residual against the noise, on x itself (the entries left out included)
    why = beyond_noise(r, x, level) if res.status == APPROXIMATE and level else None
    if why:  # not proof that no code fits (the entries left out were never fitted)
        res.status, res.success = FAILED, False
        res.message = f"{why}: no fit within the noise was found, x may have none ({note})"
        return res
    if res.stability_amplification is not None:  # the inner's: pre-activation space
        note += (f"; stability_amplification is that of the network before the {name} "
                 f"(||z - z'|| <= A ||pre(z) - pre(z')|| on the kept entries; {name} itself "
                 f"saturates, so no such bound holds on x), and stability_bound carries x's "
                 f"noise through {name}^-1's slope (at most {float(slope[keep].max()):.3g} "
                 "on the kept entries)")
    tail = {True: f"; a single preimage for the rounded {name}^-1(x) by exact per-layer "
                  "evidence, not exact evidence for x itself",
            False: f"; the preimage of the rounded {name}^-1(x) is not a single point"}
    res.message = f"{res.message} ({note}{tail.get(what, '')})"
    return res


def _no_rows(inv, x, name, bad):
    """Every entry is saturated or outside the range: nothing to invert from."""
    why = (f"x[{int(bad[0])}] = {x[int(bad[0])]:.6g} is outside {name}'s range {_range(name)}"
           if bad.size else f"every entry of x is at {name}'s saturation")
    status = INFEASIBLE if bad.size else FAILED
    level = NoiseLevel.exact()
    return make_result(np.full(inv.net.latent_dim, np.nan), status,
                       f"{why}: no pre-activation can be read from x", math.nan, None,
                       inv.method, [], 0.0, 0.0, None, level.inf, level.source)
