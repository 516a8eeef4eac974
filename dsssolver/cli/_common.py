"""What every ``dss`` sub-command shares: the one-line usage error and a quiet stdout."""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys

__all__ = ["UsageError", "Parser", "quiet_stdout", "check_output_path"]


class UsageError(Exception):
    """A command-line usage error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # values like -1/2 or -1e-3 are numbers, not options (argparse knows only -1 and -0.5), so
        # that "--box -1/2 1/2" reads; argparse keeps this pattern in an attribute of the parser
        self._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d+/\d+$|^-\d*\.?\d+e[-+]?\d+$")

    def error(self, message):  # one line, exit 2, like every other input error
        raise UsageError(message)


@contextlib.contextmanager
def quiet_stdout():
    """Route anything native code prints on fd 1 (a HiGHS banner) to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def check_output_path(path, flag="-o"):
    """Fail before the work, not after it, when a result could not be written to ``path``."""
    from ..errors import InvalidInputError

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidInputError(f"{flag} {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise InvalidInputError(f"{flag} {path}: is a directory")
    if not os.access(folder, os.W_OK):
        raise InvalidInputError(f"{flag} {path}: the folder {folder} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InvalidInputError(f"{flag} {path}: not writable")
