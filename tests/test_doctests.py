"""The examples in the docstrings run and say what they show."""
from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import dsssolver

# Every module that has docstring examples; the deprecated aliases re-export and are skipped.
_SKIP = {"dsssolver.__main__", "dsssolver.reference", "dsssolver.milp"}
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(dsssolver.__path__, "dsssolver.")
    if m.name not in _SKIP and ">>>" in inspect.getsource(importlib.import_module(m.name))
)


def test_modules_with_examples_are_found():
    assert "dsssolver.certify.search" in MODULES or "dsssolver.verify.check" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"no examples ran in {name}"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_package_docstring():
    result = doctest.testmod(dsssolver)
    assert result.attempted > 0 and result.failed == 0


def test_test_helpers_docstrings():
    """The examples of the tests' own layer families (tests/families.py) run too."""
    import families

    result = doctest.testmod(families)
    assert result.attempted >= 3 and result.failed == 0
