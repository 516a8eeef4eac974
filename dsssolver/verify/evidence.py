"""Result and evidence objects of :func:`dsssolver.certify`, and their JSON form.

The JSON format (versions 1 and 2) and why a proof in it is sound are documented in
``docs/evidence.md``.  In short, every rational is a string ``"p/q"`` or ``"p"`` (``p`` and ``q``
decimal, or hex ``"0x..."`` for integers above 4096 bits) and row indices are 0-based::

    {"format": "dsssolver-evidence", "version": 2, "status": "not_injective", "shape": [m, n],
     "domain": null, "witness": [["p/q", ...], ["p/q", ...]], "message": "...", "stats": {...}}

    {"format": "dsssolver-evidence", "version": 2, "status": "injective", "shape": [m, n],
     "domain": null, "minor": [i_1, ..., i_n],
     "dependencies": [{"rows": [i, ...], "multipliers": ["p/q", ...]}, ...],
     "hints": {"<hex row mask of a flat>": k or [k, ...], ...}, "message": "...", "stats": {...}}

Version 2 adds ``"domain"`` (``null``, or ``{"name": "nonnegative" | "polyhedron", "A": [[...]],
"c": [...], "interior": [...]}`` for inputs restricted to ``{x : A x <= c}``) and, per dependency,
``"domain_rows"`` and ``"domain_multipliers"``.  Version 1 (no domain) is still read.

Reading is defensive: :meth:`CertifyResult.from_json` checks the format, version, shape and every
field, and refuses numbers longer than the evidence could need before building them, raising
:class:`~dsssolver.errors.EvidenceError` with the field's name.

Examples
--------
>>> doc = {"format": FORMAT, "version": 2, "status": "not_injective", "shape": [3, 2],
...        "witness": [["-1", "-1"], ["-1", "-2"]]}
>>> res = CertifyResult.from_json(doc)
>>> res.status, res.witness[1]
('not_injective', [Fraction(-1, 1), Fraction(-2, 1)])
>>> res.to_json()["witness"]
[['-1', '-1'], ['-1', '-2']]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from .._validate import as_matrix, as_vector
from ..errors import EvidenceError, InvalidInputError
from ._arith import format_rational, parse_rational, to_fraction

__all__ = ["INJECTIVE", "NOT_INJECTIVE", "UNKNOWN", "STATUSES", "FORMAT", "VERSION", "VERSIONS",
           "Domain", "as_domain", "Dependency", "Proof", "CertifyResult", "max_bits_for"]

INJECTIVE = "injective"
NOT_INJECTIVE = "not_injective"
UNKNOWN = "unknown"
STATUSES = (INJECTIVE, NOT_INJECTIVE, UNKNOWN)

FORMAT = "dsssolver-evidence"
VERSION = 2
VERSIONS = (1, 2)

_MAX_DEPTH = 8  # how deeply "stats" may nest


def max_bits_for(n, entry_bits=2200):
    """The longest integer (in bits) evidence for an n-input layer may hold.

    ``entry_bits`` bounds the layer's integer rows (2200 covers any float64 layer).  Multipliers
    and witness coordinates are ratios of minors of order <= n + 1, so they need about
    ``(n + 1) * entry_bits`` bits; this allows four times that, plus room for float64 points.
    """
    return 4 * (n + 2) * (entry_bits + 64) + 16384


@dataclass(frozen=True)
class Domain:
    """Inputs restricted to ``{x : A x <= c}``; ``name`` is "nonnegative" (``A = -I, c = 0``) or
    "polyhedron".

    Attributes
    ----------
    name : str
    A : tuple of tuple of Fraction, shape (k, n)
    c : tuple of Fraction, shape (k,)
    interior : tuple of Fraction or None
        A point with ``A x < c`` strictly: the evidence that the domain is full-dimensional, which
        a proof of injectivity on it needs (see ``docs/math.md``).  Optional for "nonnegative".
    """

    name: str
    A: tuple
    c: tuple
    interior: tuple | None = None

    @classmethod
    def nonnegative(cls, n):
        """The orthant ``x >= 0`` of R^n."""
        A = tuple(tuple(Fraction(-1 if i == j else 0) for j in range(n)) for i in range(n))
        return cls("nonnegative", A, tuple(Fraction(0) for _ in range(n)),
                   tuple(Fraction(1) for _ in range(n)))

    def same_set(self, other):
        """Whether ``other`` is the same domain, row for row, exactly (the interior point aside)."""
        return (other is not None and self.name == other.name and self.A == other.A
                and self.c == other.c)

    def to_json(self):
        out = {"name": self.name, "A": [[format_rational(v) for v in row] for row in self.A],
               "c": [format_rational(v) for v in self.c]}
        if self.interior is not None:
            out["interior"] = [format_rational(v) for v in self.interior]
        return out


def as_domain(domain, n, name="domain"):
    """The ``domain`` argument of :func:`~dsssolver.certify` / :func:`~dsssolver.check` as a
    :class:`Domain` (or None for all of R^n).

    Accepts None, "nonnegative", a pair ``(A, c)`` of arrays with ``A`` of shape (k, n), or a
    :class:`Domain`.  Raises :class:`~dsssolver.errors.InvalidInputError` naming the argument.

    Examples
    --------
    >>> as_domain("nonnegative", 2).c
    (Fraction(0, 1), Fraction(0, 1))
    >>> as_domain(([[1, 1]], [1]), 2).A
    ((Fraction(1, 1), Fraction(1, 1)),)
    """
    if domain is None or isinstance(domain, Domain):
        if isinstance(domain, Domain) and len(domain.A[0]) != n:
            raise InvalidInputError(f"{name} is for {len(domain.A[0])} inputs, the layer has {n}")
        return domain
    if isinstance(domain, str):
        if domain != "nonnegative":
            raise InvalidInputError(f"{name} must be None, 'nonnegative' or a pair (A, c); "
                                    f"got {domain!r}")
        return Domain.nonnegative(n)
    if not isinstance(domain, (tuple, list)) or len(domain) != 2:
        raise InvalidInputError(f"{name} must be None, 'nonnegative' or a pair (A, c); "
                                f"got {type(domain).__name__}")
    A = as_matrix(domain[0], f"{name} A")
    if A.shape[1] != n:
        raise InvalidInputError(f"{name} A has {A.shape[1]} columns but the layer has n = {n}")
    c = as_vector(domain[1], A.shape[0], f"{name} c", of="A")
    Aq = tuple(tuple(to_fraction(v, f"{name} A") for v in row) for row in A)
    cq = tuple(to_fraction(v, f"{name} c") for v in c)
    return Domain("polyhedron", Aq, cq)


@dataclass(frozen=True)
class Dependency:
    """A Farkas certificate: multipliers ``y >= 0`` (not all 0) on ``rows`` and ``u >= 0`` on
    ``domain_rows`` with ``sum y_i w_i + sum u_k a_k = 0`` and ``sum y_i b_i - sum u_k c_k >= 0``.

    It proves that no interior point of the domain has ``w_i . x + b_i < 0`` for all ``i`` in
    ``rows``, so every rank-deficient cell's active set meets ``rows``.

    Attributes
    ----------
    rows : tuple of int
    multipliers : tuple of Fraction
    domain_rows : tuple of int
        Rows of the domain's ``A`` (empty without a domain).
    domain_multipliers : tuple of Fraction
    """

    rows: tuple
    multipliers: tuple
    domain_rows: tuple = ()
    domain_multipliers: tuple = ()

    def __hash__(self):
        # dependencies key the proof's dicts; hashing their Fractions on every lookup cost
        # ~5% of a search, so the hash (of immutable fields) is computed once
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.rows, self.multipliers, self.domain_rows, self.domain_multipliers))
            object.__setattr__(self, "_hash", h)
        return h

    def to_json(self):
        out = {"rows": [int(i) for i in self.rows],
               "multipliers": [format_rational(y) for y in self.multipliers]}
        if self.domain_rows:
            out["domain_rows"] = [int(k) for k in self.domain_rows]
            out["domain_multipliers"] = [format_rational(u) for u in self.domain_multipliers]
        return out


@dataclass
class Proof:
    """Proof of injectivity: a nonsingular n x n minor and dependencies no rank-deficient flat
    meets all of.

    Attributes
    ----------
    minor : list of int
        n rows of W forming a nonsingular matrix.
    dependencies : list of Dependency
    hints : dict or None
        Optional, from the search: maps the row mask of a flat to the position of the dependency
        branched on there, or to the list of positions that closed it.  Hints only steer the
        checker, which verifies every claim and ignores hints that do not fit.
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
        Also :data:`INJECTIVE`, :data:`NOT_INJECTIVE`, :data:`UNKNOWN`.
    message : str
        One human sentence on how the verdict was reached (or why not).
    shape : tuple of int
        ``(m, n)`` of the layer.
    witness : tuple of two lists of Fraction, or None
        For "not_injective": two different inputs with the same output.
    proof : Proof or None
        For "injective".
    stats : dict
        JSON-safe statistics: ``nodes``, ``lps``, ``lp_seconds``, ``seconds``, ``pool``,
        ``check_seconds``, ...
    checked : bool
        Whether the evidence passed the independent exact checker (:func:`dsssolver.check`)
        before being returned.
    domain : Domain or None
        The inputs the verdict is about (None: all of R^n).
    reason : str or None
        For "unknown": which limit stopped the search (also ``stats["reason"]``).
    """

    status: str
    message: str
    shape: tuple
    witness: tuple | None = None
    proof: Proof | None = None
    stats: dict = field(default_factory=dict)
    checked: bool = False
    domain: Domain | None = None
    reason: str | None = None

    def __post_init__(self):
        if self.reason is None and isinstance(self.stats, dict) and self.stats.get("reason"):
            self.reason = str(self.stats["reason"])

    @property
    def injective(self):
        """True, False, or None when unknown."""
        return {INJECTIVE: True, NOT_INJECTIVE: False}.get(self.status)

    @property
    def success(self):
        """Whether the layer was decided (status is not "unknown")."""
        return self.status in (INJECTIVE, NOT_INJECTIVE)

    def to_json(self):
        """The evidence as a JSON-serialisable dict (format: ``docs/evidence.md``)."""
        out = {
            "format": FORMAT,
            "version": VERSION,
            "status": self.status,
            "shape": [int(v) for v in self.shape],
            "domain": self.domain if self.domain is None or isinstance(self.domain, dict)
            else self.domain.to_json(),
            "message": self.message,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        if self.witness is not None:
            out["witness"] = [[format_rational(v) for v in x] for x in self.witness]
        if self.proof is not None:
            out["minor"] = [int(i) for i in self.proof.minor]
            out["dependencies"] = [d.to_json() for d in self.proof.dependencies]
            if self.proof.hints:
                out["hints"] = {format(F, "x"): h for F, h in self.proof.hints.items()}
        out["stats"] = {k: v for k, v in self.stats.items() if _jsonable(v)}
        return out

    @classmethod
    def from_json(cls, doc, *, max_bits=None):
        """Read evidence written by :meth:`to_json`.

        Parameters
        ----------
        doc : dict
            The parsed JSON document.
        max_bits : int, optional
            Refuse integers longer than this (default: :func:`max_bits_for` the shape's ``n``);
            :func:`dsssolver.check` sets it from the layer's own entries.

        Raises
        ------
        EvidenceError
            A foreign format or version, a bad shape, or any malformed field (named).
        """
        return _Reader(doc, max_bits).result()

    def __repr__(self):
        ev = ""
        if self.witness is not None:
            ev = ", witness=(x1, x2)"
        elif self.proof is not None:
            ev = f", proof=<minor + {len(self.proof.dependencies)} dependencies>"
        keys = ("nodes", "lps", "seconds")
        st = {k: (round(v, 4) if isinstance(v, float) else v)
              for k, v in self.stats.items() if k in keys}
        why = f", reason={self.reason!r}" if self.reason else ""
        return (f"CertifyResult(status={self.status!r}, shape={tuple(self.shape)}{ev}, "
                f"checked={self.checked}{why}, stats={st})")

    def summary(self):
        """A few human lines."""
        m, n = self.shape if len(self.shape) == 2 else ("?", "?")
        where = "" if self.domain is None else f" on the domain ({self.domain.name})"
        lines = [f"{self.status}: ReLU(Wx + b) with W {m}x{n}{where}. {self.message}"]
        if self.witness is not None:
            x1, x2 = self.witness
            lines.append(f"  witness x1 = [{', '.join(_short(v) for v in x1)}]")
            lines.append(f"          x2 = [{', '.join(_short(v) for v in x2)}]")
        if self.proof is not None:
            k = len(self.proof.dependencies)
            lines.append(f"  proof: minor rows {list(self.proof.minor)}, "
                         f"{k} {'dependency' if k == 1 else 'dependencies'}")
        st = self.stats
        secs = st.get("seconds", 0.0)
        secs = secs if isinstance(secs, (int, float)) else 0.0
        lines.append(f"  {st.get('nodes', 0)} nodes, {st.get('lps', 0)} LPs, "
                     f"{secs:.3f} s; evidence re-checked exactly: "
                     f"{'yes' if self.checked else 'no'}")
        return "\n".join(lines)


class _Reader:
    """One pass over a JSON document, each field checked and named in errors."""

    def __init__(self, doc, max_bits):
        if not isinstance(doc, dict):
            raise EvidenceError(f"evidence must be a JSON object, got {type(doc).__name__}")
        self.doc = doc
        fmt = doc.get("format")
        if fmt != FORMAT:
            raise EvidenceError(f"evidence 'format' must be {FORMAT!r}, got {_show(fmt)}")
        self.version = doc.get("version")
        if not _is_int(self.version) or self.version not in VERSIONS:
            raise EvidenceError(f"evidence 'version' {_show(self.version)} is not supported "
                                f"(this reader knows {', '.join(map(str, VERSIONS))})")
        shape = doc.get("shape")
        if not (isinstance(shape, list) and len(shape) == 2 and all(_is_int(v) and v >= 1
                                                                     for v in shape)):
            raise EvidenceError(f"evidence 'shape' must be [m, n] with positive integers, "
                                f"got {_show(shape)}")
        self.m, self.n = shape
        self.max_bits = max_bits if max_bits is not None else max_bits_for(self.n)

    def result(self):
        doc = self.doc
        status = doc.get("status")
        if status not in STATUSES:
            raise EvidenceError(f"evidence 'status' must be one of {', '.join(STATUSES)}; "
                                f"got {_show(status)}")
        message = doc.get("message", "")
        reason = doc.get("reason")
        res = CertifyResult(status=status, message=message if isinstance(message, str) else "",
                            shape=(self.m, self.n), domain=self._domain(),
                            stats=_safe_stats(doc.get("stats")),
                            reason=reason if isinstance(reason, str) else None)
        if status == NOT_INJECTIVE:
            wit = doc.get("witness")
            if not (isinstance(wit, list) and len(wit) == 2 and all(isinstance(x, list) for x in wit)):
                raise EvidenceError("'witness' must be a list of two lists of rationals")
            for j, x in enumerate(wit):
                if len(x) != self.n:
                    raise EvidenceError(f"'witness' point {j + 1} has {len(x)} entries, not n = {self.n}")
            res.witness = tuple(self._rationals(x, f"witness point {j + 1}") for j, x in enumerate(wit))
        elif status == INJECTIVE:
            res.proof = self._proof(0 if res.domain is None else len(res.domain.A))
        return res

    def _rationals(self, values, where):
        return [parse_rational(v, f"{where}, entry {i}", self.max_bits) for i, v in enumerate(values)]

    def _indices(self, values, bound, where):
        if not isinstance(values, list) or not all(_is_int(i) and 0 <= i < bound for i in values):
            raise EvidenceError(f"{where} must be a list of indices in [0, {bound})")
        return values

    def _domain(self):
        dom = self.doc.get("domain")
        if dom is None:
            return None
        if self.version < 2:
            raise EvidenceError("'domain' needs evidence version 2")
        if not isinstance(dom, dict) or dom.get("name") not in ("nonnegative", "polyhedron"):
            raise EvidenceError("'domain' must be null or an object with name 'nonnegative' or "
                                "'polyhedron'")
        if dom["name"] == "nonnegative" and "A" not in dom:
            return Domain.nonnegative(self.n)
        A, c = dom.get("A"), dom.get("c")
        if not (isinstance(A, list) and A and all(isinstance(r, list) and len(r) == self.n for r in A)):
            raise EvidenceError(f"'domain' 'A' must be a non-empty list of rows of length n = {self.n}")
        if not (isinstance(c, list) and len(c) == len(A)):
            raise EvidenceError("'domain' 'c' must be a list with one entry per row of 'A'")
        Aq = tuple(tuple(self._rationals(r, f"domain A row {k}")) for k, r in enumerate(A))
        cq = tuple(self._rationals(c, "domain c"))
        interior = dom.get("interior")
        if interior is not None:
            if not (isinstance(interior, list) and len(interior) == self.n):
                raise EvidenceError(f"'domain' 'interior' must be a point with n = {self.n} entries")
            interior = tuple(self._rationals(interior, "domain interior"))
        out = Domain(dom["name"], Aq, cq, interior)
        if dom["name"] == "nonnegative" and not out.same_set(Domain.nonnegative(self.n)):
            raise EvidenceError("'domain' named 'nonnegative' must have A = -I and c = 0")
        if dom["name"] == "nonnegative" and interior is None:
            out = Domain.nonnegative(self.n)
        return out

    def _proof(self, k_domain):
        doc = self.doc
        minor = self._indices(doc.get("minor"), self.m, "'minor'")
        deps = doc.get("dependencies")
        if not isinstance(deps, list):
            raise EvidenceError("'dependencies' must be a list")
        parsed = [self._dependency(d, k, k_domain) for k, d in enumerate(deps)]
        return Proof(list(minor), parsed, self._hints(doc.get("hints")))

    def _dependency(self, d, k, k_domain):
        where = f"dependency {k}"
        if not isinstance(d, dict):
            raise EvidenceError(f"{where} must be an object with 'rows' and 'multipliers'")
        rows = self._indices(d.get("rows"), self.m, f"{where} 'rows'")
        ys = d.get("multipliers")
        if not isinstance(ys, list) or len(ys) != len(rows):
            raise EvidenceError(f"{where}: 'multipliers' must be a list as long as 'rows'")
        drows, us = d.get("domain_rows", []), d.get("domain_multipliers", [])
        if (drows or us) and self.version < 2:
            raise EvidenceError(f"{where}: 'domain_rows' needs evidence version 2")
        drows = self._indices(drows, k_domain, f"{where} 'domain_rows'")
        if not isinstance(us, list) or len(us) != len(drows):
            raise EvidenceError(f"{where}: 'domain_multipliers' must be a list as long as "
                                "'domain_rows'")
        return Dependency(tuple(rows), tuple(self._rationals(ys, f"{where} multipliers")),
                          tuple(drows), tuple(self._rationals(us, f"{where} domain multipliers")))

    def _hints(self, h):
        if h is None:
            return None
        if not isinstance(h, dict):
            raise EvidenceError("'hints' must be an object mapping hex row masks to positions")
        width = (self.m + 3) // 4 + 2
        out = {}
        for key, val in h.items():
            if not isinstance(key, str) or len(key) > width:
                raise EvidenceError(f"hint key {_show(key)} is not a row mask of {self.m} rows")
            try:
                F = int(key, 16)
            except ValueError:
                raise EvidenceError(f"hint key {_show(key)} is not a hex row mask") from None
            if F >> self.m:
                raise EvidenceError(f"hint key {_show(key)} names rows beyond m = {self.m}")
            # positions out of range are left to the checker, which ignores such hints
            ok = (_is_int(val) and val >= 0) or (
                isinstance(val, list) and 0 < len(val) <= self.n
                and all(_is_int(v) and v >= 0 for v in val))
            if not ok:
                raise EvidenceError(f"hint {_show(key)} must be a dependency position or a list "
                                    f"of at most n = {self.n} of them")
            out[F] = val
        return out


def _show(v):
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _safe_stats(st):
    if not isinstance(st, dict):
        return {}
    return {k: v for k, v in st.items() if isinstance(k, str) and _jsonable(v)}


def _jsonable(v, depth=0):
    """JSON-safe: numbers (finite), strings, booleans, None, and shallow lists/dicts of those."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, (int, str, bool)) or v is None:
        return True
    if isinstance(v, (list, tuple)):
        return all(_jsonable(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _jsonable(x, depth + 1) for k, x in v.items())
    return False


def _short(q):
    """A rational in at most about 24 characters, whatever its size (no float overflow)."""
    q = to_fraction(q)
    s = format_rational(q)
    if len(s) <= 24:
        return s
    if q == 0:
        return "0"
    # log10 |q| from the integers themselves: float(q) would overflow beyond 1e308
    e = math.log10(abs(q.numerator)) - math.log10(q.denominator)
    exp = math.floor(e)
    mant = 10 ** (e - exp)
    if mant >= 9.9999995:
        mant, exp = 1.0, exp + 1
    return f"{'-' if q < 0 else ''}{mant:.6g}e{exp:+d}"

