"""Turn shadow outcomes into a parity report: apply the allow-list, count, decide."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import msgspec

from harness.compare.model import TableVerdict
from harness.compare.policy import ParityPolicy
from harness.report.model import (
    REPORT_VERSION,
    ParityReport,
    RepoParity,
    finding_counts,
    repo_parity,
    verdict_of,
)
from harness.shadow.runner import ShadowOutcome
from harness.telemetry import record_mismatches
from harness.versions import versions


@dataclass(frozen=True)
class RepoRun:
    """One repository's shadow outcome, as input to the report."""

    name: str
    repo: str
    outcome: ShadowOutcome


def _timings(outcome: ShadowOutcome) -> dict[str, dict[str, float]]:
    from pathlib import Path

    from harness.run.manifest import read_manifest

    out: dict[str, dict[str, float]] = {}
    for side in (outcome.primary, outcome.candidate):
        path = Path(side.run_dir) / "run.json"
        if side.ok and path.is_file():
            out[side.backend] = read_manifest(path).timings
    return out


def _allow(repo: RepoParity, policy: ParityPolicy, today: dt.date) -> RepoParity:
    if repo.comparison is None or not policy.allow:
        return repo
    tables: list[TableVerdict] = []
    for t in repo.comparison.tables:
        reasons = tuple(
            f"{a.reason} ({a.owner}, until {a.expires})"
            for a in policy.allow
            if t.severity != "ok"
            and a.matches(repo.name, t.stage, t.table)
            and not a.expired(today)
        )
        tables.append(msgspec.structs.replace(t, allowed=reasons) if reasons else t)
    comparison = msgspec.structs.replace(repo.comparison, tables=tuple(tables))
    return msgspec.structs.replace(repo, comparison=comparison)


def assemble(
    runs: list[RepoRun],
    policy: ParityPolicy,
    thresholds: dict[str, int | None],
    today: dt.date | None = None,
) -> ParityReport:
    """The report over all repositories; expired allow-list entries are sev1 findings."""
    today = today or dt.date.today()
    repos = tuple(
        _allow(repo_parity(r.name, r.repo, r.outcome, _timings(r.outcome)), policy, today)
        for r in runs
    )
    counts = finding_counts(repos)
    expired = [a for a in policy.allow if a.expired(today)]
    counts["sev1"] += len(expired)
    counts["expired_allow_entries"] = len(expired)
    record_mismatches({k: counts[k] for k in ("sev1", "sev2", "sev3")})
    return ParityReport(
        report_version=REPORT_VERSION,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=versions(),
        verdict=verdict_of(counts, thresholds),
        thresholds=thresholds,
        counts=counts,
        repos=repos,
    )
