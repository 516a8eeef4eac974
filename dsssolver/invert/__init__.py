"""Layerwise inversion of ReLU generators with linear programs (Lei et al. 2019).

``layerwise`` holds the driver, ``lp`` the per-layer HiGHS models, ``joint`` the MILP that takes
over where a layer's preimage is not a single point.
"""
from .layerwise import InvertInfo, Inverter, LayerInfo, invert

__all__ = ["invert", "Inverter", "LayerInfo", "InvertInfo"]
