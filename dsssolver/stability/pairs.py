"""The true inverse Lipschitz constant of a ReLU layer, bracketed from below and above.

For ``f(x) = ReLU(Wx + b)`` the constant is

    L(W, b) = inf over x != y of ||f(x) - f(y)|| / ||x - y||.

With ``S = min over cells of sigma_min(W_A)`` (:func:`inverse_lipschitz`):

**Theorem.**  ``S / sqrt(2) <= L <= S``.  The seed's ``C(W) = S / sqrt(2m)`` is
therefore loose by at least ``sqrt(m)``; ``S / sqrt(2)`` is attained by
``W = [I; -I]`` (S = 1, L = 1/sqrt(2)), so the factor ``1/sqrt(2)`` cannot be
improved in general.

*Proof.*  Upper bound: two points of the open cell attaining S, a short step
apart along the weakest right singular vector of its active rows, have ratio
exactly S.  Lower bound: let ``d = y - x``, ``x(u) = x + u d`` for u in [0, 1],
``A(u)`` the rows with ``w_i . x(u) + b_i >= 0`` and ``a_i = (w_i . d)^2``.
Row i is active on an interval of u that contains u = 1 if ``w_i . d > 0``
(an "increasing" row: active on ``[t_i, 1]``) and u = 0 if ``w_i . d < 0``
(active on ``[0, t_i]``).  Since ``d/du ReLU(w_i . x(u) + b_i) = 1[active] w_i . d``,

    f_i(y) - f_i(x) = tau_i (w_i . d),   tau_i = length of the active interval,

and ``tau_i^2 = (1 - t_i)^2 = int_{t_i}^1 2 (1 - u) du`` for increasing rows,
``tau_i^2 = t_i^2 = int_0^{t_i} 2 u du`` for decreasing ones.  Hence

    ||f(y) - f(x)||^2 = sum_i tau_i^2 a_i
        = int_0^1 [ 2 (1 - u) sum_{i in A(u), inc} a_i + 2 u sum_{i in A(u), dec} a_i ] du
        >= int_0^1 2 min(u, 1 - u) ||W_{A(u)} d||^2 du
        >= S^2 ||d||^2 int_0^1 2 min(u, 1 - u) du = S^2 ||d||^2 / 2,

using that rows with ``w_i . d = 0`` add nothing, and that ``A(u)`` is the
active set of a point, so ``sigma_min(W_{A(u)}) >= S`` (it contains the active
set of a full-dimensional cell nearby).  Biases change nothing in the argument.
The midpoint alone gives only ``S / 2``.  []

So the certified lower bound returned is ``lower_bound(S) / sqrt(2)``, with the
floating-point caveats of :func:`inverse_lipschitz` (the minimum over cells
rests on float LPs and float singular values).

**Upper estimate.**  Any pair gives an upper bound; its ratio is recomputed in
exact rational arithmetic (then rounded to float).  Pairs tried: two points of
the attaining cell (ratio S); for b = 0, segments through the origin
``x = -alpha d``, ``y = beta d``, whose best ratio for a direction d is
``sqrt(P N / (P + N))`` with ``P = ||ReLU(Wd)||^2``, ``N = ||ReLU(-Wd)||^2``; and
local minimisation (Adam on the ratio, with random restarts and these as
starting points).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_layer
from ..errors import InvalidInputError
from ..exact import fraction_matrix, to_fraction
from .cells import InverseLipschitzResult, inverse_lipschitz

__all__ = ["lipschitz_estimate", "LipschitzEstimate", "pair_ratio"]


@dataclass
class LipschitzEstimate:
    """A bracket ``lower <= L <= upper`` on the true inverse Lipschitz constant of one layer.

    Attributes
    ----------
    lower : float
        ``cells.lower_bound / sqrt(2)``: proved (see the module docstring).
    upper : float
        The ratio ``||f(x) - f(y)|| / ||x - y||`` of the best pair found
        (computed exactly, then rounded).
    pair : tuple of ndarray
        That pair ``(x, y)``.
    seed_value : float
        The seed's ``C(W) = S / sqrt(2m)`` for comparison.
    min_sigma : float
        S of the best cell (``cells.min_sigma``).
    cells : InverseLipschitzResult
        The branch-and-bound result the bounds come from.
    stats : dict
        ``restarts``, ``iterations``, ``seconds``, ``source`` (which start gave ``upper``).
    """

    lower: float
    upper: float
    pair: tuple
    seed_value: float
    min_sigma: float
    cells: InverseLipschitzResult
    stats: dict = field(default_factory=dict)

    @property
    def looseness(self):
        """``upper / seed_value``: how much larger the true constant is than the seed's bound (at least)."""
        return math.inf if self.seed_value == 0 else self.upper / self.seed_value


