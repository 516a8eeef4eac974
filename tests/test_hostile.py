"""Hostile and odd input, tried as a user and an attacker would (issue 6), each a regression test."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.errors import EvidenceError, InvalidInputError
from dsssolver.io import load_array, load_json, load_layer

EXAMPLES = Path(__file__).resolve().parent.parent / "dsssolver" / "examples"


def dss_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "dsssolver", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def _one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dss: error:"), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def _lying_npy(path, shape=(100000, 100000)):
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 64)


# ------------------------------------------------------------------------------ files
def test_npy_header_is_checked_before_allocating(tmp_path):
    _lying_npy(tmp_path / "big.npy")
    t = time.perf_counter()
    with pytest.raises(InvalidInputError, match="claims shape"):
        load_layer(tmp_path / "big.npy")
    with pytest.raises(InvalidInputError, match="claims shape"):
        load_array(tmp_path / "big.npy")
    assert time.perf_counter() - t < 1.0
    # the same lie inside an .npz
    _lying_npy(tmp_path / "W.npy")
    import zipfile

    with zipfile.ZipFile(tmp_path / "big.npz", "w") as zf:
        zf.write(tmp_path / "W.npy", "W.npy")
    with pytest.raises(InvalidInputError, match="claims shape"):
        load_layer(tmp_path / "big.npz")
    r = dss_cli("certify", tmp_path / "big.npz")
    assert r.returncode == 2 and "claims shape" in _one_error_line(r)


def test_hostile_evidence_files_fail_fast_with_one_line(tmp_path):
    np.savez(tmp_path / "a.npz", W=np.vstack([np.eye(2), -np.eye(2)]))
    good = dss.certify(np.vstack([np.eye(2), -np.eye(2)])).to_json()
    bad = {
        "huge_string.json": json.dumps(dict(good, dependencies=[
            {"rows": [0, 2], "multipliers": ["1e100000000", "1"]}])),
        "huge_number.json": json.dumps(dict(good, dependencies=[
            {"rows": [0, 2], "multipliers": [1, 1]}])).replace("[1, 1]", "[1e100000000, 1]"),
        "long_digits.json": json.dumps(dict(good, dependencies=[
            {"rows": [0, 2], "multipliers": ["7" * 1_000_000, "1"]}])),
        "nested.json": "[" * 100000 + "]" * 100000,
        "version.json": json.dumps(dict(good, version=99)),
        "format.json": json.dumps(dict(good, format="something-else")),
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        t = time.perf_counter()
        r = dss_cli("check", tmp_path / "a.npz", tmp_path / name)
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        _one_error_line(r)
        assert time.perf_counter() - t < 30, name
    with pytest.raises(EvidenceError, match="nested"):
        load_json(tmp_path / "nested.json")


# ---------------------------------------------------------------------------- the CLI
def test_dss_alone_prints_usage():
    r = dss_cli()
    assert r.returncode == 2 and "usage: dss" in r.stderr and "Traceback" not in r.stderr


def test_output_into_a_missing_folder_fails_before_the_solve(tmp_path):
    np.savez(tmp_path / "hard.npz", W=np.random.default_rng(0).standard_normal((84, 12)))
    t = time.perf_counter()
    r = dss_cli("certify", "-o", tmp_path / "nowhere" / "ev.json", tmp_path / "hard.npz")
    assert r.returncode == 2 and "does not exist" in _one_error_line(r)
    assert time.perf_counter() - t < 20


def test_check_time_limit_and_no_hints(tmp_path):
    data = Path(__file__).resolve().parent / "data"
    r = dss_cli("check", data / "gaussian_42x6.npz", data / "gaussian_42x6_proof.json", "--no-hints")
    assert r.returncode == 0 and r.stdout.startswith("valid:") and len(r.stdout.splitlines()) == 1
    r = dss_cli("check", data / "gaussian_42x6.npz", data / "gaussian_42x6_proof.json",
                "--no-hints", "--time-limit", "1e-9")
    assert r.returncode == 3 and r.stdout.startswith("unknown:")
    r = dss_cli("check", data / "gaussian_42x6.npz", data / "gaussian_42x6_proof.json",
                "--domain", "nonnegative")
    assert r.returncode == 1 and "domain" in r.stdout


def test_not_injective_exits_1():
    r = dss_cli("certify", EXAMPLES / "gaussian_28x8.npz")
    assert r.returncode == 1 and r.stdout.startswith("not_injective")


# -------------------------------------------------------------------- the Python API
def test_python_integers_beyond_int64_are_exact():
    res = dss.certify([[2 ** 70], [-1]], [0, 0])
    assert res.status == "injective" and res.checked
    assert dss.check(res, [[2 ** 70], [-1]], [0, 0])
    res = dss.certify([[2 ** 70], [-1]], [0, 1])  # -x + 1 and 2^70 x: still injective
    assert res.status == dss.INJECTIVE


def test_arguments_are_named_in_errors():
    W = np.vstack([np.eye(2), -np.eye(2)])
    res = dss.certify(W)
    with pytest.raises(InvalidInputError, match="time_limit"):
        dss.check(res, W, time_limit="5")
    with pytest.raises(InvalidInputError, match="W contains NaN"):
        dss.check(res, np.array([[1.0, float("nan")], [0, 1], [-1, 0], [0, -1]], dtype=object))
    with pytest.raises(InvalidInputError, match="domain"):
        dss.check(res, W, domain="positive")
    with pytest.raises(InvalidInputError, match="evidence"):
        dss.check("evidence.json", W)


def test_wide_float_range_layers_write_and_recheck():
    rng = np.random.default_rng(0)
    W = np.exp(rng.uniform(np.log(1e-295), np.log(1e297), size=(12, 3))) * rng.choice([-1, 1], (12, 3))
    res = dss.certify(W)
    assert res.status != "unknown"
    doc = json.loads(json.dumps(res.to_json()))
    assert res.summary() and dss.check(doc, W)


def test_witness_beyond_float_range_summarises():
    W, b = np.array([[1e-10], [-1e-10]]), np.array([-1e308, 1e307])
    res = dss.certify(W, b)
    assert res.status == "not_injective"
    assert "witness x1" in res.summary()
    assert dss.check(json.loads(json.dumps(res.to_json())), W, b)


def test_exact_inputs_beyond_float_range():
    W = np.array([[Fraction(1)], [Fraction(-1)]], dtype=object)
    b = np.array([Fraction(2 ** 1100), Fraction(-2 ** 1100)], dtype=object)
    res = dss.certify(W, b)
    assert res.status == "injective" and dss.check(res, W, b)


def test_statistics_are_json_safe_and_reason_is_an_attribute():
    W = np.random.default_rng(1).standard_normal((49, 7))
    res = dss.certify(W, node_limit=1)
    assert res.status == dss.UNKNOWN and res.reason and "node limit" in res.reason
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["reason"] == res.reason
    res = dss.certify(np.random.default_rng(4).standard_normal((42, 6)))
    by_rank = res.to_json()["stats"]["nodes_by_rank"]
    assert isinstance(by_rank, list) and all(isinstance(k, int) for k in by_rank)


def test_invert_cli_refuses_empty_outputs_and_infinite_slopes(tmp_path):
    np.savez(tmp_path / "net.npz", W1=np.vstack([np.eye(2), -np.eye(2)]))
    np.save(tmp_path / "empty.npy", np.zeros((0,)))
    np.save(tmp_path / "x.npy", np.array([1.0, 0.0, 0.0, 2.0]))
    r = dss_cli("invert", tmp_path / "net.npz", tmp_path / "empty.npy")
    assert r.returncode == 2 and "shape (0,)" in _one_error_line(r)
    r = dss_cli("invert", tmp_path / "net.npz", tmp_path / "x.npy", "--slope", "inf")
    assert r.returncode == 2 and "--slope" in _one_error_line(r)
    r = dss_cli("invert", tmp_path / "net.npz", tmp_path / "x.npy", "-o", tmp_path / "no" / "z.npy")
    assert r.returncode == 2 and "does not exist" in _one_error_line(r)


def test_network_evidence_rationals_are_parsed_safely():
    from dsssolver.verify.network import domain_from_json

    t = time.perf_counter()
    with pytest.raises(EvidenceError):
        domain_from_json({"name": "polyhedron", "A": [["1e100000000"]], "c": ["1"]})
    with pytest.raises(EvidenceError):
        domain_from_json({"name": "polyhedron", "A": [["1"]], "c": ["9" * 1_000_000]})
    assert time.perf_counter() - t < 1.0


# ------------------------------------------------------------------------------ torch files
class _Planted:
    """Unpickling this runs ``os.mkdir(marker)``: the stand-in for a malicious payload."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os
        return (os.mkdir, (self.marker,))


