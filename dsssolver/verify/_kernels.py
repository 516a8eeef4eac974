"""The checker's compiled kernels (numba, imported by :mod:`dsssolver.verify._jit` on first use;
module-level so that numba caches them on disk).  Nothing here is shared with the search.
"""
import numba
import numpy as np


def warm_up():
    """Compile (or load from the cache) every kernel on tiny inputs."""
    V = np.array([[[1, 0]], [[0, 1]]], dtype=np.int64)
    scan(V, np.array([1, 1], dtype=np.int64), 7, np.full(2, -1, dtype=np.int64))
    parallel(np.array([[1, 0], [0, 1]], dtype=np.int64), 7)


@numba.njit(cache=True, nogil=True)
def parallel(V, p):  # pragma: no cover - compiled
    s, d = V.shape
    for a in range(s):
        for b in range(a + 1, s):
            same = True
            for i in range(d):
                for j in range(i + 1, d):
                    if (V[a, i] * V[b, j] - V[a, j] * V[b, i]) % p != 0:
                        same = False
                        break
                if not same:
                    break
            if same:
                return True
    return False


@numba.njit(cache=True, nogil=True)
def scan(V, sizes, p, picks):  # pragma: no cover - compiled
    # R[k, j, i, :d-k] is vector i of array j >= k after the pivots picked in arrays < k
    # were eliminated; the pivot column is the last non-zero one.  Returns -1 when every
    # choice is a basis, else the depth k at which picks[0..k] became dependent.
    d = V.shape[0]
    amax = V.shape[1]
    R = np.zeros((d, d, amax, d), dtype=np.int64)
    R[0] = V
    k = 0
    picks[0] = 0
    while k >= 0:
        if picks[k] >= sizes[k]:
            picks[k] = -1
            k -= 1
            if k >= 0:
                picks[k] += 1
            continue
        width = d - k
        v = R[k, k, picks[k]]
        col = width - 1
        while col >= 0 and v[col] == 0:
            col -= 1
        if col < 0:
            return k
        if k == d - 1:
            picks[k] += 1
            continue
        pv = v[col]
        for j in range(k + 1, d):
            for i in range(sizes[j]):
                u = R[k, j, i]
                lead = u[col]
                t = 0
                for c in range(width):
                    if c != col:
                        R[k + 1, j, i, t] = (pv * u[c] - lead * v[c]) % p
                        t += 1
                if k + 1 == d - 1 and R[k + 1, j, i, 0] == 0:
                    picks[k + 1] = i
                    return k + 1
        if k + 1 == d - 1:  # the last array's entries were all non-zero: next pivot
            picks[k] += 1
            continue
        k += 1
        picks[k] = 0
    return -1
