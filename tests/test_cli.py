"""The `dss certify` / `dss check` command line, run as a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "dsssolver" / "examples"


def dss(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "dsssolver", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


def test_certify_bundled_example_human_and_json(tmp_path):
    r = dss("certify", EXAMPLES / "lemma1_counterexample.npz")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("injective")
    r = dss("certify", "--json", "-o", tmp_path / "ev.json", EXAMPLES / "gaussian_28x8.npz")
    assert r.returncode == 1, r.stderr  # not injective
    doc = json.loads(r.stdout)  # nothing but JSON on stdout (no HiGHS banner)
    assert doc["status"] == "not_injective" and doc["format"] == "dsssolver-evidence"
    assert json.loads((tmp_path / "ev.json").read_text()) == doc
    r = dss("check", EXAMPLES / "gaussian_28x8.npz", tmp_path / "ev.json")
    assert r.returncode == 0 and r.stdout.startswith("valid"), r.stdout + r.stderr


def test_check_rejects_evidence_for_another_layer(tmp_path):
    W = np.vstack([np.eye(2), -np.eye(2)])
    np.savez(tmp_path / "a.npz", W=W)
    np.savez(tmp_path / "b.npz", W=np.vstack([np.eye(2), -np.eye(2)[:1], [[1.0, 1.0]]]))
    r = dss("certify", "--json", tmp_path / "a.npz")
    (tmp_path / "a.json").write_text(r.stdout)
    r = dss("check", tmp_path / "b.npz", tmp_path / "a.json")
    assert r.returncode == 1 and r.stdout.startswith("INVALID")


def test_npy_and_integer_input(tmp_path):
    np.save(tmp_path / "w.npy", np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int32))
    r = dss("certify", tmp_path / "w.npy")
    assert r.returncode == 0 and r.stdout.startswith("injective"), r.stderr


def test_unknown_exits_3_with_reason(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "g.npz", W=rng.standard_normal((49, 7)))
    r = dss("certify", "--node-limit", "1", "--json", tmp_path / "g.npz")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert doc["status"] == "unknown" and "node limit" in doc["stats"]["reason"]


def _bad_files(tmp_path):
    np.savez(tmp_path / "nan.npz", W=np.array([[np.nan, 1.0], [1.0, 0.0]]))
    np.savez(tmp_path / "nob.npz", X=np.eye(2))
    np.savez(tmp_path / "badb.npz", W=np.eye(2), b=np.ones(3))
    np.save(tmp_path / "vec.npy", np.ones(3))
    np.save(tmp_path / "str.npy", np.array([["a", "b"]]))
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip file")
    (tmp_path / "empty.npy").write_bytes(b"")
    return {
        "nan.npz": "NaN",
        "nob.npz": "no array named 'W'",
        "badb.npz": "length",
        "vec.npy": "2-D",
        "str.npy": "numeric",
        "junk.npz": "cannot read",
        "empty.npy": "cannot read",
        "missing.npz": "no such file",
    }


def test_bad_files_exit_2_with_one_line(tmp_path):
    for name, words in _bad_files(tmp_path).items():
        r = dss("certify", tmp_path / name)
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dss: error:"), (name, r.stderr)
        assert words in lines[0], (name, lines[0])
        assert "Traceback" not in r.stderr


def test_bad_evidence_and_usage_exit_2(tmp_path):
    np.savez(tmp_path / "a.npz", W=np.eye(2))
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "odd.json").write_text(json.dumps({"status": "injective", "minor": "x"}))
    for args in [("check", tmp_path / "a.npz", tmp_path / "bad.json"),
                 ("check", tmp_path / "a.npz", tmp_path / "odd.json"),
                 ("certify",), ("frobnicate",),
                 ("certify", "--node-limit", "zero", tmp_path / "a.npz")]:
        r = dss(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.skipif(os.name != "posix", reason="uses the console script from the install")
def test_console_script_is_installed():
    import shutil

    exe = shutil.which("dss")
    if exe is None:
        pytest.skip("dss not on PATH (package not installed)")
    r = subprocess.run([exe, "certify", str(EXAMPLES / "lemma1_counterexample.npz")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("injective")


_INTERRUPTED_IMPORT = """
import sys

