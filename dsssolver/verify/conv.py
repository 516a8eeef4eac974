"""Independent check of the [C; -s^2 C] argument for a zero-padded ``ConvTranspose2d``.

The claim (Puthawala et al. 2022, Section 4 and Corollary 2, for convolutions): the
layer ``x -> ReLU(conv_transpose(x) + b)`` is injective because

1. its output channels contain **pairs** ``(i, j, lam)``: filter ``j`` equals ``-lam``
   times filter ``i`` exactly, ``lam > 0``, and ``lam b_i + b_j >= 0``.  Every entry of a
   zero-padded transposed convolution's matrix is one kernel entry (or 0), and the bias
   is per channel, so at every output position the rows of channels i and j satisfy
   ``w_j = -lam w_i`` and ``lam b_i + b_j >= 0``; then ``w_i.x + b_i < 0`` and
   ``w_j.x + b_j < 0`` cannot both hold (adding lam times the first to the second gives
   ``lam b_i + b_j < 0``), so at every input one row of each pair is active;
2. the **C part** -- the operator of channels i, one per pair -- has full column rank.

Then the active rows at every input contain a non-zero multiple of every row of the C
part, hence span R^n: injective (seed Theorem 1 with biases; other channels only add
rows).  This module re-checks 1 exactly (each float read as the dyadic rational it
stores) and 2 modulo a prime it draws at random (full column rank modulo p implies full
column rank over Q, since a non-zero minor modulo p is non-zero).  It shares nothing
with the search: its own index code for the operator, its own reduction of floats
modulo p, FLINT's ``nmod_mat`` for the linear algebra.

**The rank at DCGAN scale, without the n x n matrix.**  For kernel ``2s``, stride ``s``
and padding ``p < s``, write ``x_u`` for input row u (all channels and columns).
Output row ``a`` with ``a + p = q s + r`` (``0 <= r < s``) sees ``x_q`` through kernel
row ``r`` and ``x_(q-1)`` through kernel row ``r + s``.  With ``H_t`` the matrix of one
input row through kernel row t (a 1-D transposed convolution along the columns), the
C part is block bidiagonal up to the order of rows and columns::

    T = [H_r, r in [p, s)]            rows seeing x_0 only      (q = 0)
    M = [H_(r+s), r in [0, s)],  N = [H_r, r in [0, s)]       (q = u + 1, on x_u, x_(u+1))
    B = [H_(r+s), r in [0, s - p)]    rows seeing x_(H-1) only  (q = H)

and ``A x = 0`` iff ``T x_0 = 0``, ``M x_u + N x_(u+1) = 0`` and ``B x_(H-1) = 0``.
When N is square and invertible (mod p), ``x_(u+1) = Phi x_u`` with ``Phi = -N^-1 M``,
so A has a non-zero null vector iff ``[T; B Phi^(H-1)]`` has (x_0 = 0 forces x = 0):
full column rank of A is the full column rank of one ``(c_in W)``-column matrix.  Smaller
layers (or a singular N) are checked on the dense C part, built by the same blocks.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> C = np.round(rng.normal(size=(8, 2, 4, 4)) * 64) / 64          # (c_in, c, 4, 4)
>>> weight = np.concatenate([C, -0.5 * C], axis=1)                # channels 2, 3 pair 0, 1
>>> claim = {"pairs": [[0, 2, "1/2"], [1, 3, "1/2"]]}
>>> res = check_conv_pairs(weight, None, (8, 4, 4), 2, 1, claim)
>>> res.ok, res.stats["rank_method"]
(True, 'transfer')
>>> bool(check_conv_pairs(weight, None, (8, 4, 4), 2, 1, {"pairs": [[0, 2, "1/4"], [1, 3, "1/2"]]}))
False
"""
from __future__ import annotations

import time
from fractions import Fraction

import flint
import numpy as np

from ..errors import EvidenceError
from ._arith import parse_rational, random_prime
from .check import CheckResult
from .pairs import primitive_rows

__all__ = ["check_conv_pairs", "transposed_blocks", "dense_c_part", "DENSE_LIMIT"]

#: largest n checked on the dense C part when the block recursion does not apply
DENSE_LIMIT = 4096


