"""Stage 0, third barrier: ``python_imports`` reconciles the import rows of ast, cst and
tree-sitter and resolves each import against the repository's modules (CONTRACT.md §5.5).

Nothing is imported: resolution uses only the module map built by ``repo_scan``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from backends.extract.result import FileWarning

NAME = "python_imports"
VERSION = "1"

# Which parser's values win when the sources disagree on a field: ast, then cst, then tree-sitter.
SYNTAX_SOURCES: tuple[str, ...] = ("ast", "cst", "tree_sitter")
_FLAGS = ("in_try", "in_type_checking", "in_function", "conditional")
_SPAN = ("bstart", "bend", "line", "col", "end_line", "end_col")


@dataclass(frozen=True)
class ModuleMap:
    """Repo modules: dotted name -> (path or None for namespace packages, target kind)."""

    modules: Mapping[str, tuple[str | None, str]]
    by_path: Mapping[str, tuple[str, bool]]  # path -> (module, is_package)

    @classmethod
    def from_scan(cls, scan_rows: Iterable[Mapping[str, Any]]) -> ModuleMap:
        modules: dict[str, tuple[str | None, str]] = {}
        by_path: dict[str, tuple[str, bool]] = {}
        namespace: set[str] = set()
        # .py before .pyi so that a stub never hides its implementation.
        ordered = sorted(scan_rows, key=lambda r: (str(r["path"]).endswith(".pyi"), r["path"]))
        for row in ordered:
            module = row.get("module")
            if not module or not row.get("is_python"):
                continue
            path = str(row["path"])
            is_package = bool(row["is_package"])
            by_path[path] = (module, is_package)
            modules.setdefault(module, (path, "package" if is_package else "module"))
            parts = module.split(".")
            for i in range(1, len(parts)):
                namespace.add(".".join(parts[:i]))
        for name in sorted(namespace):
            modules.setdefault(name, (None, "namespace_package"))
        return cls(modules=modules, by_path=by_path)

    @cached_property
    def top_levels(self) -> frozenset[str]:
        """First components of every repo module (computed once per map)."""
        return frozenset(m.split(".", 1)[0] for m in self.modules)


def _detail(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("detail")
    return json.loads(raw) if raw else {}


def _signature(row: Mapping[str, Any]) -> tuple[Any, ...]:
    d = _detail(row)
    return (row.get("expr"), d.get("level", 0), row.get("name"), d.get("asname"), d.get("dynamic"))


def absolute_module(
    importer: str | None, is_package: bool, module: str | None, level: int
) -> str | None:
    """The absolute dotted module an import names, or None when it climbs above the top."""
    if level == 0:
        return module or None
    if importer is None:
        return None
    parts = importer.split(".")
    package = parts if is_package else parts[:-1]
    if level - 1 > len(package) or (level - 1 == len(package) and not module):
        return None
    base = package[: len(package) - (level - 1)]
    full = [*base, *(module.split(".") if module else [])]
    return ".".join(full) or None


def resolve(
    modmap: ModuleMap, absolute: str | None, name: str | None, level: int
) -> dict[str, Any]:
    """Resolution columns for one import (CONTRACT.md §8.1)."""
    out: dict[str, Any] = {
        "absolute_module": absolute,
        "target_kind": "unresolved",
        "resolved_module": None,
        "resolved_path": None,
        "resolved_name": None,
    }
    if absolute is None:
        return out
    if name and name != "*":
        sub = f"{absolute}.{name}"
        if sub in modmap.modules:
            path, kind = modmap.modules[sub]
            out.update(target_kind=kind, resolved_module=sub, resolved_path=path)
            return out
    if absolute in modmap.modules:
        path, kind = modmap.modules[absolute]
        if name and name != "*":
            out.update(target_kind="attribute", resolved_name=name)
        else:
            out.update(target_kind=kind, resolved_name=name)
        out.update(resolved_module=absolute, resolved_path=path)
        return out
    if level > 0 or absolute.split(".", 1)[0] in modmap.top_levels:
        return out  # names the repo but nothing there: unresolved
    out["target_kind"] = "external"
    return out


def _kind(row: Mapping[str, Any], detail: Mapping[str, Any]) -> str:
    if detail.get("dynamic"):
        return "dynamic"
    if row.get("name") == "*":
        return "star"
    return "from" if row.get("name") is not None else "import"


def _bound_name(row: Mapping[str, Any], detail: Mapping[str, Any]) -> str | None:
    if detail.get("dynamic") or row.get("name") == "*":
        return None
    if detail.get("asname"):
        return str(detail["asname"])
    if row.get("name") is not None:
        return str(row["name"])
    expr = row.get("expr")
    return str(expr).split(".", 1)[0] if expr else None


def reconcile(
    syntax: Mapping[str, pa.Table],
    scan_rows: list[dict[str, Any]],
    succeeded: Mapping[str, set[str]],
) -> tuple[list[dict[str, Any]], list[tuple[str, FileWarning]]]:
    """Rows of ``python_imports`` and its warnings.

    ``syntax`` maps ast/cst/tree_sitter to their evidence tables; ``succeeded`` maps each of
    them to the paths it parsed without error (only those sources vote on agreement).
    """
    modmap = ModuleMap.from_scan(scan_rows)
    by_key: dict[tuple[str, int, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    for source in SYNTAX_SOURCES:
        table = syntax.get(source)
        if table is None or table.num_rows == 0:
            continue
        imports = table.filter(pc.equal(table["kind"], "import")).to_pylist()
        for row in imports:
            by_key[(row["path"], row["bstart"], row["bend"])][source] = row
    rows: list[dict[str, Any]] = []
    warnings: list[tuple[str, FileWarning]] = []
    disagreements: dict[str, int] = defaultdict(int)
    for key in sorted(by_key, key=lambda k: (k[0], k[1] if k[1] is not None else -1, k[2] or 0)):
        path = key[0]
        seen = by_key[key]
        winner = next(seen[s] for s in SYNTAX_SOURCES if s in seen)
        voters = [s for s in SYNTAX_SOURCES if path in succeeded.get(s, set())]
        agree = all(s in seen for s in voters) and len({_signature(r) for r in seen.values()}) == 1
        if not agree:
            disagreements[path] += 1
        rows.append(_import_row(modmap, path, winner, sorted(seen), agree))
    for path, count in sorted(disagreements.items()):
        warnings.append(
            (
                path,
                FileWarning(
                    code="IMPORT_SOURCES_DISAGREE",
                    message=f"{count} import(s) not seen identically by every parser",
                ),
            )
        )
    ordinals: dict[str, int] = defaultdict(int)
    for row in rows:
        row["ordinal"] = ordinals[row["path"]]
        ordinals[row["path"]] += 1
        if row["target_kind"] == "unresolved":
            warnings.append(
                (
                    row["path"],
                    FileWarning(
                        code="IMPORT_UNRESOLVED",
                        message=f"import of {row['absolute_module'] or row['module']!r} "
                        "does not resolve",
                        **{k: row[k] for k in _SPAN},
                    ),
                )
            )
    return rows, warnings


def _import_row(
    modmap: ModuleMap, path: str, row: Mapping[str, Any], sources: list[str], agree: bool
) -> dict[str, Any]:
    detail = _detail(row)
    level = int(detail.get("level", 0) or 0)
    module = row.get("expr")
    importer, is_package = modmap.by_path.get(path, (None, False))
    absolute = absolute_module(importer, is_package, module, level)
    name = row.get("name")
    out: dict[str, Any] = {
        "path": path,
        "ordinal": 0,
        "kind": _kind(row, detail),
        "scope_qualname": row.get("scope_qualname") or "",
        "module": module,
        "level": level,
        "name": name,
        "asname": detail.get("asname"),
        "bound_name": _bound_name(row, detail),
        **resolve(modmap, absolute, name, level),
        "sources": sources,
        "sources_agree": agree,
        **{flag: bool(detail.get(flag, False)) for flag in _FLAGS},
        **{k: row.get(k) for k in _SPAN},
    }
    return out
