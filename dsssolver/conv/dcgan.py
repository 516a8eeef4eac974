"""The seed's injective DCGAN generator (Section 4), and certifying a generator layer by layer.

The seed replaces DCGAN's filters by ``[C; -s^2 C]``: each ``ConvTranspose2d``
with ``2 h`` output channels has ``h`` free filters C and their copies times
``-s^2``.  With DCGAN's sizes (latent 256 as ``256 x 1 x 1``; 512, 256, 128, 64
channels at 4, 8, 16, 32 pixels; a last ``ConvTranspose2d`` to ``3 x 64 x 64``
with tanh) every ReLU layer has ``m = 2 n`` for the stride-2 layers, so it is
injective iff its C part is nonsingular (seed Corollary 2).  The last layer maps
``R^65536`` to ``R^12288`` and cannot be injective; the seed's construction
concerns the ReLU layers.

``s^2`` defaults to 1/2, a power of two, so ``-s^2 C`` is exact in floating point
and the pairs are exactly antiparallel; any other ``s^2`` rounds (MATH.md 7b) and
:func:`certify_network_pairs` then reports near pairs and "unknown".

Examples
--------
>>> gen = injective_dcgan(latent=8, ngf=8, out_size=16, seed=0)
>>> [(layer.input_shape, layer.output_shape, act) for layer, act in gen]
[((8, 1, 1), (16, 4, 4), 'relu'), ((16, 4, 4), (8, 8, 8), 'relu'), ((8, 8, 8), (3, 16, 16), 'tanh')]
>>> [r.status for r in certify_network_pairs(gen)]
['injective', 'injective', 'skipped']
"""
from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from .._batchnorm import batchnorm_affine
from .._torchread import check_composition, layer_modules
from ..errors import InvalidInputError
from .layer import ConvLayer
from .result import ConvCertifyResult
from .structure import StridedConv, as_conv, certify_conv_pairs

__all__ = ["injective_dcgan", "to_torch", "certify_network_pairs", "fold_batchnorm"]


