"""The ``dss`` command line.

Each sub-command lives in a function ``_cmd_<name>``; errors in the input
become one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other input error
        raise _UsageError(message)


@contextlib.contextmanager
def _quiet_stdout():
    """Route anything native code prints on fd 1 (the HiGHS banner) to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _cmd_certify(args):
    from .certify import certify
    from .io import load_layer

    W, b = load_layer(args.layer)
    with _quiet_stdout():
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        res = certify(W, b, time_limit=args.time_limit, node_limit=args.node_limit,
                      progress=progress, workers=args.workers)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(res.to_json(), fh, indent=1)
    if args.json:
        print(json.dumps(res.to_json(), indent=1))
    else:
        print(res.summary())
    return {"injective": 0, "not_injective": 0}.get(res.status, 3)


def _cmd_check(args):
    from .check import check
    from .io import load_json, load_layer

    W, b = load_layer(args.layer)
    evidence = load_json(args.evidence)
    ok, message = check(evidence, W, b, explain=True)
    print(("valid: " if ok else "INVALID: ") + message)
    return 0 if ok else 1


def _build_parser():
    from . import __version__

    p = _Parser(prog="dss", description="Exact injectivity certificates for ReLU layers.")
    p.add_argument("--version", action="version", version=f"dss {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("certify", help="decide whether x -> ReLU(Wx + b) is injective")
    c.add_argument("layer", help=".npz with arrays W (m x n) and optional b, or .npy with W")
    c.add_argument("--json", action="store_true", help="print the result and evidence as JSON")
    c.add_argument("-o", "--output", help="also write the JSON evidence to this file")
    c.add_argument("--time-limit", type=float, default=None, help="seconds (default: none)")
    c.add_argument("--node-limit", type=int, default=None, help="search nodes (default: none)")
    c.add_argument("--workers", type=int, default=1,
                   help="processes for a long search (default: 1)")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress line on stderr every second (default: when stderr is a terminal)")
    c.set_defaults(func=_cmd_certify)

    k = sub.add_parser("check", help="re-check evidence JSON against a layer, exactly")
    k.add_argument("layer")
    k.add_argument("evidence")
    k.set_defaults(func=_cmd_check)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return p


# Other modules append a function ``register(subparsers)`` here (see _cli_invert).
_EXTRA_COMMANDS = []


def main(argv=None):
    try:
        from . import _cli_invert  # noqa: F401  (registers "invert" when present)
    except ImportError:
        pass
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except _UsageError as exc:
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
