"""Exact re-checking of network evidence: per-layer evidence plus the composition argument.

A network ``N = L_k o ... o L_1`` (``L_l(x) = act(W_l x + b_l)``) is injective on
its input domain ``D`` when every layer is injective on a set that contains the
layer's inputs (Puthawala et al. 2022, Corollary 1): layer 1 on ``D`` (or all
of R^n), a layer after a ReLU on ``x >= 0`` (or all of R^d), a layer after a
LeakyReLU or linear layer on all of R^d.  In a layer graph, a node is
injective (as a function of the network input) when its layer is injective
on its input set and at least one of its predecessors is: ``x -> [f(x), g(x)]``
is injective as soon as ``f`` is.  The output (the concatenation of the
sinks) is injective when one sink is.

Evidence accepted here (JSON, ``"format": "dsssolver-network-evidence"``, ``"version": 1``;
a layer entry's own ``"shape"`` and ``"status"``, when given, must agree with its layer and
its evidence):

* ``"argument": "witness"`` -- ``"witness": [z1, z2]``, network inputs in ``D``
  with ``z1 != z2`` and ``N(z1) == N(z2)``, evaluated in exact rationals;
* ``"argument": "layerwise"`` -- ``"layers"``: one entry per layer (per node of a
  graph) with its evidence; injective evidence must be valid for the layer's
  input set as above;
* ``"argument": "end_to_end"`` -- the layers after ``"prefix"`` carry layerwise
  proofs, and ``"end_to_end"`` holds a certificate that the first ``prefix``
  layers are injective on the (bounded) input domain, checked by
  :func:`dsssolver.verify.end_to_end.check_end_to_end`.  Then ``N`` is injective
  there: a collision of ``N`` is a collision of the prefix, since the suffix is
  injective on the prefix's image.

Layer evidence: a ReLU layer carries :func:`dsssolver.certify` evidence
(checked by :func:`dsssolver.verify.check`; a proof on all of R^n is valid on
any subset, a proof recorded for a domain is checked for that domain).  A
LeakyReLU (slope > 0) or linear layer is injective iff ``W`` has full column
rank, because the activation is a bijection of R: its evidence is
``{"kind": "full_column_rank", "minor": [rows]}``, checked by an exact
determinant.

Nothing here uses an LP solver or the search's algebra.

Examples
--------
>>> import numpy as np
>>> net = [np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]), (np.eye(4), None, "linear")]
>>> doc = {"format": "dsssolver-network-evidence", "version": 1, "status": "not_injective",
...        "argument": "witness", "witness": [["1", "0"], ["2", "0"]]}
>>> res = check_network(doc, net)
>>> bool(res), res.message
(False, 'the network outputs differ at coordinate 0: 1 != 2')
"""
from __future__ import annotations

import time
import warnings
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import CheckTimeout, EvidenceError
from .._validate import as_time_limit
from ..netmodel import as_graph, as_layers, is_graph
from ._arith import parse_rational
from .check import CheckResult, check
from .pairs import _nonsingular, primitive_rows

__all__ = ["check_network", "check_layer_evidence", "forward_exact", "apply_exact", "NETWORK_FORMAT",
           "domain_to_json", "domain_from_json", "in_domain"]

NETWORK_FORMAT = "dsssolver-network-evidence"
NETWORK_VERSION = 1


# ------------------------------------------------------------------ domains
def domain_to_json(domain):
    """``None`` | ``"nonnegative"`` | ``(A, c)`` as the JSON of the evidence format."""
    if domain is None:
        return None
    if isinstance(domain, str):
        return {"name": domain}
    A, c = domain
    return {"name": "polyhedron", "A": [[_fs(v) for v in row] for row in A], "c": [_fs(v) for v in c]}


def domain_from_json(doc):
    """The inverse of :func:`domain_to_json`; exact ``(A, c)`` as lists of Fraction."""
    if doc is None:
        return None
    if not isinstance(doc, dict) or doc.get("name") not in ("nonnegative", "polyhedron"):
        raise EvidenceError(f"a domain must be null, nonnegative or a polyhedron, got {doc!r}")
    if doc["name"] == "nonnegative":
        return "nonnegative"
    try:
        A = [[_json_q(v) for v in row] for row in doc["A"]]
        c = [_json_q(v) for v in doc["c"]]
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        raise EvidenceError("a polyhedron domain needs lists 'A' and 'c' of rationals") from None
    return A, c


