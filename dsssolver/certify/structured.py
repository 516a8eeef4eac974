"""The quick path for layers whose antiparallel row pairs span R^n (seed Corollary 2 layers).

Before any exact conversion of the whole matrix, :func:`pair_result` looks for
antiparallel pairs (:mod:`dsssolver.exact.pairs`); when ``n`` of them have
independent directions, they and a minor are a complete proof, checked by
:func:`dsssolver.verify.check` (whose exact path for this shape,
:mod:`dsssolver.verify.pairs`, takes about the time of one modular
determinant).  An ``[B; -DB; M]`` layer with n = 1000 is proven this way in
a few seconds, where the general search is out of reach.

Examples
--------
>>> import numpy as np
>>> B = np.array([[2., 1.], [1., 1.]])
>>> res = pair_result(np.vstack([B, -0.5 * B]), np.zeros(4))
>>> res.status, res.proof.minor
('injective', [0, 1])
"""
from __future__ import annotations

import time

from ..exact.pairs import pair_proof
from ..verify.evidence import CertifyResult, Proof
from .results import checker_domain_of, evidence_domain

__all__ = ["pair_result"]


def pair_result(W, b, domain=None):
    """An "injective" :class:`CertifyResult` from antiparallel pairs, or None if they do not suffice.

    ``domain`` (a :class:`~dsssolver.certify.domain.DomainRows` or None): pairs prove injectivity
    on R^n, hence on any domain; on ``x >= 0`` single rows ``w_i >= 0``, ``b_i >= 0`` count too
    (:func:`dsssolver.exact.pairs.antiparallel_pairs`).  The evidence records the domain.
    """
    t0 = time.perf_counter()
    m, n = W.shape
    orthant = domain is not None and domain.name == "nonnegative"
    found = pair_proof(W, b, nonnegative=orthant)
    if found is None:
        return None
    minor, deps = found
    singles = sum(len(d.rows) == 1 for d in deps)
    parts = [f"{n - singles} antiparallel row pairs"] if n > singles else []
    parts += [f"{singles} rows positive on x >= 0"] if singles else []
    what = " and ".join(parts) + " whose directions span R^n"
    res = CertifyResult(
        "injective",
        f"Proof: {what}, and a nonsingular minor (the structure of Corollary 2, Puthawala et al. "
        "2022).", (m, n), proof=Proof(list(minor), list(deps)), domain=evidence_domain(domain))
    from ..verify.check import check  # looked up at each call, as in .results (tests spy on it)

    t1 = time.perf_counter()
    if not check(res, W, b, domain=checker_domain_of(domain)):  # the independent checker
        return None  # rows only nearly antiparallel (e.g. float-built [B; -DB]): the search decides
    t2 = time.perf_counter()
    res.stats = {"nodes": 0, "lps": 0, "seconds": t2 - t0, "check_seconds": t2 - t1,
                 "pairs": len(deps) - singles, "positive_rows": singles, "path": "antiparallel pairs"}
    res.checked = True
    return res
