"""The examples in the docstrings run and say what they show."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import dsssolver

MODULES = sorted(m.name for m in pkgutil.iter_modules(dsssolver.__path__, "dsssolver.")
                 if m.name not in ("dsssolver.__main__",))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_package_docstring():
    assert doctest.testmod(dsssolver).failed == 0
