"""The search's compiled kernels (numba, imported by :mod:`dsssolver.exact._jit` on first use).

Module-level functions so that numba caches their machine code on disk (``cache=True``):
later processes load it instead of compiling again.
"""
import numba
import numpy as np


def warm_up():
    """Compile (or load from the cache) every kernel on tiny inputs."""
    Q = np.array([[1, 0], [0, 1]], dtype=np.int64)
    all_bases(Q, np.array([0, 1, 2], dtype=np.int64), 2, 7, np.zeros(2, dtype=np.int64))
    A = np.zeros((1, 1), dtype=np.uint64)
    E2 = np.eye(2, dtype=np.int64)
    reduce_complement(E2, E2, 0, 7)
    zero_residues(E2, E2, 7)
    z, i = np.zeros(1, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    pack(A, A, ~z, z, z, 1, np.zeros((1, 2), dtype=np.int64), i, i.copy(), i.copy())


@numba.njit(cache=True, nogil=True, inline="always")
def popcount(x):  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, nogil=True)
def pack(A, I, L, F, E, d, out, cidx, cost, order):  # pragma: no cover - compiled
    # Live supports disjoint from F, ordered by their rows outside E (a stable counting sort,
    # so ties keep the pool's order), then greedily those pairwise disjoint outside E.
    # I[r] is the bit set of the supports containing row r (the pool's index by row), L the
    # bit set of live supports: the supports disjoint from F are the live ones in no I[r] with
    # r in F, found a word of 64 supports at a time.  cidx, cost, order: scratch arrays of at
    # least len(A) entries.
    k, words = A.shape
    kw = (k + 63) // 64
    alive = np.empty(kw, dtype=np.uint64)
    for w in range(kw):
        alive[w] = L[w]
    if k % 64:
        alive[kw - 1] &= (np.uint64(1) << np.uint64(k % 64)) - np.uint64(1)
    for w in range(F.shape[0]):
        x = F[w]
        while x:
            low = x & (~x + np.uint64(1))
            r = 64 * w + popcount(low - np.uint64(1))
            for t in range(kw):
                alive[t] &= ~I[r, t]
            x ^= low
    nc = 0
    top = 0
    for t in range(kw):
        x = alive[t]
        while x:
            low = x & (~x + np.uint64(1))
            i = 64 * t + popcount(low - np.uint64(1))
            x ^= low
            c = 0
            for w in range(words):
                c += popcount(A[i, w] & ~E[w])
            cidx[nc] = i
            cost[nc] = c
            top = max(top, c)
            nc += 1
    if nc == 0:
        return 0
    start = np.zeros(top + 2, dtype=np.int64)
    for t in range(nc):
        start[cost[t] + 1] += 1
    for c in range(top + 1):
        start[c + 1] += start[c]
    for t in range(nc):
        order[start[cost[t]]] = t
        start[cost[t]] += 1
    taken = np.zeros(words, dtype=np.uint64)
    got = 0
    for s in range(nc):
        t = order[s]
        i = cidx[t]
        clash = False
        for w in range(words):
            if A[i, w] & ~E[w] & taken[w]:
                clash = True
                break
        if clash:
            continue
        for w in range(words):
            taken[w] |= A[i, w] & ~E[w]
        out[got, 0] = i
        out[got, 1] = cost[t]
        got += 1
        if got == d or cost[t] == 0:
            break
    return got


@numba.njit(cache=True, nogil=True, inline="always")
def reduce(x, p, pinv):  # pragma: no cover - compiled
    # x mod p in [0, p) for |x| < 2**62: a float quotient (off by at most one), then corrected;
    # branch-free so that the loops below vectorise
    r = x - np.int64(np.floor(x * pinv)) * p
    r += p & (r >> 63)  # + p where negative (an arithmetic shift gives -1 or 0)
    return r - (p & ((p - 1 - r) >> 63))  # - p where r >= p


@numba.njit(cache=True, nogil=True, inline="always")
def is_multiple(x, p, pinv):  # pragma: no cover - compiled
    # x = 0 mod p, exactly: the float quotient rounds to x / p whenever that is an integer
    return np.int64(np.rint(x * pinv)) * p == x


@numba.njit(cache=True, nogil=True)
def pairs_independent(B, k, s0, s1, e1, p, pinv, picks):  # pragma: no cover - compiled
    # every 2 x 2 determinant between rows s0..s1-1 and s1..e1-1 of level k is non-zero mod p;
    # else the first zero's rows go to picks[-2:]
    X0, X1 = B[k, 0], B[k, 1]
    for a in range(s0, s1):
        u0, u1 = X0[a], X1[a]
        bad = False
        for i in range(s1, e1):
            bad |= is_multiple(u0 * X1[i] - u1 * X0[i], p, pinv)
        if bad:
            for i in range(s1, e1):
                if is_multiple(u0 * X1[i] - u1 * X0[i], p, pinv):
                    picks[picks.shape[0] - 2] = a
                    picks[picks.shape[0] - 1] = i
                    return False
    return True


