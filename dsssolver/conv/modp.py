"""Exact rank tests modulo a prime, sized for convolution operators.

Why a residue decides anything over Q: an integer matrix whose rank modulo a
prime ``p`` is r has a non-zero r x r minor modulo p, hence a non-zero minor over
the integers, so its rank over Q is at least r.  "Full column rank mod p"
therefore proves full column rank over Q.  The converse can fail (p may divide
every maximal minor): then another prime is tried, and the answer stays
"not shown", never "singular".

Floats are read exactly: a float64 is ``M 2^e`` with an integer M, so a whole
array times one power of two is an integer array (:func:`residues` reduces
it modulo p without forming the big integers).  Scaling a matrix by a non-zero
scalar changes no rank.

The elimination runs on float64 arrays with ``p < 2^20``: a product of two
residues is below ``2^40`` and a sum of 4096 such products below ``2^52``,
so every BLAS product is exact.  Residues are kept signed in ``(-p, p)``
(``x - rint(x / p) p``, a few cheap passes, exact for ``|x| < 2^52``); a residue is
zero iff it is 0.

Examples
--------
>>> import numpy as np
>>> A = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, 1.0]])
>>> full_column_rank(residues(A, PRIMES[0]), PRIMES[0])
True
>>> full_column_rank(residues(np.array([[1.0, 2.0], [2.0, 4.0]]), PRIMES[0]), PRIMES[0])
False
"""
from __future__ import annotations

import numpy as np

__all__ = ["PRIMES", "residues", "full_column_rank", "eliminate", "is_prime",
           "prime_with_roots", "root_of_unity"]

# primes below 2**20 (see the module docstring for why this size)
PRIMES = (1048573, 1048571, 1048559)


def is_prime(q):
    """Trial division (``q < 2^40``)."""
    if q < 2:
        return False
    if q % 2 == 0:
        return q == 2
    f = 3
    while f * f <= q:
        if q % f == 0:
            return False
        f += 2
    return True


def residues(A, p, scale_from=None):
    """``(2^E A) mod p`` as float64 residues in ``[0, p)``, for one E making ``2^E A`` integral.

    Parameters
    ----------
    A : array_like of float
    p : int
        An odd prime.
    scale_from : array_like, optional
        Take E from this array instead (so that several arrays share one scale);
        every entry of ``A`` must be an integer multiple of its smallest unit.
    """
    A = np.asarray(A, dtype=np.float64)
    ref = A if scale_from is None else np.asarray(scale_from, dtype=np.float64)
    E = -_lowest_exponent(ref)
    mant, ex = np.frexp(A)
    M = (mant * 2.0 ** 53).astype(np.int64)  # exact: |mant| < 1
    k = ex.astype(np.int64) - 53 + E  # A = M 2^(k - E)
    nz = M != 0
    k = np.where(nz, k, 0)
    neg = k < 0  # the mantissa carries trailing zero bits: shift them out exactly
    if neg.any():
        s = -k[neg]
        mag = np.abs(M[neg])
        if np.any(s > 62) or np.any((mag >> s) << s != mag):
            raise ValueError("residues: an entry is finer than the scale's unit")
        M[neg] = np.sign(M[neg]) * (mag >> s)
        k[neg] = 0
    table = np.array([pow(2, int(j), p) for j in range(int(k.max(initial=0)) + 1)], dtype=np.int64)
    return ((M % p) * table[k] % p).astype(np.float64)


def _lowest_exponent(A):
    """The exponent of the lowest set bit over the non-zero entries of A."""
    v = A[A != 0]
    if v.size == 0:
        return 0
    mant, ex = np.frexp(v)
    M = np.abs((mant * 2.0 ** 53).astype(np.int64))
    tz = np.zeros_like(M)
    odd = M.copy()
    while True:  # trailing zero bits of each mantissa (at most 53 rounds)
        even = (odd & 1) == 0
        if not even.any():
            break
        odd[even] >>= 1
        tz[even] += 1
    return int((ex.astype(np.int64) - 53 + tz).min())


def eliminate(A, k, p, pivot_rows=None, perm=None):
    """Gaussian elimination of the first ``k`` columns of ``A`` modulo ``p``, in place.

    Pivots are taken from the first ``pivot_rows`` rows (default: all).  Row
    swaps are applied to ``perm`` too when it is given (an index array), so that
    ``perm[:k]`` are then the original rows of the pivots.  On
    success ``A[k:, k:]`` holds the Schur complement: the rows that were not
    pivots, with the first ``k`` columns eliminated.  Recursive (Toledo's LU
    with partial pivoting), so nearly all the work is exact BLAS products.

    Returns
    -------
    bool
        True iff each of the first ``k`` columns found a pivot, i.e. those columns
        restricted to the pivot-eligible rows have full rank ``k`` modulo p.
    """
    m, n = A.shape
    npiv = m if pivot_rows is None else pivot_rows
    if k > npiv:
        return False
    if not _lu(A, 0, k, npiv, p, perm):
        return False
    if k < n:
        _trsm(A, 0, k, slice(k, n), p)
        if k < m:
            _mulsub(A, (slice(k, m), slice(k, n)), A[k:, :k], A[:k, k:], p)
    return True