def check_conv_pairs(weight, bias, input_shape, stride, padding, claim, *, primes=3):
    """Check the pair argument for ``ReLU(ConvTranspose2d(x) + b)``, independently.

    Parameters
    ----------
    weight : array_like, shape (c_in, c_out, kh, kw)
        torch's ``ConvTranspose2d`` layout; floats are read exactly.
    bias : sequence of c_out numbers, or None
        Floats (read exactly), ints, Fractions or ``"p/q"`` strings: exact biases, e.g.
        with a BatchNorm folded in.
    input_shape : tuple ``(c_in, H, W)``
    stride, padding : int
        Zero padding, no output padding.
    claim : dict
        ``{"pairs": [[i, j, lam], ...]}`` with ``lam`` a rational (``"p/q"`` text, int or
        Fraction): filter j = -lam filter i.
    primes : int
        Random primes tried for the rank (a prime dividing a non-zero minor can hide a true
        full rank, with probability about 1e-8; never the converse).

    Returns
    -------
    CheckResult
        ``ok`` True only if both parts of the argument hold; ``stats``: ``seconds``,
        ``rank_method`` ("transfer" or "dense"), ``prime``, ``pairs``, ``n``.
    """
    t0 = time.perf_counter()
    K = np.asarray(weight, dtype=np.float64)
    if K.ndim != 4 or not np.all(np.isfinite(K)):
        return CheckResult(False, f"weight must be a finite 4-D array, got shape {K.shape}")
    c_in, c_out, kh, kw = K.shape
    b = _exact_bias(bias, c_out)
    stats = {"n": int(np.prod(input_shape)), "pairs": 0}

    def done(ok, message):
        stats["seconds"] = time.perf_counter() - t0
        return CheckResult(ok, message, stats)

    if tuple(input_shape)[:1] != (c_in,) or len(input_shape) != 3 or b is None \
            or stride < 1 or not 0 <= padding < min(kh, kw):
        return done(False, "the layer's shapes, bias, stride or padding are not consistent")
    reps, why = _check_pairs(K, b, claim)
    if reps is None:
        return done(False, why)
    stats["pairs"] = len(reps)
    C = K[:, reps]
    method = "transfer" if _transfer_applies(C.shape, input_shape, stride, padding) else "dense"
    if method == "dense" and stats["n"] > DENSE_LIMIT:
        return done(False, f"the C part's rank is not checkable here (n = {stats['n']} > "
                           f"{DENSE_LIMIT}, and not kernel 2s, stride s, padding < s)")
    stats["rank_method"] = method
    for _ in range(primes):
        q = random_prime(31)
        full = _rank_transfer(C, input_shape, stride, padding, q) if method == "transfer" \
            else _rank_dense(C, input_shape, stride, padding, q)
        if full:
            stats["prime"] = q
            return done(True, f"{len(reps)} channel pairs with filter_j = -lam filter_i and "
                              f"lam b_i + b_j >= 0 (exact); the C part has full column rank "
                              f"{stats['n']} modulo the prime {q} ({method})")
    return done(False, f"the C part was not shown to have full column rank modulo {primes} "
                       f"random primes ({method}): the claim is not established")


def _exact_bias(bias, c_out):
    """The ``c_out`` biases as Fractions, or None if they are not that."""
    if bias is None:
        return [Fraction(0)] * c_out
    if isinstance(bias, (str, bytes)) or not hasattr(bias, "__len__") or len(bias) != c_out:
        return None
    out = []
    for v in bias:
        if isinstance(v, Fraction):
            out.append(v)
            continue
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        try:
            out.append(parse_rational(v, "bias"))
        except EvidenceError:
            return None
    return out


def _check_pairs(K, b, claim):
    """``(representative channels, "")`` if every claimed pair holds exactly, else ``(None, why)``."""
    try:
        raw = list(claim["pairs"])
        pairs = [(int(i), int(j), lam if isinstance(lam, Fraction) else
                  parse_rational(str(lam), "lam")) for i, j, lam in raw]
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"malformed claim: {exc}"
    c_out = K.shape[1]
    used = [c for i, j, _ in pairs for c in (i, j)]
    if not pairs or len(set(used)) != len(used) or not all(0 <= c < c_out for c in used):
        return None, "pairs must use distinct channels in range, each at most once"
    F = K.transpose(1, 0, 2, 3).reshape(c_out, -1)  # one filter per output channel
    if any(lam <= 0 for _, _, lam in pairs):
        return None, "every lam must be positive"
    slow = [k for k, (i, j, lam) in enumerate(pairs) if not _scaled_exactly(F[i], F[j], lam)]
    P, t = primitive_rows(F, [c for k in slow for c in pairs[k][:2]]) if slow else (None, None)
    for n_slow, k in enumerate(slow):  # the exact comparison of rational multiples
        i, j, lam = pairs[k]
        Pi, Pj = P[2 * n_slow], P[2 * n_slow + 1]
        if not np.any(Pi != 0) or not np.array_equal(Pi, -Pj) or lam * t[2 * n_slow] != t[2 * n_slow + 1]:
            return None, f"pair {k} (channels {i}, {j}): filter_j is not -lam filter_i"
    for k, (i, j, lam) in enumerate(pairs):
        if lam * b[i] + b[j] < 0:
            return None, f"pair {k} (channels {i}, {j}): lam b_i + b_j < 0"
    return [i for i, _, _ in pairs], ""


