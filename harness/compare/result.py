"""The parity Result: the one place that decides what a comparison means (DESIGN §7).

As Scientist's ``Result`` does for an experiment, :func:`judge` takes everything observed about
one primary/candidate pair (the stage-by-stage comparison, both run manifests, the sides'
failures, harness faults, the noise baseline) and the parity policy, and decides once:

- each finding and its severity (sev1 contract break, missing output, crash, row count beyond
  tolerance; sev2 content mismatch, a failed or empty evidence source; sev3 warnings,
  manifest fields, drift, volatile tables);
- which findings the allow-list accepts (reason, owner, expiry) and which the noise baseline
  discounts (a table that differs between two runs of the primary is volatile: sev3);
- the **coverage**: per stage the tables compared and their rows on each side, and the health
  of each evidence source on each side. A failed source is never agreement, and neither is a
  table that both sides left empty where the contract expects rows;
- whether the result ``blocks`` (an unallowed sev1/sev2 finding).

Compare, shadow mode, the four report formats, the gates, ``status`` and the release checklist
read a :class:`Result`; nothing else decides a severity. :func:`judge_allow_list` adds what
the allow-list itself says over a whole report: an expired entry is sev1, an entry that matched
nothing is stale (sev3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

import msgspec

from backends.contract.schemas import EXTRACTORS
from harness.compare.model import ParitySeverity, TableVerdict, worst
from harness.compare.policy import AllowEntry, ParityPolicy
from harness.compare.runs import RunComparison
from harness.run.manifest import RunManifest

Side = Literal["primary", "candidate"]
Health = Literal["ok", "degraded", "failed", "missing"]

# Warning codes that mean an evidence source produced nothing at all (its table is empty
# because the tool failed, not because the repository has nothing of that kind).
SOURCE_FAILURE_CODES: dict[str, str] = {"SCIP_UNAVAILABLE": "scip", "SCIP_FAILED": "scip"}
# Warning codes that mean files were lost to one extractor (a crashed or hung worker).
FILE_LOSS_CODES = ("EXTRACT_WORKER_CRASHED", "EXTRACT_TIMEOUT")
# Tables the contract fills for every repository with at least one Python file that parses.
EXPECTED_ROWS: frozenset[tuple[str, str]] = frozenset(
    {("evidence", s) for s in ("repo_scan", "ast", "cst", "tree_sitter", "symtable", "scip")}
    | {("outputs", t) for t in ("cpg_nodes", "cpg_edges", "cpg_props", "evidence_summary")}
)
BLOCKING: frozenset[str] = frozenset({"sev1", "sev2"})
DIVERGENCE_CODES: frozenset[str] = frozenset({"SCHEMA_DIFFERS", "TABLE_DIFFERS"})


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the comparison found, with the severity the Result gave it."""

    code: str
    severity: ParitySeverity
    stage: str
    table: str
    message: str
    allowed_by: str | None = None
    """The allow-list entry that accepts it (reason, owner, expiry); it then never blocks."""
    noise: bool = False
    """Discounted by the noise baseline (the table differs between two primary runs)."""

    @property
    def counted_severity(self) -> ParitySeverity:
        """The severity it counts with: sev3 when the noise baseline discounted it."""
        return "sev3" if self.noise else self.severity

    @property
    def blocks(self) -> bool:
        return self.counted_severity in BLOCKING and self.allowed_by is None


class SourceHealth(msgspec.Struct, frozen=True, kw_only=True):
    """One evidence source on one side: rows, health, and the warning codes behind it."""

    source: str
    side: Side
    health: Health
    rows: int | None
    codes: dict[str, int] = {}


class TableCoverage(msgspec.Struct, frozen=True, kw_only=True):
    """One table of one stage: compared or not, and its rows on each side."""

    stage: str
    table: str
    compared: bool
    primary_rows: int | None
    candidate_rows: int | None


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    """What was actually compared (shown first in every report)."""

    tables: tuple[TableCoverage, ...]
    sources: tuple[SourceHealth, ...]
    tables_compared: int
    primary_rows: int
    candidate_rows: int

    def stage_summary(self) -> dict[str, tuple[int, int, int]]:
        """Per stage: (tables compared, rows primary, rows candidate)."""
        out: dict[str, tuple[int, int, int]] = {}
        for t in self.tables:
            n, a, b = out.get(t.stage, (0, 0, 0))
            out[t.stage] = (
                n + t.compared,
                a + (t.primary_rows or 0),
                b + (t.candidate_rows or 0),
            )
        return out

    def failed_sources(self) -> list[SourceHealth]:
        return [s for s in self.sources if s.health in ("failed", "missing")]


