"""Networks as exact layer lists or layer graphs: parsing lists, torch modules and networkx graphs.

A network is a chain of :class:`NetLayer` (``x -> act(W x + b)``), or a
directed acyclic graph whose nodes hold layers and whose nodes with several
predecessors read the concatenation of their predecessors' outputs.  Nothing
here decides anything; both the search (:mod:`dsssolver.networks.layerwise`)
and the checker (:mod:`dsssolver.verify.network`) read networks through this
module, so both see the same exact numbers.

Values are kept exact: integer and :class:`fractions.Fraction` entries stay as
they are, a float is the dyadic rational it stores.  A torch ``BatchNorm1d`` or
``BatchNorm2d`` in eval mode, ``y = (x - mean) / sqrt(var + eps) * gamma + beta``
(per coordinate after a Linear, per channel after a convolution), is folded into
the neighbouring affine map in exact rationals: every parameter is the rational
its float stores (``eps`` the float64 ``mod.eps``), and the only rounding is the
square root ``r = sqrt(var + eps)``, exact when ``var + eps`` is the square of a
rational and otherwise the float64 square root (relative error below 2^-52).
So the verdict is about the network whose BatchNorm divides by that ``r``.
Folding exactly keeps what injectivity depends on: a BatchNorm before a ReLU
scales rows by positive (or negative) numbers, so exactly antiparallel rows stay
exactly antiparallel and their proof still applies, which a float64 fold
(rounding every product) would break.  A convolution with a BatchNorm folded into it is
decided as the dense layer it has become (its kernel no longer describes it).

Examples
--------
>>> import numpy as np
>>> net = as_layers([np.eye(2), (np.ones((3, 2)), [0, 1, 2], "linear")])
>>> [(l.shape, l.activation) for l in net]
[((2, 2), 'relu'), ((3, 2), 'linear')]
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ._batchnorm import batchnorm_affine
from ._batchnorm import exact as _exact
from ._torchread import check_composition, layer_modules
from ._validate import as_matrix, as_vector
from .errors import InvalidInputError

__all__ = ["NetLayer", "as_layers", "as_graph", "is_graph", "GraphNet", "ACTIVATIONS", "GRAPH_FORMAT",
           "graph_to_json", "graph_from_json"]

ACTIVATIONS = ("relu", "leaky_relu", "linear")
#: allowed after the last layer of a chain only: strictly increasing, so they change no verdict
OUTPUT_SQUASHES = ("tanh", "sigmoid")
DENSE_CONV_ENTRIES = 1 << 22  # a convolution read as a dense matrix: 32 MB of float64 at most


@dataclass
class NetLayer:
    """One layer ``x -> act(W x + b)``; ``negative_slope`` is used by "leaky_relu"."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "relu"
    negative_slope: object = 0
    kind: str = "dense"  # "conv" when it came from a convolution (dsssolver.conv's hook)
    source: object = None  # e.g. the conv layer object, for a structured certifier
    #: a torch Tanh / Sigmoid read after the last layer: strictly increasing, so the
    #: network is injective iff it is without it (the layer is certified as "linear")
    output_squash: str | None = None

    @property
    def shape(self):
        return self.W.shape

    @property
    def zero_bias(self):
        return not any(v != 0 for v in self.b.tolist())


def _layer(W, b, act, slope, where, kind="dense", source=None, last=False):
    try:
        W = as_matrix(W, f"{where}: W")
        b = as_vector(b, W.shape[0], f"{where}: b")
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(str(exc)) from None
    if last and act in OUTPUT_SQUASHES:  # strictly increasing: decided as linear
        return NetLayer(W, b, "linear", 0, kind, source, output_squash=act)
    if act not in ACTIVATIONS:
        more = (f" ({' / '.join(OUTPUT_SQUASHES)} only after the last layer, or on an output "
                "node of a graph)"
                if act in OUTPUT_SQUASHES else "")
        raise InvalidInputError(f"{where}: activation must be one of {ACTIVATIONS}, "
                                f"got {act!r}{more}")
    if act == "leaky_relu":
        s = Fraction(slope) if not isinstance(slope, float) else Fraction(float(slope))
        if s < 0:
            raise InvalidInputError(f"{where}: negative_slope must be >= 0, got {slope!r} "
                                    "(a negative slope folds the line: not a bijection)")
        if s == 0:
            act, slope = "relu", 0
    return NetLayer(W, b, act, slope if act == "leaky_relu" else 0, kind, source)


