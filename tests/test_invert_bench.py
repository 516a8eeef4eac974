"""benchmarks/invert_bench.py: quick runs go to their own file, every section is saved as it
ends, a failing section is recorded and the others kept, the batch numbers are all there."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bench(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("invert_bench_under_test",
                                                  ROOT / "benchmarks" / "invert_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "OUT", str(tmp_path))
    return mod


def test_quick_run_keeps_earlier_sections_when_a_later_one_fails(bench, monkeypatch, tmp_path):
    def broken(args, R):
        raise RuntimeError("the DCGAN section broke")

    monkeypatch.setattr(bench, "bench_dcgan", broken)
    assert bench.main(["--quick", "--sections", "batch,dcgan"]) == 1
    assert not (tmp_path / "invert_bench.json").exists()  # the full run's file is untouched
    doc = json.loads((tmp_path / "invert_bench.quick.json").read_text())
    assert doc["quick"] and not doc["complete"] and doc["sections_done"] == ["batch"]
    assert "the DCGAN section broke" in doc["errors"]["dcgan"]
    b = doc["batch"]
    assert b["codes"] == 100 and b["rounds"] >= 3 and len(b["loadavg_per_round"]) == b["rounds"]
    assert b["speedup_2_over_1"] > 0 and b["speedup_2_over_1_cpu_ideal"] > 1.0
    assert all(len(c) == 2 for c in b["cpu_seconds_per_process"]["workers_2"])
    assert b["meets_target"] == (b["speedup_2_over_1"] >= 1.7)


def test_out_path_and_unknown_section(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--sections", "nope"])
    out = tmp_path / "elsewhere" / "mine.json"
    saved = bench.Results(str(out), {"x": 1})
    saved.save()
    assert json.loads(out.read_text()) == {"x": 1}
    assert saved.figure("invert_noise") == str(out.parent / "invert_noise.png")
    quick = bench.Results(str(tmp_path / "invert_bench.quick.json"), {})
    assert quick.figure("invert_noise").endswith("invert_noise.quick.png")


def test_a_run_merges_into_the_stored_json(bench, tmp_path):
    path = tmp_path / "invert_bench.json"
    path.write_text(json.dumps({
        "seed": 1, "sections": ["noise", "batch", "dcgan"], "machine": {"cpus": 2},
        "sections_done": ["noise_20_100_500", "noise_20_60_784", "batch", "dcgan"],
        "noise_20_100_500": {"old": 1}, "batch": {"kept": 1}, "dcgan": {"kept": 2},
        "errors": {"noise_20_60_784": "old failure", "plot": "kept"}}))
    new = {"seed": 2, "sections": ["noise"], "machine": {"cpus": 4}}
    doc = bench.merged(str(path), new)
    assert doc["batch"] == {"kept": 1} and doc["dcgan"] == {"kept": 2}  # not re-run: kept
    assert doc["sections_done"] == ["batch", "dcgan"]  # the noise ones are made again
    assert doc["errors"] == {"plot": "kept"} and doc["seed"] == 2
    assert doc["runs"] == [{"seed": 1, "sections": ["noise", "batch", "dcgan"],
                            "machine": {"cpus": 2}, "note": "the run that first wrote this file"}]
    assert bench.merged(str(path), new, fresh=True) == dict(new, runs=[], sections_done=[])
