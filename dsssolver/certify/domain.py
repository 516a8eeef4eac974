"""The input domain ``D = {x : A x <= c}`` on the search side.

On a full-dimensional convex ``D`` the layer is *not* injective iff some flat
``F`` of rank <= n - 1 has a point ``z`` in ``D`` with ``w_i . z + b_i < 0``
for every row ``i`` outside ``F`` (docs/math.md, "restricted domains").  So
the domain's rows ``a_k . x <= c_k`` join every strict system of the search
as non-strict rows; they never enter a flat, and a dependency may carry
multipliers ``u >= 0`` on them (``sum y_i w_i + sum u_k a_k = 0``,
``sum y_i b_i - sum u_k c_k >= 0``).  Witnesses are moved into the interior
of ``D`` (:meth:`DomainRows.pull_inside`), where a small step along a null
vector stays inside.

Examples
--------
>>> D = DomainRows.of("nonnegative", 2)
>>> D.name, D.interior
('nonnegative', [Fraction(1, 1), Fraction(1, 1)])
>>> DomainRows.of(([[1, 0], [-1, 0]], [0, 0]), 2)
Traceback (most recent call last):
...
dsssolver.errors.InvalidInputError: domain is not full-dimensional: A x < c has no solution
"""
from __future__ import annotations

from fractions import Fraction


from .._validate import as_matrix, as_vector
from ..errors import InvalidInputError
from ..exact.matroid import fstr, integer_rows, to_fraction
from ..exact.simplex import strict_system

__all__ = ["DomainRows"]


class DomainRows:
    """A full-dimensional polyhedral domain, read exactly.

    Attributes
    ----------
    name : {"nonnegative", "polyhedron"}
    Aq, cq : lists of Fraction
        The rows ``a_k`` and bounds ``c_k``.
    aug : list of list of int
        ``[a_k, -c_k]`` times a positive rational each (exact signs, null spaces).
    Af : ndarray, shape (k, n + 1)
        ``[a_k, -c_k]`` in float64 for the LPs, scaled into float range.
    interior : list of Fraction
        A point with ``A x < c`` exactly.
    """

    def __init__(self, name, Aq, cq, interior):
        from .certificates import float_rows

        self.name, self.Aq, self.cq, self.interior = name, Aq, cq, interior
        self.k, self.n = len(Aq), len(interior)
        rows = [row + [-ck] for row, ck in zip(Aq, cq)]
        self.aug, self.scales = integer_rows(rows)
        self.Af = float_rows(rows)

    @classmethod
    def of(cls, domain, n):
        """The ``domain`` argument of :func:`~dsssolver.certify` (None, "nonnegative" or
        ``(A, c)``) for ``n`` inputs; None for all of R^n.  Raises InvalidInputError for a
        malformed or not full-dimensional domain."""
        if domain is None:
            return None
        if isinstance(domain, str):
            if domain != "nonnegative":
                raise InvalidInputError(f"domain must be None, 'nonnegative' or a pair (A, c); "
                                        f"got {domain!r}")
            eye = [[Fraction(-1 if i == j else 0) for j in range(n)] for i in range(n)]
            return cls("nonnegative", eye, [Fraction(0)] * n, [Fraction(1)] * n)
        if not isinstance(domain, (tuple, list)) or len(domain) != 2:
            raise InvalidInputError(f"domain must be None, 'nonnegative' or a pair (A, c); "
                                    f"got {type(domain).__name__}")
        A = as_matrix(domain[0], "domain A")
        if A.shape[1] != n:
            raise InvalidInputError(f"domain A has {A.shape[1]} columns but the layer has n = {n}")
        c = as_vector(domain[1], A.shape[0], "domain c", of="A")
        Aq = [[to_fraction(v) for v in row] for row in A]
        cq = [to_fraction(v) for v in c]
        return cls("polyhedron", Aq, cq, _interior_point(Aq, cq, n))

    def to_json(self):
        """The evidence form: ``{"name", "A", "c", "interior"}`` with rationals as strings
        (``{"name": "nonnegative", ...}`` for the orthant)."""
        out = {"name": self.name}
        if self.name == "polyhedron":
            out["A"] = [[fstr(v) for v in row] for row in self.Aq]
            out["c"] = [fstr(v) for v in self.cq]
        out["interior"] = [fstr(v) for v in self.interior]
        return out

    def contains(self, x, strictly=False):
        """Whether ``A x <= c`` (``A x < c`` with ``strictly``) holds exactly at ``x``."""
        for row, ck in zip(self.Aq, self.cq):
            v = sum(a * xi for a, xi in zip(row, x)) - ck
            if v > 0 or (strictly and v == 0 and any(row)):
                return False
        return True

    def pull_inside(self, x, t):
        """The point ``(1 - t) x + t q`` (``q`` the interior point), exact, for ``0 < t <= 1``:
        strictly inside ``D`` whenever ``x`` is in ``D``."""
        return [(1 - t) * xi + t * qi for xi, qi in zip(x, self.interior)]

    def step_bound(self, x, v):
        """The largest ``eps`` (at most 1) with ``x + eps v`` in ``D``; ``x`` strictly inside."""
        eps = Fraction(1)
        for row, ck in zip(self.Aq, self.cq):
            slope = sum(a * vi for a, vi in zip(row, v))
            if slope > 0:
                eps = min(eps, (ck - sum(a * xi for a, xi in zip(row, x))) / slope)
        return eps


def _interior_point(Aq, cq, n):
    """An exact point with ``A x < c`` (zero rows need ``0 <= c`` only), else InvalidInputError."""
    rows = []
    for row, ck in zip(Aq, cq):
        if any(row):
            rows.append(row + [-ck])
        elif ck < 0:
            raise InvalidInputError("domain is empty: a row of A is zero with c < 0")
    if not rows:
        return [Fraction(0)] * n
    out = strict_system(rows)
    if out is None:
        raise InvalidInputError("domain: could not decide whether A x < c has a solution")
    if out[0] != "feasible":
        raise InvalidInputError("domain is not full-dimensional: A x < c has no solution")
    x, s = out[1]
    return [Fraction(v) / Fraction(s) for v in x]


