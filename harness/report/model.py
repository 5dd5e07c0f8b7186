"""The parity report as data: one entry per repository, a verdict over all of them."""

from __future__ import annotations

from typing import Literal

import msgspec

from harness.compare.model import SEVERITY_ORDER, ParitySeverity
from harness.compare.result import Finding, Result
from harness.compare.runs import RunComparison
from harness.shadow.observation import HarnessFault, Observation
from harness.shadow.runner import ShadowOutcome

REPORT_VERSION = "parity/2"


class RepoParity(msgspec.Struct, frozen=True, kw_only=True):
    """One repository's shadow run: who ran, in which order, what differed, how long, and
    the parity :class:`Result` (findings, coverage) that judges it."""

    name: str
    repo: str
    severity: ParitySeverity
    """``result.severity``, copied for readers of parity.json."""
    result: Result
    primary: Observation
    candidate: Observation
    order: tuple[str, str]
    extract_s: float
    comparison: RunComparison | None
    faults: tuple[HarnessFault, ...]
    timings: dict[str, dict[str, float]]
    """Per backend, the timings its ``run.json`` records (seconds)."""
    warnings: dict[str, dict[str, int]] = {}
    """Per role (``primary``, ``candidate``), the warnings by code its ``run.json`` records;
    a side without a ``run.json`` (it failed) has no entry."""


class ParityReport(msgspec.Struct, frozen=True, kw_only=True):
    """``parity.json``."""

    report_version: str
    generated_at: str
    versions: dict[str, str]
    verdict: Literal["pass", "fail"]
    thresholds: dict[str, int | None]
    counts: dict[str, int]
    repos: tuple[RepoParity, ...]
    policy_hash: str = ""
    """SHA-256 of the parity policy the Results applied (the cutover gate compares it)."""
    allow_list: tuple[Finding, ...] = ()
    """What the allow-list says over the whole run: expired (sev1) and stale (sev3) entries."""


def repo_parity(
    name: str,
    repo: str,
    shadow: ShadowOutcome,
    timings: dict[str, dict[str, float]],
    warnings: dict[str, dict[str, int]] | None = None,
) -> RepoParity:
    """One shadow outcome as a report entry; its severity is its Result's."""
    return RepoParity(
        name=name,
        repo=repo,
        severity=shadow.result.severity,
        result=shadow.result,
        primary=shadow.primary,
        candidate=shadow.candidate,
        order=shadow.order,
        extract_s=shadow.extract_s,
        comparison=shadow.comparison,
        faults=shadow.faults,
        timings=timings,
        warnings=warnings or {},
    )


def finding_counts(
    repos: tuple[RepoParity, ...], allow_list: tuple[Finding, ...] = ()
) -> dict[str, int]:
    """Findings per severity over every repo's Result and the allow-list findings
    (allowed findings and noise-discounted ones are not counted as sev1/sev2), with what was
    compared: ``repos`` and ``tables_compared`` (:func:`verdict_of` fails on zero)."""
    counts = dict.fromkeys(("sev1", "sev2", "sev3"), 0)
    for r in repos:
        for sev, n in r.result.counts().items():
            counts[sev] += n
    for f in allow_list:
        counts[f.severity] += 1
    counts["repos"] = len(repos)
    counts["tables_compared"] = sum(r.result.coverage.tables_compared for r in repos)
    return counts


def verdict_of(
    counts: dict[str, int], thresholds: dict[str, int | None]
) -> Literal["pass", "fail"]:
    """``fail`` when any severity's count is above its threshold (None: unlimited), and
    when nothing was compared at all (no repository, no table): a pass must be earned."""
    if counts.get("repos", 1) == 0 or counts.get("tables_compared", 1) == 0:
        return "fail"
    for sev in ("sev1", "sev2", "sev3"):
        limit = thresholds.get(f"max_{sev}")
        if limit is not None and counts[sev] > limit:
            return "fail"
    return "pass"


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER[severity]
