"""CPG contract v1: the single source of truth for schemas, keys, IDs, codes and the spec.

This package imports nothing from the rest of the project (DESIGN §2).
"""

from backends.contract.codes import ERROR_CODES, WARNING_CODES, Severity, Stage
from backends.contract.ids import edge_id, normalize_scip_symbol, span_node_id, stable_id
from backends.contract.schemas import (
    CONTRACT_VERSION,
    EVIDENCE_TABLES,
    EXTRACTORS,
    OUTPUT_TABLES,
    SPAN_COLUMNS,
    TableContract,
    table,
)
from backends.contract.spec import (
    SPEC_VERSION,
    SemanticExecutionSpec,
    canonical_json,
    decode_spec,
    spec_hash,
)
from backends.contract.vocabulary import EdgeKind, EvidenceSource, NodeKind

__all__ = [
    "CONTRACT_VERSION",
    "ERROR_CODES",
    "EVIDENCE_TABLES",
    "EXTRACTORS",
    "OUTPUT_TABLES",
    "SPAN_COLUMNS",
    "SPEC_VERSION",
    "WARNING_CODES",
    "EdgeKind",
    "EvidenceSource",
    "NodeKind",
    "SemanticExecutionSpec",
    "Severity",
    "Stage",
    "TableContract",
    "canonical_json",
    "decode_spec",
    "edge_id",
    "normalize_scip_symbol",
    "span_node_id",
    "spec_hash",
    "stable_id",
    "table",
]
