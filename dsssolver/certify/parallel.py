"""Finishing a search in parallel: local worker processes or a Dask cluster, one task function.

The children of a search node partition its candidate flats, so open nodes
are independent tasks.  The parent first splits its open nodes, shallowest
first, into a few tasks per worker.  A task (:func:`run_task`) searches its
nodes depth-first for a time slice and a node budget, then hands back what is
still open together with the dependencies and hints it used; the parent puts
the open nodes back in the queue, shallowest (largest) first and dealt out in
several tasks when workers would otherwise idle.  So a large subtree is split
again and again instead of keeping one worker busy while the others wait.

The same :func:`run_task` runs in forked local processes
(:class:`concurrent.futures.ProcessPoolExecutor`) and on the workers of a
``dask.distributed.Client``; each worker process (or Dask worker thread) keeps
one search tree per run, with its own HiGHS models and dependency pool, built
by the pool's initializer locally and on first use on Dask.  The parent merges
every task's dependencies and hints into one proof, which is re-checked
exactly as for a sequential search.  The node limit is kept by the parent: it
gives each task a budget out of what is left, so the limit holds exactly on a
cluster too; the time limit is the run's (wall-clock, so a cluster's clocks
should agree).
"""
from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing as mp
import os
import signal
import threading
from typing import NamedTuple

from .._highs import reset_after_fork
from .._process import end_with_parent
from .limits import Counters, LimitReached, Limits
from .node import Branched, Split, Witness
from .tree import Tree

__all__ = ["finish_in_workers", "run_task", "TaskResult", "local_cores"]

TIME_SLICE = 1.0  # seconds a task searches before handing back its open nodes
TASKS_PER_WORKER = 4  # tasks made from the open nodes before the workers start


class TaskResult(NamedTuple):
    """What a worker did with one task.  At most one of ``limit``, ``witness``,
    ``undecided`` is set; otherwise the task's nodes were searched with
    ``used``/``hints``, and ``open`` holds the nodes it did not get to."""

    counters: Counters
    limit: str | None = None
    witness: Witness | None = None
    undecided: str | None = None
    used: list = ()
    hints: dict | None = None
    transversals: list = ()
    open: list = ()


def local_cores():
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def finish_in_workers(tree, nodes, workers, client=None):
    """Search the subtrees below ``nodes`` on ``workers`` local processes or on ``client``.

    Returns a Witness or None (exhausted; ``tree.used``/``tree.hints`` then
    hold the whole proof).  Raises LimitReached when a limit is reached.
    """
    tasks = list(nodes)
    while tasks and len(tasks) < TASKS_PER_WORKER * workers:
        tasks.sort(key=lambda nd: -nd.rank)  # deepest first ... shallowest last
        node = tasks.pop()
        out = tree.process(node, len(tasks))
        if isinstance(out, Witness):
            return out
        if isinstance(out, Branched):
            tasks.extend(out.children)
    tasks.sort(key=lambda nd: nd.rank)
    queue = [[nd] for nd in tasks]
    limits = tree.limits
    run_id = f"{os.getpid()}-{id(tree)}-{next(_RUNS)}"
    spec = (run_id, tree.layer, list(tree.pool.deps), limits.time_limit, limits.start, tree.trust)
    if client is not None:
        return _Scheduler(tree, _DaskBackend(client, spec), workers).run(queue)
    try:
        ctx = mp.get_context("fork")  # no re-import of the caller's __main__ (spawn needs a guard)
    except ValueError:  # no fork on this platform: carry on in this process
        return tree.dfs([nd for task in queue for nd in task])
    return _Scheduler(tree, _LocalBackend(ctx, workers, spec), workers).run(queue)


_RUNS = itertools.count()


