"""The view catalogue: every view declares its primary key, and parity compares by it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import VIEW_CATALOG


@pytest.mark.parametrize("name", list(VIEW_CATALOG))
def test_every_view_key_is_non_null_columns_of_its_schema(name: str) -> None:
    view = VIEW_CATALOG[name]
    assert view.primary_key
    for key in view.primary_key:
        assert not view.schema.field(key).nullable, f"{name}.{key}"


@pytest.mark.parametrize("name", list(OUTPUT_TABLES))
def test_a_view_that_is_an_output_table_has_that_tables_key(name: str) -> None:
    assert VIEW_CATALOG[name].primary_key == OUTPUT_TABLES[name].primary_key


@pytest.mark.parametrize(
    ("schema", "key"),
    [
        (OUTPUT_TABLES["cpg_nodes"].schema, ("node_id",)),
        (OUTPUT_TABLES["cpg_edges"].schema, ("edge_id",)),
        (OUTPUT_TABLES["diagnostics"].schema, ("diagnostic_id",)),
    ],
)
def test_views_of_nodes_edges_and_diagnostics_are_keyed_like_the_output(
    schema: pa.Schema, key: tuple[str, ...]
) -> None:
    views = [v for v in VIEW_CATALOG.values() if v.schema.equals(schema)]
    assert views
    assert {v.primary_key for v in views} == {key}


def test_the_syntax_view_is_keyed_like_the_syntax_evidence() -> None:
    assert VIEW_CATALOG["syntax"].primary_key == EVIDENCE_TABLES["ast"].primary_key
