"""The certifier against the brute-force reference, its evidence, limits and bad input."""
from __future__ import annotations

import contextlib
import importlib
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsssolver as dss
from dsssolver.testing.reference import reference_by_cells, reference_certify
from families import all_families, b_negdb, b_negdb_m, gaussian, hard_families

_search = importlib.import_module("dsssolver.certify.search")  # the module (dss.certify is the function)


def _decide(W, b=None, *, quick=True, **kw):
    """certify, then every piece of evidence is re-checked, also through its JSON form.

    ``quick=False`` switches the quick paths off (antiparallel pairs, the Lemma 1 pre-test,
    the dive): every layer of rank n is then decided by the branch-and-bound itself."""
    with quick_paths(quick):
        res = dss.certify(W, b, **kw)
    assert res.status in ("injective", "not_injective"), res.summary()
    assert res.checked
    assert dss.check(res, W, b)
    doc = json.loads(json.dumps(res.to_json()))
    assert dss.check(doc, W, b)
    if res.status == "not_injective":
        x1, x2 = res.witness
        assert x1 != x2
        assert all(isinstance(v, Fraction) for v in x1 + x2)
    else:
        assert len(res.proof.minor) == W.shape[1]
    return res


@contextlib.contextmanager
def quick_paths(on):
    """Switch certify's quick paths on or off (a private switch of the search, for tests)."""
    before = _search._Run.quick_paths
    _search._Run.quick_paths = on
    try:
        yield
    finally:
        _search._Run.quick_paths = before


def both_ways(W, b):
    """The layer decided by the whole pipeline and by the branch-and-bound alone; they agree."""
    full = _decide(W, b, workers=1)
    bare = _decide(W, b, workers=1, quick=False)
    assert full.status == bare.status, (W.tolist(), b.tolist())
    return full, bare


def reaches_corank_2(res, n):
    """Whether the branch-and-bound ran (nodes > 0) and processed a node of corank >= 2."""
    by_rank = res.stats.get("nodes_by_rank", [])
    return res.stats["nodes"] > 0 and sum(by_rank[:n - 1]) > 0


def branches_below_root(res, n):
    """Whether it processed a node of corank >= 2 below the root (needs n >= 3)."""
    return sum(res.stats.get("nodes_by_rank", [])[1:n - 1]) > 0


# ------------------------------------------------------------------ agreement
# Every agreement layer is decided twice, through the whole pipeline and by the branch-and-bound
# alone (quick paths off), and both answers are compared with a brute-force reference.  The main
# family (all_families) is mostly decided by the quick paths; the hard families (near-threshold
# Gaussian layers, integer layers of a few parallel classes) need the search in both modes.
# test_share_reaching_the_search asserts how many layers reach a node of corank >= 2.
def _family_cases(seed, n, count, m_max):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        for name, W, b in all_families(rng, n, m_max=m_max, biases=("zero", "int", "gauss")):
            out.append((name, W, b))
    return out[:count]


def _hard_cases(seed, n, rounds, m_max, kinds, c=(4, 5)):
    rng = np.random.default_rng(seed)
    return [(name, W, b) for _ in range(rounds) for name, W, b in hard_families(rng, n, m_max, c=c)
            if name.split("/")[0] in kinds]


CASES = []
for _n, _count, _mmax in [(1, 120, 6), (2, 300, 8), (3, 300, 10), (4, 220, 11), (5, 120, 12)]:
    CASES += [(f"n{_n}-{k}", *c) for k, c in enumerate(_family_cases(100 + _n, _n, _count, _mmax))]
