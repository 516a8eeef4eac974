"""Quick proofs on domains: antiparallel pairs and rows positive on x >= 0; sub-layers on domains."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.testing.reference import reference_by_cells

check_module = importlib.import_module("dsssolver.verify.check")  # the module, not the function


def _general_check(monkeypatch, ev, W, b, domain):
    """The general checker alone (the pair-shape fast path switched off)."""
    with monkeypatch.context() as mp:
        mp.setattr(check_module, "_pair_shape", lambda *a: None)
        return dss.check(ev, W, b, domain=domain)


@pytest.mark.parametrize("W", [np.eye(3), np.array([[1.0, 2.0], [0.0, 1.0], [-1.0, -1.0]]),
                               np.vstack([np.eye(2), -np.eye(2)]),
                               np.array([[2, 1, 0], [0, 1, 1], [1, 0, 3]])])
def test_rows_positive_on_the_orthant_prove_it_at_once(W, monkeypatch):
    b = np.zeros(len(W))
    res = dss.certify(W, b, domain="nonnegative")
    assert res.status == "injective" and res.stats["path"] == "antiparallel pairs" and res.checked
    ev = res.to_json()
    assert ev["domain"]["name"] == "nonnegative"
    assert dss.check(ev, W, b, domain="nonnegative").ok
    assert _general_check(monkeypatch, ev, W, b, "nonnegative").ok  # both checkers agree
    assert not dss.check(ev, W, b).ok  # not a proof on R^n
    assert reference_by_cells(W, b, domain="nonnegative").status == "injective"


def test_tampered_positive_row_proofs_fail(monkeypatch):
    W, b = np.eye(2), np.zeros(2)
    ev = dss.certify(W, b, domain="nonnegative").to_json()
    for field, value in (("domain_multipliers", ["2"]), ("domain_rows", [1]), ("multipliers", ["-1"])):
        bad = {**ev, "dependencies": [dict(ev["dependencies"][0], **{field: value}), ev["dependencies"][1]]}
        assert not dss.check(bad, W, b, domain="nonnegative").ok, field
        assert not _general_check(monkeypatch, bad, W, b, "nonnegative").ok, field
    # the same proof for a layer whose first row is negative somewhere, or has b < 0, fails
    assert not dss.check(ev, np.array([[1.0, -1.0], [0.0, 1.0]]), b, domain="nonnegative").ok
    assert not dss.check(ev, W, np.array([-1.0, 0.0]), domain="nonnegative").ok
    # on another polyhedron (not the orthant), even with the same A rows reordered, it is refused
    assert not dss.check(ev, W, b, domain=(np.array([[0.0, -1.0], [-1.0, 0.0]]), np.zeros(2))).ok


@pytest.mark.parametrize("seed", range(60))
def test_domain_quick_path_agrees_with_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    m = int(rng.integers(n, 2 * n + 3))
    W = rng.integers(-2, 3, size=(m, n)).astype(float)
    for i in range(m):  # many rows of one sign, duplicates and antipodes
        kind = rng.integers(0, 4)
        if kind == 0:
            W[i] = np.abs(W[i])
        elif kind == 1 and i > 0:
            W[i] = -W[int(rng.integers(0, i))] * rng.integers(1, 3)
    b = rng.integers(-1, 2, size=m).astype(float) if seed % 2 else np.zeros(m)
    domain = "nonnegative" if seed % 3 else (np.vstack([-np.eye(n), np.ones((1, n))]),
                                             np.r_[np.zeros(n), 2.0])
    res = dss.certify(W, b, domain=domain)
    ref = reference_by_cells(W, b, domain=domain)
    assert res.status == ref.status, (W, b, res.message)
    assert res.checked and dss.check(res.to_json(), W, b, domain=domain).ok


@pytest.mark.parametrize("seed", range(4))
def test_sublayers_on_a_domain_agree_with_the_plain_search(seed):
    rng = np.random.default_rng(seed)
    n, m = 3, 80
    W = -np.abs(rng.standard_normal((m, n)))  # rows never active on x > 0 ...
    k = 2 + seed  # ... but a few rows are: injective on x >= 0 iff those span R^3 everywhere
    W[:k] = rng.standard_normal((k, n))
    W[k:k + seed] = np.abs(W[k:k + seed])
    b = np.zeros(m)
    with_sub = dss.certify(W, b, domain="nonnegative", sublayers=True, workers=1)
    plain = dss.certify(W, b, domain="nonnegative", sublayers=False, workers=1)
    assert with_sub.status == plain.status != "unknown"
    assert with_sub.checked and dss.check(with_sub.to_json(), W, b, domain="nonnegative").ok
