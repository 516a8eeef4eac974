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

    def __init__(self, W, b, domain=None):
        self.domain = domain  # a DomainRows, or None for all of R^n
        self.Wq = fraction_matrix(W)
        self.bq = [to_fraction(v) for v in b]
        self.m, self.n = len(self.Wq), len(self.Wq[0])
        self.M = RowMatroid(self.Wq)
        # rows [w_i, b_i] scaled to integers, for exact signs without Fractions
        self.aug, self.aug_scales = integer_rows([row + [bi] for row, bi in zip(self.Wq, self.bq)])
        A = float_rows([row + [bi] for row, bi in zip(self.Wq, self.bq)])
        self.Wf, self.bf = A[:, : self.n], A[:, self.n]

    # ------------------------------------------------------------ witnesses
    def witness_near(self, point):
        """``(x1, x2, active)`` with ``f(x1) = f(x2)``, or None if the cell at ``point`` is full rank.

        ``point`` may be floats (read exactly) or Fractions.  On a domain the
        point is first pulled a little towards the domain's interior point
        (exactly), so that both witness points lie inside the domain; the
        smallest pull that works is taken.
        """
        x0 = [to_fraction(v) for v in point]
        D = self.domain
        if D is None:
            return self._witness_at(x0)
        for k in (40, 20, 10, 5, 2, 1):
            z = D.pull_inside(x0, Fraction(1, 2 ** k))
            if D.contains(z, strictly=True):
                found = self._witness_at(z)
                if found is not None:
                    return found
        return None

    def witness_along(self, v):
        """``(x1, x2)``: for a null vector ``v`` of W, a point and a step along ``v`` (inside the
        domain, if any)."""
        x1 = [Fraction(0)] * self.n if self.domain is None else list(self.domain.interior)
        eps = Fraction(1) if self.domain is None else self.domain.step_bound(x1, v) / 2
        return x1, [a + eps * c for a, c in zip(x1, v)]

    def _witness_at(self, x0):
        n = self.n
        D = 1
        for q in x0:
            D = math.lcm(D, q.denominator)
        X = [int(q * D) for q in x0] + [D]  # x0 = X[:n] / D, homogeneous
        vals = [sum(a * x for a, x in zip(row, X)) for row in self.aug]  # sign of w.x0 + b
        active = [i for i in range(self.m) if vals[i] >= 0]
        if len(active) >= n and self.M.rank(active) >= n:
            return None
        v = self.M.null_vector(active)  # one vector: far cheaper than a null space basis
        # a safe step: rows that are off stay off along x0 + eps v (and x0 + eps v stays
        # in the domain, where x0 is strictly inside)
        bound = Fraction(1) if self.domain is None else self.domain.step_bound(x0, v)
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
    def dependency_on(self, support, domain_support=()):
        """The exact dependency on rows ``support`` (and domain rows ``domain_support``), if
        their null space is one ray in y >= 0 with some y_i > 0 on ``support``.

        An irreducible infeasible subsystem always qualifies: two independent
        multiplier vectors would combine into one with a smaller support.
        Works on the integer rows ``aug_i = s_i [w_i, b_i]`` (and the domain's
        ``[a_k, -c_k]`` likewise): ``z`` with ``sum z_i aug_i[:n] = 0`` and
        ``sum z_i aug_i[n] >= 0`` gives the multipliers ``y_i = z_i s_i``,
        returned as coprime integers.
        """
        S = [int(i) for i in support]
        K = [int(k) for k in domain_support] if self.domain is not None else []
        if not S:
            return None
        vecs = [self.aug[i] for i in S] + [self.domain.aug[k] for k in K]
        n = self.n
        X, k = flint.fmpz_mat([[v[j] for v in vecs] for j in range(n)]).nullspace()
        if k != 1:
            return None
        z = [int(X[r, 0]) for r in range(len(vecs))]
        if all(v <= 0 for v in z):
            z = [-v for v in z]
        if any(v < 0 for v in z) or not any(z[: len(S)]):
            return None
        if sum(v * vec[n] for v, vec in zip(z, vecs)) < 0:
            return None
        scales = [self.aug_scales[i] for i in S] + [self.domain.scales[k] for k in K]
        # exact multipliers of [w_i, b_i], [a_k, -c_k]: z_i s_i, made coprime integers in int
        # arithmetic (Fraction operations were a tenth of the search on LP-heavy layers)
        L = 1
        for sc in scales:
            L = math.lcm(L, sc.denominator)
        mult = [v * sc.numerator * (L // sc.denominator) for v, sc in zip(z, scales)]
        g = 0
        for q in mult:
            g = math.gcd(g, q)
        y = {i: Fraction(q // g) for i, q in zip(S, mult) if q}
        u = {kk: Fraction(q // g) for kk, q in zip(K, mult[len(S):]) if q}
        return _make_dependency(y, u)

    def dependency_from(self, y):
        """A Dependency from exact multipliers ``{row: y}`` (keys ``m + k`` for domain row ``k``),
        if they are one (every condition is verified here, exactly)."""
        if any(v < 0 for v in y.values()):
            return None
        ys = {i: v for i, v in y.items() if v and i < self.m}
        us = {i - self.m: v for i, v in y.items() if v and i >= self.m}
        if not ys or (us and self.domain is None):
            return None
        g = _gcd_fractions(list(ys.values()) + list(us.values()))
        ys = {i: v / g for i, v in ys.items()}
        us = {k: v / g for k, v in us.items()}
        D = self.domain
        for j in range(self.n):
            total = sum(q * self.Wq[i][j] for i, q in ys.items())
            total += sum(q * D.Aq[k][j] for k, q in us.items()) if us else 0
            if total != 0:
                return None
        bias = sum(q * self.bq[i] for i, q in ys.items())
        bias -= sum(q * D.cq[k] for k, q in us.items()) if us else 0
        if bias < 0:
            return None
        return _make_dependency(ys, us)


def _make_dependency(y, u):
    rows = sorted(y)
    drows = sorted(u)
    if drows:
        return Dependency(tuple(rows), tuple(y[i] for i in rows), tuple(drows),
                          tuple(u[k] for k in drows))
    return Dependency(tuple(rows), tuple(y[i] for i in rows))


def float_rows(rows):
    """Rows of Fractions as a float64 array, each scaled by a power of two where needed to stay
    in float range (:func:`_float_row`)."""
    n = len(rows[0]) if rows else 0
    return np.array([_float_row(r) for r in rows], dtype=float).reshape(len(rows), n)


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
