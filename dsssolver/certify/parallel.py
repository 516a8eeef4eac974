"""Worker processes for :func:`dsssolver.certify` with ``workers > 1``.

The children of a search node partition its candidate flats, so open nodes
are independent tasks.  Each worker process builds its own exact layer and its
own HiGHS models once (one ``highspy.Highs`` per worker), keeps its dependency
pool across the tasks it is given, and returns, per task, either a witness or
the dependencies and hints it used -- which the parent merges into one proof
and re-checks exactly, as for a sequential search.
"""
from __future__ import annotations

import signal

_WORKER = None


def init_worker(W, b, deps, deadline, node_budget):
    """Pool initializer: the worker's own search object, seeded with the parent's pool."""
    import time

    import highspy

    from .search import _Search
    from .lp import FarkasLP, StrictLP

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    highspy.Highs.resetGlobalScheduler(True)  # no thread state inherited through fork
    global _WORKER
    left = None if deadline is None else max(deadline - time.time(), 1e-3)
    search = _Search(W, b, left, node_budget, False)
    search.lp = StrictLP(search.Wf, search.bf)
    search.flp = FarkasLP(search.Wf, search.bf)
    for dep in deps:
        search.deps.append(dep)
        search.pool.add(dep.rows)
    _WORKER = search


def run_task(node):
    """Search the subtree below ``node``; report what was found and used."""
    from .search import CertifyResult, _Limit

    s = _WORKER
    s.used, s.hints = {}, {}
    nodes0, lps0 = s.nodes, s._stats()["lps"]
    cache = s.M._transversal_cache
    cached0 = len(cache)
    try:
        found = s._search([node])
    except _Limit as lim:
        return {"kind": "limit", "reason": str(lim), "nodes": s.nodes - nodes0}
    out = {"nodes": s.nodes - nodes0, "lps": s._stats()["lps"] - lps0,
           "by_rank": list(s.by_rank), "exact_lps": s.exact_lps}
    if isinstance(found, CertifyResult):
        if found.status == "not_injective":
            out.update(kind="witness", witness=found.witness, message=found.message)
            return out
    if s.unknown_reason is not None:
        out.update(kind="undecided", reason=s.unknown_reason)
        return out
    # the transversal tests behind the closed nodes: the parent's check asks them again,
    # exactly as a sequential search's check reuses the search's own answers
    new = list(cache.items())[cached0:] if len(cache) < 200000 else []
    out.update(kind="done", used=list(s.used), hints=s.hints, transversals=new)
    return out