class Interrupt:  # Ctrl-C while the sub-commands import numpy (dss's start-up)
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupt())
from dsssolver.cli.main import main  # must not import numpy itself: this is outside main's care
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_during_start_up_is_one_line_and_exit_3(tmp_path):
    """Start-up (the heavy imports) happens inside main, so Ctrl-C there is caught like later:
    one line, exit 3 (unknown), no traceback; 130 is never an exit status of dss."""
    for args in (["certify", EXAMPLES / "lemma1_counterexample.npz"], ["--version"], []):
        r = subprocess.run([sys.executable, "-c", _INTERRUPTED_IMPORT, *map(str, args)],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent.parent)})
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        assert r.stderr.strip() == "unknown: interrupted" and r.stdout == "", (args, r.stderr)
    r = subprocess.run([sys.executable, "-c", "import sys, dsssolver.cli.main; "
                        "print(sorted({'numpy', 'highspy', 'flint'} & set(sys.modules)))"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent.parent)})
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def _sigint_as_at_a_terminal():
    """Popen preexec_fn: Ctrl-C acts as it does for a program started at a terminal.

    A command started in the background by a non-interactive shell (``cmd &``, ``nohup``, some
    CI runners) inherits SIGINT *ignored*, and Python then keeps ignoring it: rightly, that is
    what the caller asked for.  The tests that run this suite that way (2026-12-01: two
    failures of the test below, and a SIGINT ignored from the first instant in /proc's
    SigIgn of every run started so) must not test that inheritance but dsssolver's handling.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT")
def test_ctrl_c_returns_unknown_with_stats(tmp_path):
    import signal
    import time

    np.savez(tmp_path / "hard.npz", W=np.random.default_rng(0).standard_normal((84, 12)))
    p = subprocess.Popen([sys.executable, "-m", "dsssolver", "certify", "--json", "--progress",
                          str(tmp_path / "hard.npz")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_sigint_as_at_a_terminal)
    # interrupt once the search is running (its first progress line), however loaded the machine
    first = p.stderr.readline()
    assert first, "no progress line before the process ended"
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)  # one Ctrl-C is enough
    out, err = p.communicate(timeout=120)
    assert p.returncode == 3, (out, err)
    doc = json.loads(out)
    assert doc["status"] == "unknown" and doc["stats"]["reason"] == "interrupted"
    assert doc["stats"]["nodes"] > 0


def test_a_network_file_given_to_certify_points_to_certify_network(tmp_path, capsys):
    from dsssolver.cli.main import main

    np.savez(tmp_path / "net.npz", W0=np.eye(2), W1=np.eye(2))
    assert main(["certify", str(tmp_path / "net.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no array named 'W'" in err and "certify-network" in err


def test_certify_and_check_a_layer_on_a_domain(tmp_path, capsys):
    from dsssolver.cli.main import main

    # ReLU(x - 1): injective exactly where x >= 1, so on [1, 2] but not on [0, 2]
    np.savez(tmp_path / "l.npz", W=np.array([[1.0]]), b=np.array([-1.0]))
    layer, ev = str(tmp_path / "l.npz"), str(tmp_path / "ev.json")
    assert main(["certify", layer, "--box", "1", "2", "-o", ev]) == 0
    assert "on the domain" in capsys.readouterr().out
    assert main(["check", layer, ev, "--box", "1", "2"]) == 0
    assert main(["check", layer, ev, "--box", "0", "2"]) == 1  # another box: not this evidence
    assert "another domain" in capsys.readouterr().out
    assert main(["certify", layer, "--box", "0", "2"]) == 1
    np.savez(tmp_path / "d.npz", A=np.array([[-1.0], [1.0]]), c=np.array([-1.0, 2.0]))
    assert main(["certify", layer, "--domain", str(tmp_path / "d.npz")]) == 0
    assert main(["certify", layer, "--domain", "nonnegative"]) == 1
    capsys.readouterr()
    for argv, words in ((["--box", "1", "2", "--domain", "nonnegative"], "either"),
                        (["--box", "2", "1"], "lo must be < hi"),
                        (["--box", "1", "2", "--plot", str(tmp_path / "p.png")], "--plot")):
        assert main(["certify", layer, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("dss: error:") and words in err, err


def test_an_output_path_that_is_an_input_is_refused_before_any_work(tmp_path, capsys):
    # -o onto the layer, network or data file would destroy it: refused, the file left whole
    from dsssolver.cli.main import main

    np.savez(tmp_path / "l.npz", W=np.vstack([np.eye(2), -np.eye(2)]))
    np.savez(tmp_path / "n.npz", W0=np.vstack([np.eye(2), -np.eye(2)]), W1=np.eye(4))
    np.save(tmp_path / "x.npy", np.ones(4))
    for argv in (["certify", "l.npz", "-o", "l.npz"], ["certify", "l.npz", "-o", "./l.npz"],
                 ["certify-network", "n.npz", "-o", "n.npz"],
                 ["invert", "n.npz", "x.npy", "-o", "x.npy"],
                 ["invert", "n.npz", "x.npy", "-o", "n.npz"]):
        argv = [a if a.startswith("-") or a in ("certify", "certify-network", "invert")
                else str(tmp_path / a) for a in argv]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is the input file" in err, err
    assert np.load(tmp_path / "l.npz")["W"].shape == (4, 2)
    assert np.load(tmp_path / "n.npz")["W1"].shape == (4, 4)
    assert np.load(tmp_path / "x.npy").shape == (4,)
