"""Random layer families for the tests of the certifier and its references.

Every generator takes a :class:`numpy.random.Generator` first and returns
``(W, b)`` with ``W`` of shape ``(m, n)`` and ``b`` of shape ``(m,)``; the
output depends only on the generator's state and the arguments.  Integer
families return ``int64`` arrays (exact, with many dependent row subsets),
Gaussian ones ``float64``.

``bias`` is one of ``"zero"`` (all zeros), ``"int"`` (uniform integers in
``{-2, ..., 2}``), ``"gauss"`` (standard normal floats) or ``"positive"``
(``|N(0, 1)| / 2``: every row's bias >= 0, so a layer is injective only if the
search proves it for its own rows).

:func:`all_families` mixes every family; most of its layers are decided
before the branch-and-bound (a rank defect, antiparallel pairs, the dive).
:func:`hard_families` gives layers that make the search itself work:
Gaussian ones near the injectivity threshold and integer ones made of a few
parallel classes.

>>> import numpy as np
>>> W, b = gaussian(np.random.default_rng(0), 3, c=2.0)
>>> W.shape, b.shape
((6, 3), (6,))
>>> names = [name for name, W, b in all_families(np.random.default_rng(1), 2)]
>>> len(names) == len(set(names))
True
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "BIASES",
    "make_bias",
    "gaussian",
    "integer",
    "duplicated",
    "zero_rows",
    "antipodal",
    "parallel",
    "rank_deficient",
    "few_rows",
    "b_negdb",
    "b_negdb_m",
    "shuffle_rows",
    "near_threshold",
    "parallel_classes",
    "all_families",
    "hard_families",
]

BIASES = ("zero", "int", "gauss")


def make_bias(rng, m, bias="int"):
    """Biases of length ``m``: ``"zero"``, ``"int"`` (in {-2..2}) or ``"gauss"``."""
    if bias == "zero":
        return np.zeros(m, dtype=np.int64)
    if bias == "int":
        return rng.integers(-2, 3, size=m).astype(np.int64)
    if bias == "gauss":
        return rng.standard_normal(m)
    if bias == "positive":
        return np.abs(rng.standard_normal(m)) * 0.5
    raise ValueError(f"unknown bias kind {bias!r}")


def _bias_like(rng, W, bias):
    b = make_bias(rng, W.shape[0], bias)
    if W.dtype.kind == "f" and b.dtype.kind == "i":
        b = b.astype(np.float64)
    return b


def shuffle_rows(rng, W, b):
    """Apply one random row permutation to ``W`` and ``b``."""
    p = rng.permutation(W.shape[0])
    return W[p], b[p]


def _invertible_int(rng, n, lo=-2, hi=2):
    while True:
        B = rng.integers(lo, hi + 1, size=(n, n)).astype(np.int64)
        if round(abs(np.linalg.det(B))) >= 1:
            return B


def gaussian(rng, n, c=2.0, m=None, bias="zero"):
    """iid N(0, 1) weights with ``m = round(c n)`` rows (rows in general position a.s.)."""
    m = max(1, int(round(c * n))) if m is None else m
    W = rng.standard_normal((m, n))
    return W, _bias_like(rng, W, bias)


def integer(rng, n, m, lo=-2, hi=2, bias="int"):
    """Uniform integer weights in ``{lo..hi}``: zero rows, repeats and dependent subsets abound."""
    W = rng.integers(lo, hi + 1, size=(m, n)).astype(np.int64)
    return W, _bias_like(rng, W, bias)


def duplicated(rng, n, m, bias="int"):
    """Integer rows in which about half are exact copies of other rows (biases drawn per copy)."""
    k = max(1, m - m // 2)
    base = rng.integers(-2, 3, size=(k, n)).astype(np.int64)
    W = np.vstack([base, base[rng.integers(0, k, size=m - k)]])
    W, b = W, _bias_like(rng, W, bias)
    return shuffle_rows(rng, W, b)


def zero_rows(rng, n, m, nzero=None, bias="int"):
    """Integer weights with ``nzero`` (default 1 or 2) all-zero rows mixed in."""
    nzero = int(rng.integers(1, 3)) if nzero is None else nzero
    nzero = min(nzero, m)
    W = rng.integers(-2, 3, size=(m, n)).astype(np.int64)
    W[:nzero] = 0
    b = _bias_like(rng, W, bias)
    return shuffle_rows(rng, W, b)


def antipodal(rng, n, m, bias="int"):
    """Pairs ``w, -w`` (``m // 2`` of them, one extra row when ``m`` is odd)."""
    k = m // 2
    base = rng.integers(-3, 4, size=(k, n)).astype(np.int64)
    base[np.all(base == 0, axis=1), 0] = 1
    W = np.vstack([base, -base] + ([rng.integers(-2, 3, size=(1, n))] if m % 2 else []))
    W = W.astype(np.int64)
    return shuffle_rows(rng, W, _bias_like(rng, W, bias))


def parallel(rng, n, m, bias="int"):
    """Rows that are positive integer multiples (1..3) of a few base rows."""
    k = max(1, m // 2)
    base = rng.integers(-2, 3, size=(k, n)).astype(np.int64)
    pick = np.concatenate([np.arange(k), rng.integers(0, k, size=m - k)])
    W = base[pick] * rng.integers(1, 4, size=(m, 1))
    return shuffle_rows(rng, W.astype(np.int64), _bias_like(rng, W, bias))


def rank_deficient(rng, n, m, rank=None, bias="int"):
    """``W = A C`` with inner dimension ``rank < n`` (integer), so ``rank W < n``."""
    r = max(0, n - 1) if rank is None else rank
    if r >= n:
        raise ValueError("rank_deficient needs rank < n")
    A = rng.integers(-2, 3, size=(m, r)).astype(np.int64)
    C = rng.integers(-2, 3, size=(r, n)).astype(np.int64)
    W = A @ C if r else np.zeros((m, n), dtype=np.int64)
    return W, _bias_like(rng, W, bias)


def few_rows(rng, n, m=None, bias="int"):
    """Gaussian weights with ``m < 2n`` rows: never injective (seed Corollary 2)."""
    m = int(rng.integers(1, 2 * n)) if m is None else m
    if m >= 2 * n:
        raise ValueError("few_rows needs m < 2n")
    W = rng.standard_normal((m, n))
    return W, _bias_like(rng, W, bias)


def b_negdb(rng, n, bias="int"):
    """``[B; -D B]`` (B invertible integer, D positive integer diagonal), rows shuffled: injective."""
    B = _invertible_int(rng, n)
    D = rng.integers(1, 4, size=(n, 1))
    W = np.vstack([B, -D * B]).astype(np.int64)
    return shuffle_rows(rng, W, _bias_like(rng, W, bias))


def b_negdb_m(rng, n, extra=2, bias="int"):
    """``[B; -D B; M]`` with ``extra`` arbitrary integer rows ``M``: injective (Corollary 2)."""
    W, _ = b_negdb(rng, n, bias="zero")
    M = rng.integers(-2, 3, size=(extra, n)).astype(np.int64)
    W = np.vstack([W, M])
    return shuffle_rows(rng, W, _bias_like(rng, W, bias))


def near_threshold(rng, n, m, bias="zero"):
    """Gaussian weights with ``m`` rows near the injectivity threshold (``c = m / n`` about 4-5
    for ``n = 3, 4``), where both answers occur and a proof needs the branch-and-bound."""
    W = rng.standard_normal((m, n))
    return W, _bias_like(rng, W, bias)


def parallel_classes(rng, n, m, k=None, bias="int"):
    """Integer rows ``s w``, ``w`` one of ``k`` (default ``n + 1 .. 2n + 1``) base directions and
    ``s`` in ``{-3, ..., 3}`` other than 0: few parallel classes, each with rows of both signs,
    so flats are large and many dependencies are pairs."""
    k = int(rng.integers(n + 1, 2 * n + 2)) if k is None else k
    base = rng.integers(-2, 3, size=(k, n)).astype(np.int64)
    base[np.all(base == 0, axis=1), 0] = 1
    scale = rng.integers(1, 4, size=(m, 1)) * rng.choice([-1, 1], size=(m, 1))
    W = (base[rng.integers(0, k, size=m)] * scale).astype(np.int64)
    return W, _bias_like(rng, W, bias)


def all_families(rng, n, m_max=10, biases=("zero", "int")):
    """Yield ``(name, W, b)``: one instance of every family for each bias kind.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Input dimension.
    m_max : int
        Upper bound on the number of rows of every instance (``>= 2n`` keeps the
        ``[B; -DB]`` families; they are skipped when they would not fit).
    biases : sequence of str
        Bias kinds from :data:`BIASES`.

    Yields
    ------
    (str, numpy.ndarray, numpy.ndarray)
        ``name`` is ``"<family>/<bias>"``.
    """
    def m_in(lo, hi):
        hi = min(hi, m_max)
        lo = min(lo, hi)
        return int(rng.integers(lo, hi + 1))

    for bias in biases:
        yield f"gaussian/{bias}", *gaussian(rng, n, m=m_in(2 * n, max(3 * n, m_max)), bias=bias)
        yield f"integer/{bias}", *integer(rng, n, m_in(n, 3 * n), bias=bias)
        yield f"duplicated/{bias}", *duplicated(rng, n, m_in(2, 3 * n), bias=bias)
        yield f"zero_rows/{bias}", *zero_rows(rng, n, m_in(2, 3 * n), bias=bias)
        yield f"antipodal/{bias}", *antipodal(rng, n, m_in(2, 3 * n), bias=bias)
        yield f"parallel/{bias}", *parallel(rng, n, m_in(2, 3 * n), bias=bias)
        yield f"rank_deficient/{bias}", *rank_deficient(rng, n, m_in(1, 3 * n), bias=bias)
        yield f"few_rows/{bias}", *few_rows(rng, n, m_in(1, 2 * n - 1), bias=bias)
        if 2 * n <= m_max:
            yield f"b_negdb/{bias}", *b_negdb(rng, n, bias=bias)
        if 2 * n + 1 <= m_max:
            extra = int(rng.integers(1, m_max - 2 * n + 1))
            yield f"b_negdb_m/{bias}", *b_negdb_m(rng, n, extra=extra, bias=bias)


def hard_families(rng, n, m_max=14, biases=("zero", "positive", "gauss"), c=(4, 5)):
    """Yield ``(name, W, b)``: layers that reach the branch-and-bound, one of each kind per bias.

    ``near_threshold`` layers have ``m`` between ``c[0] n`` and ``min(c[1] n, m_max)`` rows; the
    ``parallel_classes`` ones ``2n .. m_max`` rows with integer (or zero) biases.

    >>> names = [name for name, W, b in hard_families(np.random.default_rng(0), 3)]
    >>> names[:2]
    ['near_threshold/zero', 'parallel_classes/zero']
    """
    for bias in biases:
        m = int(rng.integers(min(c[0] * n, m_max), min(c[1] * n, m_max) + 1))
        yield f"near_threshold/{bias}", *near_threshold(rng, n, m, bias=bias)
        pbias = "zero" if bias == "zero" else "int"
        m = int(rng.integers(min(2 * n, m_max), m_max + 1))
        yield f"parallel_classes/{pbias}", *parallel_classes(rng, n, m, bias=pbias)
