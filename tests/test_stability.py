"""Inverse Lipschitz constants (seed Theorem 3): branch-and-bound against the brute-force reference."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsssolver as dss
from dsssolver.stability import amplification_bound, inverse_lipschitz, sigma_min
from dsssolver.stability.exact_cell import point_in_cell
from dsssolver.testing.lipschitz import reference_min_sigma
from families import all_families, b_negdb, b_negdb_m, gaussian, integer


def _agree(W, b=None):
    """B&B and reference agree on S; the returned cell is real and attains it."""
    res = inverse_lipschitz(W, b)
    ref = reference_min_sigma(W, b)
    assert res.status == "optimal", res
    assert res.cell_certified, res
    assert point_in_cell(W, res.point, res.active, b)
    assert abs(res.min_sigma - ref.min_sigma) <= 1e-9 * max(1.0, ref.min_sigma), (W, b, res, ref)
    assert res.lower_bound <= res.min_sigma
    if res.min_sigma > 0:  # the cell reported is the one whose sigma is reported
        Wf = np.asarray(W, dtype=float)
        assert math.isclose(sigma_min(Wf[list(res.active)], Wf.shape[1]), res.min_sigma, rel_tol=1e-12)
    assert math.isclose(res.value, res.min_sigma / math.sqrt(2 * np.shape(W)[0]), rel_tol=1e-15)
    # S = 0 exactly iff the layer is not injective (seed Theorem 1 on full-dimensional cells)
    if res.injective is False:
        assert res.min_sigma == 0.0 and ref.min_sigma < 1e-9
    return res, ref


@pytest.mark.parametrize("n, m_max, seeds", [(1, 10, 3), (2, 10, 3), (3, 10, 3), (4, 8, 2)])
def test_agrees_with_brute_force_on_families(n, m_max, seeds):
    zero_seen = positive_seen = 0
    for seed in range(seeds):
        rng = np.random.default_rng([8, n, seed])
        for _name, W, b in all_families(rng, n, m_max=m_max):
            res, _ = _agree(W, b)
            zero_seen += res.injective is False
            positive_seen += res.min_sigma > 0
    assert zero_seen and positive_seen  # both kinds of answer were exercised


@pytest.mark.parametrize("n", [2, 3, 4])
def test_agrees_with_brute_force_on_gaussian_layers(n):
    # Gaussian weights rounded to multiples of 1/64: the exact reference stays fast
    rng = np.random.default_rng([81, n])
    for _ in range(6):
        W, _ = gaussian(rng, n, m=int(rng.integers(2 * n, 11)))
        _agree(np.round(W * 64) / 64)


def test_zero_exactly_when_certify_says_not_injective():
    rng = np.random.default_rng(83)
    verdicts = set()
    for _ in range(30):
        n = int(rng.integers(2, 4))
        W, b = integer(rng, n, int(rng.integers(2 * n, 3 * n + 1)), bias="zero")
        res = inverse_lipschitz(W)
        cert = dss.certify(W)
        verdicts.add(cert.status)
        assert (res.injective is False) == (cert.status == "not_injective"), (W, res, cert)
        assert (res.min_sigma == 0.0) == (cert.status == "not_injective")
    assert verdicts == {"injective", "not_injective"}


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_identity_minus_identity(n):
    # MATH.md section 7: W = [I; -I] has S = 1 and C = (2m)^(-1/2) = 1/sqrt(4n); 1/sqrt(8) at n = 2
    W = np.vstack([np.eye(n), -np.eye(n)])
    res = inverse_lipschitz(W)
    assert res.status == "optimal" and res.cell_certified
    assert math.isclose(res.min_sigma, 1.0, rel_tol=1e-12)
    assert math.isclose(res.value, 1 / math.sqrt(4 * n), rel_tol=1e-12)
    assert len(res.active) == n


def test_b_negdb_constructions_are_a_few_binary_choices():
    rng = np.random.default_rng(84)
    for n in (2, 3, 4):
        W, _ = b_negdb(rng, n, bias="zero")
        res, _ = _agree(W)
        assert res.min_sigma > 0 and res.stats["nodes"] <= 2 ** (n + 1)
        W, _ = b_negdb_m(rng, n, extra=2, bias="zero")
        _agree(W)


def test_duplicate_and_antipodal_rows_change_nothing_they_should_not():
    rng = np.random.default_rng(85)
    W, _ = gaussian(rng, 3, m=7)
    base = inverse_lipschitz(W).min_sigma
    # a duplicated row: every cell keeps the same row set up to the copy; the copy only adds rows
    dup = inverse_lipschitz(np.vstack([W, W[:1]]))
    assert dup.min_sigma >= base - 1e-12
    _agree(np.vstack([W, W[:1]]))
    _agree(np.vstack([W, -W[:2]]))
    _agree(np.vstack([W, np.zeros((1, 3))]))


def test_node_limit_gives_unknown_with_a_valid_bracket():
    W, _ = gaussian(np.random.default_rng(86), 4, m=24)
    full = inverse_lipschitz(W)
    part = inverse_lipschitz(W, node_limit=5)
    assert part.status == "unknown" and "node limit" in part.message
    if part.active:  # a cell was found: it is a real one, above the true minimum
        assert part.min_sigma >= full.min_sigma - 1e-12
    assert part.lower_bound <= full.min_sigma + 1e-12


def test_tolerance_is_honoured():
    W, _ = gaussian(np.random.default_rng(87), 4, m=30)
    exact = inverse_lipschitz(W)
    loose = inverse_lipschitz(W, tol=0.2)
    assert loose.status == "optimal" and loose.gap <= 0.2
    assert loose.min_sigma >= exact.min_sigma - 1e-12
    assert loose.min_sigma * (1 - 0.2) <= exact.min_sigma + 1e-12
    assert loose.stats["nodes"] <= exact.stats["nodes"]


@pytest.mark.parametrize("bad, word", [
    ([[np.nan, 1.0], [1.0, 0.0]], "NaN"),
    ([[1.0, 2.0]], None),
    ([[]], "empty"),
])
def test_bad_input_is_named(bad, word):
    if word is None:  # a valid tiny layer (m < 2n): not injective, C = 0
        assert inverse_lipschitz(bad).injective is False
        return
    with pytest.raises(ValueError, match=word):
        inverse_lipschitz(bad)


def test_bad_tol():
    with pytest.raises(ValueError, match="tol"):
        inverse_lipschitz([[1.0], [-1.0]], tol=-1)


def test_amplification_bound():
    assert amplification_bound(np.eye(3) * 2) == pytest.approx(0.5)
    assert amplification_bound(np.ones((2, 2))) == math.inf
    res = inverse_lipschitz(np.vstack([np.eye(2), -np.eye(2)]))
    assert res.amplification == pytest.approx(math.sqrt(2), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.lists(st.integers(-2, 2), min_size=n, max_size=n), min_size=1, max_size=8))))
def test_property_integer_layers(case):
    n, rows = case
    _agree(np.array(rows, dtype=np.int64).reshape(len(rows), n))


# ------------------------------------------------------------ the true constant (pairs.py)

def _ratio_float(W, x, y):
    fx, fy = np.maximum(W @ x, 0), np.maximum(W @ y, 0)
    return np.linalg.norm(fy - fx) / np.linalg.norm(y - x)


def test_true_constant_of_identity_minus_identity_is_one_over_sqrt2():
    for n in (1, 2, 3):
        est = dss.lipschitz_estimate(np.vstack([np.eye(n), -np.eye(n)]))
        assert est.lower == pytest.approx(1 / math.sqrt(2), rel=1e-9)
        assert est.upper == pytest.approx(1 / math.sqrt(2), rel=1e-9)
        assert est.seed_value == pytest.approx(1 / math.sqrt(4 * n), rel=1e-9)
        assert est.looseness == pytest.approx(math.sqrt(2 * n), rel=1e-9)  # the seed's factor


def test_true_constant_in_one_dimension_is_the_harmonic_combination():
    # W = [p; -q] columns: L^2 = P^2 Q^2 / (P^2 + Q^2) with P = ||p||, Q = ||q||
    rng = np.random.default_rng(90)
    for _ in range(5):
        p, q = rng.uniform(0.2, 3, size=int(rng.integers(1, 4))), rng.uniform(0.2, 3, size=2)
        W = np.concatenate([p, -q])[:, None]
        P2, Q2 = np.sum(p ** 2), np.sum(q ** 2)
        est = dss.lipschitz_estimate(W)
        assert est.upper == pytest.approx(math.sqrt(P2 * Q2 / (P2 + Q2)), rel=1e-6)
        assert est.lower <= est.upper


def test_true_constant_never_below_the_certified_lower_bound():
    # random, integer, antipodal and Corollary 2 layers, with and without biases
    rng = np.random.default_rng(91)
    seen_gap = 0
    for n in (1, 2, 3):
        for _name, W, b in all_families(rng, n, m_max=9):
            est = dss.lipschitz_estimate(W, b, restarts=8, iterations=100)
            assert est.lower <= est.upper * (1 + 1e-9), (W, b, est)
            assert est.upper <= est.min_sigma * (1 + 1e-9) + 1e-12  # the within-cell pair
            if est.cells.injective is False:
                assert est.upper == 0.0 and est.lower == 0.0
            x, y = est.pair
            if np.any(x != y) and not np.any(b):
                ratio = _ratio_float(np.asarray(W, float), x, y)
                assert ratio == pytest.approx(est.upper, rel=1e-9, abs=1e-12)
            seen_gap += est.upper > est.lower * (1 + 1e-6)
    assert seen_gap  # the bracket is not always closed: the test could fail


def test_no_sampled_pair_beats_the_lower_bound():
    # the theorem's claim checked directly: random pairs at several scales, and pairs on lines
    # through the origin (where [I; -I] attains the bound), never go below S / sqrt(2)
    rng = np.random.default_rng(92)
    for n in (2, 3):
        B = rng.integers(-3, 4, size=(n, n))
        while abs(np.linalg.det(B)) < 0.5:
            B = rng.integers(-3, 4, size=(n, n))
        for W in (np.vstack([B, -2 * B]).astype(float), rng.standard_normal((4 * n, n))):
            est = dss.lipschitz_estimate(W, restarts=4, iterations=50)
            X = rng.standard_normal((4000, n)) * rng.choice([0.01, 1, 100], size=(4000, 1))
            Y = rng.standard_normal((4000, n)) * rng.choice([0.01, 1, 100], size=(4000, 1))
            Y[:2000] = -X[:2000] * rng.uniform(0.1, 10, size=(2000, 1))
            ratios = np.linalg.norm(np.maximum(X @ W.T, 0) - np.maximum(Y @ W.T, 0), axis=1) \
                / np.linalg.norm(X - Y, axis=1)
            assert ratios.min() >= est.lower * (1 - 1e-9)
            assert est.lower > 0 or W.shape[0] == 4 * n  # [B; -2B] is injective (Corollary 2)


def test_pair_ratio_is_exact_and_rejects_equal_points():
    assert dss.stability.pair_ratio([[1, 0], [0, 1]], [0, 0], [3, 4]) == 1.0
    with pytest.raises(ValueError, match="differ"):
        dss.stability.pair_ratio([[1.0]], [1.0], [1.0])


# ------------------------------------------------------------------- networks (network.py)

def test_network_bounds_on_identity_chain():
    from dsssolver.stability import network_lipschitz
    J2, J4 = np.vstack([np.eye(2), -np.eye(2)]), np.vstack([np.eye(4), -np.eye(4)])
    res = network_lipschitz([(J2, None), (J4, None)], samples=32, iterations=200)
    # N(x) = (x+, x-, 0, ..., 0): the network's constant is that of [I; -I], 1/sqrt(2)
    assert res.lower == pytest.approx(0.5, rel=1e-9)
    assert res.seed_product == pytest.approx(1 / math.sqrt(8) / 4, rel=1e-9)
    assert res.lower <= res.sampled
    assert res.sampled == pytest.approx(1 / math.sqrt(2), rel=1e-3)


def test_network_sampled_never_below_product_bound():
    from dsssolver.stability import network_lipschitz
    rng = np.random.default_rng(93)
    for _ in range(3):
        B = rng.integers(-2, 3, size=(2, 2))
        while abs(np.linalg.det(B)) < 0.5:
            B = rng.integers(-2, 3, size=(2, 2))
        W1 = np.vstack([B, -B, rng.integers(-2, 3, size=(2, 2))]).astype(float)
        W2 = rng.standard_normal((14, 6))
        res = network_lipschitz([(W1, rng.standard_normal(6)), (W2, None)], samples=32, iterations=100)
        assert res.lower <= res.sampled * (1 + 1e-9)


def test_network_bad_shapes_are_named():
    from dsssolver.stability import network_lipschitz
    with pytest.raises(dss.InvalidInputError, match=r"layers\[1\]"):
        network_lipschitz([(np.eye(2), None), (np.eye(3), None)])
    with pytest.raises(dss.InvalidInputError, match="non-empty"):
        network_lipschitz([])


def test_progress_lines_on_stderr(capsys):
    W, _ = gaussian(np.random.default_rng(94), 3, m=12)
    inverse_lipschitz(W, progress=1e-9, node_limit=3)
    err = capsys.readouterr().err
    assert "dss stability:" in err and "nodes" in err


@pytest.mark.parametrize("n", [2, 3, 4])
def test_stopped_search_brackets_the_brute_force_value(n):
    """A node limit returns [lower_bound, min_sigma] around the true S, never a guess."""
    rng = np.random.default_rng([88, n])
    layers = list(all_families(rng, n, m_max=8))
    W, _ = gaussian(rng, n, m=min(10, 3 * n + 1))
    layers.append(("gaussian", np.round(W * 64) / 64, None))
    for name, W, b in layers:
        ref = reference_min_sigma(W, b).min_sigma
        for lim in (1, 3, 10):
            res = inverse_lipschitz(W, b, node_limit=lim)
            assert res.lower_bound <= ref + 1e-9 * max(1.0, ref), (name, lim, res)
            if res.active:  # a cell was found: a real one, so at or above the minimum
                assert res.min_sigma >= ref - 1e-9 * max(1.0, ref), (name, lim, res)
            if res.status == "unknown":
                assert "limit" in res.message


def test_stopped_search_interval_grows_to_the_answer():
    # Gaussian 40 x 4: the lower bound of a stopped search is positive well before the end,
    # never above S, and only grows with the node limit (best bound first)
    W = np.random.default_rng([0, 4]).standard_normal((40, 4))
    full = inverse_lipschitz(W)
    lowers = []
    for lim in (50, 150, 200, full.stats["nodes"] // 1):
        res = inverse_lipschitz(W, node_limit=lim)
        assert res.lower_bound <= full.min_sigma * (1 + 1e-9) and res.min_sigma >= full.min_sigma
        assert res.gap == pytest.approx((res.min_sigma - res.lower_bound) / res.min_sigma)
        lowers.append(res.lower_bound)
    assert lowers == sorted(lowers) and lowers[-2] > 0.5 * full.min_sigma


def test_time_limit_on_a_larger_gaussian_layer_gives_a_proved_interval():
    W = np.random.default_rng([0, 7]).standard_normal((70, 7))
    res = inverse_lipschitz(W, time_limit=3.0)
    assert res.status == "unknown" and "time limit" in res.message
    assert 0 <= res.lower_bound <= res.min_sigma and res.cell_certified
    assert res.gap == pytest.approx((res.min_sigma - res.lower_bound) / res.min_sigma)
    # the cell is real: its sigma_min is an upper bound on S
    assert sigma_min(W[list(res.active)], 7) == pytest.approx(res.min_sigma, rel=1e-12)


def test_cover_branching_finds_rank_deficient_cells():
    # three rows in the plane, n = 2, one pointing between the others' negatives: every cell
    # but few has two active rows; the cell where only row 2 is active is rank-deficient
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [2.0, 1.0]])
    res = inverse_lipschitz(W)
    assert res.injective is False and res.min_sigma == 0.0 and res.lower_bound == 0.0
    assert reference_min_sigma(W).min_sigma < 1e-12
