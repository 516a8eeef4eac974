"""The threshold benchmark: m*(W) per trial, resumable runs, the analysis, the n = 2 law."""
from __future__ import annotations

import doctest
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import _machine, threshold, threshold_analysis as ta  # noqa: E402
from dsssolver.testing.reference import reference_certify  # noqa: E402


@pytest.mark.parametrize("mod", [threshold, ta, _machine])
def test_doctests(mod):
    assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.fixture(scope="module")
def quick(threshold_quick_run):
    """The --quick run that ``dss bench threshold --quick`` made (conftest.py)."""
    out = threshold_quick_run["results"] / "threshold.quick.json"
    return out, json.loads(out.read_text())


def test_quick_run_writes_json_png_and_cache(quick):
    out, data = quick
    assert out.with_suffix(".png").stat().st_size > 10_000
    on_disk = json.loads(out.read_text())
    keys = threshold.plan_keys(threshold.QUICK_PLAN)
    assert len(on_disk["trials"]) == len(keys)
    for t in on_disk["trials"]:
        assert on_disk["code_versions"][t["code"]]["source_sha1"] and t["seconds"] >= 0
        if t["m_star"] is not None:
            assert t["m_lo"] == t["m_star"] - 1 and t["at"]["status"] == "injective"
            assert t["below"] is None or t["below"]["status"] == "not_injective"
    assert set(on_disk["analysis"]["laws"]) == set(threshold.LAWS)
    assert "model-dependent" in on_disk["analysis"]["extrapolation_statement"]


def test_n2_exact_formula_recovered(quick):
    """P(m* <= m) for Gaussian n = 2 against 1 - m(m-2)/2^(m-1), with the DKW band; the
    same band rejects the formula shifted by one row, so the test has power."""
    _, data = quick
    s = data["analysis"]["laws"]["gaussian"]["per_n"][0]
    assert s["n"] == 2 and s["trials"] == 400 and s["censored"] == 0
    chk = s["n2_exact"]
    assert chk["within_dkw_band"], chk
    shifted = max(abs(p["p_hat"] - ta.p_exact_n2(p["m"] + 1)) for p in chk["points"])
    assert shifted > chk["dkw_999_band"]
    assert chk["c_half_exact"] == pytest.approx((7 + (0.5 - 29 / 64) / (0.625 - 29 / 64)) / 2)


def _angular_m_star(W):
    """Independent float check for n = 2, b = 0, general position: the first m at which
    every closed half-plane through 0 holds >= 2 of the first m rows (evaluated between
    consecutive critical directions)."""
    for m in range(1, len(W) + 1):
        th = np.arctan2(W[:m, 1], W[:m, 0])
        crit = np.sort(np.concatenate([th + np.pi / 2, th - np.pi / 2]) % (2 * np.pi))
        nxt = np.roll(crit, -1)
        nxt[-1] += 2 * np.pi
        mids = (crit + nxt) / 2
        if (W[:m] @ np.stack([np.cos(mids), np.sin(mids)]) >= 0).sum(axis=0).min() >= 2:
            return m
    return None


def test_n2_m_star_matches_an_angular_sweep(quick):
    _, data = quick
    trials = [t for t in data["trials"] if t["law"] == "gaussian" and t["n"] == 2]
    for t in trials:
        W = threshold.draw("gaussian", 2, t["seed"], threshold.rows_for(2, 14.0))
        assert t["m_star"] == _angular_m_star(W), t["seed"]


def test_resume_skips_cached_trials(tmp_path, monkeypatch):
    cache = tmp_path / "c.jsonl"
    keys = [("gaussian", 2, s) for s in range(3)]
    first = threshold.run(keys, str(cache), progress=False)
    with open(cache, "a") as fh:
        fh.write('{"law": "gaussian", "n": 2, "se')  # a torn last line: a killed run
    monkeypatch.setattr(threshold, "run_trial", lambda *a, **k: pytest.fail("re-ran a trial"))
    again = threshold.run(keys, str(cache), progress=False)
    assert [r["m_star"] for r in again] == [r["m_star"] for r in first]


