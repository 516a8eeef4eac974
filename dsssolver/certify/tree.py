"""The branch-and-bound over flats: processing a node and the branching rule.

At a node ``(F, E)`` of corank ``d`` (:class:`~dsssolver.certify.node.Node`):

* if the strict system on the rows outside ``F`` is solvable, the LP's point
  lies in a cell whose active rows are inside ``F``: a witness;
* otherwise a dependency ``(S, y)`` (a Farkas certificate; the Farkas LP
  prefers rows of ``E``) is disjoint from ``F``, and any flat that makes the
  system solvable contains a row of ``S``: the node branches on ``S``
  (:func:`~dsssolver.certify.node.children`);
* the node is closed without branching when ``d`` dependencies have pairwise
  disjoint free rows (outside ``E``) and every choice of one free row from each
  is independent modulo ``F`` (a packing), or when one dependency lies inside
  ``E``.

Dependencies are pooled (:class:`~dsssolver.certify.pool.DependencyPool`), so
most nodes need no LP at all.  Float LP answers are hints: a support becomes a
dependency through the exact null space, a point becomes a witness through the
exact active set (:class:`~dsssolver.certify.certificates.ExactLayer`); when
both fail, the node's strict system is decided over Q
(:func:`~dsssolver.exact.simplex.strict_system`).

Examples
--------
>>> import numpy as np
>>> from dsssolver.certify.certificates import ExactLayer
>>> from dsssolver.certify.limits import Limits
>>> tree = Tree(ExactLayer(np.vstack([np.eye(2), -np.eye(2)]), np.zeros(4)), Limits(None, None))
>>> tree.dfs([Node.root(tree.M)]) is None     # exhausted: no witness, the tree is a proof
True
>>> sorted(d.rows for d in tree.used)
[(0, 2), (1, 3)]
"""
from __future__ import annotations

import numpy as np

from ..exact.simplex import strict_system
from .limits import Counters
from .lp import FarkasLP, StrictLP
from .node import Branched, Closed, Node, Split, Witness, children
from .pool import DependencyPool

__all__ = ["Tree", "Node"]


