"""Exact re-checking of injectivity evidence; no LP solver is used.

* A witness ``(x1, x2)`` is valid iff ``x1 != x2`` and
  ``ReLU(W x1 + b) == ReLU(W x2 + b)`` in rational arithmetic.
* A proof is valid iff (1) rows ``minor`` of ``W`` are an n x n nonsingular
  matrix, (2) each dependency has ``y >= 0``, ``y != 0``, ``sum y_i w_i = 0``
  and ``sum y_i b_i >= 0`` exactly, and (3) no flat of rank <= n - 1 meets the
  rows of every dependency.  (3) is decided by an exhaustive search over flats
  built from the dependencies' rows, with exact ranks (FLINT).

Why (1)-(3) prove injectivity: if ``f(x) = f(x')`` for ``x != x'``, some point
``z`` has active rows of rank <= n - 1 (MATH.md section 1); their flat ``F``
leaves the strict system on the other rows solvable (at ``z``), so by Motzkin's
theorem ``F`` must meet the rows of every dependency -- which (3) rules out.
"""
from __future__ import annotations

import time
from fractions import Fraction
from math import lcm

from .._validate import as_layer
from ..certify.pool import SupportSet, bits, mask
from ..errors import CheckTimeout
from .evidence import CertifyResult
from .pairs import check_pair_proof
from ..exact.matroid import RowMatroid, fraction_matrix, parse_fraction, to_fraction

__all__ = ["check", "check_witness", "check_proof", "CheckTimeout"]


def check(evidence, W, b=None, explain=False, *, domain=None):
    """Re-check injectivity evidence exactly.

    Parameters
    ----------
    evidence : CertifyResult or dict
        A result of :func:`dsssolver.certify`, or its JSON form (``to_json()``).
    W, b : array_like
        The layer the evidence is about.
    explain : bool
        Return ``(ok, message)`` instead of ``ok``.
    domain : None, "nonnegative" or (A, c)
        The inputs the evidence must be about (``{x : A x <= c}``); evidence recorded for
        another domain is invalid.

    Returns
    -------
    bool, or (bool, str) with ``explain=True``
        An "unknown" result carries no evidence and is never valid.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1, 0], [0, 1], [1, 1]])
    >>> check({"status": "not_injective", "witness": [["-1", "-1"], ["-1", "-2"]]}, W)
    True
    """
    W, b = as_layer(W, b)
    if isinstance(evidence, dict):
        evidence = CertifyResult.from_json(evidence)
    elif not isinstance(evidence, CertifyResult):
        raise TypeError("evidence must be a CertifyResult or its JSON dict")
    dom = _exact_domain(domain, W.shape[1])
    if dom != _exact_domain(evidence.domain, W.shape[1]):
        ok, msg = False, "the evidence is for another domain than the one asked about"
        return (ok, msg) if explain else ok
    if evidence.status == "injective" and tuple(evidence.shape or W.shape) == W.shape:
        # the pair shape (seed Corollary 2 layers) is checked without converting all of W
        quick = check_pair_proof(evidence.proof.minor, evidence.proof.dependencies, W, b)
        if quick is not None:
            return quick if explain else quick[0]
    Wq = fraction_matrix(W)
    bq = [to_fraction(v) for v in b]
    m, n = len(Wq), len(Wq[0])
    if evidence.shape and tuple(evidence.shape) != (m, n):
        ok, msg = False, f"evidence is for shape {tuple(evidence.shape)}, layer is {(m, n)}"
    elif evidence.status == "not_injective":
        ok, msg = check_witness(*evidence.witness, Wq, bq, domain=dom)
    elif evidence.status == "injective":
        ok, msg = check_proof(evidence.proof.minor, evidence.proof.dependencies, Wq, bq,
                              hints=evidence.proof.hints, domain=dom)
    else:
        ok, msg = False, "status 'unknown' carries no evidence"
    return (ok, msg) if explain else ok


