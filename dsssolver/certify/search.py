"""Exact injectivity of one ReLU layer ``x -> ReLU(W x + b)``.

The layer fails to be injective iff some point ``x`` has active rows
``A(x) = {i : w_i . x + b_i >= 0}`` that do not span R^n (MATH.md section 1),
iff ``rank W < n`` or some flat ``F`` of the row matroid with rank <= n - 1
leaves a solvable strict system ``w_i . x + b_i < 0 (i not in F)`` (section 3).

Pipeline
--------
1. ``rank W < n``: a null vector is the witness.
2. The sufficient half of the seed's Lemma 1, on a small node budget.
3. A greedy elastic-LP dive (Chinneck's heuristic) for a witness.
4. The exhaustive branch-and-bound below, whose used dependencies are the
   proof.  Every witness and proof is re-checked exactly
   (:mod:`dsssolver.verify.check`) before it is returned.

Branch-and-bound
----------------
A node is a pair ``(F, E)``: the flat ``F`` of rows allowed to be active and a
set ``E`` of rows that must stay strictly negative.  At a node:

* if the strict system on the rows outside ``F`` is solvable, the LP's point
  lies in a cell whose active rows are inside ``F``: an exact witness;
* otherwise a dependency ``(S, y)`` (a Farkas certificate, :mod:`lp`'s
  FarkasLP prefers rows of ``E``) is disjoint from ``F``, and any flat that
  makes the system solvable contains a row of ``S``.  Child ``k`` adds
  ``s_k`` to ``F`` (closure) and ``s_1 .. s_{k-1}`` to ``E``: the children
  partition the candidates, so no flat is visited twice;
* a node of corank ``d`` is empty, without branching, when ``d``
  dependencies have pairwise disjoint free rows (outside ``E``) and every
  choice of one free row from each is independent modulo ``F``
  (:meth:`RowMatroid.transversals_independent`), or when one dependency lies
  inside ``E``.

Dependencies are pooled (:class:`_bitsets.SupportSet`), so most nodes need
no LP at all.
"""
from __future__ import annotations

import sys
import time
from fractions import Fraction

import numpy as np

from .._validate import as_layer
from .pool import SupportSet, mask
from ..verify.evidence import CertifyResult, Dependency, Proof
from .certificates import ExactLayer
from ..exact.simplex import strict_system
from .lp import ElasticLP, FarkasLP, StrictLP

__all__ = ["certify"]


def certify(W, b=None, time_limit=None, node_limit=None, progress=False, workers=1):
    """Decide exactly whether ``x -> ReLU(W x + b)`` is injective, with evidence.

    Parameters
    ----------
    W : array_like, shape (m, n), or a torch ``nn.Linear``
        Weights; float entries are read as the exact rationals they store,
        integer and :class:`fractions.Fraction` entries are exact.  A torch
        ``nn.Linear`` gives its weight and bias (float32 values, read exactly).
    b : array_like, shape (m,), optional
        Biases (default zero).
    time_limit : float, optional
        Seconds; when reached the answer is "unknown" with the statistics so far.
    node_limit : int, optional
        Search nodes; likewise.
    progress : bool or float
        Print a progress line on stderr about once a second (or every
        ``progress`` seconds when a number is given).
    workers : int
        Processes for the exhaustive search.  With more than one, a search
        still open after a second shares its open nodes among that many worker
        processes (each with its own HiGHS models); the merged proof is
        re-checked exactly as usual.  ``node_limit`` then bounds each worker.

    Returns
    -------
    CertifyResult
        ``status`` is "injective" (with ``proof``), "not_injective" (with
        ``witness``) or "unknown" (with ``stats["reason"]``).  Every witness and
        proof has been re-checked in exact rational arithmetic.

    Raises
    ------
    ValueError, TypeError
        Invalid ``W`` or ``b`` (NaN, inf, wrong shape, empty, non-numeric).

    Examples
    --------
    The counterexample to the seed's Lemma 1 (MATH.md section 2) is injective:

    >>> import numpy as np
    >>> res = certify(np.array([[1], [-1]]), np.array([1, -1]))
    >>> res.status
    'injective'

    Three rows in the plane, all positive at some point, cannot be injective:

    >>> res = certify(np.array([[1, 0], [0, 1], [1, 1]]))
    >>> res.status, len(res.witness)
    ('not_injective', 2)
    """
    W, b = as_layer(*_from_module(W, b))
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be positive, got {time_limit!r}")
    if node_limit is not None and (not isinstance(node_limit, (int, np.integer)) or node_limit < 1):
        raise ValueError(f"node_limit must be a positive integer, got {node_limit!r}")
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    search = _Search(W, b, time_limit, node_limit, progress)
    search.workers, search.inputs = int(workers), (W, b)
    return search.run()


