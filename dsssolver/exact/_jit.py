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

_KERNELS = []  # [] not tried yet; [None] unavailable; [module] compiled


def kernel():
    """The module of compiled kernels (:mod:`dsssolver.exact._kernels`), or None when numba is
    unavailable or cannot compile here."""
    if not _KERNELS:
        try:
            from . import _kernels

            _kernels.warm_up()  # compiles, or loads numba's on-disk cache, once per process
            _KERNELS.append(_kernels)
        except Exception:  # no numba, or it cannot compile here: the numpy paths stay
            _KERNELS.append(None)
    return _KERNELS[0]


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


def all_transversals_bases_stacked(Q, sizes, prime, picks=None):
    """:func:`all_transversals_bases` with the parts stacked in ``Q``, ``sizes[j]`` rows each.

    ``picks`` (an int64 array of ``len(sizes)`` entries), when given, receives on False the
    rows of ``Q`` of a choice that is dependent modulo ``prime`` (-1 where a dependent prefix
    left the choice open).
    """
    k = kernel()
    if k is None:
        return None
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    starts[1:] = np.cumsum(sizes)
    if picks is None:
        picks = np.empty(len(sizes), dtype=np.int64)
    return bool(k.all_bases(np.ascontiguousarray(Q, dtype=np.int64) % prime, starts, len(sizes),
                            prime, picks))


def greedy_packing(A, F, E, d, scratch=None, index=None, live=None):
    """The dependency pool's packing query (:meth:`dsssolver.certify.pool.SupportSet.packing`),
    compiled: ``(k, cost)`` pairs, or None when the kernel is unavailable.

    ``A`` is the pool's ``k x words`` uint64 support matrix, ``F`` and ``E`` the flat's and the
    excluded rows' words; ``scratch`` (from :func:`_scratch`) saves allocations per call;
    ``index`` (rows x words of 64 supports, bit k of row r set when support k contains r) is
    the pool's index by row, built here when not given; ``live`` (words of 64 supports, as
    many as ``index`` has columns) the supports to consider, all when not given.
    Among supports disjoint from ``F``, repeatedly the one with fewest rows outside ``E`` (the
    first such), then only those whose rows outside ``E`` miss it, until ``d`` are picked or
    one has no rows outside ``E``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0b0011], [0b0110], [0b1000], [0b0101]], dtype=np.uint64)
    >>> F = np.array([0b0100], dtype=np.uint64); E = np.zeros(1, dtype=np.uint64)
    >>> greedy_packing(A, F, E, 2) in ([(2, 1), (0, 2)], None)
    True
    """
    k = kernel()
    if k is None:
        return None
    out = np.empty((max(d, 1), 2), dtype=np.int64)
    if scratch is None or len(scratch[0]) < len(A):
        scratch = _scratch(len(A))
    if index is None:
        index = row_index(A, 64 * len(F))
    if live is None:
        live = np.full(index.shape[1], ~np.uint64(0), dtype=np.uint64)
    got = k.pack(A, index, live, F, E, d, out, *scratch)
    return [(int(out[t, 0]), int(out[t, 1])) for t in range(got)]


def row_index(A, m):
    """The index by row of the supports ``A`` (k x words): an m x ceil(k / 64) uint64 array
    whose row r has bit j set when support j contains row r."""
    k = len(A)
    out = np.zeros((m, max(1, (k + 63) // 64)), dtype=np.uint64)
    for j in range(k):
        for r in np.flatnonzero(np.unpackbits(A[j].view(np.uint8), bitorder="little")[:m]):
            out[r, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
    return out


def _scratch(size):
    """Work arrays for :func:`greedy_packing` over up to ``size`` supports."""
    return (np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64),
            np.empty(size, dtype=np.int64))
