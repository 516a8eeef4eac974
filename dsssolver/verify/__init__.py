"""The evidence format and the independent exact checker.

Nothing here imports the search (:mod:`dsssolver.certify`), its exact algebra
(:mod:`dsssolver.exact`), the inverter or any LP solver: a proof is accepted only if this
package, on its own arithmetic, finds it valid.
"""
from .check import CheckTimeout, check, check_proof, check_witness
from .evidence import FORMAT, VERSION, CertifyResult, Dependency, Proof

__all__ = ["check", "check_proof", "check_witness", "CheckTimeout", "CertifyResult", "Dependency",
           "Proof", "FORMAT", "VERSION"]
