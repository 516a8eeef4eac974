"""The search's dependency pool with a cap on its live supports (Tree.pool_cap): queries see
only the most recently used supports, a support set aside comes back when added again, and a
capped search decides every layer as brute force does."""
import numpy as np
import pytest

import dsssolver as dss
from dsssolver.certify.pool import SupportSet, bits, mask
from dsssolver.certify.tree import Tree
from dsssolver.testing import reference_certify


def _greedy(supports, live, F, E, d):
    """The packing query by brute force over the live supports."""
    cand = [(bin(s & ~E).count("1"), k) for k, s in enumerate(supports) if k in live and not s & F]
    out, taken = [], 0
    for cost, k in sorted(cand):
        free = supports[k] & ~E
        if free & taken:
            continue
        out.append((k, cost))
        taken |= free
        if len(out) == d or cost == 0:
            break
    return out


def test_capped_pool_keeps_the_most_recently_used():
    rng = np.random.default_rng(5)
    for trial in range(60):
        m = int(rng.integers(4, 130))
        cap = int(rng.integers(1, 40))
        S = SupportSet(m, cap=cap)
        supports, last, clock = [], {}, 0
        for _ in range(int(rng.integers(1, 300))):
            clock += 1
            if supports and rng.random() < 0.2:  # again a support seen before
                rows = bits(supports[int(rng.integers(len(supports)))])
            else:
                rows = rng.choice(m, size=int(rng.integers(1, min(m, 9) + 1)), replace=False)
            k = S.add(rows)
            if k == len(supports):
                supports.append(mask(rows))
            assert supports[k] == mask(rows)
            last[k] = clock
            if len(last) > cap + cap // 4:  # the model: keep the cap most recently used
                for j in sorted(last, key=lambda j: (last[j], j))[:len(last) - cap]:
                    del last[j]
            if rng.random() < 0.3:
                F = mask(rng.choice(m, size=int(rng.integers(0, min(m, 6))), replace=False))
                E = mask(rng.choice(m, size=int(rng.integers(0, m // 2 + 1)), replace=False))
                d = int(rng.integers(1, 6))
                got = S.packing(F, E, d)
                assert got == _greedy(supports, set(last), F, E, d), trial
                clock += 1
                for j, _ in got:
                    last[j] = clock
            assert S.live_count == len(last) <= cap + cap // 4


def test_a_support_set_aside_comes_back():
    S = SupportSet(10, cap=1)
    assert S.add([0, 1]) == 0 and S.add([2, 3]) == 1  # 2 > 1 + 0 live: the older is set aside
    assert S.live_count == 1 and S.set_aside == 1
    assert S.packing(0, 0, 2) == [(1, 2)]
    assert S.add([1, 0]) == 0  # the same support: its old index, live again
    assert S.packing(0, 0, 2) == [(0, 2)]
    assert S.set_aside == 2 and len(S) == 2


@pytest.mark.parametrize("cap", [1, 4])
def test_a_tiny_pool_still_decides_every_layer(monkeypatch, cap):
    monkeypatch.setattr(Tree, "pool_cap", cap)
    rng = np.random.default_rng(cap)
    aside = 0
    for _ in range(25):
        n = int(rng.integers(2, 5))
        m = int(rng.integers(2 * n, 5 * n + 1))
        kind = rng.integers(3)
        W = rng.standard_normal((m, n)) if kind == 0 else rng.integers(-1, 2, size=(m, n)).astype(float)
        b = rng.standard_normal(m) if kind == 2 else np.zeros(m)
        res = dss.certify(W, b, workers=1)
        assert res.checked
        assert res.status == reference_certify(W, b).status, (W.tolist(), b.tolist())
        aside += res.stats.get("pool_set_aside", 0)  # some verdicts need no search
    assert aside > 0  # the cap was reached
