"""What :func:`dsssolver.invert` returns: statuses, per-layer and joint reports, the result.

The result follows ``scipy.optimize.OptimizeResult``: a ``dict`` whose keys are also
attributes, with ``status``, ``success`` and ``message`` first-class.  One output and a batch
give the same class; for a batch the per-output fields become one entry per output.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["EXACT", "JOINT", "APPROXIMATE", "INFEASIBLE", "FAILED", "STATUSES",
           "LayerInfo", "JointInfo", "InvertResult"]

#: every layer inverted exactly (``G(z) = x`` up to ``tol``)
EXACT = "exact"
#: inverted exactly, with the joint MILP below a layer whose preimage is not a single point
JOINT = "joint"
#: a noisy method's answer, with a residual consistent with the noise level
APPROXIMATE = "approximate"
#: no code explains x (exactly, or within an l_inf noise bound), shown by an LP or MILP that
#: has no solution: z is a best effort, see the message
INFEASIBLE = "infeasible"
#: the solver could not produce an answer (z is NaN) or its answer is not trustworthy
#: (e.g. no fit within the noise was found, and none is proven impossible)
FAILED = "failed"
STATUSES = (EXACT, JOINT, APPROXIMATE, INFEASIBLE, FAILED)
_SUCCESS = (EXACT, JOINT, APPROXIMATE)


@dataclass
class LayerInfo:
    """What happened at one layer (``layer`` counts from 1 at the latent side).

    Attributes
    ----------
    layer : int
    status : str
        "ok" (preimage found), "not_unique" (found, not a single point), "joint" (solved
        inside the joint MILP), "infeasible" (no preimage), "approximate" (noisy LP), "error".
    message : str
    residual : float
        ``||act(W u + b) - y|| / ||y||`` for the returned input ``u``.
    unique : bool or None
        Is the layer's preimage of ``y`` a single point; ``True`` only with exact evidence
        (``evidence``), ``None`` when not decided.  At a hidden layer ``y`` is the float
        preimage found above, so this is exact for the rows read active in it;
        ``InvertResult.unique`` is the exact end-to-end verdict.
    evidence : dict or None
        For ``unique=True``: ``{"kind": "exact_rank", "rows": [...], "rank": n, "prime": p}``
        (the rows' rank is n modulo p, computed in exact integer arithmetic from the float
        weights, hence n over the rationals), re-checkable with
        :func:`dsssolver.invert.exact.check_layer_evidence` (one layer, given y) and
        :func:`dsssolver.invert.exact.check_unique` (the whole chain from x, no floats).
    lp_seconds : float
    active : int
        Rows read as active (two-sided) in this layer's model.
    rank : int
    objective : float or None
        The noisy LP's optimum (l_inf: t*, l_1: sum of slacks).
    threshold : float or None
        Noisy methods: entries at or below it were read as possibly inactive.
    amplification : float or None
        ``1 / sigma_min`` of the rows surely active here: how much this layer's local inverse
        can amplify an error in its output (a per-layer local bound, not Puthawala et al.'s
        global Theorem 3 constant).  ``inf`` when those rows do not have full rank.
    stability : dict or None
        With ``invert(..., stability=...)``: the layer's *global* amplification, valid for
        every pair of inputs ``u, u'``: ``||u - u'|| <= stability["amplification"] *
        ||f(u) - f(u')||`` (``sqrt(2) / S_lower`` with ``S_lower`` a proved lower bound on
        ``min over cells sigma_min(W_A)``), and ``stability["theorem3"]``, Puthawala et
        al.'s Theorem 3 factor ``sqrt(2m) / S_lower``; also ``status``, ``S_lower``,
        ``S_upper``, ``seconds``, ``message``.  See :mod:`dsssolver.invert.stability`.
    """

    layer: int
    status: str
    message: str = ""
    residual: float = float("nan")
    unique: bool | None = None
    evidence: dict | None = None
    lp_seconds: float = 0.0
    active: int = 0
    rank: int = 0
    objective: float | None = None
    threshold: float | None = None
    amplification: float | None = None
    stability: dict | None = None


@dataclass
class JointInfo:
    """The joint MILP's report (it inverts every layer below a non-injective one at once).

    Attributes
    ----------
    status : str
        "optimal", "infeasible" or "error".
    message : str
    unique : bool or None
        The MILP's verdict on uniqueness: a floating-point claim (``False`` comes with a
        second preimage that was re-evaluated; ``True`` is not exact evidence).
    binaries : int
    boxed : bool
        An LP bound was infinite and a box was imposed: claims hold inside that box.
    milp_status : str or None
    distance : float or None
        The farthest other preimage found (l_1), when the uniqueness MILP ran.
    seconds, milp_seconds : float
    """

    status: str = "error"
    message: str = ""
    unique: bool | None = None
    binaries: int = 0
    boxed: bool = False
    milp_status: str | None = None
    distance: float | None = None
    seconds: float = 0.0
    milp_seconds: float = 0.0


class InvertResult(dict):
    """The result of :func:`dsssolver.invert`, in the style of ``scipy.optimize.OptimizeResult``.

    Keys are also attributes.  For one output:

    Attributes
    ----------
    z : ndarray
        The code (NaN where nothing could be returned).
    status : str
        One of :data:`EXACT`, :data:`JOINT`, :data:`APPROXIMATE`, :data:`INFEASIBLE`,
        :data:`FAILED`.
    success : bool
        ``status`` is exact, joint or approximate.
    message : str
    residual : float
        ``||G(z) - x||_2 / ||x||_2``.
    unique : bool or None
        ``True`` only when "x has at most one preimage" is proven exactly: evidence at every
        layer (see :class:`LayerInfo`) and, since a hidden layer's active rows are read
        from a float preimage, the exact chain :func:`dsssolver.invert.exact.check_unique`
        -- or the last layer's proof that x, a rounded output, has no exact preimage at
        all (``"no_preimage"`` in its evidence); the message says which.
    method : str
    noise : float or None
        The l_inf noise level used: the given bound, a level derived from ``noise_std``, or
        the estimate (see ``noise_source``).
    noise_source : str
        "exact", "bound", "std" or "estimated".
    error_bound : float
        A bound on ``||z - z_true||_2`` for every ``z_true`` with
        ``||G(z_true) - x||_inf <= noise`` (``inf`` when the rows surely active at some
        layer do not have full rank).  It is proven for ``noise_source`` "bound" and "exact",
        holds with probability >= 98% under iid Gaussian noise for "std", and is an estimate
        for "estimated".
    amplification : float
        Product over layers of :attr:`LayerInfo.amplification`.
    stability_amplification : float or None
        With ``stability=...``: the product over layers of ``LayerInfo.stability
        ["amplification"]``, so ``||z - z'|| <= stability_amplification * ||G(z) - G(z')||``
        for *every* pair of codes (``inf`` where a layer's bound is 0).  None when not asked.
        With a tanh / sigmoid last activation, ``G`` here is the network before it (its
        pre-activations on the entries inverted), since the squash saturates.
    stability_bound : float or None
        ``stability_amplification * (||G(z) - x||_2 + noise_l2)``: a bound on
        ``||z - z_true||_2`` for every ``z_true`` with ``||G(z_true) - x||_2 <= noise_l2``
        (``noise_l2`` the l_2 size of the noise level, 0 for exact inversion), whatever z the
        method found.  Compare it with the observed error and with ``error_bound``.
    layers : list of LayerInfo
        Latent side first.
    joint : JointInfo or None
    seconds, lp_seconds : float

    For a batch (``x`` 2-D) ``z`` has one row per output, ``status``, ``message``,
    ``unique``, ``layers`` and ``joint`` are lists, ``success``, ``residual``, ``error_bound``
    and ``seconds`` are arrays, and ``results`` holds the per-output results (``res[i]`` is
    ``res.results[i]``).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self):
        if self.get("batch"):
            counts = {s: self["status"].count(s) for s in dict.fromkeys(self["status"])}
            return f"InvertResult(batch of {len(self['results'])}: {counts})"
        return (f"InvertResult(status={self['status']!r}, success={self['success']}, "
                f"unique={self['unique']}, residual={self['residual']:.3g}, "
                f"error_bound={self['error_bound']:.3g})")

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)) and dict.get(self, "batch"):
            return dict.__getitem__(self, "results")[key]
        return dict.__getitem__(self, key)

    def to_dict(self):
        """JSON-friendly nested dicts (arrays as lists; NaN / inf kept as floats)."""
        if self.get("batch"):
            return {"batch": True, "results": [r.to_dict() for r in self["results"]]}
        out = {}
        for k, v in dict.items(self):
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif k == "layers":
                v = [asdict(li) for li in v]
            elif k == "joint" and v is not None:
                v = asdict(v)
            out[k] = v
        return out

    @classmethod
    def batch_of(cls, results, latent_dim):
        """Stack per-output results into one batch result."""
        results = list(results)
        z = np.array([r.z for r in results], dtype=np.float64).reshape(len(results), latent_dim)
        return cls(z=z, batch=True, results=results,
                   status=[r.status for r in results],
                   success=np.array([r.success for r in results], dtype=bool),
                   message=[r.message for r in results],
                   residual=np.array([r.residual for r in results]),
                   unique=[r.unique for r in results],
                   error_bound=np.array([r.error_bound for r in results]),
                   layers=[r.layers for r in results], joint=[r.joint for r in results],
                   seconds=np.array([r.seconds for r in results]),
                   method=results[0].method if results else None)


def make_result(z, status, message, residual, unique, method, layers, seconds, lp_seconds,
                joint=None, noise=None, noise_source="exact", error_bound=float("inf"),
                amplification=float("inf"), stability=None):
    """One output's :class:`InvertResult` (keyword order fixed here, once).

    ``stability`` is ``(stability_amplification, stability_bound)`` or None.
    """
    stab_amp, stab_bound = (None, None) if stability is None else map(float, stability)
    return InvertResult(z=z, status=status, success=status in _SUCCESS, message=message,
                        residual=float(residual), unique=unique, method=method, noise=noise,
                        noise_source=noise_source, error_bound=float(error_bound),
                        amplification=float(amplification),
                        stability_amplification=stab_amp, stability_bound=stab_bound,
                        layers=list(layers),
                        joint=joint, seconds=float(seconds), lp_seconds=float(lp_seconds),
                        batch=False)
