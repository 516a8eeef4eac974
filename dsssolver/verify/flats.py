"""Point 3 of a proof: no flat of rank <= n - 1 meets the rows of every dependency.

The checker decides it by its own exhaustive search over flats of the row matroid, built afresh
from the integer rows (see ``docs/evidence.md``).  A node is a flat ``F`` (rank ``n - d``) and a
set ``E`` of rows the flats below it must avoid; a flat ``G`` that meets every dependency and
contains ``F`` must contain a row of every dependency disjoint from ``F``.

* A dependency disjoint from ``F`` whose rows outside ``F`` all lie in ``E``: no such ``G``.
* ``d`` dependencies whose free rows (outside ``E``) are pairwise disjoint, and every choice of
  one free row from each independent modulo ``F``: such a ``G`` would have rank ``>= n``.
* Otherwise branch on a dependency ``S``: child ``k`` is the closure of ``F + s_k`` with
  ``s_1 .. s_{k-1}`` added to ``E``, so the children split the candidates and no flat is visited
  twice.  No dependency disjoint from ``F`` at all: ``F`` itself meets every dependency.

Hints (from the producer of the proof) name the dependency to branch on at a flat, or the
dependencies that close it.  They only choose among moves that are sound anyway, every closing
claim is verified, and a search steered by hints gets a work budget proportional to the size of
the evidence: past it, the search starts again without hints.  So a wrong or hostile hint can
waste at most that budget, never change the answer.

Examples
--------
>>> rows = [[1, 0], [0, 1], [-1, 0], [0, -1]]
>>> deps = [0b0101, 0b1010]                     # {0, 2} and {1, 3}: +-e1, +-e2
>>> find_hitting_flat(rows, 2, deps).flat is None
True
>>> find_hitting_flat(rows, 2, deps[:1]).flat    # the flat spanned by row 0 meets {0, 2}
[0]
"""
from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field

import flint
import numpy as np

from .._process import end_with_parent
from ..errors import CheckTimeout
from ._arith import nullspace, random_prime
from ._jit import available as _compiled_available
from ._jit import eliminate as compiled_eliminate
from ._jit import first_dependent, has_parallel_pair, node_scan, packed_test, row_index

__all__ = ["find_hitting_flat", "transversals_independent", "matmul_mod", "Cover"]

#: Largest number of transversals (after merging parallel rows) one closure test enumerates.
MAX_TRANSVERSALS = 200_000
#: Where a hint names the branch, the checker's own packing is tried only up to this many.
_CHEAP_TRANSVERSALS = 64
#: Largest int64 array (elements) the vectorised transversal test builds at once.
_MAX_ELEMENTS = 1 << 22
# fewer transversals than this are cheaper in numpy than a call into the compiled kernel
_COMPILED_FROM = 256
# below this many choices the compiled kernel runs them all faster than parallel rows are merged
_NO_MERGE = 4096


@dataclass
class Cover:
    """Outcome of :func:`find_hitting_flat`.

    Attributes
    ----------
    flat : list of int or None
        Rows spanning a flat of rank <= n - 1 that meets every dependency, or None if none exists.
    stats : dict
        ``nodes`` visited, ``closed_by_packing``, ``transversals`` tested, ``hints_used``,
        ``hints_rejected``, ``parallel_tasks`` (open nodes dealt to other processes), and
        ``hints_abandoned`` (True if the hinted search ran out of its budget and the check was
        redone without hints).
    """

    flat: list | None
    stats: dict = field(default_factory=dict)


class _OverBudget(Exception):
    pass


