"""Result assembly: statistics, and evidence turned into a CertifyResult only after the exact check.

The checks themselves are :mod:`dsssolver.verify`'s; nothing here decides a
verdict.  A witness or proof that fails its check becomes "unknown" with the
reason, never a verdict.
"""
from __future__ import annotations

import time

from ..errors import CheckTimeout
from ..verify.evidence import CertifyResult, Domain, Proof

__all__ = ["statistics", "witness_result", "proof_result", "checked_proof_result", "unknown_result",
           "nonsingular_minor"]


def statistics(tree, limits, workers, pretest, **extra):
    """The JSON-safe statistics of a run (``tree`` may be None before the search starts)."""
    c = tree.counters if tree is not None else None
    models = tree.lp_models() if tree is not None else []
    st = {
        "nodes": limits.taken(),
        "lps": tree.lp_count() if tree is not None else 0,
        "lp_seconds": sum(o.lp_seconds for o in models),
        "lp_retries": sum(o.retries for o in models),
        "exact_lps": c.exact_lps if c else 0,
        "trusted_packings": c.trusted if c else 0,
        "dive_steps": c.dive_steps if c else 0,
        "workers": workers,
        "pretest": pretest,
        "pool": len(tree.pool) if tree is not None else 0,
        # set aside by the capped pools (Tree.pool_cap): this process's and its workers'
        "pool_set_aside": (tree.pool.supports.set_aside + c.set_aside) if c else 0,
        "nodes_by_rank": _trim_zeros(list(c.by_rank)) if c else [],
        "seconds": limits.elapsed(),
    }
    st.update(extra)
    return st


def witness_result(layer, x1, x2, why, stats):
    """A checked "not_injective" result, or "unknown" if the witness fails the exact check."""
    from ..verify.check import check

    D = layer.domain
    if layer.m < 2 * layer.n and D is None:
        why += f"; m = {layer.m} < 2n, never injective (Puthawala et al. 2022, Corollary 2)"
    if D is not None:
        why += f" (both inputs in the domain, {D.name})"
    res = _result(layer, "not_injective", f"Witness found: {why}.", witness=(x1, x2))
    # the independent checker (dsssolver.verify), on the evidence alone
    ok, msg = check(res, layer.Wq, layer.bq, domain=checker_domain(layer))
    if not ok:  # cannot happen unless there is a bug; never return unchecked evidence
        reason = f"witness failed the exact check ({msg})"
        return unknown_result((layer.m, layer.n), reason, stats, layer.domain)
    res.checked = True
    res.stats = stats
    return res


def proof_result(layer, used, hints, limits, stats, workers=1, check=True):
    """Check the proof made of the dependencies ``used``; a checked "injective" result or
    "unknown".  ``stats`` is a callable giving the statistics (with ``check_seconds``).

    With ``check=False`` the result is unchecked (``checked`` is False): only for a proof
    that is an intermediate step, checked later in another form (a sub-layer's, lifted).
    """
    from ..verify.check import check as verify

    minor = nonsingular_minor(layer.M)
    deps = list(used)
    # tell the checker which dependencies the search used where, by position in `deps`
    pos = {d: i for i, d in enumerate(deps)}
    hints = {F: ([pos[d] for d in h] if isinstance(h, list) else pos[h]) for F, h in hints.items()}
    why = (f"Proof: a nonsingular minor and {_count(len(deps), 'dependency', 'dependencies')} "
           "that no flat of rank < n meets all of"
           + ("." if layer.domain is None else f", on the domain ({layer.domain.name})."))
    res = _result(layer, "injective", why, proof=Proof(minor, deps, hints))
    if not check:
        res.stats = stats(check_seconds=0.0)
        return res
    t = time.perf_counter()
    deadline = limits.deadline()
    left = None if deadline is None else max(deadline - time.time(), 1e-6)
    try:
        # the independent checker (dsssolver.verify) gets the evidence alone: nothing of the
        # search (its matroid, caches or transversal answers) is handed over
        ok, msg = verify(res, layer.Wq, layer.bq, domain=checker_domain(layer), time_limit=left,
                         workers=workers)
    except CheckTimeout:  # the seconds spent checking still say how long the search took
        given = "" if limits.time_limit is None else f" {limits.time_limit:g} s"
        reason = f"time limit{given} reached during the exact proof check"
        return unknown_result((layer.m, layer.n), reason,
                              stats(check_seconds=time.perf_counter() - t), layer.domain)
    check_seconds = time.perf_counter() - t
    if not ok:
        reason = f"proof failed the exact check ({msg})"
        return unknown_result((layer.m, layer.n), reason,
                              stats(check_rejected=True, check_seconds=check_seconds), layer.domain)
    res.checked = True
    res.stats = stats(check_seconds=check_seconds)
    return res


def checked_proof_result(layer, proof, message, stats):
    """The "injective" result for a ``proof`` that has passed the exact check."""
    res = _result(layer, "injective", message, proof=proof)
    res.checked = True
    res.stats = stats
    return res


def unknown_result(shape, reason, stats, domain=None):
    """The "unknown" result of a layer of ``shape`` (on ``domain``, a DomainRows), with
    ``reason`` in the statistics too."""
    return CertifyResult(status="unknown", message=f"Undecided: {reason}.", shape=tuple(shape),
                         stats={**stats, "reason": reason},
                         domain=evidence_domain(domain))


def nonsingular_minor(M):
    """Row indices of an n x n nonsingular submatrix (pivot columns of rref(W^T))."""
    R = M._MT.rref()[0]
    piv, col = [], 0
    for r in range(R.nrows()):
        while col < R.ncols() and R[r, col] == 0:
            col += 1
        if col == R.ncols():
            break
        piv.append(col)
    return piv[: M.n]


def checker_domain(layer):
    """The domain as the checker's ``domain=`` argument: None, "nonnegative" or (A, c)."""
    return checker_domain_of(layer.domain)


def checker_domain_of(D):
    """A DomainRows (or None) as the checker's ``domain=`` argument."""
    if D is None:
        return None
    return "nonnegative" if D.name == "nonnegative" else (D.Aq, D.cq)


def evidence_domain(D):
    """A :class:`~dsssolver.verify.evidence.Domain` (with its interior point) for a DomainRows."""
    if D is None:
        return None
    n = len(D.interior)
    if D.name == "nonnegative":
        return Domain.nonnegative(n)
    return Domain("polyhedron", tuple(tuple(r) for r in D.Aq), tuple(D.cq), tuple(D.interior))


def _result(layer, status, message, **kw):
    res = CertifyResult(status=status, message=message, shape=(layer.m, layer.n), **kw)
    res.domain = evidence_domain(layer.domain)
    return res


def _trim_zeros(counts):
    k = len(counts)
    while k and counts[k - 1] == 0:
        k -= 1
    return counts[:k]


def _count(k, one, many):
    return f"{k} {one if k == 1 else many}"
