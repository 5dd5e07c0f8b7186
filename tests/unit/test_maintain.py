"""The Delta maintenance policy (issue 14.5) on real Delta tables: compaction, vacuum that keeps
every version a run or a cursor pins, checkpoints, dry runs, and ``codeanatomy maintain``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import msgspec
import pyarrow as pa
import pytest
import typer
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from backends.contract.fingerprint import fingerprint
from harness.config.model import MaintenanceConfig
from harness.errors import UsageError
from harness.exit_codes import EXIT_OK, EXIT_USAGE
from harness.gates.history import HISTORY_SCHEMA, recent_runs
from harness.maintain import (
    NO_DELTA_TABLE,
    last_checkpoint,
    maintain_history,
    maintain_path,
    maintain_run,
    maintain_table,
)
from harness.maintain_cli import maintain
from harness.pins import PINS_UNREADABLE, Pin, collect_pins, find_tables, keep_versions
from harness.run.manifest import (
    MANIFEST_VERSION,
    RepoEntry,
    RunManifest,
    table_entry,
    write_manifest,
)
from tests.s3_server import S3Server

CDF = {"delta.enableChangeDataFeed": "true"}
# Vacuum everything no pin reads, compact from two small files, checkpoint at every run.
EAGER = MaintenanceConfig(vacuum_retention_hours=0, min_files_to_compact=2, checkpoint_interval=1)

app = typer.Typer()
app.command()(maintain)
runner = CliRunner()


def _rows(ids: range, tag: str) -> pa.Table:
    return pa.table({"id": pa.array(list(ids), pa.int64()), "tag": [tag] * len(ids)})


def _write(uri: Path, data: pa.Table, mode: Literal["append", "overwrite"] = "append") -> int:
    if not (uri / "_delta_log").is_dir():
        write_deltalake(str(uri), data, mode=mode, configuration=CDF)
    else:
        write_deltalake(str(uri), data, mode=mode)
    return DeltaTable(str(uri)).version()


def _merge(uri: Path, data: pa.Table) -> int:
    (
        DeltaTable(str(uri))
        .merge(data, predicate="t.id = s.id", source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    return DeltaTable(str(uri)).version()


def _small_files_table(uri: Path, appends: int = 5) -> None:
    """Version 0 and ``appends`` appends: one small file each."""
    for i in range(appends + 1):
        _write(uri, _rows(range(i * 10, i * 10 + 10), f"a{i}"))


def _read(uri: Path, version: int | None = None) -> pa.Table:
    return pa.table(DeltaTable(str(uri), version=version).to_pyarrow_table())


def _cdf(uri: Path, since: int) -> list[tuple[int, str, int]]:
    changes = pa.table(DeltaTable(str(uri)).load_cdf(starting_version=since))
    return sorted(
        zip(
            changes.column("id").to_pylist(),
            changes.column("_change_type").to_pylist(),
            changes.column("_commit_version").to_pylist(),
            strict=True,
        )
    )


def _files(root: Path) -> list[tuple[str, int]]:
    return sorted(
        (p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    )


def _run_folder(run: Path, tables: dict[str, int], before: dict[str, int] | None = None) -> None:
    """A run.json naming ``run/outputs/<table>`` at the given versions (and version_before)."""
    outputs = tuple(
        table_entry(name, run / "outputs" / name, version, run) for name, version in tables.items()
    )
    manifest = RunManifest(
        manifest_version=MANIFEST_VERSION,
        backend="rust",
        engine_version="test",
        versions={},
        spec_hash="test",
        repo=RepoEntry(path="repo", files=0, python_files_ok=0, fingerprint=""),
        inputs=(),
        outputs=outputs,
        warnings_by_code={},
        warnings=(),
        timings={},
        started_at="2026-12-07T00:00:00+00:00",
        finished_at="2026-12-07T00:00:00+00:00",
    )
    write_manifest(run / "run.json", manifest)
    if before:
        raw = json.loads((run / "run.json").read_text())
        for entry in raw["outputs"]:
            if entry["table"] in before:
                entry["version_before"] = before[entry["table"]]
        (run / "run.json").write_text(json.dumps(raw))


def _cursor(run: Path, tables: dict[str, int]) -> None:
    (run / "cursors").mkdir(parents=True, exist_ok=True)
    (run / "cursors" / "changes.json").write_text(
        json.dumps({"tables": tables, "updated_at": "2026-12-07T00:00:00+00:00"})
    )


# --- compaction ------------------------------------------------------------------------------


def test_compaction_merges_small_files_and_keeps_the_fingerprint(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _small_files_table(uri)
    before = _read(uri)
    result = maintain_table(uri, EAGER)
    assert result.error is None
    assert result.compaction is not None
    assert (result.compaction.files_before, result.compaction.files_after) == (6, 1)
    assert result.compaction.version == 6
    after = _read(uri)
    assert len(DeltaTable(str(uri)).file_uris()) == 1
    assert fingerprint(after) == fingerprint(before)
    assert after.num_rows == 60


def test_compaction_is_skipped_below_min_files(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _write(uri, _rows(range(10), "only"))
    result = maintain_table(uri, EAGER)
    assert result.compaction is not None
    assert result.compaction.files_after is None
    assert result.compaction.skipped is not None
    assert "1 small file(s)" in result.compaction.skipped
    assert DeltaTable(str(uri)).history(1)[0]["operation"] != "OPTIMIZE"


def test_compaction_is_not_a_change_in_the_change_data_feed(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _small_files_table(uri, appends=3)
    latest = DeltaTable(str(uri)).version()
    result = maintain_table(uri, EAGER, (Pin(version=latest, kind="cursor", source="c"),))
    assert result.compaction is not None and result.compaction.version == latest + 1
    # The feed after the cursor has no row: optimize (and vacuum) change no data.
    assert _cdf(uri, latest + 1) == []
    # The real changes before it are still there.
    assert len(_cdf(uri, 0)) == 40


# --- vacuum and pins -------------------------------------------------------------------------


def _pinned_run(tmp_path: Path) -> tuple[Path, Path]:
    """A run folder whose table has versions 0-3 (two appends, then an overwrite) and whose
    run.json pins version 1 (version_before 0); version 2's file is pinned by nobody."""
    run = tmp_path / "run"
    uri = run / "outputs" / "cpg_nodes"
    _write(uri, _rows(range(0, 10), "v0"))
    _write(uri, _rows(range(10, 20), "v1"))
    _write(uri, _rows(range(20, 30), "v2"))
    _write(uri, _rows(range(100, 105), "v3"), mode="overwrite")
    _write(uri, _rows(range(105, 110), "v4"))
    _run_folder(run, {"cpg_nodes": 1}, before={"cpg_nodes": 0})
    return run, uri


