"""The strict-feasibility oracle: one persistent HiGHS model per layer.

Question asked at every search node: given a set ``R`` of rows, does the strict
system ``w_i . x + b_i < 0 (i in R)`` have a solution?  It is answered with the
bounded, homogenised LP of MATH.md section 4::

    max t  s.t.  w_i . x + b_i s + t <= 0   (i in R)
                 -s + t <= 0
                 -1 <= x, s <= 1,  t <= 1

which is always feasible (x = s = t = 0) and bounded, so HiGHS should always
report "optimal".  The strict system is solvable iff ``t* > 0``; when
``t* <= 0`` the row duals are a Farkas certificate ``y`` (MATH.md section 4).

Rows outside ``R`` are not removed: their upper bound is switched to +inf with
``changeRowsBounds``, so the model is passed once and every solve hot-starts
from the previous basis.
The HiGHS plumbing (quiet options, cold retry, bound diffs) is :mod:`dsssolver._highs`.

Each row ``[w_i, b_i]`` is scaled to unit max-norm first; positive scaling
changes neither the strict system nor the support of its certificates.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._highs import INF as _INF, INFEASIBLE as _INFEASIBLE, OPTIMAL as _OPTIMAL
from .._highs import Model, csr, new_highs, pass_lp, pow2_scale

__all__ = ["StrictLP", "FarkasLP", "ElasticLP", "LPOutcome"]


def _domain_rows(domain, n):
    """The domain's float rows ``[a_k, -c_k]`` (k x (n + 1)), power-of-two scaled; empty if none."""
    if domain is None:
        return np.zeros((0, n + 1))
    A = np.asarray(domain, dtype=float)
    return _pow2_rows(A[:, :n], A[:, n])


def _pow2_rows(W, b):
    """Rows ``[w_i, b_i]`` scaled by a power of two to max-norm in [0.5, 1).

    A power of two scales a float exactly, so the LP's matrix is exactly a
    positive rescaling of the layer's rows: no rounding enters the model.
    """
    A = np.hstack([W, b[:, None]])
    return A * pow2_scale(np.abs(A).max(axis=1))[:, None]


class LPOutcome(NamedTuple):
    """What one LP solve says about a strict system.

    Attributes
    ----------
    status : {"feasible", "infeasible", "error"}
    point : ndarray or None
        ``x / s`` for a feasible strict system (a point of the open cell).
    support : ndarray or None
        Rows with a non-zero dual (Farkas support) when infeasible.
    domain_support : ndarray or None
        Domain rows with a non-zero dual, likewise.
    """

    status: str
    point: np.ndarray | None = None
    support: np.ndarray | None = None
    domain_support: np.ndarray | None = None


class ElasticOutcome(NamedTuple):
    """The elastic LP's optimum: total violation, per-row violations ``e``, the point ``x / s``."""

    value: float
    violation: np.ndarray
    point: np.ndarray


