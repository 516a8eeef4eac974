"""The exact single-layer search: branch-and-bound over flats of the row matroid.

:func:`certify` decides whether ``x -> ReLU(Wx + b)`` is injective and returns evidence that the
independent checker (:mod:`dsssolver.verify`) has accepted.
"""
from ..verify.evidence import CertifyResult
from .search import certify

__all__ = ["certify", "CertifyResult"]
