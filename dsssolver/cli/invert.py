"""``dss invert net.npz output.npy``: the command-line face of :func:`dsssolver.invert`.

The network file is an ``.npz`` with arrays ``W1, b1, W2, b2, ...`` (each ``b`` optional;
``W0, b0, W1, ...`` as ``dss certify-network`` files are numbered is read the same way),
latent side first, and optionally ``last_activation`` (a string) and ``negative_slope``; or a
torch generator saved whole with ``torch.save(G, "g.pt")`` (``.pt`` / ``.pth``; only torch.nn
layer classes are read unless ``--trust-torch-file``), read by
:func:`dsssolver.layers.from_torch` (``--input-shape C H W`` when it starts with a
convolution, e.g. ``--input-shape 100 1 1`` for a DCGAN).
The output file is an ``.npy`` (or one-array ``.npz``) holding one output or one per row; an
image (``C x H x W``) or a stack of them is flattened in C, H, W order, as torch does.
Exit status: 0 every output inverted, 1 some output has no preimage (``infeasible``: no
code explains it, exactly or within an l_inf noise bound, proven), 2 bad input, 3 an
inversion failed (solver limit or error, or no fit within the noise was found and none was
proven impossible).
"""
from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np

from ..io import _member, _open, layer_names, load_array
from ..invert.layerwise import METHODS
from ..invert.result import FAILED
from ..layers import ACTIVATIONS
from ._common import (add_progress_option, add_trust_option, check_output_path, cli_progress,
                      quiet_stdout)

__all__ = ["register", "load_network"]


def load_network(path, input_shape=None, trust=False):
    """Read ``[(W1, b1), ...]`` and the activation options from an ``.npz``, or a torch
    module from a ``.pt`` / ``.pth`` file (then a :class:`~dsssolver.layers.Network` and
    no options).

    Raises
    ------
    ValueError
        Missing or unreadable file, no ``W1`` (or ``W0``), a gap in the numbering, stray arrays, a
        torch module that :func:`~dsssolver.layers.from_torch` cannot read.
    """
    if str(path).endswith((".pt", ".pth")):
        from ..io import _load_torch_module
        from ..layers import from_torch

        module = _load_torch_module(path, trust)
        try:
            return from_torch(module, input_shape), {}
        except ValueError as exc:
            hint = (" (give --input-shape C H W)" if "input_shape" in str(exc) else "")
            raise ValueError(f"{path}: {exc}{hint}") from None
    if input_shape is not None:
        raise ValueError("--input-shape is for torch generators (.pt / .pth); an .npz "
                         "network is dense matrices")
    data = _open(path)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: expected an .npz with arrays W1, b1, W2, ...")
    with data:
        files = set(data.files)
        arrays = {k: _member(data, path, k) for k in files}
    names = layer_names(files)
    layers = [(arrays.pop(w), arrays.pop(b, None)) for w, b in names]
    if not layers:
        raise ValueError(f"{path}: no array named 'W1' or 'W0' (found {sorted(files)})")
    opts = {}
    if "last_activation" in arrays:
        opts["last_activation"] = str(arrays.pop("last_activation"))
    if "negative_slope" in arrays:
        opts["negative_slope"] = float(arrays.pop("negative_slope"))
    if arrays:
        raise ValueError(f"{path}: unexpected arrays {sorted(arrays)} (layers must be "
                         f"numbered {names[0][0]}..{names[-1][0]} without gaps)")
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
    lines = [f"status: {info.status}  unique: {info.unique}  residual: {info.residual:.3g}  "
             f"error_bound: {info.error_bound:.3g} (noise: {info.noise_source})",
             f"  {info.message}"]
    for li in info.layers:
        lines.append(f"  layer {li.layer}: {li.status:11s} unique={li.unique!s:5s} "
                     f"residual={li.residual:.3g} active={li.active} "
                     + (f"lp={li.lp_seconds * 1e3:.2f} ms" if li.lp_seconds else "no LP needed")
                     + (f" amplification={li.amplification:.3g}" if li.amplification is not None
                        else "")
                     + (f" global={li.stability['amplification']:.3g} "
                        f"({li.stability['status']})" if li.stability else ""))
    if info.get("stability_bound") is not None:
        lines.append(f"  global amplification {info.stability_amplification:.3g}: "
                     f"||z - z_true|| <= {info.stability_bound:.3g} for every z_true within "
                     f"the noise")
    return "\n".join(lines)


def _exit_code(results):
    """0 every output inverted, 1 some output has no preimage, 3 some inversion failed."""
    if all(r.success for r in results):
        return 0
    return 3 if any(r.status == FAILED for r in results) else 1


