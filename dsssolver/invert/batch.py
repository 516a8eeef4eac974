"""Batches in parallel (local processes or a Dask cluster) and BLAS threads kept at one.

Per output the work is small (a 500 x 100 LP, 100 x 100 factorisations), so parallelism
pays across outputs, not inside one.  :func:`run_processes` forks ``workers - 1`` children
(they inherit the batch: nothing is pickled to them, and each builds its HiGHS models once);
the calling process works too, with its warm models, and every process draws small chunks
from one shared counter, so the batch ends within one chunk of the ideal.

A multi-threaded BLAS on such small matrices costs far more in synchronisation than it
gains (a batch of 300 codes on 20-100-500 took 167 s instead of 7.5 s on the loaded 2-core
machine here), so :func:`single_blas_thread` caps BLAS at one thread (``threadpoolctl``)
around the library's dense algebra, and restores the user's setting afterwards.

Examples
--------
>>> with single_blas_thread():
...     pass
>>> [c.tolist() for c in chunks(5, 2)]
[[0, 1, 2], [3, 4]]
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
import traceback
from queue import Empty

import numpy as np
from threadpoolctl import ThreadpoolController

from .._process import end_with_parent
from ..errors import DSSError

__all__ = ["single_blas_thread", "chunks", "run_processes", "run_dask", "WorkerError",
           "BatchProgress"]

_CONTROLLER = None


def single_blas_thread():
    """A context manager limiting BLAS to one thread."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()  # inspecting the loaded libraries once
    return _CONTROLLER.limit(limits=1, user_api="blas")


def chunks(k, parts):
    """Split ``range(k)`` into at most ``parts`` contiguous, nearly equal index ranges."""
    return [c for c in np.array_split(np.arange(k), max(1, min(parts, k))) if len(c)]


#: chunks per process: small enough that the last chunk finishes soon after the others
#: (1,000 codes on 20-100-500 over 2 processes: chunks of ~16 codes, ~80 ms each)
CHUNKS_PER_PROCESS = 32


class WorkerError(DSSError, RuntimeError):
    """A worker process failed (its traceback is in the message) or died."""


class BatchProgress:
    """Outputs done of a batch, as a line on stderr at most every ``interval`` seconds
    (and once at the end); ``interval`` 0 prints nothing.

    Examples
    --------
    >>> p = BatchProgress(3, 0)
    >>> p.add(2); p.add(1); p.done
    3
    """

    def __init__(self, total, interval):
        self.total, self.interval, self.done = total, interval, 0
        self.t0 = time.perf_counter()
        self._next = self.t0 + interval

    def add(self, k):
        self.done += k
        if not self.interval:
            return
        now = time.perf_counter()
        if now >= self._next or self.done >= self.total:
            self._next = now + self.interval
            print(f"dss invert: {self.done}/{self.total} outputs, {now - self.t0:.1f} s",
                  file=sys.stderr, flush=True)


def _take(counter):
    """The next chunk's index from the shared counter (every process draws from it)."""
    with counter.get_lock():
        i = counter.value
        counter.value += 1
    return i


def _drain(inverter, X, parts, counter, sink):
    """Invert chunks until none is left; ``sink(i, results)`` receives each."""
    while (i := _take(counter)) < len(parts):
        sink(i, inverter._invert_rows(X[parts[i]]))


def _child(factory, net, options, X, parts, counter, queue, parent_pid):
    import highspy

    end_with_parent(parent_pid)  # a killed parent leaves no child blocked on the queue
    highspy.Highs.resetGlobalScheduler(True)  # no HiGHS thread state inherited through fork
    t0 = time.process_time()
    try:
        _drain(factory(net, **options), X, parts, counter, lambda i, r: queue.put((i, r)))
    except BaseException:  # the parent raises it; a child has no one else to tell
        queue.put(("error", traceback.format_exc()))
        return
    queue.put(("done", time.process_time() - t0))


