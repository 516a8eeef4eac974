"""Whole networks: per-layer verdicts on each layer's true domain, and a network verdict.

A layer after a ReLU only ever sees ``x >= 0`` (Puthawala et al. 2022,
Remark 1), so each ReLU layer is certified on its true domain: the input
domain for the first layer, ``x >= 0`` after a ReLU, all of R^d after a
LeakyReLU or linear layer.  LeakyReLU with slope ``a > 0`` is a bijection of
R, so such a layer (and a linear one) is injective on a full-dimensional
domain iff ``x -> W x + b`` is, i.e. iff ``W`` has full column rank.

The network verdict:

* every layer injective on its inputs: **injective** by composition
  (Corollary 1);
* the first layer not injective on the input domain: its witness pair are
  network inputs, so **not injective**;
* a later layer fails: its witness pair may lie outside the image of the
  layers before it, so it proves nothing about the network.  The witness is
  lifted to network inputs when the earlier layers can be inverted exactly;
  otherwise the layers up to the last failing one are decided **end to end**
  (:mod:`dsssolver.networks.end_to_end`) and the proven suffix is composed
  with that; otherwise "unknown".  Never "not injective" without a witness
  pair of network inputs.

Every verdict is re-checked by :func:`dsssolver.verify.network.check_network`
before it is returned.
"""
from __future__ import annotations

import inspect
import math
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from ..certify import certify
from ..certify.structured import pair_result
from ..errors import InvalidInputError
from .._validate import as_positive_int, as_time_limit
from ..verify.evidence import INJECTIVE, NOT_INJECTIVE, UNKNOWN
from ..verify.network import NETWORK_FORMAT, NETWORK_VERSION, apply_exact, check_network, domain_to_json, \
    exact_domain, graph_domains, graph_injective, in_domain
from ..netmodel import as_graph, as_layers, is_graph

__all__ = ["certify_network", "NetworkResult", "LayerVerdict", "certify_layer"]

_CERTIFY_HAS_DOMAIN = "domain" in inspect.signature(certify).parameters


@dataclass
class LayerVerdict:
    """The verdict on one layer, on the set its inputs come from.

    Attributes
    ----------
    index : int or str
        The layer's position (1-based) in a chain, or its node name in a graph.
    shape : tuple of int
        ``(m, n)`` of the layer's weight matrix.
    activation : str
        "relu", "leaky_relu" or "linear".
    domain : None, "nonnegative" or (A, c)
        The set the layer's inputs come from.
    status : {"injective", "not_injective", "unknown"}
        The verdict on that set.
    message : str
        How the verdict was reached.
    evidence : dict or None
        The layer's JSON evidence (``dsssolver-evidence`` for a ReLU layer, a
        full-column-rank minor for a LeakyReLU/linear layer).
    witness : tuple of two lists of Fraction, or None
        Two inputs *of this layer* (in its domain) with the same output, when found.
    seconds : float
        Time spent on the layer.
    """

    index: object
    shape: tuple
    activation: str
    domain: object
    status: str
    message: str
    evidence: dict | None = None
    witness: tuple | None = None
    seconds: float = 0.0


