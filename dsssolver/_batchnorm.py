"""Eval-mode torch BatchNorm layers as per-coordinate affine maps, in exact rationals.

``y = (x - mean) / sqrt(var + eps) * gamma + beta`` is ``y = scale * x + shift``.  Every
parameter is the rational its float stores (``eps`` the float64 ``mod.eps``); the one
rounding is ``r = sqrt(var + eps)``, exact when ``var + eps`` is the square of a rational
and otherwise the float64 square root.  Both readers of torch networks use this: the
network model (:mod:`dsssolver.netmodel`, which keeps the rationals) and the inverter's
sparse layers (:mod:`dsssolver.layers`, which rounds them to float64).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .errors import InvalidInputError

__all__ = ["batchnorm_affine", "exact"]


def exact(A):
    """An object array of :class:`Fraction` equal to the float array ``A`` entry by entry."""
    return np.frompyfunc(Fraction, 1, 1)(np.asarray(A, dtype=np.float64)).astype(object)


def _np(t):
    return t.detach().cpu().double().numpy()  # float32 -> float64 is exact


def _sqrt_q(q):
    """``sqrt(q)`` exactly when ``q`` is the square of a rational, else its float64 square root.

    >>> _sqrt_q(Fraction(9, 4)), _sqrt_q(Fraction(2)) == Fraction(math.sqrt(2))
    (Fraction(3, 2), True)
    """
    if q <= 0:
        raise InvalidInputError(f"BatchNorm: running_var + eps must be > 0, got {float(q)}")
    p, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if p * p == q.numerator and d * d == q.denominator:
        return Fraction(p, d)
    return Fraction(math.sqrt(q.numerator / q.denominator))


def batchnorm_affine(mod, rows, shape, where):
    """``(scale, shift)`` of the eval-mode BatchNorm1d/2d ``mod``, one entry per coordinate of
    its input (object arrays of Fraction).

    ``rows`` is the number of coordinates it reads and ``shape`` their ``(c, ...)`` shape
    when they come from a convolution (else None).  BatchNorm1d on a Linear output has one
    feature per coordinate; on a convolution's output (and BatchNorm2d always) one per
    channel, repeated over the channel's positions (torch flattens channel-major).

    Raises
    ------
    InvalidInputError
        Training mode, ``var + eps <= 0``, or features that match neither the coordinates
        nor the channels; the message starts with ``where``.
    """
    if mod.training:
        raise InvalidInputError(f"{where}: BatchNorm must be in eval mode (call net.eval())")
    var, mean = exact(_np(mod.running_var)), exact(_np(mod.running_mean))
    gamma = exact(_np(mod.weight)) if mod.affine else np.full(len(var), Fraction(1), dtype=object)
    beta = exact(_np(mod.bias)) if mod.affine else np.full(len(var), Fraction(0), dtype=object)
    eps = Fraction(float(mod.eps))
    scale = np.array([g / _sqrt_q(v + eps) for g, v in zip(gamma, var)], dtype=object)
    shift = beta - scale * mean
    if len(scale) == rows:
        return scale, shift
    if shape is not None and len(shape) > 1 and len(scale) == shape[0] and rows == int(np.prod(shape)):
        reps = int(np.prod(shape[1:]))
        return np.repeat(scale, reps), np.repeat(shift, reps)
    raise InvalidInputError(f"{where}: {len(scale)} features match neither the {rows} "
                            "coordinates nor the channels of its input")
