"""Exact evidence that a layer's preimage is a single point: the exact rank of its active rows.

A layer's preimage of ``y`` lies in ``{u : w_i u + b_i = y_i, i in I}`` for the active rows
``I``; if ``W_I`` has rank ``n`` (the number of columns) that set is one point.  Float
weights are dyadic rationals, so each row times a power of two is an integer row, and the
rank is decided in exact arithmetic:

* :func:`rank_evidence` (used while inverting) reduces the integer rows modulo a prime
  ``p < 2^31`` and takes FLINT's rank there.  A nonzero ``n x n`` minor modulo ``p`` is a
  nonzero integer, so rank ``n`` modulo ``p`` proves rank ``n`` over the rationals.
* :func:`cone_evidence` covers a preimage that is a point although its active rows lack
  full rank (``u >= 0`` at a hidden layer, or tight inequality rows, pin the free
  directions).  With ``E`` the active rows and ``B`` the rows of the tight constraints
  ``B d <= 0`` on a direction d (tight inequality rows, ``-e_j`` for ``u_j = 0``), the cone
  of feasible directions is {0} when ``[E; B]`` has rank n and some ``y > 0`` has
  ``B^T y`` in the row space of E: for a feasible d, ``0 = y^T B d`` with ``B d <= 0``
  forces ``B d = 0``, and then ``d = 0``.  ``y`` comes from an LP and is made exact by an
  exact projection.  (The tight set is read from the computed point.)
* :func:`check_layer_evidence` re-checks a claim independently: it rebuilds the integer
  rows from ``float.as_integer_ratio`` and computes the rank over the integers with FLINT's
  fraction-free elimination (no modular reduction, nothing shared with the search).

Examples
--------
>>> import numpy as np
>>> W = np.array([[1.0, 0.5], [0.25, 1.0], [1.0, 2.0]])
>>> ev = rank_evidence(W, np.array([True, False, True]))
>>> ev["rank"], ev["rows"]
(2, [0, 2])
>>> check_layer_evidence(W, ev)
True
>>> rank_evidence(W, np.array([True, False, False])) is None
True
"""
from __future__ import annotations

import math
from fractions import Fraction

import flint
import numpy as np

__all__ = ["rank_evidence", "cone_evidence", "check_layer_evidence", "PRIMES"]

#: primes below 2^31 (so products of residues fit in int64); tried in turn
PRIMES = (2147483629, 2147483587, 2147483579)


def _residues(A, p):
    """``A`` (float64) with each row scaled by a power of two to integers, modulo ``p``."""
    mant, ex = np.frexp(A)
    M = (mant * 2.0 ** 53).astype(np.int64)  # exact: |mant| < 1 has 53 significant bits
    e = ex.astype(np.int64) - 53
    e = np.where(M == 0, np.iinfo(np.int64).max, e)
    emin = e.min(axis=1, keepdims=True)
    emin = np.where(emin == np.iinfo(np.int64).max, 0, emin)
    shift = np.where(M == 0, 0, e - emin)
    pow2 = np.ones(int(shift.max(initial=0)) + 1, dtype=np.int64)
    for k in range(1, len(pow2)):
        pow2[k] = pow2[k - 1] * 2 % p
    return (np.mod(M, p) * pow2[shift]) % p


def rank_evidence(A, rows, *, primes=PRIMES):
    """Exact proof that ``A[rows]`` has full column rank, or None if none was found.

    Parameters
    ----------
    A : ndarray, shape (m, n), float64
    rows : bool mask or index array

    Returns
    -------
    dict or None
        ``{"kind": "exact_rank", "rows": [...], "rank": n, "prime": p}``.  None means the
        rank modulo the primes tried is below n (the rank over Q may still be n, rarely).
    """
    idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, int)
    m, n = len(idx), A.shape[1]
    if m < n:
        return None
    A = np.asarray(A, dtype=np.float64)
    # n + 8 rows almost always suffice (a full-rank subset proves it for all rows) and
    # cost a fraction of the whole block; otherwise every row is used
    for sel in ((idx[: n + 8], idx) if m > n + 8 else (idx,)):
        for p in primes:
            if flint.nmod_mat(_residues(A[sel], p).tolist(), p).rank() == n:
                return {"kind": "exact_rank", "rows": sel.tolist(), "rank": n, "prime": p}
    return None


def _int_rows(rows):
    """Float rows as integer rows (each scaled by a power of two), python ints."""
    out = []
    for row in rows:
        fr = [Fraction(*float(v).as_integer_ratio()) for v in row]
        den = max((f.denominator for f in fr), default=1)  # powers of two
        out.append([int(f * den) for f in fr])
    return out


def _cone_rows(A, rows, tight, zero, n):
    A = np.asarray(A, dtype=np.float64)
    B = [list(r) for r in A[list(tight)]]
    for j in zero:
        e = [0.0] * n
        e[j] = -1.0
        B.append(e)
    return _int_rows(A[list(rows)]), _int_rows(B)


