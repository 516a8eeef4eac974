"""The joint fallback: layers below a non-injective layer, solved as one MILP.

When the preimage ``P`` of layer K+1's output is not a single point, the true input
``x_K`` is the point of ``P`` that the layers below can produce.  We look for
``z, x_1, ..., x_K`` with ``x_j = ReLU(W_j x_{j-1} + b_j)`` and ``x_K in P`` as a MILP
(PuLP on HiGHS), one binary per ReLU whose sign the bounds leave open:

    x >= pre,  x >= 0,  x <= pre - L (1 - d),  x <= U d,   d in {0, 1}

where ``[L, U]`` bounds the pre-activation.  The bounds come from LPs and hold for
*every* solution, not just near the true one, so the big-M formulation is exact:
``x_K`` is bounded by LPs over ``P``; ``ReLU(pre) <= u`` implies ``pre <= u``, so
``{x_{j-1} >= 0 : W_j x_{j-1} + b_j <= hi_j}`` bounds the layer below, down to ``z``;
then the pre-activations of layer 1 are bounded by LPs over that polytope, and deeper
ones by interval arithmetic.  Every LP bound is loosened by HiGHS's tolerance before
use (a neuron at exactly 0 "bounded below by 1e-11" would be fixed on).  If some LP is
unbounded, a box is imposed and the report says so (``boxed``): claims then hold
inside that box.

The MILP's answer is then polished: with its on/off pattern fixed every constraint is
linear in z, and the point is moved onto its tight constraints by least squares.  Is
the network's preimage of x a single point?  If the pattern's polyhedron is not a point,
no.  Otherwise a second MILP maximises ``||z'' - z'||_1`` over all preimages; a far
optimum is re-checked as a real second preimage, and "yes" needs an optimum of ~0 from
two solver set-ups (HiGHS's MIP presolve once hid a second preimage).

Numerics.  HiGHS's tolerances are absolute, so every row is scaled to coefficients of
order 1 (:func:`_add`); "infeasible" from the first MILP is believed only after a looser
tolerance and the other presolve setting agree; a MILP whose rows span 1e12 or more (big-M
next to unit weights) is not solved at all; and the MILP's point must map into ``P``
after polishing, or no claim is made.  On 150 random two-layer nets with weights
~1e-2-1e4 (5 exact outputs each) this turned 12 wrong "no z gives x", 6 exceptions and 3
failures into 11 honest failures and correct answers.  The MILP is then built on the same
network with every hidden unit rescaled by a power of two (:func:`_balanced`: each weight
matrix and each row of ``P`` to largest entry ~1, exactly): on those 750 outputs the last
20 failures ("coefficients span 1e12", "its point is no preimage") became correct answers,
and a first layer scaled by 1e-20 .. 1e20 inverts like an unscaled one.
"""
from __future__ import annotations

import time

import numpy as np
import pulp

from .._highs import INF, new_highs, pass_lp, pow2_scale, run
from .lp import Poly, optimize_directions
from .result import JointInfo
from ..layers import Layer, _csr_of

_BOX = 1e3  # fallback box half-width, relative to the data scale, when an LP is unbounded
#: a row whose coefficients span this ratio or more (a big-M from a huge box next to a
#: weight of 1) is beyond HiGHS's 1e-9 tolerances: such a MILP's "infeasible" was wrong on
#: scaled nets, and at 1e15 HiGHS refuses the entry outright (and PuLP then fails)
_MAX_SPREAD = 1e12
#: the least time limit handed to one HiGHS solve (seconds)
_MIN_SOLVE = 0.05


def _dense_csr(A):
    return _csr_of(np.asarray(A, dtype=np.float64))


def _widen(lo, hi, rel=1e-7):
    """Loosen LP bounds by HiGHS's tolerance: a bound off by 1e-11 in the wrong direction
    (a neuron that is exactly 0 found "at least 1e-11") would fix a ReLU wrongly and make
    the MILP infeasible.  Loose bounds only cost a slightly larger big-M."""
    return lo - rel * (1 + np.abs(lo)), hi + rel * (1 + np.abs(hi))


