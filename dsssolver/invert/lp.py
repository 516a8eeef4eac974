"""The per-layer linear programs of layerwise inversion, in HiGHS (highspy).

For a layer ``y = ReLU(W x + b)`` with ``I = {i : y_i > 0}`` the preimage of ``y`` is
the polyhedron (docs/math.md, "Inversion")

    P = {x : w_i x + b_i = y_i (i in I),  w_i x + b_i <= 0 (i not in I),  x >= 0 if hidden}.

:class:`LayerLP` keeps one HiGHS model per layer and problem kind; only row bounds
change from one output to the next, so every solve after the first is a warm start
(about 10x cheaper than building the model again).  :class:`Poly` is ``P`` as dense
blocks, with the float post-processing every LP answer goes through: a least-squares
polish on the tight constraints (HiGHS tolerances are 1e-7, we want 1e-12) and a
floating-point test of whether ``P`` is a single point (the exact evidence is built in
:mod:`dsssolver.invert.exact`).  HiGHS is set up and run through :mod:`dsssolver._highs`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._highs import INF, new_highs, pass_lp, pow2_scale, run
from ..layers import _csr_of


def _append_entry(p, i, v, cols, vals):
    """Row-wise CSR of ``[A | extra]`` where row r gains one entry ``vals[r]`` in ``cols[r]``."""
    cnt = np.diff(p)
    q = p + np.arange(len(p))
    idx, val = np.empty(q[-1], dtype=np.int64), np.empty(q[-1])
    dst = np.repeat(q[:-1] - p[:-1], cnt) + np.arange(len(i))
    idx[dst], val[dst] = i, v
    idx[q[1:] - 1], val[q[1:] - 1] = cols, vals
    return q, idx, val


class LayerLP:
    """One reusable HiGHS model for one layer and one problem kind.

    kind "exact": rows ``W x`` with bounds ``[c_i, c_i]`` on I and ``(-inf, c_i]`` off I,
    where ``c = y - b``.  kind "linf" (Lei et al.'s noisy LP): columns ``(x, t)``, rows
    ``W x - t <= c`` (all i) and ``W x + t >= c`` (i in I), minimise t.  kind "l1": columns
    ``(x, s)``, the same two blocks with ``s_i`` in place of ``t``, minimise ``sum s``.
    The rows exist for every i and rows off I get infinite bounds, so the model is built
    once and reused for every output.
    """

    def __init__(self, layer, nonneg, kind):
        self.kind, self.nonneg = kind, nonneg
        self.m, self.n = layer.shape
        self.h = new_highs()
        p, i, v = _csr_of(layer.W)
        m, n = self.m, self.n
        # HiGHS's tolerances are absolute (1e-7): rows are scaled by powers of two to entries
        # of order 1 -- each row on its own for "exact" (the polyhedron does not change), all
        # by one factor for the noisy kinds (so t / s keep one unit) -- and solve() scales the
        # right-hand side to order 1 (the variables by the same power of two, undone after)
        big = np.zeros(m)
        np.maximum.at(big, np.repeat(np.arange(m), np.diff(p)), np.abs(v))
        if kind != "exact":
            big[:] = big.max(initial=0.0)
        self.row_scale = pow2_scale(big)
        v = v * np.repeat(self.row_scale, np.diff(p))
        lo0 = np.zeros(n) if nonneg else np.full(n, -INF)
        if kind == "exact":
            pass_lp(self.h, p, i, v, n, np.zeros(n), lo0, np.full(n, INF),
                    np.full(m, -INF), np.zeros(m))
            return
        if kind == "linf":  # one extra column t
            cols, ncol, cost = np.full(m, n), n + 1, np.r_[np.zeros(n), 1.0]
        else:  # one slack s_i per row
            cols, ncol, cost = n + np.arange(m), n + m, np.r_[np.zeros(n), np.ones(m)]
        top = _append_entry(p, i, v, cols, -np.ones(m))
        bot = _append_entry(p, i, v, cols, np.ones(m))
        indptr = np.concatenate([top[0], bot[0][1:] + top[0][-1]])
        pass_lp(self.h, indptr, np.r_[top[1], bot[1]], np.r_[top[2], bot[2]], ncol, cost,
                np.r_[lo0, np.zeros(ncol - n)], np.full(ncol, INF),
                np.full(2 * m, -INF), np.zeros(2 * m))
        self._rows = np.arange(2 * m, dtype=np.int32)

    def solve(self, c, I, ref=0.0):
        """Solve for right-hand side ``c = y - b`` and active mask ``I``; ``ref`` is the size
        of the data c came from (``y`` and ``b``: where they cancel, c is round-off, and
        scaling it up would make that round-off an inconsistent system).

        Returns ``(status, x, objective, seconds)``; ``x`` excludes t / s.
        """
        m = self.m
        c = np.asarray(c, dtype=np.float64) * self.row_scale
        top = max(float(np.abs(c).max(initial=0.0)), ref * float(self.row_scale.max(initial=0.0)))
        unit = 1.0 / pow2_scale(np.array([top]))[0]  # x = unit * x'
        c = c / unit
        if self.kind == "exact":
            lo = np.where(I, c, -INF)
            self.h.changeRowsBounds(m, np.arange(m, dtype=np.int32), lo, c)
        else:
            lo = np.r_[np.full(m, -INF), np.where(I, c, -INF)]
            up = np.r_[c, np.full(m, INF)]
            self.h.changeRowsBounds(2 * m, self._rows, lo, up)
        st, x, obj, secs = run(self.h)
        if st == "unbounded_or_infeasible":  # every objective here is bounded below
            st = "infeasible"
        if obj is not None and self.kind != "exact":  # t / s back in the layer's own units
            obj = obj * unit / self.row_scale[0] if m else obj
        return st, (None if x is None else x[: self.n] * unit), obj, secs


@dataclass
class Poly:
    """``{x : A_eq x = c_eq, A_in x <= c_in, x >= 0 if nonneg}`` with dense blocks."""

    A_eq: np.ndarray
    c_eq: np.ndarray
    A_in: np.ndarray
    c_in: np.ndarray
    nonneg: bool
    mask: np.ndarray | None = None  # the layer's active rows, when built from a layer
    #: the size of the data c was computed from (``c = y - b``): round-off in c is relative
    #: to it, not to c (where y = b, c is round-off alone)
    ref: float = 0.0

    @classmethod
    def of_layer(cls, A, c, I, nonneg, ref=0.0):
        return cls(A[I], c[I], A[~I], c[~I], nonneg, I, float(ref))

    @property
    def n(self):
        return self.A_eq.shape[1]

    def scale(self, x):
        """The size the tolerances are relative to: the data's and the point's (not at least
        1, which made them absolute for data of size 1e-8, and every point a solution)."""
        return max(self.ref, np.abs(self.c_eq).max(initial=0), np.abs(self.c_in).max(initial=0),
                   np.abs(x).max(initial=0), 1e-300)

    def violation(self, x):
        """Largest violation of any constraint (absolute)."""
        v = [np.abs(self.A_eq @ x - self.c_eq).max(initial=0),
             np.maximum(self.A_in @ x - self.c_in, 0).max(initial=0)]
        if self.nonneg:
            v.append(np.maximum(-x, 0).max(initial=0))
        return max(v)

    def tight(self, x, tol):
        s = self.scale(x) * tol
        T = self.c_in - self.A_in @ x <= s
        J = (x <= s) if self.nonneg else np.zeros(self.n, bool)
        return T, J

    def polish(self, x0, tol=1e-7):
        """Move ``x0`` (an LP answer, feasible to ~1e-7) onto its tight constraints.

        The tight rows are solved as equalities by least squares, with the smallest
        correction (so a non-unique ``x0`` stays where it was along the free directions);
        coordinates at their bound 0 are set to exactly 0.  Kept only if it is no worse.
        """
        T, J = self.tight(x0, tol)
        free = ~J
        M = np.vstack([self.A_eq[:, free], self.A_in[T][:, free]])
        x = x0.copy()
        x[J] = 0.0
        if M.size:
            r = np.r_[self.c_eq, self.c_in[T]] - M @ x[free]
            x[free] += np.linalg.lstsq(M, r, rcond=None)[0]
        if self.nonneg:
            x[(x < 0) & (x > -1e-12 * self.scale(x))] = 0.0
        return x if self.violation(x) <= self.violation(x0) else x0

    def is_point(self, x, tol=1e-9, rtol=1e-9):
        """Is ``{x}`` the whole polyhedron?  ``x`` must be feasible.  Returns (bool, rank).

        ``P`` is convex, so it is a single point iff no direction ``d != 0`` is feasible at
        ``x``: ``A_eq d = 0``, ``a_i d <= 0`` for tight inequalities, ``d_j >= 0`` where
        ``x_j = 0``.  Writing ``d = N u`` with ``N`` a null-space basis of ``A_eq`` (dimension
        k), that cone is ``{u : B u <= 0}``.  If ``B`` has rank < k its null space lies in
        the cone; otherwise the cone is {0} iff the LP ``min 1'Bu, Bu <= 0, |u| <= 1`` has
        value 0 (a feasible u with value 0 has ``Bu = 0``, hence u = 0).  Ranks are
        numerical (singular values above ``rtol`` times the largest); tight means slack
        below ``tol`` relative to the data.
        """
        n = self.n
        if _gram_full_rank(self.A_eq)[0]:
            return True, n
        if self.A_eq.shape[0]:
            _, s, Vt = np.linalg.svd(self.A_eq, full_matrices=True)
            r = int((s > rtol * s[0]).sum()) if s.size and s[0] > 0 else 0
        else:
            r, Vt = 0, np.eye(n)
        if r == n:
            return True, r
        N = Vt[r:].T
        T, J = self.tight(x, tol)
        B = np.vstack([self.A_in[T] @ N, -N[J]])
        k = N.shape[1]
        if B.shape[0] < k:
            return False, r
        sb = np.linalg.svd(B, compute_uv=False)
        if (sb > rtol * sb[0]).sum() < k:
            return False, r
        h = new_highs()
        p = np.arange(0, B.size + 1, k)
        pass_lp(h, p, np.tile(np.arange(k), B.shape[0]), B.ravel(), k, B.sum(axis=0),
                -np.ones(k), np.ones(k), np.full(B.shape[0], -INF), np.zeros(B.shape[0]))
        st, _, obj, _ = run(h)
        if st != "optimal":
            return None, r
        return bool(obj > -1e-9 * max(1.0, np.abs(B).max())), r

    def pinv_norms(self):
        """For error bounds: ``(rank, s_min, max_j ||P_j||_1, max_j ||P_j||_2)`` with P the
        pseudo-inverse of the equality rows (its rows P_j map row errors to x_j's error).
        Infinite norms and s_min = 0 when the rank is below n."""
        A = self.A_eq
        if A.shape[0] < A.shape[1]:
            r = np.linalg.matrix_rank(A) if A.size else 0
            return int(r), 0.0, np.inf, np.inf
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        r = int((s > 1e-9 * s[0]).sum()) if s[0] > 0 else 0
        if r < self.n:
            return r, 0.0, np.inf, np.inf
        P = (Vt.T / s) @ U.T
        return r, float(s[-1]), float(np.abs(P).sum(axis=1).max()), \
            float(np.sqrt((P * P).sum(axis=1)).max())


def _gram_full_rank(A):
    """Cheap certificate that A has full column rank, with its Gram matrix.

    Cholesky of ``A'A - mu I`` succeeds only if ``sigma_min(A)^2 > mu`` (up to rounding of
    order 1e-16 ||A'A||, far below mu = 1e-9 trace(A'A)/n).  A failure proves nothing; the
    caller then falls back to an SVD / LP.  Gram + Cholesky cost a fifth of an SVD.
    """
    m, n = A.shape
    if m < n:
        return False, None
    G = A.T @ A
    mu = 1e-9 * np.trace(G) / n
    try:
        np.linalg.cholesky(G - mu * np.eye(n))
    except np.linalg.LinAlgError:
        return False, G
    return mu > 0, G


def solve_point(poly):
    """Fast path: if the equality rows have full column rank, the polyhedron is at most
    the one solution of ``A_eq x = c_eq``, so the LP's answer is known without an LP.

    Returns ``x`` (the candidate, to be checked for feasibility by the caller) or
    ``None`` when full rank is not certain and an LP is needed.
    """
    A = poly.A_eq
    ok, G = _gram_full_rank(A)
    if not ok:
        return None
    x = np.linalg.solve(G, A.T @ poly.c_eq)
    x += np.linalg.solve(G, A.T @ (poly.c_eq - A @ x))  # one refinement step
    if poly.nonneg:
        x[np.abs(x) <= 1e-12 * max(1.0, np.abs(x).max())] = 0.0
    return x


def optimize_directions(indptr, indices, data, n, row_lo, row_up, col_lo, col_up, C):
    """min and max of ``c.x`` over a polyhedron for each row c of C (one warm model).

    Unbounded directions give -inf / +inf; an infeasible polyhedron gives None.
    """
    h = new_highs()
    pass_lp(h, indptr, indices, data, n, np.zeros(n), col_lo, col_up, row_lo, row_up)
    lo, hi = np.empty(len(C)), np.empty(len(C))
    idx = np.arange(n, dtype=np.int32)
    for j, c in enumerate(C):
        for sign, out in ((1.0, lo), (-1.0, hi)):
            h.changeColsCost(n, idx, sign * c)
            st, x, obj, _ = run(h)
            if st == "infeasible":
                return None
            # the polyhedron is known to be non-empty here, so "unbounded or infeasible" is
            # unbounded; a solver failure also gives the (safe) infinite bound
            out[j] = -sign * INF if x is None else sign * obj
    return lo, hi