def _exact_domain(domain, n):
    """None, or ``(A, c)`` as lists of Fraction, from None / "nonnegative" / (A, c) / the JSON
    form ``{"name": ..., "A": ..., "c": ...}``."""
    if domain is None:
        return None
    if isinstance(domain, dict):
        domain = "nonnegative" if domain.get("name") == "nonnegative" else \
            ([[parse_fraction(v) for v in row] for row in domain.get("A", [])],
             [parse_fraction(v) for v in domain.get("c", [])])
    if isinstance(domain, str):
        if domain != "nonnegative":
            raise ValueError(f"domain must be None, 'nonnegative' or (A, c), got {domain!r}")
        return [[Fraction(-1 if i == j else 0) for j in range(n)] for i in range(n)], \
            [Fraction(0)] * n
    A, c = domain
    return [[to_fraction(v) for v in row] for row in A], [to_fraction(v) for v in c]


def check_witness(x1, x2, Wq, bq, domain=None):
    """Check a witness against exact rows (inside ``domain = (A, c)`` if given);
    returns ``(ok, message)``."""
    n = len(Wq[0])
    if len(x1) != n or len(x2) != n:
        return False, f"witness points must have length n = {n}"
    x1 = [to_fraction(v) for v in x1]
    x2 = [to_fraction(v) for v in x2]
    if x1 == x2:
        return False, "the two witness points are equal"
    for j, x in enumerate((x1, x2)):
        if domain is not None and any(sum(a * v for a, v in zip(row, x)) > ck
                                      for row, ck in zip(*domain)):
            return False, f"witness point {j + 1} is outside the domain"
    for i, (row, bi) in enumerate(zip(Wq, bq)):
        y1 = max(sum((w * x for w, x in zip(row, x1)), bi), 0)
        y2 = max(sum((w * x for w, x in zip(row, x2)), bi), 0)
        if y1 != y2:
            return False, f"outputs differ at row {i}: {y1} != {y2}"
    return True, "two different inputs with the same output"


