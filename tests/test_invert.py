"""Layerwise inversion against known codes, the joint fallback, noise bounds, bad input."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.invert.exact import check_layer_evidence
from dsssolver.invert.lp import Poly
from dsssolver.invert import Inverter
from dsssolver.layers import as_network, conv2d, conv_transpose2d


def gauss_net(dims, seed, bias=False):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(dims[i + 1], dims[i])) / np.sqrt(dims[i + 1]),
             rng.normal(size=dims[i + 1]) * 0.1 if bias else None)
            for i in range(len(dims) - 1)]


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("lp", ["auto", "always"])
@pytest.mark.parametrize("dims,bias", [((5, 40, 120), False), ((4, 30, 60, 150), True)])
def test_known_codes_recovered_exactly(dims, bias, lp):
    layers = gauss_net(dims, 1, bias)
    G = as_network(layers)
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(8, dims[0]))
    res = dss.invert(layers, G.forward(Z), lp=lp)
    Zh, infos = res.z, res.results
    assert Zh.shape == Z.shape and len(infos) == 8 and res.batch
    for z, zh, info in zip(Z, Zh, infos):
        # a layer may be non-injective at a code while the network is not: then "joint",
        # whose MILP uniqueness claim is not exact evidence
        assert info.status in ("exact", "joint"), info.message
        assert info.unique is (True if info.status == "exact" else None)
        assert rel(zh, z) < 1e-9 and info.residual < 1e-9
        assert [li.layer for li in info.layers] == list(range(1, len(dims)))
        if info.status == "exact":
            assert all(li.unique for li in info.layers)
            ys = [zh]
            for layer in G.layers:
                ys.append(layer(ys[-1]))
            assert all(check_layer_evidence(np.asarray(W), li.evidence, y=y)
                       for (W, _), li, y in zip(layers, info.layers, ys[1:]))
        if lp == "always" and info.status == "exact":
            assert all(li.lp_seconds > 0 for li in info.layers)


@pytest.mark.parametrize("last", ["linear", "leaky_relu"])
def test_last_layer_linear_and_leaky(last):
    layers = gauss_net((4, 25, 30), 3, bias=True)
    G = as_network(layers, last_activation=last, negative_slope=0.2)
    z = np.random.default_rng(4).normal(size=4)
    x = G.forward(z)
    assert (x < 0).any()  # the last activation really lets negatives through
    info = dss.invert(layers, x, last_activation=last, negative_slope=0.2)
    zh = info.z
    assert info.status == "exact" and rel(zh, z) < 1e-9


def test_uniqueness_from_nonnegativity():
    # {x >= 0 : x1 + x2 = 0} is the point 0 though the equality has rank 1 ...
    P = Poly(np.array([[1.0, 1.0]]), np.zeros(1), np.zeros((0, 2)), np.zeros(0), True)
    assert P.is_point(np.zeros(2))[0] is True
    # ... but {x >= 0 : x1 - x2 = 0} is a ray, and without x >= 0 a line
    P = Poly(np.array([[1.0, -1.0]]), np.zeros(1), np.zeros((0, 2)), np.zeros(0), True)
    assert P.is_point(np.zeros(2))[0] is False
    P = Poly(np.array([[1.0, 1.0]]), np.zeros(1), np.zeros((0, 2)), np.zeros(0), False)
    assert P.is_point(np.zeros(2))[0] is False
    # a tight inequality pair pins the free direction: x1 + x2 = 1, x1 <= 0.5, -x1 <= -0.5
    P = Poly(np.array([[1.0, 1.0]]), np.ones(1), np.array([[1.0, 0.0], [-1.0, 0.0]]),
             np.array([0.5, -0.5]), False)
    assert P.is_point(np.array([0.5, 0.5]))[0] is True


def joint_toy(b2):
    """z in R: x1 = (ReLU(z), ReLU(-z)) is injective; layer 2 is not injective at x1 = (1, 0)."""
    W1 = np.array([[1.0], [-1.0]])
    W2 = np.array([[1.0, 1.0], [-1.0, 1.0]])
    return [(W1, None), (W2, np.array([0.0, b2]))]


def test_joint_fallback_recovers_unique_code():
    layers = joint_toy(-0.5)  # P_2 is the segment (1,0)-(0.25,0.75): only (1,0) is an image
    x = as_network(layers).forward(np.array([1.0]))
    info = dss.invert(layers, x)
    z = info.z
    assert info.layers[1].status == "not_unique" and info.layers[1].unique is False
    assert info.layers[0].status == "joint"
    # the MILP says "the only preimage", which is not exact evidence: unique stays None
    assert info.status == "joint" and info.unique is None and "not exact" in info.message
    assert info.joint.unique is True and info.joint.binaries >= 1
    assert abs(z[0] - 1.0) < 1e-12 and info.residual < 1e-12


def test_joint_fallback_reports_two_preimages():
    layers = joint_toy(-2.0)  # now z = 1 and z = -1 both give x = (1, 0)
    G = as_network(layers)
    x = G.forward(np.array([1.0]))
    assert np.allclose(G.forward(np.array([-1.0])), x)
    info = dss.invert(layers, x)
    z = info.z
    assert info.status == "joint" and info.unique is False
    assert abs(abs(z[0]) - 1.0) < 1e-12 and info.residual < 1e-12


def test_joint_fallback_on_random_net():
    # a narrow random net where some codes need the joint MILP
    layers = gauss_net((6, 13, 26), 11)
    G = as_network(layers)
    inv = Inverter(layers)
    rng = np.random.default_rng(5)
    seen = {"joint": 0, "exact": 0}
    for _ in range(60):
        z = rng.normal(size=6)
        x = G.forward(z)
        info = inv.invert(x)
        zh = info.z
        assert info.status in seen and info.residual < 1e-9, info.message
        seen[info.status] += 1
        if info.unique:
            assert rel(zh, z) < 1e-9
        if info.status == "joint":
            assert any(li.status == "not_unique" for li in info.layers)
    assert seen["joint"] >= 1 and seen["exact"] >= 1


def test_first_layer_not_injective():
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    W2 = np.vstack([np.eye(3), -np.eye(3)])
    layers = [(W1, None), (W2, None)]
    x = as_network(layers).forward(np.array([1.0, -1.0]))  # only row 1 of W1 is on
    info = dss.invert(layers, x)
    assert info.status == "exact" and info.unique is False
    assert info.layers[0].unique is False and info.residual < 1e-12
    assert np.allclose(as_network(layers).forward(info.z), x)


def direct_conv(K, bias, img, pad):
    c_out, c_in, kh, kw = K.shape
    p = np.pad(img, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = p.shape[1] - kh + 1, p.shape[2] - kw + 1
    out = np.zeros((c_out, ho, wo))
    for o in range(c_out):
        for i in range(ho):
            for j in range(wo):
                out[o, i, j] = (K[o] * p[:, i:i + kh, j:j + kw]).sum() + bias[o]
    return out


def test_conv_layer_matches_direct_convolution_and_inverts():
    rng = np.random.default_rng(7)
    K, bias = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4) * 0.1
    img = rng.normal(size=(2, 5, 5))
    W, b = conv2d(K, bias, (2, 5, 5), padding=1)
    assert W.shape == (100, 50) and W.nnz < 100 * 50 / 2
    assert np.allclose(W @ img.ravel() + b, direct_conv(K, bias, img, 1).ravel())
    # latent 6 -> dense 50 (= 2x5x5) -> conv 4x5x5 = 100
    W1 = rng.normal(size=(50, 6)) / np.sqrt(50)
    layers = [(W1, None), (W, b)]
    G = as_network(layers)
    for _ in range(3):
        z = rng.normal(size=6)
        info = dss.invert(layers, G.forward(z), lp="always")
        zh = info.z
        assert info.residual < 1e-9
        if info.unique:
            assert rel(zh, z) < 1e-9


def test_noisy_variants_respect_their_error_bounds():
    layers = gauss_net((5, 60, 200), 8)
    G = as_network(layers)
    rng = np.random.default_rng(9)
    for method in ("linf", "l1"):
        for eps in (1e-4, 1e-3):
            z = rng.normal(size=5)
            x = G.forward(z)
            xn = x + rng.uniform(-eps, eps, size=x.shape)
            info = dss.invert(layers, xn, method=method, noise=eps)
            zh = info.z
            assert info.status == "approximate"
            assert np.isfinite(info.error_bound) and info.noise_source == "bound"
            assert np.linalg.norm(zh - z) <= info.error_bound
            assert rel(zh, z) < 0.1
            assert info.layers[0].objective is not None


def test_output_not_in_range_reports_smallest_residual():
    layers = gauss_net((3, 10, 40), 10)
    x = np.abs(np.random.default_rng(0).normal(size=40))  # all on: 40 equations, 10 unknowns
    info = dss.invert(layers, x)
    z = info.z
    assert info.status == "infeasible" and not info.success
    assert "no z gives x" in info.message and "least-squares best effort" in info.message
    assert info.layers[1].status == "infeasible"
    assert np.all(np.isfinite(z)) and info.residual > 0.1
    xneg = as_network(layers).forward(np.ones(3)) - 5.0
    info = dss.invert(layers, xneg)
    z = info.z
    assert info.status == "infeasible" and "cannot be a ReLU output" in info.message


@pytest.mark.parametrize("x,match", [
    (np.ones(7), r"shape \(40,\)"),
    (np.ones((2, 3, 40)), "shape"),
    (np.ones(0), "shape"),
    (np.ones((0, 40)), "shape"),
    (np.r_[np.nan, np.ones(39)], "NaN"),
    ("abc", "numeric|dtype"),
])
def test_bad_outputs_raise(x, match):
    layers = gauss_net((3, 10, 40), 10)
    with pytest.raises(dss.InvalidInputError, match=match):
        dss.invert(layers, x)


def test_bad_networks_raise():
    with pytest.raises(ValueError, match="layer 2: W has 5 columns but layer 1 has 4"):
        dss.invert([np.ones((4, 3)), np.ones((6, 5))], np.ones(6))
    W = np.ones((4, 3))
    W[1, 1] = np.nan
    with pytest.raises(ValueError, match="layer 1: W contains NaN"):
        dss.invert([W], np.ones(4))
    with pytest.raises(dss.InvalidInputError, match="method"):
        dss.invert([np.eye(3)], np.ones(3), method="l3")
    with pytest.raises(ValueError, match="last_activation"):
        dss.invert([np.eye(3)], np.ones(3), last_activation="softplus")
    with pytest.raises(ValueError, match="empty"):
        dss.invert([], np.ones(3))
    with pytest.raises(ValueError, match="file name 'net.npz'"):
        dss.invert("net.npz", np.ones(3))
    with pytest.raises(ValueError, match="b has length"):
        dss.invert([(np.eye(3), np.ones(2))], np.ones(3))


def test_torch_sequential_optional():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 30), torch.nn.ReLU(), torch.nn.Linear(30, 90),
                              torch.nn.ReLU()).double()
    z = torch.randn(4, dtype=torch.float64)
    x = net(z).detach().numpy()
    info = dss.invert(net, x)
    zh = info.z
    assert info.residual < 1e-9
    if info.unique:
        assert rel(zh, z.numpy()) < 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_torch_generator_with_batchnorm_is_inverted(seed):
    """BatchNorm1d/2d (eval) folded into the generator: before a ReLU into the layer before,
    after one into the layer after, and trailing; torch's own output is inverted to z."""
    torch = pytest.importorskip("torch")
    from dsssolver.layers import from_torch

    torch.manual_seed(seed)
    nn = torch.nn
    net = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 40),
                        nn.ReLU(), nn.BatchNorm1d(40), nn.Unflatten(1, (10, 2, 2)),
                        nn.ConvTranspose2d(10, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.BatchNorm2d(4))
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 2)
                m.bias.uniform_(-0.5, 0.5)
    net.eval()
    z = np.random.default_rng(seed).standard_normal(2)
    with torch.no_grad():
        x = net.double()(torch.tensor(z[None])).numpy().reshape(-1)
    assert np.abs(from_torch(net).forward(z) - x).max() < 1e-12
    info = dss.invert(net, x)
    assert info.success and info.residual < 1e-9
    assert rel(info.z, z) < 1e-6
    net.train()
    with pytest.raises(ValueError, match="eval mode"):
        dss.invert(net, x)
    bad = nn.Sequential(nn.Linear(2, 6), nn.BatchNorm1d(5), nn.ReLU()).eval()
    with pytest.raises(ValueError, match="features"):
        dss.invert(bad, np.ones(6))