def _bounds(dense, biases, poly):
    """Valid bounds for every solution: x_j boxes (j = 1..K), z box, pre-activation boxes."""
    K = len(dense)
    A = np.vstack([poly.A_eq, poly.A_in])
    row_lo = np.r_[poly.c_eq, np.full(len(poly.c_in), -INF)]
    row_up = np.r_[poly.c_eq, poly.c_in]
    n = poly.n
    r = optimize_directions(*_dense_csr(A), n, row_lo, row_up, np.zeros(n), np.full(n, INF),
                            np.eye(n))
    if r is None:
        return None
    xlo, xhi = [None] * (K + 1), [None] * (K + 1)
    lo, hi = _widen(*r)
    xlo[K], xhi[K] = np.maximum(lo, 0), hi
    boxed = False
    for j in range(K - 1, -1, -1):  # layer j maps x_j -> x_{j+1}; x_0 = z
        W, b, hi = dense[j], biases[j], xhi[j + 1]
        fin = np.isfinite(hi)
        nj = W.shape[1]
        col_lo = np.zeros(nj) if j > 0 else np.full(nj, -INF)
        r = optimize_directions(*_dense_csr(W[fin]), nj, np.full(fin.sum(), -INF),
                                hi[fin] - b[fin], col_lo, np.full(nj, INF), np.eye(nj))
        if r is None:
            return None
        lo, hi_j = _widen(*r)
        if not (np.all(np.isfinite(hi_j)) and np.all(np.isfinite(lo))):
            boxed = True
            R = _BOX * max(1.0, np.abs(poly.c_eq).max(initial=0), np.abs(b).max(initial=0))
            lo, hi_j = np.where(np.isfinite(lo), lo, -R), np.where(np.isfinite(hi_j), hi_j, R)
        xlo[j], xhi[j] = (np.maximum(lo, 0) if j > 0 else lo), hi_j
    # pre-activations of layer 1 by LP over {z in box : W_1 z + b_1 <= hi_1}
    W, b, hi = dense[0], biases[0], xhi[1]
    fin = np.isfinite(hi)
    r = optimize_directions(*_dense_csr(W[fin]), W.shape[1], np.full(fin.sum(), -INF),
                            hi[fin] - b[fin], xlo[0], xhi[0], W)
    if r is None:
        return None
    pre = [_widen(r[0] + b, r[1] + b)]
    for j in range(1, K):  # deeper layers: interval arithmetic on [0, min(hi, ReLU(U))]
        lo_in = np.zeros(dense[j].shape[1])
        hi_in = np.minimum(xhi[j], np.maximum(pre[-1][1], 0))
        Wp, Wn = np.maximum(dense[j], 0), np.minimum(dense[j], 0)
        pre.append(_widen(Wp @ lo_in + Wn @ hi_in + biases[j], Wp @ hi_in + Wn @ lo_in + biases[j]))
    return xlo, xhi, pre, boxed


def _var(prob, name, lo=None, up=None, cat="Continuous"):
    """A variable of ``prob`` (PuLP >= 3.3 attaches variables to the model; older: plain)."""
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lo, up, cat=cat)
    return pulp.LpVariable(name, lo, up, cat=cat)


def _solver(time_limit, presolve="off", feas_tol=1e-9):
    # presolve off by default: on a 5-12-12 net with big-M ~500, HiGHS 1.15's MIP presolve
    # returned "optimal" with value 0 for the distance MILP whose true optimum is 2.2 (a
    # second preimage, checked by hand); without presolve it is right.  These MILPs are
    # small, so the cost is minor.
    return pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1, presolve=presolve,
                      mip_feasibility_tolerance=feas_tol, primal_feasibility_tolerance=feas_tol)


