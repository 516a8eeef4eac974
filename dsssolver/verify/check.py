"""The independent exact checker of injectivity evidence; no LP solver, nothing from the search.

* A witness ``(x1, x2)`` is valid iff ``x1 != x2``, both lie in the domain (``A x <= c``) and
  ``ReLU(W x1 + b) == ReLU(W x2 + b)`` in rational arithmetic.
* A proof is valid iff (1) rows ``minor`` of ``W`` form a nonsingular n x n matrix, (2) every
  dependency is a valid Farkas certificate, exactly, (3) a domain, if any, has an interior point,
  and (4) no flat of rank <= n - 1 meets the rows of every dependency
  (:func:`dsssolver.verify.flats.find_hitting_flat`).

Why (1)-(4) prove injectivity is written out in ``docs/evidence.md`` and ``docs/math.md``
(Puthawala et al. 2022, Theorem 1, with biases).  Everything is built afresh from ``W``, ``b``, the
domain and the evidence, with the checker's own arithmetic (:mod:`dsssolver.verify._arith`);
nothing is shared with the search.
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm
from typing import Any

import flint
import numpy as np

from .._validate import as_layer, as_time_limit
from ..errors import CheckTimeout, InvalidInputError
from ._arith import integer_row, nonsingular, to_fraction
from .evidence import INJECTIVE, NOT_INJECTIVE, CertifyResult, as_domain, max_bits_for
from .flats import find_hitting_flat
from .pairs import check_pair_proof

__all__ = ["check", "CheckResult", "CheckTimeout"]


@dataclass
class CheckResult:
    """Outcome of :func:`check`; true in a boolean context iff the evidence is valid.

    Attributes
    ----------
    ok : bool
        Whether the evidence is valid for the layer (and domain).
    message : str
        Why, in one sentence.
    stats : dict
        ``seconds``, and for proofs ``nodes``, ``transversals``, ``hints_used``,
        ``hints_rejected``, ``hints_abandoned``.

    Examples
    --------
    >>> res = CheckResult(False, "the two witness points are equal")
    >>> bool(res), res.message
    (False, 'the two witness points are equal')
    >>> ok, message = res          # unpacks like the old (ok, message) pair
    """

    ok: bool
    message: str
    stats: dict = field(default_factory=dict)

    def __bool__(self):
        return bool(self.ok)

    def __iter__(self):
        return iter((self.ok, self.message))


def check(evidence: CertifyResult | dict, W: Any, b: Any = None, *, domain: Any = None,
          time_limit: float | None = None, hints: bool = True, workers: int | None = None,
          explain: bool | None = None) -> CheckResult:
    """Re-check injectivity evidence exactly, with no LP solver and nothing from the search.

    Parameters
    ----------
    evidence : CertifyResult or dict
        A result of :func:`dsssolver.certify`, or its JSON form (``to_json()``).
    W, b : array_like
        The layer ``x -> ReLU(W x + b)`` the evidence is about (``b`` defaults to 0).
    domain : None, "nonnegative" or (A, c), optional
        The inputs the evidence must be about; evidence recorded for another domain is invalid.
    time_limit : float, optional
        Seconds; :class:`~dsssolver.errors.CheckTimeout` is raised when they run out.
    hints : bool
        Use the proof's hints (default).  Hints can only speed a check up: a wrong hint is
        ignored, and work beyond a budget proportional to the evidence size restarts the check
        without them.
    workers : int, optional
        Processes for a long proof check (default: every core this process may use).  A check
        still running after half a second deals its open nodes to forked processes; each
        is this checker, nothing else.  1 keeps it in this process.
    explain : bool, optional
        Deprecated and ignored: the result always carries its message.

    Returns
    -------
    CheckResult
        Truthy iff valid.  An "unknown" result carries no evidence and is never valid.

    Raises
    ------
    InvalidInputError
        Invalid ``W``, ``b``, ``domain``, ``time_limit`` or ``evidence`` type.
    EvidenceError
        Malformed evidence (a foreign format or version, a bad field).
    CheckTimeout
        ``time_limit`` ran out.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1, 0], [0, 1], [1, 1]])
    >>> doc = {"format": "dsssolver-evidence", "version": 2, "status": "not_injective",
    ...        "shape": [3, 2], "witness": [["-1", "-1"], ["-1", "-2"]]}
    >>> res = check(doc, W)
    >>> bool(res), res.message
    (True, 'two different inputs with the same output')
    """
    t0 = time.perf_counter()
    if explain is not None:
        warnings.warn("check(..., explain=) is deprecated: the CheckResult carries the message",
                      DeprecationWarning, stacklevel=2)
    time_limit = as_time_limit(time_limit)
    if not isinstance(hints, bool):
        raise InvalidInputError(f"hints must be True or False, got {hints!r}")
    workers = _workers(workers)
    deadline = None if time_limit is None else t0 + time_limit
    W, b = as_layer(W, b)
    domain = as_domain(domain, W.shape[1])
    if isinstance(evidence, dict):
        evidence = CertifyResult.from_json(evidence, max_bits=_max_bits(W, b, domain))
    elif not isinstance(evidence, CertifyResult):
        raise InvalidInputError("evidence must be a CertifyResult or its JSON dict, got "
                                f"{type(evidence).__name__}")
    elif isinstance(evidence.domain, dict):  # a domain in its JSON form: read it as JSON
        evidence = CertifyResult.from_json(evidence.to_json(), max_bits=_max_bits(W, b, domain))
    out = _pair_shape(evidence, W, b, domain)
    if out is None:
        out = _check(evidence, _Layer(W, b, domain), deadline, hints, workers)
    out.stats["seconds"] = time.perf_counter() - t0
    return out


def _pair_shape(ev, W, b, domain):
    """The fast exact path for proofs made of n antiparallel pairs (:mod:`.pairs`), or None.

    On a domain only when the evidence is for the same domain; on ``x >= 0`` (``A = -I``,
    ``c = 0``, checked here, not taken from the name) single rows positive there count too.
    Anything else goes to the general check (which also refuses another domain's evidence).
    """
    if ev.status != INJECTIVE or ev.proof is None or tuple(ev.shape) != W.shape \
            or not _same_domain(ev.domain, domain):
        return None
    if domain is not None and domain.name != "nonnegative" and not _has_interior(ev.domain):
        return None  # point 3 of the format: the general check names what is missing
    quick = check_pair_proof(ev.proof.minor, ev.proof.dependencies, W, b,
                             nonnegative=domain is not None and domain.name == "nonnegative"
                             and _is_orthant(domain, W.shape[1]))
    if quick is None:
        return None
    return CheckResult(quick[0], quick[1], {"pair_shape": True})


def _has_interior(d):
    """Does the evidence's polyhedron carry a point with ``A z < c`` strictly?"""
    z = d.interior
    return z is not None and len(z) == len(d.A[0]) and all(
        sum((a * v for a, v in zip(row, z)), Fraction(0)) < c for row, c in zip(d.A, d.c))


def _is_orthant(domain, n):
    """Is the domain exactly ``-x <= 0`` (rows ``-e_k`` in order, ``c = 0``)?"""
    return len(domain.A) == n and all(v == 0 for v in domain.c) and all(
        domain.A[k][j] == (-1 if j == k else 0) for k in range(n) for j in range(n))


def _max_bits(W, b, domain):
    """The longest number evidence for this layer may hold (see :func:`max_bits_for`)."""
    bits = 2200  # any float64 layer
    if W.dtype == object or b.dtype == object:
        bits = max([bits] + [_bits(v) for v in list(W.flat) + list(b.flat)])
    if domain is not None:
        bits = max([bits] + [_bits(v) for row in domain.A for v in row] + [_bits(v) for v in domain.c])
    return max_bits_for(W.shape[1], entry_bits=bits)


def _bits(v):
    q = to_fraction(v)
    return abs(q.numerator).bit_length() + q.denominator.bit_length()


def _workers(workers):
    if workers is None:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InvalidInputError(f"workers must be a positive integer or None, got {workers!r}")
    return int(workers)


def _check(ev, layer, deadline, hints, workers=1):
    m, n = layer.m, layer.n
    if tuple(ev.shape) != (m, n):
        return CheckResult(False, f"the evidence is for shape {tuple(ev.shape)}, the layer is {(m, n)}")
    if not _same_domain(ev.domain, layer.domain):
        a, b = _domain_name(ev.domain), _domain_name(layer.domain)
        if a == b:  # same kind and row count: name the difference, not the same words twice
            b = "another domain of that size (different A or c)"
        return CheckResult(False, f"the evidence is for {a}, the check was asked about {b}")
    if ev.status == NOT_INJECTIVE:
        if ev.witness is None or len(ev.witness) != 2:
            return CheckResult(False, "status 'not_injective' without a witness pair")
        return check_witness(ev.witness[0], ev.witness[1], layer)
    if ev.status == INJECTIVE:
        if ev.proof is None:
            return CheckResult(False, "status 'injective' without a proof")
        return check_proof(ev.proof, layer, ev.domain, deadline=deadline, hints=hints,
                           workers=workers)
    return CheckResult(False, "status 'unknown' carries no evidence")


class _Layer:
    """``W``, ``b`` and the domain as exact rationals and integer rows, built for one check."""

    def __init__(self, W, b, domain):
        self.m, self.n = W.shape
        self.Wq = [[to_fraction(v, "W") for v in row] for row in W]
        self.bq = [to_fraction(v, "b") for v in b]
        self.domain = domain
        # row i of W is rows[i] / scales[i] (scales > 0): flats and dependencies on integers
        self.rows, self.scales = [], []
        for row in self.Wq:
            ints, s = integer_row(row)
            self.rows.append(ints)
            self.scales.append(s)
        self.A_rows, self.A_scales = [], []
        if domain is not None:
            for row in domain.A:
                ints, s = integer_row(list(row))
                self.A_rows.append(ints)
                self.A_scales.append(s)


def check_witness(x1, x2, layer):
    """Check a witness pair against a :class:`_Layer`; returns a :class:`CheckResult`."""
    n = layer.n
    if len(x1) != n or len(x2) != n:
        return CheckResult(False, f"witness points must have n = {n} entries")
    x1 = [to_fraction(v, "witness") for v in x1]
    x2 = [to_fraction(v, "witness") for v in x2]
    if x1 == x2:
        return CheckResult(False, "the two witness points are equal")
    dom = layer.domain
    if dom is not None:
        for j, x in enumerate((x1, x2)):
            for k, (a, c) in enumerate(zip(dom.A, dom.c)):
                if sum(ai * xi for ai, xi in zip(a, x)) > c:
                    return CheckResult(False, f"witness point {j + 1} is outside the domain "
                                       f"(row {k} of A x <= c)")
    # each point as integers over one common denominator: a row's value is then one integer
    # dot product with the row's integers and two Fraction operations, not n Fraction additions
    # (whose gcds dominate when the points have thousands of bits, as wide layers' witnesses do)
    X1, D1 = _over_common_denominator(x1)
    X2, D2 = _over_common_denominator(x2)
    for i, (row, s, bi) in enumerate(zip(layer.rows, layer.scales, layer.bq)):
        y1 = max(Fraction(sum(a * v for a, v in zip(row, X1) if a), D1) / s + bi, 0)
        y2 = max(Fraction(sum(a * v for a, v in zip(row, X2) if a), D2) / s + bi, 0)
        if y1 != y2:
            return CheckResult(False, f"the outputs differ at row {i}")
    return CheckResult(True, "two different inputs with the same output")


def _over_common_denominator(x):
    """``(X, D)``: integers ``X`` and ``D > 0`` with ``x = X / D``."""
    D = lcm(*(q.denominator for q in x))
    return [q.numerator * (D // q.denominator) for q in x], D


def check_proof(proof, layer, domain=None, *, deadline=None, hints=True, workers=1):
    """Check a :class:`~dsssolver.verify.evidence.Proof` against a :class:`_Layer`."""
    m, n = layer.m, layer.n
    minor = list(proof.minor)
    if len(minor) != n or len(set(minor)) != n or not all(0 <= i < m for i in minor):
        return CheckResult(False, f"the minor must be n = {n} distinct row indices in [0, {m})")
    if not nonsingular([layer.rows[i] for i in minor]):
        return CheckResult(False, "the minor is singular")
    if domain is not None:
        why = _interior_fault(domain)
        if why:
            return CheckResult(False, why)
    masks = []
    for k, dep in enumerate(proof.dependencies):
        why = _dependency_fault(dep, layer, domain)
        if why:
            return CheckResult(False, f"dependency {k}: {why}")
        masks.append(sum(1 << i for i in dep.rows))
        if deadline is not None and k % 64 == 63 and time.perf_counter() > deadline:
            raise CheckTimeout("time limit reached while checking the dependencies")
    cover = find_hitting_flat(layer.rows, n, masks, hints=proof.hints if hints else None,
                              deadline=deadline, workers=workers)
    if cover.flat is not None:
        return CheckResult(False, f"the flat spanned by rows {cover.flat} has rank < n and meets "
                           "every dependency", cover.stats)
    k = len(masks)
    return CheckResult(True, f"minor nonsingular; {k} {'dependency' if k == 1 else 'dependencies'} "
                       "valid and no flat of rank < n meets all", cover.stats)


def _dependency_fault(dep, layer, domain):
    """Why a dependency is not a valid Farkas certificate ('' if it is)."""
    rows, ys = list(dep.rows), [to_fraction(y, "multiplier") for y in dep.multipliers]
    drows = list(dep.domain_rows)
    us = [to_fraction(u, "multiplier") for u in dep.domain_multipliers]
    if not rows or len(rows) != len(ys) or len(set(rows)) != len(rows):
        return "rows must be distinct, not empty, and match the multipliers"
    if not all(0 <= i < layer.m for i in rows):
        return "a row index is out of range"
    if drows and domain is None:
        return "domain rows without a domain"
    k_dom = 0 if domain is None else len(domain.A)
    if len(drows) != len(us) or len(set(drows)) != len(drows) or \
            not all(0 <= k < k_dom for k in drows):
        return "domain rows must be distinct indices of A and match their multipliers"
    if any(y < 0 for y in ys) or not any(ys) or any(u < 0 for u in us):
        return "multipliers must be >= 0, and not all 0 on the rows"
    # sum y_i w_i + sum u_k a_k with w_i = rows[i] / scales[i]: each coefficient y / s is
    # num / den in plain integers (s > 0, so den > 0; not reduced: the test below is
    # homogeneous), times the common multiple L of the dens, then one integer sum per
    # coordinate -- no Fraction object per term (this was half of checking a large proof)
    vecs = [layer.rows[i] for i in rows] + [layer.A_rows[k] for k in drows]
    scales = [layer.scales[i] for i in rows] + [layer.A_scales[k] for k in drows]
    nums = [q.numerator * s.denominator for q, s in zip(ys + us, scales)]
    dens = [q.denominator * s.numerator for q, s in zip(ys + us, scales)]
    L = 1
    for d in dens:
        L = lcm(L, d)
    ints = [a * (L // d) for a, d in zip(nums, dens)]
    # the n coordinate sums as one integer vector-matrix product in FLINT (a Python sum per
    # coordinate was a tenth of checking a large proof)
    total = flint.fmpz_mat([ints]) * flint.fmpz_mat(vecs)
    for j in range(layer.n):
        if total[0, j] != 0:
            return f"sum y_i w_i is not 0 (coordinate {j})"
    # the bias condition; zero biases (the usual layer) add nothing
    slack = sum((y * layer.bq[i] for i, y in zip(rows, ys) if layer.bq[i]), Fraction(0))
    if drows:
        slack -= sum(u * domain.c[k] for k, u in zip(drows, us))
    if slack < 0:
        return "sum y_i b_i < 0" if not drows else "sum y_i b_i - sum u_k c_k < 0"
    return ""


def _interior_fault(domain):
    z = domain.interior
    if z is None and domain.name == "nonnegative":
        z = tuple(Fraction(1) for _ in domain.c)
    if z is None:
        return ("the evidence gives no interior point of the domain, so it does not show the "
                "domain is full-dimensional")
    for k, (a, c) in enumerate(zip(domain.A, domain.c)):
        if not sum(ai * zi for ai, zi in zip(a, z)) < c:
            return f"the domain's interior point is not strictly inside (row {k} of A x < c)"
    return ""


def _same_domain(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.same_set(b)


def _domain_name(d):
    if d is None:
        return "all of R^n"
    if d.name == "nonnegative":
        return "the domain x >= 0"
    return f"the domain A x <= c with {len(d.A)} rows"


def _rank(rows):
    """Exact rank of rational rows (each scaled to integers; FLINT's fraction-free rank)."""
    ints = [integer_row([to_fraction(v) for v in r])[0] for r in rows]
    if not ints or not ints[0]:
        return 0
    import flint

    return flint.fmpz_mat(ints).rank()
