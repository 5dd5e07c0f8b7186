"""``merge_table``: the one Delta writer (CONTRACT "Incremental writes"), on real Delta tables."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backends.contract.fingerprint import reference_fingerprint, row_encodings
from backends.contract.schemas import EVIDENCE_TABLES
from backends.extract.delta import CDF_PROPERTY, DeltaWriteError, merge_table, read_table
from backends.extract.runner import ExtractOptions, extract

SCHEMA = pa.schema(
    [
        pa.field("kind", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=True),
        pa.field("ordinal", pa.int32(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("confidence", pa.float64()),
    ]
)
KEY = ("kind", "path", "ordinal")


def _row(kind: str, path: str | None, ordinal: int, **values: Any) -> dict[str, Any]:
    return {"kind": kind, "path": path, "ordinal": ordinal, **values}


def _table(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=SCHEMA)


BASE = _table(
    _row("def", "a.py", 0, name="f", flags=["x"], confidence=1.0),
    _row("def", "a.py", 1, name="g", flags=None, confidence=math.nan),
    _row("ref", None, 0, name="h", flags=[], confidence=None),
    _row("ref", "b.py", 0, name=None, flags=["y", None], confidence=0.5),
)


def _rows(table: pa.Table) -> list[bytes]:
    """The rows as the fingerprint encodes them (NaN equal to NaN), in no particular order."""
    return sorted(row_encodings(table))


def _changes(uri: Path, version: int) -> list[tuple[str, Any, Any, int, Any]]:
    """The change data feed of one version: (type, kind, path, ordinal, name), sorted."""
    feed = pa.table(DeltaTable(str(uri)).load_cdf(starting_version=version, ending_version=version))
    changes = [
        (r["_change_type"], r["kind"], r["path"], r["ordinal"], r["name"]) for r in feed.to_pylist()
    ]
    return sorted(changes, key=repr)


def _history(uri: Path) -> int:
    return len(DeltaTable(str(uri)).history())


def test_an_absent_table_is_created_at_version_0_with_the_feed_on(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    outcome = merge_table(uri, BASE, KEY)
    assert (outcome.version_before, outcome.version_after, outcome.mode) == (None, 0, "create")
    assert (outcome.inserted, outcome.updated, outcome.deleted) == (4, 0, 0)
    dt = DeltaTable(str(uri))
    assert dt.metadata().configuration[CDF_PROPERTY] == "true"
    assert dt.protocol().min_reader_version == 1  # the feed is a writer feature only


def test_a_created_table_reads_back_as_a_plain_overwrite_does(tmp_path: Path) -> None:
    merge_table(tmp_path / "merged", BASE, KEY)
    write_deltalake(str(tmp_path / "plain"), BASE, mode="overwrite")
    merged, plain = read_table(tmp_path / "merged"), read_table(tmp_path / "plain")
    assert merged.schema.equals(plain.schema) and merged.schema.equals(SCHEMA)
    assert list(row_encodings(merged)) == list(row_encodings(plain))  # same rows, same order
    assert reference_fingerprint(merged) == reference_fingerprint(plain)


def test_the_same_rows_again_commit_nothing(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    reordered = BASE.take([3, 1, 0, 2])  # row order is not content; NaN equals NaN
    outcome = merge_table(uri, reordered, KEY)
    assert (outcome.version_before, outcome.version_after, outcome.mode) == (0, 0, "unchanged")
    assert (outcome.inserted, outcome.updated, outcome.deleted) == (0, 0, 0)
    assert _history(uri) == 1


def test_a_merge_commits_exactly_the_changed_rows_in_one_version(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    new = _table(
        _row("def", "a.py", 0, name="f", flags=["x"], confidence=1.0),  # same
        _row("def", "a.py", 1, name="g2", flags=None, confidence=math.nan),  # updated
        _row("ref", None, 0, name="h", flags=[], confidence=None),  # same (null key)
        _row("def", "c.py", 0, name="k", flags=None, confidence=None),  # inserted
    )  # ref b.py 0 deleted
    outcome = merge_table(uri, new, KEY)
    assert (outcome.version_before, outcome.version_after, outcome.mode) == (0, 1, "merge")
    assert (outcome.inserted, outcome.updated, outcome.deleted) == (1, 1, 1)
    assert _changes(uri, 1) == [
        ("delete", "ref", "b.py", 0, None),
        ("insert", "def", "c.py", 0, "k"),
        ("update_postimage", "def", "a.py", 1, "g2"),
        ("update_preimage", "def", "a.py", 1, "g"),
    ]
    assert _rows(read_table(uri)) == _rows(new)
    assert _history(uri) == 2


def test_null_key_values_match_each_other(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    rows = BASE.to_pylist()
    rows[2]["name"] = "h2"  # the row whose path is null
    outcome = merge_table(uri, pa.Table.from_pylist(rows, schema=SCHEMA), KEY)
    assert (outcome.inserted, outcome.updated, outcome.deleted) == (0, 1, 0)
    assert _changes(uri, 1) == [
        ("update_postimage", "ref", None, 0, "h2"),
        ("update_preimage", "ref", None, 0, "h"),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("flags", ["x", "z"]),  # same length, one element differs
        ("flags", ["x", "x"]),  # longer
        ("flags", None),  # a list becomes null
        ("confidence", None),  # a float becomes null
        ("confidence", 2.0),
    ],
)
def test_every_column_type_is_compared_by_value(tmp_path: Path, column: str, value: Any) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    rows = BASE.to_pylist()
    rows[0][column] = value
    outcome = merge_table(uri, pa.Table.from_pylist(rows, schema=SCHEMA), KEY)
    assert (outcome.mode, outcome.inserted, outcome.updated, outcome.deleted) == ("merge", 0, 1, 0)


def test_a_list_with_a_null_element_equals_itself(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    rows = BASE.to_pylist()
    rows[3]["flags"] = ["y", None]  # a fresh but equal list
    assert merge_table(uri, pa.Table.from_pylist(rows, schema=SCHEMA), KEY).mode == "unchanged"
    rows[3]["flags"] = ["y", "n"]
    assert merge_table(uri, pa.Table.from_pylist(rows, schema=SCHEMA), KEY).updated == 1


def test_rows_missing_from_the_new_table_are_deleted(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    outcome = merge_table(uri, BASE.slice(0, 2), KEY)
    assert (outcome.mode, outcome.inserted, outcome.updated, outcome.deleted) == ("merge", 0, 0, 2)
    assert [c[0] for c in _changes(uri, 1)] == ["delete", "delete"]


def test_an_empty_table_deletes_every_row(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    outcome = merge_table(uri, SCHEMA.empty_table(), KEY)
    assert (outcome.mode, outcome.deleted) == ("merge", 4)
    assert read_table(uri).num_rows == 0


def test_an_empty_table_written_twice_commits_once(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    assert merge_table(uri, SCHEMA.empty_table(), KEY).mode == "create"
    outcome = merge_table(uri, SCHEMA.empty_table(), KEY)
    assert (outcome.mode, outcome.version_after) == ("unchanged", 0)
    assert read_table(uri).schema.equals(SCHEMA)


def test_a_schema_change_overwrites_in_one_commit(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    wider = BASE.append_column("extra", pa.array(["e"] * BASE.num_rows))
    outcome = merge_table(uri, wider, KEY)
    assert (outcome.version_before, outcome.version_after, outcome.mode) == (0, 1, "overwrite")
    assert outcome.reason == "the schema changed"
    assert (outcome.inserted, outcome.deleted) == (4, 4)
    kinds = [c[0] for c in _changes(uri, 1)]
    assert kinds.count("insert") == 4 and kinds.count("delete") == 4
    assert read_table(uri).schema.equals(wider.schema)
    # and the next write of the same rows is a no-op again
    assert merge_table(uri, wider, KEY).mode == "unchanged"


def test_a_table_without_the_feed_is_overwritten_with_the_feed_on(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    write_deltalake(str(uri), BASE, mode="overwrite")  # as builds wrote before
    outcome = merge_table(uri, BASE, KEY)
    assert (outcome.mode, outcome.reason) == ("overwrite", "the change data feed was off")
    # delta-rs sets table properties only at creation: one metadata commit, then the overwrite
    assert (outcome.version_before, outcome.version_after) == (0, 2)
    assert DeltaTable(str(uri)).metadata().configuration[CDF_PROPERTY] == "true"
    assert len(_changes(uri, 2)) == 2 * BASE.num_rows
    assert merge_table(uri, BASE, KEY).mode == "unchanged"


def test_duplicate_keys_in_the_new_table_are_refused(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    twice = pa.concat_tables([BASE, BASE.slice(2, 1)])  # the null-path row twice
    with pytest.raises(DeltaWriteError) as err:
        merge_table(uri, twice, KEY)
    assert err.value.reason == "duplicate_key"
    assert err.value.context["duplicates"] == 1
    assert err.value.context["examples"] == [{"kind": "ref", "path": None, "ordinal": 0}]
    assert _history(uri) == 1  # nothing written


def test_duplicate_keys_refuse_a_create_too(tmp_path: Path) -> None:
    with pytest.raises(DeltaWriteError) as err:
        merge_table(tmp_path / "t", pa.concat_tables([BASE, BASE]), KEY)
    assert err.value.reason == "duplicate_key" and err.value.context["duplicates"] == 4
    assert not (tmp_path / "t").exists()


def test_a_table_holding_duplicate_keys_is_overwritten(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    write_deltalake(
        str(uri),
        pa.concat_tables([BASE, BASE]),
        mode="overwrite",
        configuration={CDF_PROPERTY: "true"},
    )
    outcome = merge_table(uri, BASE, KEY)
    assert (outcome.mode, outcome.reason) == ("overwrite", "the table held duplicate keys")
    assert read_table(uri).num_rows == BASE.num_rows


@pytest.mark.parametrize("key", [(), ("kind", "nope")])
def test_a_key_naming_no_column_is_refused(tmp_path: Path, key: tuple[str, ...]) -> None:
    with pytest.raises(DeltaWriteError) as err:
        merge_table(tmp_path / "t", BASE, key)
    assert err.value.reason == "key_missing"


def test_a_path_that_is_not_a_table_is_a_write_failure(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    uri.write_text("not a table")
    with pytest.raises(DeltaWriteError) as err:
        merge_table(uri, BASE, KEY)
    assert err.value.reason == "write_failed" and err.value.context["uri"] == str(uri)


# ---- the writers wired to it: the extraction runner and the legacy engine ----------------


def test_evidence_rewritten_unchanged_commits_nothing_and_a_change_only_its_rows(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def f():\n    return 1\n")
    (repo / "b.py").write_text("X = 1\n")
    options = ExtractOptions(workers=1, extractors=("repo_scan", "ast"))
    evidence = tmp_path / "run" / "evidence"
    extract(repo, tmp_path / "run", options)
    first = {p.name: DeltaTable(str(p)).version() for p in evidence.iterdir()}
    assert set(first) == set(EVIDENCE_TABLES) and set(first.values()) == {0}
    extract(repo, tmp_path / "run", options)
    assert {p.name: DeltaTable(str(p)).version() for p in evidence.iterdir()} == first
    (repo / "b.py").write_text("X = 1\nY = 2\n")
    extract(repo, tmp_path / "run", options)
    ast_uri = evidence / "ast"
    changed = pa.table(DeltaTable(str(ast_uri)).load_cdf(starting_version=1))
    assert changed.num_rows > 0
    assert set(changed["path"].to_pylist()) == {"b.py"}
    assert "insert" in changed["_change_type"].to_pylist()
    assert "delete" not in changed["_change_type"].to_pylist()
    assert DeltaTable(str(evidence / "cst")).version() == 0  # not extracted: still empty
