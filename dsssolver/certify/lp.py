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

Each row ``[w_i, b_i]`` is scaled to unit max-norm first; positive scaling
changes neither the strict system nor the support of its certificates.
"""
from __future__ import annotations

import time

import highspy
import numpy as np

__all__ = ["StrictLP", "LPOutcome"]

_INF = highspy.kHighsInf


_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INFEASIBLE = highspy.HighsModelStatus.kInfeasible


class _Model:
    """One persistent HiGHS model: quiet, single-threaded, with counted, retried solves."""

    def _new_highs(self, presolve=False):
        self.lp_count = 0
        self.lp_seconds = 0.0
        self.retries = 0
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        if not presolve:
            h.setOptionValue("presolve", "off")  # tiny LPs: presolve costs more than it saves
        return h

    def _run(self, expected=(_OPTIMAL,)):
        """Solve (hot start); any status not in ``expected`` is retried once from scratch."""
        h = self._h
        t0 = time.perf_counter()
        h.run()
        status = h.getModelStatus()
        if status not in expected:
            self.retries += 1
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        self.lp_count += 1
        self.lp_seconds += time.perf_counter() - t0
        return status


def _pow2_rows(W, b):
    """Rows ``[w_i, b_i]`` scaled by a power of two to max-norm in [0.5, 1).

    A power of two scales a float exactly, so the LP's matrix is exactly a
    positive rescaling of the layer's rows: no rounding enters the model.
    """
    A = np.hstack([W, b[:, None]])
    norms = np.abs(A).max(axis=1)
    exps = np.frexp(np.where(norms > 0, norms, 1.0))[1]
    return np.ldexp(A, -exps[:, None]), exps


class LPOutcome:
    """What one LP solve says.

    Attributes
    ----------
    status : {"feasible", "infeasible", "error"}
    margin : float
        ``t*``; positive means the strict system is solvable.
    point : ndarray or None
        ``x / s`` for a feasible strict system (a point of the open cell).
    support : ndarray or None
        Rows with a non-zero dual (Farkas support) when infeasible.
    """

    __slots__ = ("status", "margin", "point", "support", "duals")

    def __init__(self, status, margin=0.0, point=None, support=None, duals=None):
        self.status = status
        self.margin = margin
        self.point = point
        self.support = support
        self.duals = duals


class StrictLP(_Model):
    """A persistent HiGHS model of the robust strict-feasibility LP for one layer.

    Parameters
    ----------
    W : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    margin_tol : float
        ``t*`` above this counts as "solvable"; the caller re-checks exactly.
    """

    def __init__(self, W, b, margin_tol=1e-9, dual_tol=1e-10):
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float)
        self.m, self.n = W.shape
        self.rows, _ = _pow2_rows(W, b)  # rows [w_i, b_i] * 2**-e_i: well scaled, exactly
        self.margin_tol = margin_tol
        self.dual_tol = dual_tol
        self._h = self._build()
        self._upper = np.full(self.m, 0.0)  # current upper bounds of the layer rows

    def _build(self):
        m, n = self.m, self.n
        h = self._new_highs()
        ncol = n + 2  # x (n), s, t
        lower = np.array([-1.0] * (n + 1) + [-_INF])
        upper = np.array([1.0] * (n + 1) + [1.0])
        cost = np.zeros(ncol)
        cost[-1] = -1.0  # minimise -t
        h.addVars(ncol, lower, upper)
        h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), cost)
        # layer rows: [w_i, b_i, 1] . (x, s, t) <= 0, stored column-wise via addRows (row-wise CSR)
        full = np.hstack([self.rows, np.ones((m, 1))])
        starts, index, value = [], [], []
        for i in range(m):
            nz = np.nonzero(full[i])[0]
            starts.append(len(index))
            index.extend(nz.tolist())
            value.extend(full[i, nz].tolist())
        h.addRows(
            m,
            np.full(m, -_INF),
            np.zeros(m),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=float),
        )
        # the row -s + t <= 0 keeps s >= t > 0 when the system is solvable
        h.addRow(-_INF, 0.0, 2, np.array([n, n + 1], dtype=np.int32), np.array([-1.0, 1.0]))
        return h

    def set_rows(self, active):
        """Make exactly the rows with ``active[i]`` True part of the strict system."""
        new_upper = np.where(active, 0.0, _INF)
        changed = np.nonzero(new_upper != self._upper)[0]
        if changed.size:
            self._h.changeRowsBounds(
                changed.size,
                changed.astype(np.int32),
                np.full(changed.size, -_INF),
                new_upper[changed],
            )
            self._upper = new_upper

    def solve(self, active):
        """Solve for the row set ``active`` (boolean mask of length m)."""
        self.set_rows(active)
        if self._run() != _OPTIMAL:  # should not happen for this always-optimal LP
            return LPOutcome("error")
        h = self._h
        sol = h.getSolution()
        col = np.asarray(sol.col_value)
        t = col[-1]
        if t > self.margin_tol:
            s = col[self.n]
            return LPOutcome("feasible", margin=t, point=col[: self.n] / s)
        duals = np.abs(np.asarray(sol.row_dual)[: self.m])
        duals[~active] = 0.0
        scale = duals.max() if duals.size else 0.0
        support = np.nonzero(duals > self.dual_tol * max(scale, 1.0))[0]
        return LPOutcome("infeasible", margin=t, support=support, duals=duals)


class FarkasLP(_Model):
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

    def __init__(self, W, b, excluded_cost=1e-2, support_tol=1e-9):
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float)
        self.m, self.n = W.shape
        A, _ = _pow2_rows(W, b)
        self.excluded_cost = excluded_cost
        self.support_tol = support_tol
        m, n = self.m, self.n
        h = self._new_highs()
        # columns y_0..y_{m-1}, z; rows: n rows W^T y = 0, b^T y - z = 0, 1^T y = 1
        h.addVars(m + 1, np.zeros(m + 1), np.full(m + 1, _INF))
        self._cost = np.ones(m)
        h.changeColsCost(m, np.arange(m, dtype=np.int32), self._cost)
        dense = np.vstack([A[:, :n].T, A[:, n], np.ones(m)])  # (n + 2) x m
        zcol = np.zeros((n + 2, 1))
        zcol[n, 0] = -1.0
        dense = np.hstack([dense, zcol])
        for r in range(n + 2):
            nz = np.nonzero(dense[r])[0]
            rhs = 1.0 if r == n + 1 else 0.0
            h.addRow(rhs, rhs, nz.size, nz.astype(np.int32), dense[r, nz])
        self._h = h
        self._upper = np.full(m, _INF)

    def solve(self, flat, excluded):
        """Solve for a node: ``flat`` rows get y = 0, ``excluded`` rows cost ~0.

        Returns
        -------
        LPOutcome
            status "infeasible" here means *the Farkas system* is infeasible,
            i.e. the strict system is solvable; it is reported as "feasible".
            Otherwise status "infeasible" (of the strict system) with
            ``support`` and ``margin`` = the optimal available mass.
        """
        m = self.m
        h = self._h
        upper = np.where(flat, 0.0, _INF)
        changed = np.nonzero(upper != self._upper)[0]
        if changed.size:
            h.changeColsBounds(changed.size, changed.astype(np.int32),
                               np.zeros(changed.size), upper[changed])
            self._upper = upper
        cost = np.where(excluded, self.excluded_cost, 1.0)
        changed = np.nonzero(cost != self._cost)[0]
        if changed.size:
            h.changeColsCost(changed.size, changed.astype(np.int32), cost[changed])
            self._cost = cost
        status = self._run((_OPTIMAL, _INFEASIBLE))
        if status == _INFEASIBLE:
            return LPOutcome("feasible")
        if status != _OPTIMAL:
            return LPOutcome("error")
        y = np.asarray(h.getSolution().col_value)[:m]
        y = np.where(flat, 0.0, y)
        support = np.nonzero(y > self.support_tol * max(y.max(), 1e-300))[0]
        avail = float(y[~excluded].sum())
        return LPOutcome("infeasible", margin=avail, support=support, duals=y)


class ElasticLP(_Model):
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

    def __init__(self, W, b):
        A, _ = _pow2_rows(np.asarray(W, dtype=float), np.asarray(b, dtype=float))
        self.m, self.n = A.shape[0], A.shape[1] - 1
        m, n = self.m, self.n
        h = self._new_highs(presolve=True)
        # columns: x (n, free), s >= 1, e (m) >= 0 with cost 1
        lower = np.concatenate([np.full(n, -_INF), [1.0], np.zeros(m)])
        upper = np.full(n + 1 + m, _INF)
        h.addVars(n + 1 + m, lower, upper)
        h.changeColsCost(m, np.arange(n + 1, n + 1 + m, dtype=np.int32), np.ones(m))
        for i in range(m):
            nz = np.nonzero(A[i])[0]
            idx = np.concatenate([nz, [n + 1 + i]]).astype(np.int32)
            val = np.concatenate([A[i, nz], [-1.0]])
            h.addRow(-_INF, -1.0, idx.size, idx, val)
        self._h = h
        self._upper = np.full(m, -1.0)

    def solve(self, active):
        """Returns ``(objective, e, point)`` for the rows in ``active``, or None on failure."""
        upper = np.where(active, -1.0, _INF)
        changed = np.nonzero(upper != self._upper)[0]
        if changed.size:
            self._h.changeRowsBounds(changed.size, changed.astype(np.int32),
                                     np.full(changed.size, -_INF), upper[changed])
            self._upper = upper
        if self._run() != _OPTIMAL:
            return None
        col = np.asarray(self._h.getSolution().col_value)
        n = self.n
        e = np.where(active, col[n + 1:], 0.0)
        return float(e.sum()), e, col[:n] / col[n]
