"""The independent checker on its own: hand-made proofs and stored fixtures, never the search.

Fixtures in ``tests/data`` were written once by ``tests/data/make_fixtures.py``.  Each mutation of
a proof is judged against a brute force written here (all row subsets, ranks by Fraction
elimination), so a test fails if the checker accepts what it should not, or rejects what it
should accept.
"""
from __future__ import annotations

import importlib
import itertools
import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from dsssolver.errors import CheckTimeout, EvidenceError, InvalidInputError
from dsssolver.verify import (INJECTIVE, CertifyResult, CheckResult, Dependency, Domain, Proof,
                              check)

verify_check = importlib.import_module("dsssolver.verify.check")
DATA = Path(__file__).resolve().parent / "data"
SMALL = json.loads((DATA / "small_evidence.json").read_text())
FMT = {"format": "dsssolver-evidence", "version": 2}


# ------------------------------------------------------------ the brute force of this file
def _rank(rows):
    A = [[Fraction(v) for v in r] for r in rows]
    rank = 0
    for c in range(len(A[0]) if A else 0):
        piv = next((r for r in range(rank, len(A)) if A[r][c]), None)
        if piv is None:
            continue
        A[rank], A[piv] = A[piv], A[rank]
        for r in range(len(A)):
            if r != rank and A[r][c]:
                f = A[r][c] / A[rank][c]
                A[r] = [a - f * p for a, p in zip(A[r], A[rank])]
        rank += 1
    return rank


def _dependency_ok(W, b, rows, ys):
    ys = [Fraction(y) for y in ys]
    n = len(W[0])
    if not rows or len(set(rows)) != len(rows) or any(y < 0 for y in ys) or not any(ys):
        return False
    if any(sum(y * W[i][j] for i, y in zip(rows, ys)) != 0 for j in range(n)):
        return False
    return sum(y * b[i] for i, y in zip(rows, ys)) >= 0


def _some_flat_meets_all(W, dep_rows):
    m, n = len(W), len(W[0])
    for size in range(m + 1):
        for S in itertools.combinations(range(m), size):
            if (not S or _rank([W[i] for i in S]) < n) and all(set(S) & set(d) for d in dep_rows):
                return True
    return False


def _truth(W, b, doc):
    """Whether a proof document is valid, decided by brute force."""
    minor = doc["minor"]
    n = len(W[0])
    if len(set(minor)) != n or _rank([W[i] for i in minor]) < n:
        return False
    deps = doc["dependencies"]
    if not all(_dependency_ok(W, b, d["rows"], [Fraction(y) for y in d["multipliers"]]) for d in deps):
        return False
    return not _some_flat_meets_all(W, [d["rows"] for d in deps])


# ------------------------------------------------------------------ hand-made evidence
def _pm_identity(n):
    W = np.vstack([np.eye(n, dtype=np.int64), -np.eye(n, dtype=np.int64)])
    deps = [Dependency((i, i + n), (Fraction(1), Fraction(1))) for i in range(n)]
    return W, CertifyResult(INJECTIVE, "hand-made", (2 * n, n), proof=Proof(list(range(n)), deps))


def test_hand_made_proofs_and_witnesses():
    W, res = _pm_identity(3)
    out = check(res, W)
    assert isinstance(out, CheckResult) and out and out.ok and "3 antiparallel pairs" in out.message
    # the same proof through the general path (the pair shape has its own fast path)
    general = verify_check.check_proof(res.proof, verify_check._Layer(W, np.zeros(6, np.int64), None))
    assert general and "3 dependencies" in general.message
    dropped = Proof([0, 1, 2], res.proof.dependencies[1:])
    assert not verify_check.check_proof(dropped, verify_check._Layer(W, np.zeros(6, np.int64), None))
    assert not check(CertifyResult(INJECTIVE, "", (6, 3), proof=dropped), W)
    assert check(json.loads(json.dumps(res.to_json())), W)
    # the counterexample to the seed's Lemma 1: injective thanks to its biases
    lemma = CertifyResult(INJECTIVE, "", (2, 1),
                          proof=Proof([0], [Dependency((0, 1), (Fraction(1), Fraction(1)))]))
    assert check(lemma, [[1], [-1]], [1, -1])
    assert not check(lemma, [[1], [-1]], [1, -2])  # sum y_i b_i = -1 < 0
    wit = dict(FMT, status="not_injective", shape=[3, 2], witness=[["-1", "-1"], ["-1", "-2"]])
    assert check(wit, [[1, 0], [0, 1], [1, 1]])
    assert not check(dict(wit, witness=[["-1", "-1"], ["-1", "-1"]]), [[1, 0], [0, 1], [1, 1]])
    assert not check(dict(wit, witness=[["-1", "-1"], ["1", "-2"]]), [[1, 0], [0, 1], [1, 1]])
    assert not check(dict(wit, status="unknown"), [[1, 0], [0, 1], [1, 1]])