@pytest.mark.parametrize("law", threshold.LAWS)
def test_m_star_against_brute_force(law):
    """m* - 1 rows not injective and m* rows injective, by the independent reference."""
    for seed in range(2):
        rec = threshold.run_trial(law, 3, seed)
        W = threshold.draw(law, 3, seed, rec["rows"])
        if rec["m_star"] is None:  # sparse rows may never become injective within M rows
            assert rec["m_hi"] is None and rec["m_lo"] == rec["rows"]
            assert reference_certify(W).status == "not_injective"
            continue
        m = rec["m_star"]
        assert reference_certify(W[:m]).status == "injective"
        assert reference_certify(W[:m - 1]).status == "not_injective"


def _fake_certify(unknown_ms, real):
    def certify(W, time_limit=None, workers=None):
        if len(W) in unknown_ms:
            return threshold.dss.CertifyResult(status="unknown", message="fake limit",
                                               shape=W.shape, stats={"reason": "time"})
        return real(W, time_limit=time_limit, workers=workers)
    return certify


def test_unknown_is_censored_never_guessed(monkeypatch):
    W = threshold.draw("gaussian", 3, 0, 42)
    m_star = threshold.search_m_star(W)["m_star"]
    real = threshold.dss.certify
    # unknown at m* - 1 and m*: the proof at m* + 1 leaves m* in an interval
    monkeypatch.setattr(threshold.dss, "certify", _fake_certify({m_star - 1, m_star}, real))
    r = threshold.search_m_star(W)
    assert r["m_star"] is None and r["m_hi"] == m_star + 1 and r["m_lo"] <= m_star - 1
    assert m_star in r["unknown_m"]  # (m* - 1 may be settled by a reused witness)
    # unknown everywhere from m* - 1 on: the search stops after max_unknown in a row
    monkeypatch.setattr(threshold.dss, "certify", _fake_certify(set(range(m_star - 1, 43)), real))
    r = threshold.search_m_star(W, max_unknown=2)
    assert r["m_star"] is None and r["m_hi"] is None and r["calls"] <= m_star + 1


def test_analysis_keeps_censored_trials_out_of_p():
    trials = [{"seed": 0, "m_lo": 3, "m_hi": 4, "m_star": 4, "seconds": 1.0, "calls": 1},
              {"seed": 1, "m_lo": 2, "m_hi": 6, "m_star": None, "seconds": 1.0, "calls": 1}]
    pts = {p["m"]: p for p in ta.curve(trials, 2)}
    assert pts[2]["p"] == 0 and pts[2]["unsettled"] == 0
    assert pts[4]["p"] == 1 and pts[4]["unsettled"] == 1 and pts[4]["p_bounds"] == [0.5, 1.0]
    assert pts[6]["p"] == 1 and pts[6]["unsettled"] == 0


def test_fits_recover_a_known_model():
    per_n = [{"n": n, "c_half": 6.0 - 4.0 / n, "c_half_bootstrap": {"sd": 0.01}}
             for n in range(3, 12)]
    fits = ta.fit_models(per_n)
    assert fits["c_inf - a/n"]["c_inf"] == pytest.approx(6.0)
    assert fits["c_inf - a/n"]["chi2"] == pytest.approx(0, abs=1e-9)
    assert fits["c_inf - a/sqrt(n)"]["chi2_per_dof"] > 1  # the wrong model fits worse


def test_moment_curve_rows_are_on_the_curve():
    """Every 3 rows have a determinant of the sign of the product of their signs (t sorted)."""
    W = threshold.draw("moment_curve", 3, 1, 8)
    t = W[:, 1] / W[:, 0]  # T_1(t) / T_0(t) = t
    s = np.sign(W[:, 0])
    order = np.argsort(t)
    for i in range(6):
        rows = order[i:i + 3]
        assert np.sign(np.linalg.det(W[rows])) == np.prod(s[rows])