class StrictLP(Model):
    """A persistent HiGHS model of the robust strict-feasibility LP for one layer.

    Parameters
    ----------
    W : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    margin_tol : float
        ``t*`` above this counts as "solvable"; the caller re-checks exactly.
    dual_tol : float
        Duals below this times the largest are left out of the support.
    domain : ndarray, shape (k, n + 1), optional
        Rows ``[a_k, -c_k]`` of a domain ``A x <= c``: always in the system, non-strictly.
    """

    def __init__(self, W, b, margin_tol=1e-9, dual_tol=1e-10, domain=None):
        rows = _pow2_rows(np.asarray(W, dtype=float), np.asarray(b, dtype=float))
        self.m, self.n = m, n = W.shape
        dom = _domain_rows(domain, n)
        self.margin_tol = margin_tol
        self.dual_tol = dual_tol
        # columns x (n), s, t; layer rows [w_i, b_i, 1] . (x, s, t) <= 0, then -s + t <= 0
        # (which keeps s >= t > 0 when the system is solvable), then the domain's
        # [a_k, -c_k, 0] . (x, s, t) <= 0; maximise t
        A = np.zeros((m + 1 + len(dom), n + 2))
        A[:m, : n + 1] = rows
        A[:m, n + 1] = 1.0
        A[m, n:] = (-1.0, 1.0)
        A[m + 1:, : n + 1] = dom
        h = new_highs()
        pass_lp(h, *csr(A), n + 2, cost=np.r_[np.zeros(n + 1), -1.0],
                col_lo=np.r_[np.full(n + 1, -1.0), -_INF], col_up=np.ones(n + 2),
                row_lo=np.full(len(A), -_INF), row_up=np.zeros(len(A)))
        super().__init__(h, rows=np.arange(m, dtype=np.int32), cols=None,
                         row_upper=np.zeros(m), col_upper=(), cost=())

    def solve(self, active):
        """Solve for the row set ``active`` (boolean mask of length m)."""
        self.set_row_upper(np.where(active, 0.0, _INF))
        if super().solve() != _OPTIMAL:  # should not happen for this always-optimal LP
            return LPOutcome("error")
        sol = self.h.getSolution()
        col = np.asarray(sol.col_value)
        t = col[-1]
        if t > self.margin_tol:
            return LPOutcome("feasible", point=col[: self.n] / col[self.n])
        all_duals = np.abs(np.asarray(sol.row_dual))
        duals = all_duals[: self.m]
        duals[~active] = 0.0
        dom = all_duals[self.m + 1:]
        scale = max(duals.max(initial=0.0), dom.max(initial=0.0))
        cut = self.dual_tol * max(scale, 1.0)
        return LPOutcome("infeasible", support=np.nonzero(duals > cut)[0],
                         domain_support=np.nonzero(dom > cut)[0])


class FarkasLP(Model):
    """A persistent HiGHS model of the Farkas (dual) side of the strict system.

    ::

        min  sum_i c_i y_i   s.t.  sum_i y_i w_i = 0,  sum_i y_i b_i - z = 0,
                                   sum_i y_i = 1,      y, z >= 0,  y_i = 0 (i in F)

    is feasible iff the strict system on the rows outside ``F`` has no solution
    (Motzkin).  With cost ~0 on the rows a search node has excluded (they can
    never be branched on) and 1 on the others, an optimal vertex is a
    certificate that leaves as few rows to branch on as the LP can find; an
    optimum of 0 means the excluded rows alone are infeasible and the node is
    empty.  Rows are scaled to unit max-norm, which only rescales ``y``.
    """

    def __init__(self, W, b, excluded_cost=1e-2, support_tol=1e-9, domain=None):
        A = _pow2_rows(np.asarray(W, dtype=float), np.asarray(b, dtype=float))
        self.m, self.n = m, n = W.shape
        dom = _domain_rows(domain, n)
        self.excluded_cost = excluded_cost
        self.support_tol = support_tol
        # columns y_0..y_{m-1}, z, u_0..u_{k-1} (domain rows, cost 0); rows: n rows
        # W^T y + A^T u = 0, b^T y - c^T u - z = 0, 1^T y = 1
        k = len(dom)
        dense = np.zeros((n + 2, m + 1 + k))
        dense[:n, :m] = A[:, :n].T
        dense[n, :m] = A[:, n]
        dense[n, m] = -1.0
        dense[n + 1, :m] = 1.0
        dense[: n + 1, m + 1:] = dom.T
        rhs = np.r_[np.zeros(n + 1), 1.0]
        h = new_highs()
        pass_lp(h, *csr(dense), m + 1 + k, cost=np.r_[np.ones(m), np.zeros(k + 1)],
                col_lo=np.zeros(m + 1 + k), col_up=np.full(m + 1 + k, _INF), row_lo=rhs, row_up=rhs)
        cols = np.arange(m, dtype=np.int32)
        super().__init__(h, rows=None, cols=cols, row_upper=(), col_upper=np.full(m, _INF),
                         cost=np.ones(m))

    def solve(self, flat, excluded):
        """Solve for a node: ``flat`` rows get y = 0, ``excluded`` rows cost ~0.

        Returns
        -------
        LPOutcome
            "feasible" when the Farkas system is infeasible (so the strict
            system is solvable; no point is given); otherwise "infeasible" (of
            the strict system) with ``support``; "error" if HiGHS failed twice.
        """
        self.set_col_upper(np.where(flat, 0.0, _INF))
        self.set_costs(np.where(excluded, self.excluded_cost, 1.0))
        status = super().solve((_OPTIMAL, _INFEASIBLE))
        if status == _INFEASIBLE:
            return LPOutcome("feasible")
        if status != _OPTIMAL:
            return LPOutcome("error")
        col = np.asarray(self.h.getSolution().col_value)
        y = np.where(flat, 0.0, col[: self.m])
        u = col[self.m + 1:]
        cut = self.support_tol * max(y.max(), u.max(initial=0.0), 1e-300)
        return LPOutcome("infeasible", support=np.nonzero(y > cut)[0],
                         domain_support=np.nonzero(u > cut)[0])


