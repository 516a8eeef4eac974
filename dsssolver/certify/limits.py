"""Limits, counters and progress of one certify run.

The limits are the user's: ``time_limit`` seconds from the start of the run and
``node_limit`` search nodes in total, over the pre-test, the search and every
worker process.  They are checked before a node is processed, so the search
processes at most ``node_limit`` nodes, and a reached limit is reported with
the value the user gave.  With worker processes or a cluster the parent counts
the nodes its tasks report and gives each task a share of what is left
(:mod:`dsssolver.certify.parallel`), so the limit stays global.

Examples
--------
>>> lim = Limits(time_limit=None, node_limit=2)
>>> lim.take_node(); lim.take_node()
>>> lim.take_node()
Traceback (most recent call last):
...
dsssolver.certify.limits.LimitReached: node limit 2 reached
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

__all__ = ["LimitReached", "Limits", "Counters"]


class LimitReached(Exception):
    """A limit was reached; the message is the reason given to the user."""


@dataclass
class Counters:
    """What one search process did (the parent adds its workers' counters to its own)."""

    nodes: int = 0
    dive_steps: int = 0
    exact_lps: int = 0  # nodes decided by the rational simplex
    other_lps: int = 0  # LPs of the pre-test and of worker processes
    trusted: int = 0  # packings that closed a node without the search's own transversal test
    set_aside: int = 0  # pooled dependencies a worker's capped pool set aside (Tree.pool_cap)
    by_rank: list = field(default_factory=list)  # nodes per rank of their flat

    def add(self, other):
        """Add ``other``'s counts (a worker's, or the pre-test's) to these."""
        self.nodes += other.nodes
        self.dive_steps += other.dive_steps
        self.exact_lps += other.exact_lps
        self.other_lps += other.other_lps
        self.trusted += other.trusted
        self.set_aside += other.set_aside
        for r, k in enumerate(other.by_rank):
            self.count_rank(r, k)

    def count_rank(self, rank, k=1):
        if len(self.by_rank) <= rank:
            self.by_rank.extend([0] * (rank + 1 - len(self.by_rank)))
        self.by_rank[rank] += k


class Limits:
    """The time and node limits of one run, and its progress line.

    Parameters
    ----------
    time_limit : float or None
        Seconds from ``start`` (default: now).
    node_limit : int or None
        Nodes in total.
    progress : bool or float
        Print a line on stderr about once a second (or every ``progress`` s).
    start : float
        A ``time.time()`` value: the run's start (shared with worker processes).
    """

    def __init__(self, time_limit, node_limit, progress=False, start=None):
        self.time_limit = time_limit
        self.node_limit = node_limit
        self.start = time.time() if start is None else start
        self.interval = 1.0 if progress is True else float(progress or 0)
        self._next_report = self.start + self.interval
        self._taken = 0

    # ------------------------------------------------------------ time
    def elapsed(self):
        return time.time() - self.start

    def left(self):
        """Seconds left, or None without a time limit."""
        return None if self.time_limit is None else self.time_limit - self.elapsed()

    def deadline(self):
        """The ``time.time()`` at which the time limit is reached, or None."""
        return None if self.time_limit is None else self.start + self.time_limit

    def check_time(self, during=""):
        if self.time_limit is not None and self.elapsed() > self.time_limit:
            raise LimitReached(f"time limit {self.time_limit:g} s reached{during}")

    # ----------------------------------------------------------- nodes
    def taken(self):
        """Nodes taken so far, over every process."""
        return self._taken

    def take_node(self):
        """Count one node, or raise :class:`LimitReached` if the node limit is used up."""
        self.check_time()
        if self.node_limit is not None and self._taken >= self.node_limit:
            raise LimitReached(f"node limit {self.node_limit} reached")
        self._taken += 1

    def add_nodes(self, k):
        """Count ``k`` nodes processed elsewhere (the pre-test's own run, worker tasks)."""
        self._taken += k

    def sub_budget(self, nodes):
        """A node budget of at most ``nodes`` that also keeps within this run's limit."""
        if self.node_limit is None:
            return nodes
        return max(0, min(nodes, self.node_limit - self.taken()))

    # -------------------------------------------------------- progress
    def report(self, line):
        """Print ``line`` (a callable giving the text) on stderr, at most once per interval."""
        if not self.interval:
            return
        now = time.time()
        if now >= self._next_report:
            self._next_report = now + self.interval
            print(f"dss: {now - self.start:7.1f} s  {line()}", file=sys.stderr, flush=True)
