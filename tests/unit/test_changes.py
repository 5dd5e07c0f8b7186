"""``codeanatomy changes``: the CPG rows added, removed and changed, read from the Delta change
data feed of a run's output tables, with a persisted cursor.

Runs are made here: real Delta tables with the change data feed on, changed by real MERGEs,
overwrites and vacuums, and a ``run.json``; every command runs through the real CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner, Result

from backends.contract.schemas import OUTPUT_TABLES
from harness.cli import app
from harness.exit_codes import EXIT_OK, EXIT_USAGE
from harness.run import changes_cli
from harness.run.changes import CHANGE_TABLES, list_changes, net_changes
from harness.run.cursor import CURSOR_PATH, read_cursor
from harness.run.manifest import RepoEntry, RunManifest, ServedBy, TableEntry, write_manifest

runner = CliRunner()
CDF = {"delta.enableChangeDataFeed": "true"}


# -- a run folder made here --------------------------------------------------------------------


def node(ident: str, qualname: str | None = None, path: str = "a.py") -> dict[str, Any]:
    name = ident.rsplit(".", 1)[-1]
    return {
        "node_id": ident,
        "kind": "FUNCTION",
        "path": path,
        "bstart": 0,
        "bend": 10,
        "name": name,
        "qualname": qualname or f"m.{name}",
        "evidence_source": "ast",
    }


def edge(ident: str, src: str, dst: str) -> dict[str, Any]:
    return {
        "edge_id": ident,
        "kind": "CALLS",
        "src_id": src,
        "dst_id": dst,
        "evidence_source": "scip",
        "confidence": 1.0,
        "path": "a.py",
    }


def arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=OUTPUT_TABLES[table].schema)


def write(run: Path, table: str, rows: list[dict[str, Any]], *, cdf: bool = True) -> int:
    """Overwrite (or create) one output table of ``run``; return its version."""
    uri = run / "outputs" / table
    write_deltalake(
        str(uri), arrow(table, rows), mode="overwrite", configuration=CDF if cdf else None
    )
    return int(DeltaTable(str(uri)).version())


def merge(run: Path, table: str, rows: list[dict[str, Any]]) -> int:
    """Make ``table`` hold exactly ``rows`` with one MERGE on its primary key (update the
    matched rows that differ, insert the new ones, delete the others), as an incremental build
    does; return the new version."""
    key = OUTPUT_TABLES[table].primary_key
    target = DeltaTable(str(run / "outputs" / table))
    columns = [f.name for f in OUTPUT_TABLES[table].schema if f.name not in key]
    differs = " OR ".join(f"NOT (t.{c} <=> s.{c})" for c in columns)
    (
        target.merge(
            arrow(table, rows),
            predicate=" AND ".join(f"t.{k} = s.{k}" for k in key),
            source_alias="s",
            target_alias="t",
        )
        .when_matched_update_all(predicate=differs)
        .when_not_matched_insert_all()
        .when_not_matched_by_source_delete()
        .execute()
    )
    return int(DeltaTable(str(run / "outputs" / table)).version())


def make_run(
    run: Path,
    nodes: list[dict[str, Any]],
    *,
    cdf: bool = True,
    backend: str = "rust",
    served: ServedBy | None = None,
) -> Path:
    """A run directory: the four listed output tables (nodes given, the others empty) and a
    ``run.json`` naming them."""
    entries = []
    for table in CHANGE_TABLES:
        version = write(run, table, nodes if table == "cpg_nodes" else [], cdf=cdf)
        entries.append(
            TableEntry(
                table=table,
                path=f"outputs/{table}",
                uri=str(run / "outputs" / table),
                delta_version=version,
                rows=0,
                schema_hash="s",
                fingerprint="f",
            )
        )
    manifest = RunManifest(
        manifest_version=2,
        backend=backend,
        engine_version="1",
        versions={},
        spec_hash="h",
        repo=RepoEntry(path="/repo", files=1, python_files_ok=1, fingerprint="r"),
        inputs=(),
        outputs=tuple(entries),
        warnings_by_code={},
        warnings=(),
        timings={},
        started_at="",
        finished_at="",
        served_by=served,
    )
    write_manifest(run / "run.json", manifest)
    return run


def changes(*args: str | Path) -> Result:
    return runner.invoke(app, ["changes", *map(str, args)])


def listed(*args: str | Path) -> dict[str, Any]:
    result = changes(*args, "--json")
    assert result.exit_code == EXIT_OK, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def summary(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(table, change, first key value) of every listed change."""
    return {(c["table"], c["change"], next(iter(c["key"].values()))) for c in data["changes"]}


