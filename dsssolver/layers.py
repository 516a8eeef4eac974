"""Generator networks as lists of affine layers, for :func:`dsssolver.invert`.

A network is ``G(z) = act_L(W_L ... ReLU(W_2 ReLU(W_1 z + b_1) + b_2) ... + b_L)``:
every hidden layer is followed by a ReLU, the last by a ReLU, a LeakyReLU or
nothing.  Weights are dense ``numpy`` arrays or :class:`SparseMatrix` (CSR),
which is how convolutions are represented: a convolution is a linear map whose
matrix has a few nonzeros a row, and the LPs only ever see those nonzeros.

Examples
--------
>>> import numpy as np
>>> net = as_network([(np.eye(2), None), np.array([[1.0, 1.0], [-1.0, -1.0]])])
>>> [layer.shape for layer in net.layers]
[(2, 2), (2, 2)]
>>> net.forward(np.array([1.0, 2.0]))
array([3., 0.])
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ._batchnorm import batchnorm_affine
from ._torchread import check_composition, layer_modules
from ._validate import as_matrix, as_vector

__all__ = ["SparseMatrix", "Layer", "Network", "as_network", "conv2d", "conv_transpose2d",
           "from_torch"]

#: after the last layer only: "tanh" / "sigmoid" (a generator's image output) are inverted
#: through their inverse (:mod:`dsssolver.invert.squash`)
ACTIVATIONS = ("relu", "leaky_relu", "linear", "tanh", "sigmoid")


class SparseMatrix:
    """A minimal CSR matrix (no scipy needed): ``W @ x``, row blocks, ``toarray()``.

    Parameters
    ----------
    indptr, indices, data : array_like
        The usual compressed-sparse-row arrays.
    shape : tuple of int
        ``(m, n)``.
    """

    def __init__(self, indptr, indices, data, shape):
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.data = np.asarray(data, dtype=np.float64)
        self.shape = (int(shape[0]), int(shape[1]))
        if self.indptr.shape != (self.shape[0] + 1,) or self.indptr[-1] != len(self.data):
            raise ValueError("sparse matrix: indptr does not match the shape and data")
        if len(self.indices) != len(self.data) or (
            len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= self.shape[1])
        ):
            raise ValueError("sparse matrix: column indices out of range")
        if not np.all(np.isfinite(self.data)):
            raise ValueError("sparse matrix contains NaN or inf")
        self._rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        self._nz = np.diff(self.indptr) > 0  # rows with entries, and where they start: a
        self._starts = self.indptr[:-1][self._nz]  # matvec by reduceat (2.4x bincount's speed)
        self._dense = None

    @classmethod
    def from_coo(cls, rows, cols, vals, shape):
        """Build from triplets; duplicates are summed."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        vals = np.asarray(vals, dtype=np.float64)
        key = rows * shape[1] + cols
        uniq, inv = np.unique(key, return_inverse=True)
        summed = np.bincount(inv, weights=vals, minlength=len(uniq))
        r, c = uniq // shape[1], uniq % shape[1]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=shape[0]))])
        return cls(indptr, c, summed, shape)

    @property
    def nnz(self):
        return len(self.data)

    def __matmul__(self, x):
        """``W @ x`` for a vector, or a dense matrix with few columns (a Jacobian)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 2:
            return self._matmat(x)
        out = np.zeros(self.shape[0])
        if self.nnz:
            out[self._nz] = np.add.reduceat(self.data * x[self.indices], self._starts)
        return out

    def _matmat(self, M):
        """``W @ M``: only the entries in columns where M has a nonzero row take part (below a
        ReLU about half the rows of a Jacobian are 0: 3x faster on DCGAN-style generators)."""
        out = np.zeros((self.shape[0], M.shape[1]))
        keep = np.any(M != 0, axis=1)[self.indices]
        rows, cols, data = self._rows[keep], self.indices[keep], self.data[keep]
        if not len(rows):
            return out
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])  # CSR: rows come sorted
        step = max(1, int(2e7 // len(rows)))  # bound the (entries x columns) temporary
        for j in range(0, M.shape[1], step):
            prod = data[:, None] * M[cols, j:j + step]
            out[rows[starts], j:j + step] = np.add.reduceat(prod, starts, axis=0)
        return out

    @property
    def T(self):
        """The transpose (a new CSR matrix)."""
        return SparseMatrix.from_coo(self.indices, self._rows, self.data,
                                     (self.shape[1], self.shape[0]))

    def take_rows(self, mask):
        """The rows where ``mask`` is True, as a new CSR matrix."""
        keep = np.flatnonzero(np.asarray(mask, bool))
        sel = np.isin(self._rows, keep)
        new_row = np.cumsum(np.asarray(mask, bool)) - 1
        return SparseMatrix.from_coo(new_row[self._rows[sel]], self.indices[sel], self.data[sel],
                                     (len(keep), self.shape[1]))

    def toarray(self):
        """The dense matrix (cached: the rank tests work on dense row blocks)."""
        if self._dense is None:
            d = np.zeros(self.shape)
            d[self._rows, self.indices] = self.data
            self._dense = d
        return self._dense


def _csr_of(W):
    """CSR arrays of a dense or sparse matrix, for handing to HiGHS."""
    if isinstance(W, SparseMatrix):
        return W.indptr, W.indices, W.data
    m, n = W.shape
    mask = W != 0
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))])
    return indptr, np.nonzero(mask)[1], W[mask]


def _sigmoid(p):
    """1 / (1 + exp(-p)) without overflow for large |p|."""
    e = np.exp(-np.abs(p))
    return np.where(p >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass
class Layer:
    """One affine map ``x -> W x + b`` followed by ``activation``."""

    W: object  # np.ndarray (float64) or SparseMatrix
    b: np.ndarray
    activation: str = "relu"
    negative_slope: float = 0.0

    @property
    def shape(self):
        return self.W.shape

    def dense(self):
        return self.W.toarray() if isinstance(self.W, SparseMatrix) else self.W

    def pre(self, x):
        return self.W @ x + self.b

    def act(self, p):
        if self.activation == "relu":
            return np.maximum(p, 0.0)
        if self.activation == "leaky_relu":
            return np.where(p >= 0, p, self.negative_slope * p)
        if self.activation == "tanh":
            return np.tanh(p)
        if self.activation == "sigmoid":
            return _sigmoid(p)
        return p

    def __call__(self, x):
        return self.act(self.pre(x))


@dataclass
class Network:
    """A validated list of :class:`Layer`; ``forward(z)`` evaluates ``G(z)``.

    ``rounded`` names the weights and biases that float64 could not hold as given (exact
    Fractions such as 1/3): the network inverted is the rounded one."""

    layers: list
    rounded: list = field(default_factory=list)

    @property
    def latent_dim(self):
        return self.layers[0].shape[1]

    @property
    def output_dim(self):
        return self.layers[-1].shape[0]

    def forward(self, z):
        """``G(z)`` for one code (1-D) or a batch (one code per row)."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim == 2:
            return np.stack([self.forward(row) for row in z])
        for layer in self.layers:
            z = layer(z)
        return z