def _add(prob, expr, sense):
    """Add ``expr <= 0`` / ``>= 0`` / ``== 0`` with the row scaled to largest coefficient ~1.

    HiGHS's feasibility tolerance (1e-9) is absolute.  A known preimage meets a row
    ``a.x = c`` only up to round-off relative to ``|a| |x|``, which on a net with weights
    ~1e3 and hidden values ~1e4 is well above 1e-9: HiGHS then called the MILP infeasible
    at a point that satisfies it.  Scaling the row by a positive number changes nothing
    else.  An expression without variables is a constant the bounds already decided.
    """
    expr = pulp.LpAffineExpression(expr)
    mags = [abs(v) for v in expr.values() if v != 0]
    if not mags:
        return
    prob.dss_spread = max(getattr(prob, "dss_spread", 1.0), max(mags) / min(mags))
    # largest coefficient 1, unless that pushes the smallest below 1e-6 (a big-M row):
    # HiGHS drops entries below 1e-9, which would change the model
    expr = expr * (1.0 / min(max(mags), min(mags) * 1e6))
    prob += (expr <= 0) if sense == "<=" else (expr >= 0) if sense == ">=" else (expr == 0)


def _build(dense, biases, poly, bnds):
    """The PuLP model; returns (problem, z vars, pattern getter)."""
    xlo, xhi, pre, _ = bnds
    prob = pulp.LpProblem("joint_inversion", pulp.LpMinimize)
    z = [_var(prob, f"z{i}", xlo[0][i], xhi[0][i]) for i in range(len(xlo[0]))]
    prev, fixed, binaries = z, [], []
    for j, W in enumerate(dense):
        L, U = pre[j]
        cur, fx, bins = [], np.zeros(W.shape[0], int), {}
        for i in range(W.shape[0]):
            expr = pulp.lpSum(float(W[i, t]) * prev[t] for t in np.nonzero(W[i])[0]) + float(
                biases[j][i])
            up = min(float(U[i]), float(xhi[j + 1][i]))
            if up <= 0:  # always off
                _add(prob, expr, "<=")
                cur.append(0.0)
                fx[i] = -1
            elif L[i] >= 0 or xlo[j + 1][i] > 0:  # always on
                _add(prob, expr, ">=")
                cur.append(expr)
                fx[i] = 1
            else:
                d = _var(prob, f"d{j}_{i}", cat="Binary")
                x = _var(prob, f"x{j}_{i}", 0, up)
                _add(prob, x - expr, ">=")
                _add(prob, x - expr + float(L[i]) * (1 - d), "<=")
                _add(prob, x - up * d, "<=")
                cur.append(x)
                bins[i] = d
        prev = cur
        fixed.append(fx)
        binaries.append(bins)
    for A, c, eq in ((poly.A_eq, poly.c_eq, True), (poly.A_in, poly.c_in, False)):
        for a, ci in zip(A, c):
            e = pulp.lpSum(float(a[t]) * prev[t] for t in np.nonzero(a)[0]
                           if not isinstance(prev[t], float))
            _add(prob, e - float(ci), "==" if eq else "<=")
    prob.setObjective(pulp.lpSum([]))

    def pattern():
        out = []
        for fx, bins in zip(fixed, binaries):
            on = fx == 1
            for i, d in bins.items():
                on[i] = (d.varValue or 0) > 0.5
            out.append(on)
        return out

    return prob, z, pattern, sum(len(b) for b in binaries)


def pattern_poly(dense, biases, poly, pattern):
    """With every ReLU's on/off state fixed, the solutions form a polyhedron in z."""
    n0 = dense[0].shape[1]
    M, v = np.eye(n0), np.zeros(n0)
    ineq_A, ineq_c = [], []
    for W, b, on in zip(dense, biases, pattern):
        P, p = W @ M, W @ v + b
        # on: pre >= 0; off: pre <= 0
        ineq_A.append(np.where(on[:, None], -P, P))
        ineq_c.append(np.where(on, p, -p))
        M, v = P * on[:, None], p * on
    return Poly(poly.A_eq @ M, poly.c_eq - poly.A_eq @ v,
                np.vstack(ineq_A + [poly.A_in @ M]), np.r_[np.concatenate(ineq_c),
                                                           poly.c_in - poly.A_in @ v], False)


