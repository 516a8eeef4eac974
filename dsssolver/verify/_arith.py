"""The checker's own exact arithmetic: rationals, integer rows, ranks, null spaces, determinants.

Nothing here is shared with the search (:mod:`dsssolver.exact`): a fault in the search's algebra
cannot make the checker accept a wrong proof.  Integer linear algebra is FLINT's
(``python-flint``): ``fmpz_mat`` ranks and null spaces by fraction-free elimination, and
determinants modulo a prime drawn at random for every check (a residue that is not zero proves
the integer determinant is not zero; a zero residue falls back to the exact determinant).

Examples
--------
>>> integer_row([Fraction(1, 2), Fraction(-3, 4)])
([2, -3], Fraction(4, 1))
>>> parse_rational("-6/4", "x")
Fraction(-3, 2)
>>> format_rational(Fraction(-3, 2))
'-3/2'
>>> nonsingular([[1, 2], [2, 4]]), nonsingular([[1, 2], [3, 4]])
(False, True)
"""
from __future__ import annotations

import math
import re
import secrets
from fractions import Fraction
from math import gcd, lcm

import flint
import numpy as np

from ..errors import EvidenceError

__all__ = ["to_fraction", "integer_row", "random_prime", "nonsingular", "nullspace",
           "format_rational", "parse_rational", "HEX_ABOVE_BITS"]

# Integers longer than this are written in hex: decimal conversion of huge integers is quadratic
# and Python refuses it beyond 4300 digits by default (about 14 000 bits).
HEX_ABOVE_BITS = 4096

_RATIONAL = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)(?:/(0[xX][0-9a-fA-F]+|[0-9]+))?\s*\Z")


def to_fraction(v, name="value"):
    """The exact rational value of a number; a float is read as the dyadic rational it stores.

    Raises :class:`ValueError` naming ``name`` for NaN, inf and non-numbers.
    """
    if isinstance(v, Fraction):
        return v
    if isinstance(v, bool) or isinstance(v, np.bool_):
        raise ValueError(f"{name} holds a boolean {v!r}, not a number")
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{name} holds {v!r}, not a finite number")
        return Fraction(f)
    if isinstance(v, flint.fmpq):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, flint.fmpz):
        return Fraction(int(v))
    raise ValueError(f"{name} holds {v!r}, not a number")


def integer_row(row):
    """``(ints, scale)``: the row times a positive rational ``scale``, as coprime integers.

    Positive scaling keeps every sign of ``w . x + b`` and every span, so flats, ranks and
    dependencies can be computed on the integer rows.
    """
    den = 1
    for q in row:
        den = lcm(den, q.denominator)
    ints = [q.numerator * (den // q.denominator) for q in row]
    g = 0
    for v in ints:
        g = gcd(g, v)
    g = g or 1
    return [v // g for v in ints], Fraction(den, g)


def random_prime(bits=31):
    """A prime drawn at random from ``[2**(bits-1), 2**bits)``, fresh for every call.

    The search uses a fixed prime; drawing ours at random means no input can be built to make
    the checker's residues vanish where the integers do not.
    """
    while True:
        p = secrets.randbits(bits - 1) | (1 << (bits - 1)) | 1
        if flint.fmpz(p).is_prime():
            return p


def nonsingular(rows, prime=None):
    """Whether the square integer matrix ``rows`` is nonsingular.

    A determinant that is not zero modulo a prime is not zero over the integers; a zero residue
    is settled by the exact (fraction-free) determinant.
    """
    if not rows:
        return True
    p = prime or random_prime(62)
    if int(flint.nmod_mat([[v % p for v in r] for r in rows], p).det()) != 0:
        return True
    return flint.fmpz_mat(rows).det() != 0


def nullspace(rows, n):
    """An integer basis of ``{v : r . v = 0 for r in rows}`` as an ``n x k`` ``fmpz_mat``."""
    if not rows:
        return flint.fmpz_mat([[int(i == j) for j in range(n)] for i in range(n)])
    X, k = flint.fmpz_mat(rows).nullspace()
    if k == X.ncols():
        return X
    return flint.fmpz_mat([[X[i, j] for j in range(k)] for i in range(n)])


def _int_text(v):
    if v.bit_length() > HEX_ABOVE_BITS:
        return format(v, "#x")
    return str(v)


def format_rational(q):
    """``"p/q"`` or ``"p"``; integers above :data:`HEX_ABOVE_BITS` bits in hex (``"0x..."``)."""
    q = to_fraction(q)
    p = ("-" if q < 0 else "") + _int_text(abs(q.numerator))
    return p if q.denominator == 1 else f"{p}/{_int_text(q.denominator)}"


def _parse_int(text, where, max_bits):
    hexa = text[:2] in ("0x", "0X")
    digits = len(text) - 2 if hexa else len(text)
    # reject on length before converting, so no crafted string costs time or memory
    bits = digits * 4 if hexa else math.ceil(digits * 3.3219280948873626)
    if bits > max_bits + 4:
        raise EvidenceError(f"{where}: a number with {digits} digits is larger than this "
                            f"evidence can need (at most about {max_bits} bits)")
    if hexa:
        return int(text, 16)
    if digits > 4000:
        return _long_decimal(text)
    return int(text)


def _long_decimal(text, chunk=4000):
    """A decimal string beyond Python's 4300-digit guard, read in chunks (length already bounded)."""
    value = 0
    base = 10 ** chunk
    head = len(text) % chunk or chunk
    value = int(text[:head])
    for i in range(head, len(text), chunk):
        value = value * base + int(text[i:i + chunk])
    return value


def parse_rational(s, where, max_bits=1 << 16):
    """Read ``"p/q"``, ``"p"`` (decimal or ``0x`` hex) or a JSON int into a :class:`Fraction`.

    Numbers longer than ``max_bits`` bits are refused before they are built.  Raises
    :class:`EvidenceError` naming ``where``.
    """
    if isinstance(s, bool):
        raise EvidenceError(f"{where}: expected a rational \"p/q\", got {s!r}")
    if isinstance(s, int):
        if s.bit_length() > max_bits:
            raise EvidenceError(f"{where}: the number is larger than this evidence can need")
        return Fraction(s)
    if isinstance(s, float):
        if not math.isfinite(s):
            raise EvidenceError(f"{where}: {s!r} is not a finite rational")
        return Fraction(s)
    if not isinstance(s, str):
        raise EvidenceError(f"{where}: expected a rational \"p/q\", got {type(s).__name__}")
    # the common case, a short plain decimal integer (a proof's multipliers): the same value the
    # full path gives, without the pattern match (a fifth of checking a large proof)
    if len(s) <= 300 and 4 * len(s) <= max_bits and s.isascii() and s.isdigit():
        return Fraction(int(s))
    if len(s) > 64 + 2 * max_bits:
        raise EvidenceError(f"{where}: a string of {len(s)} characters is larger than this "
                            f"evidence can need")
    mt = _RATIONAL.match(s)
    if mt is None:
        shown = s if len(s) <= 40 else s[:37] + "..."
        raise EvidenceError(f"{where}: {shown!r} is not a rational \"p/q\" or \"p\"")
    sign, p, q = mt.groups()
    num = _parse_int(p, where, max_bits)
    den = 1 if q is None else _parse_int(q, where, max_bits)
    if den == 0:
        raise EvidenceError(f"{where}: zero denominator in {s[:40]!r}")
    return Fraction(-num if sign == "-" else num, den)
