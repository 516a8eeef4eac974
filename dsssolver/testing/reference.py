"""Brute-force reference decisions of ReLU-layer injectivity, for cross-checking.

This module is deliberately independent of the main certifier
(:mod:`dsssolver.certify`) and of :mod:`dsssolver.exact`: it has its own exact
linear algebra (:class:`fractions.Fraction` Gaussian elimination, or plain
Python integers), its own enumeration of row sets and its own feasibility
tests.  It is meant to be slow, short and obviously right.

The criterion (docs/math.md sections 1 and 3): ``x -> ReLU(W x + b)`` is *not*
injective iff ``rank W < n`` or some flat ``F`` of rank ``n - 1`` of the row
matroid admits an ``x`` with ``w_i . x + b_i < 0`` for every row ``i`` not in
``F``.  Then ``x`` and ``x + eps v`` (``v != 0`` orthogonal to the rows of
``F``, ``eps`` small) have the same image.

Two decisions are offered:

* :func:`reference_certify` enumerates the rank-``(n-1)`` flats as closures of
  the independent ``(n-1)``-subsets of rows (the closure is read off the exact
  normal vector of the hyperplane they span) and decides each strict system
  with one floating LP (HiGHS, the robust bounded form of docs/math.md section 4).
  A positive LP answer is accepted only after its point has been re-checked in
  exact rational arithmetic, and a zero one only after the LP duals have been
  rounded to a Motzkin certificate checked exactly (docs/math.md section 4); when
  neither confirms, :class:`ReferenceAmbiguous` is raised instead of guessing.
* :func:`reference_by_cells` uses no LP and no floating point at all: it walks
  every row subset of rank ``< n`` depth-first (integer elimination), keeps the
  maximal ones, and decides each strict system by exact Fourier-Motzkin
  elimination over the integers, which also yields an exact rational point of
  the cell.  It is exponential and meant for tiny layers (``m <= 14``).

Examples
--------
>>> import numpy as np
>>> reference_certify([[1.0], [-1.0]], [1.0, -1.0]).status
'injective'
>>> r = reference_certify(np.eye(2))          # m < 2n
>>> r.status, r.flat
('not_injective', (0,))
>>> reference_by_cells(np.vstack([np.eye(2), -np.eye(2)])).status
'injective'
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from fractions import Fraction
from math import gcd

import highspy
import numpy as np

from .._validate import as_layer

__all__ = [
    "ReferenceResult",
    "ReferenceAmbiguous",
    "reference_certify",
    "reference_by_cells",
    "check_witness",
]

#: LP values above this are read as "feasible" (and the point is re-checked exactly);
#: at or below it the point is tried, then an exact Motzkin certificate, else we refuse.
T_POSITIVE = 1e-9


class ReferenceAmbiguous(ArithmeticError):
    """The floating LP could not settle a strict system; the reference refuses to guess."""


@dataclass
class ReferenceResult:
    """Outcome of a reference decision.

    Attributes
    ----------
    status : str
        ``"injective"`` or ``"not_injective"``.
    flat : tuple of int or None
        Sorted row indices of a rank-deficient row set ``F`` whose strict system
        ``w_i . x + b_i < 0 (i not in F)`` is feasible (all rows when
        ``rank W < n``); ``None`` when injective.
    point : numpy.ndarray or None
        A float ``x`` in that cell (``float`` of :attr:`exact_point`).
    lps : int
        Number of strict systems decided (LPs for :func:`reference_certify`,
        Fourier-Motzkin runs for :func:`reference_by_cells`).
    seconds : float
        Wall-clock time.
    exact_point : tuple of Fraction or None
        The point as exact rationals (the dyadic value of :attr:`point` for
        :func:`reference_certify`, the Fourier-Motzkin point for
        :func:`reference_by_cells`).  The rows active there
        (``w_i . x + b_i >= 0``) were checked exactly to have rank ``< n``.
    direction : tuple of Fraction or None
        A nonzero ``v`` orthogonal to every row active at :attr:`exact_point`,
        so ``ReLU(W x + b) = ReLU(W (x + eps v) + b)`` for small ``eps > 0``.
    method : str
        ``"flats+lp"`` or ``"cells+fourier-motzkin"``.
    """

    status: str
    flat: tuple | None = None
    point: np.ndarray | None = None
    lps: int = 0
    seconds: float = 0.0
    exact_point: tuple | None = field(default=None, repr=False)
    direction: tuple | None = field(default=None, repr=False)
    method: str = ""

    @property
    def injective(self) -> bool:
        """``True`` iff :attr:`status` is ``"injective"``."""
        return self.status == "injective"


# ----------------------------------------------------------------------------
# exact rational linear algebra (Fraction), private to this module
# ----------------------------------------------------------------------------

def _q(v) -> Fraction:
    """Exact rational value of an int, float (its dyadic value) or Fraction."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("booleans are not numbers here")
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    return Fraction(float(v))  # exact: Fraction(float) keeps every bit