def _cmd_invert(args):
    from ..invert import Inverter

    if args.save:
        check_output_path(args.save, "-o", (args.network, args.output))
    layers, opts = load_network(args.network, args.input_shape, args.trust_torch_file)
    x = _flat_outputs(load_array(args.output), layers)
    if args.last is not None:
        if not isinstance(layers, list):
            raise ValueError("--last is for .npz networks: a torch generator's own modules "
                             "give its last activation")
        opts["last_activation"] = args.last
    if args.slope is not None:
        opts["negative_slope"] = args.slope
    inv = Inverter(layers, method=args.method, tol=args.tol, noise=args.noise,
                   noise_std=args.noise_std, lp=args.lp, milp_time_limit=args.milp_time_limit,
                   stability=args.stability or False, **opts)
    with quiet_stdout():  # HiGHS may print a banner on fd 1; keep stdout clean
        res = inv.invert(x, workers=args.workers, progress=cli_progress(args))
    results = res.results if res.batch else [res]
    if args.save:
        np.save(args.save, res.z)
    if args.json:
        print(json.dumps(_clean({"z": res.z, "info": [r.to_dict() for r in results]}), indent=1))
    else:
        for i, one in enumerate(results):
            if len(results) > 1:
                print(f"output {i}:")
            print(_summary(one))
            if res.z.ndim == 1:
                print("z =", np.array2string(res.z, precision=6, max_line_width=100))
        if args.save:
            print(f"z written to {os.path.abspath(args.save)}")
    return _exit_code(results)


def _flat_outputs(x, layers):
    """One output per row: an image (C x H x W) or a stack of images is flattened (C, H, W
    order, as torch's ``flatten`` does) when its size says which it is."""
    m = layers[-1][0].shape[0] if isinstance(layers, list) else layers.output_dim
    if x.ndim > 2 and x.size == m:
        return x.reshape(m)
    if x.ndim > 2 and int(np.prod(x.shape[1:])) == m:
        return x.reshape(x.shape[0], m)
    return x


def _finite(name, positive=False):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(v) or v < 0 or (positive and v == 0):
            raise argparse.ArgumentTypeError(
                f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {text!r}")
        return v
    return parse


def _positive_int(what):
    """An argparse type: an integer >= 1, or ``what`` in the error."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            v = 0
        if v < 1:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return v
    return parse


def register(subparsers):
    """Add ``invert`` to the ``dss`` sub-commands."""
    p = subparsers.add_parser(
        "invert", help="find z with G(z) = x, layer by layer (LPs, MILP)",
        description="Find z with G(z) = x for a ReLU generator G, layer by layer with LPs "
        "(Lei et al.), with a joint MILP where a layer's preimage is not a single point; "
        "exact or noisy (--method linf / l1 / l2 with --noise or --noise-std). Exit status: "
        "0 every output inverted, 1 some output has no preimage (proven: exactly, or within "
        "an l_inf --noise bound), 2 bad input, 3 an inversion failed (a solver limit, or no "
        "fit within the noise was found and none was proven impossible).")
    p.add_argument("network", help=".npz with W1, b1, W2, b2, ... (or numbered from W0; latent "
                   "side first), or a torch generator saved with torch.save (.pt/.pth; "
                   "torch.nn layer classes only, see --trust-torch-file)")
    add_trust_option(p)
    p.add_argument("--input-shape", nargs=3, default=None, metavar=("C", "H", "W"),
                   type=_positive_int("--input-shape takes positive integers"),
                   help="a torch generator that starts with a convolution: its input's shape "
                        "(a DCGAN: LATENT 1 1)")
    p.add_argument("output", help=".npy with x (one output, or one per row; an image C x H x W "
                   "or a stack of them is flattened as torch does)")
    p.add_argument("--method", choices=METHODS, default="exact",
                   help="exact (default); noisy outputs: linf, l1 (Lei et al.'s LPs) or l2 "
                        "(l1 then least squares)")
    p.add_argument("--last", choices=ACTIVATIONS, default=None,
                   help="activation after the last layer (default: from the file, else relu); "
                        "tanh / sigmoid are inverted through their inverse")
    p.add_argument("--slope", type=_finite("--slope", True), default=None,
                   help="LeakyReLU negative slope")
    p.add_argument("--noise", type=_finite("--noise"), default=None,
                   help="an l_inf bound on ||x - G(z)||_inf (noisy methods)")
    p.add_argument("--noise-std", type=_finite("--noise-std"), default=None,
                   help="standard deviation of Gaussian noise on x (noisy methods); with "
                        "neither, the noise is estimated")
    p.add_argument("--tol", type=_finite("--tol", True), default=1e-9,
                   help="relative residual taken as exact")
    p.add_argument("--workers", type=_positive_int("--workers must be an integer >= 1"), default=1,
                   help="processes for a batch")
    add_progress_option(p, "for a batch, a line on stderr (outputs done) every second")
    p.add_argument("--lp", choices=("auto", "always"), default="auto",
                   help="'always': solve every layer's LP even when its rank makes it trivial")
    p.add_argument("--milp-time-limit", type=_finite("--milp-time-limit", True), default=60.0,
                   help="seconds for each joint MILP step (all its solves together, the "
                        "uniqueness MILP included; default 60)")
    p.add_argument("--stability", type=_finite("--stability", True), default=None,
                   metavar="SECONDS", help="also bound each layer's global error amplification "
                   "(inverse Lipschitz constant), SECONDS of search per layer")
    p.add_argument("--json", action="store_true", help="print z and the info as JSON")
    p.add_argument("-o", "--save", help="write z to this .npy file")
    p.set_defaults(func=_cmd_invert)
