"""Row sets as Python-int bit masks, and a vectorised store of dependency supports.

Both the search (:mod:`dsssolver.certify.search`) and the proof checker
(:mod:`dsssolver.verify.check`) ask, at every node, for a stored support disjoint
from the current flat ``F`` with as few rows as possible outside the excluded
set ``E``.  Supports are kept as rows of a uint64 matrix so that question is a
few numpy operations rather than a Python loop over thousands of sets.
"""
from __future__ import annotations

import numpy as np

from ..exact import _jit

__all__ = ["mask", "bits", "SupportSet", "DependencyPool"]

_WORD = 0xFFFFFFFFFFFFFFFF


def mask(rows):
    """Bit mask of an iterable of row indices."""
    out = 0
    for i in rows:
        out |= 1 << int(i)
    return out


def bits(m):
    """Row indices set in mask ``m``, ascending."""
    out = []
    while m:  # one step per set bit, not per row: masks of wide layers are sparse
        low = m & -m
        out.append(low.bit_length() - 1)
        m ^= low
    return out


class SupportSet:
    """Supports of dependencies over ``m`` rows, with a vectorised best-choice query.

    With ``cap``, at most about ``cap`` supports are *live* (considered by :meth:`packing`):
    past ``cap + cap // 4`` the least recently returned ones are set aside, down to ``cap``.
    A query costs in proportion to the live supports, and a depth-first search reuses the
    supports of its recent nodes; one set aside keeps its index and comes back when added
    again.
    """

    def __init__(self, m, cap=None):
        self.words = (m + 63) // 64
        self._bits = np.zeros((64, self.words), dtype=np.uint64)
        # by row: bit k of _index[r] is set when support k contains row r (the packing query
        # finds the supports disjoint from a flat a word of 64 at a time)
        self._index = np.zeros((64 * self.words, 1), dtype=np.uint64)
        self._live = np.zeros(1, dtype=np.uint64)  # bit k: support k is live
        self._last = np.zeros(64, dtype=np.int64)  # when support k was last added or returned
        self._clock = 0
        self._where = {}  # mask -> index
        self.cap = cap
        self.live_count = 0
        self.set_aside = 0
        self.masks = []
        self._scratch = _jit._scratch(0)

    def __len__(self):
        return len(self.masks)

    def _words(self, m):
        return np.array([(m >> (64 * w)) & _WORD for w in range(self.words)], dtype=np.uint64)

    def add(self, rows):
        """Store a support (or make a stored one live again); returns its index."""
        m = mask(rows)
        k = self._where.get(m)
        if k is None:
            k = len(self.masks)
            if k == self._bits.shape[0]:
                self._bits = np.vstack([self._bits, np.zeros_like(self._bits)])
                self._last = np.concatenate([self._last, np.zeros_like(self._last)])
            if k >> 6 == self._index.shape[1]:
                self._index = np.hstack([self._index, np.zeros_like(self._index)])
                self._live = np.concatenate([self._live, np.zeros_like(self._live)])
            self._bits[k] = self._words(m)
            bit = np.uint64(1) << np.uint64(k & 63)
            for r in bits(m):
                self._index[r, k >> 6] |= bit
            self.masks.append(m)
            self._where[m] = k
        bit = np.uint64(1) << np.uint64(k & 63)
        if not self._live[k >> 6] & bit:
            self._live[k >> 6] |= bit
            self.live_count += 1
        self._touch([k])
        if self.cap is not None and self.live_count > self.cap + self.cap // 4:
            self._set_aside()
        return k

    def _touch(self, ks):
        self._clock += 1
        for k in ks:
            self._last[k] = self._clock

    def _set_aside(self):
        """Keep the ``cap`` most recently used supports live."""
        k = len(self.masks)
        live = np.flatnonzero(np.unpackbits(self._live.view(np.uint8), bitorder="little")[:k])
        drop = live[np.argsort(self._last[live], kind="stable")[:len(live) - self.cap]]
        for j in drop.tolist():
            self._live[j >> 6] &= ~(np.uint64(1) << np.uint64(j & 63))
        self.live_count -= len(drop)
        self.set_aside += len(drop)

    def packing(self, F, E, d):
        """Greedily pick up to ``d`` supports disjoint from ``F`` whose rows outside ``E``
        are pairwise disjoint, fewest such rows first.

        Returns a list of ``(k, cost)``; it stops early at a support of cost 0,
        which alone shows a node empty.
        """
        k = len(self.masks)
        if k == 0:
            return []
        A = self._bits[:k]
        if len(self._scratch[0]) < k:
            self._scratch = _jit._scratch(self._bits.shape[0])
        fast = _jit.greedy_packing(A, self._words(F), self._words(E), d, self._scratch,
                                   self._index, self._live)
        out = fast if fast is not None else self._packing_numpy(A, F, E, d)
        if self.cap is not None:
            self._touch([k for k, _ in out])
        return out

    def _packing_numpy(self, A, F, E, d):
        """:meth:`packing` in numpy (without numba)."""
        live = np.unpackbits(self._live.view(np.uint8), bitorder="little")[:len(A)].astype(bool)
        cand = np.flatnonzero(live & ~np.any(A & self._words(F), axis=1))
        if cand.size == 0:
            return []
        free = A[cand] & ~self._words(E)
        cost = np.bitwise_count(free).sum(axis=1, dtype=np.int64)
        out = []
        while len(out) < d and cand.size:
            j = int(np.argmin(cost))
            out.append((int(cand[j]), int(cost[j])))
            if cost[j] == 0:
                break
            keep = ~np.any(free & free[j], axis=1)  # drops j itself too
            cand, free, cost = cand[keep], free[keep], cost[keep]
        return out


class DependencyPool:
    """The dependencies found so far, with their supports in a :class:`SupportSet`.

    Index ``k`` names the same dependency in :attr:`deps` and in the support set,
    so a packing's ``(k, cost)`` pairs refer to ``deps[k]``.
    """

    def __init__(self, m, cap=None):
        self.deps = []
        self.supports = SupportSet(m, cap)

    def __len__(self):
        return len(self.deps)

    def __getitem__(self, k):
        return self.deps[k]

    def add(self, dep):
        """Pool a dependency; returns its index (that of an equal support pooled before)."""
        k = self.supports.add(dep.rows)
        if k == len(self.deps):
            self.deps.append(dep)
        return k

    def mask(self, k):
        return self.supports.masks[k]

    def packing(self, F, E, d):
        """:meth:`SupportSet.packing` over the pooled dependencies."""
        return self.supports.packing(F, E, d)
