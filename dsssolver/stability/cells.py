"""The seed's inverse Lipschitz constant (Theorem 3) by branch-and-bound over cells.

For ``f(x) = ReLU(Wx + b)`` let ``A(x) = {i : w_i . x + b_i >= 0}`` and

    S(W, b) = min over x of sigma_min(W_{A(x)}),

``sigma_min`` being the n-th singular value (0 when fewer than n rows or a
rank-deficient set).  The seed's Theorem 3 (b = 0) gives the inverse Lipschitz
constant ``C(W) = (2m)^(-1/2) S``: ``||f(x) - f(y)|| >= C(W) ||x - y||``.

The minimum is attained on a full-dimensional cell: near any x there is a point
x' of an open cell, and ``A(x') <= A(x)`` (rows negative at x stay negative),
while sigma_min can only drop when rows are removed.  So S is a minimum over
the realizable sign patterns of the non-zero rows, which this module searches.

**Branch-and-bound.**  A node fixes the sign of some rows: ``F`` forced
positive (active), ``N`` forced negative.  Every cell below it has
``A >= F``, and sigma_min only grows as rows are added (Cauchy interlacing:
``W_A^T W_A >= W_F^T W_F``), so ``sigma_min(W_F)`` bounds the subtree.  A
subtree is pruned when that bound is at least ``(1 - tol)`` times the best cell
found.  Whether a partial sign pattern is realizable is an LP (the robust
strict-feasibility LP of MATH.md section 4, on the rows ``[W; -W]``) in one
persistent HiGHS model whose rows are switched by bounds, so every solve
hot-starts.  The LP's interior point also names a cell of the subtree (the
signs of the undecided rows at that point), which updates the incumbent
without further LPs; a child that contains the parent's point needs no LP at
all.  Rows that are positive multiples of each other (``[w_i, b_i]``, exactly)
always share a sign and negative multiples always have opposite signs, so they
are decided together; and since exactly one side of such a line is active in
every cell, the smaller side's Gram term enters the bound before the line is
decided, so the Corollary 2 layers ``[B; -DB]`` are bounded away from 0 at the
root.  Branching is on the undecided row with the largest weight on the
weakest directions of ``W_F`` (the row that would raise the bound most), the
"negative" child first.  A node whose forced rows do not have rank n (bound 0)
is branched instead on a *cover*: rows with weight on ``null(W_F)`` of which
every cell of the node has one active (the Farkas support of the LP "all of them
negative"; if that LP is feasible, its point lies in a rank-deficient cell and
S = 0); child k takes cover row k positive and rows 1..k-1 negative, so every
child gains a rank and at most n such levels precede a positive bound.

**Order.**  Best bound first (a heap), ties broken depth-first, so the least
open bound -- the proved lower bound -- only grows and a limit leaves the
bracket ``[lower_bound, min_sigma]`` (``status`` "unknown", ``gap``).  During
the first 10% of a time limit (or the first 500 nodes without one) each
expanded node's "negative" child is taken next (a dive) for incumbents.  Before
the search a first incumbent comes from random points and a descent over
neighbouring cells (no LPs).  Measured on Gaussian 70 x 7 (load about 7 on
2 cores): the former depth-first order stopped at 100 s with the bracket
[0, 1.38]; this order with the cover branching at 45 s with [0.84, 1.39].
From n = 8 (m = 10 n) 45 s still end with a lower bound of 0.

Two devices raise bounds without branching: at each
node the three such rows that are positive at its point are probed (one LP
each: if the row cannot be negative in the node's cone it is forced active),
and every empty sign pattern found leaves a clause (its Farkas support,
confirmed in floating point) that later forces signs by unit propagation.
Measured on Gaussian 40x4 / 50x5 layers: 4x / 3x fewer nodes than without
probing, and about 1.5x less time.

**What is exact and what is floating point.**
- The returned cell exists: its interior point (the float the LP returned,
  read as an exact rational) is checked in rational arithmetic to give every
  non-zero row the claimed strict sign (``cell_certified``).
- ``min_sigma`` is the float SVD of that cell's active rows (backward stable:
  relative error about 1e-15 of ``||W||``), not an exact number.
- The claim that no other cell is lower rests on floating LPs (a cell thinner
  than a margin of 1e-9 on rows scaled to max-norm ~1 is taken as empty) and
  on float eigenvalues of Gram matrices for the bounds, each lowered by
  ``1e-12 * lambda_max`` for safety.  ``lower_bound`` is the smallest bound of
  any subtree that was pruned or left open.
- If an attaining cell's active rows are rank-deficient, that is decided
  exactly (FLINT); then the layer is not injective and ``S = C = 0`` exactly
  (``injective`` is False).  A positive S does not by itself prove
  injectivity (it rests on the floating LPs): :func:`dsssolver.certify`
  decides that exactly.

**A sharper, proved bound.**  ``S / sqrt(2)`` is also a lower bound on the
inverse Lipschitz constant, better than the seed's ``S / sqrt(2m)`` by a factor
``sqrt(m)``, and tight for ``W = [I; -I]``; see
:func:`dsssolver.stability.lipschitz_estimate` for the proof.
"""
from __future__ import annotations

