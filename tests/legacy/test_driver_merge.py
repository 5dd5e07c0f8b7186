"""The legacy engine writes its outputs and views through the one Delta writer
(``backends.extract.delta.merge_table``, CONTRACT §15): into a run that holds outputs it
commits only the changed rows, and a table it cannot write is ``COMMIT_FAILED``. Here, not in
``tests/unit``: these tests import the legacy backend, and go with it when it is deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import default_spec, evidence_bindings
from backends.extract.delta import merge_table, read_table
from backends.legacy import LegacyError, run_semantics
from tests.legacy.builders import ast_table, row, scan


def _history(uri: Path) -> int:
    return len(DeltaTable(str(uri)).history())


def _spec_of(evidence: Path, ast_rows: list[dict[str, Any]]) -> Any:
    versions = {}
    tables = {"repo_scan": scan("m.py"), "ast": ast_table(ast_rows)}
    for name, contract in EVIDENCE_TABLES.items():
        table = tables.get(name, contract.schema.empty_table())
        versions[name] = merge_table(evidence / name, table, contract.primary_key).version_after
    return default_spec(evidence_bindings(str(evidence), versions))


MODULE = row("m.py", 0, "module", 0, 100)
KLASS = row("m.py", 1, "class", 0, 50, name="K", qualname="K", detail={"bases": []})
FUNC = row("m.py", 2, "function", 60, 90, name="f", qualname="f")


def test_legacy_outputs_written_into_an_existing_run_hold_only_the_changes(
    tmp_path: Path,
) -> None:
    evidence, out, views = tmp_path / "evidence", tmp_path / "out", tmp_path / "views"
    first = run_semantics(_spec_of(evidence, [MODULE, KLASS]), out, views_dir=views)
    assert {o.delta_version for o in first.outputs} == {0}
    again = run_semantics(_spec_of(evidence, [MODULE, KLASS]), out, views_dir=views)
    assert [o.delta_version for o in again.outputs] == [o.delta_version for o in first.outputs]
    assert all(_history(Path(o.uri)) == 1 for o in again.outputs)
    assert all(_history(p) == 1 for p in views.iterdir())

    changed = run_semantics(_spec_of(evidence, [MODULE, KLASS, FUNC]), out, views_dir=views)
    nodes = next(o for o in changed.outputs if o.table == "cpg_nodes")
    assert nodes.delta_version == 1
    feed = pa.table(DeltaTable(nodes.uri).load_cdf(starting_version=1))
    inserted = [r["name"] for r in feed.to_pylist() if r["_change_type"] == "insert"]
    assert "f" in inserted
    # the merged outputs hold what a fresh run computes (but the evidence versions the
    # summary records: the fresh evidence is at version 0)
    fresh = run_semantics(_spec_of(tmp_path / "ev2", [MODULE, KLASS, FUNC]), tmp_path / "out2")
    for merged, new in zip(changed.outputs, fresh.outputs, strict=True):
        a, b = (_without_versions(read_table(Path(o.uri))) for o in (merged, new))
        key = [(k, "ascending") for k in OUTPUT_TABLES[merged.table].primary_key]
        assert a.sort_by(key).to_pylist() == b.sort_by(key).to_pylist(), merged.table


def _without_versions(table: pa.Table) -> pa.Table:
    if "delta_version" in table.schema.names:
        return table.drop_columns(["delta_version"])
    return table


def test_a_legacy_output_that_cannot_be_written_is_commit_failed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "cpg_nodes").write_text("not a table")
    with pytest.raises(LegacyError) as err:
        run_semantics(_spec_of(tmp_path / "evidence", [MODULE, KLASS]), out)
    assert err.value.code == "COMMIT_FAILED"
    assert err.value.context["table"] == "cpg_nodes"
    assert err.value.context["reason"] == "write_failed"
