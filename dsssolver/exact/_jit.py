"""A compiled kernel for the search's hottest question: are all transversals bases modulo p?

At a node of corank ``d`` a packing of ``d`` dependencies closes the node when every choice of
one free row from each is independent modulo the flat (:mod:`dsssolver.certify.tree`).  That is
``prod |P_j|`` determinants, 10^4-10^5 per packing at corank 5-8, and it was about half of the
search's time on Gaussian layers with n = 10-12 as vectorised numpy.  Compiled with numba,
depth-first with early exit, it runs 8-12 times faster (``docs/scaling.md``).

numba is imported on first use only; without it (or when compilation fails) :func:`kernel`
returns None and the caller keeps its numpy path.  The proof checker has its own kernel
(:mod:`dsssolver.verify._jit`): it shares nothing with the search.
"""
from __future__ import annotations

import numpy as np

__all__ = ["kernel", "all_transversals_bases", "all_transversals_bases_stacked", "greedy_packing"]

_KERNEL = []  # [] not tried yet; [None] unavailable; [f] compiled


def kernel():
    """The compiled function, or None when numba is unavailable."""
    if not _KERNEL:
        try:
            _KERNEL.append(_compile())
        except Exception:  # no numba, or it cannot compile here: the numpy path stays
            _KERNEL.append(None)
    return _KERNEL[0]


def all_transversals_bases(parts, prime):
    """Whether every choice of one row from each ``parts[j]`` (``a_j x d`` residues mod
    ``prime`` < 2**31) is a basis of ``F_p^d``; None when the kernel is unavailable.

    Examples
    --------
    >>> import numpy as np
    >>> p = 67108859
    >>> e = np.eye(2, dtype=np.int64)
    >>> all_transversals_bases([e[:1], np.array([[1, 1], [0, 1]])], p) in (True, None)
    True
    >>> all_transversals_bases([e[:1], np.array([[2, 0]])], p) in (False, None)
    True
    """
    return all_transversals_bases_stacked(np.vstack(parts), [len(p) for p in parts], prime)


def all_transversals_bases_stacked(Q, sizes, prime):
    """:func:`all_transversals_bases` with the parts stacked in ``Q``, ``sizes[j]`` rows each."""
    f = kernel()
    if f is None:
        return None
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    starts[1:] = np.cumsum(sizes)
    return bool(f(np.ascontiguousarray(Q, dtype=np.int64) % prime, starts, len(sizes), prime))


def greedy_packing(A, F, E, d):
    """The dependency pool's packing query (:meth:`dsssolver.certify.pool.SupportSet.packing`),
    compiled: ``(k, cost)`` pairs, or None when the kernel is unavailable.

    ``A`` is the pool's ``k x words`` uint64 support matrix, ``F`` and ``E`` the flat's and the
    excluded rows' words.  Among supports disjoint from ``F``, repeatedly the one with fewest
    rows outside ``E`` (the first such), then only those whose rows outside ``E`` miss it,
    until ``d`` are picked or one has no rows outside ``E``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0b0011], [0b0110], [0b1000], [0b0101]], dtype=np.uint64)
    >>> F = np.array([0b0100], dtype=np.uint64); E = np.zeros(1, dtype=np.uint64)
    >>> greedy_packing(A, F, E, 2) in ([(2, 1), (0, 2)], None)
    True
    """
    kern = kernel()
    if kern is None:
        return None
    out = np.empty((max(d, 1), 2), dtype=np.int64)
    got = _PACK[0](A, F, E, d, out)
    return [(int(out[t, 0]), int(out[t, 1])) for t in range(got)]


_PACK = []


def _compile():
    import numba

    @numba.njit(cache=True, nogil=True, inline="always")
    def popcount(x):  # pragma: no cover - compiled
        x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
        x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
        x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))

    @numba.njit(cache=True, nogil=True)
    def pack(A, F, E, d, out):  # pragma: no cover - compiled
        k, words = A.shape
        cidx = np.empty(k, dtype=np.int64)
        cost = np.empty(k, dtype=np.int64)
        nc = 0
        for i in range(k):
            hit = False
            for w in range(words):
                if A[i, w] & F[w]:
                    hit = True
                    break
            if not hit:
                c = 0
                for w in range(words):
                    c += popcount(A[i, w] & ~E[w])
                cidx[nc] = i
                cost[nc] = c
                nc += 1
        alive = np.ones(nc, dtype=np.bool_)
        got = 0
        while got < d:
            best = -1
            for t in range(nc):
                if alive[t] and (best < 0 or cost[t] < cost[best]):
                    best = t
            if best < 0:
                break
            out[got, 0] = cidx[best]
            out[got, 1] = cost[best]
            got += 1
            if cost[best] == 0:
                break
            i = cidx[best]
            for t in range(nc):
                if alive[t]:
                    j = cidx[t]
                    for w in range(words):
                        if (A[j, w] & A[i, w]) & ~E[w]:
                            alive[t] = False
                            break
        return got

    _PACK.append(pack)

    @numba.njit(cache=True, nogil=True)
    def all_bases(Q, starts, d, p):  # pragma: no cover - compiled
        # Depth-first over the choices of parts 0, 1, ...: level k keeps the rows of parts
        # k..d-1 reduced by the chosen pivots of parts 0..k-1 to width d-k.  Elimination is
        # division-free (row <- pc * row - rc * pivot): pc is a unit mod p, so every residue
        # keeps its (non)zeroness and the verdict is that of the determinants.
        total = Q.shape[0]
        if d == 0:
            return True
        buf = np.empty((d, total, d), dtype=np.int64)
        for i in range(total):
            for j in range(d):
                buf[0, i, j] = Q[i, j]
        if d == 1:
            for i in range(total):
                if buf[0, i, 0] == 0:
                    return False
            return True
        choice = np.zeros(d, dtype=np.int64)
        k = 0
        choice[0] = starts[0]
        while True:
            if choice[k] >= starts[k + 1]:
                if k == 0:
                    return True
                k -= 1
                choice[k] += 1
                continue
            w = d - k
            piv = choice[k]
            c = -1
            for j in range(w):
                if buf[k, piv, j] != 0:
                    c = j
                    break
            if c < 0:
                return False  # this prefix of choices is already dependent
            pc = buf[k, piv, c]
            if k == d - 2:  # the last part, reduced to width one: every entry non-zero
                o = 1 - c
                po = buf[k, piv, o]
                for i in range(starts[d - 1], starts[d]):
                    if (pc * buf[k, i, o] - buf[k, i, c] * po) % p == 0:
                        return False
                choice[k] += 1
                continue
            for i in range(starts[k + 1], total):
                rc = buf[k, i, c]
                jj = 0
                for j in range(w):
                    if j != c:
                        buf[k + 1, i, jj] = (pc * buf[k, i, j] - rc * buf[k, piv, j]) % p
                        jj += 1
            k += 1
            choice[k] = starts[k]

    return all_bases
