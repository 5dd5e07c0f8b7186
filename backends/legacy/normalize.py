"""Hamilton module: the normalize views that turn evidence into nodes (CONTRACT §7, §12, §13.1).

Each function is one catalogue view: its name is the view's, its parameters are the view's
declared inputs, and it returns a table with exactly the view's contract schema.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import span_node_id, stable_id
from backends.contract.schemas import SPAN_COLUMNS, SYNTAX_VIEW
from backends.legacy.frames import DEF_KINDS, SYNTAX_SOURCES, NodeRows, rows, where
from backends.legacy.syntax_index import module_map, prefix_of
from backends.legacy.winner import winners

_SPAN = tuple(SPAN_COLUMNS)


def syntax(
    repo_scan: pa.Table,
    ast: pa.Table,
    cst: pa.Table,
    tree_sitter: pa.Table,
    extract_diagnostics: pa.Table,
) -> pa.Table:
    """Every row of each ``ok`` Python file's winning syntax source, tagged with its name."""
    won = winners(repo_scan, extract_diagnostics)
    parts = []
    for source, table in zip(SYNTAX_SOURCES, (ast, cst, tree_sitter), strict=True):
        paths = [p for p, s in won.items() if s == source]
        part = where(table, "path", paths)
        part = part.filter(pc.is_valid(part["bstart"]))
        part = part.select([n for n in SYNTAX_VIEW.names if n != "source"])
        part = part.append_column("source", pa.array([source] * part.num_rows, pa.string()))
        parts.append(part.cast(SYNTAX_VIEW))
    out = pa.concat_tables(parts)
    return out.sort_by([("path", "ascending"), ("ordinal", "ascending")]) if out.num_rows else out


def file_nodes(repo_scan: pa.Table) -> pa.Table:
    """One FILE node per Python file of ``repo_scan``."""
    out = NodeRows()
    for path, is_python in sorted(rows(repo_scan, ("path", "is_python"))):
        if is_python:
            out.add(
                stable_id("FILE", [path]),
                "FILE",
                path,
                None,
                path.rsplit("/", 1)[-1],
                None,
                "repo_scan",
            )
    return out.table()


def module_nodes(syntax: pa.Table, repo_scan: pa.Table) -> pa.Table:
    """One MODULE node per file: the winner's ``module`` row."""
    module_of, _ = module_map(repo_scan)
    out = NodeRows()
    part = where(syntax, "kind", ["module"])
    for path, source, *span in rows(part, ("path", "source", *_SPAN)):
        module = module_of.get(path)
        if module is not None:
            name = module.rsplit(".", 1)[-1]
            qualname = module
        else:
            name = _stem(path.rsplit("/", 1)[-1])
            qualname = f"{path}:"
        out.add(
            span_node_id("MODULE", path, span[0], span[1]),
            "MODULE",
            path,
            tuple(span),
            name,
            qualname,
            source,
        )
    return out.table()


def _stem(file_name: str) -> str:
    for suffix in (".pyi", ".py"):
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)]
    return file_name


def definition_nodes(syntax: pa.Table, repo_scan: pa.Table) -> pa.Table:
    """CLASS and FUNCTION nodes from the winner's class, function and lambda rows."""
    module_of, _ = module_map(repo_scan)
    out = NodeRows()
    part = where(syntax, "kind", list(DEF_KINDS))
    for path, kind, name, qualname, source, *span in rows(
        part, ("path", "kind", "name", "qualname", "source", *_SPAN)
    ):
        node_kind = DEF_KINDS[kind]
        full = prefix_of(path, module_of.get(path)) + (qualname or "")
        out.add(
            span_node_id(node_kind, path, span[0], span[1]),
            node_kind,
            path,
            tuple(span),
            name,
            full,
            source,
        )
    return out.table()


