"""Hamilton module: the output views (CONTRACT §6, §12, §13.5): nodes, edges, props, summary."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import span_node_id, stable_id
from backends.contract.schemas import CPG_NODES, CPG_PROPS, EVIDENCE_SUMMARY, EVIDENCE_TABLES
from backends.contract.spec import SpecPolicy
from backends.legacy.frames import DEF_KINDS, EdgeRows, InputVersions, dumps, from_columns, rows


def cpg_nodes(
    file_nodes: pa.Table,
    module_nodes: pa.Table,
    definition_nodes: pa.Table,
    parameter_nodes: pa.Table,
    callsite_nodes: pa.Table,
    import_nodes: pa.Table,
    name_ref_nodes: pa.Table,
    symbol_nodes: pa.Table,
    external_nodes: pa.Table,
    diagnostic_nodes: pa.Table,
) -> pa.Table:
    """The union of the ten node views (the first row per node_id)."""
    parts = [
        file_nodes,
        module_nodes,
        definition_nodes,
        parameter_nodes,
        callsite_nodes,
        import_nodes,
        name_ref_nodes,
        symbol_nodes,
        external_nodes,
        diagnostic_nodes,
    ]
    table = pa.concat_tables([p.cast(CPG_NODES) for p in parts])
    seen: set[str] = set()
    keep = []
    for node_id in table["node_id"].to_pylist():
        keep.append(node_id not in seen)
        seen.add(node_id)
    return table.filter(pa.array(keep, pa.bool_()))


def cpg_edges(
    structure_edges: pa.Table,
    import_edges: pa.Table,
    inherit_edges: pa.Table,
    override_edges: pa.Table,
    call_edges: pa.Table,
    reference_edges: pa.Table,
    policy: SpecPolicy,
) -> pa.Table:
    """The union of the six edge views at or above ``policy.min_confidence_bp``."""
    out = EdgeRows()
    for part in (
        structure_edges,
        import_edges,
        inherit_edges,
        override_edges,
        call_edges,
        reference_edges,
    ):
        out.extend(part)
    table = out.table()
    keep = [round(c * 10000) >= policy.min_confidence_bp for c in table["confidence"].to_pylist()]
    return table.filter(pa.array(keep, pa.bool_()))


class _Props:
    def __init__(self) -> None:
        self.cols: dict[str, list[str]] = {f.name: [] for f in CPG_PROPS}
        self.seen: set[tuple[str, str]] = set()

    def add(self, node_id: str, key: str, value: Any, value_type: str) -> None:
        if value is None or (node_id, key) in self.seen:
            return
        self.seen.add((node_id, key))
        if value_type == "bool":
            text = "true" if value else "false"
        elif value_type == "int":
            text = str(int(value))
        elif value_type == "json":
            text = dumps(value)
        else:
            text = str(value)
        for name, v in zip(CPG_PROPS.names, (node_id, key, text, value_type), strict=True):
            self.cols[name].append(v)


_DETAIL_PROPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "class": (
        ("bases", "bases", "json"),
        ("decorators", "decorators", "json"),
        ("docstring", "docstring", "bool"),
    ),
    "function": (
        ("is_async", "is_async", "bool"),
        ("decorators", "decorators", "json"),
        ("docstring", "docstring", "bool"),
    ),
    "parameter": (
        ("param_kind", "kind", "str"),
        ("param_index", "index", "int"),
        ("has_default", "has_default", "bool"),
    ),
}
_DETAIL_PROPS["lambda"] = _DETAIL_PROPS["function"]
_NODE_KIND = {**DEF_KINDS, "parameter": "PARAMETER", "call": "CALLSITE"}


def _generators(bytecode: pa.Table) -> dict[tuple[str, str], bool]:
    """(path, code_qualname) -> GENERATOR flag of the first code row by ordinal."""
    part = bytecode.filter(pc.equal(bytecode["kind"], "code"))
    part = part.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    out: dict[tuple[str, str], bool] = {}
    for path, qualname, detail in rows(part, ("path", "code_qualname", "detail")):
        if (path, qualname) not in out:
            flags = (json.loads(detail) if detail else {}).get("flags") or []
            out[(path, qualname)] = "GENERATOR" in flags
    return out


def cpg_props(
    cpg_nodes: pa.Table,
    repo_scan: pa.Table,
    syntax: pa.Table,
    bytecode: pa.Table,
    python_imports: pa.Table,
    python_external: pa.Table,
    scip: pa.Table,
) -> pa.Table:
    """Typed properties of the nodes in ``cpg_nodes``, from the row each node came from."""
    present = set(cpg_nodes["node_id"].to_pylist())
    out = _Props()
    for path, *values in sorted(
        rows(
            repo_scan,
            ("path", "encoding", "newline", "line_count", "is_package", "module", "is_python"),
        )
    ):
        node_id = stable_id("FILE", [path])
        if node_id in present:
            for (key, typ), value in zip(
                (
                    ("encoding", "str"),
                    ("newline", "str"),
                    ("line_count", "int"),
                    ("is_package", "bool"),
                    ("module", "str"),
                ),
                values,
                strict=False,
            ):
                out.add(node_id, key, value, typ)
    generators = _generators(bytecode)
    names = ("path", "kind", "qualname", "expr", "detail", "bstart", "bend")
    wanted = syntax.filter(pc.is_in(syntax["kind"], pa.array(list(_NODE_KIND))))
    for path, kind, qualname, expr, detail, bstart, bend in rows(wanted, names):
        node_id = span_node_id(_NODE_KIND[kind], path, bstart, bend)
        if node_id not in present:
            continue
        if kind == "call":
            out.add(node_id, "callee_expr", expr, "str")
            continue
        data = json.loads(detail) if detail else {}
        for key, field, typ in _DETAIL_PROPS[kind]:
            out.add(node_id, key, data.get(field), typ)
        if kind in ("function", "lambda"):
            out.add(node_id, "is_generator", generators.get((path, qualname or "")), "bool")
    imports = python_imports.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    for path, kind, level, absolute, bstart, bend in rows(
        imports, ("path", "kind", "level", "absolute_module", "bstart", "bend")
    ):
        if bstart is None:
            continue
        node_id = span_node_id("IMPORT", path, bstart, bend)
        if node_id in present:
            out.add(node_id, "import_kind", kind, "str")
            out.add(node_id, "import_level", level, "int")
            out.add(node_id, "module", absolute, "str")
    external = python_external.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    for module, classification, distribution in rows(
        external, ("module", "classification", "distribution")
    ):
        node_id = stable_id("EXTERNAL_MODULE", [module])
        if node_id in present and (node_id, "classification") not in out.seen:
            out.add(node_id, "classification", classification, "str")
            out.add(node_id, "distribution", distribution, "str")
    symbols = scip.filter(pc.and_(pc.equal(scip["kind"], "symbol"), pc.is_valid(scip["path"])))
    for symbol in symbols["symbol"].to_pylist():
        node_id = stable_id("SYMBOL", [symbol])
        if node_id in present:
            out.add(node_id, "scip_symbol", symbol, "str")
    return from_columns(CPG_PROPS, out.cols)


def evidence_summary(
    repo_scan: pa.Table,
    ast: pa.Table,
    cst: pa.Table,
    tree_sitter: pa.Table,
    bytecode: pa.Table,
    symtable: pa.Table,
    python_imports: pa.Table,
    python_external: pa.Table,
    scip: pa.Table,
    extract_diagnostics: pa.Table,
    input_versions: InputVersions,
) -> pa.Table:
    """One row per evidence table: files and rows it has, warnings Stage 0 raised for it."""
    tables = {
        "repo_scan": repo_scan,
        "ast": ast,
        "cst": cst,
        "tree_sitter": tree_sitter,
        "bytecode": bytecode,
        "symtable": symtable,
        "python_imports": python_imports,
        "python_external": python_external,
        "scip": scip,
        "extract_diagnostics": extract_diagnostics,
    }
    warned: dict[str, tuple[int, set[str]]] = {}
    for path, extractor in rows(extract_diagnostics, ("path", "extractor")):
        count, paths = warned.get(extractor, (0, set()))
        if path:
            paths.add(path)
        warned[extractor] = (count + 1, paths)
    cols: dict[str, list[Any]] = {f.name: [] for f in EVIDENCE_SUMMARY}
    for name in EVIDENCE_TABLES:
        table = tables[name]
        paths = {p for p in table["path"].to_pylist() if p}
        count, warned_paths = warned.get(name, (0, set()))
        values = (
            name,
            len(paths),
            table.num_rows,
            len(warned_paths),
            count,
            input_versions.get(name),
        )
        for field, value in zip(EVIDENCE_SUMMARY.names, values, strict=True):
            cols[field].append(value)
    return from_columns(EVIDENCE_SUMMARY, cols)