@numba.njit(cache=True, nogil=True)
def all_bases(Q, starts, d, p, picks):  # pragma: no cover - compiled
    # Depth-first over the choices of parts 0, 1, ..., d-3: level k keeps the rows of parts
    # k..d-1 reduced by the chosen pivots of parts 0..k-1 to width d-k, stored column by column
    # (buf[k, column, row]) so that the inner loops run over contiguous rows.  Elimination is
    # division-free (row <- pc * row - rc * pivot): pc is a unit mod p, so every residue keeps
    # its (non)zeroness and the verdict is that of the determinants.  The last two parts, in
    # width two, are tested all pairs at once by their 2 x 2 determinants.
    # On False, picks (length d) holds rows of Q of a choice found dependent modulo p, -1 in
    # the places not chosen (a prefix that is dependent already).
    for j in range(picks.shape[0]):
        picks[j] = -1
    total = Q.shape[0]
    if d == 0:
        return True
    pinv = 1.0 / p
    buf = np.empty((d, d, total), dtype=np.int64)
    for i in range(total):
        for j in range(d):
            buf[0, j, i] = Q[i, j]
    if d == 1:
        for i in range(total):
            if buf[0, 0, i] == 0:
                picks[0] = i
                return False
        return True
    if d == 2:
        level = np.int64(0)  # not a literal 0: one compiled pairs_independent, not two
        return pairs_independent(buf, level, starts[0], starts[1], starts[2], p, pinv, picks)
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
            if buf[k, j, piv] != 0:
                c = j
                break
        if c < 0:  # this prefix of choices is already dependent
            for j in range(k + 1):
                picks[j] = choice[j]
            return False
        pc = buf[k, c, piv]
        first = starts[k + 1]
        Bc = buf[k, c]
        jj = 0
        for j in range(w):
            if j != c:
                pj = buf[k, j, piv]
                Bj = buf[k, j]
                out = buf[k + 1, jj]
                for i in range(first, total):
                    out[i] = reduce(pc * Bj[i] - Bc[i] * pj, p, pinv)
                jj += 1
        if k + 1 == d - 2:
            if not pairs_independent(buf, k + 1, starts[d - 2], starts[d - 1], starts[d], p, pinv, picks):
                for j in range(k + 1):
                    picks[j] = choice[j]
                return False
            choice[k] += 1
            continue
        k += 1
        choice[k] = starts[k]


@numba.njit(cache=True, nogil=True)
def reduce_complement(Mp, N, s, p):  # pragma: no cover - compiled
    # N (n x d, residues mod p < 2**26) spans the complement of a flat's basis rows modulo p.
    # With c = Mp[s] N and k its first non-zero entry: N - N[:, k] c / c[k], column k dropped
    # (n x (d - 1)), spanning the complement with row s added.  (0 x 0) when c is zero.
    n, d = N.shape
    pinv = 1.0 / p
    c = np.zeros(d, dtype=np.int64)
    for j in range(d):
        acc = np.int64(0)
        for t in range(n):
            acc = reduce(acc + Mp[s, t] * N[t, j], p, pinv)
        c[j] = acc
    k = -1
    for j in range(d):
        if c[j] != 0:
            k = j
            break
    if k < 0:
        return np.zeros((0, 0), dtype=np.int64)
    inv, base, e = np.int64(1), c[k], p - 2  # c[k]^(p-2) = 1 / c[k] mod p
    while e:
        if e & 1:
            inv = reduce(inv * base, p, pinv)
        base = reduce(base * base, p, pinv)
        e >>= 1
    out = np.empty((n, d - 1), dtype=np.int64)
    for j in range(d):
        if j == k:
            continue
        f = reduce(c[j] * inv, p, pinv)
        jj = j if j < k else j - 1
        for t in range(n):
            out[t, jj] = reduce(N[t, j] - reduce(N[t, k] * f, p, pinv), p, pinv)
    return out


@numba.njit(cache=True, nogil=True)
def zero_residues(Mp, N, p):  # pragma: no cover - compiled
    # rows i with Mp[i] N = 0 mod p (residues < 2**26, fewer than 2**10 columns of Mp)
    m, n = Mp.shape
    d = N.shape[1]
    pinv = 1.0 / p
    out = np.zeros(m, dtype=np.bool_)
    for i in range(m):
        zero = True
        for j in range(d):
            acc = np.int64(0)
            for t in range(n):
                acc += Mp[i, t] * N[t, j]
            if reduce(acc, p, pinv) != 0:
                zero = False
                break
        out[i] = zero
    return out