def _polished(dense, biases, poly, pattern, z0, tol):
    pz = pattern_poly(dense, biases, poly, pattern)
    z = pz.polish(z0, tol=1e-6)
    if pz.violation(z) > tol * pz.scale(z):  # the MILP point was too rough: ask an LP
        h = new_highs()
        A = np.vstack([pz.A_eq, pz.A_in])
        n = pz.n
        pass_lp(h, *_dense_csr(A), n, np.zeros(n), np.full(n, -INF), np.full(n, INF),
                np.r_[pz.c_eq, np.full(len(pz.c_in), -INF)], np.r_[pz.c_eq, pz.c_in])
        st, zz, _, _ = run(h)
        if zz is not None:
            z = pz.polish(zz)
    return z, pz


def _spread(prob):
    """The largest ratio of two coefficients in one row of ``prob`` (as :func:`_add` saw)."""
    return getattr(prob, "dss_spread", 1.0)


def _solve(prob, time_limit, presolve="off", feas_tol=1e-9):
    t = time.perf_counter()
    prob.solve(_solver(time_limit, presolve, feas_tol))
    h = prob.solverModel
    return h.modelStatusToString(h.getModelStatus()), h, time.perf_counter() - t


def _cover(bnds, layers, z):
    """The bounds widened to contain z's own values (with a margin), so that the model
    built on them is satisfied by z: a bound that LP round-off left a hair inside the
    point must not make the uniqueness MILP "infeasible" at a known solution."""
    xlo, xhi, pre, boxed = bnds
    xlo, xhi, pre = list(xlo), list(xhi), list(pre)
    h = np.asarray(z, dtype=np.float64)
    vals, pres = [h], []
    for layer in layers:
        pres.append(layer.pre(vals[-1]))
        vals.append(np.maximum(pres[-1], 0.0))
    margin = lambda v: 1e-7 * (1 + np.abs(v))  # noqa: E731
    for j, v in enumerate(vals):
        xlo[j], xhi[j] = np.minimum(xlo[j], v - margin(v)), np.maximum(xhi[j], v + margin(v))
        if j > 0:
            xlo[j] = np.maximum(xlo[j], 0.0)
    for j, p in enumerate(pres):
        pre[j] = (np.minimum(pre[j][0], p - margin(p)), np.maximum(pre[j][1], p + margin(p)))
    return xlo, xhi, pre, boxed


def joint_invert(layers, dense, poly, tol=1e-9, time_limit=60.0):
    """Find z with ``x_K(z) in poly`` through ``layers`` (the K layers below), exactly.

    Returns ``(z or None, JointInfo)``.
    """
    layers, dense, poly = _balanced(layers, dense, poly)
    try:
        z, rep = _joint_invert(layers, dense, poly, tol, time_limit)
    except (pulp.PulpError, ValueError, OverflowError) as exc:  # non-finite bounds and the like
        z, rep = None, {"status": "error", "unique": None, "binaries": 0, "boxed": False,
                        "milp_status": None, "distance": None, "seconds": 0.0,
                        "message": f"joint MILP not built: {str(exc).splitlines()[0]}"}
    rep.setdefault("message", "")
    return z, JointInfo(**rep)


def _balanced(layers, dense, poly):
    """The same network with every hidden layer's unit rescaled by a power of two so that each
    weight matrix has largest entry in [1/2, 1) (exact in floating point; z keeps its unit).

    With ``x_j = sigma_j x'_j``: ``W'_j = W_j sigma_(j-1) / sigma_j``, ``b'_j = b_j / sigma_j``
    and the polyhedron's rows times ``sigma_K``.  A layer of weights 1e8 beside one of 1 put
    coefficients 1e8 apart in one MILP row, and HiGHS called a known preimage infeasible.
    """
    sig, out_layers, out_dense = 1.0, [], []
    for layer, W in zip(layers, dense):
        s = 1.0 / float(pow2_scale(np.abs(W).max(initial=0.0)))
        sig *= s
        out_dense.append(W / s)
        out_layers.append(Layer(out_dense[-1], layer.b / sig, layer.activation,
                                layer.negative_slope))
    # and every row of the polyhedron to largest coefficient in [1/2, 1) (the same set)
    (A_eq, c_eq, f_eq), (A_in, c_in, f_in) = (_unit_rows(poly.A_eq * sig, poly.c_eq),
                                              _unit_rows(poly.A_in * sig, poly.c_in))
    # the size of the data behind c, in the rescaled rows (the largest factor: the loosest)
    ref = poly.ref * float(np.r_[f_eq, f_in].max(initial=1.0))
    return out_layers, out_dense, Poly(A_eq, c_eq, A_in, c_in, poly.nonneg, poly.mask, ref)


