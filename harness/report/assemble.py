"""Turn shadow outcomes into a parity report: apply the allow-list, count, decide."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from harness.compare.policy import ParityPolicy
from harness.compare.result import judge_allow_list
from harness.report.model import (
    REPORT_VERSION,
    ParityReport,
    RepoParity,
    finding_counts,
    repo_parity,
    verdict_of,
)
from harness.run.manifest import RunManifest, read_manifest
from harness.shadow.runner import ShadowOutcome
from harness.telemetry import record_mismatches
from harness.versions import versions


@dataclass(frozen=True)
class RepoRun:
    """One repository's shadow outcome, as input to the report."""

    name: str
    repo: str
    outcome: ShadowOutcome


def _manifests(outcome: ShadowOutcome) -> dict[str, RunManifest]:
    """Per role, the ``run.json`` of each side that finished."""
    out: dict[str, RunManifest] = {}
    for side in (outcome.primary, outcome.candidate):
        path = Path(side.run_dir) / "run.json"
        if side.ok and path.is_file():
            out[side.role] = read_manifest(path)
    return out


def _repo(run: RepoRun) -> RepoParity:
    manifests = _manifests(run.outcome)
    sides = {"primary": run.outcome.primary, "candidate": run.outcome.candidate}
    timings = {sides[role].backend: m.timings for role, m in manifests.items()}
    warnings = {role: dict(m.warnings_by_code) for role, m in manifests.items()}
    return repo_parity(run.name, run.repo, run.outcome, timings, warnings)


def assemble(
    runs: list[RepoRun],
    policy: ParityPolicy,
    thresholds: dict[str, int | None],
    today: dt.date | None = None,
) -> ParityReport:
    """The report over all repositories; expired allow-list entries are sev1 findings.

    A report over no repository, or where nothing was compared, fails: ``verdict_of`` is
    given the coverage counts."""
    repos = tuple(_repo(r) for r in runs)
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
