"""The checker's compiled transversal test (its own code: it shares nothing with the search).

Closing a node of a proof by a packing of ``d`` dependencies needs every choice of one free row
from each to be independent modulo the flat: ``prod |P_j|`` determinants modulo a prime, the
largest part of checking a proof for Gaussian layers with n >= 10.  :func:`first_dependent`
runs them depth-first in code compiled by numba, imported on first use; without numba it
returns None and :mod:`dsssolver.verify.flats` keeps its numpy elimination.
"""
from __future__ import annotations

import numpy as np

__all__ = ["first_dependent", "available", "has_parallel_pair", "node_scan", "packed_test",
           "eliminate", "row_index"]

_COMPILED = []  # [] not tried yet; [None] unavailable; [module] compiled


def _kernel():
    """The checker's module of compiled kernels, or None (numba missing or not compiling)."""
    if not _COMPILED:
        try:
            from . import _kernels

            _kernels.warm_up()
            _COMPILED.append(_kernels)
        except Exception:  # the numpy paths stay
            _COMPILED.append(None)
    return _COMPILED[0]


def available():
    """Whether the compiled kernel can run here (numba present and compiling)."""
    return _kernel() is not None


def first_dependent(arrays, p):
    """Look for a choice of one vector per array that is dependent modulo ``p``.

    Parameters
    ----------
    arrays : list of numpy.ndarray
        ``d`` arrays of shape ``(a_j, d)``, residues modulo ``p`` (a prime below 2**31).
    p : int

    Returns
    -------
    tuple of int, or None
        ``()`` when every choice is a basis of ``F_p^d``; otherwise the indices
        ``(c_0, ..., c_k)`` of a prefix of choices (one per array, in order) whose vectors are
        already dependent modulo ``p``; None when the compiled kernel is unavailable.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1, 0]]); B = np.array([[1, 1], [3, 0]])
    >>> first_dependent([A, B], 101) in [(0, 1), None]
    True
    >>> first_dependent([A, B[:1]], 101) in [(), None]
    True
    """
    k = _kernel()
    if k is None:
        return None
    d = len(arrays)
    sizes = np.array([len(a) for a in arrays], dtype=np.int64)
    V = np.zeros((d, int(sizes.max(initial=0)), d), dtype=np.int64)
    for j, a in enumerate(arrays):
        V[j, :len(a)] = np.asarray(a, dtype=np.int64) % p
    picks = np.full(d, -1, dtype=np.int64)
    depth = k.scan(V, sizes, p, picks)
    return () if depth < 0 else tuple(int(c) for c in picks[:depth + 1])


def has_parallel_pair(V, p):
    """Whether two rows of ``V`` (residues modulo ``p``) are parallel modulo ``p`` (zero rows
    count as parallel to every row); None when the compiled kernel is unavailable.

    Examples
    --------
    >>> import numpy as np
    >>> has_parallel_pair(np.array([[1, 2], [2, 4], [0, 1]]), 101) in (True, None)
    True
    >>> has_parallel_pair(np.array([[1, 2], [0, 1]]), 101) in (False, None)
    True
    """
    k = _kernel()
    if k is None:
        return None
    return bool(k.parallel(np.ascontiguousarray(V, dtype=np.int64) % p, p))


def node_scan(D, idx, F, E, d, index=None):
    """One node's scan of the dependencies (rows of the uint64 mask matrix ``D``) among ``idx``:
    ``(candidates, fewest, first, pack)`` -- the positions disjoint from ``F`` (an int64 array,
    in ``idx``'s order), the fewest rows outside ``E`` any of them has, the first of them by
    (rows outside ``E``, position), and up to ``d`` of them taken greedily in that order with
    pairwise disjoint rows outside ``E``.  None without the kernel.  With ``index`` (from
    :func:`row_index`; then ``idx`` must hold every dependency disjoint from ``F``, in
    ascending order, as the parent's candidates do) the candidates are found row by row.

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([[0b0011], [0b0110], [0b1000]], dtype=np.uint64)
    >>> z = np.zeros(1, dtype=np.uint64)
    >>> out = node_scan(D, np.arange(3), np.array([0b0100], dtype=np.uint64), z, 2)
    >>> out is None or (out[0].tolist(), out[1:]) == ([0, 2], (1, 2, [2, 0]))
    True
    """
    k = _kernel()
    if k is None:
        return None
    pack = np.empty(max(d, 1), dtype=np.int64)
    if index is not None:
        cand = np.empty(len(D), dtype=np.int64)
        nc, fewest, first, got = k.node_scan_indexed(D, index, F, E, d, cand, pack)
    else:
        cand = np.empty(len(idx), dtype=np.int64)
        nc, fewest, first, got = k.node_scan(D, np.ascontiguousarray(idx, dtype=np.int64), F, E,
                                             d, cand, pack)
    return cand[:nc].copy(), int(fewest), int(first), pack[:got].tolist()


