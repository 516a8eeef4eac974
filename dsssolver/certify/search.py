"""Exact injectivity of one ReLU layer ``x -> ReLU(W x + b)``: the entry point and the pipeline.

The layer fails to be injective iff some point ``x`` has active rows
``A(x) = {i : w_i . x + b_i >= 0}`` that do not span R^n, iff ``rank W < n`` or
some flat ``F`` of the row matroid with rank <= n - 1 leaves a solvable strict
system ``w_i . x + b_i < 0 (i not in F)`` (docs/math.md).

Pipeline (:class:`_Run`)
------------------------
1. ``rank W < n``: a null vector is the witness.
2. The sufficient half of the seed's Lemma 1, on a small node budget.
3. Antiparallel row pairs into the pool, and a greedy elastic-LP dive for a
   witness (:mod:`.quick`).
4. The exhaustive branch-and-bound (:mod:`.tree`), finished in worker
   processes when asked (:mod:`.parallel`); its used dependencies are the proof.
5. Every witness and proof is re-checked exactly (:mod:`dsssolver.verify`)
   before it is returned (:mod:`.results`); limits and Ctrl-C give "unknown"
   with the statistics so far.
"""
from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validate import as_layer
from ..errors import InvalidInputError
from ..verify.evidence import CertifyResult, Dependency, Proof
from .certificates import ExactLayer
from .domain import DomainRows
from .limits import LimitReached, Limits
from .node import Node, Split, Witness
from .parallel import finish_in_workers, local_cores
from .quick import antiparallel_dependencies, dive
from .sublayer import certify_by_sublayers, use_sublayers
from .results import (checked_proof_result, checker_domain, proof_result, statistics,
                      unknown_result, witness_result)
from .tree import Tree

__all__ = ["certify"]


