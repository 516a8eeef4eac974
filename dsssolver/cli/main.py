"""The ``dss`` command line: one parser, one module per sub-command.

Exit status, the same for every sub-command that gives a verdict: 0 injective / valid / success,
1 not injective / invalid / failed, 2 bad input or usage, 3 unknown (a limit was reached, or
Ctrl-C).  Errors in the input become one line on stderr, never a traceback.

This module imports nothing heavy at the top (and ``import dsssolver`` loads its public names on
first use): the sub-commands, with numpy, HiGHS and FLINT, are imported inside :func:`main`, where
Ctrl-C during start-up is caught like Ctrl-C later -- one line, exit 3, no traceback.
"""
from __future__ import annotations

import importlib
import sys

from ..errors import DSSError

__all__ = ["main", "EXIT_BAD_INPUT", "EXIT_UNKNOWN"]

#: The sub-command modules, each with ``register(subparsers)``; the order is the help's order.
COMMANDS = ("certify", "network", "check", "invert", "bench")
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3

_EPILOG = ("exit status: 0 injective / valid / success, 1 not injective / invalid / failed, "
           "2 bad input or usage, 3 unknown (a limit was reached, or Ctrl-C)")


def build_parser():
    from .. import __version__
    from ._common import Parser

    p = Parser(prog="dss", description="Exact injectivity certificates for ReLU layers.",
               epilog=_EPILOG)
    p.add_argument("--version", action="version", version=f"dss {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        importlib.import_module(f"{__package__}.{command}").register(sub)
    return p


def main(argv=None):
    from ._common import UsageError

    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        if not argv:
            parser.print_usage(sys.stderr)
            print("dss: error: a command is required (certify, certify-network, check, invert or "
                  "bench); see dss --help", file=sys.stderr)
            return EXIT_BAD_INPUT
        args = parser.parse_args(argv)
        return args.func(args)
    except UsageError as exc:
        print(f"dss: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (DSSError, ValueError, TypeError, OSError, RecursionError, MemoryError) as exc:
        print(f"dss: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("unknown: interrupted", file=sys.stderr)
        return EXIT_UNKNOWN


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
