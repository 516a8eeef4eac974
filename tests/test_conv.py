"""Convolution layers and seed Theorem 4 (dsssolver.conv)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.conv import ConvLayer, certify_conv, check_conv, reduced_layer
from dsssolver.layers import conv2d, conv_transpose2d


def direct_conv(K, b, x, pad, boundary):
    """Reference: the convolution computed by explicit loops (torch's cross-correlation)."""
    K = np.asarray(K, dtype=float)
    one_d = K.ndim == 3
    if one_d:
        K, x, pad = K[:, :, None, :], x[:, None, :], (0, pad[0])
    c_out, c_in, kh, kw = K.shape
    _, h, w = x.shape
    ho, wo = h + 2 * pad[0] - kh + 1, w + 2 * pad[1] - kw + 1
    if boundary == "periodic":
        ho, wo = h, w
    out = np.zeros((c_out, ho, wo))
    for o, i, j in itertools.product(range(c_out), range(ho), range(wo)):
        s = b[o]
        for c, u, v in itertools.product(range(c_in), range(kh), range(kw)):
            y, z = i + u - pad[0], j + v - pad[1]
            if boundary == "periodic":
                y, z = y % h, z % w
            if 0 <= y < h and 0 <= z < w:
                s += K[o, c, u, v] * x[c, y, z]
        out[o, i, j] = s
    return out.reshape(-1)


CASES = [  # (kernel shape, input spatial shape, padding, boundary)
    ((3, 2, 2), (5,), (0,), "zeros"),
    ((2, 1, 3), (4,), (2,), "zeros"),
    ((2, 3, 3), (6,), (1,), "periodic"),
    ((4, 2, 2, 3), (4, 5), (1, 0), "zeros"),
    ((2, 2, 3, 3), (4, 4), (1, 1), "periodic"),
    ((3, 1, 2, 2), (3, 3), (0, 0), "periodic"),
    ((2, 2, 2), (3,), (1,), "periodic"),
]


@pytest.mark.parametrize("kshape, spatial, pad, boundary", CASES)
def test_operator_matches_direct_loops(kshape, spatial, pad, boundary):
    rng = np.random.default_rng(len(spatial) * 10 + sum(spatial))
    K = rng.standard_normal(kshape)
    b = rng.standard_normal(kshape[0])
    layer = ConvLayer(K, b, (kshape[1],) + spatial, pad, boundary)
    W = layer.dense()
    assert W.shape == layer.shape
    for _ in range(3):
        x = rng.standard_normal((kshape[1],) + spatial)
        ref = direct_conv(K, b, x, pad, boundary)
        assert np.allclose(W @ x.reshape(-1) + layer.bias.repeat(W.shape[0] // len(b)), ref)
        assert np.allclose(layer(x), np.maximum(ref, 0))
    # column j of W is the response to the j-th unit input: the matrix itself, two ways
    E = np.eye(layer.shape[1])
    cols = np.stack([direct_conv(K, np.zeros(len(b)), e.reshape(layer.input_shape), pad, boundary)
                     for e in E], axis=1)
    assert np.allclose(cols, W)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="kernel"):
        ConvLayer(np.array([[[np.nan]]]), input_shape=(1, 3))
    with pytest.raises(ValueError, match="input_shape"):
        ConvLayer(np.ones((1, 2, 2)), input_shape=(1, 3))
    with pytest.raises(ValueError, match="boundary"):
        ConvLayer(np.ones((1, 1, 2)), input_shape=(1, 3), boundary="reflect")
    with pytest.raises(ValueError, match="periodic"):
        ConvLayer(np.ones((1, 1, 4)), input_shape=(1, 3), padding=1, boundary="periodic")
    with pytest.raises(ValueError, match="bias"):
        ConvLayer(np.ones((2, 1, 2)), [1.0], input_shape=(1, 3))
    with pytest.raises(ValueError, match="padding"):
        ConvLayer(np.ones((1, 1, 2)), input_shape=(1, 3), padding=-1)
    layer = ConvLayer(np.ones((1, 1, 2)), input_shape=(1, 4))
    with pytest.raises(ValueError, match="box"):
        reduced_layer(layer, (5,))
    with pytest.raises(ValueError, match="box"):
        certify_conv(layer, box=(1,))
    with pytest.raises(ValueError, match="layer"):
        certify_conv(np.ones((2, 2)))


# ---------------------------------------------------------------- torch, when installed

def test_torch_conv_and_transposed_agree():
    torch = pytest.importorskip("torch")
    from dsssolver.conv import from_torch_conv

    torch.manual_seed(0)
    for mode in ("zeros", "circular"):
        m1 = torch.nn.Conv1d(2, 3, 3, padding=1, padding_mode=mode).double()
        m2 = torch.nn.Conv2d(2, 3, (3, 1), padding=(1, 0), padding_mode=mode).double()
        for mod, shape in ((m1, (2, 5)), (m2, (2, 4, 5))):
            layer = from_torch_conv(mod, shape)
            x = torch.randn((1,) + shape, dtype=torch.float64)
            ref = mod(x).detach().numpy().reshape(-1)
            assert np.allclose(layer.pre(x.numpy()), ref)
    # the shared sparse operators of dsssolver.layers, strided and transposed
    for stride, pad in ((1, 0), (2, 1), (2, 0)):
        conv = torch.nn.Conv2d(3, 2, 3, stride=stride, padding=pad).double()
        W, b = conv2d(conv.weight.detach().numpy(), conv.bias.detach().numpy(), (3, 6, 5),
                      stride, pad)
        x = torch.randn(1, 3, 6, 5, dtype=torch.float64)
        assert np.allclose(W @ x.numpy().reshape(-1) + b, conv(x).detach().numpy().reshape(-1))
        tconv = torch.nn.ConvTranspose2d(3, 2, 4, stride=stride, padding=pad).double()
        W, b = conv_transpose2d(tconv.weight.detach().numpy(), tconv.bias.detach().numpy(),
                                (3, 3, 4), stride, pad)
        x = torch.randn(1, 3, 3, 4, dtype=torch.float64)
        assert np.allclose(W @ x.numpy().reshape(-1) + b, tconv(x).detach().numpy().reshape(-1))


# ---------------------------------------------------------------- Theorem 4

def _full(layer):
    W, b = layer.matrix()
    return dss.certify(W.toarray(), b)


def _random_layers(rng, count):
    """Small 1-D and 2-D layers: integer, Gaussian, [C; -s^2 C], and degenerate kernels."""
    for t in range(count):
        dims = 1 if t % 3 else 2
        c_in = int(rng.integers(1, 3)) if dims == 1 else 1
        O = tuple(int(o) for o in rng.integers(1, 3, size=dims))
        N = tuple(int(o + rng.integers(0, 3)) for o in O)
        boundary = "periodic" if t % 4 == 1 else "zeros"
        pad = tuple(int(rng.integers(0, o)) for o in O) if boundary == "zeros" else (0,) * dims
        half = int(rng.integers(1, 4))
        kind = t % 5
        C = rng.integers(-2, 3, size=(half, c_in) + O).astype(float)
        if kind == 0:  # [C; -s^2 C] with dyadic s^2: exactly antiparallel pairs
            K = np.concatenate([C, -np.exp2(rng.integers(-1, 2, size=(half, 1) + (1,) * dims)) * C])
        elif kind == 1:  # Gaussian
            K = rng.standard_normal((2 * half + 1, c_in) + O)
        elif kind == 2:  # duplicates, zero and antipodal kernels
            K = np.concatenate([C, C, -C, np.zeros_like(C[:1])])
        else:
            K = rng.integers(-2, 3, size=(2 * half + kind - 2, c_in) + O).astype(float)
        b = None if t % 2 else rng.integers(-1, 2, size=len(K)).astype(float)
        yield ConvLayer(K, b, (c_in,) + N, pad, boundary)


def test_theorem4_agrees_with_the_full_operator():
    """Theorem 4 never says injective when the full operator is not, and its evidence checks."""
    rng = np.random.default_rng(4)
    counts = {"both": 0, "only_full": 0, "neither": 0}
    for layer in _random_layers(rng, 60):
        res = certify_conv(layer, max_dim=12)
        full = _full(layer)
        assert full.status != "unknown"
        if res.status == "injective":
            assert full.status == "injective", layer
            assert check_conv(res, layer)
            counts["both"] += 1
        else:
            assert res.status == "unknown" and res.method == "none"
            counts["only_full" if full.status == "injective" else "neither"] += 1
    assert counts["both"] >= 5 and counts["neither"] >= 5  # both outcomes are exercised


@pytest.mark.parametrize("boundary, N, pad", [("zeros", (4,), (1,)), ("periodic", (3,), (0,))])
def test_injective_layer_that_theorem4_cannot_certify(boundary, N, pad):
    """Kernels [1, 1] and [-1, -1]: every box's shifts span only a hyperplane of R^P
    (they all vanish on (1, -1, 1, ...)), so Theorem 4 fails for every P <= N; but the
    boundary rows (the cut kernels of the zero padding, or the wrapped shift of an odd
    periodic signal) make the full layer injective."""
    layer = ConvLayer(np.array([[[1.0, 1.0]], [[-1.0, -1.0]]]), None, (1,) + N, pad, boundary)
    res = certify_conv(layer, max_dim=8)
    assert res.status == "unknown" and res.injective is None
    assert all(e["status"] in ("not_injective",) or e["status"].startswith("skipped")
               for e in res.tried)
    assert _full(layer).status == "injective"
    decided = certify_conv(layer, max_dim=8, full_limit=16)
    assert decided.status == "injective" and decided.method == "full"
    assert check_conv(decided, layer)
    # the even periodic signal is not injective: the full verdict carries a witness
    even = ConvLayer(layer.kernel, None, (1, 4), 0, "periodic")
    res = certify_conv(even, max_dim=8, full_limit=16)
    assert res.status == "not_injective" and check_conv(res, even)


def test_seed_style_2d_layer_with_biases():
    """[C; -s^2 C] kernels on a 2-D signal with biases that keep each pair's condition."""
    rng = np.random.default_rng(7)
    C = rng.integers(-3, 4, size=(4, 1, 2, 2)).astype(float)
    K = np.concatenate([C, -0.5 * C])
    bC = rng.integers(-2, 3, size=4).astype(float)
    layer = ConvLayer(K, np.concatenate([bC, -0.5 * bC + 1]), (1, 4, 4), 1)
    res = certify_conv(layer, box=(3, 3))
    full = _full(layer)
    assert res.status == full.status == "injective"
    assert check_conv(res, layer)
    # evidence for the reduced layer is not evidence for another box
    res.box = (2, 2)
    assert not check_conv(res, layer)


def test_monotone_in_the_box():
    """A box that passes implies every larger box (up to N) passes (the proof's argument)."""
    rng = np.random.default_rng(11)
    passed = 0
    for layer in _random_layers(rng, 30):
        if layer.dims != 1 or layer.input_shape[0] * layer.input_shape[1] > 10:
            continue
        O, N = layer.kernel_size[0], layer.input_shape[1]
        verdicts = [dss.certify(*reduced_layer(layer, (P,))).status for P in range(O, N + 1)]
        for a, b in itertools.pairwise(verdicts):
            assert not (a == "injective" and b != "injective")
        passed += "injective" in verdicts
    assert passed >= 2
