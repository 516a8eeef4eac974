"""Search-side exact algebra: the row matroid (ranks, closures, null spaces) and a rational simplex.

The trusted checker in :mod:`dsssolver.verify` does not use this package: it has its own small
exact arithmetic, so a fault here cannot make a wrong proof pass.
"""
from .matroid import PRIME, RowMatroid, fraction_matrix, fstr, integer_rows, parse_fraction, to_fraction
from .simplex import strict_system

__all__ = ["PRIME", "RowMatroid", "fraction_matrix", "fstr", "integer_rows", "parse_fraction",
           "to_fraction", "strict_system"]
