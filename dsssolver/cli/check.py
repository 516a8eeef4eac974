"""``dss check layer.npz evidence.json``: re-check evidence exactly, with no LP solver.

Network evidence (from ``dss certify-network``) is re-checked against the network file
(``dss check net.npz evidence.json`` with the same ``--box`` / ``--domain`` /
``--last-activation`` as given to ``certify-network``).

Prints one line, ``valid: ...`` or ``INVALID: ...`` (or ``unknown: ...`` when ``--time-limit``
runs out), and exits 0 (valid), 1 (invalid), 2 (bad input) or 3 (out of time).
"""
from __future__ import annotations

from ..errors import CheckTimeout, InvalidInputError
from ..io import load_json, load_layer
from ..verify import check
from ..verify.network import NETWORK_FORMAT, check_network
from ._common import cli_domain
from .network import add_network_options, input_dim, read_network

__all__ = ["register"]


def run(args):
    evidence = load_json(args.evidence)
    if isinstance(evidence, dict) and evidence.get("format") == NETWORK_FORMAT:
        return _run_network(args, evidence)
    if args.last_activation is not None:
        raise InvalidInputError("--last-activation is for network evidence "
                                "(from dss certify-network)")
    W, b = load_layer(args.layer)
    domain = cli_domain(args, W.shape[1])
    try:
        res = check(evidence, W, b, domain=domain, time_limit=args.time_limit,
                    hints=args.hints, workers=args.workers)
    except CheckTimeout:
        print(f"unknown: the check did not finish within {args.time_limit:g} s")
        return 3
    print(("valid: " if res.ok else "INVALID: ") + res.message)
    return 0 if res.ok else 1


def _run_network(args, evidence):
    """Network evidence: every layer's evidence and any end-to-end tree, exactly (--time-limit
    bounds the whole check, --workers runs each of them in processes)."""
    layers = read_network(args.layer, args.last_activation, args.negative_slope,
                          args.trust_torch_file)
    domain = cli_domain(args, input_dim(layers))
    try:
        ok, msg = check_network(evidence, layers, domain=domain, time_limit=args.time_limit,
                                workers=args.workers)
    except CheckTimeout:
        print(f"unknown: the check did not finish within {args.time_limit:g} s")
        return 3
    print(("valid: " if ok else "INVALID: ") + msg)
    return 0 if ok else 1


def register(sub):
    """Add ``check`` to the sub-command parsers ``sub``."""
    k = sub.add_parser("check", help="re-check evidence JSON against a layer or network, exactly",
                       description="Re-check injectivity evidence exactly (no LP solver): a "
                       "layer's (dss certify) or a network's (dss certify-network). Exit "
                       "status: 0 valid, 1 invalid, 2 bad input, 3 out of time.")
    k.add_argument("layer", help=".npz with arrays W (m x n) and optional b, or .npy with W; for "
                                 "network evidence the network file (.npz with W0, b0, ..., a .json layer "
                                 "graph, or .pt)")
    k.add_argument("evidence", help="the JSON evidence written by 'dss certify' or "
                                    "'dss certify-network' (--json or -o)")
    k.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="give up after S seconds (exit 3; for network evidence, the whole "
                        "check: an end-to-end pattern tree and the layers' proofs)")
    k.add_argument("--no-hints", dest="hints", action="store_false",
                   help="ignore the evidence's hints and search afresh")
    k.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for a long check (default: every core; 1 = this process)")
    add_network_options(k)
    k.set_defaults(func=run)
