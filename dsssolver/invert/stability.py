"""Global (all-pairs) error amplification of each layer, for ``invert(..., stability=...)``.

For a ReLU layer ``f(u) = ReLU(W u + b)`` and every pair of inputs,

    ||u - u'|| <= (sqrt(2) / S) ||f(u) - f(u')||,    S = min over cells of sigma_min(W_A),

(``dsssolver.stability.lipschitz_estimate`` has the proof; Puthawala et al. 2022, Theorem 3
states the weaker ``sqrt(2m) / S`` for b = 0, reported beside it).  ``S`` is bounded from below
by :func:`dsssolver.inverse_lipschitz` (a branch-and-bound over the cells, floating-point LPs;
its ``lower_bound`` is valid even when a time limit stops it).  A linear last layer has
``||u - u'|| <= ||W (u - u')|| / sigma_min(W)``, a LeakyReLU one the same over ``min(1, slope)``.

Unlike the local ``LayerInfo.amplification`` (``1 / sigma_min`` of the rows active at the found
point) these bounds hold for every pair of inputs, so for the whole network

    ||z - z_true|| <= prod_k a_k ||G(z) - G(z_true)|| <= prod_k a_k (||G(z) - x|| + ||x - G(z_true)||),

whatever ``z`` a method returned.  They are computed once per layer and kept by the
:class:`~dsssolver.invert.Inverter`.

Examples
--------
>>> import numpy as np
>>> W = np.vstack([np.eye(2), -np.eye(2)])
>>> st = layer_stability(W, None, "relu", 0.1, time_limit=5.0)
>>> st["status"], round(st["S_lower"], 9), round(st["amplification"], 9), round(st["theorem3"], 9)
('optimal', 1.0, 1.414213562, 2.828427125)
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import InvalidInputError
from ..stability import inverse_lipschitz

__all__ = ["layer_stability", "stability_time_limit", "DEFAULT_TIME_LIMIT"]

#: seconds of branch-and-bound per layer for ``stability=True``
DEFAULT_TIME_LIMIT = 30.0


def stability_time_limit(value):
    """``stability`` option -> seconds per layer, or None for off (raises on bad values)."""
    if value is False or value is None:
        return None
    if value is True:
        return DEFAULT_TIME_LIMIT
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"stability must be True, False or a time limit in seconds > 0, "
                                f"got {value!r}")
    return float(value)


def layer_stability(W, b, activation, negative_slope, *, time_limit):
    """The global amplification bound of one layer, as a dict for :class:`LayerInfo`.

    Parameters
    ----------
    W : ndarray, shape (m, n)
    b : ndarray, shape (m,), or None
    activation : {"relu", "linear", "leaky_relu"}
    negative_slope : float
    time_limit : float
        Seconds for the branch-and-bound (ReLU layers).

    Returns
    -------
    dict
        ``status`` ("optimal": S computed to its tolerance, "unknown": a limit stopped the
        search and ``S_lower`` is what it proved, "exact" for linear / LeakyReLU layers),
        ``S_lower``, ``S_upper`` (the best cell found), ``amplification`` (the proved
        ``sqrt(2) / S_lower``, ``inf`` when ``S_lower`` is 0), ``theorem3`` (Puthawala et al.'s
        ``sqrt(2m) / S_lower``), ``seconds``, ``message``.
    """
    t0 = time.perf_counter()
    m = W.shape[0]
    if activation != "relu":
        sv = np.linalg.svd(W, compute_uv=False)
        s = float(sv[-1]) if m >= W.shape[1] else 0.0
        if activation == "leaky_relu":
            s *= min(1.0, negative_slope)
        amp = math.inf if s <= 0 else 1.0 / s
        return dict(status="exact", S_lower=s, S_upper=s, amplification=amp, theorem3=amp,
                    seconds=time.perf_counter() - t0,
                    message=f"{activation} layer: 1 / sigma_min(W)"
                    + (" / min(1, slope)" if activation == "leaky_relu" else ""))
    res = inverse_lipschitz(W, b, time_limit=time_limit)
    lo = float(res.lower_bound)
    return dict(status=res.status, S_lower=lo, S_upper=float(res.min_sigma),
                amplification=math.inf if lo <= 0 else math.sqrt(2.0) / lo,
                theorem3=math.inf if lo <= 0 else math.sqrt(2.0 * m) / lo,
                seconds=time.perf_counter() - t0, message=res.message)
