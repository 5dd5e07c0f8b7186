"""Hamilton module: import and type-hierarchy edges (CONTRACT §8.1, §8.5)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import span_node_id, stable_id
from backends.legacy.frames import EdgeRows, rows
from backends.legacy.resolve import Resolver, import_targets, ordered_bases
from backends.legacy.syntax_index import Def, SyntaxIndex

_MODULE_TARGETS = frozenset({"module", "package", "attribute"})


def import_edges(python_imports: pa.Table, syntax: pa.Table, repo_scan: pa.Table) -> pa.Table:
    """IMPORTS (module -> module or external module) and RESOLVES_TO (import -> target)."""
    idx = SyntaxIndex.of(syntax, repo_scan)
    part = python_imports.filter(pc.is_valid(python_imports["bstart"]))
    part = part.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    out = EdgeRows()
    pairs: dict[tuple[str, str], tuple[str, bool]] = {}
    names = ("path", "target_kind", "absolute_module", "resolved_path", "resolved_name")
    for path, kind, absolute, resolved_path, resolved_name, conditional, bstart, bend in rows(
        part, (*names, "conditional", "bstart", "bend")
    ):
        module = idx.modules.get(resolved_path) if resolved_path is not None else None
        dst: str | None = None
        resolved: str | None = None
        if kind in _MODULE_TARGETS and module is not None:
            dst = resolved = module.node_id
            if kind == "attribute" and resolved_name is not None:
                found = idx.defined_last(module.path, "", resolved_name)
                resolved = found.node_id if found is not None else module.node_id
        elif kind == "external" and absolute is not None:
            dst = resolved = stable_id("EXTERNAL_MODULE", [absolute])
        importer = idx.modules.get(path)
        if importer is not None and dst is not None:
            old = pairs.get((importer.node_id, dst))
            all_conditional = bool(conditional) and (old is None or old[1])
            pairs[(importer.node_id, dst)] = (path, all_conditional)
        if resolved is not None:
            src = span_node_id("IMPORT", path, bstart, bend)
            conf = 0.9 if conditional else 1.0
            out.add("RESOLVES_TO", src, resolved, "python_imports", conf, path, bstart, bend)
    for (src, dst), (path, all_conditional) in pairs.items():
        out.add(
            "IMPORTS", src, dst, "python_imports", 0.9 if all_conditional else 1.0, path, None, None
        )
    return out.table()


def inherit_edges(
    syntax: pa.Table, repo_scan: pa.Table, python_imports: pa.Table, import_edges: pa.Table
) -> pa.Table:
    """INHERITS_FROM: each base expr of a class resolved (§8.2) from the class's scope.

    The MRO is what this view computes, so a base reached through a class attribute
    (``Outer.Base``) is looked up in that class only.
    """
    idx = SyntaxIndex.of(syntax, repo_scan)
    res = Resolver(idx, python_imports, import_targets(import_edges), {})
    out = EdgeRows()
    for d in idx.defs:
        if d.kind != "CLASS" or not d.detail:
            continue
        for expr in json.loads(d.detail).get("bases") or []:
            if not expr:
                continue
            found = res.resolve_expr(d.path, d.scope, expr, d.bstart)
            if found is not None and isinstance(found[0], Def) and found[0].kind == "CLASS":
                out.add(
                    "INHERITS_FROM",
                    d.node_id,
                    found[0].node_id,
                    "lexical",
                    0.8,
                    d.path,
                    d.bstart,
                    d.bend,
                )
    return out.table()


def override_edges(syntax: pa.Table, repo_scan: pa.Table, inherit_edges: pa.Table) -> pa.Table:
    """OVERRIDES: a method -> the first same-named method of a class later in the MRO."""
    idx = SyntaxIndex.of(syntax, repo_scan)
    res = Resolver(idx, None, {}, ordered_bases(idx, inherit_edges))
    out = EdgeRows()
    for d in idx.defs:
        if d.kind != "FUNCTION" or d.name is None or not idx.is_class(d.path, d.scope):
            continue
        owners = [c for c in idx.defs_in(d.path, d.scope) if c.kind == "CLASS"]
        containing = [c for c in owners if c.bstart <= d.bstart and d.bend <= c.bend]
        if not containing:
            continue
        owner = max(containing, key=lambda c: c.bstart)
        for k in res.mro(owner)[1:]:
            same = [f for f in idx.defined(k.path, k.qualname, d.name) if f.kind == "FUNCTION"]
            if same:
                out.add(
                    "OVERRIDES",
                    d.node_id,
                    same[-1].node_id,
                    "lexical",
                    0.8,
                    d.path,
                    d.bstart,
                    d.bend,
                )
                break
    return out.table()