@dataclass
class NetworkResult:
    """Outcome of :func:`certify_network`, in the manner of ``scipy.optimize.OptimizeResult``.

    Attributes
    ----------
    status : {"injective", "not_injective", "unknown"}
    message : str
    layers : list of LayerVerdict
        Per layer (per layer node of a graph), in order.
    first_failure : int or None
        1-based index (or node) of the first layer not proven injective on its inputs.
    decided_by : str
        "layerwise", "first layer", "lifted witness", "end to end" or "" (unknown).
    witness : tuple of two lists of Fraction, or None
        Two different network inputs with the same network output.
    end_to_end : object or None
        The end-to-end decision, when one was run.
    domain : object
        The input domain the verdict is about.
    argument : str
        What the evidence argues: "layerwise" (every layer injective on its inputs),
        "end_to_end" (the first ``prefix`` layers end to end, the rest layerwise),
        "witness", or "" (unknown).
    prefix : int
        For "end_to_end": how many leading layers the end-to-end certificate covers.
    graph : bool
        Whether the network was given as a graph of layers (not a chain).
    stats : dict
    checked : bool
        Whether the evidence passed :func:`dsssolver.verify.network.check_network`.
    """

    status: str
    message: str
    layers: list
    first_failure: object = None
    decided_by: str = ""
    witness: tuple | None = None
    end_to_end: object = None
    domain: object = None
    argument: str = ""
    prefix: int = 0
    graph: bool = False
    stats: dict = field(default_factory=dict)
    checked: bool = False

    @property
    def injective(self):
        return {INJECTIVE: True, NOT_INJECTIVE: False}.get(self.status)

    def to_json(self):
        """The network evidence (format documented in :mod:`dsssolver.verify.network`)."""
        out = {"format": NETWORK_FORMAT, "version": NETWORK_VERSION, "status": self.status,
               "message": self.message, "argument": self.argument, "domain": domain_to_json(self.domain),
               "decided_by": self.decided_by}
        per = [{"layer": str(v.index), "shape": list(v.shape), "activation": v.activation,
                "domain": domain_to_json(v.domain), "status": v.status, "evidence": v.evidence}
               for v in self.layers]
        if self.graph:
            out["nodes"] = {p["layer"]: p["evidence"] for p in per}
        out["layers"] = per
        if self.witness is not None:
            out["witness"] = [[_fs(v) for v in z] for z in self.witness]
        if self.argument == "end_to_end":
            out["prefix"] = self.prefix
            out["end_to_end"] = self.end_to_end.certificate
        out["stats"] = {k: v for k, v in self.stats.items() if isinstance(v, (int, float, str))}
        return out

    def summary(self):
        lines = [f"{self.status}: {self.message}"]
        for v in self.layers:
            # a layer left undecided on purpose says so rather than "unknown"
            what = v.message if v.message.startswith(_SKIPPED) else v.status
            lines.append(f"  layer {v.index} {v.shape[0]}x{v.shape[1]} {v.activation} on "
                         f"{_dom_name(v.domain)}: {what} ({v.seconds:.3f} s)")
        return "\n".join(lines)

    def __repr__(self):
        return (f"NetworkResult(status={self.status!r}, decided_by={self.decided_by!r}, "
                f"first_failure={self.first_failure!r}, checked={self.checked}, "
                f"layers=[{', '.join(v.status for v in self.layers)}])")


_SKIPPED = "skipped"


def _dom_name(d):
    return "R^n" if d is None else ("x >= 0" if d == "nonnegative" else "a polyhedron")


def _fs(q):
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


# ------------------------------------------------------------------ single layers
def certify_layer(layer, domain=None, *, time_limit=None):
    """A :class:`LayerVerdict` for one :class:`~dsssolver.netmodel.NetLayer` on ``domain``."""
    t0 = time.perf_counter()
    if layer.activation == "relu":
        v = _certify_relu(layer, domain, time_limit)
    else:
        v = _certify_rank(layer, domain)
    v.seconds = time.perf_counter() - t0
    return v


def _certify_relu(layer, domain, time_limit):
    W, b = layer.W, layer.b
    kw = {"time_limit": time_limit} if time_limit else {}
    if domain is not None and W.shape[0] >= 2 * W.shape[1]:
        # antiparallel pairs spanning R^n prove the layer on R^n, hence on any domain; evidence for
        # R^n skips the n x n exact domain rows a domain's evidence carries (0.4 s of 0.5 s at n = 200)
        quick = pair_result(W, b)
        if quick is not None:
            return LayerVerdict(None, W.shape, "relu", domain, INJECTIVE,
                                quick.message + " (on all of R^n)", quick.to_json())
    if domain is None or _CERTIFY_HAS_DOMAIN:
        res = certify(W, b, domain=domain, **kw) if domain is not None else certify(W, b, **kw)
        wit = res.witness if res.status == NOT_INJECTIVE else None
        return LayerVerdict(None, W.shape, "relu", domain, res.status, res.message,
                            res.to_json() if res.status == INJECTIVE else None, wit)
    # restricted domains not available in this certify: a proof on R^n holds on every subset,
    # and a witness on R^n counts when both points lie in the domain
    res = certify(W, b, **kw)
    if res.status == INJECTIVE:
        return LayerVerdict(None, W.shape, "relu", domain, INJECTIVE,
                            res.message + " (proven on all of R^n)", res.to_json())
    if res.status == NOT_INJECTIVE and all(in_domain(x, domain) for x in res.witness):
        return LayerVerdict(None, W.shape, "relu", domain, NOT_INJECTIVE, res.message, None,
                            res.witness)
    return LayerVerdict(None, W.shape, "relu", domain, UNKNOWN,
                        f"not decided on the layer's domain (on all of R^n: {res.status})")