def _rows_q(W, b):
    Wq = [[_q(v) for v in row] for row in np.asarray(W, dtype=object)]
    bq = [_q(v) for v in np.asarray(b, dtype=object).ravel()]
    return Wq, bq


def _integral_rows(Wq, bq):
    """Scale each ``(w_i, b_i)`` by a positive rational to integers (kept as Fractions).

    Positive row scaling changes no sign of ``w_i . x + b_i``, no span and no
    closure, so every decision and witness is that of the original layer; it
    only makes the Fraction arithmetic cheaper (denominators 1).
    """
    W2, b2 = [], []
    for w, bi in zip(Wq, bq):
        den = 1
        for c in list(w) + [bi]:
            den = den * c.denominator // gcd(den, c.denominator)
        W2.append([c * den for c in w])
        b2.append(bi * den)
    return W2, b2


def _echelon(rows):
    """Row-reduce a copy of ``rows`` (lists of Fraction); return (reduced rows, pivot columns)."""
    R = [list(r) for r in rows]
    ncols = len(R[0]) if R else 0
    pivots = []
    r = 0
    for c in range(ncols):
        p = next((i for i in range(r, len(R)) if R[i][c] != 0), None)
        if p is None:
            continue
        R[r], R[p] = R[p], R[r]
        inv = 1 / R[r][c]
        R[r] = [v * inv for v in R[r]]
        for i in range(len(R)):
            if i != r and R[i][c] != 0:
                f = R[i][c]
                R[i] = [a - f * bb for a, bb in zip(R[i], R[r])]
        pivots.append(c)
        r += 1
        if r == len(R):
            break
    return R[:r], pivots


def _rank_q(rows) -> int:
    return len(_echelon(rows)[1]) if rows else 0


def _null_vector(rows, n):
    """A nonzero vector orthogonal to ``rows`` (which must have rank < n), as Fractions."""
    if not rows:
        return tuple(Fraction(int(j == 0)) for j in range(n))
    R, piv = _echelon(rows)
    free = next(c for c in range(n) if c not in piv)
    v = [Fraction(0)] * n
    v[free] = Fraction(1)
    for row, c in zip(R, piv):  # reduced echelon: x_c = -row[free]
        v[c] = -row[free]
    return tuple(v)


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), Fraction(0))


