"""Check the expected facts of a golden repository against a backend's Delta tables.

Shared by both backends' tests: it reads only the contract's Delta tables (outputs and
evidence), never a backend's code. A CALLS fact's ``src`` is the MODULE/CLASS/FUNCTION that
CONTAINS the CALLSITE; every other edge fact is one edge between the two named nodes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from harness.golden.expected import (
    DiagnosticFact,
    EdgeFact,
    Expected,
    ExternalFact,
    Fact,
    ImportFact,
    NodeFact,
)

_SCOPES = frozenset({"MODULE", "CLASS", "FUNCTION"})


def _read(uri: Path, columns: list[str]) -> list[tuple[object, ...]]:
    if not uri.exists():
        return []
    table = pa.table(DeltaTable(str(uri)).to_pyarrow_table())
    return list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


class _Graph:
    """The nodes and edges of one CPG, indexed by qualname and by endpoint."""

    def __init__(self, outputs_dir: Path) -> None:
        self.ids_by_qualname: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.ids_by_name: dict[str, set[str]] = defaultdict(set)
        self.kind_of: dict[str, str] = {}
        for node_id, kind, qualname in _read(
            outputs_dir / "cpg_nodes", ["node_id", "kind", "qualname"]
        ):
            self.kind_of[str(node_id)] = str(kind)
            if qualname is not None:
                self.ids_by_qualname[(str(kind), str(qualname))].add(str(node_id))
                self.ids_by_name[str(qualname)].add(str(node_id))
        self.edges: set[tuple[str, str, str]] = set()
        self.into: dict[tuple[str, str], set[str]] = defaultdict(set)
        for kind, src, dst in _read(outputs_dir / "cpg_edges", ["kind", "src_id", "dst_id"]):
            self.edges.add((str(kind), str(src), str(dst)))
            self.into[(str(kind), str(dst))].add(str(src))

    def has_edge(self, fact: EdgeFact) -> bool:
        srcs = self.ids_by_name.get(fact.src, set())
        dsts = self.ids_by_name.get(fact.dst, set())
        if fact.kind != "CALLS":
            return any((fact.kind, s, d) in self.edges for s in srcs for d in dsts)
        scopes = {s for s in srcs if self.kind_of.get(s) in _SCOPES}
        for dst in dsts:
            for callsite in self.into.get(("CALLS", dst), set()):
                if self.into.get(("CONTAINS", callsite), set()) & scopes:
                    return True
        return False


def _describe(fact: Fact) -> str:
    if isinstance(fact, NodeFact):
        return f"node {fact.kind} {fact.qualname}"
    if isinstance(fact, EdgeFact):
        return f"edge {fact.kind} {fact.src} -> {fact.dst}"
    if isinstance(fact, ImportFact):
        return (
            f"import in {fact.path} of {fact.module!r} name={fact.name!r} -> "
            f"{fact.target_kind} {fact.resolved_path!r}"
        )
    if isinstance(fact, ExternalFact):
        return f"external {fact.module} {fact.classification}"
    return f"diagnostic {fact.code} at {fact.path!r}"


def check_facts(expected: Expected, outputs_dir: Path, evidence_dir: Path) -> list[str]:
    """The facts of ``expected`` that the tables do not show, one human-readable line each."""
    graph = _Graph(outputs_dir)
    imports = {
        (p, "." * int(str(level)) + (str(m) if m is not None else ""), n, tk, rp)
        for p, m, level, n, tk, rp in _read(
            evidence_dir / "python_imports",
            ["path", "module", "level", "name", "target_kind", "resolved_path"],
        )
    }
    externals = set(_read(evidence_dir / "python_external", ["module", "classification"]))
    diagnostics = set(_read(outputs_dir / "diagnostics", ["path", "code"]))
    diagnostics |= set(_read(evidence_dir / "extract_diagnostics", ["path", "code"]))
    missing: list[str] = []
    for fact in expected.facts:
        if isinstance(fact, NodeFact):
            ok = bool(graph.ids_by_qualname.get((fact.kind, fact.qualname)))
        elif isinstance(fact, EdgeFact):
            ok = graph.has_edge(fact)
        elif isinstance(fact, ImportFact):
            key = (fact.path, fact.module, fact.name, fact.target_kind, fact.resolved_path)
            ok = key in imports
        elif isinstance(fact, ExternalFact):
            ok = (fact.module, fact.classification) in externals
        else:
            assert isinstance(fact, DiagnosticFact)
            ok = (fact.path, fact.code) in diagnostics
        if not ok:
            missing.append(f"missing {_describe(fact)}")
    return missing
