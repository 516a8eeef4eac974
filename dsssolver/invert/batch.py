"""Batches in parallel (local processes or a Dask cluster) and BLAS threads kept at one.

Per output the work is small (a 500 x 100 LP, 100 x 100 factorisations), so parallelism
pays across outputs, not inside one: each worker process inverts a contiguous chunk of the
batch with its own HiGHS models (built once per worker).  A multi-threaded BLAS on such
small matrices costs far more in synchronisation than it gains (a batch of 300 codes on
20-100-500 took 167 s instead of 7.5 s on the loaded 2-core machine here), so
:func:`single_blas_thread` caps BLAS at one thread (``threadpoolctl``) around the
library's dense algebra, and restores the user's setting afterwards.

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

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread", "chunks", "run_processes", "run_dask"]

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


_WORKER = None


def _init(factory, net, options):
    global _WORKER
    import highspy

    highspy.Highs.resetGlobalScheduler(True)  # no HiGHS thread state inherited through fork
    _WORKER = factory(net, **options)


def _run(X):
    return _WORKER._invert_rows(X)


def run_processes(factory, net, options, X, workers):
    """Invert the rows of X over ``workers`` local processes; results in row order.

    ``factory(net, **options)`` builds the inverter in each worker (its ``_invert_rows``
    inverts a chunk)."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    parts = chunks(len(X), workers * 4)  # a few chunks per worker evens out slow codes
    with ctx.Pool(workers, initializer=_init, initargs=(factory, net, options)) as pool:
        out = pool.map(_run, [X[c] for c in parts], chunksize=1)
    return [r for part in out for r in part]


def _dask_task(factory, net, options, X):
    return factory(net, **options)._invert_rows(X)


def run_dask(client, factory, net, options, X):
    """Invert the rows of X on a ``dask.distributed.Client``'s workers; results in order."""
    nworkers = max(1, len(client.scheduler_info().get("workers", {})))
    net_f = client.scatter(net, broadcast=True)
    parts = chunks(len(X), nworkers * 2)
    futs = [client.submit(_dask_task, factory, net_f, options, X[c], pure=False) for c in parts]
    return [r for part in client.gather(futs) for r in part]


def default_workers():
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
