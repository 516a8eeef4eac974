"""The one HiGHS helper: quiet models, loading a sparse LP, solving with a cold retry, bound diffs.

Every LP that dsssolver solves (the search's strict-feasibility models in
:mod:`dsssolver.certify.lp`, the inversion LPs in :mod:`dsssolver.invert`, and
any new LP code) goes through this module, so that the solver is set up, retried
and read the same way everywhere:

* :func:`new_highs` -- a quiet, single-threaded ``highspy.Highs`` (presolve off
  unless asked for: the models here are small and re-solved many times with hot
  starts, where presolve costs more than it saves);
* :func:`csr` and :func:`pass_lp` -- a row-wise sparse matrix and a whole LP
  passed in one call;
* :func:`solve` -- run, and when HiGHS stops with any status other than the
  accepted ones (by default optimal and infeasible) clear the basis and run once
  more from a cold start; a second failure is reported, never hidden;
* :func:`pow2_scale` -- the power of two that brings a size into [1/2, 1): HiGHS's
  tolerances are absolute, so rows and right-hand sides are scaled by it, exactly;
* :class:`Model` -- a persistent model that counts its solves and retries and
  changes only the bounds and costs that differ from the last call
  (:func:`changed`), so each solve hot-starts from the previous basis.

Examples
--------
>>> import numpy as np
>>> h = new_highs()
>>> indptr, indices, data = csr(np.array([[1.0, 1.0]]))
>>> pass_lp(h, indptr, indices, data, 2, cost=[-1.0, -2.0], col_lo=[0, 0], col_up=[INF, INF],
...         row_lo=[-INF], row_up=[1.0])
>>> status_name(solve(h).status)
'optimal'
>>> np.asarray(h.getSolution().col_value).round(6).tolist()
[0.0, 1.0]
"""
from __future__ import annotations

import time
from typing import NamedTuple

import highspy
import numpy as np

__all__ = ["INF", "OPTIMAL", "INFEASIBLE", "pow2_scale", "new_highs", "csr", "pass_lp", "Solved", "solve",
           "status_name", "changed", "reset_after_fork", "run", "Model"]

INF = highspy.kHighsInf
_MS = highspy.HighsModelStatus
OPTIMAL = _MS.kOptimal
INFEASIBLE = _MS.kInfeasible
_NAMES = {OPTIMAL: "optimal", INFEASIBLE: "infeasible", _MS.kUnbounded: "unbounded",
          _MS.kUnboundedOrInfeasible: "unbounded_or_infeasible"}


def pow2_scale(a):
    """``2^-e`` with ``2^(e-1) <= a < 2^e`` per entry (1 where ``a`` is 0, not finite, or
    below 1e-300, where ``2^e`` would overflow): multiplying by it is exact in floating point
    and brings ``a`` into [1/2, 1).

    Examples
    --------
    >>> pow2_scale([3.0, 0.25, 0.0]).tolist()
    [0.25, 2.0, 1.0]
    """
    a = np.asarray(a, dtype=np.float64)
    ok = (a >= 1e-300) & np.isfinite(a)
    e = np.frexp(np.where(ok, a, 1.0))[1]
    return np.where(ok, np.ldexp(1.0, -e), 1.0)


def new_highs(*, presolve=False, **options):
    """A quiet, single-threaded HiGHS instance; ``options`` are passed to ``setOptionValue``.

    Examples
    --------
    >>> new_highs(time_limit=5.0).getOptionValue("threads")[1]
    1
    """
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if not presolve:
        h.setOptionValue("presolve", "off")
    for k, v in options.items():
        h.setOptionValue(k, v)
    return h


def csr(A):
    """Row-wise CSR ``(indptr, indices, data)`` of a dense 2-D array (its non-zeros only).

    Examples
    --------
    >>> [a.tolist() for a in csr(np.array([[0.0, 2.0], [3.0, 0.0]]))]
    [[0, 1, 2], [1, 0], [2.0, 3.0]]
    """
    A = np.asarray(A, dtype=float)
    nz = A != 0
    indptr = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int32)
    return indptr, np.nonzero(nz)[1].astype(np.int32), A[nz]


def pass_lp(h, indptr, indices, data, n_cols, cost, col_lo, col_up, row_lo, row_up):
    """Load ``min cost.x  s.t.  row_lo <= A x <= row_up, col_lo <= x <= col_up`` (A row-wise CSR).

    Examples
    --------
    >>> h = new_highs()
    >>> pass_lp(h, [0, 1], [0], [1.0], 1, [1.0], [0.0], [INF], [2.0], [INF])
    >>> status_name(solve(h).status), h.getInfo().objective_function_value
    ('optimal', 2.0)
    """
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(n_cols), len(indptr) - 1
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_, lp.col_upper_ = np.asarray(col_lo, float), np.asarray(col_up, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lo, float), np.asarray(row_up, float)
    a = lp.a_matrix_
    a.format_ = highspy.MatrixFormat.kRowwise
    a.start_ = np.asarray(indptr, dtype=np.int32)
    a.index_ = np.asarray(indices, dtype=np.int32)
    a.value_ = np.asarray(data, dtype=np.float64)
    a.num_col_, a.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_ = a
    h.passModel(lp)


