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
  It is exact *given the layer's output y*; at a hidden layer the y at hand is a float
  preimage, and two things in the evidence are read from floats: the active rows
  (``y_i > 0``: round-off can make a true 0 positive, and a row that is not an equation
  then "proves" full rank) and, for a cone, the tight rows (tight at the float point,
  maybe not at any exact preimage).
* :func:`check_unique` closes that hole: from the data x down, each layer's exact input is
  derived from its evidence in rational arithmetic (no float preimage), the rows read as
  active must be positive in the exact output and the cone's tight rows are proven tight
  on every preimage, or it refuses.  Its verdict is "x has at most one preimage", which
  includes "none": float data is usually a rounded output that no rational code gives
  exactly.  :func:`no_preimage` proves that last case fast (one modular rank of the last
  layer's active rows with x appended); :func:`dsssolver.invert.invert` uses the two
  before it reports ``unique=True``.

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

__all__ = ["rank_evidence", "cone_evidence", "check_layer_evidence", "check_unique", "no_preimage",
           "PRIMES"]

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


def _q(v):
    """A float as an exact FLINT rational."""
    return flint.fmpq(*float(v).as_integer_ratio())


def _solve_rows(M, t):
    """The one solution of ``M u = t`` (rational M of full column rank), or None when the
    equations contradict each other.  Solved through the normal equations, then every
    equation is checked exactly."""
    Mt = M.transpose()
    u = (Mt * M).solve(Mt * t)
    return u if M * u == t else None


def _particular(E, t, n):
    """Some solution of ``E u = t`` (E: list of rational rows, any rank), or None if none."""
    if not E:
        return [flint.fmpq(0)] * n
    R, rank = flint.fmpq_mat([row + [ti] for row, ti in zip(E, t)]).rref()
    u = [flint.fmpq(0)] * n
    for i in range(rank):
        j = next(j for j in range(n + 1) if R[i, j] != 0)
        if j == n:
            return None  # a row 0 = nonzero: no solution
        u[j] = R[i, n]
    return u


def _col(v):
    return flint.fmpq_mat([[x] for x in v])


def _pre_targets(layer, y):
    """Exact pre-activation targets of every row, and the ReLU rows that are off
    (``y_i <= 0``: not equations), for an exact output y (list of fmpq)."""
    b = [_q(v) for v in layer.b]
    if layer.activation == "relu":
        return [yi - bi for yi, bi in zip(y, b)], [yi <= 0 for yi in y]
    slope = _q(layer.negative_slope) if layer.activation == "leaky_relu" else None
    pre = [yi if slope is None or yi >= 0 else yi / slope for yi in y]
    return [p - bi for p, bi in zip(pre, b)], [False] * len(y)


def _maps_to(layer, A, u, y, hidden):
    """Is ``act(A u + b) == y`` exactly (and ``u >= 0`` at a hidden layer)?"""
    if hidden and any(v < 0 for v in u):
        return False
    pre = flint.fmpq_mat([[_q(v) for v in row] for row in A]) * _col(u)
    slope = _q(layer.negative_slope)
    for i, (bi, yi) in enumerate(zip(layer.b, y)):
        p = pre[i, 0] + _q(bi)
        if layer.activation == "relu":
            p = p if p > 0 else flint.fmpq(0)
        elif layer.activation == "leaky_relu" and p < 0:
            p = slope * p
        if p != yi:
            return False
    return True


def _layer_input(layer, A, ev, y, hidden):
    """Layer's exact input from its evidence and exact output ``y``: ``(u, None)``, or
    ``(None, "empty")`` when no input gives y (proved), or ``(None, reason)``.

    Every preimage meets the active rows E as equations, ``E u = t``.  Rank evidence: that
    is at most one point u*, and if u* is no preimage there is none.  Cone evidence (tight
    rows ``B u <= r``, ``r = -b`` on rows and 0 for zero coordinates ``-u_j <= 0``, with
    ``B^T y_ev = E^T w``): on every preimage ``y_ev . B u = w . t = c``, a constant, while
    ``y_ev . B u <= y_ev . r`` with ``y_ev > 0``.  So ``c > y_ev . r`` means no preimage, and
    ``c == y_ev . r`` means every preimage has ``B u = r``: with E, rank n, one point.
    ``c < y_ev . r`` proves nothing (no point is read from floats to argue from).
    """
    t, off = _pre_targets(layer, y)
    rows, tight = list(ev["rows"]), list(ev.get("tight_rows", []))
    zero = list(ev.get("zero_coords", []))
    bad = [i for i in rows if off[i]]
    if bad:
        return None, f"row {bad[0]} is read as active but its exact output is {y[bad[0]]}"
    if any(not off[i] for i in tight):  # an output row that is on is an equation, not <= 0
        return None, "a row read as tight (inactive) has a positive exact output"
    if zero and not hidden:
        return None, "zero coordinates at the network's input (it has no sign constraint)"
    n = A.shape[1]
    E = [[_q(v) for v in A[i]] for i in rows]
    tE = [t[i] for i in rows]
    B = [[_q(v) for v in A[i]] for i in tight] + \
        [[flint.fmpq(-int(j == c)) for c in range(n)] for j in zero]
    r = [-_q(layer.b[i]) for i in tight] + [flint.fmpq(0)] * len(zero)
    if B:
        u0 = _particular(E, tE, n)
        if u0 is None:
            return None, "empty"
        yv = [flint.fmpq(*Fraction(v).as_integer_ratio()) for v in ev["y"]]
        Bu = flint.fmpq_mat(B) * _col(u0)
        c = sum((yi * Bu[i, 0] for i, yi in enumerate(yv)), flint.fmpq(0))
        top = sum((yi * ri for yi, ri in zip(yv, r)), flint.fmpq(0))
        if c > top:
            return None, "empty"
        if c < top:
            return None, ("the cone evidence does not pin the tight rows at this exact "
                          "output (its preimage may be more than a point)")
    u = _solve_rows(flint.fmpq_mat(E + B), _col(tE + r))
    if u is None:
        return None, "empty"
    u = [u[j, 0] for j in range(n)]
    return (u, None) if _maps_to(layer, A, u, y, hidden) else (None, "empty")


def no_preimage(layer, A, x, rows, *, primes=PRIMES):
    """Rank evidence that also proves the last layer's active rows admit no input at all:
    ``[A_R | t_R]`` (``t = x - b``) has rank ``n + 1`` modulo a prime, so ``A_R`` has rank n
    and ``t_R`` is not in its column space over Q.  The usual case for float data (a
    rounded output with more active rows than unknowns); it costs one modular rank, as
    :func:`rank_evidence` does, and replaces it.

    Each row ``[a_i, b_i, x_i]`` is scaled by one power of two to integers, so
    ``b_i - x_i`` is exact modulo p.  Only ReLU or linear layers (a leaky layer's target
    ``x_i / slope`` is no float).

    Returns
    -------
    dict or None
        :func:`rank_evidence`'s dict with ``"no_preimage": True``, or None.

    Examples
    --------
    >>> from dsssolver.layers import as_network
    >>> layer = as_network([(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None)]).layers[0]
    >>> no_preimage(layer, layer.W, np.array([1.0, 2.0, 3.0]), [0, 1, 2]) is None
    True
    >>> no_preimage(layer, layer.W, np.array([1.0, 2.0, 3.5]), [0, 1, 2])["no_preimage"]
    True
    """
    if layer.activation not in ("relu", "linear"):
        return None
    idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, int)
    n = A.shape[1]
    if len(idx) <= n:
        return None
    for sel in ((idx[: n + 9], idx) if len(idx) > n + 9 else (idx,)):
        M = np.c_[np.asarray(A, dtype=np.float64)[sel], layer.b[sel], x[sel]]
        for p in primes:
            R = _residues(M, p)
            aug = np.c_[R[:, :n], (R[:, n] - R[:, n + 1]) % p]
            if flint.nmod_mat(aug.tolist(), p).rank() == n + 1:
                return {"kind": "exact_rank", "rows": sel.tolist(), "rank": n, "prime": p,
                        "no_preimage": True}
    return None