def _as_weight(W, name, rounded=None):
    if isinstance(W, SparseMatrix):
        return W
    if hasattr(W, "tocsr") and hasattr(W, "shape"):  # a scipy.sparse matrix
        c = W.tocsr()
        return SparseMatrix(c.indptr, c.indices, c.data, c.shape)
    return _float64(as_matrix(W, name), name, rounded)


def _float64(A, name, rounded=None):
    """``A`` as float64; appends ``name`` to ``rounded`` when that changes a value (exact
    Fractions such as 1/3, integers beyond 2^53): inversion runs on float64 weights, so its
    exact evidence is then about the rounded network, and the result must say so."""
    F = np.asarray(A.astype(np.float64) if A.dtype == object else A, dtype=np.float64)
    if rounded is not None:
        if A.dtype == object:
            changed = any(Fraction(a) != Fraction(float(f)) for a, f in zip(A.flat, F.flat))
        elif A.dtype.kind in "iu":
            big = np.abs(F) >= 2.0 ** 53
            changed = bool(big.any()) and any(int(a) != int(f) for a, f in zip(A[big], F[big]))
        else:
            changed = False
        if changed:
            rounded.append(name)
    return F


def as_network(layers, last_activation="relu", negative_slope=0.1):
    """Validate a network given as a list of ``(W, b)`` pairs (or bare ``W``).

    Parameters
    ----------
    layers : list, Network or torch.nn.Sequential
        ``[(W1, b1), (W2, b2), ...]``; ``b`` may be ``None``.  A ReLU follows every layer
        but the last, which is followed by ``last_activation``.  Items may also be
        :class:`Layer`.  A ``torch.nn.Sequential`` is converted by :func:`from_torch`.
    last_activation : {"relu", "leaky_relu", "linear", "tanh", "sigmoid"}
    negative_slope : float
        Slope of the LeakyReLU for negative inputs (0 < slope; used with "leaky_relu").

    Raises
    ------
    ValueError
        Naming the layer whose shape, values or activation are wrong.
    """
    if isinstance(layers, Network):
        return layers
    if hasattr(layers, "modules") and hasattr(layers, "forward"):  # torch module
        return from_torch(layers)
    if last_activation not in ACTIVATIONS:
        raise ValueError(f"last_activation must be one of {ACTIVATIONS}, got {last_activation!r}")
    if last_activation == "leaky_relu" and not (0 < float(negative_slope) != 1.0):
        raise ValueError(f"negative_slope must be > 0 and != 1, got {negative_slope}")
    if isinstance(layers, (str, bytes, os.PathLike)):  # a string is iterable: say what went wrong
        raise ValueError(f"layers must be a list of (W, b) pairs, not the file name {layers!r} "
                         "(load its arrays first, e.g. with numpy.load)")
    try:
        items = list(layers)
    except TypeError:
        raise ValueError("layers must be a list of (W, b) pairs") from None
    if not items:
        raise ValueError("layers is empty: give at least one (W, b)")
    out, rounded = [], []
    for k, item in enumerate(items, start=1):
        act = "relu" if k < len(items) else last_activation
        if isinstance(item, Layer):
            out.append(item)
            continue
        # a tuple is (W, b); so is a 2-list whose first item is an array (a bare W given
        # as nested lists has rows of numbers, never an array, as its first item)
        if (isinstance(item, tuple) and len(item) == 2) or (
                isinstance(item, list) and len(item) == 2
                and (isinstance(item[0], SparseMatrix) or np.ndim(item[0]) == 2)):
            W, b = item
        else:
            W, b = item, None
        try:
            W = _as_weight(W, f"layer {k}: W", rounded)
            b = _float64(as_vector(b, W.shape[0], f"layer {k}: b"), f"layer {k}: b", rounded)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        out.append(Layer(W, b, act, float(negative_slope) if act == "leaky_relu" else 0.0))
    for k in range(1, len(out)):
        if out[k].shape[1] != out[k - 1].shape[0]:
            raise ValueError(
                f"layer {k + 1}: W has {out[k].shape[1]} columns but layer {k} has "
                f"{out[k - 1].shape[0]} outputs")
        if out[k - 1].activation != "relu":
            raise ValueError(f"layer {k}: hidden layers must be followed by ReLU")
    return Network(out, rounded)


