"""What every ``dss`` sub-command shares: the one-line usage error, a quiet stdout, and the
options several of them take (an input domain, progress, trusting a torch file)."""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys

__all__ = ["UsageError", "Parser", "quiet_stdout", "check_output_path", "add_domain_options",
           "cli_domain", "domain_file", "add_trust_option", "add_progress_option", "cli_progress"]


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


def check_output_path(path, flag="-o", inputs=()):
    """Fail before the work, not after it, when a result could not be written to ``path``,
    or would overwrite one of the command's ``inputs``."""
    from ..errors import InvalidInputError

    for src in inputs:
        if src and os.path.exists(path) and os.path.exists(src) and os.path.samefile(path, src):
            raise InvalidInputError(f"{flag} {path}: is the input file {src}; write elsewhere")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidInputError(f"{flag} {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise InvalidInputError(f"{flag} {path}: is a directory")
    if not os.access(folder, os.W_OK):
        raise InvalidInputError(f"{flag} {path}: the folder {folder} is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InvalidInputError(f"{flag} {path}: not writable")


def add_domain_options(p, box_note=""):
    """``--domain`` and ``--box``: the input domain of a layer or network (read by
    :func:`cli_domain`)."""
    p.add_argument("--domain", default=None,
                   help="input domain: 'nonnegative' (x >= 0), or an .npz with arrays A and c for "
                        "{x : A x <= c} (full-dimensional)")
    p.add_argument("--box", nargs=2, metavar=("LO", "HI"), default=None,
                   help="input domain LO <= x_j <= HI for every input (numbers or fractions p/q)"
                        + box_note)


def cli_domain(args, n):
    """The input domain of ``--domain`` / ``--box`` for ``n`` inputs."""
    from fractions import Fraction  # here, not at the top: `dss` starts without numpy

    from ..errors import InvalidInputError
    from ..io import load_domain
    from ..networks.layerwise import box_domain

    if args.domain is not None and args.box is not None:
        raise InvalidInputError("give either --domain or --box, not both")
    if args.box is not None:
        try:
            lo, hi = (Fraction(v) for v in args.box)
        except (ValueError, ZeroDivisionError):
            raise InvalidInputError(f"--box: LO and HI must be numbers, got {' '.join(args.box)}") \
                from None
        return box_domain(([lo] * n, [hi] * n))
    if args.domain is None:
        return None
    dom = load_domain(args.domain, n)
    return "nonnegative" if dom.name == "nonnegative" else ([list(r) for r in dom.A], list(dom.c))


def domain_file(args):
    """The file ``--domain`` names (an input a result must not overwrite), or None."""
    return args.domain if args.domain not in (None, "nonnegative") else None


def add_progress_option(p, what="a progress line on stderr every second"):
    """``--progress`` / ``--no-progress`` (read by :func:`cli_progress`)."""
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help=f"{what} (default: when stderr is a terminal)")


def cli_progress(args):
    """``--progress`` as given, else on exactly when stderr is a terminal."""
    return sys.stderr.isatty() if args.progress is None else args.progress


def add_trust_option(p):
    """``--trust-torch-file``: unpickle a .pt / .pth fully (see :func:`dsssolver.io.load_network`)."""
    p.add_argument("--trust-torch-file", action="store_true",
                   help="read a .pt/.pth fully unpickled (torch.load(weights_only=False)), for "
                        "modules of your own classes: it runs any code the file holds, so only for "
                        "files you trust (default: only torch.nn layer classes are read, no code runs)")