def find_hitting_flat(rows, n, dep_masks, *, hints=None, deadline=None, workers=1):
    """Search for a flat of rank <= n - 1 meeting every dependency; see the module docstring.

    Parameters
    ----------
    rows : list of list of int
        The integer rows of the layer (m rows of length n).
    n : int
    dep_masks : list of int
        Each dependency's rows as a bit mask (bit i = row i).
    hints : dict, optional
        Flat mask -> dependency position (branch on it) or list of positions (they close it).
    deadline : float, optional
        A ``time.perf_counter()`` value; :class:`CheckTimeout` is raised once it passes.
    workers : int
        Processes for a search that is still open after :data:`SPLIT_AFTER` seconds: its open
        nodes are dealt to forked processes (each a copy of this search; nothing comes back
        but a flat or "none", and the counts).  Where forking is not possible (no ``fork``,
        or inside a daemonic process) the search stays in this process.

    Returns
    -------
    Cover
    """
    if hints:
        budget = _Budget(nodes=2 * len(hints) + 2 * len(rows) + 256,
                         transversals=MAX_TRANSVERSALS + 4096 * (len(hints) + len(dep_masks)))
        try:
            out = _Search(rows, n, dep_masks, hints, deadline, budget, workers).run()
            out.stats["hints_abandoned"] = False
            return out
        except _OverBudget:
            pass
    out = _Search(rows, n, dep_masks, None, deadline, None, workers).run()
    out.stats["hints_abandoned"] = bool(hints)
    return out


@dataclass
class _Budget:
    nodes: int
    transversals: int


