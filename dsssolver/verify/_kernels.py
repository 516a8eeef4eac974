"""The checker's compiled kernels (numba, imported by :mod:`dsssolver.verify._jit` on first use;
module-level so that numba caches them on disk).  Nothing here is shared with the search.
"""
import numba
import numpy as np


def warm_up():
    """Compile (or load from the cache) the kernels a proof check uses on tiny inputs.

    ``node_scan`` (without an index by row, which every compiled check builds) is left to
    compile on first use: it would add most of a second to a first run for nothing.
    """
    V = np.array([[[1, 0]], [[0, 1]]], dtype=np.int64)  # (arrays, vectors, coordinates)
    scan(V, np.array([1, 1], dtype=np.int64), 7, np.full(2, -1, dtype=np.int64))
    parallel(np.array([[1, 0], [0, 1]], dtype=np.int64), 7)
    z = np.zeros(1, dtype=np.uint64)
    node_scan_indexed(np.zeros((1, 1), dtype=np.uint64), np.zeros((64, 1), dtype=np.uint64), z, z, 1,
                      np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    eliminate(np.array([[1, 2], [3, 4]], dtype=np.int64), 0, 7)
    D = np.array([[1], [2]], dtype=np.uint64)
    packed_scan(D, np.array([0, 1], dtype=np.int64), z, np.array([[1, 0], [0, 1]], dtype=np.int64),
                7, 1, 10, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64))


@numba.njit(cache=True, nogil=True, inline="always")
def _bitcount(x):  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, nogil=True, inline="always")
def _free_count(D, k, E):  # pragma: no cover - compiled
    # rows of dependency k outside E
    c = 0
    for w in range(D.shape[1]):
        c += _bitcount(D[k, w] & ~E[w])
    return c


@numba.njit(cache=True, nogil=True)
def node_scan(D, idx, F, E, d, cand, pack):  # pragma: no cover - compiled
    # The dependencies among idx disjoint from F (into cand, in idx's order), then greedily,
    # fewest rows outside E first (ties: earlier in idx), those whose rows outside E are
    # pairwise disjoint (into pack, at most d).  Returns (candidates, fewest free rows, the
    # first in that order, packed).  The order is a counting sort by free rows (stable).
    words = D.shape[1]
    nc = np.int64(0)  # not a literal 0: one compiled _order_and_pack, not two
    for t in range(idx.shape[0]):
        k = idx[t]
        hit = False
        for w in range(words):
            if D[k, w] & F[w]:
                hit = True
                break
        if not hit:
            cand[nc] = k
            nc += 1
    return _order_and_pack(D, E, d, cand, nc, pack)


@numba.njit(cache=True, nogil=True)
def node_scan_indexed(D, I, F, E, d, cand, pack):  # pragma: no cover - compiled
    # node_scan over all dependencies (ascending), those disjoint from F found through the
    # index by row: bit k of I[r] is set when dependency k contains row r.
    k = D.shape[0]
    kw = I.shape[1]
    alive = np.empty(kw, dtype=np.uint64)
    for t in range(kw):
        alive[t] = ~np.uint64(0)
    if k % 64:
        alive[kw - 1] = (np.uint64(1) << np.uint64(k % 64)) - np.uint64(1)
    for w in range(F.shape[0]):
        x = F[w]
        while x:
            low = x & (~x + np.uint64(1))
            r = 64 * w + _bitcount(low - np.uint64(1))
            for t in range(kw):
                alive[t] &= ~I[r, t]
            x ^= low
    nc = np.int64(0)
    for t in range(kw):
        x = alive[t]
        while x:
            low = x & (~x + np.uint64(1))
            cand[nc] = 64 * t + _bitcount(low - np.uint64(1))
            nc += 1
            x ^= low
    return _order_and_pack(D, E, d, cand, nc, pack)


