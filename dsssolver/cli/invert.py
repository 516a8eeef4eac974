"""``dss invert net.npz output.npy``: the command-line face of :func:`dsssolver.invert`.

The network file is an ``.npz`` with arrays ``W1, b1, W2, b2, ...`` (each ``b`` optional),
latent side first, and optionally ``last_activation`` (a string) and ``negative_slope``.
The output file is an ``.npy`` (or one-array ``.npz``) holding one output or one per row.
"""
from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np

from ..io import _open, load_array
from ._common import quiet_stdout

__all__ = ["register", "load_network"]


def load_network(path):
    """Read ``[(W1, b1), ...]`` and the activation options from an ``.npz``.

    Raises
    ------
    ValueError
        Missing or unreadable file, no ``W1``, a gap in the numbering, stray arrays.
    """
    data = _open(path)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: expected an .npz with arrays W1, b1, W2, ...")
    with data:
        files = set(data.files)
        try:
            arrays = {k: data[k] for k in files}
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: corrupt array ({exc})") from None
    layers, k = [], 1
    while f"W{k}" in arrays:
        layers.append((arrays.pop(f"W{k}"), arrays.pop(f"b{k}", None)))
        k += 1
    if not layers:
        raise ValueError(f"{path}: no array named 'W1' (found {sorted(files)})")
    opts = {}
    if "last_activation" in arrays:
        opts["last_activation"] = str(arrays.pop("last_activation"))
    if "negative_slope" in arrays:
        opts["negative_slope"] = float(arrays.pop("negative_slope"))
    if arrays:
        raise ValueError(f"{path}: unexpected arrays {sorted(arrays)} (layers must be "
                         f"numbered W1, W2, ... without gaps)")
    return layers, opts


def _clean(v):
    """JSON-safe: numpy to Python, NaN / inf to None."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _summary(info):
    lines = [f"status: {info.status}  unique: {info.unique}  residual: {info.residual:.3g}",
             f"  {info.message}"]
    for li in info.layers:
        lines.append(f"  layer {li.layer}: {li.status:11s} unique={li.unique!s:5s} "
                     f"residual={li.residual:.3g} active={li.active} "
                     + (f"lp={li.lp_seconds * 1e3:.2f} ms" if li.lp_seconds else "no LP needed")
                     + (f" bound={li.error_bound:.3g}" if li.error_bound is not None else ""))
    return "\n".join(lines)


def _cmd_invert(args):
    from ..invert import Inverter

    layers, opts = load_network(args.network)
    x = load_array(args.output)
    if args.last is not None:
        opts["last_activation"] = args.last
    if args.slope is not None:
        opts["negative_slope"] = args.slope
    inv = Inverter(layers, method=args.method, tol=args.tol, noise=args.noise, lp=args.lp,
                   milp_time_limit=args.milp_time_limit, **opts)
    with quiet_stdout():  # HiGHS may print a banner on fd 1; keep stdout clean
        z, info = inv.invert(x)
    infos = info if isinstance(info, list) else [info]
    if args.save:
        np.save(args.save, z)
    if args.json:
        print(json.dumps(_clean({"z": z, "info": [i.to_dict() for i in infos]}), indent=1))
    else:
        for i, one in enumerate(infos):
            if len(infos) > 1:
                print(f"output {i}:")
            print(_summary(one))
            if z.ndim == 1:
                print("z =", np.array2string(z, precision=6, max_line_width=100))
        if args.save:
            print(f"z written to {os.path.abspath(args.save)}")
    return 0 if all(i.success for i in infos) else 1


def register(subparsers):
    """Add ``invert`` to the ``dss`` sub-commands."""
    p = subparsers.add_parser("invert", help="find z with G(z) = x, layer by layer (LPs, MILP)")
    p.add_argument("network", help=".npz with W1, b1, W2, b2, ... (latent side first)")
    p.add_argument("output", help=".npy with x (one output, or one per row)")
    p.add_argument("--method", choices=("exact", "linf", "l1"), default="exact")
    p.add_argument("--last", choices=("relu", "leaky_relu", "linear"), default=None,
                   help="activation after the last layer (default: from the file, else relu)")
    p.add_argument("--slope", type=float, default=None, help="LeakyReLU negative slope")
    p.add_argument("--noise", type=float, default=None,
                   help="bound on ||x - G(z)||_inf (noisy methods: threshold and error bound)")
    p.add_argument("--tol", type=float, default=1e-9, help="relative residual taken as exact")
    p.add_argument("--lp", choices=("auto", "always"), default="auto",
                   help="'always': solve every layer's LP even when its rank makes it trivial")
    p.add_argument("--milp-time-limit", type=float, default=60.0, help="seconds per MILP")
    p.add_argument("--json", action="store_true", help="print z and the info as JSON")
    p.add_argument("-o", "--save", help="write z to this .npy file")
    p.set_defaults(func=_cmd_invert)