def check_witness(W, b, x, v, eps=None) -> bool:
    """Exactly check that ``x`` and ``x + eps v`` (``v != 0``) have the same image.

    Parameters
    ----------
    W, b : array_like
        The layer (``b=None`` means zero biases).
    x, v : sequence of numbers
        The point and the direction (read exactly: floats as dyadic rationals).
    eps : Fraction, optional
        The step; by default the largest safe step is derived exactly from the
        rows that are strictly negative at ``x``.

    Returns
    -------
    bool
        ``True`` iff ``v != 0`` and ``ReLU(W x + b) == ReLU(W (x + eps v) + b)``
        in exact rational arithmetic.

    Examples
    --------
    >>> check_witness([[1], [-1]], [0, 0], [-1], [0])
    False
    >>> check_witness([[1], [2]], [0, 0], [-1], [1])
    True
    """
    W, b = as_layer(W, b)
    Wq, bq = _rows_q(W, b)
    xq = [_q(t) for t in x]
    vq = [_q(t) for t in v]
    if all(t == 0 for t in vq):
        return False
    if eps is None:
        eps = Fraction(1)
        for w, bi in zip(Wq, bq):
            val, slope = _dot(w, xq) + bi, _dot(w, vq)
            if val < 0 and slope > 0:
                eps = min(eps, -val / slope / 2)
    eps = _q(eps)
    if eps <= 0:
        return False
    y = [xi + eps * vi for xi, vi in zip(xq, vq)]
    for w, bi in zip(Wq, bq):
        if max(_dot(w, xq) + bi, Fraction(0)) != max(_dot(w, y) + bi, Fraction(0)):
            return False
    return True


# ----------------------------------------------------------------------------
# reference 1: flats from independent (n-1)-subsets, one LP each
# ----------------------------------------------------------------------------

def _flats_rank_n_minus_1(Wq, n):
    """Distinct rank-(n-1) flats (closures of independent (n-1)-subsets), with normals."""
    m = len(Wq)
    seen = {}
    covered = set()  # (n-1)-subsets of flats with more than n-1 rows: closure known
    for S in itertools.combinations(range(m), n - 1):
        if S in covered:
            continue
        rows = [Wq[i] for i in S]
        if rows and _rank_q(rows) < n - 1:
            continue
        normal = _null_vector(rows, n)  # spans the orthogonal line of span(S)
        F = frozenset(i for i in range(m) if _dot(Wq[i], normal) == 0)
        seen[F] = normal
        if len(F) > n - 1:
            covered.update(itertools.combinations(sorted(F), n - 1))
    return seen


class _StrictLP:
    """One HiGHS model of the robust LP of docs/math.md section 4; rows are switched on/off.

    Variables ``(x_1..x_n, s, t)``; rows ``u_i . (x, s) + t <= 0`` with
    ``u_i = (w_i, b_i) / ||(w_i, b_i)||_inf`` (positive scaling changes no sign),
    plus ``-s + t <= 0``; bounds ``-1 <= x, s <= 1``, ``t <= 1``; maximise ``t``.
    """

    def __init__(self, Wf, bf):
        m, n = Wf.shape
        U = np.hstack([Wf, bf[:, None]])
        scale = np.abs(U).max(axis=1)
        scale[scale == 0] = 1.0
        U = U / scale[:, None]
        self.scale = scale
        A = np.vstack([np.hstack([U, np.ones((m, 1))]),
                       np.concatenate([np.zeros(n), [-1.0, 1.0]])[None, :]])
        self.m, self.n = m, n
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        inf = highspy.kHighsInf
        lo = np.full(n + 2, -1.0)
        lo[n + 1] = -inf
        hi = np.ones(n + 2)
        h.addVars(n + 2, lo, hi)
        h.changeColCost(n + 1, 1.0)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        starts, idx, vals = [], [], []
        for r in A:
            nz = np.nonzero(r)[0]
            starts.append(len(idx))
            idx.extend(int(j) for j in nz)
            vals.extend(float(r[j]) for j in nz)
        h.addRows(m + 1, np.full(m + 1, -inf), np.zeros(m + 1),
                  len(idx), np.array(starts, dtype=np.int32),
                  np.array(idx, dtype=np.int32), np.array(vals))
        self.h = h
        self.on = np.ones(m, dtype=bool)

    def solve(self, off_rows):
        """Maximise t with ``off_rows`` dropped; return (t*, x/s or None, |duals| per row)."""
        h, inf = self.h, highspy.kHighsInf
        want = np.ones(self.m, dtype=bool)
        want[list(off_rows)] = False
        for i in np.nonzero(want != self.on)[0]:
            h.changeRowBounds(int(i), -inf, 0.0 if want[i] else inf)
        self.on = want
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise ReferenceAmbiguous(f"HiGHS returned {h.modelStatusToString(status)}")
        solution = h.getSolution()
        sol = np.array(solution.col_value)
        duals = np.abs(np.array(solution.row_dual)[: self.m]) / self.scale
        duals[~want] = 0.0
        t, s = sol[self.n + 1], sol[self.n]
        return t, (sol[: self.n] / s if s > 0 else None), duals


