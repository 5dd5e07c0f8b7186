"""The parity history: one Delta row per repository per parity run (the cutover gate reads it)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import msgspec
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from harness.report.model import ParityReport, severity_rank

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("at", pa.string(), nullable=False),
        pa.field("repo", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field("first_divergent_stage", pa.string()),
        pa.field("versions", pa.string(), nullable=False),
    ]
)


def append_history(history: Path, report: ParityReport) -> str:
    """Append one row per repository of ``report`` and one (``repo = "*"``) for the run;
    return the run id."""
    run_id = uuid.uuid4().hex
    rows = []
    for r in report.repos:
        versions = {
            f"{t.stage}/{t.table}": [
                t.primary.delta_version if t.primary else None,
                t.candidate.delta_version if t.candidate else None,
            ]
            for t in (r.comparison.tables if r.comparison else ())
        }
        rows.append(
            {
                "run_id": run_id,
                "at": report.generated_at,
                "repo": r.name,
                "severity": r.severity,
                "verdict": report.verdict,
                "first_divergent_stage": (
                    r.comparison.first_divergent_stage if r.comparison else None
                ),
                "versions": msgspec.json.encode(versions).decode(),
            }
        )
    # One row for the run as a whole, so that a run over no repository is still recorded.
    rows.append(
        {
            "run_id": run_id,
            "at": report.generated_at,
            "repo": "*",
            "severity": max((r.severity for r in report.repos), key=severity_rank, default="ok"),
            "verdict": report.verdict,
            "first_divergent_stage": None,
            "versions": "{}",
        }
    )
    history.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(history), pa.Table.from_pylist(rows, schema=HISTORY_SCHEMA), mode="append")
    return run_id


def recent_runs(history: Path, limit: int) -> list[tuple[str, str, str]]:
    """The last ``limit`` parity runs as ``(run_id, at, verdict)``, newest first."""
    if not (history / "_delta_log").is_dir():
        return []
    table = pa.table(DeltaTable(str(history)).to_pyarrow_table(columns=["run_id", "at", "verdict"]))
    runs: dict[str, tuple[str, str]] = {}
    for run_id, at, verdict in zip(
        *(table.column(c).to_pylist() for c in table.column_names), strict=True
    ):
        previous = runs.get(run_id)
        worst = "fail" if verdict == "fail" or (previous and previous[1] == "fail") else "pass"
        runs[run_id] = (at, worst)
    ordered = sorted(runs.items(), key=lambda item: item[1][0], reverse=True)
    return [(rid, at, v) for rid, (at, v) in ordered[:limit]]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