def test_python_integers_beyond_int64_are_exact():
    big = 2 ** 70
    res = CertifyResult(INJECTIVE, "", (2, 1), proof=Proof([0], [Dependency((0, 1), (1, big))]))
    assert check(res, [[big], [-1]], [0, 0])
    assert not check(res, [[big + 1], [-1]], [0, 0])
    assert check(res, np.array([[Fraction(big)], [Fraction(-1)]], dtype=object))


def test_result_unpacks_and_explain_is_deprecated():
    W, res = _pm_identity(2)
    ok, message = check(res, W)
    assert ok is True and "nonsingular" in message
    with pytest.warns(DeprecationWarning):
        check(res, W, explain=True)


# --------------------------------------------------------------- mutations vs brute force
@pytest.mark.parametrize("case", range(len(SMALL)))
def test_fixtures_and_their_mutations_agree_with_brute_force(case):
    rnd = random.Random(case)
    W, b, doc = SMALL[case]["W"], SMALL[case]["b"], SMALL[case]["evidence"]
    assert check(doc, W, b) and check(doc, W, b, hints=False)
    if doc["status"] != "injective":
        x1, x2 = doc["witness"]
        j = rnd.randrange(len(x1))
        moved = [list(x1), list(x2)]
        moved[1][j] = str(Fraction(x2[j]) + 1)
        # moving a point breaks the witness unless the outputs still agree
        out1 = [max(sum(Fraction(w) * Fraction(x) for w, x in zip(row, p)) + bi, 0)
                for row, bi, p in ((row, bi, moved[0]) for row, bi in zip(W, b))]
        out2 = [max(sum(Fraction(w) * Fraction(x) for w, x in zip(row, moved[1])) + bi, 0)
                for row, bi in zip(W, b)]
        assert bool(check(dict(doc, witness=moved), W, b)) == (out1 == out2 and moved[0] != moved[1])
        return
    deps = doc["dependencies"]
    mutants = []
    for k in range(len(deps)):  # every dependency dropped in turn
        mutants.append(dict(doc, dependencies=deps[:k] + deps[k + 1:]))
    k = rnd.randrange(len(deps))  # a changed multiplier
    changed = json.loads(json.dumps(deps))
    changed[k]["multipliers"][rnd.randrange(len(changed[k]["rows"]))] = "3/7"
    mutants.append(dict(doc, dependencies=changed))
    for i in range(len(W)):  # a minor row swapped for each other row
        if i not in doc["minor"]:
            minor = list(doc["minor"])
            minor[rnd.randrange(len(minor))] = i
            mutants.append(dict(doc, minor=minor))
    for mutant in mutants:
        truth = _truth(W, b, mutant)
        assert bool(check(mutant, W, b)) == truth, mutant
        assert bool(check(mutant, W, b, hints=False)) == truth, mutant
    # hints aimed at the wrong dependency change nothing
    if doc.get("hints"):
        wrong = {key: (v + 1) % len(deps) if isinstance(v, int) else [(x + 1) % len(deps) for x in v]
                 for key, v in doc["hints"].items()}
        assert check(dict(doc, hints=wrong), W, b)
        for mutant in mutants[:3]:
            assert bool(check(dict(mutant, hints=wrong), W, b)) == _truth(W, b, mutant)


def test_stored_gaussian_proof_with_and_without_hints():
    W = np.load(DATA / "gaussian_42x6.npz")["W"]
    doc = json.loads((DATA / "gaussian_42x6_proof.json").read_text())
    with_hints = check(doc, W)
    without = check(doc, W, hints=False)
    assert with_hints and without
    assert with_hints.stats["hints_used"] > 0 and without.stats["hints_used"] == 0
    # another layer of the same shape: the proof is not a proof for it
    W2 = np.array(W)
    W2[0] = -W2[1]
    assert not check(doc, W2)


