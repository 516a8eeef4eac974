"""Exact certificates from floating-point hints.

An LP says "this strict system is solvable, near this point" or "infeasible,
with these duals".  Neither is evidence until it is turned into exact objects:

* a **witness**: the exact active set at the point, a null vector ``v`` of it
  and a step ``eps`` small enough that no inactive row turns on, so that
  ``f(x) = f(x + eps v)`` holds exactly;
* a **dependency** (Farkas certificate): exact multipliers ``y >= 0`` on a
  support with ``sum y_i w_i = 0`` and ``sum y_i b_i >= 0``.

:class:`ExactLayer` does both, in integer arithmetic where it can: every row
``[w_i, b_i]`` is scaled by a positive rational to integers, which changes no
sign pattern and no span.

Examples
--------
>>> import numpy as np
>>> L = ExactLayer(np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]), np.zeros(4))
>>> L.dependency_on([0, 2]).multipliers
(Fraction(1, 1), Fraction(1, 1))
>>> L.witness_near([-1.0, -1.0]) is None   # rows -x1 and -x2 are on there: full rank
True
>>> x1, x2, active = ExactLayer(np.array([[1, 0], [0, 1], [1, 1]]), np.zeros(3)).witness_near([-1, -1])
>>> active, x1 != x2
([], True)
"""
from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np

from ..verify.evidence import Dependency
from ..exact.matroid import RowMatroid, fraction_matrix, integer_rows, to_fraction

__all__ = ["ExactLayer"]


class ExactLayer:
    """A layer ``x -> ReLU(W x + b)`` read as exact rationals.

    Attributes
    ----------
    Wq, bq : lists of Fraction
    M : RowMatroid
        The linear matroid of the rows of ``W``.
    Wf, bf : ndarray
        The rows ``[w_i, b_i]`` in float64 for the LPs, each row scaled by a
        positive power of two where needed to stay in float range (a positive
        row scaling changes no sign pattern, so LP answers mean the same).
    """

    def __init__(self, W, b):
        self.Wq = fraction_matrix(W)
        self.bq = [to_fraction(v) for v in b]
        self.m, self.n = len(self.Wq), len(self.Wq[0])
        self.M = RowMatroid(self.Wq)
        # rows [w_i, b_i] scaled to integers, for exact signs without Fractions
        self.aug, self.aug_scales = integer_rows([row + [bi] for row, bi in zip(self.Wq, self.bq)])
        A = np.array([_float_row(row + [bi]) for row, bi in zip(self.Wq, self.bq)], dtype=float)
        self.Wf, self.bf = A[:, : self.n], A[:, self.n]

    # ------------------------------------------------------------ witnesses
    def witness_near(self, point):
        """``(x1, x2, active)`` with ``f(x1) = f(x2)``, or None if the cell at ``point`` is full rank.

        ``point`` may be floats (read exactly) or Fractions.
        """
        n = self.n
        x0 = [to_fraction(v) for v in point]
        D = 1
        for q in x0:
            D = math.lcm(D, q.denominator)
        X = [int(q * D) for q in x0] + [D]  # x0 = X[:n] / D, homogeneous
        vals = [sum(a * x for a, x in zip(row, X)) for row in self.aug]  # sign of w.x0 + b
        active = [i for i in range(self.m) if vals[i] >= 0]
        if len(active) >= n and self.M.rank(active) >= n:
            return None
        v = self.M.null_vector(active)  # one vector: far cheaper than a null space basis
        # a safe step: rows that are off stay off along x0 + eps v
        bound = Fraction(1)
        for i in range(self.m):
            if vals[i] < 0:
                d = sum(a * c for a, c in zip(self.aug[i], v) if c)  # (w_i . v) times the row scale
                if d > 0:
                    bound = min(bound, Fraction(-vals[i], d * D))
        # a power of two below the bound: x2 stays dyadic like x0, so checking it stays cheap
        k = max(1, bound.denominator.bit_length() - bound.numerator.bit_length() + 1)
        eps = Fraction(1, 1 << k)
        x2 = [a + eps * c if c else a for a, c in zip(x0, v)]
        return x0, x2, active

    # --------------------------------------------------------- dependencies
    def dependency_on(self, support):
        """The exact dependency on rows ``support``, if their null space is one ray in y >= 0.

        An irreducible infeasible subsystem always qualifies: two independent
        multiplier vectors would combine into one with a smaller support.
        Works on the integer rows ``aug_i = s_i [w_i, b_i]``: ``z`` with
        ``sum z_i aug_i[:n] = 0`` and ``sum z_i aug_i[n] >= 0`` gives the
        multipliers ``y_i = z_i s_i``, returned as coprime integers.
        """
        S = [int(i) for i in support]
        if not S:
            return None
        n = self.n
        A = flint.fmpz_mat([[self.aug[i][j] for i in S] for j in range(n)])
        X, k = A.nullspace()
        if k != 1:
            return None
        z = [int(X[r, 0]) for r in range(len(S))]
        if all(v <= 0 for v in z):
            z = [-v for v in z]
        if any(v < 0 for v in z) or not any(z):
            return None
        if sum(v * self.aug[i][n] for i, v in zip(S, z)) < 0:
            return None
        rows = sorted((i, v) for i, v in zip(S, z) if v)
        den = 1
        for i, _ in rows:
            den = math.lcm(den, self.aug_scales[i].denominator)
        num = [v * self.aug_scales[i].numerator * (den // self.aug_scales[i].denominator)
               for i, v in rows]
        g = 0
        for v in num:
            g = math.gcd(g, v)
        return Dependency(tuple(i for i, _ in rows), tuple(Fraction(v // g) for v in num))

    def dependency_from(self, y):
        """A Dependency from exact multipliers ``{row: y}``, if they are one."""
        return self._dependency(y, verify_rows=True)

    def _dependency(self, y, verify_rows):
        rows = sorted(i for i, v in y.items() if v != 0)
        if not rows or any(y[i] < 0 for i in rows):
            return None
        g = _gcd_fractions([y[i] for i in rows])
        mult = [y[i] / g for i in rows]
        if verify_rows:
            for j in range(self.n):
                if sum(q * self.Wq[i][j] for i, q in zip(rows, mult)) != 0:
                    return None
        if sum(q * self.bq[i] for i, q in zip(rows, mult)) < 0:
            return None
        return Dependency(tuple(rows), tuple(mult))


def _float_row(row):
    """A row of Fractions in float64, scaled by a power of two if its entries leave float range.

    >>> _float_row([Fraction(2**1100), Fraction(-1)]), _float_row([Fraction(3, 2**1101)])
    ([1.0, -0.0], [1.5])
    """
    try:
        f = [float(q) for q in row]
        big = max(abs(v) for v in f)
        if 2.0 ** -900 < big < 2.0 ** 900 or not any(row):
            return f
    except OverflowError:
        pass
    e = max(q.numerator.bit_length() - q.denominator.bit_length() for q in row if q)
    s = Fraction(1, 2 ** e) if e >= 0 else Fraction(2 ** -e)
    return [float(q * s) for q in row]


def _gcd_fractions(qs):
    """The largest rational g with every q / g an integer (so multipliers become coprime integers)."""
    num, den = 0, 1
    for q in qs:
        num = math.gcd(num, q.numerator)
        den = math.lcm(den, q.denominator)
    return Fraction(num, den) if num else Fraction(1)
