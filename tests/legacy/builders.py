"""Tiny hand-built evidence for the legacy backend's view tests.

Spans are chosen by hand: resolution only cares about order and containment, so each test
states the few offsets it needs. Columns a test does not name get neutral defaults.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from backends.contract.ids import span_node_id, stable_id
from backends.contract.schemas import (
    AST,
    CPG_EDGES,
    EXTRACT_DIAGNOSTICS,
    PYTHON_EXTERNAL,
    PYTHON_IMPORTS,
    REPO_SCAN,
    SCIP,
    SYNTAX_VIEW,
    TREE_SITTER,
)


def _default(field: pa.Field) -> Any:
    if field.nullable:
        return None
    if pa.types.is_string(field.type):
        return ""
    if pa.types.is_boolean(field.type):
        return False
    if pa.types.is_list(field.type):
        return []
    return 0


def make(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    """A table of ``schema``; missing keys take a default (null, "", 0, False, [])."""
    unknown = {k for r in rows for k in r} - set(schema.names)
    assert not unknown, unknown
    cols = {f.name: [r.get(f.name, _default(f)) for r in rows] for f in schema}
    return pa.Table.from_pydict(cols, schema=schema)


def scan(*paths: str) -> pa.Table:
    """repo_scan rows of ok Python files; module = dotted path (``__init__`` = package)."""
    rows = []
    for path in paths:
        parts = path.removesuffix(".py").split("/")
        package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if package else parts)
        rows.append(
            {
                "path": path,
                "status": "ok",
                "is_python": True,
                "module": module,
                "is_package": package,
                "encoding": "utf-8",
                "newline": "\n",
                "line_count": 10,
            }
        )
    return make(REPO_SCAN, rows)


def row(
    path: str,
    ordinal: int,
    kind: str,
    b: int,
    e: int,
    *,
    name: str | None = None,
    qualname: str | None = None,
    scope: str = "",
    expr: str | None = None,
    detail: dict[str, Any] | None = None,
    parent: int | None = None,
    ctx: str | None = None,
) -> dict[str, Any]:
    """One syntax row (ast/cst/tree_sitter layout)."""
    if kind == "module":
        qualname = ""
    return {
        "path": path,
        "ordinal": ordinal,
        "parent_ordinal": parent,
        "kind": kind,
        "name": name,
        "qualname": qualname,
        "scope_qualname": scope,
        "expr": expr,
        "ctx": ctx,
        "detail": None if detail is None else json.dumps(detail, sort_keys=True),
        "bstart": b,
        "bend": e,
        "line": 1,
        "col": 0,
        "end_line": 1,
        "end_col": 0,
    }


def syntax(rows: list[dict[str, Any]], source: str = "ast") -> pa.Table:
    """The ``syntax`` view of rows that all won with ``source``."""
    return make(SYNTAX_VIEW, [{**r, "source": source} for r in rows])


def ast_table(rows: list[dict[str, Any]]) -> pa.Table:
    return make(AST, rows)


def ts_table(rows: list[dict[str, Any]]) -> pa.Table:
    return make(TREE_SITTER, rows)


def imports(rows: list[dict[str, Any]]) -> pa.Table:
    """python_imports rows (callers give path, span, kind, bound_name, target columns)."""
    full = []
    for i, r in enumerate(rows):
        full.append({"ordinal": i, "sources": ["ast"], "sources_agree": True, "line": 1, **r})
    return make(PYTHON_IMPORTS, full)


def external(rows: list[dict[str, Any]]) -> pa.Table:
    return make(PYTHON_EXTERNAL, rows)


def scip(rows: list[dict[str, Any]]) -> pa.Table:
    return make(SCIP, rows)


def diagnostics(rows: list[dict[str, Any]]) -> pa.Table:
    return make(EXTRACT_DIAGNOSTICS, rows)


def no_edges() -> pa.Table:
    return CPG_EDGES.empty_table()


def node(kind: str, path: str, b: int, e: int) -> str:
    return span_node_id(kind, path, b, e)


def file_id(path: str) -> str:
    return stable_id("FILE", [path])


def edges(table: pa.Table, kind: str | None = None) -> set[tuple[str, str, str, float]]:
    """(kind, src, dst, confidence) of every edge (of ``kind``)."""
    return {
        (k, s, d, c)
        for k, s, d, c in zip(
            table["kind"].to_pylist(),
            table["src_id"].to_pylist(),
            table["dst_id"].to_pylist(),
            table["confidence"].to_pylist(),
            strict=True,
        )
        if kind is None or k == kind
    }