def as_layers(net, *, last_activation=None, negative_slope=0.01):
    """A chain network as a list of :class:`NetLayer`.

    Parameters
    ----------
    net : list or torch.nn.Sequential
        Items are ``W``, ``(W, b)``, ``(W, b, activation)``, dicts with keys
        ``W``, ``b``, ``activation``, ``negative_slope``, or :class:`NetLayer`.
        A plain item is followed by ReLU.
    last_activation : {"relu", "leaky_relu", "linear", "tanh", "sigmoid"}, optional
        Overrides the last layer's activation (e.g. "linear" for a linear output).
        "tanh" / "sigmoid" (last layer only) are strictly increasing: the layer is
        decided as linear and remembers the name in ``output_squash``.
    negative_slope : float
        Slope used when ``last_activation="leaky_relu"``.

    Raises
    ------
    InvalidInputError
        Naming the layer that is malformed or whose shape does not fit.
    """
    if _is_torch(net):
        layers = _from_torch(net)
    elif isinstance(net, (str, bytes, os.PathLike)):  # a string is iterable: say what went wrong
        raise InvalidInputError(f"net must be layers, not the file name {net!r}: read the file "
                                "with dsssolver.io.load_network(path)")
    else:
        try:
            items = list(net)
        except TypeError:
            raise InvalidInputError("net must be a list of layers, a torch nn.Sequential or a "
                                    "networkx.DiGraph") from None
        if not items:
            raise InvalidInputError("net is empty: give at least one layer")
        layers = [_parse_item(item, f"layer {k}", k == len(items))
                  for k, item in enumerate(items, start=1)]
    if last_activation is not None:
        last = layers[-1]
        layers[-1] = _layer(last.W, last.b, last_activation, negative_slope,
                            f"layer {len(layers)}", last.kind, last.source, last=True)
    for k in range(1, len(layers)):
        if layers[k].shape[1] != layers[k - 1].shape[0]:
            raise InvalidInputError(f"layer {k + 1}: W has {layers[k].shape[1]} columns but layer {k} "
                                    f"has {layers[k - 1].shape[0]} outputs")
    return layers


def _parse_item(item, where, last=False):
    if isinstance(item, NetLayer):
        return item
    if isinstance(item, dict):
        if "W" not in item:
            raise InvalidInputError(f"{where}: a dict layer needs the key 'W'")
        return _layer(item["W"], item.get("b"), item.get("activation", "relu"),
                      item.get("negative_slope", 0.01), where, last=last)
    if isinstance(item, tuple) and len(item) in (2, 3):
        act = item[2] if len(item) == 3 else "relu"
        return _layer(item[0], item[1], act, 0.01, where, last=last)
    if hasattr(item, "weight") and hasattr(item.weight, "detach"):  # a torch nn.Linear
        return _from_torch([item])[0]
    return _layer(item, None, "relu", 0, where)


# ------------------------------------------------------------------ torch
def _is_torch(net):
    return hasattr(net, "children") and hasattr(net, "forward") and hasattr(net, "training")


def _np(t):
    return t.detach().cpu().double().numpy()  # float32 -> float64 is exact


