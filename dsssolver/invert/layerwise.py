"""Invert generator outputs layer by layer with linear programs (Lei et al. 2019), exactly.

``G(z) = act_L(W_L ... ReLU(W_1 z + b_1) ... + b_L)``.  Given ``x`` we invert the last
layer first: its preimage is a polyhedron (MATH.md section 8), found by one HiGHS LP.
When that polyhedron is a single point we recurse on it; when it is not (the layer is
not injective at this output) we do not guess a point of it: the polyhedron and every
layer below it become one mixed-integer program (:mod:`dsssolver.invert.joint`), so a
network that is injective end to end is still inverted exactly.  Noisy outputs use Lei
et al.'s l_inf or l_1 LPs, with the error bound each implies.

Examples
--------
>>> import numpy as np, dsssolver as dss
>>> rng = np.random.default_rng(0)
>>> layers = [(rng.normal(size=(40, 5)) / np.sqrt(40), None),
...           (rng.normal(size=(120, 40)) / np.sqrt(120), None)]
>>> z = rng.normal(size=5)
>>> x = dss.layers.as_network(layers).forward(z)
>>> zhat, info = dss.invert(layers, x)
>>> info.status, info.unique, bool(np.allclose(zhat, z, rtol=1e-9, atol=1e-12))
('exact', True, True)
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .lp import LayerLP, Poly, solve_point
from .._validate import _as_numeric_array
from ..layers import as_network

__all__ = ["invert", "Inverter", "LayerInfo", "InvertInfo"]

METHODS = ("exact", "linf", "l1")


@dataclass
class LayerInfo:
    """What happened at one layer (``layer`` counts from 1 at the latent side).

    status: "ok" (preimage found), "not_unique" (found, but not a single point),
    "joint" (solved inside the joint MILP), "infeasible" (no preimage: the l_inf LP's
    smallest residual is reported instead), "approximate" (noisy LP), "error".
    residual: ``||act(W u + b) - y|| / ||y||`` for the returned input ``u``.
    unique: is the layer's preimage of ``y`` a single point (None: not decided).
    objective: the noisy LP's optimum (l_inf: t*, l_1: sum of slacks).
    error_bound: bound on ``||u - u_true||_2`` implied by the noise level (noisy methods).
    """

    layer: int
    status: str
    message: str = ""
    residual: float = float("nan")
    unique: bool | None = None
    lp_seconds: float = 0.0
    active: int = 0
    rank: int = 0
    objective: float | None = None
    error_bound: float | None = None


@dataclass
class InvertInfo:
    """The result of inverting one output, in the spirit of ``scipy.optimize``.

    status: "exact" (layerwise LPs gave z with G(z) = x), "joint" (the joint MILP was
    needed), "approximate" (noisy l_inf / l_1), "infeasible" (no z gives x; z is the l_inf
    best effort and the message names the layer and the smallest residual), "failed".
    residual: ``||G(z) - x||_2 / ||x||_2``.
    unique: is ``{z : G(z) = x}`` a single point (exact methods; None if undecided).
    layers: one :class:`LayerInfo` per layer, latent side first.
    joint: the MILP's report when it ran.
    """

    status: str
    message: str
    residual: float
    unique: bool | None
    method: str
    layers: list = field(default_factory=list)
    seconds: float = 0.0
    lp_seconds: float = 0.0
    joint: dict | None = None
    error_bound: float | None = None

    @property
    def success(self):
        return self.status in ("exact", "joint", "approximate")

    def to_dict(self):
        return asdict(self)


def _rel(r, y):
    return float(np.linalg.norm(r) / max(np.linalg.norm(y), 1e-300))


class Inverter:
    """A network prepared for inverting many outputs (HiGHS models are built once).

    Parameters
    ----------
    layers : list of (W, b), Network or torch.nn.Sequential
        See :func:`dsssolver.layers.as_network`.
    last_activation : {"relu", "leaky_relu", "linear"}
    negative_slope : float
        LeakyReLU slope of the last layer.
    method : {"exact", "linf", "l1"}
    tol : float
        Relative residual accepted as exact (default 1e-9).
    noise : float, optional
        Known bound on ``||x - G(z)||_inf`` for the noisy methods: entries ``<= noise`` are
        read as inactive ReLUs, and the error bounds use it.
    lp : {"auto", "always"}
        "auto" skips the LP of a layer whose active rows have full column rank: its
        preimage is then at most the one solution of those equations, which is computed
        and checked against every inequality directly.  "always" solves every LP.
    milp_time_limit : float
        Seconds for each joint MILP.
    lei_thresholds : bool
        Noisy methods: read every positive entry as active at hidden layers, as Lei et
        al. do, instead of thresholding at the estimated error of the layer above (for
        comparison; see ``benchmarks/invert_bench.py``).

    Notes
    -----
    Per output the work is small (a 500 x 100 LP, a 100 x 100 factorisation), so run one
    process per core with ``OPENBLAS_NUM_THREADS=1``: a multi-threaded BLAS on matrices
    this small was measured 10-100x slower on a loaded 2-core machine.  HiGHS runs with
    one thread for the same reason.  Sparse (convolution) layers reach HiGHS as sparse
    matrices, but the rank tests and the polishing use dense row blocks, which bounds the
    layer size at roughly 10^4 rows by 10^3 columns.
    """

    def __init__(self, layers, last_activation="relu", negative_slope=0.1, method="exact",
                 tol=1e-9, noise=None, lp="auto", milp_time_limit=60.0, *,
                 lei_thresholds=False):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if lp not in ("auto", "always"):
            raise ValueError(f"lp must be 'auto' or 'always', got {lp!r}")
        if not (isinstance(tol, (int, float)) and 0 < tol < 1):
            raise ValueError(f"tol must be in (0, 1), got {tol!r}")
        if noise is not None and not (np.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        self.net = as_network(layers, last_activation, negative_slope)
        self.method, self.tol, self.noise, self.lp = method, float(tol), noise, lp
        self.milp_time_limit = milp_time_limit
        self.lei_thresholds = bool(lei_thresholds)
        self._lps = {}
        self._dense = [layer.dense() for layer in self.net.layers]

    def _lp(self, k, kind):
        key = (k, kind)
        if key not in self._lps:
            self._lps[key] = LayerLP(self.net.layers[k], k > 0, kind)
        return self._lps[key]

    def _check_x(self, x):
        x = _as_numeric_array(x, "x")
        m = self.net.output_dim
        if x.dtype == object:
            x = x.astype(np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != m:
            raise ValueError(f"x must have shape ({m},) or (k, {m}) for this network's "
                             f"{m} outputs, got shape {x.shape}")
        return np.asarray(x, dtype=np.float64)

    # ------------------------------------------------------------------ public
    def invert(self, x):
        """Invert one output (1-D) or a batch (2-D, one output per row).

        Returns ``(z, info)`` or ``(Z, [info, ...])``.
        """
        x = self._check_x(x)
        if x.ndim == 2:
            out = [self._invert_one(row) for row in x]
            return np.array([o[0] for o in out]).reshape(len(x), self.net.latent_dim), \
                [o[1] for o in out]
        return self._invert_one(x)

    # ------------------------------------------------------------------ layers
    def _targets(self, k, y, tau):
        """Right-hand side ``c = pre - b`` and active mask of layer k for output y."""
        layer = self.net.layers[k]
        if layer.activation == "relu":
            return y - layer.b, y > tau
        pre = y if layer.activation == "linear" else \
            np.where(y >= 0, y, y / layer.negative_slope)
        return pre - layer.b, np.ones(len(y), bool)

    def _layer_residual(self, k, u, y):
        return _rel(self.net.layers[k](u) - y, y)

    def _exact_layer(self, k, y):
        c, I = self._targets(k, y, 0.0)
        poly = Poly.of_layer(self._dense[k], c, I, k > 0)
        info = LayerInfo(k + 1, "ok", active=int(I.sum()))
        u = solve_point(poly) if self.lp == "auto" else None
        if u is not None and poly.violation(u) <= self.tol * poly.scale(u):
            info.unique, info.rank = True, poly.n
            info.message = "active rows have full rank: the solution of their equations"
        else:
            st, u0, _, secs = self._lp(k, "exact").solve(c, I)
            info.lp_seconds = secs
            if st != "optimal":
                info.status = "infeasible" if st == "infeasible" else "error"
                info.message = f"HiGHS: {st}"
                return None, info, poly
            u = poly.polish(u0)
            if poly.violation(u) > self.tol * poly.scale(u):
                info.status = "infeasible"
                info.message = (f"the LP point violates the layer's equations by "
                                f"{poly.violation(u):.3g} (> tol): no exact preimage")
                return None, info, poly
            info.unique, info.rank = poly.is_point(u)
            if not info.unique:
                info.status = "not_unique"
                info.message = ("preimage is not a single point (layer not injective here)"
                                if info.unique is False else "could not decide uniqueness")
        info.residual = self._layer_residual(k, u, y)
        return u, info, poly

    def _noisy_layer(self, k, y, kind, eps, proven=True):
        """Lei et al.'s noisy LP at layer k, an error bound valid for its answer, and an
        estimate of its error that sets the threshold of the layer below.

        ``eps = (e_inf, e_2, e_est)``: proven bounds on the inf- and 2-norm of
        ``y - y_true`` and a typical size of its entries (None: noise unknown).

        Estimate: the l_inf (or l_1) LP with rows read as active when ``y_i > tau``; tau is
        the given noise at the output and ``e_est`` at hidden layers, so a row whose input
        may be noise around 0 gets only the one-sided constraint, true whether it is on or
        off.  (Lei et al. read every positive entry as active; at hidden layers that
        makes the l_inf LP chase noise: measured relative errors ~0.5.)

        Bound, valid for any answer u: a row with ``y_i > e_inf`` is surely active (an
        inactive one has ``y_i = e_i <= e_inf``); on those rows S,
        ``W_S (u - u_true) = r_S - e_S`` with r the residual of u, so with ``P = W_S^+``:
        ``||u - u_true||_2 <= (||r_S||_2 + min(sqrt|S| e_inf, e_2)) / s_min(W_S)`` and
        ``|u_j - u_true_j| <= ||P_j||_1 (||r_S||_inf + e_inf)``.  Infinite when rank W_S < n.
        The typical error, for the next threshold, replaces ``||P_j||_1`` by ``||P_j||_2``
        (errors of independent signs).  Returns ``(u, info, eps for the layer below)``.
        """
        layer = self.net.layers[k]
        floor = 1e-12 * max(np.abs(y).max(), 1e-300)  # LP round-off is not signal
        tau = max(floor, eps[2]) if eps is not None else floor
        if self.lei_thresholds and k < len(self.net.layers) - 1:
            tau = floor
        n = layer.shape[1]
        if k < len(self.net.layers) - 1 and (y > tau).sum() < n <= (y > floor).sum():
            tau = np.sort(y)[-n] * (1 - 1e-12)  # keep n rows: a threshold must not blind us
        c, I = self._targets(k, y, tau)
        st, u, obj, secs = self._lp(k, kind).solve(c, I)
        info = LayerInfo(k + 1, "approximate", lp_seconds=secs, active=int(I.sum()),
                         objective=obj)
        if st != "optimal":
            info.status, info.message = "error", f"HiGHS: {st}"
            return None, info, None
        if k > 0:
            u = np.maximum(u, 0.0)
        info.residual = self._layer_residual(k, u, y)
        info.message = f"{kind} LP optimum {obj:.3g}"
        A = self._dense[k]
        r_I = np.abs(c[I] - A[I] @ u)
        scale = 1.0 / min(1.0, layer.negative_slope) if layer.activation == "leaky_relu" \
            else 1.0  # pre = y / slope where y < 0: the noise scales up with it
        rms = float(np.sqrt(np.mean(r_I ** 2))) if r_I.size else 0.0  # l_1 leaves outliers
        e_est = rms if eps is None else eps[2] * scale
        info.rank, _, _, n2 = Poly.of_layer(A, c, I, k > 0).pinv_norms()
        est = n2 * (rms + e_est)
        if eps is None or not proven:
            return u, info, (np.inf, np.inf, est)
        e_inf, e_2 = eps[0] * scale, eps[1] * scale
        cs, S = self._targets(k, y, max(e_inf, tau))
        poly = Poly.of_layer(A, cs, S, k > 0)
        _, smin, n1, _ = poly.pinv_norms()
        if smin > 0:
            r_S = poly.A_eq @ u - poly.c_eq
            b2 = float((np.linalg.norm(r_S) + min(np.sqrt(S.sum()) * e_inf, e_2)) / smin)
            binf = min(b2, float(n1 * (np.abs(r_S).max() + e_inf)))
        else:
            b2 = binf = float("inf")
        info.error_bound = b2
        return u, info, (binf, b2, est)

    # ------------------------------------------------------------------ driver
    def _invert_one(self, x):
        t0 = time.perf_counter()
        layers = self.net.layers
        L = len(layers)
        infos, y, kind = [], x, self.method
        status, message, unique, joint = None, "", True, None
        eps = None if self.noise is None else (self.noise, self.noise * np.sqrt(len(x)),
                                               self.noise)
        if kind == "exact" and layers[-1].activation == "relu" and (x < 0).any():
            i = int(np.argmin(x))
            status = "infeasible"
            message = f"x[{i}] = {x[i]:.6g} < 0 cannot be a ReLU output"
            kind = "linf"
            message += " (z is the l_inf LP answer)"
        z = None
        for k in reversed(range(L)):
            if kind == "exact":
                u, info, poly = self._exact_layer(k, y)
                infos.append(info)
                if info.status in ("infeasible", "error"):
                    kind, status = "linf", ("infeasible" if info.status == "infeasible"
                                            else "failed")
                    u, linfo, eps = self._noisy_layer(k, y, "linf", None, False)
                    if u is None:
                        message = f"layer {k + 1}: {info.message}; {linfo.message}"
                        break
                    t = linfo.objective
                    message = (f"no z gives x: layer {k + 1} has no preimage ({info.message}); "
                               f"smallest l_inf residual for its on/off pattern {t:.3g} "
                               f"({t / max(np.abs(y).max(), 1e-300):.3g} relative); z is the "
                               f"l_inf LP answer")
                    info.objective, info.residual = t, linfo.residual
                    info.lp_seconds += linfo.lp_seconds
                elif info.unique is not True and k > 0:
                    from .joint import joint_invert

                    zj, joint = joint_invert(layers[:k], self._dense[:k], poly,
                                             tol=self.tol, time_limit=self.milp_time_limit)
                    if zj is not None or joint["status"] != "infeasible":
                        for j in range(k):
                            infos.append(LayerInfo(j + 1, "joint", "solved in the joint MILP"))
                        z, unique, message = zj, joint["unique"], joint["message"]
                        status = "joint" if z is not None else "failed"
                        break
                    # no point of P is an output of the layers below: x is not in the
                    # range.  Go on from the LP's point of P with l_inf LPs, for a best effort.
                    status, kind = "infeasible", "linf"
                    message = (f"no z gives x: no point of layer {k + 1}'s preimage is an "
                               f"output of the layers below (joint MILP infeasible); z is the "
                               f"l_inf LP answer from there")
                elif info.unique is not True:
                    unique = False if info.unique is False else None
                    message = ("the first layer's preimage is not a single point: z is one "
                               "preimage of many" if unique is False else
                               "z is a preimage; whether the only one was not decided")
            else:
                u, info, eps = self._noisy_layer(k, y, kind, eps, self.noise is not None)
                infos.append(info)
                if u is None:
                    status = "failed"
                    message = f"layer {k + 1}: {info.message}"
                    break
            y = u
        else:
            z = y
        infos.reverse()
        lp_secs = sum(i.lp_seconds for i in infos)
        if z is None:
            return np.full(self.net.latent_dim, np.nan), InvertInfo(
                status or "failed", message, float("nan"), None, self.method, infos,
                time.perf_counter() - t0, lp_secs, joint)
        res = _rel(self.net.forward(z) - x, x)
        if status is None:
            if self.method == "exact":
                status = "exact"
                if res > self.tol:
                    status, message = "failed", f"residual {res:.3g} above tol {self.tol:g}"
            else:
                status, unique = "approximate", None
        elif status == "infeasible":
            unique = None
            message += f"; the returned z has ||G(z) - x|| / ||x|| = {res:.3g}"
        if not message:
            message = {"exact": "every layer inverted by LP", "approximate":
                       f"{self.method} LP at every layer"}.get(status, "")
            if status == "exact":
                message += "; the preimage is a single point" if unique else ""
        if status == "joint" and res > self.tol:
            status, message = "failed", f"joint MILP answer has residual {res:.3g}; " + message
        return z, InvertInfo(status, message, res, unique, self.method, infos,
                             time.perf_counter() - t0, lp_secs, joint,
                             eps[1] if (eps is not None and self.method != "exact"
                                        and self.noise is not None) else None)


def invert(layers, x, method="exact", *, last_activation="relu", negative_slope=0.1,
           tol=1e-9, noise=None, lp="auto", milp_time_limit=60.0):
    """Find the latent code z with ``G(z) = x`` (or the best z for a noisy x).

    Parameters
    ----------
    layers : list of (W, b), Network or torch.nn.Sequential
        ``G(z) = act(W_L ... ReLU(W_1 z + b_1) ... + b_L)``: a ReLU after every layer but
        the last, which is followed by ``last_activation``.  ``b`` may be None.  Weights
        may be dense arrays or sparse (:func:`dsssolver.layers.conv2d`).
    x : array_like
        One output (1-D), or a batch with one output per row (2-D).
    method : {"exact", "linf", "l1"}
        "exact": the LP of MATH.md section 8 at each layer, and the joint MILP where a
        layer's preimage is not a single point.  "linf" / "l1": Lei et al.'s noisy LPs.
    last_activation : {"relu", "leaky_relu", "linear"}
    negative_slope : float
    tol : float
        Relative residual ``||G(z) - x|| / ||x||`` accepted as exact.
    noise : float, optional
        A bound on ``||x - G(z_true)||_inf`` (noisy methods): sets the threshold below which
        outputs are read as inactive, and gives ``info.error_bound``.
    lp : {"auto", "always"}
        See :class:`Inverter`.
    milp_time_limit : float

    Returns
    -------
    z : ndarray
        The code (NaN if nothing could be returned); ``Z`` with one row per output for a batch.
    info : InvertInfo or list of InvertInfo
        ``status``, ``message``, ``residual``, ``unique`` and per-layer ``layers`` (status,
        residual, unique, lp_seconds, ...).

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, an unknown method or activation.  An x that no z produces
        is not an error: ``info.status == "infeasible"`` and the message gives the
        smallest residual.

    Examples
    --------
    >>> import numpy as np
    >>> W1 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> W2 = np.vstack([np.eye(3), -np.eye(3)])
    >>> x = np.maximum(W2 @ np.maximum(W1 @ [1.0, 2.0], 0), 0)
    >>> z, info = invert([(W1, None), (W2, None)], x)
    >>> z, info.status
    (array([1., 2.]), 'exact')
    >>> z, info = invert([(W1, None), (W2, None)], x + 0.01, method="linf", noise=0.01)
    >>> info.status, bool(np.abs(z - [1, 2]).max() < 0.05)
    ('approximate', True)
    """
    return Inverter(layers, last_activation, negative_slope, method, tol, noise, lp,
                    milp_time_limit).invert(x)