def error(result: Result) -> dict[str, Any]:
    assert result.exit_code == EXIT_USAGE, result.output
    found: dict[str, Any] = json.loads(result.stdout)["error"]
    return found


A, B, C, D = (node(f"n{i}") for i in range(1, 5))


# -- what is listed ----------------------------------------------------------------------------


def test_first_call_lists_every_row_since_the_tables_creation(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A, B, C])
    data = listed(run)
    assert summary(data) == {("cpg_nodes", "added", n) for n in ("n1", "n2", "n3")}
    first = data["changes"][0]
    assert first["kind"] == "FUNCTION"
    assert (first["name"], first["qualname"], first["path"]) == ("n1", "m.n1", "a.py")
    assert first["ids"] == {"node_id": "n1"}
    assert first["before"] is None and first["after"]["bstart"] == 0
    assert [(w["table"], w["since"], w["latest"]) for w in data["tables"]] == [
        (t, -1, 0) for t in CHANGE_TABLES
    ]


def test_a_merge_lists_added_removed_and_changed_rows_by_key(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A, B, C])
    listed(run)
    merge(run, "cpg_nodes", [node("n1", qualname="m.renamed"), C, D])
    data = listed(run)
    assert summary(data) == {
        ("cpg_nodes", "changed", "n1"),
        ("cpg_nodes", "removed", "n2"),
        ("cpg_nodes", "added", "n4"),
    }
    changed = next(c for c in data["changes"] if c["change"] == "changed")
    assert changed["columns"] == ["qualname"]
    assert changed["before"]["qualname"] == "m.n1"
    assert changed["after"]["qualname"] == "m.renamed"
    assert changed["version"] == 1
    removed = next(c for c in data["changes"] if c["change"] == "removed")
    assert removed["after"] is None and removed["qualname"] == "m.n2"


def test_edges_carry_their_ends_and_props_their_composite_key(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A, B])
    listed(run)
    merge(run, "cpg_edges", [edge("e1", "n1", "n2")])
    props = [{"node_id": "n1", "key": "decorators", "value": "[]", "value_type": "json"}]
    merge(run, "cpg_props", props)
    data = listed(run)
    by_table = {c["table"]: c for c in data["changes"]}
    assert by_table["cpg_edges"]["ids"] == {"edge_id": "e1", "src_id": "n1", "dst_id": "n2"}
    assert by_table["cpg_edges"]["kind"] == "CALLS"
    assert by_table["cpg_props"]["key"] == {"node_id": "n1", "key": "decorators"}


def test_an_overwrite_lists_only_the_rows_that_differ(tmp_path: Path) -> None:
    """An overwrite's feed is the whole table out and in: netting per key leaves the change."""
    run = make_run(tmp_path / "run", [A, B, C])
    listed(run)
    write(run, "cpg_nodes", [A, node("n2", path="b.py"), C])
    data = listed(run)
    assert summary(data) == {("cpg_nodes", "changed", "n2")}
    assert data["changes"][0]["columns"] == ["path"]


