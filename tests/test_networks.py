"""Networks: structured proofs, constructions, layerwise and end-to-end verdicts, against references."""
from __future__ import annotations

import copy
import json
import math
import re
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.errors import InvalidInputError
from dsssolver.exact.pairs import pair_proof, parallel_classes
from dsssolver.networks import certify_layer, certify_network, construct, decide_end_to_end
from dsssolver.netmodel import as_layers
from dsssolver.testing.network_reference import reference_end_to_end_1d
from dsssolver.testing.reference import reference_by_cells
from dsssolver.verify.end_to_end import check_end_to_end
from dsssolver.verify.network import check_network, forward_exact
from dsssolver.verify.pairs import check_pair_proof, primitive_rows


# ------------------------------------------------------------------ primitive rows, pair proofs
def _primitive_ref(row):
    fr = [Fraction(v) for v in row]
    den = math.lcm(*[q.denominator for q in fr])
    ints = [int(q * den) for q in fr]
    g = math.gcd(*ints) or 1
    return [v // g for v in ints], Fraction(g, den)


@pytest.mark.parametrize("seed", range(5))
def test_primitive_rows_match_fractions(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((6, 4)) * 2.0 ** rng.integers(-30, 30, size=(6, 4))
    W[0] = 0.0
    W[1, 1] = 0.0
    W[2] = [1e-300, 1.0, 3.0, -2.5]  # exponents far apart: the slow path
    P, t = primitive_rows(W, range(6))
    for k in range(6):
        ref_p, ref_t = _primitive_ref(W[k])
        assert [int(v) for v in P[k]] == ref_p
        if any(ref_p):
            assert t[k] == ref_t
            assert [t[k] * int(v) for v in P[k]] == [Fraction(v) for v in W[k]]


@pytest.mark.parametrize("n,m,bias,cond,shuffle", [(1, 2, False, False, False), (2, 4, True, False, True),
                                                   (3, 7, True, True, True), (5, 10, False, True, False),
                                                   (40, 100, True, False, True)])
def test_expansive_layers_are_proven_by_pairs(n, m, bias, cond, shuffle):
    W, b = construct.expansive_layer(n, m, seed=n, bias=bias, conditioned=cond, shuffle=shuffle)
    res = dss.certify(W, b)
    assert res.status == "injective" and res.stats.get("path") == "antiparallel pairs"
    assert dss.check(res, W, b) and dss.check(res.to_json(), W, b)
    Wf, bf = construct.expansive_layer(n, m, seed=n, bias=bias, conditioned=cond, exact=True)
    assert dss.certify(Wf, bf).status == "injective"


def test_pair_proofs_are_rejected_when_wrong():
    W = np.array([[1, 2], [0, 1], [-2, -4], [0, -3]])
    b = np.zeros(4)
    good = [((0, 2), (2, 1)), ((1, 3), (3, 1))]
    assert check_pair_proof([0, 1], good, W, b)[0]
    assert not check_pair_proof([0, 1], [((0, 2), (1, 1)), good[1]], W, b)[0]  # wrong ratio
    assert not check_pair_proof([0, 1], [((0, 2), (-2, -1)), good[1]], W, b)[0]  # negative
    bb = np.array([1.0, 0.0, -3.0, 0.0])  # 2 * 1 + 1 * (-3) < 0
    assert not check_pair_proof([0, 1], good, W, bb)[0]
    Ws = np.array([[1, 2], [2, 4], [-2, -4], [-1, -2]])  # parallel pair directions: singular minor
    assert not check_pair_proof([0, 1], [((0, 2), (2, 1)), ((1, 3), (1, 2))], Ws, b)[0]
    assert check_pair_proof([0, 2], good, W, b) is None  # both minor rows from one pair: not the shape


def test_float_built_layers_fall_back_to_the_search():
    rng = np.random.default_rng(3)
    for _ in range(10):
        B = rng.standard_normal((2, 2))
        D = rng.uniform(0.1, 3, size=2)
        W = np.vstack([B, -D[:, None] * B])
        res = dss.certify(W)
        ref = reference_by_cells(W)
        assert res.status == ref.status
        assert dss.check(res, W)


def test_parallel_classes_and_biases():
    W = np.array([[1., 0.], [2., 0.], [-1., 0.], [0., 1.], [0., -4.], [1., 1.]])
    cls = parallel_classes(W)
    assert [(c.positive, c.negative) for c in cls] == [([0, 1], [2]), ([3], [4]), ([5], [])]
    # b makes pair (0, 2) invalid (1*1 + 1*(-2) < 0) but (1, 2) valid (1/2*2 - 1 >= 0)
    b = np.array([1., 2., -1., 0., 0., 0.])
    minor, deps = pair_proof(W, b)
    assert check_pair_proof(minor, deps, W, b)[0]
    assert dss.certify(W, b).status == reference_by_cells(W, b).status == "injective"


@pytest.mark.slow
def test_structured_layer_n1000_under_ten_seconds():
    import time

    W, b = construct.expansive_layer(1000, 2500, seed=0, shuffle=True)
    t = time.perf_counter()
    res = dss.certify(W, b)
    ok = dss.check(res, W, b)
    assert res.status == "injective" and ok and time.perf_counter() - t < 10


def test_structured_layer_n200_fast():
    import time

    W, b = construct.expansive_layer(200, 500, seed=0, shuffle=True)
    t = time.perf_counter()
    res = dss.certify(W, b)
    assert res.status == "injective" and dss.check(res, W, b)
    assert time.perf_counter() - t < 5  # about 0.1 s measured; generous for a loaded machine


# ------------------------------------------------------------------ networks layer by layer
def test_equation_4_network_is_injective():
    W = np.vstack([np.eye(2), -np.eye(2)])
    assert dss.certify(np.eye(4)).status == "not_injective"  # the second layer alone, on R^4
    assert dss.certify(np.eye(4), domain="nonnegative").status == "injective"  # its true domain
    res = certify_network([W, np.eye(4)])
    assert res.status == "injective" and res.checked and res.decided_by == "layerwise"
    assert res.layers[1].domain == "nonnegative"
    assert check_network(res.to_json(), [W, np.eye(4)])
    assert check_network(json.loads(json.dumps(res.to_json())), [W, np.eye(4)])


def test_first_layer_witness_is_a_network_witness():
    W1 = np.random.default_rng(0).standard_normal((5, 3))
    net = [W1, construct.expansive_layer(5, 10, seed=1)]
    res = certify_network(net)
    assert res.status == "not_injective" and res.decided_by == "first layer"
    z1, z2 = res.witness
    assert z1 != z2 and forward_exact(net, z1) == forward_exact(net, z2)
    # the second layer was never decided: the summary says why, not "unknown"
    assert res.layers[1].status == "unknown"
    assert "layer 2 10x5 relu on x >= 0: skipped: layer 1's witness" in res.summary()


def test_corollary2_mlp_layerwise():
    net = construct.corollary2_mlp([8, 20, 50], seed=0, bias=True)
    res = certify_network(net)
    assert res.status == "injective" and res.decided_by == "layerwise"
    assert [v.status for v in res.layers] == ["injective"] * 2


def test_leaky_and_linear_layers_by_rank():
    W1, b1 = construct.expansive_layer(2, 4, seed=0)
    net = [(W1, b1), {"W": np.array([[1., 2., 0., 1.], [0., 1., 1., 0.], [1., 0., 0., 3.], [2., 2., 1., 1.]]),
                      "b": np.ones(4), "activation": "leaky_relu", "negative_slope": 0.1},
           (np.ones((1, 4)), None, "linear")]
    res = certify_network(net)
    assert [v.status for v in res.layers][:2] == ["injective", "injective"]
    assert res.layers[2].status == "not_injective"  # 1 x 4 linear layer
    assert res.status in ("not_injective", "unknown")  # a 1-output map of R^2 is never injective
    with pytest.raises(InvalidInputError):
        certify_network([{"W": np.eye(2), "activation": "leaky_relu", "negative_slope": -0.5}])


@pytest.mark.parametrize("seed", range(6))
def test_float_linear_and_leaky_layers_are_decided_by_their_exact_rank(seed):
    # Gaussian float64 rows: denominators far beyond int64 (a former overflow scaled rows
    # wrongly, so rank-deficient layers came back "unknown"); equal columns make an exact
    # null vector, and the rank of a Gaussian matrix is numpy's with overwhelming margin
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 16))
    for m in (n - 3, n, n + 5):
        W = rng.standard_normal((m, n)) * 10.0 ** rng.integers(-3, 4)
        if seed % 2:
            W[:, -1] = W[:, 0]
        expect = "injective" if np.linalg.matrix_rank(W) == n else "not_injective"
        for act in ("linear", "leaky_relu"):
            res = certify_network([(W, rng.standard_normal(m), act)])
            assert (res.status, res.checked) == (expect, True), (m, n, act, res.message)
            if expect == "not_injective":  # the checker has compared the outputs exactly
                assert res.witness[0] != res.witness[1]


