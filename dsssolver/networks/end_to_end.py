"""Exact end-to-end injectivity of small ReLU networks, by a tree over pairs of activation patterns.

Two inputs ``z1, z2`` are followed through the network together.  Neuron by
neuron (layer by layer, so that each pre-activation is affine once the
earlier signs are fixed), the tree splits the cell of the pair on the sign of
the neuron's pre-activation ``p`` for ``z1`` and for ``z2`` into the *open*
cells ``p > 0`` and ``p < 0``.  The hyperplane ``p = 0`` between them is thin
(a pre-activation that is identically 0 is not split), so the closures of the
leaves cover every pair, and on the closure of a cell the network is still
the cell's affine map.  Working with full-dimensional cells only keeps the
tree small: the faces where neurons are exactly 0 are never enumerated.
Each leaf is closed by one of four exact certificates:

* **infeasible** -- Motzkin multipliers show that the open cell is empty
  (also used to prune inner nodes);
* **no collision** -- at a full leaf, Farkas multipliers show that the closures
  of the two cells hold no collision at all;
* **diagonal** -- with both patterns fixed the network is affine on each
  closed cell, and the collision set ``{(z1, z2) : both in their closed
  cells, N(z1) = N(z2)}`` is a polyhedron; for each coordinate ``j``, LP duals
  show that ``max +-(z1_j - z2_j) = 0`` on it, so it lies on the diagonal;
* **same map** -- both cells have the same affine map, of full column rank,
  so ``N(z1) = N(z2)`` forces ``z1 = z2``.

Before the tree, a few dozen random points of the domain are tried (and a few
dozen more each time the tree doubles its nodes, from 256 on): when the open
cell of one has a rank-deficient affine map, ``z`` and ``z + eps d`` (``d`` in its
null space) collide, exactly, at once.  The tree reaches a collision only at a
leaf, ``2 x (number of neurons)`` splits deep, which can take long.

A leaf whose LP finds ``z1_j != z2_j`` gives a candidate pair, made exact from
the LP's tight constraints and accepted only if ``N(z1) == N(z2)`` holds in
rational arithmetic.  Both verdicts are re-checked through the network
checker's entry point, :func:`dsssolver.verify.network.check_network`: a
witness by running the network exactly, a certificate by
:func:`dsssolver.verify.end_to_end.check_end_to_end`, which re-derives every
constraint from the network and the path, verifies each certificate exactly,
and that every inner node splits a neuron whose pre-activation is affine.

Domains.  With all biases zero and a conical domain (all of R^n, ``x >= 0``,
or ``A x <= 0``) the network is positively homogeneous: a collision
``N(z1) = N(z2)`` scales to one inside the box ``[-1, 1]^n``, so the box is
added and the answer holds on the whole cone.  With biases the decision is
about the given domain, which must be a bounded polyhedron (e.g. a box).

The tree is exponential in the number of neurons: this is for small networks
(a few inputs, tens of neurons).  Limits give "unknown" with the reason.

Examples
--------
>>> import numpy as np
>>> from dsssolver.netmodel import as_layers
>>> W = np.vstack([np.eye(2), -np.eye(2)])
>>> res = decide_end_to_end(as_layers([W, np.eye(4)]))
>>> res.status, res.stats["leaves"] > 0
('injective', True)
>>> decide_end_to_end(as_layers([np.array([[1.0], [2.0]]), np.eye(2)])).status
'not_injective'
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import highspy
import numpy as np

from .._highs import pow2_scale
from .._validate import as_positive_int, as_time_limit
from ..errors import CheckTimeout
from ..exact.simplex import strict_system
from ..verify.end_to_end import constraint_row, domain_rows, homogeneous
from ..verify.evidence import INJECTIVE, NOT_INJECTIVE, UNKNOWN
from ..verify.network import (NETWORK_FORMAT, NETWORK_VERSION, check_network, domain_to_json,
                              forward_exact, in_domain)

__all__ = ["decide_end_to_end", "EndToEndResult"]

_TOL = 1e-7
#: pivots of one exact leaf LP (the fallback for leaves too close to call in floats)
_EXACT_PIVOTS = 20000


@dataclass
class EndToEndResult:
    """Outcome of :func:`decide_end_to_end`.

    Attributes
    ----------
    status : {"injective", "not_injective", "unknown"}
    message : str
        How the verdict was reached, or why there is none.
    witness : tuple of two lists of Fraction, or None
        For "not_injective": two different network inputs with the same output.
    certificate : dict or None
        For "injective": the pattern-tree certificate (checked by
        :func:`dsssolver.verify.end_to_end.check_end_to_end`).
    stats : dict
        ``nodes``, ``leaves``, ``lps``, ``exact_leaf_lps`` (leaf LPs too close to call in
        floating point, decided by the rational simplex), ``seconds``, ``leaves_<kind>`` per
        closing certificate, ``check_seconds``, and ``reason`` for "unknown".
    checked : bool
        Whether the verdict passed :func:`dsssolver.verify.network.check_network`.
    """

    status: str
    message: str
    witness: tuple | None = None
    certificate: dict | None = None
    stats: dict = field(default_factory=dict)
    checked: bool = False


class _Limit(Exception):
    pass


class _Found(Exception):
    def __init__(self, z1, z2, how="on a pair of activation patterns"):
        super().__init__("witness")
        self.pair, self.how = (z1, z2), how


def decide_end_to_end(layers: list, *, domain: Any = None, time_limit: float | None = None,
                      node_limit: int | None = None, progress: bool = False) -> EndToEndResult:
    """Decide exactly whether a small chain network is injective on its input domain.

    Parameters
    ----------
    layers : list of NetLayer
        From :func:`dsssolver.netmodel.as_layers`.
    domain : None, "nonnegative" or (A, c)
        With biases, a bounded polyhedron ``{A z <= c}`` (e.g. a box).
    time_limit : float, optional
    node_limit : int, optional
        Nodes of the tree.
    progress : bool
        A line on stderr every second.

    Returns
    -------
    EndToEndResult
        "injective" with a certificate checked by
        :func:`dsssolver.verify.end_to_end.check_end_to_end`, "not_injective"
        with two inputs checked in rationals, or "unknown" with the reason.
    """
    t0 = time.perf_counter()
    time_limit = as_time_limit(time_limit)
    node_limit = as_positive_int(node_limit, "node_limit")
    homog = homogeneous(layers, domain)
    if not homog and (domain is None or isinstance(domain, str)):
        return EndToEndResult(UNKNOWN, "with biases, end-to-end decisions need a bounded input domain "
                              "(a box or polyhedron)", stats={"reason": "unbounded domain"})
    search = _Tree(layers, domain, homog, t0, time_limit, node_limit, progress)
    try:
        tree = search.run()
    except _Found as f:
        t1 = time.perf_counter()
        ok, msg = _check(layers, domain, witness=f.pair)
        st = search.stats(t0, check_seconds=time.perf_counter() - t1)
        if not ok:  # cannot happen unless there is a bug; never return unchecked evidence
            return EndToEndResult(UNKNOWN, f"the witness failed the exact check ({msg})", stats=st)
        return EndToEndResult(NOT_INJECTIVE, f"two different inputs with the same output, found {f.how}",
                              witness=f.pair, stats=st, checked=True)
    except _Limit as lim:
        return EndToEndResult(UNKNOWN, str(lim), stats=search.stats(t0, reason=str(lim)))
    if search.undecided:
        return EndToEndResult(UNKNOWN, f"{search.undecided} leaves could not be closed exactly "
                              f"({search.undecided_reason})",
                              stats=search.stats(t0, reason=search.undecided_reason))
    cert = {"kind": "pattern-tree", "version": 2, "homogeneous": homog,
            "interior": [_fs(v) for v in search.interior], "tree": tree}
    t1 = time.perf_counter()
    # the check shares the run's time limit: past it the verdict is "unknown", never unchecked
    left = None if time_limit is None else max(time_limit - (t1 - t0), 1e-9)
    try:
        ok, msg = _check(layers, domain, certificate=cert, time_limit=left)
    except CheckTimeout as exc:
        given = "" if time_limit is None else f" {time_limit:g} s"
        reason = f"time limit{given} reached in the exact check"
        return EndToEndResult(UNKNOWN, f"every leaf was closed, but the exact check of the "
                              f"certificate was cut off ({exc})",
                              stats=search.stats(t0, check_seconds=time.perf_counter() - t1,
                                                 reason=reason))
    st = search.stats(t0, check_seconds=time.perf_counter() - t1)
    if not ok:
        return EndToEndResult(UNKNOWN, f"the certificate failed the exact check ({msg})", stats=st)
    where = "on the whole (conical) domain, by homogeneity" if homog else "on the given domain"
    return EndToEndResult(INJECTIVE, f"{st['leaves']} leaves closed exactly, {where}", certificate=cert,
                          stats=st, checked=True)


def _check(layers, domain, *, witness=None, certificate=None, time_limit=None):
    """``(ok, message)`` of :func:`~dsssolver.verify.network.check_network` (the checker's one
    entry point) on the network evidence for ``layers`` that the witness or certificate makes."""
    doc = {"format": NETWORK_FORMAT, "version": NETWORK_VERSION, "domain": domain_to_json(domain),
           "layers": [{} for _ in layers]}
    if witness is not None:
        doc.update(status=NOT_INJECTIVE, argument="witness",
                   witness=[[_fs(v) for v in z] for z in witness])
    else:
        doc.update(status=INJECTIVE, argument="end_to_end", prefix=len(layers), end_to_end=certificate)
    return check_network(doc, layers, domain=domain, time_limit=time_limit)


class _Tree:
    def __init__(self, layers, domain, homog, t0, time_limit, node_limit, progress):
        self.layers, self.domain, self.homog = layers, domain, homog
        self.n = layers[0].shape[1]
        self.Wq = [[[Fraction(v) for v in row] for row in L.W.tolist()] for L in layers]
        self.bq = [[Fraction(v) for v in L.b.tolist()] for L in layers]
        self.slopes = [Fraction(L.negative_slope) if L.activation == "leaky_relu" else None for L in layers]
        self.t0, self.time_limit, self.node_limit, self.progress = t0, time_limit, node_limit, progress
        self.nodes = self.leaves = self.lps = self.exact_leaves = 0
        self.kinds = {"infeasible": 0, "no_collision": 0, "diagonal": 0, "same_map": 0}
        self.undecided, self.undecided_reason = 0, ""
        self._next = t0 + 1.0
        self._rng, self._next_sample = np.random.default_rng(0), 256  # the flat-cell samples
        # one quiet HiGHS instance, a new small model passed for each LP (presolve costs more than
        # it saves on LPs of a few dozen rows)
        self._highs = highspy.Highs()
        for opt, val in (("output_flag", False), ("threads", 1), ("presolve", "off")):
            self._highs.setOptionValue(opt, val)

    def stats(self, t0, **extra):
        out = {"nodes": self.nodes, "leaves": self.leaves, "lps": self.lps,
               "exact_leaf_lps": self.exact_leaves,
               "seconds": time.perf_counter() - t0, **{f"leaves_{k}": v for k, v in self.kinds.items()}}
        out.update(extra)
        return out

    # ------------------------------------------------------------- driver
    def run(self):
        cons = [self._pack(key, g, h) for key, g, h in domain_rows(self.domain, self.n, self.homog)]
        ident = [[Fraction(int(i == j)) for j in range(self.n)] + [Fraction(0)] for i in range(self.n)]
        self.interior = self._interior_point(cons)
        n = self.n
        self._sample_rows = [(r[1][:n], r[2]) for r in cons if r[0].startswith(("dom.0.", "box.0."))]
        self._flat_cell_witness()
        point = np.array([float(v) for v in self.interior] * 2)
        return self._layer(0, [ident, ident], cons, point)

    def _flat_cell_witness(self, tries=48):
        """Random points of the domain whose open cell has a rank-deficient map (before the tree,
        and again each time the tree has doubled its nodes, from 256 on: a long tree pays for it).

        Such a cell holds a collision ``z, z + eps d`` (``d`` in the null space of the cell's
        linear part, ``eps`` small enough to keep every sign and stay in the domain), exact at
        once; the tree, which reaches a collision only at depth ``2 * neurons``, can take long to
        come across one.  Raises :class:`_Found`; finding none decides nothing.
        """
        n, rows, rng = self.n, self._sample_rows, self._rng
        for _ in range(tries):
            u = [Fraction(int(v), 64) for v in rng.integers(-64, 65, size=n)]
            ts = [(h - _dot(g, self.interior)) / _dot(g, u) for g, h in rows if _dot(g, u) > 0]
            t = min(ts) if ts else Fraction(1)
            s = t * Fraction(int(rng.integers(1, 64)), 64)  # strictly between the interior and the edge
            z = [a + s * b for a, b in zip(self.interior, u)]
            pair = self._cell_witness(z, rows)
            if pair is not None:
                raise _Found(*pair, how="in a cell whose affine map is rank-deficient")

    def _cell_witness(self, z, rows):
        """A collision in the open cell of ``z`` when its affine map is rank-deficient, else None."""
        n = self.n
        maps = [[Fraction(int(i == j)) for j in range(n)] + [Fraction(0)] for i in range(n)]
        signs = []  # (gradient in the cell, value at z) of every ReLU/LeakyReLU neuron
        for l, L in enumerate(self.layers):
            pre = _compose(self.Wq[l], self.bq[l], maps)
            if L.activation == "linear":
                maps = pre
                continue
            maps = []
            for r in pre:
                val = _dot(r[:n], z) + r[n]
                if val == 0:
                    return None  # on a boundary: not an open cell
                signs.append((r[:n], val))
                maps.append(_activate(r, 1 if val > 0 else -1, self.slopes[l]))
        d = _null_vector([r[:n] for r in maps], n)
        if d is None:
            return None
        bounds = [abs(val / _dot(g, d)) for g, val in signs if _dot(g, d) * val < 0]
        bounds += [(h - _dot(g, z)) / _dot(g, d) for g, h in rows if _dot(g, d) > 0]
        eps = min(bounds) / 2 if bounds else Fraction(1)
        z2 = [a + eps * b for a, b in zip(z, d)]
        if in_domain(z, self.domain) and in_domain(z2, self.domain) \
                and forward_exact(self.layers, z) == forward_exact(self.layers, z2):
            return z, z2
        return None

    def _interior_point(self, cons):
        """An exact point strictly inside the domain (part of the certificate: it shows the domain is
        full-dimensional, which the covering argument needs)."""
        n = self.n
        rows = [r for r in cons if r[0].startswith(("dom.0.", "box.0."))]
        G = np.array([r[3][:n] for r in rows])
        h = np.array([r[4] for r in rows])
        cost = np.zeros(n + 1)
        cost[-1] = -1.0
        out = self._solve(G, h, cost, np.ones(len(rows)), upper=1.0)
        if out is not None and -out[0] > 1e-9:
            z = [Fraction(float(v)).limit_denominator(1 << 24) for v in out[1][:n]]
            if all(sum((g * v for g, v in zip(r[1][:n], z)), Fraction(0)) < r[2] for r in rows):
                return z
        raise _Limit("the input domain is empty or not full-dimensional")

    def _pack(self, key, g, h, strict=False):
        """A row ``g . u <= h`` (``<`` if strict): exact, and in floats for HiGHS scaled by a
        power of two to a largest entry in [1/2, 1) (composed layers reach 1e6 beside 1e-3:
        HiGHS's absolute tolerances need rows of one size; exactness is not touched)."""
        gf, hf = np.array([float(v) for v in g]), float(h)
        scale = float(pow2_scale(max(float(np.abs(gf).max(initial=0.0)), abs(hf))))
        return key, g, h, gf * scale, hf * scale, strict

    def _tick(self):
        self.nodes += 1
        if self.nodes == self._next_sample:
            self._next_sample *= 2
            self._flat_cell_witness()
        now = time.perf_counter()
        if self.time_limit is not None and now - self.t0 > self.time_limit:
            raise _Limit(f"time limit {self.time_limit:g} s reached after {self.nodes} nodes")
        if self.node_limit is not None and self.nodes > self.node_limit:
            raise _Limit(f"node limit {self.node_limit} reached")
        if self.progress and now >= self._next:
            self._next = now + 1.0
            print(f"end to end: {self.nodes} nodes, {self.leaves} leaves, {self.lps} LPs, "
                  f"{now - self.t0:.1f} s", file=sys.stderr, flush=True)

    def _layer(self, l, maps, cons, point):
        """Enter layer ``l`` with the affine maps (rows of [M | v]) of its input for both copies."""
        if l == len(self.layers):
            return self._leaf(maps, cons)
        pre = [_compose(self.Wq[l], self.bq[l], maps[c]) for c in (0, 1)]
        if self.layers[l].activation == "linear":
            return self._layer(l + 1, pre, cons, point)
        return self._split(l, 0, 0, pre, [[], []], cons, point)

    def _split(self, l, i, c, pre, outs, cons, point):
        """Split neuron ``i`` of layer ``l`` for copy ``c`` into the open cells ``p > 0`` and ``p < 0``.

        A pre-activation that is identically 0 (all coefficients and constant) is not split: its
        output is 0 either way.  Otherwise the hyperplane ``p = 0`` is thin, and the closures of the
        two open cells cover the node's cell (see the checker's notes).
        """
        if i == len(pre[0]):
            return self._layer(l + 1, outs, cons, point)
        self._tick()
        r = pre[c][i]
        nxt = (l, i, 1) if c == 0 else (l, i + 1, 0)
        if not any(r):
            new_outs = [list(outs[0]), list(outs[1])]
            new_outs[c].append(list(r))
            return {"split": [l, i, c], "zero": self._split(*nxt, pre, new_outs, cons, point)}
        children = {}
        for s in (1, -1):
            g, h = constraint_row(r, c, s, self.n)
            row = self._pack(f"sgn.{l}.{i}.{c}", g, h, strict=True)
            cons.append(row)
            # the parent's point, when it satisfies the new row with room, shows feasibility at once
            if float(row[3] @ point) < row[4] - 1e-9:
                kind, pt = "feasible", point
            else:
                kind, pt = self._feasible(cons)
            if kind == "infeasible":
                self.leaves += 1
                self.kinds["infeasible"] += 1
                children[s] = {"infeasible": pt}
            else:
                new_outs = [list(outs[0]), list(outs[1])]
                new_outs[c].append(_activate(r, s, self.slopes[l]))
                children[s] = self._split(*nxt, pre, new_outs, cons, pt if pt is not None else point)
            cons.pop()
        return {"split": [l, i, c], "pos": children[1], "neg": children[-1]}

    # ------------------------------------------------------------- leaves
    def _leaf(self, maps, cons):
        self.leaves += 1
        n = self.n
        if maps[0] == maps[1] and _rank([row[:n] for row in maps[0]]) == n:
            self.kinds["same_map"] += 1
            return {"same_map": True}
        eq = []
        for i, (a, b) in enumerate(zip(maps[0], maps[1])):
            g = [a[j] for j in range(n)] + [-b[j] for j in range(n)]
            h = b[n] - a[n]
            eq.append(self._pack(f"eq.{i}.p", g, h))
            eq.append(self._pack(f"eq.{i}.m", [-v for v in g], -h))
        rows = [r[:5] + (False,) for r in cons] + eq  # the closure of the cell pair
        kind, out = self._closure(rows)
        if kind == "infeasible":
            self.kinds["no_collision"] += 1
            return {"no_collision": out}
        certs = []
        for j in range(n):
            for sgn in (1, -1):
                cost = np.zeros(2 * n)
                cost[j], cost[n + j] = sgn, -sgn
                val, u, duals = self._max(rows, cost)
                y = None
                if val is not None and val > _TOL:
                    self._try_witness(rows, u)
                elif val is not None:
                    y = self._exact_combo(rows, duals, list(cost), strict=False)
                if y is None:  # too close to call in floats (near-parallel rows): decide exactly
                    kind, y = self._exact_bound(rows, cost)
                    if kind == "empty":  # the cell pair's closure is empty after all
                        self.kinds["no_collision"] += 1
                        return {"no_collision": y}
                if y is None:
                    return self._undecided("a leaf's collision LP could not be decided exactly")
                certs.append(y)
        self.kinds["diagonal"] += 1
        return {"diagonal": certs}

    def _undecided(self, why):
        self.undecided += 1
        self.undecided_reason = why
        return {"undecided": why}

    # ------------------------------------------------------------- LPs
    def _solve(self, G, h, cost, extra, lower=None, upper=None, may_be_infeasible=False):
        """min cost . (x, e)  s.t.  G x + extra * e <= h (one extra column e with the given bounds)."""
        self.lps += 1
        k = G.shape[0]
        A = np.hstack([G, np.asarray(extra, dtype=np.float64)[:, None]])
        d = A.shape[1]
        hs = self._highs
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = d, k
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lo, up = np.full(d, -highspy.kHighsInf), np.full(d, highspy.kHighsInf)
        lo[-1] = -highspy.kHighsInf if lower is None else lower
        up[-1] = highspy.kHighsInf if upper is None else upper
        lp.col_lower_, lp.col_upper_ = lo, up
        lp.row_lower_, lp.row_upper_ = np.full(k, -highspy.kHighsInf), np.asarray(h, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(d + 1, dtype=np.int64) * k
        lp.a_matrix_.index_ = np.tile(np.arange(k), d)
        lp.a_matrix_.value_ = A.T.ravel()
        hs.passModel(lp)
        hs.run()
        status = hs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible and may_be_infeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            hs.clearSolver()  # anything else: once more from a cold start
            hs.run()
            if hs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
        sol = hs.getSolution()
        return hs.getInfo().objective_function_value, np.array(sol.col_value), np.array(sol.row_dual)

    def _closure(self, rows):
        """Is the closed system (strict rows relaxed) feasible?  ("feasible", point) or ("infeasible", y).

        LP: ``min s  s.t.  G u - s <= h, s >= -1``; feasible iff ``s* <= 0``; otherwise the duals
        give ``y >= 0``, ``sum y = 1``, ``sum y g = 0``, ``sum y h = -s* < 0``.
        """
        G = np.array([r[3] for r in rows])
        h = np.array([r[4] for r in rows])
        cost = np.zeros(G.shape[1] + 1)
        cost[-1] = 1.0
        out = self._solve(G, h, cost, -np.ones(len(rows)), lower=-1.0)
        if out is None:
            return "unclear", None
        val, x, duals = out
        if val <= 1e-9:
            return "feasible", x[:-1]
        y = self._exact_combo(rows, duals, [0] * G.shape[1], strict=True, weights=[1] * len(rows))
        return ("infeasible", y) if y is not None else ("unclear", x[:-1])

    def _feasible(self, rows):
        """Is the mixed system (``p < 0`` rows strict) feasible?  ("feasible"|"unclear", point) or
        ("infeasible", y).

        ``max e  s.t.  G u <= h (non-strict rows), G u + e <= h (strict rows), e <= 1``: feasible
        iff ``e* > 0``; at ``e* <= 0`` the duals give a Motzkin certificate (``sum y = 1`` over the
        strict rows, ``sum y h = e* <= 0``).  When even the closure is empty the LP is infeasible
        and :meth:`_closure` gives a Farkas certificate instead.
        """
        strict = [r[5] for r in rows]
        if not any(strict):
            return self._closure(rows)
        G = np.array([r[3] for r in rows])
        h = np.array([r[4] for r in rows])
        cost = np.zeros(G.shape[1] + 1)
        cost[-1] = -1.0
        res = self._solve(G, h, cost, np.array(strict, dtype=np.float64), upper=1.0,
                          may_be_infeasible=True)
        if res is None:
            return self._closure(rows)
        val, x, duals = res
        if -val > 1e-9:
            return "feasible", x[:-1]
        y = self._exact_combo(rows, duals, [0] * G.shape[1], strict=True,
                              weights=[int(t) for t in strict])
        return ("infeasible", y) if y is not None else ("unclear", x[:-1])

    def _max(self, rows, cost):
        G = np.array([r[3] for r in rows])
        h = np.array([r[4] for r in rows])
        out = self._solve(G, h, np.append(-cost, 0.0), np.zeros(len(rows)), lower=0.0, upper=0.0)
        if out is None:
            return None, None, None
        val, x, duals = out
        return -val, x[:-1], duals

    # ------------------------------------------------------------- exact certificates
    def _exact_combo(self, rows, duals, target, strict, weights=None):
        """Exact ``y >= 0`` on the duals' support with ``sum y g = target`` (and ``sum w y = 1``).

        ``strict=True``: an infeasibility certificate (``sum y h < 0``, or ``<= 0`` with weight on a
        strict row); ``strict=False``: a bound (``sum y h <= 0``).  None when the exact solve fails.
        """
        support = [k for k, v in enumerate(duals) if abs(v) > 1e-10]
        cols = [list(rows[k][1]) + ([Fraction(weights[k])] if weights else []) for k in support]
        tgt = [Fraction(v) for v in target] + ([Fraction(1)] if weights else [])
        y = _solve_support(cols, tgt)
        if y is None or any(v < 0 for v in y):
            return None
        rhs = sum((v * rows[k][2] for v, k in zip(y, support)), Fraction(0))
        on_strict = any(v > 0 and rows[k][5] for v, k in zip(y, support))
        ok = (rhs < 0 or (rhs <= 0 and on_strict)) if strict else rhs <= 0
        return {rows[k][0]: _fs(v) for v, k in zip(y, support) if v} if ok else None

    def _exact_bound(self, rows, cost):
        """Decide ``max cost . u <= 0`` over the leaf's closed system in exact arithmetic.

        The rational simplex of :func:`dsssolver.exact.simplex.strict_system` on ``cost . u > 0``
        with the rows as weak inequalities: a solution is a collision off the diagonal (raises
        ``_Found`` once the network confirms it); infeasibility gives ``("bound", y)``, the
        certificate ``y >= 0``, ``sum y g = cost``, ``sum y h <= 0`` of :meth:`_exact_combo`; an
        empty system ``("empty", y)`` with ``sum y g = 0``, ``sum y h < 0``.  ``(None, None)``
        when undecided.
        """
        self.exact_leaves += 1
        weak = [list(r[1]) + [-r[2]] for r in rows]  # g . u - h <= 0
        out = strict_system([[-Fraction(v) for v in cost] + [Fraction(0)]], weak,
                            max_pivots=_EXACT_PIVOTS)
        if out is None:
            return self._exact_empty(rows)
        kind, sol = out
        if kind == "feasible":
            x, s = sol
            u = [Fraction(v) / s for v in x]
            z1, z2 = u[:self.n], u[self.n:]
            if z1 != z2 and in_domain(z1, self.domain) and in_domain(z2, self.domain) \
                    and forward_exact(self.layers, z1) == forward_exact(self.layers, z2):
                raise _Found(z1, z2)
            return None, None
        y0 = sol.get(0, Fraction(0))
        if y0 <= 0:
            return None, None
        return "bound", {rows[k - 1][0]: _fs(v / y0) for k, v in sorted(sol.items()) if k >= 1 and v}

    def _exact_empty(self, rows):
        """``("empty", y)`` when ``g . u <= h`` has no solution, exactly: homogenised with ``t > 0``
        (``g . u - h t <= 0``), Gordan's alternative gives ``sum y g = 0``, ``sum y h < 0``."""
        dim = len(rows[0][1])
        weak = [list(r[1]) + [-r[2], Fraction(0)] for r in rows]
        out = strict_system([[Fraction(0)] * dim + [Fraction(-1), Fraction(0)]], weak,
                            max_pivots=_EXACT_PIVOTS)
        if out is None or out[0] != "infeasible":
            return None, None
        y = {k - 1: v for k, v in out[1].items() if k >= 1 and v}
        total = sum(y.values(), Fraction(0))
        if not y or sum((v * rows[k][2] for k, v in y.items()), Fraction(0)) >= 0:
            return None, None
        return "empty", {rows[k][0]: _fs(v / total) for k, v in sorted(y.items())}

    def _try_witness(self, rows, u):
        """Make the LP's vertex exact from its tight rows; raise _Found if it is a true collision."""
        n = self.n
        tight = [r for r in rows if abs(float(r[3] @ u) - r[4]) <= 1e-7]
        x = _solve_with_guess([list(r[1]) for r in tight], [r[2] for r in tight], u)
        if x is None:
            return
        z1, z2 = x[:n], x[n:]
        if z1 == z2 or not (in_domain(z1, self.domain) and in_domain(z2, self.domain)):
            return
        if forward_exact(self.layers, z1) == forward_exact(self.layers, z2):
            raise _Found(z1, z2)


# ------------------------------------------------------------------ exact helpers
def _compose(W, b, rows):
    """Rows of the affine map ``W (M z + v) + b`` from the rows ``[M | v]``."""
    n1 = len(rows[0])
    out = []
    for wi, bi in zip(W, b):
        acc = [Fraction(0)] * n1
        for w, row in zip(wi, rows):
            if w:
                for j in range(n1):
                    if row[j]:
                        acc[j] += w * row[j]
        acc[-1] += bi
        out.append(acc)
    return out


def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), Fraction(0))