class ElasticLP(Model):
    """Sum-of-infeasibilities LP for the strict system, used to dive for witnesses.

    ::

        min  sum_i e_i   s.t.  w_i . x + b_i s - e_i <= -1   (rows in the system)
                               s >= 1,  e >= 0,  x free

    Any solution of the strict system scales to one with e = 0, so the optimum
    is 0 iff the system is solvable.  Otherwise the rows with the largest
    ``e_i`` are the ones most in the way: a greedy dive that lets them be
    active (Chinneck's heuristic for maximum feasible subsystems) reaches a
    rank-deficient cell quickly on layers that are far from injective.
    """

    def __init__(self, W, b, domain=None):
        A = _pow2_rows(np.asarray(W, dtype=float), np.asarray(b, dtype=float))
        self.m, self.n = m, n = W.shape
        dom = _domain_rows(domain, n)
        # columns: x (n, free), s >= 1, e (m) >= 0 with cost 1; then the domain's hard rows
        # a_k . x - c_k s <= 0
        indptr, index, value = csr(A)
        # append -e_i to row i: insert one entry at the end of each row
        index = np.insert(index, indptr[1:], np.arange(n + 1, n + 1 + m, dtype=np.int32))
        value = np.insert(value, indptr[1:], -1.0)
        indptr = indptr + np.arange(m + 1, dtype=np.int32)
        dp, di, dv = csr(dom)
        indptr = np.r_[indptr, dp[1:] + indptr[-1]].astype(np.int32)
        index, value = np.r_[index, di].astype(np.int32), np.r_[value, dv]
        k = len(dom)
        h = new_highs(presolve=True)
        pass_lp(h, indptr, index, value, n + 1 + m, cost=np.r_[np.zeros(n + 1), np.ones(m)],
                col_lo=np.r_[np.full(n, -_INF), 1.0, np.zeros(m)],
                col_up=np.full(n + 1 + m, _INF), row_lo=np.full(m + k, -_INF),
                row_up=np.r_[np.full(m, -1.0), np.zeros(k)])
        super().__init__(h, rows=np.arange(m, dtype=np.int32), cols=None,
                         row_upper=np.full(m, -1.0), col_upper=(), cost=())

    def solve(self, active):
        """The optimum for the rows in ``active``: an :class:`ElasticOutcome`, or None on failure."""
        self.set_row_upper(np.where(active, -1.0, _INF))
        if super().solve() != _OPTIMAL:
            return None
        col = np.asarray(self.h.getSolution().col_value)
        n = self.n
        e = np.where(active, col[n + 1:], 0.0)
        return ElasticOutcome(float(e.sum()), e, col[:n] / col[n])