def _certify_rank(layer, domain):
    """LeakyReLU (slope > 0) / linear: injective on a full-dimensional domain iff W has full column rank."""
    W = layer.W
    m, n = W.shape
    rows = _independent_rows(W)
    act = layer.activation
    if rows is not None:
        return LayerVerdict(None, W.shape, act, domain, INJECTIVE,
                            "W has full column rank and the activation is a bijection of R",
                            {"status": INJECTIVE, "kind": "full_column_rank", "minor": rows})
    d = _null_vector(W)
    if d is None:  # the float choice failed but the exact rank is n: search rows exactly
        rows = _independent_rows_exact(W)
        return LayerVerdict(None, W.shape, act, domain, INJECTIVE,
                            "W has full column rank and the activation is a bijection of R",
                            {"status": INJECTIVE, "kind": "full_column_rank", "minor": rows})
    wit = None
    if domain is None:
        wit = ([Fraction(0)] * n, d)
    elif domain == "nonnegative":
        t = max(abs(v) for v in d)
        wit = ([t] * n, [t + v for v in d])
    return LayerVerdict(None, W.shape, act, domain, NOT_INJECTIVE,
                        f"W has rank < {n}: x and x + d with W d = 0 have the same output", None, wit)


def _independent_rows(W, tol=1e-9):
    """n rows that look independent in floating point (greedy Gram-Schmidt), or None."""
    A = np.array([[float(v) for v in r] for r in W]) if W.dtype == object else W.astype(float)
    m, n = A.shape
    if m < n:
        return None
    norms = np.linalg.norm(A, axis=1)
    Q = np.zeros((0, n))
    keep = []
    for i in np.argsort(-norms, kind="stable"):
        if norms[i] == 0:
            break
        v = A[i] / norms[i]
        r = v - Q.T @ (Q @ v)
        nr = np.linalg.norm(r)
        if nr > tol:
            Q = np.vstack([Q, r / nr])
            keep.append(int(i))
            if len(keep) == n:
                return sorted(keep)
    return None


def _int_matrix(W):
    """Each row of W times the lcm of its denominators: an integer matrix, exactly.

    Python's ``math.lcm`` (float rows have denominators up to 2^1074: numpy's int64 gcd
    would overflow and scale rows wrongly)."""
    rows = []
    for r in np.asarray(W, dtype=object).tolist():
        fr = [Fraction(v) for v in r]
        den = math.lcm(*(q.denominator for q in fr))
        rows.append([int(q * den) for q in fr])
    return flint.fmpz_mat(rows)


def _null_vector(W):
    """An exact non-zero rational d with W d = 0, or None when W has full column rank."""
    N = _int_matrix(W).nullspace()[0]
    n = N.nrows()
    for j in range(N.ncols()):
        col = [int(N[i, j]) for i in range(n)]
        if any(col):
            return [Fraction(v) for v in col]
    return None


def _independent_rows_exact(W):
    return _pivot_rows(flint.fmpq_mat(_int_matrix(W)))


