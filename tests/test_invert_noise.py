"""Noisy inversion: the issue's reproducer, error bounds that hold, results for batches."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.invert import INFEASIBLE, Inverter
from dsssolver.invert.exact import check_layer_evidence, cone_evidence, rank_evidence
from dsssolver.layers import as_network


def gauss_net(dims, rng, bias=False):
    return [(rng.normal(size=(dims[i + 1], dims[i])) / np.sqrt(dims[i]),
             rng.normal(size=dims[i + 1]) * 0.1 if bias else None)
            for i in range(len(dims) - 1)]


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def reproducer():
    # the reproducer of issue 10: no noise level given, Gaussian noise of relative size 1e-4
    rng = np.random.default_rng(0)
    L = [(rng.normal(size=(100, 20)) / 20 ** .5, None), (rng.normal(size=(500, 100)) / 100 ** .5, None)]
    z = rng.normal(size=20)
    x = as_network(L).forward(z)
    xn = x + 1e-4 * np.linalg.norm(x) / 500 ** .5 * rng.normal(size=500)
    return L, z, xn


@pytest.mark.parametrize("method", ["linf", "l1", "l2", "exact"])
def test_reproducer_error_within_10x_noise(reproducer, method):
    L, z, xn = reproducer
    res = dss.invert(L, xn, method=method)
    assert rel(res.z, z) < 10 * 1e-4, (method, res.message)
    assert np.linalg.norm(res.z - z) <= res.error_bound
    if method == "exact":  # x + noise is not an output: said so, with the good best effort
        assert res.status == INFEASIBLE and not res.success and "best effort" in res.message
    else:
        assert res.success and res.noise_source == "estimated"


def test_noise_std_and_bound_names(reproducer):
    L, z, xn = reproducer
    sigma = 1e-4 * np.linalg.norm(as_network(L).forward(z)) / 500 ** .5
    r_std = dss.invert(L, xn, method="l2", noise_std=sigma)
    r_inf = dss.invert(L, xn, method="linf", noise=5 * sigma)
    assert r_std.noise_source == "std" and r_inf.noise_source == "bound"
    assert r_inf.noise == 5 * sigma and r_std.noise > 3 * sigma  # l_inf level from the std
    for r in (r_std, r_inf):
        assert r.success and rel(r.z, z) < 1e-3 and np.linalg.norm(r.z - z) <= r.error_bound
    with pytest.raises(dss.InvalidInputError, match="not both"):
        dss.invert(L, xn, method="l2", noise=1e-3, noise_std=1e-3)
    with pytest.raises(dss.InvalidInputError, match="exact"):
        dss.invert(L, xn, noise=1e-3)
    with pytest.raises(dss.InvalidInputError, match="noise_std"):
        dss.invert(L, xn, method="l1", noise_std=float("inf"))


def test_residual_far_above_noise_is_not_success():
    rng = np.random.default_rng(4)
    L = gauss_net((5, 30, 80), rng)
    x = np.abs(rng.normal(size=80))  # not an output of G at all
    for method in ("linf", "l1", "l2"):
        res = dss.invert(L, x, method=method, noise=1e-3)
        assert res.status == INFEASIBLE and not res.success and "noise" in res.message


def test_error_bound_holds_on_500_stress_inversions():
    rng = np.random.default_rng(7)
    held = finite = 0
    for t in range(25):
        dims = [int(rng.integers(2, 5)), int(rng.integers(8, 16)), int(rng.integers(20, 40))]
        L = gauss_net(dims, rng, bias=bool(t % 2))
        G = as_network(L)
        eps = float(10.0 ** rng.uniform(-5, -1))
        invs = [Inverter(L, method=m, noise=eps) for m in ("linf", "l1", "l2")]
        exact = Inverter(L)
        for _ in range(5):
            z = rng.normal(size=dims[0])
            x = G.forward(z)
            xn = x + rng.uniform(-eps, eps, size=x.shape)
            for inv, xx in [(i, xn) for i in invs] + [(exact, x)]:
                res = inv.invert(xx)
                if np.all(np.isfinite(res.z)):
                    assert np.linalg.norm(res.z - z) <= res.error_bound, (t, res.method)
                    held += 1
                    finite += bool(np.isfinite(res.error_bound))
    assert held == 500 and finite >= 250


def test_uniqueness_evidence_is_exact_and_rechecked():
    rng = np.random.default_rng(11)
    L = gauss_net((4, 30, 60, 150), rng, bias=True)
    G = as_network(L)
    kinds = set()
    for _ in range(12):
        x = G.forward(rng.normal(size=4))
        res = dss.invert(L, x)
        if res.unique is True:
            ys = outputs(G, res.z)[:-1] + [x]  # each layer's output (the last: the data)
            for (W, _), li, y in zip(L, res.layers, ys):
                ev = li.evidence
                assert li.unique is True and check_layer_evidence(W, ev, y=y)
                kinds.add(ev["kind"])
                assert not check_layer_evidence(W, dict(ev, rows=ev["rows"][:2]))  # too few
                off = int(np.flatnonzero(y <= 0)[0])  # an inactive row read as active
                assert not check_layer_evidence(W, dict(ev, rows=ev["rows"] + [off]), y=y)
    assert "exact_rank" in kinds


def outputs(G, z):
    out = [np.asarray(z, dtype=np.float64)]
    for layer in G.layers:
        out.append(layer(out[-1]))
    return out[1:]


def test_cone_evidence_nonnegativity():
    # {u >= 0 : u1 + u2 = 0} is the point 0 though the equality row has rank 1
    A = np.array([[1.0, 1.0], [1.0, -1.0]])
    ev = cone_evidence(A, [0], [], [0, 1])
    assert ev is not None and check_layer_evidence(A, ev)
    assert rank_evidence(A, np.array([True, False])) is None
    # {u >= 0 : u1 - u2 = 0} is a ray: no evidence, and forged evidence is rejected
    assert cone_evidence(A, [1], [], [0, 1]) is None
    assert not check_layer_evidence(A, dict(ev, rows=[1]))
    assert not check_layer_evidence(A, dict(ev, y=["1", "-1"]))


def test_batch_result_and_workers_agree():
    rng = np.random.default_rng(5)
    L = gauss_net((5, 30, 80), rng)
    G = as_network(L)
    Z = rng.normal(size=(6, 5))
    X = G.forward(Z) + 1e-5 * rng.normal(size=(6, 80))
    one = dss.invert(L, X, method="l2", noise_std=1e-5)
    two = dss.invert(L, X, method="l2", noise_std=1e-5, workers=2)
    assert one.batch and len(one.results) == 6 and one.z.shape == (6, 5)
    assert np.allclose(one.z, two.z, atol=1e-12) and list(one.status) == list(two.status)
    assert one[2].status == one.status[2] and one.success.all()
    assert np.all(np.linalg.norm(one.z - Z, axis=1) <= one.error_bound)
    d = one.to_dict()
    assert d["batch"] and d["results"][0]["layers"][0]["layer"] == 1


def test_batch_on_dask_local_cluster(capsys):
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(6)
    L = gauss_net((5, 30, 80), rng)
    X = as_network(L).forward(rng.normal(size=(4, 5)))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = dss.invert(L, X, client=client)
        capsys.readouterr()
        shown = dss.invert(L, X, client=client, progress=1e-9)  # results in order as they come
        lines = capsys.readouterr().err.strip().splitlines()
    ref = dss.invert(L, X)
    assert res.status == ref.status and np.allclose(res.z, ref.z, atol=1e-12)
    assert np.array_equal(shown.z, res.z) and list(shown.status) == list(res.status)
    assert lines and lines[-1].startswith("dss invert: 4/4 outputs")


@pytest.mark.parametrize("seed", range(3))
def test_a_true_output_is_never_called_infeasible_by_the_noisy_methods(seed):
    # 4-20-30 with a ReLU output: about 15 of 30 outputs active, fewer than the 20 hidden
    # units, so the last layer's preimage is not a point and the layerwise LPs may pick a
    # hidden point the first layer cannot produce; that residual used to be reported as
    # "infeasible" (no code explains x) for x = G(z) itself
    rng = np.random.default_rng(seed)
    layers = [(rng.standard_normal((20, 4)), None), (rng.standard_normal((30, 20)), None)]
    G = as_network(layers)
    for _ in range(3):
        z = rng.standard_normal(4)
        x = G.forward(z)
        eps = 1e-3 * np.abs(x).max()
        for method in ("linf", "l1", "l2"):
            res = dss.invert(layers, x + rng.uniform(-eps, eps, size=30), method=method,
                             noise=eps)
            assert res.status == "approximate", (method, res.message)
            assert rel(res.z, z) < 0.05


def test_noisy_infeasible_needs_proof():
    rng = np.random.default_rng(7)
    layers = [(rng.standard_normal((20, 4)), None), (rng.standard_normal((60, 20)), None)]
    x = as_network(layers).forward(rng.standard_normal(4))
    eps = 1e-3 * np.abs(x).max()
    far = x + rng.choice([-1.0, 1.0], size=60) * 50 * eps  # far beyond the l_inf bound
    res = dss.invert(layers, far, method="linf", noise=eps)
    assert res.status == INFEASIBLE and "even the last layer alone cannot fit it" in res.message
    # the same data with only a noise estimate: nothing is proven, the answer is not a success
    res = dss.invert(layers, far, method="linf", noise_std=eps / 3)
    assert res.status in ("failed", "approximate") and res.status != INFEASIBLE