HARD_CASES = []
_BOTH, _PARALLEL = ("near_threshold", "parallel_classes"), ("parallel_classes",)
# (n, rounds, m_max, kinds, c): the last set is n = 3 at c = 5..6, mostly injective, so that the
# whole pipeline has to prove them too (reference: flats + LP, C(m, 2) flats)
for _n, _rounds, _mmax, _kinds, _c in [(3, 30, 14, _BOTH, (4, 5)), (4, 2, 16, _BOTH, (4, 5)),
                                       (4, 10, 14, _PARALLEL, (4, 5)), (5, 20, 14, _PARALLEL, (4, 5)),
                                       (3, 50, 18, ("near_threshold",), (5, 6))]:
    HARD_CASES += [(f"hard n{_n} m<={_mmax} c{_c[0]}-{k}", *case) for k, case in
                   enumerate(_hard_cases(200 + _n + _mmax, _n, _rounds, _mmax, _kinds, _c))]
# mix sizes and families across the chunks
CASES = [CASES[i] for i in np.random.default_rng(0).permutation(len(CASES))]
HARD_CASES = [HARD_CASES[i] for i in np.random.default_rng(1).permutation(len(HARD_CASES))]


def _reference(name, W, b):
    """The LP-free reference (exact Fourier-Motzkin over every cell) where it is fast enough,
    else the flats + LP one."""
    m, n = W.shape
    if m <= 14 and (n <= 3 or name.startswith("parallel_classes")):
        return reference_by_cells(W, b)
    return reference_certify(W, b)


_RUNS = {}


def _agreement_run(label, name, W, b, hard):
    """Both ways of deciding the layer, each compared with the reference (once per session)."""
    if label not in _RUNS:
        full, bare = both_ways(W, b)
        ref = _reference(name, W, b) if hard else reference_certify(W, b)
        assert full.status == ref.status, (label, name, W.tolist(), b.tolist())
        _RUNS[label] = (full, bare)
    return _RUNS[label]


@pytest.mark.parametrize("chunk", range(10))
def test_agrees_with_reference_on_families(chunk):
    """>= 1000 instances over n = 1..5 and every family, with zero, integer and Gaussian biases,
    plus the hard families; each decided both ways."""
    seen = {"injective": 0, "not_injective": 0}
    for label, name, W, b in CASES[chunk::10]:
        seen[_agreement_run(label, name, W, b, False)[0].status] += 1
    for label, name, W, b in HARD_CASES[chunk::10]:
        seen[_agreement_run(label, name, W, b, True)[0].status] += 1
    assert seen["injective"] > 0 and seen["not_injective"] > 0


def test_case_count():
    assert len(CASES) >= 1000 and len(HARD_CASES) >= 200
    assert {name.split("/")[0] for _, name, _, _ in HARD_CASES} == {"near_threshold",
                                                                     "parallel_classes"}


def test_share_reaching_the_search():
    """At least 40% of the agreement cases reach the branch-and-bound at corank >= 2.

    Counted over every layer of the agreement test (the main family and the hard ones): in the
    runs with the quick paths off, and over all runs (each layer twice: the whole pipeline and
    the search alone).  The hard families alone must also branch below the root (a node of
    corank >= 2 other than the root) in 40% of their layers.  Reuses the agreement test's runs
    when they were made in this session."""
    deep = {"family": 0, "hard": 0}
    below_root = pipeline = 0
    for group, cases in (("family", CASES), ("hard", HARD_CASES)):
        for label, name, W, b in cases:
            full, bare = _agreement_run(label, name, W, b, group == "hard")
            n = W.shape[1]
            deep[group] += reaches_corank_2(bare, n)
            pipeline += reaches_corank_2(full, n)
            if group == "hard":
                below_root += branches_below_root(bare, n)
    layers = len(CASES) + len(HARD_CASES)
    alone = deep["family"] + deep["hard"]
    summary = (f"search alone reached corank >= 2 in {deep['family']} of {len(CASES)} family layers "
               f"and {deep['hard']} of {len(HARD_CASES)} hard ones (below the root: {below_root}); "
               f"the whole pipeline in {pipeline} of {layers}")
    assert alone >= 0.4 * layers, summary
    assert alone + pipeline >= 0.4 * 2 * layers, summary
    assert below_root >= 0.4 * len(HARD_CASES), summary


