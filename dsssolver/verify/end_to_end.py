"""Exact check of end-to-end certificates: trees over pairs of activation patterns.

The claim: the chain network ``N`` has no collision ``N(z1) = N(z2)``,
``z1 != z2``, with both inputs in the domain ``P``.  Variables are
``u = (z1, z2)`` in R^(2n); every constraint is a row ``g . u <= h``.

* Domain rows, for each copy ``c`` of the input: ``"dom.c.k"`` (row ``k`` of
  ``A z_c <= c``, or ``-z_ck <= 0`` for "nonnegative"; a zero row of ``A`` with
  ``c_k >= 0`` holds everywhere and gives no row), and, when the
  certificate says ``"homogeneous": true``, ``"box.c.j.p"`` / ``"box.c.j.m"``
  (``+-z_cj <= 1``).  ``homogeneous`` is accepted only if every bias is 0 and
  the domain is a cone (R^n, ``x >= 0`` or ``A x <= 0``): then a collision
  scales into the box, so the box loses nothing.
* ``"interior"``: an exact point ``z0`` strictly inside the domain rows (copy 0):
  the domain is full-dimensional.
* A node ``{"split": [l, i, c], "pos": ..., "neg": ...}`` splits on the sign
  of the pre-activation ``p`` of neuron ``i`` of layer ``l`` (0-based) for
  copy ``c``; ``p`` must be affine there: every ReLU/LeakyReLU neuron of the
  layers before ``l`` is split for that copy (in order: copy 0 then copy 1
  of neuron ``i``, neurons in order).  Row ``"sgn.l.i.c"`` is the strict
  ``-p < 0`` in "pos" and ``p < 0`` in "neg": the children are open cells.
  When ``p`` is identically 0 (every coefficient and the constant),
  ``{"split": [l, i, c], "zero": ...}`` has one child, and the output is 0.
* Covering: a node's cell ``R`` (domain rows, strict sign rows) is convex;
  when it is not empty it has interior points (the domain is
  full-dimensional and the sign rows are open), so for ``p`` not identically 0
  the hyperplane ``p = 0`` is thin in ``R`` and ``R`` lies in the closure of its
  two children.  By induction the closures of the leaves cover every pair of
  the domain, and on the closure of a leaf the network is the leaf's affine
  map (continuity).
* A leaf is ``{"infeasible": {key: y}}`` -- ``y >= 0`` on the rows so far,
  ``sum y g = 0`` and ``sum y h < 0``, or ``sum y h <= 0`` with ``y > 0`` on a strict
  row (Motzkin: the open cell is empty), as a child of a split.  With every
  neuron split: ``{"no_collision": {key: y}}``, the same with the output rows
  below added and every row non-strict (the *closed* cells hold no collision
  at all); or ``{"same_map": true}`` -- both copies' affine maps are
  identical with full column rank (so ``N(z1) = N(z2)`` forces ``z1 = z2``);
  or ``{"diagonal": [y_1+, y_1-, ..., y_n+, y_n-]}`` -- with the output rows
  ``"eq.i.p"`` / ``"eq.i.m"`` (``+-(N(z1)_i - N(z2)_i) <= 0``) added and every row
  non-strict (the closed cells), each ``y`` shows ``+-(z1_j - z2_j) <= 0``:
  ``sum y g = +-(e_j - e_(n+j))``, ``sum y h <= 0``.

Every leaf certificate is checked in exact rational arithmetic
(:class:`fractions.Fraction`); no LP solver is used.

Examples
--------
>>> import numpy as np
>>> from dsssolver.netmodel import as_layers
>>> layers = as_layers([np.array([[1], [-1]])])
>>> tree = {"split": [0, 0, 0], "pos": {"infeasible": {}}, "neg": {"infeasible": {}}}
>>> check_end_to_end({"kind": "pattern-tree", "homogeneous": True, "interior": ["0"], "tree": tree},
...                  layers, None)
(False, 'infeasible leaf: the right-hand side does not prove the claim')
"""
from __future__ import annotations

import time
from fractions import Fraction

from ..errors import CheckTimeout
from ._arith import parse_rational
from .check import _rank

__all__ = ["check_end_to_end", "homogeneous", "domain_rows", "constraint_row"]


def homogeneous(layers, domain):
    """All biases zero and a conical domain: the network is positively homogeneous there."""
    if any(v != 0 for L in layers for v in L.b.tolist()):
        return False
    if domain is None or domain == "nonnegative":
        return True
    if isinstance(domain, str):
        return False
    return all(Fraction(v) == 0 for v in _flat(domain[1]))


def _flat(c):
    return c.ravel().tolist() if hasattr(c, "ravel") else list(c)


