"""Input validation shared by every public entry point.

Every function here raises :class:`~dsssolver.errors.InvalidInputError` (a ``ValueError``) with a
message naming the offending argument, so the CLI can print it as one line.

Arrays of Python integers (of any size) and :class:`fractions.Fraction` are kept exact as object
arrays; float arrays are float64, read later as the exact rationals they store.

Examples
--------
>>> as_matrix([[2**70], [-1]]).dtype
dtype('O')
>>> as_time_limit('5')
Traceback (most recent call last):
...
dsssolver.errors.InvalidInputError: time_limit must be a number of seconds, got '5'
"""
from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from .errors import InvalidInputError

__all__ = ["as_matrix", "as_vector", "as_layer", "as_time_limit", "as_positive_int", "as_progress"]


def _as_numeric_array(a, name):
    if a is None:
        raise InvalidInputError(f"{name} is missing")
    if isinstance(a, np.ndarray) and a.dtype != object:
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except (ValueError, TypeError) as exc:  # ragged lists and the like
            raise InvalidInputError(f"{name} is not a rectangular numeric array ({exc})") from None
    if arr.dtype == object:
        return _exact_array(arr, name)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and arr.size and arr.max() > 2**63 - 1:
        return _exact_array(arr.astype(object), name)
    if arr.dtype.kind == "f":
        if arr.dtype.itemsize > 8:
            raise InvalidInputError(f"{name} has dtype {arr.dtype}; use float64 or exact Fractions")
        arr = arr.astype(np.float64)
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            kind = "NaN" if np.isnan(arr[idx]) else "inf"
            raise InvalidInputError(f"{name} contains {kind} at index {idx}")
    return arr


def _exact_array(arr, name):
    """An object array of exact numbers (int, Fraction) and finite floats, checked entry by entry."""
    for idx, v in np.ndenumerate(arr):
        if isinstance(v, (int, np.integer, Fraction)) and not isinstance(v, bool):
            continue
        if isinstance(v, (float, np.floating)):
            if not math.isfinite(v):
                raise InvalidInputError(f"{name} contains {'NaN' if math.isnan(v) else 'inf'} "
                                        f"at index {tuple(int(i) for i in idx)}")
            continue
        if isinstance(v, (list, tuple, np.ndarray)):
            raise InvalidInputError(f"{name} is not a rectangular numeric array")
        raise InvalidInputError(f"{name} holds a non-numeric entry {v!r} at index "
                                f"{tuple(int(i) for i in idx)}")
    return arr


def as_matrix(W, name="W"):
    """Return ``W`` as a validated 2-D numeric array with at least one row and column."""
    arr = _as_numeric_array(W, name)
    if arr.ndim != 2:
        raise InvalidInputError(f"{name} must be a 2-D array (m x n), got {arr.ndim}-D shape "
                                f"{arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(f"{name} is empty (shape {arr.shape})")
    return arr


def as_vector(b, length, name="b", of="W"):
    """Return ``b`` as a validated 1-D numeric array of the given length (``None``: zeros);
    ``of`` names the matrix whose rows it must match, for the error."""
    if b is None:
        return np.zeros(length, dtype=np.int64)
    arr = _as_numeric_array(b, name)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] != length:
        raise InvalidInputError(f"{name} has length {arr.shape[0]} but {of} has {length} rows")
    return arr


def as_layer(W, b=None):
    """Validate a layer ``x -> ReLU(W x + b)`` and return ``(W, b)`` as arrays."""
    W = as_matrix(W, "W")
    b = as_vector(b, W.shape[0], "b")
    return W, b


def as_time_limit(t, name="time_limit"):
    """``None`` or a positive number of seconds (``inf`` means no limit, as ``None``)."""
    if t is None:
        return None
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
        raise InvalidInputError(f"{name} must be a number of seconds, got {t!r}")
    t = float(t)
    if math.isnan(t) or t <= 0:
        raise InvalidInputError(f"{name} must be positive, got {t!r}")
    return None if math.isinf(t) else t


def as_positive_int(k, name, allow_none=True):
    """``None`` (if allowed) or an integer >= 1."""
    if k is None and allow_none:
        return None
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def as_progress(p, name="progress"):
    """``progress`` as seconds between reports (0: none); True means every second."""
    if p is None or p is False:
        return 0.0
    if p is True:
        return 1.0
    if isinstance(p, np.bool_):
        return 1.0 if p else 0.0
    if not isinstance(p, numbers.Real) or math.isnan(float(p)) or float(p) < 0:
        raise InvalidInputError(f"{name} must be True, False or a number of seconds, got {p!r}")
    return float(p)