def _sequential(torch):
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 5))


def test_torch_files_are_read_without_running_their_code(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    import pickle

    from dsssolver.cli.main import main

    marker = tmp_path / "payload-ran"
    net = _sequential(torch)
    files = {"zip": tmp_path / "zip.pt", "legacy": tmp_path / "legacy.pth",
             "inside": tmp_path / "inside.pt"}
    torch.save({"model": net, "extra": _Planted(marker)}, files["zip"])
    with open(files["legacy"], "wb") as fh:
        pickle.dump(_Planted(marker), fh)
    net.hidden = _Planted(marker)  # hidden inside an otherwise ordinary Sequential
    torch.save(net, files["inside"])
    np.save(tmp_path / "x.npy", np.ones(5))
    torch.save(_sequential(torch), tmp_path / "plain.pt")  # network evidence for `dss check`
    assert main(["certify-network", str(tmp_path / "plain.pt"), "-o", str(tmp_path / "ev.json")]) \
        in (0, 1)
    capsys.readouterr()
    for kind, f in files.items():
        for argv in (["certify-network", f], ["check", f, tmp_path / "ev.json"],
                     ["invert", f, tmp_path / "x.npy"]):
            assert main([str(a) for a in argv]) == 2, (kind, argv)
            err = capsys.readouterr().err.strip()
            assert err.startswith("dss: error:") and "\n" not in err, err
            assert "--trust-torch-file" in err, (kind, argv, err)
            assert not marker.exists(), (kind, argv)
    # the refusal names what the pickle asks for; the command line says the same
    r = dss_cli("certify-network", files["zip"])
    assert r.returncode == 2 and "mkdir" in _one_error_line(r) and not marker.exists()
    # trusting the file really unpickles it (and so runs what it holds)
    from dsssolver.io import load_network
    with pytest.raises(InvalidInputError, match="holds a dict"):
        load_network(files["zip"], trust=True)
    assert marker.exists()


class _OwnGenerator:  # defined lazily below as an nn.Module subclass (torch is optional)
    pass


def test_torch_modules_of_own_classes_need_trust(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from dsssolver.cli.main import main
    from dsssolver.io import load_network

    global _OwnGenerator

    class _OwnGenerator(torch.nn.Sequential):  # noqa: F811  (a user's own module class)
        pass

    _OwnGenerator.__qualname__ = "_OwnGenerator"  # importable from this module by name
    own = _OwnGenerator(*_sequential(torch))
    torch.save(own, tmp_path / "own.pt")
    torch.save(_sequential(torch), tmp_path / "plain.pt")
    with pytest.raises(InvalidInputError, match="_OwnGenerator, which is not a torch.nn layer"):
        load_network(tmp_path / "own.pt")
    assert type(load_network(tmp_path / "own.pt", trust=True)).__name__ == "_OwnGenerator"
    plain = load_network(tmp_path / "plain.pt")  # torch.nn layers alone: read safely
    x = torch.randn(3, 2)
    assert torch.equal(plain(x), plain(x)) and not plain.training
    assert main(["certify-network", str(tmp_path / "own.pt")]) == 2
    assert "--trust-torch-file" in capsys.readouterr().err
    assert main(["certify-network", str(tmp_path / "own.pt"), "--trust-torch-file"]) in (0, 1)
    assert "layer 1" in capsys.readouterr().out
