"""Sub-layers for m >> n: verdicts against the full certifier and brute force, lifted evidence."""
from __future__ import annotations

import json

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.certify.sublayer import certify_by_sublayers, spread_rows, use_sublayers
from dsssolver.testing.reference import reference_by_cells
from families import all_families


def _plain(W, b, t, check=True):  # dss.certify checks always; check=False may check
    return dss.certify(W, b, time_limit=t)


def _tall_cases(seed, n, count):
    """Degenerate and random layers made tall: a family instance stacked on rows of another."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        fams = list(all_families(rng, n, m_max=3 * n + 2, biases=("zero", "int", "gauss")))
        for k in range(len(fams)):
            name, W, b = fams[k]
            _, W2, b2 = fams[int(rng.integers(len(fams)))]
            W = np.vstack([W.astype(float), W2.astype(float), rng.integers(-1, 2, size=(2 * n, n))])
            b = np.concatenate([b.astype(float), b2.astype(float), rng.integers(-1, 2, size=2 * n)])
            if rng.random() < 0.4:
                b = np.zeros_like(b)
            p = rng.permutation(W.shape[0])
            out.append((name, W[p], b[p]))
    return out[:count]


CASES = _tall_cases(7, 2, 36) + _tall_cases(8, 3, 36)


@pytest.mark.parametrize("chunk", range(4))
def test_sublayer_verdicts_agree_with_full_search_and_brute_force(chunk):
    """Tall degenerate layers (duplicate, zero, antipodal, parallel, integer rows, biases,
    rank-deficient), with tiny first sub-layers so that row generation is exercised."""
    seen = {"injective": 0, "not_injective": 0}
    rounds = 0
    for k, (name, W, b) in enumerate(CASES[chunk::4]):
        n = W.shape[1]
        res = certify_by_sublayers(W, b, _plain, size=n + k % 3)
        assert res.checked and res.shape == W.shape, (name, res)
        assert dss.check(res, W, b), name
        assert dss.check(json.loads(json.dumps(res.to_json())), W, b), name
        assert res.status == _plain(W, b, None).status, (name, W.tolist(), b.tolist())
        # exact brute force (no LP): every rank n-1 flat's cell by Fourier-Motzkin
        assert res.status == reference_by_cells(W, b, max_rows=40).status, (name, W.tolist(), b.tolist())
        seen[res.status] += 1
        rounds += res.stats["sublayer_rounds"] > 1
    assert seen["injective"] > 0 and seen["not_injective"] > 0
    assert rounds > 0  # some sub-layer witnesses failed on the whole layer and rows were added


def test_tall_gaussian_layer_is_proved_on_few_rows():
    W = np.random.default_rng(3).standard_normal((600, 4))
    res = certify_by_sublayers(W, np.zeros(600), _plain)
    assert res.status == "injective" and res.checked
    assert res.stats["sublayer_rows"] <= 2 * 8 * 4
    assert max(max(d.rows) for d in res.proof.dependencies) > 2 * 8 * 4  # rows of the whole layer
    assert dss.check(res, W)


def test_subset_witness_is_not_taken_for_the_layer():
    """A sub-layer (first 2 rows chosen) that is not injective while the layer is: grow, then prove."""
    W = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -1], [-1, 1]] * 3)
    res = certify_by_sublayers(W, np.zeros(len(W)), _plain, size=2)
    assert res.status == "injective" and dss.check(res, W)
    assert res.stats["sublayer_rounds"] >= 2


def test_non_injective_tall_layer_gives_a_whole_layer_witness():
    # every row has a positive first coordinate: x = (-1, 0) switches all rows off
    rng = np.random.default_rng(5)
    W = np.abs(rng.standard_normal((300, 3))) + [1, 0, 0]
    W[:, 1:] -= 1
    res = certify_by_sublayers(W, np.zeros(300), _plain)
    assert res.status == "not_injective" and dss.check(res, W)


def test_spread_rows_are_spread_and_respect_candidates():
    A = np.vstack([np.eye(3), -np.eye(3), np.eye(3) * 2, [[0, 0, 0]]])
    got = spread_rows(A, 6)
    assert len(set(got)) == 6 and 9 not in got  # the zero row is never chosen
    assert len({tuple(np.sign(A[i])) for i in got}) == 6  # the six directions, no repeat
    assert set(spread_rows(A, 2, among=[0, 6, 9], start=[0])) == {6}


def test_use_sublayers_choices():
    assert use_sublayers(1000, 10, "auto") and not use_sublayers(100, 10, "auto")
    assert not use_sublayers(1000, 10, False) and not use_sublayers(1000, 10, None)
    with pytest.raises(ValueError, match="sublayers"):
        use_sublayers(10, 2, "always")


def test_certify_uses_sublayers_on_tall_layers_and_not_when_told():
    W = np.random.default_rng(4).standard_normal((200, 3))
    res = dss.certify(W)
    assert res.status == "injective" and res.stats["sublayer_rows"] < 200 and dss.check(res, W)
    plain = dss.certify(W, sublayers=False)
    assert plain.status == "injective" and "sublayer_rows" not in plain.stats
    with pytest.raises(dss.InvalidInputError, match="sublayers"):
        dss.certify(W, sublayers="yes")


def test_lifted_proof_check_honours_the_time_limit(monkeypatch):
    from dsssolver.certify import sublayer
    from dsssolver.errors import CheckTimeout

    seen = []

    def out_of_time(*a, time_limit=None, **kw):  # the checker, when the limit runs out in it
        seen.append(time_limit)
        raise CheckTimeout("time limit reached during the exact proof check")

    monkeypatch.setattr(sublayer, "check", out_of_time)
    W = np.random.default_rng(3).standard_normal((300, 3))
    res = certify_by_sublayers(W, np.zeros(300), _plain, time_limit=30)
    assert res.status == "unknown" and "time limit" in res.stats["reason"]
    assert seen and 0 < seen[-1] <= 30


def test_a_sublayer_proof_is_checked_once_on_the_whole_layer(monkeypatch):
    import importlib

    from dsssolver.certify import sublayer
    vc = importlib.import_module("dsssolver.verify.check")
    real, sizes = vc.check, []

    def counting(ev, W, *a, **kw):
        sizes.append(len(W))
        return real(ev, W, *a, **kw)

    monkeypatch.setattr(vc, "check", counting)
    monkeypatch.setattr(sublayer, "check", counting)
    W = np.random.default_rng(5).standard_normal((400, 5))
    res = dss.certify(W, workers=1)
    assert res.status == "injective" and res.checked and res.stats["sublayer_rows"] < 400
    assert res.stats["nodes"] > 0  # the sub-layer was searched (not a pre-test proof)
    # the lifted proof, on all 400 rows, once; the sub-layer's own proof is not checked
    assert sizes == [400]


def test_a_lifted_proof_the_checker_refuses_is_unknown(monkeypatch):
    from dsssolver.certify import sublayer
    from dsssolver.verify import CheckResult

    monkeypatch.setattr(sublayer, "check", lambda *a, **kw: CheckResult(False, "refused"))
    W = np.random.default_rng(5).standard_normal((400, 3))
    res = certify_by_sublayers(W, np.zeros(400), _plain)
    assert res.status == "unknown" and "failed the exact check (refused)" in res.stats["reason"]
