"""The bulk elastic dive finds witnesses on large non-injective layers in a few LPs."""
from __future__ import annotations

import numpy as np

import dsssolver as dss


def test_dive_finds_gaussian_c4_witness_in_few_steps():
    n = 40
    W = np.random.default_rng([n, 4, 0]).standard_normal((4 * n, n))
    res = dss.certify(W, sublayers=False)
    assert res.status == "not_injective" and res.checked and dss.check(res, W)
    assert res.stats["nodes"] == 0 and res.stats["dive_steps"] <= 4


def test_dive_with_biases_and_integer_rows():
    rng = np.random.default_rng(1)
    for _ in range(5):
        W = rng.integers(-1, 2, size=(30, 8))
        b = rng.integers(-1, 2, size=30)
        res = dss.certify(W, b)
        assert res.status in ("injective", "not_injective") and dss.check(res, W, b)