def test_hostile_hints_are_bounded():
    """Hints that branch on the largest dependency at every flat cannot make the check much
    slower than no hints: past a budget proportional to the evidence, hints are dropped."""
    W = np.load(DATA / "gaussian_42x6.npz")["W"]
    doc = json.loads((DATA / "gaussian_42x6_proof.json").read_text())
    deps = doc["dependencies"]
    worst = max(range(len(deps)), key=lambda k: len(deps[k]["rows"]))
    plain = check(doc, W, hints=False)
    # every mask the honest hints name, and every flat of rank 1, pointed at the worst dependency
    keys = set(doc["hints"]) | {format(1 << i, "x") for i in range(len(W))}
    hostile = check(dict(doc, hints={k: worst for k in keys}), W)
    assert hostile
    assert hostile.stats["nodes"] <= plain.stats["nodes"] + 2 * len(keys) + 2 * len(W) + 256 + 1
    closing = check(dict(doc, hints={k: list(range(min(6, len(deps)))) for k in keys}), W)
    assert closing and closing.stats["hints_used"] <= len(keys)


def test_time_limit_raises_check_timeout():
    W = np.load(DATA / "gaussian_42x6.npz")["W"]
    doc = json.loads((DATA / "gaussian_42x6_proof.json").read_text())
    with pytest.raises(CheckTimeout):
        check(doc, W, time_limit=1e-9, hints=False)
    with pytest.raises(InvalidInputError, match="time_limit"):
        check(doc, W, time_limit="5")
    with pytest.raises(InvalidInputError, match="hints"):
        check(doc, W, hints="yes")


# ------------------------------------------------------------------------------- domains
def _relu_on_halfline():
    """f(x) = ReLU(x): not injective on R, injective on x >= 0."""
    dep = Dependency((0,), (Fraction(1),), (0,), (Fraction(1),))
    return CertifyResult(INJECTIVE, "", (1, 1), proof=Proof([0], [dep]),
                         domain=Domain.nonnegative(1))


def test_domain_proofs_and_witnesses():
    res = _relu_on_halfline()
    assert check(res, [[1]], domain="nonnegative")
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["version"] == 2 and doc["domain"]["name"] == "nonnegative"
    assert check(doc, [[1]], domain="nonnegative")
    # evidence for a domain is no evidence for another
    assert "domain" in check(doc, [[1]]).message and not check(doc, [[1]])
    assert not check(doc, [[1]], domain=([[-1]], [1]))
    # the same set as a polyhedron needs the interior point in the evidence
    poly = CertifyResult(INJECTIVE, "", (1, 1), proof=res.proof,
                         domain=Domain("polyhedron", ((Fraction(-1),),), (Fraction(0),)))
    out = check(poly, [[1]], domain=([[-1]], [0]))
    assert not out and "interior" in out.message
    poly.domain = Domain("polyhedron", ((Fraction(-1),),), (Fraction(0),), (Fraction(0),))
    assert not check(poly, [[1]], domain=([[-1]], [0]))  # 0 is on the boundary
    poly.domain = Domain("polyhedron", ((Fraction(-1),),), (Fraction(0),), (Fraction(1, 2),))
    assert check(poly, [[1]], domain=([[-1]], [0]))
    # a polyhedron of the same size with other A or c: named as such, not as itself
    out = check(poly, [[1]], domain=([[-1]], [-1]))
    assert not out and out.message == ("the evidence is for the domain A x <= c with 1 rows, the "
                                       "check was asked about another domain of that size "
                                       "(different A or c)")
    # a wrong domain multiplier
    bad = json.loads(json.dumps(doc))
    bad["dependencies"][0]["domain_multipliers"] = ["2"]
    assert not check(bad, [[1]], domain="nonnegative")
    # witnesses must lie in the domain
    wit = CertifyResult("not_injective", "", (1, 1), witness=([-1], [-2]))
    assert check(wit, [[1]])
    wit.domain = Domain("polyhedron", ((Fraction(1),),), (Fraction(0),))
    assert check(wit, [[1]], domain=([[1]], [0]))
    wit.domain = Domain.nonnegative(1)
    assert not check(wit, [[1]], domain="nonnegative")
    # version 1 has no domains
    with pytest.raises(EvidenceError, match="version 2"):
        check(dict(doc, version=1), [[1]], domain="nonnegative")