def row_index(D, m):
    """Dependencies by row: an ``m x ceil(k / 64)`` uint64 array whose row r has bit j set when
    dependency j (row j of the mask matrix ``D``, k x words) contains row r.

    Examples
    --------
    >>> import numpy as np
    >>> row_index(np.array([[0b011], [0b110]], dtype=np.uint64), 3).ravel().tolist()
    [1, 3, 2]
    """
    k = len(D)
    kw = max(1, (k + 63) // 64)
    bits = np.unpackbits(np.ascontiguousarray(D).view(np.uint8), axis=1, bitorder="little")[:, :m]
    packed = np.packbits(bits.T, axis=1, bitorder="little")  # m x ceil(k / 8) bytes
    out = np.zeros((m, 8 * kw), dtype=np.uint8)
    out[:, :packed.shape[1]] = packed
    return out.view(np.uint64).reshape(m, kw).copy()


def packed_test(D, pack, E, Pp, p, merge_from, limit):
    """A packing's transversal test in one compiled call (see ``_kernels.packed_scan``).

    ``D`` is the uint64 mask matrix of the dependencies, ``pack`` the positions packed, ``E``
    the excluded rows' words, ``Pp`` every row's residues modulo ``p`` in the quotient.
    Returns ``(True, total)`` when every choice of one free row per dependency is a basis
    modulo ``p``; ``(False, rows)`` with the rows of a prefix of choices dependent modulo
    ``p`` (for the caller to confirm exactly); None when the caller must decide (no kernel,
    a part with rows parallel modulo p above ``merge_from`` choices, more than ``limit``).

    Examples
    --------
    >>> import numpy as np
    >>> D = np.array([[0b011], [0b100]], dtype=np.uint64)
    >>> Pp = np.array([[1, 0], [1, 1], [2, 2]], dtype=np.int64)
    >>> z = np.zeros(1, dtype=np.uint64)
    >>> packed_test(D, [0, 1], z, Pp, 101, 10, 100) in [(False, [2, 1]), None]
    True
    >>> packed_test(D, [0, 1], np.array([2], dtype=np.uint64), Pp, 101, 10, 100) in [(True, 1), None]
    True
    """
    k = _kernel()
    if k is None:
        return None
    d = len(pack)
    total, rows = np.zeros(1, dtype=np.int64), np.full(d, -1, dtype=np.int64)
    out = k.packed_scan(D, np.asarray(pack, dtype=np.int64), E, Pp, p, merge_from, limit, total, rows)
    if out < 0:
        return None
    if out == 1:
        return True, int(total[0])
    return False, [int(r) for r in rows.tolist() if r >= 0]


def eliminate(P, s, p):
    """Residues modulo the flat grown by row ``s`` (see ``flats._eliminate``), compiled:
    ``(m, w - 1)`` int64, ``()`` when ``P[s]`` is zero modulo p, None without the kernel.

    Examples
    --------
    >>> import numpy as np
    >>> out = eliminate(np.array([[1, 2], [3, 4], [2, 4]], dtype=np.int64), 0, 7)
    >>> out is None or out.ravel().tolist() == [0, 5, 0]
    True
    """
    k = _kernel()
    if k is None:
        return None
    out = k.eliminate(P, s, p)
    return () if out.shape[0] == 0 and P.shape[0] > 0 else out