class _Search:
    def __init__(self, rows, n, dep_masks, hints, deadline, budget, workers=1):
        self.rows, self.n, self.m = rows, n, len(rows)
        self.deps = list(dep_masks)
        # the same masks as rows of 64-bit words, so that one node scans them all in numpy
        self.words = max(1, (self.m + 63) // 64)
        self.Dw = np.array([self._words(dm) for dm in self.deps], dtype=np.uint64).reshape(
            len(self.deps), self.words)
        # dependencies by row: a node's candidates are those in no row of its flat
        self.index = row_index(self.Dw, 64 * self.words) if self.deps and _compiled_available() \
            else None
        self.hints = hints or {}
        self.deadline = deadline
        self.budget = budget
        self.prime = random_prime()
        self.Rp = np.array([[v % self.prime for v in r] for r in rows], dtype=np.int64)
        self.stats = {"nodes": 0, "closed_by_packing": 0, "transversals": 0, "hints_used": 0,
                      "hints_rejected": 0, "parallel_tasks": 0}
        self.workers = workers
        self.charged = 0  # transversals of the checker's own packings (see _closes)
        self.zero = sum(1 << i for i, r in enumerate(rows) if not any(r))

    def run(self):
        zero = self.zero
        X = nullspace([], self.n)
        # each node carries the dependencies disjoint from its parent's flat: a child's flat is
        # larger, so only those can be disjoint from it
        stack = [((), X, self._quotient_mod_p(X), zero, 0, np.arange(len(self.deps)))]
        split_at = time.perf_counter() + SPLIT_AFTER if self.workers > 1 else None
        found = self._dfs(stack, split_at)
        if found is None and stack:
            found = _in_processes(self, stack)
        return Cover(found, self.stats)

    def _dfs(self, stack, split_at=None):
        """Depth-first from ``stack``: the basis of a flat meeting every dependency, or None
        (the stack is exhausted, or ``split_at`` passed with nodes still open)."""
        while stack:
            if split_at is not None and self.stats["nodes"] % 16 == 0 and time.perf_counter() > split_at:
                return None
            basis, X, Pp, F, E, idx = stack.pop()
            self._tick()
            children = self._expand(basis, X, Pp, F, E, Pp.shape[1], idx)
            if children is None:
                return list(basis)
            stack.extend(children)
        return None

    def _node(self, basis, E, idx):
        """A node rebuilt from what a task carries (flint matrices are not sent between
        processes; the flat is recomputed from its basis)."""
        X = nullspace([self.rows[i] for i in basis], self.n)
        Pp = self._quotient_mod_p(X)
        return basis, X, Pp, self._flat(basis, X, Pp), E, idx

    def _tick(self):
        st = self.stats
        st["nodes"] += 1
        if self.budget is not None and st["nodes"] > self.budget.nodes:
            raise _OverBudget
        if self.deadline is not None and st["nodes"] % 16 == 0 and time.perf_counter() > self.deadline:
            raise CheckTimeout("time limit reached during the exact proof check")

    def _words(self, mask):
        # over a bytearray, so the array is writable: numba compiles readonly arrays separately
        return np.frombuffer(bytearray(mask.to_bytes(8 * self.words, "little")), dtype=np.uint64)

    def _candidates(self, F, E, idx):
        """The dependencies among ``idx`` disjoint from ``F``, and their free-row counts."""
        sub = self.Dw[idx]
        keep = ~(sub & self._words(F)).any(axis=1)
        idx, sub = idx[keep], sub[keep]
        free = np.bitwise_count(sub & ~self._words(E)).sum(axis=1, dtype=np.int64)
        return idx, free

    def _scan_numpy(self, F, E, d, idx):
        """:func:`~dsssolver.verify._jit.node_scan` without numba."""
        idx, free = self._candidates(F, E, idx)
        if not idx.size:
            return idx, 0, -1, []
        order = idx[np.lexsort((idx, free))]  # fewest free rows first, then position
        pack, taken = [], 0
        for k in order.tolist():
            free_k = self.deps[k] & ~E
            if not free_k & taken:
                pack.append(k)
                taken |= free_k
                if len(pack) == d:
                    break
        return idx, int(free.min()), int(order[0]), pack

    def _quotient_mod_p(self, X):
        """All rows in quotient coordinates ``R X`` modulo the prime (m x d)."""
        p = self.prime
        Xp = np.array([int(v) % p for v in X.entries()], dtype=np.int64).reshape(X.nrows(), X.ncols())
        return matmul_mod(self.Rp, Xp, self.prime)

    def _flat(self, basis, X, Pp):
        """The rows in the span of the basis: zero modulo p, then confirmed exactly (the basis
        rows and zero rows need no confirmation; other zero residues are rare: parallel rows, or
        a residue that vanished by chance)."""
        out = self.zero
        for i in basis:
            out |= 1 << i
        extra = [i for i in np.flatnonzero(~Pp.any(axis=1)).tolist() if not out >> i & 1]
        if not extra:
            return out
        exact = flint.fmpz_mat([self.rows[i] for i in extra]) * self._null(basis, X)
        d = exact.ncols()
        entries = exact.entries()
        for k, i in enumerate(extra):
            if not any(entries[k * d:(k + 1) * d]):
                out |= 1 << i
        return out

    def _null(self, basis, X):
        """The exact null space of the basis rows (computed here when a node has none yet)."""
        return X if X is not None else nullspace([self.rows[i] for i in basis], self.n)

    def _expand(self, basis, X, Pp, F, E, d, idx):
        """Children of a node ([] if it is empty), or None if ``F`` meets every dependency."""
        if isinstance(self.hints.get(F), list):
            # A hinted packing that closes the node proves it empty by itself: test it before
            # the scan over every dependency, which costs in proportion to the proof's size.
            if self._hinted(basis, X, Pp, F, E, d) is _CLOSED:
                return []
        scan = node_scan(self.Dw, idx, self._words(F), self._words(E), d, self.index)
        if scan is None:
            idx, fewest, first, pack = self._scan_numpy(F, E, d, idx)
        else:
            idx, fewest, first, pack = scan
        if not idx.size:
            return None
        if fewest == 0:
            return []  # a dependency inside E
        branch = None if isinstance(self.hints.get(F), list) else self._hinted(basis, X, Pp, F, E, d)
        # our own packing first; where a hint names the branch, only if it is cheap to test
        limit = MAX_TRANSVERSALS if branch is None else _CHEAP_TRANSVERSALS
        if len(pack) == d and self._closes(basis, X, Pp, E, pack, d, limit):
            return []
        return self._children(basis, Pp, F, E, first if branch is None else branch, idx)

    def _hinted(self, basis, X, Pp, F, E, d):
        """The hinted dependency to branch on, :data:`_CLOSED` if a hinted packing closes the
        node, None when there is no usable hint."""
        h = self.hints.get(F)
        if h is None:
            return None
        ks = h if isinstance(h, list) else [h]
        ok = all(isinstance(k, int) and 0 <= k < len(self.deps) and not self.deps[k] & F for k in ks)
        if ok and isinstance(h, list):
            taken = 0
            for k in ks:
                free = self.deps[k] & ~E
                ok = ok and not free & taken
                taken |= free
            if ok and len(ks) == d and self._closes(basis, X, Pp, E, ks, d, charge=False):
                self.stats["hints_used"] += 1
                return _CLOSED
            self.stats["hints_rejected"] += 1
            return None
        if ok:
            self.stats["hints_used"] += 1
            return ks[0]
        self.stats["hints_rejected"] += 1
        return None

    def _closes(self, basis, X, Pp, E, pack, d, limit=None, charge=True):
        """Whether the packing ``pack`` (d dependency positions) shows the node empty.

        ``charge=False`` for a hinted packing: verifying what the evidence claims is not
        charged to the hints' transversal budget (each test is at most MAX_TRANSVERSALS, at
        most one per node, and the nodes are budgeted); only the checker's own packings are.
        """
        if d == 1:
            self.stats["closed_by_packing"] += 1
            return True
        null = []

        def exact(i):  # only when a residue looked dependent: the null space is computed then
            if not null:
                null.append(self._null(basis, X))
            return [int(v) for v in (flint.fmpz_mat([self.rows[i]]) * null[0]).entries()]

        limit = limit or MAX_TRANSVERSALS
        # the usual case in one compiled call; anything unusual takes the general path below
        fast = packed_test(self.Dw, pack, self._words(E), Pp, self.prime, _NO_MERGE, limit)
        if fast is not None and fast[0]:
            total = fast[1]
        elif fast is not None and flint.fmpz_mat([exact(i) for i in fast[1]]).rank() < len(fast[1]):
            total = 0  # a choice dependent over Q, confirmed exactly
        else:
            parts = [_bits(self.deps[k] & ~E) for k in pack]
            total = transversals_independent(parts, Pp, exact, self.prime, limit=limit,
                                             deadline=self.deadline, mixers=self.__dict__)
            if total is None:
                return False
        self.stats["transversals"] += total
        if charge:
            self.charged += total
            if self.budget is not None and self.charged > self.budget.transversals:
                raise _OverBudget
        self.stats["closed_by_packing"] += total > 0
        return total > 0

    def _children(self, basis, Pp, F, E, k, idx):
        if k is _CLOSED:
            return []
        excl = E
        out = []
        for s in _bits(self.deps[k] & ~E):
            child = basis + (s,)
            if Pp.shape[1] > 1:  # a flat of rank n meets nothing we look for
                X, Pc = None, _eliminate(Pp, s, self.prime)
                if Pc is None:  # s's residue vanished although s is outside the flat
                    X = nullspace([self.rows[i] for i in child], self.n)
                    Pc = self._quotient_mod_p(X)
                G = self._flat(child, X, Pc)
                if not G & excl:
                    out.append((child, X, Pc, G, excl, idx))
            excl |= 1 << s
        out.reverse()  # visit in ascending row order
        return out


#: Seconds a search runs in one process before its open nodes go to other processes.
SPLIT_AFTER = 0.5

_ACTIVE = None  # the search a forked task process works for (inherited through fork)


def _in_processes(search, stack):
    """Finish the open nodes of ``search`` in ``search.workers`` forked processes.

    Returns a flat's basis or None; adds the tasks' counts to ``search.stats``.  Each task
    runs with this process's budget and deadline, so hinted work is bounded by ``workers``
    times the budget, and a task that exceeds it abandons the hinted search as a whole.
    """
    global _ACTIVE
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return search._dfs(stack)
    # biggest subtrees (lowest rank, i.e. most columns in X) first, so no process idles at the end
    tasks = sorted(((b, E, idx) for b, X, _, _, E, idx in stack), key=lambda t: len(t[0]))
    _ACTIVE = search
    search.stats["parallel_tasks"] += len(tasks)
    try:
        with mp.get_context("fork").Pool(min(search.workers, len(tasks)), initializer=end_with_parent,
                                         initargs=(os.getpid(),)) as pool:
            for kind, value, stats in pool.imap_unordered(_task, tasks):
                for key, v in stats.items():
                    search.stats[key] += v
                if kind == "flat":
                    return value
                if kind == "budget":
                    raise _OverBudget
                if kind == "timeout":
                    raise CheckTimeout(value)
    finally:
        _ACTIVE = None
    return None


def _task(task):
    """One open node's subtree, in a forked process: ``(kind, value, counts)``."""
    search = _ACTIVE
    before = dict(search.stats)
    try:
        found = search._dfs([search._node(*task)])
        kind, value = ("flat", found) if found is not None else ("none", None)
    except _OverBudget:
        kind, value = "budget", None
    except CheckTimeout as e:
        kind, value = "timeout", str(e)
    # the counts this task added (each process starts from the parent's counts at the fork)
    return kind, value, {k: search.stats[k] - before[k] for k in search.stats}


def _eliminate(Pp, s, p):
    """Quotient residues modulo the flat grown by row ``s``: ``Pp Y`` with ``Y`` spanning the
    kernel of ``Pp[s]`` modulo p (division-free), or None if ``Pp[s]`` is zero modulo p.

    Sound for the transversal tests: the basis rows stay independent modulo p (each had a
    non-zero residue when it joined), so a choice whose residues here have a non-zero
    determinant modulo p completes them to an integer basis with a non-zero determinant.
    And no row of the rational span is missed by "zero residue": with a basis minor that is
    non-zero modulo p, Cramer's rule reduces its coefficients modulo p.
    """
    fast = compiled_eliminate(Pp, s, p)
    if fast is not None:
        return None if isinstance(fast, tuple) else fast
    v = Pp[s]
    nz = np.flatnonzero(v)
    if not nz.size:
        return None
    c = int(nz[0])
    keep = np.r_[0:c, c + 1:len(v)]
    # both products are below 2**62
    return (v[c] * Pp[:, keep] - Pp[:, c:c + 1] * v[keep]) % p


def matmul_mod(A, B, p):
    """``A @ B mod p`` for int64 arrays with entries in [0, p), p < 2**31, without overflow
    (B is split into 16-bit halves; needs fewer than 2**16 columns of A)."""
    lo, hi = B & 0xFFFF, B >> 16
    return ((A @ lo) % p + (((A @ hi) % p) << 16)) % p


class _Closed:
    def __repr__(self):
        return "<closed>"


_CLOSED = _Closed()


def _zero_rows(P):
    """Bit mask of the rows of ``P`` that are zero."""
    out = 0
    rows, cols = P.nrows(), P.ncols()
    entries = P.entries()
    for i in range(rows):
        if not any(entries[i * cols:(i + 1) * cols]):
            out |= 1 << i
    return out


def _bits(mask):
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _merge_parallel(part, Pp, exact, p):
    """One row per line through the origin: rows whose quotient vectors are parallel modulo p
    are candidates, and every merge is confirmed exactly."""
    if len(part) < 2:
        return list(part)
    V = Pp[part]
    if has_parallel_pair(V, p) is False:  # the usual case, found without the pairwise arrays
        return list(part)
    s = len(part)
    lead = np.argmax(V != 0, axis=1)
    L = V[np.arange(s), lead]
    # X[i, j] = u_i[l_i] * u_j - u_j[l_i] * u_i, zero iff u_j is parallel to u_i (mod p);
    # both products are below 2**62
    M = V[:, lead].T
    X = (L[:, None, None] * V[None, :, :] - M[:, :, None] * V[:, None, :]) % p
    par = ~X.any(axis=2) & _upper(s)
    if not par.any():  # the usual case: no two rows parallel even modulo p
        return list(part)
    out, kept = [], []
    for k in range(s):
        if any(par[r, k] and _parallel(exact(part[r]), exact(part[k])) for r in kept):
            continue
        kept.append(k)
        out.append(part[k])
    return out


_UPPER = {}


def _upper(s):
    """The strictly upper triangular s x s boolean mask (pairs i < j)."""
    U = _UPPER.get(s)
    if U is None:
        U = _UPPER[s] = np.triu(np.ones((s, s), dtype=bool), 1)
    return U


def _parallel(u, v):
    lead = next(j for j, x in enumerate(u) if x)
    return all(vj * u[lead] == uj * v[lead] for uj, vj in zip(u, v))


def transversals_independent(parts, Pp, exact, prime, *, limit=MAX_TRANSVERSALS, deadline=None,
                             mixers=None):
    """Whether every choice of one row from each part is independent modulo the flat.

    Parameters
    ----------
    parts : list of d lists of int
        Row indices (free rows of each packed dependency), none in the flat.
    Pp : numpy.ndarray, shape (m, d)
        All rows in quotient coordinates modulo ``prime``.
    exact : callable
        ``exact(i)``: row i's quotient coordinates as exact integers.
    prime : int
        A prime below 2**31.
    limit : int
        Most choices to enumerate, after rows parallel modulo the flat are merged (they are
        merged only where there are more than ``_NO_MERGE`` choices before merging, or without
        the compiled kernel).

    Returns
    -------
    int or None
        The number of choices enumerated if all are independent (a positive number); 0 if some
        choice is dependent or independence was not shown; None if there are more than ``limit``.

    Examples
    --------
    >>> import numpy as np
    >>> V = [[1, 0], [2, 0], [0, 1], [1, 1]]
    >>> p = 2147483647
    >>> Pp = np.array(V, dtype=np.int64)
    >>> transversals_independent([[0, 1], [2, 3]], Pp, lambda i: V[i], p) > 0
    True
    >>> transversals_independent([[0, 3], [2, 3]], Pp, lambda i: V[i], p)
    0
    """
    d = len(parts)
    cache = {}

    def exact_cached(i):
        if i not in cache:
            cache[i] = exact(i)
        return cache[i]

    raw = 1
    for part in parts:
        raw *= len(part)
    if raw <= _NO_MERGE and _compiled_available():
        merged = [list(part) for part in parts]  # merging parallel rows costs more than it saves
    else:
        merged = [_merge_parallel(part, Pp, exact_cached, prime) for part in parts]
    total = 1
    for part in merged:
        total *= len(part)
    if total == 0 or total > limit:
        return None
    merged.sort(key=len)  # singletons first: they do not multiply the batch
    p, vectors = prime, Pp
    for _ in range(3):
        ans = _compiled_bases(merged, vectors, p, exact_cached) if total >= _COMPILED_FROM else None
        if ans is None:
            mix = _mixer(d, p, mixers)
            arrays = [matmul_mod(vectors[part], mix, p)[None] for part in merged]
            ans = _all_bases_mod_p(arrays, merged, d, p, exact_cached, deadline)
        if ans is not None:
            return total if ans else 0
        # a residue vanished where the integers do not: another prime, another mixing
        p = random_prime()
        rows = sorted({i for part in merged for i in part})
        vectors = np.zeros((max(rows) + 1, d), dtype=np.int64)
        for i in rows:
            vectors[i] = [x % p for x in exact_cached(i)]
    return 0  # not shown; the caller branches instead


def _compiled_bases(parts, vectors, p, exact):
    """:func:`_all_bases_mod_p`'s answer from the compiled kernel (True, False when a choice is
    dependent over Q, None when a residue vanished where the integers do not, or when the
    kernel is unavailable)."""
    found = first_dependent([vectors[part] for part in parts], p)
    if found is None:
        return None
    if not found:
        return True
    vecs = [exact(parts[k][c]) for k, c in enumerate(found)]
    if flint.fmpz_mat(vecs).rank() < len(vecs):
        return False  # dependent over Q, and so is every choice extending it
    return None


def _mixer(d, p, store):
    """A random d x d matrix mod p, invertible mod p (so it keeps every determinant's
    non-zeroness); kept per (d, p) for one check only."""
    key = ("_mix", d, p)
    if store is not None and key in store:
        return store[key]
    rng = np.random.default_rng(secrets.randbits(64))
    while True:
        M = rng.integers(0, p, size=(d, d), dtype=np.int64)
        if int(flint.nmod_mat(M.tolist(), p).det()) != 0:
            break
    if store is not None:
        store[key] = M
    return M


def _all_bases_mod_p(arrays, parts, d, p, exact, deadline):
    """True if every transversal is a basis mod p (hence over Q); False if one is dependent over
    Q (confirmed exactly); None if a residue vanished where the integers do not.

    ``arrays[j]`` holds part j's vectors (mixed, mod p) with a leading batch axis of size 1.
    Division-free elimination shared by all choices: after step k the remaining parts' vectors
    depend only on the choices in parts 1..k, so they are kept per prefix of choices.
    """
    if len(parts) > 1 and _batch_elements(parts, d) > _MAX_ELEMENTS:
        # fix one vector of the largest part at a time to keep the arrays small
        j = max(range(len(parts)), key=lambda i: len(parts[i]))
        for c in range(len(parts[j])):
            sub_arrays = arrays[:j] + [arrays[j][:, c:c + 1]] + arrays[j + 1:]
            sub_parts = parts[:j] + [[parts[j][c]]] + parts[j + 1:]
            order = sorted(range(len(sub_parts)), key=lambda i: len(sub_parts[i]))
            ans = _all_bases_mod_p([sub_arrays[i] for i in order], [sub_parts[i] for i in order],
                                   d, p, exact, deadline)
            if ans is not True:
                return ans
            if deadline is not None and time.perf_counter() > deadline:
                raise CheckTimeout("time limit reached during the exact proof check")
        return True
    sizes = []
    for step in range(d):
        A = arrays[step]  # (B, a, w): this part's vectors reduced by the prefix choices
        B, a, w = A.shape
        r = A.reshape(B * a, w)
        pivot = r[:, 0]
        if not pivot.all():
            bad = int(np.flatnonzero(pivot == 0)[0])
            if r[bad].any():
                return None  # a zero pivot with a non-zero row: unlucky mixing
            return _confirm(parts, sizes + [a], bad, exact)
        if step == d - 1:
            return True
        piv = pivot[:, None, None]
        for j in range(step + 1, d):
            R = arrays[j]
            Rb = np.broadcast_to(R[:, None], (B, a) + R.shape[1:]).reshape((B * a,) + R.shape[1:])
            # row <- pivot * row - lead * pivot_row: multiplying by the non-zero pivot keeps every
            # residue's (non)zeroness; both products are below 2**62
            arrays[j] = (piv * Rb[:, :, 1:] - Rb[:, :, :1] * r[:, None, 1:]) % p
        sizes.append(a)
    return True


def _batch_elements(parts, d):
    batch, worst = 1, 0
    for k, part in enumerate(parts):
        rest = sum(len(q) for q in parts[k:])
        worst = max(worst, batch * rest * (d - k))
        batch *= len(part)
    return worst


def _confirm(parts, sizes, index, exact):
    """A prefix of choices looked dependent mod p: decide it exactly over the integers."""
    picks = []
    for a in reversed(sizes):
        index, c = divmod(index, a)
        picks.append(c)
    picks.reverse()
    vecs = [exact(parts[k][c]) for k, c in enumerate(picks)]
    if flint.fmpz_mat(vecs).rank() < len(vecs):
        return False  # dependent over Q, and so is every choice extending it
    return None
