"""Fixtures shared by several test modules."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def threshold_quick_run(tmp_path_factory):
    """``dss bench threshold --quick`` into a temporary folder, once per session (about
    15 s of CPU): the bench CLI and the threshold benchmark's tests both read it."""
    import contextlib
    import io

    from dsssolver.cli.main import main

    results = tmp_path_factory.mktemp("bench")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["bench", "threshold", "--quick", "--results", str(results)])
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
            "results": results}
