"""``dss certify-network net.npz``: decide whether a whole ReLU network is injective, with evidence.

The network file is an ``.npz`` with arrays ``W0, b0, W1, b1, ...`` (layer ``k``
computes ``act(W_k x + b_k)``; a missing ``b_k`` is 0; a file numbered from ``W1``, as
``dss invert`` files are, is read the same way), an optional string array
``activations`` ("relu", "leaky_relu" or "linear" per layer; default ReLU
everywhere) and an optional ``negative_slopes`` (per layer, for "leaky_relu"); or
a ``.json`` layer graph (:func:`dsssolver.io.save_graph`: nodes that read the
concatenation of their inputs, e.g. the augmented networks of Theorem 5); or
a torch ``nn.Sequential`` saved whole with ``torch.save(net, "net.pt")`` (``.pt`` /
``.pth``, read with ``torch.load(weights_only=True)``, only torch.nn layer classes allowed;
``--trust-torch-file`` unpickles a file you trust fully).

Exit status: 0 injective, 1 not injective, 2 bad input, 3 unknown (a limit or Ctrl-C).
"""
from __future__ import annotations

import argparse
import json
import re

from ..errors import InvalidInputError
from ..io import load_network
from ..netmodel import ACTIVATIONS, OUTPUT_SQUASHES, as_graph, as_layers, is_graph
from ..verify.evidence import INJECTIVE, NOT_INJECTIVE
from ._common import (add_domain_options, add_progress_option, add_trust_option,
                      check_output_path, cli_domain, cli_progress, domain_file, quiet_stdout)

__all__ = ["register", "read_network", "input_dim"]

EXIT = {INJECTIVE: 0, NOT_INJECTIVE: 1}
EXIT_UNKNOWN = 3


def read_network(path, last_activation=None, negative_slope=0.01, trust=False):
    """The layers of a network file (see the module docstring), with one-line errors; a
    ``.json`` layer graph comes back as its ``networkx.DiGraph``."""
    net = load_network(path, trust)
    if is_graph(net):
        if last_activation is not None:
            raise InvalidInputError(f"{path}: --last-activation is for chain networks (a graph "
                                    "file gives every node's activation)")
        return net
    try:
        return as_layers(net, last_activation=last_activation, negative_slope=negative_slope)
    except InvalidInputError as exc:
        msg = str(exc)
        if not str(path).endswith((".pt", ".pth")):  # name the arrays: layer k is W{k-1}, b{k-1}
            msg = re.sub(r"\blayer (\d+)", lambda m: f"layer {m[1]} (W{int(m[1]) - 1})", msg)
        raise InvalidInputError(f"{path}: {msg}") from None


def input_dim(net):
    """The input dimension of what :func:`read_network` returned."""
    return as_graph(net).n if is_graph(net) else net[0].shape[1]


def run(args):
    from ..networks import certify_network

    if args.output:
        check_output_path(args.output, "-o", (args.network, domain_file(args)))
    layers = read_network(args.network, args.last_activation, args.negative_slope,
                          args.trust_torch_file)
    domain = cli_domain(args, input_dim(layers))
    progress = cli_progress(args)
    with quiet_stdout():
        res = certify_network(layers, domain=domain, time_limit=args.time_limit,
                              end_to_end=args.end_to_end, node_limit=args.node_limit,
                              progress=progress)
    doc = res.to_json()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
    print(json.dumps(doc, indent=1) if args.json else res.summary())
    return EXIT.get(res.status, EXIT_UNKNOWN)


def add_network_options(p):
    """The options that say which network and domain a file means (shared with ``dss check``)."""
    p.add_argument("--last-activation", choices=ACTIVATIONS + OUTPUT_SQUASHES, default=None,
                   help="override the last layer's activation (e.g. linear for a linear output; "
                        "tanh / sigmoid are strictly increasing and decided as linear)")
    add_trust_option(p)
    p.add_argument("--negative-slope", type=float, default=0.01,
                   help="slope for --last-activation leaky_relu (default 0.01)")
    add_domain_options(p, "; networks with biases are decided end to end on a bounded domain "
                          "only")


def register(sub):
    """Add ``certify-network`` to the sub-command parsers ``sub``."""
    c = sub.add_parser("certify-network", help="decide whether a ReLU network is injective",
                       description="Decide exactly whether a ReLU network is injective: each layer "
                       "on its true domain (x >= 0 after a ReLU), end to end when layers fail. "
                       "NETWORK: .npz with W0, b0, W1, b1, ... (or numbered from W1; optional string array "
                       "'activations', float array 'negative_slopes'), a .json layer graph "
                       "(dsssolver.io.save_graph), or a torch nn.Sequential "
                       "saved with torch.save (.pt/.pth; torch.nn layer classes only, see "
                       "--trust-torch-file). "
                       "Exit status: 0 injective, 1 not injective, 2 bad input, 3 unknown.")
    c.add_argument("network", help=".npz with W0, b0, W1, b1, ..., a .json layer graph, or "
                                   ".pt/.pth (torch)")
    add_network_options(c)
    c.add_argument("--end-to-end", action=argparse.BooleanOptionalAction, default=True,
                   help="decide the layers up to the last failing one end to end when layerwise "
                        "reasoning fails (default: on; small networks only)")
    c.add_argument("--json", action="store_true", help="print the result and evidence as JSON")
    c.add_argument("-o", "--output", help="also write the JSON evidence to this file")
    c.add_argument("--time-limit", type=float, default=None, help="seconds (default: none)")
    c.add_argument("--node-limit", type=int, default=None,
                   help="nodes of the end-to-end search tree (default: none)")
    add_progress_option(c, "a line per layer on stderr")
    c.set_defaults(func=run)
