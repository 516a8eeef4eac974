"""The package's import rules, read from the source (module-level and function-level imports).

- the trusted checker (``dsssolver.verify``) imports nothing from the search side;
- no import cycles between modules;
- ``certify`` and ``invert`` never import each other.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent / "dsssolver"

# Violations still being removed (issue 6/12 work in progress). The tests assert the found set
# equals this list exactly, so fixing one means deleting it here, and no new one can creep in.
KNOWN_VERIFY_IMPORTS: set = set()
KNOWN_CYCLES = set()


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path):
    """Every dsssolver module that ``path`` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("dsssolver"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("dsssolver"):
                continue
            # "from . import x" may name a submodule
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.add(sub if _exists(sub) else mod)
    return {m for m in out if _exists(m)}


def _exists(mod: str) -> bool:
    p = ROOT.parent.joinpath(*mod.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _graph():
    g = nx.DiGraph()
    for path in ROOT.rglob("*.py"):
        src = _module_name(path)
        g.add_node(src)
        for dst in _imports(path):
            if dst != src:
                g.add_edge(src, dst)
    return g


def _package_inits(g):
    """Edges into a package's __init__ only re-export; drop them when looking for cycles."""
    return [(a, b) for a, b in g.edges if (ROOT.parent / b.replace(".", "/") / "__init__.py").is_file()]


def test_reader_sees_the_package():
    g = _graph()
    assert "dsssolver.certify.search" in g and g.number_of_edges() > 20


def test_verify_imports_nothing_from_the_search_side():
    # the search side, and the packages that build on it (their __init__ imports the search)
    forbidden = ("dsssolver.certify", "dsssolver.exact", "dsssolver.invert", "dsssolver._highs",
                 "dsssolver.networks", "dsssolver.conv", "dsssolver.stability")
    g = _graph()
    found = {(a, b) for a, b in g.edges
             if a.startswith("dsssolver.verify") and b.startswith(forbidden)}
    assert found == KNOWN_VERIFY_IMPORTS


def test_no_import_cycles():
    g = _graph()
    g.remove_edges_from(_package_inits(g))
    cycles = {frozenset(c) for c in nx.simple_cycles(g)}
    assert cycles == KNOWN_CYCLES


def test_certify_and_invert_are_apart():
    g = _graph()
    bad = [(a, b) for a, b in g.edges
           if (a.startswith("dsssolver.certify") and b.startswith("dsssolver.invert"))
           or (a.startswith("dsssolver.invert") and b.startswith("dsssolver.certify"))]
    assert bad == []