@numba.njit(cache=True, nogil=True)
def _order_and_pack(D, E, d, cand, nc, pack):  # pragma: no cover - compiled
    if nc == 0:
        return 0, 0, -1, 0
    words = D.shape[1]
    free = np.empty(nc, dtype=np.int64)
    top = 0
    for t in range(nc):
        free[t] = _free_count(D, cand[t], E)
        top = max(top, free[t])
    start = np.zeros(top + 2, dtype=np.int64)
    for t in range(nc):
        start[free[t] + 1] += 1
    for c in range(top + 1):
        start[c + 1] += start[c]
    order = np.empty(nc, dtype=np.int64)
    for t in range(nc):
        order[start[free[t]]] = t
        start[free[t]] += 1
    fewest = free[order[0]]
    taken = np.zeros(words, dtype=np.uint64)
    got = 0
    for t in range(nc):
        k = cand[order[t]]
        clash = False
        for w in range(words):
            if D[k, w] & ~E[w] & taken[w]:
                clash = True
                break
        if clash:
            continue
        for w in range(words):
            taken[w] |= D[k, w] & ~E[w]
        pack[got] = k
        got += 1
        if got == d:
            break
    return nc, fewest, cand[order[0]], got


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


@numba.njit(cache=True, nogil=True, inline="always")
def _mod(x, p, q):  # pragma: no cover - compiled
    # x mod p for |x| < 2**62, q = 1 / p: floor of the float quotient is off by at most one
    r = x - np.int64(np.floor(x * q)) * p
    if r < 0:
        r += p
    elif r >= p:
        r -= p
    return r


@numba.njit(cache=True, nogil=True, inline="always")
def _divisible(x, p, q):  # pragma: no cover - compiled
    # p | x, exactly: when x = k p the float quotient is within 1e-6 of k, so it rounds to k
    return np.int64(np.rint(x * q)) * p == x


@numba.njit(cache=True, nogil=True)
def scan(V, sizes, p, picks):  # pragma: no cover - compiled
    # R[k, j, c, i]: coordinate c of vector i of array j >= k once the pivots picked in arrays
    # < k are eliminated (the pivot column is the last non-zero one); vectors of one array lie
    # along the last axis.  The last two arrays, in width two, are compared all pairs at once
    # by 2 x 2 determinants.  Returns -1 when every choice is a basis, else the depth k at
    # which picks[0..k] became dependent.
    d = V.shape[0]
    amax = V.shape[1]
    q = 1.0 / p
    R = np.zeros((d, d, d, amax), dtype=np.int64)
    for j in range(d):
        for i in range(sizes[j]):
            for c in range(d):
                R[0, j, c, i] = V[j, i, c]
    if d == 1:
        for i in range(sizes[0]):
            if R[0, 0, 0, i] == 0:
                picks[0] = i
                return 0
        return -1
    k = 0
    picks[0] = 0
    while True:
        if k == d - 2:  # two arrays of width two left: every pair's determinant
            A, B = R[k, k], R[k, k + 1]
            for a in range(sizes[k]):
                hit = -1
                for i in range(sizes[k + 1]):
                    if _divisible(A[0, a] * B[1, i] - A[1, a] * B[0, i], p, q):
                        hit = i
                        break
                if hit >= 0:
                    picks[k] = a
                    picks[k + 1] = hit
                    return k + 1
            if k == 0:
                return -1
            k -= 1
            picks[k] += 1
            continue
        if picks[k] >= sizes[k]:
            picks[k] = -1
            if k == 0:
                return -1
            k -= 1
            picks[k] += 1
            continue
        width = d - k
        v = R[k, k, :, picks[k]]
        col = width - 1
        while col >= 0 and v[col] == 0:
            col -= 1
        if col < 0:
            return k
        pv = v[col]
        for j in range(k + 1, d):
            lead = R[k, j, col]
            t = 0
            for c in range(width):
                if c != col:
                    src, dst, vc = R[k, j, c], R[k + 1, j, t], v[c]
                    for i in range(sizes[j]):
                        dst[i] = _mod(pv * src[i] - lead[i] * vc, p, q)
                    t += 1
        k += 1
        picks[k] = 0


