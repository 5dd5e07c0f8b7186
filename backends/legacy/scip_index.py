"""SCIP target lookup (CONTRACT §8.3.1, §8.6, §13.3): from a use's span to a CLASS, FUNCTION
or MODULE node through the symbol's definition occurrence."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from backends.legacy.frames import rows
from backends.legacy.syntax_index import Def, Module, SyntaxIndex


class ScipIndex:
    """Non-definition occurrences by (path, bend) and the first definition of each symbol."""

    def __init__(self, scip: pa.Table, idx: SyntaxIndex) -> None:
        self.idx = idx
        mask = pc.and_(
            pc.equal(scip["kind"], "occurrence"),
            pc.and_(pc.is_valid(scip["path"]), pc.is_valid(scip["bstart"])),
        )
        part = scip.filter(mask).sort_by(
            [
                ("path", "ascending"),
                ("bstart", "ascending"),
                ("bend", "ascending"),
                ("symbol", "ascending"),
                ("roles", "ascending"),
            ]
        )
        # (path, bend) -> (bstart, symbol) of the last use occurrence by bstart (then the
        # occurrence order) ending there.
        self._uses: dict[tuple[str, int], tuple[int, str]] = {}
        self._definition: dict[str, tuple[str, int, int]] = {}
        for path, bstart, bend, symbol, is_def in rows(
            part, ("path", "bstart", "bend", "symbol", "is_definition")
        ):
            if is_def:
                self._definition.setdefault(symbol, (path, bstart, bend))
            else:
                self._uses[(path, bend)] = (bstart, symbol)
        self._defs_by_path: dict[str, list[Def]] = {}
        for d in idx.defs:
            self._defs_by_path.setdefault(d.path, []).append(d)
        self._cache: dict[tuple[str, bool], Def | Module | None] = {}

    def target(self, path: str, bstart: int, end: int, *, modules: bool) -> Def | Module | None:
        """The node the SCIP occurrence at ``[>= bstart, end)`` of ``path`` points to."""
        use = self._uses.get((path, end))
        if use is None or use[0] < bstart:
            return None
        key = (use[1], modules)
        if key not in self._cache:
            self._cache[key] = self._symbol_target(use[1], modules=modules)
        return self._cache[key]

    def _symbol_target(self, symbol: str, *, modules: bool) -> Def | Module | None:
        definition = self._definition.get(symbol)
        if definition is None:
            return None
        path, bstart, bend = definition
        if symbol.endswith("/__init__:"):
            return self.idx.modules.get(path) if modules else None
        if symbol.endswith("#"):
            kind = "CLASS"
        elif symbol.endswith("()."):
            kind = "FUNCTION"
        else:
            return None
        best: Def | None = None
        for d in self._defs_by_path.get(path, []):
            if d.kind != kind or d.name is None or not (d.bstart <= bstart and bend <= d.bend):
                continue
            if len(d.name.encode()) != bend - bstart:
                continue
            if best is None or (d.bstart, -d.bend) > (best.bstart, -best.bend):
                best = d
        return best
