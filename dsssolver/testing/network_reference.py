"""Brute-force references for end-to-end injectivity of small networks (n = 1, and n <= 3).

:func:`reference_end_to_end` cuts the input polytope into the network's cells
by exact double description and enumerates the vertices of every pair of
cells' collision polytope (see its docstring).  :func:`reference_end_to_end_1d`,
for one input, is independent of :mod:`dsssolver.networks` and of every LP: a network with one
input is piecewise affine on an interval.  The breakpoints are found exactly,
layer by layer (each pre-activation is affine on a piece, so it changes sign
at most once there), and every pair of pieces ``(I_a, I_b)`` is searched for
``t in I_a``, ``s in I_b``, ``t != s`` with ``alpha_a t + beta_a = alpha_b s +
beta_b`` by exact elimination in the two unknowns.  Exponential in nothing
but slow in Python: meant for tests.

Examples
--------
>>> import numpy as np
>>> reference_end_to_end_1d([(np.array([[1.0], [-1.0]]), np.zeros(2), "relu")], -1, 1)[0]
'injective'
>>> reference_end_to_end_1d([(np.array([[1.0], [2.0]]), np.zeros(2), "relu")], -1, 1)[0]
'not_injective'
"""
from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np

from .reference import _echelon  # exact Gaussian elimination in Fractions

__all__ = ["reference_end_to_end_1d", "reference_end_to_end"]


def _act(v, act, slope):
    if v >= 0 or act == "linear":
        return v
    return Fraction(0) if act == "relu" else slope * v


def reference_end_to_end_1d(layers, lo, hi):
    """Decide injectivity on ``[lo, hi]`` of a chain of ``(W, b, activation[, slope])`` with W of n = 1 input.

    Returns ``(status, witness)``: ``("injective", None)`` or
    ``("not_injective", (t, s))`` with exact ``t != s`` of equal outputs.
    """
    lo, hi = Fraction(lo), Fraction(hi)
    # pieces: (a, b, alpha, beta) with the current layer's output alpha * t + beta on [a, b]
    pieces = [(lo, hi, [Fraction(1)], [Fraction(0)])]
    for item in layers:
        W, b, act = item[0], item[1], item[2]
        slope = Fraction(item[3]) if len(item) > 3 else Fraction(0)
        Wq = [[Fraction(v) for v in row] for row in np.asarray(W).tolist()]
        bq = [Fraction(v) for v in np.asarray(b).tolist()]
        new = []
        for a, c, al, be in pieces:
            pa = [sum((w * x for w, x in zip(row, al)), Fraction(0)) for row in Wq]
            pb = [sum((w * x for w, x in zip(row, be)), bi) for row, bi in zip(Wq, bq)]
            cuts = {a, c}
            if act != "linear":
                for u, v in zip(pa, pb):
                    if u != 0 and a < -v / u < c:
                        cuts.add(-v / u)
            cuts = sorted(cuts)
            for x0, x1 in zip(cuts, cuts[1:]):
                mid = (x0 + x1) / 2
                al2, be2 = [], []
                for u, v in zip(pa, pb):
                    on = act == "linear" or u * mid + v >= 0
                    f = Fraction(1) if on else (slope if act == "leaky_relu" else Fraction(0))
                    al2.append(f * u)
                    be2.append(f * v)
                new.append((x0, x1, al2, be2))
        pieces = new
    for ia, (a1, a2, al_a, be_a) in enumerate(pieces):
        for b1, b2, al_b, be_b in pieces[ia:]:
            w = _collision(al_a, be_a, al_b, be_b, (a1, a2), (b1, b2))
            if w is not None:
                return "not_injective", w
    return "injective", None


def _collision(al_a, be_a, al_b, be_b, I, J):
    """(t, s) in I x J, t != s, with al_a t + be_a == al_b s + be_b, or None."""
    eqs = [(p, -q, r2 - r1) for p, q, r1, r2 in zip(al_a, al_b, be_a, be_b)]
    eqs = [e for e in eqs if any(e)]
    if any(p == 0 and q == 0 and d != 0 for p, q, d in eqs):
        return None
    eqs = [e for e in eqs if e[0] != 0 or e[1] != 0]
    if not eqs:
        return _off_diagonal_in_box(I, J)
    p, q, d = eqs[0]
    for p2, q2, d2 in eqs[1:]:
        det = p * q2 - q * p2
        if det != 0:  # a unique point
            t = (d * q2 - q * d2) / det
            s = (p * d2 - d * p2) / det
            ok = all(pp * t + qq * s == dd for pp, qq, dd in eqs)
            return (t, s) if ok and I[0] <= t <= I[1] and J[0] <= s <= J[1] and t != s else None
        if p * d2 != p2 * d or q * d2 != q2 * d:
            return None  # parallel and inconsistent
    return _on_line(p, q, d, I, J)