class Tree:
    """The search state of one process: exact layer, dependency pool, LP models, proof so far.

    Parameters
    ----------
    layer : ExactLayer
    limits : Limits
    deps : iterable of Dependency
        Dependencies to pool from the start (antiparallel pairs, a parent's pool).

    Attributes
    ----------
    used : dict
        Dependencies used, in order of use (keys; values are None): the proof.
    hints : dict
        Flat mask -> the dependency branched on there, or the list that closed it.
    counters : Counters
    unknown_reason : str or None
        Set when some node could not be decided exactly; the verdict is then "unknown".
    """

    pool_accept = 1  # a pooled dependency leaving <= this many rows to branch on skips the LP
    # Live pooled dependencies (SupportSet.cap; None: all).  A packing query costs in
    # proportion to the live pool, which grew to 10^5 on Gaussian n = 14; keeping the 4096
    # most recently used also gave 20-26 % fewer nodes at n = 13, c = 10 (more LPs, fresher
    # dependencies), and changed little at n = 10-12 (docs/scaling.md).
    pool_cap = 4096
    pack_depth = 4  # try to close nodes of corank <= this with LP-built packings
    # Trusted packings.  The exact checker tests every closing packing again, so the search's
    # own test of a large one is redundant whenever it would pass -- on Gaussian layers it
    # always does.  After `trust_after` large tests in a row passed, the search tests only one
    # large packing in `trust_every` and closes the others untested; the first large test that
    # fails ends the trust for good.  A proof the checker then rejects is searched again with
    # every packing tested (certify/search.py), so trust never decides a verdict.
    trust_after = 64
    trust_every = 8
    trust_from = 256  # transversals: smaller tests are cheaper than the bookkeeping
    trust_upto = 200_000  # larger ones are not tested by the checker either (its own limit)

    def __init__(self, layer, limits, deps=()):
        self.layer, self.M, self.limits = layer, layer.M, limits
        self.m, self.n = layer.m, layer.n
        self.pool = DependencyPool(self.m, self.pool_cap)
        for dep in deps:
            self.pool.add(dep)
        self.used, self.hints = {}, {}
        self.counters = Counters()
        self.unknown_reason = None
        dom = None if layer.domain is None else layer.domain.Af
        self.lp = StrictLP(layer.Wf, layer.bf, domain=dom)
        self.flp = FarkasLP(layer.Wf, layer.bf, domain=dom)
        self.extra_models = []  # other LP models of the run (the dive's), for the statistics
        self.trust = True  # False: every packing is tested (a re-run after a rejected proof)
        self._streak = self._untested = 0

    # ------------------------------------------------------------- running
    def dfs(self, stack, split_after=None, max_nodes=None):
        """Depth-first search from the nodes in ``stack``.

        Returns a :class:`Witness`, ``None`` when the stack is exhausted, or --
        once ``split_after`` seconds of the run have passed, or ``max_nodes``
        nodes were processed -- a :class:`Split` with the open nodes, for
        worker processes.
        """
        done = 0
        while stack:
            if (split_after is not None and self.limits.elapsed() > split_after) or \
                    (max_nodes is not None and done >= max_nodes):
                return Split(stack)
            done += 1
            node = stack.pop()
            out = self.process(node, len(stack))
            if isinstance(out, Witness):
                return out
            if isinstance(out, Branched):
                stack.extend(reversed(out.children))
        return None

    def process(self, node, open_nodes=0):
        """Count ``node`` against the limits, report progress, and :meth:`expand` it."""
        self.limits.take_node()
        self.counters.nodes += 1
        self.report(f"open {open_nodes}")
        return self.expand(node)

    def report(self, where):
        """A progress line on stderr (at most once per the limits' interval)."""
        self.limits.report(lambda: f"nodes {self.limits.taken()}  LPs {self.lp_count()}  "
                                   f"pool {len(self.pool)}  {where}")

    def expand(self, node):
        """Process one node: :class:`Closed`, :class:`Branched` or :class:`Witness`."""
        self.counters.count_rank(node.rank)
        pack = self._packing(node)
        if not isinstance(pack, list):
            return pack
        if not pack:  # undecided (the reason is recorded): nothing to branch on
            return Closed([])
        # branch on the dependency leaving fewest rows to choose from
        dep = self.pool[min(pack, key=lambda kc: kc[1])[0]]
        self.used[dep] = None
        self.hints[node.flat] = dep
        return Branched(dep, children(self.M, node, dep.rows))

    def lp_models(self):
        return [self.lp, self.flp, *self.extra_models]

    def lp_count(self):
        return self.counters.other_lps + sum(o.lp_count for o in self.lp_models())

    def undecided(self, reason):
        if self.unknown_reason is None:
            self.unknown_reason = reason

    # ----------------------------------------------------- branching rule
    def _close(self, node, deps):
        self.used.update(dict.fromkeys(deps))
        self.hints[node.flat] = deps
        return Closed(deps)

    def _packing(self, node):
        """Dependencies to branch on at ``node`` (a list of ``(k, free rows)``), or the node's
        fate when it is decided here (:class:`Closed`, :class:`Witness`).

        A flat above ``F`` of rank <= n - 1 avoiding ``E`` must meet the free
        rows (outside ``E``) of every dependency disjoint from ``F``.  If ``d``
        (the corank) dependencies have pairwise disjoint free rows and every
        choice of one free row from each is independent modulo ``F``, any such
        flat has rank >= rank F + d = n: the node is empty.  Dependencies come
        from the pool first, then from LPs that forbid the free rows already
        taken; LPs are spent on packings only for small ``d``, where the
        independence test is cheap and an empty node saves a large subtree.
        """
        F, E, d = node.flat, node.excluded, self.n - node.rank
        pack = self.pool.packing(F, E, d)
        lps = 0
        max_lps = d if d <= self.pack_depth else 1
        while True:
            if pack and pack[-1][1] == 0:  # a dependency inside E alone
                return self._close(node, [self.pool[pack[-1][0]]])
            if len(pack) == d:
                if d == 1 or self._independent(node, [_free_rows(self.pool[k].rows, E) for k, _ in pack]):
                    return self._close(node, [self.pool[k] for k, _ in pack])
                return pack  # independence not shown: branch
            if lps >= max_lps or (d > self.pack_depth and pack and pack[0][1] <= self.pool_accept):
                return pack
            taken = F
            for k, _ in pack:
                taken |= self.pool.mask(k) & ~E
            out = self._node_lp(taken, E, primary=(taken == F))
            lps += 1
            if isinstance(out, Witness):
                return out
            if out is None:
                return pack
            pack.append((out, (self.pool.mask(out) & ~E).bit_count()))

    def _independent(self, node, parts):
        """Whether every transversal of ``parts`` is independent modulo the node's flat -- or,
        in trust mode, taken to be (see :attr:`trust_after`)."""
        total = 1
        for part in parts:
            total *= len(part)
        large = self.trust_from <= total <= self.trust_upto
        if large and self.trust and self._streak >= self.trust_after:
            self._untested += 1
            if self._untested % self.trust_every:
                self.counters.trusted += 1
                return True
        ok = self.M.transversals_independent(node.state, parts)
        if large:
            self._streak += 1
            if not ok:
                self.trust = False
        return ok

    # ------------------------------------------------- LPs made exact
    def _node_lp(self, taken, E, primary):
        """One Farkas LP with the rows of ``taken`` allowed active.

        Returns the index of a new pooled dependency, a :class:`Witness`, or
        None (the strict system is solvable there, or nothing exact was found).
        Fallback chain, because a float LP answer is only a hint until it is
        re-checked exactly: Farkas LP support -> robust primal LP (point or
        duals) -> deletion filter to an irreducible subsystem -> exact simplex.
        """
        flat = _bool_mask(taken, self.m)
        out = self.flp.solve(flat, _bool_mask(E, self.m))
        dep = self.layer.dependency_on(out.support, out.domain_support) \
            if out.status == "infeasible" else None
        if dep is None and not primary:
            return None  # the packing stops here; nothing is decided by it
        if dep is None:
            out = self.lp.solve(~flat)
            if out.status == "feasible":
                wit = self.witness_from_point(out.point)
                if wit is not None:
                    return wit
            elif out.status == "infeasible":
                dep = self.layer.dependency_on(out.support, out.domain_support) \
                    or self._filtered_dependency(out.support, out.domain_support)
        if dep is None:
            dep = self._exact_node(flat, out.support)
        if dep is None:
            self.undecided("no exact decision of a node's strict system could be reached")
            return None
        if isinstance(dep, Witness):
            return dep
        return self.pool.add(dep)

    def _exact_node(self, flat, support):
        """Decide the strict system on the rows outside ``flat`` over Q (the float answers did
        not survive the exact check): a Dependency, a Witness, or None."""
        self.counters.exact_lps += 1
        # Bland's rule works with any fixed order: put the float LP's support first
        hint = set(support.tolist()) if support is not None else set()
        rows = sorted((i for i in range(self.m) if not flat[i]), key=lambda i: i not in hint)
        L, D = self.layer, self.layer.domain
        weak = [] if D is None else [row + [-ck] for row, ck in zip(D.Aq, D.cq)]
        ex = strict_system([L.Wq[i] + [L.bq[i]] for i in rows], weak=weak)
        if ex is None:
            return None
        if ex[0] == "feasible":
            x, s = ex[1]
            return self.witness_from_point([v / s for v in x])
        # index k < len(rows) is row rows[k]; k >= len(rows) is domain row k - len(rows)
        return L.dependency_from({(rows[k] if k < len(rows) else self.m + k - len(rows)): y
                                  for k, y in ex[1].items()})

    def _filtered_dependency(self, support, domain_support):
        """Shrink ``support`` to an irreducible infeasible subsystem by deletion, then retry.

        An irreducible infeasible strict subsystem has a one-dimensional space
        of dependencies (a smaller support would exist otherwise), so the exact
        null space then pins the multipliers down.
        """
        S = [int(i) for i in support]
        k = 0
        while k < len(S):
            trial = S[:k] + S[k + 1:]
            rows = np.zeros(self.m, dtype=bool)
            rows[trial] = True
            out = self.lp.solve(rows)
            if out.status == "infeasible" and len(out.support):
                keep = set(out.support.tolist())
                S = [i for i in trial if i in keep]
                domain_support = out.domain_support
                k = 0
            else:
                k += 1
        return self.layer.dependency_on(S, domain_support)

    def witness_from_point(self, point):
        """A :class:`Witness` from a point of a rank-deficient cell, else None."""
        found = self.layer.witness_near(point)
        if found is None:
            return None
        x1, x2, active = found
        return Witness(x1, x2, f"active rows {len(active)} of rank < n = {self.n}")


def _bool_mask(bits, m):
    """Row set ``bits`` (an int) as a length-m bool array (by unpackbits: 4x a bit loop)."""
    b = np.frombuffer(bits.to_bytes((m + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.unpackbits(b, bitorder="little")[:m].astype(bool)


def _free_rows(rows, E):
    return [i for i in rows if not E >> i & 1]
