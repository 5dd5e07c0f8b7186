"""Parity values for unit tests: a clean comparison of every contract table, a run manifest
with every evidence source healthy, and helpers that plant one difference."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from harness.compare.model import RowDiff, TableSide, TableVerdict
from harness.compare.runs import RunComparison
from harness.run.manifest import RepoEntry, RunManifest, TableEntry

TODAY = dt.date(2026, 12, 7)
ROWS = 10


def side(rows: int | None = ROWS) -> TableSide:
    return TableSide(uri="/x", delta_version=0, rows=rows, fingerprint="f" if rows else None)


def verdicts() -> list[TableVerdict]:
    names = [("evidence", t) for t in EVIDENCE_TABLES] + [("outputs", t) for t in OUTPUT_TABLES]
    return [
        TableVerdict(
            stage=stage, table=t, severity="ok", reasons=(), primary=side(), candidate=side()
        )
        for stage, t in names
    ]


def comparison(**changes: Any) -> RunComparison:
    base = RunComparison(
        primary="/a",
        candidate="/b",
        tables=tuple(verdicts()),
        warnings=(),
    )
    return msgspec.structs.replace(base, **changes)


def manifest(codes: dict[str, int] | None = None, drop: str | None = None) -> RunManifest:
    entry = {"delta_version": 0, "rows": ROWS, "schema_hash": "s", "fingerprint": "f"}
    return RunManifest(
        manifest_version=2,
        backend="legacy",
        engine_version="1",
        versions={},
        spec_hash="h",
        repo=RepoEntry(path="/repo", files=3, python_files_ok=3, fingerprint="r"),
        inputs=tuple(
            TableEntry(table=t, uri=f"/a/evidence/{t}", path=f"evidence/{t}", **entry)
            for t in EVIDENCE_TABLES
            if t != drop
        ),
        outputs=(),
        warnings_by_code=codes or {},
        warnings=(),
        timings={},
        started_at="",
        finished_at="",
    )


def replace_table(comparison: RunComparison, table: str, **changes: Any) -> RunComparison:
    tables = tuple(
        msgspec.structs.replace(t, **changes) if t.table == table else t for t in comparison.tables
    )
    return msgspec.structs.replace(comparison, tables=tables)


def diff(**counts: int) -> RowDiff:
    base = {"added": 0, "removed": 0, "changed": 0, "dup_p": 0, "dup_c": 0} | counts
    return RowDiff(
        key=("node_id",),
        added=base["added"],
        removed=base["removed"],
        changed=base["changed"],
        column_mismatches={},
        duplicate_keys_primary=base["dup_p"],
        duplicate_keys_candidate=base["dup_c"],
        samples=(),
    )