class Result(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one primary/candidate pair; computed once by :func:`judge`."""

    subject: str
    severity: ParitySeverity
    """The worst severity among findings that are neither allowed nor noise."""
    blocks: bool
    findings: tuple[Finding, ...]
    coverage: Coverage
    first_divergent_stage: str | None

    def counts(self) -> dict[str, int]:
        """Findings per severity, allowed and noise-discounted ones left out."""
        counts = dict.fromkeys(("sev1", "sev2", "sev3"), 0)
        for f in self.findings:
            if f.allowed_by is None and f.severity != "ok":
                counts[f.counted_severity] += 1
        return counts


def _source_health(side: Side, manifest: RunManifest | None) -> list[SourceHealth]:
    if manifest is None:
        return [SourceHealth(source=s, side=side, health="missing", rows=None) for s in EXTRACTORS]
    rows = {e.table: e.rows for e in manifest.inputs}
    codes = manifest.warnings_by_code
    out = []
    for source in EXTRACTORS:
        failed = {c: n for c, n in codes.items() if SOURCE_FAILURE_CODES.get(c) == source}
        health: Health = "failed" if failed else ("missing" if source not in rows else "ok")
        out.append(
            SourceHealth(
                source=source, side=side, health=health, rows=rows.get(source), codes=failed
            )
        )
    lost = {c: codes[c] for c in FILE_LOSS_CODES if codes.get(c)}
    if lost:
        # Which extractor lost the files is in the diagnostics rows, not in the counts: the
        # loss is shown on the run's scan (every per-file source shares the same pool).
        out = [
            msgspec.structs.replace(s, health="degraded", codes=lost)
            if s.source == "repo_scan" and s.health == "ok"
            else s
            for s in out
        ]
    return out


def _table_findings(
    verdicts: Iterable[TableVerdict], volatile: set[tuple[str, str]]
) -> list[Finding]:
    out = []
    for v in verdicts:
        if v.severity == "ok":
            continue
        noise = (v.stage, v.table) in volatile
        message = "; ".join(v.reasons)
        if noise:
            message += " (volatile: differs between two primary runs)"
        out.append(
            Finding(
                code="SCHEMA_DIFFERS" if v.schema_differences else "TABLE_DIFFERS",
                severity=v.severity,
                stage=v.stage,
                table=v.table,
                message=message,
                noise=noise,
            )
        )
    return out


def _coverage_findings(
    coverage: Coverage, manifests: tuple[RunManifest | None, RunManifest | None]
) -> list[Finding]:
    out: list[Finding] = []
    for s in coverage.sources:
        if s.health in ("failed", "missing"):
            why = ", ".join(f"{c}={n}" for c, n in sorted(s.codes.items())) or "no evidence table"
            out.append(
                Finding(
                    code="COVERAGE_SOURCE_FAILED",
                    severity="sev2",
                    stage="evidence",
                    table=s.source,
                    message=f"evidence source {s.source} {s.health} on the {s.side} side ({why})",
                )
            )
        elif s.health == "degraded":
            out.append(
                Finding(
                    code="COVERAGE_FILES_LOST",
                    severity="sev3",
                    stage="evidence",
                    table=s.source,
                    message=f"files lost to extractors on the {s.side} side "
                    f"({', '.join(f'{c}={n}' for c, n in sorted(s.codes.items()))})",
                )
            )
    python_ok = max((m.repo.python_files_ok for m in manifests if m is not None), default=0)
    failed = {s.source for s in coverage.failed_sources()}
    if python_ok:
        for t in coverage.tables:
            expected = (t.stage, t.table) in EXPECTED_ROWS and t.table not in failed
            if expected and not t.primary_rows and not t.candidate_rows:
                out.append(
                    Finding(
                        code="COVERAGE_EMPTY",
                        severity="sev2",
                        stage=t.stage,
                        table=t.table,
                        message=f"{t.stage}/{t.table} has no rows on either side, though "
                        f"{python_ok} Python files parsed: equal emptiness is not agreement",
                    )
                )
    if not coverage.tables_compared:
        out.append(
            Finding(
                code="COVERAGE_NOTHING_COMPARED",
                severity="sev1",
                stage="-",
                table="-",
                message="no table was compared: a comparison over nothing is not a pass",
            )
        )
    return out


def _coverage(
    comparison: RunComparison | None, manifests: tuple[RunManifest | None, RunManifest | None]
) -> Coverage:
    tables = tuple(
        TableCoverage(
            stage=v.stage,
            table=v.table,
            compared=v.primary is not None
            and v.candidate is not None
            and v.primary.rows is not None
            and v.candidate.rows is not None,
            primary_rows=v.primary.rows if v.primary else None,
            candidate_rows=v.candidate.rows if v.candidate else None,
        )
        for v in (comparison.tables if comparison is not None else ())
    )
    sources = (*_source_health("primary", manifests[0]), *_source_health("candidate", manifests[1]))
    return Coverage(
        tables=tables,
        sources=sources,
        tables_compared=sum(t.compared for t in tables),
        primary_rows=sum(t.primary_rows or 0 for t in tables),
        candidate_rows=sum(t.candidate_rows or 0 for t in tables),
    )


def _allow(
    finding: Finding, subject: str, entries: Iterable[AllowEntry], today: dt.date
) -> Finding:
    for a in entries:
        if a.matches(subject, finding.stage, finding.table, finding.code) and not a.expired(today):
            return msgspec.structs.replace(finding, allowed_by=a.describe())
    return finding


def judge(
    *,
    subject: str,
    comparison: RunComparison | None,
    primary: RunManifest | None,
    candidate: RunManifest | None,
    policy: ParityPolicy,
    failures: Iterable[tuple[Side, str]] = (),
    faults: Iterable[str] = (),
    noise: RunComparison | None = None,
    today: dt.date | None = None,
    checks: Iterable[Finding] = (),
) -> Result:
    """Decide the verdict on one pair. ``failures``: (side, message) of a side that failed;
    ``faults``: harness faults; ``noise``: two runs of the primary compared; ``checks``: the
    findings of a further check of the pair (``shadow --incremental``), judged like the rest
    (allow-list, severity, blocking)."""
    today = today or dt.date.today()
    manifests = (primary, candidate)
    findings: list[Finding] = [
        Finding(code="SIDE_FAILED", severity="sev1", stage="-", table=side, message=message)
        for side, message in failures
    ]
    findings += [
        Finding(code="HARNESS_FAULT", severity="sev1", stage="-", table="-", message=fault)
        for fault in faults
    ]
    findings += checks
    volatile = {(t.stage, t.table) for t in noise.tables if t.severity != "ok"} if noise else set()
    volatile_paths = {m.path for m in noise.manifest} if noise else set()
    coverage = _coverage(comparison, manifests)
    if comparison is not None:
        findings += _table_findings(comparison.tables, volatile)
        findings += [
            Finding(
                code="WARNINGS_DIFFER",
                severity="sev3",
                stage="outputs",
                table="diagnostics",
                message=f"warning {w.code}: {w.primary} vs {w.candidate}",
            )
            for w in comparison.warnings
        ]
        findings += [
            Finding(
                code="MANIFEST_DIFFERS",
                severity="sev3",
                stage="manifest",
                table=m.path,
                message=f"run.json {m.path} ({m.change}): {m.primary} -> {m.candidate}",
            )
            for m in comparison.manifest
            if m.path not in volatile_paths
        ]
        findings += [
            Finding(
                code="TABLE_DRIFT",
                severity="sev3",
                stage=d.stage,
                table=d.table,
                message=f"{d.side} {d.stage}/{d.table} has commits after the pinned version "
                f"{d.pinned_version} (latest {d.latest_version}); the pinned version was compared",
            )
            for d in comparison.drift
        ]
    if not any(f.code == "SIDE_FAILED" for f in findings):
        findings += _coverage_findings(coverage, manifests)
    findings = [_allow(f, subject, policy.allow, today) for f in findings]
    counted = [f for f in findings if f.allowed_by is None]
    severity = worst(*(f.counted_severity for f in counted))
    # Divergence is a table that differs; a coverage gap is not a divergence of the sides.
    first = next(
        (f.stage for f in findings if f.blocks and f.code in DIVERGENCE_CODES),
        None,
    )
    return Result(
        subject=subject,
        severity=severity,
        blocks=any(f.blocks for f in findings),
        findings=tuple(findings),
        coverage=coverage,
        first_divergent_stage=first,
    )


def judge_allow_list(
    results: Iterable[Result], policy: ParityPolicy, today: dt.date | None = None
) -> tuple[Finding, ...]:
    """What the allow-list says over a whole report: expired entries (sev1) and entries that
    matched no finding (stale, sev3)."""
    today = today or dt.date.today()
    used = {f.allowed_by for r in results for f in r.findings if f.allowed_by is not None}
    out = []
    for a in policy.allow:
        if a.expired(today):
            out.append(
                Finding(
                    code="ALLOW_EXPIRED",
                    severity="sev1",
                    stage=a.stage or "*",
                    table=a.table,
                    message=f"allow-list entry expired on {a.expires}: {a.describe()}",
                )
            )
        elif a.describe() not in used:
            out.append(
                Finding(
                    code="ALLOW_STALE",
                    severity="sev3",
                    stage=a.stage or "*",
                    table=a.table,
                    message=f"allow-list entry matched nothing: {a.describe()}",
                )
            )
    return tuple(out)
