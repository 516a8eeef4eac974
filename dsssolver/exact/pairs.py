"""Parallel classes and antiparallel row pairs, and the proofs they give at once.

Rows that are positive multiples of each other form a *parallel class*; two
classes pointing in opposite directions give *antiparallel pairs*
``w_j = -c w_i`` (``c > 0``).  A pair with ``c b_i + b_j >= 0`` is a
dependency on two rows (``y = (c, 1)``).  When the directions of such pairs
span R^n, ``n`` of them with independent directions plus a minor made of one
row of each are a complete proof of injectivity (``docs``: the pair shape
checked by :func:`dsssolver.verify.pairs.check_pair_proof`).  This is the shape
of the seed's ``[B; -DB]`` and ``[B; -DB; M]`` layers (Corollary 2).

Classes are found in floating point in one pass: each row is divided by its
entry of largest magnitude, which maps exactly proportional rows to the same
floats (both quotients are the correctly rounded value of the same real).
Floating-point grouping can only propose; every pair used in a proof is
confirmed exactly by the checker.

Examples
--------
>>> import numpy as np
>>> W = np.array([[1., 2.], [0., 1.], [-2., -4.], [0., -3.], [1., 1.]])
>>> [(c.positive, c.negative) for c in parallel_classes(W)]
[([0], [2]), ([1], [3]), ([4], [])]
>>> minor, deps = pair_proof(W)
>>> minor, [d.rows for d in deps]
([0, 1], [(0, 2), (1, 3)])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..verify.evidence import Dependency

__all__ = ["ParallelClass", "parallel_classes", "antiparallel_pairs", "pair_proof"]


@dataclass
class ParallelClass:
    """Rows along one direction: ``positive`` rows point along it, ``negative`` rows against it."""

    pivot: int  # the coordinate of largest magnitude, used to compare multiples
    positive: list = field(default_factory=list)
    negative: list = field(default_factory=list)


def _float_rows(W):
    A = np.asarray(W)
    if A.dtype == object:
        return np.array([[float(v) for v in r] for r in A], dtype=np.float64)
    return A.astype(np.float64)


def parallel_classes(W):
    """Group the non-zero rows of ``W`` into parallel classes (floating point, see module notes).

    Returns a list of :class:`ParallelClass` in order of first appearance.
    """
    A = _float_rows(W)
    piv = np.argmax(np.abs(A), axis=1)
    lead = A[np.arange(A.shape[0]), piv]
    classes, index = [], {}
    with np.errstate(invalid="ignore", divide="ignore"):
        U = A / lead[:, None]
    U[U == 0] = 0.0  # -0.0 and 0.0 alike
    for i in range(A.shape[0]):
        if lead[i] == 0:
            continue  # a zero row is in no class
        key = (int(piv[i]), U[i].tobytes())
        k = index.get(key)
        if k is None:
            k = index[key] = len(classes)
            classes.append(ParallelClass(int(piv[i])))
        (classes[k].positive if lead[i] > 0 else classes[k].negative).append(i)
    return classes


def antiparallel_pairs(W, b=None, *, classes=None, nonnegative=False):
    """Dependencies on two antiparallel rows, one per class that has both orientations.

    For each class, a pair ``(i, j)`` with ``w_j = -c w_i`` and ``c b_i + b_j >= 0``
    (exact in the stored rationals, assuming the rows are exactly
    antiparallel; the checker confirms that) is returned as a
    :class:`~dsssolver.verify.evidence.Dependency` with multipliers ``(c, 1)``.

    With ``nonnegative=True`` (inputs ``x >= 0``) a class without such a pair
    may give a dependency on one row: ``w_i >= 0`` entrywise with ``b_i >= 0``
    is positive on the interior of ``x >= 0``, which the domain rows
    ``-x_k <= 0`` show with multipliers ``u_k = w_ik`` (``w_i + sum u_k (-e_k) = 0``,
    ``b_i - 0 >= 0``: ``docs/evidence.md``).

    Returns
    -------
    list of (ParallelClass, Dependency)
    """
    A = np.asarray(W)
    b = np.zeros(A.shape[0], dtype=np.int64) if b is None else np.asarray(b)
    out = []
    for cl in parallel_classes(A) if classes is None else classes:
        dep = _best_pair(A, b, cl)
        if dep is None and nonnegative:
            dep = _positive_row(A, b, cl)
        if dep is not None:
            out.append((cl, dep))
    return out


def _positive_row(A, b, cl, limit=64):
    """A dependency on one row ``w_i >= 0`` with ``b_i >= 0``, and the domain rows of ``x >= 0``."""
    for i in (cl.positive + cl.negative)[:limit]:
        row = [_fr(v) for v in A[i]]
        if all(v >= 0 for v in row) and _fr(b[i]) >= 0:
            ks = [k for k, v in enumerate(row) if v > 0]
            return Dependency((i,), (Fraction(1),), tuple(ks), tuple(row[k] for k in ks))
    return None


def _best_pair(A, b, cl, limit=64):
    k = cl.pivot
    for i in cl.positive[:limit]:
        for j in cl.negative[:limit]:
            c = -_fr(A[j, k]) / _fr(A[i, k])
            if c * _fr(b[i]) + _fr(b[j]) >= 0:
                return Dependency((i, j), (c, Fraction(1)))
    return None


def _fr(v):
    return Fraction(v.item() if hasattr(v, "item") else v)


def pair_proof(W, b=None, *, nonnegative=False):
    """A proof of the pair shape, ``(minor, dependencies)``, or None when pairs do not span R^n.

    The minor takes the first row of ``n`` pairs whose directions look
    independent in floating point (a greedy Gram-Schmidt); the exact checker
    decides.  ``nonnegative=True``: a proof on ``x >= 0``, where single rows
    ``w_i >= 0``, ``b_i >= 0`` count as well (see :func:`antiparallel_pairs`).
    """
    A = np.asarray(W)
    n = A.shape[1]
    found = antiparallel_pairs(A, b, nonnegative=nonnegative)
    if len(found) < n:
        return None
    if len(found) > n:
        found = _independent(_float_rows(A), found, n)
        if found is None:
            return None
    return [dep.rows[0] for _, dep in found], [dep for _, dep in found]


def _independent(A, found, n, tol=1e-9):
    """``n`` entries of ``found`` whose first rows look independent, greedily."""
    Q = np.zeros((0, A.shape[1]))
    keep = []
    for item in found:
        v = A[item[1].rows[0]]
        v = v / np.linalg.norm(v)
        r = v - Q.T @ (Q @ v)
        nr = np.linalg.norm(r)
        if nr > tol:
            Q = np.vstack([Q, r / nr])
            keep.append(item)
            if len(keep) == n:
                return keep
    return None
