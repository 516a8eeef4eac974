"""BatchNorm in [C; -s^2 C] generators: folded exactly into the pair argument.

The fold is checked against torch's own forward pass, and the pair verdicts against the
dense route (``certify_network``, which folds BatchNorm into dense rows by its own code
and decides with the search and the exact checker).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.conv import StridedConv, certify_conv_pairs
from dsssolver.conv.dcgan import certify_network_pairs, fold_batchnorm
from dsssolver.errors import InvalidInputError
from dsssolver.verify.conv import check_conv_pairs

torch = pytest.importorskip("torch")
nn = torch.nn


def _pair_conv(rng, c_in, h, k=4, s=2, p=1, s2=0.5):
    C = (rng.standard_normal((c_in, h, k, k)) * 0.5).astype(np.float32)
    conv = nn.ConvTranspose2d(c_in, 2 * h, k, s, p, bias=True)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(np.concatenate([C, -s2 * C], axis=1)))
        conv.bias.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, 2 * h).astype(np.float32)))
    return conv


def _batchnorm(rng, c, gamma, beta, kind=None):
    bn = (kind or nn.BatchNorm2d)(c)
    with torch.no_grad():
        bn.running_mean.copy_(torch.from_numpy(rng.uniform(-1, 1, c).astype(np.float32)))
        bn.running_var.copy_(torch.from_numpy(rng.uniform(0.3, 3, c).astype(np.float32)))
        bn.weight.copy_(torch.tensor(gamma, dtype=torch.float32))
        bn.bias.copy_(torch.tensor(beta, dtype=torch.float32))
    return bn.eval()


@pytest.mark.parametrize("seed", range(6))
def test_fold_is_a_positive_rescaling_of_what_torch_computes(seed):
    """ReLU(BN(conv x)) = |scale| * ReLU(conv' x + b') per channel, with torch as the reference
    (zero and negative scales included; ConvTranspose2d, stride-1 Conv2d and Conv1d)."""
    rng = np.random.default_rng(seed)
    if seed % 3 == 0:
        conv, shape, bn_kind = _pair_conv(rng, 3, 2), (3, 2, 2), nn.BatchNorm2d
    elif seed % 3 == 1:
        conv, shape, bn_kind = nn.Conv2d(3, 4, 2, padding=1), (3, 3, 3), nn.BatchNorm2d
    else:
        conv, shape, bn_kind = nn.Conv1d(3, 4, 2), (3, 5), nn.BatchNorm1d
    gamma = rng.uniform(-2, 2, 4)
    gamma[seed % 4] = 0.0
    bn = _batchnorm(rng, 4, gamma, rng.uniform(-1, 1, 4), bn_kind)
    net = nn.Sequential(conv, bn, nn.ReLU()).double().eval()
    x = rng.standard_normal((5,) + shape)
    with torch.no_grad():
        theirs = net(torch.from_numpy(x)).numpy().reshape(5, -1)
    from dsssolver._batchnorm import batchnorm_affine
    from dsssolver.conv.structure import as_conv

    layer = as_conv(conv, shape)
    scale, shift = batchnorm_affine(bn, 4, None, "test")
    folded, bias = fold_batchnorm(layer, scale, shift)
    W = folded.matrix()[0].toarray()
    per = W.shape[0] // 4
    b = np.repeat([float(v) for v in bias], per)
    ours = np.maximum(x.reshape(5, -1) @ W.T + b, 0)
    factor = np.repeat([abs(float(s)) if s != 0 else 1.0 for s in scale], per)
    assert np.allclose(ours * factor, theirs, rtol=1e-9, atol=1e-9)


def _cases(rng):
    """(torch net for the pairs route, the same modules behind an Unflatten for the dense route,
    what the BatchNorm does to the pairs)."""
    for t in range(15):
        h = 1 + t % 2
        c_in, size = 2, 2
        conv = _pair_conv(rng, c_in, h)
        kind = ["positive", "both negative", "one negative", "bias breaks", "random"][t % 5]
        gamma = rng.uniform(0.5, 2, 2 * h)
        beta = rng.uniform(0, 0.2, 2 * h)
        if kind == "random":
            gamma, beta = rng.uniform(-2, 2, 2 * h), rng.uniform(-1, 1, 2 * h)
        if kind == "both negative":
            gamma[[0, h]] *= -1
        elif kind == "one negative":
            gamma[0] *= -1
        elif kind == "bias breaks":
            beta[:] = -3.0  # every row is inactive near x = 0 once the mean is removed
        bn = _batchnorm(rng, 2 * h, gamma, beta)
        if kind != "random":  # folded biases beta / |scale| >= 0: the bias condition holds
            with torch.no_grad():  # (or, for "bias breaks", fails for every pair)
                bn.running_mean.zero_()
                conv.bias.zero_()
        pairs = nn.Sequential(conv, bn, nn.ReLU()).eval()
        dense = nn.Sequential(nn.Unflatten(1, (c_in, size, size)), conv, bn, nn.ReLU()).eval()
        yield pairs, dense, (c_in, size, size), kind


def test_pair_verdicts_with_batchnorm_agree_with_the_dense_route():
    rng = np.random.default_rng(7)
    seen = set()
    for pairs, dense, shape, kind in _cases(rng):
        res = certify_network_pairs(pairs, shape, independent_check=True)[0]
        full = dss.certify_network(dense)
        assert full.status != "unknown" and full.checked
        seen.add((kind, res.status, full.status))
        if res.status == "injective":
            assert full.status == "injective", kind
            assert res.stats["checker"]["ok"] is True
            assert "folded in exactly" in res.message
        else:
            assert res.status == "unknown"
        if kind in ("positive", "both negative"):
            assert res.status == "injective", kind  # the pairs survive a fold with one sign
        if kind == "one negative":
            assert res.stats["pairs"] < pairs[0].out_channels // 2
        if kind == "bias breaks":
            assert res.stats["bias_blocked_pairs"] == pairs[0].out_channels // 2
            assert "biases break lam b_i + b_j >= 0" in res.message and "rounding" not in res.message
    assert ("bias breaks", "unknown", "not_injective") in seen
    assert ("positive", "injective", "injective") in seen
    assert {k for k, _, _ in seen} == {"positive", "both negative", "one negative", "bias breaks",
                                       "random"}


def test_bias_condition_is_decided_on_the_exact_folded_biases():
    """One pair whose folded biases satisfy lam b_i + b_j >= 0 only with equality, exactly:
    a float rounding of b_j either way would flip the decision."""
    K = np.zeros((1, 2, 2, 2))
    K[0, 0] = [[1.0, 2.0], [3.0, 4.0]]
    K[0, 1] = -0.5 * K[0, 0]
    layer = StridedConv(K, None, (1, 1, 1), 1, 0, 0, True)
    b_i = Fraction(1, 3)
    for b_j, ok in ((-b_i / 2, True), (-b_i / 2 - Fraction(1, 10 ** 30), False)):
        res = certify_conv_pairs(layer, bias=[b_i, b_j], independent_check=True)
        assert (res.status == "injective") is ok
        claim = {"pairs": [[0, 1, "1/2"]]}
        assert bool(check_conv_pairs(K, [b_i, b_j], (1, 1, 1), 1, 0, claim)) is ok
        text = [f"{v.numerator}/{v.denominator}" for v in (b_i, b_j)]
        assert bool(check_conv_pairs(K, text, (1, 1, 1), 1, 0, claim)) is ok


def test_fold_keeps_the_biases_exact():
    """lam = 3 and a folded bias of 1/3: lam b_i + b_j = 0 exactly, so the layer is injective by
    the pair argument; the float 1/3 would make it 3 * 0.333... - 1 < 0 and "unknown"."""
    K = np.zeros((1, 2, 2, 2))
    K[0, 0] = [[1.0, 2.0], [3.0, 4.0]]
    K[0, 1] = -3.0 * K[0, 0]
    layer = StridedConv(K, None, (1, 1, 1), 1, 0, 0, True)
    folded, bias = fold_batchnorm(layer, [Fraction(3), Fraction(1)], [Fraction(1), Fraction(-1)])
    assert bias == [Fraction(1, 3), Fraction(-1)] and all(type(v) is Fraction for v in bias)
    res = certify_conv_pairs(folded, bias=bias, independent_check=True)
    assert res.status == "injective" and res.stats["checker"]["ok"] is True
    assert certify_conv_pairs(folded, bias=[float(v) for v in bias]).status == "unknown"


def test_checker_refuses_a_pair_whose_folded_bias_breaks_the_condition(monkeypatch):
    """Break the search on purpose (pairs found with the biases ignored): the independent
    checker, given the exact folded biases, refuses, and the answer is "unknown"."""
    import dsssolver.conv.structure as structure

    real = structure.find_pairs
    monkeypatch.setattr(structure, "find_pairs", lambda F, b: real(F, [0] * len(b)))
    rng = np.random.default_rng(3)
    conv = _pair_conv(rng, 2, 1)
    bn = _batchnorm(rng, 2, [1.0, 1.0], [-3.0, -3.0])
    with torch.no_grad():
        bn.running_mean.zero_()
    res = certify_network_pairs(nn.Sequential(conv, bn, nn.ReLU()).eval(), (2, 2, 2),
                                independent_check=True)[0]
    assert res.status == "unknown" and "lam b_i + b_j < 0" in res.message


def test_batchnorm_after_the_activation():
    rng = np.random.default_rng(5)
    conv = _pair_conv(rng, 2, 1)
    with torch.no_grad():
        conv.bias.zero_()  # the layer itself is injective
    for gamma, status in (([1.0, -0.5], "injective"), ([1.0, 0.0], "unknown")):
        bn = _batchnorm(rng, 2, gamma, [0.1, 0.2])
        res = certify_network_pairs(nn.Sequential(conv, nn.ReLU(), bn).eval(), (2, 2, 2))[0]
        assert res.status == status and "batchnorm_after" in res.stats
        if status == "unknown":
            assert "scale 0" in res.message


def test_batchnorm_bad_input():
    conv = _pair_conv(np.random.default_rng(0), 2, 1)
    bn = nn.BatchNorm2d(2)
    with pytest.raises(InvalidInputError, match="eval mode"):
        certify_network_pairs(nn.Sequential(conv, bn.train(), nn.ReLU()), (2, 2, 2))
    with pytest.raises(InvalidInputError, match="before the first convolution"):
        certify_network_pairs(nn.Sequential(nn.BatchNorm2d(2).eval(), conv), (2, 2, 2))
    with pytest.raises(InvalidInputError, match="features"):
        certify_network_pairs(nn.Sequential(conv, nn.BatchNorm2d(3).eval()), (2, 2, 2))
    with pytest.raises(InvalidInputError, match="in a row"):
        certify_network_pairs(nn.Sequential(conv, bn.eval(), nn.BatchNorm2d(2).eval()), (2, 2, 2))
    with pytest.raises(InvalidInputError, match="training mode"):
        certify_network_pairs(nn.Sequential(conv, nn.Dropout2d(0.5).train(), nn.ReLU()), (2, 2, 2))
    res = certify_network_pairs(nn.Sequential(conv, nn.Dropout2d(0.5).eval(), nn.ReLU()), (2, 2, 2))
    assert len(res) == 1 and res[0].status != "skipped"  # eval-mode dropout is the identity
    with pytest.raises(InvalidInputError, match="read from the network"):
        certify_network_pairs(nn.Sequential(conv, nn.ReLU()), (2, 2, 2), bias=[0, 0])
    with pytest.raises(InvalidInputError, match="bias"):
        certify_conv_pairs(conv, input_shape=(2, 2, 2), bias=[0.0, float("nan")])
    with pytest.raises(InvalidInputError, match="bias"):
        certify_conv_pairs(conv, input_shape=(2, 2, 2), bias=[0.0])
    K = conv.weight.detach().double().numpy()
    claim = {"pairs": [[0, 1, "1/2"]]}
    for bad in ([0.0], [0.0, float("inf")], ["x", "1"], "01", [True, 0]):
        out = check_conv_pairs(K, bad, (2, 2, 2), 2, 1, claim)
        assert not out and "bias" in out.message
