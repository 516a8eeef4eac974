"""certify on a restricted domain (x >= 0, or A x <= c) against the LP-free brute force."""
from __future__ import annotations

import importlib
import json
from fractions import Fraction

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.errors import InvalidInputError
from dsssolver.testing.reference import reference_by_cells
from dsssolver.verify import CertifyResult
from families import all_families


def _exact(v):
    return Fraction(v) if not isinstance(v, float) else Fraction(float(v))


def _domain_rows(domain, n):
    if domain == "nonnegative":
        return [[Fraction(-1 if i == j else 0) for j in range(n)] for i in range(n)], [Fraction(0)] * n
    A, c = domain
    return [[_exact(v) for v in row] for row in np.asarray(A).tolist()], \
        [_exact(v) for v in np.asarray(c).tolist()]


def _relu_image(W, b, x):
    b = np.zeros(W.shape[0], dtype=int) if b is None else b
    out = []
    for row, bi in zip(np.asarray(W, dtype=object).tolist(), np.asarray(b, dtype=object).tolist()):
        out.append(max(sum(_exact(w) * xi for w, xi in zip(row, x)) + _exact(bi), 0))
    return out


def _decide_on(W, b, domain):
    """certify on ``domain``; the evidence is re-checked here, independently of the search."""
    res = dss.certify(W, b, domain=domain)
    assert res.status in ("injective", "not_injective"), res.summary()
    assert res.checked
    # the public checker, also through JSON; evidence for a domain is no evidence for R^n
    doc = json.loads(json.dumps(res.to_json()))
    assert dss.check(res, W, b, domain=domain) and dss.check(doc, W, b, domain=domain)
    assert doc["version"] == 2 and doc["domain"]["name"] in ("nonnegative", "polyhedron")
    assert not dss.check(doc, W, b)
    A, c = _domain_rows(domain, W.shape[1])
    if res.status == "not_injective":
        x1, x2 = res.witness
        assert x1 != x2
        for x in (x1, x2):  # both inside the domain, exactly
            assert all(sum(a * xi for a, xi in zip(row, x)) <= ck for row, ck in zip(A, c))
        assert _relu_image(W, b, x1) == _relu_image(W, b, x2)
    else:
        out = dss.check(res, W, b, domain=domain, hints=False)
        assert out, out.message
        # the proof is about the domain: without it, a dependency with domain rows is refused
        if any(d.domain_rows for d in res.proof.dependencies):
            plain = CertifyResult(res.status, "", res.shape, proof=res.proof)
            assert not dss.check(plain, W, b)
    return res


def _random_domain(rng, n, kind):
    if kind == "nonnegative":
        return "nonnegative"
    x0 = rng.integers(-2, 3, size=n)  # an interior point: c = A x0 + slack, slack >= 1
    k = int(rng.integers(1, n + 3))
    A = rng.integers(-2, 3, size=(k, n))
    A[~A.any(axis=1), 0] = 1
    if kind == "box":
        A = np.vstack([np.eye(n, dtype=int), -np.eye(n, dtype=int)])
    c = A @ x0 + rng.integers(1, 4, size=len(A))
    return A, c


def _cases(seed, count):
    rng = np.random.default_rng(seed)
    out = []
    kinds = ("nonnegative", "polyhedron", "box")
    while len(out) < count:
        n = int(rng.integers(1, 4))
        for name, W, b in all_families(rng, n, m_max=7, biases=("zero", "int")):
            out.append((name, W, b, _random_domain(rng, n, kinds[len(out) % 3])))
    return out[:count]


CASES = _cases(5, 240)


@pytest.mark.parametrize("chunk", range(4))
def test_agrees_with_brute_force_on_domains(chunk):
    seen = set()
    for name, W, b, domain in CASES[chunk::4]:
        res = _decide_on(W, b, domain)
        ref = reference_by_cells(W, b, domain=domain)
        assert res.status == ref.status, (name, W.tolist(), b.tolist(), domain)
        seen.add(res.status)
    assert seen == {"injective", "not_injective"}


def test_identity_is_injective_on_the_orthant_only():
    for n in (1, 2, 4):
        W = np.eye(n)
        assert _decide_on(W, None, "nonnegative").status == "injective"
        assert dss.certify(W).status == "not_injective"
        assert reference_by_cells(W, domain="nonnegative").status == "injective"
    # a bias that pushes part of the orthant below zero breaks it again
    assert _decide_on(np.eye(2), np.array([-1, 0]), "nonnegative").status == "not_injective"


def test_seed_equation_4_second_layer():
    """ReLU(Id ReLU(W x)): the second layer Id is not injective on R^n, but it only ever sees
    x >= 0, where it is; with an injective first layer the network is injective."""
    rng = np.random.default_rng(4)
    B = rng.integers(-3, 4, size=(3, 3))
    while round(abs(np.linalg.det(B))) == 0:
        B = rng.integers(-3, 4, size=(3, 3))
    W1 = np.vstack([B, -B])  # [B; -B]: injective (Corollary 2 construction)
    assert dss.certify(W1).status == "injective"
    Id = np.eye(6, dtype=int)
    assert dss.certify(Id).status == "not_injective"
    assert _decide_on(Id, None, "nonnegative").status == "injective"


def test_a_polyhedron_that_avoids_the_bad_cells():
    # f(x) = ReLU(x1 - x2, x1 + x2) collapses {x1 <= -|x2|}; on x1 >= 1 it is injective
    W = np.array([[1, -1], [1, 1]])
    assert dss.certify(W).status == "not_injective"
    assert _decide_on(W, None, (np.array([[-1, 0], [0, 1], [0, -1]]), np.array([-1, 1, 1]))).status \
        == "injective"
    assert _decide_on(W, None, (np.array([[-1, 0]]), np.array([5]))).status == "not_injective"


def test_rank_deficient_layer_gives_a_witness_inside_the_domain():
    W = np.array([[1, 1], [2, 2], [-1, -1]])
    res = _decide_on(W, None, (np.array([[1, 0], [-1, 0], [0, 1], [0, -1]]), np.array([3, -2, 3, -2])))
    assert res.status == "not_injective" and "rank" in res.message


def test_domain_must_be_full_dimensional_and_well_formed():
    W = np.eye(2)
    with pytest.raises(InvalidInputError, match="full-dimensional"):
        dss.certify(W, domain=(np.array([[1, 0], [-1, 0]]), np.array([0, 0])))
    with pytest.raises(InvalidInputError, match="empty"):
        dss.certify(W, domain=(np.array([[0, 0]]), np.array([-1])))
    with pytest.raises(InvalidInputError, match="domain"):
        dss.certify(W, domain="positive")
    with pytest.raises(InvalidInputError, match="columns"):
        dss.certify(W, domain=(np.eye(3), np.zeros(3)))
    with pytest.raises(ValueError, match="domain c"):
        dss.certify(W, domain=(np.eye(2), np.array([np.nan, 0])))


def test_worker_processes_on_a_domain(monkeypatch):
    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    rng = np.random.default_rng(8)
    for _ in range(3):
        W = rng.standard_normal((9, 3))
        b = rng.standard_normal(9) * 0.5
        res = dss.certify(W, b, domain="nonnegative", workers=2)
        assert res.checked and res.status == reference_by_cells(W, b, domain="nonnegative").status
        assert dss.check(res, W, b, domain="nonnegative")
