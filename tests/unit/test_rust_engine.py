"""The Rust engine through its facade: errors by code and stage, plan tiers, commits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from backends import rust
from backends.contract.codes import ERROR_CODES
from backends.contract.fingerprint import schema_hash, schema_string
from backends.contract.schemas import CPG_NODES, EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec
from backends.contract.views import VIEW_CATALOG
from tests.unit.engine_evidence import workload

ROOT = Path(__file__).parents[2]
_CLI = str(Path(sys.executable).with_name("codeanatomy"))


def _copy(evidence_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "evidence"
    shutil.copytree(evidence_dir, target)
    return target


def _edit_protocol(table_dir: Path) -> None:
    log = table_dir / "_delta_log" / "00000000000000000000.json"
    lines = []
    for line in log.read_text().splitlines():
        action = json.loads(line)
        if "protocol" in action:
            action["protocol"] = {
                "minReaderVersion": 3,
                "minWriterVersion": 7,
                "readerFeatures": ["madeUpReaderFeature"],
                "writerFeatures": ["madeUpReaderFeature"],
            }
        lines.append(json.dumps(action))
    log.write_text("\n".join(lines) + "\n")


def _corrupt_log(table_dir: Path) -> None:
    (table_dir / "_delta_log" / "00000000000000000000.json").write_text("garbage{{{\n")


def _remove_table(table_dir: Path) -> None:
    shutil.rmtree(table_dir)


def _failure(spec: SemanticExecutionSpec | str, out: Path) -> rust.EngineError:
    with pytest.raises(rust.EngineError) as info:
        rust.run(spec, out)
    return info.value


@pytest.mark.parametrize(
    ("damage", "code", "exc"),
    [
        (_remove_table, "INPUT_TABLE_MISSING", rust.RegisterError),
        (_edit_protocol, "DELTA_PROTOCOL_UNSUPPORTED", rust.RegisterError),
        (_corrupt_log, "DELTA_LOG_CORRUPT", rust.RegisterError),
    ],
)
def test_damaged_input_fails_with_its_code_and_stage(
    evidence: Path, tmp_path: Path, damage: object, code: str, exc: type[rust.EngineError]
) -> None:
    ev = _copy(evidence, tmp_path)
    damage(ev / "repo_scan")  # type: ignore[operator]
    err = _failure(workload(ev, cpg_nodes="file_nodes"), tmp_path / "out")
    assert isinstance(err, exc)
    assert (err.code, err.stage) == (code, ERROR_CODES[code].stage.value)
    assert err.context["table"] == "repo_scan"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("spec_text", "code"),
    [
        ("{nope", "SPEC_INVALID"),
        ('{"policy": {"bogus": 1}}', "SPEC_INVALID"),
        ('{"spec_version": 9}', "SPEC_VERSION_UNSUPPORTED"),
        ('{"outputs": [{"table": "cpg_nodes", "view": "ghost"}]}', "VIEW_UNKNOWN"),
        (
            '{"views": [{"name": "a", "kind": "cpg", "inputs": ["b"]},'
            ' {"name": "b", "kind": "cpg", "inputs": ["a"]}],'
            ' "outputs": [{"table": "cpg_nodes", "view": "a"}]}',
            "VIEW_CYCLE",
        ),
    ],
)
def test_invalid_spec_fails_with_its_code_and_stage(
    tmp_path: Path, spec_text: str, code: str
) -> None:
    err = _failure(spec_text, tmp_path / "out")
    assert (err.code, err.stage) == (code, ERROR_CODES[code].stage.value)


def test_unknown_spec_field_error_names_the_path(tmp_path: Path) -> None:
    err = _failure('{"policy": {"bogus": 1}}', tmp_path)
    assert isinstance(err, rust.SpecError)
    assert err.context["path"] == "$.policy"
    assert "bogus" in str(err)


def test_cycle_error_names_the_cycle(tmp_path: Path) -> None:
    spec = (
        '{"views": [{"name": "a", "kind": "cpg", "inputs": ["b"]},'
        ' {"name": "b", "kind": "cpg", "inputs": ["a"]}],'
        ' "outputs": [{"table": "cpg_nodes", "view": "a"}]}'
    )
    err = _failure(spec, tmp_path)
    assert isinstance(err, rust.CompileError)
    cycle = err.context["cycle"]
    assert isinstance(cycle, list)
    assert set(cycle) == {"a", "b"}


def test_a_panic_becomes_internal_error() -> None:
    from backends.rust import _engine

    with pytest.raises(rust.InternalError) as info:
        _engine._panic_for_test()
    assert (info.value.code, info.value.stage) == ("INTERNAL_PANIC", "internal")


_PANIC = (
    "from backends import rust\n"
    "from backends.rust import _engine\n"
    "try:\n"
    "    _engine._panic_for_test()\n"
    "except rust.InternalError as exc:\n"
    "    print(exc.code)\n"
)


@pytest.mark.parametrize("debug", [False, True])
def test_a_panic_reaches_stderr_only_when_debugging(debug: bool) -> None:
    # RUST_BACKTRACE=1 in the user's environment must not put a panic report on a normal
    # run's terminal: the exception carries the message. --debug sets CODEANATOMY_DEBUG.
    env = {k: v for k, v in os.environ.items() if k != "CODEANATOMY_DEBUG"}
    env["RUST_BACKTRACE"] = "1"
    if debug:
        env["CODEANATOMY_DEBUG"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _PANIC], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "INTERNAL_PANIC"
    assert ("panicked" in done.stderr) is debug, done.stderr


@pytest.mark.parametrize("name", [*EVIDENCE_TABLES, *OUTPUT_TABLES, *VIEW_CATALOG])
def test_the_built_engine_reads_the_contract_the_python_definitions_generate(name: str) -> None:
    # The crate compiles contract.json in (test_contract_export keeps the file current): an
    # extension built before the last change of the contract fails here.
    schema = VIEW_CATALOG[name].schema if name in VIEW_CATALOG else None
    if schema is None:
        schema = (EVIDENCE_TABLES.get(name) or OUTPUT_TABLES[name]).schema
    assert rust.schema_string_of(name) == schema_string(schema)


def _generations(spec: SemanticExecutionSpec) -> dict[str, int]:
    views = {v.name: v.inputs for v in spec.views}
    gen: dict[str, int] = {}

    def of(name: str) -> int:
        if name not in gen:
            deps = [of(i) for i in views[name] if i in views]
            gen[name] = 1 + max(deps) if deps else 0
        return gen[name]

    for name in views:
        of(name)
    return gen


def test_plan_tier2_schedule_follows_the_catalogue(evidence: Path) -> None:
    spec = workload(evidence)
    report = rust.plan(spec, 2)
    gen = _generations(spec)
    expected = [tuple(sorted(n for n in gen if gen[n] == g)) for g in range(max(gen.values()) + 1)]
    assert report.schedule == tuple(expected)
    edges = sorted({(i, v.name) for v in spec.views for i in v.inputs})
    assert report.edges == tuple(edges)
    assert report.graph == {
        "inputs": len(EVIDENCE_TABLES),
        "views": len(VIEW_CATALOG),
        "edges": len(edges),
        "generations": len(expected),
        "pruned": 0,
    }


def test_plan_tier1_prunes_to_the_requested_outputs(evidence: Path) -> None:
    report = rust.plan(workload(evidence, cpg_nodes="file_nodes"), 1)
    assert report.outputs == ("cpg_nodes",)
    assert report.graph == {
        "inputs": 1,
        "views": 1,
        "edges": 1,
        "generations": 1,
        "pruned": len(VIEW_CATALOG) - 1,
    }
    assert report.edges is None and report.schedule is None


def test_plan_tier3_checks_every_kept_view_in_schedule_order(evidence: Path) -> None:
    spec = workload(evidence, cpg_nodes="file_nodes", evidence_summary="evidence_summary")
    report = rust.plan(spec, 3)
    assert report.validation is not None and report.schedule is not None
    assert [c.view for c in report.validation] == [v for g in report.schedule for v in g]
    for check in report.validation:
        assert check.expected_schema == schema_string(VIEW_CATALOG[check.view].schema)
        assert check.schema_ok
        assert check.physical_plan and "DeltaScan" in check.physical_plan


def test_run_commits_outputs_with_contract_schema(evidence: Path, tmp_path: Path) -> None:
    result = rust.run(workload(evidence, cpg_nodes="file_nodes"), tmp_path / "out")
    (info,) = result.outputs
    table = DeltaTable(str(tmp_path / "out" / "cpg_nodes"))
    scan = DeltaTable(str(evidence / "repo_scan")).to_pyarrow_table()
    assert info.rows == table.to_pyarrow_table().num_rows == scan.num_rows
    assert info.schema_hash == schema_hash(CPG_NODES)
    assert (info.delta_version, result.backend) == (table.version(), "rust")
    assert set(result.timings) == {"register_s", "plan_s", "execute_s", "commit_s", "semantic_s"}
    assert {m.view for m in result.metrics} == {"cpg_nodes"}


def test_failed_execution_commits_nothing(evidence: Path, tmp_path: Path) -> None:
    ev = _copy(evidence, tmp_path)
    for data in (ev / "scip").glob("*.parquet"):
        data.unlink()  # the log still lists it: the scan fails while executing
    spec = workload(ev, cpg_nodes="file_nodes", evidence_summary="evidence_summary")
    err = _failure(spec, tmp_path / "out")
    assert (err.code, err.stage) == ("EXECUTION_FAILED", "execute")
    assert not (tmp_path / "out" / "cpg_nodes").exists()
