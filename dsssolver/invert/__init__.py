"""Layerwise inversion of ReLU generators with linear programs (Lei et al. 2019).

``layerwise`` holds the driver, ``lp`` the per-layer HiGHS models, ``joint`` the MILP that takes
over where a layer's preimage is not a single point, ``noise`` the noise levels and error
bounds, ``polish`` the least-squares (l_2) polish, ``exact`` the exact uniqueness evidence,
``batch`` the parallel batches, ``result`` the result types.
"""
from .layerwise import METHODS, Inverter, invert
from .result import (APPROXIMATE, EXACT, FAILED, INFEASIBLE, JOINT, STATUSES, InvertResult,
                     JointInfo, LayerInfo)

__all__ = ["invert", "Inverter", "InvertResult", "LayerInfo", "JointInfo", "METHODS",
           "EXACT", "JOINT", "APPROXIMATE", "INFEASIBLE", "FAILED", "STATUSES"]