def test_pinned_versions_stay_readable_and_an_unpinned_one_is_vacuumed(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    pinned = {v: _read(uri, v) for v in (0, 1)}
    report = maintain_run(run, EAGER)
    (result,) = report.tables
    assert result.error is None
    assert [(p.version, p.source) for p in result.pins] == [
        (0, "run.json version_before"),
        (1, "run.json outputs"),
    ]
    assert result.vacuum is not None
    assert result.vacuum.kept_versions == (0, 1)
    assert result.vacuum.files > 0 and result.vacuum.bytes > 0
    for version, table in pinned.items():
        assert fingerprint(_read(uri, version)) == fingerprint(table)
    # Version 2 added a file no pin reads: vacuum deleted it.
    with pytest.raises(Exception, match=r"(?i)not found|no such file"):
        _read(uri, 2)


def test_without_pins_every_tombstone_older_than_the_retention_goes(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    (run / "run.json").unlink()
    result = maintain_run(run, EAGER).tables[0]
    assert result.pins == ()
    assert result.vacuum is not None and result.vacuum.kept_versions == ()
    with pytest.raises(Exception, match=r"(?i)not found|no such file"):
        _read(uri, 1)


def test_the_retention_keeps_recent_tombstones(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    result = maintain_run(run, MaintenanceConfig(min_files_to_compact=2)).tables[0]
    assert result.vacuum is not None
    assert (result.vacuum.files, result.vacuum.retention_hours) == (0, 168)
    assert _read(uri, 2).num_rows == 30


def test_a_cursor_still_reads_the_change_data_feed_after_vacuum(tmp_path: Path) -> None:
    run = tmp_path / "run"
    uri = run / "outputs" / "cpg_edges"
    _small_files_table(uri, appends=2)  # versions 0-2
    cursor = DeltaTable(str(uri)).version()
    _write(uri, _rows(range(500, 505), "appended"))  # feed from add files
    _merge(uri, _rows(range(0, 15), "merged"))  # feed from _change_data files
    _write(uri, _rows(range(900, 901), "replaced"), mode="overwrite")  # tombstones everything
    expected = _cdf(uri, cursor + 1)
    _cursor(run, {"cpg_edges": cursor})
    result = maintain_run(run, EAGER).tables[0]
    assert [p.kind for p in result.pins] == ["cursor"]
    assert result.vacuum is not None and result.vacuum.kept_versions[0] == cursor
    assert _cdf(uri, cursor + 1) == expected


def test_without_the_cursor_the_same_feed_is_vacuumed(tmp_path: Path) -> None:
    """The control of the test above: the cursor's pin is what keeps the feed readable."""
    uri = tmp_path / "run" / "outputs" / "cpg_edges"
    _small_files_table(uri, appends=2)
    cursor = DeltaTable(str(uri)).version()
    _write(uri, _rows(range(500, 505), "appended"))
    _write(uri, _rows(range(900, 901), "replaced"), mode="overwrite")
    maintain_run(tmp_path / "run", EAGER)
    with pytest.raises(Exception, match=r"(?i)not found|no such file"):
        _cdf(uri, cursor + 1)


def test_keep_versions_of_a_cursor_run_to_the_latest() -> None:
    pins = (Pin(version=3, kind="cursor", source="c"), Pin(version=1, kind="run", source="r"))
    assert keep_versions(pins, 6) == (1, 3, 4, 5, 6)
    assert keep_versions((), 6) == ()


def test_a_pin_newer_than_the_table_skips_vacuum(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _small_files_table(uri, appends=2)
    result = maintain_table(uri, EAGER, (Pin(version=99, kind="run", source="run.json"),))
    assert result.vacuum is not None and result.vacuum.skipped is not None
    assert "newer than the table's latest" in result.vacuum.skipped


def test_a_pin_whose_log_is_gone_skips_vacuum(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _small_files_table(uri, appends=3)
    DeltaTable(str(uri)).create_checkpoint()  # at version 3: the log before it can go
    for version in range(3):
        (uri / "_delta_log" / f"{version:020d}.json").unlink()
    result = maintain_table(uri, EAGER, (Pin(version=1, kind="run", source="run.json"),))
    assert result.vacuum is not None and result.vacuum.skipped is not None
    assert "cannot be loaded: 1 (" in result.vacuum.skipped
    assert result.vacuum.files == 0


def test_a_table_given_alone_keeps_its_run_pins(tmp_path: Path) -> None:
    _, uri = _pinned_run(tmp_path)
    report = maintain_path(uri, EAGER)
    assert [(p.version, p.source) for p in report.tables[0].pins] == [
        (0, "../../run.json version_before"),
        (1, "../../run.json outputs"),
    ]
    assert _read(uri, 1).num_rows == 20


def test_a_stage_folder_given_alone_keeps_its_run_pins(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    _cursor(run, {"cpg_nodes": 3})
    (result,) = maintain_path(run / "outputs", EAGER).tables
    assert result.path == "cpg_nodes"
    assert [p.version for p in result.pins] == [0, 1, 3]
    assert _read(uri, 1).num_rows == 20


def test_shadow_folder_pins_the_shared_evidence_of_both_sides(tmp_path: Path) -> None:
    out = tmp_path / "shadow"
    evidence = out / "evidence" / "ast"
    _small_files_table(evidence, appends=2)
    for side, version in (("legacy", 1), ("rust", 2)):
        entry = table_entry("ast", evidence, version, out / side)
        assert entry.path == "../evidence/ast"
        _run_folder(out / side, {})
        raw = json.loads((out / side / "run.json").read_text())
        raw["inputs"] = [msgspec.to_builtins(entry)]
        (out / side / "run.json").write_text(json.dumps(raw))
    pins = collect_pins(out.resolve())
    assert sorted(p.version for p in pins[evidence.resolve()]) == [1, 2]
    assert find_tables(out) == (evidence,)
    # Given alone, the shared table keeps the pins of both sides.
    (alone,) = maintain_path(evidence, EAGER).tables
    assert [(p.version, p.source) for p in alone.pins] == [
        (1, "../../legacy/run.json inputs"),
        (2, "../../rust/run.json inputs"),
    ]
    assert _read(evidence, 1).num_rows == 20


def test_the_folder_around_a_plain_run_is_not_searched(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path / "runs")
    other = tmp_path / "runs" / "other"
    _write(other / "outputs" / "cpg_nodes", _rows(range(3), "other"))
    (other / "cursors").mkdir()
    (other / "cursors" / "changes.json").write_text("not a cursor")
    (result,) = maintain_path(run, EAGER).tables
    assert [p.source for p in result.pins] == ["run.json version_before", "run.json outputs"]
    assert _read(uri, 1).num_rows == 20


def test_unreadable_run_json_refuses_to_maintain(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    (run / "run.json").write_text("{not json")
    version = DeltaTable(str(uri)).version()
    with pytest.raises(UsageError) as caught:
        maintain_run(run, EAGER)
    assert caught.value.code == PINS_UNREADABLE
    assert DeltaTable(str(uri)).version() == version


# --- checkpoint, dry run, empty input --------------------------------------------------------


def test_checkpoint_is_written_when_due(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    _small_files_table(uri, appends=2)
    result = maintain_table(uri, EAGER)
    assert result.checkpoint is not None
    assert result.checkpoint.version == result.version_after
    assert last_checkpoint(uri) == result.version_after
    assert result.checkpoint.cleanup_skipped is None  # no pin: cleanup ran (nothing expired)
    # Nothing is due right after: the vacuous case.
    again = maintain_table(uri, MaintenanceConfig(vacuum_retention_hours=0))
    assert again.checkpoint is not None and again.checkpoint.version is None
    assert again.checkpoint.skipped is not None


def test_log_cleanup_is_skipped_while_a_version_before_the_checkpoint_is_pinned(
    tmp_path: Path,
) -> None:
    run, _ = _pinned_run(tmp_path)
    result = maintain_run(run, EAGER).tables[0]
    assert result.checkpoint is not None and result.checkpoint.version is not None
    assert result.checkpoint.cleanup_skipped is not None
    assert "[0, 1]" in result.checkpoint.cleanup_skipped


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    run, _ = _pinned_run(tmp_path)
    files = _files(run)
    report = maintain_run(run, EAGER, dry_run=True)
    assert _files(run) == files
    (result,) = report.tables
    assert result.version_after == result.version_before == 4
    assert result.compaction is not None and result.compaction.skipped == "dry run"
    assert result.vacuum is not None and result.vacuum.files > 0  # what a real run would delete
    assert result.checkpoint is not None and result.checkpoint.skipped == "dry run"


def test_nothing_due_commits_no_version(tmp_path: Path) -> None:
    """A fresh table under the default policy: no compaction, no vacuum, no checkpoint, and no
    new Delta version (a maintained fresh build keeps version 0)."""
    uri = tmp_path / "outputs" / "cpg_nodes"
    _write(uri, _rows(range(10), "fresh"))
    files = _files(tmp_path)
    (result,) = maintain_run(tmp_path, MaintenanceConfig()).tables
    assert result.version_before == result.version_after == 0
    assert result.vacuum is not None and result.vacuum.files == 0
    assert result.checkpoint is not None and result.checkpoint.version is None
    assert _files(tmp_path) == files


def test_a_folder_without_delta_tables_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "notes.txt").write_text("no table here")
    with pytest.raises(UsageError) as caught:
        maintain_run(tmp_path, EAGER)
    assert caught.value.code == NO_DELTA_TABLE


# --- the parity history ----------------------------------------------------------------------


def _history_rows(run: int) -> pa.Table:
    row: dict[str, Any] = dict.fromkeys(HISTORY_SCHEMA.names)
    row.update(
        run_id=f"run{run}",
        at=f"2026-12-07T00:00:{run:02d}+00:00",
        repo="*",
        severity="ok",
        verdict="pass",
        versions="{}",
        full_coverage=True,
    )
    return pa.Table.from_pylist([row], schema=HISTORY_SCHEMA)


def test_history_is_maintained_once_it_has_too_many_files(tmp_path: Path) -> None:
    history = tmp_path / "parity_history"
    policy = MaintenanceConfig(history_max_files=3, min_files_to_compact=2)
    for run in range(3):
        write_deltalake(str(history), _history_rows(run), mode="append")
    assert maintain_history(history, policy) is None  # 3 files: not due
    write_deltalake(str(history), _history_rows(3), mode="append")
    runs = recent_runs(history, 10)
    result = maintain_history(history, policy)
    assert result is not None and result.compaction is not None
    assert (result.compaction.files_before, result.compaction.files_after) == (4, 1)
    assert recent_runs(history, 10) == runs
    assert maintain_history(tmp_path / "absent", policy) is None


def test_a_history_in_a_bucket_is_maintained_in_place(s3_server: S3Server) -> None:
    """The parity history on a real S3 server (SeaweedFS): not due, nothing there (vacuous:
    no table, nothing maintained), then due: compacted, vacuumed and checkpointed in the
    bucket, every run still read back."""
    options = s3_server.storage_options()
    history = s3_server.uri(s3_server.new_prefix("history-maintain")) + "/parity_history"
    policy = MaintenanceConfig(
        history_max_files=3, min_files_to_compact=2, vacuum_retention_hours=0, checkpoint_interval=1
    )
    assert maintain_history(history, policy, options) is None  # no table at all: nothing done
    for run in range(3):
        write_deltalake(history, _history_rows(run), mode="append", storage_options=options)
    assert maintain_history(history, policy, options) is None  # 3 files: not due
    write_deltalake(history, _history_rows(3), mode="append", storage_options=options)
    runs = recent_runs(history, 10, storage_options=options)
    assert len(runs) == 4
    result = maintain_history(history, policy, options)
    assert result is not None and result.error is None, result
    assert result.compaction is not None
    assert (result.compaction.files_before, result.compaction.files_after) == (4, 1)
    assert result.vacuum is not None and result.vacuum.files == 4 and result.vacuum.bytes > 0
    assert result.checkpoint is not None and result.checkpoint.version == result.version_after
    assert last_checkpoint(history, options) == result.version_after
    assert recent_runs(history, 10, storage_options=options) == runs
    keys = s3_server.list_keys(history.removeprefix(f"s3://{s3_server.bucket}/"))
    assert sum(1 for k in keys if k.endswith(".parquet") and "_delta_log" not in k) == 1


# --- the command -----------------------------------------------------------------------------


def test_cli_reports_each_table_as_json(tmp_path: Path) -> None:
    run, uri = _pinned_run(tmp_path)
    _small_files_table(run / "evidence" / "ast", appends=4)
    result = runner.invoke(app, [str(run), "--json"])
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    by_path = {t["path"]: t for t in report["tables"]}
    assert set(by_path) == {"evidence/ast", "outputs/cpg_nodes"}
    ast = by_path["evidence/ast"]["compaction"]
    assert (ast["files_before"], ast["files_after"]) == (5, 1)
    assert [p["version"] for p in by_path["outputs/cpg_nodes"]["pins"]] == [0, 1]
    assert _read(uri, 1).num_rows == 20


def test_cli_dry_run_prints_what_it_would_do(tmp_path: Path) -> None:
    run, _ = _pinned_run(tmp_path)
    files = _files(run)
    result = runner.invoke(app, [str(run), "--dry-run"])
    assert result.exit_code == EXIT_OK, result.output
    assert "would maintain 1 Delta table(s)" in result.stdout
    assert "pins: 0 (run.json version_before), 1 (run.json outputs)" in result.stdout
    assert _files(run) == files


def test_cli_maintains_one_table(tmp_path: Path) -> None:
    uri = tmp_path / "parity_history"
    _small_files_table(uri, appends=4)
    result = runner.invoke(app, [str(uri)])
    assert result.exit_code == EXIT_OK, result.output
    assert "compacted: 5 -> 1 files" in result.stdout


@pytest.mark.parametrize("make", ["empty", "missing", "file"])
def test_cli_path_without_delta_table_exits_2(tmp_path: Path, make: str) -> None:
    target = tmp_path / "target"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    result = runner.invoke(app, [str(target), "--json"])
    assert result.exit_code == EXIT_USAGE, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] in {NO_DELTA_TABLE, "MAINTAIN_PATH_MISSING"}
    assert "Traceback" not in result.output


def test_maintenance_config_rejects_nonsense() -> None:
    assert MaintenanceConfig().vacuum_retention_hours == 168
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"min_files_to_compact": 1}, MaintenanceConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"vacuum_retention_hours": -1}, MaintenanceConfig)
