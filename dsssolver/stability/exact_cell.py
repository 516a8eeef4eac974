"""Exact check that a rational point lies strictly inside a given cell.

A cell of the arrangement ``{w_i . x + b_i = 0}`` is full-dimensional iff it
has an interior point: one where every non-zero row is strictly positive (the
cell's active rows) or strictly negative (the others).  Given a float point,
this module reads it as the exact dyadic rationals it stores and checks the
strict signs in rational arithmetic (FLINT), so a ``True`` answer proves the
cell exists; nothing here uses floating point or an LP.

Examples
--------
>>> import numpy as np
>>> W = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
>>> point_in_cell(W, [0.5, 0.25], active=[0, 1])
True
>>> point_in_cell(W, [0.5, 0.0], active=[0, 1])   # on the hyperplane x_2 = 0
False
"""
from __future__ import annotations

import flint

from ..exact import fraction_matrix, to_fraction

__all__ = ["point_in_cell"]


def point_in_cell(W, x, active, b=None):
    """Decide exactly whether ``x`` is an interior point of the cell with active rows ``active``.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Floats are read as the rationals they store; Fractions are kept.
    x : array_like, shape (n,)
    active : iterable of int
        The rows claimed positive at ``x``; every other non-zero row must be negative.
    b : array_like, shape (m,), optional
        Biases (default 0).

    Returns
    -------
    bool
        True iff ``w_i . x + b_i > 0`` for the non-zero rows in ``active`` and
        ``< 0`` for the other non-zero rows, exactly.  Zero rows ``w_i = 0``
        are constant; they must satisfy ``b_i >= 0`` if listed active and
        ``b_i < 0`` otherwise.
    """
    rows = fraction_matrix(W)
    m = len(rows)
    bq = [to_fraction(0)] * m if b is None else [to_fraction(v) for v in b]
    xq = flint.fmpq_mat([[flint.fmpq(q.numerator, q.denominator)] for q in map(to_fraction, x)])
    Wq = flint.fmpq_mat([[flint.fmpq(q.numerator, q.denominator) for q in r] for r in rows])
    values = Wq * xq
    act = set(int(i) for i in active)
    for i in range(m):
        v = values[i, 0] + flint.fmpq(bq[i].numerator, bq[i].denominator)
        if not any(rows[i]):  # constant row: b_i decides it
            if (v >= 0) != (i in act):
                return False
        elif (v > 0) != (i in act) or v == 0:
            return False
    return True
