"""The public API is typed (a py.typed package) and every result class documents its attributes."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import dsssolver as dss
from dsssolver.invert.result import JointInfo, LayerInfo
from dsssolver.networks.end_to_end import EndToEndResult
from dsssolver.networks.layerwise import LayerVerdict
from dsssolver.verify.evidence import Dependency, Domain, Proof

FUNCTIONS = [name for name in dss.__all__ if inspect.isfunction(getattr(dss, name))]
RESULTS = [dss.CertifyResult, dss.CheckResult, dss.InvertResult, LayerInfo, JointInfo,
           dss.ConvCertifyResult, dss.InverseLipschitzResult, dss.LipschitzEstimate,
           dss.NetworkResult, LayerVerdict, EndToEndResult, Proof, Dependency, Domain]


def test_the_public_names_are_there():
    assert len(FUNCTIONS) >= 14 and {"certify", "check", "invert", "certify_network"} <= set(FUNCTIONS)
    assert all(hasattr(dss, name) for name in dss.__all__)
    assert (Path(dss.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_functions_are_fully_annotated(name):
    fn = getattr(dss, name)
    sig = inspect.signature(fn)
    missing = [p for p, v in sig.parameters.items() if v.annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: parameters without a type hint: {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"
    typing.get_type_hints(fn)  # every name in the hints resolves


def _documented(doc):
    """The names listed in the numpydoc Attributes section of ``doc``."""
    section = doc.split("Attributes\n----------\n", 1)[1]
    names = set()
    for line in section.splitlines():
        if line and not line.startswith(" "):
            if set(line) == {"-"}:  # the next section's underline
                break
            names.update(n.strip() for n in line.split(" : ")[0].split(","))
    return names


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
def test_result_classes_document_their_attributes(cls):
    doc = inspect.getdoc(cls) or ""
    assert "Attributes\n----------\n" in doc, f"{cls.__name__} has no numpydoc Attributes section"
    fields = [f for f in getattr(cls, "__dataclass_fields__", {}) if not f.startswith("_")]
    undocumented = sorted(set(fields) - _documented(doc))
    assert not undocumented, f"{cls.__name__}: fields missing from Attributes: {undocumented}"


def test_lazy_package_keeps_names_and_subpackages():
    """In a fresh interpreter: ``import dsssolver`` loads nothing heavy, yet every public name
    and every subpackage (``dss.stability``, ``dss.layers``, ...) is reachable, and ``certify``
    and ``invert`` stay the functions after their subpackages' modules are imported."""
    code = ("import sys, dsssolver as dss\n"
            "assert not {'numpy', 'highspy', 'flint'} & set(sys.modules), sys.modules.keys()\n"
            "import dsssolver.certify.search, dsssolver.invert.layerwise\n"
            "assert callable(dss.certify) and callable(dss.invert)\n"
            "assert dss.stability.network_lipschitz and dss.layers.as_network and dss.testing\n"
            "assert all(hasattr(dss, n) for n in dss.__all__)\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ,
                            "PYTHONPATH": str(Path(dss.__file__).parent.parent)})
    assert r.stdout.strip() == "ok", r.stderr
