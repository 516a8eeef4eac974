"""Exact decision of a homogeneous strict system, by a rational phase-1 simplex.

The search asks floating-point LPs whether ``w_i . x + b_i < 0 (i in R)`` is
solvable, and re-checks their answers exactly.  When the answer is too close
to call in floating point -- a cell 1e-16 wide, as in a ``[B; -DB]`` layer
built in float64, where rounding makes the pairs not quite antiparallel -- the
float certificates fail that check.  This module then decides the system in
exact arithmetic.

Homogenise with ``s``: the system is solvable iff ``A z < 0`` has a solution,
where ``A`` has the rows ``(w_i, b_i)`` for i in R and ``(0, -1)`` (s > 0).
By Gordan's theorem exactly one of these holds:

* some ``y >= 0``, ``sum y = 1``, with ``A^T y = 0`` (a Farkas certificate);
* some ``z`` with ``A z < 0``.

Phase 1 of the simplex method on ``{y >= 0 : A^T y = 0, 1^T y = 1}`` with
artificial variables finds the first, or ends with a positive infeasibility
whose dual ``pi`` gives the second: every column ``(a_i, 1)`` has reduced cost
``-(a_i . pi' + pi_last) >= 0`` with ``pi_last > 0``, so ``a_i . pi' < 0``.
Bland's rule prevents cycling.  The tableau is (n + 2) x (|R| + n + 3).

Examples
--------
>>> from fractions import Fraction as Q
>>> strict_system([[1, 0], [-1, 0]])         # x + 0 < 0 and -x + 0 < 0: no
('infeasible', {0: Fraction(1, 2), 1: Fraction(1, 2)})
>>> kind, (x, s) = strict_system([[1, -1], [-1, -1]])   # |x| < 1
>>> kind, s > 0
('feasible', True)
"""
from __future__ import annotations

from fractions import Fraction

import flint

__all__ = ["strict_system"]


def strict_system(rows, weak=(), max_pivots=100000):
    """Decide exactly whether ``w . x + b < 0`` holds for every row ``[w, b]`` (and
    ``a . x + e <= 0`` for every row ``[a, e]`` of ``weak``) at some ``x``.

    Parameters
    ----------
    rows : sequence of sequences of rationals
        Each row is ``[w_1, ..., w_n, b]``.
    weak : sequence of sequences of rationals
        Rows ``[a_1, ..., a_n, e]`` that must hold non-strictly (a domain's ``A x <= c``
        as ``[a, -c]``).
    max_pivots : int
        A safety bound; exceeded -> None.

    Returns
    -------
    ("feasible", (x, s)) or ("infeasible", {index: y}) or None
        ``x / s`` (with ``s > 0``) solves the system exactly; or the
        multipliers ``y >= 0`` (not all 0 on ``rows``) satisfy
        ``sum y_i w_i = 0`` and ``sum y_i b_i >= 0`` exactly, where indices
        ``len(rows) + k`` name row ``k`` of ``weak``.

    Examples
    --------
    >>> strict_system([[1, 1]], weak=[[-1, 0]])   # x + 1 < 0 and x >= 0: no
    ('infeasible', {0: Fraction(1, 2), 1: Fraction(1, 2)})
    """
    if not len(rows):
        return "feasible", ([], Fraction(1))
    rows = [[_q(v) for v in r] for r in rows]  # FLINT rationals: far faster than Fraction
    weak = [[_q(v) for v in r] for r in weak]
    k = len(rows[0])  # n + 1 homogeneous coordinates (x, s)
    zero, one = flint.fmpq(0), flint.fmpq(1)
    cols = rows + [[zero] * (k - 1) + [-one]] + weak  # the s > 0 row, then the weak rows
    ncol = len(cols)
    neq = k + 1  # A^T y = 0 (k rows) and 1^T y = 1 (over the strict rows)
    # tableau rows: [coefficients of y (ncol) | artificials (neq) | rhs]
    T = []
    for e in range(neq):
        if e < k:
            coeffs = [c[e] for c in cols]
        else:
            coeffs = [one] * (len(rows) + 1) + [zero] * len(weak)
        rhs = one if e == k else zero
        art = [one if a == e else zero for a in range(neq)]
        T.append(coeffs + art + [rhs])
    basis = [ncol + e for e in range(neq)]
    width = ncol + neq
    cost = [zero] * ncol + [one] * neq
    for _ in range(max_pivots):
        # reduced costs d_j = c_j - c_B . column_j
        cb = [cost[j] for j in basis]
        enter = None
        for j in range(width):
            if j in basis:
                continue
            d = cost[j] - sum(cb[r] * T[r][j] for r in range(neq) if T[r][j])
            if d < 0:
                enter = j  # Bland: the first improving column
                break
        if enter is None:
            break
        leave, best = None, None
        for r in range(neq):
            a = T[r][enter]
            if a > 0:
                ratio = T[r][-1] / a
                if best is None or ratio < best or (ratio == best and basis[r] < basis[leave]):
                    leave, best = r, ratio
        if leave is None:  # cannot happen: phase 1 is bounded below by 0
            return None
        _pivot(T, leave, enter)
        basis[leave] = enter
    else:
        return None
    value = sum(cost[basis[r]] * T[r][-1] for r in range(neq))
    if value == 0:
        y = {}
        for r, j in enumerate(basis):
            if j < len(rows) and T[r][-1] != 0:
                y[j] = _frac(T[r][-1])
        if not y:
            return None  # only the s-row: the weak rows alone are infeasible (an empty domain)
        for r, j in enumerate(basis):
            if len(rows) < j < ncol and T[r][-1] != 0:
                y[j - 1] = _frac(T[r][-1])  # weak row j - len(rows) - 1
        return "infeasible", y
    # optimal duals pi solve B^T pi = c_B; read them from the artificial columns:
    # for artificial column e (identity in the original tableau) the current
    # column is B^-1 e_e, and pi_e = c_e - d_e = 1 - reduced cost of artificial e
    cb = [cost[j] for j in basis]
    pi = []
    for e in range(neq):
        j = ncol + e
        d = cost[j] - sum(cb[r] * T[r][j] for r in range(neq) if T[r][j])
        pi.append(_frac(cost[j] - d))
    z = pi[:k]
    x, s = z[:-1], z[-1]
    return "feasible", (x, s)


def _q(v):
    v = Fraction(v)
    return flint.fmpq(v.numerator, v.denominator)


def _frac(q):
    return Fraction(int(q.p), int(q.q))


def _pivot(T, r, c):
    piv = T[r][c]
    row = [v / piv for v in T[r]]
    T[r] = row
    for i in range(len(T)):
        if i != r and T[i][c] != 0:
            f = T[i][c]
            T[i] = [a - f * b for a, b in zip(T[i], row)]