def exact_domain(domain):
    """A user domain with exact entries: None, "nonnegative" or ``(A, c)`` lists of Fraction."""
    if domain is None or isinstance(domain, str):
        return domain
    A, c = domain
    return [[_fr(v) for v in row] for row in np.asarray(A, dtype=object).tolist()], \
        [_fr(v) for v in np.asarray(c, dtype=object).ravel().tolist()]


def in_domain(x, domain):
    """Whether the exact point ``x`` lies in the domain."""
    if domain is None:
        return True
    if domain == "nonnegative":
        return all(v >= 0 for v in x)
    A, c = exact_domain(domain)
    return all(sum((a * v for a, v in zip(row, x)), Fraction(0)) <= ci for row, ci in zip(A, c))


def same_domain(a, b):
    ea, eb = exact_domain(a), exact_domain(b)
    return ea == eb


# ------------------------------------------------------------------ exact evaluation
def apply_exact(layer, x):
    """``act(W x + b)`` of a :class:`~dsssolver.netmodel.NetLayer`, in exact rationals."""
    out = []
    slope = Fraction(layer.negative_slope) if layer.activation == "leaky_relu" else None
    for row, bi in zip(layer.W.tolist(), layer.b.tolist()):
        v = _fr(bi) + sum((_fr(w) * xi for w, xi in zip(row, x) if w), Fraction(0))
        if v < 0 and layer.activation != "linear":
            v = v * slope if slope is not None else Fraction(0)
        out.append(v)
    return out


def forward_exact(net, z):
    """The output of a network (chain or graph, any form :func:`check_network` reads) at ``z``.

    Examples
    --------
    >>> forward_exact([np.array([[1, -1], [1, 1]])], [1, 2])
    [Fraction(0, 1), Fraction(3, 1)]
    """
    z = [_fr(v) for v in z]
    if is_graph(net):
        g = as_graph(net)
        val = {g.source: z}
        for v in g.order[1:]:
            x = [t for p in g.preds[v] for t in val[p]]
            val[v] = apply_exact(g.layers[v], x) if v in g.layers else x
        return [t for s in g.sinks for t in val[s]]
    x = z
    for layer in net if _is_parsed(net) else as_layers(net):
        x = apply_exact(layer, x)
    return x


def _is_parsed(net):
    return isinstance(net, list) and net and all(hasattr(L, "activation") and hasattr(L, "W") for L in net)


# ------------------------------------------------------------------ layer evidence
def check_layer_evidence(doc, layer, domain, *, deadline=None, workers=1):
    """Check one layer's evidence for the layer's input set ``domain``; returns ``(ok, message)``.

    Only "injective" evidence can be valid here (witnesses of single layers are
    informational in network evidence).  ``deadline`` (a ``time.monotonic()`` value) bounds
    the proof check (:class:`~dsssolver.errors.CheckTimeout` past it); ``workers`` as for
    :func:`~dsssolver.verify.check`.
    """
    if not isinstance(doc, dict) or doc.get("status") != "injective":
        return False, "the layer has no proof of injectivity"
    if layer.activation != "relu":
        return _check_rank(doc, layer)
    ev_dom = doc.get("domain")
    if ev_dom is None:  # a proof on all of R^n holds on every subset
        ok, msg = check(doc, layer.W, layer.b, time_limit=_left(deadline), workers=workers)
        return ok, msg  # a CheckResult unpacks to (ok, message)
    try:
        claimed = domain_from_json(ev_dom)
    except EvidenceError as exc:
        return False, str(exc)
    if not same_domain(claimed, domain):
        return False, "the layer's proof is for another domain than the layer's inputs"
    try:
        return tuple(check(doc, layer.W, layer.b, domain=domain, time_limit=_left(deadline),
                           workers=workers))
    except TypeError:
        return False, "this checker cannot check proofs on restricted domains"


def _check_rank(doc, layer):
    """LeakyReLU (slope > 0) and linear layers: injective iff W has full column rank."""
    m, n = layer.W.shape
    minor = doc.get("minor")
    if doc.get("kind") != "full_column_rank" or not isinstance(minor, list) \
            or sorted(set(minor)) != sorted(minor) or len(minor) != n \
            or not all(isinstance(i, int) and 0 <= i < m for i in minor):
        return False, f"a {layer.activation} layer needs a full-column-rank minor of {n} distinct rows"
    P, _ = primitive_rows(layer.W, minor)
    if not _nonsingular(np.array(P)):
        return False, "the minor is singular"
    return True, "W has full column rank and the activation is a bijection"