def _solve_q(M, rhs):
    """Solve the square nonsingular system ``M z = rhs`` exactly (Fractions)."""
    R, piv = _echelon([list(r) + [c] for r, c in zip(M, rhs)])
    if len(piv) != len(M) or piv[-1] >= len(M):
        raise ZeroDivisionError("singular system")
    return [row[-1] for row in R]


def _motzkin_certificate(Wq, bq, y_float, flat=frozenset(), rel=1e-9):
    """Round LP duals to an exact Motzkin certificate of infeasibility, or return ``None``.

    Looks for ``y >= 0``, ``y != 0``, supported where ``y_float`` is not
    negligible and off ``flat``, with ``sum y_i w_i = 0`` and ``sum y_i b_i >= 0`` exactly.  When
    the equations leave ``y`` unique up to scale it is computed exactly;
    otherwise the rounded ``y_float`` is projected exactly onto their null
    space (rows ``(w_.k)_k``, plus ``b`` when ``b . y`` is about zero).  The
    signs are then checked in exact arithmetic.
    """
    y_float = np.array(y_float, dtype=float)
    y_float[list(flat)] = 0.0
    if not np.isfinite(y_float).all() or y_float.max(initial=0.0) <= 0:
        return None
    S = [i for i in range(len(Wq)) if y_float[i] > rel * y_float.max()]
    n = len(Wq[0])
    top = float(y_float.max())
    y0 = [Fraction(round(float(y_float[i]) / top * 2**40), 2**40) for i in S]  # start point
    cons = [[Wq[i][k] for i in S] for k in range(n)]
    by = sum(float(bq[i]) * float(y_float[i]) for i in S)
    scale_b = sum(abs(float(bq[i])) * float(y_float[i]) for i in S)
    if abs(by) <= 1e-9 * max(scale_b, 1.0):
        cons.append([bq[i] for i in S])
    basis = _echelon(cons)[0]  # a basis of the row space of the constraints
    if len(S) - len(basis) == 1:  # the usual case: a unique y up to scale
        y = list(_null_vector(basis, len(S)))
        if _dot(y, y0) < 0:
            y = [-v for v in y]
    elif basis:
        gram = [[_dot(a, c) for c in basis] for a in basis]
        try:
            z = _solve_q(gram, [_dot(a, y0) for a in basis])
        except ZeroDivisionError:
            return None
        y = [y0[j] - sum((z[k] * basis[k][j] for k in range(len(basis))), Fraction(0))
             for j in range(len(S))]
    else:
        y = y0
    if any(v < 0 for v in y) or all(v == 0 for v in y):
        return None
    if any(sum((y[j] * Wq[i][k] for j, i in enumerate(S)), Fraction(0)) != 0 for k in range(n)):
        return None
    if sum((y[j] * bq[i] for j, i in enumerate(S)), Fraction(0)) < 0:
        return None
    return dict(zip(S, y))


