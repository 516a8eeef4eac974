"""Stability of inversion: inverse Lipschitz constants of ReLU layers and networks (seed Theorem 3).

- :func:`inverse_lipschitz`: the seed's ``C(W) = (2m)^(-1/2) min_x sigma_min(W_{A(x)})`` by
  branch-and-bound over the cells, with the attaining cell.
- :func:`lipschitz_estimate`: the true constant ``L``, bracketed: ``S/sqrt(2) <= L <= S`` (proved),
  and an upper estimate from the best pair found.
- :func:`network_lipschitz`: products of per-layer bounds and a sampled estimate for a network.
- :func:`amplification_bound`: ``1 / sigma_min`` of a known active set (cheap, local).
"""
from .cells import InverseLipschitzResult, amplification_bound, inverse_lipschitz, sigma_min
from .network import NetworkLipschitz, network_lipschitz
from .pairs import LipschitzEstimate, lipschitz_estimate, pair_ratio

__all__ = ["inverse_lipschitz", "InverseLipschitzResult", "amplification_bound", "sigma_min",
           "lipschitz_estimate", "LipschitzEstimate", "pair_ratio",
           "network_lipschitz", "NetworkLipschitz"]
