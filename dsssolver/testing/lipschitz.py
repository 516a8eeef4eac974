"""Brute-force reference for :func:`dsssolver.inverse_lipschitz` (tiny layers only).

Every sign pattern of the non-zero rows is tried, depth-first over the rows,
and each partial pattern is decided exactly by the rational phase-1 simplex
of :mod:`dsssolver.exact.simplex` (no floating point): a partial pattern with no solution cuts off all its
extensions, so each full-dimensional cell is reached exactly once.  For each
cell ``sigma_min`` of its active rows is a float SVD.  Shares no code with the
branch-and-bound of :mod:`dsssolver.stability` (no HiGHS, no bounds, no pruning).

Examples
--------
>>> import numpy as np
>>> ref = reference_min_sigma(np.vstack([np.eye(2), -np.eye(2)]))
>>> ref.min_sigma, len(ref.cells)
(1.0, 4)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validate import as_layer
from ..exact import fraction_matrix, strict_system, to_fraction

__all__ = ["reference_min_sigma", "ReferenceCells"]


@dataclass
class ReferenceCells:
    """All full-dimensional cells of a small layer and the least ``sigma_min``.

    Attributes
    ----------
    min_sigma : float
    value : float
        The seed's ``C(W) = min_sigma / sqrt(2m)``.
    active : tuple of int
        Active rows of a cell attaining the minimum (zero rows with b >= 0 included).
    point : tuple of Fraction
        An exact interior point of that cell.
    cells : list of (tuple, float)
        Every cell as (active rows, sigma_min).
    """

    min_sigma: float
    value: float
    active: tuple
    point: tuple
    cells: list


def reference_min_sigma(W, b=None, max_rows=16):
    """Enumerate every cell exactly and return the least ``sigma_min`` of its active rows.

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,), optional
    max_rows : int
        Refuse more non-zero rows than this (the walk can be exponential).

    Returns
    -------
    ReferenceCells
    """
    W, b = as_layer(W, b)
    m, n = W.shape
    Wq, bq = fraction_matrix(W), [to_fraction(v) for v in b]
    idx = [i for i in range(m) if any(Wq[i])]
    const_active = [i for i in range(m) if not any(Wq[i]) and bq[i] >= 0]
    if len(idx) > max_rows:
        raise ValueError(f"reference_min_sigma walks 2^k sign patterns; k = {len(idx)} > {max_rows}")
    rows = [Wq[i] + [bq[i]] for i in idx]
    Wf = np.array(W, dtype=float)
    cells = []
    stack = [((), [], [to_fraction(0)] * n)]  # (signs so far, rows kept < 0, a point of the cell)
    while stack:
        signs, cons, x = stack.pop()
        k = len(signs)
        if k == len(idx):
            active = tuple(sorted(const_active + [idx[j] for j in range(k) if signs[j] > 0]))
            cells.append((active, _sigma_min(Wf[list(active)], n), tuple(x)))
            continue
        here = sum((a * v for a, v in zip(rows[k], x)), rows[k][n])  # w_k . x + b_k, exactly
        for s in (1, -1):  # s (w.x + b) > 0  <=>  -s (w.x + b) < 0
            new = cons + [[-s * t for t in rows[k]]]
            if s * here > 0:  # the parent's point is in this child: no LP needed
                stack.append((signs + (s,), new, x))
                continue
            kind, sol = strict_system(new)
            if kind == "feasible":
                z, t = sol
                stack.append((signs + (s,), new, [v / t for v in z]))
    best = min(cells, key=lambda c: c[1])
    return ReferenceCells(best[1], best[1] / math.sqrt(2 * m), best[0], best[2],
                          [(c[0], c[1]) for c in cells])


def _sigma_min(A, n):
    """The n-th singular value (0 for fewer than n rows)."""
    return 0.0 if A.shape[0] < n else float(np.linalg.svd(A, compute_uv=False)[n - 1])
