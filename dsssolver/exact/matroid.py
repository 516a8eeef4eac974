"""Exact rational linear algebra on the rows of a layer.

A float64 is read as the dyadic rational it stores, so every input is an exact
rational matrix.  Each row ``[w_i, b_i]`` is scaled by a positive rational so
that it becomes a vector of integers; positive row scaling changes neither the
sign pattern of ``W x + b`` nor any span, so ranks, flats and injectivity are
those of the original layer.  Ranks, null spaces and closures are then computed
over the integers with FLINT (``python-flint``), exactly.

Examples
--------
>>> import numpy as np
>>> M = RowMatroid(np.array([[1.0, 0.0], [2.0, 0.0], [0.5, 0.5]]))
>>> M.rank()
2
>>> sorted(M.closure([0]))
[0, 1]
"""
from __future__ import annotations

from fractions import Fraction
import math
from math import gcd, lcm

import flint
import numpy as np

from . import _jit

# A prime below 2**26: products of two residues stay below 2**52 and a dot
# product of up to 2048 of them fits in int64.
PRIME = 67108859
#: A second prime: a transversal test that failed modulo PRIME is asked again modulo this one,
#: because among 10^9 determinants some are multiples of PRIME by chance (each with
#: probability ~1/PRIME) -- a false "dependent" that would branch a closed node for nothing.
PRIME2 = 67108837
# fewer transversals than this are cheaper in numpy than a call into the compiled kernel

__all__ = ["PRIME", "to_fraction", "fraction_matrix", "integer_rows", "RowMatroid", "fstr", "parse_fraction"]