def domain_rows(domain, n, homog):
    """The rows ``(key, g, h)`` of the domain for both copies (and the box when ``homog``)."""
    rows = []
    for c in (0, 1):
        if domain == "nonnegative":
            for j in range(n):
                rows.append((f"dom.{c}.{j}", _place([-Fraction(int(k == j)) for k in range(n)], c, n),
                             Fraction(0)))
        elif domain is not None:
            A, cc = domain
            A = A.tolist() if hasattr(A, "tolist") else A
            for k, (a, ck) in enumerate(zip(A, _flat(cc))):
                a, ck = [Fraction(v) for v in a], Fraction(ck)
                if not any(a) and ck >= 0:
                    continue  # 0 <= c holds everywhere: no row (it would have no strict interior)
                rows.append((f"dom.{c}.{k}", _place(a, c, n), ck))
        if homog:
            for j in range(n):
                e = [Fraction(int(k == j)) for k in range(n)]
                rows.append((f"box.{c}.{j}.p", _place(e, c, n), Fraction(1)))
                rows.append((f"box.{c}.{j}.m", _place([-v for v in e], c, n), Fraction(1)))
    return rows


def _place(a, c, n):
    zero = [Fraction(0)] * n
    return list(a) + zero if c == 0 else zero + list(a)


def constraint_row(r, c, s, n):
    """The row ``(g, h)`` of the sign choice ``s`` for the affine ``p = r[:n] z_c + r[n]``.

    ``s = +1``: ``-p <= 0``; ``s = -1``: ``p <= 0`` (strict in the tree's open cells).
    """
    if s > 0:
        return _place([-v for v in r[:n]], c, n), r[n]
    return _place(list(r[:n]), c, n), -r[n]


def check_end_to_end(cert, layers, domain, deadline=None):
    """Check a pattern-tree certificate for the chain ``layers`` on ``domain``; returns ``(ok, message)``.

    ``deadline`` (a ``time.monotonic()`` value) bounds the walk: past it
    :class:`~dsssolver.errors.CheckTimeout` is raised (checked at every leaf; between two
    leaves the walk descends at most one split per neuron and copy).
    """
    if not isinstance(cert, dict) or cert.get("kind") != "pattern-tree" or "tree" not in cert:
        return False, "not a pattern-tree certificate"
    homog = cert.get("homogeneous") is True
    if homog and not homogeneous(layers, domain):
        return False, "the certificate uses the box of homogeneity, but the network has biases " \
                      "or the domain is not a cone"
    if not homog and (domain is None or isinstance(domain, str)):
        return False, "without homogeneity the domain must be a polyhedron (A, c)"
    n = layers[0].shape[1]
    net = _Net(layers)
    rows = {key: (g, h, False) for key, g, h in domain_rows(domain, n, homog)}
    try:
        z0 = [_json_q(v) for v in cert.get("interior")]
    except (TypeError, ValueError, ZeroDivisionError):
        return False, "'interior' must be a list of rationals"
    if len(z0) != n or not all(sum((a * v for a, v in zip(g[:n], z0)), Fraction(0)) < h
                               for key, (g, h, _) in rows.items() if key.split(".")[1] == "0"):
        return False, "'interior' is not strictly inside the domain"
    ident = [[Fraction(int(i == j)) for j in range(n)] + [Fraction(0)] for i in range(n)]
    counter = _Leaves(deadline)
    try:
        _walk_layer(cert["tree"], net, n, rows, 0, [ident, ident], counter)
    except _Bad as exc:
        return False, str(exc)
    return True, f"{counter.count} leaves closed exactly; the tree covers every pair of inputs"


class _Bad(Exception):
    pass


class _Leaves:
    """The leaves closed so far, and the deadline the walk keeps."""

    def __init__(self, deadline):
        self.count, self.deadline = 0, deadline

    def add(self):
        self.count += 1
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CheckTimeout(f"time limit reached while checking the end-to-end pattern tree "
                               f"({self.count} leaves closed)")


class _Net:
    def __init__(self, layers):
        self.W = [[[Fraction(v) for v in row] for row in L.W.tolist()] for L in layers]
        self.b = [[Fraction(v) for v in L.b.tolist()] for L in layers]
        self.act = [L.activation for L in layers]
        self.slope = [Fraction(L.negative_slope) if L.activation == "leaky_relu" else None for L in layers]

    def pre(self, l, maps):
        out = []
        for wi, bi in zip(self.W[l], self.b[l]):
            acc = [Fraction(0)] * len(maps[0])
            for w, row in zip(wi, maps):
                if w:
                    acc = [a + w * r for a, r in zip(acc, row)]
            acc[-1] += bi
            out.append(acc)
        return out


def _walk_layer(node, net, n, rows, l, maps, counter):
    """Node ``node`` entered at layer ``l`` with the input maps ``maps`` (rows of [M | v]) of both copies."""
    if l == len(net.W):
        return _final_leaf(node, n, rows, maps, counter)
    pre = [net.pre(l, maps[0]), net.pre(l, maps[1])]
    if net.act[l] == "linear":
        return _walk_layer(node, net, n, rows, l + 1, pre, counter)
    return _walk_split(node, net, n, rows, (l, 0, 0), pre, [[], []], counter)