def test_joint_infeasible_means_not_in_range():
    # layer 2's preimage of (1, 0, 0) is the segment a + b = 1, a, b >= 0.2: inside the open
    # quadrant, while layer 1 only produces points on the axes: no z gives x
    W1 = np.array([[1.0], [-1.0]])
    W2 = np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    layers = [(W1, None), (W2, np.array([0.0, 0.2, 0.2]))]
    x = np.array([1.0, 0.0, 0.0])
    info = dss.invert(layers, x)
    z = info.z
    assert info.layers[1].status == "not_unique"
    assert info.status == "infeasible" and "joint MILP infeasible" in info.message
    assert np.all(np.isfinite(z)) and info.residual > 0.1


def test_torch_conv_sequential_optional():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(6, 50), nn.ReLU(), nn.Unflatten(0, (2, 5, 5)),
                        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(0)).double()
    G = as_network(net)
    z = torch.randn(6, dtype=torch.float64)
    x = net(z).detach().numpy()
    assert np.allclose(G.forward(z.numpy()), x, atol=1e-12)
    info = dss.invert(net, x)
    zh = info.z
    assert info.residual < 1e-9
    if info.unique:
        assert rel(zh, z.numpy()) < 1e-9


def test_joint_reports_second_preimage_regression():
    # a 5-12-12 code with two preimages that HiGHS's MIP presolve once hid (it returned
    # "optimal, distance 0" for the farthest-preimage MILP): the answer must say not unique
    rng = np.random.default_rng(109)
    layers = [(rng.normal(size=(12, 5)) / np.sqrt(12), None),
              (rng.normal(size=(12, 12)) / np.sqrt(12), None)]
    rng.normal(size=5)
    z = rng.normal(size=5)
    G = as_network(layers)
    x = G.forward(z)
    info = dss.invert(layers, x)
    zh = info.z
    assert info.status == "joint" and info.residual < 1e-9
    assert rel(zh, z) > 1e-3  # z and zh are two preimages of x ...
    assert info.unique is False  # ... and the answer says so


