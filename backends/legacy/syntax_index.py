"""Per-file indexes over the ``syntax`` view and ``repo_scan``: modules, definitions, prefixes.

Built once per view from that view's declared inputs; every lookup is a dict access, so the
resolution rules stay linear in the number of rows.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from backends.contract.ids import span_node_id
from backends.contract.schemas import SPAN_COLUMNS
from backends.legacy.frames import DEF_KINDS, rows, where

Span = tuple[Any, ...]
_LAST: dict[str, tuple[pa.Table, pa.Table, SyntaxIndex]] = {}


@dataclass(frozen=True)
class Def:
    """A CLASS or FUNCTION node and the syntax row it came from."""

    node_id: str
    kind: str
    path: str
    ordinal: int
    row_kind: str
    name: str | None
    qualname: str
    scope: str
    span: Span
    detail: str | None
    source: str

    @property
    def bstart(self) -> int:
        return int(self.span[0])

    @property
    def bend(self) -> int:
        return int(self.span[1])


@dataclass(frozen=True)
class Module:
    """A MODULE node: the winner's module row of an ``ok`` file."""

    node_id: str
    path: str
    module: str | None
    span: Span
    source: str


def module_map(repo_scan: pa.Table) -> tuple[dict[str, str | None], dict[str, str]]:
    """(path -> module) for every scanned file and (module -> path) with ``.py`` over ``.pyi``."""
    module_of: dict[str, str | None] = {}
    path_of: dict[str, str] = {}
    for path, module in rows(repo_scan, ("path", "module")):
        module_of[path] = module
        if module is None:
            continue
        old = path_of.get(module)
        if (
            old is None
            or (old.endswith(".pyi") and path.endswith(".py"))
            or (old.endswith(".py") == path.endswith(".py") and path < old)
        ):
            path_of[module] = path
    return module_of, path_of


def prefix_of(path: str, module: str | None) -> str:
    """The qualname prefix of a file: ``module.`` or ``path:`` (CONTRACT §13.1)."""
    return f"{module}." if module is not None else f"{path}:"


def clear_index_cache() -> None:
    """Forget the cached index (the driver calls this when a run ends)."""
    _LAST.clear()


class SyntaxIndex:
    """Modules and definitions of the winning syntax source, indexed for resolution."""

    def __init__(self, syntax: pa.Table, repo_scan: pa.Table) -> None:
        self.module_of, self.path_of = module_map(repo_scan)
        self.modules: dict[str, Module] = {}
        self.defs: list[Def] = []
        self.by_id: dict[str, Def | Module] = {}
        self.winner: dict[str, str] = {}
        # path -> the module's literal ``__all__`` (None when it has none).
        self.module_all: dict[str, list[str] | None] = {}
        names = (
            "path",
            "ordinal",
            "kind",
            "name",
            "qualname",
            "scope_qualname",
            "detail",
            "source",
        )
        wanted = where(syntax, "kind", ["module", *DEF_KINDS])
        for r in rows(wanted, (*names, *SPAN_COLUMNS)):
            path, ordinal, kind, name, qualname, scope, detail, source = r[:8]
            span = r[8:]
            self.winner.setdefault(path, source)
            if kind == "module":
                if path in self.modules:
                    continue
                exported = json.loads(detail).get("all") if detail else None
                self.module_all[path] = (
                    [str(n) for n in exported] if isinstance(exported, list) else None
                )
                node_id = span_node_id("MODULE", path, span[0], span[1])
                mod = Module(node_id, path, self.module_of.get(path), span, source)
                self.modules[path] = mod
                self.by_id[node_id] = mod
                continue
            node_kind = DEF_KINDS[kind]
            node_id = span_node_id(node_kind, path, span[0], span[1])
            if node_id in self.by_id:
                continue
            d = Def(
                node_id,
                node_kind,
                path,
                ordinal,
                kind,
                name,
                qualname or "",
                scope,
                span,
                detail,
                source,
            )
            self.defs.append(d)
            self.by_id[node_id] = d
        self._by_scope_name: dict[tuple[str, str, str | None], list[Def]] = {}
        self._by_qualname: dict[tuple[str, str], list[Def]] = {}
        self.class_qualnames: dict[str, set[str]] = {}
        for d in sorted(self.defs, key=lambda d: (d.path, d.bstart, d.ordinal)):
            self._by_scope_name.setdefault((d.path, d.scope, d.name), []).append(d)
            self._by_qualname.setdefault((d.path, d.qualname), []).append(d)
            if d.kind == "CLASS":
                self.class_qualnames.setdefault(d.path, set()).add(d.qualname)

    @classmethod
    def of(cls, syntax: pa.Table, repo_scan: pa.Table) -> SyntaxIndex:
        """The index of these very tables, built once per run: several views read the same
        two tables, and the index is never mutated after it is built."""
        hit = _LAST.get("index")
        if hit is not None and hit[0] is syntax and hit[1] is repo_scan:
            return hit[2]
        idx = cls(syntax, repo_scan)
        # The tables are held with the index, so identity cannot be confused with a new table.
        _LAST["index"] = (syntax, repo_scan, idx)
        return idx

    def prefix(self, path: str) -> str:
        return prefix_of(path, self.module_of.get(path))

    def full_qualname(self, d: Def) -> str:
        return self.prefix(d.path) + d.qualname

    def defined(self, path: str, scope: str, name: str) -> list[Def]:
        """CLASS/FUNCTION nodes of ``path`` defined in ``scope`` with ``name``, by bstart."""
        return self._by_scope_name.get((path, scope, name), [])

    def defined_last(self, path: str, scope: str, name: str) -> Def | None:
        """The last definition by bstart (later definitions win, CONTRACT §13.3)."""
        found = self.defined(path, scope, name)
        return found[-1] if found else None

    def is_class(self, path: str, qualname: str) -> bool:
        return qualname in self.class_qualnames.get(path, ())

    def enclosing(self, path: str, scope: str, bstart: int, bend: int) -> str | None:
        """Node id of the parent of a row (CONTRACT §13.2): MODULE, or the CLASS/FUNCTION
        named ``scope`` that contains the span (largest bstart), else the MODULE."""
        module = self.modules.get(path)
        if scope:
            found = self._by_qualname.get((path, scope), [])
            i = bisect_right([d.bstart for d in found], bstart)
            for d in reversed(found[:i]):
                if d.bend >= bend:
                    return d.node_id
        return module.node_id if module is not None else None

    def defs_in(self, path: str, qualname: str) -> list[Def]:
        return self._by_qualname.get((path, qualname), [])
