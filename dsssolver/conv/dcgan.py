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
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .result import ConvCertifyResult
from .structure import StridedConv, as_conv, certify_conv_pairs

__all__ = ["injective_dcgan", "to_torch", "certify_network_pairs"]


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
        ReLU / Tanh / Identity).
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

    out = []
    for layer, act in _layers(network, input_shape):
        t0, c0 = time.perf_counter(), time.process_time()
        m, n = int(np.prod(layer.output_shape)), int(np.prod(layer.input_shape))
        if act != "relu":
            why = f"followed by {act}, not ReLU" + (
                f"; it maps R^{n} to R^{m} with m < n, so it cannot be injective" if m < n else "")
            res = ConvCertifyResult("skipped", why, "none", stats={"n": n, "m": m, "seconds": 0.0})
        else:
            res = certify_conv_pairs(layer, **options)
            res.stats["m"] = m
        res.stats["seconds"] = time.perf_counter() - t0
        res.stats["cpu_seconds"] = time.process_time() - c0  # all threads; less load-dependent
        if progress:
            print(f"layer {len(out) + 1}: {m}x{n} {res.status} ({res.stats.get('rank_method', '-')}) "
                  f"{res.stats['seconds']:.2f} s", file=sys.stderr)
        out.append(res)
    return out


def _layers(network, input_shape):
    if not hasattr(network, "children"):
        return [(as_conv(layer), act) for layer, act in network]
    items, shape = [], tuple(input_shape) if input_shape is not None else None
    for mod in network.children():
        name = type(mod).__name__
        if name in ("Conv1d", "Conv2d", "ConvTranspose2d"):
            layer = as_conv(mod, shape)
            items.append([layer, "identity"])
            shape = layer.output_shape
        elif name in ("ReLU", "Tanh", "Sigmoid", "LeakyReLU") and items and items[-1][1] == "identity":
            items[-1][1] = name.lower()
        elif name not in ("Identity", "BatchNorm2d"):
            raise InvalidInputError(f"certify_network_pairs: unsupported module {name}")
        elif name == "BatchNorm2d":
            raise InvalidInputError("certify_network_pairs: fold BatchNorm2d into the convolution "
                                    "first (its per-channel scales change the pairs' ratios)")
    return [tuple(i) for i in items]
