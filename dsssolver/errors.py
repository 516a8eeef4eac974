"""The exceptions dsssolver raises.

Every error it raises on purpose derives from :class:`DSSError`, and also from the built-in
exception a Python user would expect (``ValueError`` for bad input, ``TimeoutError`` for a check
that ran out of time), so ``except ValueError`` keeps working.
"""
from __future__ import annotations

__all__ = ["DSSError", "InvalidInputError", "EvidenceError", "CheckTimeout"]


class DSSError(Exception):
    """Base class of every error dsssolver raises on purpose."""


class InvalidInputError(DSSError, ValueError):
    """An argument or input file is malformed: the message names the argument and the fault."""


class EvidenceError(DSSError, ValueError):
    """An evidence document (JSON or object) is malformed, of a foreign format or version."""


class CheckTimeout(DSSError, TimeoutError):
    """The exact check of a proof ran out of the time it was given."""