def certify(W: ArrayLike | Any, b: ArrayLike | None = None, *, domain: Any = None,
            time_limit: float | None = None, node_limit: int | None = None,
            progress: bool | float = False, workers: int | None = None,
            sublayers: bool | str = "auto", client: Any = None) -> CertifyResult:
    """Decide exactly whether ``x -> ReLU(W x + b)`` is injective, with evidence.

    Parameters
    ----------
    W : array_like, shape (m, n), or a torch ``nn.Linear``
        Weights; float entries are read as the exact rationals they store,
        integer and :class:`fractions.Fraction` entries are exact.  A torch
        ``nn.Linear`` gives its weight and bias (float32 values, read exactly).
    b : array_like, shape (m,), optional
        Biases (default zero).
    domain : None, "nonnegative" or (A, c), optional
        The inputs to decide injectivity on: all of R^n (default), ``x >= 0`` (the
        inputs of a hidden layer), or the polyhedron ``{x : A x <= c}`` with ``A`` of
        shape (k, n), which must be full-dimensional.  Witnesses then lie in it.
    time_limit : float, optional
        Seconds; when reached the answer is "unknown" with the statistics so far.
    node_limit : int, optional
        Search nodes; likewise.
    progress : bool or float
        Print a progress line on stderr about once a second (or every
        ``progress`` seconds when a number is given).
    workers : int, optional
        Processes for the exhaustive search (default: every core this process
        may use).  With more than one, a search still open after a second
        shares its open nodes among that many worker processes (each with its
        own HiGHS models), re-splitting large subtrees so that none idles
        (:mod:`.parallel`); the merged proof is re-checked exactly as usual.
        The limits stay global: ``node_limit`` counts the nodes of all processes together.
    client : dask.distributed.Client or str, optional
        Run the worker tasks on a Dask cluster instead (a client, or a
        scheduler address to connect to); ``workers`` is then the cluster's
        thread count.  Needs the ``dask`` extra (``pip install "dask[distributed]"``).
    sublayers : {"auto", True, False}
        Search well-spread subsets of the rows first (:mod:`.sublayer`): a
        proof for some rows is a proof for the layer, and a witness found on a
        subset is kept only if it holds for every row (otherwise the rows that
        spoil it are added and the search repeated).  "auto" (default) does so
        when ``m >= 24 n`` (on all of R^n only, for now).  ``time_limit``
        covers all rounds, ``node_limit`` each round.

    Returns
    -------
    CertifyResult
        ``status`` is "injective" (with ``proof``), "not_injective" (with
        ``witness``) or "unknown" (with ``stats["reason"]``).  Every witness and
        proof has been re-checked in exact rational arithmetic.

    Raises
    ------
    InvalidInputError
        Invalid ``W``, ``b`` (NaN, inf, wrong shape, empty, non-numeric) or option; the
        message names the argument.

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
    t0 = time.time()
    shape = ()
    try:
        W, b = as_layer(*_from_module(W, b))
        shape = W.shape
        return _certify(W, b, DomainRows.of(domain, W.shape[1]),
                        Limits(_seconds(time_limit, "time_limit"),
                               _count_arg(node_limit, "node_limit"), _progress(progress), start=t0),
                        None if workers is None else _count_arg(workers, "workers"), sublayers,
                        client)
    except KeyboardInterrupt:  # Ctrl-C before the search or around it (the search has its own)
        return unknown_result(shape, "interrupted", {"nodes": 0, "lps": 0,
                                                     "seconds": time.time() - t0})


def _certify(W, b, domain, limits, workers, sublayers, client):
    """:func:`certify` after the validation: the quick paths, then one :class:`_Run`."""
    if _Run.quick_paths and (W.shape[0] >= 2 * W.shape[1] or domain is not None):
        # antiparallel pairs (and on x >= 0 rows positive there) spanning R^n: a proof at once
        from .structured import pair_result
        quick = pair_result(W, b, domain)
        if quick is not None:
            return quick
    client, owned = _dask_client(client)
    progress = limits.interval or False
    try:
        if client is not None:
            workers = max(1, sum(client.nthreads().values()))
        workers = local_cores() if workers is None else int(workers)

        def solve(Ws, bs, left, check=True):
            run = _Run(Ws, bs, Limits(left, limits.node_limit, progress), workers, client, domain)
            run.check_proofs = check
            return run.run()
        if use_sublayers(*W.shape, sublayers):
            return certify_by_sublayers(W, b, solve, time_limit=limits.time_limit, progress=progress,
                                        domain=domain, workers=min(workers, local_cores()))
        return _Run(W, b, limits, workers, client, domain).run()
    finally:
        if owned is not None:
            owned.close()


def _dask_client(client):
    """``(client, owned)``: a ``dask.distributed.Client`` for ``client`` (a client or a scheduler
    address), and the one to close afterwards if it was opened here."""
    if client is None:
        return None, None
    try:
        import distributed
    except ImportError:
        raise InvalidInputError('client needs dask.distributed: pip install "dask[distributed]"') \
            from None
    if isinstance(client, str):
        try:
            opened = distributed.Client(client, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInputError(f"client: cannot connect to the scheduler {client!r} ({exc})") \
                from None
        return opened, opened
    if not isinstance(client, distributed.Client):
        raise InvalidInputError(f"client must be a dask.distributed.Client or a scheduler address, "
                                f"got {type(client).__name__}")
    return client, None


def _seconds(v, name):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not v > 0:
        raise InvalidInputError(f"{name} must be a positive number of seconds or None, got {v!r}")
    return v if isinstance(v, (int, float)) else float(v)  # as given: it is quoted in messages


def _count_arg(v, name):
    if v is None and name != "workers":
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _progress(v):
    if isinstance(v, bool):
        return v
    if not isinstance(v, (int, float, np.integer, np.floating)) or not 0 <= v < float("inf"):
        raise InvalidInputError(f"progress must be True, False or a number of seconds >= 0, "
                                f"got {v!r}")
    return float(v)


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


class _Run:
    """One certify run: the pipeline, from the quick exits to the checked result."""

    split_after = 1.0  # seconds of sequential search before worker processes are started
    pretest_nodes = 200  # node budget of the Lemma 1 pre-test
    dive_grow = 0.25  # share of the corank the dive adds per LP (0: one row, Chinneck's original)
    # Private, for the tests: False skips every quick path (antiparallel pairs, the Lemma 1
    # pre-test, the dive), so that the branch-and-bound itself decides each layer that has
    # rank n and is compared with the references (tests/test_certify.py).
    quick_paths = True
    check_proofs = True  # False only for a sub-layer, whose lifted proof is checked instead
    trust = True  # trusted packings (Tree.trust_after); only where this run checks its proof

    def __init__(self, W, b, limits, workers=1, client=None, domain=None):
        self.limits, self.workers, self.client = limits, workers, client
        self.inputs, self.shape, self.domain = (W, b, domain), W.shape, domain
        self.layer = self.tree = self.pretest = None
        self.reruns = 0  # searches repeated with every packing tested (a rejected trusted proof)

    def run(self):
        try:
            self.layer = ExactLayer(*self.inputs)
            found = self._decide()
            if isinstance(found, Witness):
                return witness_result(self.layer, *found, self._stats())
            if found is not None:
                return found  # the pre-test's proof, checked
            if self.tree.unknown_reason is not None:
                return self._unknown(self.tree.unknown_reason)
            # the check runs on this machine: at most its cores, also when a cluster searched
            res = proof_result(self.layer, self.tree.used, self.tree.hints, self.limits,
                               self._stats, workers=min(self.workers, local_cores()),
                               check=self.check_proofs)
            if res.status != "injective" and self.tree.counters.trusted and self.trust \
                    and res.stats.get("check_rejected"):
                # a packing closed untested was not independent: search again, testing all
                self.trust, self.reruns = False, self.reruns + 1
                return self.run()
            return res
        except LimitReached as lim:
            return self._unknown(str(lim))
        except KeyboardInterrupt:
            return self._unknown("interrupted")

    def _decide(self):
        """A Witness, a checked CertifyResult (from the pre-test), or None: the search was
        exhausted and ``self.tree`` holds the proof (or the reason it is undecided)."""
        layer, n = self.layer, self.layer.n
        rank = layer.M.rank()
        if rank < n:
            v = [Fraction(x) for x in layer.M.null_basis(range(layer.m))[0]]
            return Witness(*layer.witness_along(v), f"rank W = {rank} < n = {n}")
        if not self.quick_paths:
            self.tree = Tree(layer, self.limits)
        else:
            self.tree = Tree(layer, self.limits, antiparallel_dependencies(layer))
        self.tree.trust = self.trust and self.check_proofs
        if self.quick_paths:
            pre = self._lemma1_pretest()
            if pre is not None:
                return pre
            found = dive(self.tree, grow=self.dive_grow)
            if found is not None:
                return found
        found = self.tree.dfs([Node.root(layer.M)],
                              split_after=self.split_after if self.workers > 1 else None)
        if isinstance(found, Split):
            found = finish_in_workers(self.tree, found.nodes, self.workers, self.client)
        return found

    def _lemma1_pretest(self):
        """The half of the seed's Lemma 1 that holds, as a cheap sufficient test.

        With P the rows where b_i >= 0: if x -> ReLU(W_P x) is injective, so is
        the layer (docs/math.md), and the proof carries over verbatim -- its
        dependencies live on P, where sum y_i b_i >= 0 holds automatically, and
        a flat of the layer meeting them all would give one of W_P.  The
        converse is false (n = 1, W = [1; -1], b = [1; -1]), so a failed or
        undecided pre-test decides nothing and the full search follows.
        """
        layer = self.layer
        P = [i for i in range(layer.m) if layer.bq[i] >= 0]
        if len(P) == layer.m or len(P) < (1 if layer.domain is not None else 2 * layer.n):
            return None  # the same problem, or never injective (Corollary 2, on R^n only)
        left = self.limits.left()
        budget = self.limits.sub_budget(self.pretest_nodes)
        if (left is not None and left <= 0) or budget == 0:
            return None
        sub = _Run(np.array([layer.Wq[i] for i in P], dtype=object), np.zeros(len(P), dtype=np.int64),
                   Limits(left, budget), domain=layer.domain)
        res = sub.run()
        self.limits.add_nodes(sub.limits.taken())
        self.tree.counters.other_lps += res.stats.get("lps", 0)
        self.pretest = f"lemma1 on {len(P)} rows with b >= 0: {res.status}"
        if res.status != "injective":
            return None
        from ..verify.check import check

        deps = [Dependency(tuple(P[i] for i in d.rows), d.multipliers, d.domain_rows,
                           d.domain_multipliers) for d in res.proof.dependencies]
        minor = [P[i] for i in res.proof.minor]
        why = (f"Proof via the sufficient half of Lemma 1 of Puthawala et al. 2022: ReLU(W_P x) "
               f"is injective on the {len(P)} rows with b >= 0, with {len(deps)} "
               f"{'dependency' if len(deps) == 1 else 'dependencies'}.")
        out = checked_proof_result(layer, Proof(minor, deps), why, self._stats())
        # the independent checker, on the evidence alone (before out is handed back as checked)
        if not check(out, layer.Wq, layer.bq, domain=checker_domain(layer),
                     workers=min(self.workers, local_cores())):
            return None
        return out

    def _stats(self, **extra):
        return statistics(self.tree, self.limits, self.workers, self.pretest,
                          **({"trust_reruns": self.reruns} if self.reruns else {}), **extra)

    def _unknown(self, reason):
        return unknown_result(self.shape, reason, self._stats(), self.domain)