def reference_certify(W, b=None) -> ReferenceResult:
    """Decide injectivity of ``x -> ReLU(W x + b)`` by brute force over flats.

    Every rank-``(n-1)`` flat of the row matroid is enumerated (closure of each
    independent ``(n-1)``-subset of rows, computed exactly with Fractions); for
    each flat ``F`` one LP decides whether ``w_i . x + b_i < 0`` for all ``i``
    not in ``F`` is solvable.  A solvable one is accepted only if its point,
    read as an exact rational, has active rows of rank ``< n``.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Weights (ints, floats read exactly, or Fractions).
    b : array_like, shape (m,), optional
        Biases; zeros by default.

    Returns
    -------
    ReferenceResult

    Raises
    ------
    ReferenceAmbiguous
        When a flat can be settled neither way exactly: an LP value
        ``t* > 1e-9`` whose point fails the exact check, or a smaller ``t*``
        whose point fails and whose duals do not round to an exact Motzkin
        certificate (``y >= 0``, ``y != 0``, ``sum y_i w_i = 0``,
        ``sum y_i b_i >= 0`` on the rows outside the flat).

    Notes
    -----
    Cost: ``C(m, n-1)`` exact null-space computations and one LP per distinct
    flat, so this is for small layers only.  For ``n = 1`` the only flat of rank
    0 is the set of zero rows.

    Examples
    --------
    The seed's Lemma 1 counterexample is injective:

    >>> reference_certify([[1], [-1]], [1, -1]).status
    'injective'
    >>> r = reference_certify([[1, 0], [0, 1], [-1, 0]], [0, 0, 0])
    >>> r.status, r.flat, r.lps
    ('not_injective', (0, 2), 1)
    """
    t0 = time.perf_counter()
    W, b = as_layer(W, b)
    m, n = W.shape
    Wq, bq = _integral_rows(*_rows_q(W, b))
    if _rank_q(Wq) < n:
        v = _null_vector(Wq, n)
        zero = tuple(Fraction(0) for _ in range(n))
        return ReferenceResult("not_injective", tuple(range(m)), np.zeros(n), 0,
                               time.perf_counter() - t0, zero, v, "flats+lp")
    Wf = np.array([[float(v) for v in r] for r in Wq], dtype=float)
    bf = np.array([float(v) for v in bq], dtype=float)
    lp = _StrictLP(Wf, bf)
    lps = 0
    for F in _flats_rank_n_minus_1(Wq, n):
        lps += 1
        t, x, y = lp.solve(F)
        xq = None if x is None else tuple(Fraction(float(v)) for v in x)
        if xq is not None and t > 0:
            active = [Wq[i] for i in range(m) if _dot(Wq[i], xq) + bq[i] >= 0]
            if _rank_q(active) < n:
                v = _null_vector(active, n)
                return ReferenceResult("not_injective", tuple(sorted(F)), np.array(x, dtype=float),
                                       lps, time.perf_counter() - t0, xq, v, "flats+lp")
        if t > T_POSITIVE:
            raise ReferenceAmbiguous(
                f"LP value t*={t:.3g} for flat {sorted(F)} but its point does not verify exactly"
            )
        if _motzkin_certificate(Wq, bq, y, F) is None:
            raise ReferenceAmbiguous(
                f"LP value t*={t:.3g} for flat {sorted(F)}: neither a point nor an exact "
                "infeasibility certificate could be confirmed"
            )
    return ReferenceResult("injective", None, None, lps, time.perf_counter() - t0,
                           None, None, "flats+lp")


# ----------------------------------------------------------------------------
# reference 2: rank-deficient row sets by depth-first search, exact Fourier-Motzkin
# ----------------------------------------------------------------------------