def _from_module(W, b):
    """``(weight, bias)`` of a torch ``nn.Linear`` (torch stays an optional extra)."""
    weight = getattr(W, "weight", None)
    if weight is None or not hasattr(weight, "detach"):
        return W, b
    if b is not None:
        raise ValueError("b must be None when W is a torch module (its bias is used)")
    bias = getattr(W, "bias", None)
    to_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731  (float32 -> exact float64)
    return to_np(weight), (None if bias is None else to_np(bias))


class _Limit(Exception):
    pass


class _Search:
    split_after = 1.0  # seconds of sequential search before worker processes are started

    def __init__(self, W, b, time_limit, node_limit, progress):
        self.t0 = time.perf_counter()
        self.m, self.n = W.shape
        self.layer = ExactLayer(W, b)
        self.Wq, self.bq, self.M = self.layer.Wq, self.layer.bq, self.layer.M
        self.Wf = np.array([[float(v) for v in row] for row in self.Wq])
        self.bf = np.array([float(v) for v in self.bq])
        self.time_limit = time_limit
        self.node_limit = node_limit
        self.progress = progress
        self.nodes = 0
        self.pretest = None
        self.pre_lps = 0
        self.exact_lps = 0  # nodes decided by the rational simplex
        self.dive_steps = 0
        self.worker_lps = 0
        self.by_rank = [0] * self.n  # nodes visited per rank of their flat
        self.pool = SupportSet(self.m)  # supports of self.deps, for fast look-up
        self.deps = []
        self.used = {}  # Dependency -> None, in order of use: the proof
        self.hints = {}  # flat mask -> Dependency branched on, or list of those closing it
        self.unknown_reason = None
        self.lp = self.flp = self.elp = None
        self.pool_accept = 1  # a pooled dependency leaving <= this many rows to branch on skips the LP
        self.pack_depth = 4  # try to close nodes of corank <= this with LP-built packings
        self.workers, self.inputs = 1, None
        self.interval = 1.0 if progress is True else float(progress or 0)
        self._next_report = self.t0 + self.interval

    # ----------------------------------------------------------------- driver
    def run(self):
        n = self.n
        rank = self.M.rank()
        if rank < n:
            v = self.M.null_basis(range(self.m))[0]
            return self._finish_witness(
                [Fraction(0)] * n, [Fraction(x) for x in v], f"rank W = {rank} < n = {n}"
            )
        try:
            pre = self._lemma1_pretest()
            if pre is not None:
                return pre
            self.lp = StrictLP(self.Wf, self.bf)
            self.flp = FarkasLP(self.Wf, self.bf)
            self._seed_antipodal_pairs()
            found = self._dive()
            if found is None:
                found = self._search(split_after=self.split_after if self.workers > 1 else None)
            if isinstance(found, list):
                found = self._parallel(found)
        except _Limit as lim:
            return self._finish_unknown(str(lim))
        except KeyboardInterrupt:
            return self._finish_unknown("interrupted")
        if found is not None:
            return found
        if self.unknown_reason is not None:
            return self._finish_unknown(self.unknown_reason)
        return self._finish_proof()

    def _lemma1_pretest(self, node_budget=200):
        """The half of the seed's Lemma 1 that holds, as a cheap sufficient test.

        With P the rows where b_i >= 0: if x -> ReLU(W_P x) is injective, so is
        the layer (MATH.md section 2), and the proof carries over verbatim --
        its dependencies live on P, where sum y_i b_i >= 0 holds automatically,
        and a flat of the layer meeting them all would give one of W_P.  The
        converse is false (n = 1, W = [1; -1], b = [1; -1]), so a failed or
        undecided pre-test decides nothing and the full search follows.
        """
        P = [i for i in range(self.m) if self.bq[i] >= 0]
        if len(P) == self.m or len(P) < 2 * self.n:
            return None  # the same problem, or never injective (Corollary 2)
        left = None if self.time_limit is None else self.time_limit - (time.perf_counter() - self.t0)
        if left is not None and left <= 0:
            raise _Limit(f"time limit {self.time_limit} s reached")
        sub = _Search(np.array([self.Wq[i] for i in P], dtype=object), np.zeros(len(P), dtype=np.int64),
                      left, node_budget, False)
        res = sub.run()
        self.nodes += sub.nodes
        self.pre_lps = res.stats.get("lps", 0)
        self.pretest = f"lemma1 on {len(P)} rows with b >= 0: {res.status}"
        if res.status != "injective":
            return None
        from ..verify.check import check_proof

        deps = [Dependency(tuple(P[i] for i in d.rows), d.multipliers) for d in res.proof.dependencies]
        minor = [P[i] for i in res.proof.minor]
        ok, msg = check_proof(minor, deps, self.Wq, self.bq, matroid=self.M)
        if not ok:
            return None
        out = self._result(
            "injective",
            f"Proof via the seed's Lemma 1 (sufficient half): ReLU(W_P x) is injective on the "
            f"{len(P)} rows with b >= 0, with {_count(len(deps), 'dependency', 'dependencies')}.",
            proof=Proof(minor, deps),
        )
        out.checked = True
        out.stats = self._stats()
        return out

    def _dive(self):
        """A greedy dive for a witness before the exhaustive search (Chinneck's heuristic).

        Starting from the zero rows, repeatedly let the row with the largest
        elastic violation be active (adding its closure), until the strict
        system on the other rows is solvable -- a witness if the flat still has
        rank < n -- or the flat reaches rank n.  It costs at most n LPs and
        decides nothing when it fails; the exhaustive search follows.
        """
        M = self.M
        self.elp = ElasticLP(self.Wf, self.bf)
        state = M.root()
        while M.rank(state[0]) < self.n:
            self._tick(0, node=False)
            active = np.ones(self.m, dtype=bool)
            active[list(state[0])] = False
            out = self.elp.solve(active)
            if out is None:
                return None
            value, e, point = out
            if value <= 1e-9:
                return self._witness_from_point(point)
            state = M.extend(state, (int(np.argmax(e)),))
        return None

    def _search(self, stack=None, split_after=None):
        """Depth-first search from ``stack`` (default: the root).

        Returns a witness result, None when the stack is exhausted, or -- once
        ``split_after`` seconds have passed -- the list of open nodes, for
        :meth:`_parallel` to share among worker processes.
        """
        if stack is None:
            root = self.M.root()
            stack = [(root, mask(root[0]), 0, 0)]
        while stack:
            if split_after is not None and time.perf_counter() - self.t0 > split_after:
                return stack
            node = stack.pop()
            self._tick(len(stack))
            children = self._expand(node)
            if isinstance(children, CertifyResult):
                return children
            stack.extend(reversed(children))
        return None

    def _parallel(self, stack):
        """Finish the search with worker processes (:mod:`dsssolver.certify.parallel`).

        The open nodes are first split further, shallowest first, so that
        there are a few tasks per worker; tasks go out largest first.
        """
        import multiprocessing as mp

        from . import parallel as _parallel

        tasks = list(stack)
        while tasks and len(tasks) < 4 * self.workers:
            tasks.sort(key=lambda nd: -nd[3])  # deepest first ... shallowest last
            node = tasks.pop()
            self._tick(len(tasks))
            children = self._expand(node)
            if isinstance(children, CertifyResult):
                return children
            tasks.extend(children)
        tasks.sort(key=lambda nd: nd[3])
        deadline = None if self.time_limit is None else \
            time.time() + self.time_limit - (time.perf_counter() - self.t0)
        budget = None if self.node_limit is None else max(self.node_limit - self.nodes, 1)
        # fork: no re-import of the caller's __main__ (spawn would need a main guard);
        # each worker resets HiGHS's scheduler and builds its own models
        try:
            ctx = mp.get_context("fork")
        except ValueError:  # no fork on this platform: carry on in this process
            return self._search(tasks)
        W, b = self.inputs
        pool = ctx.Pool(self.workers, _parallel.init_worker,
                        (W, b, list(self.deps), deadline, budget))
        done = 0
        try:
            for out in pool.imap_unordered(_parallel.run_task, tasks):
                self.nodes += out["nodes"]
                self.worker_lps += out.get("lps", 0)
                self.exact_lps += out.get("exact_lps", 0)
                if out["kind"] == "limit":
                    raise _Limit(out["reason"])
                if out["kind"] == "witness":
                    x1, x2 = out["witness"]
                    return self._finish_witness(x1, x2, out["message"].removeprefix(
                        "Witness found: ").rstrip("."))
                if out["kind"] == "undecided":
                    self._undecided(out["reason"])
                    continue
                self.used.update(dict.fromkeys(out["used"]))
                self.hints.update(out["hints"])
                self.M._transversal_cache.update(out["transversals"])
                done += 1
                self._report(f"tasks done {done}/{len(tasks)} on {self.workers} workers")
        finally:
            pool.terminate()
            pool.join()
        return None

    def _expand(self, node):
        """Process one node: a witness result, or its children (none if it is empty)."""
        state, F, E, rk = node
        self.by_rank[rk] += 1
        pack = self._packing(state, F, E, self.n - rk)
        if isinstance(pack, CertifyResult) or not pack:
            return pack  # a witness, or an empty node (or undecided, with the reason recorded)
        # branch on the dependency leaving fewest rows to choose from
        dep = self.deps[min(pack, key=lambda kc: kc[1])[0]]
        self.used[dep] = None
        self.hints[F] = dep
        excl = E
        children = []
        for s in sorted(dep.rows):
            if excl >> s & 1:
                continue
            child = self.M.extend(state, (s,))
            flat = mask(child[0])
            if not flat & excl:
                children.append((child, flat, excl, rk + 1))
            excl |= 1 << s
        return children

    def _packing(self, state, F, E, d):
        """Dependencies to branch on at a node of corank ``d``; empty if the node is empty.

        A flat above ``F`` of rank <= n - 1 avoiding ``E`` must meet the free
        rows (outside ``E``) of every dependency disjoint from ``F``.  If ``d``
        dependencies have pairwise disjoint free rows and every choice of one
        free row from each is independent modulo ``F``, any such flat has rank
        >= rank F + d = n: the node is empty.  Dependencies come from the pool
        first, then from LPs that forbid the free rows already taken; LPs are
        spent on packings only for small ``d``, where the independence test is
        cheap and an empty node saves a large subtree.
        """
        pack = self.pool.packing(F, E, d)
        lps = 0
        max_lps = d if d <= self.pack_depth else 1
        while True:
            if pack and pack[-1][1] == 0:  # a dependency inside E alone
                dep = self.deps[pack[-1][0]]
                self.used[dep] = None
                self.hints[F] = [dep]
                return []
            if len(pack) == d:
                if d == 1 or self.M.transversals_independent(
                        state, [_free_rows(self.deps[k].rows, E) for k, _ in pack]):
                    closing = [self.deps[k] for k, _ in pack]
                    self.used.update(dict.fromkeys(closing))
                    self.hints[F] = closing
                    return []
                return pack  # independence not shown: branch
            if lps >= max_lps or (d > self.pack_depth and pack and pack[0][1] <= self.pool_accept):
                return pack
            taken = F
            for k, _ in pack:
                taken |= self.pool.masks[k] & ~E
            out = self._node_lp(taken, E, primary=(taken == F))
            lps += 1
            if isinstance(out, CertifyResult):
                return out
            if out is None:
                return pack
            pack.append((out, (self.pool.masks[out] & ~E).bit_count()))

    def _node_lp(self, taken, E, primary):
        """One Farkas LP with the rows of ``taken`` allowed active.

        Returns the index of a new pooled dependency, a witness result, or None
        (the strict system is solvable there, or nothing exact was found).
        Fallback chain, because a float LP answer is only a hint until it is
        re-checked exactly: Farkas LP support -> robust primal LP (point or
        duals) -> deletion filter to an irreducible subsystem -> undecided.
        """
        flat = np.array([bool(taken >> i & 1) for i in range(self.m)])
        excl = np.array([bool(E >> i & 1) for i in range(self.m)])
        out = self.flp.solve(flat, excl)
        dep = self.layer.dependency_on(out.support) if out.status == "infeasible" else None
        if dep is None and not primary:
            return None  # the packing stops here; nothing is decided by it
        if dep is None:
            out = self.lp.solve(~flat)
            if out.status == "feasible":
                wit = self._witness_from_point(out.point)
                if wit is not None:
                    return wit
            elif out.status == "infeasible":
                dep = self.layer.dependency_on(out.support) or self._filtered_dependency(out.support)
        if dep is None:
            # the float answers did not survive the exact check: decide this node over Q
            self.exact_lps += 1
            # Bland's rule works with any fixed order: put the float LP's support first
            hint = set(out.support.tolist()) if getattr(out, "support", None) is not None else set()
            rows = sorted((i for i in range(self.m) if not flat[i]), key=lambda i: i not in hint)
            ex = strict_system([self.Wq[i] + [self.bq[i]] for i in rows])
            if ex is not None and ex[0] == "feasible":
                x, s = ex[1]
                wit = self._witness_from_point([v / s for v in x])
                if wit is not None:
                    return wit
            elif ex is not None:
                dep = self.layer.dependency_from({rows[k]: y for k, y in ex[1].items()})
        if dep is None:
            self._undecided("no exact decision of a node's strict system could be reached")
            return None
        self.deps.append(dep)
        return self.pool.add(dep.rows)

    def _seed_antipodal_pairs(self, max_pairs=None):
        """Pool every dependency of two antiparallel rows (w_j = -c w_i, c b_i + b_j >= 0).

        These make the [B; -DB] layers of the seed's Corollary 2 (and any layer
        containing such pairs) close at once: a flat meeting a pair holds both.
        Rows are found exactly and in linear time: the matroid keeps each row as
        a primitive integer vector, so w_j is a negative multiple of w_i iff
        their vectors are negatives of each other.
        """
        max_pairs = 4 * self.m if max_pairs is None else max_pairs
        groups = {}
        for i, row in enumerate(self.M.int_rows):
            if any(row):
                groups.setdefault(tuple(row), []).append(i)
        pairs = 0
        for key, rows in groups.items():
            for i in rows:
                for j in groups.get(tuple(-v for v in key), ()):
                    if i < j and pairs < max_pairs:
                        dep = self.layer.dependency_on((i, j))
                        if dep is not None and len(dep.rows) == 2:
                            self.deps.append(dep)
                            self.pool.add(dep.rows)
                            pairs += 1

    def _undecided(self, reason):
        if self.unknown_reason is None:
            self.unknown_reason = reason

    # ---------------------------------------------------------- certificates
    def _filtered_dependency(self, support):
        """Shrink ``support`` to an irreducible infeasible subsystem by deletion, then retry.

        An irreducible infeasible strict subsystem has a one-dimensional space
        of dependencies (a smaller support would exist otherwise), so the exact
        null space then pins the multipliers down.
        """
        S = [int(i) for i in support]
        k = 0
        while k < len(S):
            trial = S[:k] + S[k + 1:]
            mask = np.zeros(self.m, dtype=bool)
            mask[trial] = True
            out = self.lp.solve(mask)
            if out.status == "infeasible" and len(out.support):
                S = [i for i in trial if i in set(out.support.tolist())]
                k = 0
            else:
                k += 1
        return self.layer.dependency_on(S)

    def _witness_from_point(self, point):
        """A witness result from a point of a rank-deficient cell, else None."""
        found = self.layer.witness_near(point)
        if found is None:
            return None
        x1, x2, active = found
        return self._finish_witness(x1, x2, f"active rows {len(active)} of rank < n = {self.n}")

    # -------------------------------------------------------------- results
    def _tick(self, depth, node=True):
        """Count a node (or a dive step, with ``node=False``); enforce limits; report progress."""
        self.nodes += node
        self.dive_steps += not node
        now = time.perf_counter()
        if self.node_limit is not None and self.nodes > self.node_limit:
            raise _Limit(f"node limit {self.node_limit} reached")
        if self.time_limit is not None and now - self.t0 > self.time_limit:
            raise _Limit(f"time limit {self.time_limit} s reached")
        self._report(f"open {depth}")

    def _report(self, where):
        """A progress line on stderr, at most once per interval."""
        now = time.perf_counter()
        if self.progress and now >= self._next_report:
            self._next_report = now + self.interval
            print(f"dss: {now - self.t0:7.1f} s  nodes {self.nodes}  LPs {self._stats()['lps']}  "
                  f"pool {len(self.deps)}  {where}", file=sys.stderr, flush=True)

    def _stats(self, **extra):
        st = {
            "nodes": self.nodes,
            "lps": self.pre_lps + self.worker_lps + sum(o.lp_count for o in self._lps()),
            "lp_seconds": sum(o.lp_seconds for o in self._lps()),
            "lp_retries": sum(o.retries for o in self._lps()),
            "exact_lps": self.exact_lps,
            "dive_steps": self.dive_steps,
            "workers": self.workers,
            "pretest": self.pretest,
            "pool": len(self.deps),
            "nodes_by_rank": " ".join(map(str, _trim_zeros(self.by_rank))),
            "seconds": time.perf_counter() - self.t0,
        }
        st.update(extra)
        return st

    def _lps(self):
        return [o for o in (self.lp, self.flp, self.elp) if o is not None]

    def _result(self, status, message, **kw):
        return CertifyResult(status=status, message=message, shape=(self.m, self.n), **kw)

    def _finish_witness(self, x1, x2, why):
        from ..verify.check import check_witness

        if self.m < 2 * self.n:
            why += f"; m = {self.m} < 2n, never injective (seed Corollary 2)"
        res = self._result("not_injective", f"Witness found: {why}.", witness=(x1, x2))
        ok, msg = check_witness(x1, x2, self.Wq, self.bq)
        if not ok:  # cannot happen unless there is a bug; never return unchecked evidence
            self._undecided(f"witness failed the exact check ({msg})")
            return None
        res.checked = True
        res.stats = self._stats()
        return res

    def _finish_proof(self):
        from ..verify.check import CheckTimeout, check_proof

        minor = self._minor()
        deps = list(self.used)
        # tell the checker which dependencies the search used where, by position in `deps`
        pos = {d: i for i, d in enumerate(deps)}
        hints = {F: ([pos[d] for d in h] if isinstance(h, list) else pos[h])
                 for F, h in self.hints.items()}
        t = time.perf_counter()
        deadline = None if self.time_limit is None else self.t0 + self.time_limit
        try:
            ok, msg = check_proof(minor, deps, self.Wq, self.bq, matroid=self.M, hints=hints,
                                  deadline=deadline)
        except CheckTimeout:
            return self._finish_unknown(f"time limit {self.time_limit} s reached during the "
                                        "exact proof check")
        check_seconds = time.perf_counter() - t
        if not ok:
            return self._finish_unknown(f"proof failed the exact check ({msg})")
        res = self._result(
            "injective",
            f"Proof: a nonsingular minor and {_count(len(deps), 'dependency', 'dependencies')} "
            "that no flat of rank < n meets all of.",
            proof=Proof(minor, deps, hints),
        )
        res.checked = True
        res.stats = self._stats(check_seconds=check_seconds)
        return res

    def _finish_unknown(self, reason):
        return self._result(
            "unknown", f"Undecided: {reason}.", stats=self._stats(reason=reason)
        )

    def _minor(self):
        """Row indices of an n x n nonsingular submatrix (pivot columns of rref(W^T))."""
        R = self.M._MT.rref()[0]
        piv, col = [], 0
        for r in range(R.nrows()):
            while col < R.ncols() and R[r, col] == 0:
                col += 1
            if col == R.ncols():
                break
            piv.append(col)
        return piv[: self.n]


def _trim_zeros(counts):
    k = len(counts)
    while k and counts[k - 1] == 0:
        k -= 1
    return counts[:k]


def _count(k, one, many):
    return f"{k} {one if k == 1 else many}"


def _free_rows(rows, E):
    return [i for i in rows if not E >> i & 1]
