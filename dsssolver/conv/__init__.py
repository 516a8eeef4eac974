"""Convolutional ReLU layers: seed Theorem 4, and the structure of [C; -s^2 C] filters.

* :class:`ConvLayer` -- stride-1 1-D / 2-D multi-channel convolutions, zero-padded
  or periodic (seed Definitions 2-3), with their sparse and dense matrices.
* :func:`certify_conv` -- seed Theorem 4: the reduced layer of a box P decided
  exactly by :func:`dsssolver.certify`; :func:`check_conv` re-checks it.
"""
from .layer import ConvLayer, from_torch_conv
from .result import ConvCertifyResult
from .theorem4 import certify_conv, check_conv, reduced_layer

__all__ = ["ConvLayer", "from_torch_conv", "ConvCertifyResult", "certify_conv", "check_conv",
           "reduced_layer"]