def _from_torch(module, input_shape=None):
    """Linear / ReLU / LeakyReLU / Identity / Flatten / BatchNorm1d-2d (eval) / Conv1d-2d and
    ConvTranspose2d (dense, through :mod:`dsssolver.conv`) modules, and a Tanh / Sigmoid
    after the last of them (strictly increasing: it changes no verdict)."""
    mods = layer_modules(module)
    check_composition(module, mods, input_shape, "certify_network")
    layers = []  # [W, b, activation, slope, kind, source]
    pending = None  # (scale, shift) of a BatchNorm after a ReLU, applied to the next layer's input
    shape = tuple(input_shape) if input_shape is not None else None
    squash = None  # (module index, name) of a Tanh / Sigmoid: nothing but no-ops may follow
    for idx, mod in enumerate(mods):
        name, where = type(mod).__name__, f"module {idx} ({type(mod).__name__})"
        if squash is not None and name not in ("Identity", "Flatten") \
                and not name.startswith("Dropout"):
            raise InvalidInputError(f"module {squash[0]} ({squash[1]}): a Tanh / Sigmoid is "
                                    "read only after the last layer")
        if name in ("Tanh", "Sigmoid"):
            if not layers or layers[-1][2] != "linear" or pending is not None:
                raise InvalidInputError(f"{where}: a Tanh / Sigmoid must follow a Linear/Conv layer")
            squash = (idx, name)
            continue
        if name == "Linear":
            W = _np(mod.weight)
            b = np.zeros(W.shape[0]) if mod.bias is None else _np(mod.bias)
            layers.append(_with_pending([W, b, "linear", 0, "dense", None], pending))
            pending, shape = None, None
        elif name in ("Conv1d", "Conv2d", "ConvTranspose2d"):
            W, b, cl = _conv_hook(mod, shape, where)
            layers.append(_with_pending([W, b, "linear", 0, "conv", cl], pending))
            pending, shape = None, cl.output_shape
        elif name in ("ReLU", "LeakyReLU"):
            if not layers or layers[-1][2] != "linear" or pending is not None:
                raise InvalidInputError(f"{where}: an activation must follow a Linear/Conv layer")
            layers[-1][2] = "relu" if name == "ReLU" else "leaky_relu"
            layers[-1][3] = Fraction(float(mod.negative_slope)) if name == "LeakyReLU" else 0
        elif name in ("BatchNorm1d", "BatchNorm2d"):
            if layers:
                rows = layers[-1][0].shape[0]
            else:  # before any layer: the network's input
                rows = int(np.prod(shape)) if shape is not None else mod.num_features
            scale, shift = batchnorm_affine(mod, rows, shape, where)
            if layers and layers[-1][2] == "linear" and pending is None:
                L = layers[-1]  # fold into the affine map just before, exactly
                L[0], L[1] = scale[:, None] * _exact(L[0]), scale * _exact(L[1]) + shift
                _now_dense(L)
            elif pending is None:
                pending = (scale, shift)
            else:
                pending = (scale * pending[0], scale * pending[1] + shift)
        elif name == "Unflatten":
            shape = tuple(int(d) for d in mod.unflattened_size)
        elif name.startswith("Dropout") and mod.training:
            raise InvalidInputError(f"{where}: Dropout must be in eval mode (call net.eval())")
        elif name in ("Identity", "Flatten") or name.startswith("Dropout"):
            continue
        else:
            raise InvalidInputError(f"{where}: unsupported module for certify_network")
    if pending is not None:  # a trailing BatchNorm after an activation: a per-coordinate affine layer
        layers.append([np.diag(pending[0]), pending[1], "linear", 0, "dense", None])
    if not layers:
        raise InvalidInputError("net has no Linear or Conv layers")
    out = [_layer(W, b, act, slope, f"layer {k}", kind, src)
           for k, (W, b, act, slope, kind, src) in enumerate(layers, start=1)]
    if squash is not None:
        out[-1].output_squash = squash[1]
    return out


def _with_pending(L, pending):
    if pending is not None:  # W (s x + t) + b = (W diag s) x + (W t + b)
        scale, shift = pending
        if len(scale) != L[0].shape[1]:
            raise InvalidInputError(f"a BatchNorm with {len(scale)} features before a layer with "
                                    f"{L[0].shape[1]} inputs")
        W = _exact(L[0])
        L[1] = W.dot(shift) + _exact(L[1])
        L[0] = W * scale[None, :]
        _now_dense(L)
    return L


def _now_dense(L):
    """A convolution with a BatchNorm folded into it is no longer described by its kernel (the
    rational scales are not floats): it is decided as the dense layer it has become."""
    if L[4] == "conv":
        L[4], L[5] = "dense", None


