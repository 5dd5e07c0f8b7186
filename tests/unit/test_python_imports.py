"""python_imports: relative-import arithmetic, repo resolution and cross-parser reconciliation."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from backends.contract.schemas import AST
from backends.extract.imports import ModuleMap, absolute_module, reconcile, resolve

SCAN = [
    {"path": "pkg/__init__.py", "module": "pkg", "is_package": True, "is_python": True},
    {"path": "pkg/util.py", "module": "pkg.util", "is_package": False, "is_python": True},
    {"path": "pkg/sub/__init__.py", "module": "pkg.sub", "is_package": True, "is_python": True},
    {"path": "pkg/sub/mod.py", "module": "pkg.sub.mod", "is_package": False, "is_python": True},
    {"path": "pkg/sub/mod.pyi", "module": "pkg.sub.mod", "is_package": False, "is_python": True},
    {"path": "ns/part.py", "module": "ns.part", "is_package": False, "is_python": True},
    {"path": "top.py", "module": "top", "is_package": False, "is_python": True},
]
MODMAP = ModuleMap.from_scan(SCAN)


@pytest.mark.parametrize(
    ("importer", "is_package", "module", "level", "expected"),
    [
        ("pkg.sub.mod", False, "util", 2, "pkg.util"),
        ("pkg.sub.mod", False, None, 1, "pkg.sub"),
        ("pkg.sub", True, "mod", 1, "pkg.sub.mod"),
        ("pkg.sub", True, None, 2, "pkg"),
        ("top", False, None, 1, None),
        ("pkg.util", False, "x", 3, None),
        ("anything", False, "os.path", 0, "os.path"),
        (None, False, "x", 1, None),
    ],
)
def test_absolute_module(
    importer: str | None, is_package: bool, module: str | None, level: int, expected: str | None
) -> None:
    assert absolute_module(importer, is_package, module, level) == expected


@pytest.mark.parametrize(
    ("absolute", "name", "level", "kind", "path", "resolved_name"),
    [
        ("pkg.sub.mod", None, 0, "module", "pkg/sub/mod.py", None),
        ("pkg.sub", None, 0, "package", "pkg/sub/__init__.py", None),
        ("pkg.sub", "mod", 1, "module", "pkg/sub/mod.py", None),
        ("pkg.util", "helper", 1, "attribute", "pkg/util.py", "helper"),
        ("ns", "part", 0, "module", "ns/part.py", None),
        ("ns", None, 0, "namespace_package", None, None),
        ("pkg.missing", None, 0, "unresolved", None, None),
        ("pkg", "*", 0, "package", "pkg/__init__.py", "*"),
        ("os.path", "join", 0, "external", None, None),
        ("requests", None, 0, "external", None, None),
    ],
)
def test_resolve(
    absolute: str,
    name: str | None,
    level: int,
    kind: str,
    path: str | None,
    resolved_name: str | None,
) -> None:
    out = resolve(MODMAP, absolute, name, level)
    assert (out["target_kind"], out["resolved_path"], out["resolved_name"]) == (
        kind,
        path,
        resolved_name,
    )


def _import_row(
    path: str, bstart: int, expr: str | None, name: str | None, **detail: Any
) -> dict[str, Any]:
    full = {"level": 0, "asname": None, "dynamic": None, "in_try": False}
    full.update(detail)
    return {
        "path": path,
        "ordinal": bstart,
        "parent_ordinal": 0,
        "kind": "import",
        "name": name,
        "qualname": None,
        "scope_qualname": "",
        "expr": expr,
        "ctx": None,
        "detail": json.dumps(full, sort_keys=True, separators=(",", ":")),
        "bstart": bstart,
        "bend": bstart + 5,
        "line": 1,
        "col": bstart,
        "end_line": 1,
        "end_col": bstart + 5,
    }


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=AST)


def test_reconcile_merges_sources_and_flags_disagreement() -> None:
    path = "pkg/sub/mod.py"
    ast_rows = [_import_row(path, 0, "util", "helper", level=2), _import_row(path, 20, "os", None)]
    cst_rows = [_import_row(path, 0, "util", "helper", level=2)]  # misses the second import
    ts_rows = [_import_row(path, 0, "util", "helper", level=2), _import_row(path, 20, "os", None)]
    tables = {"ast": _table(ast_rows), "cst": _table(cst_rows), "tree_sitter": _table(ts_rows)}
    succeeded = {"ast": {path}, "cst": {path}, "tree_sitter": {path}}
    rows, warnings = reconcile(tables, SCAN, succeeded)
    assert [(r["ordinal"], r["absolute_module"], r["target_kind"]) for r in rows] == [
        (0, "pkg.util", "attribute"),
        (1, "os", "external"),
    ]
    assert rows[0]["sources"] == ["ast", "cst", "tree_sitter"]
    assert rows[0]["sources_agree"] is True
    assert rows[1]["sources_agree"] is False
    assert rows[0]["bound_name"] == "helper"
    assert rows[1]["bound_name"] == "os"
    assert [w.code for _, w in warnings] == ["IMPORT_SOURCES_DISAGREE"]


def test_a_source_that_failed_on_the_file_does_not_vote() -> None:
    path = "top.py"
    rows_ts = [_import_row(path, 0, "pkg.util", None)]
    tables = {"ast": _table([]), "cst": _table([]), "tree_sitter": _table(rows_ts)}
    rows, warnings = reconcile(tables, SCAN, {"tree_sitter": {path}})
    assert rows[0]["sources"] == ["tree_sitter"]
    assert rows[0]["sources_agree"] is True
    assert rows[0]["bound_name"] == "pkg"
    assert warnings == []


def test_unresolved_relative_import_warns() -> None:
    path = "top.py"
    tables = {"ast": _table([_import_row(path, 0, "nothing", "x", level=1)])}
    rows, warnings = reconcile(tables, SCAN, {"ast": {path}})
    assert rows[0]["target_kind"] == "unresolved"
    assert [w.code for _, w in warnings] == ["IMPORT_UNRESOLVED"]
