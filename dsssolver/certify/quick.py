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


def dive(tree):
    """A greedy dive for a witness before the exhaustive search (Chinneck's heuristic).

    Starting from the zero rows, repeatedly let the row with the largest
    elastic violation be active (adding its closure), until the strict system
    on the other rows is solvable -- a witness if the flat still has rank < n --
    or the flat reaches rank n.  It costs at most n LPs and decides nothing when
    it fails; the exhaustive search follows.  Returns a Witness or None.
    """
    M, layer = tree.M, tree.layer
    elp = ElasticLP(layer.Wf, layer.bf)
    tree.extra_models.append(elp)
    state = M.root()
    while M.rank(state[0]) < tree.n:
        tree.limits.check_time()
        tree.counters.dive_steps += 1
        tree.report("dive")
        active = np.ones(tree.m, dtype=bool)
        active[list(state[0])] = False
        out = elp.solve(active)
        if out is None:
            return None
        if out.value <= 1e-9:
            return tree.witness_from_point(out.point)
        state = M.extend(state, (int(np.argmax(out.violation)),))
    return None
