"""Input validation shared by every public entry point.

Every function here raises :class:`ValueError` (or :class:`TypeError` for
non-numeric data) with a message naming the offending argument, so the CLI can
print it as one line.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["as_matrix", "as_vector", "as_layer"]


def _as_numeric_array(a, name):
    if a is None:
        raise ValueError(f"{name} is missing")
    if isinstance(a, np.ndarray) and a.dtype == object or (
        not isinstance(a, np.ndarray) and _has_fractions(a)
    ):
        # exact rationals given as Fraction / int objects: keep them exact
        arr = np.asarray(a, dtype=object)
        for v in arr.flat:
            if not isinstance(v, (int, Fraction, np.integer)) or isinstance(v, bool):
                if isinstance(v, (float, np.floating)):
                    continue
                raise TypeError(f"{name} holds a non-numeric entry {v!r}")
        return arr
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} is not a rectangular numeric array ({exc})") from None
    if arr.dtype == object:
        raise ValueError(f"{name} is not a rectangular numeric array")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if arr.dtype.itemsize > 8:
            raise TypeError(f"{name} has dtype {arr.dtype}; use float64 or exact Fractions")
        arr = arr.astype(np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            kind = "NaN" if np.isnan(arr[idx]) else "inf"
            raise ValueError(f"{name} contains {kind} at index {idx}")
    return arr


def _has_fractions(a):
    try:
        flat = np.asarray(a, dtype=object).ravel()
    except Exception:
        return False
    return any(isinstance(v, Fraction) for v in flat)


def as_matrix(W, name="W"):
    """Return ``W`` as a validated 2-D numeric array with at least one row and column."""
    arr = _as_numeric_array(W, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (m x n), got {arr.ndim}-D shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def as_vector(b, length, name="b"):
    """Return ``b`` as a validated 1-D numeric array of the given length (``None``: zeros)."""
    if b is None:
        return np.zeros(length, dtype=np.int64)
    arr = _as_numeric_array(b, name)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] != length:
        raise ValueError(f"{name} has length {arr.shape[0]} but W has {length} rows")
    return arr


def as_layer(W, b=None):
    """Validate a layer ``x -> ReLU(W x + b)`` and return ``(W, b)`` as arrays."""
    W = as_matrix(W, "W")
    b = as_vector(b, W.shape[0], "b")
    return W, b
