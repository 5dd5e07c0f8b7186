"""Hamilton module: call, reference and structure edges (CONTRACT §8.3, §8.4, §8.6, §13.2)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import span_node_id, stable_id
from backends.contract.spec import SpecPolicy
from backends.legacy.frames import EdgeRows, rows, where
from backends.legacy.resolve import Resolver, import_targets, ordered_bases
from backends.legacy.scip_index import ScipIndex
from backends.legacy.syntax_index import Def, SyntaxIndex


def _resolver(
    syntax: pa.Table,
    repo_scan: pa.Table,
    python_imports: pa.Table,
    import_edges: pa.Table,
    inherit_edges: pa.Table,
) -> Resolver:
    idx = SyntaxIndex.of(syntax, repo_scan)
    return Resolver(
        idx, python_imports, import_targets(import_edges), ordered_bases(idx, inherit_edges)
    )


def call_edges(
    syntax: pa.Table,
    repo_scan: pa.Table,
    python_imports: pa.Table,
    import_edges: pa.Table,
    inherit_edges: pa.Table,
    scip: pa.Table,
    policy: SpecPolicy,
) -> pa.Table:
    """CALLS: CALLSITE -> CLASS/FUNCTION, by SCIP first (1.0) then lexically (0.8 / 0.7)."""
    res = _resolver(syntax, repo_scan, python_imports, import_edges, inherit_edges)
    sc = ScipIndex(scip, res.idx) if policy.use_scip else None
    out = EdgeRows()
    part = where(syntax, "kind", ["call"])
    for path, scope, expr, bstart, bend in rows(
        part, ("path", "scope_qualname", "expr", "bstart", "bend")
    ):
        if expr is None:
            continue
        src = span_node_id("CALLSITE", path, bstart, bend)
        if sc is not None:
            target = sc.target(path, bstart, bstart + len(expr.encode()), modules=False)
            if isinstance(target, Def):
                out.add("CALLS", src, target.node_id, "scip", 1.0, path, bstart, bend)
                continue
        found = res.resolve_expr(path, scope, expr, bstart)
        if found is not None and isinstance(found[0], Def):
            conf = 0.7 if found[1] else 0.8
            out.add("CALLS", src, found[0].node_id, "lexical", conf, path, bstart, bend)
    return out.table()


def _callee_spans(ast: pa.Table, files: set[str]) -> set[tuple[str, int, int]]:
    """(path, bstart, callee_end) of every ast call with a callee expr."""
    part = ast.filter(pc.and_(pc.equal(ast["kind"], "call"), pc.is_valid(ast["expr"])))
    return {
        (path, bstart, bstart + len(expr.encode()))
        for path, bstart, expr in rows(part, ("path", "bstart", "expr"))
        if path in files and bstart is not None
    }


def _name_loads(ast: pa.Table) -> pa.Table:
    mask = pc.and_(pc.equal(ast["kind"], "name"), pc.equal(ast["ctx"], "load"))
    part = ast.filter(pc.and_(mask, pc.is_valid(ast["bstart"])))
    return part.sort_by([("path", "ascending"), ("ordinal", "ascending")])


def reference_edges(
    syntax: pa.Table,
    repo_scan: pa.Table,
    python_imports: pa.Table,
    import_edges: pa.Table,
    inherit_edges: pa.Table,
    ast: pa.Table,
    scip: pa.Table,
    policy: SpecPolicy,
) -> pa.Table:
    """REFERENCES: NAME_REF (an ast load that is not a callee) -> CLASS/FUNCTION/MODULE."""
    res = _resolver(syntax, repo_scan, python_imports, import_edges, inherit_edges)
    sc = ScipIndex(scip, res.idx) if policy.use_scip else None
    files = {p for p, s in res.idx.winner.items() if s == "ast"}
    callees = _callee_spans(ast, files)
    out = EdgeRows()
    names = ("path", "scope_qualname", "name", "bstart", "bend")
    for path, scope, name, bstart, bend in rows(_name_loads(ast), names):
        if path not in files or name is None or (path, bstart, bend) in callees:
            continue
        src = span_node_id("NAME_REF", path, bstart, bend)
        target = sc.target(path, bstart, bend, modules=True) if sc is not None else None
        if target is not None:
            out.add("REFERENCES", src, target.node_id, "scip", 1.0, path, bstart, bend)
            continue
        found = res.resolve_name(path, scope, name, bstart)
        if found is not None:
            out.add("REFERENCES", src, found.node_id, "lexical", 0.8, path, bstart, bend)
    return out.table()


def structure_edges(
    syntax: pa.Table,
    repo_scan: pa.Table,
    python_imports: pa.Table,
    ast: pa.Table,
    reference_edges: pa.Table,
) -> pa.Table:
    """CONTAINS (file -> module; parent -> callsite, import, name ref), DEFINES, HAS_PARAMETER."""
    idx = SyntaxIndex.of(syntax, repo_scan)
    out = EdgeRows()
    for path in sorted(idx.modules):
        mod = idx.modules[path]
        out.add(
            "CONTAINS", stable_id("FILE", [path]), mod.node_id, mod.source, 1.0, path, None, None
        )
    for d in idx.defs:
        parent = idx.enclosing(d.path, d.scope, d.bstart, d.bend)
        if parent is not None:
            out.add("DEFINES", parent, d.node_id, d.source, 1.0, d.path, d.bstart, d.bend)

    def contain(kind: str, table: pa.Table) -> None:
        for path, scope, bstart, bend in rows(table, ("path", "scope_qualname", "bstart", "bend")):
            source = idx.winner.get(path)
            parent = idx.enclosing(path, scope, bstart, bend)
            if parent is None or source is None:
                continue
            child = span_node_id(kind, path, bstart, bend)
            out.add("CONTAINS", parent, child, source, 1.0, path, bstart, bend)

    contain("CALLSITE", where(syntax, "kind", ["call"]))
    imports = python_imports.filter(pc.is_valid(python_imports["bstart"]))
    contain("IMPORT", imports.sort_by([("path", "ascending"), ("ordinal", "ascending")]))
    refs = set(reference_edges["src_id"].to_pylist())
    loads = _name_loads(ast)
    ids = [span_node_id("NAME_REF", p, b, e) for p, b, e in rows(loads, ("path", "bstart", "bend"))]
    contain("NAME_REF", loads.filter(pa.array([i in refs for i in ids], pa.bool_())))
    owners = {(d.path, d.ordinal): d for d in idx.defs if d.kind == "FUNCTION"}
    params = where(syntax, "kind", ["parameter"])
    for path, parent_ordinal, bstart, bend, source in rows(
        params, ("path", "parent_ordinal", "bstart", "bend", "source")
    ):
        owner = owners.get((path, parent_ordinal))
        if owner is not None:
            child = span_node_id("PARAMETER", path, bstart, bend)
            out.add("HAS_PARAMETER", owner.node_id, child, source, 1.0, path, bstart, bend)
    return out.table()
