"""The cheap steps before the exhaustive search: antiparallel pairs and the greedy dive.

Examples
--------
>>> import numpy as np
>>> from dsssolver.certify.certificates import ExactLayer
>>> [d.rows for d in antiparallel_dependencies(ExactLayer(np.vstack([np.eye(2), -np.eye(2)]), np.zeros(4)))]
[(0, 2), (1, 3)]
"""
from __future__ import annotations

import numpy as np

from .lp import ElasticLP

__all__ = ["antiparallel_dependencies", "dive"]


def antiparallel_dependencies(layer):
    """Every dependency of two antiparallel rows (w_j = -c w_i, c b_i + b_j >= 0).

    These make the [B; -DB] layers of Puthawala et al. 2022, Corollary 2 (and
    any layer containing such pairs) close at once: a flat meeting a pair holds
    both.  Rows are found exactly and in linear time: the matroid keeps each row
    as a primitive integer vector, so w_j is a negative multiple of w_i iff
    their vectors are negatives of each other.
    """
    max_pairs = 4 * layer.m  # many duplicate rows would give quadratically many pairs
    groups = {}
    for i, row in enumerate(layer.M.int_rows):
        if any(row):
            groups.setdefault(tuple(row), []).append(i)
    out = []
    for key, rows in groups.items():
        for i in rows:
            for j in groups.get(tuple(-v for v in key), ()):
                if i < j and len(out) < max_pairs:
                    dep = layer.dependency_on((i, j))
                    if dep is not None and len(dep.rows) == 2:
                        out.append(dep)
    return out


def dive(tree, grow=0.25):
    """A greedy dive for a witness before the exhaustive search (Chinneck's heuristic, in bulk).

    The elastic LP minimises the total violation of ``w_i . x + b_i s <= -1``
    over the rows outside the current flat, so its optimum point switches on
    as few rows as an L1 relaxation can manage.  Each step:

    1. solve the elastic LP for the rows outside the flat;
    2. if its optimum is 0, or fewer than ``n`` rows are on at its point (in
       floating point), try that point's exact active set for a witness at
       once -- on Gaussian layers with ``m = 4n`` the first LP's point is within
       a few rows of that;
    3. otherwise let the rows with the largest violations be active: their
       closures join the flat.  Chinneck's heuristic adds one row per LP, which
       on large layers means up to ``n`` LPs of size ``m x n``; here a fraction
       ``grow`` of the remaining corank is added per LP (at least one row).

    It decides nothing when it fails; the exhaustive search follows.  Returns
    a Witness or None.
    """
    M, layer, n = tree.M, tree.layer, tree.n
    elp = ElasticLP(layer.Wf, layer.bf, domain=None if layer.domain is None else layer.domain.Af)
    tree.extra_models.append(elp)
    state = M.root()
    tried = set()
    while len(state[1]) < n:  # a state's basis has as many rows as its flat's rank
        tree.limits.check_time()
        tree.counters.dive_steps += 1
        tree.report("dive")
        rest = np.ones(tree.m, dtype=bool)
        rest[list(state[0])] = False
        out = elp.solve(rest)
        if out is None:
            return None
        on = np.flatnonzero(layer.Wf @ out.point + layer.bf >= 0)
        if out.value <= 1e-9 or on.size < n:
            key = tuple(on.tolist())
            if key not in tried:  # the exact active set decides; the float one only suggests
                tried.add(key)
                found = tree.witness_from_point(out.point)
                if found is not None:
                    return found
        state = _grow(M, state, out.violation, max(1, int(grow * (n - len(state[1])))))
        if state is None:
            return None
    return None


def _grow(M, state, violation, k):
    """``state`` with up to ``k`` of the most violated rows added, keeping rank <= n - 1
    (None if no row can be added)."""
    flat, rank = state[0], len(state[1])
    k = min(k, M.n - 1 - rank)
    rows = [int(i) for i in np.argsort(-violation, kind="stable")[: k + len(flat)]
            if violation[i] > 0 and int(i) not in flat][:k]
    if not rows:
        return None
    state = M.extend(state, rows)  # one flat computation for all of them
    return state if len(state[1]) > rank else None