def _conv_hook(mod, shape, where):
    """Convolutions come from :mod:`dsssolver.conv` (their structured certifier hooks in there)."""
    try:
        from .conv import as_conv
    except ImportError:
        raise InvalidInputError(f"{where}: convolution layers need dsssolver.conv, which is not "
                                "available in this version") from None
    if shape is None:
        raise InvalidInputError(f"{where}: a convolution needs its input shape (an nn.Unflatten "
                                "before it)")
    try:
        cl = as_conv(mod, tuple(shape))  # stride 1: ConvLayer; strided or transposed: StridedConv
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    m, n = int(np.prod(cl.output_shape)), int(np.prod(cl.input_shape))
    if m * n > DENSE_CONV_ENTRIES:
        raise InvalidInputError(
            f"{where}: this convolution is a {m} x {n} matrix, too large to read densely here "
            f"(over {DENSE_CONV_ENTRIES} entries); certify [C; -s^2 C] generators layer by layer "
            "with dss.certify_network_pairs, a stride-1 layer with dss.certify_conv")
    W, b = cl.matrix()
    return W.toarray(), np.asarray(b, dtype=np.float64), cl


# ------------------------------------------------------------------ graphs
def is_graph(net):
    """True for a ``networkx.DiGraph`` network."""
    return hasattr(net, "succ") and hasattr(net, "pred") and hasattr(net, "nodes")


@dataclass
class GraphNet:
    """A parsed layer graph (see :func:`as_graph`)."""

    order: list  # nodes in topological order
    layers: dict  # node -> NetLayer
    preds: dict  # node -> predecessors, in concatenation order
    source: object
    sinks: list
    dims: dict  # node -> output dimension (the source's is the input dimension n)

    @property
    def n(self):
        return self.dims[self.source]


def as_graph(G):
    """Read a layer graph as a :class:`GraphNet`.

    The graph must be acyclic with exactly one node without predecessors (the
    input).  Every other node either holds a layer in its ``"layer"`` attribute
    (anything :func:`as_layers` reads as one layer) and reads the
    concatenation of its predecessors' outputs, or holds no layer and just
    concatenates them.  Predecessors are concatenated in the order of the edge
    attribute ``"index"`` (default: the order the edges were added).  The
    network's output is the concatenation of the nodes without successors, in
    topological order; such an output node may end in a tanh or sigmoid (strictly
    increasing: decided as linear, the name kept in ``output_squash``).  The input
    dimension is the input node's ``"dim"`` attribute, or the column count of a layer
    that reads the input alone.

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> G = nx.DiGraph()
    >>> G.add_node("x")
    >>> G.add_node("f", layer=np.vstack([np.eye(2), -np.eye(2)]))
    >>> G.add_node("g", layer=np.ones((1, 2)))
    >>> G.add_edges_from([("x", "f"), ("x", "g")])
    >>> net = as_graph(G)
    >>> net.n, net.sinks, net.dims["f"]
    (2, ['f', 'g'], 4)
    """
    import networkx as nx

    if not nx.is_directed_acyclic_graph(G):
        raise InvalidInputError("net: the layer graph must be a directed acyclic graph")
    sources = [v for v in G.nodes if G.in_degree(v) == 0]
    if len(sources) != 1:
        raise InvalidInputError(f"net: the layer graph needs exactly one input node, found {len(sources)}")
    src = sources[0]
    if G.nodes[src].get("layer") is not None:
        raise InvalidInputError("net: the input node must not hold a layer")
    order = list(nx.topological_sort(G))
    preds, layers = {}, {}
    for v in order:
        ps = list(G.predecessors(v))
        ps.sort(key=lambda p: G.edges[p, v].get("index", 0))
        preds[v] = ps
        if v != src and G.nodes[v].get("layer") is not None:
            # a tanh / sigmoid may end an output node (strictly increasing: decided as linear)
            layers[v] = _parse_item(G.nodes[v]["layer"], f"node {v!r}", last=G.out_degree(v) == 0)
    n = G.nodes[src].get("dim")
    if n is None:
        n = next((layers[v].shape[1] for v in order if preds.get(v) == [src] and v in layers), None)
    if n is None:
        raise InvalidInputError("net: give the input node a 'dim' attribute (no layer reads it alone)")
    dims = {src: int(n)}
    for v in order:
        if v == src:
            continue
        d_in = sum(dims[p] for p in preds[v])
        if v in layers:
            if layers[v].shape[1] != d_in:
                raise InvalidInputError(f"node {v!r}: W has {layers[v].shape[1]} columns but its "
                                        f"inputs have {d_in} coordinates")
            dims[v] = layers[v].shape[0]
        else:
            dims[v] = d_in
    sinks = [v for v in order if G.out_degree(v) == 0]
    return GraphNet(order, layers, preds, src, sinks, dims)


