"""The result object of the convolution certifiers."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ConvCertifyResult"]


@dataclass
class ConvCertifyResult:
    """Outcome of :func:`certify_conv` or :func:`certify_conv_pairs` (OptimizeResult style).

    Attributes
    ----------
    status : {"injective", "not_injective", "unknown", "skipped"}
        The verdict for the **full** layer ("skipped": a layer of a network that
        :func:`certify_network_pairs` does not certify, with the reason).
    message : str
        What was shown and what it implies.
    method : str
        "theorem4" (the reduced layer of a box P was certified), "full" (the
        whole operator went through :func:`dsssolver.certify`), "pairs" (the
        antiparallel-pair argument with an exact rank) or "none".
    box : tuple or None
        For "theorem4": the box P (spatial widths) whose reduced layer was used.
    reduced : CertifyResult or None
        For "theorem4": the evidence for the reduced layer (checked exactly).
    full : CertifyResult or None
        For "full": the evidence for the whole operator (checked exactly).
    tried : list of dict
        Every box tried, with the reduced layer's shape and verdict.
    stats : dict
        ``seconds`` and method-specific numbers (ranks, prime, pair count).
    """

    status: str
    message: str
    method: str = "none"
    box: tuple | None = None
    reduced: object = None
    full: object = None
    tried: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def injective(self):
        """True, False, or None when unknown."""
        return {"injective": True, "not_injective": False}.get(self.status)

    def __repr__(self):
        extra = f", box={self.box}" if self.box is not None else ""
        secs = self.stats.get("seconds")
        t = f", seconds={secs:.3g}" if isinstance(secs, float) else ""
        return f"ConvCertifyResult(status={self.status!r}, method={self.method!r}{extra}{t})"