def test_conv_transpose_is_the_adjoint_and_inverts():
    rng = np.random.default_rng(12)
    K = rng.normal(size=(2, 3, 4, 4))
    Wt, bt = conv_transpose2d(K, np.zeros(3), (2, 4, 4), stride=2, padding=1)
    Wc, _ = conv2d(K, None, (3, 8, 8), stride=2, padding=1)
    assert Wt.shape == (192, 32) and Wc.shape == (32, 192)
    u, v = rng.normal(size=32), rng.normal(size=192)
    assert np.isclose(v @ (Wt @ u), u @ (Wc @ v))  # <W_T u, v> = <u, W_conv v>
    # a small DCGAN-like generator: 8 -> 32 (= 2x4x4) -> transposed conv to 3x8x8
    W1 = rng.normal(size=(32, 8)) / np.sqrt(32)
    layers = [(W1, None), (Wt, rng.normal(size=3).repeat(64) * 0.1)]
    G = as_network(layers)
    z = rng.normal(size=8)
    info = dss.invert(layers, G.forward(z))
    zh = info.z
    assert info.residual < 1e-9 and info.unique is not None
    if info.unique:
        assert rel(zh, z) < 1e-9


def test_torch_generator_with_conv_transpose_optional():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Unflatten(0, (2, 4, 4)),
                        nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1), nn.ReLU(),
                        nn.Flatten(0)).double()
    z = torch.randn(6, dtype=torch.float64)
    x = net(z).detach().numpy()
    assert np.allclose(as_network(net).forward(z.numpy()), x, atol=1e-12)
    info = dss.invert(net, x)
    assert info.residual < 1e-9