def test_expansive_gaussian_layers_agree():
    """Gaussian layers near the injectivity threshold, where both answers occur."""
    rng = np.random.default_rng(7)
    statuses = set()
    for _ in range(40):
        n = int(rng.integers(2, 5))
        m = int(rng.integers(3 * n, 6 * n))
        W = rng.standard_normal((m, n))
        b = rng.standard_normal(m) * 0.3 if rng.random() < 0.5 else None
        full, _ = both_ways(W, b)
        assert full.status == reference_certify(W, b).status
        statuses.add(full.status)
    assert statuses == {"injective", "not_injective"}


# --------------------------------------------------------------- known cases
def test_lemma1_counterexample_is_injective():
    """MATH.md section 2: injective although W restricted to b >= 0 is not."""
    W, b = np.array([[1.0], [-1.0]]), np.array([1.0, -1.0])
    assert _decide(W, b).status == "injective"
    assert _decide(np.array([[1.0], [0.0]])).status == "not_injective"


def test_identity_pair_and_small_layers():
    assert _decide(np.vstack([np.eye(3), -np.eye(3)])).status == "injective"
    assert _decide(np.eye(3)).status == "not_injective"  # m < 2n (Corollary 2)
    assert _decide(np.array([[1, 0], [0, 1], [1, 1]])).status == "not_injective"


def test_b_negdb_is_injective_and_stays_so_with_extra_rows():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 5, 7):
        W, b = b_negdb(rng, n, bias="zero")
        assert _decide(W, b).status == "injective"
        W, b = b_negdb_m(rng, n, extra=3, bias="zero")
        assert _decide(W, b).status == "injective"


def test_float_b_negdb_is_decided_exactly():
    """[B; -DB] built in float64 is not exactly antiparallel: its witness cell is ~1e-16 wide."""
    rng = np.random.default_rng(0)
    B = rng.standard_normal((3, 3))
    D = np.diag(rng.random(3) + 0.5)
    W = np.vstack([B, -D @ B])
    res = _decide(W)
    assert res.status == reference_by_cells(W).status == "not_injective"


def test_rank_deficient_and_zero_rows():
    W = np.array([[1, 2], [2, 4], [-1, -2], [0, 0]])
    res = _decide(W)
    assert res.status == "not_injective" and "rank" in res.message
    # zero rows never change the answer
    W = np.vstack([np.eye(2), -np.eye(2)])
    Z = np.vstack([W, np.zeros((2, 2))])
    assert _decide(Z, np.array([0, 0, 0, 0, 1, -1])).status == "injective"


def test_exact_rationals_are_accepted():
    W = [[Fraction(1, 3), Fraction(0)], [Fraction(0), Fraction(2, 7)],
         [Fraction(-1, 3), Fraction(0)], [Fraction(0), Fraction(-5)]]
    assert _decide(np.array(W, dtype=object)).status == "injective"


# ------------------------------------------------------------ property tests
_entries = st.integers(min_value=-2, max_value=2)


@st.composite
def _layers(draw):
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 8))
    W = np.array(draw(st.lists(st.lists(_entries, min_size=n, max_size=n), min_size=m, max_size=m)))
    b = np.array(draw(st.lists(_entries, min_size=m, max_size=m)))
    return W, b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_layers())
def test_property_matches_reference(layer):
    W, b = layer
    assert both_ways(W, b)[0].status == reference_certify(W, b).status


