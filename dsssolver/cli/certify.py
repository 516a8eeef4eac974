"""``dss certify layer.npz``: decide whether a layer is injective, with evidence.

Exit status: 0 injective, 1 not injective, 2 bad input, 3 unknown (a limit or Ctrl-C).
"""
from __future__ import annotations

import json
import sys

from ..certify import certify
from ..errors import InvalidInputError
from ..io import load_layer
from ..verify.evidence import INJECTIVE, NOT_INJECTIVE
from ._common import (add_domain_options, add_progress_option, check_output_path, cli_domain,
                      cli_progress, domain_file, quiet_stdout)

__all__ = ["register", "EXIT"]

#: Exit status per verdict.
EXIT = {INJECTIVE: 0, NOT_INJECTIVE: 1}
EXIT_UNKNOWN = 3


def run(args):
    inputs = (args.layer, domain_file(args))
    if args.output:
        check_output_path(args.output, "-o", inputs)
    W, b = load_layer(args.layer)
    domain = cli_domain(args, W.shape[1])
    if args.plot and domain is not None:
        raise InvalidInputError("--plot draws the layer on all of R^n: not with --domain / --box")
    if args.plot:
        _plot_preflight(W, b, args.plot, inputs)
    with quiet_stdout():
        progress = cli_progress(args)
        try:
            res = certify(W, b, domain=domain, time_limit=args.time_limit,
                          node_limit=args.node_limit, progress=progress, workers=args.workers,
                          client=args.scheduler)
        except KeyboardInterrupt:
            res = None
    if res is None:  # the search returns "unknown" itself; this covers Ctrl-C outside it
        print("unknown: interrupted")
        return EXIT_UNKNOWN
    doc = res.to_json()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(res.summary())
    if args.plot:
        _save_plot(W, b, res, args.plot)
    return EXIT.get(res.status, EXIT_UNKNOWN)


def _plot_preflight(W, b, path, inputs=()):
    """Refuse a --plot that cannot be drawn before the (maybe long) search starts."""
    import numpy as np

    from ..errors import InvalidInputError

    n = np.shape(W)[1] if np.ndim(W) == 2 else None
    if n not in (2, 3):
        raise InvalidInputError(f"--plot draws layers with n = 2 or 3 columns, this one has n = {n}")
    if n == 3 and b is not None and np.any(np.asarray(b, dtype=float) != 0):
        raise InvalidInputError("--plot draws n = 3 layers only with b = 0 (on the sphere)")
    try:
        import matplotlib
    except ImportError:
        raise InvalidInputError("--plot needs matplotlib: pip install 'dsssolver[plot]'") from None
    matplotlib.use("Agg")  # files only, no display needed
    if not path.lower().endswith((".png", ".pdf", ".svg")):
        raise InvalidInputError(f"--plot: {path!r} should end in .png, .pdf or .svg")
    check_output_path(path, "--plot", inputs)


def _save_plot(W, b, res, path):
    import matplotlib.pyplot as plt

    from ..plot import plot_layer

    ax = plot_layer(W, b, result=res)
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"plot written to {path}", file=sys.stderr)


def register(sub):
    """Add ``certify`` to the sub-command parsers ``sub``."""
    c = sub.add_parser("certify", help="decide whether x -> ReLU(Wx + b) is injective",
                       description="Decide exactly whether x -> ReLU(Wx + b) is injective, with "
                       "evidence. Exit status: 0 injective, 1 not injective, 2 bad input, "
                       "3 unknown (a limit was reached or Ctrl-C).")
    c.add_argument("layer", help=".npz with arrays W (m x n) and optional b, or .npy with W")
    c.add_argument("--json", action="store_true", help="print the result and evidence as JSON")
    c.add_argument("-o", "--output", help="also write the JSON evidence to this file")
    c.add_argument("--time-limit", type=float, default=None, help="seconds (default: none)")
    c.add_argument("--node-limit", type=int, default=None, help="search nodes (default: none)")
    c.add_argument("--workers", type=int, default=None,
                   help="processes for a long search (default: every core)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the search on a Dask cluster: its scheduler's address (needs dask)")
    add_progress_option(c)
    add_domain_options(c)
    c.add_argument("--plot", metavar="FILE",
                   help="also draw the arrangement (n = 2 or 3) to FILE (.png, .pdf, .svg; "
                        "needs matplotlib, the plot extra)")
    c.set_defaults(func=run)
