"""Table notes: what a build computed from one Delta table version, kept beside its log so
that a build that leaves the version as it was neither diffs nor reads the table again."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from backends.extract import delta
from backends.extract.delta import (
    SOURCE_NOTE,
    merge_table,
    read_note,
    read_table,
    write_note,
    write_table,
)
from harness.run import manifest
from harness.run.manifest import table_entry

SCHEMA = pa.schema([pa.field("path", pa.string(), nullable=False), pa.field("n", pa.int64())])
KEY = ("path",)


def _table(*rows: tuple[str, int]) -> pa.Table:
    return pa.Table.from_pylist([{"path": p, "n": n} for p, n in rows], schema=SCHEMA)


BASE = _table(("a.py", 1), ("b.py", 2))


def _no_diff(*args: object, **kwargs: object) -> None:
    raise AssertionError("the table was read and diffed")


def test_the_same_table_again_is_unchanged_without_a_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    monkeypatch.setattr(delta, "_update", _no_diff)
    outcome = merge_table(uri, BASE, KEY)
    assert (outcome.version_before, outcome.version_after, outcome.mode) == (0, 0, "unchanged")


def test_another_table_is_still_merged(tmp_path: Path) -> None:
    # The vacuous case: a note never stands for a table it was not written for.
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    changed = _table(("a.py", 1), ("b.py", 3))
    outcome = merge_table(uri, changed, KEY)
    assert (outcome.version_after, outcome.mode, outcome.updated) == (1, "merge", 1)
    assert read_table(uri).sort_by("path").equals(changed)


def test_a_note_goes_stale_when_another_writer_commits(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    write_table(uri, _table(("c.py", 9)))  # version 1, written behind the note's back
    outcome = merge_table(uri, BASE, KEY)
    assert outcome.mode == "merge" and outcome.version_after == 2
    assert read_table(uri).sort_by("path").equals(BASE)


def test_a_note_is_pinned_to_the_commit_it_saw(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    write_table(uri, BASE)
    write_note(uri, "probe", 0, {"x": 1})
    assert read_note(uri, "probe", 0) == {"x": 1}
    assert read_note(uri, "probe", 1) == {}  # another version
    commit = uri / "_delta_log" / f"{0:020d}.json"
    commit.write_bytes(commit.read_bytes() + b"\n")  # a table rebuilt in its place
    assert read_note(uri, "probe", 0) == {}


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"version": "0"}'])
def test_an_unreadable_note_is_no_note(tmp_path: Path, content: bytes) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    (uri / f"_codeanatomy_{SOURCE_NOTE}.json").write_bytes(content)
    assert read_note(uri, SOURCE_NOTE, 0) == {}
    assert merge_table(uri, BASE, KEY).mode == "unchanged"  # by the diff, as before notes


def test_the_manifest_describes_an_unmoved_version_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    first = table_entry("t", uri, 0, tmp_path)

    def unread(*args: object, **kwargs: object) -> pa.Table:
        raise AssertionError("the table was read again")

    monkeypatch.setattr(manifest, "read_table", unread)
    assert table_entry("t", uri, 0, tmp_path) == first


def test_the_manifest_reads_a_version_it_has_not_described(tmp_path: Path) -> None:
    # The vacuous case: a new version is read, so its entry describes its own rows.
    uri = tmp_path / "t"
    merge_table(uri, BASE, KEY)
    first = table_entry("t", uri, 0, tmp_path)
    merge_table(uri, _table(("a.py", 1)), KEY)
    second = table_entry("t", uri, 1, tmp_path)
    assert (first.rows, second.rows) == (2, 1)
    assert first.fingerprint != second.fingerprint
    assert table_entry("t", uri, 0, tmp_path) == first  # time travel: the old version again


def test_the_same_table_under_another_key_is_checked_again(tmp_path: Path) -> None:
    uri = tmp_path / "t"
    table = _table(("a.py", 1), ("a.py", 2))
    merge_table(uri, table, ("path", "n"))
    with pytest.raises(delta.DeltaWriteError) as raised:
        merge_table(uri, table, KEY)  # duplicate paths: refused, as without a note
    assert raised.value.reason == "duplicate_key"


def test_the_repo_fingerprint_and_warning_counts_are_noted_per_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = tmp_path / "repo_scan"
    rows = [
        {"path": p, "status": "ok", "file_sha256": f"sha-{p}", "code": c}
        for p, c in (("a.py", "X_CODE"), ("b.py", "X_CODE"), ("c.py", "Y_CODE"))
    ]
    merge_table(scan, pa.Table.from_pylist(rows), KEY)
    expected = manifest.repo_fingerprint(read_table(scan))
    assert manifest._repo_fingerprint(scan) == expected
    entry = table_entry("diagnostics", scan, 0, tmp_path)
    assert manifest._warnings_by_code(entry) == {"X_CODE": 2, "Y_CODE": 1}

    def unread(*args: object, **kwargs: object) -> pa.Table:
        raise AssertionError("the table was read again")

    with monkeypatch.context() as patched:
        patched.setattr(manifest, "read_table", unread)
        assert manifest._repo_fingerprint(scan) == expected
        assert manifest._warnings_by_code(entry) == {"X_CODE": 2, "Y_CODE": 1}
    # The vacuous case: a new version is read again.
    merge_table(scan, pa.Table.from_pylist(rows[:1]), KEY)
    assert manifest._repo_fingerprint(scan) != expected
