"""Turn shadow outcomes into a parity report: apply the allow-list, count, decide."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import msgspec

from harness.compare.policy import ParityPolicy
from harness.compare.result import judge_allow_list
from harness.report.model import (
    REPORT_VERSION,
    ParityReport,
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


def assemble(
    runs: list[RepoRun],
    policy: ParityPolicy,
    thresholds: dict[str, int | None],
    today: dt.date | None = None,
) -> ParityReport:
    """The report over all repositories; expired allow-list entries are sev1 findings.

    A report over no repository, or where nothing was compared, fails: ``verdict_of`` is
    given the coverage counts."""
    repos = tuple(repo_parity(r.name, r.repo, r.outcome, _timings(r.outcome)) for r in runs)
    allow_list = judge_allow_list((r.result for r in repos), policy, today)
    counts = finding_counts(repos, allow_list)
    counts["expired_allow_entries"] = sum(f.code == "ALLOW_EXPIRED" for f in allow_list)
    record_mismatches({k: counts[k] for k in ("sev1", "sev2", "sev3")})
    return ParityReport(
        report_version=REPORT_VERSION,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=versions(),
        verdict=verdict_of(counts, thresholds),
        thresholds=thresholds,
        counts=counts,
        repos=repos,
        allow_list=allow_list,
        policy_hash=hashlib.sha256(msgspec.json.encode(policy, order="sorted")).hexdigest(),
    )
