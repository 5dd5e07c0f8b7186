"""Relocatable, self-describing runs (DESIGN §3): ``run.json`` names its tables relative to the
run directory, so a copied run is compared by its own tables, a moved run still compares, a
version-1 manifest still reads, a pinned version that is gone is an engine-style error, and
commits newer than the pinned versions are reported as drift.

Runs are made directly (Delta tables written here, ``run.json`` by the real
:func:`build_manifest`): a full build is not needed to test where tables are read from.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backends.contract.fingerprint import schema_hash
from backends.contract.result import OutputInfo, RunResult
from backends.contract.schemas import OUTPUT_TABLES, REPO_SCAN
from backends.extract.delta import write_table
from backends.extract.summary import ExtractSummary
from harness.compare.model import TableVerdict
from harness.compare.runs import RunComparison, TableDrift, compare_runs
from harness.errors import EngineFailure, PinnedVersionMissing
from harness.run.manifest import (
    MANIFEST_VERSION,
    RunManifest,
    build_manifest,
    locate,
    read_manifest,
    relative_location,
    write_manifest,
)
from harness.run.request import BackendBuild, BuildRequest

#: The tables every run made here holds (the other evidence tables are absent on both sides).
PRESENT = {("evidence", "repo_scan"), *(("outputs", name) for name in OUTPUT_TABLES)}


def _scan(files: list[str]) -> pa.Table:
    rows = [
        {
            "path": f,
            "status": "ok",
            "file_sha256": f"sha-{f}",
            "is_python": True,
            "is_symlink": False,
            "is_package": False,
            "has_bom": False,
        }
        for f in files
    ]
    return pa.Table.from_pylist(rows, schema=REPO_SCAN)


def _nodes(files: list[str]) -> pa.Table:
    rows = [
        {"node_id": f"n-{f}", "kind": "FILE", "path": f, "evidence_source": "repo_scan"}
        for f in files
    ]
    return pa.Table.from_pylist(rows, schema=OUTPUT_TABLES["cpg_nodes"].schema)


def make_run(out: Path, files: list[str], evidence: Path | None = None) -> RunManifest:
    """A run of a repo with ``files``: repo_scan evidence, the five outputs, ``run.json``.

    With ``evidence``, the run is a shadow side reading shared evidence there (written once).
    """
    request = BuildRequest(repo=Path("/repo"), out=out, evidence=evidence)
    if not (request.evidence_dir / "repo_scan").exists():
        write_table(request.evidence_dir / "repo_scan", _scan(files))
    outputs = []
    for name, contract in OUTPUT_TABLES.items():
        table = _nodes(files) if name == "cpg_nodes" else contract.schema.empty_table()
        uri = request.outputs_dir / name
        outputs.append(
            OutputInfo(
                table=name,
                uri=str(uri),
                delta_version=write_table(uri, table),
                rows=table.num_rows,
                schema_hash=schema_hash(table.schema),
            )
        )
    summary = ExtractSummary(
        repo="/repo",
        out=str(out),
        files=len(files),
        python_files_ok=len(files),
        extractors={},
        warnings_by_code={},
        worker_crashes=0,
        seconds={},
        tables={},
    )
    result = RunResult(
        backend="test", engine_version="test-1", spec_hash="h", outputs=tuple(outputs)
    )
    build = BackendBuild(backend="test", summary=summary, result=result, timings={"total_s": 0.1})
    manifest = build_manifest(request, build, dt.datetime.now(dt.UTC))
    write_manifest(out / "run.json", manifest)
    return manifest


def _verdicts(result: RunComparison) -> dict[tuple[str, str], TableVerdict]:
    return {(v.stage, v.table): v for v in result.tables}


def _edit_manifest(run: Path, edit: Any) -> None:
    """Rewrite ``run.json`` through ``edit(data)`` (plain JSON, as a hand edit would)."""
    path = run / "run.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def _assert_read_from(result: RunComparison, primary: Path, candidate: Path) -> None:
    """Every present table of both sides was read under the given run locations, and agrees."""
    verdicts = _verdicts(result)
    for key in PRESENT:
        verdict = verdicts[key]
        assert verdict.severity == "ok", (key, verdict.reasons)
        assert verdict.primary is not None and verdict.candidate is not None
        assert Path(verdict.primary.uri).is_relative_to(primary), key
        assert Path(verdict.candidate.uri).is_relative_to(candidate), key


# -- the format -----------------------------------------------------------------------------


def test_run_json_names_tables_relative_to_the_run(tmp_path: Path) -> None:
    manifest = make_run(tmp_path / "run", ["a.py", "b.py"])
    assert manifest.manifest_version == MANIFEST_VERSION == 2
    assert [(e.table, e.path) for e in manifest.inputs] == [("repo_scan", "evidence/repo_scan")]
    assert {o.path for o in manifest.outputs} == {f"outputs/{n}" for n in OUTPUT_TABLES}
    # The absolute location stays, as provenance only.
    assert all(Path(e.uri).is_absolute() for e in (*manifest.inputs, *manifest.outputs))
    assert read_manifest(tmp_path / "run" / "run.json") == manifest


def test_a_shadow_side_names_the_shared_evidence_with_one_parent_step(tmp_path: Path) -> None:
    manifest = make_run(tmp_path / "legacy", ["a.py"], evidence=tmp_path / "evidence")
    assert [e.path for e in manifest.inputs] == ["../evidence/repo_scan"]


def test_a_relative_out_is_recorded_absolute_and_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = make_run(Path("out/b1"), ["a.py"])
    assert manifest.inputs[0].uri == str(tmp_path / "out" / "b1" / "evidence" / "repo_scan")
    assert manifest.inputs[0].path == "evidence/repo_scan"


@pytest.mark.parametrize(
    ("uri", "run_dir", "expected"),
    [
        ("/r/run/outputs/cpg_nodes", "/r/run", "outputs/cpg_nodes"),
        ("/r/run/../evidence/ast", "/r/run", "../evidence/ast"),
        ("/r/evidence/ast", "/r/run/", "../evidence/ast"),
        ("/elsewhere/evidence/ast", "/r/run", None),
        ("/r/run", "/r/run", None),
        ("s3://b/p/RUN/outputs/cpg_edges", "s3://b/p/RUN", "outputs/cpg_edges"),
        ("s3://b/p/evidence/ast", "s3://b/p/RUN", "../evidence/ast"),
        ("s3://other/p/RUN/outputs/x", "s3://b/p/RUN", None),
        ("/r/run/outputs/x", "s3://b/r/run", None),
    ],
)
def test_relative_location(uri: str, run_dir: str, expected: str | None) -> None:
    assert relative_location(uri, run_dir) == expected


@pytest.mark.parametrize(
    "bad", ["/abs/t", "../../t", "a/../../t", "a/../t", "./t", "..", ".", "", "a\\b"]
)
def test_a_path_leaving_the_run_is_a_malformed_manifest(tmp_path: Path, bad: str) -> None:
    make_run(tmp_path / "run", ["a.py"])

    def edit(data: dict[str, Any]) -> None:
        data["outputs"][0]["path"] = bad

    _edit_manifest(tmp_path / "run", edit)
    with pytest.raises(msgspec.ValidationError, match="path"):
        read_manifest(tmp_path / "run" / "run.json")


def test_a_manifest_from_a_newer_harness_is_refused(tmp_path: Path) -> None:
    make_run(tmp_path / "run", ["a.py"])
    _edit_manifest(tmp_path / "run", lambda d: d.update(manifest_version=MANIFEST_VERSION + 1))
    with pytest.raises(msgspec.ValidationError, match="unsupported manifest_version"):
        read_manifest(tmp_path / "run" / "run.json")


# -- (a) a copied run is compared by its own tables ------------------------------------------


def test_a_copied_run_is_compared_by_its_own_tables(tmp_path: Path) -> None:
    run_a, run_b, copy = tmp_path / "A", tmp_path / "B", tmp_path / "A2"
    make_run(run_a, ["a.py", "b.py"])
    make_run(run_b, ["c.py"])
    shutil.copytree(run_a, copy)
    # The copy's cpg_nodes becomes B's; its run.json still pins version 0, which now holds
    # other rows. Read at A's absolute uri (manifest v1 behaviour) this compared clean.
    shutil.rmtree(copy / "outputs" / "cpg_nodes")
    shutil.copytree(run_b / "outputs" / "cpg_nodes", copy / "outputs" / "cpg_nodes")
    result = compare_runs(run_a, copy)
    nodes = _verdicts(result)[("outputs", "cpg_nodes")]
    assert nodes.severity != "ok"
    assert nodes.candidate is not None
    assert Path(nodes.candidate.uri) == copy / "outputs" / "cpg_nodes"
    assert nodes.candidate.rows == 1


# -- (b) a moved run compares clean ---------------------------------------------------------


def test_a_moved_run_compares_clean_against_a_copy_of_itself(tmp_path: Path) -> None:
    run, copy, moved = tmp_path / "run", tmp_path / "copy", tmp_path / "elsewhere" / "run"
    make_run(run, ["a.py", "b.py"])
    shutil.copytree(run, copy)
    moved.parent.mkdir()
    shutil.move(run, moved)
    result = compare_runs(moved, copy)
    _assert_read_from(result, moved, copy)
    assert result.drift == ()


def test_a_moved_shadow_root_reads_its_shared_evidence(tmp_path: Path) -> None:
    root = tmp_path / "shadow"
    make_run(root / "legacy", ["a.py"], evidence=root / "evidence")
    make_run(root / "rust", ["a.py"], evidence=root / "evidence")
    moved = tmp_path / "artifact" / "shadow"
    moved.parent.mkdir()
    shutil.move(root, moved)
    result = compare_runs(moved / "legacy", moved / "rust")
    _assert_read_from(result, moved, moved)
    scan = _verdicts(result)[("evidence", "repo_scan")]
    assert scan.primary is not None
    assert Path(scan.primary.uri) == moved / "evidence" / "repo_scan"


# -- (c) version-1 manifests ----------------------------------------------------------------


def _to_v1(data: dict[str, Any]) -> None:
    data["manifest_version"] = 1
    for entry in (*data["inputs"], *data["outputs"]):
        del entry["path"]


def test_a_version_1_manifest_reads_at_its_absolute_uri(tmp_path: Path) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    _edit_manifest(run, _to_v1)
    shutil.copytree(run, copy)
    manifest = read_manifest(copy / "run.json")
    assert manifest.manifest_version == 1
    assert all(o.path is None for o in manifest.outputs)
    # v1 semantics while the original exists: the copy's tables are read at the original's uri.
    nodes = next(o for o in manifest.outputs if o.table == "cpg_nodes")
    assert locate(copy, "outputs", nodes) == run / "outputs" / "cpg_nodes"
    _assert_read_from(compare_runs(run, copy), run, run)


def test_a_moved_version_1_run_falls_back_to_the_layout(tmp_path: Path) -> None:
    run, copy, moved = tmp_path / "run", tmp_path / "copy", tmp_path / "moved"
    make_run(run, ["a.py", "b.py"])
    _edit_manifest(run, _to_v1)
    shutil.copytree(run, copy)
    shutil.move(run, moved)
    _assert_read_from(compare_runs(moved, copy), moved, copy)


def test_a_moved_version_1_shadow_side_falls_back_to_the_shared_evidence(tmp_path: Path) -> None:
    root, moved = tmp_path / "shadow", tmp_path / "moved"
    for side in ("legacy", "rust"):
        make_run(root / side, ["a.py"], evidence=root / "evidence")
        _edit_manifest(root / side, _to_v1)
    shutil.move(root, moved)
    _assert_read_from(compare_runs(moved / "legacy", moved / "rust"), moved, moved)


# -- (d) a pinned version that is gone ------------------------------------------------------


def _pin(version: int) -> Any:
    def edit(data: dict[str, Any]) -> None:
        for entry in data["outputs"]:
            if entry["table"] == "cpg_nodes":
                entry["delta_version"] = version

    return edit


def _overwrite_nodes(run: Path) -> Path:
    """Commit version 1 of the run's cpg_nodes (other rows); the run still pins version 0."""
    uri = run / "outputs" / "cpg_nodes"
    write_deltalake(str(uri), _nodes(["z.py"]), mode="overwrite")
    return uri


