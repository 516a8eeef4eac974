"""Layers too large for dense algebra: CGLS least squares, exact and noisy inversion."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.invert import Inverter
from dsssolver.invert import layerwise
from dsssolver.invert.sparse import cgls
from dsssolver.layers import SparseMatrix, as_network, conv_transpose2d


def test_cgls_matches_dense_least_squares():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 15)) * (rng.random((60, 15)) < 0.3)
    S = SparseMatrix.from_coo(*np.nonzero(A), A[A != 0], A.shape)
    c = rng.normal(size=60)
    rows = rng.random(60) < 0.7
    x, it = cgls(S, S.T, c, rows)
    ref = np.linalg.lstsq(A[rows], c[rows], rcond=None)[0]
    assert np.allclose(x, ref, atol=1e-9) and 0 < it <= 15 + 5


@pytest.fixture
def small_generator():
    rng = np.random.default_rng(1)
    W1 = rng.normal(size=(32, 6)) / np.sqrt(6)          # 6 -> 2x4x4
    Wt, bt = conv_transpose2d(rng.normal(size=(2, 4, 4, 4)) / 4, None, (2, 4, 4), stride=2,
                              padding=1)               # 2x4x4 -> 4x8x8 = 256
    return [(W1, None), (Wt, bt)]


def test_sparse_path_inverts_exactly_and_noisy(small_generator, monkeypatch):
    monkeypatch.setattr(layerwise, "MAX_DENSE", 0)  # every sparse layer takes the CGLS path
    layers = small_generator
    G = as_network(layers)
    rng = np.random.default_rng(2)
    for _ in range(3):
        z = rng.normal(size=6)
        x = G.forward(z)
        res = Inverter(layers).invert(x)
        assert res.status == "exact" and res.residual < 1e-9
        assert np.allclose(res.z, z, atol=1e-8)
        assert res.layers[1].unique is None and "CGLS" in res.layers[1].message
        sigma = 1e-3 * np.linalg.norm(x) / 16
        res = dss.invert(layers, x + sigma * rng.normal(size=x.shape), method="l2",
                         noise_std=sigma)
        assert res.success and np.linalg.norm(res.z - z) / np.linalg.norm(z) < 1e-2


def test_dense_layer_between_cgls_and_the_first_layer_stays_exact(monkeypatch):
    # A dense layer below a CGLS layer inherits CGLS's ~1e-11 errors: its zero entries come
    # out as +-1e-11, and the first layer must not read those as active rows (it did, and
    # called every exact x infeasible: the DCGAN generators' Linear -> ConvT -> ConvT case).
    monkeypatch.setattr(layerwise, "MAX_DENSE", 0)
    rng = np.random.default_rng(4)
    W1 = rng.normal(size=(24, 6)) / np.sqrt(6)
    W2 = rng.normal(size=(64, 24)) / np.sqrt(24)          # 24 -> 4x4x4
    Wt, _ = conv_transpose2d(rng.normal(size=(4, 4, 4, 4)) / 4, None, (4, 4, 4), stride=2,
                             padding=1)                   # 4x4x4 -> 4x8x8 = 256
    layers = [(W1, None), (W2, None), (Wt, None)]
    G = as_network(layers, "linear")
    inv = Inverter(layers, last_activation="linear")
    for _ in range(5):
        z = rng.normal(size=6)
        res = inv.invert(G.forward(z))
        assert res.status == "exact", res.message
        assert np.allclose(res.z, z, atol=1e-8) and res.residual < 1e-9
        assert res.unique is None  # no exact evidence through a CGLS layer
