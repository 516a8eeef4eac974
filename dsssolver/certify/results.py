"""Result assembly: statistics, and evidence turned into a CertifyResult only after the exact check.

The checks themselves are :mod:`dsssolver.verify`'s; nothing here decides a
verdict.  A witness or proof that fails its check becomes "unknown" with the
reason, never a verdict.
"""
from __future__ import annotations

import time

from ..errors import CheckTimeout
from ..verify.evidence import CertifyResult, Proof

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
        "dive_steps": c.dive_steps if c else 0,
        "workers": workers,
        "pretest": pretest,
        "pool": len(tree.pool) if tree is not None else 0,
        "nodes_by_rank": _trim_zeros(list(c.by_rank)) if c else [],
        "seconds": limits.elapsed(),
    }
    st.update(extra)
    return st


def witness_result(layer, x1, x2, why, stats):
    """A checked "not_injective" result, or "unknown" if the witness fails the exact check."""
    from ..verify.check import check_witness

    D = layer.domain
    if layer.m < 2 * layer.n and D is None:
        why += f"; m = {layer.m} < 2n, never injective (Puthawala et al. 2022, Corollary 2)"
    if D is not None:
        why += f" (both inputs in the domain, {D.name})"
    ok, msg = check_witness(x1, x2, layer.Wq, layer.bq, domain=_domain(layer))
    if not ok:  # cannot happen unless there is a bug; never return unchecked evidence
        reason = f"witness failed the exact check ({msg})"
        return unknown_result((layer.m, layer.n), reason, stats, layer.domain)
    res = _result(layer, "not_injective", f"Witness found: {why}.", witness=(x1, x2))
    res.checked = True
    res.stats = stats
    return res


def proof_result(layer, used, hints, limits, stats):
    """Check the proof made of the dependencies ``used``; a checked "injective" result or
    "unknown".  ``stats`` is a callable giving the statistics (with ``check_seconds``)."""
    from ..verify.check import check_proof

    minor = nonsingular_minor(layer.M)
    deps = list(used)
    # tell the checker which dependencies the search used where, by position in `deps`
    pos = {d: i for i, d in enumerate(deps)}
    hints = {F: ([pos[d] for d in h] if isinstance(h, list) else pos[h]) for F, h in hints.items()}
    t = time.perf_counter()
    deadline = limits.deadline()
    if deadline is not None:  # the checker's deadline is a perf_counter() value
        deadline = time.perf_counter() + (deadline - time.time())
    try:
        ok, msg = check_proof(minor, deps, layer.Wq, layer.bq, matroid=layer.M, hints=hints,
                              deadline=deadline, domain=_domain(layer))
    except CheckTimeout:
        reason = f"time limit {limits.time_limit} s reached during the exact proof check"
        return unknown_result((layer.m, layer.n), reason, stats(), layer.domain)
    check_seconds = time.perf_counter() - t
    if not ok:
        reason = f"proof failed the exact check ({msg})"
        return unknown_result((layer.m, layer.n), reason, stats(), layer.domain)
    why = (f"Proof: a nonsingular minor and {_count(len(deps), 'dependency', 'dependencies')} "
           "that no flat of rank < n meets all of"
           + ("." if layer.domain is None else f", on the domain ({layer.domain.name})."))
    return checked_proof_result(layer, Proof(minor, deps, hints), why,
                                stats(check_seconds=check_seconds))


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
                         domain=None if domain is None else domain.to_json())


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


def _domain(layer):
    return None if layer.domain is None else (layer.domain.Aq, layer.domain.cq)


def _result(layer, status, message, **kw):
    res = CertifyResult(status=status, message=message, shape=(layer.m, layer.n), **kw)
    res.domain = None if layer.domain is None else layer.domain.to_json()
    return res


def _trim_zeros(counts):
    k = len(counts)
    while k and counts[k - 1] == 0:
        k -= 1
    return counts[:k]


def _count(k, one, many):
    return f"{k} {one if k == 1 else many}"
