"""dsssolver: exact injectivity certificates for ReLU layers, and LP inversion of generators.

>>> import numpy as np, dsssolver as dss
>>> res = dss.certify(np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]))
>>> res.status == dss.INJECTIVE
True
>>> bool(dss.check(res, np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])))
True
"""
from .certify import CertifyResult, certify
from .errors import CheckTimeout, DSSError, EvidenceError, InvalidInputError
from .conv import (ConvCertifyResult, ConvLayer, StridedConv, certify_conv, certify_conv_pairs,
                   certify_network_pairs, check_conv, injective_dcgan)
from .invert import InvertResult, invert
from .networks import NetworkResult, certify_network, construct, decide_end_to_end
from .plot import plot_layer
from .stability import (
    InverseLipschitzResult,
    LipschitzEstimate,
    amplification_bound,
    inverse_lipschitz,
    lipschitz_estimate,
)
from .verify import INJECTIVE, NOT_INJECTIVE, UNKNOWN, CheckResult, check
from .verify.network import check_network

__version__ = "0.1.0"
__all__ = ["certify", "check", "CertifyResult", "CheckResult", "invert", "InvertResult", "plot_layer",
           "INJECTIVE", "NOT_INJECTIVE", "UNKNOWN",
           "DSSError", "InvalidInputError", "EvidenceError", "CheckTimeout",
           "ConvLayer", "certify_conv", "check_conv", "ConvCertifyResult",
           "StridedConv", "certify_conv_pairs", "certify_network_pairs", "injective_dcgan",
           "inverse_lipschitz", "InverseLipschitzResult", "amplification_bound",
           "certify_network", "check_network", "NetworkResult", "decide_end_to_end", "construct",
           "lipschitz_estimate", "LipschitzEstimate"]
