"""The parity history as the reports draw it: the runs of the history Delta table (written by
:func:`harness.gates.history.append_history`), oldest first, each with its verdict, the
severity of each repository and its findings per severity.

Reading never fails a report: an unreadable history is a note on the page, not an exception
(the cutover gate, which decides on the history, reports it as an error of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import msgspec

from harness.report.model import ParityReport

HISTORY_RUNS = 30
"""How many of the most recent recorded runs the chart shows."""
SEVERITIES = ("sev1", "sev2", "sev3")
CURRENT = "this run"
"""The run id of the report's own run when it is not recorded yet."""


class HistoryRun(msgspec.Struct, frozen=True, kw_only=True):
    """One parity run: when, its verdict, each repository's severity and the findings per
    severity (``None`` for runs recorded before the history held them)."""

    run_id: str
    at: str
    verdict: str
    repos: dict[str, str]
    findings: dict[str, int] | None
    current: bool = False
    """The run this report is about (added from the report when not yet recorded)."""


class ParityHistory(msgspec.Struct, frozen=True, kw_only=True):
    """The runs to draw (at most :data:`HISTORY_RUNS` of the ``recorded`` ones, oldest first)
    and where they were read from; ``error`` when the table could not be read."""

    path: str
    runs: tuple[HistoryRun, ...] = ()
    recorded: int = 0
    error: str | None = None


def read_history(
    path: Path | str,
    limit: int = HISTORY_RUNS,
    storage_options: Mapping[str, str] | None = None,
) -> ParityHistory:
    """The last ``limit`` runs of the history table at ``path`` (a folder or an ``s3://`` URI;
    none when it does not exist yet); an unreadable table gives a history with ``error`` set
    (credentials scrubbed from it)."""
    from harness.storage import delta_exists, delta_location, is_uri, redact

    options = dict(storage_options or {})
    try:
        if not delta_exists(path, options):
            return ParityHistory(path=str(path))
        from deltalake import DeltaTable

        table = DeltaTable(delta_location(path), storage_options=options if is_uri(path) else None)
        rows = table.to_pyarrow_table().to_pylist()
    except Exception as exc:  # shown on the page; the cutover gate fails on it itself
        error = redact(f"{type(exc).__name__}: {exc}", options)
        return ParityHistory(path=str(path), error=error)
    runs: dict[str, HistoryRun] = {}
    for row in rows:
        run = runs.get(row["run_id"]) or HistoryRun(
            run_id=row["run_id"], at=row["at"], verdict="pass", repos={}, findings=None
        )
        if row["verdict"] == "fail":
            run = msgspec.structs.replace(run, verdict="fail")
        counts = {s: row.get(s) for s in SEVERITIES}
        if row["repo"] != "*":
            run.repos[row["repo"]] = row["severity"]
        elif all(isinstance(n, int) for n in counts.values()):
            run = msgspec.structs.replace(run, findings=counts)
        runs[row["run_id"]] = run
    ordered = sorted(runs.values(), key=lambda run: run.at)
    return ParityHistory(
        path=str(path), runs=tuple(ordered[-limit:] if limit > 0 else ()), recorded=len(runs)
    )


def with_report(history: ParityHistory, report: ParityReport) -> ParityHistory:
    """``history`` with the run of ``report`` marked current: the recorded run of the same
    time and repositories when the report was written after it was recorded, else the report
    added as the newest run (reports are written before the run is appended)."""
    repos: dict[str, str] = {r.name: r.severity for r in report.repos}
    runs = list(history.runs)
    for i, run in enumerate(runs):
        if run.at == report.generated_at and run.repos == repos:
            runs[i] = msgspec.structs.replace(run, current=True)
            return msgspec.structs.replace(history, runs=tuple(runs))
    this = HistoryRun(
        run_id=CURRENT,
        at=report.generated_at,
        verdict=report.verdict,
        repos=repos,
        findings={s: report.counts.get(s, 0) for s in SEVERITIES},
        current=True,
    )
    runs = [*runs, this][-max(len(runs), HISTORY_RUNS) :] if runs else [this]
    return msgspec.structs.replace(history, runs=tuple(runs))
