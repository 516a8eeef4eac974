"""The witness dive: a greedy search for a rank-deficient cell before the exhaustive search.

A layer is not injective iff some point ``x`` has active rows
``{i : w_i . x + b_i >= 0}`` of rank < n.  The dive looks for one with the
elastic LP (:class:`~dsssolver.certify.lp.ElasticLP`): it minimises the total
violation of ``w_i . x + b_i s <= -1`` over the rows that must stay off, so
its optimum point switches on as few rows as an L1 relaxation can manage.

Each step:

1. solve the elastic LP for the rows outside the current flat ``F``;
2. look at the point itself: if fewer than ``n`` rows are on there (in
   floating point), the exact active set is tried for a witness at once --
   on Gaussian layers with ``m = 4n`` the first LP's point is already within a
   few rows of that;
3. otherwise let the rows with the largest violations be active: their
   closure joins ``F``.  Chinneck's heuristic adds one row per LP; on large
   layers that is up to ``n`` LPs of size ``m x n``, so here a fraction of the
   remaining corank is added at once (at least one row).

The dive decides nothing when it fails; the exhaustive search follows.  Every
witness goes through the exact construction and check of the caller.
"""
from __future__ import annotations

import numpy as np

__all__ = ["elastic_dive"]


def elastic_dive(M, elp, Wf, bf, witness_from_point, tick, *, grow=0.25):
    """Dive for a witness; returns the caller's witness result, or None.

    Parameters
    ----------
    M : RowMatroid
        Exact flats (``root``, ``extend``; a state's basis length is its rank).
    elp : ElasticLP
        The elastic model of the layer.
    Wf, bf : ndarray
        The layer in floating point (to count the rows on at a point).
    witness_from_point : callable
        ``point -> result or None``: the exact witness construction and check.
    tick : callable
        Called once per step (limits and progress).
    grow : float
        Fraction of the remaining corank added to the flat per step.

    Examples
    --------
    >>> import numpy as np
    >>> from dsssolver.certify.lp import ElasticLP
    >>> from dsssolver.exact.matroid import RowMatroid
    >>> W = np.array([[1.0, 0], [0, 1], [1, 1]])
    >>> found = elastic_dive(RowMatroid(W), ElasticLP(W, np.zeros(3)), W, np.zeros(3),
    ...                      lambda x: ("witness at", [float(v) for v in x]), lambda: None)
    >>> found[0]
    'witness at'
    """
    m, n = Wf.shape
    state = M.root()
    tried = set()
    while len(state[1]) < n:  # the basis of a state has as many rows as the flat's rank
        tick()
        rest = np.ones(m, dtype=bool)
        rest[list(state[0])] = False
        out = elp.solve(rest)
        if out is None:
            return None
        value, e, point = out
        on = np.flatnonzero(Wf @ point + bf >= -1e-9 * (1 + np.abs(bf)))
        if value <= 1e-9 or on.size < n:
            key = tuple(on.tolist())
            if key not in tried:  # the exact active set may differ from the float one
                tried.add(key)
                found = witness_from_point(point)
                if found is not None:
                    return found
        corank = n - len(state[1])
        k = max(1, int(grow * corank))
        order = [int(i) for i in np.argsort(-e, kind="stable") if e[i] > 0 and int(i) not in state[0]]
        if not order:
            return None
        added = 0
        for i in order:
            if added >= k or len(state[1]) >= n - 1:
                break
            before = len(state[1])
            state = M.extend(state, (i,))
            added += len(state[1]) > before
        if added == 0:  # the next row would make the flat everything: nothing left to try
            return None
    return None
