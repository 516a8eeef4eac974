"""Injective ReLU layers and networks by construction (Puthawala et al. 2022, Section 2-3).

* :func:`expansive_layer` -- the minimally expansive ``[B; -DB]`` (m = 2n) and
  ``[B; -DB; M]`` (any m >= 2n) of Corollary 2;
* :func:`corollary2_mlp` -- a chain of such layers (e.g. 32-80-200-500);
* :func:`corollary3_network` -- expansive injective blocks interleaved with
  random linear projections down to widths >= 2n + 1 (Corollary 3: injective
  almost surely, not layer by layer);
* :func:`theorem5_augment` -- the trick behind Theorem 5: put
  ``alpha ReLU(x), alpha ReLU(-x)`` beside any network, which makes it injective,
  with the approximation error reported.

Exactness.  A float-built ``[B; -DB]`` is in general *not* injective as the
rationals it stores: rounding ``-D B`` breaks exact antiparallelism.  Here
``B`` has integer entries (or, with ``conditioned=True``, entries that are
multiples of 2^-12 close to a random orthogonal matrix) and ``D`` has
entries ``k / 8`` with ``1 <= k <= 16``, so every product ``D_ii B_ij`` has at
most 20 significant bits: the float64 arrays returned store exactly the
intended rationals, and the layers are injective as stored.  ``exact=True``
returns :class:`fractions.Fraction` arrays instead.

Examples
--------
>>> import dsssolver as dss
>>> W, b = expansive_layer(3, 7, seed=0)
>>> W.shape, dss.certify(W, b).status
((7, 3), 'injective')
"""
from __future__ import annotations

from fractions import Fraction

import flint
import numpy as np

from ..errors import InvalidInputError

__all__ = ["expansive_layer", "corollary2_mlp", "corollary3_network", "theorem5_augment"]

_GRID = 2.0 ** -12  # conditioned B and projections are multiples of this: dyadic, exact in float64


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _int(v, name, low):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise InvalidInputError(f"{name} must be an integer >= {low}, got {v!r}")
    return int(v)


def _nonsingular(B):
    """Exact: the rows scaled by 2^12 are integers; FLINT's exact rank decides."""
    n = B.shape[0]
    return flint.fmpz_mat((B / _GRID).astype(np.int64).tolist()).rank() == n


def _basis(n, rng, conditioned):
    for _ in range(100):
        if conditioned:
            Q, R = np.linalg.qr(rng.standard_normal((n, n)))
            B = np.round(Q * np.sign(np.diag(R)) / _GRID) * _GRID
        else:
            B = rng.integers(-3, 4, size=(n, n)).astype(np.float64)
        if _nonsingular(B):
            return B
    raise RuntimeError("no nonsingular B found in 100 draws")  # pragma: no cover


def expansive_layer(n, m=None, *, seed=None, conditioned=False, bias=False, shuffle=False, exact=False):
    """An injective layer ``[B; -DB; M]`` with n inputs and m >= 2n outputs (Corollary 2).

    Parameters
    ----------
    n, m : int
        Input and output widths; ``m`` defaults to ``2n`` (the minimum).
    seed : int or numpy Generator, optional
    conditioned : bool
        ``B`` close to a random orthogonal matrix (entries multiples of 2^-12,
        condition number about 1) instead of small random integers.
    bias : bool
        Random biases with ``D_ii b_i + b_(n+i) >= 0``, which keeps the layer
        injective (each antiparallel pair is then a valid dependency).
    shuffle : bool
        Permute the rows (the structure is then hidden in the row order).
    exact : bool
        Return Fraction arrays; otherwise float64 arrays that store the same
        rationals exactly (see the module notes).

    Returns
    -------
    W : ndarray, shape (m, n)
    b : ndarray, shape (m,)

    Examples
    --------
    >>> W, b = expansive_layer(2, seed=1, bias=True)
    >>> W.shape, bool((W[:2] * W[2:] <= 0).all())
    ((4, 2), True)
    """
    n = _int(n, "n", 1)
    m = 2 * n if m is None else _int(m, "m", 2 * n)
    rng = _rng(seed)
    B = _basis(n, rng, conditioned)
    D = rng.integers(1, 17, size=n) / 8.0
    if conditioned:
        M = np.round(rng.standard_normal((m - 2 * n, n)) / np.sqrt(n) / _GRID) * _GRID
    else:
        M = rng.integers(-3, 4, size=(m - 2 * n, n)).astype(np.float64)
    W = np.vstack([B, -D[:, None] * B, M])
    b = np.zeros(m)
    if bias:
        bB = rng.integers(-2, 3, size=n).astype(np.float64)
        slack = rng.integers(0, 3, size=n) / 4.0
        b = np.concatenate([bB, -D * bB + slack, rng.integers(-2, 3, size=m - 2 * n).astype(np.float64)])
    if shuffle:
        p = rng.permutation(m)
        W, b = W[p], b[p]
    if exact:
        return (np.array([[Fraction(v) for v in r] for r in W.tolist()], dtype=object),
                np.array([Fraction(v) for v in b.tolist()], dtype=object))
    return W, b