def test_input_domains():
    net = [(np.array([[1.0]]), np.array([-1.0]))]  # ReLU(x - 1): injective exactly where x >= 1
    assert certify_network(net).status == "not_injective"
    res = certify_network(net, box=([1], [2]))
    assert res.status == "injective" and res.checked
    assert check_network(res.to_json(), net, domain=res.domain)
    assert not check_network(res.to_json(), net)  # evidence for the box is not evidence for R
    res = certify_network(net, box=([0], [2]))
    assert res.status == "not_injective"
    z1, z2 = res.witness
    assert all(0 <= v[0] <= 2 for v in (z1, z2))


def test_invalid_networks():
    with pytest.raises(InvalidInputError, match="load_network"):
        certify_network("net.npz")
    with pytest.raises(InvalidInputError):
        certify_network([])
    with pytest.raises(InvalidInputError):
        certify_network([np.eye(2), np.eye(3)])
    with pytest.raises(InvalidInputError):
        certify_network([np.array([[np.nan, 1.0]])])
    with pytest.raises(InvalidInputError):
        certify_network([np.eye(2)], box=([0, 0], [0, 1]))
    for limits in ({"node_limit": -5}, {"node_limit": 2.5}, {"node_limit": True},
                   {"time_limit": float("nan")}, {"time_limit": "5"}, {"time_limit": 0}):
        with pytest.raises(InvalidInputError, match=next(iter(limits))):
            certify_network([np.eye(2)], **limits)
        with pytest.raises(InvalidInputError, match=next(iter(limits))):
            decide_end_to_end(as_layers([np.eye(2)]), **limits)


