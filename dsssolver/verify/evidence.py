"""Result and evidence objects of :func:`dsssolver.certify`, and their JSON form.

JSON format (version 1), every rational written as a string ``"p/q"`` or ``"p"``::

    {"format": "dsssolver-evidence", "version": 1,
     "status": "not_injective", "shape": [m, n],
     "witness": [["p/q", ...], ["p/q", ...]], ...}

    {"format": "dsssolver-evidence", "version": 1,
     "status": "injective", "shape": [m, n],
     "minor": [i_1, ..., i_n],
     "dependencies": [{"rows": [i, ...], "multipliers": ["p/q", ...]}, ...],
     "hints": {"<hex row mask of a flat>": k or [k, ...], ...}, ...}

A witness ``(x1, x2)`` claims ``x1 != x2`` and ``ReLU(W x1 + b) == ReLU(W x2 + b)``.
A proof claims that rows ``minor`` of ``W`` form a nonsingular n x n matrix, that
each dependency has multipliers ``y >= 0``, not all zero, with
``sum y_i w_i = 0`` and ``sum y_i b_i >= 0``, and that no set of rows of rank at
most n - 1 meets the rows of every dependency (MATH.md section 4).  Row indices
are 0-based.  ``hints`` (optional) tells a checker which dependencies the search
used at which flat (bit i of the mask = row i), so it can replay the search
instead of searching afresh; a checker must verify every hinted claim, so
wrong hints can slow a check but never pass a wrong proof.  ``stats`` and
``message`` are informational.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..exact.matroid import fstr, parse_fraction

__all__ = ["Dependency", "Proof", "CertifyResult", "FORMAT", "VERSION"]

FORMAT = "dsssolver-evidence"
VERSION = 1


@dataclass(frozen=True)
class Dependency:
    """A Farkas certificate: ``sum y_i w_i = 0``, ``sum y_i b_i >= 0``, ``y >= 0``.

    It proves that the strict system ``w_i . x + b_i < 0 (i in rows)`` has no
    solution, so every rank-deficient cell's active set meets ``rows``.
    """

    rows: tuple
    multipliers: tuple
    domain_rows: tuple = ()  # rows k of a domain A x <= c, with multipliers u_k >= 0:
    domain_multipliers: tuple = ()  # sum y_i w_i + sum u_k a_k = 0, sum y_i b_i - sum u_k c_k >= 0

    def to_json(self):
        out = {"rows": list(self.rows), "multipliers": [fstr(y) for y in self.multipliers]}
        if self.domain_rows:
            out["domain_rows"] = [int(k) for k in self.domain_rows]
            out["domain_multipliers"] = [fstr(u) for u in self.domain_multipliers]
        return out


@dataclass
class Proof:
    """Proof of injectivity: a nonsingular n x n minor and a covering set of dependencies.

    ``hints`` (optional) replays the search for the checker: it maps the row
    mask of a flat to the position of the dependency branched on there, or to
    the list of positions that closed it.  Hints only steer the checker, which
    verifies every claim and ignores hints that do not fit.
    """

    minor: list
    dependencies: list = field(default_factory=list)
    hints: dict | None = None


@dataclass
class CertifyResult:
    """Outcome of :func:`dsssolver.certify`, in the manner of ``scipy.optimize.OptimizeResult``.

    Attributes
    ----------
    status : {"injective", "not_injective", "unknown"}
    message : str
        One human sentence on how the verdict was reached (or why not).
    witness : tuple of two lists of Fraction, or None
        For "not_injective": two different inputs with the same output.
    proof : Proof or None
        For "injective".
    stats : dict
        ``nodes``, ``lps``, ``lp_seconds``, ``seconds``, ``pool``, ``reason`` (for unknown).
    shape : tuple
        ``(m, n)`` of the layer.
    checked : bool
        Whether the evidence passed the exact re-check before being returned.
    """

    status: str
    message: str
    shape: tuple
    witness: tuple | None = None
    proof: Proof | None = None
    stats: dict = field(default_factory=dict)
    checked: bool = False
    domain: dict | None = None  # JSON form of the input domain (version 2), None for R^n

    @property
    def injective(self):
        """True, False, or None when unknown."""
        return {"injective": True, "not_injective": False}.get(self.status)

    def to_json(self):
        """The evidence as a JSON-serialisable dict (format documented in this module)."""
        out = {
            "format": FORMAT,
            "version": VERSION if self.domain is None else 2,
            "status": self.status,
            "shape": list(self.shape),
            "message": self.message,
        }
        if self.domain is not None:
            out["domain"] = self.domain
        if self.witness is not None:
            out["witness"] = [[fstr(v) for v in x] for x in self.witness]
        if self.proof is not None:
            out["minor"] = list(self.proof.minor)
            out["dependencies"] = [d.to_json() for d in self.proof.dependencies]
            if self.proof.hints:
                out["hints"] = {format(F, "x"): h for F, h in self.proof.hints.items()}
        out["stats"] = {k: v for k, v in self.stats.items() if _jsonable(v)}
        return out

    @classmethod
    def from_json(cls, doc):
        """Read evidence written by :meth:`to_json`; raises ValueError if malformed."""
        if not isinstance(doc, dict):
            raise ValueError("evidence must be a JSON object")
        status = doc.get("status")
        if status not in ("injective", "not_injective", "unknown"):
            raise ValueError(f"evidence has no valid 'status' (got {status!r})")
        shape = doc.get("shape")
        res = cls(status=status, message=str(doc.get("message", "")),
                  shape=tuple(shape) if isinstance(shape, list) else ())
        dom = doc.get("domain")
        if dom is not None and not (isinstance(dom, dict) and dom.get("name") in
                                    ("nonnegative", "polyhedron")):
            raise ValueError("'domain' must be null or an object named nonnegative or polyhedron")
        res.domain = dom
        if status == "not_injective":
            wit = doc.get("witness")
            if not (isinstance(wit, list) and len(wit) == 2 and all(isinstance(x, list) for x in wit)):
                raise ValueError("'witness' must be a list of two lists of rationals")
            res.witness = tuple([parse_fraction(v) for v in x] for x in wit)
        elif status == "injective":
            minor = doc.get("minor")
            deps = doc.get("dependencies")
            if not isinstance(minor, list) or not all(_is_index(i) for i in minor):
                raise ValueError("'minor' must be a list of row indices")
            if not isinstance(deps, list):
                raise ValueError("'dependencies' must be a list")
            parsed = []
            for k, d in enumerate(deps):
                if not isinstance(d, dict) or not isinstance(d.get("rows"), list) \
                        or not isinstance(d.get("multipliers"), list):
                    raise ValueError(f"dependency {k} must have lists 'rows' and 'multipliers'")
                if not all(_is_index(i) for i in d["rows"]):
                    raise ValueError(f"dependency {k} has a row that is not an index")
                if len(d["rows"]) != len(d["multipliers"]):
                    raise ValueError(f"dependency {k}: rows and multipliers differ in length")
                drows, dmult = d.get("domain_rows", []), d.get("domain_multipliers", [])
                if not isinstance(drows, list) or not isinstance(dmult, list) \
                        or len(drows) != len(dmult) or not all(_is_index(k) for k in drows):
                    raise ValueError(f"dependency {k}: malformed domain_rows/domain_multipliers")
                parsed.append(Dependency(tuple(d["rows"]),
                                         tuple(parse_fraction(y) for y in d["multipliers"]),
                                         tuple(drows), tuple(parse_fraction(u) for u in dmult)))
            res.proof = Proof(list(minor), parsed, _parse_hints(doc.get("hints")))
        return res

    def __repr__(self):
        ev = ""
        if self.witness is not None:
            ev = ", witness=(x1, x2)"
        elif self.proof is not None:
            ev = f", proof=<minor + {len(self.proof.dependencies)} dependencies>"
        keys = ("nodes", "lps", "seconds", "reason")
        st = {k: (round(v, 4) if isinstance(v, float) else v)
              for k, v in self.stats.items() if k in keys}
        return (f"CertifyResult(status={self.status!r}, shape={tuple(self.shape)}{ev}, "
                f"checked={self.checked}, stats={st})")

    def summary(self):
        """A few human lines."""
        m, n = self.shape if len(self.shape) == 2 else ("?", "?")
        lines = [f"{self.status}: ReLU(Wx + b) with W {m}x{n}. {self.message}"]
        if self.witness is not None:
            x1, x2 = self.witness
            lines.append(f"  witness x1 = [{', '.join(_short(v) for v in x1)}]")
            lines.append(f"          x2 = [{', '.join(_short(v) for v in x2)}]")
        if self.proof is not None:
            lines.append(f"  proof: minor rows {self.proof.minor}, "
                         f"{len(self.proof.dependencies)} "
                         f"{'dependency' if len(self.proof.dependencies) == 1 else 'dependencies'}")
        st = self.stats
        lines.append(f"  {st.get('nodes', 0)} nodes, {st.get('lps', 0)} LPs, "
                     f"{st.get('seconds', 0.0):.3f} s; evidence re-checked exactly: "
                     f"{'yes' if self.checked else 'no'}")
        return "\n".join(lines)


def _parse_hints(h):
    if h is None:
        return None
    if not isinstance(h, dict):
        raise ValueError("'hints' must be an object mapping hex row masks to positions")
    out = {}
    for key, val in h.items():
        try:
            F = int(key, 16)
        except (TypeError, ValueError):
            raise ValueError(f"hint key {key!r} is not a hex row mask") from None
        ok = _is_index(val) or (isinstance(val, list) and val and all(_is_index(v) for v in val))
        if not ok:
            raise ValueError(f"hint {key!r} must be a position or a list of positions")
        out[F] = val
    return out


def _short(q):
    q = Fraction(q)
    s = fstr(q)
    return s if len(s) <= 24 else f"{float(q):.6g}"


def _is_index(i):
    return isinstance(i, int) and not isinstance(i, bool) and i >= 0


def _jsonable(v):
    if isinstance(v, list):
        return all(_jsonable(x) and not isinstance(x, list) for x in v)
    return isinstance(v, (int, float, str, bool)) or v is None
