"""``invert(..., stability=...)``: each layer's global (all-pairs) error amplification bound.

The bound must hold for every pair of codes, so in particular for the code a noisy inversion
returned against the true one: ``||z - z_true|| <= A ||G(z) - G(z_true)||`` and
``||z - z_true|| <= stability_bound`` whenever the noise is within the given level.
"""
import math

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.cli import main
from dsssolver.errors import InvalidInputError
from dsssolver.invert import Inverter
from dsssolver.invert.stability import layer_stability
from dsssolver.networks.construct import corollary2_mlp
from dsssolver.testing.lipschitz import reference_min_sigma


def _net(seed, widths=(3, 7, 16)):
    # Corollary 2 layers with biases: injective, so the global bound is finite
    return corollary2_mlp(list(widths), seed=seed, conditioned=True, bias=True)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["linf", "l1", "l2"])
def test_observed_error_within_amplification_times_output_gap(seed, method):
    layers = _net(seed)
    net = dss.layers.as_network(layers)
    rng = np.random.default_rng(seed)
    inv = Inverter(layers, method=method, noise=0.02, stability=10.0)
    for _ in range(3):
        z = rng.standard_normal(3)
        x = net.forward(z) + rng.uniform(-0.02, 0.02, size=16)
        res = inv.invert(x)
        assert res.success
        A = res.stability_amplification
        assert math.isfinite(A) and all(li.stability["status"] == "optimal" for li in res.layers)
        err = np.linalg.norm(res.z - z)
        gap = np.linalg.norm(net.forward(res.z) - net.forward(z))
        assert err <= A * gap * (1 + 1e-9) + 1e-12
        assert err <= res.stability_bound
        assert A == pytest.approx(math.prod(li.stability["amplification"] for li in res.layers))


def test_bound_holds_for_random_pairs_and_matches_brute_force():
    layers = _net(7, (3, 6, 12))  # small enough for the exact cell enumeration
    inv = Inverter(layers, stability=10.0)
    net = dss.layers.as_network(layers)
    res = inv.invert(net.forward(np.ones(3)))
    for k, li in enumerate(res.layers):
        W, b = layers[k]
        S = reference_min_sigma(W, b).min_sigma
        assert li.stability["S_lower"] == pytest.approx(S, rel=1e-6)
        assert li.stability["theorem3"] == pytest.approx(
            li.stability["amplification"] * math.sqrt(W.shape[0]))
    rng = np.random.default_rng(0)
    Z1, Z2 = rng.standard_normal((2, 3000, 3)) * rng.choice([1e-3, 1.0, 10.0], size=(2, 3000, 1))
    d_in = np.linalg.norm(Z1 - Z2, axis=1)
    d_out = np.linalg.norm(np.array([net.forward(a) - net.forward(c) for a, c in zip(Z1, Z2)]), axis=1)
    assert np.all(d_in <= res.stability_amplification * d_out * (1 + 1e-9))


def test_exact_inversion_bound_is_tiny_and_computed_once():
    layers = _net(1)
    inv = Inverter(layers, stability=True)
    net = dss.layers.as_network(layers)
    r1 = inv.invert(net.forward(np.array([1.0, -2.0, 0.5])))
    r2 = inv.invert(net.forward(np.array([0.3, 0.1, -1.0])))
    assert r1.status == "exact" and r1.stability_bound < 1e-9
    # cached per layer: the second output reuses the first one's search
    assert [li.stability["seconds"] for li in r1.layers] == [li.stability["seconds"] for li in r2.layers]


def test_off_by_default_and_not_injective_layer_gives_inf():
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])  # not injective (3 rows, n = 2)
    x = np.maximum(W1 @ [1.0, 2.0], 0)
    res = dss.invert([(W1, None)], x)
    assert res.stability_bound is None and res.layers[0].stability is None
    res = dss.invert([(W1, None)], x, stability=5.0)
    assert res.layers[0].stability["S_lower"] == 0.0
    assert res.stability_amplification == math.inf


def test_linear_and_leaky_last_layers():
    W = np.array([[2.0, 0.0], [0.0, 0.5], [1.0, 1.0]])
    lin = layer_stability(W, None, "linear", 0.1, time_limit=1.0)
    assert lin["amplification"] == pytest.approx(1 / np.linalg.svd(W, compute_uv=False)[-1])
    leaky = layer_stability(W, None, "leaky_relu", 0.2, time_limit=1.0)
    assert leaky["amplification"] == pytest.approx(5 * lin["amplification"])
    thin = layer_stability(W[:1], None, "linear", 0.1, time_limit=1.0)
    assert thin["amplification"] == math.inf


def test_time_limited_search_still_gives_a_valid_bound():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((60, 6))
    st = layer_stability(W, None, "relu", 0.1, time_limit=0.5)
    assert st["status"] in ("optimal", "unknown") and st["S_lower"] <= st["S_upper"]
    if st["S_lower"] > 0:
        assert st["amplification"] == pytest.approx(math.sqrt(2) / st["S_lower"])
    else:
        assert st["amplification"] == math.inf


@pytest.mark.parametrize("bad", [-1.0, 0, math.nan, "yes", math.inf])
def test_bad_stability_option_is_named(bad):
    with pytest.raises(InvalidInputError, match="stability"):
        Inverter([(np.eye(2), None)], stability=bad)


def test_cli_stability_flag(tmp_path, capsys):
    layers = _net(2)
    np.savez(tmp_path / "net.npz", **{f"{k}{i + 1}": v for i, (W, b) in enumerate(layers)
                                      for k, v in (("W", W), ("b", b))})
    np.save(tmp_path / "x.npy", dss.layers.as_network(layers).forward(np.ones(3)))
    assert main(["invert", str(tmp_path / "net.npz"), str(tmp_path / "x.npy"),
                 "--stability", "5"]) == 0
    out = capsys.readouterr().out
    assert "global=" in out and "global amplification" in out
