"""Invert generator outputs layer by layer with linear programs (Lei et al. 2019).

``G(z) = act_L(W_L ... ReLU(W_1 z + b_1) ... + b_L)``.  Given ``x`` we invert the last
layer first: its preimage is a polyhedron (docs/math.md, "Inversion"), found by one HiGHS
LP or, when the active rows have full rank, by solving their equations.  When that
polyhedron is a single point (proved by the exact rank of the active rows, see
:mod:`dsssolver.invert.exact`) we recurse on it; when it is not, the polyhedron and every
layer below it become one mixed-integer program (:mod:`dsssolver.invert.joint`).

Noisy outputs use Lei et al.'s l_inf or l_1 LPs, or the l_2 variant (the l_1 LP's answer
polished by Gauss-Newton on ``||G(z) - x||_2``, :mod:`dsssolver.invert.polish`); the noise
is a given l_inf bound, a given standard deviation, or estimated, and every answer carries
the error bound of :func:`dsssolver.invert.noise.error_bound`.

Examples
--------
>>> import numpy as np, dsssolver as dss
>>> rng = np.random.default_rng(0)
>>> layers = [(rng.normal(size=(40, 5)) / np.sqrt(40), None),
...           (rng.normal(size=(120, 40)) / np.sqrt(120), None)]
>>> z = rng.normal(size=5)
>>> x = dss.layers.as_network(layers).forward(z)
>>> res = dss.invert(layers, x)
>>> res.status, res.unique, bool(np.allclose(res.z, z, rtol=1e-9, atol=1e-12))
('exact', True, True)
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import batch as _batch
from .exact import check_unique, cone_evidence, no_preimage, rank_evidence
from .lp import LayerLP, Poly, solve_point
from .noise import DELTA, MAX_DENSE, NoiseLevel, beyond_noise, error_bound, robust_sigma
from .polish import gauss_newton
from .sparse import cgls
from .squash import SQUASHES
from .squash import invert_one as squash_invert_one
from .stability import layer_stability, stability_time_limit
from .result import (APPROXIMATE, EXACT, FAILED, INFEASIBLE, JOINT, InvertResult, LayerInfo, make_result)
from .._validate import _as_numeric_array, as_progress
from ..errors import InvalidInputError
from ..layers import SparseMatrix, as_network

__all__ = ["invert", "Inverter", "METHODS"]

METHODS = ("exact", "linf", "l1", "l2")


def _rel(r, y, b):
    """``||r||`` relative to the data: the output ``y``, or the bias ``b`` where ``y`` is
    smaller (an all-zero output is fitted by ``W u + b <= 0``, whose tight rows evaluate
    to round-off of the size of ``b``, not of 0)."""
    return float(np.linalg.norm(r) / max(np.linalg.norm(y), np.linalg.norm(b), 1e-300))


def _positive(value, name, allow_zero=True):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InvalidInputError(f"{name} must be a finite number "
                                f"{'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


class Inverter:
    """A network prepared for inverting many outputs (HiGHS models are built once).

    Parameters
    ----------
    layers : list of (W, b), Network or torch.nn.Sequential
        See :func:`dsssolver.layers.as_network`.
    last_activation : {"relu", "leaky_relu", "linear", "tanh", "sigmoid"}
        tanh / sigmoid: inverted through their inverse (:mod:`dsssolver.invert.squash`).
    negative_slope : float
        LeakyReLU slope of the last layer.
    method : {"exact", "linf", "l1", "l2"}
        See :func:`invert`.
    tol : float
        Relative residual accepted as exact (default 1e-9).
    noise : float, optional
        An l_inf bound: ``||x - G(z_true)||_inf <= noise``.
    noise_std : float, optional
        The standard deviation of iid Gaussian noise on each entry of x.
    lp : {"auto", "always"}
        "auto" skips the LP of a layer whose active rows have full column rank: its
        preimage is then at most the one solution of those equations, which is computed
        and checked against every inequality directly.  "always" solves every LP.
    milp_time_limit : float
        Seconds for each joint MILP step: every solve in it (the retries at a looser
        tolerance and the uniqueness MILP) shares this budget.  A step that runs out makes
        no claim ("infeasible" only after the looser tolerance agreed in time).
    lei_thresholds : bool
        Noisy methods: read every positive entry as active at hidden layers, as Lei et
        al. do, instead of thresholding at the estimated error of the layer above (for
        comparison; see ``benchmarks/invert_bench.py``).
    bounds : bool
        Compute ``error_bound`` (a few small factorisations per layer).
    stability : bool or float
        Also report each layer's global error amplification (``LayerInfo.stability``) and
        ``stability_bound`` (:mod:`dsssolver.invert.stability`): a branch-and-bound over
        the layer's cells, run once per layer and kept for later outputs.  True gives each
        layer 30 s; a number is the seconds per layer.  Off by default (it can be slow for
        wide layers; a stopped search still gives a proved, weaker bound).

    Notes
    -----
    BLAS is held at one thread while inverting (with ``threadpoolctl``); HiGHS runs with
    one thread.  Parallelism is across outputs: ``invert(X, workers=...)``.
    """

    def __init__(self, layers, *, last_activation="relu", negative_slope=0.1, method="exact",
                 tol=1e-9, noise=None, noise_std=None, lp="auto", milp_time_limit=60.0,
                 lei_thresholds=False, bounds=True, stability=False):
        if method not in METHODS:
            raise InvalidInputError(f"method must be one of {METHODS}, got {method!r}")
        if lp not in ("auto", "always"):
            raise InvalidInputError(f"lp must be 'auto' or 'always', got {lp!r}")
        tol = _positive(tol, "tol", allow_zero=False)
        if tol >= 1:
            raise InvalidInputError(f"tol must be in (0, 1), got {tol!r}")
        if noise is not None and noise_std is not None:
            raise InvalidInputError("give noise (an l_inf bound) or noise_std, not both")
        if method == "exact" and (noise is not None or noise_std is not None):
            raise InvalidInputError("method='exact' takes no noise; use 'linf', 'l1' or 'l2'")
        self.noise = None if noise is None else _positive(noise, "noise")
        self.stability_limit = stability_time_limit(stability)
        self.noise_std = None if noise_std is None else _positive(noise_std, "noise_std")
        _positive(milp_time_limit, "milp_time_limit", allow_zero=False)
        _positive(negative_slope, "negative_slope", allow_zero=False)
        try:
            self.net = as_network(layers, last_activation, negative_slope)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(str(exc)) from None
        self.options = dict(method=method, tol=tol, noise=noise, noise_std=noise_std, lp=lp,
                            milp_time_limit=milp_time_limit, lei_thresholds=lei_thresholds,
                            bounds=bounds, stability=stability)
        self.method, self.tol, self.lp = method, tol, lp
        self.milp_time_limit = milp_time_limit
        self.lei_thresholds, self.bounds = bool(lei_thresholds), bool(bounds)
        self._lps = {}
        # set by dsssolver.invert.squash: the data are sigma^-1(x) rounded, not exact
        # outputs, so no exact end-to-end evidence is sought from them
        self.float_targets = False
        self._dense_cache = {}
        self._transposes = {}
        self._stability = {}

    def _dense(self, k):
        """Layer k's weight as a dense array (None for a sparse layer too large for it)."""
        if k not in self._dense_cache:
            layer = self.net.layers[k]
            m, n = layer.shape
            big = isinstance(layer.W, SparseMatrix) and m * n > MAX_DENSE
            self._dense_cache[k] = None if big else layer.dense()
        return self._dense_cache[k]

    def _layer_stability(self, k):
        """Layer k's global amplification bound (computed once; None for a too-large layer)."""
        if k not in self._stability:
            A, layer = self._dense(k), self.net.layers[k]
            self._stability[k] = None if A is None else layer_stability(
                A, layer.b, layer.activation, layer.negative_slope,
                time_limit=self.stability_limit)
        return self._stability[k]

    def _stability_report(self, infos, r, x, level):
        """Per-layer global bounds into ``infos``; ``(product, bound)`` for the result."""
        amp = 1.0
        for info in infos:
            st = self._layer_stability(info.layer - 1)
            info.stability = None if st is None else dict(st)
            amp *= math.inf if st is None else st["amplification"]
        # + a relative 1e-12 of ||x||: G(z) is evaluated in floating point
        slack = float(np.linalg.norm(r)) + level.l2 + 1e-12 * float(np.linalg.norm(x))
        return amp, amp * slack

    def _lp(self, k, kind):
        key = (k, kind)
        if key not in self._lps:
            self._lps[key] = LayerLP(self.net.layers[k], k > 0, kind)
        return self._lps[key]

    def _check_x(self, x):
        try:
            x = _as_numeric_array(x, "x")
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(str(exc)) from None
        m = self.net.output_dim
        if x.dtype == object:
            x = x.astype(np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != m or (x.ndim == 2 and x.shape[0] == 0):
            raise InvalidInputError(f"x must have shape ({m},) or (k, {m}) with k >= 1 for "
                                    f"this network's {m} outputs, got shape {x.shape}")
        return np.asarray(x, dtype=np.float64)

    # ------------------------------------------------------------------ public
    def invert(self, x, *, workers=1, client=None, progress=False):
        """Invert one output (1-D) or a batch (2-D, one output per row).

        Parameters
        ----------
        x : array_like
        workers : int
            Processes for a batch, this one included (1: no other process).
        client : dask.distributed.Client, optional
            Run a batch on this Dask cluster instead.
        progress : bool or float
            For a batch: a line on stderr (outputs done, seconds) every second, or every
            ``progress`` seconds.

        Returns
        -------
        InvertResult
        """
        x = self._check_x(x)
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise InvalidInputError(f"workers must be an integer >= 1, got {workers!r}")
        interval = as_progress(progress)
        if x.ndim == 1:
            with _batch.single_blas_thread():
                return self._invert_one(x)
        t0, c0 = time.perf_counter(), time.process_time()
        bar = _batch.BatchProgress(len(x), interval)
        if client is not None:
            results = _batch.run_dask(client, Inverter, self.net, self.options, x,
                                      bar if interval else None)
            stats = {"processes": None, "dask": True}
        elif workers > 1 and len(x) > 1:
            results, stats = _batch.run_processes(self, x, int(min(workers, len(x))), bar)
        else:
            results = self._invert_rows(x, bar)
            stats = {"processes": 1, "chunks": 1, "cpu_seconds": [time.process_time() - c0]}
        stats["wall_seconds"] = time.perf_counter() - t0
        out = InvertResult.batch_of(results, self.net.latent_dim)
        out.parallel = stats
        return out

    def _invert_rows(self, X, progress=None):
        out = []
        with _batch.single_blas_thread():
            for row in X:
                out.append(self._invert_one(row))
                if progress is not None:
                    progress.add(1)
        return out

    # ------------------------------------------------------------------ layers
    def _targets(self, k, y, tau):
        """Right-hand side ``c = pre - b`` and active mask of layer k for output y."""
        layer = self.net.layers[k]
        if layer.activation == "relu":
            return y - layer.b, y > tau
        pre = y if layer.activation == "linear" else \
            np.where(y >= 0, y, y / layer.negative_slope)
        return pre - layer.b, np.ones(len(y), bool)

    def _ref(self, k, y):
        """The size of the data layer k's right-hand side ``c = pre(y) - b`` comes from."""
        b = self.net.layers[k].b
        return max(float(np.abs(y).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))

    def _layer_residual(self, k, u, y):
        return _rel(self.net.layers[k](u) - y, y, self.net.layers[k].b)

    def _exact_layer(self, k, y, tau=0.0):
        """The preimage of y under layer k: ``(u, info, poly, is_point)``; ``is_point`` is the
        float decision (the exact evidence goes into ``info.unique``).

        ``tau``: entries of y at or below it are not read as active.  It is 0 unless a CGLS
        layer above left y with errors of order 1e-11: then an entry that is truly 0 can
        come out positive, and read as an active row (an equation the true point breaks)
        it makes the layer infeasible.  Not reading a row as active is always safe: off the
        active set the row stays as ``w_i u + b_i <= y_i``, which the true point meets.
        """
        A = self._dense(k)
        if A is None:
            return self._big_layer(k, y, True)
        c, I = self._targets(k, y, tau)
        ref = self._ref(k, y)
        poly = Poly.of_layer(A, c, I, k > 0, ref)
        info = LayerInfo(k + 1, "ok", active=int(I.sum()))
        u = solve_point(poly) if self.lp == "auto" else None
        if u is not None and poly.violation(u) <= self.tol * poly.scale(u):
            point, info.rank = True, poly.n
            info.message = "active rows have full rank: the solution of their equations"
        else:
            st, u0, _, secs = self._lp(k, "exact").solve(c, I, ref)
            info.lp_seconds = secs
            if st != "optimal":
                info.status = "infeasible" if st == "infeasible" else "error"
                info.message = f"HiGHS: {st}"
                return None, info, poly, None
            u = poly.polish(u0)
            if poly.violation(u) > self.tol * poly.scale(u):
                info.status = "infeasible"
                info.message = (f"the LP point violates the layer's equations by "
                                f"{poly.violation(u):.3g} (> tol): no exact preimage")
                return None, info, poly, None
            point, info.rank = poly.is_point(u)
        if point:
            # exact evidence: the rows read as active must have rank n over Q.  At a hidden
            # layer y is a float solution, so only entries clearly above round-off count
            # (a subset of the truly active rows: full rank on it proves full rank).
            thr = 0.0 if k == len(self.net.layers) - 1 else 1e-9 * max(np.abs(y).max(), 1e-300)
            thr = max(thr, tau)
            _, J = self._targets(k, y, thr)
            last = k == len(self.net.layers) - 1  # rows read from the data: also try to
            # prove x has no exact preimage (one modular rank either way)
            info.evidence = (no_preimage(self.net.layers[k], A, y, J)
                             if last and not self.float_targets else None) or \
                rank_evidence(A, J) or self._cone(A, poly, J, u, k > 0)
            info.unique = True if info.evidence is not None else None
            if info.evidence is None:
                info.message += ("; a single point by a floating-point test, not proven "
                                 "exactly (active rows not of full rank)")
        else:
            info.unique = False if point is False else None
            info.status = "not_unique"
            info.message = ("preimage is not a single point (layer not injective here)"
                            if point is False else "could not decide uniqueness")
        info.residual = self._layer_residual(k, u, y)
        return u, info, poly, point

    def _big_layer(self, k, y, exact, tau=0.0):
        """A layer too large for dense algebra: least squares on its active rows (CGLS).

        Returns ``(u, info, None, "big")``: no polyhedron, and no exact evidence at this size.
        """
        layer = self.net.layers[k]
        if exact and k < len(self.net.layers) - 1:
            tau = _cgls_floor(y)
        c, I = self._targets(k, y, tau)
        if k not in self._transposes:
            self._transposes[k] = layer.W.T
        u, its = cgls(layer.W, self._transposes[k], c, I)
        if k > 0:
            u = np.maximum(u, 0.0)
            if exact:  # CGLS leaves ~1e-11 where the truth is 0: it is not an active row
                u[u <= 1e-8 * max(u.max(initial=0), 1e-300)] = 0.0
        info = LayerInfo(k + 1, "ok" if exact else "approximate", active=int(I.sum()),
                         threshold=float(tau), message=f"layer too large for LPs: least "
                         f"squares on the active rows by CGLS ({its} iterations); "
                         f"uniqueness not decided at this size")
        info.residual = self._layer_residual(k, u, y)
        if exact and info.residual > 1e3 * self.tol:
            info.status = "infeasible"
            info.message += f"; residual {info.residual:.3g}: no exact preimage"
            return None, info, None, None
        return u, info, None, "big"

    def _unique_exactly(self, x, infos):
        """``(unique, message)`` once every layer has exact evidence.  A hidden layer's
        active rows were read from a float preimage, so the layers' evidence together proves
        "at most one preimage" only with an exact chain (:func:`check_unique`), unless the
        last layer's evidence already proved that x has no exact preimage at all."""
        if infos[-1].evidence.get("no_preimage"):
            return True, ("every layer inverted; at most one preimage, exactly: x (a rounded "
                          "output) has none, its active rows admit no exact input; z fits it "
                          "to the residual")
        ok, why = check_unique(self.net, x, [i.evidence for i in infos])
        if ok:
            return True, f"every layer inverted; {why} (exact, end to end)"
        return None, f"z is a preimage; a single point not proven exactly ({why})"

    def _cone(self, A, poly, J, u, nonneg):
        """Exact cone evidence at the point u (rows J active): see :func:`cone_evidence`."""
        T, Z = poly.tight(u, self.tol)
        inactive = np.flatnonzero(~poly.mask)
        zero = np.flatnonzero(Z) if nonneg else []
        return cone_evidence(A, np.flatnonzero(J), inactive[T], zero)

    def _noisy_layer(self, k, y, kind, tau, typ):
        """Lei et al.'s noisy LP at layer k with threshold ``tau``; returns ``(u, info, est)``
        with ``est`` a typical size of u's error (the threshold of the layer below).

        Rows with ``y_i > tau`` are fitted two-sided, the others one-sided
        (``w_i u + b_i <= y_i + slack``), which holds whether they are on or off.  (Lei et
        al. read every positive entry as active; at hidden layers that makes the l_inf LP
        chase noise: measured relative errors ~0.5.)  ``typ`` is a typical entry of y's
        error; the estimate of u's error is ``max_j ||P_j||_2 (rms residual + typ)``
        with ``P`` the pseudo-inverse of the active rows (errors of independent signs).
        """
        layer = self.net.layers[k]
        L = len(self.net.layers)
        floor = 1e-12 * max(np.abs(y).max(), 1e-300)  # LP round-off is not signal
        tau = max(floor, tau)
        if self.lei_thresholds and k < L - 1:
            tau = floor
        n = layer.shape[1]
        if k < L - 1 and (y > tau).sum() < n <= (y > floor).sum():
            tau = np.sort(y)[-n] * (1 - 1e-12)  # keep n rows: a threshold must not blind us
        if self._dense(k) is None:
            u, info, _, _ = self._big_layer(k, y, False, tau)
            return u, info, typ
        c, I = self._targets(k, y, tau)
        st, u, obj, secs = self._lp(k, kind).solve(c, I, self._ref(k, y))
        info = LayerInfo(k + 1, "approximate", lp_seconds=secs, active=int(I.sum()),
                         objective=obj, threshold=float(tau))
        if st != "optimal":
            info.status, info.message = "error", f"HiGHS: {st}"
            return None, info, None
        if k > 0:
            u = np.maximum(u, 0.0)
        info.residual = self._layer_residual(k, u, y)
        info.message = f"{kind} LP optimum {obj:.3g}"
        A = self._dense(k)
        if A is None:
            return u, info, typ
        r_I = np.abs(c[I] - A[I] @ u)
        scale = 1.0 / min(1.0, layer.negative_slope) if layer.activation == "leaky_relu" \
            else 1.0  # pre = y / slope where y < 0: the noise scales up with it
        rms = float(np.sqrt(np.mean(r_I ** 2))) if r_I.size else 0.0  # l_1 leaves outliers
        info.rank, _, _, n2 = Poly.of_layer(A, c, I, k > 0).pinv_norms()
        return u, info, n2 * (rms + typ * scale)

    def _estimate_level(self, x):
        """Noise level of x when none is given: l_1 fits of the last layer, the threshold
        re-set from the residual's robust spread until the active set settles."""
        k = len(self.net.layers) - 1
        layer, m = self.net.layers[k], len(x)
        scale = max(np.abs(x).max(), 1e-300)
        tau, sigma, I_prev = 1e-12 * scale, 0.0, None
        for _ in range(4):
            c, I = self._targets(k, x, tau)
            if I_prev is not None and np.array_equal(I, I_prev):
                break
            if self._dense(k) is None:
                u, _, _, _ = self._big_layer(k, x, False, tau)
            else:
                st, u, _, _ = self._lp(k, "l1").solve(c, I, self._ref(k, x))
                if st != "optimal":
                    break
            sigma = robust_sigma(x - layer(np.maximum(u, 0) if k > 0 else u), scale)
            tau, I_prev = max(tau, NoiseLevel.from_std(sigma, m).inf), I
        return NoiseLevel.from_std(sigma, m, source="estimated")

    def _level(self, x):
        m = len(x)
        if self.noise is not None:
            return NoiseLevel.from_bound(self.noise, m)
        if self.noise_std is not None:
            return NoiseLevel.from_std(self.noise_std, m)
        return self._estimate_level(x)

    # ------------------------------------------------------------------ drivers
    def _layerwise_noisy(self, x, kind, level):
        """Noisy LPs from the output down: ``(z or None, infos, message)``."""
        y, infos = x, []
        tau, typ = level.inf, level.typ
        for k in reversed(range(len(self.net.layers))):
            u, info, est = self._noisy_layer(k, y, kind, tau, typ)
            infos.append(info)
            if u is None:
                return None, infos[::-1], f"layer {k + 1}: {info.message}"
            # est is a typical entry of u's error; the largest of n such entries (read as
            # Gaussian) stays below est * sqrt(2 ln(2n / delta)) with probability 1 - delta
            y, typ = u, est
            tau = est * math.sqrt(2 * math.log(2 * len(u) / DELTA))
        return y, infos[::-1], ""

    def _approximate(self, x, method, level):
        """z by a noisy method (l2: the l_1 LPs, then Gauss-Newton)."""
        kind = "l1" if method == "l2" else method
        z, infos, msg = self._layerwise_noisy(x, kind, level)
        if z is not None and method == "l2":
            z = gauss_newton(self.net, z, x)
        return z, infos, msg

    def _invert_one(self, x):
        res = self._invert_rounded_net(x)
        rounded = self.net.rounded
        if rounded:  # every claim is about the float64 network inverted, not the one given
            res.unique = None
            names = ", ".join(rounded[:3]) + (", ..." if len(rounded) > 3 else "")
            res.message += (f"; the weights were rounded to float64 ({names} held values such as "
                            "1/3 that float64 cannot), so this is about the rounded network: no "
                            "exact claim about the one given")
        return res

    def _invert_rounded_net(self, x):
        t0 = time.perf_counter()
        if self.net.layers[-1].activation in SQUASHES:
            return squash_invert_one(self, x)
        if self.method == "exact":
            return self._invert_exact(x, t0)
        level = self._level(x)
        z, infos, msg = self._approximate(x, self.method, level)
        if z is None:
            return self._failed(infos, msg, t0, level)
        res = self._finish(z, x, infos, level, APPROXIMATE, "", None, None, t0)
        return res if res.status != FAILED else self._beyond_noise(x, z, infos, level, t0, res)

    def _beyond_noise(self, x, z, infos, level, t0, res):
        """The layerwise answer is not within the noise.  Layerwise LPs are not a global fit
        where a layer's preimage is not a single point (the point picked may be one the
        layers below cannot produce), so this proves nothing by itself: try Gauss-Newton from
        that point; then, for an l_inf bound, the last layer's own l_inf LP, whose optimum
        above the bound does prove that no code fits x; then the joint MILP over the last
        layer's noise polytope (:meth:`_noisy_joint`).  Otherwise the result stays FAILED."""
        if self.method != "l2":
            out = self._fit_from(z, x, infos, level, t0, None, "Gauss-Newton from its point")
            if out is not None:
                return out
        proof = self._last_layer_cannot_fit(x, level)
        if proof:
            res.status, res.success, res.message = INFEASIBLE, False, proof
            return res
        return self._noisy_joint(x, infos, level, t0, res)

    def _noisy_joint(self, x, infos, level, t0, res):
        """The joint MILP for noisy data: the last layer's noise polytope (every code within
        ``level.inf`` of x has its last hidden point there) and the layers below as one MILP.
        A solution is fitted by Gauss-Newton and kept if it fits within the noise; an
        infeasible MILP proves, for an l_inf bound, that no code fits."""
        k = len(self.net.layers) - 1
        A = self._dense(k)
        if k == 0 or A is None or any(self._dense(j) is None for j in range(k)):
            return res
        from .joint import joint_invert

        c, I, eps = self._noise_targets(x, level)
        poly = Poly(np.zeros((0, A.shape[1])), np.zeros(0), np.vstack([A[I], -A[I], A[~I]]),
                    np.r_[c[I] + eps, -(c[I] - eps), c[~I] + eps], True, None, self._ref(k, x))
        zj, joint = joint_invert(self.net.layers[:k], [self._dense(j) for j in range(k)], poly,
                                 tol=self.tol, time_limit=self.milp_time_limit)
        if zj is None:
            if joint.status == "infeasible" and level.source == "bound":
                res.status, res.success = INFEASIBLE, False
                res.message = (f"no code explains x within the noise bound {level.inf:.3g}: no "
                               "point of the last layer's noise polytope is an output of the "
                               "layers below (joint MILP infeasible)")
            else:
                res.message += f"; the joint MILP did not help ({joint.message})"
            res.joint = joint
            return res
        out = self._fit_from(zj, x, infos, level, t0, joint,
                             "the joint MILP over the last layer's noise polytope, then "
                             "Gauss-Newton,")
        if out is None:
            res.message += "; the joint MILP's point does not fit within the noise either"
            return res
        return out

    def _fit_from(self, z0, x, infos, level, t0, joint, how):
        """Gauss-Newton from ``z0``; the APPROXIMATE result if it fits x within the noise."""
        z = gauss_newton(self.net, z0, x)
        if beyond_noise(self.net.forward(z) - x, x, level) is not None:
            return None
        out = self._finish(z, x, infos, level, APPROXIMATE, "", None, joint, t0)
        out.message = (f"{self.method} at every layer missed (a layer's preimage is not a single "
                       f"point); {how} fits x within the {level.source} noise level")
        return out

    def _noise_targets(self, x, level):
        """The last layer's right-hand side, active rows (above the noise) and the noise on
        its pre-activation: the bound, times 1/slope below 0 for a LeakyReLU."""
        k = len(self.net.layers) - 1
        layer = self.net.layers[k]
        c, I = self._targets(k, x, level.inf)
        slope = layer.negative_slope if layer.activation == "leaky_relu" else 1.0
        return c, I, level.inf / min(1.0, slope)

    def _last_layer_cannot_fit(self, x, level):
        """Why no code fits x within an l_inf noise bound, from the last layer's l_inf LP
        (every such code's last hidden layer is feasible there with t <= the bound), or None."""
        k = len(self.net.layers) - 1
        if level.source != "bound" or self._dense(k) is None:
            return None
        c, I, eps = self._noise_targets(x, level)
        st, _, obj, _ = self._lp(k, "linf").solve(c, I, self._ref(k, x))
        # HiGHS's tolerances are absolute (1e-7): a margin above them, relative to the data
        if st == "optimal" and obj > eps + 1e-6 * max(float(np.abs(c).max(initial=0.0)), 1.0):
            return (f"no code explains x within the noise bound {level.inf:.3g}: even the last "
                    f"layer alone cannot fit it (its l_inf LP optimum is {obj:.3g})")
        return None

    def _failed(self, infos, message, t0, level, joint=None):
        return make_result(np.full(self.net.latent_dim, np.nan), FAILED, message, math.nan,
                           None, self.method, infos, time.perf_counter() - t0,
                           sum(i.lp_seconds for i in infos), joint, level.inf, level.source)

    def _finish(self, z, x, infos, level, status, message, unique, joint, t0):
        """Residual, error bound, the residual-against-noise check, the result."""
        r = self.net.forward(z) - x
        res = _rel(r, x, self.net.layers[-1].b)
        bound, amps = (math.inf, [None] * len(infos))
        if self.bounds:
            bound, amps = error_bound(self.net, [self._dense(k) for k in range(len(infos))],
                                      z, x, level)
        for info, a in zip(infos, amps):
            info.amplification = a
        amp = math.prod(a for a in amps) if all(a is not None for a in amps) else math.inf
        if status == APPROXIMATE:
            why = beyond_noise(r, x, level)
            if why:  # not proof that no code fits: see _beyond_noise
                status = FAILED
                message = (f"{why}: no fit within the noise was found (x may have none, or "
                           "the layerwise LPs missed it)")
            else:
                message = (f"{self.method} at every layer"
                           + (" then Gauss-Newton on ||G(z) - x||_2" if self.method == "l2"
                              else "") + f"; residual within the {level.source} noise level")
        if status in (EXACT, JOINT) and res > self.tol:
            status, message = FAILED, f"residual {res:.3g} above tol {self.tol:g}"
        stab = None if self.stability_limit is None else self._stability_report(infos, r, x, level)
        return make_result(z, status, message, res, unique, self.method, infos,
                           time.perf_counter() - t0, sum(i.lp_seconds for i in infos), joint,
                           level.inf, level.source, bound, amp, stab)

    def _best_effort(self, x, infos, why, t0):
        """x has no exact preimage: the l_2 answer with an estimated noise level."""
        level = self._estimate_level(x)
        z, more, msg = self._approximate(x, "l2", level)
        infos = infos + [i for i in more if i.layer not in {j.layer for j in infos}]
        infos.sort(key=lambda i: i.layer)
        if z is None:
            return self._failed(infos, f"{why}; the best effort failed too ({msg})", t0, level)
        out = self._finish(z, x, infos, level, INFEASIBLE, "", None, None, t0)
        out.message = (f"no z gives x: {why}; z is the least-squares best effort "
                       f"(||G(z) - x|| / ||x|| = {out.residual:.3g}, estimated noise "
                       f"std {level.typ:.3g})")
        return out

    def _invert_exact(self, x, t0):
        layers = self.net.layers
        L = len(layers)
        if layers[-1].activation == "relu" and (x < 0).any():
            i = int(np.argmin(x))
            return self._best_effort(x, [], f"x[{i}] = {x[i]:.6g} < 0 cannot be a ReLU output",
                                     t0)
        infos, y, unique, message, joint = [], x, True, "", None
        below_cgls = False  # y carries a CGLS layer's errors (~1e-11), not round-off
        for k in reversed(range(L)):
            u, info, poly, point = self._exact_layer(k, y, _hidden_floor(y, k < L - 1, below_cgls))
            infos.append(info)
            if info.status == "error":
                return self._failed(infos[::-1], f"layer {k + 1}: {info.message}", t0,
                                    NoiseLevel.exact())
            if info.status == "infeasible":
                return self._best_effort(x, infos[::-1],
                                         f"layer {k + 1} has no preimage ({info.message})", t0)
            if point == "big":
                unique = False if unique is False else None
                y, below_cgls = u, True
                continue
            if point is not True and k > 0:
                from .joint import joint_invert

                zj, joint = joint_invert(layers[:k], [self._dense(j) for j in range(k)], poly,
                                         tol=self.tol, time_limit=self.milp_time_limit)
                if zj is None and joint.status == "infeasible":
                    return self._best_effort(
                        x, infos[::-1], f"no point of layer {k + 1}'s preimage is an output "
                        f"of the layers below (joint MILP infeasible)", t0)
                infos.extend(LayerInfo(j + 1, "joint", "solved in the joint MILP")
                             for j in reversed(range(k)))
                if zj is None:
                    return self._failed(infos[::-1], joint.message, t0, NoiseLevel.exact(),
                                        joint)
                unique = False if joint.unique is False else None
                message = joint.message + ("" if joint.unique is not True else
                                           " (a floating-point MILP claim, not exact evidence)")
                return self._finish(zj, x, infos[::-1], NoiseLevel.exact(), JOINT, message,
                                    unique, joint, t0)
            if info.unique is not True:
                unique = False if (info.unique is False or unique is False) else None
            y = u
        infos.reverse()
        if unique is True and self.float_targets:
            message = "every layer inverted, each with exact rank evidence for its targets"
        elif unique is True:
            unique, message = self._unique_exactly(x, infos)
        elif unique is False:
            message = "the first layer's preimage is not a single point: z is one of many"
        else:
            message = "z is a preimage; a single point not proven exactly at every layer"
        return self._finish(y, x, infos, NoiseLevel.exact(), EXACT, message, unique, None, t0)


def _hidden_floor(y, hidden, below_cgls):
    """Entries of y at or below this are not read as active rows.  0 for the data x; for a
    hidden y (a float preimage from the layer above) its precision: 1e-9 of the largest
    entry after LPs (an LP point polished to ~1e-12 left 1e-10 where the truth is 0, read
    as an active row it made the next layer "infeasible"), more below CGLS layers."""
    if not hidden:
        return 0.0
    return _cgls_floor(y) if below_cgls else 1e-9 * max(np.abs(y).max(), 1e-300)


def _cgls_floor(y):
    """Entries of a hidden y from (or below) a CGLS layer within its precision of 0: not signal."""
    return 1e-7 * max(np.abs(y).max(), 1e-300)


def invert(layers: Any, x: ArrayLike, *, method: str = "exact", last_activation: str = "relu",
           negative_slope: float = 0.1, tol: float = 1e-9, noise: float | str | None = None,
           noise_std: float | None = None, lp: str = "auto", milp_time_limit: float | None = 60.0,
           workers: int = 1, client: Any = None, bounds: bool = True,
           stability: bool = False, progress: bool | float = False) -> InvertResult:
    """Find the latent code z with ``G(z) = x`` (or the best z for a noisy x).

    Parameters
    ----------
    layers : list of (W, b), Network or torch.nn.Sequential
        ``G(z) = act(W_L ... ReLU(W_1 z + b_1) ... + b_L)``: a ReLU after every layer but
        the last, which is followed by ``last_activation``.  ``b`` may be None.  Weights
        may be dense arrays or sparse (:func:`dsssolver.layers.conv2d`).
    x : array_like
        One output (1-D), or a batch with one output per row (2-D).
    method : {"exact", "linf", "l1", "l2"}
        "exact": the preimage LP (or the active rows' equations) at each layer, and the
        joint MILP where a layer's preimage is not a single point.  "linf" / "l1": Lei et
        al.'s noisy LPs.  "l2": the l_1 LPs, then Gauss-Newton on ``||G(z) - x||_2`` (the
        least-squares fit gradient descent aims at, from a start that needs no restarts).
    last_activation : {"relu", "leaky_relu", "linear", "tanh", "sigmoid"}
        tanh / sigmoid (an image generator's output): the last layer's pre-activation is
        read as ``atanh(x)`` / ``logit(x)`` on the entries away from saturation
        (:mod:`dsssolver.invert.squash`); ``unique`` is then None (no exact evidence passes
        through the rounded inverse).
    negative_slope : float
    tol : float
        Relative residual ``||G(z) - x|| / max(||x||, ||b_L||)`` accepted as exact (the
        last bias stands in for an output near 0).
    noise : float, optional
        An **l_inf bound** on the noise, ``||x - G(z_true)||_inf <= noise``: outputs at or
        below it are read as possibly inactive, and ``error_bound`` is then proven.
    noise_std : float, optional
        The standard deviation of iid Gaussian noise on x (give this, not ``noise``, when
        the noise is Gaussian); ``error_bound`` then holds with probability >= 98%.
        With neither, a noisy method estimates the noise from an l_1 fit's residual.
    lp : {"auto", "always"}
        See :class:`Inverter`.
    milp_time_limit : float
    workers : int
        Processes for a batch, this one included (the batch result's ``parallel`` says
        how it went: processes, chunks, CPU seconds per process).
    client : dask.distributed.Client, optional
        Run a batch on a Dask cluster.
    progress : bool or float
        For a batch: a line on stderr (outputs done, seconds) every second, or every
        ``progress`` seconds.
    bounds : bool
        Compute ``error_bound`` and the per-layer amplification.
    stability : bool or float
        Also compute each layer's global error amplification (``LayerInfo.stability``) and
        ``stability_bound`` on ``||z - z_true||`` from it (see :class:`Inverter`).

    Returns
    -------
    InvertResult
        ``z``, ``status``, ``success``, ``message``, ``residual``, ``unique`` (True only with
        exact evidence), ``error_bound`` (on ``||z - z_true||_2``, see
        :class:`~dsssolver.invert.result.InvertResult`), per-layer ``layers`` and ``joint``.
        For a batch the same fields, one entry per output.

    Raises
    ------
    InvalidInputError
        Bad shapes, NaN/inf, an unknown method or activation.  An x that no z produces
        is not an error: ``status == "infeasible"`` and the message says why.

    Examples
    --------
    >>> import numpy as np
    >>> W1 = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> W2 = np.vstack([np.eye(3), -np.eye(3)])
    >>> x = np.maximum(W2 @ np.maximum(W1 @ [1.0, 2.0], 0), 0)
    >>> res = invert([(W1, None), (W2, None)], x)
    >>> res.z, res.status, res.unique
    (array([1., 2.]), 'exact', True)
    >>> res = invert([(W1, None), (W2, None)], x + 0.01, method="linf", noise=0.01)
    >>> res.status, bool(np.abs(res.z - [1, 2]).max() < 0.05), res.noise_source
    ('approximate', True, 'bound')
    """
    return Inverter(layers, last_activation=last_activation, negative_slope=negative_slope,
                    method=method, tol=tol, noise=noise, noise_std=noise_std, lp=lp,
                    milp_time_limit=milp_time_limit, bounds=bounds,
                    stability=stability).invert(
        x, workers=workers, client=client, progress=progress)