def _off_diagonal_in_box(I, J):
    for t in (I[0], I[1], (I[0] + I[1]) / 2):
        for s in (J[0], J[1], (J[0] + J[1]) / 2):
            if t != s:
                return t, s
    return None


def _on_line(p, q, d, I, J):
    """A point of p t + q s = d in I x J off the diagonal, or None."""
    if q == 0:
        t = d / p
        if not I[0] <= t <= I[1]:
            return None
        for s in (J[0], J[1]):
            if s != t:
                return t, s
        return None
    # s = (d - p t) / q, with J[0] <= s <= J[1]
    tl, th = I
    for bound in J:
        t_at = (d - q * bound) / p if p != 0 else None
        if t_at is None:
            if not J[0] <= d / q <= J[1]:
                return None
            continue
        if (p / q) > 0:  # s decreases in t
            if bound == J[0]:
                th = min(th, t_at)
            else:
                tl = max(tl, t_at)
        else:
            if bound == J[0]:
                tl = max(tl, t_at)
            else:
                th = min(th, t_at)
    if tl > th:
        return None
    for t in (tl, th, (tl + th) / 2):
        s = (d - p * t) / q
        if t != s:
            return t, s
    return None


# ------------------------------------------------------------------ n <= 3: cells by exact double description
def reference_end_to_end(layers, *, domain=None, box=None, max_cells=5000):
    """Decide end-to-end injectivity of a small chain network with n <= 3 inputs by brute force.

    Independent of :mod:`dsssolver.networks` and of every LP solver: the input
    polytope is cut neuron by neuron (layer by layer, so that each
    pre-activation is affine on a cell) into full-dimensional cells, each kept
    exactly as its inequalities *and* its vertices (with the inequalities
    tight at each vertex: an incremental double description; an edge crossing
    the cut gives a new vertex).  The closures of the cells cover the polytope
    and the network is one affine map ``F z + f`` on each closed cell.  Then

    * a cell whose ``F`` has rank < n holds a collision in its interior;
    * otherwise, for each pair of cells ``(a, b)``, the set of pairs
      ``{(z1, z2) in C_a x C_b : F_a z1 + f_a = F_b z2 + f_b}`` is a polytope;
      it leaves the diagonal ``z1 = z2`` iff one of its vertices does, and its
      vertices are enumerated exactly (every choice of ``d`` tight rows in the
      affine hull's ``d`` coordinates).

    Parameters
    ----------
    layers : list of tuples
        ``(W, b, activation)`` or ``(W, b, activation, slope)``, activation
        "relu", "leaky_relu" or "linear"; ``W`` with ``n <= 3`` columns in the
        first layer.  Entries are read exactly (a float is its dyadic value).
    domain : None, "nonnegative" or (A, c)
        With all biases zero the network is positively homogeneous, so on a
        cone (None, "nonnegative", ``A z <= 0``) the box ``[-1, 1]^n`` is added
        and the answer holds on the whole cone.  Otherwise ``(A, c)`` must be a
        bounded full-dimensional polyhedron.
    box : (lo, hi), optional
        The domain ``lo <= z <= hi`` instead of ``domain``.
    max_cells : int
        A guard against networks too large for brute force (ValueError).

    Returns
    -------
    (status, witness)
        ``("injective", None)`` or ``("not_injective", (z1, z2))`` with exact
        ``z1 != z2`` in the domain and equal outputs.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.vstack([np.eye(2), -np.eye(2)])
    >>> reference_end_to_end([(W, np.zeros(4), "relu"), (np.eye(4), np.zeros(4), "relu")])[0]
    'injective'
    >>> reference_end_to_end([(np.ones((2, 2)), np.zeros(2), "relu")])[0]
    'not_injective'
    """
    net = _exact_net(layers)
    n = len(net[0][0][0])
    if not 1 <= n <= 3:
        raise ValueError("reference_end_to_end is for n <= 3 inputs")
    rows = _domain_rows(net, n, domain, box)
    cells = [_initial_cell(rows, n)]
    for W, b, act, slope in net:
        cells = _next_layer(cells, W, b, act, slope, n, max_cells)
    for c in cells:
        w = _cell_witness(c, n)
        if w is not None:
            return _confirmed(net, w, rows)
    for ia, ca in enumerate(cells):
        for cb in cells[ia + 1:]:
            w = _pair_witness(ca, cb, n)
            if w is not None:
                return _confirmed(net, w, rows)
    return "injective", None


def _q(v):
    return v if isinstance(v, Fraction) else Fraction(float(v)) if isinstance(v, float) else Fraction(v)