def run_processes(inverter, X, workers, progress=None):
    """Invert the rows of X over ``workers`` processes, this one included; results in order.

    ``workers - 1`` children are started (forked where possible: they inherit X and the
    network, nothing is pickled to them) and build their own HiGHS models once; this
    process keeps using ``inverter``'s warm models.  All draw small chunks from one
    shared counter, so a slow chunk delays no one.  Each child sends its chunks' results
    as they finish, and at the end its CPU seconds.  ``progress`` (a :class:`BatchProgress`)
    counts every process's finished outputs: this one reads its children's results between
    its own chunks.

    Returns
    -------
    results : list of InvertResult
    stats : dict
        ``processes``, ``chunks``, ``cpu_seconds`` (per process, this one first) and
        ``wall_seconds``: ``sum(cpu) / max(cpu)`` is the speed-up the batch would see with
        one idle core per process.
    """
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    t0, c0 = time.perf_counter(), time.process_time()
    parts = chunks(len(X), workers * CHUNKS_PER_PROCESS)
    counter, queue = ctx.Value("l", 0), ctx.Queue()
    args = (type(inverter), inverter.net, inverter.options, X, parts, counter, queue, os.getpid())
    kids = [ctx.Process(target=_child, args=args, daemon=True) for _ in range(workers - 1)]
    out, cpu = [None] * len(parts), []
    progress = progress or BatchProgress(len(X), 0)

    def own_chunk(i, results):
        out[i] = results
        progress.add(len(results))
        _collect(queue, kids, out, cpu, progress, wait=False)

    try:
        for p in kids:
            p.start()
        _drain(inverter, X, parts, counter, own_chunk)
        own = time.process_time() - c0
        _collect(queue, kids, out, cpu, progress)
    finally:
        for p in kids:
            if p.is_alive():
                p.terminate()
            p.join()
    stats = {"processes": workers, "chunks": len(parts), "cpu_seconds": [own] + cpu,
             "wall_seconds": time.perf_counter() - t0}
    return [r for part in out for r in part], stats


def _collect(queue, kids, out, cpu, progress, wait=True):
    """The children's chunks into ``out`` and their CPU seconds onto ``cpu``: until every
    child is done, or (``wait=False``) until the queue is empty for now.  A child that
    failed or died raises :class:`WorkerError`."""
    while len(cpu) < len(kids):
        try:
            key, val = queue.get(timeout=1.0) if wait else queue.get_nowait()
        except Empty:
            dead = [p for p in kids if p.exitcode not in (None, 0)]
            if dead:
                raise WorkerError(f"a worker process died (exit code {dead[0].exitcode})") \
                    from None
            if not wait:
                return
            continue
        if key == "error":
            raise WorkerError(f"a worker process failed:\n{val}")
        if key == "done":
            cpu.append(val)
        else:
            out[key] = val
            progress.add(len(val))


def _dask_task(factory, net, options, X):
    return factory(net, **options)._invert_rows(X)


def run_dask(client, factory, net, options, X, progress=None):
    """Invert the rows of X on a ``dask.distributed.Client``'s workers; results in order."""
    from distributed import as_completed

    nworkers = max(1, len(client.scheduler_info().get("workers", {})))
    net_f = client.scatter(net, broadcast=True, hash=False)  # own key: a finished call
    # releasing a content-hashed key would cancel a later call's tasks ("lost dependencies")
    parts = chunks(len(X), nworkers * 2)
    futs = [client.submit(_dask_task, factory, net_f, options, X[c], pure=False) for c in parts]
    if progress is None:
        return [r for part in client.gather(futs) for r in part]
    where, out = {f.key: i for i, f in enumerate(futs)}, [None] * len(futs)
    for f in as_completed(futs):
        part = out[where[f.key]] = f.result()  # a task's error is raised here, as gather would
        progress.add(len(part))
    return [r for part in out for r in part]


def default_workers():
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