def to_fraction(v):
    """Return the exact rational value of a number (floats read exactly)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"cannot read {v!r} as an exact rational")
        return Fraction(f)
    if isinstance(v, flint.fmpq):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, flint.fmpz):
        return Fraction(int(v))
    raise TypeError(f"not a number: {v!r}")


def fraction_matrix(A):
    """A 2-D (or 1-D) array as nested lists of :class:`fractions.Fraction`."""
    arr = np.asarray(A, dtype=object)
    if arr.ndim == 1:
        return [to_fraction(v) for v in arr]
    return [[to_fraction(v) for v in row] for row in arr]


def fstr(q):
    """Format a rational as ``"p/q"`` (or ``"p"`` when integral)."""
    q = to_fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def parse_fraction(s):
    """Parse ``"p/q"``, ``"p"`` or a number into a :class:`Fraction` (ValueError if malformed)."""
    if isinstance(s, bool):
        raise ValueError(f"not a rational: {s!r}")
    if isinstance(s, (int, float, Fraction)):
        return to_fraction(s)
    if not isinstance(s, str):
        raise ValueError(f"not a rational: {s!r}")
    try:
        return Fraction(s.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a rational: {s!r}") from None


def integer_rows(rows):
    """Scale each row of a rational matrix by a positive rational to make it integral.

    Returns ``(int_rows, scales)`` with ``int_rows[i] = scales[i] * rows[i]``,
    ``scales[i] > 0``.  The scale also divides out the gcd, so integer inputs
    stay small.
    """
    out, scales = [], []
    for row in rows:
        # (p, q) pairs without building Fractions: floats, ints and Fractions all have them
        pq = [v.as_integer_ratio() if isinstance(v, (int, Fraction)) and not isinstance(v, bool)
              or isinstance(v, float) and math.isfinite(v)
              else to_fraction(v).as_integer_ratio() for v in row]
        den = lcm(*(q for _, q in pq)) if pq else 1
        ints = [p * (den // q) for p, q in pq]
        g = gcd(*ints) or 1
        out.append([v // g for v in ints])
        scales.append(Fraction(den, g))
    return out, scales


class RowMatroid:
    """The linear matroid of the rows of an exact rational matrix.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Rows to work with; floats are read exactly.

    Notes
    -----
    All answers are exact.  ``closure(S)`` is the flat spanned by rows ``S``:
    every row lying in ``span{w_i : i in S}`` (zero rows are in every flat).
    """

    def __init__(self, W):
        rows = fraction_matrix(W)
        self.m = len(rows)
        self.n = len(rows[0]) if rows else 0
        self.int_rows, self.scales = integer_rows(rows)
        self._M = flint.fmpz_mat(self.int_rows)
        self._MT = self._M.transpose()
        self._Mp = np.array([[v % PRIME for v in row] for row in self.int_rows], dtype=np.int64)
        self._Mp2 = None  # rows modulo PRIME2, made when first needed
        self._rank_cache = {}
        self._transversal_cache = {}
        self._mixers = {}
        self._zero_rows = None

    def submatrix(self, S):
        S = list(S)
        if not S:
            return flint.fmpz_mat(0, self.n)
        return flint.fmpz_mat([self.int_rows[i] for i in S])

    def rank(self, S=None):
        """Exact rank of rows ``S`` (all rows if ``None``)."""
        if S is None:
            return self._M.rank()
        key = frozenset(S)
        r = self._rank_cache.get(key)
        if r is None:
            r = self._rank_mod_p(sorted(key)) if key else 0
            if r is None:  # not settled modulo p: exactly
                r = self.submatrix(sorted(key)).rank()
            if len(self._rank_cache) < 100000:
                self._rank_cache[key] = r
        return r

    def _rank_mod_p(self, S):
        """The rank of rows ``S`` when the rank modulo PRIME settles it, else None.

        The rank mod p never exceeds the rank over Q, and a minor that is
        non-zero mod p is non-zero over Q; so a mod-p rank equal to ``len(S)``
        or to ``n`` is the exact rank.  Cheap for the big rows of float input,
        whose exact elimination grows large integers.
        """
        if len(S) < 2:
            return None
        r = flint.nmod_mat(self._Mp[S].tolist(), PRIME).rank()
        return r if r in (len(S), self.n) else None

    def null_basis(self, S):
        """Integer basis (list of vectors) of ``{v : w_i . v = 0 for i in S}``."""
        S = list(S)
        if not S:
            return [[1 if j == k else 0 for j in range(self.n)] for k in range(self.n)]
        X, k = self.submatrix(S).nullspace()
        return [[int(X[j, c]) for j in range(self.n)] for c in range(k)]

    def null_vector(self, S):
        """One non-zero integer vector ``v`` with ``w_i . v = 0`` for all ``i`` in ``S``, or None.

        Much cheaper than :meth:`null_basis` on large layers: only a set of
        rows independent modulo PRIME, restricted to one column more than
        there are rows, is solved (extended by zeros, its null vector is one
        of the rows ``S``); the answer is then confirmed on every row of ``S``
        exactly, with :meth:`null_basis` as the fallback.

        >>> RowMatroid(np.array([[1, 2, 3], [2, 4, 6]])).null_vector([0, 1])
        [2, -1, 0]
        """
        rows = sorted({int(i) for i in S if any(self.int_rows[i])})
        n = self.n
        basis = self._independent_mod_p(rows)
        if len(basis) < n:
            cols = len(basis) + 1
            if basis:
                X, k = flint.fmpz_mat([self.int_rows[i][:cols] for i in basis]).nullspace()
                v = [int(X[j, 0]) for j in range(cols)] + [0] * (n - cols)
            else:
                v = [1] + [0] * (n - 1)
            if any(v) and all(sum(a * c for a, c in zip(self.int_rows[i], v) if c) == 0 for i in rows):
                return v
        full = self.null_basis(rows)
        return full[0] if full else None

    def _independent_mod_p(self, rows):
        """A maximal subset of ``rows`` independent modulo PRIME (hence over Q)."""
        if not rows:
            return []
        R, r = flint.nmod_mat(self._Mp[rows].T.tolist(), PRIME).rref()
        piv, col = [], 0
        for i in range(r):
            while R[i, col] == 0:
                col += 1
            piv.append(rows[col])
        return piv

    def closure(self, S):
        """The flat spanned by rows ``S``: all rows in their span, as a frozenset."""
        return self.extend(self.root(), S)[0]

    def closure_exact(self, S):
        """:meth:`closure` computed over the integers only (slow reference path)."""
        S = list(S)
        if not S:
            return frozenset(i for i in range(self.m) if not any(self.int_rows[i]))
        X, k = self.submatrix(S).nullspace()
        if k == 0:
            return frozenset(range(self.m))
        P = self._M * _first_columns(X, k)
        return frozenset(
            i for i in range(self.m) if all(P[i, c] == 0 for c in range(P.ncols()))
        )

    # Flats are grown one row at a time during a search.  A *state* is
    # (flat, basis, N) with N an n x d basis of the orthogonal complement of
    # the basis rows modulo PRIME.  A row with a non-zero residue against N is
    # certainly outside the rational span (if w were in the span, Cramer's
    # rule with a minor that is non-zero mod p would put it in the span mod p);
    # rows with zero residue are only candidates and are confirmed exactly.
    def root(self):
        """The state of the smallest flat (the zero rows)."""
        if self._zero_rows is None:
            self._zero_rows = frozenset(i for i in range(self.m) if not any(self.int_rows[i]))
        return self._zero_rows, (), np.eye(self.n, dtype=np.int64)

    def extend(self, state, rows):
        """The state of the flat spanned by ``state``'s flat and ``rows``.

        With several rows the flat is found once at the end (each row only
        updates the modular complement), unless a row's residue is zero and the
        current flat must tell whether it was in the span already.
        """
        flat, basis, N = state
        stale = False
        for s in rows:
            if s in flat:
                continue
            if N is None:  # exact mode (see below)
                basis = basis + (s,)
                flat = self.closure_exact(basis)
                continue
            N2 = self._reduce_complement(s, N)
            if N2 is None:
                if stale:  # perhaps s joined the span through the rows just added
                    flat, stale = self._flat_of(basis, N), False
                    if s in flat:
                        continue
                # s is outside the flat yet dependent modulo p: the modular
                # shortcut is unsound from here on, so stay exact in this subtree
                basis = basis + (s,)
                N = None
                flat = self.closure_exact(basis)
                continue
            basis = basis + (s,)
            N = N2
            stale = True
        if stale:
            flat = self._flat_of(basis, N)
        return flat, basis, N

    def _reduce_complement(self, s, N):
        """N's columns reduced to span the complement of the flat grown by row ``s``, modulo
        PRIME; None when row s has a zero residue against N."""
        k = _jit.kernel()
        if k is not None:
            out = k.reduce_complement(self._Mp, N, s, PRIME)
            return None if out.shape[0] == 0 else out
        c = (self._Mp[s] @ N) % PRIME
        nz = np.flatnonzero(c)
        if nz.size == 0:
            return None
        j = nz[0]
        factor = (c * pow(int(c[j]), -1, PRIME)) % PRIME
        return np.delete((N - np.outer(N[:, j], factor)) % PRIME, j, axis=1)

    def _flat_of(self, basis, N):
        if N.shape[1] == 0:
            return frozenset(range(self.m))
        k = _jit.kernel()
        if k is not None and self.n < 1024:
            cand = np.flatnonzero(k.zero_residues(self._Mp, N, PRIME)).tolist()
        else:
            cand = np.flatnonzero(~((self._Mp @ N) % PRIME).any(axis=1)).tolist()
        bset = set(basis)
        extra = [i for i in cand if i not in bset and any(self.int_rows[i])]
        if extra:
            ok = self._in_span_exact(list(basis), extra)
            cand = [i for i in cand if i in bset or i not in ok or ok[i]]
        return frozenset(cand)

    def _in_span_exact(self, basis, rows):
        X, k = self.submatrix(basis).nullspace()
        X = _first_columns(X, k)
        return {i: all(v == 0 for v in (self.submatrix([i]) * X).entries()) for i in rows}

    def transversals_independent(self, state, parts, limit=200000):
        """Whether every choice of one row per part is independent modulo the flat.

        ``parts`` are ``d`` row lists, ``d`` the corank of ``state``'s flat.
        True means certainly (each choice's quotient determinant is non-zero
        modulo PRIME or PRIME2, hence over Q); False means "not shown" -- a
        choice dependent modulo both primes, more than ``limit`` choices, or
        exact mode.
        """
        N = state[2]
        if N is None or len(parts) != N.shape[1] or not parts:
            return False
        # a pure function of (flat, parts): the proof check asks the search's questions again
        key = (state[0], tuple(tuple(p) for p in parts))
        hit = self._transversal_cache.get(key)
        if hit is None:
            hit = self._transversals_independent(N, parts, limit)
            if isinstance(hit, list):  # a choice dependent modulo PRIME: by chance?
                hit = self._second_prime(state[1], parts, hit)
            if len(self._transversal_cache) < 200000:
                self._transversal_cache[key] = hit
        return hit

    def _transversals_independent(self, N, parts, limit):
        """True, False (not settled: too many choices), or the rows of a choice found
        dependent modulo PRIME ([] when the numpy path does not say which)."""
        d = len(parts)
        total = 1
        for part in parts:
            total *= len(part)
        if total == 0 or total > limit:
            return False
        # small parts first: the largest ones land in the innermost loops of both paths
        parts = sorted(parts, key=len)
        rows = [i for part in parts for i in part]
        picks = np.empty(d, dtype=np.int64)
        ans = _jit.all_transversals_bases_stacked(
            (self._Mp[rows] @ N) % PRIME, [len(part) for part in parts], PRIME, picks)
        if ans is not None:  # compiled, depth-first, pivoting: no mixing needed
            return True if ans else [rows[k] for k in picks.tolist() if k >= 0]
        # quotient coordinates in a random basis, so that pivots are non-zero
        quot = [(((self._Mp[list(part)] @ N) % PRIME) @ self._mix(d)) % PRIME for part in parts]
        fast = _all_transversals_nonsingular(quot)
        if fast is None and total <= 20000:  # the pivoting fallback holds all T matrices at once
            grids = np.meshgrid(*[np.arange(len(p)) for p in parts], indexing="ij")
            mats = np.stack([quot[j][grids[j].ravel()] for j in range(d)], axis=1)  # T x d x d
            fast = bool(np.all(_det_nonzero_mod_p(mats)))
        return [] if fast is False else bool(fast)

    def _second_prime(self, basis, parts, choice):
        """The transversal test again modulo PRIME2 after ``choice`` (rows) looked dependent
        modulo PRIME: False at once if the choice is dependent modulo PRIME2 too (a real
        dependency, nearly always), else the whole compiled test modulo PRIME2, in a null basis
        of the flat's basis rows computed modulo PRIME2 (any basis of the quotient gives the
        same zeros).  False when not settled (no kernel, or the rank drops modulo PRIME2)."""
        if _jit.kernel() is None:
            return False
        if self._Mp2 is None:
            self._Mp2 = np.array([[v % PRIME2 for v in row] for row in self.int_rows], dtype=np.int64)
        basis = list(basis)
        if choice:
            sub = basis + list(choice)
            if flint.nmod_mat(self._Mp2[sub].tolist(), PRIME2).rank() < len(sub):
                return False
        d = len(parts)
        if basis:
            X, k = flint.nmod_mat(self._Mp2[basis].tolist(), PRIME2).nullspace()
            if k != d:
                return False
            N2 = np.array([[int(X[i, j]) for j in range(k)] for i in range(self.n)], dtype=np.int64)
        else:
            N2 = np.eye(self.n, dtype=np.int64)
        if N2.shape[1] != d:
            return False
        parts = sorted(parts, key=len)
        rows = [i for part in parts for i in part]
        return bool(_jit.all_transversals_bases_stacked(
            (self._Mp2[rows] @ N2) % PRIME2, [len(part) for part in parts], PRIME2))

    def _mix(self, d):
        """A fixed random d x d matrix modulo PRIME (invertible or the fast path falls back)."""
        M = self._mixers.get(d)
        if M is None:
            M = np.random.default_rng(d).integers(1, PRIME, size=(d, d), dtype=np.int64)
            self._mixers[d] = M
        return M



def _all_transversals_nonsingular(quot):
    """Whether every choice of one row from each ``quot[j]`` (a_j x d) is a basis mod PRIME.

    Division-free Gaussian elimination without pivoting, shared across choices:
    after step k the remaining rows of part j depend only on the choices in
    parts 1..k, so they are kept as an array over those choices only.  Returns
    None when some pivot is zero (the caller then pivots), else True/False.
    """
    d = len(quot)
    P = quot[0]  # choices of part 1 x width
    rest = list(quot[1:])  # part j as (choices of parts 1..k) x a_j x width
    prefix = 0  # number of choice axes so far, before the part's own axis
    for _ in range(d - 1):
        if not P[..., 0].all():
            return None
        Pe = P[..., None, :]  # (choices 1..k, 1, w)
        P0 = Pe[..., :1]
        new_rest = []
        for R in rest:
            Re = R.reshape(R.shape[:prefix] + (1,) + R.shape[prefix:])  # (choices 1..k-1, 1, a_j, w)
            # both products are below 2**52, so one reduction of their difference suffices
            upd = (P0 * Re - Re[..., :1] * Pe) % PRIME
            new_rest.append(upd[..., 1:])
        prefix += 1
        P, rest = new_rest[0], new_rest[1:]
    return bool(np.all(P[..., 0]))


def _det_nonzero_mod_p(mats):
    """For a stack of square int64 matrices (entries in [0, PRIME)), det != 0 mod PRIME.

    Division-free elimination: row_r <- a_cc * row_r - a_rc * row_c multiplies
    the determinant by a_cc, which is a unit modulo the prime, so non-zeroness
    is preserved and no modular inverses are needed.
    """
    A = mats % PRIME
    T, d, _ = A.shape
    ok = np.ones(T, dtype=bool)
    idx = np.arange(T)
    for c in range(d):
        sub = A[:, c:, c] != 0
        ok &= sub.any(axis=1)
        piv = c + np.argmax(sub, axis=1)
        swap = piv != c
        if swap.any():
            rows_c = A[idx, c].copy()
            A[idx, c] = A[idx, piv]
            A[idx, piv] = rows_c
        pc = A[:, c, c][:, None]
        for r in range(c + 1, d):
            a = A[:, r, c][:, None]
            A[:, r, :] = (A[:, r, :] * pc - A[:, c, :] * a) % PRIME
    return ok


def _first_columns(X, k):
    n = X.nrows()
    if X.ncols() == k:
        return X
    return flint.fmpz_mat([[X[j, c] for c in range(k)] for j in range(n)])
