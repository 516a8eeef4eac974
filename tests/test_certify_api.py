"""Regression tests for the search-side bugs of issue 6: exact inputs beyond float range, limits,
Ctrl-C anywhere, argument messages, keyword-only options, JSON-safe statistics."""
from __future__ import annotations

import importlib
import json
from fractions import Fraction

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.errors import InvalidInputError
from dsssolver.testing.reference import reference_by_cells


def _hard(seed=0):
    return np.random.default_rng(seed).standard_normal((70, 10))


def test_rationals_beyond_float_range_keep_their_verdict():
    W = np.array([[Fraction(1)], [Fraction(-1)]], dtype=object)
    for b, want in [([2**1100, -2**1100], "injective"), ([2**1100, -2**1100 + 1], "injective"),
                    ([-2**1100, -2**1100], "not_injective")]:
        b = np.array([Fraction(v) for v in b], dtype=object)
        res = dss.certify(W, b)
        assert res.status == want == reference_by_cells(W, b).status
        assert res.checked and dss.check(res, W, b)
    # tiny rows: 2**-1100 underflows to 0.0 as a float; the scaled LP rows keep it
    W = np.array([[Fraction(1, 2**1100), Fraction(0)], [Fraction(0), Fraction(1, 2**1100)],
                  [Fraction(-1, 2**1100), Fraction(0)], [Fraction(0), Fraction(-3, 2**1101)]],
                 dtype=object)
    res = dss.certify(W)
    assert res.status == "injective" and dss.check(res, W)


def test_python_integers_beyond_int64_as_an_object_array():
    W = np.array([[2**70], [-1]], dtype=object)
    res = dss.certify(W, np.array([0, 0], dtype=object))
    assert res.status == "injective" and dss.check(res, W, np.array([0, 0], dtype=object))


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        dss.certify(np.eye(2), None, 5)


@pytest.mark.parametrize("kw, name", [({"time_limit": "5"}, "time_limit"),
                                      ({"time_limit": -1}, "time_limit"),
                                      ({"progress": "yes"}, "progress"),
                                      ({"node_limit": 0}, "node_limit"),
                                      ({"node_limit": 2.5}, "node_limit"),
                                      ({"workers": 0}, "workers")])
def test_bad_options_name_the_argument(kw, name):
    with pytest.raises(InvalidInputError, match=name):
        dss.certify(np.eye(2), **kw)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_node_limit_is_exact_and_global(workers, monkeypatch):
    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    res = dss.certify(_hard(), node_limit=300, workers=workers)
    assert res.status == "unknown"
    assert res.stats["nodes"] == 300 and res.stats["reason"] == "node limit 300 reached"
    assert sum(res.stats["nodes_by_rank"]) <= 300


def test_the_time_limit_is_reported_as_given(monkeypatch):
    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    res = dss.certify(_hard(), time_limit=1, workers=2)
    assert res.status == "unknown" and res.stats["reason"] == "time limit 1 s reached"
    assert 1 <= res.stats["seconds"] < 10


def test_ctrl_c_during_the_final_check_gives_unknown_with_statistics(monkeypatch):
    check_module = importlib.import_module("dsssolver.verify.check")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(check_module, "check_proof", interrupted)
    W = np.random.default_rng(0).standard_normal((14, 3))  # injective, found by the search
    res = dss.certify(W, workers=1)
    assert res.status == "unknown" and res.stats["reason"] == "interrupted"
    assert res.stats["nodes"] > 0 and res.witness is None and res.proof is None


@pytest.mark.parametrize("where", ["ExactLayer", "DomainRows", "as_layer"])
def test_ctrl_c_at_start_up_gives_unknown(where, monkeypatch):
    search = importlib.import_module("dsssolver.certify.search")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "DomainRows":
        monkeypatch.setattr(search.DomainRows, "of", interrupted)
    else:
        monkeypatch.setattr(search, where, interrupted)
    res = dss.certify(np.eye(2))
    assert res.status == "unknown" and res.stats["reason"] == "interrupted"
    assert "nodes" in res.stats


def test_statistics_are_json_safe_numbers(monkeypatch):
    monkeypatch.setattr(importlib.import_module("dsssolver.certify.search")._Run, "split_after", 0.0)
    for res in (dss.certify(dss_examples("gaussian_56x8")),
                dss.certify(_hard(), node_limit=50, workers=2)):
        doc = json.loads(json.dumps(res.to_json()))
        assert doc["stats"] == json.loads(json.dumps(res.stats))
        assert isinstance(res.stats["nodes_by_rank"], list)
        assert all(isinstance(v, int) for v in res.stats["nodes_by_rank"])


def dss_examples(name):
    from pathlib import Path

    return np.load(Path(dss.__file__).parent / "examples" / f"{name}.npz")["W"]


def test_a_check_cut_off_by_the_time_limit_still_reports_its_seconds(monkeypatch):
    # "unknown" during the proof check: check_seconds says how much of the run was the check
    import time

    from dsssolver.errors import CheckTimeout

    vc = importlib.import_module("dsssolver.verify.check")

    def slow_then_out_of_time(*a, **kw):
        time.sleep(0.05)
        raise CheckTimeout("time limit reached during the exact proof check")

    monkeypatch.setattr(vc, "check", slow_then_out_of_time)
    W = np.random.default_rng(0).standard_normal((40, 5))
    res = dss.certify(W, sublayers=False, workers=1)
    assert res.status == "unknown" and "proof check" in res.stats["reason"]
    assert 0.05 <= res.stats["check_seconds"] <= res.stats["seconds"]
