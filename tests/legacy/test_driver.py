"""``run_semantics``: pinned inputs, errors with codes, no partial output, views and warnings."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec
from backends.contract.views import VIEW_CATALOG, default_spec, evidence_bindings
from backends.legacy import LegacyError, run_semantics
from tests.legacy.builders import ast_table, make, row, scan

P = "m.py"
ROWS = [
    row(P, 0, "module", 0, 100),
    row(P, 1, "class", 0, 50, name="K", qualname="K", detail={"bases": []}),
]


def _write(evidence: Path, tables: dict[str, pa.Table]) -> SemanticExecutionSpec:
    versions = {}
    for name, contract in EVIDENCE_TABLES.items():
        table = tables.get(name, contract.schema.empty_table())
        write_deltalake(str(evidence / name), table, mode="overwrite")
        versions[name] = int(DeltaTable(str(evidence / name)).version())
    return default_spec(evidence_bindings(str(evidence), versions))


def _spec(tmp_path: Path, rows: list[dict[str, object]] = ROWS) -> SemanticExecutionSpec:
    return _write(tmp_path / "evidence", {"repo_scan": scan(P), "ast": ast_table(rows)})


def test_every_output_is_committed_with_its_contract_schema(tmp_path: Path) -> None:
    result = run_semantics(_spec(tmp_path), tmp_path / "out")
    assert [o.table for o in result.outputs] == list(OUTPUT_TABLES)
    for out in result.outputs:
        table = pa.table(DeltaTable(out.uri, version=out.delta_version).to_pyarrow_table())
        assert table.schema.equals(OUTPUT_TABLES[out.table].schema)
        assert table.num_rows == out.rows


def test_views_dir_holds_every_computed_view(tmp_path: Path) -> None:
    run_semantics(_spec(tmp_path), tmp_path / "out", views_dir=tmp_path / "views")
    assert sorted(p.name for p in (tmp_path / "views").iterdir()) == sorted(VIEW_CATALOG)


def test_semantic_diagnostics_become_run_warnings(tmp_path: Path) -> None:
    result = run_semantics(_spec(tmp_path), tmp_path / "out")
    # only ast has rows: cst, tree_sitter, bytecode, symtable and scip are missing evidence
    assert [w.code for w in result.warnings] == ["SEM_MISSING_EVIDENCE"] * 5
    assert {w.stage for w in result.warnings} == {"normalize"}


def test_a_failing_view_names_itself_and_writes_nothing(tmp_path: Path) -> None:
    bad = [ROWS[0], {**ROWS[1], "detail": "{not json"}]
    with pytest.raises(LegacyError) as err:
        run_semantics(_spec(tmp_path, bad), tmp_path / "out")
    assert err.value.code == "EXECUTION_FAILED" and err.value.stage == "execute"
    assert err.value.context["view"] == "inherit_edges"
    assert not (tmp_path / "out").exists()


def test_missing_input_table(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    bindings = tuple(
        b if b.name != "scip" else type(b)(name="scip", uri=str(tmp_path / "nope"), delta_version=0)
        for b in spec.inputs
    )
    with pytest.raises(LegacyError) as err:
        run_semantics(default_spec(bindings), tmp_path / "out")
    assert (err.value.code, err.value.stage) == ("INPUT_TABLE_MISSING", "register")


def test_missing_delta_version(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    bindings = tuple(
        b if b.name != "ast" else type(b)(name="ast", uri=b.uri, delta_version=7)
        for b in spec.inputs
    )
    with pytest.raises(LegacyError) as err:
        run_semantics(default_spec(bindings), tmp_path / "out")
    assert err.value.code == "DELTA_VERSION_MISSING"


def test_input_schema_mismatch(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    cst_uri = next(b.uri for b in spec.inputs if b.name == "cst")
    write_deltalake(cst_uri, pa.table({"path": ["x"]}), mode="overwrite", schema_mode="overwrite")
    bindings = tuple(
        b if b.name != "cst" else type(b)(name="cst", uri=b.uri, delta_version=1)
        for b in spec.inputs
    )
    with pytest.raises(LegacyError) as err:
        run_semantics(default_spec(bindings), tmp_path / "out")
    assert err.value.code == "INPUT_SCHEMA_MISMATCH"


def test_inputs_are_read_at_their_pinned_version(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    ast_uri = next(b.uri for b in spec.inputs if b.name == "ast")
    write_deltalake(ast_uri, make(EVIDENCE_TABLES["ast"].schema, []), mode="overwrite")
    result = run_semantics(spec, tmp_path / "out")  # still pinned to version 0
    assert result.view_rows["definition_nodes"] == 1
