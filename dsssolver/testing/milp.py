"""A plain big-M MILP peer (PuLP on HiGHS): a floating benchmark baseline, not exact.

Two formulations of "is ``x -> ReLU(W x + b)`` non-injective" (docs/math.md section 3):

``"depth"`` (``b = 0``, rows in general position)
    Non-injective iff the minimum over ``x != 0`` of the number of rows with
    ``w_i . x >= 0`` is ``< n``: the Tukey depth of the origin among the rows.
    Binaries ``z_i`` (row ``i`` allowed on), ``x`` in ``[-1, 1]^n`` with
    ``||x||_inf = 1`` (``2n`` binaries choose the coordinate at ``+1`` or
    ``-1``), ``w_i . x <= -delta + M_i z_i``; minimise ``sum z_i``.  The
    objective is the depth (up to ``delta``).  Without general position this
    is only half a test: depth ``< n`` still proves non-injectivity, but depth
    ``>= n`` does not prove injectivity (dependent active rows), so the answer
    is then ``"unknown"`` unless ``assume_general_position=True``.

``"direction"`` (any ``W``, ``b``; exact in the matroid sense)
    Non-injective iff there are ``x`` and ``v != 0`` such that every row not
    strictly negative at ``x`` is orthogonal to ``v``.  Homogenised with ``s``:
    ``(x, s)`` in ``[-1, 1]^n x [0, 1]``, ``v`` in ``[-1, 1]^n`` with
    ``||v||_inf = 1``, binaries ``z_i``: ``w_i . x + b_i s <= -delta + M_i z_i``
    and ``|w_i . v| <= L_i (1 - z_i)``; pure feasibility.  ``rank W < n`` is
    covered (all ``z_i = 1``).  ``s = 0`` is allowed: then ``lambda x`` is a
    point for large ``lambda``.

Tolerance caveat: the strict inequalities are replaced by a margin ``delta``
(default ``1e-5``) on rows scaled to unit max-norm, and HiGHS works with
feasibility and integrality tolerances (set to ``1e-9`` here; with HiGHS's
default ``1e-6`` integrality tolerance a binary at ``1 - 1e-6`` relaxes a
big-M row by ``M * 1e-6``, which is as large as a ``1e-6`` margin and did
produce false "not injective" answers).  A cell thinner than ``delta`` is
missed (a false "injective"), and a ``z_i`` within tolerance of 1 lets
``|w_i . v|`` be about ``1e-9 L_i`` instead of 0 (a false "not injective" on
nearly dependent rows).  Use
:func:`dsssolver.certify` for exact answers; this module is a timing baseline.

Examples
--------
>>> import numpy as np
>>> milp_certify(np.vstack([np.eye(2), -np.eye(2)])).status
'injective'
>>> r = milp_certify([[1, 0], [0, 1], [-1, 0]])
>>> r.status
'not_injective'
>>> milp_certify(np.vstack([np.eye(2), -np.eye(2)]), formulation="depth").objective
2.0
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp

from .._validate import as_layer

__all__ = ["MilpResult", "milp_certify", "DELTA", "INTEGRALITY_TOL"]

#: Default margin for the strict inequalities (rows scaled to max-norm 1).
DELTA = 1e-5
#: HiGHS's ``mip_feasibility_tolerance`` and ``primal_feasibility_tolerance``
#: here: a binary within this of 1 relaxes a big-M row by about ``M`` times it,
#: which must stay far below ``DELTA``.
INTEGRALITY_TOL = 1e-9


@dataclass
class MilpResult:
    """Outcome of :func:`milp_certify`.

    Attributes
    ----------
    status : str
        ``"injective"``, ``"not_injective"`` or ``"unknown"`` (time limit, or a
        depth ``>= n`` without general position).
    point : numpy.ndarray or None
        A float ``x`` at which the active rows are (numerically) rank-deficient.
    seconds : float
        Wall-clock time, model building included.
    objective : float or None
        ``"depth"``: the minimum number of rows allowed on (the Tukey depth of
        the origin, up to ``delta``); ``"direction"``: ``None``.
    direction : numpy.ndarray or None
        A float ``v != 0`` numerically orthogonal to the rows active at ``point``.
    formulation : str
        ``"depth"`` or ``"direction"``.
    solver_status : str
        HiGHS's model status string.
    """

    status: str
    point: np.ndarray | None = None
    seconds: float = 0.0
    objective: float | None = None
    direction: np.ndarray | None = field(default=None, repr=False)
    formulation: str = ""
    solver_status: str = ""


def _unit_direction_vars(prob, name, n):
    """Variables ``v`` in ``[-1, 1]^n`` with ``||v||_inf = 1`` through ``2n`` binaries."""
    v = [prob.add_variable(f"{name}{j}", -1, 1) for j in range(n)]
    up = [prob.add_variable(f"{name}up{j}", cat="Binary") for j in range(n)]
    dn = [prob.add_variable(f"{name}dn{j}", cat="Binary") for j in range(n)]
    prob += pulp.lpSum(up) + pulp.lpSum(dn) == 1, f"{name}_one_coordinate_at_bound"
    for j in range(n):
        prob += v[j] >= -1 + 2 * up[j], f"{name}{j}_up"  # up_j = 1  =>  v_j = 1
        prob += v[j] <= 1 - 2 * dn[j], f"{name}{j}_dn"  # dn_j = 1  =>  v_j = -1
    return v


def _val(var):
    """A variable's value (0 for one that appears in no constraint)."""
    value = var.value()
    return 0.0 if value is None else float(value)