@settings(max_examples=60, deadline=None)
@given(_layers(), st.randoms(use_true_random=False))
def test_property_invariances(layer, rnd):
    """Row order, positive row scaling and duplicated rows never change the answer;
    adding a row never breaks injectivity."""
    W, b = layer
    base = _decide(W, b).status
    perm = list(range(len(W)))
    rnd.shuffle(perm)
    scale = np.array([rnd.choice([1, 2, 3]) for _ in perm])
    assert _decide(W[perm] * scale[:, None], b[perm] * scale).status == base
    assert _decide(np.vstack([W, W[:1]]), np.concatenate([b, b[:1]])).status == base
    extra = np.array([[rnd.randint(-2, 2) for _ in range(W.shape[1])]])
    grown = _decide(np.vstack([W, extra]), np.concatenate([b, [rnd.randint(-2, 2)]])).status
    if base == "injective":
        assert grown == "injective"


# ----------------------------------------------------------- tampered proofs
def test_tampered_evidence_is_rejected():
    W = np.vstack([np.eye(3), -np.eye(3)])
    res = dss.certify(W)
    doc = res.to_json()
    assert dss.check(doc, W)
    dropped = dict(doc, dependencies=doc["dependencies"][1:])
    out = dss.check(dropped, W)
    assert not out and "meets every dependency" in out.message
    negative = json.loads(json.dumps(doc))
    negative["dependencies"][0]["multipliers"][0] = "-1"
    assert not dss.check(negative, W)
    wrong = json.loads(json.dumps(doc))
    wrong["dependencies"][0]["multipliers"][0] = "2"
    assert not dss.check(wrong, W)
    assert not dss.check(dict(doc, minor=[0, 0, 1]), W)
    assert not dss.check(dict(doc, minor=[0, 1, 3]), W)  # rows e1, e2, -e1: singular
    # a proof for one layer is no proof for a non-injective one of the same shape
    assert not dss.check(doc, np.vstack([np.eye(3), -np.eye(3)[:2], [[1, 1, 1]]]))

    W2 = np.array([[1, 0], [0, 1], [1, 1]])
    wit = dss.certify(W2).to_json()
    assert dss.check(wit, W2)
    bad = json.loads(json.dumps(wit))
    bad["witness"][1][0] = "12345"
    assert not dss.check(bad, W2)
    same = dict(wit, witness=[wit["witness"][0], wit["witness"][0]])
    assert not dss.check(same, W2)
    assert not dss.check(dict(wit, status="unknown"), W2)
    with pytest.raises(ValueError, match="witness"):
        dss.check(dict(wit, witness="nope"), W2)


# ------------------------------------------------------------------- limits
def test_node_and_time_limits_give_unknown_with_stats():
    W, b = gaussian(np.random.default_rng(1), 7, c=7)
    res = dss.certify(W, b, node_limit=2)
    assert res.status == "unknown"
    assert "node limit" in res.stats["reason"] and res.stats["nodes"] >= 2
    assert res.witness is None and res.proof is None
    assert not dss.check(res, W, b)
    res = dss.certify(W, b, time_limit=1e-6)
    assert res.status == "unknown" and "time limit" in res.stats["reason"]


def test_progress_goes_to_stderr(capsys):
    W, b = gaussian(np.random.default_rng(2), 6, c=7)
    res = dss.certify(W, b, progress=1e-9)  # a line at every node
    out, err = capsys.readouterr()
    assert res.status in ("injective", "not_injective")
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == res.stats["nodes"] + res.stats["dive_steps"]
    assert all(ln.startswith("dss:") for ln in lines)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "W, b, match",
    [
        (np.array([[np.nan, 1.0], [1.0, 1.0]]), None, "NaN"),
        (np.array([[np.inf, 1.0], [1.0, 1.0]]), None, "inf"),
        (np.array([1.0, 2.0]), None, "2-D"),
        (np.zeros((0, 3)), None, "empty"),
        (np.eye(2), np.array([1.0, 2.0, 3.0]), "length"),
        (np.eye(2), np.array([np.nan, 0.0]), "b contains NaN"),
        ([[1, 2], [3]], None, "rectangular"),
    ],
)
def test_bad_input_raises_value_error(W, b, match):
    with pytest.raises(ValueError, match=match):
        dss.certify(W, b)