def test_graph_branches_and_theorem5():
    G, err = construct.theorem5_augment([np.array([[1.0, -1.0]]), (np.array([[2.0]]), None, "linear")],
                                        2.0 ** -6, box=([-2, -2], [2, 2]))
    res = certify_network(G)
    assert res.status == "injective" and res.checked
    assert err == pytest.approx(2.0 ** -6 * np.sqrt(8))
    # the network alone is not injective; its output is the last part of the augmented output
    z = [Fraction(1), Fraction(-1)]
    out = forward_exact(G, z)
    assert out[4:] == forward_exact([np.array([[1.0, -1.0]]), (np.array([[2.0]]), None, "linear")], z)
    assert out[:4] == [2.0 ** -6, 0, 0, 2.0 ** -6]
    G2 = nx.DiGraph()
    G2.add_node("x", dim=2)
    G2.add_node("f", layer=np.ones((3, 2)))
    G2.add_edge("x", "f")
    assert certify_network(G2).status == "unknown"


def test_tampered_network_evidence_fails():
    W = np.vstack([np.eye(2), -np.eye(2)])
    net = [W, construct.expansive_layer(4, 8, seed=0)]
    res = certify_network(net)
    doc = res.to_json()
    assert check_network(doc, net)
    bad = copy.deepcopy(doc)
    bad["layers"][1]["evidence"]["dependencies"][0]["multipliers"][0] = "7"
    out = check_network(bad, net)
    assert isinstance(out, dss.CheckResult) and not out and "layer 2" in out.message
    ok, message = out  # unpacks like check()'s result
    assert ok is False and message == out.message
    with pytest.warns(DeprecationWarning):
        check_network(bad, net, explain=True)
    other = [W, construct.expansive_layer(4, 8, seed=5)]
    assert not check_network(doc, other)


