"""The project's import graph and the shortest chain from a module to the legacy stack.

Nodes are repository paths of project files, plus one node per legacy module that is not a
project file (``hamilton``, ``rustworkx``, or ``backends.legacy`` before it exists). Importing
``a.b.c`` executes ``a/__init__.py`` and ``a/b/__init__.py`` too, so each explicit import adds
edges to those package files. Every import counts, including imports inside functions and
``TYPE_CHECKING`` blocks: a lazy import still breaks when its target is deleted.

Chains are found by breadth-first search, so the chain shown is a shortest one; among equally
short next hops the smallest node name wins, which makes the output deterministic.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.preflight.imports import ImportRef
from harness.preflight.stack import legacy_module

Location = tuple[int, int]  # (line, col) of the import that creates an edge


def ref_targets(ref: ImportRef, modules: Mapping[str, str]) -> list[str]:
    """Graph nodes one import reaches: project files it executes, and the legacy module node
    when the legacy module it names is not a project file."""
    targets: list[str] = []
    parts = ref.module.split(".")
    for i in range(1, len(parts) + 1):
        path = modules.get(".".join(parts[:i]))
        if path is not None:
            targets.append(path)
    if ref.module not in modules and legacy_module(ref.module) is not None:
        targets.append(ref.module)
    for name in ref.names:
        sub = f"{ref.module}.{name}"
        if sub in modules:
            targets.append(modules[sub])
        elif legacy_module(sub) is not None and legacy_module(ref.module) is None:
            targets.append(sub)
    return list(dict.fromkeys(targets))


def legacy_target(
    ref: ImportRef, modules: Mapping[str, str], deleted: Mapping[str, str]
) -> tuple[str, str] | None:
    """(legacy module named, graph node it enters) when one import reaches the legacy stack
    directly, else None. ``deleted`` maps deletion-set paths to their module names."""
    if legacy_module(ref.module) is not None:
        # `from backends.legacy import pipeline`: name the submodule when it is a project file.
        for name in ref.names:
            sub = f"{ref.module}.{name}"
            if sub in modules:
                return sub, modules[sub]
        return ref.module, modules.get(ref.module, ref.module)
    for name in ref.names:
        sub = f"{ref.module}.{name}"
        if legacy_module(sub) is not None:
            return sub, modules.get(sub, sub)
    # The most specific file first: `import old.engine` enters old/engine.py, not old/__init__.
    specific = [modules[f"{ref.module}.{n}"] for n in ref.names if f"{ref.module}.{n}" in modules]
    for node in (*specific, *reversed(ref_targets(ref, modules))):
        if node in deleted:
            return deleted[node], node
    return None


@dataclass
class ImportGraph:
    """Directed import edges with the first location of each; built once, then only read."""

    edges: dict[str, dict[str, Location]] = field(default_factory=dict)

    def add(self, source: str, ref: ImportRef, modules: Mapping[str, str]) -> None:
        """Add the edges of one import of ``source``."""
        out = self.edges.setdefault(source, {})
        for target in ref_targets(ref, modules):
            if target != source:
                loc = (ref.line, ref.col)
                out[target] = min(out.get(target, loc), loc)

    def location(self, source: str, target: str) -> Location:
        """Where ``source`` first imports ``target``."""
        return self.edges[source][target]

    def distances(self, sources: Iterable[str]) -> dict[str, int]:
        """Hops from every node that reaches one of ``sources`` to the nearest of them."""
        reverse: dict[str, set[str]] = defaultdict(set)
        for src, targets in self.edges.items():
            for dst in targets:
                reverse[dst].add(src)
        ordered = sorted(set(sources))
        dist = dict.fromkeys(ordered, 0)
        queue = deque(ordered)
        while queue:
            node = queue.popleft()
            for importer in sorted(reverse.get(node, ())):
                if importer not in dist:
                    dist[importer] = dist[node] + 1
                    queue.append(importer)
        return dist

    def chain(self, start: str, dist: Mapping[str, int]) -> list[str]:
        """A shortest path from ``start`` to a source of ``dist`` (smallest next hop first)."""
        path = [start]
        while dist[path[-1]] > 0:
            here = path[-1]
            path.append(min(n for n in self.edges[here] if dist.get(n) == dist[here] - 1))
        return path
