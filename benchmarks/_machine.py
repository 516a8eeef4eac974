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

    import dsssolver

    for mod in pkgutil.walk_packages(dsssolver.__path__, "dsssolver."):
        if mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:  # noqa: BLE001  (an optional extra missing: hash it anyway)
            pass
    hashes = {}
    d = os.path.dirname(dsssolver.__file__)
    for f in sorted(os.listdir(d)):
        if f.endswith(".py"):
            with open(os.path.join(d, f), "rb") as fh:
                hashes[f] = hashlib.sha1(fh.read()).hexdigest()[:10]
    return hashes
