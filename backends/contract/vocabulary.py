"""Node kinds, edge kinds, property keys and evidence-source names of CPG contract v1."""

from __future__ import annotations

from enum import StrEnum


class NodeKind(StrEnum):
    FILE = "FILE"
    MODULE = "MODULE"
    CLASS = "CLASS"
    FUNCTION = "FUNCTION"
    PARAMETER = "PARAMETER"
    IMPORT = "IMPORT"
    CALLSITE = "CALLSITE"
    NAME_REF = "NAME_REF"
    SYMBOL = "SYMBOL"
    EXTERNAL_MODULE = "EXTERNAL_MODULE"
    DIAGNOSTIC = "DIAGNOSTIC"


class EdgeKind(StrEnum):
    CONTAINS = "CONTAINS"
    DEFINES = "DEFINES"
    HAS_PARAMETER = "HAS_PARAMETER"
    IMPORTS = "IMPORTS"
    RESOLVES_TO = "RESOLVES_TO"
    CALLS = "CALLS"
    REFERENCES = "REFERENCES"
    INHERITS_FROM = "INHERITS_FROM"
    OVERRIDES = "OVERRIDES"


class EvidenceSource(StrEnum):
    """Which evidence an output row came from (``evidence_source`` column)."""

    REPO_SCAN = "repo_scan"
    AST = "ast"
    CST = "cst"
    TREE_SITTER = "tree_sitter"
    BYTECODE = "bytecode"
    SYMTABLE = "symtable"
    SCIP = "scip"
    PYTHON_IMPORTS = "python_imports"
    PYTHON_EXTERNAL = "python_external"
    LEXICAL = "lexical"


# Property keys of cpg_props (value_type in parentheses in CONTRACT.md §6).
PROP_KEYS: tuple[str, ...] = (
    "is_async",
    "is_generator",
    "decorators",
    "docstring",
    "param_kind",
    "param_index",
    "has_default",
    "bases",
    "is_package",
    "module",
    "import_kind",
    "import_level",
    "classification",
    "distribution",
    "callee_expr",
    "scip_symbol",
    "encoding",
    "newline",
    "line_count",
)
