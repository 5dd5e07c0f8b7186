"""The view schedule of the legacy backend: a rustworkx graph built from a spec (CONTRACT §9, §12).

Validation order: structural rules (versions, unique names, known inputs, existing output
views), then acyclicity (``VIEW_CYCLE`` names the cycle), then conformance to the catalogue
(``VIEW_UNKNOWN``). Cycles are checked before the catalogue so that a hand-made cyclic spec
reports the cycle, not the first catalogue mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import rustworkx as rx

from backends.contract.result import PlanReport
from backends.contract.schemas import CONTRACT_VERSION, OUTPUT_TABLES
from backends.contract.spec import SPEC_VERSION, SemanticExecutionSpec, spec_hash
from backends.contract.views import VIEW_CATALOG
from backends.legacy.errors import LegacyError

BACKEND = "legacy"


@dataclass(frozen=True)
class Schedule:
    """The pruned view graph of a spec: what to compute, from what, in which generations."""

    kept_views: tuple[str, ...]
    used_inputs: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    generations: tuple[tuple[str, ...], ...]
    pruned: tuple[str, ...]
    view_inputs: dict[str, tuple[str, ...]]


def _check_structure(spec: SemanticExecutionSpec) -> None:
    if spec.spec_version != SPEC_VERSION or spec.contract_version != CONTRACT_VERSION:
        raise LegacyError(
            "SPEC_VERSION_UNSUPPORTED",
            f"spec_version {spec.spec_version} / contract {spec.contract_version!r} unsupported",
            {"spec_version": spec.spec_version, "contract_version": spec.contract_version},
        )
    names = [b.name for b in spec.inputs] + [v.name for v in spec.views]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LegacyError("SPEC_INVALID", f"duplicate names {duplicates}", {"names": duplicates})
    tables = [o.table for o in spec.outputs]
    bad = sorted({t for t in tables if t not in OUTPUT_TABLES or tables.count(t) > 1})
    if bad:
        raise LegacyError(
            "SPEC_INVALID", f"outputs not contract outputs or repeated: {bad}", {"tables": bad}
        )
    known = set(names)
    for view in spec.views:
        missing = sorted(set(view.inputs) - known)
        if missing:
            raise LegacyError(
                "VIEW_UNKNOWN",
                f"view {view.name!r} reads unknown {missing}",
                {"view": view.name, "unknown": missing},
            )
    view_names = {v.name for v in spec.views}
    for out in spec.outputs:
        if out.view not in view_names:
            raise LegacyError(
                "VIEW_UNKNOWN",
                f"output {out.table!r} names unknown view {out.view!r}",
                {"table": out.table, "view": out.view},
            )


def _view_graph(spec: SemanticExecutionSpec) -> tuple[rx.PyDiGraph, dict[str, int]]:
    graph = rx.PyDiGraph()
    index = {v.name: graph.add_node(v.name) for v in spec.views}
    for view in spec.views:
        for source in view.inputs:
            if source in index:
                graph.add_edge(index[source], index[view.name], None)
    return graph, index


def _cycle(graph: rx.PyDiGraph) -> list[str]:
    """One cycle, deterministically: from the smallest name of the first cyclic component."""
    components = [
        sorted(graph[i] for i in comp)
        for comp in rx.strongly_connected_components(graph)
        if len(comp) > 1 or graph.has_edge(comp[0], comp[0])
    ]
    start = min(components)[0]
    source = next(i for i in graph.node_indices() if graph[i] == start)
    edges = rx.digraph_find_cycle(graph, source)
    return [graph[a] for a, _ in edges] + [graph[edges[0][0]]] if edges else [start, start]


def _check_catalog(spec: SemanticExecutionSpec) -> None:
    for view in spec.views:
        entry = VIEW_CATALOG.get(view.name)
        if entry is None or set(entry.inputs) != set(view.inputs):
            raise LegacyError(
                "VIEW_UNKNOWN",
                f"view {view.name!r} is not a catalogue view with the catalogue's inputs",
                {
                    "view": view.name,
                    "inputs": sorted(view.inputs),
                    "catalog_inputs": None if entry is None else sorted(entry.inputs),
                },
            )


def build_schedule(spec: SemanticExecutionSpec) -> Schedule:
    """Validate ``spec`` and compute the pruned, layered view graph (CONTRACT §12)."""
    _check_structure(spec)
    graph, index = _view_graph(spec)
    if not rx.is_directed_acyclic_graph(graph):
        cycle = _cycle(graph)
        raise LegacyError("VIEW_CYCLE", f"view cycle: {' -> '.join(cycle)}", {"cycle": cycle})
    _check_catalog(spec)
    wanted = {index[o.view] for o in spec.outputs}
    keep: set[int] = set(wanted)
    for node in wanted:
        keep |= rx.ancestors(graph, node)
    inputs_of = {v.name: tuple(v.inputs) for v in spec.views}
    kept = sorted(graph[i] for i in keep)
    generation: dict[str, int] = {}
    for i in rx.topological_sort(graph):
        name = graph[i]
        if i not in keep:
            continue
        parents = [generation[s] for s in inputs_of[name] if s in generation]
        generation[name] = 1 + max(parents) if parents else 0
    groups: dict[int, list[str]] = {}
    for name, gen in generation.items():
        groups.setdefault(gen, []).append(name)
    input_names = {b.name for b in spec.inputs}
    used = sorted({s for n in kept for s in inputs_of[n] if s in input_names})
    edges = sorted({(s, n) for n in kept for s in inputs_of[n]})
    return Schedule(
        kept_views=tuple(kept),
        used_inputs=tuple(used),
        edges=tuple(edges),
        generations=tuple(tuple(sorted(groups[g])) for g in sorted(groups)),
        pruned=tuple(sorted(v.name for v in spec.views if v.name not in generation)),
        view_inputs={n: inputs_of[n] for n in kept},
    )


def plan(spec: SemanticExecutionSpec, tier: int = 1) -> PlanReport:
    """Plan introspection (CONTRACT §12): tier 1 graph summary, tier 2 edges and schedule."""
    if tier not in (1, 2):
        raise ValueError("legacy backend supports plan tiers 1-2")
    sched = build_schedule(spec)
    graph = {
        "inputs": len(sched.used_inputs),
        "views": len(sched.kept_views),
        "edges": len(sched.edges),
        "generations": len(sched.generations),
        "pruned": len(sched.pruned),
    }
    return PlanReport(
        backend=BACKEND,
        tier=tier,
        spec_hash=spec_hash(spec),
        outputs=tuple(o.table for o in spec.outputs),
        graph=graph,
        edges=sched.edges if tier >= 2 else None,
        schedule=sched.generations if tier >= 2 else None,
    )