def test_hidden_thresholds_beat_lei_reading():
    # Lei et al. read every positive hidden entry as active; after a noisy l_inf LP the
    # hidden zeros come back as small positives and the next l_inf LP chases them
    layers = gauss_net((5, 60, 200), 8)
    G = as_network(layers)
    rng = np.random.default_rng(3)
    errs, missed = {False: [], True: []}, {False: 0, True: 0}
    for _ in range(4):
        z = rng.normal(size=5)
        x = G.forward(z) + rng.uniform(-1e-3, 1e-3, size=200)
        for lei in errs:
            res = Inverter(layers, method="linf", noise=1e-3, lei_thresholds=lei).invert(x)
            errs[lei].append(rel(res.z, z))
            # a layerwise answer beyond the noise is not kept: Gauss-Newton from it (or failed)
            missed[lei] += "missed" in res.message or res.status == "failed"
    assert np.median(errs[False]) < 0.02 and missed[False] == 0
    assert missed[True] >= 3


def test_uniqueness_milp_bounds_contain_the_known_preimage():
    # LP round-off can leave a bound a hair inside the known point z'; the uniqueness MILP is
    # built on bounds widened to contain z' and its hidden values, so z' satisfies it
    from dsssolver.invert.joint import _cover

    layers = as_network(joint_toy(-0.5)).layers[:1]
    z = np.array([1.0])
    bnds = ([np.array([1.0 + 1e-12])], [np.array([2.0]), np.array([0.5, 0.0])],
            [(np.array([1.0 + 1e-12, -3.0]), np.array([3.0, -1.0 - 1e-12]))], False)
    xlo, xhi, pre, _ = _cover(([bnds[0][0], np.zeros(2)], bnds[1], bnds[2], False), layers, z)
    h = layers[0](z)
    assert xlo[0][0] < 1.0 < xhi[0][0] and np.all(xlo[1] <= h) and np.all(h <= xhi[1])
    p = layers[0].pre(z)
    assert np.all(pre[0][0] < p) and np.all(p < pre[0][1])