def injective_dcgan(*, latent: int = 256, ngf: int = 64, channels: int = 3, out_size: int = 64,
                    s2: float = 0.5, std: float = 0.02,
                    seed: int = 0) -> list[tuple[StridedConv, str]]:
    """A DCGAN-style generator with [C; -s^2 C] filters, as ``[(StridedConv, activation)]``.

    Parameters
    ----------
    latent : int
        Latent dimension (the input is ``latent x 1 x 1``).
    ngf : int
        Channels of the last ReLU layer; earlier layers double it (DCGAN: 64).
    channels, out_size : int
        Output image ``channels x out_size x out_size`` (a power of two >= 8).
    s2 : float
        The scale ``s^2 > 0`` of the negative copies.
    std : float
        C's entries are ``N(0, std^2)`` rounded to float32, as torch stores them.
    seed : int
    """
    if out_size < 8 or out_size & (out_size - 1):
        raise InvalidInputError(f"out_size must be a power of two >= 8, got {out_size}")
    if not s2 > 0:
        raise InvalidInputError(f"s2 must be positive, got {s2}")
    rng = np.random.default_rng(seed)
    ups = int(np.log2(out_size)) - 2  # stride-2 layers after the 4x4 one
    widths = [ngf * 2 ** (ups - 1 - k) for k in range(ups)]  # ReLU layer outputs: 512..64
    layers, c_in, size = [], latent, 1
    for k, c_out in enumerate(widths):
        C = (rng.standard_normal((c_in, c_out // 2, 4, 4)) * std).astype(np.float32).astype(np.float64)
        W = np.concatenate([C, -s2 * C], axis=1)
        stride, pad = (1, 0) if k == 0 else (2, 1)
        layers.append((StridedConv(W, None, (c_in, size, size), stride, pad, 0, True), "relu"))
        c_in, size = c_out, layers[-1][0].output_shape[1]
    W = (rng.standard_normal((c_in, channels, 4, 4)) * std).astype(np.float32).astype(np.float64)
    layers.append((StridedConv(W, None, (c_in, size, size), 2, 1, 0, True), "tanh"))
    return layers


def to_torch(generator):
    """The generator as a torch ``nn.Sequential`` (float32 weights; torch needed)."""
    import torch

    mods = []
    for layer, act in generator:
        c_in, c_out = layer.weight.shape[:2]
        m = torch.nn.ConvTranspose2d(c_in, c_out, layer.weight.shape[2], layer.stride,
                                     layer.padding, bias=False)
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(layer.weight))
        mods += [m, torch.nn.ReLU() if act == "relu" else torch.nn.Tanh()]
    return torch.nn.Sequential(*mods)


def certify_network_pairs(network: Any, input_shape: tuple[int, ...] | None = None, *,
                          progress: bool = False, **options: Any) -> list[ConvCertifyResult]:
    """Certify every ReLU convolution of a generator through :func:`certify_conv_pairs`.

    Parameters
    ----------
    network : list of (layer, activation) or torch nn.Sequential
        Layers are :class:`StridedConv` / :class:`ConvLayer` or torch convolutions; a
        torch ``Sequential`` is read module by module (Conv*/ConvTranspose2d, then
        ReLU / Tanh / Identity, with BatchNorm1d/2d in eval mode before or after the
        activation).  A BatchNorm between a convolution and its ReLU is folded in exactly
        (:func:`fold_batchnorm`): a positive factor per channel, a sign, and an exact bias,
        so the pairs ``[C; -s^2 C]`` stay exactly antiparallel and the bias condition
        ``lam b_i + b_j >= 0`` is decided on the folded biases.  A BatchNorm after a ReLU
        maps each channel one-to-one unless its scale is 0 (then an injective layer is
        reported "unknown").  The one rounding is BatchNorm's square root
        (:mod:`dsssolver.netmodel`).
    input_shape : tuple, optional
        The first layer's input ``(c, h, w)``, needed for torch.
    progress : bool
        One line per layer on stderr.
    **options
        Passed to :func:`certify_conv_pairs`.

    Returns
    -------
    list of ConvCertifyResult
        One per convolution; a convolution not followed by ReLU gets status
        "skipped" with the reason (its injectivity is a linear question, and
        ``m < n`` rules it out).  By seed Corollary 1 the ReLU part is
        injective if every ReLU layer is.
    """
    import sys

    if "bias" in options:
        raise InvalidInputError("certify_network_pairs: the biases are read from the network; "
                                "pass bias= to certify_conv_pairs for one layer")
    out = []
    for layer, act, before, after in _layers(network, input_shape):
        t0, c0 = time.perf_counter(), time.process_time()
        m, n = int(np.prod(layer.output_shape)), int(np.prod(layer.input_shape))
        if act != "relu":
            why = f"followed by {act}, not ReLU" + (
                f"; it maps R^{n} to R^{m} with m < n, so it cannot be injective" if m < n else "")
            res = ConvCertifyResult("skipped", why, "none", stats={"n": n, "m": m, "seconds": 0.0})
        else:
            bias = None
            if before is not None:
                layer, bias = fold_batchnorm(layer, *before)
            res = certify_conv_pairs(layer, bias=bias, **options)
            res.stats["m"] = m
            if before is not None:
                res.stats["batchnorm"] = _signs(before[0])
                res.message += ("" if res.message.endswith(".") else ".") + (
                    f" The BatchNorm before the ReLU is folded in exactly ({res.stats['batchnorm']}).")
        if after is not None:
            res = _after_batchnorm(res, after[0])
        res.stats["seconds"] = time.perf_counter() - t0
        res.stats["cpu_seconds"] = time.process_time() - c0  # all threads; less load-dependent
        if progress:
            print(f"layer {len(out) + 1}: {m}x{n} {res.status} ({res.stats.get('rank_method', '-')}) "
                  f"{res.stats['seconds']:.2f} s", file=sys.stderr)
        out.append(res)
    return out


def _signs(scale):
    pos, neg = sum(s > 0 for s in scale), sum(s < 0 for s in scale)
    return (f"channel scales: {pos} positive, {neg} negative (filters negated), "
            f"{len(scale) - pos - neg} zero (constant channels)")


def _after_batchnorm(res, scale):
    """A BatchNorm after the activation maps each channel by ``s x + t``: one-to-one iff no
    ``s`` is zero, and then the layer's verdict is the verdict with it."""
    zeros = [c for c, s in enumerate(scale) if s == 0]
    if not zeros:
        res.stats["batchnorm_after"] = "no zero scale: one-to-one, the verdict is unchanged"
        return res
    res.stats["batchnorm_after"] = f"zero scale in channels {zeros[:8]}"
    if res.status != "injective":
        return res
    return ConvCertifyResult(
        "unknown", f"the layer itself is injective ({res.message}) but the BatchNorm after its "
        f"activation has scale 0 in {len(zeros)} channel(s) (first: {zeros[0]}), which it maps to "
        "a constant; whether the layer with it stays injective is not decided here",
        "none", stats=res.stats)


def _layers(network, input_shape):
    """``[(layer, activation, bn_before, bn_after)]``: a BatchNorm between a convolution and
    its activation is ``bn_before``; one after the activation is ``bn_after`` of that layer.
    Each is ``(scale, shift)`` per channel, exact (:mod:`dsssolver._batchnorm`)."""
    if not hasattr(network, "children"):
        return [(as_conv(layer), act, None, None) for layer, act in network]
    items, shape = [], tuple(input_shape) if input_shape is not None else None
    mods = layer_modules(network)
    check_composition(network, mods, input_shape, "certify_network_pairs")
    for k, mod in enumerate(mods):
        name = type(mod).__name__
        if name in ("Conv1d", "Conv2d", "ConvTranspose2d"):
            layer = as_conv(mod, shape)
            items.append([layer, "identity", None, None])
            shape = layer.output_shape
        elif name in ("ReLU", "Tanh", "Sigmoid", "LeakyReLU") and items and items[-1][1] == "identity":
            items[-1][1] = name.lower()
        elif name in ("BatchNorm1d", "BatchNorm2d"):
            where = f"certify_network_pairs: module {k} ({name})"
            if not items:
                raise InvalidInputError(f"{where}: a BatchNorm before the first convolution")
            slot = 2 if items[-1][1] == "identity" else 3
            if items[-1][slot] is not None:
                raise InvalidInputError(f"{where}: two BatchNorms in a row")
            items[-1][slot] = batchnorm_affine(mod, shape[0], None, where)
        elif name.startswith("Dropout") and not mod.training:
            continue  # the identity in eval mode
        elif name != "Identity":
            raise InvalidInputError(f"certify_network_pairs: unsupported module {name}"
                                    + (" in training mode (call net.eval())"
                                       if name.startswith("Dropout") else ""))
    return [tuple(i) for i in items]


def fold_batchnorm(layer, scale, shift):
    """``(layer', bias')`` with ``act(scale * (conv(x) + b) + shift) = |scale| act(conv'(x) + b')``
    per channel for ``act`` = ReLU, so ``layer'`` is injective iff the layer with the
    BatchNorm is (a positive factor per output does not change which inputs collide).

    Channel c with ``scale_c > 0`` keeps its filter, ``b'_c = b_c + shift_c / scale_c``;
    ``scale_c < 0`` negates the filter (exact in floating point) and ``b'_c = -(b_c +
    shift_c / scale_c)``; ``scale_c = 0`` is the constant ``ReLU(shift_c)``: a zero filter
    with ``b'_c = shift_c``.  The biases are exact rationals, so exactly antiparallel
    filters stay exactly antiparallel.

    >>> import numpy as np
    >>> from fractions import Fraction as F
    >>> conv = StridedConv(np.ones((2, 1, 1, 1)), [1.0, 0.0], (1, 2, 2))
    >>> new, b = fold_batchnorm(conv, [F(2), F(-1, 2)], [F(1), F(3)])
    >>> new.filters().ravel().tolist(), b
    ([1.0, -1.0], [Fraction(3, 2), Fraction(6, 1)])
    """
    signs = [int(s > 0) - int(s < 0) for s in scale]  # Python ints: a numpy float would round
    b = [Fraction(float(v)) for v in layer.bias]
    bias = [Fraction(sg * (bi + t / s) if s != 0 else t) for s, t, sg, bi in zip(scale, shift, signs, b)]
    sign = np.array(signs, dtype=np.float64)
    floats = [float(v) for v in bias]  # the layer's own float bias; the exact one is passed on
    if isinstance(layer, ConvLayer):
        K = layer.kernel * sign.reshape((-1,) + (1,) * (layer.kernel.ndim - 1))
        return ConvLayer(K, floats, layer.input_shape, layer.padding, layer.boundary), bias
    W = layer.weight * (sign[None, :, None, None] if layer.transposed else sign[:, None, None, None])
    return StridedConv(W, floats, layer.input_shape, layer.stride, layer.padding,
                       layer.output_padding, layer.transposed), bias