def _null_vector(F, n):
    """A non-zero exact ``d`` with ``F d = 0`` (rows of Fractions), or None when F has rank n."""
    if not F:
        return [Fraction(int(j == 0)) for j in range(n)]
    R, rank = flint.fmpq_mat(len(F), n, [_to_fmpq(v) for r in F for v in r]).rref()
    if rank == n:
        return None
    pivots = [next(c for c in range(n) if R[r, c] != 0) for r in range(rank)]
    free = next(c for c in range(n) if c not in pivots)
    d = [Fraction(int(c == free)) for c in range(n)]
    for r, piv in enumerate(pivots):
        d[piv] = -Fraction(int(R[r, free].p), int(R[r, free].q))
    return d


def _activate(r, s, slope):
    if s > 0:
        return list(r)
    if slope is None:
        return [Fraction(0)] * len(r)
    return [slope * v for v in r]


def _rank(rows):
    if not rows:
        return 0
    M = flint.fmpq_mat(len(rows), len(rows[0]), [flint.fmpq(v.numerator, v.denominator)
                                                   for r in rows for v in r])
    return M.rank()


def _to_fmpq(v):
    return flint.fmpq(v.numerator, v.denominator)


def _solve_support(cols, target):
    """Exact y with sum_k y_k cols[k] = target (a particular solution, free variables 0), or None."""
    if not cols:
        return None if any(target) else []
    k, d = len(cols), len(target)
    A = flint.fmpq_mat(d, k + 1, [_to_fmpq(cols[c][r]) if c < k else _to_fmpq(target[r])
                                  for r in range(d) for c in range(k + 1)])
    R, rank = A.rref()
    y = [Fraction(0)] * k
    for r in range(rank):
        piv = next(c for c in range(k + 1) if R[r, c] != 0)
        if piv == k:
            return None  # inconsistent
        q = R[r, k]
        y[piv] = Fraction(int(q.p), int(q.q))
    return y


def _solve_with_guess(G, h, u):
    """Exact x with G x = h, free variables taken from the rationalised float point u."""
    d = len(u)
    guess = [Fraction(float(v)).limit_denominator(1 << 20) for v in u]
    if not G:
        return guess
    A = flint.fmpq_mat(len(G), d + 1, [_to_fmpq(G[r][c]) if c < d else _to_fmpq(h[r])
                                       for r in range(len(G)) for c in range(d + 1)])
    R, rank = A.rref()
    pivots = []
    for r in range(rank):
        piv = next(c for c in range(d + 1) if R[r, c] != 0)
        if piv == d:
            return None
        pivots.append(piv)
    x = list(guess)
    for r, piv in enumerate(pivots):
        val = Fraction(int(R[r, d].p), int(R[r, d].q))
        for c in range(d):
            if c not in pivots and R[r, c] != 0:
                val -= Fraction(int(R[r, c].p), int(R[r, c].q)) * x[c]
        x[piv] = val
    return x


def _fs(q):
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
