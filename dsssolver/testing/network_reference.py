"""A brute-force reference for end-to-end injectivity of networks with one input (n = 1).

Independent of :mod:`dsssolver.networks` and of every LP: a network with one
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

import numpy as np

__all__ = ["reference_end_to_end_1d"]


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
