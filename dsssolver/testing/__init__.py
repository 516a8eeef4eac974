"""Independent references for testing: brute-force deciders and the plain big-M MILP peer.

They are public so that users can test their own code with them; they share no code with the
search in :mod:`dsssolver.certify`.  :func:`reference_min_sigma` enumerates every cell exactly, for
the branch-and-bound of :mod:`dsssolver.stability` (it shares no code with that either).
"""
from .lipschitz import ReferenceCells, reference_min_sigma
from .milp import MilpResult, milp_certify
from .reference import ReferenceAmbiguous, ReferenceResult, reference_by_cells, reference_certify

__all__ = ["milp_certify", "MilpResult", "reference_certify", "reference_by_cells",
           "ReferenceResult", "ReferenceAmbiguous", "reference_min_sigma", "ReferenceCells"]