class _Scheduler:
    """The parent's loop: keep every worker busy, merge what comes back, keep the node limit."""

    def __init__(self, tree, backend, workers):
        self.tree, self.backend, self.workers = tree, backend, workers
        self.limits = tree.limits
        self.in_flight = {}  # future -> node budget given

    def run(self, queue):
        tree, limits = self.tree, self.limits
        limit, done = None, 0
        try:
            while queue or self.in_flight:
                while queue and len(self.in_flight) < self.workers and limit is None:
                    budget = self._budget()
                    if budget == 0:
                        break
                    self._deal(queue)
                    self.in_flight[self.backend.submit(queue.pop(0), budget)] = budget
                if not self.in_flight:
                    # nothing runs and nothing may start: the node limit is used up
                    limit = limit or f"node limit {limits.node_limit} reached"
                    break
                for fut in self.backend.wait_first(list(self.in_flight)):
                    del self.in_flight[fut]
                    out = fut.result()
                    tree.counters.add(out.counters)
                    limits.add_nodes(out.counters.nodes)
                    limit = limit or out.limit
                    if limit is None:
                        found = _merge(tree, out)
                        if found is not None:
                            return found
                        if out.open:
                            queue.append(list(out.open))
                            queue.sort(key=lambda t: t[0].rank)  # shallowest (largest) first
                    done += 1
                    tree.report(f"tasks done {done}, queued {len(queue)}, on {self.workers} workers")
                if limit is not None and not self.in_flight:
                    break
        finally:
            self.backend.close(list(self.in_flight))
        if limit is not None:
            raise LimitReached(limit)
        return None

    def _budget(self):
        """Nodes for the next task: an equal share of what the limit leaves unassigned."""
        if self.limits.node_limit is None:
            return None
        left = self.limits.node_limit - self.limits.taken() - sum(self.in_flight.values())
        if left <= 0:
            return 0
        return max(1, left // max(1, self.workers - len(self.in_flight)))

    def _deal(self, queue):
        """With more idle workers than queued tasks, deal the first task's nodes out in several."""
        idle = self.workers - len(self.in_flight)
        if len(queue) >= idle or len(queue[0]) < 2:
            return
        nodes = queue.pop(0)
        k = min(len(nodes), idle - len(queue))
        queue[:0] = [nodes[j::k] for j in range(k)]


class _LocalBackend:
    """Forked local processes; each builds its tree once, in the pool's initializer."""

    def __init__(self, ctx, workers, spec):
        self.run_id = spec[0]
        self.pool = cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                           initargs=(spec, os.getpid()))

    def submit(self, nodes, budget):
        return self.pool.submit(run_task, self.run_id, None, nodes, TIME_SLICE, budget)

    @staticmethod
    def wait_first(futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED).done

    def close(self, futures):
        # running tasks end within their time slice; queued ones are dropped
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskBackend:
    """A ``dask.distributed.Client``: the run's data is scattered once to every worker."""

    def __init__(self, client, spec):
        import distributed

        self.distributed = distributed
        self.client = client
        self.run_id = spec[0]
        run_id, layer, deps, time_limit, start, trust = spec
        # the exact layer travels as its rationals and is rebuilt on each worker
        self.spec = client.scatter((run_id, (layer.Wq, layer.bq, layer.domain), deps, time_limit, start,
                                    trust),
                                   broadcast=True, hash=False)

    def submit(self, nodes, budget):
        return self.client.submit(run_task, self.run_id, self.spec, nodes, TIME_SLICE, budget,
                                  pure=False)

    def wait_first(self, futures):
        return self.distributed.wait(futures, return_when="FIRST_COMPLETED").done

    def close(self, futures):
        if futures:
            self.client.cancel(futures)
        self.client.run(_forget, self.run_id)


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


# ------------------------------------------------------------- worker side
_TREES = {}  # (run id, thread) -> Tree: one search tree per run in each worker
_TREES_LOCK = threading.Lock()


def _init_worker(spec, parent_pid):
    """Local pool initializer: the worker's own search tree, seeded with the parent's pool."""
    end_with_parent(parent_pid)  # no worker left blocked for ever if the parent is killed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    reset_after_fork()  # no thread state inherited through fork
    _tree_for(spec)


def _tree_for(spec):
    run_id, layer, deps, time_limit, start, trust = spec
    key = (run_id, threading.get_ident())
    with _TREES_LOCK:
        tree = _TREES.get(key)
    if tree is None:
        if isinstance(layer, tuple):  # from Dask: rebuild the exact layer from its rationals
            import numpy as np

            from .certificates import ExactLayer

            layer = ExactLayer(np.array(layer[0], dtype=object), np.array(layer[1], dtype=object),
                               layer[2])
        tree = Tree(layer, Limits(time_limit, None, start=start), deps)
        tree.trust = trust
        with _TREES_LOCK:
            _TREES[key] = tree
    return tree


def _forget(run_id):
    """Drop a finished run's trees from a Dask worker."""
    with _TREES_LOCK:
        for key in [k for k in _TREES if k[0] == run_id]:
            del _TREES[key]


def run_task(run_id, spec, nodes, time_slice, node_budget):
    """Search below ``nodes`` for about ``time_slice`` seconds and at most ``node_budget`` nodes.

    The task function of both back ends: ``spec`` is None in a local worker
    (its initializer built the tree) and the scattered run data on Dask.
    Returns a :class:`TaskResult`; nodes not reached are in its ``open``.
    """
    with _TREES_LOCK:
        tree = _TREES.get((run_id, threading.get_ident()))
    if tree is None:
        tree = _tree_for(spec)
    tree.used, tree.hints, tree.counters = {}, {}, Counters()
    tree.unknown_reason = None
    lps0 = tree.lp_count()
    aside0 = tree.pool.supports.set_aside
    cache = tree.M._transversal_cache
    cached0 = len(cache)

    def counters():
        tree.counters.other_lps += tree.lp_count() - lps0
        tree.counters.set_aside += tree.pool.supports.set_aside - aside0
        return tree.counters

    try:
        found = tree.dfs(list(nodes), split_after=tree.limits.elapsed() + time_slice,
                         max_nodes=node_budget)
    except LimitReached as lim:
        return TaskResult(counters(), limit=str(lim))
    if isinstance(found, Witness):
        return TaskResult(counters(), witness=found)
    if tree.unknown_reason is not None:
        return TaskResult(counters(), undecided=tree.unknown_reason)
    # the transversal tests behind the closed nodes go back to the parent's search cache, so
    # nodes dealt out again later do not redo them (the final check is independent and never
    # reads this cache)
    new = list(cache.items())[cached0:] if len(cache) < 200000 else []
    rest = list(found.nodes) if isinstance(found, Split) else []  # stack order: shallow first
    return TaskResult(counters(), used=list(tree.used), hints=tree.hints, transversals=new, open=rest)
