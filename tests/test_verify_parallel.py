"""The checker's flat search finished in forked processes gives the same verdicts as in one.

``SPLIT_AFTER`` is set to 0 so that even small checks deal their open nodes to processes.
Verdicts are compared with the single-process checker, whose agreement with brute force is
the subject of ``test_verify.py``, and with what each mutation must give.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from dsssolver.errors import CheckTimeout
from dsssolver.verify import check

flats = importlib.import_module("dsssolver.verify.flats")
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def split_at_once(monkeypatch):
    monkeypatch.setattr(flats, "SPLIT_AFTER", 0.0)


def _gaussian():
    W = np.load(DATA / "gaussian_42x6.npz")["W"]
    return W, json.loads((DATA / "gaussian_42x6_proof.json").read_text())


@pytest.mark.parametrize("hints", [True, False])
def test_valid_proof_is_accepted_in_processes(split_at_once, hints):
    W, doc = _gaussian()
    one = check(doc, W, workers=1, hints=hints)
    two = check(doc, W, workers=2, hints=hints)
    assert one and two
    assert one.stats["parallel_tasks"] == 0 and two.stats["parallel_tasks"] > 0
    # every subtree is exhausted either way: the same nodes, counted across processes
    assert two.stats["nodes"] == one.stats["nodes"]


def test_dropped_dependencies_are_refused_in_processes(split_at_once):
    W, doc = _gaussian()
    deps = doc["dependencies"]
    refused = 0
    for k in range(0, len(deps), max(1, len(deps) // 12)):
        mutant = dict(doc, dependencies=deps[:k] + deps[k + 1:])
        one, two = check(mutant, W, workers=1), check(mutant, W, workers=2)
        assert bool(one) == bool(two), k
        refused += not two
        if not two:  # the flat a process found is named and is a real counterexample
            assert "meets every dependency" in two.message
    assert refused > 0  # the proof needs its dependencies: some mutants must fail


def test_hostile_hints_stay_bounded_in_processes(split_at_once):
    W, doc = _gaussian()
    deps = doc["dependencies"]
    worst = max(range(len(deps)), key=lambda k: len(deps[k]["rows"]))
    keys = set(doc["hints"]) | {format(1 << i, "x") for i in range(len(W))}
    plain = check(doc, W, hints=False, workers=1)
    hostile = check(dict(doc, hints={k: worst for k in keys}), W, workers=2)
    assert hostile
    # each process may spend the budget once before the hints are dropped
    budget = 2 * len(keys) + 2 * len(W) + 256 + 1
    assert hostile.stats["nodes"] <= plain.stats["nodes"] + 2 * budget


def test_time_limit_holds_with_processes(split_at_once):
    W, doc = _gaussian()
    with pytest.raises(CheckTimeout):
        check(doc, W, hints=False, workers=2, time_limit=1e-4)


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True])
def test_bad_workers_are_refused(workers):
    W, doc = _gaussian()
    with pytest.raises(ValueError, match="workers"):
        check(doc, W, workers=workers)
