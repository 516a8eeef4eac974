"""Finishing a search in worker processes, for :func:`dsssolver.certify` with ``workers > 1``.

The children of a search node partition its candidate flats, so open nodes
are independent tasks.  The parent first splits its open nodes, shallowest
first, into a few tasks per worker; tasks go out largest first.  Each forked
worker builds its own HiGHS models once, keeps its dependency pool across the
tasks it is given, and returns per task a :class:`TaskResult`: a witness, or
the dependencies and hints it used, which the parent merges into one proof
and re-checks exactly, as for a sequential search.  The node limit is global
(a counter in shared memory, :meth:`Limits.share`), and the time limit is the
run's.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
from typing import NamedTuple

from .._highs import reset_after_fork
from .limits import Counters, LimitReached
from .node import Branched, Witness
from .tree import Tree

__all__ = ["finish_in_workers", "TaskResult"]


class TaskResult(NamedTuple):
    """What a worker did with one task.  Exactly one of ``limit``, ``witness``,
    ``undecided`` is set, or none: the subtree was exhausted with ``used``/``hints``."""

    counters: Counters
    limit: str | None = None
    witness: Witness | None = None
    undecided: str | None = None
    used: list = ()
    hints: dict | None = None
    transversals: list = ()


def finish_in_workers(tree, nodes, workers):
    """Search the subtrees below ``nodes`` in ``workers`` processes; merge into ``tree``.

    Returns a Witness or None (exhausted; ``tree.used``/``tree.hints`` then
    hold the whole proof).  Raises LimitReached when a limit is reached.
    """
    tasks = list(nodes)
    while tasks and len(tasks) < 4 * workers:
        tasks.sort(key=lambda nd: -nd.rank)  # deepest first ... shallowest last
        node = tasks.pop()
        out = tree.process(node, len(tasks))
        if isinstance(out, Witness):
            return out
        if isinstance(out, Branched):
            tasks.extend(out.children)
    tasks.sort(key=lambda nd: nd.rank)
    # fork: no re-import of the caller's __main__ (spawn would need a main guard);
    # each worker resets HiGHS's scheduler and builds its own models
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # no fork on this platform: carry on in this process
        return tree.dfs(tasks)
    tree.limits.share(ctx)
    pool = ctx.Pool(workers, _init_worker, (tree.layer, list(tree.pool.deps), tree.limits))
    limit = None
    try:
        # after a limit the remaining tasks stop at their first node: collect them all, so
        # that the statistics count every node the workers processed
        for done, out in enumerate(pool.imap_unordered(_run_task, tasks), 1):
            tree.counters.add(out.counters)
            limit = limit or out.limit
            found = None if limit else _merge(tree, out)
            if found is not None:
                return found
            tree.report(f"tasks done {done}/{len(tasks)} on {workers} workers")
    finally:
        pool.terminate()
        pool.join()
    if limit is not None:
        raise LimitReached(limit)
    return None


def _merge(tree, out):
    """Add one task's findings to ``tree``; a Witness if it found one."""
    if out.witness is not None:
        return out.witness
    if out.undecided is not None:
        tree.undecided(out.undecided)
        return None
    tree.used.update(dict.fromkeys(out.used))
    tree.hints.update(out.hints)
    tree.M._transversal_cache.update(out.transversals)
    return None


_WORKER = None


def _init_worker(layer, deps, limits):
    """Pool initializer: the worker's own search tree, seeded with the parent's pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    reset_after_fork()  # no thread state inherited through fork
    limits.interval = 0  # only the parent reports progress
    global _WORKER
    _WORKER = Tree(layer, limits, deps)


def _run_task(node):
    """Search the subtree below ``node``; report what was found and used."""
    tree = _WORKER
    tree.used, tree.hints, tree.counters = {}, {}, Counters()
    tree.unknown_reason = None
    lps0 = tree.lp_count()
    cache = tree.M._transversal_cache
    cached0 = len(cache)

    def counters():
        tree.counters.other_lps += tree.lp_count() - lps0
        return tree.counters

    try:
        found = tree.dfs([node])
    except LimitReached as lim:
        return TaskResult(counters(), limit=str(lim))
    if found is not None:
        return TaskResult(counters(), witness=found)
    if tree.unknown_reason is not None:
        return TaskResult(counters(), undecided=tree.unknown_reason)
    # the transversal tests behind the closed nodes: the parent's check asks them again,
    # exactly as a sequential search's check reuses the search's own answers
    new = list(cache.items())[cached0:] if len(cache) < 200000 else []
    return TaskResult(counters(), used=list(tree.used), hints=tree.hints, transversals=new)
