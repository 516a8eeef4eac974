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


def test_extend_by_several_rows_equals_one_at_a_time():
    from dsssolver.exact.matroid import RowMatroid

    rng = np.random.default_rng(2)
    for _ in range(60):
        m, n = int(rng.integers(2, 12)), int(rng.integers(1, 6))
        W = rng.integers(-2, 3, size=(m, n)) * rng.integers(0, 2, size=(m, 1))  # zero rows too
        M = RowMatroid(W)
        rows = [int(i) for i in rng.integers(0, m, size=int(rng.integers(1, m + 1)))]
        one = M.root()
        for r in rows:
            one = M.extend(one, (r,))
        many = M.extend(M.root(), rows)
        assert many[0] == one[0] == M.closure_exact(rows) and len(many[1]) == M.rank(rows)


def test_large_witness_is_checked_fast_and_exactly():
    from fractions import Fraction

    n = 60
    W = np.random.default_rng([n, 4, 1]).standard_normal((4 * n, n))
    res = dss.certify(W, sublayers=False)
    assert res.status == "not_injective" and dss.check(res, W)
    x1, x2 = res.witness
    bad = (x1, [x2[0] + Fraction(1, 10 ** 40)] + list(x2[1:]))
    doc = res.to_json()
    doc["witness"] = [[str(v) for v in x] for x in bad]
    assert not dss.check(doc, W)
