"""Whole networks: layer-by-layer and end-to-end injectivity, and injective constructions.

* :func:`certify_network` -- per-layer verdicts on each layer's true domain and a
  network verdict with evidence re-checked by :mod:`dsssolver.verify.network`;
* :func:`decide_end_to_end` -- exact end-to-end decisions for small networks;
* :mod:`dsssolver.networks.construct` -- injective layers and networks by construction.
"""
from . import construct
from .end_to_end import EndToEndResult, decide_end_to_end
from .layerwise import LayerVerdict, NetworkResult, certify_layer, certify_network
from ..netmodel import NetLayer, as_graph, as_layers

__all__ = ["certify_network", "certify_layer", "NetworkResult", "LayerVerdict", "decide_end_to_end",
           "EndToEndResult", "construct", "NetLayer", "as_layers", "as_graph"]