def corollary2_mlp(widths, *, seed=None, conditioned=False, bias=False):
    """A chain of injective expansive layers, e.g. ``widths = [32, 80, 200, 500]``.

    Each step needs ``widths[k+1] >= 2 widths[k]``.  Returns ``[(W1, b1), ...]``
    (ReLU after each), injective layer by layer.
    """
    widths = [_int(w, "widths", 1) for w in widths]
    if len(widths) < 2:
        raise InvalidInputError("widths needs at least two entries")
    rng = _rng(seed)
    out = []
    for a, c in zip(widths, widths[1:]):
        if c < 2 * a:
            raise InvalidInputError(f"widths: {a} -> {c} is not expansive enough (needs >= {2 * a})")
        out.append(expansive_layer(a, c, seed=rng, conditioned=conditioned, bias=bias))
    return out


def corollary3_network(widths, *, seed=None):
    """Expansive injective blocks interleaved with random projections (Corollary 3).

    ``widths = [n, d1, d2, d3, d4, ...]``: layer ``2j-1`` is an injective
    ReLU layer ``[B; -DB; M]`` from ``d_(2j-2)`` to ``d_(2j-1) >= 2 d_(2j-2)``,
    layer ``2j`` a random linear projection (entries multiples of 2^-12)
    from ``d_(2j-1)`` down to ``d_(2j) >= 2n + 1``.  The network is injective
    almost surely, but a projection is not injective by itself, so only an
    end-to-end decision can prove it.

    Returns a list of ``(W, b, activation)`` layers.

    Examples
    --------
    >>> [(W.shape, act) for W, b, act in corollary3_network([1, 4, 3], seed=0)]
    [((4, 1), 'relu'), ((3, 4), 'linear')]
    """
    widths = [_int(w, "widths", 1) for w in widths]
    n = widths[0]
    if len(widths) < 3 or len(widths) % 2 == 0:
        raise InvalidInputError("widths must be [n, d1, d2, ...] with an even number of steps")
    rng = _rng(seed)
    out = []
    for j in range(1, len(widths), 2):
        a, up, down = widths[j - 1], widths[j], widths[j + 1]
        if up < 2 * a:
            raise InvalidInputError(f"widths: block {a} -> {up} needs {up} >= {2 * a}")
        if down < 2 * n + 1:
            raise InvalidInputError(f"widths: projections must keep >= 2n + 1 = {2 * n + 1} outputs")
        W, b = expansive_layer(a, up, seed=rng)
        out.append((W, b, "relu"))
        P = np.round(rng.standard_normal((down, up)) / _GRID) * _GRID
        out.append((P, np.zeros(down), "linear"))
    return out


def theorem5_augment(net, alpha, *, box):
    """``x -> [alpha ReLU(x), alpha ReLU(-x), N(x)]``: injective, and close to ``[0, 0, N(x)]``.

    The first block is the layer ``ReLU([alpha I; -alpha I] x)``, injective
    on R^n (antiparallel pairs), so the concatenation is injective whatever
    ``N`` is (the construction behind Theorem 5).  The error against
    ``F(x) = [0, 0, N(x)]`` is ``alpha ||x||_2``, whose largest value on the box
    is returned.

    Parameters
    ----------
    net : list
        The chain network ``N`` (anything :func:`dsssolver.certify_network` reads
        as a list).
    alpha : float
        The weight; a dyadic value (e.g. 2^-10) keeps it exact.
    box : (lo, hi)
        The bounded set the approximation error is measured on.

    Returns
    -------
    G : networkx.DiGraph
        Input node ``"x"``, the block ``"lift"`` and N's layers ``"N1" .. "Nk"``;
        outputs ``lift`` then ``Nk``.
    error : float
        ``alpha * max over the box of ||x||_2`` (attained at a corner).

    Examples
    --------
    >>> import dsssolver as dss
    >>> G, err = theorem5_augment([np.array([[1.0, 1.0]])], 2.0 ** -8, box=([-1, -1], [1, 1]))
    >>> dss.certify_network(G).status, round(err, 6)
    ('injective', 0.005524)
    """
    import networkx as nx

    from ..netmodel import as_layers

    layers = as_layers(net)
    n = layers[0].shape[1]
    a = float(alpha)
    if not a > 0 or not np.isfinite(a):
        raise InvalidInputError(f"alpha must be positive and finite, got {alpha!r}")
    lo, hi = (np.asarray(v, dtype=np.float64).ravel() for v in box)
    if lo.shape != (n,) or hi.shape != (n,) or not np.all(lo < hi):
        raise InvalidInputError(f"box must be (lo, hi) with {n} entries each and lo < hi")
    G = nx.DiGraph()
    G.add_node("x", dim=n)
    G.add_node("lift", layer=(np.vstack([a * np.eye(n), -a * np.eye(n)]), np.zeros(2 * n), "relu"))
    G.add_edge("x", "lift")
    prev = "x"
    for k, L in enumerate(layers, start=1):
        G.add_node(f"N{k}", layer=L)
        G.add_edge(prev, f"N{k}")
        prev = f"N{k}"
    err = a * float(np.linalg.norm(np.maximum(np.abs(lo), np.abs(hi))))
    return G, err
