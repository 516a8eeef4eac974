"""The ``dss`` command line: one parser, one module per sub-command.

Errors in the input become one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import sys

from . import bench as _bench
from . import certify as _certify
from . import check as _check
from . import invert as _invert
from ._common import Parser, UsageError

__all__ = ["main"]

#: The sub-command modules, each with ``register(subparsers)``; the order is the help's order.
COMMANDS = (_certify, _check, _invert, _bench)


def build_parser():
    from .. import __version__

    p = Parser(prog="dss", description="Exact injectivity certificates for ReLU layers.")
    p.add_argument("--version", action="version", version=f"dss {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return p


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except UsageError as exc:
        print(f"dss: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"dss: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dss: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