def _exact_net(layers):
    out = []
    for item in layers:
        W = [[_q(v) for v in row] for row in np.asarray(item[0], dtype=object).tolist()]
        b = [_q(v) for v in np.asarray(item[1], dtype=object).ravel().tolist()]
        act = item[2] if len(item) > 2 else "relu"
        slope = _q(item[3]) if len(item) > 3 and act == "leaky_relu" else Fraction(0)
        out.append((W, b, act, slope))
    return out


def _domain_rows(net, n, domain, box):
    """Rows ``(g, h)`` of ``g . z <= h`` for the (bounded) input polytope."""
    unit = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    if box is not None:
        lo, hi = ([_q(v) for v in np.asarray(x, dtype=object).ravel().tolist()] for x in box)
        return [(e, h) for e, h in zip(unit, hi)] + [([-v for v in e], -l) for e, l in zip(unit, lo)]
    homog = all(v == 0 for _, b, _, _ in net for v in b)
    if domain == "nonnegative":
        rows = [([-v for v in e], Fraction(0)) for e in unit]
        cone = True
    elif domain is None:
        rows, cone = [], True
    else:
        A, c = domain
        rows = [([_q(v) for v in a], _q(ck)) for a, ck in zip(np.asarray(A, dtype=object).tolist(),
                                                          np.asarray(c, dtype=object).ravel().tolist())]
        cone = all(h == 0 for _, h in rows)
    if homog and cone:  # positive homogeneity: a collision scales into the box
        rows += [(e, Fraction(1)) for e in unit] + [([-v for v in e], Fraction(1)) for e in unit]
    elif domain is None or domain == "nonnegative":
        raise ValueError("with biases the domain must be a bounded polytope (give box or (A, c))")
    return rows


# A cell: (rows, verts, F, f) -- rows [(g, h)], verts [(point, frozenset of tight row indices)],
# and the affine map z -> F z + f of the current layer's output on the closed cell.
def _initial_cell(rows, n):
    verts = []
    seen = set()
    for idx in combinations(range(len(rows)), n):
        z = _solve([rows[i][0] for i in idx], [rows[i][1] for i in idx])
        if z is None or tuple(z) in seen:
            continue
        tight = frozenset(k for k, (g, h) in enumerate(rows) if _dot(g, z) == h)
        if all(_dot(g, z) <= h for g, h in rows):
            seen.add(tuple(z))
            verts.append((z, tight))
    if len(verts) < n + 1 or _rank([[v - w for v, w in zip(z, verts[0][0])] for z, _ in verts]) < n:
        raise ValueError("the input domain must be a bounded full-dimensional polytope")
    ident = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    return list(rows), verts, ident, [Fraction(0)] * n


def _next_layer(cells, W, b, act, slope, n, max_cells):
    out = []
    for rows, verts, F, f in cells:
        pre_F = [[sum((w * F[k][j] for k, w in enumerate(wi) if w), Fraction(0)) for j in range(n)]
                 for wi in W]
        pre_f = [sum((w * f[k] for k, w in enumerate(wi) if w), bi) for wi, bi in zip(W, b)]
        if act == "linear":
            out.append((rows, verts, pre_F, pre_f))
            continue
        pieces = [(rows, verts, [], [])]  # the outputs so far, neuron by neuron
        for a, c in zip(pre_F, pre_f):
            nxt = []
            for prows, pverts, oF, of in pieces:
                for sign, (r2, v2) in _cut(prows, pverts, a, c, n):
                    on = sign > 0
                    k = Fraction(1) if on else slope
                    nxt.append((r2, v2, oF + [[k * v for v in a]], of + [k * c]))
            pieces = nxt
            if len(out) + len(pieces) > max_cells:
                raise ValueError(f"more than {max_cells} cells: too large for the brute-force reference")
        out.extend(pieces)
    return out


def _cut(rows, verts, a, c, n):
    """The full-dimensional pieces ``(sign, (rows, verts))`` of the cell by the sign of ``a . z + c``."""
    vals = [_dot(a, z) + c for z, _ in verts]
    if all(v >= 0 for v in vals):  # also when a . z + c is 0 on the cell: the output is 0 either way
        return [(1, (rows, verts))]
    if all(v <= 0 for v in vals):
        return [(-1, (rows, verts))]
    new = []  # where an edge crosses the hyperplane
    for (z, tz), p in zip(verts, vals):
        if p <= 0:
            continue
        for (w, tw), q in zip(verts, vals):
            if q < 0 and _rank([rows[k][0] for k in tz & tw]) == n - 1:
                t = p / (p - q)
                new.append(([zi + t * (wi - zi) for zi, wi in zip(z, w)], tz & tw))
    out = []
    for s in (1, -1):
        g = [-s * v for v in a]  # s (a . z + c) >= 0  <=>  g . z <= s c
        r2 = rows + [(g, s * c)]
        k = len(rows)
        v2 = [(z, tz | {k} if p == 0 else tz) for (z, tz), p in zip(verts, vals) if s * p >= 0]
        v2 += [(z, tz | {k}) for z, tz in new]
        out.append((s, (r2, v2)))
    return out