@pytest.mark.parametrize("s1, s2", [(1.0, 1.0), (1e3, 1e6), (1e-6, 1e8), (1e10, 1e-10),
                                    (1e16, 1.0)])
def test_joint_milp_of_a_scaled_net_is_the_unscaled_ones(s1, s2):
    # scaled up, the joint toy's big-M (from a box imposed on an unbounded LP) reached 1e15,
    # where HiGHS dropped the row and PuLP then raised IndexError out of dss.invert; below
    # that, HiGHS called such a MILP infeasible although z = 1 is a preimage.  The MILP now
    # runs on the same net with each hidden unit rescaled by a power of two
    layers = [(np.array([[1.0], [-1.0]]) * s1, None),
              (np.array([[1.0, 1.0], [-1.0, 1.0]]) * s2, np.array([0.0, -0.5 * s1 * s2]))]
    res = dss.invert(layers, as_network(layers).forward(np.array([1.0])))
    assert res.status == "joint" and abs(res.z[0] - 1) < 1e-12, res.message


@pytest.mark.parametrize("scale", [1e-20, 1e-8, 1e-4, 1e4, 1e8, 1e16, 1e20])
def test_a_badly_scaled_first_layer_inverts_like_a_unit_one(scale):
    # LP tolerances were absolute: at 1e-8 every point met them (a false "single point"),
    # at 1e8 the joint MILP called the true output infeasible, at 1e16 PuLP raised
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((20, 4)) * scale, rng.standard_normal((30, 20))
    z = rng.standard_normal(4)
    x = np.maximum(W2 @ np.maximum(W1 @ z, 0), 0)  # about 15 of 30 outputs: joint MILP
    res = dss.invert([(W1, None), (W2, None)], x)
    assert res.status in ("exact", "joint") and rel(res.z, z) < 1e-10, res.message
    noisy = dss.invert([(W1, None), (W2, None)], x, method="linf", noise=1e-6 * x.max())
    assert noisy.status == "approximate" and rel(noisy.z, z) < 1e-3, noisy.message


def scaled_net(seed):
    """Two-layer nets with weights ~10^k (k in -2..4): the family searched (seeds 0-250,
    5 codes each) for joint MILPs that go wrong."""
    rng = np.random.default_rng(seed)
    d0 = int(rng.integers(1, 4))
    d1 = int(rng.integers(d0 + 1, 3 * d0 + 3))
    d2 = int(rng.integers(d1, 2 * d1 + 2))
    scale = 10.0 ** rng.integers(-2, 5, size=2)
    bias = rng.random() < 0.5
    layers = [(rng.normal(size=(d1, d0)) * scale[0],
               rng.normal(size=d1) * scale[0] * 0.3 if bias else None),
              (rng.normal(size=(d2, d1)) * scale[1],
               rng.normal(size=d2) * scale[0] * scale[1] * 0.3 if bias else None)]
    return layers, rng.normal(size=(5, d0))