class Solved(NamedTuple):
    """What :func:`solve` did: the final ``HighsModelStatus`` and whether it retried cold."""

    status: object
    retried: bool


def solve(h, accept=(OPTIMAL, INFEASIBLE)):
    """Run ``h`` (hot start); on a status outside ``accept``, run once more from a cold start.

    A hot start from the previous basis is almost always what we want; when
    HiGHS stops for another reason (iteration limit, numerical trouble) the
    cold retry discards that basis.  The caller must treat a final status
    that is still not accepted as a failure.

    Returns
    -------
    Solved
    """
    h.run()
    status = h.getModelStatus()
    retried = status not in accept
    if retried:
        h.clearSolver()
        h.run()
        status = h.getModelStatus()
    return Solved(status, retried)


def status_name(status):
    """``"optimal"``, ``"infeasible"``, ``"unbounded"``, ``"unbounded_or_infeasible"`` or
    ``"error: <HiGHS's words>"``.

    Examples
    --------
    >>> status_name(INFEASIBLE), status_name(highspy.HighsModelStatus.kIterationLimit)
    ('infeasible', 'error: Iteration limit reached')
    """
    return _NAMES.get(status) or f"error: {highspy.Highs().modelStatusToString(status)}"


def run(h, accept=(OPTIMAL, INFEASIBLE, _MS.kUnbounded, _MS.kUnboundedOrInfeasible)):
    """:func:`solve`, then read it: ``(status name, x or None, objective or None, seconds)``.

    ``x`` and the objective are given only for "optimal".
    """
    t0 = time.perf_counter()
    name = status_name(solve(h, accept).status)
    secs = time.perf_counter() - t0
    if name != "optimal":
        return name, None, None, secs
    return name, np.array(h.getSolution().col_value), h.getInfo().objective_function_value, secs


def reset_after_fork():
    """Drop HiGHS's thread scheduler state inherited through ``fork`` (call in the child)."""
    highspy.Highs.resetGlobalScheduler(True)


def changed(new, old):
    """Indices (int32) where ``new`` differs from ``old``: the bounds or costs to pass to HiGHS.

    Examples
    --------
    >>> changed(np.array([0.0, 1.0, INF]), np.array([0.0, 0.0, 0.0])).tolist()
    [1, 2]
    """
    return np.flatnonzero(new != old).astype(np.int32)


class Model:
    """A persistent HiGHS model that counts its solves and changes only what differs.

    Subclasses build the model in ``self.h`` and call :meth:`set_row_upper`,
    :meth:`set_col_upper`, :meth:`set_costs` and :meth:`solve`.

    Attributes
    ----------
    h : highspy.Highs
    lp_count, retries : int
        Solves, and cold retries among them.
    lp_seconds : float
        Time spent in HiGHS.
    """

    def __init__(self, h, rows, cols, row_upper, col_upper, cost):
        self.h = h
        self.lp_count, self.retries, self.lp_seconds = 0, 0, 0.0
        self._rows, self._cols = rows, cols  # the index sets whose bounds/costs are switched
        self._row_upper = np.asarray(row_upper, dtype=float)
        self._col_upper = np.asarray(col_upper, dtype=float)
        self._cost = np.asarray(cost, dtype=float)

    def set_row_upper(self, upper):
        """Set the upper bounds of the switched rows (lower bounds stay -inf)."""
        k = changed(upper, self._row_upper)
        if k.size:
            self.h.changeRowsBounds(k.size, self._rows[k], np.full(k.size, -INF), upper[k])
            self._row_upper = upper

    def set_col_upper(self, upper):
        """Set the upper bounds of the switched columns (lower bounds stay 0)."""
        k = changed(upper, self._col_upper)
        if k.size:
            self.h.changeColsBounds(k.size, self._cols[k], np.zeros(k.size), upper[k])
            self._col_upper = upper

    def set_costs(self, cost):
        """Set the costs of the switched columns."""
        k = changed(cost, self._cost)
        if k.size:
            self.h.changeColsCost(k.size, self._cols[k], cost[k])
            self._cost = cost

    def solve(self, accept=(OPTIMAL,)):
        """:func:`solve`, counted and timed; returns the final ``HighsModelStatus``."""
        t0 = time.perf_counter()
        status, retried = solve(self.h, accept)
        self.lp_count += 1
        self.retries += retried
        self.lp_seconds += time.perf_counter() - t0
        return status