# ------------------------------------------------------------------ the network
def check_network(evidence: Any, net: Any, *, domain: Any = None, time_limit: float | None = None,
                  workers: int | None = 1, explain: bool | None = None) -> CheckResult:
    """Re-check network evidence exactly.

    Parameters
    ----------
    evidence : NetworkResult or dict
        A result of :func:`dsssolver.certify_network`, or its JSON form.
    net : list, torch.nn.Sequential or networkx.DiGraph
        The network, in any form :func:`dsssolver.certify_network` reads.
    domain : None, "nonnegative" or (A, c)
        The input domain the evidence must be about; a bounded domain is
        required for end-to-end certificates of networks with biases.
    time_limit : float, optional
        Seconds for the whole check (an end-to-end pattern tree and the layers' proofs
        together); past it :class:`~dsssolver.errors.CheckTimeout` is raised.
    workers : int or None
        Processes for each layer's proof check, as in :func:`dsssolver.check` (None: every
        core).
    explain : bool, optional
        Deprecated and ignored: the result always carries its message.

    Returns
    -------
    CheckResult
        Truthy iff valid; unpacks as ``(ok, message)``, like :func:`dsssolver.check`'s.
    """
    if explain is not None:
        warnings.warn("check_network(..., explain=) is deprecated: the CheckResult carries the "
                      "message", DeprecationWarning, stacklevel=2)
    doc = evidence.to_json() if hasattr(evidence, "to_json") else evidence
    if not isinstance(doc, dict) or doc.get("format") != NETWORK_FORMAT:
        raise EvidenceError(f"network evidence must be a dict with format {NETWORK_FORMAT!r}")
    if type(doc.get("version")) is not int or doc["version"] != NETWORK_VERSION:  # not True
        raise EvidenceError(f"network evidence 'version' {doc.get('version')!r} is not supported "
                            f"(this reader knows {NETWORK_VERSION})")
    time_limit = as_time_limit(time_limit)  # the same rule as check()'s: positive or None
    deadline = None if time_limit is None else time.monotonic() + time_limit
    try:
        ok, msg = _check(doc, net, domain, deadline, workers)
    except EvidenceError as exc:
        ok, msg = False, str(exc)
    return CheckResult(ok, msg)