# -------------------------------------------------------------------- hostile documents
def _proof_doc():
    W, res = _pm_identity(2)
    return W, json.loads(json.dumps(res.to_json()))


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(version=True), "version"),
    (lambda d: d.update(format="other-tool"), "format"),
    (lambda d: d.pop("format"), "format"),
    (lambda d: d.update(shape=[4]), "shape"),
    (lambda d: d.update(shape=[4, "2"]), "shape"),
    (lambda d: d.update(status="maybe"), "status"),
    (lambda d: d.update(minor="x"), "minor"),
    (lambda d: d.update(minor=[0, 99]), "minor"),
    (lambda d: d["dependencies"][0].update(multipliers=["1e100000000", "1"]), "dependency 0"),
    (lambda d: d["dependencies"][0].update(multipliers=[1e300 * 1e300, 1]), "finite"),
    (lambda d: d["dependencies"][0].update(multipliers=["1" * 1_000_000, "1"]), "larger"),
    (lambda d: d["dependencies"][0].update(multipliers=["1/" + "7" * 200_000, "1"]), "larger"),
    (lambda d: d["dependencies"][0].update(multipliers=["1/0", "1"]), "zero denominator"),
    (lambda d: d["dependencies"][0].update(rows=[0, 1, 2]), "multipliers"),
    (lambda d: d.update(hints={"zz": 1}), "hint"),
    (lambda d: d.update(hints={"f" * 400: 1}), "hint"),
    (lambda d: d.update(hints={"1": "x"}), "hint"),
])
def test_malformed_evidence_is_refused_quickly(mutate, match):
    import time

    W, doc = _proof_doc()
    mutate(doc)
    t = time.perf_counter()
    with pytest.raises(EvidenceError, match=match):
        check(doc, W)
    assert time.perf_counter() - t < 1.0


def test_huge_rationals_round_trip_in_hex():
    big = Fraction(3 ** 20000, 2 ** 15000 + 1)
    res = CertifyResult("not_injective", "", (2, 1), witness=([big], [big + 1]))
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["witness"][0][0].startswith("0x")
    back = CertifyResult.from_json(doc, max_bits=40000)
    assert back.witness[0][0] == big
    with pytest.raises(EvidenceError, match="larger"):
        CertifyResult.from_json(doc, max_bits=1000)
    # summary never overflows a float, whatever the size
    lines = res.summary().splitlines()
    assert "e+" in lines[1] and len(lines[1]) < 80


def test_witness_beyond_float_range_summarises():
    x = Fraction(-10) ** 320
    res = CertifyResult("not_injective", "", (2, 1), witness=([x], [-x]))
    assert "e+320" in res.summary()


def test_transversal_test_survives_rows_that_vanish_mod_p():
    """A quotient vector that is zero modulo the prime but not over Q: never a crash, and never
    a wrong 'independent'."""
    from dsssolver.verify.flats import transversals_independent

    p = 2147483647
    V = [[p, 0], [0, 1], [2 * p, 0], [1, 1]]
    Pp = np.array([[x % p for x in v] for v in V], dtype=np.int64)
    assert transversals_independent([[0, 2], [1]], Pp, lambda i: V[i], p) > 0
    assert transversals_independent([[0, 3], [1, 3]], Pp, lambda i: V[i], p) == 0


def test_hinted_packings_with_many_transversals_keep_their_hints():
    """A proof whose closing packings need more transversals than the own-packing budget (a
    2000 x 8 Gaussian layer, proven on a sub-layer) is checked along its hints, not abandoned
    and redone from scratch."""
    import dsssolver as dss

    W = np.random.default_rng(11).standard_normal((2000, 8))
    res = dss.certify(W, workers=1)
    assert res.status == INJECTIVE
    out = check(res, W, workers=1)
    assert out and not out.stats["hints_abandoned"]
    budget = 200_000 + 4096 * (len(res.proof.hints) + len(res.proof.dependencies))
    assert out.stats["transversals"] > budget  # the case this test is about


@pytest.mark.parametrize("prime", [3, 101])
def test_a_tiny_prime_only_slows_the_checker_down(monkeypatch, prime):
    """With residues modulo a tiny prime, rows vanish modulo p although they lie outside the
    flat, transversal determinants vanish by chance, and the incremental quotient cannot
    eliminate a row: the checker must confirm exactly or branch, and its verdicts on proofs and
    their mutants still agree with brute force."""
    flats = importlib.import_module("dsssolver.verify.flats")
    monkeypatch.setattr(flats, "random_prime", lambda bits=31: prime)
    checked = 0
    for case in range(len(SMALL)):
        W, b, doc = SMALL[case]["W"], SMALL[case]["b"], SMALL[case]["evidence"]
        if doc["status"] != "injective":
            continue
        deps = doc["dependencies"]
        mutants = [doc] + [dict(doc, dependencies=deps[:k] + deps[k + 1:]) for k in range(len(deps))]
        for mutant in mutants:
            truth = _truth(W, b, mutant)
            assert bool(check(mutant, W, b)) == truth
            assert bool(check(mutant, W, b, hints=False)) == truth
            checked += 1
    assert checked >= 20