@pytest.mark.parametrize("tamper, words", [
    (lambda d: d.__setitem__("version", 7), "version"),
    (lambda d: d.__setitem__("version", True), "version"),
    (lambda d: d.pop("version"), "version"),
    (lambda d: d.__setitem__("domain", [1, 2]), "'domain'"),
    (lambda d: d["layers"][0].__setitem__("shape", [4, 3]), "layer 1: the entry is for shape"),
    (lambda d: d["layers"][1].__setitem__("status", "not_injective"), "layer 2: the entry says"),
    (lambda d: d["layers"].__setitem__(0, "injective"), "layer 1: its entry must be an object"),
])
def test_network_evidence_that_contradicts_itself_is_refused(tamper, words):
    # the proofs inside stay valid: only what the evidence says of itself is wrong
    W = np.vstack([np.eye(2), -np.eye(2)])
    net = [W, construct.expansive_layer(4, 8, seed=0)]
    doc = json.loads(json.dumps(certify_network(net).to_json()))
    assert check_network(doc, net)
    tamper(doc)
    try:
        out = check_network(doc, net)
    except dss.EvidenceError as exc:  # malformed before any check starts
        out = dss.CheckResult(False, str(exc))
    assert not out and words in out.message, out.message


# ------------------------------------------------------------------ torch
def test_torch_sequential_with_batchnorm():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    W1, b1 = construct.expansive_layer(3, 8, seed=0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                              torch.nn.Linear(8, 20), torch.nn.LeakyReLU(0.2), torch.nn.Identity())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W1))
        net[0].bias.zero_()
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
        net[1].weight.uniform_(0.5, 2)
        net[1].bias.zero_()
    net.eval()
    layers = as_layers(net)
    x = np.random.default_rng(0).standard_normal((5, 3))
    ours = np.array([[float(v) for v in forward_exact(layers, row)] for row in x])
    with torch.no_grad():
        theirs = net(torch.tensor(x, dtype=torch.float32)).numpy()
    assert np.allclose(ours, theirs, atol=1e-4)
    res = certify_network(net)
    assert [v.activation for v in res.layers] == ["relu", "leaky_relu"]
    assert res.status in ("injective", "not_injective") and res.checked
    # 20 x 8 Gaussian: full column rank
    assert certify_layer(layers[1], "nonnegative").status == "injective"
    net.train()
    with pytest.raises(InvalidInputError):
        certify_network(net)


