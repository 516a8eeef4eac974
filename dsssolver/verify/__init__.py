"""The evidence format and the independent exact checker.

Nothing here imports the search (:mod:`dsssolver.certify`), its exact algebra
(:mod:`dsssolver.exact`), the inverter or any LP solver: a proof is accepted only if this
package, on its own arithmetic (:mod:`dsssolver.verify._arith`), finds it valid.
The format and why a proof is sound: ``docs/evidence.md``.
"""
from ..errors import CheckTimeout, EvidenceError
from .check import CheckResult, check
from .evidence import (FORMAT, INJECTIVE, NOT_INJECTIVE, STATUSES, UNKNOWN, VERSION, VERSIONS,
                       CertifyResult, Dependency, Domain, Proof, as_domain)

__all__ = ["check", "CheckResult", "CheckTimeout", "EvidenceError", "CertifyResult", "Dependency",
           "Domain", "Proof", "as_domain", "FORMAT", "VERSION", "VERSIONS", "INJECTIVE",
           "NOT_INJECTIVE", "UNKNOWN", "STATUSES"]
