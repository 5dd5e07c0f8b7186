"""Small helpers to move between Arrow tables and Python columns, and to build contract tables.

Semantics work on plain Python values (dict indexes, linear passes); tables are built back
with the exact contract schema. Row accumulators apply the contract's duplicate rules: the
first node per ``node_id`` (rows are added in ``(path, ordinal)`` order) and one edge per
``(kind, src, dst)`` by precedence (CONTRACT §8, §12).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import edge_id
from backends.contract.schemas import CPG_EDGES, CPG_NODES, DIAGNOSTICS

# Evidence source precedence for duplicate edges (CONTRACT §8).
SOURCE_ORDER: dict[str, int] = {
    s: i
    for i, s in enumerate(
        ("scip", "python_imports", "lexical", "ast", "cst", "tree_sitter", "repo_scan")
    )
}
SYNTAX_SOURCES: tuple[str, ...] = ("ast", "cst", "tree_sitter")
DEF_KINDS: dict[str, str] = {"class": "CLASS", "function": "FUNCTION", "lambda": "FUNCTION"}


def dumps(value: Any) -> str:
    """JSON per CONTRACT §1: sorted keys, no insignificant whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def rows(table: pa.Table, names: tuple[str, ...] | list[str]) -> Iterator[tuple[Any, ...]]:
    """Rows of the named columns as tuples (one ``to_pylist`` per column, then zip)."""
    return zip(*(table.column(n).to_pylist() for n in names), strict=True)


def where(table: pa.Table, column: str, values: list[str] | tuple[str, ...]) -> pa.Table:
    """The rows whose ``column`` is one of ``values``."""
    return table.filter(pc.is_in(table[column], pa.array(values, table.schema.field(column).type)))


def from_columns(schema: pa.Schema, columns: dict[str, list[Any]]) -> pa.Table:
    """A table with exactly ``schema`` from Python column lists."""
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


class NodeRows:
    """CPG_NODES rows; the first row per ``node_id`` wins."""

    def __init__(self) -> None:
        self._cols: dict[str, list[Any]] = {f.name: [] for f in CPG_NODES}
        self._seen: set[str] = set()

    def add(
        self,
        node_id: str,
        kind: str,
        path: str | None,
        span: tuple[Any, ...] | None,
        name: str | None,
        qualname: str | None,
        evidence_source: str,
    ) -> None:
        if node_id in self._seen:
            return
        self._seen.add(node_id)
        c = self._cols
        c["node_id"].append(node_id)
        c["kind"].append(kind)
        c["path"].append(path)
        bstart, bend, line, col, end_line, end_col = span or (None,) * 6
        c["bstart"].append(bstart)
        c["bend"].append(bend)
        c["line"].append(line)
        c["col"].append(col)
        c["end_line"].append(end_line)
        c["end_col"].append(end_col)
        c["name"].append(name)
        c["qualname"].append(qualname)
        c["evidence_source"].append(evidence_source)

    def table(self) -> pa.Table:
        return from_columns(CPG_NODES, self._cols)


class EdgeRows:
    """CPG_EDGES rows; one per ``(kind, src, dst)``: highest confidence, then source order,
    then the first added (callers add in a deterministic order)."""

    def __init__(self) -> None:
        self._best: dict[tuple[str, str, str], tuple[Any, ...]] = {}

    def add(
        self,
        kind: str,
        src: str,
        dst: str,
        evidence_source: str,
        confidence: float,
        path: str | None,
        bstart: int | None,
        bend: int | None,
    ) -> None:
        key = (kind, src, dst)
        row = (evidence_source, confidence, path, bstart, bend)
        old = self._best.get(key)
        if old is None or _rank(row) < _rank(old):
            self._best[key] = row

    def extend(self, table: pa.Table) -> None:
        """Add every row of a CPG_EDGES table."""
        names = (
            "kind",
            "src_id",
            "dst_id",
            "evidence_source",
            "confidence",
            "path",
            "bstart",
            "bend",
        )
        for r in rows(table, names):
            self.add(*r)

    def table(self) -> pa.Table:
        cols: dict[str, list[Any]] = {f.name: [] for f in CPG_EDGES}
        for (kind, src, dst), (source, conf, path, bstart, bend) in self._best.items():
            cols["edge_id"].append(edge_id(kind, src, dst))
            cols["kind"].append(kind)
            cols["src_id"].append(src)
            cols["dst_id"].append(dst)
            cols["evidence_source"].append(source)
            cols["confidence"].append(conf)
            cols["path"].append(path)
            cols["bstart"].append(bstart)
            cols["bend"].append(bend)
        return from_columns(CPG_EDGES, cols)


def _rank(row: tuple[Any, ...]) -> tuple[float, int]:
    return (-row[1], SOURCE_ORDER.get(row[0], len(SOURCE_ORDER)))


def diagnostics_table(rows_: list[dict[str, Any]]) -> pa.Table:
    """A DIAGNOSTICS table from row dicts (missing keys are null)."""
    cols = {f.name: [r.get(f.name) for r in rows_] for f in DIAGNOSTICS}
    return from_columns(DIAGNOSTICS, cols)


class InputVersions:
    """The pinned Delta version of every spec input (a Hamilton input of ``evidence_summary``)."""

    def __init__(self, versions: dict[str, int]) -> None:
        self._versions = dict(versions)

    def get(self, name: str) -> int | None:
        """The pinned version of input ``name`` (None when the spec does not bind it)."""
        return self._versions.get(name)
