"""Sub-layers: certify a layer with many more rows than inputs through a few of its rows.

For ``m >> n`` most rows are redundant for a proof.  Two facts make a subset
``R`` of the rows enough:

* **A proof for ``R`` is a proof for the layer.**  Its minor and dependencies
  use rows of ``W`` only, so they are valid for ``W`` as they stand.  If a flat
  ``F`` of ``W`` of rank <= n - 1 met every dependency, ``F`` restricted to
  ``R`` would be a flat of ``W_R`` of rank <= n - 1 meeting every dependency
  (they all lie in ``R``), which the sub-layer's proof excludes.  In other
  words, adding rows only makes active sets larger.  The exact checker accepts
  the lifted proof on the whole layer as it is; the search's hints are carried
  over by replacing each hinted flat of ``W_R`` with its closure in ``W``,
  which is the flat the checker meets at the same place of its own search.
* **A witness for ``R`` is not a witness for the layer.**  Rows outside ``R``
  may be active at the witness point and restore full rank.  The point is
  re-examined on the whole layer; if its active rows there still have rank
  < n it gives a witness for the layer, otherwise the rows that spoil it are
  added to ``R`` and the search is repeated (row generation).  Once ``R`` holds
  more than half of the rows, the whole layer is searched instead.

The first sub-layer is well spread: farthest-point sampling of the
directions ``[w_i, b_i] / |[w_i, b_i]|`` (each new row is the one whose largest
cosine with the rows taken so far is smallest), which covers the sphere the
way a proof needs (every point must see ``n`` independent active rows).

Examples
--------
>>> import numpy as np
>>> from dsssolver import certify
>>> W = np.random.default_rng(0).standard_normal((400, 3))
>>> res = certify_by_sublayers(W, np.zeros(400), lambda W, b, t, check=True: certify(W, b, time_limit=t))
>>> res.status, res.shape, res.stats["sublayer_rows"] < 400
('injective', (400, 3), True)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from ..errors import InvalidInputError
from ..verify.check import check
from ..verify.evidence import CertifyResult, Proof
from ..exact.matroid import RowMatroid
from .certificates import ExactLayer
from .pool import bits, mask
from .results import checker_domain_of, evidence_domain

__all__ = ["spread_rows", "use_sublayers", "certify_by_sublayers"]

SUBLAYER_FACTOR = 8  # a first sub-layer of 8n rows: the sizes measured best (7n-10n)


def use_sublayers(m, n, sublayers):
    """Whether ``sublayers`` (``"auto"``, True, False or None) asks for sub-layers on an m x n layer.

    ``"auto"`` chooses them when the first sub-layer would hold at most a
    third of the rows (m >= 24 n), where they were measured to pay off.

    >>> use_sublayers(2000, 8, "auto"), use_sublayers(70, 10, "auto"), use_sublayers(70, 10, True)
    (True, False, True)
    """
    if sublayers in (None, False):
        return False
    if sublayers is True:
        return m > n
    if sublayers == "auto":
        return m >= 3 * SUBLAYER_FACTOR * n
    raise InvalidInputError(f"sublayers must be 'auto', True or False, got {sublayers!r}")


def spread_rows(A, k, among=None, start=()):
    """``k`` row indices of ``A`` with well-spread directions (farthest-point sampling).

    Parameters
    ----------
    A : ndarray, shape (m, p)
        Rows; only their directions matter (zero rows are never chosen).
    k : int
        How many rows to add.
    among : sequence of int, optional
        Candidate rows (default all).
    start : sequence of int
        Rows already chosen: the new rows are spread away from them too.

    Returns
    -------
    list of int
        The chosen rows, in the order chosen (at most ``k``; fewer if the
        candidates run out).

    Examples
    --------
    >>> A = np.array([[1.0, 0], [0.99, 0.1], [-1, 0], [0, 1], [0, -1]])
    >>> sorted(spread_rows(A, 4))
    [0, 2, 3, 4]
    """
    A = np.asarray(A, dtype=float)
    norms = np.linalg.norm(A, axis=1)
    cand = np.arange(A.shape[0]) if among is None else np.asarray(list(among), dtype=np.int64)
    cand = cand[norms[cand] > 0]
    if cand.size == 0 or k <= 0:
        return []
    U = A[cand] / norms[cand, None]
    closest = np.full(cand.size, -np.inf)  # largest cosine with a chosen row (-inf: none yet)
    alive = np.ones(cand.size, dtype=bool)
    pos = {int(i): j for j, i in enumerate(cand)}
    for i in start:
        if int(i) in pos:
            alive[pos[int(i)]] = False
        if norms[i] > 0:
            closest = np.maximum(closest, U @ (A[i] / norms[i]))
    out = []
    for _ in range(min(k, int(alive.sum()))):
        if np.isneginf(closest[alive]).all():
            j = int(np.flatnonzero(alive)[0])  # nothing chosen yet: the first candidate
        else:
            j = int(np.flatnonzero(alive)[np.argmin(closest[alive])])
        alive[j] = False
        out.append(int(cand[j]))
        closest = np.maximum(closest, U @ U[j])
    return out


def certify_by_sublayers(W, b, solve, *, size=None, time_limit=None, progress=False, domain=None,
                         workers=1):
    """Decide a layer through sub-layers of its rows; evidence is checked on the whole layer.

    Parameters
    ----------
    W : ndarray, shape (m, n)
        Validated weights (floats, integers or Fractions).
    b : ndarray, shape (m,)
        Validated biases.
    solve : callable
        ``solve(W_sub, b_sub, time_limit, check=True)`` -> :class:`CertifyResult`: the
        plain certifier applied to a sub-layer (or, as the last resort, to the
        whole layer).
    size : int, optional
        Rows of the first sub-layer (default ``8 n``).
    time_limit : float, optional
        Seconds for everything, shared by the rounds.
    progress : bool
        One line on stderr per round.
    domain : DomainRows, optional
        The inputs (``solve`` searches the sub-layers on the same domain): a
        proof on D for some rows is one on D for the layer, and a witness is
        re-checked on D for the whole layer.
    workers : int
        Processes for the exact check of a lifted proof on the whole layer.

    Returns
    -------
    CertifyResult
        For the whole layer, with its evidence re-checked on the whole layer.
        ``stats`` adds ``sublayer_rows`` (rows of the last sub-layer searched)
        and ``sublayer_rounds``; ``nodes`` and ``lps`` add up all rounds.
    """
    t0 = time.perf_counter()
    W = np.asarray(W, dtype=object) if np.asarray(W).dtype == object else np.asarray(W)
    b = np.asarray(b, dtype=object) if np.asarray(b).dtype == object else np.asarray(b)
    m, n = W.shape
    M = RowMatroid(W)  # the whole layer's flats; the exact layer only if a witness needs lifting
    A = np.hstack([np.asarray(W, dtype=float), np.asarray(b, dtype=float)[:, None]])
    totals = {"nodes": 0, "lps": 0, "rounds": 0}

    def left():
        if time_limit is None:
            return None
        return time_limit - (time.perf_counter() - t0)

    def finish(res, rows):
        res.stats = dict(res.stats)
        for key in ("nodes", "lps"):
            res.stats[key] = totals[key]
        res.stats.update(sublayer_rows=rows, sublayer_rounds=totals["rounds"],
                         seconds=time.perf_counter() - t0)
        return res

    def run(rows):
        budget = left()
        if budget is not None and budget <= 0:
            return CertifyResult("unknown", f"Undecided: time limit {time_limit:g} s reached.", (m, n),
                                 stats={"reason": f"time limit {time_limit:g} s reached"})
        totals["rounds"] += 1
        if rows is None:
            res = solve(W, b, budget)
        else:
            # a sub-layer's proof is only a step: the lifted proof is what the checker sees
            res = solve(W[rows], b[rows], budget, check=False)
        totals["nodes"] += res.stats.get("nodes", 0)
        totals["lps"] += res.stats.get("lps", 0)
        return res

    if M.rank() < n:
        return finish(run(None), m)  # the plain search answers at once (a null vector)
    k = SUBLAYER_FACTOR * n if size is None else int(size)
    R = sorted(_with_full_rank(M, spread_rows(A, k)))
    layer = None
    while 2 * len(R) <= m:
        if progress:
            print(f"dss: sub-layer of {len(R)} of {m} rows", file=sys.stderr, flush=True)
        sub = run(R)
        if sub.status == "unknown":
            return finish(_relabel(sub, m, n), len(R))
        if sub.status == "injective":
            out = _lift_proof(sub, R, M, W, b, left(), domain, workers)
            return finish(out, len(R))
        layer = layer or ExactLayer(W, b)
        out, spoilers = _lift_witness(sub, R, layer, W, b, domain)
        if out is not None:
            return finish(out, len(R))
        # row generation: the rows that are active at the sub-layer's witness point
        grown = set(R) | set(spread_rows(A, 2 * n, among=spoilers, start=R))
        if len(grown) == len(R):
            break  # nothing to add (cannot happen for a valid witness point): search all rows
        R = sorted(grown)
    return finish(run(None), m)


def _with_full_rank(M, rows):
    """``rows`` completed (if needed) by rows of ``M`` to rank n."""
    rows = list(rows)
    if M.rank(rows) == M.n:
        return rows
    state = M.extend(M.root(), rows)
    for i in range(M.m):
        if M.rank(state[1]) == M.n:
            break
        if i not in state[0]:
            state = M.extend(state, (i,))
            rows.append(i)
    return rows


def _relabel(res, m, n):
    res.shape = (m, n)
    return res


def _lift_proof(sub, R, M, W, b, seconds_left, domain=None, workers=1):
    """The sub-layer's proof in the row numbering of the whole layer, checked on the whole layer
    (within ``seconds_left``, if not None)."""
    from ..errors import CheckTimeout
    from ..verify.evidence import Dependency

    deps = [Dependency(tuple(R[i] for i in d.rows), d.multipliers, d.domain_rows, d.domain_multipliers)
            for d in sub.proof.dependencies]
    minor = [R[i] for i in sub.proof.minor]
    hints = {}
    for F, h in (sub.proof.hints or {}).items():
        flat = M.closure([R[i] for i in bits(F)])  # the same flat, seen by the whole layer
        hints[mask(flat)] = h
    t = time.perf_counter()
    m, n = M.m, M.n
    msg = (f"Proof on a sub-layer of {len(R)} of the {m} rows (a proof for some rows is one for the "
           f"layer): a nonsingular minor and {len(deps)} dependencies that no flat of rank < n "
           "meets all of.")
    out = CertifyResult("injective", msg, (m, n), proof=Proof(minor, deps, hints),
                        domain=evidence_domain(domain))
    # the independent checker on the whole layer, as a user would run it, within the time limit
    try:
        if seconds_left is not None and seconds_left <= 0:
            raise CheckTimeout("no time left")
        ok, why = check(out, W, b, domain=checker_domain_of(domain), time_limit=seconds_left,
                        workers=workers)
    except CheckTimeout:
        reason = "time limit reached during the exact check of the lifted sub-layer proof"
        return CertifyResult("unknown", f"Undecided: {reason}.", (m, n), stats={"reason": reason})
    if not ok:  # cannot happen unless there is a bug; never return unchecked evidence
        reason = f"lifted sub-layer proof failed the exact check ({why})"
        return CertifyResult("unknown", f"Undecided: {reason}.", (m, n), stats={"reason": reason})
    stats = dict(sub.stats)
    stats["check_seconds"] = stats.get("check_seconds", 0.0) + time.perf_counter() - t
    out.stats = stats
    out.checked = True
    return out


def _lift_witness(sub, R, layer, W, b, domain=None):
    """``(result, None)`` if the sub-layer's witness point gives one for the layer, else
    ``(None, rows)``: the rows outside ``R`` active there, which restore full rank."""
    m, n = layer.m, layer.n
    x1, x2 = sub.witness
    for pair in _candidate_pairs(layer, x1, x2):
        res = CertifyResult("not_injective", f"Witness found on a sub-layer of {len(R)} of the "
                            f"{m} rows, re-checked on all rows.", (m, n), witness=tuple(pair),
                            stats=dict(sub.stats), domain=evidence_domain(domain))
        if check(res, W, b, domain=checker_domain_of(domain)):  # the independent checker, all rows
            res.checked = True
            return res, None
    inR = set(R)
    spoilers = [i for i in range(m) if i not in inR and _value(layer, i, x1) >= 0]
    return None, spoilers


def _candidate_pairs(layer, x1, x2):
    yield x1, x2
    near = layer.witness_near(x1)  # the point's cell in the whole layer, if it is rank-deficient
    if near is not None:
        yield near[0], near[1]


def _value(layer, i, x):
    return sum((w * v for w, v in zip(layer.Wq[i], x)), layer.bq[i])
