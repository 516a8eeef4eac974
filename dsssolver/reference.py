"""Deprecated location: use :mod:`dsssolver.testing.reference`."""
import warnings

from .testing.reference import *  # noqa: F401,F403
from .testing.reference import __all__  # noqa: F401

warnings.warn("dsssolver.reference moved to dsssolver.testing.reference", DeprecationWarning, stacklevel=2)
