"""``dss check layer.npz evidence.json``: re-check evidence exactly, with no LP solver.

Prints one line, ``valid: ...`` or ``INVALID: ...`` (or ``unknown: ...`` when ``--time-limit``
runs out), and exits 0 (valid), 1 (invalid), 2 (bad input) or 3 (out of time).
"""
from __future__ import annotations

from ..errors import CheckTimeout
from ..io import load_domain, load_json, load_layer
from ..verify import check

__all__ = ["register"]


def run(args):
    W, b = load_layer(args.layer)
    domain = None if args.domain is None else load_domain(args.domain, W.shape[1])
    evidence = load_json(args.evidence)
    try:
        res = check(evidence, W, b, domain=domain, time_limit=args.time_limit,
                    hints=args.hints, workers=args.workers)
    except CheckTimeout:
        print(f"unknown: the check did not finish within {args.time_limit:g} s")
        return 3
    print(("valid: " if res.ok else "INVALID: ") + res.message)
    return 0 if res.ok else 1


def register(sub):
    """Add ``check`` to the sub-command parsers ``sub``."""
    k = sub.add_parser("check", help="re-check evidence JSON against a layer, exactly",
                       description="Re-check injectivity evidence exactly (no LP solver). Exit "
                       "status: 0 valid, 1 invalid, 2 bad input, 3 out of time.")
    k.add_argument("layer", help=".npz with arrays W (m x n) and optional b, or .npy with W")
    k.add_argument("evidence", help="the JSON evidence written by 'dss certify --json' or -o")
    k.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="give up after S seconds (exit 3)")
    k.add_argument("--no-hints", dest="hints", action="store_false",
                   help="ignore the evidence's hints and search afresh")
    k.add_argument("--domain", default=None,
                   help="'nonnegative', or an .npz with arrays A and c for {x : A x <= c}")
    k.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for a long check (default: every core; 1 = this process)")
    k.set_defaults(func=run)
