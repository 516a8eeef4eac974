"""End-to-end exact re-check of "unique": no float preimage is trusted.

The per-layer check (check_layer_evidence) is exact given the layer's output y; at a hidden
layer that y is a float preimage.  These tests forge what a float can get wrong -- a row
read as active whose exact value is 0, a row read as tight that is not -- and see the
per-layer check accept it while check_unique refuses.
"""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.invert.exact import check_layer_evidence, check_unique, cone_evidence, rank_evidence
from dsssolver.layers import as_network


def test_a_hidden_row_wrongly_read_as_active_is_refused():
    # z -> relu(z) -> W2 h: at z = (1, -1) the hidden output is exactly (1, 0), and every
    # z = (1, -t), t >= 0, gives the same x: the preimage is a ray, not a point
    W1, W2 = np.eye(2), np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    net = as_network([(W1, None), (W2, None)])
    x = net.forward(np.array([1.0, -1.0]))
    assert all(np.array_equal(net.forward(np.array([1.0, -t])), x) for t in (0.0, 1.0, 5.0))
    ev2 = rank_evidence(W2, x > 0)
    forged = rank_evidence(W1, np.array([True, True]))  # row 1 read as active
    y_float = np.array([1.0, 1e-9])  # a float preimage of x whose round-off made h_1 > 0
    assert check_layer_evidence(W2, ev2, y=x) and check_layer_evidence(W1, forged, y=y_float)
    ok, why = check_unique(net, x, [forged, ev2])
    assert not ok and "row 1 is read as active but its exact output is 0" in why
    # the true active set {0} has rank 1: no evidence, nothing to claim
    assert rank_evidence(W1, np.array([True, False])) is None


@pytest.mark.parametrize("b2,verdict", [(0.0, "one"), (-0.5, None), (0.5, "none")])
def test_cone_tight_rows_are_checked_exactly(b2, verdict):
    # rows: u1 = 1 (active), u2 <= 0, -u2 + b2 <= 0.  b2 = 0: the point (1, 0); b2 = -0.5:
    # the segment u2 in [-0.5, 0] (row 2 is not tight everywhere); b2 = 0.5: empty
    A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    b = np.array([0.0, 0.0, b2])
    net = as_network([(A, b)])
    x = np.array([1.0, 0.0, 0.0])
    ev = cone_evidence(A, [0], [1, 2], [])
    assert ev is not None and check_layer_evidence(A, ev, y=x)  # per layer: always accepted
    ok, why = check_unique(net, x, [ev])
    on = check_unique(net, np.array([1.0, 0.5, 0.0]), [ev])  # row 1 on: not an inequality
    assert on == (False, "layer 1: a row read as tight (inactive) has a positive exact output")
    if verdict is None:
        assert not ok and "may be more than a point" in why
        u = np.array([1.0, -0.25])
        assert np.array_equal(net.forward(u), x) and np.array_equal(net.forward(u * [1, 0]), x)
    else:
        assert ok and ("exactly one" if verdict == "one" else "no exact preimage") in why


def test_inverted_codes_pass_the_exact_chain():
    # integer weights and codes: the float forward pass is exact, x has a preimage, and the
    # chain must find exactly that one; random float weights: x is a rounded output with
    # more active rows than unknowns, so it has no exact preimage ("at most one" holds)
    rng = np.random.default_rng(3)
    seen, kinds, fast = set(), set(), 0
    for t in range(12):
        dims = (3, 8, 16) if t % 2 else (3, 10, 24)
        if t < 6:
            L = [(rng.integers(-3, 4, size=(dims[i + 1], dims[i])).astype(float), None)
                 for i in range(2)]
            z = rng.integers(-4, 5, size=dims[0]).astype(float)
        else:
            L = [(rng.normal(size=(dims[i + 1], dims[i])), None) for i in range(2)]
            z = rng.normal(size=dims[0])
        net = as_network(L)
        x = net.forward(z)
        res = dss.invert(L, x)
        if res.unique is not True:
            continue
        ok, why = check_unique(net, x, [li.evidence for li in res.layers])
        assert ok, why
        seen.add("one" if "exactly one" in why else "none")
        # invert said the same: exact data through the chain, rounded data by the fast
        # proof (or the chain, when the last layer has no more active rows than unknowns)
        assert ("exactly one" in res.message) == ("exactly one" in why), res.message
        kinds.update(li.evidence["kind"] for li in res.layers)
        fast += bool(res.layers[-1].evidence.get("no_preimage"))
        if "exactly one" in why:
            assert np.allclose(res.z, z, rtol=0, atol=1e-12)  # the float answer is that one
    assert seen == {"one", "none"} and kinds == {"exact_rank", "exact_cone"} and fast >= 2