def _int_row(coeffs):
    """Scale a rational vector by a positive rational to coprime integers."""
    den = 1
    for c in coeffs:
        den = den * c.denominator // gcd(den, c.denominator)
    ints = [int(c * den) for c in coeffs]
    g = 0
    for v in ints:
        g = gcd(g, v)
    return tuple(v // g for v in ints) if g > 1 else tuple(ints)


class _IntBasis:
    """Incremental integer row echelon form (fraction-free), for ranks of growing sets."""

    def __init__(self, n, rows=(), pivots=()):
        self.n, self.rows, self.pivots = n, list(rows), list(pivots)

    def reduce(self, v):
        v = list(v)
        for r, p in zip(self.rows, self.pivots):
            if v[p] != 0:
                a, c = r[p], v[p]
                v = [a * vi - c * ri for vi, ri in zip(v, r)]
                g = 0
                for t in v:
                    g = gcd(g, t)
                if g > 1:
                    v = [t // g for t in v]
        return v

    def added(self, v):
        """A new basis with ``v`` added, or ``None`` when ``v`` is already in the span."""
        v = self.reduce(v)
        p = next((j for j, t in enumerate(v) if t != 0), None)
        if p is None:
            return None
        return _IntBasis(self.n, self.rows + [v], self.pivots + [p])

    @property
    def rank(self):
        return len(self.rows)


def _fourier_motzkin(cons, n):
    """Exactly decide ``a . x < d`` for all ``(a, d)`` in ``cons`` (integers); return x or None."""
    levels = []
    cur = _dedupe(cons)
    for j in range(n):
        levels.append(cur)
        pos = [c for c in cur if c[0][j] > 0]
        neg = [c for c in cur if c[0][j] < 0]
        nxt = [c for c in cur if c[0][j] == 0]
        for (a, d) in pos:
            for (e, f) in neg:
                p, q = a[j], -e[j]
                nxt.append((tuple(q * ai + p * ei for ai, ei in zip(a, e)), q * d + p * f))
        cur = _dedupe(nxt)
    if any(d <= 0 for (_, d) in cur):  # all coefficients are zero: need 0 < d
        return None
    x = [Fraction(0)] * n
    for j in reversed(range(n)):
        lo, hi = None, None
        for (a, d) in levels[j]:
            if a[j] == 0:
                continue
            rest = Fraction(d) - sum((a[k] * x[k] for k in range(j + 1, n)), Fraction(0))
            bound = rest / a[j]
            if a[j] > 0:
                hi = bound if hi is None else min(hi, bound)
            else:
                lo = bound if lo is None else max(lo, bound)
        if lo is None and hi is None:
            x[j] = Fraction(0)
        elif lo is None:
            x[j] = hi - 1
        elif hi is None:
            x[j] = lo + 1
        else:
            assert lo < hi, "Fourier-Motzkin back-substitution found an empty interval"
            x[j] = (lo + hi) / 2
    return x


def _dedupe(cons):
    """Normalise ``(a, d)`` by the gcd of ``a`` and keep the tightest ``d`` per direction."""
    best = {}
    for a, d in cons:
        g = 0
        for t in a:
            g = gcd(g, t)
        if g == 0:  # 0 < d
            key, val = a, Fraction(d)
        else:
            key, val = tuple(t // g for t in a), Fraction(d, g)
        if key not in best or val < best[key]:
            best[key] = val
    out = []
    for a, d in best.items():  # back to integers: scale by the denominator (> 0)
        out.append((tuple(t * d.denominator for t in a), d.numerator))
    return out


def _domain_constraints(domain, n):
    """``[(a_k, c_k)]`` in integers for ``a_k . x < c_k`` (zero rows dropped when ``c_k >= 0``)."""
    if domain is None:
        return []
    if isinstance(domain, str):
        if domain != "nonnegative":
            raise ValueError(f"unknown domain {domain!r}")
        return [(tuple(-1 if j == k else 0 for j in range(n)), 0) for k in range(n)]
    A, c = domain
    A = [[_q(v) for v in row] for row in np.asarray(A, dtype=object)]
    c = [_q(v) for v in np.asarray(c, dtype=object).ravel()]
    if len(A) != len(c) or any(len(row) != n for row in A):
        raise ValueError("domain (A, c) does not fit the layer")
    out = []
    for row, ck in zip(A, c):
        if not any(row):
            if ck < 0:
                raise ValueError("domain is empty")
            continue
        r = _int_row(row + [ck])
        out.append((r[:n], r[n]))
    return out


def reference_by_cells(W, b=None, max_rows=14, domain=None) -> ReferenceResult:
    """Decide injectivity with no LP and no floating point (tiny layers only).

    All row subsets of rank ``< n`` are walked depth-first with fraction-free
    integer elimination; for each maximal one ``F`` (a flat of rank ``n - 1``)
    the strict system ``w_i . x + b_i < 0 (i not in F)`` is decided by exact
    Fourier-Motzkin elimination, which also returns a rational point ``x`` of
    the cell.  Not injective iff some such point exists (or ``rank W < n``).

    On a domain ``D = {x : A x <= c}`` (full-dimensional) the layer is not
    injective on ``D`` iff such a cell meets ``D``; as the cell is open, iff it
    meets the interior ``{A x < c}``.  So the domain's rows simply join every
    strict system, strictly, and the point found lies inside ``D``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,), optional
    max_rows : int
        Refuse layers with more rows (the walk is exponential in ``m``).
    domain : None, "nonnegative" or (A, c), optional
        Decide injectivity on ``{x : A x <= c}`` (``x >= 0`` for "nonnegative").

    Returns
    -------
    ReferenceResult
        :attr:`~ReferenceResult.lps` counts Fourier-Motzkin runs.

    Examples
    --------
    >>> reference_by_cells([[1], [-1]], [1, -1]).status
    'injective'
    >>> r = reference_by_cells([[1, 0], [0, 1], [-1, 0]])
    >>> r.status, r.exact_point, r.direction
    ('not_injective', (Fraction(0, 1), Fraction(-1, 1)), (Fraction(0, 1), Fraction(1, 1)))
    >>> reference_by_cells(np.eye(2), domain="nonnegative").status
    'injective'
    """
    t0 = time.perf_counter()
    W, b = as_layer(W, b)
    m, n = W.shape
    if m > max_rows:
        raise ValueError(f"reference_by_cells walks 2^m row sets; m = {m} > max_rows = {max_rows}")
    Wq, bq = _rows_q(W, b)
    rows = [_int_row(Wq[i] + [bq[i]]) for i in range(m)]  # positive scaling of (w_i, b_i)
    wint = [r[:n] for r in rows]
    dom = _domain_constraints(domain, n)  # A x < c, strictly (the interior)
    inside = _fourier_motzkin(dom, n)
    if inside is None:
        raise ValueError("domain is not full-dimensional (A x < c has no solution)")
    full = _IntBasis(n)
    for w in wint:
        nb = full.added(w)
        full = nb or full
    if full.rank < n:
        return ReferenceResult("not_injective", tuple(range(m)), np.array([float(t) for t in inside]),
                               0, time.perf_counter() - t0, tuple(inside),
                               _null_vector(Wq, n), "cells+fourier-motzkin")
    runs = 0
    # depth-first over subsets in increasing index order: each rank-deficient set once
    stack = [((), _IntBasis(n), 0)]
    while stack:
        S, basis, start = stack.pop()
        for i in range(start, m):
            nb = basis.added(wint[i])
            if nb is None or nb.rank < n:
                stack.append((S + (i,), nb or basis, i + 1))
        # keep only maximal sets: rank n - 1 and closed (every other row leaves the span)
        Sset = set(S)
        if basis.rank != n - 1 or any(
            basis.added(wint[i]) is None for i in range(m) if i not in Sset
        ):
            continue
        runs += 1
        cons = [(rows[i][:n], -rows[i][n]) for i in range(m) if i not in Sset] + dom
        x = _fourier_motzkin(cons, n)
        if x is not None:
            active = [i for i in range(m)
                      if sum((wint[i][k] * x[k] for k in range(n)), Fraction(0)) + rows[i][n] >= 0]
            assert set(active) <= Sset
            v = _null_vector([Wq[i] for i in S], n)
            return ReferenceResult("not_injective", tuple(S), np.array([float(t) for t in x]),
                                   runs, time.perf_counter() - t0, tuple(x), v,
                                   "cells+fourier-motzkin")
    return ReferenceResult("injective", None, None, runs, time.perf_counter() - t0,
                           None, None, "cells+fourier-motzkin")