def test_moment_curve_exact_law():
    """n = 2: the exact law of every symmetric law in general position; n = 3, m = 7: the
    enumeration against the independent brute force on every sign vector, with other t
    (the answer depends on the signs only)."""
    from fractions import Fraction

    for m in (4, 5, 7):
        assert threshold.moment_curve_exact(2, m) == Fraction(ta.p_exact_n2(m)).limit_denominator()
    t = np.random.default_rng(5).uniform(-1, 1, 7)
    base = np.cos(np.outer(np.arccos(t), np.arange(3)))
    inj = sum(reference_certify(np.array([1.0] + [-1.0 if (b >> k) & 1 else 1.0
                                                  for k in range(6)])[:, None] * base).status
              == "injective" for b in range(64))
    assert threshold.moment_curve_exact(3, 7) == Fraction(inj, 64)


def test_dask_cluster_gives_the_same_trials(tmp_path):
    distributed = pytest.importorskip("distributed")
    keys = [("gaussian", 2, s) for s in range(4)] + [("cauchy", 3, 0)]
    local = threshold.run(keys, str(tmp_path / "local.jsonl"), progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = threshold.run(keys, str(tmp_path / "dask.jsonl"), client=client,
                                   progress=False)
        # the command line's way in: --scheduler ADDRESS
        data = threshold.main(["--law", "gaussian", "--n", "2", "--trials", "4", "--no-progress",
                               "--scheduler", cluster.scheduler_address,
                               "--out", str(tmp_path / "cli.json")])
    assert [(r["law"], r["n"], r["seed"], r["m_star"]) for r in remote] == \
        [(r["law"], r["n"], r["seed"], r["m_star"]) for r in local]
    assert [t["m_star"] for t in data["trials"]] == [r["m_star"] for r in local[:4]]
    # one search process per trial on a cluster; the local cores for one local job
    assert {r["workers"] for r in remote} == {1}
    assert {r["workers"] for r in local} == {threshold.default_workers(1)}


def test_each_certify_call_gets_the_workers_asked_for(monkeypatch):
    seen, real = [], threshold.dss.certify

    def certify(W, time_limit=None, workers=None):
        seen.append(workers)
        return real(W, time_limit=time_limit, workers=workers)

    monkeypatch.setattr(threshold.dss, "certify", certify)
    r = threshold.run_trial("gaussian", 2, 0, workers=1)
    assert r["workers"] == 1 and seen and set(seen) == {1}


@pytest.mark.parametrize("bad", [["--jobs", "0"], ["--workers", "-1"], ["--time-limit", "nan"],
                                 ["--trials", "0"], ["--n", "0"], ["--c-max", "inf"],
                                 ["--workers", "two"]])
def test_bad_arguments_are_one_line_errors(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        threshold.parse_args(["--law", "gaussian"] + bad)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error: argument " + bad[0] in err[-1] and "positive" in err[-1]


def test_cache_survives_a_torn_line_and_junk(tmp_path, capsys):
    cache = tmp_path / "c.jsonl"
    # a killed run's torn last line, with junk before it
    cache.write_text('{}\n[1, 2]\nnot json\n{"law": "gaussian", "n": 2, "se')
    keys = [("gaussian", 2, 0), ("gaussian", 2, 1)]
    first = threshold.run(keys, str(cache), progress=False)
    assert [r["seed"] for r in first] == [0, 1]
    assert "skipped 3 line(s)" in capsys.readouterr().err  # the torn last line is not counted
    # the first new record went on a line of its own: both are read back, nothing re-runs
    again = threshold.load_cache(str(cache))
    assert {"gaussian/2/0", "gaussian/2/1"} <= set(again)


@pytest.mark.parametrize("flag", ["--cache", "--out"])
def test_unwritable_outputs_stop_before_any_trial(flag, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        paths = {"--cache": str(tmp_path / "c.jsonl"), "--out": str(tmp_path / "t.json"),
                 flag: str(tmp_path / "no" / "x")}
        threshold.main(["--law", "gaussian", "--n", "2", "--trials", "1", "--no-progress",
                        *[a for kv in paths.items() for a in kv]])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"threshold.py: error: {flag}")
    assert not (tmp_path / "c.jsonl").exists()  # nothing ran