# ------------------------------------------------------------------ networks
def certify_network(net: Any, *, domain: Any = None, box: Any = None,
                    last_activation: str | None = None, negative_slope: float = 0.01,
                    time_limit: float | None = None, end_to_end: bool = True,
                    node_limit: int | None = None, progress: bool = False) -> NetworkResult:
    """Decide whether a ReLU network is injective, layer by layer and, if needed, end to end.

    Parameters
    ----------
    net : list, torch.nn.Sequential or networkx.DiGraph
        A list of layers: ``W`` or ``(W, b)`` (ReLU after), ``(W, b, activation)``
        with activation "relu", "leaky_relu" or "linear", or dicts with keys
        ``W, b, activation, negative_slope``.  A torch ``nn.Sequential`` of
        Linear, ReLU, LeakyReLU, Identity, Flatten and BatchNorm1d/2d (eval mode,
        folded exactly into the affine map, up to a float64 square root: see
        :mod:`dsssolver.netmodel`); convolutions through
        :mod:`dsssolver.conv` where available; a Tanh or Sigmoid after the last
        layer is strictly increasing and changes no verdict.  A ``networkx.DiGraph`` of layers
        for networks that branch and concatenate (see
        :func:`dsssolver.netmodel.as_graph`).
    domain : None, "nonnegative" or (A, c)
        The input domain: all of R^n, ``x >= 0``, or ``{x : A x <= c}``
        (full-dimensional).
    box : (lo, hi), optional
        The input domain ``lo <= x <= hi`` (instead of ``domain``).  With
        biases, end-to-end decisions need a bounded domain and are about it.
    last_activation : {"relu", "leaky_relu", "linear"}, optional
        Overrides the last layer's activation (a list's layers are ReLU).
    negative_slope : float
        With ``last_activation="leaky_relu"``.  LeakyReLU with slope ``a > 0`` is
        a bijection of R, so its layer is injective iff ``x -> W x + b`` is,
        i.e. iff ``W`` has full column rank.
    time_limit : float, optional
        Seconds for everything; the verdict is "unknown" when it runs out.
    end_to_end : bool
        Decide the layers up to the last failing one end to end when layerwise
        reasoning fails (small networks only).
    node_limit : int, optional
        Nodes of the end-to-end search tree.
    progress : bool
        A line on stderr per layer.

    Returns
    -------
    NetworkResult
        Re-checked by :func:`dsssolver.verify.network.check_network` before
        it is returned ("unknown" if that check fails).

    Examples
    --------
    The seed's equation (4): ``ReLU(Id ReLU(W x))`` with ``W = [I; -I]``.  The
    second layer is not injective on R^4, but it is on its true domain ``x >= 0``:

    >>> import numpy as np
    >>> W = np.vstack([np.eye(2), -np.eye(2)])
    >>> res = certify_network([W, np.eye(4)])
    >>> res.status, res.checked
    ('injective', True)
    """
    t0 = time.perf_counter()
    if box is not None:
        if domain is not None:
            raise InvalidInputError("give either domain or box, not both")
        domain = box_domain(box)
    time_limit = as_time_limit(time_limit)
    node_limit = as_positive_int(node_limit, "node_limit")
    if is_graph(net):
        res = _certify_graph(net, domain, t0, time_limit, progress)
    else:
        layers = as_layers(net, last_activation=last_activation, negative_slope=negative_slope)
        _check_domain(domain, layers[0].shape[1])
        res = _certify_chain(layers, domain, t0, time_limit, end_to_end, node_limit, progress)
        net = layers
        if layers[-1].output_squash:
            res.message += (f"; the {layers[-1].output_squash} after the last layer is strictly "
                            "increasing, so it changes nothing (the last layer is decided as linear)")
    res.domain = domain
    res.stats["seconds"] = time.perf_counter() - t0
    if res.status != UNKNOWN:
        t = time.perf_counter()
        ok, msg = check_network(res, net, domain=domain)
        res.stats["check_seconds"] = time.perf_counter() - t
        if not ok:
            res.status, res.message = UNKNOWN, f"the network evidence failed the exact check ({msg})"
        res.checked = ok
    return res


def box_domain(box):
    """The box ``lo <= x <= hi`` as an exact polyhedron ``(A, c)``; it must be full-dimensional."""
    try:
        lo, hi = (np.asarray(v, dtype=object).ravel().tolist() for v in box)
    except (TypeError, ValueError):
        raise InvalidInputError("box must be a pair (lo, hi) of vectors") from None
    if len(lo) != len(hi) or not lo:
        raise InvalidInputError("box: lo and hi must be non-empty vectors of the same length")
    lo, hi = [_q(v, "box") for v in lo], [_q(v, "box") for v in hi]
    if any(a >= b for a, b in zip(lo, hi)):
        raise InvalidInputError("box: every lo must be < hi (the domain must be full-dimensional)")
    n = len(lo)
    A = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)] + \
        [[Fraction(-int(i == j)) for j in range(n)] for i in range(n)]
    return A, hi + [-v for v in lo]


