"""Worker processes that end with their parent.

dsssolver forks worker processes in three places: the search's pool
(:mod:`dsssolver.certify.parallel`), the proof checker's pool
(:mod:`dsssolver.verify.flats`) and batch inversion (:mod:`dsssolver.invert.batch`).
When the parent dies without shutting them down -- ``kill -9``, the out-of-memory
killer, a crashed notebook kernel -- a forked worker does not notice: it blocks
for ever on a queue whose other end its siblings still hold open (they inherited
it through ``fork``), holding its memory.  Measured 2026-12-01: both search
workers of a killed ``dss certify`` were still blocked five minutes later.

:func:`end_with_parent`, called first thing in a forked worker, asks Linux to send
the worker SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``).  Elsewhere
it does nothing: the workers then behave as before.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["end_with_parent"]

_PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int) -> bool:
    """In a forked worker: be sent SIGTERM when the parent ``parent_pid`` dies (Linux only).

    The parent's pid is passed in, not read after the fork: if the parent died
    between the fork and this call the worker has already been re-parented, and
    it exits at once instead of waiting for a signal that will never come.

    Returns True when the request was registered, False where it is unavailable.

    Examples
    --------
    >>> end_with_parent(os.getppid()) in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if ok and os.getppid() != parent_pid:
        os._exit(1)  # the parent is already gone
    return ok
