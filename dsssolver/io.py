"""Reading layers, arrays, domains and evidence from files, with errors that name the problem.

Every error is an :class:`~dsssolver.errors.InvalidInputError` (or, for evidence JSON, an
:class:`~dsssolver.errors.EvidenceError`) whose message starts with the file name.  An ``.npy``
header is checked against the bytes the file really holds before anything is allocated, so a
64-byte file that claims a 100000 x 100000 array is refused at once.
"""
from __future__ import annotations

import json
import os
import re
import warnings
import zipfile

import numpy as np

from ._validate import as_layer
from .errors import EvidenceError, InvalidInputError

__all__ = ["load_array", "load_layer", "load_json", "load_domain", "load_network", "save_graph"]


def _check_path(path):
    if not os.path.exists(path):
        raise InvalidInputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InvalidInputError(f"{path}: is a directory, not a file")


def _header_fault(fh, nbytes):
    """Why the .npy stream ``fh`` (``nbytes`` long) cannot hold the array its header claims."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError) as exc:
        return f"not a valid .npy header ({exc})"
    if dtype.hasobject:
        return "holds Python objects, which are not read (save numbers, not objects)"
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = nbytes - fh.tell()
    if need > have:
        return (f"the header claims shape {tuple(shape)} of {dtype} ({need} bytes) but the file "
                f"holds {have} bytes of data")
    return ""


def _check_npy(path):
    with open(path, "rb") as fh:
        why = _header_fault(fh, os.fstat(fh.fileno()).st_size)
    if why:
        raise InvalidInputError(f"{path}: {why}")


def _check_npz_member(path, name):
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(name + ".npy" if name + ".npy" in zf.namelist() else name)
            with zf.open(info) as fh:
                why = _header_fault(fh, info.file_size)
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise InvalidInputError(f"{path}: corrupt array {name!r} ({exc})") from None
    if why:
        raise InvalidInputError(f"{path}: array {name!r}: {why}")


def _open(path):
    """``np.load`` with one-line errors for missing, directory, unreadable and lying files."""
    _check_path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc})") from None
    if head == b"\x93NUMPY":
        _check_npy(path)
    elif not head.startswith(b"PK"):
        # neither .npy nor a zip (.npz): np.load would try a pickle and talk about allow_pickle
        raise InvalidInputError(f"{path}: cannot read: not a .npy or .npz file")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"{path}: cannot read as .npy/.npz ({exc})") from None


def _member(data, path, name):
    """One array of an open ``.npz``, its header checked against its size first."""
    _check_npz_member(path, name)
    try:
        return data[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"{path}: corrupt array {name!r} ({exc})") from None


def load_array(path):
    """Load one array from ``.npy`` (or the single array of an ``.npz``)."""
    data = _open(path)
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            keys = list(data.keys())
            if len(keys) != 1:
                raise InvalidInputError(f"{path}: expected one array, found {keys}")
            return _member(data, path, keys[0])
    return data


def load_layer(path):
    """Load ``(W, b)`` from ``.npz`` (arrays ``W`` and optional ``b``) or ``.npy`` (W alone).

    Raises
    ------
    InvalidInputError
        If the file is missing, unreadable, lacks ``W``, or holds invalid arrays.
    """
    data = _open(path)
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if "W" not in data.files:
                hint = ("; it looks like a network file (W0, W1, ...), which dss certify-network "
                        "and dsssolver.io.load_network read" if layer_names(data.files) else "")
                raise InvalidInputError(f"{path}: no array named 'W' (found {data.files}){hint}")
            W = _member(data, path, "W")
            b = _member(data, path, "b") if "b" in data.files else None
    else:
        W, b = data, None
    try:
        return as_layer(W, b)
    except ValueError as exc:
        raise InvalidInputError(f"{path}: {exc}") from None


def load_json(path):
    """Load a JSON document, with a one-line error for missing, malformed or too deep files."""
    _check_path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except RecursionError:
        raise EvidenceError(f"{path}: JSON nested too deeply to be evidence") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read as JSON ({exc})") from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's 4300-digit limit
        raise EvidenceError(f"{path}: cannot read as JSON ({exc})") from None


def load_domain(spec, n):
    """The ``--domain`` of the command line: "nonnegative", or an ``.npz`` with arrays A and c."""
    from .verify.evidence import as_domain

    if spec == "nonnegative":
        return as_domain(spec, n)
    data = _open(spec)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InvalidInputError(f"{spec}: a domain file must be an .npz with arrays A and c")
    with data:
        if "A" not in data.files or "c" not in data.files:
            raise InvalidInputError(f"{spec}: needs arrays 'A' and 'c' (found {data.files})")
        A, c = _member(data, spec, "A"), _member(data, spec, "c")
    return as_domain((A, c), n, name=f"{spec}: domain")


def load_network(path, trust=False):
    """A network from a file: an ``.npz`` as a list of layer dicts, a ``.json`` layer graph
    (a ``networkx.DiGraph``, see :func:`dsssolver.netmodel.graph_to_json` and
    :func:`save_graph`), or a torch module.

    The ``.npz`` holds ``W0, b0, W1, b1, ...`` (``b_k`` optional, 0 by default; numbering
    from 1, as ``dss invert`` files are, is read the same way), an
    optional string array ``activations`` (one per layer: "relu", "leaky_relu",
    "linear", and "tanh" / "sigmoid" on the last layer; ReLU when absent) and an optional
    ``negative_slopes``.  A ``.pt`` /
    ``.pth`` file is a whole torch module saved with ``torch.save(net, path)``, read with
    ``torch.load(weights_only=True)`` and only torch's own ``torch.nn`` layer classes allowed,
    so no code from the file runs; ``trust=True`` unpickles it fully (modules of your own
    classes; it runs any code the file holds, so only for files you trust).

    Raises
    ------
    InvalidInputError
        Missing or unreadable file, no ``W0`` (or ``W1``), a gap in the numbering, a wrong
        ``activations`` length, or a torch file that is not a module.
    """
    if str(path).endswith((".pt", ".pth")):
        return _load_torch_module(path, trust)
    if str(path).endswith(".json"):
        from .netmodel import graph_from_json

        try:
            doc = load_json(path)
        except EvidenceError as exc:  # too deep / too long numbers: not a network file either
            raise InvalidInputError(str(exc)) from None
        return graph_from_json(doc, where=str(path))
    data = _open(path)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise InvalidInputError(f"{path}: a network file must be an .npz with arrays W0, b0, W1, ...")
    with data:
        files = set(data.files)
        names = layer_names(files)
        count = len(names)
        if count == 0:
            raise InvalidInputError(f"{path}: no array named 'W0' or 'W1' (found {sorted(files)}); "
                                    "a network file holds W0, b0, W1, b1, ...")
        known = {w for w, _ in names} | {b for _, b in names} | {"activations", "negative_slopes"}
        extra = sorted(files - known)
        if extra:
            raise InvalidInputError(f"{path}: unexpected arrays {extra} (layers must be numbered "
                                    f"{names[0][0]}..{names[-1][0]} without gaps)")
        acts = _member(data, path, "activations").tolist() if "activations" in files else \
            ["relu"] * count
        slopes = _member(data, path, "negative_slopes").tolist() if "negative_slopes" in files else \
            [0.01] * count
        if not isinstance(acts, list) or len(acts) != count or not all(isinstance(a, str) for a in acts):
            raise InvalidInputError(f"{path}: 'activations' must hold {count} string(s), one per layer")
        if not isinstance(slopes, list) or len(slopes) != count:
            raise InvalidInputError(f"{path}: 'negative_slopes' must hold {count} number(s), one per layer")
        return [{"W": _member(data, path, w), "b": _member(data, path, b) if b in files else None,
                 "activation": acts[k], "negative_slope": slopes[k]}
                for k, (w, b) in enumerate(names)]


def layer_names(files):
    """The ``(W, b)`` array names of a network file's layers, in order: ``W0, W1, ...`` or,
    when there is no ``W0``, ``W1, W2, ...`` (both numberings are in use: 0 for layer
    lists, 1 for Lei et al.'s generators), up to the first gap; empty if neither starts.

    Examples
    --------
    >>> layer_names({"W1", "b1", "W2"})
    [('W1', 'b1'), ('W2', 'b2')]
    >>> layer_names({"W0", "W1", "W3"})
    [('W0', 'b0'), ('W1', 'b1')]
    """
    k = 0 if "W0" in files else 1
    names = []
    while f"W{k}" in files:
        names.append((f"W{k}", f"b{k}"))
        k += 1
    return names


def _torch_layer_classes(torch):
    """Every ``nn.Module`` class torch itself defines in ``torch.nn`` (the layers a saved
    network is made of): the only classes a torch file may name unless it is trusted."""
    return [c for c in vars(torch.nn).values()
            if isinstance(c, type) and issubclass(c, torch.nn.Module)]


def _load_torch_module(path, trust=False):
    """A whole torch module from a ``.pt`` / ``.pth`` file, read without running its code.

    By default the file is read with ``torch.load(weights_only=True)`` and only torch's
    own ``torch.nn`` layer classes allowed: a pickle that names anything else (a function
    to call, a class of its own) is refused before anything in it runs.  ``trust=True``
    unpickles the file fully (``weights_only=False``: it may run any code the file holds),
    for modules of your own classes in files you trust.
    """
    _check_path(path)
    try:
        import torch
    except ImportError:
        raise InvalidInputError(f"{path}: reading a torch file needs torch (pip install torch), or "
                                "save the network as an .npz with W0, b0, W1, b1, ...") from None
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols: one line only
            warnings.simplefilter("ignore")
            if trust:
                obj = torch.load(path, map_location="cpu", weights_only=False)
            else:
                with torch.serialization.safe_globals(_torch_layer_classes(torch)):
                    obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (unpickling raises anything; one line for the user)
        text = str(exc)
        if not trust and "weights only load failed" in text.lower():
            found = re.search(r"GLOBAL ([\w.]+)", text)
            what = (f"names {found[1]}, which is not a torch.nn layer class" if found else
                    "is not a torch file that can be read without running code from it")
            raise InvalidInputError(
                f"{path}: {what}; dss reads torch files with torch.load(weights_only=True) and "
                "only torch.nn layer classes allowed (--trust-torch-file / trust=True unpickles "
                "it fully, running any code it holds: only for files you trust)") from None
        raise InvalidInputError(f"{path}: cannot read as a torch file ({type(exc).__name__}: "
                                f"{text.splitlines()[0] if text else ''})") from None
    if not isinstance(obj, torch.nn.Module):
        name = type(obj).__name__
        raise InvalidInputError(f"{path}: holds {'an' if name[:1] in 'AEIOU' else 'a'} {name}, not a "
                                "torch module (a state_dict has no layer order: save the "
                                "nn.Sequential itself)")
    return obj.eval()


def save_graph(G, path):
    """Write a layer graph (a ``networkx.DiGraph`` as :func:`dsssolver.netmodel.as_graph`
    reads it, with string node ids) to ``path`` as JSON, exactly; :func:`load_network` and
    ``dss certify-network`` / ``dss check`` read it back.

    Examples
    --------
    >>> import networkx as nx, numpy as np, os, tempfile
    >>> G = nx.DiGraph()
    >>> G.add_node("x", dim=2)
    >>> G.add_node("f", layer=np.vstack([np.eye(2), -np.eye(2)]))
    >>> G.add_edge("x", "f")
    >>> path = os.path.join(tempfile.mkdtemp(), "net.json")
    >>> save_graph(G, path)
    >>> sorted(load_network(path).nodes)
    ['f', 'x']
    """
    from .netmodel import graph_to_json

    doc = graph_to_json(G)
    nodes = doc.pop("nodes")
    head = json.dumps(doc)[:-1]  # one node a line: readable, and diffs stay small
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + ', "nodes": [\n  ' + ",\n  ".join(json.dumps(v) for v in nodes) + "\n]}\n")