def _kernel_and_input(kernel, input_shape, in_axis, layout):
    """Validated 4-D kernel and the input's (h, w); ``in_axis`` is the input-channel axis."""
    K = np.asarray(kernel, dtype=np.float64)
    if K.ndim != 4:
        raise ValueError(f"kernel must be 4-D {layout}, got shape {K.shape}")
    if len(input_shape) != 3 or input_shape[0] != K.shape[in_axis]:
        raise ValueError(f"input_shape must be ({K.shape[in_axis]}, h, w), got "
                         f"{tuple(input_shape)}")
    return K, int(input_shape[1]), int(input_shape[2])


def conv2d(kernel, bias, input_shape, stride=1, padding=0, padding_mode="zeros"):
    """A 2-D convolution (cross-correlation, as in torch) as a sparse layer.

    Parameters
    ----------
    kernel : array_like, shape (c_out, c_in, kh, kw)
    bias : array_like, shape (c_out,) or None
    input_shape : tuple (c_in, h, w)
        Inputs and outputs are flattened channel-major (C, H, W), like ``tensor.reshape(-1)``.
    stride : int
    padding : int or (int, int)
        Zero (or circular) padding on both sides, the same for both axes or per axis.
    padding_mode : {"zeros", "circular"}
        As torch's ``padding_mode``: "circular" reads the input periodically
        (tap index taken modulo h and w; torch needs ``padding <= h, w``).

    Returns
    -------
    (SparseMatrix, ndarray)
        ``W`` with ``c_out*h_out*w_out`` rows and ``c_in*h*w`` columns, and the bias
        repeated over output positions: a ``(W, b)`` pair for :func:`as_network`.

    Examples
    --------
    >>> W, b = conv2d(np.ones((1, 1, 2, 2)), [0.5], (1, 3, 3))
    >>> W.shape, W.nnz
    ((4, 9), 16)
    >>> W @ np.arange(9.0) + b
    array([ 8.5, 12.5, 20.5, 24.5])
    """
    K, h, w = _kernel_and_input(kernel, input_shape, 1, "(c_out, c_in, kh, kw)")
    c_out, c_in, kh, kw = K.shape
    ph, pw = (padding, padding) if np.ndim(padding) == 0 else (int(p) for p in padding)
    if stride < 1 or ph < 0 or pw < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(f"padding_mode must be 'zeros' or 'circular', got {padding_mode!r}")
    ho, wo = (h + 2 * ph - kh) // stride + 1, (w + 2 * pw - kw) // stride + 1
    if ho < 1 or wo < 1:
        raise ValueError("kernel larger than the padded input")
    # one triplet per (output pixel, kernel tap) that lands inside the input
    o, ci, i, j, oy, ox = np.meshgrid(np.arange(c_out), np.arange(c_in), np.arange(kh),
                                      np.arange(kw), np.arange(ho), np.arange(wo), indexing="ij")
    iy, ix = oy * stride + i - ph, ox * stride + j - pw
    if padding_mode == "circular":  # periodic input: taps that wrap land on the same column
        iy, ix = iy % h, ix % w
    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w) & (K[o, ci, i, j] != 0)
    rows = (o * ho + oy) * wo + ox
    cols = (ci * h + iy) * w + ix
    W = SparseMatrix.from_coo(rows[ok], cols[ok], K[o, ci, i, j][ok], (c_out * ho * wo, c_in * h * w))
    bias = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have length {c_out}, got shape {bias.shape}")
    return W, np.repeat(bias, ho * wo)