def _q(v, name):
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        raise InvalidInputError(f"{name} contains {v}")
    try:
        return Fraction(float(v)) if isinstance(v, (float, np.floating)) else Fraction(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} holds a non-numeric entry {v!r}") from None


def _check_domain(domain, n):
    if domain is None or domain == "nonnegative":
        return
    if isinstance(domain, str):
        raise InvalidInputError(f"domain must be None, 'nonnegative' or (A, c), got {domain!r}")
    try:
        A, c = exact_domain(domain)
    except (TypeError, ValueError):
        raise InvalidInputError("domain must be a pair (A, c) of a matrix and a vector") from None
    if not A or any(len(r) != n for r in A) or len(c) != len(A):
        raise InvalidInputError(f"domain: A must be k x {n} and c of length k")


def _say(progress, msg):
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _left(t0, time_limit):
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - t0), 1e-3)


def _layer_domains(layers, domain):
    return [domain] + ["nonnegative" if L.activation == "relu" else None for L in layers[:-1]]


def _certify_chain(layers, domain, t0, time_limit, end_to_end, node_limit, progress):
    doms = _layer_domains(layers, domain)
    verdicts = []
    decided = False
    for k, (L, dom) in enumerate(zip(layers, doms), start=1):
        if decided:
            v = LayerVerdict(k, L.shape, L.activation, dom, UNKNOWN,
                             f"{_SKIPPED}: layer 1's witness pair already decides the network")
        elif time_limit is not None and time.perf_counter() - t0 > time_limit:
            v = LayerVerdict(k, L.shape, L.activation, dom, UNKNOWN, "time limit reached before this layer")
        else:
            v = certify_layer(L, dom, time_limit=_left(t0, time_limit))
            v.index = k
        _say(progress, f"layer {k} ({L.shape[0]}x{L.shape[1]} {L.activation} on {_dom_name(dom)}): "
                       f"{v.status} in {v.seconds:.3f} s")
        verdicts.append(v)
        decided = decided or (k == 1 and v.witness is not None)
    failing = [v.index for v in verdicts if v.status != INJECTIVE]
    res = NetworkResult(UNKNOWN, "", verdicts, first_failure=failing[0] if failing else None)
    if not failing:
        res.status, res.decided_by, res.argument = INJECTIVE, "layerwise", "layerwise"
        res.message = (f"every layer is injective on its inputs ({len(layers)} layers), so the network is "
                       "(composition: Puthawala et al. 2022, Corollary 1)")
        return res
    first = verdicts[failing[0] - 1]
    if first.witness is not None:
        z = first.witness if first.index == 1 else _lift(layers[:first.index - 1], first.witness, domain)
        if z is not None:
            res.status, res.witness, res.argument = NOT_INJECTIVE, z, "witness"
            res.decided_by = "first layer" if first.index == 1 else "lifted witness"
            res.message = (f"layer {first.index} is not injective, and its witness pair comes from two "
                           "different network inputs with the same output")
            return res
    last = failing[-1]
    if not end_to_end:
        res.message = f"layer {first.index} is not proven injective on its inputs; end to end not tried"
        return res
    from .end_to_end import decide_end_to_end

    e2e = decide_end_to_end(layers[:last], domain=domain, time_limit=_left(t0, time_limit),
                            node_limit=node_limit, progress=progress)
    res.end_to_end = e2e
    if e2e.status == NOT_INJECTIVE:
        res.status, res.witness, res.argument, res.decided_by = NOT_INJECTIVE, e2e.witness, "witness", \
            "end to end"
        res.message = (f"layers 1..{last} decided end to end: two network inputs collide ({e2e.message})")
    elif e2e.status == INJECTIVE:
        res.status, res.argument, res.decided_by, res.prefix = INJECTIVE, "end_to_end", "end to end", last
        res.message = (f"layers 1..{last} are injective end to end ({e2e.message}); the layers after "
                       "them are injective on their inputs")
    else:
        res.message = (f"layer {first.index} is not proven injective on its inputs, and the end-to-end "
                       f"decision of layers 1..{last} is unknown: {e2e.message}")
    return res


