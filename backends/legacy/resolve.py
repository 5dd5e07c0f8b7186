"""Lexical name resolution (CONTRACT §8.2, §13.3) and the MRO (§8.5), over the syntax index.

A resolved value is a CLASS/FUNCTION ``Def`` or a ``Module``; resolution also reports whether
the chain passed through a class (confidence 0.7 instead of 0.8).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.ids import span_node_id
from backends.legacy.frames import rows
from backends.legacy.syntax_index import Def, Module, SyntaxIndex

Value = Def | Module
_LOCALS = ".<locals>"


def visible_scopes(scope: str, class_qualnames: set[str] | frozenset[str]) -> list[str]:
    """``scope`` and its enclosing scopes out to ``""``, skipping class scopes (not itself)."""
    out = [scope]
    current = scope
    while current:
        current = current.rsplit(".", 1)[0] if "." in current else ""
        if current.endswith(_LOCALS):
            current = current[: -len(_LOCALS)]
        if current and current in class_qualnames:
            continue
        out.append(current)
    return out


def import_targets(import_edges: pa.Table) -> dict[str, str]:
    """IMPORT node id -> its RESOLVES_TO target node id."""
    part = import_edges.filter(pc.equal(import_edges["kind"], "RESOLVES_TO"))
    return dict(rows(part, ("src_id", "dst_id")))


def ordered_bases(idx: SyntaxIndex, inherit_edges: pa.Table) -> dict[str, list[str]]:
    """Class node id -> base class node ids in ``bases`` order.

    INHERITS_FROM edges carry no base index, so each target is placed at the first base
    expression whose last component is the target's name; unmatched targets (aliased
    imports) follow, by full qualname.
    """
    targets: dict[str, list[str]] = {}
    part = inherit_edges.filter(pc.equal(inherit_edges["kind"], "INHERITS_FROM"))
    for src, dst in rows(part, ("src_id", "dst_id")):
        targets.setdefault(src, []).append(dst)
    out: dict[str, list[str]] = {}
    for src, dsts in targets.items():
        cls = idx.by_id.get(src)
        bases: list[str] = []
        if isinstance(cls, Def) and cls.detail:
            bases = [str(b).rsplit(".", 1)[-1] for b in json.loads(cls.detail).get("bases") or []]

        def rank(dst: str, bases: list[str] = bases) -> tuple[int, str]:
            node = idx.by_id.get(dst)
            name = node.name if isinstance(node, Def) else None
            full = idx.full_qualname(node) if isinstance(node, Def) else dst
            return (bases.index(name) if name in bases else len(bases), full)

        out[src] = sorted(set(dsts), key=rank)
    return out


class Resolver:
    """Resolves identifiers and dotted exprs of one repository (CONTRACT §8.2)."""

    def __init__(
        self,
        idx: SyntaxIndex,
        python_imports: pa.Table | None,
        targets: Mapping[str, str],
        bases: Mapping[str, Sequence[str]],
    ) -> None:
        self.idx = idx
        self.targets = targets
        self.bases = bases
        self._mro: dict[str, list[Def]] = {}
        self._imports: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
        self._stars: dict[tuple[str, str, str], list[tuple[int, Def]]] = {}
        if python_imports is None:
            return
        self._star_candidates(python_imports)
        part = python_imports.filter(
            pc.and_(
                pc.is_valid(python_imports["bstart"]), pc.is_valid(python_imports["bound_name"])
            )
        )
        for path, scope, bound, bstart, bend in rows(
            part, ("path", "scope_qualname", "bound_name", "bstart", "bend")
        ):
            node_id = span_node_id("IMPORT", path, bstart, bend)
            self._imports.setdefault((path, scope, bound), []).append((bstart, node_id))

    def mro(self, cls: Def) -> list[Def]:
        """The C3 linearization of ``cls`` over its in-repo bases (CONTRACT §13.3); when C3
        fails (inconsistent order, cycle), depth-first left-to-right, each class once."""
        cached = self._mro.get(cls.node_id)
        if cached is not None:
            return cached
        c3 = self._c3(cls.node_id, ())
        if c3 is not None:
            order = [d for d in (self.idx.by_id.get(i) for i in c3) if isinstance(d, Def)]
            self._mro[cls.node_id] = order
            return order
        return self._dfs(cls)

    def _c3(self, node_id: str, active: tuple[str, ...]) -> list[str] | None:
        """C3 merge; None on a cycle or an inconsistent hierarchy."""
        if node_id in active:
            return None
        bases = [b for b in self.bases.get(node_id, ()) if isinstance(self.idx.by_id.get(b), Def)]
        seqs: list[list[str]] = []
        for b in bases:
            lin = self._c3(b, (*active, node_id))
            if lin is None:
                return None
            seqs.append(list(lin))
        seqs.append(list(bases))
        out = [node_id]
        while any(seqs):
            head = next(
                (s[0] for s in seqs if s and not any(s[0] in other[1:] for other in seqs)),
                None,
            )
            if head is None:
                return None
            out.append(head)
            seqs = [s[1:] if s and s[0] == head else s for s in seqs]
        return out

    def _dfs(self, cls: Def) -> list[Def]:
        order: list[Def] = []
        seen: set[str] = set()
        stack: list[str] = [cls.node_id]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            node = self.idx.by_id.get(node_id)
            if not isinstance(node, Def) or node.kind != "CLASS":
                continue
            seen.add(node_id)
            order.append(node)
            stack.extend(reversed([b for b in self.bases.get(node_id, ()) if b not in seen]))
        self._mro[cls.node_id] = order
        return order

    def member(self, cls: Def, name: str, *, skip_self: bool = False) -> Def | None:
        """``name`` defined in ``cls`` or, failing that, in its MRO (after ``cls`` if asked)."""
        for k in self.mro(cls)[1 if skip_self else 0 :]:
            found = self.idx.defined_last(k.path, k.qualname, name)
            if found is not None:
                return found
        return None

    def resolve_name(self, path: str, scope: str, name: str, pos: int) -> Value | None:
        """The §8.2 binding of identifier ``name`` used at byte ``pos`` in ``scope``."""
        classes = self.idx.class_qualnames.get(path, set())
        for s in visible_scopes(scope, classes):
            candidates: list[tuple[int, Value | str]] = [
                (d.bstart, d) for d in self.idx.defined(path, s, name)
            ]
            candidates += self._imports.get((path, s, name), [])
            candidates += self._stars.get((path, s, name), [])
            if not candidates:
                continue
            before = [c for c in candidates if c[0] < pos]
            chosen = max(before or candidates, key=lambda c: c[0])[1]
            if isinstance(chosen, str):  # an IMPORT: follow RESOLVES_TO
                target = self.targets.get(chosen)
                return self.idx.by_id.get(target) if target is not None else None
            return chosen
        return None

    def _star_candidates(self, python_imports: pa.Table) -> None:
        """§8.2 star rule: ``from M import *`` in scope S binds, at the import's position, each
        top-level CLASS/FUNCTION name of M listed in M's literal ``__all__`` (or, without one,
        not starting with ``_``), to the last such definition by bstart."""
        stars = python_imports.filter(
            pc.and_(
                pc.and_(
                    pc.is_valid(python_imports["bstart"]),
                    pc.equal(python_imports["kind"], "star"),
                ),
                pc.and_(
                    pc.is_in(python_imports["target_kind"], pa.array(["module", "package"])),
                    pc.is_valid(python_imports["resolved_path"]),
                ),
            )
        )
        top: dict[str, dict[str, Def]] = {}
        for d in self.idx.defs:
            if d.scope == "" and d.name is not None:
                best = top.setdefault(d.path, {}).get(d.name)
                if best is None or d.bstart > best.bstart:
                    top[d.path][d.name] = d
        for path, scope, target, bstart in rows(
            stars, ("path", "scope_qualname", "resolved_path", "bstart")
        ):
            exported = self.idx.module_all.get(target)
            for name, d in top.get(target, {}).items():
                if (exported is not None and name in exported) or (
                    exported is None and not name.startswith("_")
                ):
                    self._stars.setdefault((path, scope, name), []).append((bstart, d))

    def _method_class(self, path: str, scope: str, pos: int) -> Def | None:
        """The class ``C`` when ``scope`` is a function directly in class ``C`` of the file."""
        if not scope or "." not in scope or self.idx.is_class(path, scope):
            return None
        parent = scope.rsplit(".", 1)[0]
        if not self.idx.is_class(path, parent):
            return None
        classes = self.idx.defs_in(path, parent)
        containing = [c for c in classes if c.kind == "CLASS" and c.bstart <= pos < c.bend]
        pool = containing or [c for c in classes if c.kind == "CLASS"]
        return max(pool, key=lambda c: c.bstart) if pool else None

    def resolve_expr(self, path: str, scope: str, expr: str, pos: int) -> tuple[Value, bool] | None:
        """Resolve a dotted expr; (value, passed through a class) or None."""
        parts = expr.split(".")
        through = False
        first = parts[0]
        value: Value | None
        special = first in ("self", "cls", "super()")
        owner = self._method_class(path, scope, pos) if special else None
        if owner is not None and len(parts) == 1:
            # A bare `cls` in a method is the class itself; a bare `self` is nothing.
            return (owner, True) if first == "cls" else None
        if owner is not None and first in ("self", "cls"):
            value, rest, through = self.member(owner, parts[1]), parts[2:], True
        elif owner is not None and first == "super()":
            value, rest, through = self.member(owner, parts[1], skip_self=True), parts[2:], True
        else:
            value, rest = self.resolve_name(path, scope, first, pos), parts[1:]
        for component in rest:
            if value is None:
                return None
            if isinstance(value, Module):
                value = self._module_attr(value, component)
            elif value.kind == "CLASS":
                through = True
                value = self.member(value, component)
            else:
                return None
        return (value, through) if value is not None else None

    def _module_attr(self, module: Module, name: str) -> Value | None:
        found = self.idx.defined_last(module.path, "", name)
        if found is not None:
            return found
        if module.module is None:
            return None
        sub = self.idx.path_of.get(f"{module.module}.{name}")
        return self.idx.modules.get(sub) if sub is not None else None