def pair_ratio(W, x, y, b=None):
    """``||ReLU(Wx + b) - ReLU(Wy + b)|| / ||x - y||`` with the squares computed exactly.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.vstack([np.eye(2), -np.eye(2)])
    >>> round(pair_ratio(W, [-1.0, 0.0], [1.0, 0.0]) ** 2, 15)
    0.5
    """
    rows = fraction_matrix(W)
    bq = [Fraction(0)] * len(rows) if b is None else [to_fraction(v) for v in b]
    xq, yq = [to_fraction(v) for v in x], [to_fraction(v) for v in y]
    den = sum(((q - p) ** 2 for p, q in zip(xq, yq)), Fraction(0))
    if den == 0:
        raise InvalidInputError("x and y must differ")
    num = Fraction(0)
    for r, bi in zip(rows, bq):
        fx = max(sum((a * v for a, v in zip(r, xq)), bi), 0)
        fy = max(sum((a * v for a, v in zip(r, yq)), bi), 0)
        num += (fy - fx) ** 2
    return math.sqrt(num / den)


def lipschitz_estimate(W: ArrayLike, b: ArrayLike | None = None, *, restarts: int = 32,
                       iterations: int = 300, seed: int = 0, time_limit: float | None = None,
                       tol: float = 1e-6,
                       cells: InverseLipschitzResult | None = None) -> LipschitzEstimate:
    """Bracket the true inverse Lipschitz constant ``L = inf ||f(x) - f(y)|| / ||x - y||``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,), optional
    restarts : int
        Random starting pairs for the local search (besides the structured starts).
    iterations : int
        Adam steps per start.
    seed : int
    time_limit : float, optional
        Passed to :func:`inverse_lipschitz` (the local search is short).
    tol : float
        Passed to :func:`inverse_lipschitz`.
    cells : InverseLipschitzResult, optional
        A result already computed for this layer (skips the branch-and-bound).

    Returns
    -------
    LipschitzEstimate

    Examples
    --------
    >>> import numpy as np, dsssolver as dss
    >>> est = dss.lipschitz_estimate(np.vstack([np.eye(2), -np.eye(2)]))
    >>> round(est.lower, 9), round(est.upper, 9), round(est.seed_value, 9)   # 1/sqrt(2), 1/sqrt(8)
    (0.707106781, 0.707106781, 0.353553391)
    """
    t0 = time.perf_counter()
    try:
        W, b = as_layer(W, b)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(str(exc)) from None
    if cells is None:
        cells = inverse_lipschitz(W, b, tol=tol, time_limit=time_limit)
    Wf, bf = np.array(W, dtype=float), np.array(b, dtype=float)
    starts = _structured_starts(Wf, bf, cells)
    rng = np.random.default_rng(seed)
    n = Wf.shape[1]
    for _ in range(restarts):
        x = rng.standard_normal(n) * rng.choice([0.1, 1.0, 10.0])
        starts.append(("random", x, x + rng.standard_normal(n)))
    source, x, y = _best_pair(Wf, bf, starts, iterations)
    upper = pair_ratio(W, x, y, b)
    if cells.injective is False:
        # an exactly rank-deficient cell: x and x + eps v (v in its null space) have equal
        # outputs, so L = 0 exactly; the float pair above only approximates such a pair
        upper, source = 0.0, "rank-deficient cell (exact)"
    m = Wf.shape[0]
    S = cells.min_sigma
    return LipschitzEstimate(
        lower=cells.lipschitz_lower, upper=upper, pair=(x, y),
        seed_value=S / math.sqrt(2 * m) if math.isfinite(S) else math.nan,
        min_sigma=S, cells=cells,
        stats={"restarts": restarts, "iterations": iterations, "source": source,
               "seconds": time.perf_counter() - t0})