@pytest.mark.parametrize("seed, codes", [(50, [0, 2, 3]), (82, [1, 2])])
def test_joint_milp_never_calls_a_known_preimage_infeasible(seed, codes):
    # weights ~1e3-1e4: the true z satisfies the joint MILP only up to round-off relative
    # to ~1e7, far above HiGHS's absolute 1e-9, and HiGHS called it infeasible ("no z gives
    # x" for an exact output; 82/2: "Solve error").  Rows are now scaled to coefficients
    # ~1 and an "infeasible" must survive a looser tolerance.
    layers, Z = scaled_net(seed)
    G = as_network(layers)
    inv = Inverter(layers)
    for c in codes:
        res = inv.invert(G.forward(Z[c]))
        assert res.status == "joint", (c, res.message)
        assert np.allclose(res.z, Z[c], rtol=1e-9, atol=1e-12) and res.residual < 1e-9
        assert res.joint.unique is True, res.joint.message


def test_lp_round_off_in_a_hidden_layer_is_not_an_active_row():
    # one Inverter over five codes (warm-started LPs): at code 3 the second layer's LP point
    # had ~1e-10 where the truth is 0, and the first layer read it as an active row and
    # called the exact output infeasible
    layers, Z = scaled_net(39)
    G = as_network(layers)
    inv = Inverter(layers)
    out = [inv.invert(G.forward(z)) for z in Z]
    assert all(r.status in ("exact", "joint") and r.residual < 1e-9 for r in out), \
        [r.message for r in out]
    assert out[3].status == "exact" and np.allclose(out[3].z, Z[3], rtol=1e-9)


@pytest.mark.parametrize("seed", [58, 87])
def test_a_joint_answer_is_a_preimage_or_no_answer(seed):
    # weights ~1e3-1e4: the MILP's point met HiGHS's tolerances but not the network (a
    # residual of 0.82 came back as status "joint"); now it is checked or refused
    layers, Z = scaled_net(seed)
    G = as_network(layers)
    for z in Z:
        res = Inverter(layers).invert(G.forward(z))
        if res.success:
            assert res.residual < 1e-9, res.message
        else:
            assert res.status == "failed" and np.isnan(res.z).all(), res.message
        if res.joint is not None and res.joint.unique is True:
            assert np.allclose(res.z, z, rtol=1e-7, atol=1e-9)


def test_weights_float64_cannot_hold_are_named_and_no_exact_claim_is_made():
    from fractions import Fraction as F

    rng = np.random.default_rng(3)
    W = rng.integers(-4, 5, size=(12, 3)).astype(object)
    W[0, 0] = F(1, 2)  # a dyadic rational: float64 holds it exactly
    z = rng.standard_normal(3)
    x = np.maximum(W.astype(float) @ z, 0)
    exact = dss.invert([(W, None)], x)
    assert exact.status == "exact" and exact.unique is True, exact.message
    assert "rounded to float64" not in exact.message
    W[0, 0] = F(1, 3)  # not a float64: the network inverted is the rounded one
    b = np.array([F(1, 10)] + [0] * 11, dtype=object)
    x = np.maximum(W.astype(float) @ z + b.astype(float), 0)
    res = dss.invert([(W, b)], x)
    assert res.unique is None and "rounded to float64" in res.message
    assert "layer 1: W" in res.message and "layer 1: b" in res.message
    big = dss.layers.as_network([(np.array([[1, 2], [3, 2 ** 60 + 1]]), None)])
    assert big.rounded == ["layer 1: W"]
    assert dss.layers.as_network([(np.array([[1, 2], [3, 2 ** 60]]), None)]).rounded == []


