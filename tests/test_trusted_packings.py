"""Trusted packings (Tree.trust_after): the search may close nodes by packings it did not test,
because the exact checker tests them all again.  With trust forced on from the first packing,
wrong closures happen on integer layers; the checker must reject those proofs, the search must
run again with every packing tested, and every verdict must still match brute force."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.certify.tree import Tree
from dsssolver.testing import reference_certify


@pytest.fixture
def reckless(monkeypatch):
    monkeypatch.setattr(Tree, "trust_after", 0)
    monkeypatch.setattr(Tree, "trust_every", 10**9)
    monkeypatch.setattr(Tree, "trust_from", 1)


def _layers(seed, count):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(2, 5))
        m = int(rng.integers(2 * n, 6 * n + 1))
        W = rng.integers(-1, 2, size=(m, n)).astype(float)
        b = rng.integers(-1, 2, size=m).astype(float) if rng.random() < 0.3 else np.zeros(m)
        yield W, b


def test_reckless_trust_never_changes_a_verdict(reckless):
    reruns = trusted = decided = 0
    for W, b in _layers(0, 120):
        res = dss.certify(W, b, workers=1)
        ref = reference_certify(W, b)
        assert res.status == ref.status, (W.tolist(), b.tolist())
        assert res.checked
        trusted += res.stats.get("trusted_packings", 0)
        reruns += res.stats.get("trust_reruns", 0)
        decided += 1
    assert decided == 120
    assert trusted > 0 and reruns > 0  # both paths ran


def test_trust_is_lost_at_the_first_failed_large_test():
    rng = np.random.default_rng(4)
    W = rng.integers(-1, 2, size=(56, 8)).astype(float)
    res = dss.certify(W, workers=1)
    assert res.checked
    # integer layers fail large transversal tests early: nothing is closed untested
    assert res.stats["trusted_packings"] == 0


def test_gaussian_layers_trust_and_still_check():
    W = np.random.default_rng([9, 10, 0]).standard_normal((90, 9))
    res = dss.certify(W, workers=1)
    assert res.status == "injective" and res.checked
    assert res.stats["trusted_packings"] > 0
    assert dss.check(res, W)