@pytest.mark.parametrize("seed", range(3))
def test_batchnorm2d_and_conv_batchnorm1d_fold_per_channel(seed):
    """BatchNorm2d after Conv2d (folded into it), after a ReLU (into the next layer's input),
    and BatchNorm1d after Conv1d: the folded network computes what torch computes."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    nn = torch.nn
    net2 = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.Conv2d(1, 3, 2, padding=1), nn.BatchNorm2d(3),
                         nn.ReLU(), nn.Conv2d(3, 2, 2), nn.ReLU(), nn.BatchNorm2d(2), nn.Flatten(),
                         nn.Linear(32, 40), nn.ReLU())
    net1 = nn.Sequential(nn.Unflatten(1, (2, 5)), nn.Conv1d(2, 3, 2), nn.BatchNorm1d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(12, 30), nn.ReLU())
    for net, n in ((net2, 16), (net1, 10)):
        with torch.no_grad():
            for m in net:
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    m.running_mean.uniform_(-1, 1)
                    m.running_var.uniform_(0.5, 2)
                    m.weight.uniform_(-2, 2)  # negative scales flip rows
                    m.bias.uniform_(-1, 1)
        net.eval()
        layers = as_layers(net)
        # a convolution with a BatchNorm folded in is no longer its kernel: decided dense
        assert all(L.source is None for L in layers if L.kind == "dense")
        x = np.random.default_rng(seed).standard_normal((4, n))
        ours = np.array([[float(v) for v in forward_exact(layers, [Fraction(float(t)) for t in row])]
                         for row in x])
        with torch.no_grad():
            theirs = net.double()(torch.tensor(x)).numpy()
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
        net.float()
    bad = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.Conv2d(1, 3, 2), nn.BatchNorm2d(5)).eval()
    with pytest.raises(InvalidInputError, match="features"):
        as_layers(bad)


def test_torch_generator_with_transposed_convolutions():
    """A small DCGAN-shaped generator (Linear, ConvTranspose2d + BatchNorm2d, stride 2) is read
    as dense layers that compute what torch computes, and is certified with checked evidence."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    nn = torch.nn
    net = nn.Sequential(nn.Linear(2, 8 * 2 * 2), nn.ReLU(), nn.Unflatten(1, (8, 2, 2)),
                        nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.ConvTranspose2d(4, 1, 4, 2, 1))
    with torch.no_grad():
        net[4].running_mean.uniform_(-1, 1)
        net[4].running_var.uniform_(0.5, 2)
        net[4].weight.uniform_(-2, 2)
        net[4].bias.uniform_(-1, 1)
    net.eval()
    layers = as_layers(net)
    assert [L.W.shape for L in layers] == [(32, 2), (64, 32), (64, 64)]
    x = np.random.default_rng(1).standard_normal((4, 2))
    ours = np.array([[float(v) for v in forward_exact(layers, [Fraction(float(t)) for t in row])]
                     for row in x])
    with torch.no_grad():
        theirs = net.double()(torch.tensor(x)).numpy().reshape(len(x), -1)  # channel-major
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    res = certify_network(net.float(), time_limit=60)
    assert res.status in ("injective", "not_injective", "unknown")
    if res.status != "unknown":
        assert res.checked and check_network(res, net)
    bad = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.ConvTranspose2d(1, 1, 2, (2, 1))).eval()
    with pytest.raises(InvalidInputError, match="module 1"):
        as_layers(bad)


def test_batchnorm_is_folded_exactly():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    B = torch.randn(3, 3, dtype=torch.float64).float()
    net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.BatchNorm1d(6, eps=0.0), torch.nn.ReLU())
    with torch.no_grad():
        net[0].weight.copy_(torch.cat([B, -B]))
        net[0].bias.zero_()
        net[1].running_mean.uniform_(-1, 0)  # with beta >= 0: every folded bias >= 0
        net[1].running_var.copy_(torch.tensor([0.25, 4.0, 1.0, 0.0625, 2.25, 9.0]))  # rational squares
        net[1].weight.uniform_(0.5, 2)
        net[1].bias.uniform_(0, 1)
    net.eval()
    (layer,) = as_layers(net)
    q = lambda t: [Fraction(v) for v in t.detach().double().numpy().ravel().tolist()]  # noqa: E731
    W, b, mean, var, gamma, beta = (q(t) for t in (net[0].weight, net[0].bias, net[1].running_mean,
                                                    net[1].running_var, net[1].weight, net[1].bias))
    roots = [Fraction(1, 2), Fraction(2), Fraction(1), Fraction(1, 4), Fraction(3, 2), Fraction(3)]
    assert [r * r for r in roots] == var
    x = [Fraction(1, 3), Fraction(-2), Fraction(5, 7)]
    pre = [sum(W[3 * i + j] * x[j] for j in range(3)) + b[i] for i in range(6)]
    expected = [max(Fraction(0), (p - m) / r * g + be)
                for p, m, r, g, be in zip(pre, mean, roots, gamma, beta)]
    assert forward_exact([layer], x) == expected  # exact, not close
    # rows scaled by positive rationals stay exactly antiparallel: the pair proof still applies
    res = certify_layer(layer)
    assert res.status == "injective" and "antiparallel" in res.message


# ------------------------------------------------------------------ end to end
def _random_1d_net(rng, widths, bias):
    layers = []
    for a, c in zip(widths, widths[1:]):
        W = rng.integers(-2, 3, size=(c, a)).astype(float)
        b = rng.integers(-2, 3, size=c).astype(float) if bias else np.zeros(c)
        act = "relu" if rng.random() < 0.8 else "leaky_relu"
        layers.append((W, b, act, 0.25) if act == "leaky_relu" else (W, b, act))
    if rng.random() < 0.3:
        W, b = layers[-1][:2]
        layers[-1] = (W, b, "linear")
    return layers


