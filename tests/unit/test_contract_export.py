"""contract.json: generated from the Python definitions, committed, and never stale."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from backends.contract import export
from backends.contract.codes import ERROR_CODES, WARNING_CODES
from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import VIEW_CATALOG


def test_the_committed_contract_file_is_what_the_definitions_generate() -> None:
    assert not export.is_stale(), (
        f"{export.PATH} is stale: regenerate it with `{export.COMMAND}` and commit it"
    )


def test_a_stale_or_missing_file_is_reported(tmp_path: Path) -> None:
    stale = tmp_path / "contract.json"
    stale.write_text(export.render().replace('"cpg/1"', '"cpg/0"'), encoding="utf-8")
    assert export.is_stale(stale)
    assert export.is_stale(tmp_path / "missing.json")


def test_check_exits_0_on_the_committed_file() -> None:
    assert export.main(["--check"]) == 0


def test_rendering_is_deterministic_sorted_and_ends_with_a_newline() -> None:
    text = export.render()
    assert text == export.render()
    assert text.endswith("}\n")
    doc = json.loads(text)
    assert json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_the_file_lists_every_table_view_and_code_in_order() -> None:
    doc = export.document()
    assert [t["name"] for t in doc["tables"]] == [*EVIDENCE_TABLES, *OUTPUT_TABLES]
    assert [v["name"] for v in doc["views"]] == list(VIEW_CATALOG)
    assert [c["code"] for c in doc["codes"]["warning"]] == list(WARNING_CODES)
    assert [c["code"] for c in doc["codes"]["error"]] == list(ERROR_CODES)


def test_a_view_carries_its_declared_key_and_columns_in_order() -> None:
    (view,) = [v for v in export.document()["views"] if v["name"] == "cpg_props"]
    assert view["primary_key"] == ["node_id", "key"]
    assert [c["name"] for c in view["columns"]] == ["node_id", "key", "value", "value_type"]
    assert view["columns"][0] == {"name": "node_id", "type": "string", "nullable": False}


@pytest.mark.parametrize(
    ("typ", "text"),
    [
        (pa.string(), "string"),
        (pa.int32(), "int32"),
        (pa.int64(), "int64"),
        (pa.bool_(), "bool"),
        (pa.float64(), "double"),
        (pa.list_(pa.string()), "list<item: string>"),
    ],
)
def test_types_are_written_as_pyarrow_prints_them(typ: pa.DataType, text: str) -> None:
    assert export.type_text(typ) == text


@pytest.mark.parametrize(
    "typ",
    [
        pa.large_string(),
        pa.float32(),
        pa.list_(pa.field("x", pa.string())),
        pa.list_(pa.field("item", pa.string(), nullable=False)),
    ],
)
def test_a_type_the_engine_cannot_read_is_refused(typ: pa.DataType) -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        export.type_text(typ)