@pytest.mark.parametrize("seed", [19, 20, 53, 56])
def test_noisy_layerwise_misses_go_to_the_joint_milp(seed):
    # found by a search over scaled_net (code 1, l_inf bound 1e-6 of the output): the
    # layerwise LPs and Gauss-Newton from their point miss (a layer's preimage is not a
    # point); the joint MILP over the last layer's noise polytope finds a code within it.
    # Before, these were "failed" (and earlier still "infeasible", which was false).
    layers, Z = scaled_net(seed)
    G = as_network(layers)
    x = G.forward(Z[1])
    eps = 1e-6 * np.abs(x).max()
    xn = x + np.random.default_rng(seed).uniform(-eps, eps, size=len(x))
    res = Inverter(layers, method="linf", noise=eps).invert(xn)
    assert res.status == "approximate", res.message
    assert "joint MILP over the last layer's noise polytope" in res.message
    assert np.abs(G.forward(res.z) - xn).max() <= 3 * eps * np.sqrt(len(x))
    assert res.joint is not None and res.joint.status == "optimal"


def test_noisy_joint_milp_infeasible_is_a_proof_for_an_linf_bound():
    # 1-2-2 net (the joint toy): its outputs with x[1] > 0 need the second hidden unit on,
    # which the first layer cannot give together with the first; far outside, with an
    # l_inf bound, the last layer alone fits x but no code does
    layers = [(np.array([[1.0], [-1.0]]), None), (np.array([[1.0, 0.0], [0.0, 1.0]]), None)]
    res = dss.invert(layers, np.array([1.0, 1.0]), method="linf", noise=1e-3)
    assert res.status == "infeasible" and "joint MILP infeasible" in res.message
    ok = dss.invert(layers, np.array([1.0, 0.0005]), method="linf", noise=1e-3)
    assert ok.status == "approximate" and abs(ok.z[0] - 1) < 1e-2


def test_milp_time_limit_is_for_the_whole_joint_step():
    # a 4-11-25-69-85 net (found by a fuzz) whose joint MILP runs for minutes: each of its
    # 3-4 solves used to get the whole limit; now they share it, and running out makes no
    # claim (never "infeasible")
    rng = np.random.default_rng(153)
    d = [4, 11, 25, 69, 85]
    rng.integers(2, 5), rng.integers(1, 5)  # the fuzz's draws of depth and input size
    for k in range(4):
        rng.integers(d[k] + 1, 3 * d[k] + 4)
    layers = []
    for k in range(4):
        s = 10.0 ** rng.integers(-3, 4)
        W = rng.standard_normal((d[k + 1], d[k])) * s
        layers.append((W, rng.standard_normal(d[k + 1]) * s * 0.3 if rng.random() < 0.5 else None))
    rng.choice(["relu", "leaky_relu", "linear"])
    x = as_network(layers).forward(rng.standard_normal(4))
    res = Inverter(layers, milp_time_limit=2.0).invert(x)
    assert res.status in ("joint", "failed") and res.joint is not None, res.message
    assert res.joint.milp_seconds <= 2.5, res.joint.milp_seconds


def test_an_output_that_ignores_z_inverts_to_some_z_not_nan():
    # W_1 = 0: every z is a preimage.  The joint MILP's z never enters a constraint, PuLP
    # leaves it unset, and that used to end as z = nan, "failed"
    L = [(np.zeros((2, 1)), np.array([-0.0569, 0.3362])),
         (np.array([[2.0, 2.0], [2.0, 2.0]]), np.array([-0.0437, 0.1195]))]
    x = as_network(L).forward(np.array([-2.16]))
    res = dss.invert(L, x)
    assert res.success and res.unique is False and np.isfinite(res.z).all(), res.message
    assert np.allclose(as_network(L).forward(res.z), x, atol=1e-12)


def test_an_all_zero_output_is_inverted_exactly():
    # x = 0: z only has to meet W z + b <= 0; a tight row evaluates to ~1e-17, which the
    # residual relative to ||x|| = 0 used to call 1e+283 and "failed"
    W = np.array([[1.186616672368152, -1.8273831546840644, 0.3015707363505245],
                  [1.36581833106114, -2.5011617584652996, 0.2675554791850724],
                  [-0.0066704941385530275, -0.2943461731751522, -0.2490663372867569]])
    b = np.array([0.5308015197532727, 0.5562566410282341, 0.1231572831720345])
    res = dss.invert([(W, b)], np.zeros(3))
    assert res.success and res.unique is False and res.residual < 1e-12, res.message
    assert np.all(W @ res.z + b <= 1e-12)
