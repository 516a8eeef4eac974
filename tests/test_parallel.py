"""Parallel search: local worker processes and a Dask cluster give the same checked verdicts."""
from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.certify import parallel

CASES = [(6, 7, 11), (6, 5, 12), (5, 6, 13), (7, 7, 14)]


@pytest.fixture
def eager_split(monkeypatch):
    """Workers from the first node and tiny time slices, so tasks are re-split many times."""
    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    monkeypatch.setattr(parallel, "TIME_SLICE", 0.02)


def _layer(n, c, seed):
    return np.random.default_rng(seed).standard_normal((c * n, n))


def _agree(res, one, W):
    assert res.status == one.status and res.checked
    assert dss.check(res, W) and dss.check(json.loads(json.dumps(res.to_json())), W)
    # every node is counted once, by rank too (b = 0: no pre-test)
    assert sum(res.stats["nodes_by_rank"]) == res.stats["nodes"]  # a list of ints


def test_local_workers_resplit_and_agree(eager_split):
    for n, c, seed in CASES:
        W = _layer(n, c, seed)
        _agree(dss.certify(W, workers=2), dss.certify(W, workers=1), W)


def test_local_workers_keep_the_node_limit_exactly(eager_split):
    W = _layer(7, 7, 14)
    res = dss.certify(W, workers=2, node_limit=40)
    assert res.status == "unknown" and "node limit 40" in res.stats["reason"]
    assert res.stats["nodes"] <= 40


def test_workers_default_to_every_core():
    res = dss.certify(_layer(3, 7, 0))
    assert res.stats["workers"] == parallel.local_cores()


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    # worker processes, so that tasks and results really travel pickled, as on a cluster
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_dask_cluster_gives_the_local_verdicts(eager_split, dask_client, monkeypatch):
    monkeypatch.setattr(parallel, "TIME_SLICE", 0.1)  # a round trip to a Dask worker costs more
    for n, c, seed in CASES[::2]:
        W = _layer(n, c, seed)
        res = dss.certify(W, client=dask_client)
        assert res.stats["workers"] == 2
        _agree(res, dss.certify(W, workers=1), W)
    # a witness found by the search itself (the dive misses it), on the cluster
    W = np.random.default_rng(0).standard_normal((30, 5))
    res = dss.certify(W, client=dask_client)
    assert res.status == "not_injective" and res.stats["nodes"] > 0 and dss.check(res, W)


def test_dask_cluster_keeps_the_node_limit(eager_split, dask_client):
    res = dss.certify(_layer(7, 7, 14), client=dask_client, node_limit=40)
    assert res.status == "unknown" and res.stats["nodes"] <= 40


def test_bad_client_is_refused():
    pytest.importorskip("distributed")
    with pytest.raises(dss.InvalidInputError, match="client"):
        dss.certify(_layer(3, 7, 0), client=42)