def _beyond_the_log(run: Path) -> None:
    _edit_manifest(run, _pin(7))


def _log_entry_removed(run: Path) -> None:
    uri = _overwrite_nodes(run)
    DeltaTable(str(uri)).create_checkpoint()
    (uri / "_delta_log" / f"{0:020d}.json").unlink()


def _vacuumed(run: Path) -> None:
    uri = _overwrite_nodes(run)
    DeltaTable(str(uri)).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)


@pytest.mark.parametrize("damage", [_beyond_the_log, _log_entry_removed, _vacuumed])
def test_a_missing_pinned_version_is_an_engine_error(tmp_path: Path, damage: Any) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    shutil.copytree(run, copy)
    damage(copy)
    with pytest.raises(PinnedVersionMissing) as err:
        compare_runs(run, copy)
    failure = err.value
    assert isinstance(failure, EngineFailure)
    assert (failure.code, failure.stage) == ("DELTA_VERSION_MISSING", "register")
    assert failure.uri == str(copy / "outputs" / "cpg_nodes")
    assert failure.version == (7 if damage is _beyond_the_log else 0)
    # Overwritten once (version 1); vacuum also commits its start and end.
    expected_latest = {_beyond_the_log: 0, _log_entry_removed: 1, _vacuumed: 3}[damage]
    assert failure.latest_version == expected_latest
    assert "\x1b" not in failure.message
    assert failure.to_dict()["context"]["delta_version"] == failure.version