def _walk_split(node, net, n, rows, pos, pre, outs, counter):
    l, i, c = pos
    if i == len(pre[0]):
        return _walk_layer(node, net, n, rows, l + 1, outs, counter)
    if not isinstance(node, dict) or list(node.get("split", ())) != [l, i, c]:
        raise _Bad(f"expected a split on layer {l} neuron {i} copy {c}")
    p = pre[c][i]
    nxt = (l, i, 1) if c == 0 else (l, i + 1, 0)
    if "zero" in node:
        if any(p):
            raise _Bad(f"a 'zero' split on layer {l} neuron {i} copy {c}, whose pre-activation is not 0")
        new_outs = [list(outs[0]), list(outs[1])]
        new_outs[c].append(list(p))
        return _walk_split(node["zero"], net, n, rows, nxt, pre, new_outs, counter)
    key = f"sgn.{l}.{i}.{c}"
    for s, child in ((1, node.get("pos")), (-1, node.get("neg"))):
        rows[key] = (*constraint_row(p, c, s, n), True)
        new_outs = [list(outs[0]), list(outs[1])]
        if isinstance(child, dict) and "infeasible" in child:  # this open cell is empty
            _infeasible(child, rows, n, counter)
            continue
        new_outs[c].append(_activate(p, s, net.slope[l]))
        _walk_split(child, net, n, rows, nxt, pre, new_outs, counter)
    del rows[key]


def _infeasible(node, rows, n, counter):
    counter.add()
    _check_combo(node["infeasible"], rows, [Fraction(0)] * (2 * n), strict=True, what="infeasible leaf")


def _final_leaf(node, n, rows, final, counter):
    if not isinstance(node, dict):
        raise _Bad("a tree node must be an object")
    if node.get("same_map") is True:
        counter.add()
        if final[0] != final[1] or _rank([r[:n] for r in final[0]]) != n:
            raise _Bad("a same-map leaf whose two maps differ or lack full column rank")
        return
    rows = {key: (g, h, False) for key, (g, h, _) in rows.items()}  # the closed cells
    eq = {}
    for k, (a, b) in enumerate(zip(final[0], final[1])):
        g = list(a[:n]) + [-v for v in b[:n]]
        eq[f"eq.{k}.p"] = (g, b[n] - a[n], False)
        eq[f"eq.{k}.m"] = ([-v for v in g], a[n] - b[n], False)
    all_rows = {**rows, **eq}
    if "no_collision" in node:  # no pair of the closed cells collides at all
        counter.add()
        return _check_combo(node["no_collision"], all_rows, [Fraction(0)] * (2 * n), strict=True,
                            what="no-collision leaf")
    counter.add()
    certs = node.get("diagonal")
    if not isinstance(certs, list) or len(certs) != 2 * n:
        raise _Bad(f"a full leaf must be no_collision, same_map, or diagonal with {2 * n} certificates")
    for j in range(n):
        for t, sgn in enumerate((1, -1)):
            target = [Fraction(0)] * (2 * n)
            target[j], target[n + j] = Fraction(sgn), Fraction(-sgn)
            _check_combo(certs[2 * j + t], all_rows, target, strict=False, what=f"diagonal leaf, z_{j}")


def _activate(p, s, slope):
    if s > 0:
        return list(p)
    if slope is None:
        return [Fraction(0)] * len(p)
    return [slope * v for v in p]


def _check_combo(y, rows, target, strict, what):
    """``sum y g == target`` with ``y >= 0``, and: ``sum y h <= 0`` (``strict=False``); or, for an
    infeasible system, ``sum y h < 0``, or ``sum y h <= 0`` with ``y > 0`` on a strict row (Motzkin)."""
    if not isinstance(y, dict):
        raise _Bad(f"{what}: multipliers must map row keys to rationals")
    acc = [Fraction(0)] * len(target)
    rhs = Fraction(0)
    on_strict = False
    for key, v in y.items():
        if key not in rows:
            raise _Bad(f"{what}: row {key!r} is not a constraint of this node")
        try:
            v = _json_q(v)
        except (TypeError, ValueError, ZeroDivisionError):
            raise _Bad(f"{what}: multiplier {str(v)[:40]!r} is not a rational") from None
        if v < 0:
            raise _Bad(f"{what}: a multiplier is negative")
        g, h, is_strict = rows[key]
        acc = [a + v * x for a, x in zip(acc, g)]
        rhs += v * h
        on_strict = on_strict or (is_strict and v > 0)
    if acc != target:
        raise _Bad(f"{what}: the combination of rows is not the required one")
    ok = rhs < 0 or (rhs <= 0 and on_strict) if strict else rhs <= 0
    if not ok:
        raise _Bad(f"{what}: the right-hand side does not prove the claim")


def _json_q(v):
    """A rational from evidence JSON, refused before a crafted huge number is built."""
    return parse_rational(v, "end-to-end certificate", max_bits=1 << 20)
