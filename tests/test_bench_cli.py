"""``dss bench`` and ``dss certify --plot``: files written, bad requests refused in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsssolver.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def test_bench_threshold_quick_writes_json_and_png(threshold_quick_run):
    r = threshold_quick_run
    assert r["code"] == 0, r["stderr"][-2000:]
    assert (r["results"] / "threshold.quick.json").stat().st_size > 1000
    assert (r["results"] / "threshold.quick.png").stat().st_size > 10_000
    assert "threshold: ok" in r["stdout"]
    assert "bench [" in r["stderr"]  # the progress line


def test_bench_list_and_unknown_name(capsys):
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert "threshold" in out and "certify" in out
    assert main(["bench", "no_such_bench"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_bench" in err and "Traceback" not in err


def test_python_m_benchmarks_lists_the_suite():
    p = subprocess.run([sys.executable, "-m", "benchmarks", "--list"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "threshold" in p.stdout


@pytest.fixture
def layer2(tmp_path):
    path = tmp_path / "l2.npz"
    np.savez(path, W=np.array([[1.0, 0], [0, 1], [-1, 1], [-1, -2]]))
    return path


def test_certify_plot_writes_a_png(layer2, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "arr.png"
    assert main(["certify", str(layer2), "--plot", str(png)]) == 1  # not injective: exit 1
    assert png.stat().st_size > 10_000
    assert "not_injective" in capsys.readouterr().out


@pytest.mark.parametrize("W, name, word", [
    (np.ones((6, 4)), "arr.png", "n = 2 or 3"),
    (np.array([[1.0, 0], [0, 1], [-1, 1], [-1, -2]]), "arr.txt", ".png"),
    # refused before the search, not after it, and before anything is printed
    (np.array([[1.0, 0], [0, 1], [-1, 1], [-1, -2]]), "no/such/folder/arr.png", "does not exist"),
])
def test_certify_plot_refused_in_one_line(tmp_path, capsys, W, name, word):
    pytest.importorskip("matplotlib")
    path = tmp_path / "l.npz"
    np.savez(path, W=W)
    assert main(["certify", str(path), "--plot", str(tmp_path / name)]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and word in err and "Traceback" not in err and out == ""