import heapq
import itertools
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_layer
from ..certify.lp import StrictLP
from ..errors import InvalidInputError
from ..exact import RowMatroid, integer_rows
from .exact_cell import point_in_cell

__all__ = ["inverse_lipschitz", "InverseLipschitzResult", "sigma_min", "amplification_bound"]

COVER = True  # cover branching at nodes of bound 0 (see _CellSearch._cover)
PLUNGE_SHARE = 0.1  # share of a time limit spent diving from each node (then best bound first)
PLUNGE_NODES = 500  # nodes of diving without a time limit
_ZERO_TOL = 1e-12  # relative eigenvalue margin subtracted from bounds (float safety)
_SIGN_TOL = 1e-9  # |w.x + b| below this (relative) is "on the hyperplane" for a float point


def sigma_min(A, n=None):
    """The n-th singular value of ``A`` (0 when it has fewer than n rows).

    Parameters
    ----------
    A : array_like, shape (k, n)
    n : int, optional
        Number of columns, needed when ``A`` has no rows.

    Examples
    --------
    >>> sigma_min([[3.0, 0.0], [0.0, 4.0]])
    3.0
    >>> sigma_min([[1.0, 1.0]])
    0.0
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1] if n is None else n
    if A.ndim != 2 or A.shape[0] < n or n == 0:
        return 0.0
    return float(np.linalg.svd(A, compute_uv=False)[n - 1])


def amplification_bound(W_active: ArrayLike) -> float:
    """Local error amplification of inverting a layer on a known active set.

    If ``y = ReLU(W x + b)`` and ``y' = ReLU(W x' + b)`` have the same active
    rows ``A`` and ``W_A`` has full column rank, then
    ``||x - x'|| <= ||y - y'|| / sigma_min(W_A)``: the two inputs solve
    ``W_A x + b_A = y_A`` and ``W_A x' + b_A = y'_A``.  Cheap (one SVD).  For a
    bound valid for *every* pair use ``sqrt(2) / S`` with S from
    :func:`inverse_lipschitz` (``result.amplification``).

    Parameters
    ----------
    W_active : array_like, shape (k, n)
        The active rows.

    Returns
    -------
    float
        ``1 / sigma_min(W_active)``; ``inf`` if it is numerically rank-deficient
        (``sigma_min <= eps * max(k, n) * sigma_max``, numpy's ``matrix_rank`` rule).

    Examples
    --------
    >>> amplification_bound([[2.0, 0.0], [0.0, 0.5], [1.0, 1.0]]) > 1.0
    True
    >>> amplification_bound([[1.0, 0.0]])
    inf
    """
    A = np.asarray(W_active, dtype=float)
    if A.ndim != 2 or A.shape[0] < A.shape[1] or A.size == 0:
        return math.inf
    sv = np.linalg.svd(A, compute_uv=False)
    if sv[-1] <= np.finfo(float).eps * max(A.shape) * sv[0]:
        return math.inf
    return float(1.0 / sv[-1])


@dataclass
class InverseLipschitzResult:
    """Outcome of :func:`inverse_lipschitz`, in the manner of ``scipy.optimize.OptimizeResult``.

    Attributes
    ----------
    status : {"optimal", "unknown"}
        "optimal": the search finished and ``gap <= tol``; "unknown": a limit
        (or an LP failure) stopped it; ``lower_bound`` and ``min_sigma`` then
        bracket S.
    message : str
    value : float
        The seed's ``C(W) = min_sigma / sqrt(2m)`` for the best cell found.
    min_sigma : float
        ``sigma_min`` of the best cell's active rows (float SVD).
    lower_bound : float
        No cell has ``sigma_min`` below this (up to the floating-point caveats
        of the module docstring).
    gap : float
        ``(min_sigma - lower_bound) / min_sigma`` (0 when min_sigma is 0).
    tol : float
        The relative gap asked for.
    point : ndarray, shape (n,)
        An interior point of the best cell.
    active : tuple of int
        That cell's active rows (zero rows with ``b_i >= 0`` included).
    cell_certified : bool
        Whether ``point`` passed the exact rational check of the cell.
    shape : tuple of int
        ``(m, n)`` of the layer.
    injective : bool or None
        False when the best cell's active rows are exactly rank-deficient;
        otherwise None (use :func:`dsssolver.certify` for an exact verdict).
    stats : dict
        ``nodes``, ``lps``, ``lp_seconds``, ``lp_retries``, ``lp_errors``,
        ``pruned``, ``infeasible``, ``seconds``.
    """

    status: str
    message: str
    value: float
    min_sigma: float
    lower_bound: float
    gap: float
    tol: float
    point: np.ndarray
    active: tuple
    cell_certified: bool
    shape: tuple
    injective: bool | None = None
    stats: dict = field(default_factory=dict)

    @property
    def lipschitz_lower(self):
        """``lower_bound / sqrt(2)``: a proved lower bound on the true inverse Lipschitz constant."""
        return self.lower_bound / math.sqrt(2.0)

    @property
    def amplification(self):
        """``sqrt(2) / lower_bound``: ``||x - y|| <= amplification * ||f(x) - f(y)||`` for all x, y."""
        return math.inf if self.lower_bound <= 0 else math.sqrt(2.0) / self.lower_bound


def inverse_lipschitz(W: ArrayLike, b: ArrayLike | None = None, *, tol: float = 1e-6,
                      time_limit: float | None = None, node_limit: int | None = None,
                      progress: bool | float = False) -> InverseLipschitzResult:
    """The seed's inverse Lipschitz constant ``C(W) = (2m)^(-1/2) min_x sigma_min(W_{A(x)})``.

    Computed by a branch-and-bound over the cells of the hyperplane arrangement
    (see the module docstring for the method and for exactly what is exact).

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,), optional
        Biases; the seed's Theorem 3 has b = 0 (the default).  With biases the
        same minimum over the (affine) cells is computed; ``S / sqrt(2)``
        stays a lower bound on the layer's inverse Lipschitz constant.
    tol : float
        Relative gap at which a subtree is pruned: the answer is within
        ``tol`` of the minimum (status "optimal").  Values below 1e-9 are
        raised to 1e-9 (the bounds' floating-point safety margin).
    time_limit : float, optional
        Seconds; on expiry the status is "unknown" with the bracket reached.
    node_limit : int, optional
    progress : bool or float
        Print a progress line on stderr every second (or every ``progress`` s).

    Returns
    -------
    InverseLipschitzResult

    Raises
    ------
    InvalidInputError
        (a ValueError) for malformed ``W`` or ``b`` (NaN, inf, wrong shape, empty).

    Examples
    --------
    >>> import numpy as np, dsssolver as dss
    >>> res = dss.inverse_lipschitz(np.vstack([np.eye(2), -np.eye(2)]))
    >>> res.status, round(res.min_sigma, 12), round(res.value * 8 ** 0.5, 12)
    ('optimal', 1.0, 1.0)
    >>> res.cell_certified, len(res.active)
    (True, 2)
    >>> dss.inverse_lipschitz([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]).injective
    False
    """
    try:
        W, b = as_layer(W, b)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(str(exc)) from None
    if tol < 0 or not math.isfinite(tol):
        raise InvalidInputError(f"tol must be a finite number >= 0, got {tol}")
    return _CellSearch(W, b, tol, time_limit, node_limit, progress).run()


class _Limit(Exception):
    pass


class _Node:
    __slots__ = ("sign", "x", "bound", "gram", "depth", "taken")

    def __init__(self, sign, x, bound, gram, depth=0):
        self.sign, self.x, self.bound, self.gram, self.depth = sign, x, bound, gram, depth
        self.taken = False  # popped: its heap entry, if any, is stale


class _Clauses:
    """Sign patterns learned to be empty (from LP Farkas supports), used to force signs.

    A clause is a set of literals "row k has sign s" that cannot all hold in an
    open cell.  It is kept only after its certificate is confirmed in floating
    point: a unique (up to scale) positive y with ``sum y_k s_k w_k = 0`` and
    ``sum y_k s_k b_k <= 0`` (Motzkin), so a dual support cut too short by the
    LP's tolerances is discarded rather than trusted.  At a node, a clause with
    every literal true but one unset forces that row to the other sign (unit
    propagation); one with all literals true empties the node.
    """

    def __init__(self, rows, bias, classes, capacity=2000):
        self.rows, self.bias, self.classes = rows, bias, classes
        self.K = K = rows.shape[0]
        self.words = (K + 63) // 64
        # literals as bit sets over the rows, 64 rows a word: "k > 0" and "k < 0"
        self.pos = np.zeros((capacity, self.words), dtype=np.uint64)
        self.neg = np.zeros((capacity, self.words), dtype=np.uint64)
        self.count, self.next, self.capacity = 0, 0, capacity

    def _bits(self, mask):
        packed = np.packbits(mask, bitorder="little")
        out = np.zeros(self.words * 8, dtype=np.uint8)
        out[: packed.size] = packed
        return out.view(np.uint64)

    def _unbits(self, words):
        return np.unpackbits(words.view(np.uint8), bitorder="little")[: self.K].astype(bool)

    def learn(self, support):
        if support is None or len(support) < 2:
            return
        K = self.K
        k, s = support % K, np.where(support < K, -1.0, 1.0)  # rows of [W; -W]: < K means "< 0"
        A = s[:, None] * self.rows[k]
        _, sv, Vt = np.linalg.svd(A.T, full_matrices=True)  # null space of A^T: dependencies
        rank = int(np.sum(sv > 1e-10 * sv[0])) if sv.size else 0
        if len(k) - rank != 1:
            return
        y = Vt[-1] if Vt[-1].sum() > 0 else -Vt[-1]
        if np.any(y <= 1e-9 * y.max()) or np.linalg.norm(A.T @ y) > 1e-9 * np.abs(A).max():
            return
        if np.dot(y, s * self.bias[k]) > 1e-12 * max(np.abs(self.bias[k]).max(), 1.0):
            return
        c = self.next
        pos, neg = np.zeros(K, dtype=bool), np.zeros(K, dtype=bool)
        pos[k[s > 0]], neg[k[s < 0]] = True, True
        self.pos[c], self.neg[c] = self._bits(pos), self._bits(neg)
        self.next = (c + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)

    def propagate(self, sign):
        """The node's signs with every forced row set (same object if none); None if empty."""
        if not self.count:
            return sign
        pos, neg = self.pos[: self.count], self.neg[: self.count]
        out = sign
        for _ in range(8):  # a few rounds: forcing can cascade
            F, N, U = self._bits(out > 0), self._bits(out < 0), self._bits(out == 0)
            live = ~((pos & N).any(axis=1) | (neg & F).any(axis=1))
            if not live.any():
                return out
            P, Q = pos[live] & U, neg[live] & U
            open_count = np.bitwise_count(P).sum(axis=1) + np.bitwise_count(Q).sum(axis=1)
            if np.any(open_count == 0):
                return None
            unit = open_count == 1
            if not unit.any():
                return out
            to_neg = self._unbits(np.bitwise_or.reduce(P[unit], axis=0))
            to_pos = self._unbits(np.bitwise_or.reduce(Q[unit], axis=0))
            if np.any(to_neg & to_pos):
                return None
            out = out.copy() if out is sign else out
            for rows_, value in ((np.nonzero(to_pos)[0], 1), (np.nonzero(to_neg)[0], -1)):
                for r in rows_:
                    same, opp = self.classes[r]
                    if np.any(out[same] == -value) or np.any(out[opp] == value):
                        return None
                    out[same], out[opp] = value, -value
        return out


class _CellSearch:
    def __init__(self, W, b, tol, time_limit, node_limit, progress):
        self.t0 = time.perf_counter()
        self.W, self.b = W, b
        self.m, self.n = W.shape
        Wf = np.array(W, dtype=float)
        bf = np.array(b, dtype=float)
        nonzero = np.abs(Wf).max(axis=1) > 0
        self.idx = np.nonzero(nonzero)[0]  # search variables: the non-zero rows
        self.const_active = tuple(int(i) for i in np.nonzero(~nonzero & (bf >= 0))[0])
        self.rows, self.bias = Wf[self.idx], bf[self.idx]
        self.scale = np.linalg.norm(self.rows, axis=1)
        self.K = len(self.idx)
        # bounds carry a 1e-12 lambda_max safety margin: a smaller gap cannot be certified
        self.tol, self.time_limit, self.node_limit = max(tol, 1e-9), time_limit, node_limit
        self.interval = 1.0 if progress is True else float(progress or 0)
        self._next_report = self.t0 + self.interval
        self.classes = self._classes(W, b)
        self.pair_reps, self.pair_terms = self._antipodal_terms() if self.K else (np.zeros(0, np.intp), None)
        self.clauses = _Clauses(self.rows, self.bias, self.classes)
        self.lp = StrictLP(np.vstack([self.rows, -self.rows]), np.concatenate([self.bias, -self.bias])) \
            if self.K else None
        self.ub, self.best = math.inf, None  # incumbent: sigma_min and (sign pattern, point)
        self.pruned_min = math.inf  # smallest bound of a pruned subtree
        self.open_min = math.inf  # smallest bound of a subtree left undecided (LP failure)
        self.nodes = self.pruned = self.infeasible = self.lp_errors = 0
        self.rank_deficient = False
        self.open, self._order, self.warm_sigma = [], itertools.count(), math.inf
        self.plunge = None  # the child a dive continues with (best-first with plunging)

    # ----------------------------------------------------------- structure
    def _classes(self, W, b):
        """For each search row, the rows that must share its sign (+1) or take the opposite (-1).

        ``[w_j, b_j] = c [w_i, b_i]`` exactly: c > 0 same sign, c < 0 opposite
        sign in every full-dimensional cell.  Found from primitive integer rows.
        """
        ints, _ = integer_rows([list(W[i]) + [b[i]] for i in self.idx])
        groups = {}
        for k, row in enumerate(ints):
            groups.setdefault(tuple(row), []).append(k)
        members = []
        for row in ints:
            same = groups[tuple(row)]
            opp = groups.get(tuple(-v for v in row), [])
            members.append((np.array(same, dtype=np.intp), np.array(opp, dtype=np.intp)))
        return members

    # ------------------------------------------------------------- bounds
    def _antipodal_terms(self):
        """For each line with rows on both sides (``[w_j, b_j] = -c [w_i, b_i]``), its least Gram term.

        In every open cell exactly one side of such a line is active, so its
        rows add at least ``min(sum |w|^2 over either side) u u^T`` to ``W_A^T W_A``
        (u the line's unit direction) even before the line is decided.  Added to
        the bound's Gram matrix at the root and removed once the line is decided,
        this makes ``[B; -DB]`` layers bounded away from 0 from the start.
        """
        reps, terms = [], []
        sq = np.square(self.scale)
        for k, (same, opp) in enumerate(self.classes):
            if opp.size and k == min(same.min(), opp.min()):
                u = self.rows[k] / self.scale[k]
                reps.append(k)
                terms.append(min(sq[same].sum(), sq[opp].sum()) * np.outer(u, u))
        n = self.n
        return np.array(reps, dtype=np.intp), np.array(terms).reshape(len(terms), n, n)

    def _grown(self, gram, old, new):
        """The bound's Gram matrix after the signs ``old`` became ``new`` (same object if unchanged)."""
        added = np.nonzero((new > 0) & (old <= 0))[0]
        if added.size:
            gram = gram + self.rows[added].T @ self.rows[added]
        if self.pair_reps.size:
            decided = (old[self.pair_reps] == 0) & (new[self.pair_reps] != 0)
            if decided.any():
                gram = gram - self.pair_terms[decided].sum(axis=0)
        return gram

    def _bound(self, gram):
        lam = np.linalg.eigvalsh(gram)
        return math.sqrt(max(lam[0] - _ZERO_TOL * max(lam[-1], 0.0), 0.0))

    def _cell_sigma(self, active_mask):
        return sigma_min(self.rows[active_mask], self.n)

    # --------------------------------------------------------------- driver
    def run(self):
        try:
            if self.K == 0:
                self._zero_layer()
            else:
                self._search()
            status, why = self._status()
        except _Limit as lim:
            status, why = "unknown", str(lim)
        except KeyboardInterrupt:
            status, why = "unknown", "interrupted"
        return self._result(status, why)

    def _zero_layer(self):
        # every row is zero: one cell (all of R^n), sigma_min = 0
        self.ub, self.best = 0.0, (np.zeros(0, dtype=np.int8), np.zeros(self.n))

    def _warm_start(self, rng, starts=32):
        """A first incumbent without LPs: random points, then a descent over neighbouring cells.

        A point whose rows are all clearly non-zero lies in an open cell, whose
        ``sigma_min`` bounds S from above; a good incumbent early lets the bound prune
        from the first nodes on.  From the ``starts`` best of ``200 n`` random points
        (scaled, when there are biases) each step tries to switch off the active rows
        that carry most of the weakest singular direction: it moves the point against
        each of the 6 such rows by 16 step lengths and keeps the best cell, while
        ``sigma_min`` decreases.
        """
        n = self.n
        scale = 1.0 + float(np.abs(self.bias).max()) / max(float(self.scale.min()), 1e-300)
        X = rng.standard_normal((200 * n, n)) * rng.choice([0.1, 1.0, 10.0], (200 * n, 1)) * scale
        best = np.argsort(self._sigmas(X))[:starts]
        found = sorted((self._descend(x) for x in X[best]), key=lambda p: p[1])
        for x, _ in found[:4]:
            v = self.rows @ x + self.bias
            if np.all(np.abs(v) > _SIGN_TOL * (self.scale * np.linalg.norm(x) + np.abs(self.bias))):
                self._candidate(np.where(v > 0, 1, -1).astype(np.int8), x)
        self.warm_sigma = self.ub

    def _descend(self, x, steps=40, top=6):
        ts = np.geomspace(1e-3, 3.0, 16)
        s = self._sigmas(x[None])[0]
        for _ in range(steps):
            act = (self.rows @ x + self.bias) > 0
            if act.sum() < self.n:
                break
            u = np.linalg.svd(self.rows[act], full_matrices=False)[2][-1]
            weight = np.where(act, np.square(self.rows @ u), -1.0)
            idx = np.argsort(-weight)[:top]
            D = -self.rows[idx] / self.scale[idx, None]
            Y = (x + ts[None, :, None] * np.linalg.norm(x) * D[:, None, :]).reshape(-1, self.n)
            sy = self._sigmas(Y)
            k = int(np.argmin(sy))
            if sy[k] >= s:
                break
            x, s = Y[k], sy[k]
        return x, s

    def _sigmas(self, X):
        """``sigma_min`` of the active rows at each point of X (batched Gram eigenvalues)."""
        act = (X @ self.rows.T + self.bias) > 0
        G = np.einsum("si,ij,ik->sjk", act.astype(float), self.rows, self.rows, optimize=True)
        lam = np.linalg.eigvalsh(G)[:, 0]
        return np.sqrt(np.maximum(lam, 0.0))

    def _search(self):
        K, n = self.K, self.n
        rng = np.random.default_rng(0)
        self._warm_start(rng)
        gram = self.pair_terms.sum(axis=0) if self.pair_reps.size else np.zeros((n, n))
        self._push(_Node(np.zeros(K, dtype=np.int8), rng.standard_normal(n), self._bound(gram), gram))
        while self.open or self.plunge is not None:
            self._tick()  # before the pop: a limit leaves the node open, in the bound
            node = self._next()
            if node.bound < self.ub * (1.0 - self.tol) and not self._propagate(node):
                self.infeasible += 1
                continue
            if node.bound >= self.ub * (1.0 - self.tol):
                self.pruned += 1
                self.pruned_min = min(self.pruned_min, node.bound)
                continue
            if node.x is None:
                node.x = self._solve(node)
                if node.x is None:
                    continue
            if self._probe(node):
                self._expand(node)

    def _solve(self, node):
        """LP for the node's partial pattern: an interior point, or None (empty / failed)."""
        mask = np.concatenate([node.sign < 0, node.sign > 0])  # rows of [W; -W] kept < 0
        out = self.lp.solve(mask)
        if out.status == "feasible":
            return out.point
        if out.status == "error":  # retried cold inside StrictLP already: report, do not guess
            self.lp_errors += 1
            self.open_min = min(self.open_min, node.bound)
        else:
            self.infeasible += 1
            self.clauses.learn(out.support)
        return None

    def _probe(self, node, count=3):
        """Force the undecided rows the bound needs most, when the cone forces them; False if pruned.

        The ``count`` undecided rows with the largest weight on the weakest
        directions of ``W_F`` that are positive at the node's point are tried
        negative, one LP each; where that is empty the row is positive in every
        cell below (and the Farkas support becomes a clause).  Forced rows raise
        the bound without branching.
        """
        v = self.rows @ node.x + self.bias
        candidates = (node.sign == 0) & (v > 0)
        if not candidates.any():
            return True
        score = self._weak_scores(node.gram)
        score[~candidates] = -1.0
        order = [int(r) for r in np.argsort(-score)[:count] if score[r] >= 0]
        forced = []
        for r in order:
            trial = node.sign.copy()
            trial[r] = -1
            out = self.lp.solve(np.concatenate([trial < 0, trial > 0]))
            if out.status == "infeasible":
                self.clauses.learn(out.support)
                forced.append(r)
        if not forced:
            return True
        sign = node.sign.copy()
        for r in forced:
            same, opp = self.classes[r]
            sign[same], sign[opp] = 1, -1
        node.gram = self._grown(node.gram, node.sign, sign)
        node.bound = self._bound(node.gram)
        node.sign = sign
        if node.bound >= self.ub * (1.0 - self.tol):
            self.pruned += 1
            self.pruned_min = min(self.pruned_min, node.bound)
            return False
        return True

    def _weak_scores(self, gram):
        """Each row's squared weight on the weakest eigen-directions of ``gram`` (null space if any)."""
        lam, V = np.linalg.eigh(gram)
        weak = lam <= lam[0] + 1e-9 * max(lam[-1], 1e-300)
        return np.square(self.rows @ V[:, weak]).sum(axis=1)

    def _propagate(self, node):
        """Apply the learned clauses to the node (signs forced, bound raised); False if it is empty."""
        forced = self.clauses.propagate(node.sign)
        if forced is None:
            return False
        if forced is node.sign:
            return True
        node.gram = self._grown(node.gram, node.sign, forced)
        node.bound = self._bound(node.gram)
        if node.x is not None:  # the parent's point satisfies implied signs unless rounding differs
            v = self.rows @ node.x + self.bias
            changed = forced != node.sign
            if np.any(np.sign(v[changed]) != forced[changed]):
                node.x = None
        node.sign = forced
        return True

    def _expand(self, node):
        v = self.rows @ node.x + self.bias
        clear = np.abs(v) > _SIGN_TOL * (self.scale * np.linalg.norm(node.x) + np.abs(self.bias))
        undecided = node.sign == 0
        if clear[undecided].all():  # the point's own cell lies in this subtree
            cell = np.where(undecided, np.where(v > 0, 1, -1), node.sign).astype(np.int8)
            self._candidate(cell, node.x)
        if not undecided.any():
            return
        depth = len(np.flatnonzero(node.sign))
        cover = self._cover(node, undecided) if COVER and node.bound <= 0 else None
        if cover is not None:
            children = self._cover_children(node, cover, v, clear, depth)
        else:
            r = self._branch_row(node, undecided)
            children = [self._child(node, [(r, s)], v, clear, depth) for s in (1, -1)]
        children = [c for c in children if c is not None]
        if not children:
            return
        for child in children:
            self._push(child)
        if self._plunging():
            self.plunge = children[-1]  # dive on: the "negative" child next, whatever its bound

    def _child(self, node, signs, v, clear, depth):
        """The child of ``node`` with rows set to the given signs (their classes with them)."""
        sign = node.sign.copy()
        for r, s in signs:
            same, opp = self.classes[r]
            sign[same], sign[opp] = s, -s
        gram = self._grown(node.gram, node.sign, sign)
        bound = node.bound if gram is node.gram else self._bound(gram)
        if any(sign[r] != s for r, s in signs):
            return None  # the rows' classes contradict each other: no cell
        ok = all(clear[r] and (v[r] > 0) == (s > 0) for r, s in signs)
        return _Node(sign, node.x if ok else None, bound, gram, depth + len(signs))

    def _cover(self, node, undecided):
        """Rows of which every cell below ``node`` has one active, all outside ``span(W_F)``.

        For a node whose forced rows ``F`` do not have rank n (bound 0): ``Q``, the
        undecided rows with weight on ``null(W_F)``, cannot all be negative in a cell
        of the node unless that cell's active rows lie in ``span(W_F)`` (rank-deficient:
        then that cell is the answer, S = 0, and it is taken as the incumbent).  Else
        the LP "node and all of Q negative" is empty and its Farkas support ``T``
        within Q is a cover: every cell has a row of T active.  Branching on the cover
        (child k: ``T_1..T_(k-1)`` negative, ``T_k`` positive) gives every child one more
        rank in F, so at most n levels of such nodes lie above a positive bound,
        where binary branching keeps a chain of "negative" children at bound 0.
        Returns the cover ordered by weight on the null space (most first), or None.
        """
        lam, V = np.linalg.eigh(node.gram)
        null = V[:, lam <= 1e-9 * max(lam[-1], 1e-300)]
        if null.shape[1] == 0:
            return None
        weight = np.square(self.rows @ null).sum(axis=1) / np.square(self.scale)
        Q = undecided & (weight > 1e-12)
        if not Q.any():
            return None
        trial = node.sign.copy()
        trial[Q] = -1
        out = self.lp.solve(np.concatenate([trial < 0, trial > 0]))
        if out.status == "feasible":  # a cell whose active rows miss null(W_F): sigma 0
            x = out.point
            v = self.rows @ x + self.bias
            self._candidate(np.where(v > 0, 1, -1).astype(np.int8), x)
            return None
        if out.status != "infeasible" or out.support is None:
            return None
        T = [int(k) for k in out.support if k < self.K and Q[k]]  # "row k < 0" constraints of Q
        if not T:
            return None
        self.clauses.learn(out.support)
        return sorted(T, key=lambda k: -weight[k])

    def _cover_children(self, node, cover, v, clear, depth):
        children, neg = [], []
        for r in cover:
            children.append(self._child(node, neg + [(r, 1)], v, clear, depth))
            neg.append((r, -1))
        return children[::-1]  # pushed last-first: T_1's child (fewest negatives) explored first

    def _plunging(self):
        """Dive during the first part of a time limit (for incumbents), then best bound only.

        Without a time limit: the first ``PLUNGE_NODES`` nodes (deterministic).
        """
        if self.time_limit is None:
            return self.nodes < PLUNGE_NODES
        return time.perf_counter() - self.t0 < PLUNGE_SHARE * self.time_limit

    def _next(self):
        """The plunge's next node, else the open node of least bound."""
        node, self.plunge = self.plunge, None
        if node is None:
            node = heapq.heappop(self.open)[-1]
        node.taken = True  # its heap entry (kept for the bound until now) is stale
        self._clean()
        return node

    def _clean(self):
        while self.open and self.open[0][-1].taken:
            heapq.heappop(self.open)

    def _push(self, node):
        """Best bound first; among equal bounds the deepest, then the last pushed (depth-first).

        So the smallest open bound, the proved lower bound on S, only grows, and a limit
        leaves the tightest bracket this order can give; ties (bound 0 while fewer than n
        rows are forced active) are explored depth-first, the "negative" child first.
        """
        heapq.heappush(self.open, (node.bound, -node.depth, -next(self._order), node))

    def _branch_row(self, node, undecided):
        """The undecided row that raises the bound most: largest weight on the weakest directions."""
        score = self._weak_scores(node.gram)
        score[~undecided] = -1.0
        return int(np.argmax(score))

    def _candidate(self, cell, x):
        s = self._cell_sigma(cell > 0)
        if s < self.ub:
            if s <= 1e-9 * max(self.scale.max(), 1e-300) and self._exactly_deficient(cell):
                s = 0.0
                self.rank_deficient = True
            self.ub, self.best = s, (cell, x)

    def _exactly_deficient(self, cell):
        rows = self.idx[cell > 0]
        return len(rows) < self.n or RowMatroid(self.W[rows]).rank() < self.n

    # ---------------------------------------------------------------- limits
    def _tick(self):
        self.nodes += 1
        now = time.perf_counter()
        if self.node_limit is not None and self.nodes > self.node_limit:
            raise _Limit(f"node limit {self.node_limit} reached")
        if self.time_limit is not None and now - self.t0 > self.time_limit:
            raise _Limit(f"time limit {self.time_limit:g} s reached")
        if self.interval and now >= self._next_report:
            self._next_report = now + self.interval
            print(f"dss stability: {now - self.t0:7.1f} s  nodes {self.nodes}  "
                  f"best sigma {self.ub:.6g}  bound {self._lower():.6g}  open {len(self.open)}",
                  file=sys.stderr, flush=True)

    def _lower(self):
        open_bound = self.open[0][0] if self.open else math.inf  # the heap's least bound
        return min(self.ub, self.pruned_min, self.open_min, open_bound)

    def _status(self):
        if self.lp_errors:
            return "unknown", f"{self.lp_errors} LPs failed (after a cold retry); their subtrees are open"
        return "optimal", "search complete"

    # ---------------------------------------------------------------- result
    def _final_point(self, cell, x):
        """A well-centred interior point of the best cell, checked exactly."""
        active = tuple(sorted(self.const_active + tuple(int(i) for i in self.idx[cell > 0])))
        if self.K == 0:
            return x, active, True
        for candidate in (self._centre(cell), x):
            if candidate is not None and point_in_cell(self.W, candidate, active, self.b):
                return candidate, active, True
        return x, active, False

    def _centre(self, cell):
        out = self.lp.solve(np.concatenate([cell < 0, cell > 0]))
        return out.point if out.status == "feasible" else None

    def _result(self, status, why):
        st = {"nodes": self.nodes, "pruned": self.pruned, "infeasible": self.infeasible,
              "lp_errors": self.lp_errors}
        if self.lp is not None:
            st.update(lps=self.lp.lp_count, lp_seconds=self.lp.lp_seconds, lp_retries=self.lp.retries)
        else:
            st.update(lps=0, lp_seconds=0.0, lp_retries=0)
        if self.best is None:  # stopped before the first cell: no cell to report
            st["seconds"] = time.perf_counter() - self.t0
            return InverseLipschitzResult(
                "unknown", f"{why}; no cell found yet", math.nan, math.nan, 0.0, math.inf,
                self.tol, np.full(self.n, np.nan), (), False, (self.m, self.n), None, st)
        cell, x = self.best
        point, active, certified = self._final_point(cell, x)
        S = self.ub
        lower = 0.0 if self.rank_deficient else self._lower()
        gap = 0.0 if S == 0 else (S - lower) / S
        if status == "optimal" and gap > self.tol * (1 + 1e-12):
            status, why = "unknown", f"gap {gap:.3g} above tol"
        injective = False if self.rank_deficient else None
        if status == "unknown" and lower == 0 and S > 0:
            why += "; open subtrees with fewer than n rows forced active bound S only by 0"
        msg = why + ("; active rows of the minimal cell are rank-deficient (exact): W is not "
                     "injective and C(W) = 0" if self.rank_deficient else "")
        st["seconds"] = time.perf_counter() - self.t0
        return InverseLipschitzResult(
            status, msg, S / math.sqrt(2 * self.m), S, lower, gap, self.tol, np.asarray(point, float),
            active, certified, (self.m, self.n), injective, st)