def _lift(layers, x, domain):
    """Exact network inputs z1, z2 with ``layers(z_i) = x_i``, when every layer inverts uniquely."""
    out = []
    for target in x:
        y = [Fraction(v) for v in target]
        for L in reversed(layers):
            y = _invert_layer(L, y)
            if y is None:
                return None
        if not in_domain(y, domain):
            return None
        out.append(y)
    return tuple(out) if out[0] != out[1] else None


def _invert_layer(L, y):
    """The unique exact x with ``act(W x + b) = y`` (x >= 0 not needed: it is checked later), or None."""
    m, n = L.shape
    slope = Fraction(L.negative_slope) if L.activation == "leaky_relu" else None
    pre = {}
    for i, v in enumerate(y):
        if L.activation == "relu" and v == 0:
            continue
        if v < 0 and L.activation == "relu":
            return None
        pre[i] = v / slope if (slope is not None and v < 0) else v
    rows = list(pre)
    if len(rows) < n:
        return None
    Wq = [[Fraction(w) for w in L.W[i].tolist()] for i in rows]
    A = flint.fmpq_mat(len(rows), n, [flint.fmpq(q.numerator, q.denominator) for r in Wq for q in r])
    if A.rank() < n:
        return None
    bl = L.b.tolist()
    rhs = [pre[i] - Fraction(bl[i]) for i in rows]
    sel = _pivot_rows(A)
    As = flint.fmpq_mat(n, n, [A[i, j] for i in sel for j in range(n)])
    xs = As.solve(flint.fmpq_mat(n, 1, [flint.fmpq(rhs[i].numerator, rhs[i].denominator) for i in sel]))
    x = [Fraction(int(xs[j, 0].p), int(xs[j, 0].q)) for j in range(n)]
    return x if apply_exact(L, x) == list(y) else None


def _pivot_rows(A):
    R, rank = A.transpose().rref()
    piv, r = [], 0
    for j in range(A.nrows()):
        if r < rank and R[r, j] != 0:
            piv.append(j)
            r += 1
    return piv


def _certify_graph(G, domain, t0, time_limit, progress):
    g = as_graph(G)
    _check_domain(domain, g.n)
    doms = graph_domains(g, domain)
    verdicts, proven = [], set()
    for v in g.order[1:]:
        if v not in g.layers:
            continue
        L = g.layers[v]
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            lv = LayerVerdict(v, L.shape, L.activation, doms[v], UNKNOWN, "time limit reached")
        else:
            lv = certify_layer(L, doms[v], time_limit=_left(t0, time_limit))
            lv.index = v
        _say(progress, f"node {v!r}: {lv.status} in {lv.seconds:.3f} s")
        verdicts.append(lv)
        if lv.status == INJECTIVE:
            proven.add(v)
    inj = graph_injective(g, proven)
    failing = [lv.index for lv in verdicts if lv.status != INJECTIVE]
    res = NetworkResult(UNKNOWN, "", verdicts, first_failure=failing[0] if failing else None, graph=True)
    good = [s for s in g.sinks if inj[s]]
    if good:
        res.status, res.argument, res.decided_by = INJECTIVE, "layerwise", "layerwise"
        res.message = (f"output node {good[0]!r} is an injective function of the input: its layers are "
                       "injective on their inputs along a path from the input (composition and "
                       "x -> [f(x), g(x)])")
    else:
        res.message = "no output node is proven injective layer by layer (graphs are not decided end to end)"
    squashed = [f"the {L.output_squash} on output node {v!r}" for v, L in g.layers.items()
                if L.output_squash]
    if squashed:
        one = len(squashed) == 1
        res.message += (f"; {' and '.join(squashed)} {'is' if one else 'are'} strictly increasing, "
                        f"so {'it changes' if one else 'they change'} nothing (decided as linear)")
    return res