def _cell_witness(cell, n):
    """Two points inside a cell whose map has rank < n, or None."""
    rows, verts, F, f = cell
    d = _null_vector(F, n)
    if d is None:
        return None
    z = [sum((v[0][j] for v in verts), Fraction(0)) / len(verts) for j in range(n)]  # interior
    # the largest step along d that stays in the cell, halved: strictly inside
    steps = [(h - _dot(g, z)) / _dot(g, d) for g, h in rows if _dot(g, d) > 0]
    eps = min(steps) / 2 if steps else Fraction(1)
    return z, [zi + eps * di for zi, di in zip(z, d)]


def _pair_witness(ca, cb, n):
    """A vertex ``(z1, z2)``, ``z1 != z2``, of the collision polytope of two cells, or None."""
    (ra, va, Fa, fa), (rb, vb, Fb, fb) = ca, cb
    if _images_apart(va, Fa, fa, vb, Fb, fb):
        return None
    # the affine hull: [Fa, -Fb] u = fb - fa, u = (z1, z2) = p0 + N t
    M = [list(x) + [-v for v in y] for x, y in zip(Fa, Fb)]
    sol = _affine_solutions(M, [y - x for x, y in zip(fa, fb)], 2 * n)
    if sol is None:
        return None
    p0, N = sol
    d = len(N)
    rows = []
    for g, h in ra:
        rows.append(([sum((g[j] * col[j] for j in range(n)), Fraction(0)) for col in N],
                     h - _dot(g, p0[:n])))
    for g, h in rb:
        rows.append(([sum((g[j] * col[n + j] for j in range(n)), Fraction(0)) for col in N],
                     h - _dot(g, p0[n:])))
    for idx in combinations(range(len(rows)), d):
        t = _solve([rows[i][0] for i in idx], [rows[i][1] for i in idx]) if d else []
        if t is None or not all(_dot(g, t) <= h for g, h in rows):
            continue
        u = [p + sum((tk * col[j] for tk, col in zip(t, N)), Fraction(0)) for j, p in enumerate(p0)]
        if u[:n] != u[n:]:
            return u[:n], u[n:]
    return None


def _images_apart(va, Fa, fa, vb, Fb, fb):
    """Do the bounding boxes of the two cells' images miss each other (no collision possible)?"""
    for Fi, fi, Gi, gi in zip(Fa, fa, Fb, fb):
        ia = [_dot(Fi, z) + fi for z, _ in va]
        ib = [_dot(Gi, z) + gi for z, _ in vb]
        if max(ia) < min(ib) or max(ib) < min(ia):
            return True
    return False


def _confirmed(net, pair, rows):
    z1, z2 = pair
    if z1 == z2 or not all(_dot(g, z) <= h for z in pair for g, h in rows) \
            or _forward(net, z1) != _forward(net, z2):
        raise AssertionError("reference_end_to_end: a witness failed its own exact check")  # a bug here
    return "not_injective", (z1, z2)


def _forward(net, z):
    x = list(z)
    for W, b, act, slope in net:
        p = [sum((w * v for w, v in zip(wi, x)), bi) for wi, bi in zip(W, b)]
        x = [v if v >= 0 or act == "linear" else slope * v for v in p]
    return x


# ------------------------------------------------------------------ small exact linear algebra
def _dot(a, b):
    return sum((x * y for x, y in zip(a, b)), Fraction(0))


def _rank(M):
    if not M:
        return 0
    return len(_echelon(M)[1])


def _solve(G, h):
    """The unique solution of the square system G x = h, or None."""
    d = len(G)
    R, piv = _echelon([list(g) + [v] for g, v in zip(G, h)])
    if len([c for c in piv if c < d]) < d:
        return None
    return [R[i][d] for i in range(d)]


def _affine_solutions(M, rhs, d):
    """``(p0, N)``: every solution of ``M u = rhs`` is ``p0 + sum t_k N[k]``; None if inconsistent."""
    R, piv = _echelon([list(m) + [v] for m, v in zip(M, rhs)])
    if d in piv:
        return None
    p0 = [Fraction(0)] * d
    for i, c in enumerate(piv):
        p0[c] = R[i][d]
    N = []
    for free in (c for c in range(d) if c not in piv):
        v = [Fraction(0)] * d
        v[free] = Fraction(1)
        for i, c in enumerate(piv):
            v[c] = -R[i][free]
        N.append(v)
    return p0, N


def _null_vector(F, n):
    sol = _affine_solutions(F, [Fraction(0)] * len(F), n) if F else ([Fraction(0)] * n, [
        [Fraction(int(i == j)) for j in range(n)] for i in range(n)])
    return sol[1][0] if sol[1] else None
