"""The two independent references agree with each other and with hand-known answers."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from dsssolver.testing.reference import (
    ReferenceAmbiguous,
    check_witness,
    reference_by_cells,
    reference_certify,
)
from families import all_families, b_negdb, b_negdb_m, few_rows, gaussian, integer, rank_deficient

BOTH = [reference_certify, reference_by_cells]


def _status(W, b=None):
    """Both references' verdict; asserts they agree and that witnesses check exactly."""
    a, c = reference_certify(W, b), reference_by_cells(W, b)
    assert a.status == c.status, (W, b, a, c)
    for r in (a, c):
        assert r.status in ("injective", "not_injective")
        if r.status == "not_injective":
            assert check_witness(W, b, r.exact_point, r.direction), r
            assert r.flat is not None and r.point is not None
        else:
            assert r.flat is None and r.point is None
    return a.status


# ---------------------------------------------------------------- cross-check on families

@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_references_agree_on_families(n):
    count = 0
    seen = set()
    for seed in range(8):
        rng = np.random.default_rng([20261130, n, seed])
        for name, W, b in all_families(rng, n, m_max=10):
            assert W.shape[1] == n and W.shape[0] <= 10 and b.shape == (W.shape[0],)
            seen.add((name.split("/")[0], _status(W, b)))
            count += 1
    assert count >= 75  # 4 values of n: >= 300 instances in all
    # the families must exercise both verdicts (else the cross-check proves little)
    verdicts = {v for _, v in seen}
    assert verdicts == {"injective", "not_injective"}


def test_families_are_deterministic():
    a = list(all_families(np.random.default_rng(5), 3))
    b = list(all_families(np.random.default_rng(5), 3))
    assert [x[0] for x in a] == [x[0] for x in b]
    for (_, W1, b1), (_, W2, b2) in zip(a, b):
        assert np.array_equal(W1, W2) and np.array_equal(b1, b2)


# ---------------------------------------------------------------- hand-known answers

@pytest.mark.parametrize("ref", BOTH)
def test_seed_lemma1_counterexample_is_injective(ref):
    # f(x) = (ReLU(x+1), ReLU(-x-1)) is injective although W|_{b>=0} = [1; 0] is not
    assert ref([[1], [-1]], [1, -1]).status == "injective"
    assert ref([[1], [0]], [1, 0]).status == "not_injective"


@pytest.mark.parametrize("ref", BOTH)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_identity_and_minus_identity_injective(ref, n):
    W = np.vstack([np.eye(n), -np.eye(n)])
    assert ref(W).status == "injective"
    # dropping any one row breaks it (m < 2n)
    r = ref(W[1:])
    assert r.status == "not_injective"
    assert check_witness(W[1:], None, r.exact_point, r.direction)


@pytest.mark.parametrize("ref", BOTH)
def test_fewer_than_2n_rows_never_injective(ref):
    rng = np.random.default_rng(7)
    for n in range(1, 5):
        for _ in range(6):
            W, b = few_rows(rng, n, bias="gauss")
            assert ref(W, b).status == "not_injective"


@pytest.mark.parametrize("ref", BOTH)
def test_b_negdb_injective_without_bias(ref):
    rng = np.random.default_rng(11)
    for n in range(1, 5):
        for _ in range(4):
            W, b = b_negdb(rng, n, bias="zero")
            assert ref(W, b).status == "injective"
            W, b = b_negdb_m(rng, n, extra=2, bias="zero")
            assert ref(W, b).status == "injective"


@pytest.mark.parametrize("ref", BOTH)
def test_rank_deficient_not_injective(ref):
    rng = np.random.default_rng(13)
    for n in range(1, 5):
        W, b = rank_deficient(rng, n, 10, bias="int")
        r = ref(W, b)
        assert r.status == "not_injective"
        assert check_witness(W, b, r.exact_point, r.direction)


@pytest.mark.parametrize("ref", BOTH)
def test_zero_row_changes_nothing(ref):
    rng = np.random.default_rng(17)
    for n in range(1, 4):
        for _ in range(8):
            W, b = integer(rng, n, int(rng.integers(2 * n, 9)), bias="int")
            pos = int(rng.integers(0, W.shape[0] + 1))
            Wz = np.insert(W, pos, 0, axis=0)
            bz = np.insert(b, pos, int(rng.integers(-2, 3)), axis=0)
            assert ref(W, b).status == ref(Wz, bz).status


def test_zero_row_with_positive_bias_is_just_a_constant_output():
    # n = 1: W = [0; 1], b = [5; 0]: x and any x' < 0 collide no matter the constant row
    for ref in BOTH:
        assert ref([[0], [1]], [5, 0]).status == "not_injective"
        assert ref([[0], [1], [-1]], [5, 0, 0]).status == "injective"