def _unit_rows(A, c):
    f = pow2_scale(np.abs(A).max(axis=1, initial=0.0) if A.size else np.zeros(len(c)))
    return A * f[:, None], c * f, f


def _joint_invert(layers, dense, poly, tol, time_limit):
    t0 = time.perf_counter()
    biases = [layer.b for layer in layers]
    rep = {"status": "error", "unique": None, "binaries": 0, "boxed": False,
           "milp_status": None, "distance": None}
    bnds = _bounds(dense, biases, poly)
    if bnds is None:
        rep.update(status="infeasible", message="joint: bounding LPs found no solution")
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    rep["boxed"] = bnds[3]
    prob, zv, pattern, nbin = _build(dense, biases, poly, bnds)
    rep["binaries"] = nbin
    if _spread(prob) >= _MAX_SPREAD:
        rep["message"] = (f"joint MILP not solved: a row's coefficients span "
                          f"{_spread(prob):.3g} (big-M from the LP bounds"
                          f"{', inside an imposed box' if bnds[3] else ''}), beyond what "
                          f"HiGHS's tolerances resolve")
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    # time_limit is for the whole joint step: every solve gets what is left of it
    deadline = t0 + time_limit
    st, h, secs = _solve(prob, max(deadline - time.perf_counter(), _MIN_SOLVE))
    rep["milp_seconds"] = secs
    loose = False  # the last status came from a solve at the looser tolerance
    for presolve, feas in (("off", 1e-7), ("on", 1e-7)):
        # "infeasible" here tells the caller that no z gives x, so it must survive a
        # looser tolerance; a solver error gets the other set-up
        if st == "Optimal" or (st == "Infeasible" and presolve == "on"):
            break
        left = _left(deadline)
        if left is None:
            break
        st, h, secs = _solve(prob, left, presolve, feas)
        rep["milp_seconds"] += secs
        loose = True
    rep["milp_status"] = st
    if st == "Infeasible" and not loose:
        rep["message"] = ("joint MILP infeasible at the strict tolerance, not confirmed at the "
                          "looser one within milp_time_limit: no claim")
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    if st == "Infeasible":
        rep.update(status="infeasible", message="joint MILP infeasible: no z gives x")
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    if prob.status != pulp.LpStatusOptimal:
        rep["message"] = f"joint MILP: {st}"
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    pat = pattern()
    z, pz = _polished(dense, biases, poly, pat, np.array([_value(v) for v in zv]), tol)
    xk = z
    for layer in layers:
        xk = layer(xk)
    if poly.violation(xk) > tol * poly.scale(xk):
        # the MILP's point, even polished, is no preimage (seen at weights ~1e4, where
        # HiGHS's answer met its tolerances but not the network): no claim on it
        rep["message"] = (f"joint MILP: its point is no preimage (violation "
                          f"{poly.violation(xk):.3g} after polishing): numerical trouble")
        rep["seconds"] = time.perf_counter() - t0
        return None, rep
    rep["status"] = "optimal"
    point, _ = pz.is_point(z)
    where = " (inside the imposed box)" if rep["boxed"] else ""
    if point is not True:
        rep["unique"] = None if point is None else False
        rep["message"] = ("joint MILP: z' is one of many preimages (its on/off pattern "
                          "leaves a polyhedron of solutions)" if point is False else
                          "joint MILP: solved; uniqueness not decided")
        rep["seconds"] = time.perf_counter() - t0
        return z, rep
    # a second MILP: the farthest preimage from z' in l_1, on bounds that contain z'
    _decide_unique(layers, dense, biases, poly, _cover(bnds, layers, z), z, tol, deadline,
                   rep, where)
    rep["seconds"] = time.perf_counter() - t0
    return z, rep