_BASE = 16


def _mod(x, p):
    """A signed residue of the float64 integers ``x`` (``|x| < 2^52``), in ``(-p, p)``.

    ``rint(x / p)`` is within one of the true quotient, and ``q p`` and the difference
    are exact in float64, so the result is congruent to ``x`` and smaller than p.
    """
    q = np.rint(x * (1.0 / p))
    q *= p
    return np.subtract(x, q, out=q)
_CHUNK = 4096  # inner dimension per exact product: 4096 (p - 1)^2 < 2^52


def _mulsub(A, where, L, U, p):
    """``A[where] = (A[where] - L @ U) mod p``, exactly (chunks of the inner dimension)."""
    acc = A[where]
    for j in range(0, L.shape[1], _CHUNK):
        acc = _mod(acc - L[:, j:j + _CHUNK] @ U[j:j + _CHUNK], p)
    A[where] = acc


def _lu(A, c0, c1, npiv, p, perm=None):
    """Factor columns c0..c1-1 (rows c0..m-1), pivots from rows < npiv; whole rows are swapped."""
    if c1 - c0 <= _BASE:
        for c in range(c0, c1):
            nz = np.flatnonzero(A[c:npiv, c])
            if nz.size == 0:
                return False
            r = c + int(nz[0])
            if r != c:
                A[[c, r]] = A[[r, c]]
                if perm is not None:
                    perm[[c, r]] = perm[[r, c]]
            inv = pow(int(A[c, c]) % p, p - 2, p)
            A[c + 1:, c] = _mod(A[c + 1:, c] * inv, p)
            if c + 1 < c1:
                A[c + 1:, c + 1:c1] = _mod(
                    A[c + 1:, c + 1:c1] - np.outer(A[c + 1:, c], A[c, c + 1:c1]), p)
        return True
    mid = (c0 + c1) // 2
    if not _lu(A, c0, mid, npiv, p, perm):
        return False
    _trsm(A, c0, mid, slice(mid, c1), p)
    _mulsub(A, (slice(mid, None), slice(mid, c1)), A[mid:, c0:mid], A[c0:mid, mid:c1], p)
    return _lu(A, mid, c1, npiv, p, perm)


def _trsm(A, r0, r1, cols, p):
    """``A[r0:r1, cols] = L^-1 A[r0:r1, cols]`` for the unit lower triangle L of A[r0:r1, r0:r1]."""
    if r1 - r0 <= _BASE:
        for r in range(r0, r1 - 1):
            A[r + 1:r1, cols] = _mod(
                A[r + 1:r1, cols] - np.outer(A[r + 1:r1, r], A[r, cols]), p)
        return
    mid = (r0 + r1) // 2
    _trsm(A, r0, mid, cols, p)
    _mulsub(A, (slice(mid, r1), cols), A[mid:r1, r0:mid], A[r0:mid, cols], p)
    _trsm(A, mid, r1, cols, p)


def full_column_rank(A, p):
    """Whether the residue matrix ``A`` (entries in ``[0, p)``) has full column rank mod p.

    True proves full column rank over Q of any integer matrix it is the residue of.
    """
    A = np.array(A, dtype=np.float64)
    return A.shape[0] >= A.shape[1] and eliminate(A, A.shape[1], p)


def prime_with_roots(order, below=1 << 20, skip=0):
    """The largest prime ``p < below`` with ``order | p - 1`` (so F_p holds the order-th roots of 1).

    ``skip = k`` gives the (k + 1)-th largest instead (distinct primes for retries).
    """
    q = (below - 2) // order * order + 1
    while q > order:
        if is_prime(q):
            if not skip:
                return q
            skip -= 1
        q -= order
    raise ValueError(f"no prime below {below} with {order} | p - 1")


def root_of_unity(order, p):
    """A primitive ``order``-th root of unity modulo the prime p (``order | p - 1``)."""
    factors = [f for f in range(2, order + 1) if order % f == 0 and is_prime(f)]
    for a in range(2, p):
        w = pow(a, (p - 1) // order, p)
        if all(pow(w, order // f, p) != 1 for f in factors):
            return w
    raise ValueError(f"no primitive root of order {order} mod {p}")