def _left(deadline):
    """Seconds left before ``deadline`` (None: no limit)."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise CheckTimeout("time limit reached while checking the network's layers")
    return left


def _check(doc, net, domain, deadline=None, workers=1):
    ev_dom = doc.get("domain")
    if ev_dom is not None:
        if not isinstance(ev_dom, dict):
            return False, "'domain' must be null or an object"
        if not same_domain(domain_from_json(ev_dom), domain):
            return False, "the evidence is for another input domain"
    status, arg = doc.get("status"), doc.get("argument")
    if status == "not_injective":
        return _check_witness(doc.get("witness"), net, domain)
    if status != "injective":
        return False, "status 'unknown' carries no evidence"
    if is_graph(net):
        if arg != "layerwise":
            return False, "a layer graph is proven layerwise only"
        return _check_graph(doc, net, domain, deadline, workers)
    layers = as_layers(net)
    entries = _entries(doc, layers)
    if arg == "layerwise":
        start = 0
    elif arg == "end_to_end":
        start = doc.get("prefix")
        if not isinstance(start, int) or not 1 <= start <= len(layers):
            return False, "end-to-end evidence needs 'prefix' in [1, number of layers]"
        from .end_to_end import check_end_to_end

        ok, msg = check_end_to_end(doc.get("end_to_end"), layers[:start], domain, deadline)
        if not ok:
            return False, f"end-to-end certificate of layers 1..{start}: {msg}"
    else:
        return False, f"unknown argument {arg!r}"
    for k in range(start, len(layers)):
        dom = domain if k == 0 else ("nonnegative" if layers[k - 1].activation == "relu" else None)
        ok, msg = check_layer_evidence(entries[k], layers[k], dom, deadline=deadline,
                                       workers=workers)
        if not ok:
            return False, f"layer {k + 1}: {msg}"
    tail = f"layers {start + 1}..{len(layers)} injective on their inputs" if start < len(layers) else ""
    head = f"layers 1..{start} injective end to end; " if start else ""
    return True, head + (tail or "") + " (composition, Corollary 1)"


def _entries(doc, layers):
    """Each layer's evidence; an entry whose own shape or status contradicts its layer or
    its evidence is refused rather than read past (the evidence must say one thing)."""
    entries = doc.get("layers")
    if not isinstance(entries, list) or len(entries) != len(layers):
        raise EvidenceError(f"'layers' must list the evidence of all {len(layers)} layers")
    out = []
    for k, (e, layer) in enumerate(zip(entries, layers), start=1):
        if not isinstance(e, dict):
            raise EvidenceError(f"layer {k}: its entry must be an object")
        if "shape" in e and e["shape"] != list(layer.shape):
            raise EvidenceError(f"layer {k}: the entry is for shape {e['shape']!r}, the layer is "
                                f"{list(layer.shape)}")
        ev = e.get("evidence")
        if isinstance(ev, dict) and "status" in e and e["status"] != ev.get("status"):
            raise EvidenceError(f"layer {k}: the entry says {e['status']!r}, its evidence "
                                f"{ev.get('status')!r}")
        out.append(ev)
    return out


def _check_witness(wit, net, domain):
    if not (isinstance(wit, list) and len(wit) == 2 and all(isinstance(x, list) for x in wit)):
        return False, "'witness' must be two lists of rationals"
    try:
        z1, z2 = ([_json_q(v) for v in x] for x in wit)
    except (TypeError, ValueError, ZeroDivisionError):
        return False, "'witness' holds a value that is not a rational"
    n = _input_dim(net)
    if len(z1) != n or len(z2) != n:
        return False, f"witness points must have length {n}"
    if z1 == z2:
        return False, "the two witness points are equal"
    if not (in_domain(z1, domain) and in_domain(z2, domain)):
        return False, "a witness point lies outside the input domain"
    y1, y2 = forward_exact(net, z1), forward_exact(net, z2)
    for i, (a, b) in enumerate(zip(y1, y2)):
        if a != b:
            return False, f"the network outputs differ at coordinate {i}: {a} != {b}"
    return True, "two different inputs with the same network output"


def _input_dim(net):
    return as_graph(net).n if is_graph(net) else as_layers(net)[0].shape[1]


def graph_domains(g, domain):
    """The input set each layer node is certified on.

    A node reading the input alone gets the input domain; a node whose every
    part is a ReLU output gets "nonnegative"; any other node all of R^d.
    """
    relu_out = {g.source: domain == "nonnegative"}
    out = {}
    for v in g.order[1:]:
        parts = g.preds[v]
        if v in g.layers:
            out[v] = domain if parts == [g.source] else (
                "nonnegative" if all(relu_out[p] for p in parts) else None)
            relu_out[v] = g.layers[v].activation == "relu"
        else:
            relu_out[v] = all(relu_out[p] for p in parts)
    return out


def graph_injective(g, proven):
    """Which nodes are injective functions of the input, given the layer nodes in ``proven``."""
    inj = {g.source: True}
    for v in g.order[1:]:
        inj[v] = any(inj[p] for p in g.preds[v]) and (v not in g.layers or v in proven)
    return inj


def _check_graph(doc, net, domain, deadline=None, workers=1):
    g = as_graph(net)
    doms = graph_domains(g, domain)
    entries = doc.get("nodes")
    if not isinstance(entries, dict):
        return False, "'nodes' must map node names to evidence"
    proven = {v for v in g.layers if entries.get(str(v)) is not None
              and check_layer_evidence(entries[str(v)], g.layers[v], doms[v], deadline=deadline,
                                       workers=workers)[0]}
    inj = graph_injective(g, proven)
    good = [s for s in g.sinks if inj[s]]
    if not good:
        return False, "no output node is proven injective by the layer evidence"
    return True, f"output node {good[0]!r} is injective (x -> [f(x), g(x)] and composition)"


def _json_q(v):
    """A rational from evidence JSON, refused (ValueError) before a crafted string such as
    "1e100000000" or a million digits is built."""
    return parse_rational(v, "network evidence", max_bits=1 << 20)


def _fr(v):
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (float, np.floating)):
        return Fraction(float(v))
    return Fraction(int(v)) if isinstance(v, (int, np.integer)) else Fraction(v)


def _fs(v):
    q = _fr(v)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
