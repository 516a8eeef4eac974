"""plot_layer: the picture's red cells are the rank-deficient cells; bad input is refused."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.errors import InvalidInputError
from dsssolver.plot import _cells

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("seed", range(12))
def test_red_cells_iff_not_injective_n2(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((int(rng.integers(3, 8)), 2))
    g = np.linspace(-1, 1, 300)  # an even count: no pixel at the origin, on every line
    X = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])
    _, _, rank = _cells(W, np.zeros(len(W)), X)
    assert bool((rank < 2).any()) == (dss.certify(W).status == "not_injective")


def test_plane_with_biases_and_witness():
    W = np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1]])
    b = np.array([1.0, -1, 0.5, 2])
    res = dss.certify(W, b)
    ax = dss.plot_layer(W, b, result=res)
    assert ax.get_title().startswith(res.status)
    assert len(ax.lines) >= 4


def test_sphere_draws_the_witness():
    W = np.random.default_rng(3).standard_normal((9, 3))
    res = dss.certify(W)
    assert res.status == "not_injective"
    fig, ax = plt.subplots()
    assert dss.plot_layer(W, ax=ax, result=res) is ax
    assert len(ax.collections) >= 1  # the witness markers
    assert len(ax.lines) >= 2 * len(W)  # every great circle on both hemispheres


@pytest.mark.parametrize("W, b, word", [
    (np.ones((5, 4)), None, "n = 2 or 3"),
    (np.ones((5, 1)), None, "n = 2 or 3"),
    (np.eye(3), np.ones(3), "b = 0"),
])
def test_bad_input(W, b, word):
    with pytest.raises(InvalidInputError, match=word):
        dss.plot_layer(W, b)


def test_nan_is_refused_naming_w():
    with pytest.raises(ValueError, match="W"):
        dss.plot_layer(np.array([[np.nan, 1.0], [1, 1]]))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"dsssolver\[plot\]"):
        dss.plot_layer(np.eye(2))
