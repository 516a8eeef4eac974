"""Convolutional ReLU layers: seed Theorem 4, and the structure of [C; -s^2 C] filters.

* :class:`ConvLayer` -- stride-1 1-D / 2-D multi-channel convolutions, zero-padded
  or periodic (seed Definitions 2-3), with their sparse and dense matrices.
* :func:`certify_conv` -- seed Theorem 4: the reduced layer of a box P decided
  exactly by :func:`dsssolver.certify`; :func:`check_conv` re-checks it.
* :func:`certify_conv_pairs` -- [C; -s^2 C] layers at DCGAN scale: exact antiparallel
  channel pairs plus an exact rank of the C part (dense, per frequency, or by strips);
  :func:`injective_dcgan` and :func:`certify_network_pairs` for the seed's generator
  (torch generators with BatchNorm: :func:`fold_batchnorm`).
"""
from .layer import ConvLayer, from_torch_conv
from .result import ConvCertifyResult
from .dcgan import certify_network_pairs, fold_batchnorm, injective_dcgan, to_torch
from .pairs import ChannelPairs, find_pairs
from .structure import StridedConv, as_conv, certify_conv_pairs
from .theorem4 import certify_conv, check_conv, reduced_layer

__all__ = ["ConvLayer", "from_torch_conv", "ConvCertifyResult", "certify_conv", "check_conv",
           "reduced_layer", "ChannelPairs", "find_pairs", "StridedConv", "as_conv",
           "certify_conv_pairs", "certify_network_pairs", "fold_batchnorm", "injective_dcgan",
           "to_torch"]