def _solve(prob, time_limit, threads):
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, threads=threads,
                        mip_feasibility_tolerance=INTEGRALITY_TOL,
                        primal_feasibility_tolerance=INTEGRALITY_TOL)
    prob.solve(solver)
    h = prob.solverModel
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    return h, h.getModelStatus(), has_solution, info


def milp_certify(W, b=None, time_limit=None, formulation="direction", delta=DELTA,
                 threads=1, assume_general_position=False) -> MilpResult:
    """Decide injectivity with a big-M MILP (floating; see the module's tolerance caveat).

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,), optional
        Biases; zeros by default.  ``formulation="depth"`` needs ``b = 0``.
    time_limit : float, optional
        Seconds for HiGHS; at the limit the answer is ``"unknown"`` unless a
        solution (or, for ``"depth"``, a dual bound ``>= n``) already decides it.
    formulation : {"direction", "depth"}
        See the module docstring.
    delta : float
        Margin standing in for strict inequalities (rows scaled to max-norm 1);
        keep it far above ``INTEGRALITY_TOL`` times the big-M constants
        (``<= 2n + 1``).
    threads : int
        HiGHS threads.
    assume_general_position : bool
        ``"depth"`` only: read depth ``>= n`` as injective (true when every
        ``n`` rows are independent); otherwise that case is ``"unknown"``.

    Returns
    -------
    MilpResult

    Examples
    --------
    >>> milp_certify([[1], [-1]], [1, -1]).status   # the seed Lemma 1 counterexample
    'injective'
    >>> milp_certify([[1, 0], [2, 0], [0, 1], [0, -1]]).status   # rank-deficient flat
    'not_injective'
    """
    t0 = time.perf_counter()
    W, b = as_layer(W, b)
    Wf = np.asarray(W, dtype=float)
    bf = np.asarray(b, dtype=float)
    m, n = Wf.shape
    if formulation == "depth":
        if np.any(bf != 0):
            raise ValueError("formulation='depth' needs b = 0")
        return _depth(Wf, t0, time_limit, delta, threads, assume_general_position)
    if formulation != "direction":
        raise ValueError(f"unknown formulation {formulation!r}")
    scale = np.abs(np.hstack([Wf, bf[:, None]])).max(axis=1)
    scale[scale == 0] = 1.0
    U, c = Wf / scale[:, None], bf / scale

    prob = pulp.LpProblem("relu_noninjective_direction", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j}", -1, 1) for j in range(n)]
    s = prob.add_variable("s", 0, 1)
    v = _unit_direction_vars(prob, "v", n)
    z = [prob.add_variable(f"z{i}", cat="Binary") for i in range(m)]
    prob += pulp.lpSum([]), "feasibility"
    for i in range(m):
        M = np.abs(U[i]).sum() + abs(c[i]) + delta
        L = np.abs(U[i]).sum()
        prob += (pulp.lpSum(U[i, j] * x[j] for j in range(n)) + c[i] * s
                 <= -delta + M * z[i]), f"off{i}"
        if L > 0:
            wv = pulp.lpSum(U[i, j] * v[j] for j in range(n))
            prob += wv <= L * (1 - z[i]), f"orth_hi{i}"
            prob += wv >= -L * (1 - z[i]), f"orth_lo{i}"
    h, st, has_solution, _ = _solve(prob, time_limit, threads)
    name = h.modelStatusToString(st)
    if has_solution:
        xs = np.array([_val(xv) for xv in x])
        sv = _val(s)
        if sv > 1e-9:
            point = xs / sv
        else:  # direction at infinity: scale it until the biases no longer matter
            off = [i for i in range(m) if _val(z[i]) < 0.5]
            slopes = U[off] @ xs
            lam = 1.0 + max([c[i] / -sl for i, sl in zip(off, slopes) if sl < 0] + [0.0])
            point = 2 * lam * xs
        return MilpResult("not_injective", point, time.perf_counter() - t0, None,
                          np.array([_val(vv) for vv in v]), "direction", name)
    status = "injective" if st == highspy.HighsModelStatus.kInfeasible else "unknown"
    return MilpResult(status, None, time.perf_counter() - t0, None, None, "direction", name)


def _depth(Wf, t0, time_limit, delta, threads, assume_general_position):
    m, n = Wf.shape
    scale = np.abs(Wf).max(axis=1)
    scale[scale == 0] = 1.0
    U = Wf / scale[:, None]
    prob = pulp.LpProblem("tukey_depth_of_origin", pulp.LpMinimize)
    x = _unit_direction_vars(prob, "x", n)
    z = [prob.add_variable(f"z{i}", cat="Binary") for i in range(m)]
    prob += pulp.lpSum(z), "rows_on"
    for i in range(m):
        M = np.abs(U[i]).sum() + delta
        prob += pulp.lpSum(U[i, j] * x[j] for j in range(n)) <= -delta + M * z[i], f"off{i}"
    h, st, has_solution, info = _solve(prob, time_limit, threads)
    name = h.modelStatusToString(st)
    objective = float(round(info.objective_function_value)) if has_solution else None
    seconds = lambda: time.perf_counter() - t0  # noqa: E731
    if has_solution and objective <= n - 1:
        point = np.array([_val(xv) for xv in x])
        return MilpResult("not_injective", point, seconds(), objective, None, "depth", name)
    proven = st == highspy.HighsModelStatus.kOptimal or (
        np.isfinite(info.mip_dual_bound) and info.mip_dual_bound > n - 1 + 1e-6
    )
    if proven and assume_general_position:
        return MilpResult("injective", None, seconds(), objective, None, "depth", name)
    return MilpResult("unknown", None, seconds(), objective, None, "depth", name)
