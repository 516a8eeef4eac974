"""Exact building blocks: modular closures, transversal tests, the rational simplex."""
from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsssolver.exact.matroid import PRIME, RowMatroid, _all_transversals_nonsingular, _det_nonzero_mod_p
from dsssolver.exact.simplex import strict_system


def _is_prime(p):
    return p > 1 and all(p % q for q in range(2, int(p ** 0.5) + 1))


def test_prime_is_prime_and_small_enough():
    from dsssolver.exact.matroid import PRIME2

    assert _is_prime(PRIME) and PRIME < 2 ** 26
    assert _is_prime(PRIME2) and PRIME2 < 2 ** 26 and PRIME2 != PRIME


def test_flats_grown_row_by_row_equal_exact_closures():
    # the search's path: one row at a time (the compiled complement update), on Gaussian,
    # integer and rank-deficient rows, n up to 9
    rng = np.random.default_rng(11)
    for trial in range(150):
        n = int(rng.integers(1, 10))
        m = int(rng.integers(2, 30))
        W = rng.integers(-1, 2, size=(m, n)) if trial % 3 == 0 else rng.standard_normal((m, n))
        if trial % 5 == 0:
            W = W[:, :1] @ rng.integers(-2, 3, size=(1, n)) + (W @ np.eye(n)[:, :2]) @ np.eye(n)[:2]
        M = RowMatroid(W)
        state, rows = M.root(), []
        for r in rng.permutation(m)[:n + 1].tolist():
            state = M.extend(state, (r,))
            rows.append(r)
            assert state[0] == M.closure_exact(rows), (trial, rows)


def _int_rank(rows):
    return np.linalg.matrix_rank(np.array(rows, dtype=float)) if len(rows) else 0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.lists(
    st.lists(st.integers(-2, 2), min_size=n, max_size=n), min_size=1, max_size=8)))
def test_modular_closure_equals_exact_closure(rows):
    W = np.array(rows)
    M = RowMatroid(W)
    m, n = W.shape
    for k in range(0, min(m, n) + 1):
        for S in itertools.combinations(range(m), k):
            assert M.closure(S) == M.closure_exact(S), (rows, S)


def test_closure_of_huge_and_tiny_floats():
    W = np.array([[1e-300, 2e-300], [1e300, 2e300], [1.0, 0.0], [3.0, 6.0 + 2 ** -40]])
    M = RowMatroid(W)
    assert M.closure([0]) == frozenset({0, 1})  # exactly parallel despite the scale
    assert 3 not in M.closure([0])  # off by 2**-40: not parallel, exactly


def _brute_transversals(quot):
    for choice in itertools.product(*[range(len(q)) for q in quot]):
        A = np.array([quot[j][c] for j, c in enumerate(choice)], dtype=float)
        if round(np.linalg.det(A)) == 0:
            return False
    return True


def test_transversal_tests_agree_with_brute_force():
    rng = np.random.default_rng(1)
    fast_used = 0
    for _ in range(1500):
        d = int(rng.integers(1, 6))
        quot = [rng.integers(-2, 3, (int(a), d)) for a in rng.integers(1, 4, d)]
        ref = _brute_transversals(quot)
        mix = rng.integers(1, PRIME, (d, d))
        q2 = [((q % PRIME) @ mix) % PRIME for q in quot]
        fast = _all_transversals_nonsingular(q2)
        if fast is not None:
            fast_used += 1
            assert fast == ref
        mats = np.array([[q2[j][c] for j, c in enumerate(ch)]
                         for ch in itertools.product(*[range(len(q)) for q in q2])])
        assert bool(np.all(_det_nonzero_mod_p(mats))) == ref
    assert fast_used > 1000


def test_row_matroid_transversals_independent():
    W = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    M = RowMatroid(W)
    state = M.extend(M.root(), [0])
    # quotient by e1: rows 1 (e2) and 2 (e3) vs 4 (e2+e3) and 6 (e2+e3 mod e1): 6 ~ 4
    assert M.transversals_independent(state, [[1], [2]])
    assert not M.transversals_independent(state, [[4], [6]])
    assert not M.transversals_independent(state, [[1, 4], [2, 6]])
    assert not M.transversals_independent(state, [[1], [2], [4]])  # 3 parts, corank 2


def test_transversal_test_survives_a_chance_zero_modulo_the_search_prime():
    # determinants that are non-zero multiples of PRIME: zero modulo PRIME, not over Q
    from dsssolver.exact import _jit
    from dsssolver.exact.matroid import PRIME, PRIME2

    assert PRIME != PRIME2
    # rows with gcd 1 (RowMatroid divides rows by their gcd)
    W = np.array([[1, 0], [1, PRIME], [1, 1], [1, 1 + PRIME], [2, 2]])
    M = RowMatroid(W)
    root = M.root()
    want = _jit.kernel() is not None  # the second prime runs in the compiled kernel
    assert M.transversals_independent(root, [[2], [3]]) is want  # det = PRIME
    assert M.transversals_independent(M.extend(root, [0]), [[1]]) is want  # residue PRIME
    # genuinely dependent choices stay dependent modulo both primes
    assert not M.transversals_independent(root, [[2], [4, 0]])  # rows 2, 4 parallel


def _check_strict(R, kind, cert):
    n = len(R[0]) - 1
    if kind == "feasible":
        x, s = cert
        return s > 0 and all(
            sum(Fraction(a) * b for a, b in zip(r[:-1], x)) + Fraction(r[-1]) * s < 0 for r in R)
    y = cert
    return (all(v >= 0 for v in y.values()) and any(y.values())
            and all(sum(y[i] * R[i][j] for i in y) == 0 for j in range(n))
            and sum(y[i] * R[i][n] for i in y) >= 0)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.lists(
    st.lists(st.integers(-2, 2), min_size=n + 1, max_size=n + 1), min_size=1, max_size=7)))
def test_rational_simplex_certificates_check(R):
    kind, cert = strict_system(R)
    assert _check_strict(R, kind, cert)


def test_rational_simplex_on_a_cell_too_thin_for_floats():
    # x1 < -1 and x1 > -1 - 2**-60: a strip 2**-60 wide, yet open
    R = [[1, 0, 1], [-1, 0, -(1 + Fraction(1, 2 ** 60))], [0, 1, -1], [0, -1, -1]]
    kind, cert = strict_system(R)
    assert kind == "feasible" and _check_strict(R, kind, cert)
    R[1][2] = -1  # the strip closes
    kind, cert = strict_system(R)
    assert kind == "infeasible" and _check_strict(R, kind, cert)


@pytest.mark.parametrize("rows, kind", [
    ([], "feasible"),         # no constraint at all
    ([[]], "infeasible"),     # a row without even a bias: 0 < 0
    ([[-1]], "feasible"),     # no variable, b = -1: always negative
    ([[0]], "infeasible"),    # b = 0
    ([[1]], "infeasible"),    # b = 1
])
def test_rational_simplex_degenerate_inputs(rows, kind):
    got, cert = strict_system(rows)
    assert got == kind
    if kind == "infeasible":  # the multipliers are an exact certificate
        assert all(y >= 0 for y in cert.values()) and any(cert.values())
        assert sum((y * (rows[i][-1] if rows[i] else 0) for i, y in cert.items()), Fraction(0)) >= 0