def _scaled_exactly(fi, fj, lam):
    """``fj == -lam fi`` shown in float64 where that is exact: lam a power of two, no tiny entries.

    Multiplying by ``2^e`` is exact for floats whose results stay normal (no rounding), so
    equality of the float product is equality of the rationals.  Anything else (lam not a
    power of two, a zero filter, entries near under- or overflow) returns False and goes to
    the exact comparison of primitive integer vectors.
    """
    num, den = lam.numerator, lam.denominator
    if num & (num - 1) or den & (den - 1):
        return False
    e = num.bit_length() - den.bit_length()  # lam = 2^e
    a = np.abs(np.concatenate([fi, fj]))
    nz = a[a > 0]
    if abs(e) > 60 or nz.size == 0 or nz.min() < 2.0 ** -900 or nz.max() > 2.0 ** 900:
        return False
    return bool(np.array_equal(fj, -np.ldexp(fi, e)) and np.any(fi != 0))


def _transfer_applies(shape, input_shape, s, p):
    c_in, c, kh, kw = shape
    return kh == kw == 2 * s and p < s and s * c * ((input_shape[2] + 1) * s - 2 * p) \
        == c_in * input_shape[2]


def _residues(A, q):
    """Exact residues modulo q of a float64 array times one common power of two."""
    mant, ex = np.frexp(A)
    M = (mant * 2.0 ** 53).astype(np.int64)  # A = M * 2^(ex - 53), exactly
    E = ex.astype(np.int64)
    nz = M != 0
    if not nz.any():
        return np.zeros(A.shape, dtype=np.int64)
    E = E - E[nz].min()  # the common factor 2^(min - 53) does not change any rank
    pow2 = np.array([pow(2, int(e), q) for e in range(int(E.max()) + 1)], dtype=np.int64)
    R = (np.abs(M) % q) * pow2[E] % q  # both factors < 2^31: the product fits in int64
    return np.where(M < 0, (q - R) % q, R)


def transposed_blocks(K, W, s, p):
    """The matrices ``H_t`` (module docstring): one input row through kernel row t.

    Parameters
    ----------
    K : ndarray, shape (c_in, c, kh, kw)
    W : int
        Input width; the output width is ``(W - 1) s - 2 p + kw``.
    s, p : int

    Returns
    -------
    list of ndarray, shape (c Wo, c_in W)
        Rows ``(channel, output column)``, columns ``(input channel, input column)``.
    """
    c_in, c, kh, kw = K.shape
    Wo = (W - 1) * s - 2 * p + kw
    out = []
    for t in range(kh):
        H = np.zeros((c, Wo, c_in, W), dtype=K.dtype)
        for v in range(W):
            for tx in range(kw):
                col = s * v - p + tx  # the output column input column v reaches through tap tx
                if 0 <= col < Wo:
                    H[:, col, :, v] = K[:, :, t, tx].T
        out.append(H.reshape(c * Wo, c_in * W))
    return out


def _strips(K, input_shape, s, p):
    """The row strips ``T, M, N, B`` of the C part (module docstring)."""
    Hs = transposed_blocks(K, input_shape[2], s, p)
    T = np.vstack([Hs[r] for r in range(p, s)])  # p < s: never empty
    M = np.vstack([Hs[r + s] for r in range(s)])
    N = np.vstack([Hs[r] for r in range(s)])
    B = np.vstack([Hs[r + s] for r in range(s - p)])
    return T, M, N, B


def _nmod(A, q):
    return flint.nmod_mat(A.tolist(), q)


def _rank_transfer(C, input_shape, s, p, q):
    T, M, N, B = _strips(_residues(C, q), input_shape, s, p)
    k = N.shape[1]
    try:
        Ninv = _nmod(N, q).inv()
    except ZeroDivisionError:  # N singular modulo q: only the dense C part can tell
        return _rank_dense(C, input_shape, s, p, q) if np.prod(input_shape) <= DENSE_LIMIT else False
    Phi = -(Ninv * _nmod(M, q))
    G, e, P = _nmod(B, q), input_shape[1] - 1, Phi
    while e:  # G = B Phi^(H-1) by repeated squaring
        if e & 1:
            G = G * P
        e >>= 1
        if e:
            P = P * P
    stacked = flint.nmod_mat(T.tolist() + [[int(v) for v in row] for row in G.tolist()], q)
    return stacked.rank() == k


def _rank_dense(C, input_shape, s, p, q):
    A = dense_c_part(_residues(C, q), input_shape, s, p)
    return A.shape[0] >= A.shape[1] and _nmod(A, q).rank() == A.shape[1]


def dense_c_part(K, input_shape, s, p):
    """The whole operator of a transposed convolution, rows by output row, columns by input row.

    Built from the same blocks: output row a takes ``H_t`` on input row u where
    ``t = a + p - s u`` is a kernel row.  (Rows and columns are permuted from the usual
    flattening; ranks do not change.)
    """
    c_in, c, kh, kw = K.shape
    _, H, W = input_shape
    Hs = transposed_blocks(K, W, s, p)
    Ho = (H - 1) * s - 2 * p + kh
    rows, cols = Hs[0].shape
    A = np.zeros((Ho * rows, H * cols), dtype=K.dtype)
    for a in range(Ho):
        for u in range(H):
            t = a + p - s * u
            if 0 <= t < kh:
                A[a * rows:(a + 1) * rows, u * cols:(u + 1) * cols] = Hs[t]
    return A
