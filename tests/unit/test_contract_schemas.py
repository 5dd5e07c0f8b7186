"""The contract tables: every evidence source has a table, keys exist and are non-nullable."""

from __future__ import annotations

import pytest

from backends.contract import codes
from backends.contract.schemas import (
    EVIDENCE_TABLES,
    EXTRACTORS,
    OUTPUT_TABLES,
    SPAN_COLUMNS,
    table,
)

ALL = {**EVIDENCE_TABLES, **OUTPUT_TABLES}


def test_every_extractor_has_an_evidence_table() -> None:
    assert len(EXTRACTORS) == 9
    assert set(EXTRACTORS) <= set(EVIDENCE_TABLES)


@pytest.mark.parametrize("name", sorted(ALL))
def test_primary_key_columns_exist_and_are_not_nullable(name: str) -> None:
    contract = ALL[name]
    for key in contract.primary_key:
        field = contract.schema.field(key)
        if key == "path" and name == "scip":
            continue  # external SCIP symbols have no document
        assert not field.nullable, f"{name}.{key} is a key and must not be nullable"


@pytest.mark.parametrize("name", sorted(set(EVIDENCE_TABLES) - {"repo_scan"}))
def test_evidence_tables_carry_canonical_spans(name: str) -> None:
    assert set(SPAN_COLUMNS) <= set(EVIDENCE_TABLES[name].schema.names)


def test_output_tables_are_the_five_of_the_design() -> None:
    assert set(OUTPUT_TABLES) == {
        "cpg_nodes",
        "cpg_edges",
        "cpg_props",
        "diagnostics",
        "evidence_summary",
    }


def test_unknown_table_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="nope"):
        table("nope")


def test_codes_are_unique_across_registries_and_upper_case() -> None:
    assert not set(codes.WARNING_CODES) & set(codes.ERROR_CODES)
    for code in [*codes.WARNING_CODES, *codes.ERROR_CODES]:
        assert code == code.upper() and " " not in code


def test_every_error_code_has_an_engine_stage() -> None:
    engine_stages = {
        "validate",
        "compile",
        "register",
        "plan",
        "execute",
        "commit",
        "internal",
        "extract",
    }
    assert {str(c.stage) for c in codes.ERROR_CODES.values()} <= engine_stages
