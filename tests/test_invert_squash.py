"""Generators ending in tanh / sigmoid (dsssolver.invert.squash): exact and noisy inversion
through the activation's inverse, saturation, outputs outside the range, torch and the CLI."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.cli import main
from dsssolver.invert import squash
from dsssolver.invert.polish import jacobian
from dsssolver.layers import SparseMatrix, as_network


def _net(rng, act, out_scale=0.1, m=100, hidden=40, n=5):
    layers = [(rng.normal(size=(hidden, n)), rng.normal(size=hidden)),
              (rng.normal(size=(m, hidden)) * out_scale, rng.normal(size=m) * 0.3)]
    return as_network(layers, last_activation=act)


@pytest.mark.parametrize("act", squash.SQUASHES)
def test_exact_outputs_are_inverted(act):
    rng = np.random.default_rng(7)
    for _ in range(6):
        net = _net(rng, act)
        z = rng.normal(size=5)
        res = dss.invert(net, net.forward(z))
        assert res.status == "exact" and res.success
        assert np.allclose(res.z, z, rtol=1e-8, atol=1e-10)
        assert res.residual <= 1e-9
        # no exact evidence passes through the rounded inverse
        assert res.unique is None and f"{act} output" in res.message


def test_saturated_entries_are_left_out_and_still_met():
    # 20 rows pushed far out: exactly +-1 in float64 (atanh would be infinite), and 10 so
    # close to saturation that atanh(x_i) is known to a few digits only
    rng = np.random.default_rng(3)
    for _ in range(4):
        W1, b1 = rng.normal(size=(40, 5)), rng.normal(size=40)
        W2, b2 = rng.normal(size=(100, 40)) * 0.05, rng.normal(size=100) * 0.3
        b2[:20] = 40.0 * rng.choice([-1.0, 1.0], size=20)
        b2[20:30] = 17.0
        net = as_network([(W1, b1), (W2, b2)], last_activation="tanh")
        z = rng.normal(size=5)
        x = net.forward(z)
        assert (np.abs(x[:20]) == 1).all() and (np.abs(x[20:30]) < 1).all()
        res = dss.invert(net, x)
        assert res.status == "exact", res.message
        assert np.allclose(res.z, z, rtol=1e-8, atol=1e-10)
        assert "30 near or at saturation left out" in res.message
        assert np.abs(net.forward(res.z) - x).max() <= 1e-9


def test_keep_rows_caps_the_slope_and_falls_back():
    x = np.array([0.0, 0.5, 0.9, 0.99, -0.999, 1.0, -1.0, 1.2])
    keep, slope = squash.keep_rows("tanh", x, 0.0, 2)
    assert keep.tolist() == [True, True, True, False, False, False, False, False]
    assert np.isinf(slope[5:]).all() and np.isclose(slope[2], 1 / (1 - 0.81))
    # too few rows under the cap: the n least steep inside the range (noisy data only)
    keep, _ = squash.keep_rows("tanh", x, 0.0, 4)
    assert keep.tolist() == [True] * 4 + [False] * 4
    keep, _ = squash.keep_rows("tanh", x, 0.0, 7)
    assert keep.tolist() == [True] * 5 + [False] * 3
    # exact data: only entries whose atanh is accurate to 1e-3 tol, however few
    keep, _ = squash.keep_rows("tanh", np.array([0.3, 1 - 1e-15, 0.999]), 0.0, 3, tol=1e-9)
    assert keep.tolist() == [True, False, True]
    # a noise interval that reaches the end of the range: that entry is out
    keep, _ = squash.keep_rows("sigmoid", np.array([0.5, 0.02, 0.999]), 0.03, 1)
    assert keep.tolist() == [True, False, False]
    assert np.allclose(squash.inverse("sigmoid", [0.5, 0.25]), [0.0, np.log(1 / 3)])


def test_outside_the_range_is_infeasible_and_named():
    rng = np.random.default_rng(4)
    net = _net(rng, "sigmoid")
    x = net.forward(rng.normal(size=5))
    x[3] = -0.25
    res = dss.invert(net, x)
    assert res.status == "infeasible" and not res.success
    assert "x[3] = -0.25 is outside sigmoid's range" in res.message
    everything_out = np.full(100, 2.0)
    res = dss.invert(net, everything_out)
    assert res.status == "infeasible" and np.isnan(res.z).all()
    # noisy data may pass the end of the range by up to the noise bound
    xn = net.forward(rng.normal(size=5))
    xn[0] = 1.0 + 1e-3
    res = dss.invert(net, xn, method="linf", noise=2e-3)
    assert "outside" not in res.message
    res = dss.invert(net, xn, method="linf", noise=1e-4)
    assert res.status == "infeasible" and "x[0]" in res.message


@pytest.mark.parametrize("act", squash.SQUASHES)
def test_noise_bound_gives_a_valid_error_bound(act):
    rng = np.random.default_rng(11)
    for _ in range(5):
        net = _net(rng, act)
        z = rng.normal(size=5)
        eps = 1e-3
        x = net.forward(z) + rng.uniform(-eps, eps, size=100)
        for method in ("linf", "l1", "l2"):
            res = dss.invert(net, x, method=method, noise=eps)
            assert res.status == "approximate", res.message
            err = np.linalg.norm(res.z - z)
            assert err <= res.error_bound and res.noise == eps
            assert err < 0.1


def test_stability_bound_of_a_tanh_output_is_in_pre_activation_space_and_holds():
    rng = np.random.default_rng(5)
    # no bias in the hidden layer, 20 rows on R^3: injective, so its amplification is finite
    net = as_network([(rng.normal(size=(20, 3)), None),
                      (rng.normal(size=(30, 20)) * 0.2, rng.normal(size=30) * 0.3)],
                     last_activation="tanh")
    eps = 1e-3
    for _ in range(3):
        z = rng.normal(size=3)
        x = net.forward(z) + rng.uniform(-eps, eps, size=30)
        res = dss.invert(net, x, method="linf", noise=eps, stability=True)
        assert res.status == "approximate", res.message
        assert np.linalg.norm(res.z - z) <= res.stability_bound < np.inf
        assert "stability_amplification is that of the network before the tanh" in res.message


def test_noise_std_and_estimated():
    rng = np.random.default_rng(12)
    net = _net(rng, "tanh")
    z = rng.normal(size=5)
    x = net.forward(z) + rng.normal(scale=1e-3, size=100)
    for kw in ({"noise_std": 1e-3}, {}):
        res = dss.invert(net, x, method="l2", **kw)
        assert res.status == "approximate", res.message
        assert np.linalg.norm(res.z - z) < 0.05


def test_sparse_last_layer_and_batch():
    rng = np.random.default_rng(5)
    W2 = rng.normal(size=(90, 30)) * 0.1
    W2[np.abs(W2) < 0.05] = 0.0
    S = SparseMatrix.from_coo(*np.nonzero(W2), W2[np.nonzero(W2)], W2.shape)
    mask = rng.random(90) < 0.6
    assert np.array_equal(S.take_rows(mask).toarray(), W2[mask])
    net = as_network([(rng.normal(size=(30, 4)), None), (S, None)], last_activation="tanh")
    Z = rng.normal(size=(3, 4))
    res = dss.invert(net, net.forward(Z))
    assert list(res.status) == ["exact"] * 3
    assert np.allclose(res.z, Z, rtol=1e-8, atol=1e-10)


def test_jacobian_of_a_tanh_output_matches_finite_differences():
    rng = np.random.default_rng(6)
    net = _net(rng, "tanh", m=20)
    z = rng.normal(size=5)
    g, J = jacobian(net, z)
    h = 1e-6
    fd = np.stack([(net.forward(z + h * e) - net.forward(z - h * e)) / (2 * h)
                   for e in np.eye(5)], axis=1)
    assert np.allclose(J, fd, atol=1e-6)


def test_torch_tanh_and_sigmoid_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for act in (torch.nn.Tanh(), torch.nn.Sigmoid()):
        seq = torch.nn.Sequential(torch.nn.Linear(4, 30), torch.nn.ReLU(),
                                  torch.nn.Linear(30, 80), act).double().eval()
        z = torch.randn(4, dtype=torch.float64)
        x = seq(z).detach().numpy()
        res = dss.invert(seq, x)
        assert res.status == "exact", res.message
        assert np.allclose(res.z, z.numpy(), rtol=1e-8, atol=1e-10)
    bad = torch.nn.Sequential(torch.nn.Linear(4, 30), torch.nn.Tanh(), torch.nn.Linear(30, 80))
    with pytest.raises(ValueError, match="hidden layer must be followed by ReLU"):
        as_network(bad)


def test_cli_last_tanh(tmp_path, capsys):
    rng = np.random.default_rng(8)
    W1, W2 = rng.normal(size=(30, 4)), rng.normal(size=(80, 30)) * 0.1
    z = rng.normal(size=4)
    x = np.tanh(W2 @ np.maximum(W1 @ z, 0))
    np.savez(tmp_path / "net.npz", W1=W1, W2=W2, last_activation="tanh")
    np.save(tmp_path / "x.npy", x)
    assert main(["invert", str(tmp_path / "net.npz"), str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "z.npy")]) == 0
    assert "status: exact" in capsys.readouterr().out
    assert np.allclose(np.load(tmp_path / "z.npy"), z, rtol=1e-8, atol=1e-10)
    np.savez(tmp_path / "plain.npz", W1=W1, W2=W2)
    assert main(["invert", str(tmp_path / "plain.npz"), str(tmp_path / "x.npy"),
                 "--last", "tanh"]) == 0


def test_noisy_residual_is_judged_on_x():
    # entries near saturation are left out of the LPs; flipping their sign is invisible to
    # the inner inversion, and only the residual on x itself shows that no code explains x
    rng = np.random.default_rng(13)
    net = _net(rng, "tanh", out_scale=0.3)
    x = net.forward(rng.normal(size=5))
    steep = np.flatnonzero(np.abs(x) > 0.97)
    assert len(steep) >= 3
    x[steep] = -x[steep]
    res = dss.invert(net, x + rng.uniform(-1e-4, 1e-4, size=100), method="l1", noise=1e-4)
    # not "infeasible": the entries left out were never fitted, so nothing proves no code fits
    assert res.status == "failed" and "times the bound noise level" in res.message
    assert "no fit within the noise was found" in res.message
    left = int(res.message.split(" near or at saturation")[0].rsplit(" ", 1)[1])
    assert left >= len(steep)


def test_cli_inverts_a_saved_torch_dcgan(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from dsssolver.conv.dcgan import injective_dcgan, to_torch

    G = to_torch(injective_dcgan(latent=8, ngf=8, out_size=16, seed=0)).double().eval()
    torch.save(G, tmp_path / "g.pt")
    z = np.random.default_rng(2).normal(size=8)
    img = G(torch.tensor(z).reshape(1, 8, 1, 1)).detach().numpy()[0]  # 3 x 16 x 16, tanh
    np.save(tmp_path / "img.npy", img)
    np.save(tmp_path / "imgs.npy", np.stack([img, img]))
    g, x = str(tmp_path / "g.pt"), str(tmp_path / "img.npy")
    assert main(["invert", g, x, "--input-shape", "8", "1", "1", "-o", str(tmp_path / "z.npy")]) == 0
    assert "status: exact" in capsys.readouterr().out
    assert np.allclose(np.load(tmp_path / "z.npy"), z, rtol=1e-8, atol=1e-10)
    assert main(["invert", g, str(tmp_path / "imgs.npy"), "--input-shape", "8", "1", "1"]) == 0
    capsys.readouterr()
    for argv, words in (([g, x], "--input-shape"),
                        ([g, x, "--input-shape", "8", "1", "1", "--last", "relu"], "--last"),
                        ([g, x, "--input-shape", "8", "0", "1"], "positive integers")):
        assert main(["invert", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("dss: error:") and "\n" not in err and words in err


def test_a_batch_reuses_one_inner_inverter_per_kept_set():
    from dsssolver.invert import Inverter

    rng = np.random.default_rng(9)
    net = _net(rng, "sigmoid")
    Z = rng.normal(size=(4, 5))
    X = net.forward(Z)
    X[3, :2] = 1.0  # two entries moved to saturation: another kept set (and no exact code)
    inv = Inverter(net)
    res = inv.invert(X)
    assert list(res.status[:3]) == ["exact"] * 3 and res.status[3] != "exact"
    assert np.allclose(res.z[:3], Z[:3], rtol=1e-8, atol=1e-10)
    assert len(inv._squash_inners) == 2


@pytest.mark.parametrize("act", squash.SQUASHES)
def test_round_off_alone_is_not_an_inconsistent_system(act):
    # the code switches every hidden unit off, so the last pre-activation is the bias b and
    # atanh(x) - b is round-off (~1e-18): tolerances relative to that round-off, or a
    # right-hand side scaled up to size 1, made the layer "infeasible" for a true output
    rng = np.random.default_rng(4)
    W1, b1 = rng.normal(size=(3, 2)), -np.abs(rng.normal(size=3)) - 1.0
    W2, b2 = rng.normal(size=(7, 3)), rng.normal(size=7) * 0.03
    net = as_network([(W1, b1), (W2, b2)], last_activation=act)
    z = np.array([0.1, -0.2])
    assert (W1 @ z + b1 < 0).all()
    res = dss.invert(net, net.forward(z))
    assert res.status in ("exact", "joint") and res.residual < 1e-9, res.message