def _value(v):
    """A solved variable's value; one the model never uses (a z_i no output depends on, as
    behind a zero column of W_1) is free within its bounds, and PuLP leaves it unset: 0,
    moved into its bounds."""
    if v.varValue is not None:
        return v.varValue
    x = 0.0 if v.lowBound is None else max(0.0, v.lowBound)
    return x if v.upBound is None else min(x, v.upBound)


def _left(deadline):
    """Seconds left before ``deadline``, or None when too few for another solve."""
    left = deadline - time.perf_counter()
    return left if left >= _MIN_SOLVE else None


def _decide_unique(layers, dense, biases, poly, bnds, z, tol, deadline, rep, where):
    """Is ``z`` the only preimage?  Sets ``rep``'s unique, distance, message, milp_seconds."""
    prob, zv, pattern, _ = _build(dense, biases, poly, bnds)
    span = bnds[1][0] - bnds[0][0]
    prob.sense = pulp.LpMaximize
    terms = []
    for i, v in enumerate(zv):
        p = _var(prob, f"p{i}", 0, float(span[i]))
        q = _var(prob, f"q{i}", 0, float(span[i]))
        s = _var(prob, f"s{i}", cat="Binary")
        _add(prob, v - float(z[i]) - p + q, "==")
        _add(prob, p - float(span[i]) * s, "<=")
        _add(prob, q - float(span[i]) * (1 - s), "<=")
        terms += [p, q]
    prob.setObjective(pulp.lpSum(terms))
    if _spread(prob) >= _MAX_SPREAD:
        rep["message"] = ("joint MILP: solved; uniqueness not decided (a row of the "
                          f"uniqueness MILP has coefficients spanning {_spread(prob):.3g})")
        return
    dtol = 1e-6 * max(1.0, np.abs(z).max()) * len(z)
    # "the only preimage" rests on a MILP optimum, so two solver set-ups (presolve off,
    # then on) must both find nothing farther than dtol; a far point is believed only
    # once polished into a verified second preimage.
    verdicts = []
    for presolve in ("off", "on"):
        left = _left(deadline)
        if left is None:
            verdicts.append("milp_time_limit reached")
            continue
        st2, h, secs2 = _solve(prob, left, presolve)
        rep["milp_seconds"] += secs2
        if st2 == "Infeasible":  # z' satisfies the model: numerical trouble; loosen once
            st2, h, secs2 = _solve(prob, _left(deadline) or _MIN_SOLVE, presolve, feas_tol=1e-7)
            rep["milp_seconds"] += secs2
            if st2 == "Infeasible":
                verdicts.append("HiGHS called the uniqueness MILP infeasible although z' "
                                "satisfies it")
                continue
        bound = h.getInfo().mip_dual_bound
        if st2 != "Optimal" and not (np.isfinite(bound) and bound <= dtol):
            verdicts.append(f"uniqueness MILP stopped ({st2})")
            continue
        dist = pulp.value(prob.objective) if st2 == "Optimal" else bound
        rep["distance"] = max(rep["distance"] or 0.0, float(dist))
        if dist <= dtol:
            verdicts.append(True)
            continue
        z2, _ = _polished(dense, biases, poly, pattern(), np.array([_value(v) for v in zv]),
                          tol)
        x = z2
        for layer in layers:
            x = layer(x)
        if poly.violation(x) <= tol * poly.scale(x) and np.abs(z2 - z).sum() > dtol:
            rep["unique"] = False
            rep["message"] = f"joint MILP: another preimage at l_1 distance {dist:.3g}"
            break
        verdicts.append("the far point did not survive polishing")
    else:
        if all(v is True for v in verdicts):
            rep["unique"] = True
            rep["message"] = f"joint MILP: z' is the only preimage{where}"
        else:
            why = "; ".join(v for v in verdicts if v is not True)
            rep["message"] = f"joint MILP: solved; uniqueness not decided ({why})"
