"""Convolutional ReLU layers (seed Definitions 2-3): 1-D and 2-D, multi-channel, stride 1.

A :class:`ConvLayer` is ``x -> ReLU(conv(x) + b)`` with a kernel of shape
``(c_out, c_in, *O)`` (torch's ``Conv1d`` / ``Conv2d`` layout; cross-correlation,
as torch computes it), an input of shape ``(c_in, *N)`` and one of two
boundary rules:

* ``"zeros"``: the input is zero-padded by ``padding`` on both sides of each
  axis (torch's default); the output has ``N + 2 padding - O + 1`` positions
  per axis;
* ``"periodic"``: the input is read modulo ``N`` and the output has ``N``
  positions per axis, ``y_J = sum_t K_t x_((J + t - padding) mod N)``: every
  cyclic shift of every kernel once.  ``padding`` only shifts the output; torch's
  ``padding_mode="circular"`` gives the same layer when ``2 padding = O - 1``.

The seed's Definition 2 convolves with the flipped kernel; flipping relabels the
kernel entries and changes no injectivity question.  Every row of the layer's
matrix is a shift of one kernel (Definition 3), possibly cut by the zero padding
or wrapped by the periodic boundary.

The matrix is built by :func:`dsssolver.layers.conv2d` (a 1-D layer is a 2-D one
of height 1), as a sparse matrix; :meth:`ConvLayer.dense` gives the dense one for
small signals.

Examples
--------
>>> import numpy as np
>>> layer = ConvLayer(np.array([[[1.0, -1.0]]]), input_shape=(1, 3))
>>> layer.output_shape
(1, 2)
>>> layer.dense()
array([[ 1., -1.,  0.],
       [ 0.,  1., -1.]])
>>> layer(np.array([3.0, 1.0, 0.0]))
array([2., 1.])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..layers import SparseMatrix, conv2d

__all__ = ["ConvLayer", "BOUNDARIES"]

BOUNDARIES = ("zeros", "periodic")


@dataclass(frozen=True, eq=False)
class ConvLayer:
    """A stride-1 convolution ``x -> ReLU(conv(x) + b)`` (seed Definition 3).

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, O_1) or (c_out, c_in, O_1, O_2)
        One kernel of width ``(c_in, O)`` per output channel.
    bias : array_like, shape (c_out,), optional
        One bias per output channel (default 0).
    input_shape : tuple
        ``(c_in, N_1)`` or ``(c_in, N_1, N_2)``.
    padding : int or tuple of int
        Padding on both sides of each spatial axis (default 0).
    boundary : {"zeros", "periodic"}
        How the input is extended beyond its edges.

    Attributes
    ----------
    output_shape : tuple
        ``(c_out, *M)``.
    shape : tuple
        ``(m, n)`` of the layer's matrix.

    Raises
    ------
    InvalidInputError (a ValueError)
        Naming the argument that is malformed (shapes, NaN/inf, negative padding,
        a kernel larger than the padded input, a periodic kernel wider than the
        signal).
    """

    kernel: np.ndarray
    bias: np.ndarray | None = None
    input_shape: tuple = ()
    padding: object = 0
    boundary: str = "zeros"

    def __post_init__(self):
        K = _finite_array(self.kernel, "kernel")
        if K.ndim not in (3, 4) or 0 in K.shape:
            raise InvalidInputError(f"kernel must have shape (c_out, c_in, O_1[, O_2]), got {K.shape}")
        dims = K.ndim - 2
        shape = tuple(int(s) for s in np.atleast_1d(self.input_shape))
        if len(shape) != dims + 1 or shape[0] != K.shape[1] or min(shape) < 1:
            raise InvalidInputError(f"input_shape must be ({K.shape[1]}, {', '.join(['N'] * dims)}) for "
                             f"this kernel, got {tuple(self.input_shape)}")
        pad = np.broadcast_to(np.asarray(self.padding), (dims,)).astype(int)
        if (pad < 0).any() or not np.all(np.asarray(self.padding) == np.asarray(self.padding, int)):
            raise InvalidInputError(f"padding must be non-negative integers, got {self.padding!r}")
        if self.boundary not in BOUNDARIES:
            raise InvalidInputError(f"boundary must be one of {BOUNDARIES}, got {self.boundary!r}")
        out = tuple(int(n + 2 * p - o + 1) for n, p, o in zip(shape[1:], pad, K.shape[2:]))
        if self.boundary == "periodic":
            out = shape[1:]
        if min(out) < 1:
            raise InvalidInputError(f"kernel {K.shape[2:]} is larger than the padded input {shape[1:]}")
        if self.boundary == "periodic" and any(o > n or p > n for o, p, n in
                                               zip(K.shape[2:], pad, shape[1:])):
            raise InvalidInputError("periodic boundary: kernel width and padding must not exceed the "
                             f"signal, got kernel {K.shape[2:]}, padding {tuple(pad)}, "
                             f"input {shape[1:]}")
        b = np.zeros(K.shape[0]) if self.bias is None else _finite_array(self.bias, "bias")
        if b.shape != (K.shape[0],):
            raise InvalidInputError(f"bias must have length {K.shape[0]}, got shape {b.shape}")
        object.__setattr__(self, "kernel", K)
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "padding", tuple(int(p) for p in pad))
        object.__setattr__(self, "output_shape", (K.shape[0],) + out)

    @property
    def dims(self):
        """Number of spatial axes (1 or 2)."""
        return self.kernel.ndim - 2

    @property
    def kernel_size(self):
        return self.kernel.shape[2:]

    @property
    def shape(self):
        return int(np.prod(self.output_shape)), int(np.prod(self.input_shape))

    def matrix(self):
        """``(W, b)``: the sparse matrix (:class:`dsssolver.layers.SparseMatrix`) and bias."""
        K, shape, pad = self.kernel, self.input_shape, self.padding
        if self.dims == 1:  # a 1-D layer is a 2-D one of height 1
            K, shape, pad = K[:, :, None, :], (shape[0], 1, shape[1]), (0, pad[0])
        if self.boundary == "zeros":
            return conv2d(K, self.bias, shape, 1, pad)
        # periodic: a circular convolution padded by O (>= O - 1) has every cyclic shift
        # among its outputs; output J of the layer is output J + O - padding of that one
        O = K.shape[2:]
        W, b = conv2d(K, self.bias, shape, 1, O, padding_mode="circular")
        big = tuple(n + o + 1 for n, o in zip(shape[1:], O))
        keep = np.arange(K.shape[0])[:, None, None] * big[0] * big[1] \
            + (np.arange(shape[1]) + O[0] - pad[0])[None, :, None] * big[1] \
            + (np.arange(shape[2]) + O[1] - pad[1])[None, None, :]
        return _rows_of(W, keep.reshape(-1)), b.reshape(K.shape[0], -1)[:, :1].repeat(
            shape[1] * shape[2], axis=1).reshape(-1)

    def dense(self):
        """The dense matrix of the whole operator (channel-major flattening, like torch)."""
        return self.matrix()[0].toarray()

    def pre(self, x):
        """``conv(x) + b`` for a flattened input ``x``."""
        W, b = self.matrix()
        return W @ np.asarray(x, dtype=np.float64).reshape(-1) + b

    def __call__(self, x):
        return np.maximum(self.pre(x), 0.0)

    def __repr__(self):
        return (f"ConvLayer(kernel {self.kernel.shape}, input {self.input_shape}, "
                f"padding {self.padding}, boundary {self.boundary!r})")


def _rows_of(W, rows):
    """Rows ``rows`` (in that order) of a :class:`SparseMatrix`, as a new one."""
    starts, ends = W.indptr[rows], W.indptr[np.asarray(rows) + 1]
    take = np.concatenate([np.arange(a, e) for a, e in zip(starts, ends)]) if len(rows) else []
    counts = ends - starts
    return SparseMatrix(np.concatenate([[0], np.cumsum(counts)]), W.indices[take], W.data[take],
                        (len(rows), W.shape[1]))


def _finite_array(a, name):
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a real numeric array") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} contains NaN or inf")
    return arr


def from_torch_conv(module, input_shape):
    """A :class:`ConvLayer` from a torch ``nn.Conv1d`` / ``nn.Conv2d`` (stride 1).

    ``padding_mode`` "zeros" and "circular" are read; the float32 weights become
    the float64 values they are exactly.

    Parameters
    ----------
    module : torch.nn.Conv1d or torch.nn.Conv2d
    input_shape : tuple
        ``(c_in, N_1[, N_2])``.
    """
    name = type(module).__name__
    if name not in ("Conv1d", "Conv2d"):
        raise InvalidInputError(f"from_torch_conv: expected Conv1d or Conv2d, got {name}")
    if any(s != 1 for s in module.stride) or any(d != 1 for d in module.dilation) \
            or module.groups != 1 or isinstance(module.padding, str):
        raise InvalidInputError("from_torch_conv: only stride 1, no dilation, groups or string padding")
    if module.padding_mode not in ("zeros", "circular"):
        raise InvalidInputError(f"from_torch_conv: padding_mode {module.padding_mode!r} not supported")
    if module.padding_mode == "circular" and any(
            2 * p != k - 1 for p, k in zip(module.padding, module.kernel_size)):
        raise InvalidInputError("from_torch_conv: a circular convolution is read only with "
                         "2 padding = kernel_size - 1 (then it is periodic, one row per shift)")
    to_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731  (float32 -> exact float64)
    return ConvLayer(to_np(module.weight), None if module.bias is None else to_np(module.bias),
                     input_shape, tuple(module.padding),
                     "periodic" if module.padding_mode == "circular" else "zeros")