def _as_net(layers):
    return [{"W": L[0], "b": L[1], "activation": L[2], "negative_slope": L[3] if len(L) > 3 else 0.01}
            for L in layers]


@pytest.mark.parametrize("seed", range(40))
def test_end_to_end_matches_the_1d_reference(seed):
    rng = np.random.default_rng(seed)
    bias = seed % 2 == 1
    widths = [1] + [int(rng.integers(1, 4)) for _ in range(1 + seed % 3)]
    net = _random_1d_net(rng, widths, bias)
    layers = as_layers(_as_net(net))
    box = ([Fraction(-2)], [Fraction(3)]) if bias else ([Fraction(-1)], [Fraction(1)])
    ref, _ = reference_end_to_end_1d(net, box[0][0], box[1][0])
    dom = None if not bias else ([[Fraction(1)], [Fraction(-1)]], [box[1][0], -box[0][0]])
    res = decide_end_to_end(layers, domain=dom)
    assert res.status == ref, (net, res.message)
    if res.status == "injective":
        assert check_end_to_end(res.certificate, layers, dom)[0]
    else:
        z1, z2 = res.witness
        assert z1 != z2 and forward_exact(layers, z1) == forward_exact(layers, z2)
    if not bias:  # homogeneous: the box [-1, 1] as a polyhedron gives the same answer
        box_dom = ([[Fraction(1)], [Fraction(-1)]], [Fraction(1), Fraction(1)])
        assert decide_end_to_end(layers, domain=box_dom).status == ref


@pytest.mark.parametrize("seed", range(6))
def test_end_to_end_two_inputs_agrees_with_layerwise(seed):
    rng = np.random.default_rng(100 + seed)
    W1, _ = construct.expansive_layer(2, 4 + seed % 2, seed=rng)
    W2 = rng.integers(-1, 2, size=(3 + seed % 3, W1.shape[0])).astype(float)
    layers = as_layers([W1, W2])
    res = decide_end_to_end(layers, time_limit=60)
    assert res.status in ("injective", "not_injective")
    if res.status == "injective":
        assert check_end_to_end(res.certificate, layers, None)[0]
    else:
        z1, z2 = res.witness
        assert z1 != z2 and forward_exact(layers, z1) == forward_exact(layers, z2)
    lw = certify_network([W1, W2], end_to_end=False)
    if lw.status != "unknown":
        assert lw.status == res.status


def test_end_to_end_zero_neurons_and_dead_cells():
    # the second layer's first neuron reads two neurons that are never on together with the third:
    # its pre-activation is identically 0 on some cells (a "zero" split)
    W1 = np.array([[1.0], [-1.0]])
    W2 = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, -1.0]])
    layers = as_layers([W1, W2])
    res = decide_end_to_end(layers)
    assert res.status == "injective" and "zero" in json.dumps(res.certificate)
    assert reference_end_to_end_1d([(W1, np.zeros(2), "relu"), (W2, np.zeros(3), "relu")], -1, 1)[0] \
        == "injective"


def test_end_to_end_certificates_are_checked():
    W = np.vstack([np.eye(2), -np.eye(2)])
    layers = as_layers([W, np.eye(4)])
    res = decide_end_to_end(layers)
    cert = res.certificate
    assert check_end_to_end(cert, layers, None)[0]
    # the same certificate does not prove a non-injective network
    W2 = np.array([[1., 1., 0., 0.], [0., 0., 1., 1.], [1., 0., 1., 0.], [0., 1., 0., 1.]])
    bad_net = as_layers([W, W2])
    assert not check_end_to_end(cert, bad_net, None)[0]
    # a leaf claimed infeasible with no multipliers fails
    broken = copy.deepcopy(cert)
    node = broken["tree"]
    while "split" in node:
        node = node["pos"]
    node.clear()
    node["infeasible"] = {}
    assert not check_end_to_end(broken, layers, None)[0]
    # biases: the homogeneity box is refused
    biased = as_layers([(W, np.ones(4)), np.eye(4)])
    assert not check_end_to_end(cert, biased, None)[0]
    assert decide_end_to_end(biased).status == "unknown"