def test_a_row_added_then_removed_inside_the_window_is_not_listed(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    listed(run)
    merge(run, "cpg_nodes", [A, B])
    merge(run, "cpg_nodes", [A])
    data = listed(run)
    assert data["changes"] == []
    assert data["tables"][0] == {
        "table": "cpg_nodes",
        "since": 0,
        "latest": 2,
        "added": 0,
        "removed": 0,
        "changed": 0,
    }


def test_net_changes_of_an_empty_feed_is_empty(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [])
    feed = pa.table(DeltaTable(str(run / "outputs" / "cpg_nodes")).load_cdf(starting_version=0))
    assert feed.num_rows == 0
    assert net_changes("cpg_nodes", feed) == ()


# -- the cursor --------------------------------------------------------------------------------


def test_the_cursor_moves_to_the_versions_listed_and_is_a_documented_file(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path / "run", [A])
    listed(run)
    merge(run, "cpg_nodes", [A, B])
    data = listed(run)
    assert data["cursor"] == str(run / CURSOR_PATH)
    saved = json.loads((run / "cursors" / "changes.json").read_text())
    assert list(saved) == ["tables", "updated_at"]
    assert saved["tables"] == {"cpg_edges": 0, "cpg_nodes": 1, "cpg_props": 0, "diagnostics": 0}
    dt.datetime.fromisoformat(saved["updated_at"])
    assert summary(listed(run)) == set()  # listed once, never again


def test_since_lists_from_that_version_and_leaves_the_cursor(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    listed(run)
    merge(run, "cpg_nodes", [A, B])
    merge(run, "cpg_nodes", [A, B, C])
    before = (run / CURSOR_PATH).read_bytes()
    assert summary(listed(run, "--since", "1")) == {("cpg_nodes", "added", "n3")}
    assert summary(listed(run, "--since", "0")) == {
        ("cpg_nodes", "added", "n2"),
        ("cpg_nodes", "added", "n3"),
    }
    assert listed(run, "--since", "0")["cursor"] is None
    assert (run / CURSOR_PATH).read_bytes() == before
    assert summary(listed(run)) == {("cpg_nodes", "added", "n2"), ("cpg_nodes", "added", "n3")}


def test_table_lists_and_moves_only_the_tables_named(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    merge(run, "cpg_edges", [edge("e1", "n1", "n1")])
    data = listed(run, "--table", "cpg_edges")
    assert summary(data) == {("cpg_edges", "added", "e1")}
    assert read_cursor(run).tables == {"cpg_edges": 1}


def test_nothing_changed_says_since_which_version(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    listed(run)
    result = changes(run)
    assert result.exit_code == EXIT_OK, result.output
    assert "cpg_nodes: no changes since version 0" in result.stdout
    assert "cursor moved" in result.stdout
    fresh = make_run(tmp_path / "fresh", [])
    assert "cpg_edges: no changes since its creation" in changes(fresh).stdout


def test_the_terminal_table_names_kind_name_path_and_id(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    listed(run)
    merge(run, "cpg_nodes", [node("n1", qualname="m.other")])
    result = changes(run, "--since", "0")
    assert result.exit_code == EXIT_OK, result.output
    assert "changed" in result.stdout and "m.other" in result.stdout
    assert "FUNCTION" in result.stdout and "a.py" in result.stdout and "n1" in result.stdout
    assert "cpg_nodes: version 1: 0 added, 0 removed, 1 changed" in result.stdout
    assert "cursor not moved (--since)" in result.stdout


def test_a_cursor_ahead_of_a_rewritten_table_is_an_error_until_reset(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    merge(run, "cpg_nodes", [A, B])
    listed(run)
    shutil.rmtree(run / "outputs" / "cpg_nodes")
    write(run, "cpg_nodes", [A])
    found = error(changes(run, "--json"))
    assert found["code"] == "CURSOR_AHEAD"
    assert (found["table"], found["requested_version"], found["latest_version"]) == (
        "cpg_nodes",
        1,
        0,
    )
    assert listed(run, "--reset")["changes"] == []
    assert read_cursor(run).tables["cpg_nodes"] == 0


def test_a_cursor_file_that_is_not_a_cursor_is_an_error(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    (run / "cursors").mkdir()
    (run / CURSOR_PATH).write_text('{"tables": {"cpg_nodes": "one"}}')
    assert error(changes(run, "--json"))["code"] == "CURSOR_INVALID"


# -- what is not there -------------------------------------------------------------------------


def test_a_vacuumed_window_exits_2_naming_the_oldest_version_kept(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A, B])  # version 0
    write(run, "cpg_nodes", [A, C])  # 1: an overwrite; its feed reads the files of 0
    DeltaTable(str(run / "outputs" / "cpg_nodes")).vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False
    )  # 2 and 3: the vacuum's own commits; the files of version 0 are gone
    assert merge(run, "cpg_nodes", [A, C, D]) == 4
    found = error(changes(run, "--json"))
    assert found["code"] == "CDF_WINDOW_VACUUMED"
    assert (found["table"], found["requested_version"], found["oldest_available"]) == (
        "cpg_nodes",
        0,
        2,
    )
    assert not (run / CURSOR_PATH).exists()  # nothing moves when a table cannot be read
    plain = changes(run, "--since", "0")
    assert plain.exit_code == EXIT_USAGE
    assert "CDF_WINDOW_VACUUMED" in plain.stderr and "oldest version kept is 2" in plain.stderr
    assert summary(listed(run, "--since", "1", "--table", "cpg_nodes")) == {
        ("cpg_nodes", "added", "n4")
    }
    assert listed(run, "--reset")["changes"] == []  # the way past it, and on from there
    merge(run, "cpg_nodes", [A, D])
    assert summary(listed(run)) == {("cpg_nodes", "removed", "n3")}


def test_deleted_commits_are_a_vacuumed_window(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    merge(run, "cpg_nodes", [A, B])
    merge(run, "cpg_nodes", [A, B, C])
    table = DeltaTable(str(run / "outputs" / "cpg_nodes"))
    table.create_checkpoint()
    for version in (0, 1):
        (run / "outputs" / "cpg_nodes" / "_delta_log" / f"{version:020}.json").unlink()
    found = error(changes(run, "--json", "--since", "0", "--table", "cpg_nodes"))
    assert found["code"] == "CDF_WINDOW_VACUUMED"
    assert (found["requested_version"], found["oldest_available"]) == (1, 2)
    assert summary(listed(run, "--since", "1", "--table", "cpg_nodes")) == {
        ("cpg_nodes", "added", "n3")
    }


def test_a_table_without_change_data_feed_is_an_error(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A], cdf=False)
    found = error(changes(run, "--json"))
    assert found["code"] == "CDF_DISABLED"
    assert found["table"] == "cpg_nodes"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p / "missing", "RUN_NOT_FOUND"),
        (lambda p: p, "NOT_A_RUN"),
    ],
    ids=["missing folder", "empty folder"],
)
def test_no_run_is_an_error_never_an_empty_list(tmp_path: Path, make: Any, code: str) -> None:
    found = error(changes(make(tmp_path), "--json"))
    assert found["code"] == code


def test_a_run_without_its_outputs_is_an_error(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [A])
    shutil.rmtree(run / "outputs" / "cpg_edges")
    found = error(changes(run, "--json"))
    assert (found["code"], found["table"]) == ("INPUT_MISSING", "cpg_edges")
    assert not (run / CURSOR_PATH).exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--table", "cpg_nodez"], "UNKNOWN_TABLE"),
        (["--since", "7"], "VERSION_AHEAD"),
        (["--since", "0", "--reset"], "USAGE"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], code: str) -> None:
    run = make_run(tmp_path / "run", [A])
    assert error(changes(run, "--json", *args))["code"] == code


# -- shadow folders and output format ------------------------------------------------------------


def test_a_shadow_folder_reads_the_side_that_served_unless_told(tmp_path: Path) -> None:
    primary = ServedBy(backend="legacy", source="shadow", reason="shadow primary")
    candidate = ServedBy(backend="rust", source="shadow", reason="shadow candidate")
    make_run(tmp_path / "legacy", [A], backend="legacy", served=primary)
    make_run(tmp_path / "rust", [B], backend="rust", served=candidate)
    data = listed(tmp_path)
    assert (data["side"], summary(data)) == ("legacy", {("cpg_nodes", "added", "n1")})
    assert (tmp_path / "legacy" / CURSOR_PATH).is_file()
    data = listed(tmp_path, "--side", "rust")
    assert (data["side"], summary(data)) == ("rust", {("cpg_nodes", "added", "n2")})
    assert error(changes(tmp_path, "--json", "--side", "python"))["code"] == "SIDE_NOT_FOUND"
    (tmp_path / "legacy" / "run.json").unlink()
    (tmp_path / "legacy" / "run.txt").write_text("")
    assert error(changes(tmp_path, "--json"))["code"] == "SIDE_REQUIRED"


def test_json_is_stable_and_sorted(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [C, A, D, B])
    merge(run, "cpg_edges", [edge("e2", "n1", "n2"), edge("e1", "n2", "n1")])
    first = changes(run, "--json", "--since", "-1")
    second = changes(run, "--json", "--since", "-1")
    assert first.exit_code == EXIT_OK and first.stdout == second.stdout
    keys = [
        (c["table"], next(iter(c["key"].values()))) for c in json.loads(first.stdout)["changes"]
    ]
    assert keys == [
        ("cpg_nodes", "n1"),
        ("cpg_nodes", "n2"),
        ("cpg_nodes", "n3"),
        ("cpg_nodes", "n4"),
        ("cpg_edges", "e1"),
        ("cpg_edges", "e2"),
    ]


def test_the_library_call_and_the_help_agree_on_the_tables(tmp_path: Path) -> None:
    assert ", ".join(CHANGE_TABLES) == changes_cli._TABLES
    run = make_run(tmp_path / "run", [A])
    found = list_changes(run, since=-1, tables=("cpg_nodes",))
    assert [w.table for w in found.tables] == ["cpg_nodes"] and found.cursor is None
    help_text = " ".join(runner.invoke(app, ["changes", "--help"]).stdout.split())
    assert "the cursor does not move" in help_text and "--side" in help_text