def test_rows_vanishing_modulo_the_prime_are_branched_on_exactly(monkeypatch):
    """Rows that are multiples of the checker's prime have zero residues although they lie
    outside every small flat; branching on one takes the exact path, and proofs still check."""
    import dsssolver as dss

    flats = importlib.import_module("dsssolver.verify.flats")
    seen = {"vanished": 0}
    eliminate = flats._eliminate

    def counting(Pp, s, p):
        out = eliminate(Pp, s, p)
        seen["vanished"] += out is None
        return out

    rng = np.random.default_rng(5)
    proofs = []
    for _ in range(30):
        W = rng.choice([-3, 3, -6, 6, 1, -1, 0], size=(int(rng.integers(12, 20)), 3)).astype(float)
        res = dss.certify(W, workers=1)
        if res.status == INJECTIVE:
            proofs.append((W, res))
    assert len(proofs) >= 5
    monkeypatch.setattr(flats, "random_prime", lambda bits=31: 3)
    monkeypatch.setattr(flats, "_eliminate", counting)
    for W, res in proofs:
        assert check(res, W, hints=False, workers=1)
    assert seen["vanished"] > 0


@pytest.mark.parametrize("seed", range(6))
def test_dependency_arithmetic_with_rational_rows_and_multipliers(seed):
    """Rows with non-dyadic rational entries, multipliers scaled by any positive rational: valid
    stays valid; a multiplier moved by 1/10^30, or a bias that breaks sum y_i b_i >= 0, is
    refused (the integer arithmetic of ``_dependency_fault``)."""
    rng = random.Random(seed)

    def det3(M):
        return (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1])
                - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0])
                + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]))

    while True:
        W = [[Fraction(rng.randint(-9, 9), rng.choice([1, 3, 7, 10])) for _ in range(3)]
             for _ in range(4)]
        # the null vector of the 3 x 4 matrix W^T: signed 3 x 3 minors (Cramer)
        z = [(-1) ** i * det3([W[j] for j in range(4) if j != i]) for i in range(4)]
        if all(v > 0 for v in z) or all(v < 0 for v in z):
            break
    y = [abs(v) for v in z]  # a dependency on all four rows
    assert all(sum(y[i] * W[i][k] for i in range(4)) == 0 for k in range(3))
    b = [Fraction(rng.randint(0, 5), rng.choice([1, 3])) for _ in range(4)]  # sum y b >= 0
    layer = verify_check._Layer(np.array(W, dtype=object), np.array(b, dtype=object), None)
    scale = Fraction(rng.randint(1, 50), rng.randint(1, 50))
    good = Dependency(tuple(range(4)), tuple(v * scale for v in y))
    assert verify_check._dependency_fault(good, layer, None) == ""
    off = list(good.multipliers)
    off[rng.randrange(4)] += Fraction(1, 10 ** 30)
    assert "not 0" in verify_check._dependency_fault(Dependency(tuple(range(4)), tuple(off)),
                                                     layer, None)
    worse = [-v - 1 for v in b]  # every bias negative: sum y_i b_i < 0
    layer2 = verify_check._Layer(np.array(W, dtype=object), np.array(worse, dtype=object), None)
    assert "b_i < 0" in verify_check._dependency_fault(good, layer2, None)


def test_parse_rational_fast_path_reads_what_the_full_path_reads():
    from dsssolver.verify._arith import parse_rational

    rng = random.Random(5)
    texts = ["0", "007", "1" * 300, "9" * 301, "12/7", " 5", "5 ", "+5", "-5", "0x1F",
             "²", "١٢", "12a", ""] + [str(rng.getrandbits(rng.randint(1, 900))) for _ in range(200)]
    for t in texts:
        try:
            got = parse_rational(t, "x")
        except EvidenceError:
            got = "refused"
        if t.isascii() and t.isdigit():
            assert got == Fraction(int(t))
        elif t in ("²", "١٢", "12a", ""):
            assert got == "refused"
    # the size bound holds on the fast path too
    with pytest.raises(EvidenceError):
        parse_rational("1" * 200, "x", max_bits=64)
