"""The parity report as data: one entry per repository, a verdict over all of them."""

from __future__ import annotations

from typing import Literal

import msgspec

from harness.compare.model import SEVERITY_ORDER, Severity, worst
from harness.compare.runs import RunComparison
from harness.shadow.observation import HarnessFault, Observation
from harness.shadow.runner import ShadowOutcome

REPORT_VERSION = "parity/1"


class RepoParity(msgspec.Struct, frozen=True, kw_only=True):
    """One repository's shadow run: who ran, in which order, what differed, how long."""

    name: str
    repo: str
    severity: Severity
    primary: Observation
    candidate: Observation
    order: tuple[str, str]
    extract_s: float
    comparison: RunComparison | None
    faults: tuple[HarnessFault, ...]
    timings: dict[str, dict[str, float]]


class ParityReport(msgspec.Struct, frozen=True, kw_only=True):
    """``parity.json``."""

    report_version: str
    generated_at: str
    versions: dict[str, str]
    verdict: Literal["pass", "fail"]
    thresholds: dict[str, int | None]
    counts: dict[str, int]
    repos: tuple[RepoParity, ...]


def repo_parity(
    name: str, repo: str, shadow: ShadowOutcome, timings: dict[str, dict[str, float]]
) -> RepoParity:
    """Summarize one shadow outcome; a failed candidate or a harness fault is sev1."""
    severity: Severity = shadow.comparison.severity if shadow.comparison is not None else "ok"
    if not shadow.candidate.ok or not shadow.primary.ok or shadow.faults:
        severity = worst(severity, "sev1")
    return RepoParity(
        name=name,
        repo=repo,
        severity=severity,
        primary=shadow.primary,
        candidate=shadow.candidate,
        order=shadow.order,
        extract_s=shadow.extract_s,
        comparison=shadow.comparison,
        faults=shadow.faults,
        timings=timings,
    )


def finding_counts(repos: tuple[RepoParity, ...]) -> dict[str, int]:
    """Findings per severity: table verdicts, failed sides and harness faults."""
    counts = dict.fromkeys(("sev1", "sev2", "sev3"), 0)
    for r in repos:
        if r.comparison is not None:
            for t in r.comparison.tables:
                if t.severity != "ok" and not t.allowed:
                    counts[t.severity] += 1
            counts["sev3"] += len(r.comparison.warnings) + len(r.comparison.manifest)
        counts["sev1"] += (not r.candidate.ok) + (not r.primary.ok) + len(r.faults)
    return counts


def verdict_of(
    counts: dict[str, int], thresholds: dict[str, int | None]
) -> Literal["pass", "fail"]:
    """``fail`` when any severity's count is above its threshold (None: unlimited)."""
    for sev in ("sev1", "sev2", "sev3"):
        limit = thresholds.get(f"max_{sev}")
        if limit is not None and counts[sev] > limit:
            return "fail"
    return "pass"


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER[severity]
