"""The checker's compiled transversal test (its own code: it shares nothing with the search).

Closing a node of a proof by a packing of ``d`` dependencies needs every choice of one free row
from each to be independent modulo the flat: ``prod |P_j|`` determinants modulo a prime, the
largest part of checking a proof for Gaussian layers with n >= 10.  :func:`first_dependent`
runs them depth-first in code compiled by numba, imported on first use; without numba it
returns None and :mod:`dsssolver.verify.flats` keeps its numpy elimination.
"""
from __future__ import annotations

import numpy as np

__all__ = ["first_dependent", "available", "has_parallel_pair"]

_COMPILED = {}


def _kernel():
    if "f" not in _COMPILED:
        try:
            _COMPILED["f"] = _build()
        except Exception:  # numba missing or unable to compile: numpy path
            _COMPILED["f"] = None
    return _COMPILED["f"]


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
    f = _kernel()
    if f is None:
        return None
    d = len(arrays)
    sizes = np.array([len(a) for a in arrays], dtype=np.int64)
    V = np.zeros((d, int(sizes.max(initial=0)), d), dtype=np.int64)
    for j, a in enumerate(arrays):
        V[j, :len(a)] = np.asarray(a, dtype=np.int64) % p
    picks = np.full(d, -1, dtype=np.int64)
    depth = f(V, sizes, p, picks)
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
    if _kernel() is None:
        return None
    return bool(_COMPILED["parallel"](np.ascontiguousarray(V, dtype=np.int64) % p, p))


def _build():
    import numba

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

    _COMPILED["parallel"] = parallel

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

    return scan