def check_proof(minor, deps, Wq, bq, matroid=None, hints=None, deadline=None, domain=None):
    """Check a proof of injectivity against exact rows; returns ``(ok, message)``.

    ``hints`` (optional, from the search) maps a flat's row mask to the index of
    the dependency to branch on there, or to a list of dependencies that close
    it.  Hints only choose; every claim is re-verified, and a hint that does
    not verify is ignored.  ``deadline`` (a ``time.perf_counter()`` value)
    makes the covering search raise :class:`CheckTimeout` when it passes.
    ``domain`` is ``(A, c)`` (exact rows) when the proof is about ``{x : A x <= c}``: then
    dependencies may carry multipliers ``u >= 0`` on its rows.
    """
    m, n = len(Wq), len(Wq[0])
    minor = list(minor)
    if len(minor) != n or len(set(minor)) != n or not all(0 <= i < m for i in minor):
        return False, f"minor must be {n} distinct row indices in [0, {m})"
    if _rank([Wq[i] for i in minor]) != n:
        return False, "the minor is singular"
    M = matroid if matroid is not None else RowMatroid(Wq)
    int_rows, scales = M.int_rows, M.scales  # row i of W is int_rows[i] / scales[i]
    for k, d in enumerate(deps):
        rows, ys = list(d.rows), [to_fraction(y) for y in d.multipliers]
        if not rows or len(rows) != len(ys) or len(set(rows)) != len(rows):
            return False, f"dependency {k}: rows must be distinct and match the multipliers"
        if not all(0 <= i < m for i in rows):
            return False, f"dependency {k}: row index out of range"
        if any(y < 0 for y in ys) or not any(ys):
            return False, f"dependency {k}: multipliers must be >= 0 and not all 0"
        # sum y_i w_i with w_i = int_rows[i] / scales[i]: clear denominators, add integers
        u = [y / scales[i] for i, y in zip(rows, ys)]
        den = 1
        for q in u:
            den = lcm(den, q.denominator)
        coef = [q.numerator * (den // q.denominator) for q in u]
        for j in range(n):
            if not d.domain_rows and sum(c * int_rows[i][j] for i, c in zip(rows, coef)) != 0:
                return False, f"dependency {k}: sum y_i w_i is not 0 (coordinate {j})"
        drows, us = list(d.domain_rows), [to_fraction(u) for u in d.domain_multipliers]
        if drows and domain is None:
            return False, f"dependency {k}: domain rows, but no domain"
        if drows and (len(drows) != len(us) or any(u < 0 for u in us)
                      or not all(0 <= j < len(domain[0]) for j in drows)):
            return False, f"dependency {k}: malformed domain rows or multipliers"
        # domain terms: sum u_k a_k joins sum y_i w_i, and -sum u_k c_k joins sum y_i b_i
        dterm = [sum(u * domain[0][j][col] for j, u in zip(drows, us)) for col in range(n)] \
            if drows else [0] * n
        for j in range(n):
            if drows and sum(y * Wq[i][j] for i, y in zip(rows, ys)) + dterm[j] != 0:
                return False, f"dependency {k}: sum y_i w_i + sum u_k a_k is not 0"
        dbias = sum(u * domain[1][j] for j, u in zip(drows, us)) if drows else 0
        if sum(y * bq[i] for i, y in zip(rows, ys)) - dbias < 0:
            return False, f"dependency {k}: sum y_i b_i < 0"
    hit = _hitting_flat(M, [d.rows for d in deps], n, hints or {}, deadline)
    if hit is not None:
        return False, f"the flat spanned by rows {list(hit)} has rank < n and meets every dependency"
    return True, f"minor nonsingular; {len(deps)} dependencies valid and no flat of rank < n meets all"


def _hitting_flat(M, dep_rows, n, hints, deadline=None):
    """A basis of a flat of rank <= n-1 meeting every set in ``dep_rows``, or None.

    Depth-first over flats: at flat F (with rows E excluded) take a set S
    disjoint from F; any hitting flat above F contains some s in S, so the
    children F + s_k (excluding s_1..s_{k-1}) cover every candidate once.
    A node of corank d is closed without branching when a set lies inside E,
    or when d sets have pairwise disjoint rows outside E and every choice of
    one row from each is independent modulo F (a hitting flat would then have
    rank >= n).
    """
    supports = SupportSet(M.m)
    for rows in dep_rows:
        supports.add(set(rows))
    masks = supports.masks
    root = M.root()
    stack = [(root, mask(root[0]), 0, 0)]
    visited = 0
    while stack:
        visited += 1
        if deadline is not None and visited % 64 == 0 and time.perf_counter() > deadline:
            raise CheckTimeout("time limit reached during the exact proof check")
        state, F, E, rk = stack.pop()
        d = n - rk
        pack = _hinted(hints.get(F), masks, F, E) or supports.packing(F, E, d)
        if not pack:
            return state[1]  # this flat meets every dependency
        if pack[-1][1] == 0:
            continue  # a dependency inside E: no flat here avoids E and meets it
        if len(pack) == d and (d == 1 or M.transversals_independent(
                state, [bits(masks[k] & ~E) for k, _ in pack])):
            continue
        k = min(pack, key=lambda kc: kc[1])[0]
        excl = E
        for s in bits(masks[k] & ~E):
            child = M.extend(state, (s,))
            flat = mask(child[0])
            if not flat & excl:
                stack.append((child, flat, excl, rk + 1))
            excl |= 1 << s
    return None


def _hinted(hint, masks, F, E):
    """The hinted dependencies as ``[(index, free count)]`` if they fit this node, else None."""
    if hint is None:
        return None
    ks = hint if isinstance(hint, list) else [hint]
    taken = 0
    out = []
    for k in ks:
        if not 0 <= k < len(masks) or masks[k] & F or masks[k] & ~E & taken:
            return None
        taken |= masks[k] & ~E
        out.append((k, (masks[k] & ~E).bit_count()))
    return out


def _rank(rows):
    """Rank by Gaussian elimination over Fractions (independent of FLINT)."""
    A = [[Fraction(v) for v in r] for r in rows]
    rank, cols = 0, len(A[0]) if A else 0
    for c in range(cols):
        piv = next((r for r in range(rank, len(A)) if A[r][c] != 0), None)
        if piv is None:
            continue
        A[rank], A[piv] = A[piv], A[rank]
        for r in range(len(A)):
            if r != rank and A[r][c] != 0:
                f = A[r][c] / A[rank][c]
                A[r] = [a - f * p for a, p in zip(A[r], A[rank])]
        rank += 1
    return rank
