"""``dss invert``: good runs, JSON without the HiGHS banner, one-line errors with exit 2."""
import json
import subprocess
import sys

import numpy as np
import pytest

from dsssolver.cli import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(size=(30, 5)), rng.normal(size=(80, 30))
    z = rng.normal(size=5)
    x = np.maximum(W2 @ np.maximum(W1 @ z, 0), 0)
    np.savez(tmp_path / "net.npz", W1=W1, W2=W2, b2=np.zeros(80))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "X.npy", np.stack([x, x]))
    return tmp_path, z


def test_cli_inverts_and_saves(files, capsys):
    d, z = files
    assert main(["invert", str(d / "net.npz"), str(d / "x.npy"), "-o", str(d / "z.npy")]) == 0
    out = capsys.readouterr().out
    assert "status: exact" in out and "unique: True" in out
    assert np.allclose(np.load(d / "z.npy"), z, rtol=1e-9, atol=1e-12)


def test_cli_reads_a_network_numbered_from_zero(files, capsys):
    # a file written for `dss certify-network` (W0, b0, W1, ...) inverts the same
    d, z = files
    with np.load(d / "net.npz") as f:
        np.savez(d / "net0.npz", W0=f["W1"], W1=f["W2"], b1=f["b2"])
    assert main(["invert", str(d / "net0.npz"), str(d / "x.npy"), "-o", str(d / "z0.npy")]) == 0
    assert "status: exact" in capsys.readouterr().out
    assert np.allclose(np.load(d / "z0.npy"), z, rtol=1e-9, atol=1e-12)
    # b0 belongs to no layer of a file numbered from 1
    np.savez(d / "stray.npz", W1=np.ones((4, 3)), b0=np.ones(4))
    assert main(["invert", str(d / "stray.npz"), str(d / "x.npy")]) == 2
    assert "b0" in capsys.readouterr().err


def test_cli_json_is_clean_and_batched(files):
    d, z = files
    # a subprocess, so that anything native code prints on fd 1 would land in stdout
    r = subprocess.run([sys.executable, "-m", "dsssolver", "invert", str(d / "net.npz"),
                        str(d / "X.npy"), "--json", "--lp", "always"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["info"]) == 2 and all(i["status"] == "exact" for i in doc["info"])
    assert np.allclose(doc["z"][1], z, rtol=1e-9, atol=1e-12)
    assert doc["info"][0]["layers"][1]["lp_seconds"] > 0
    assert "dss invert:" not in r.stderr  # stderr is not a terminal: no progress unless asked


def test_cli_batch_progress_on_request(files, capsys):
    d, _ = files
    assert main(["invert", str(d / "net.npz"), str(d / "X.npy"), "--progress"]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("dss invert: 2/2 outputs")


def _one_line_error(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dss: error:") and "\n" not in err
    return err


def test_cli_bad_files_exit_2_with_one_line(files, capsys):
    d, _ = files
    (d / "junk.npz").write_text("not an npz")
    np.save(d / "short.npy", np.ones(7))
    np.savez(d / "gap.npz", W1=np.ones((4, 3)), W3=np.ones((5, 4)))
    np.save(d / "nan.npy", np.full(80, np.nan))
    assert "no such file" in _one_line_error(["invert", str(d / "none.npz"), str(d / "x.npy")],
                                             capsys)
    assert "cannot read" in _one_line_error(["invert", str(d / "junk.npz"), str(d / "x.npy")],
                                            capsys)
    assert "shape (80,)" in _one_line_error(["invert", str(d / "net.npz"),
                                             str(d / "short.npy")], capsys)
    assert "W3" in _one_line_error(["invert", str(d / "gap.npz"), str(d / "x.npy")], capsys)
    assert "NaN" in _one_line_error(["invert", str(d / "net.npz"), str(d / "nan.npy")], capsys)
    assert "invalid choice" in _one_line_error(["invert", str(d / "net.npz"), str(d / "x.npy"),
                                                "--method", "l3"], capsys)


def test_cli_infeasible_output_exits_1(files, capsys):
    d, _ = files
    np.save(d / "far.npy", np.abs(np.random.default_rng(1).normal(size=80)))
    assert main(["invert", str(d / "net.npz"), str(d / "far.npy")]) == 1
    assert "no z gives x" in capsys.readouterr().out


def test_cli_empty_output_and_bad_numbers_exit_2(files, capsys):
    d, _ = files
    np.save(d / "empty.npy", np.ones(0))
    np.save(d / "empty2.npy", np.ones((0, 80)))
    for name in ("empty.npy", "empty2.npy"):
        assert "shape" in _one_line_error(["invert", str(d / "net.npz"), str(d / name)], capsys)
    for flag, value in (("--slope", "inf"), ("--slope", "0"), ("--noise", "nan"),
                        ("--noise-std", "-1"), ("--tol", "inf"), ("--workers", "0")):
        err = _one_line_error(["invert", str(d / "net.npz"), str(d / "x.npy"), flag, value],
                              capsys)
        assert flag in err


def test_cli_noisy_batch_with_workers(files, capsys):
    d, z = files
    X = np.load(d / "X.npy")
    noisy = X + 1e-5 * np.random.default_rng(3).normal(size=X.shape)
    np.save(d / "noisy.npy", noisy)
    assert main(["invert", str(d / "net.npz"), str(d / "noisy.npy"), "--method", "l2",
                 "--noise-std", "1e-5", "--workers", "2", "-o", str(d / "Z.npy")]) == 0
    out = capsys.readouterr().out
    assert out.count("status: approximate") == 2 and "noise: std" in out
    assert np.allclose(np.load(d / "Z.npy"), z, atol=1e-3)
