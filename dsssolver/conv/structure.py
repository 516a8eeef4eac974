"""Certifying [C; -s^2 C] convolution layers at DCGAN scale, through their structure.

The argument (seed Corollary 2, for convolutions)
------------------------------------------------
Let the output channels of a layer contain exact pairs ``c_j = -lam c_i``,
``lam > 0``, ``lam b_i + b_j >= 0`` (:mod:`.pairs`).  At every output position
the two rows are antiparallel, and at every input one of them is active.  So if
the rows of one channel per pair -- the operator ``A`` of the "C part" -- span
``R^n`` (full column rank), the active rows span ``R^n`` at every input and the
layer is injective (seed Theorem 1 with biases, MATH.md section 1).  Other
channels only add rows and never hurt (MATH.md section 7b, monotonicity).
This is a sufficient condition; for ``m = 2n`` (the seed's DCGAN layers) it is
also necessary (seed Corollary 2).

The rank of ``A`` is decided exactly modulo a prime (:mod:`.modp`): full column
rank mod p proves full column rank over Q.  Three ways, chosen by the layer:

* ``"dense"``: the whole of ``A`` for ``n <= dense_limit``;
* ``"frequency"``: a periodic stride-1 :class:`ConvLayer`.  Over ``F_p`` with
  ``N_1, N_2 | p - 1`` the discrete Fourier transform block-diagonalises ``A``
  into ``N_1 N_2`` blocks ``hat C(w) = sum_t C_t w^t`` (``c_out x c_in``), one per
  pair of roots of unity; ``A`` has full column rank mod p iff every block has;
* ``"transfer"``: a zero-padded ``ConvTranspose2d`` with kernel ``2 s``, stride
  ``s``, padding ``s / 2`` (the DCGAN upsampling layer).  Output rows group into
  strips: ``T`` sees input row 0 only, ``Q_u = [M N]`` sees input rows ``u, u + 1``,
  ``B`` sees row ``H - 1`` only; ``M, N`` are the same for every ``u``.  If ``N`` is
  invertible mod p, a null vector satisfies ``x_(u+1) = Phi x_u`` with
  ``Phi = -N^-1 M``, so ``A`` has full column rank iff ``[T; B Phi^(H-1)]`` has
  (``c_in W`` columns: a few dense products instead of one huge matrix).

For layers up to ``n <= certificate_limit`` the argument is also written as a
proof the independent checker accepts: a minor of ``n`` rows of ``A`` (the pivots
of the elimination, nonsingular) and, for each, the dependency ``(lam, 1)`` of
its pair; a flat of rank < n meeting every pair holds the minor's n independent
rows, so there is none.  The checker recognises this shape and verifies it with
one modular determinant (``verify/pairs.py``).  At any size, ``independent_check=True``
has ``verify/conv.py`` re-derive the argument for a ``ConvTranspose2d`` from its kernel
(exact pairs; the C part's rank modulo a random prime by its own block recursion):
the DCGAN layers with up to 32768 inputs are checked that way.

Examples
--------
>>> import numpy as np
>>> C = np.array([[[1.0, 2.0]], [[0.0, 1.0]]])
>>> layer = ConvLayer(np.concatenate([C, -0.5 * C]), input_shape=(1, 3), padding=1)
>>> res = certify_conv_pairs(layer, certificate_limit=10)
>>> res.status, res.method, res.stats["pairs"], res.stats["rank_method"]
('injective', 'pairs', 2, 'dense')
>>> res.full.checked
True
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..layers import conv2d, conv_transpose2d
from .layer import ConvLayer, from_torch_conv
from .modp import PRIMES, eliminate, full_column_rank, prime_with_roots, residues, root_of_unity
from .modp import _mod
from .pairs import find_pairs
from .result import ConvCertifyResult

__all__ = ["StridedConv", "certify_conv_pairs", "as_conv"]


@dataclass(frozen=True, eq=False)
class StridedConv:
    """A torch-style ``Conv2d`` or ``ConvTranspose2d`` (zero padding, any stride).

    Parameters
    ----------
    weight : ndarray
        torch's layout: ``(c_out, c_in, kh, kw)``, or ``(c_in, c_out, kh, kw)`` when
        ``transposed``.
    bias : ndarray or None
    input_shape : tuple ``(c_in, h, w)``
    stride, padding, output_padding : int
    transposed : bool
    """

    weight: np.ndarray
    bias: np.ndarray | None
    input_shape: tuple
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    transposed: bool = False

    def __post_init__(self):
        W = np.asarray(self.weight, dtype=np.float64)
        if W.ndim != 4 or not np.all(np.isfinite(W)):
            raise InvalidInputError(f"weight must be a finite 4-D array, got shape {W.shape}")
        c_out = W.shape[1] if self.transposed else W.shape[0]
        b = np.zeros(c_out) if self.bias is None else np.asarray(self.bias, dtype=np.float64)
        if b.shape != (c_out,) or not np.all(np.isfinite(b)):
            raise InvalidInputError(f"bias must be {c_out} finite numbers, got shape {b.shape}")
        object.__setattr__(self, "weight", W)
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))

    def matrix(self):
        """``(W, b)``: the sparse operator and bias (:mod:`dsssolver.layers`)."""
        if self.transposed:
            return conv_transpose2d(self.weight, self.bias, self.input_shape, self.stride,
                                    self.padding, self.output_padding)
        return conv2d(self.weight, self.bias, self.input_shape, self.stride, self.padding)

    @property
    def output_shape(self):
        c, h, w = self.input_shape
        kh, kw = self.weight.shape[2:]
        s, p, q = self.stride, self.padding, self.output_padding
        if self.transposed:
            return (self.weight.shape[1], (h - 1) * s - 2 * p + kh + q, (w - 1) * s - 2 * p + kw + q)
        return (self.weight.shape[0], (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1)

    def filters(self):
        """One flattened filter per output channel."""
        W = self.weight.transpose(1, 0, 2, 3) if self.transposed else self.weight
        return W.reshape(W.shape[0], -1)

    def channels(self, idx):
        """The layer restricted to output channels ``idx``."""
        W = self.weight[:, idx] if self.transposed else self.weight[idx]
        return StridedConv(W, self.bias[idx], self.input_shape, self.stride, self.padding,
                           self.output_padding, self.transposed)


def as_conv(layer, input_shape=None):
    """A :class:`ConvLayer` or :class:`StridedConv` from one of those or a torch module.

    torch ``nn.Conv1d`` / ``nn.Conv2d`` (stride 1) become a :class:`ConvLayer`;
    ``nn.Conv2d`` with a stride and ``nn.ConvTranspose2d`` a :class:`StridedConv`.
    A torch module needs ``input_shape``.
    """
    if isinstance(layer, (ConvLayer, StridedConv)):
        return layer
    name = type(layer).__name__
    if name not in ("Conv1d", "Conv2d", "ConvTranspose2d"):
        raise InvalidInputError(f"layer must be a ConvLayer, StridedConv or torch Conv1d/Conv2d/"
                                f"ConvTranspose2d, got {name}")
    if input_shape is None:
        raise InvalidInputError(f"input_shape is needed to read a torch {name}")
    if name != "ConvTranspose2d" and all(s == 1 for s in layer.stride):
        return from_torch_conv(layer, input_shape)
    if len(set(layer.stride)) > 1 or len(set(layer.padding)) > 1 or layer.groups != 1 \
            or any(d != 1 for d in layer.dilation) or layer.padding_mode != "zeros":
        raise InvalidInputError(f"{name}: only square stride/padding, zero padding, no groups or "
                                "dilation")
    to_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731  (float32 -> exact float64)
    opad = layer.output_padding[0] if name == "ConvTranspose2d" else 0
    return StridedConv(to_np(layer.weight), None if layer.bias is None else to_np(layer.bias),
                       input_shape, layer.stride[0], layer.padding[0], opad,
                       name == "ConvTranspose2d")


def certify_conv_pairs(layer: Any, *, input_shape: tuple[int, ...] | None = None,
                       method: str = "auto", dense_limit: int = 2048, certificate_limit: int = 0,
                       primes: tuple[int, ...] = PRIMES,
                       independent_check: bool = False, bias: Any = None) -> ConvCertifyResult:
    """Certify a convolution with [C; -s^2 C] filters: exact pairs plus an exact rank.

    Parameters
    ----------
    layer : ConvLayer, StridedConv or torch Conv1d / Conv2d / ConvTranspose2d
        The layer ``x -> ReLU(conv(x) + b)``.
    input_shape : tuple, optional
        ``(c_in, h, w)`` (or ``(c_in, N)``), needed for a torch module.
    method : {"auto", "dense", "frequency", "transfer"}
        How the rank of the C part is decided (module docstring).  "auto":
        frequency for periodic layers, dense up to ``dense_limit`` columns, then
        transfer where it applies.
    dense_limit : int
        Largest ``n`` for the dense rank.
    certificate_limit : int
        Up to this ``n``, also build the proof in the checker's format for the full
        operator and have :func:`dsssolver.check` accept it (``result.full``).
    primes : sequence of int
        Primes tried in turn (below 2^20); a prime may fail to show a true full
        rank, never the converse.
    independent_check : bool
        For a ``ConvTranspose2d``: have :func:`dsssolver.verify.conv.check_conv_pairs`
        re-verify the pairs and the rank of the C part with its own index code and
        arithmetic (a random prime, FLINT), at any size; its verdict is in
        ``result.stats["checker"]`` and a rejection makes the answer "unknown".
    bias : sequence, optional
        Exact per-channel biases (``Fraction``, ``int`` or float) used instead of the
        layer's float ones, e.g. with a BatchNorm folded in
        (:func:`~dsssolver.conv.dcgan.certify_network_pairs` does that).

    Returns
    -------
    ConvCertifyResult
        "injective" (``method="pairs"``) when the pairs and the rank are shown;
        otherwise "unknown" with the reason.  Never "not_injective": the
        argument is only sufficient.
    """
    t0 = time.perf_counter()
    if method != "auto" and method not in _RANK:
        raise InvalidInputError(f"method must be 'auto' or one of {sorted(_RANK)}, got {method!r}")
    layer = as_conv(layer, input_shape)
    filters = layer.kernel.reshape(layer.kernel.shape[0], -1) if isinstance(layer, ConvLayer) \
        else layer.filters()
    bias = exact_bias(layer.bias if bias is None else bias, len(filters))
    found = find_pairs(filters, bias)
    n = int(np.prod(layer.input_shape))
    stats = {"pairs": len(found.pairs), "channels": len(filters), "n": n,
             "near_pairs": len(found.near), "bias_blocked_pairs": len(found.bias_blocked)}
    blocked = (f"; {len(found.bias_blocked)} channel pair(s) exactly antiparallel but their biases "
               "break lam b_i + b_j >= 0 (both rows can be inactive at once)") \
        if found.bias_blocked else ""

    def unknown(why):
        stats["seconds"] = time.perf_counter() - t0
        return ConvCertifyResult("unknown", why, "none", stats=stats)

    if not found.pairs:
        near = (f"; {len(found.near)} channel pairs are antiparallel only up to rounding (a float "
                "-s^2 C with s^2 not a power of two is generally not exactly antiparallel, "
                "MATH.md 7b)") if found.near else ""
        return unknown("no exactly antiparallel channel pairs with lam b_i + b_j >= 0" + blocked
                       + near)
    reps = [i for i, _, _ in found.pairs]
    C = _channels(layer, reps)
    how = _choose(C, method, dense_limit)
    if how is None:
        return unknown(f"no rank method applies to this layer (n = {n} > dense_limit = {dense_limit},"
                       " not periodic, not a kernel-2s stride-s transposed convolution)")
    stats["rank_method"] = how
    for p in primes:
        used = _RANK[how](C, p)
        if used:
            stats["prime"] = used
            break
    else:
        return unknown(f"the C part ({len(reps)} channels) was not shown to have full column rank "
                       f"{n} modulo {list(primes)} ({how}); it may be singular" + blocked)
    note = f" ({len(found.unpaired)} channels unpaired, not needed)" if found.unpaired else ""
    res = ConvCertifyResult(
        "injective",
        f"{len(found.pairs)} exactly antiparallel channel pairs (c_j = -lam c_i, lam > 0, "
        f"lam b_i + b_j >= 0){note}; the C part has full column rank {n} modulo p = {stats['prime']} "
        f"({how}), hence over Q; so at every input one row of each pair is active and the active "
        "rows span R^n.", "pairs", stats=stats)
    if n <= certificate_limit:
        res.full = _checked_proof(layer, C, found, stats["prime"], bias)
        if res.full is None:  # cannot happen if the argument is right; say so rather than hide it
            return unknown("the pair proof was rejected by the exact checker")
    if independent_check:
        stats["checker"] = _independent_check(layer, found, bias)
        if stats["checker"]["ok"] is False:
            return unknown("the independent checker rejected the pair argument: "
                           + stats["checker"]["message"])
    stats["seconds"] = time.perf_counter() - t0
    return res


def exact_bias(bias, channels):
    """``bias`` as a list of ``channels`` Fractions (floats read as the rationals they store).

    >>> exact_bias([Fraction(1, 3), 2, 0.5], 3)
    [Fraction(1, 3), Fraction(2, 1), Fraction(1, 2)]
    """
    if isinstance(bias, (str, bytes)) or not hasattr(bias, "__len__") or len(bias) != channels:
        raise InvalidInputError(f"bias must be {channels} numbers, one per output channel")
    out = []
    for c, v in enumerate(bias):
        if isinstance(v, Fraction):
            out.append(v)
        elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            out.append(Fraction(int(v)))
        elif isinstance(v, (float, np.floating)) and np.isfinite(v):
            out.append(Fraction(float(v)))
        else:
            raise InvalidInputError(f"bias[{c}] must be a finite number, got {v!r}")
    return out


def _independent_check(layer, found, bias):
    """The pair argument re-verified by ``verify/conv.py`` (transposed convolutions only)."""
    from ..verify.conv import check_conv_pairs

    if not (isinstance(layer, StridedConv) and layer.transposed and layer.output_padding == 0):
        return {"ok": None, "message": "the independent checker takes ConvTranspose2d layers "
                "(no output padding) only", "seconds": 0.0}
    claim = {"pairs": [[i, j, f"{lam.numerator}/{lam.denominator}"] for i, j, lam in found.pairs]}
    out = check_conv_pairs(layer.weight, bias, layer.input_shape, layer.stride,
                           layer.padding, claim)
    return {"ok": bool(out.ok), "message": out.message, "seconds": out.stats["seconds"],
            "rank_method": out.stats.get("rank_method"), "prime": out.stats.get("prime")}


def _channels(layer, idx):
    if isinstance(layer, ConvLayer):
        return ConvLayer(layer.kernel[idx], layer.bias[idx], layer.input_shape, layer.padding,
                         layer.boundary)
    return layer.channels(idx)


def _choose(C, method, dense_limit):
    n = int(np.prod(C.input_shape))
    if method != "auto":
        if method == "frequency" and not (isinstance(C, ConvLayer) and C.boundary == "periodic"):
            raise InvalidInputError("method 'frequency' needs a periodic ConvLayer")
        if method == "transfer" and not _transfer_applies(C):
            raise InvalidInputError("method 'transfer' needs a ConvTranspose2d with kernel 2s, "
                                    "stride s, padding s/2")
        return method
    if isinstance(C, ConvLayer) and C.boundary == "periodic":
        return "frequency"
    if n <= dense_limit:
        return "dense"
    return "transfer" if _transfer_applies(C) else None


def _kernel(C):
    return C.kernel if isinstance(C, ConvLayer) else C.weight


# each rank method returns the prime it used when it shows full column rank, else 0

def _residue_operator(C, p, shape=None):
    """The dense operator of ``C`` (input ``shape``) with its kernel reduced mod p.

    Every entry of a zero-padded or periodic (kernel no wider than the signal)
    operator is one kernel entry, so this is the residue of the operator times one
    power of two.
    """
    K = residues(_kernel(C), p)
    if isinstance(C, ConvLayer):
        return ConvLayer(K, None, C.input_shape, C.padding, C.boundary).matrix()[0].toarray()
    R = StridedConv(K, None, shape or C.input_shape, C.stride, C.padding, C.output_padding,
                    C.transposed)
    return _dense_blocks(R)


def _dense_blocks(R):
    """The dense matrix of a :class:`StridedConv`, one channel block per (pixel, tap).

    The same matrix as ``R.matrix()`` (the tests compare them), built without the
    sparse matrix's per-entry index arrays, which dominate at DCGAN sizes.
    """
    (c_out, Ho, Wo), (c_in, H, W) = R.output_shape, R.input_shape
    s, p, K = R.stride, R.padding, R.weight
    A = np.zeros((c_out * Ho * Wo, c_in * H * W))
    co, ci = np.arange(c_out) * Ho * Wo, np.arange(c_in) * H * W
    kh, kw = K.shape[2:]
    small = (H, W) if R.transposed else (Ho, Wo)  # the side whose pixels a tap starts from
    for u, v, ty, tx in np.ndindex(small[0], small[1], kh, kw):
        a, b = s * u - p + ty, s * v - p + tx  # the pixel on the other side
        if R.transposed and 0 <= a < Ho and 0 <= b < Wo:
            A[np.ix_(co + a * Wo + b, ci + u * W + v)] = K[:, :, ty, tx].T
        elif not R.transposed and 0 <= a < H and 0 <= b < W:
            A[np.ix_(co + u * Wo + v, ci + a * W + b)] = K[:, :, ty, tx]
    return A


def _rank_dense(C, p):
    return p if full_column_rank(_residue_operator(C, p), p) else 0


def _rank_frequency(C, p):
    """Per-frequency ranks of a periodic stride-1 layer over F_p (module docstring)."""
    K = C.kernel if C.dims == 2 else C.kernel[:, :, None, :]
    N = C.input_shape[1:] if C.dims == 2 else (1,) + C.input_shape[1:]
    order = int(np.lcm(*N))
    if (p - 1) % order:  # the roots of unity must live in F_p: the k-th such prime for the k-th p
        p = prime_with_roots(order, skip=PRIMES.index(p) if p in PRIMES else 0)
    w = [root_of_unity(nn, p) if nn > 1 else 1 for nn in N]
    R = residues(K, p)  # (c_out, c_in, kh, kw)
    if R.shape[0] < R.shape[1]:
        return 0
    blocks = np.zeros((N[0], N[1]) + R.shape[:2])
    for t1 in range(K.shape[2]):
        z1 = np.array([pow(w[0], f * t1, p) for f in range(N[0])], dtype=np.float64)
        for t2 in range(K.shape[3]):
            z2 = np.array([pow(w[1], f * t2, p) for f in range(N[1])], dtype=np.float64)
            z = _mod(np.outer(z1, z2), p)[:, :, None, None]
            blocks = _mod(blocks + _mod(z * R[None, None, :, :, t1, t2], p), p)
    return p if all(full_column_rank(B, p) for B in blocks.reshape((-1,) + R.shape[:2])) else 0


def _transfer_applies(C):
    if not isinstance(C, StridedConv) or not C.transposed:
        return False
    s, (kh, kw) = C.stride, C.weight.shape[2:]
    return s >= 2 and s % 2 == 0 and kh == kw == 2 * s and C.padding == s // 2 \
        and C.output_padding == 0 and C.input_shape[1] >= 2


def _rank_transfer(C, p):
    """The strip recursion of the module docstring, for ConvTranspose2d(2s, s, s/2)."""
    c_in, H, Wd = C.input_shape
    s, pad = C.stride, C.padding
    A2 = _residue_operator(C, p, (c_in, 2, Wd))  # input rows u, u + 1
    c_out, Ho, Wo = C.weight.shape[1], 2 * s, s * Wd  # o + pad in [s/2, 5s/2)
    rows = np.arange(c_out * Ho * Wo).reshape(c_out, Ho, Wo)
    o = np.arange(Ho) + pad
    T = A2[rows[:, o < s].ravel()].reshape(-1, c_in, 2, Wd)[:, :, 0].reshape(-1, c_in * Wd)
    B = A2[rows[:, o >= 2 * s].ravel()].reshape(-1, c_in, 2, Wd)[:, :, 1].reshape(-1, c_in * Wd)
    Q = A2[rows[:, (o >= s) & (o < 2 * s)].ravel()].reshape(-1, c_in, 2, Wd)
    M, N = Q[:, :, 0].reshape(-1, c_in * Wd), Q[:, :, 1].reshape(-1, c_in * Wd)
    k = c_in * Wd
    if N.shape[0] != k:  # the strip blocks are square only when s^2 c_out = c_in
        return p if _strips(T, M, N, B, H, p) else 0
    F = np.zeros((2 * k, 2 * k))
    F[:k, :k], F[:k, k:], F[k:, :k] = N, M, np.eye(k)
    if not eliminate(F, k, p, pivot_rows=k):  # N singular mod p: plain elimination by strips
        return p if _strips(T, M, N, B, H, p) else 0
    Phi = F[k:, k:]  # the Schur complement 0 - I N^-1 M
    G, e = B, H - 1
    while e:
        if e & 1:
            G = _mod(G @ Phi, p)
        e >>= 1
        if e:
            Phi = _mod(Phi @ Phi, p)
    return p if full_column_rank(np.vstack([T, G]), p) else 0


def _strips(T, M, N, B, H, p):
    """Gaussian elimination by strips, column block x_0, x_1, ... (any strip shapes)."""
    k = M.shape[1]
    R = T
    for _ in range(H - 1):
        F = np.zeros((R.shape[0] + M.shape[0], 2 * k))
        F[:R.shape[0], :k], F[R.shape[0]:, :k], F[R.shape[0]:, k:] = R, M, N
        if not eliminate(F, k, p):
            return False
        R = F[k:, k:]
    return full_column_rank(np.vstack([R, B]), p)


_RANK = {"dense": _rank_dense, "frequency": _rank_frequency, "transfer": _rank_transfer}


def _checked_proof(layer, C, found, p, bias):
    """The pair argument as checker evidence for the full operator.

    The minor is the pivot rows of an elimination of the C part modulo p (one
    row per pivot, nonsingular mod p); each minor row brings its pair as a
    dependency ``(lam, 1)``.  That is the shape :func:`dsssolver.check` verifies
    without a search (``verify/pairs.py``): a flat meeting every pair holds the
    minor's rows.
    """
    from ..verify import CertifyResult, Dependency, Proof, check

    Wd = layer.matrix()[0].toarray()
    per = Wd.shape[0] // len(bias)  # output positions per channel (torch's channel-major order)
    b = np.repeat(np.array(bias, dtype=object), per)
    A = _residue_operator(C, p)
    perm = np.arange(A.shape[0])
    if not eliminate(A, A.shape[1], p, perm=perm):
        return None
    minor, deps = [], []
    for r in perm[:A.shape[1]]:
        i, j, lam = found.pairs[r // per]
        q = r % per
        minor.append(int(i * per + q))
        deps.append(Dependency((int(i * per + q), int(j * per + q)), (lam, Fraction(1))))
    res = CertifyResult("injective", "antiparallel channel pairs and a nonsingular minor of the "
                        "C part", Wd.shape, proof=Proof(minor, deps))
    res.checked = bool(check(res, Wd, b))
    return res if res.checked else None
