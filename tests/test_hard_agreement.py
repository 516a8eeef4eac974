"""Agreement with the brute-force references on layers that reach the branch-and-bound.

Most random layers are decided before the search (a rank defect, the dive's witness, antiparallel
pairs): the family test in test_certify.py reaches the search in about 1% of its cases.  The
layers here are near the injectivity threshold (Gaussian, n = 3, m = 13, 14, i.e. c = m/n = 4.3, 4.7,
with zero or positive biases), two thirds of them injective by the reference's verdict, so the
search has to prove them and branches at corank >= 2.  The test asserts that at least 40% of its
cases do, through the whole pipeline; each layer is also decided by the branch-and-bound alone
(quick paths off, as in test_certify.py, where the share over all agreement layers is asserted).
"""
from __future__ import annotations

import numpy as np
import pytest

from dsssolver.testing.reference import reference_by_cells, reference_certify
from test_certify import both_ways, branches_below_root


def _reference(W, b):
    # the LP-free reference where it is fast enough (2^m row sets), else the flats + LP one
    return reference_by_cells(W, b) if W.shape[0] <= 12 else reference_certify(W, b)


def _near_threshold(seed, injective=20, not_injective=10, n=3, ms=(13, 14)):
    """Gaussian layers at c = m/n = 4.3..4.7 with zero or positive biases, chosen by the
    reference's verdict (independent of the search): mostly injective ones, which need a proof."""
    rng = np.random.default_rng(seed)
    want = {"injective": injective, "not_injective": not_injective}
    out = []
    k = 0
    while any(want.values()):
        m = ms[k % len(ms)]
        W = rng.standard_normal((m, n))
        b = np.zeros(m) if k % 3 == 0 else np.abs(rng.standard_normal(m)) * 0.5
        ref = _reference(W, b).status
        if want[ref]:
            want[ref] -= 1
            out.append((f"gauss n={n} m={m} #{k}", W, b, ref))
        k += 1
    return out


def test_near_threshold_layers_reach_the_search_and_agree():
    cases = _near_threshold(21)
    deep = 0
    for label, W, b, ref in cases:
        res, _ = both_ways(W, b)  # both checked, and equal
        assert res.status == ref, label
        deep += branches_below_root(res, W.shape[1])
    assert deep >= 0.4 * len(cases), f"only {deep} of {len(cases)} cases reached corank >= 2"


@pytest.mark.slow
@pytest.mark.parametrize("n, c", [(4, 4), (4, 5), (5, 4), (5, 5), (6, 4)])
def test_larger_near_threshold_layers_agree(n, c):
    """n = 4..6 at c = 4..6 against the flats + LP reference (minutes each)."""
    rng = np.random.default_rng(100 * n + c)
    for _ in range(3):
        W = rng.standard_normal((c * n, n))
        b = rng.standard_normal(c * n) * 0.3
        res, _ = both_ways(W, b)
        assert res.status == reference_certify(W, b).status
