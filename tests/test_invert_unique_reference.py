"""check_unique and invert's ``unique=True`` against a brute-force count of preimages.

The reference enumerates every activation pattern of the hidden layer of a tiny network
(2 inputs), so that G is affine on each pattern's region, and decides exactly (rationals,
vertex enumeration in the plane) whether the preimage of x is empty, one point or more.
Evidence is taken from invert and also forged (random active sets, tight sets and zero
coordinates): whatever check_unique accepts must be "at most one" by the reference.
"""
from fractions import Fraction
from itertools import combinations, product

import numpy as np

import dsssolver as dss
from dsssolver.invert.exact import check_unique, cone_evidence, rank_evidence
from dsssolver.layers import as_network


def q(v):
    return Fraction(*float(v).as_integer_ratio())


def _det(a, b):
    return a[0] * b[1] - a[1] * b[0]


def _line_feasible(rows, c, eq):
    """Rows of rank <= 1 in the plane: is ``{z : rows z <= c (== where eq)}`` non-empty?"""
    a = next((r for r in rows if any(r)), None)
    lo, hi = None, None
    for r, ci, e in zip(rows, c, eq):
        if a is None or not any(r):
            if (e and ci != 0) or (not e and ci < 0):
                return False
            continue
        lam = r[0] / a[0] if a[0] else r[1] / a[1]  # r = lam a
        bound = ci / lam
        if e:
            lo = bound if lo is None else max(lo, bound)
            hi = bound if hi is None else min(hi, bound)
        elif lam > 0:
            hi = bound if hi is None else min(hi, bound)
        else:
            lo = bound if lo is None else max(lo, bound)
    return lo is None or hi is None or lo <= hi


def polyhedron(rows, c, eq):
    """``("empty" | "point" | "more", point)`` for ``{z in Q^2 : rows z <= c, == where eq}``."""
    ok = lambda z: all((r[0] * z[0] + r[1] * z[1] == ci) if e else (r[0] * z[0] + r[1] * z[1] <= ci)
                       for r, ci, e in zip(rows, c, eq))
    if not any(_det(a, b) for a, b in combinations(rows, 2)):  # rank <= 1: a line if feasible
        return ("more", None) if _line_feasible(rows, c, eq) else ("empty", None)
    verts = set()
    for (a, ca), (b, cb) in combinations(list(zip(rows, c)), 2):
        d = _det(a, b)
        if d:
            z = ((ca * b[1] - cb * a[1]) / d, (a[0] * cb - b[0] * ca) / d)
            if ok(z):
                verts.add(z)
    if len(verts) != 1:
        return ("empty", None) if not verts else ("more", None)
    for r in rows:  # a pointed cone in the plane: its extreme rays lie on some row's line
        for d in ((-r[1], r[0]), (r[1], -r[0])):
            if any(d) and all((s[0] * d[0] + s[1] * d[1] == 0) if e else
                              (s[0] * d[0] + s[1] * d[1] <= 0) for s, e in zip(rows, eq)):
                return "more", None
    return "point", verts.pop()


def reference_preimages(L, x):
    """"empty", "one" or "more": the preimage of x under a 2-layer ReLU net on R^2."""
    (W1, b1), (W2, b2) = [(np.asarray(W), np.zeros(len(W)) if b is None else b) for W, b in L]
    W1q = [[q(v) for v in row] for row in W1]
    W2q = [[q(v) for v in row] for row in W2]
    b1q, b2q, xq = [q(v) for v in b1], [q(v) for v in b2], [q(v) for v in x]
    if any(v < 0 for v in xq):
        return "empty"
    points = set()
    for s in product((0, 1), repeat=len(W1q)):
        rows, c, eq = [], [], []
        for i, on in enumerate(s):  # the hidden unit's side of its kink
            sign = -1 if on else 1
            rows.append([sign * v for v in W1q[i]])
            c.append(sign * -b1q[i])
            eq.append(False)
        # on this region h = D (W1 z + b1): the output rows are affine in z
        A = [[sum(W2q[j][i] * s[i] * W1q[i][k] for i in range(len(s))) for k in range(2)]
             for j in range(len(W2q))]
        a0 = [sum(W2q[j][i] * s[i] * b1q[i] for i in range(len(s))) + b2q[j]
              for j in range(len(W2q))]
        for j in range(len(W2q)):
            rows.append(A[j])
            c.append(xq[j] - a0[j])
            eq.append(xq[j] > 0)
        kind, z = polyhedron(rows, c, eq)
        if kind == "more":
            return "more"
        if kind == "point":
            points.add(z)
    return {0: "empty", 1: "one"}.get(len(points), "more")