def conv_transpose2d(kernel, bias, input_shape, stride=1, padding=0, output_padding=0):
    """A 2-D transposed convolution (torch's ConvTranspose2d), the usual upsampling layer
    of generators, as a sparse layer.

    It is the adjoint of :func:`conv2d` with the same kernel, stride and padding, so its
    matrix is that convolution's matrix transposed.

    Parameters
    ----------
    kernel : array_like, shape (c_in, c_out, kh, kw)
        torch's layout for ConvTranspose2d weights.
    bias : array_like, shape (c_out,) or None
    input_shape : tuple (c_in, h, w)
    stride, padding, output_padding : int
        Output size ``(h - 1) stride - 2 padding + kh + output_padding`` (and so for w).

    Examples
    --------
    >>> W, b = conv_transpose2d(np.ones((1, 1, 2, 2)), None, (1, 2, 2), stride=2)
    >>> W.shape
    (16, 4)
    """
    K, h, w = _kernel_and_input(kernel, input_shape, 0, "(c_in, c_out, kh, kw)")
    c_in, c_out, kh, kw = K.shape
    if not 0 <= output_padding < stride:
        raise ValueError("output_padding must be smaller than stride")
    H = (h - 1) * stride - 2 * padding + kh + output_padding
    Wd = (w - 1) * stride - 2 * padding + kw + output_padding
    if H < 1 or Wd < 1:
        raise ValueError("transposed convolution output would be empty")
    Wc, _ = conv2d(K, None, (c_out, H, Wd), stride, padding)
    if Wc.shape[1] != c_out * H * Wd or Wc.shape[0] != c_in * h * w:
        raise ValueError("stride/padding/output_padding do not invert to the input shape")
    bias = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have length {c_out}, got shape {bias.shape}")
    return Wc.T, np.repeat(bias, H * Wd)


