"""Deprecated location: use :mod:`dsssolver.testing.milp`."""
import warnings

from .testing.milp import *  # noqa: F401,F403
from .testing.milp import __all__  # noqa: F401

warnings.warn("dsssolver.milp moved to dsssolver.testing.milp", DeprecationWarning, stacklevel=2)