# ------------------------------------------------------------ graph files
GRAPH_FORMAT = "dsssolver-network-graph"
_MAX_DIGITS = 4000  # per integer of a "p/q" weight: far beyond any float or exact fold
_RATIONAL_TEXT = re.compile(rf"([+-]?)([0-9]{{1,{_MAX_DIGITS}}})(?:/([0-9]{{1,{_MAX_DIGITS}}}))?")
_NODE_KEYS = {"id", "inputs", "W", "b", "activation", "negative_slope"}


def _json_number(v):
    """A JSON value equal to ``v``: a float or int as itself (floats round-trip exactly through
    ``repr``), any other rational as the string ``"p/q"``."""
    if isinstance(v, (bool, np.bool_)):
        raise InvalidInputError(f"a weight must be a number, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    q = Fraction(v)
    return int(q) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _from_json_number(v, where):
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise InvalidInputError(f"{where}: weights must be numbers or strings 'p/q', got {v!r}")
    if isinstance(v, str):
        # "p/q" or "p" in decimal digits, bounded: Fraction() would also read "1e999999999"
        # and build that integer (a hostile file would hang the reader)
        mt = _RATIONAL_TEXT.fullmatch(v)
        if mt is None or int(mt[3] or 1) == 0:
            shown = v if len(v) <= 40 else v[:37] + "..."
            raise InvalidInputError(f"{where}: {shown!r} is not a rational number \"p/q\" of at "
                                    f"most {_MAX_DIGITS} digits each")
        return Fraction(int(mt[1] + mt[2]), int(mt[3] or 1))
    if isinstance(v, float) and not math.isfinite(v):
        raise InvalidInputError(f"{where}: weights must be finite, got {v!r}")
    return v


def graph_to_json(G) -> dict:
    """A layer graph (as :func:`as_graph` reads it) as a JSON-ready dict, exact.

    The format: ``{"format": "dsssolver-network-graph", "version": 1, "input": ID,
    "dim": n, "nodes": [...]}``, one node per non-input vertex in topological order:
    ``{"id": ID, "inputs": [IDs in concatenation order]}`` plus, for a layer,
    ``"W"`` (rows of numbers), ``"b"``, ``"activation"`` and ``"negative_slope"``.
    Node ids are strings.  Numbers are JSON numbers, or strings ``"p/q"`` for
    rationals that are not floats; :func:`graph_from_json` reads it back to an
    equal network.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("x", dim=1)
    >>> G.add_node("f", layer=np.array([[1.0], [-0.5]]))
    >>> G.add_edge("x", "f")
    >>> doc = graph_to_json(G)
    >>> doc["nodes"][0]["W"], doc["nodes"][0]["inputs"]
    ([[1.0], [-0.5]], ['x'])
    >>> graph_to_json(graph_from_json(doc)) == doc
    True
    """
    net = as_graph(G)
    for v in net.order:
        if not isinstance(v, str):
            raise InvalidInputError(f"node {v!r}: graph files need string node ids")
    nodes = []
    for v in net.order:
        if v == net.source:
            continue
        node = {"id": v, "inputs": list(net.preds[v])}
        if v in net.layers:
            L = net.layers[v]
            node["W"] = [[_json_number(x) for x in row] for row in np.asarray(L.W).tolist()]
            node["b"] = [_json_number(x) for x in np.asarray(L.b).tolist()]
            node["activation"] = L.output_squash or L.activation
            node["negative_slope"] = _json_number(L.negative_slope or 0)
        nodes.append(node)
    return {"format": GRAPH_FORMAT, "version": 1, "input": net.source, "dim": net.n, "nodes": nodes}


def graph_from_json(doc, where="graph"):
    """A ``networkx.DiGraph`` from :func:`graph_to_json`'s format; errors name ``where``.

    Raises
    ------
    InvalidInputError
        Anything that is not that format: a wrong ``format``/``version``, a node that is
        not an object with a new string ``id`` and a non-empty ``inputs`` list of known
        ids, unknown keys, weights that are not finite numbers (or ``"p/q"``), ragged
        rows, a wrong activation, a cycle, dimensions that do not fit.
    """
    import networkx as nx

    if not isinstance(doc, dict) or doc.get("format") != GRAPH_FORMAT:
        raise InvalidInputError(f"{where}: not a network graph (format must be {GRAPH_FORMAT!r})")
    if doc.get("version") != 1:
        raise InvalidInputError(f"{where}: unsupported version {doc.get('version')!r} (this is 1)")
    extra = sorted(set(doc) - {"format", "version", "input", "dim", "nodes"})
    if extra:
        raise InvalidInputError(f"{where}: unknown keys {extra}")
    src, dim, nodes = doc.get("input"), doc.get("dim"), doc.get("nodes")
    if not isinstance(src, str):
        raise InvalidInputError(f"{where}: 'input' must be the input node's id (a string)")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
        raise InvalidInputError(f"{where}: 'dim' must be a positive integer, got {dim!r}")
    if not isinstance(nodes, list) or not nodes:
        raise InvalidInputError(f"{where}: 'nodes' must be a non-empty list")
    G = nx.DiGraph()
    G.add_node(src, **({} if dim is None else {"dim": dim}))
    read = {u for node in nodes if isinstance(node, dict) and isinstance(node.get("inputs"), list)
            for u in node["inputs"] if isinstance(u, str)}  # ids some node reads: not outputs
    for k, node in enumerate(nodes):
        at = f"{where}: nodes[{k}]"
        if not isinstance(node, dict):
            raise InvalidInputError(f"{at} must be an object")
        bad = sorted(set(node) - _NODE_KEYS)
        if bad:
            raise InvalidInputError(f"{at}: unknown keys {bad}")
        v = node.get("id")
        if not isinstance(v, str) or v in G:
            raise InvalidInputError(f"{at}: 'id' must be a string not used before, got {v!r}")
        attrs = {}
        if "W" in node:
            W, b = node["W"], node.get("b")
            if not isinstance(W, list) or not all(isinstance(r, list) for r in W) \
                    or len({len(r) for r in W}) > 1:
                raise InvalidInputError(f"{at} ({v!r}): 'W' must be a list of equal-length rows")
            if b is not None and not isinstance(b, list):
                raise InvalidInputError(f"{at} ({v!r}): 'b' must be a list")
            Wv = np.array([[_from_json_number(x, f"{at} ({v!r}) W") for x in r] for r in W],
                          dtype=object)
            bv = None if b is None else np.array([_from_json_number(x, f"{at} ({v!r}) b")
                                                  for x in b], dtype=object)
            slope = _from_json_number(node.get("negative_slope", 0.01), f"{at} ({v!r})")
            try:
                attrs["layer"] = _layer(_tidy(Wv), None if bv is None else _tidy(bv),
                                        node.get("activation", "relu"), slope, f"node {v!r}",
                                        last=v not in read)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{where}: {exc}") from None
        elif set(node) - {"id", "inputs"}:
            raise InvalidInputError(f"{at} ({v!r}): 'b', 'activation' and 'negative_slope' "
                                    "need a 'W'")
        G.add_node(v, **attrs)
    for k, node in enumerate(nodes):
        ins = node.get("inputs")
        if not isinstance(ins, list) or not ins or not all(isinstance(u, str) and u in G for u in ins) \
                or len(set(ins)) != len(ins):
            raise InvalidInputError(f"{where}: nodes[{k}] ({node['id']!r}): 'inputs' must list "
                                    "distinct known node ids")
        for idx, u in enumerate(ins):
            G.add_edge(u, node["id"], index=idx)
    try:
        as_graph(G)  # acyclic, one input, dimensions that fit
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    return G


def _tidy(A):
    """Object arrays of JSON numbers as float arrays when every entry is a float or int (the
    usual case, kept fast), else exact Fractions."""
    if all(isinstance(x, (int, float)) for x in A.flat) and \
            all(not isinstance(x, int) or abs(x) < 2 ** 53 for x in A.flat):
        return A.astype(np.float64)
    return np.array([Fraction(x) for x in A.flat], dtype=object).reshape(A.shape)