def cone_evidence(A, rows, tight, zero, *, y_float=None):
    """Exact proof that ``{d : A[rows] d = 0, A[tight] d <= 0, d_j >= 0 (j in zero)} = {0}``.

    Parameters
    ----------
    A : ndarray (m, n)
        The layer's weights.
    rows, tight, zero : sequences of int
        Active rows, tight inactive rows, coordinates at their bound 0.
    y_float : ndarray, optional
        Multipliers ``y > 0`` for the tight rows (tight rows first, then zero coordinates)
        from an LP; computed here when not given.

    Returns
    -------
    dict or None
        ``{"kind": "exact_cone", "rows": [...], "tight_rows": [...], "zero_coords": [...],
        "y": ["p/q", ...]}``.
    """
    n = np.shape(A)[1]
    E, B = _cone_rows(A, rows, tight, zero, n)
    if not B:
        return None
    if E:
        Nfull, k = flint.fmpz_mat(E).nullspace()
        N = [[Nfull[i, j] for j in range(k)] for i in range(n)]
    else:
        k, N = n, [[int(i == j) for j in range(n)] for i in range(n)]
    if k == 0:
        return None
    M = flint.fmpz_mat(B) * flint.fmpz_mat(N)  # B restricted to the null space of E
    if M.rank() < k:
        return None
    if y_float is None:
        y_float = _positive_left_kernel(_float_columns(M))
        if y_float is None:
            return None
    Mq = flint.fmpq_mat(M)
    y = flint.fmpq_mat([[flint.fmpq(*Fraction(float(v)).limit_denominator(10 ** 12)
                                      .as_integer_ratio())] for v in y_float])
    Mt = Mq.transpose()
    y = y - Mq * (Mt * Mq).solve(Mt * y)  # exact projection onto {y : M^T y = 0}
    ys = [y[i, 0] for i in range(y.nrows())]
    if not all(v > 0 for v in ys):
        return None
    return {"kind": "exact_cone", "rows": [int(i) for i in rows], "tight_rows": [int(i) for i in tight],
            "zero_coords": [int(j) for j in zero], "y": [str(v) for v in ys]}


def _float_columns(M):
    """An integer matrix as floats, each column scaled by a power of two (the left kernel
    ``{y : M^T y = 0}`` does not change)."""
    cols = [[int(M[i, j]) for i in range(M.nrows())] for j in range(M.ncols())]
    out = np.empty((M.nrows(), M.ncols()))
    for j, col in enumerate(cols):
        shift = max(max(abs(v) for v in col).bit_length() - 60, 0)
        out[:, j] = [float(v >> shift) if v >= 0 else -float((-v) >> shift) for v in col]
    return out


def _positive_left_kernel(M):
    """A float ``y >= 1`` with ``M^T y = 0`` (HiGHS), scaled to sum 1; None if none."""
    from .._highs import INF, new_highs, pass_lp, run

    r, k = M.shape
    Mt = M.T / np.maximum(np.abs(M).max(axis=0), 1e-300)[:, None]
    h = new_highs()
    p = np.arange(0, Mt.size + 1, r)
    pass_lp(h, p, np.tile(np.arange(r), k), Mt.ravel(), r, np.ones(r), np.ones(r),
            np.full(r, INF), np.zeros(k), np.zeros(k))
    st, y, _, _ = run(h)
    return None if y is None else y / y.sum()


def check_layer_evidence(A, evidence, *, y=None):
    """Re-check a layer's uniqueness evidence in exact arithmetic (nothing from the search).

    With ``y`` (the ReLU layer's output) the rows the evidence reads as active must be
    active in y (``y_i > 0``: each is then an equation every preimage meets) and its tight
    inequality rows inactive (``y_i <= 0``); without it only the algebra is checked.

    ``"exact_rank"``: the listed rows of ``A`` have rank n, by fraction-free elimination over
    the integers (no primes).  ``"exact_cone"``: ``A_in`` (the inactive rows' block) must be
    checks ``rank [E; B] = n``, ``y > 0`` and that ``B^T y`` lies in the row space of
    ``E = A[rows]`` (B: the rows ``A[tight_rows]`` and ``-e_j`` for the zero coordinates).
    Returns True iff the claim holds.
    """
    if not isinstance(evidence, dict):
        return False
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[1]
    rows = [int(i) for i in evidence.get("rows", [])]
    idx = rows + [int(i) for i in evidence.get("tight_rows", [])]
    if idx and (min(idx) < 0 or max(idx) >= len(A)) or any(
            not 0 <= int(j) < n for j in evidence.get("zero_coords", [])):
        return False
    if y is not None and not _reads_y(np.asarray(y, dtype=np.float64), rows,
                                      evidence.get("tight_rows", [])):
        return False
    if evidence.get("kind") == "exact_rank":
        return evidence.get("rank") == n and len(rows) >= n and \
            flint.fmpz_mat(_int_rows(A[rows])).rank() == n
    if evidence.get("kind") != "exact_cone":
        return False
    E, B = _cone_rows(A, rows, evidence["tight_rows"], evidence["zero_coords"], n)
    y = [Fraction(v) for v in evidence["y"]]
    if len(y) != len(B) or not all(v > 0 for v in y):
        return False
    if flint.fmpz_mat(E + B).rank() != n:
        return False
    v = [sum(y[i] * B[i][j] for i in range(len(B))) for j in range(n)]
    den = 1
    for f in v:
        den = den * f.denominator // math.gcd(den, f.denominator)
    vi = [int(f * den) for f in v]  # B^T y scaled to integers: same span
    r = flint.fmpz_mat(E).rank() if E else 0
    return flint.fmpz_mat(E + [vi]).rank() == r


def _reads_y(y, rows, tight):
    """Active rows positive in y, tight (inactive) rows not: the evidence is about this y."""
    tight = [int(i) for i in tight]
    return len(y) > max(rows + tight, default=-1) and all(y[i] > 0 for i in rows) and \
        all(y[i] <= 0 for i in tight)