def test_non_numeric_input_raises():
    with pytest.raises(ValueError, match="numeric"):
        dss.certify(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="node_limit"):
        dss.certify(np.eye(2), node_limit=0)
    with pytest.raises(ValueError, match="time_limit"):
        dss.certify(np.eye(2), time_limit=-1)


def test_lemma1_sufficient_half_as_pretest():
    """Mostly non-negative biases: the b >= 0 rows alone are injective, and that proof
    is a valid proof for the whole layer (re-checked against the full W, b)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((80, 5))
    b = np.abs(rng.standard_normal(80))
    b[:5] *= -1
    res = _decide(W, b)
    assert res.status == "injective" and "Lemma 1" in res.message
    assert all(b[i] >= 0 for d in res.proof.dependencies for i in d.rows)
    # when the pre-test fails, the full search still decides: the four rows with b >= 0 are not
    # injective alone (at b = 0), the layer is
    W = np.array([[-2, 1], [2, -2], [1, -2], [0, 1], [-1, 1], [0, 0]])
    b = np.array([-2, -2, 1, 0, 1, 2])
    res = _decide(W, b)
    assert res.stats["pretest"] == "lemma1 on 4 rows with b >= 0: not_injective"
    assert res.status == reference_by_cells(W, b).status == "injective"


def test_hints_steer_but_never_pass_a_wrong_proof():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((42, 6))
    res = dss.certify(W)
    assert res.status == "injective"
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["hints"]
    assert dss.check(doc, W)
    # scrambled hints: still a valid proof, checked the slow way
    k = len(doc["dependencies"])
    scrambled = dict(doc, hints={key: (i * 7) % k for i, key in enumerate(doc["hints"])})
    assert dss.check(scrambled, W)
    # with dependencies removed, the verdict with hints is the verdict without them
    verdicts = set()
    for cut in (1, 2, 4, 8, 16, k - 1):
        short = dict(doc, dependencies=doc["dependencies"][:-cut])
        plain = {key: v for key, v in short.items() if key != "hints"}
        verdicts.add(bool(dss.check(plain, W)))
        assert bool(dss.check(short, W)) == bool(dss.check(plain, W)), cut
    assert False in verdicts
    with pytest.raises(ValueError, match="hint"):
        dss.check(dict(doc, hints={"zz": 1}), W)


def test_torch_linear_layer_is_accepted():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 28)
    res = dss.certify(layer)
    W = layer.weight.detach().double().numpy()
    b = layer.bias.detach().double().numpy()
    assert res.status == dss.certify(W, b).status
    assert dss.check(res, W, b)
    with pytest.raises(ValueError, match="torch module"):
        dss.certify(layer, b=np.zeros(28))


def test_worker_processes_give_the_same_verdicts(monkeypatch):
    """workers=2 shares the open nodes of the search among two processes at once."""

    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    rng = np.random.default_rng(11)
    for n, c in [(6, 7), (6, 5), (5, 6)]:
        W = rng.standard_normal((c * n, n))
        one = dss.certify(W)
        two = dss.certify(W, workers=2)
        assert two.status == one.status and two.stats["workers"] == 2
        assert dss.check(two, W)
        assert dss.check(json.loads(json.dumps(two.to_json())), W)
    # a witness found by the search (the dive misses it), with workers
    W = np.random.default_rng(0).standard_normal((30, 5))
    res = dss.certify(W, workers=2)
    assert res.status == "not_injective" and res.stats["nodes"] > 0 and dss.check(res, W)
    with pytest.raises(ValueError, match="workers"):
        dss.certify(W, workers=0)


def test_the_proof_check_honours_the_deadline():
    from dsssolver.errors import CheckTimeout

    W = np.random.default_rng(0).standard_normal((56, 8))
    res = dss.certify(W)
    assert dss.check(res, W)
    with pytest.raises(CheckTimeout):
        dss.check(res, W, time_limit=1e-9)
