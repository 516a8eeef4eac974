"""Inverse Lipschitz constants of a ReLU network, layer by layer and end to end.

For ``N = f_L o ... o f_1`` with ``f_k(h) = ReLU(W_k h + b_k)``,
``||N(x) - N(y)|| >= prod_k L_k ||x - y||`` where ``L_k`` is layer k's constant
on all of its input space (hidden inputs are ReLU outputs, a subset, where the
infimum can only be larger).  So the product of the per-layer lower bounds
``S_k / sqrt(2)`` (:func:`lipschitz_estimate`) is a lower bound for the network,
and the product of the seed's ``C(W_k)`` is a weaker one.  The sampled estimate
is the smallest ratio ``||N(x) - N(y)|| / ||x - y||`` found by local search
from random pairs (float arithmetic): an upper bound on the network's constant
(it is attained by that pair), not a certified value.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_layer
from ..errors import InvalidInputError
from .cells import inverse_lipschitz
from .pairs import adam_pairs

__all__ = ["network_lipschitz", "NetworkLipschitz"]


@dataclass
class NetworkLipschitz:
    """Bounds on a network's inverse Lipschitz constant ``inf ||N(x) - N(y)|| / ||x - y||``.

    Attributes
    ----------
    lower : float
        ``prod_k lower_bound_k / sqrt(2)``: the product of the proved per-layer bounds.
    seed_product : float
        ``prod_k C(W_k)``, the seed's Theorem 3 applied layer by layer.
    sampled : float
        The least ratio found by local search over pairs (an upper bound).
    pair : tuple of ndarray
        The pair attaining ``sampled``.
    layers : list of InverseLipschitzResult
        Per-layer branch-and-bound results (status "unknown" ones still give valid bounds).
    stats : dict
        ``samples``, ``iterations``, ``seconds``.
    """

    lower: float
    seed_product: float
    sampled: float
    pair: tuple
    layers: list
    stats: dict = field(default_factory=dict)


def _as_layers(layers):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise InvalidInputError("layers must be a non-empty list of (W, b) pairs")
    out = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise InvalidInputError(f"layers[{k}] must be a pair (W, b)")
        try:
            W, b = as_layer(*layer)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"layers[{k}]: {exc}") from None
        if out and W.shape[1] != out[-1][0].shape[0]:
            raise InvalidInputError(f"layers[{k}].W has {W.shape[1]} columns but layer {k - 1} "
                                    f"outputs {out[-1][0].shape[0]} values")
        out.append((np.array(W, dtype=float), np.array(b, dtype=float)))
    return out


def network_lipschitz(layers, *, time_limit=None, samples=256, iterations=300, seed=0):
    """Lower bounds (per-layer products) and a sampled estimate of a network's inverse Lipschitz constant.

    Parameters
    ----------
    layers : list of (W, b)
        ``W_k`` of shape (m_k, m_{k-1}), ``b_k`` of shape (m_k,) or None; ReLU after each.
    time_limit : float, optional
        Seconds for each layer's :func:`inverse_lipschitz`.
    samples : int
        Random starting pairs of the local search.
    iterations : int
        Adam steps per pair.
    seed : int

    Returns
    -------
    NetworkLipschitz

    Examples
    --------
    >>> import numpy as np
    >>> J = np.vstack([np.eye(2), -np.eye(2)])
    >>> res = network_lipschitz([(J, None), (np.vstack([np.eye(4), -np.eye(4)]), None)], samples=16)
    >>> round(res.lower, 6), round(res.seed_product, 6)    # (1/sqrt 2)^2, 1/sqrt(8) * 1/sqrt(16)
    (0.5, 0.088388)
    >>> res.lower <= res.sampled
    True
    """
    t0 = time.perf_counter()
    net = _as_layers(layers)
    results = [inverse_lipschitz(W, b, time_limit=time_limit) for W, b in net]
    lower = math.prod(r.lipschitz_lower for r in results)
    seed_product = math.prod(r.lower_bound / math.sqrt(2 * r.shape[0]) for r in results)
    sampled, pair = _sampled(net, samples, iterations, seed)
    return NetworkLipschitz(lower, seed_product, sampled, pair, results,
                            {"samples": samples, "iterations": iterations,
                             "seconds": time.perf_counter() - t0})


def _forward(net, X):
    """Pre-activations and outputs of every layer for a batch X (rows)."""
    masks, h = [], X
    for W, b in net:
        z = h @ W.T + b
        masks.append(z >= 0)
        h = np.maximum(z, 0)
    return masks, h


def _backward(net, masks, g):
    for (W, _), mask in zip(reversed(net), reversed(masks)):
        g = (g * mask) @ W
    return g


def _ratio2_and_grad(net, X, Y):
    mx, hx = _forward(net, X)
    my, hy = _forward(net, Y)
    D = Y - X
    den = np.maximum(np.sum(D * D, axis=1), 1e-300)
    g = hy - hx
    r2 = np.sum(g * g, axis=1) / den
    gY = (2 * _backward(net, my, g) - 2 * r2[:, None] * D) / den[:, None]
    gX = (-2 * _backward(net, mx, g) + 2 * r2[:, None] * D) / den[:, None]
    return r2, gX, gY


def _sampled(net, samples, iterations, seed):
    """Local search from random pairs at several scales; the best pair seen wins."""
    rng = np.random.default_rng(seed)
    n = net[0][0].shape[1]
    scale = rng.choice([0.1, 1.0, 10.0], size=(samples, 1))
    X = rng.standard_normal((samples, n)) * scale
    Y = X + rng.standard_normal((samples, n)) * scale * rng.choice([0.01, 1.0], size=(samples, 1))
    homogeneous = not any(np.any(b) for _, b in net)
    _, x, y, r2 = adam_pairs(lambda X, Y: _ratio2_and_grad(net, X, Y), X, Y, iterations,
                             normalise=homogeneous)
    return math.sqrt(r2), (x, y)