def test_an_unreadable_log_is_an_engine_error(tmp_path: Path) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    shutil.copytree(run, copy)
    (copy / "outputs" / "cpg_nodes" / "_delta_log" / f"{0:020d}.json").write_text("{not json")
    with pytest.raises(EngineFailure) as err:
        compare_runs(run, copy)
    assert err.value.code in {"DELTA_LOG_CORRUPT", "DELTA_VERSION_MISSING"}


# -- (e) drift ------------------------------------------------------------------------------


def test_commits_after_the_run_are_reported_as_drift(tmp_path: Path) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    shutil.copytree(run, copy)
    _overwrite_nodes(copy)
    write_deltalake(str(copy / "outputs" / "cpg_nodes"), _nodes(["y.py"]), mode="append")
    result = compare_runs(run, copy)
    assert result.drift == (
        TableDrift(
            side="candidate",
            stage="outputs",
            table="cpg_nodes",
            pinned_version=0,
            latest_version=2,
        ),
    )
    # The pinned version is what is compared: the later commits change nothing else.
    _assert_read_from(result, run, copy)


def test_drift_in_the_evidence_of_the_primary(tmp_path: Path) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    shutil.copytree(run, copy)
    write_table(run / "evidence" / "repo_scan", _scan(["a.py", "new.py"]))
    assert compare_runs(run, copy).drift == (
        TableDrift(
            side="primary",
            stage="evidence",
            table="repo_scan",
            pinned_version=0,
            latest_version=1,
        ),
    )


# -- (f) vacuous runs -----------------------------------------------------------------------


def test_runs_without_a_manifest_have_no_pins_and_no_drift(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    result = compare_runs(tmp_path / "a", tmp_path / "b")
    assert result.drift == ()
    assert result.manifest == ()
    assert all(v.primary is None or v.primary.rows is None for v in result.tables)


def test_a_manifest_with_no_tables_reads_nothing(tmp_path: Path) -> None:
    run, copy = tmp_path / "run", tmp_path / "copy"
    make_run(run, ["a.py"])
    _edit_manifest(run, lambda d: d.update(inputs=[], outputs=[]))
    for folder in ("evidence", "outputs"):
        shutil.rmtree(run / folder)
    shutil.copytree(run, copy)
    manifest = read_manifest(run / "run.json")
    assert (manifest.inputs, manifest.outputs) == ((), ())
    result = compare_runs(run, copy)
    assert result.drift == ()
    assert all(v.primary is not None and v.primary.rows is None for v in result.tables)
