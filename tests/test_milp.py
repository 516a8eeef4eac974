"""The big-M MILP baseline agrees with the exact reference where it is meant to."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from dsssolver.testing.milp import milp_certify
from dsssolver.testing.reference import reference_certify
from families import all_families, gaussian

warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")


def _gaussian_b0(n, count, seed):
    rng = np.random.default_rng([4242, n, seed])
    for _ in range(count):
        m = int(rng.integers(2 * n, 6 * n + 1))  # straddles the injectivity threshold
        yield gaussian(rng, n, m=m, bias="zero")[0]


def _numeric_witness_ok(W, b, r, tol=1e-6):
    """At ``r.point`` the rows that are not clearly negative are ~orthogonal to ``r.direction``."""
    vals = np.asarray(W, float) @ r.point + np.asarray(b, float)
    on = vals > -tol
    v = r.direction
    return np.abs(v).max() > 0.5 and np.all(np.abs(np.asarray(W, float)[on] @ v) < tol)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_depth_formulation_matches_reference_on_gaussian(n):
    verdicts = set()
    for W in _gaussian_b0(n, 8, 0):
        ref = reference_certify(W)
        r = milp_certify(W, formulation="depth", assume_general_position=True)
        assert r.status == ref.status, (W, r, ref)
        assert r.objective is not None
        assert (r.objective < n) == (ref.status == "not_injective")
        if r.status == "not_injective":  # fewer than n rows on at the point
            assert np.sum(W @ r.point >= -1e-7) <= n - 1
        verdicts.add(ref.status)
    assert verdicts == {"injective", "not_injective"}


@pytest.mark.parametrize("n", [2, 3, 4])
def test_direction_formulation_matches_reference_on_gaussian(n):
    for W in _gaussian_b0(n, 8, 1):
        ref = reference_certify(W)
        r = milp_certify(W)
        assert r.status == ref.status, (W, r, ref)
        if r.status == "not_injective":
            assert _numeric_witness_ok(W, np.zeros(len(W)), r)


def test_direction_formulation_matches_reference_on_families():
    # integer data with dependent rows and biases: the matroid formulation is exact here
    for n in (1, 2, 3):
        rng = np.random.default_rng([77, n])
        for name, W, b in all_families(rng, n, m_max=8, biases=("zero", "int", "gauss")):
            ref = reference_certify(W, b)
            r = milp_certify(W, b)
            assert r.status == ref.status, (name, W, b, r, ref)
            if r.status == "not_injective":
                assert _numeric_witness_ok(W, b, r), (name, W, b, r)


def test_depth_without_general_position_is_unknown_not_wrong():
    # [e1; e1; -e1; -e1; e2; -e2]: rows repeat, depth 3 >= n, and it is injective;
    # the depth MILP must not claim that on its own
    W = np.array([[1, 0], [1, 0], [-1, 0], [-1, 0], [0, 1], [0, -1]])
    r = milp_certify(W, formulation="depth")
    assert r.status == "unknown" and r.objective == 3.0
    # drop -e2: every x still has two rows on (depth 2 = n), yet at x = (0, -1) only
    # the e1 rows are on (rank 1), so it is not injective
    W = W[:5]
    assert reference_certify(W).status == "not_injective"
    r = milp_certify(W, formulation="depth")
    assert r.status == "unknown" and r.objective == 2.0
    assert milp_certify(W).status == "not_injective"


def test_depth_needs_zero_bias_and_known_formulation():
    with pytest.raises(ValueError):
        milp_certify([[1], [-1]], [1, 0], formulation="depth")
    with pytest.raises(ValueError):
        milp_certify([[1], [-1]], formulation="nope")


def test_seed_lemma1_counterexample_and_rank_deficiency():
    assert milp_certify([[1], [-1]], [1, -1]).status == "injective"
    assert milp_certify([[1], [-1]], [-1, -1]).status == "not_injective"
    r = milp_certify([[1, 2], [2, 4], [-1, -2]], [0, 1, 3])
    assert r.status == "not_injective" and abs(r.direction @ [1, 2]) < 1e-7
