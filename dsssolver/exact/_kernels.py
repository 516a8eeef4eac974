"""The search's compiled kernels (numba, imported by :mod:`dsssolver.exact._jit` on first use).

Module-level functions so that numba caches their machine code on disk (``cache=True``):
later processes load it instead of compiling again.
"""
import numba
import numpy as np


def warm_up():
    """Compile (or load from the cache) every kernel on tiny inputs."""
    Q = np.array([[1, 0], [0, 1]], dtype=np.int64)
    all_bases(Q, np.array([0, 1, 2], dtype=np.int64), 2, 7)
    A = np.zeros((1, 1), dtype=np.uint64)
    pack(A, np.zeros(1, dtype=np.uint64), np.zeros(1, dtype=np.uint64), 1, np.zeros((1, 2), dtype=np.int64))


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
