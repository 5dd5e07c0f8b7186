"""The view catalogue of CPG contract v1 (CONTRACT.md §12) and the default workload spec.

Every backend implements exactly these views. A spec names the views it wants, each with the
inputs the catalogue declares; the backend builds the dependency graph from the spec, prunes it
to the requested outputs and computes each view from its declared inputs only. Every view has a
contract schema, so parity can compare the two backends view by view (stage by stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from backends.contract.schemas import (
    CPG_EDGES,
    CPG_NODES,
    CPG_PROPS,
    DIAGNOSTICS,
    EVIDENCE_SUMMARY,
    EVIDENCE_TABLES,
    OUTPUT_TABLES,
    SYNTAX_VIEW,
)
from backends.contract.spec import (
    DatasetBinding,
    OutputSpec,
    SemanticExecutionSpec,
    SpecPolicy,
    ViewKind,
    ViewSpec,
)

_SYNTAX_INPUTS = ("repo_scan", "ast", "cst", "tree_sitter", "extract_diagnostics")
_RESOLVE_INPUTS = ("syntax", "repo_scan", "python_imports", "import_edges", "inherit_edges")


# The primary key of each view: a view of nodes, edges or diagnostics is keyed like the output
# table it feeds; the syntax view like the syntax evidence it selects one source of.
_NODE_KEY = OUTPUT_TABLES["cpg_nodes"].primary_key
_EDGE_KEY = OUTPUT_TABLES["cpg_edges"].primary_key
_DIAGNOSTIC_KEY = OUTPUT_TABLES["diagnostics"].primary_key
_SYNTAX_KEY = EVIDENCE_TABLES["ast"].primary_key


@dataclass(frozen=True)
class ViewDef:
    """One catalogue view: its stage kind, declared inputs, output schema and primary key."""

    name: str
    kind: ViewKind
    inputs: tuple[str, ...]
    schema: pa.Schema
    primary_key: tuple[str, ...]


VIEW_CATALOG: dict[str, ViewDef] = {
    v.name: v
    for v in (
        ViewDef("syntax", "normalize", _SYNTAX_INPUTS, SYNTAX_VIEW, _SYNTAX_KEY),
        ViewDef("file_nodes", "normalize", ("repo_scan",), CPG_NODES, _NODE_KEY),
        ViewDef("module_nodes", "normalize", ("syntax", "repo_scan"), CPG_NODES, _NODE_KEY),
        ViewDef("definition_nodes", "normalize", ("syntax", "repo_scan"), CPG_NODES, _NODE_KEY),
        ViewDef("parameter_nodes", "normalize", ("syntax", "repo_scan"), CPG_NODES, _NODE_KEY),
        ViewDef("callsite_nodes", "normalize", ("syntax",), CPG_NODES, _NODE_KEY),
        ViewDef("import_nodes", "normalize", ("python_imports",), CPG_NODES, _NODE_KEY),
        ViewDef("symbol_nodes", "normalize", ("scip",), CPG_NODES, _NODE_KEY),
        ViewDef("external_nodes", "normalize", ("python_external",), CPG_NODES, _NODE_KEY),
        ViewDef(
            "span_conflicts",
            "normalize",
            ("syntax", "ast", "cst", "tree_sitter", "extract_diagnostics"),
            DIAGNOSTICS,
            _DIAGNOSTIC_KEY,
        ),
        ViewDef(
            "import_edges",
            "relate",
            ("python_imports", "syntax", "repo_scan"),
            CPG_EDGES,
            _EDGE_KEY,
        ),
        ViewDef(
            "inherit_edges",
            "relate",
            ("syntax", "repo_scan", "python_imports", "import_edges"),
            CPG_EDGES,
            _EDGE_KEY,
        ),
        ViewDef(
            "override_edges",
            "relate",
            ("syntax", "repo_scan", "inherit_edges"),
            CPG_EDGES,
            _EDGE_KEY,
        ),
        ViewDef("call_edges", "relate", (*_RESOLVE_INPUTS, "scip"), CPG_EDGES, _EDGE_KEY),
        ViewDef(
            "reference_edges", "relate", (*_RESOLVE_INPUTS, "ast", "scip"), CPG_EDGES, _EDGE_KEY
        ),
        ViewDef("name_ref_nodes", "normalize", ("ast", "reference_edges"), CPG_NODES, _NODE_KEY),
        ViewDef(
            "structure_edges",
            "relate",
            ("syntax", "repo_scan", "python_imports", "ast", "reference_edges"),
            CPG_EDGES,
            _EDGE_KEY,
        ),
        ViewDef(
            "diagnostics",
            "cpg",
            (
                "extract_diagnostics",
                "span_conflicts",
                "repo_scan",
                "ast",
                "cst",
                "tree_sitter",
                "bytecode",
                "symtable",
                "scip",
            ),
            DIAGNOSTICS,
            _DIAGNOSTIC_KEY,
        ),
        ViewDef("diagnostic_nodes", "normalize", ("diagnostics",), CPG_NODES, _NODE_KEY),
        ViewDef(
            "cpg_nodes",
            "cpg",
            (
                "file_nodes",
                "module_nodes",
                "definition_nodes",
                "parameter_nodes",
                "callsite_nodes",
                "import_nodes",
                "name_ref_nodes",
                "symbol_nodes",
                "external_nodes",
                "diagnostic_nodes",
            ),
            CPG_NODES,
            _NODE_KEY,
        ),
        ViewDef(
            "cpg_edges",
            "cpg",
            (
                "structure_edges",
                "import_edges",
                "inherit_edges",
                "override_edges",
                "call_edges",
                "reference_edges",
            ),
            CPG_EDGES,
            _EDGE_KEY,
        ),
        ViewDef(
            "cpg_props",
            "cpg",
            (
                "cpg_nodes",
                "repo_scan",
                "syntax",
                "bytecode",
                "python_imports",
                "python_external",
                "scip",
            ),
            CPG_PROPS,
            OUTPUT_TABLES["cpg_props"].primary_key,
        ),
        ViewDef(
            "evidence_summary",
            "cpg",
            tuple(EVIDENCE_TABLES),
            EVIDENCE_SUMMARY,
            OUTPUT_TABLES["evidence_summary"].primary_key,
        ),
    )
}

# Output table -> producing view (the default workload).
DEFAULT_OUTPUTS: tuple[tuple[str, str], ...] = tuple((t, t) for t in OUTPUT_TABLES)


def catalog_view_spec(name: str) -> ViewSpec:
    """The ViewSpec of one catalogue view; KeyError names an unknown view."""
    view = VIEW_CATALOG[name]
    return ViewSpec(name=view.name, kind=view.kind, inputs=view.inputs)


def default_spec(
    inputs: tuple[DatasetBinding, ...],
    *,
    policy: SpecPolicy | None = None,
    outputs: tuple[str, ...] | None = None,
) -> SemanticExecutionSpec:
    """The CPG workload: every catalogue view, the requested outputs (default: all five)."""
    wanted = tuple(OUTPUT_TABLES) if outputs is None else outputs
    for table in wanted:
        if table not in OUTPUT_TABLES:
            raise KeyError(f"{table!r} is not an output table of the contract")
    return SemanticExecutionSpec(
        inputs=tuple(sorted(inputs, key=lambda b: b.name)),
        views=tuple(catalog_view_spec(name) for name in VIEW_CATALOG),
        outputs=tuple(OutputSpec(table=t, view=t) for t in wanted),
        policy=policy or SpecPolicy(),
    )


def evidence_bindings(evidence_dir: str, versions: dict[str, int]) -> tuple[DatasetBinding, ...]:
    """Bindings for the ten evidence tables under ``evidence_dir`` pinned to ``versions``."""
    return tuple(
        DatasetBinding(name=name, uri=f"{evidence_dir}/{name}", delta_version=versions[name])
        for name in EVIDENCE_TABLES
    )
