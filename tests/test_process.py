"""Forked workers end with their parent (dsssolver._process): a killed run leaves no process behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from dsssolver._process import end_with_parent

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")


def _gone(pid, seconds):
    """Whether process ``pid`` has ended (or is a zombie) within ``seconds``."""
    t = time.monotonic() + seconds
    while time.monotonic() < t:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def _children(pid):
    """The pids whose parent is ``pid`` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat") as fh:
                if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d))
        except (ValueError, OSError, IndexError):
            continue
    return out


def _middle(use_helper, w):
    """A parent that forks a worker, reports its pid on ``w`` and waits to be killed."""
    parent = os.getpid()
    child = os.fork()
    if child == 0:
        if use_helper:
            end_with_parent(parent)
        time.sleep(60)
        os._exit(0)
    os.write(w, f"{child}\n".encode())
    time.sleep(60)
    os._exit(0)


@linux
@pytest.mark.parametrize("use_helper", [True, False])
def test_a_worker_ends_when_its_parent_is_killed(use_helper):
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(r)
        _middle(use_helper, w)
    os.close(w)
    worker = int(os.read(r, 64).decode())
    os.close(r)
    time.sleep(0.2)  # the worker has registered (or not)
    os.kill(middle, signal.SIGKILL)
    os.waitpid(middle, 0)
    try:
        # without the helper the worker outlives its parent: the test can tell the two apart
        assert _gone(worker, 5.0) is use_helper
    finally:
        if not use_helper:
            os.kill(worker, signal.SIGKILL)


@linux
def test_a_parent_gone_before_the_call_ends_the_worker_at_once():
    child = os.fork()
    if child == 0:
        end_with_parent(-1)  # not our parent: as if it had died already
        os._exit(0)  # not reached
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1


@linux
def test_killing_dss_certify_leaves_no_search_worker(tmp_path):
    np.savez(tmp_path / "hard.npz", W=np.random.default_rng(0).standard_normal((84, 12)))
    p = subprocess.Popen([sys.executable, "-m", "dsssolver", "certify", "--progress", "--workers", "2",
                          str(tmp_path / "hard.npz")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kids = []
    try:
        t = time.monotonic() + 120
        while len(kids) < 2 and time.monotonic() < t:  # the search's workers are forked
            line = p.stderr.readline()
            assert line, "the run ended before its workers started"
            kids = _children(p.pid)
        assert len(kids) == 2
    finally:
        p.kill()
        p.wait()
    alive = [k for k in kids if not _gone(k, 10.0)]
    for k in alive:
        os.kill(k, signal.SIGKILL)
    assert not alive, "search workers outlived the killed run"
