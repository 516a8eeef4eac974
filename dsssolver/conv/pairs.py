"""Exactly antiparallel output channels: the [C; -s^2 C] filters of the seed's Section 4.

Two output channels ``i, j`` of a convolution form a **pair** when their filters
satisfy ``c_j = -lam c_i`` exactly for a rational ``lam > 0`` and their biases
satisfy ``lam b_i + b_j >= 0``.  Then at every output position the two rows are
antiparallel with the same ``lam`` (zero padding cuts both filters the same way),
and at every input one of them is active: ``w_i.x + b_i < 0`` and
``-lam w_i.x + b_j < 0`` would add up to ``lam b_i + b_j < 0``.

Channels are compared exactly: each float entry is an odd integer times a power
of two; the odd parts divided by their gcd (signed by the first entry) and the
exponents relative to the first entry make a canonical key, and two filters are
antiparallel iff their keys agree with opposite signs.  Float filters built as
``-s^2 C`` with a non-dyadic ``s^2`` are generally *not* exactly antiparallel
(MATH.md section 7b); they are reported as near pairs.

Examples
--------
>>> import numpy as np
>>> F = np.array([[1.0, 2.0], [-0.5, -1.0], [3.0, 0.0], [-3.0, 0.001]])
>>> found = find_pairs(F, np.zeros(4))
>>> found.pairs, found.unpaired, found.near
([(0, 1, Fraction(1, 2))], [2, 3], [(2, 3)])
>>> find_pairs(F, np.array([-1.0, 0.0, 0.0, 0.0])).bias_blocked  # 0.5 * (-1) + 0 < 0
[(0, 1)]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
import numpy as np

__all__ = ["ChannelPairs", "find_pairs"]


@dataclass
class ChannelPairs:
    """Output channels matched into exactly antiparallel pairs.

    Attributes
    ----------
    pairs : list of (i, j, lam)
        ``filter_j = -lam filter_i`` exactly, ``lam > 0`` a Fraction, and
        ``lam b_i + b_j >= 0``.  Each channel is in at most one pair.
    unpaired : list of int
        Channels in no pair.
    near : list of (i, j)
        Unpaired channels whose filters are antiparallel up to a relative 1e-6
        but not exactly (a rounded ``-s^2 C``).
    bias_blocked : list of (i, j)
        Unpaired channels whose filters are exactly antiparallel but whose biases
        break ``lam b_i + b_j >= 0`` (both rows can be inactive at once).
    """

    pairs: list = field(default_factory=list)
    unpaired: list = field(default_factory=list)
    near: list = field(default_factory=list)
    bias_blocked: list = field(default_factory=list)


def find_pairs(filters, bias):
    """Match the rows of ``filters`` (one flattened filter per output channel) into pairs.

    Parameters
    ----------
    filters : ndarray, shape (c_out, k)
    bias : array_like, shape (c_out,)
        Floats (read as the rationals they store) or exact rationals (``Fraction``,
        ``int``), e.g. biases with a BatchNorm folded in.

    Returns
    -------
    ChannelPairs
    """
    F = np.asarray(filters, dtype=np.float64)
    b = [v if isinstance(v, (Fraction, int)) else Fraction(float(v)) for v in bias]
    groups = {}
    for ch, row in enumerate(F):
        key = _canonical(row)
        if key is not None:
            groups.setdefault(key[0], ([], []))[key[1] < 0].append(ch)
    out = ChannelPairs()
    used = set()
    for pos, neg in groups.values():
        free = list(neg)
        lonely = []
        for i in pos:
            k = int(np.flatnonzero(F[i])[0])
            for j in free:
                lam = -Fraction(float(F[j, k])) / Fraction(float(F[i, k]))
                if lam * b[i] + b[j] >= 0:
                    out.pairs.append((i, j, lam))
                    used.update((i, j))
                    free.remove(j)
                    break
            else:
                lonely.append(i)
        out.bias_blocked += list(zip(lonely, free))  # exactly antiparallel; the biases forbid it
    out.unpaired = [ch for ch in range(len(F)) if ch not in used]
    blocked = {c for pair in out.bias_blocked for c in pair}
    out.near = _near_pairs(F, [ch for ch in out.unpaired if ch not in blocked])
    return out


def _canonical(row):
    """``(key, sign)`` such that two rows are parallel iff their keys agree (exactly).

    Each entry is ``M 2^e`` with an odd integer M.  ``v = c u`` for a rational c iff the
    zero patterns agree, the odd parts agree up to one common factor (equal after
    dividing by their gcd and fixing the sign of the first) and ``e_i - e_first``
    agree: odd and power-of-two parts of a product separate.
    """
    nz = np.flatnonzero(row)
    if nz.size == 0:
        return None
    mant, ex = np.frexp(row[nz])
    M = (mant * 2.0 ** 53).astype(np.int64)
    e = ex.astype(np.int64)
    tz = np.zeros_like(M)
    while True:  # make every mantissa odd (at most 53 rounds)
        even = (M & 1) == 0
        if not even.any():
            break
        M[even] >>= 1
        tz[even] += 1
    e = e + tz
    M = M // int(np.gcd.reduce(np.abs(M)))
    sign = 1 if M[0] > 0 else -1
    return (nz.tobytes() + (M * sign).tobytes() + (e - e[0]).tobytes(), sign)


def _near_pairs(F, chans, rtol=1e-6):
    if len(chans) < 2:
        return []
    G = F[chans]
    norms = np.linalg.norm(G, axis=1)
    ok = norms > 0
    U = np.where(ok[:, None], G / np.where(ok, norms, 1)[:, None], 0)
    cos = U @ U.T
    near, taken = [], set()
    for a, b in zip(*np.nonzero(np.triu(cos < -1 + rtol, 1))):
        if a not in taken and b not in taken:
            near.append((chans[a], chans[b]))
            taken.update((a, b))
    return near