def parameter_nodes(syntax: pa.Table, repo_scan: pa.Table) -> pa.Table:
    """PARAMETER nodes; qualname = the owner function's full qualname + ``.`` + name."""
    module_of, _ = module_map(repo_scan)
    owners: dict[tuple[str, int], str] = {}
    for path, ordinal, qualname in rows(
        where(syntax, "kind", ["function", "lambda"]), ("path", "ordinal", "qualname")
    ):
        owners[(path, ordinal)] = qualname or ""
    out = NodeRows()
    part = where(syntax, "kind", ["parameter"])
    for path, parent, name, scope, source, *span in rows(
        part, ("path", "parent_ordinal", "name", "scope_qualname", "source", *_SPAN)
    ):
        # The owner is found by parent_ordinal; its qualname equals the parameter's scope, which
        # is the fallback when the owner row has no span (and so no node).
        owner = owners.get((path, parent), scope) if parent is not None else scope
        qualname = f"{prefix_of(path, module_of.get(path))}{owner}.{name}"
        out.add(
            span_node_id("PARAMETER", path, span[0], span[1]),
            "PARAMETER",
            path,
            tuple(span),
            name,
            qualname,
            source,
        )
    return out.table()


def callsite_nodes(syntax: pa.Table) -> pa.Table:
    """CALLSITE nodes from the winner's call rows."""
    out = NodeRows()
    part = where(syntax, "kind", ["call"])
    for path, name, source, *span in rows(part, ("path", "name", "source", *_SPAN)):
        out.add(
            span_node_id("CALLSITE", path, span[0], span[1]),
            "CALLSITE",
            path,
            tuple(span),
            name,
            None,
            source,
        )
    return out.table()


def import_nodes(python_imports: pa.Table) -> pa.Table:
    """IMPORT nodes: named by bound name, ``*`` for a star import, the module if dynamic."""
    out = NodeRows()
    part = python_imports.filter(pc.is_valid(python_imports["bstart"]))
    part = part.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    for path, kind, module, bound, *span in rows(
        part, ("path", "kind", "module", "bound_name", *_SPAN)
    ):
        name = "*" if kind == "star" else module if kind == "dynamic" else bound
        out.add(
            span_node_id("IMPORT", path, span[0], span[1]),
            "IMPORT",
            path,
            tuple(span),
            name,
            None,
            "python_imports",
        )
    return out.table()


def symbol_nodes(scip: pa.Table) -> pa.Table:
    """SYMBOL nodes: distinct symbols of scip ``symbol`` rows that belong to a document."""
    part = scip.filter(pc.and_(pc.equal(scip["kind"], "symbol"), pc.is_valid(scip["path"])))
    part = part.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    out = NodeRows()
    for symbol, display in rows(part, ("symbol", "display_name")):
        out.add(stable_id("SYMBOL", [symbol]), "SYMBOL", None, None, display, None, "scip")
    return out.table()


def external_nodes(python_external: pa.Table) -> pa.Table:
    """EXTERNAL_MODULE nodes: distinct modules of ``python_external``."""
    out = NodeRows()
    for module in sorted(set(python_external["module"].to_pylist())):
        out.add(
            stable_id("EXTERNAL_MODULE", [module]),
            "EXTERNAL_MODULE",
            None,
            None,
            module,
            module,
            "python_external",
        )
    return out.table()


def name_ref_nodes(ast: pa.Table, reference_edges: pa.Table) -> pa.Table:
    """NAME_REF nodes: the ast name rows that are the source of a REFERENCES edge."""
    wanted = set(reference_edges["src_id"].to_pylist())
    out = NodeRows()
    part = ast.filter(pc.and_(pc.equal(ast["kind"], "name"), pc.is_valid(ast["bstart"])))
    part = part.sort_by([("path", "ascending"), ("ordinal", "ascending")])
    for path, name, *span in rows(part, ("path", "name", *_SPAN)):
        node_id = span_node_id("NAME_REF", path, span[0], span[1])
        if node_id in wanted:
            out.add(node_id, "NAME_REF", path, tuple(span), name, None, "ast")
    return out.table()


def diagnostic_nodes(diagnostics: pa.Table) -> pa.Table:
    """One DIAGNOSTIC node per ``diagnostics`` row (node_id = diagnostic_id)."""
    out = NodeRows()
    for diag_id, code, source, path, bstart, bend in rows(
        diagnostics, ("diagnostic_id", "code", "source", "path", "bstart", "bend")
    ):
        out.add(
            diag_id, "DIAGNOSTIC", path, (bstart, bend, None, None, None, None), code, None, source
        )
    return out.table()
