"""The parity history: one Delta row per repository per parity run (the cutover gate reads it).

Every row also records what makes two parity runs comparable: the repo set, the policy's hash,
the engine versions, and whether the run's coverage was full (every repo compared tables, no
evidence source failed). The cutover gate counts only consecutive clean runs that agree on all
of these; a row written before these columns existed counts as not clean.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from pathlib import Path

import msgspec
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from harness.report.model import ParityReport, severity_rank
from harness.storage import append_racing, delta_exists, delta_location, is_uri

HISTORY_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("at", pa.string(), nullable=False),
        pa.field("repo", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field("first_divergent_stage", pa.string()),
        pa.field("versions", pa.string(), nullable=False),
        pa.field("repo_set", pa.string()),
        pa.field("policy_hash", pa.string()),
        pa.field("engine_versions", pa.string()),
        pa.field("full_coverage", pa.bool_()),
        # Findings per severity (the repo's Result; the run's report on the "*" row), drawn
        # by the history chart of parity.html; null in rows written before they existed.
        pa.field("sev1", pa.int64()),
        pa.field("sev2", pa.int64()),
        pa.field("sev3", pa.int64()),
    ]
)


class HistoryRun(msgspec.Struct, frozen=True, kw_only=True):
    """One parity run as the history holds it (the run-level row)."""

    run_id: str
    at: str
    verdict: str
    repo_set: str | None
    policy_hash: str | None
    engine_versions: str | None
    full_coverage: bool

    def same_setup(self, other: HistoryRun) -> bool:
        """Whether two runs judged the same repos, with the same policy and engines."""
        key = (self.repo_set, self.policy_hash, self.engine_versions)
        return None not in key and key == (other.repo_set, other.policy_hash, other.engine_versions)


def full_coverage(report: ParityReport) -> bool:
    """Every repo compared at least one table and no evidence source failed on either side."""
    return bool(report.repos) and all(
        r.result.coverage.tables_compared > 0
        and not r.result.coverage.failed_sources()
        and not any(
            f.code.startswith("COVERAGE_") and f.allowed_by is None for f in r.result.findings
        )
        for r in report.repos
    )


COMMIT_ATTEMPTS = 5
"""How often one history append is tried when its commit fails on a concurrent writer's."""


def append_history(
    history: Path | str, report: ParityReport, storage_options: Mapping[str, str] | None = None
) -> str:
    """Append one row per repository of ``report`` and one (``repo = "*"``) for the run;
    return the run id. ``history`` may be an ``s3://`` URI (with ``storage_options``): many
    writers may append at once, each commit is put only if its version is still free."""
    run_id = uuid.uuid4().hex
    setup = {
        "repo_set": msgspec.json.encode(sorted(r.repo for r in report.repos)).decode(),
        "policy_hash": report.policy_hash,
        "engine_versions": msgspec.json.encode(report.versions, order="sorted").decode(),
        "full_coverage": full_coverage(report),
    }
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
                "first_divergent_stage": r.result.first_divergent_stage,
                "versions": msgspec.json.encode(versions).decode(),
                **setup,
                **r.result.counts(),
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
            **setup,
            **{sev: report.counts.get(sev) for sev in ("sev1", "sev2", "sev3")},
        }
    )
    if not is_uri(history):
        Path(history).parent.mkdir(parents=True, exist_ok=True)
    data = pa.Table.from_pylist(rows, schema=HISTORY_SCHEMA)
    options = dict(storage_options) if is_uri(history) and storage_options else None
    append_racing(
        lambda: write_deltalake(
            delta_location(history),
            data,
            mode="append",
            schema_mode="merge",  # histories written before the setup columns gain them
            storage_options=options,
        ),
        COMMIT_ATTEMPTS,
        (0.05, 0.2),
    )
    return run_id


def recent_runs(
    history: Path | str, limit: int, storage_options: Mapping[str, str] | None = None
) -> list[HistoryRun]:
    """The last ``limit`` parity runs, newest first (a run fails if any of its rows does)."""
    options = dict(storage_options or {})
    if not delta_exists(history, options):
        return []
    table = DeltaTable(
        delta_location(history), storage_options=options if is_uri(history) else None
    )
    data = pa.table(table.to_pyarrow_table())
    columns = {name: data.column(name).to_pylist() for name in data.column_names}
    count = data.num_rows
    runs: dict[str, HistoryRun] = {}
    for i in range(count):
        run_id = columns["run_id"][i]
        previous = runs.get(run_id)
        failed = columns["verdict"][i] == "fail" or (
            previous is not None and previous.verdict == "fail"
        )
        runs[run_id] = HistoryRun(
            run_id=run_id,
            at=columns["at"][i],
            verdict="fail" if failed else "pass",
            repo_set=columns.get("repo_set", [None] * count)[i],
            policy_hash=columns.get("policy_hash", [None] * count)[i],
            engine_versions=columns.get("engine_versions", [None] * count)[i],
            full_coverage=bool(columns.get("full_coverage", [False] * count)[i]),
        )
    ordered = sorted(runs.values(), key=lambda run: run.at, reverse=True)
    return ordered[:limit]


def clean_streak(runs: list[HistoryRun]) -> int:
    """Consecutive clean runs from the newest: passed, full coverage, same setup as the newest."""
    if not runs:
        return 0
    newest = runs[0]
    streak = 0
    for run in runs:
        if run.verdict != "pass" or not run.full_coverage or not run.same_setup(newest):
            break
        streak += 1
    return streak


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
