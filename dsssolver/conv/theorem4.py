"""Seed Theorem 4: injectivity of a convolutional layer from its kernels' shifts in a box P.

Statement proved and used here
------------------------------
Let ``L`` be a stride-1 :class:`ConvLayer` with kernels ``c_k`` of spatial width
``O`` over ``c_in`` channels, biases ``b_k``, and input ``(c_in, N)``, with zero
padding (any ``padding >= 0``) or a periodic boundary.  For a box ``P`` (spatial
widths) with ``O <= P <= N`` axis by axis, the **reduced layer** ``Z_P`` is the
layer on ``R^(c_in x P)`` whose rows are all the shifts of every kernel lying
inside the box (a "valid" convolution of the box, ``prod(P - O + 1)`` shifts per
kernel), each shift of ``c_k`` with bias ``b_k``.

    If ``ReLU(Z_P x + b_P)`` is injective on ``R^(c_in x P)``, then ``L`` is
    injective on ``R^(c_in x N)``.

Proof.  By seed Theorem 1 with biases (MATH.md section 1) it suffices that at
every ``x`` the active rows of ``L`` span ``R^(c_in x N)``.  Place the box at any
offset ``a`` with ``0 <= a <= N - P``; every shift inside the placed box is a row
of ``L`` (zero padding never cuts a shift that lies inside the signal; the
periodic boundary contains every shift), and on ``x`` that row takes the value
its copy in ``Z_P`` takes on the restriction ``x|_box``, bias included.  Since
the reduced layer is injective, its rows active at ``x|_box`` span ``R^(c_in x
P)``, so the active rows of ``L`` span every vector supported in the placed
box.  The boxes at offsets ``0 .. N - P`` cover the signal, so the active rows
span ``R^(c_in x N)``.  QED.  The same argument shows that a box that passes
implies every larger box ``P' <= N`` passes, so larger boxes only help.

Where the seed is imprecise (its appendix proof is not in the text we have):

* it says "if for any P"; the statement needs one P, and P must fit inside the
  signal (``P <= N``) as well as hold the kernel (``O <= P``);
* it is stated for ``b = 0``; it holds with per-channel biases as above;
* the box spans all input channels; shifts move along the spatial axes only;
* stride 1 only (the proof needs every shift inside each box);
* it is a **sufficient** condition.  Boundary rows (kernels cut by the zero
  padding, or wrapped by the periodic boundary) are never used, so a layer can
  be injective while every box fails (``tests/test_conv.py`` holds such
  layers).  A failed test therefore says "unknown" for the full layer; only a
  witness for the full operator says "not injective".

Examples
--------
>>> import numpy as np
>>> K = np.array([[[1.0, 0.0]], [[-1.0, 0.0]], [[0.0, 1.0]], [[0.0, -1.0]]])
>>> layer = ConvLayer(K, input_shape=(1, 6), padding=1)
>>> res = certify_conv(layer, box=(2,))
>>> res.status, res.method, res.box, res.reduced.shape
('injective', 'theorem4', (2,), (4, 2))
>>> check_conv(res, layer)
True
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import InvalidInputError
from .layer import ConvLayer
from .result import ConvCertifyResult

__all__ = ["certify_conv", "reduced_layer", "check_conv"]


def reduced_layer(layer, box):
    """The reduced layer ``Z_P`` of Theorem 4 as dense ``(W_P, b_P)``.

    Parameters
    ----------
    layer : ConvLayer
    box : tuple of int
        Spatial widths ``P`` with ``O <= P <= N`` on every axis.

    Returns
    -------
    (ndarray, ndarray)
        ``W_P`` has ``c_out * prod(P - O + 1)`` rows (the shifts inside the box)
        and ``c_in * prod(P)`` columns; ``b_P`` repeats each kernel's bias.

    Examples
    --------
    >>> layer = ConvLayer(np.ones((1, 1, 2)), input_shape=(1, 5))
    >>> reduced_layer(layer, (3,))[0]
    array([[1., 1., 0.],
           [0., 1., 1.]])
    """
    box = _as_box(layer, box)
    sub = ConvLayer(layer.kernel, layer.bias, (layer.input_shape[0],) + box, 0, "zeros")
    W, b = sub.matrix()
    return W.toarray(), b


def certify_conv(layer: ConvLayer, *, box: str | tuple[int, ...] = "auto", max_dim: int = 64,
                 full_limit: int = 0, time_limit: float | None = None,
                 node_limit: int | None = None) -> ConvCertifyResult:
    """Certify a convolutional ReLU layer through seed Theorem 4.

    The reduced layer of a box ``P`` (see the module docstring for the exact
    statement and its proof) is decided exactly by :func:`dsssolver.certify`,
    whose evidence the independent checker re-checks.  An injective reduced
    layer proves the full layer injective.  A reduced layer that is not
    injective proves nothing about the full layer.

    Parameters
    ----------
    layer : ConvLayer
        A stride-1 convolution (zero padding or periodic).
    box : tuple of int or "auto"
        The box ``P`` (spatial widths, ``O <= P <= N``).  "auto" tries
        ``P = min(O + t, N)`` for ``t = 0, 1, ...`` while the reduced layer has at
        most ``max_dim`` columns, skipping boxes with fewer than ``2 n`` rows
        (they cannot be injective, seed Corollary 2 and MATH.md section 2).
    max_dim : int
        Largest reduced input dimension ``c_in * prod(P)`` tried by "auto".
    full_limit : int
        If Theorem 4 does not prove injectivity and the full operator has at
        most this many columns, decide the full operator with
        :func:`dsssolver.certify` (a witness from there is a witness for the
        layer).  0 (default) never does.
    time_limit : float, optional
        Seconds for the whole call; each certify call gets what is left.
    node_limit : int, optional
        Passed to each :func:`dsssolver.certify` call.

    Returns
    -------
    ConvCertifyResult
        "injective" with ``method="theorem4"`` and the reduced layer's evidence
        in ``reduced``, or the full operator's verdict (``method="full"``), or
        "unknown" with ``tried`` listing every box and its reduced verdict.
    """
    from .. import certify, check  # the public API; deferred to avoid an import cycle

    if not isinstance(layer, ConvLayer):
        raise InvalidInputError(f"layer must be a ConvLayer, got {type(layer).__name__}")
    t0 = time.perf_counter()
    boxes = [_as_box(layer, box)] if not isinstance(box, str) or box != "auto" \
        else _auto_boxes(layer, max_dim)
    tried = []

    def left():
        return None if time_limit is None else time_limit - (time.perf_counter() - t0)

    for P in boxes:
        W, b = reduced_layer(layer, P)
        entry = {"box": P, "shape": W.shape}
        tried.append(entry)
        if W.shape[0] < 2 * W.shape[1]:
            entry["status"] = "skipped: fewer than 2n rows (cannot be injective)"
            continue
        if left() is not None and left() <= 0:
            entry["status"] = "skipped: time limit"
            break
        res = certify(W, b, time_limit=left(), node_limit=node_limit)
        entry["status"] = res.status
        if res.status == "injective" and check(res, W, b):
            return ConvCertifyResult(
                "injective",
                f"Theorem 4: the reduced layer of box P = {P} ({W.shape[0]} shifts on "
                f"R^{W.shape[1]}) is injective, with a proof re-checked exactly; so is the "
                "full layer.", "theorem4", P, reduced=res, tried=tried,
                stats={"seconds": time.perf_counter() - t0})
    n = layer.shape[1]
    if full_limit and n <= full_limit and (left() is None or left() > 0):
        W, b = layer.matrix()
        res = certify(W.toarray(), b, time_limit=left(), node_limit=node_limit)
        if res.status != "unknown" and check(res, W.toarray(), b):
            how = "a proof" if res.status == "injective" else "a witness pair"
            return ConvCertifyResult(
                res.status, f"Theorem 4 did not decide (boxes {[e['box'] for e in tried]}); "
                f"the full {layer.shape[0]}x{n} operator is {res.status.replace('_', ' ')}, "
                f"with {how} re-checked exactly.", "full", full=res, tried=tried,
                stats={"seconds": time.perf_counter() - t0})
    boxes_said = "; ".join(f"{e['box']}: {e['status']}" for e in tried) or "no box fits"
    return ConvCertifyResult(
        "unknown", f"Theorem 4's sufficient test did not pass for any box tried ({boxes_said}); "
        "that says nothing about the full layer, which was not decided.", "none", tried=tried,
        stats={"seconds": time.perf_counter() - t0})


def check_conv(result: ConvCertifyResult, layer: ConvLayer) -> bool:
    """Re-check the evidence of a :class:`ConvCertifyResult` for ``layer`` exactly.

    "theorem4": the box fits (``O <= P <= N``) and the reduced layer's evidence
    passes :func:`dsssolver.check`; "full", and "pairs" with a proof built
    (``certificate_limit``): the full operator's evidence passes.  A "pairs"
    result without a proof (its rank shown modulo p only) and "unknown" carry
    no evidence to check here (False).
    """
    from .. import check

    if result.method == "theorem4" and result.status == "injective":
        try:
            W, b = reduced_layer(layer, result.box)
        except ValueError:
            return False
        return bool(check(result.reduced, W, b))
    if result.method in ("full", "pairs") and result.full is not None \
            and result.status != "unknown":
        W, b = layer.matrix()
        return bool(check(result.full, W.toarray(), b))
    return False


def _as_box(layer, box):
    try:
        P = tuple(int(p) for p in np.atleast_1d(box))
    except (TypeError, ValueError):
        raise InvalidInputError(f"box must be a tuple of {layer.dims} integers, got {box!r}") from None
    O, N = layer.kernel_size, layer.input_shape[1:]
    if len(P) != layer.dims or any(not o <= p <= n for o, p, n in zip(O, P, N)):
        raise InvalidInputError(f"box must satisfy kernel {tuple(O)} <= P <= signal {tuple(N)} on every "
                         f"axis, got {P}")
    return P


def _auto_boxes(layer, max_dim):
    O, N, c_in = layer.kernel_size, layer.input_shape[1:], layer.input_shape[0]
    out, t = [], 0
    while True:
        P = tuple(min(o + t, n) for o, n in zip(O, N))
        if c_in * int(np.prod(P)) > max_dim or (out and P == out[-1]):
            return out
        out.append(P)
        t += 1