def test_corollary3_network_end_to_end():
    net = construct.corollary3_network([1, 4, 3, 6, 3], seed=0)
    res = certify_network(net)
    assert res.status == "injective" and res.decided_by == "end to end" and res.checked
    assert res.layers[1].status == "not_injective"  # a projection alone is never injective


def test_layer_injective_only_on_nonnegative_inputs_needs_the_domain():
    # layer 2 = Id: not injective on R^4, injective on x >= 0; a network with such a layer after an
    # injective first layer is injective -- decided end to end when domains are not available
    W = np.vstack([np.eye(1), -np.eye(1)])
    net = [W, np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])]
    res = certify_network(net)
    assert res.status == "injective"
    ref, _ = reference_end_to_end_1d([(W, np.zeros(2), "relu"), (net[1], np.zeros(3), "relu")], -1, 1)
    assert ref == "injective"


def test_end_to_end_check_honours_the_time_limit():
    rng = np.random.default_rng(111)  # injective, proven end to end (a layerwise proof fails)
    W1, _ = construct.expansive_layer(2, 4, seed=rng)
    W2 = rng.integers(-1, 2, size=(5, W1.shape[0])).astype(float)
    layers = as_layers([W1, W2])
    res = decide_end_to_end(layers, time_limit=60)
    assert res.status == "injective"
    import time

    from dsssolver.errors import CheckTimeout
    from dsssolver.verify.network import check_network

    ok, msg = check_end_to_end(res.certificate, layers, None, deadline=time.monotonic() + 60)
    assert ok and "leaves closed" in msg
    with pytest.raises(CheckTimeout, match="pattern tree"):
        check_end_to_end(res.certificate, layers, None, deadline=time.monotonic() - 1)
    ev = certify_network([W1, W2], end_to_end=True)
    assert ev.to_json()["argument"] == "end_to_end"  # the pattern tree is checked first
    assert check_network(ev, [W1, W2])
    with pytest.raises(CheckTimeout, match="pattern tree"):
        check_network(ev, [W1, W2], time_limit=1e-9)


def test_end_to_end_search_gives_its_check_the_time_left(monkeypatch):
    from dsssolver.errors import CheckTimeout
    from dsssolver.networks import end_to_end

    rng = np.random.default_rng(111)
    W1, _ = construct.expansive_layer(2, 4, seed=rng)
    W2 = rng.integers(-1, 2, size=(5, W1.shape[0])).astype(float)
    layers = as_layers([W1, W2])
    seen, real = [], end_to_end.check_network

    def spy(doc, net, *, domain=None, time_limit=None):
        seen.append(time_limit)
        return real(doc, net, domain=domain, time_limit=time_limit)

    monkeypatch.setattr(end_to_end, "check_network", spy)
    assert decide_end_to_end(layers, time_limit=60).status == "injective"
    assert 0 < seen[-1] <= 60

    def cut_off(doc, net, *, domain=None, time_limit=None):
        raise CheckTimeout("time limit reached while checking the end-to-end pattern tree")

    monkeypatch.setattr(end_to_end, "check_network", cut_off)
    res = decide_end_to_end(layers, time_limit=60)
    assert res.status == "unknown" and "cut off" in res.message and "check" in res.stats["reason"]


def test_a_network_time_limit_is_reported_readably():
    # 50 rows on the 3-dimensional image of the first layer: the end-to-end search outlasts 1 s
    rng = np.random.default_rng(0)
    layers = [{"W": rng.standard_normal((20, 3))}, {"W": rng.standard_normal((50, 20))}]
    res = certify_network(layers, time_limit=1.5)
    assert res.status == "unknown"
    limit = re.search(r"time limit (\S+) s reached", res.message)
    assert limit and len(limit.group(1)) <= 8, res.message  # "%g", not 0.9412345678901234
