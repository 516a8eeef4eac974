"""The records the search passes around: a node, and what processing a node can give.

A node of the branch-and-bound is a pair ``(F, E)``: the flat ``F`` of rows
allowed to be active and the rows ``E`` that must stay strictly negative
(docs/math.md, "the search").  Row sets are Python-int bit masks
(:mod:`dsssolver.certify.pool`).  Processing a node (:meth:`Tree.expand
<dsssolver.certify.tree.Tree.expand>`) gives exactly one of :class:`Closed`,
:class:`Branched` or :class:`Witness`; a depth-first run gives a
:class:`Witness`, a :class:`Split` (open nodes handed on to worker processes)
or ``None`` (the tree is exhausted).

Examples
--------
>>> from dsssolver.exact.matroid import RowMatroid
>>> root = Node.root(RowMatroid([[1, 0], [0, 1], [1, 1]]))
>>> root.flat, root.excluded, root.rank
(0, 0, 0)
"""
from __future__ import annotations

from typing import NamedTuple

from ..verify.evidence import Dependency
from .pool import mask

__all__ = ["Node", "Closed", "Branched", "Witness", "Split", "children"]


class Node(NamedTuple):
    """One node ``(F, E)`` of the search.

    Attributes
    ----------
    state : tuple
        The :class:`~dsssolver.exact.matroid.RowMatroid` closure state of ``F``
        (flat, basis, null basis mod p).
    flat, excluded : int
        Bit masks of ``F`` and ``E``.
    rank : int
        The rank of ``F``.
    """

    state: tuple
    flat: int
    excluded: int
    rank: int

    @classmethod
    def root(cls, M):
        """The root: the flat of the zero rows, nothing excluded."""
        state = M.root()
        return cls(state, mask(state[0]), 0, 0)


class Closed(NamedTuple):
    """The node holds no flat of rank < n whose strict system is solvable; ``deps`` show it
    (one dependency inside ``E``, or ``corank`` of them in a packing; empty if it was left
    undecided, with the reason recorded by the search)."""

    deps: list


class Branched(NamedTuple):
    """The node was split on the rows of ``dep``; ``children`` partition its candidates."""

    dep: Dependency
    children: list


class Witness(NamedTuple):
    """Two inputs with the same output (not yet checked), and how they were found."""

    x1: list
    x2: list
    why: str


class Split(NamedTuple):
    """The open nodes of a search stopped to hand them to worker processes."""

    nodes: list


def children(M, node, rows):
    """The children of ``node`` when it branches on ``rows``: child k adds ``rows[k]`` to ``F``
    (closure) and excludes ``rows[:k]``, so the children partition the node's candidates.

    Rows already excluded are skipped, and a child whose closure meets the
    excluded rows is empty and left out.
    """
    excl = node.excluded
    out = []
    for s in sorted(rows):
        if excl >> s & 1:
            continue
        state = M.extend(node.state, (s,))
        flat = mask(state[0])
        if not flat & excl:
            out.append(Node(state, flat, excl, node.rank + 1))
        excl |= 1 << s
    return out