@numba.njit(cache=True, nogil=True)
def packed_scan(D, pack, E, Pp, p, merge_from, limit, total_out, rows_out):  # pragma: no cover
    # One node's packing test in one call: the free rows (outside E) of the dependencies
    # D[pack], in ascending order; with more than merge_from choices, any two rows of a part
    # parallel modulo p send the test back to the caller (which merges them, exactly); more
    # than limit choices too.  Parts smallest first (stable), their rows' residues Pp, then
    # :func:`scan`.  Returns 1 when every choice is a basis modulo p (total_out[0] = the
    # number of choices), 0 when a prefix of choices is dependent modulo p (its rows in
    # rows_out[:depth + 1], -1 after), -1 when the caller must decide.
    d = pack.shape[0]
    words = D.shape[1]
    sizes = np.zeros(d, dtype=np.int64)
    amax = 0
    for j in range(d):
        sizes[j] = _free_count(D, pack[j], E)
        amax = max(amax, sizes[j])
    total = 1
    for j in range(d):
        if sizes[j] == 0:
            return -1
        total *= sizes[j]
        if total > limit:
            return -1
    rows = np.zeros((d, amax), dtype=np.int64)
    for j in range(d):
        t = 0
        for w in range(words):
            x = D[pack[j], w] & ~E[w]
            while x:
                low = x & (~x + np.uint64(1))
                rows[j, t] = 64 * w + _bitcount(low - np.uint64(1))
                t += 1
                x ^= low
    if total > merge_from:
        V1 = np.zeros((amax, Pp.shape[1]), dtype=np.int64)
        for j in range(d):
            for i in range(sizes[j]):
                for c in range(Pp.shape[1]):  # element by element: a row assignment compiles
                    V1[i, c] = Pp[rows[j, i], c]  # numba's shape-error path (seconds)
            if parallel(V1[:sizes[j]], p):
                return -1
    # parts smallest first, stable (an insertion sort of d entries: np.argsort's mergesort
    # costs a second of compilation)
    order = np.arange(d)
    for a in range(1, d):
        j = order[a]
        b = a
        while b > 0 and sizes[order[b - 1]] > sizes[j]:
            order[b] = order[b - 1]
            b -= 1
        order[b] = j
    V = np.zeros((d, amax, d), dtype=np.int64)
    sz = np.zeros(d, dtype=np.int64)
    for jj in range(d):
        j = order[jj]
        sz[jj] = sizes[j]
        for i in range(sizes[j]):
            for c in range(d):
                V[jj, i, c] = Pp[rows[j, i], c]
    picks = np.full(d, -1, dtype=np.int64)
    depth = scan(V, sz, p, picks)
    total_out[0] = total
    if depth < 0:
        return 1
    for jj in range(d):
        rows_out[jj] = rows[order[jj], picks[jj]] if jj <= depth else -1
    return 0


@numba.njit(cache=True, nogil=True)
def eliminate(P, s, p):  # pragma: no cover - compiled
    # Every row of P (residues mod p, m x w) reduced by row s: with c the first non-zero
    # column of P[s], row <- P[s, c] * row - row[c] * P[s], column c dropped (division-free:
    # P[s, c] is a unit mod p).  An empty (0 x 0) array when P[s] is zero.
    m, w = P.shape
    c = -1
    for j in range(w):
        if P[s, j] != 0:
            c = j
            break
    if c < 0:
        return np.zeros((0, 0), dtype=np.int64)
    q = 1.0 / p
    pc = P[s, c]
    out = np.empty((m, w - 1), dtype=np.int64)
    for i in range(m):
        lead = P[i, c]
        t = 0
        for j in range(w):
            if j != c:
                out[i, t] = _mod(pc * P[i, j] - lead * P[s, j], p, q)
                t += 1
    return out
