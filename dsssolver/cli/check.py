"""``dss check layer.npz evidence.json``: re-check evidence exactly, with no LP solver."""
from __future__ import annotations

from ..io import load_json, load_layer
from ..verify import check

__all__ = ["register"]


def run(args):
    W, b = load_layer(args.layer)
    evidence = load_json(args.evidence)
    ok, message = check(evidence, W, b, explain=True)
    print(("valid: " if ok else "INVALID: ") + message)
    return 0 if ok else 1


def register(sub):
    """Add ``check`` to the sub-command parsers ``sub``."""
    k = sub.add_parser("check", help="re-check evidence JSON against a layer, exactly")
    k.add_argument("layer")
    k.add_argument("evidence")
    k.set_defaults(func=run)