def small_net(rng):
    m1, m2 = int(rng.integers(2, 5)), int(rng.integers(4, 9))
    W1 = rng.integers(-2, 3, size=(m1, 2)).astype(float)
    W2 = rng.integers(-2, 3, size=(m2, m1)).astype(float)
    if rng.random() < 0.3:
        W1[-1] = -W1[0] if rng.random() < 0.5 else W1[0]  # antipodal or duplicate rows
    b1 = rng.integers(-2, 3, size=m1) / 2 if rng.random() < 0.5 else None
    b2 = rng.integers(-2, 3, size=m2) / 2 if rng.random() < 0.5 else None
    return [(W1, b1), (W2, b2)]


def forged(A, y, rng, hidden):
    """Evidence for a random active set (mostly truly active rows, some not), tight set and
    zero coordinates; None if the algebra fails for it."""
    on = y > 0
    mask = (on & (rng.random(len(A)) < 0.9)) | (~on & (rng.random(len(A)) < 0.15))
    if rng.random() < 0.5:
        return rank_evidence(A, mask)
    rest = np.flatnonzero(~mask)
    tight = rest[rng.random(len(rest)) < 0.7]
    zero = np.flatnonzero(rng.random(A.shape[1]) < 0.5) if hidden else []
    return cone_evidence(A, np.flatnonzero(mask), tight, zero)


def test_reference_on_known_cases():
    # relu(z1), relu(z2), relu(z1 + z2): one preimage of (1, 2, 3), a quadrant's worth of 0
    L = [(np.eye(2), None), (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None)]
    assert reference_preimages(L, np.array([1.0, 2.0, 3.0])) == "one"
    assert reference_preimages(L, np.array([0.0, 0.0, 0.0])) == "more"
    assert reference_preimages(L, np.array([1.0, 2.0, 4.0])) == "empty"
    assert reference_preimages(L, np.array([1.0, 0.0, 1.0])) == "more"  # z2 <= 0 is free


def test_unique_claims_agree_with_brute_force():
    rng = np.random.default_rng(100)
    n = {"one": 0, "claims": 0, "refused": 0, "forged_accepted": 0}
    for _ in range(160):
        L = small_net(rng)
        net = as_network(L)
        z = rng.integers(-6, 7, size=2) / 2
        x = net.forward(z)  # small dyadic numbers: computed exactly
        truth = reference_preimages(L, x)
        assert truth != "empty"
        n["one"] += truth == "one"
        res = dss.invert(L, x)
        # not proven exactly only where the joint MILP decided (a float claim, never True)
        assert truth != "one" or res.unique is True or res.status == "joint", res.message
        assert res.unique is not False or truth == "more", (L, z, res.message)
        if res.unique is True:  # invert's claim is proven exactly, so never wrong
            n["claims"] += 1
            assert truth == "one", (L, z)
            ok, why = check_unique(net, x, [li.evidence for li in res.layers])
            assert ok and "exactly one" in why
        for _ in range(8):  # forged evidence: accepted only when it is true
            ys = [net.layers[0](z), x]
            evs = [forged(np.asarray(W), y, rng, k > 0) for k, ((W, _), y) in
                   enumerate(zip(L, ys))]
            if None in evs:
                continue
            ok, why = check_unique(net, x, evs)
            if ok:
                n["forged_accepted"] += 1
                assert truth == "one" and "exactly one" in why, (L, z, evs, why)
            else:
                n["refused"] += 1
    assert n["claims"] >= 20 and n["one"] >= 30
    assert n["refused"] >= 50 and n["forged_accepted"] >= 10
