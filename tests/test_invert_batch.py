"""Batches over processes: results in order, every process working, failures surfaced."""
import multiprocessing as mp
import os
import time

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.invert import Inverter
from dsssolver.invert.batch import WorkerError
from dsssolver.layers import as_network

PARENT = os.getpid()


def small_net(seed=3):
    rng = np.random.default_rng(seed)
    L = [(rng.normal(size=(30, 5)) / 30 ** .5, None), (rng.normal(size=(80, 30)) / 80 ** .5, None)]
    return L, rng


def test_three_processes_give_the_sequential_results_in_order():
    L, rng = small_net()
    Z = rng.normal(size=(40, 5))
    X = as_network(L).forward(Z)
    inv = Inverter(L)
    seq, par = inv.invert(X), inv.invert(X, workers=3)
    assert np.array_equal(seq.z, par.z) and list(seq.status) == list(par.status)
    assert np.allclose(par.z, Z, atol=1e-9)
    st = par.parallel
    assert st["processes"] == 3 and st["chunks"] >= 3 and len(st["cpu_seconds"]) == 3
    assert all(c > 0 for c in st["cpu_seconds"]) and st["wall_seconds"] > 0
    assert seq.parallel["processes"] == 1
    assert not mp.active_children()


@pytest.mark.parametrize("workers", [1, 3])
def test_a_batch_shows_its_progress(workers, capsys):
    L, rng = small_net()
    X = as_network(L).forward(rng.normal(size=(40, 5)))
    res = dss.invert(L, X, workers=workers, progress=1e-9)  # a line at every count
    lines = capsys.readouterr().err.strip().splitlines()
    done = [int(s.split()[2].split("/")[0]) for s in lines]
    assert res.success.all() and done == sorted(done) and done[-1] == 40, lines
    assert all(s.startswith("dss invert: ") and s.split()[2].endswith("/40") for s in lines)
    assert (len(lines) == 40) if workers == 1 else (len(lines) >= 3)  # one per output / chunk
    dss.invert(L, X, workers=workers)  # off by default
    assert capsys.readouterr().err == ""


def test_more_workers_than_outputs():
    L, rng = small_net()
    X = as_network(L).forward(rng.normal(size=(2, 5)))
    res = dss.invert(L, X, workers=8)
    assert res.parallel["processes"] == 2 and res.success.all()


class FailsInChildren(Inverter):
    def _invert_rows(self, X):
        if os.getpid() != PARENT:
            raise ArithmeticError("boom in a worker")
        time.sleep(0.01)  # leave the child chunks to take (and fail on)
        return super()._invert_rows(X)


class DiesInChildren(Inverter):
    def _invert_rows(self, X):
        if os.getpid() != PARENT:
            os._exit(7)
        time.sleep(0.01)  # leave the child chunks to take (and fail on)
        return super()._invert_rows(X)


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="the test classes need fork")
@pytest.mark.parametrize("cls, words", [(FailsInChildren, "ArithmeticError: boom in a worker"),
                                        (DiesInChildren, "died (exit code 7)")])
def test_a_failing_worker_is_reported_not_hidden(cls, words):
    L, rng = small_net()
    X = as_network(L).forward(rng.normal(size=(200, 5)))
    with pytest.raises(WorkerError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cls(L).invert(X, workers=2)
    assert not mp.active_children()