def _fold_batchnorm(mod, layers, act, shape, pending):
    """Fold a BatchNorm into the layer before it (before that layer's activation) or keep it
    for the next layer's input (after an activation); returns the new ``pending``."""
    if not layers:
        raise ValueError("from_torch: a BatchNorm before the first Linear/Conv layer")
    W, b = layers[-1]
    scale, shift = (np.array(v, dtype=np.float64)
                    for v in batchnorm_affine(mod, W.shape[0], shape, f"from_torch: {type(mod).__name__}"))
    if act[-1] != "linear" or pending is not None:  # after the activation: the next layer's input
        if pending is not None:
            scale, shift = scale * pending[0], scale * pending[1] + shift
        return scale, shift
    b = np.zeros(W.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
    if isinstance(W, SparseMatrix):  # diag(s) W: scale each stored entry by its row's s
        W = SparseMatrix(W.indptr, W.indices, W.data * scale[W._rows], W.shape)
    else:
        W = scale[:, None] * np.asarray(W, dtype=np.float64)
    layers[-1] = (W, scale * b + shift)
    return None


def _after_pending(W, b, pending):
    """``W (s x + t) + b``: a BatchNorm kept from before, folded into the layer that reads it."""
    if pending is None:
        return W, b
    scale, shift = pending
    if len(scale) != W.shape[1]:
        raise ValueError(f"from_torch: a BatchNorm with {len(scale)} features before a layer "
                         f"with {W.shape[1]} inputs")
    b = np.zeros(W.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
    b = W @ shift + b
    if isinstance(W, SparseMatrix):  # W diag(s): scale each stored entry by its column's s
        return SparseMatrix(W.indptr, W.indices, W.data * scale[W.indices], W.shape), b
    return np.asarray(W, dtype=np.float64) * scale[None, :], b


def from_torch(module, input_shape=None):
    """Convert a ``torch.nn.Sequential`` of Linear / Conv2d / ConvTranspose2d / ReLU
    (/ LeakyReLU, Tanh or Sigmoid last), with BatchNorm1d/2d in eval mode folded in
    (float64: before an activation into the layer before, after one into the layer after).

    torch is an optional extra: it is imported only by the module you pass.  A ReLU
    must follow every Linear/Conv2d but the last, which may be followed by ReLU,
    LeakyReLU, Tanh, Sigmoid or nothing.  A (transposed) convolution needs the shape
    ``(c, h, w)`` of its input: from an ``nn.Unflatten`` before it, from ``input_shape``
    if it comes first, or from the convolution before it.  Flatten / Identity are skipped
    (the order is the same).
    """
    mods = layer_modules(module)
    check_composition(module, mods, input_shape, "from_torch")
    layers, act, slope = [], [], 0.1
    pending = None  # (scale, shift) of a BatchNorm after an activation, for the next layer's input
    shape = tuple(input_shape) if input_shape is not None else None
    for mod in mods:
        name = type(mod).__name__
        if name == "Linear":
            W = mod.weight.detach().cpu().double().numpy()
            b = None if mod.bias is None else mod.bias.detach().cpu().double().numpy()
            layers.append(_after_pending(W, b, pending))
            pending = None
            act.append("linear")
            shape = None
        elif name == "Conv2d":
            if shape is None:
                raise ValueError("from_torch: Conv2d needs input_shape=(c, h, w)")
            st, pad = mod.stride[0], mod.padding[0]
            if isinstance(pad, str) or mod.stride[0] != mod.stride[1] or pad != mod.padding[1] \
                    or mod.dilation != (1, 1) or mod.groups != 1:
                raise ValueError("from_torch: only square stride/padding, no dilation or groups")
            K = mod.weight.detach().cpu().double().numpy()
            b = None if mod.bias is None else mod.bias.detach().cpu().double().numpy()
            W, bb = conv2d(K, b, shape, st, pad)
            layers.append(_after_pending(W, bb, pending))
            pending = None
            act.append("linear")
            ho = (shape[1] + 2 * pad - K.shape[2]) // st + 1
            wo = (shape[2] + 2 * pad - K.shape[3]) // st + 1
            shape = (K.shape[0], ho, wo)
        elif name == "ConvTranspose2d":
            if shape is None:
                raise ValueError("from_torch: ConvTranspose2d needs input_shape=(c, h, w)")
            st, pad, opad = mod.stride[0], mod.padding[0], mod.output_padding[0]
            if mod.stride[0] != mod.stride[1] or pad != mod.padding[1] \
                    or opad != mod.output_padding[1] or mod.dilation != (1, 1) or mod.groups != 1:
                raise ValueError("from_torch: only square stride/padding, no dilation or groups")
            K = mod.weight.detach().cpu().double().numpy()
            b = None if mod.bias is None else mod.bias.detach().cpu().double().numpy()
            W, bb = conv_transpose2d(K, b, shape, st, pad, opad)
            layers.append(_after_pending(W, bb, pending))
            pending = None
            act.append("linear")
            shape = (K.shape[1], (shape[1] - 1) * st - 2 * pad + K.shape[2] + opad,
                     (shape[2] - 1) * st - 2 * pad + K.shape[3] + opad)
        elif name in ("ReLU", "LeakyReLU"):
            if not act or act[-1] != "linear":
                raise ValueError(f"from_torch: {name} not directly after Linear/Conv2d")
            act[-1] = "relu" if name == "ReLU" else "leaky_relu"
            if name == "LeakyReLU":
                slope = float(mod.negative_slope)
        elif name in ("Tanh", "Sigmoid"):
            if not act or act[-1] != "linear" or pending is not None:
                raise ValueError(f"from_torch: {name} not directly after Linear/Conv2d")
            act[-1] = name.lower()
        elif name in ("BatchNorm1d", "BatchNorm2d"):
            pending = _fold_batchnorm(mod, layers, act, shape, pending)
        elif name == "Unflatten":  # (C, H, W) flattening is the order conv2d uses
            shape = tuple(int(d) for d in mod.unflattened_size)
        elif name.startswith("Dropout") and mod.training:
            raise ValueError("from_torch: Dropout must be in eval mode (call net.eval())")
        elif name in ("Flatten", "Identity") or name.startswith("Dropout"):
            continue
        else:
            raise ValueError(f"from_torch: unsupported module {name}")
    if pending is not None:  # a BatchNorm after the last activation: a per-coordinate affine map
        layers.append((np.diag(pending[0]), pending[1]))
        act.append("linear")
    if not layers:
        raise ValueError("from_torch: no Linear or Conv2d layers found")
    if any(a != "relu" for a in act[:-1]):
        raise ValueError("from_torch: every hidden layer must be followed by ReLU")
    return as_network(layers, last_activation=act[-1], negative_slope=slope)