def test_bias_can_break_injectivity_of_b_negdb():
    # [1; -1] with biases (-1, -1): every x in (-1, 1) maps to 0
    for ref in BOTH:
        r = ref([[1], [-1]], [-1, -1])
        assert r.status == "not_injective"
        assert check_witness([[1], [-1]], [-1, -1], r.exact_point, r.direction)


def test_exact_fraction_input():
    W = np.array([[Fraction(1, 3), Fraction(0)], [Fraction(0), Fraction(1, 7)],
                  [Fraction(-1, 5), Fraction(0)], [Fraction(0), Fraction(-2, 9)]], dtype=object)
    assert _status(W, None) == "injective"
    # flat {1, 3} (the x2 rows): x1/3 + b0 < 0 and -x1/5 + b2 < 0
    b = np.array([Fraction(1, 3), 0, Fraction(1, 2), 0], dtype=object)
    assert _status(W, b) == "injective"  # x1 < -1 and x1 > 5/2
    b = np.array([Fraction(1, 3), 0, Fraction(-1, 2), 0], dtype=object)
    assert _status(W, b) == "not_injective"  # x1 < -1 and x1 > -5/2


def test_reference_counts_flats():
    # n = 2, b = 0, five rows around the circle (a rough pentagon): every closed
    # half-plane holds >= 2 of them; no two are parallel, so one LP per row
    W = np.array([[2, 0], [1, 2], [-2, 1], [-2, -1], [1, -2]])
    r = reference_certify(W)
    assert r.status == "injective" and r.lps == 5 and r.seconds >= 0
    # parallel rows share their flat
    W2 = np.vstack([W, 2 * W[:2]])
    assert reference_certify(W2).lps == 5


def test_tiny_margin_is_flagged_or_verified():
    # n = 1: x < 0 and -x - 1e-13 < 0 leave only x in (-1e-13, 0): a hair-thin cell
    W, b = [[1.0], [-1.0]], [0.0, -1e-13]
    assert reference_by_cells(W, b).status == "not_injective"  # exact, no LP
    try:
        r = reference_certify(W, b)
    except ReferenceAmbiguous:
        return
    assert r.status == "not_injective"  # allowed only with an exactly verified point
    assert check_witness(W, b, r.exact_point, r.direction)


def test_by_cells_refuses_large_layers():
    W, _ = gaussian(np.random.default_rng(0), 2, m=20)
    with pytest.raises(ValueError):
        reference_by_cells(W)
    assert reference_by_cells(W, max_rows=20).status == reference_certify(W).status


def test_check_witness_rejects_bad_witnesses():
    W, b = [[1, 0], [0, 1], [-1, 0]], [0, 0, 0]
    assert check_witness(W, b, [0, -1], [0, 1])
    assert not check_witness(W, b, [0, -1], [1, 0])  # moves row 0 off its boundary
    assert not check_witness(W, b, [0, -1], [0, 0])  # v = 0
    assert not check_witness(W, b, [0, 1], [0, 1])  # row 1 active and not orthogonal


def test_lp_answers_are_never_taken_on_trust(monkeypatch):
    import dsssolver.testing.reference as ref

    W, b = [[1, 0], [0, 1], [-1, 0], [0, -1]], [0, 0, 0, 0]  # injective
    # a "feasible" LP answer whose point is wrong (every row on or off wrongly)
    monkeypatch.setattr(ref._StrictLP, "solve",
                        lambda self, off: (0.5, np.array([1.0, 1.0]), np.zeros(self.m)))
    with pytest.raises(ReferenceAmbiguous):
        reference_certify(W, b)
    # an "infeasible" LP answer with no usable duals
    monkeypatch.setattr(ref._StrictLP, "solve",
                        lambda self, off: (0.0, None, np.zeros(self.m)))
    with pytest.raises(ReferenceAmbiguous):
        reference_certify(W, b)
    # duals that do not cancel (y = e_0 + e_1 is no Motzkin certificate)
    monkeypatch.setattr(ref._StrictLP, "solve",
                        lambda self, off: (0.0, None, np.array([1.0, 1.0, 0.0, 0.0])))
    with pytest.raises(ReferenceAmbiguous):
        reference_certify(W, b)
    # duals whose exact rounding has mixed signs: (2, -1) on the rows e1, 2 e1
    W = [[1, 0], [2, 0], [0, 1], [0, -1]]
    monkeypatch.setattr(ref._StrictLP, "solve",
                        lambda self, off: (0.0, None, np.array([1.0, 1.0, 0.0, 0.0])))
    with pytest.raises(ReferenceAmbiguous):
        reference_certify(W)
    # a "certificate" made of rows inside the flat proves nothing about the flat
    W = [[1, 0], [-1, 0], [0, 1]]  # not injective: x = (0, -1) leaves only e1, -e1 on
    monkeypatch.setattr(ref._StrictLP, "solve",
                        lambda self, off: (0.0, None, np.array([1.0, 1.0, 0.0])))
    with pytest.raises(ReferenceAmbiguous):
        reference_certify(W)
