"""The ``dss`` command line (see :func:`dsssolver.cli.main.main`)."""
from .main import main

__all__ = ["main"]
