"""Machine and source facts recorded by every benchmark, so a result can be traced to its run."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def version(mod):
    """A package's version, or None."""
    try:
        from importlib.metadata import version as v

        return v(mod)
    except Exception:  # noqa: BLE001  (not installed, or no metadata)
        try:
            return __import__(mod).__version__
        except Exception:  # noqa: BLE001
            return None


def machine_facts(source_hashes, packages=("highspy",), note=""):
    """Date, CPU, versions, the git head and uncommitted changes of dsssolver/, load average."""
    try:
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../dsssolver"], cwd=HERE,
                               capture_output=True, text=True).stdout.strip().splitlines()
    except Exception:  # noqa: BLE001  (no git: the facts are still useful)
        git, dirty = None, []
    facts = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    facts.update({p: version(p) for p in packages})
    facts.update({
        "dsssolver_git_head": git,
        "dsssolver_uncommitted_changes": dirty,
        "dsssolver_source_sha1": source_hashes,
        "loadavg_at_start": list(os.getloadavg()),
        "note": note,
    })
    return facts


def preimport_and_hash():
    """Import every dsssolver module now and hash its sources.

    Forked workers then all run the code as it was at the start of the run,
    even if the working tree changes meanwhile; the hashes say which code that was.
    """
    import hashlib
    import importlib
    import pkgutil
    import warnings

    import dsssolver

    for mod in pkgutil.walk_packages(dsssolver.__path__, "dsssolver."):
        if mod.name.endswith("__main__"):
            continue
        try:
            with warnings.catch_warnings():  # deprecated aliases warn on import
                warnings.simplefilter("ignore", DeprecationWarning)
                importlib.import_module(mod.name)
        except Exception:  # noqa: BLE001  (an optional extra missing: hash it anyway)
            pass
    return {rel: hashlib.sha1(data).hexdigest()[:10] for rel, data in _sources()}


def _sources():
    """[(path relative to dsssolver/, bytes)] of every .py file of the package, sorted."""
    import dsssolver

    root = os.path.dirname(os.path.abspath(dsssolver.__file__))
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                p = os.path.join(d, f)
                with open(p, "rb") as fh:
                    out.append((os.path.relpath(p, root).replace(os.sep, "/"), fh.read()))
    return sorted(out)


_CODE_VERSION = None


def code_version():
    """The code a result was made with: git commit of the dsssolver checkout (None outside
    git), whether it had uncommitted changes, and one sha1 over every dsssolver source
    file (path and content), which identifies the code even when it was not committed.

    Computed once per process (worker processes each compute their own).

    Examples
    --------
    >>> sorted(code_version())
    ['dirty', 'git', 'source_sha1']
    """
    global _CODE_VERSION
    if _CODE_VERSION is None:
        import hashlib

        import dsssolver

        h = hashlib.sha1()
        for rel, data in _sources():
            h.update(rel.encode() + b"\0" + data + b"\0")
        root = os.path.dirname(os.path.abspath(dsssolver.__file__))
        git, dirty = _git(root)
        _CODE_VERSION = {"git": git, "dirty": dirty, "source_sha1": h.hexdigest()[:16]}
    return dict(_CODE_VERSION)


def _git(root):
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=20)
        if head.returncode != 0:
            return None, None
        st = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=root,
                            capture_output=True, text=True, timeout=20)
        return head.stdout.strip(), bool(st.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


class Progress:
    """A one-line progress bar on stderr: count, percentage, rate, ETA and a note.

    Redrawn in place on a terminal; on a pipe or file, one line every ``every`` seconds
    and at the end (logs stay short).
    """

    def __init__(self, total, label, *, enabled=True, every=10.0, stream=None):
        import sys
        import time

        self.total, self.label, self.enabled, self.every = total, label, enabled, every
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done, self.t0, self.last, self._time = 0, time.perf_counter(), 0.0, time.perf_counter

    def step(self, note=""):
        self.done += 1
        now = self._time()
        if self.enabled and (self.tty or now - self.last >= self.every or self.done == self.total):
            self.last = now
            self._draw(note, now)

    def _draw(self, note, now):
        el = now - self.t0
        frac = self.done / self.total if self.total else 1.0
        eta = el / self.done * (self.total - self.done) if self.done else 0.0
        bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
        line = (f"{self.label} [{bar}] {self.done}/{self.total} {100 * frac:5.1f}% "
                f"{el:6.0f}s elapsed, ETA {eta:6.0f}s  {note}")
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
