"""Arrow schemas and primary keys of every evidence table and every output table (CPG contract v1).

This module is the single definition of column names, types, nullability and order.
CONTRACT.md explains every column; both backends and the harness import from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

CONTRACT_VERSION = "cpg/1"

# Canonical position columns (CONTRACT.md §3): UTF-8 byte offsets into the canonical source
# text, plus 1-based lines and 0-based UTF-8 byte columns derived from them.
SPAN_FIELDS: tuple[pa.Field, ...] = (
    pa.field("bstart", pa.int64()),
    pa.field("bend", pa.int64()),
    pa.field("line", pa.int32()),
    pa.field("col", pa.int32()),
    pa.field("end_line", pa.int32()),
    pa.field("end_col", pa.int32()),
)
SPAN_COLUMNS: tuple[str, ...] = tuple(f.name for f in SPAN_FIELDS)


def _schema(*fields: pa.Field, span: bool = True) -> pa.Schema:
    all_fields = list(fields) + (list(SPAN_FIELDS) if span else [])
    return pa.schema(all_fields)


def _req(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=False)


def _opt(name: str, typ: pa.DataType) -> pa.Field:
    return pa.field(name, typ, nullable=True)


STR = pa.string()
I32 = pa.int32()
I64 = pa.int64()
BOOL = pa.bool_()
F64 = pa.float64()

# ---------------------------------------------------------------------------------------------
# Evidence tables (Stage 0)
# ---------------------------------------------------------------------------------------------

REPO_SCAN = _schema(
    _req("path", STR),
    _req("status", STR),
    _opt("file_sha256", STR),
    _opt("size_bytes", I64),
    _req("is_python", BOOL),
    _req("is_symlink", BOOL),
    _opt("module", STR),
    _req("is_package", BOOL),
    _opt("source_root", STR),
    _opt("encoding", STR),
    _req("has_bom", BOOL),
    _opt("newline", STR),
    _opt("line_count", I32),
    _opt("text_sha256", STR),
    span=False,
)

# Syntax facts from one parser: ast, cst (libcst) and tree_sitter share this layout so that
# their spans and facts can be reconciled column by column.
_SYNTAX_FIELDS: tuple[pa.Field, ...] = (
    _req("path", STR),
    _req("ordinal", I32),
    _opt("parent_ordinal", I32),
    _req("kind", STR),
    _opt("name", STR),
    _opt("qualname", STR),
    _req("scope_qualname", STR),
    _opt("expr", STR),
    _opt("ctx", STR),
    _opt("detail", STR),
)
AST = _schema(*_SYNTAX_FIELDS)
CST = _schema(*_SYNTAX_FIELDS)
TREE_SITTER = _schema(*_SYNTAX_FIELDS, _req("is_error", BOOL))

# The ``syntax`` view (CONTRACT §12): every row of each file's winning syntax source, with the
# name of that source. Intermediate, but part of the contract so stage-by-stage parity can
# compare it.
SYNTAX_VIEW = _schema(*_SYNTAX_FIELDS).append(_req("source", STR))

BYTECODE = _schema(
    _req("path", STR),
    _req("ordinal", I32),
    _req("kind", STR),
    _req("code_qualname", STR),
    _opt("opname", STR),
    _opt("name", STR),
    _opt("detail", STR),
)

SYMTABLE = _schema(
    _req("path", STR),
    _req("ordinal", I32),
    _req("kind", STR),
    _req("scope_qualname", STR),
    _req("scope_type", STR),
    _opt("name", STR),
    _opt("flags", pa.list_(STR)),
    _opt("detail", STR),
)

PYTHON_IMPORTS = _schema(
    _req("path", STR),
    _req("ordinal", I32),
    _req("kind", STR),
    _req("scope_qualname", STR),
    _opt("module", STR),
    _req("level", I32),
    _opt("name", STR),
    _opt("asname", STR),
    _opt("bound_name", STR),
    _opt("absolute_module", STR),
    _req("target_kind", STR),
    _opt("resolved_module", STR),
    _opt("resolved_path", STR),
    _opt("resolved_name", STR),
    _req("in_try", BOOL),
    _req("in_type_checking", BOOL),
    _req("in_function", BOOL),
    _req("conditional", BOOL),
    _req("sources", pa.list_(STR)),
    _req("sources_agree", BOOL),
)

PYTHON_EXTERNAL = _schema(
    _req("path", STR),
    _req("ordinal", I32),
    _req("module", STR),
    _req("top_level", STR),
    _req("classification", STR),
    _opt("distribution", STR),
    _opt("distribution_version", STR),
)

SCIP = _schema(
    _req("kind", STR),
    _opt("path", STR),
    _req("ordinal", I32),
    _req("symbol", STR),
    _opt("roles", I32),
    _opt("is_definition", BOOL),
    _opt("related_symbol", STR),
    _opt("relationship", STR),
    _opt("symbol_kind", STR),
    _opt("display_name", STR),
    _opt("enclosing_symbol", STR),
    _opt("documentation", STR),
)

EXTRACT_DIAGNOSTICS = _schema(
    _req("path", STR),
    _req("extractor", STR),
    _req("ordinal", I32),
    _req("code", STR),
    _req("severity", STR),
    _req("message", STR),
    _opt("detail", STR),
)

# ---------------------------------------------------------------------------------------------
# Output tables (CPG)
# ---------------------------------------------------------------------------------------------

CPG_NODES = pa.schema(
    [
        _req("node_id", STR),
        _req("kind", STR),
        _opt("path", STR),
        *SPAN_FIELDS,
        _opt("name", STR),
        _opt("qualname", STR),
        _req("evidence_source", STR),
    ]
)

CPG_EDGES = pa.schema(
    [
        _req("edge_id", STR),
        _req("kind", STR),
        _req("src_id", STR),
        _req("dst_id", STR),
        _req("evidence_source", STR),
        _req("confidence", F64),
        _opt("path", STR),
        _opt("bstart", I64),
        _opt("bend", I64),
    ]
)

CPG_PROPS = pa.schema(
    [
        _req("node_id", STR),
        _req("key", STR),
        _req("value", STR),
        _req("value_type", STR),
    ]
)

DIAGNOSTICS = pa.schema(
    [
        _req("diagnostic_id", STR),
        _req("code", STR),
        _req("severity", STR),
        _req("stage", STR),
        _req("source", STR),
        _opt("path", STR),
        _opt("bstart", I64),
        _opt("bend", I64),
        _req("message", STR),
        _opt("context", STR),
    ]
)

EVIDENCE_SUMMARY = pa.schema(
    [
        _req("source", STR),
        _req("files", I64),
        _req("rows", I64),
        _req("files_with_warnings", I64),
        _req("warnings", I64),
        _opt("delta_version", I64),
    ]
)


@dataclass(frozen=True)
class TableContract:
    """One table of the contract: its name, schema and primary key."""

    name: str
    schema: pa.Schema
    primary_key: tuple[str, ...]
    layer: str  # "evidence" or "output"


EVIDENCE_TABLES: dict[str, TableContract] = {
    t.name: t
    for t in (
        TableContract("repo_scan", REPO_SCAN, ("path",), "evidence"),
        TableContract("ast", AST, ("path", "ordinal"), "evidence"),
        TableContract("cst", CST, ("path", "ordinal"), "evidence"),
        TableContract("tree_sitter", TREE_SITTER, ("path", "ordinal"), "evidence"),
        TableContract("bytecode", BYTECODE, ("path", "ordinal"), "evidence"),
        TableContract("symtable", SYMTABLE, ("path", "ordinal"), "evidence"),
        TableContract("python_imports", PYTHON_IMPORTS, ("path", "ordinal"), "evidence"),
        TableContract("python_external", PYTHON_EXTERNAL, ("path", "ordinal"), "evidence"),
        TableContract("scip", SCIP, ("kind", "path", "ordinal"), "evidence"),
        TableContract(
            "extract_diagnostics",
            EXTRACT_DIAGNOSTICS,
            ("path", "extractor", "ordinal"),
            "evidence",
        ),
    )
}

# The nine evidence sources, in staged order (DESIGN §4).
EXTRACTORS: tuple[str, ...] = (
    "repo_scan",
    "ast",
    "cst",
    "tree_sitter",
    "bytecode",
    "symtable",
    "scip",
    "python_imports",
    "python_external",
)

OUTPUT_TABLES: dict[str, TableContract] = {
    t.name: t
    for t in (
        TableContract("cpg_nodes", CPG_NODES, ("node_id",), "output"),
        TableContract("cpg_edges", CPG_EDGES, ("edge_id",), "output"),
        TableContract("cpg_props", CPG_PROPS, ("node_id", "key"), "output"),
        TableContract("diagnostics", DIAGNOSTICS, ("diagnostic_id",), "output"),
        TableContract("evidence_summary", EVIDENCE_SUMMARY, ("source",), "output"),
    )
}


def table(name: str) -> TableContract:
    """The contract of one evidence or output table; KeyError names the unknown table."""
    if name in EVIDENCE_TABLES:
        return EVIDENCE_TABLES[name]
    if name in OUTPUT_TABLES:
        return OUTPUT_TABLES[name]
    raise KeyError(f"no table {name!r} in contract {CONTRACT_VERSION}")
