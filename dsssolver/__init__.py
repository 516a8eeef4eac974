"""dsssolver: exact injectivity certificates for ReLU layers, and LP inversion of generators.

>>> import numpy as np, dsssolver as dss
>>> res = dss.certify(np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]))
>>> res.status == dss.INJECTIVE
True
>>> bool(dss.check(res, np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])))
True

The public names are imported on first use (PEP 562), so that ``import dsssolver`` -- and the
``dss`` command, which must catch Ctrl-C from its first moment -- does not load numpy, HiGHS and
FLINT before they are needed.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(["certify", "CertifyResult"], ".certify"),
    **dict.fromkeys(["check", "CheckResult", "INJECTIVE", "NOT_INJECTIVE", "UNKNOWN"], ".verify"),
    "check_network": ".verify.network",
    **dict.fromkeys(["DSSError", "InvalidInputError", "EvidenceError", "CheckTimeout"], ".errors"),
    **dict.fromkeys(["ConvLayer", "certify_conv", "check_conv", "ConvCertifyResult", "StridedConv",
                     "certify_conv_pairs", "certify_network_pairs", "injective_dcgan"], ".conv"),
    **dict.fromkeys(["invert", "InvertResult"], ".invert"),
    **dict.fromkeys(["certify_network", "NetworkResult", "decide_end_to_end", "construct"],
                    ".networks"),
    "plot_layer": ".plot",
    **dict.fromkeys(["inverse_lipschitz", "InverseLipschitzResult", "amplification_bound",
                     "lipschitz_estimate", "LipschitzEstimate"], ".stability"),
}
__all__ = ["certify", "check", "CertifyResult", "CheckResult", "invert", "InvertResult", "plot_layer",
           "INJECTIVE", "NOT_INJECTIVE", "UNKNOWN",
           "DSSError", "InvalidInputError", "EvidenceError", "CheckTimeout",
           "ConvLayer", "certify_conv", "check_conv", "ConvCertifyResult",
           "StridedConv", "certify_conv_pairs", "certify_network_pairs", "injective_dcgan",
           "inverse_lipschitz", "InverseLipschitzResult", "amplification_bound",
           "certify_network", "check_network", "NetworkResult", "decide_end_to_end", "construct",
           "lipschitz_estimate", "LipschitzEstimate"]


def _export(name: str) -> Any:
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = _export(name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # a subpackage: dss.stability, ...
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module, with ``certify`` and ``invert`` kept as the functions.

    They share their names with the subpackages that define them, and the import system binds a
    subpackage to its parent's attribute when it is first imported; were that to happen before
    the function was first asked for (``import dsssolver.certify.search`` first), ``dss.certify``
    would be the subpackage.  So these two are properties: a module assigned to them is ignored,
    anything else (a test's monkeypatch) is kept.
    """


def _function_slot(name: str) -> property:
    def get(self):
        if name not in self.__dict__:
            self.__dict__[name] = _export(name)
        return self.__dict__[name]

    def set_(self, value):
        if not isinstance(value, types.ModuleType):
            self.__dict__[name] = value

    return property(get, set_)


for _name in ("certify", "invert"):
    setattr(_Package, _name, _function_slot(_name))
sys.modules[__name__].__class__ = _Package
del _name
