"""Fast exact check of injectivity proofs built from antiparallel row pairs.

The seed's minimally expansive layers ``[B; -DB]`` and ``[B; -DB; M]``
(Puthawala et al. 2022, Corollary 2) have a proof with no search at all:

* ``n`` dependencies on two rows each, ``{i_k, j_k}``, pairwise disjoint, with
  multipliers ``y > 0`` such that ``y_i w_i + y_j w_j = 0`` and
  ``y_i b_i + y_j b_j >= 0`` (so ``w_j`` is a negative multiple of ``w_i``);
* a minor made of one row of each pair, nonsingular.

Condition 3 of a proof (no flat of rank <= n - 1 meets every dependency)
then follows from the minor: a flat meeting pair ``k`` holds a non-zero
multiple of the minor's row ``k``, so a flat meeting all ``n`` pairs holds
``n`` independent rows.  :func:`check_pair_proof` recognises this shape and
checks it in time about linear in the size of the rows involved plus one
determinant: each row is turned into its primitive integer vector (a
float64 is the dyadic rational it stores; the conversion is vectorised and
exact), two rows are antiparallel iff their primitive vectors are
negatives, and the minor is proved nonsingular by a determinant that is
non-zero modulo a prime (falling back to an exact FLINT rank).

Nothing here uses an LP solver or the search's algebra.

Examples
--------
>>> import numpy as np
>>> W = np.array([[1, 2], [0, 1], [-2, -4], [0, -3]])
>>> deps = [((0, 2), (2, 1)), ((1, 3), (3, 1))]
>>> check_pair_proof([0, 1], deps, W, np.zeros(4))
(True, 'minor nonsingular; 2 antiparallel pairs, one minor row in each')
>>> check_pair_proof([0, 1], deps[:1], W, np.zeros(4)) is None   # not the pair shape
True
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd

import flint
import numpy as np

__all__ = ["check_pair_proof", "primitive_rows"]

# Primes below 2**30 (word-size FLINT arithmetic is fastest there): a determinant that is non-zero
# modulo one of them is non-zero over Q; a false zero has probability about 1e-9 per prime.
_PRIMES = (1073741789, 1073741783, 1073741741)


def primitive_rows(W, rows):
    """Primitive integer vectors and scales of some rows of an exact rational matrix.

    Returns ``(P, t)`` with ``W[rows[k]] == t[k] * P[k]`` exactly, ``P[k]`` a
    vector of integers with gcd 1 (a Python-int object array when int64 does
    not suffice) and ``t[k]`` a positive :class:`Fraction` (0 rows give
    ``P[k] = 0``, ``t[k] = 1``).  Two non-zero rows are positive multiples of
    each other iff their ``P`` are equal.

    Examples
    --------
    >>> P, t = primitive_rows(np.array([[0.5, -1.5], [2.0, 4.0]]), [0, 1])
    >>> P.tolist(), [str(s) for s in t]
    ([[1, -3], [1, 2]], ['1/2', '2'])
    """
    rows = list(rows)
    A = np.asarray(W)
    if A.dtype.kind in "iu":
        return _from_ints(A[rows].astype(object) if A.dtype.itemsize > 8 or A.dtype.kind == "u"
                          else A[rows].astype(np.int64))
    if A.dtype.kind == "f":
        P, t, bad = _from_floats(A[rows].astype(np.float64))
        if not bad:
            return P, t
        P = P.astype(object)
        for k in bad:
            P[k], t[k] = _slow(A[rows[k]])
        return P, t
    out = [_slow(A[i]) for i in rows]
    return np.array([p for p, _ in out], dtype=object), [s for _, s in out]


def _from_ints(B):
    g = np.gcd.reduce(B, axis=1) if B.dtype != object else np.array(
        [_gcd_list(r) for r in B], dtype=object)
    g = np.where(g == 0, 1, g)
    return B // g[:, None], [Fraction(int(v)) for v in g]


def _from_floats(B):
    """Exact primitive rows of float64 rows; rows whose exponents spread too far are left to `_slow`."""
    mant, ex = np.frexp(B)
    M = (mant * 2.0 ** 53).astype(np.int64)  # exact: |mant| < 1 has 53 significant bits
    E = ex.astype(np.int64) - 53  # B = M * 2**E
    nz = M != 0
    big = np.iinfo(np.int64).max
    emin = np.where(nz, E, big).min(axis=1)
    emin = np.where(emin == big, 0, emin)
    shift = np.where(nz, E - emin[:, None], 0)
    bad = [int(k) for k in np.nonzero(shift.max(axis=1, initial=0) > 8)[0]]
    shift[bad] = 0
    ints = np.where(nz, M << shift, 0)
    g = np.gcd.reduce(ints, axis=1)
    g = np.where(g == 0, 1, g)
    P = ints // g[:, None]
    t = [Fraction(int(gk)) * (Fraction(2) ** int(e)) for gk, e in zip(g, emin)]
    return P, t, bad


def _slow(row):
    fr = [Fraction(v) if not isinstance(v, Fraction) else v for v in np.asarray(row).tolist()]
    den = 1
    for q in fr:
        den = den * q.denominator // gcd(den, q.denominator)
    ints = [int(q * den) for q in fr]
    g = _gcd_list(ints) or 1
    return np.array([v // g for v in ints], dtype=object), Fraction(g, den)


def _gcd_list(vals):
    g = 0
    for v in vals:
        g = gcd(g, int(v))
    return g


def check_pair_proof(minor, deps, W, b, *, nonnegative=False):
    """Check a proof made of ``n`` antiparallel pairs and a minor taking one row of each.

    Parameters
    ----------
    minor : sequence of int
        ``n`` row indices.
    deps : sequence of ``(rows, multipliers)`` pairs (or objects with those attributes)
    W, b : array_like
        The layer; floats are read as the exact rationals they store.
    nonnegative : bool
        The proof is about inputs ``x >= 0`` (a full-dimensional domain): a
        dependency may then be one row ``i`` with ``y > 0`` and domain rows
        ``k`` of ``-x_k <= 0`` with ``u_k > 0``, valid iff ``y w_i = sum u_k e_k``
        and ``y b_i >= 0`` exactly.  A flat meeting it holds row ``i``.

    Returns
    -------
    (bool, str) or None
        None when the proof does not have the pair shape (the general checker
        must decide it); otherwise the verdict and a message.
    """
    W = np.asarray(W)
    m, n = W.shape
    minor = [int(i) for i in minor]
    by_row = {}
    for d in deps:
        rows, ys = (d.rows, d.multipliers) if hasattr(d, "rows") else d[:2]
        dom = (getattr(d, "domain_rows", ()), getattr(d, "domain_multipliers", ()))
        if len(rows) == 2 and not dom[0] or len(rows) == 1 and nonnegative and dom[0]:
            for r in rows:
                by_row.setdefault(int(r), (tuple(int(i) for i in rows), tuple(ys), dom))
    chosen = [by_row.get(i) for i in minor]
    if len(minor) != n or None in chosen or len({c[0] for c in chosen}) != n \
            or not all(0 <= i < m for i in minor):
        return None
    rows = [r for c in chosen for r in c[0]]
    if len(set(rows)) != len(rows) or not all(0 <= r < m for r in rows):
        return None
    P, t = primitive_rows(W, rows)
    bq = [Fraction(v) if not isinstance(v, Fraction) else v for v in np.asarray(b).tolist()]
    at, minor_rows = 0, []
    for k, (dep_rows, ys, dom) in enumerate(chosen):
        ys = [Fraction(y) for y in ys]
        if len(ys) != len(dep_rows) or any(y <= 0 for y in ys):
            return False, f"dependency {k} (rows {dep_rows}): multipliers must be positive"
        why = _pair(dep_rows, ys, P[at:at + 2], t[at:at + 2], bq) if len(dep_rows) == 2 else \
            _positive_row(dep_rows[0], ys[0], dom, W, bq, n)
        if why:
            return False, f"dependency {k}: {why}"
        minor_rows.append(P[at] if dep_rows[0] == minor[k] else P[at + 1])
        at += len(dep_rows)
    if not _nonsingular(np.array(minor_rows)):
        return False, "the minor is singular"
    singles = sum(len(c[0]) == 1 for c in chosen)
    parts = [f"{n - singles} antiparallel pairs"] if n > singles else []
    parts += [f"{singles} rows positive on x >= 0"] if singles else []
    return True, f"minor nonsingular; {' and '.join(parts)}, one minor row in each"


def _pair(rows, ys, P, t, bq):
    """Why ``y_i w_i + y_j w_j = 0``, ``y_i b_i + y_j b_j >= 0`` fails ('' if it holds)."""
    (i, j), (yi, yj) = rows, ys
    if not np.array_equal(P[0], -P[1]) or yi * t[0] != yj * t[1]:
        return f"y_i w_i + y_j w_j is not 0 (rows {i}, {j})"
    if yi * bq[i] + yj * bq[j] < 0:
        return f"y_i b_i + y_j b_j < 0 (rows {i}, {j})"
    return ""


def _positive_row(i, y, dom, W, bq, n):
    """Why ``y w_i + sum u_k (-e_k) = 0``, ``y b_i >= 0`` (the domain x >= 0) fails ('' if it holds)."""
    ks, us = dom
    try:
        us = [Fraction(u) for u in us]
        ks = [int(k) for k in ks]
    except (TypeError, ValueError):
        return "domain multipliers must be rationals on domain rows"
    if len(ks) != len(us) or len(set(ks)) != len(ks) or any(u <= 0 for u in us) \
            or not all(0 <= k < n for k in ks):
        return "domain multipliers must be positive, one for each distinct domain row"
    u = dict(zip(ks, us))
    row = [Fraction(v) if not isinstance(v, Fraction) else v for v in W[i].tolist()]
    if any(y * row[k] != u.get(k, 0) for k in range(n)):
        return f"y w_{i} is not the sum of the domain multipliers' unit vectors"
    if y * bq[i] < 0:
        return f"y b_{i} < 0"
    return ""


def _nonsingular(A):
    """Exact: a determinant non-zero modulo a prime, else the exact rank over Z (FLINT)."""
    n = A.shape[0]
    for p in _PRIMES:
        Ap = (A % p) if A.dtype != object else np.array([[int(v) % p for v in r] for r in A])
        if flint.nmod_mat(Ap.tolist(), p).det() != 0:
            return True
    return flint.fmpz_mat([[int(v) for v in r] for r in A]).rank() == n