def check_unique(net, x, evidence):
    """Re-check end to end, in exact arithmetic, that ``x`` has at most one preimage.

    :func:`check_layer_evidence` checks one layer against an output ``y`` it is given; at a
    hidden layer that ``y`` is a float preimage, whose round-off can make an entry that is
    truly 0 positive -- and a row read as active on that strength is an equation the true
    preimages need not meet, so "full rank" on it proves nothing.  Here no float preimage
    is used.  From the data ``x`` (floats are exact rationals) down, each layer's evidence
    determines the layer's input exactly: the one solution of its active rows (with the
    cone's tight rows and zero coordinates as equations).  The rows it reads as active must
    be positive *in the exact output*, and the exact input must map to the exact output
    (the cone argument needs a point of the preimage); the exact input is the next layer's
    output.  If at some layer the active rows have no common solution (or, with rank
    evidence, their solution misses the other rows), nothing maps to that layer's output:
    x has no preimage at all, which is "at most one" too.  That is the usual case for
    float data that is only a rounded output (more active rows than unknowns); the
    verdict is then said in the message.

    Parameters
    ----------
    net : Network
    x : ndarray
    evidence : list of dict
        Layer k's evidence (``InvertResult.layers[k].evidence``), first layer first.

    Returns
    -------
    (bool, str)
        True iff the preimage of x is proven to have at most one point; the message says
        whether it is one point (exact) or empty, or why the proof fails.

    Examples
    --------
    >>> import numpy as np
    >>> from dsssolver.layers import as_network
    >>> net = as_network([(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None)])
    >>> x = net.forward(np.array([1.0, 2.0]))
    >>> check_unique(net, x, [{"kind": "exact_rank", "rows": [0, 1], "rank": 2}])
    (True, 'x has exactly one preimage: the exact input of every layer is determined')
    >>> x = net.forward(np.array([1.0, -1.0]))  # (1, 0, 0): row 1 is not active
    >>> check_unique(net, x, [{"kind": "exact_rank", "rows": [0, 1], "rank": 2}])
    (False, 'layer 1: row 1 is read as active but its exact output is 0')
    """
    L = len(net.layers)
    if len(evidence) != L:
        return False, f"{len(evidence)} evidence entries for {L} layers"
    y = [_q(v) for v in np.asarray(x, dtype=np.float64)]
    for k in reversed(range(L)):
        layer, ev = net.layers[k], evidence[k]
        A = np.asarray(layer.dense(), dtype=np.float64)
        if len(y) != A.shape[0]:
            return False, f"layer {k + 1}: output of length {len(y)}, {A.shape[0]} rows"
        if not isinstance(ev, dict) or not check_layer_evidence(A, ev):
            return False, f"layer {k + 1}: no evidence, or its algebra does not hold"
        u, why = _layer_input(layer, A, ev, y, k > 0)
        if why == "empty":
            return True, (f"x has no exact preimage (layer {k + 1}'s active rows admit no "
                          f"input), so at most one")
        if u is None:
            return False, f"layer {k + 1}: {why}"
        y = u
    return True, "x has exactly one preimage: the exact input of every layer is determined"