def _structured_starts(W, b, cells):
    """Pairs inside the attaining cell; for b = 0, segments through the origin along the right
    singular vectors of W and the attaining cell's weakest direction, split at the best point."""
    starts = []
    _, _, Vt = np.linalg.svd(W)
    directions = list(Vt)
    if cells.active and np.all(np.isfinite(cells.point)):
        _, _, Vt = np.linalg.svd(W[list(cells.active)])  # full V: Vt[-1] is weakest (or null)
        d = Vt[-1]
        directions.append(d)
        x = cells.point
        v = W @ x + b
        # the largest step along d that stays in the cell (every sign kept)
        rate = np.abs(W @ d)
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(rate > 0, np.abs(v) / rate, np.inf).min()
        step = 0.5 * room if np.isfinite(room) and room > 0 else 1.0
        starts.append(("cell", x, x + step * d))
    if not np.any(b):
        for d in directions + [-d for d in directions]:
            P = np.sum(np.maximum(W @ d, 0) ** 2)
            N = np.sum(np.maximum(-(W @ d), 0) ** 2)
            if P > 0 and N > 0:  # best split of a segment through 0: x = -N' d, y = P' d
                starts.append(("origin", -(P / (P + N)) * d, (N / (P + N)) * d))
            else:
                starts.append(("origin", -0.5 * d, 0.5 * d))
    return starts


def _ratio2_and_grad(W, b, X, Y):
    """Squared ratio of each pair (rows of X, Y) and its gradient in X and Y."""
    D = Y - X
    den = np.maximum(np.sum(D * D, axis=1), 1e-300)
    zx, zy = X @ W.T + b, Y @ W.T + b
    g = np.maximum(zy, 0) - np.maximum(zx, 0)
    num = np.sum(g * g, axis=1)
    r2 = num / den
    gy = 2 * ((zy >= 0) * g) @ W
    gx = -2 * ((zx >= 0) * g) @ W
    gY = (gy - 2 * r2[:, None] * D) / den[:, None]
    gX = (gx + 2 * r2[:, None] * D) / den[:, None]
    return r2, gX, gY


def _best_pair(W, b, starts, iterations):
    """Adam on the squared ratio from every start; the best pair seen anywhere wins."""
    X = np.array([s[1] for s in starts], dtype=float)
    Y = np.array([s[2] for s in starts], dtype=float)
    k, x, y, _ = adam_pairs(lambda X, Y: _ratio2_and_grad(W, b, X, Y), X, Y, iterations,
                            normalise=not np.any(b))
    return starts[k][0], x, y


def adam_pairs(fun, X, Y, iterations, normalise=False, lr=0.02):
    """Minimise a pair ratio by Adam from each row of (X, Y); return the best pair seen.

    ``fun(X, Y)`` returns the squared ratios and their gradients in X and Y.
    Steps are scaled by ``||y - x||`` (the ratio is scale-free in d); with
    ``normalise`` (b = 0: the ratio is invariant under joint scaling) every pair
    is rescaled to ``||y - x|| = 1``.  Returns ``(index, x, y, r2)``.
    """
    n = X.shape[1]
    best_r2 = np.full(X.shape[0], np.inf)
    best_X, best_Y = X.copy(), Y.copy()
    P = np.hstack([X, Y])
    m1, m2 = np.zeros_like(P), np.zeros_like(P)
    for t in range(iterations + 1):
        r2, gX, gY = fun(P[:, :n], P[:, n:])
        better = r2 < best_r2
        best_r2[better], best_X[better], best_Y[better] = r2[better], P[better, :n], P[better, n:]
        if t == iterations:
            break
        G = np.hstack([gX, gY])
        m1 = 0.9 * m1 + 0.1 * G
        m2 = 0.999 * m2 + 0.001 * G * G
        scale = np.linalg.norm(P[:, n:] - P[:, :n], axis=1, keepdims=True)
        P = P - lr * scale * (m1 / (1 - 0.9 ** (t + 1))) / (np.sqrt(m2 / (1 - 0.999 ** (t + 1))) + 1e-12)
        if normalise:
            P = P / np.maximum(np.linalg.norm(P[:, n:] - P[:, :n], axis=1, keepdims=True), 1e-300)
    k = int(np.argmin(best_r2))
    return k, best_X[k], best_Y[k], float(best_r2[k])
