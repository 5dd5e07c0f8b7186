"""What every report format shows of a repository, computed once from the report: the
recorded timings, the warnings by code on both sides, the rows per table on both sides, and
the findings split into what blocks and the sev3 details. The formats only lay it out (the
timing chart and the header of ``parity.html`` read the same :class:`Timing` values, JUnit
its times); nothing here decides a severity: the parity Result did."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from harness.compare.model import TableVerdict
from harness.compare.result import BLOCKING, Finding
from harness.report.model import ParityReport, RepoParity

_HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{20,}\b")
SHORT_HASH = 12
"""Hex digits kept of a hash (or any hex id of 20 digits or more) in the short forms."""


def short_hashes(text: str, keep: int = SHORT_HASH) -> str:
    """``text`` with every long hex string (hashes, fingerprints, hashed ids) cut to its
    first ``keep`` digits and an ellipsis; the full values are in ``parity.json``."""
    return _HASH.sub(lambda m: m.group()[:keep] + "…", text)


def secs(value: float) -> str:
    """Seconds as every format prints them (three decimals: the recorded precision is four)."""
    return f"{value:.3f} s"


def signed(value: int | None) -> str:
    """A difference candidate minus primary: ``+3``, ``-1``, ``0``; ``-`` when unknown."""
    if value is None:
        return "-"
    return f"{value:+d}" if value else "0"


def backend_name(backend: str) -> str:
    """A backend as the reports name it: a plugin ``package.module:NAME`` by its ``NAME``."""
    return backend.rpartition(":")[2]


def sample_json(sample: dict[str, Any]) -> str:
    return msgspec.json.encode(sample).decode()


# --- timings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One recorded wall time of a repository's shadow run, with the ``run.json`` stages that
    ran inside it (``parts``: stage name and seconds, each at most ``wall_s``)."""

    key: str
    """``stage0``, ``primary`` or ``candidate``."""
    label: str
    wall_s: float
    parts: tuple[tuple[str, float], ...] = ()
    ok: bool = True
    note: str = ""


_STAGE_NAMES = {"extract_s": "Stage 0 extraction", "semantic_s": "semantics"}


def repo_timings(repo: RepoParity) -> list[Timing]:
    """The recorded times of one repository, in the order the report shows them: Stage 0
    (once, shared by both sides, timed by the shadow runner; absent when each side extracted
    for itself), then each side's wall time as the shadow runner measured it, with the stages
    its ``run.json`` records inside that wall time (semantics; with isolated sides also the
    side's own extraction)."""
    out = []
    shared = repo.extract_s > 0
    if shared:
        out.append(Timing(key="stage0", label="Stage 0 extraction (shared)", wall_s=repo.extract_s))
    inside = ("semantic_s",) if shared else ("extract_s", "semantic_s")
    for obs in (repo.primary, repo.candidate):
        recorded = repo.timings.get(obs.backend, {}) if obs.ok else {}
        parts = tuple((_STAGE_NAMES[k], recorded[k]) for k in inside if k in recorded)
        note = ""
        if not obs.ok:
            code = (obs.error or {}).get("code")
            note = "timed out" if obs.timed_out else f"failed ({code})" if code else "failed"
        out.append(
            Timing(
                key=obs.role,
                label=f"{backend_name(obs.backend)} ({obs.role})",
                wall_s=obs.wall_s,
                parts=parts,
                ok=obs.ok,
                note=note,
            )
        )
    return out


def repo_seconds(repo: RepoParity) -> float:
    """The recorded time of a repository: Stage 0 plus both sides' wall times."""
    return sum(t.wall_s for t in repo_timings(repo))


# --- warnings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningRow:
    code: str
    primary: int | None
    candidate: int | None

    @property
    def difference(self) -> int | None:
        if self.primary is None or self.candidate is None:
            return None
        return self.candidate - self.primary


def warning_rows(repo: RepoParity) -> list[WarningRow]:
    """Every warning code of either side with its count on each side (0 when the other side
    has none; ``None`` when that side recorded no warnings at all: it failed, or the report
    predates the field); the codes whose counts differ first, each group by code."""
    sides = [repo.warnings.get(role) for role in ("primary", "candidate")]
    codes = sorted({c for s in sides if s for c in s})
    rows = [
        WarningRow(
            code=c,
            primary=None if sides[0] is None else sides[0].get(c, 0),
            candidate=None if sides[1] is None else sides[1].get(c, 0),
        )
        for c in codes
    ]
    return sorted(rows, key=lambda w: not w.difference)  # the differing ones first


# --- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRow:
    verdict: TableVerdict

    @property
    def primary_rows(self) -> int | None:
        return self.verdict.primary.rows if self.verdict.primary else None

    @property
    def candidate_rows(self) -> int | None:
        return self.verdict.candidate.rows if self.verdict.candidate else None

    @property
    def difference(self) -> int | None:
        a, b = self.primary_rows, self.candidate_rows
        return None if a is None or b is None else b - a


def table_rows(repo: RepoParity) -> list[TableRow]:
    """Every table compared, in stage order, with its rows on both sides."""
    return [TableRow(t) for t in (repo.comparison.tables if repo.comparison else ())]


def table_facts(t: TableVerdict, *, short: bool = True) -> list[str]:
    """Plain lines that explain one table's verdict (the finding's message gives the
    reasons): rows, versions and fingerprints of both sides (shortened unless not
    ``short``), schema differences, the row diff's counts and the changed columns."""
    row = TableRow(t)

    def side(s: Any) -> str:
        if s is None:
            return "absent"
        fp = (short_hashes(s.fingerprint) if short else s.fingerprint) if s.fingerprint else "-"
        rows = "-" if s.rows is None else f"{s.rows:,}"
        return f"{rows} rows (Delta v{s.delta_version}, fingerprint {fp})"

    lines = [
        f"primary {side(t.primary)}; candidate {side(t.candidate)}; "
        f"difference {signed(row.difference)}"
    ]
    if t.schema_differences:
        lines.append(
            "schema: "
            + ", ".join(
                f"{d.kind} {d.column} ({d.primary or '-'} -> {d.candidate or '-'})"
                for d in t.schema_differences
            )
        )
    if t.diff is not None:
        d = t.diff
        lines.append(
            f"keyed by {', '.join(d.key)}: added {d.added:,}, removed {d.removed:,}, "
            f"changed {d.changed:,}; duplicate keys primary {d.duplicate_keys_primary}, "
            f"candidate {d.duplicate_keys_candidate}"
        )
        if d.column_mismatches:
            lines.append(
                "changed columns: "
                + ", ".join(f"{k} ({v:,} rows)" for k, v in sorted(d.column_mismatches.items()))
            )
    return lines


def table_samples(
    t: TableVerdict, limit: int | None = None, *, short: bool = True
) -> tuple[str, list[str]]:
    """A caption and up to ``limit`` sample rows of the table's row diff (JSON, long hashes
    shortened unless not ``short``); no caption and no rows when the diff has none."""
    if t.diff is None or not t.diff.samples:
        return "", []
    d = t.diff
    shown = d.samples if limit is None else d.samples[:limit]
    if not shown:
        return "", []
    total = d.added + d.removed + d.changed
    return (
        f"sample rows ({len(shown)} of {total:,} differing)",
        [short_hashes(sample_json(s)) if short else sample_json(s) for s in shown],
    )


# --- findings -----------------------------------------------------------------------------------


def blocking(repo: RepoParity) -> list[Finding]:
    """The findings that block (unallowed sev1/sev2)."""
    return [f for f in repo.result.findings if f.blocks]


def accepted(repo: RepoParity) -> list[Finding]:
    """sev1/sev2 findings that do not block: allowed by the allow-list, or noise (they then
    count as sev3)."""
    return [f for f in repo.result.findings if f.severity in BLOCKING and not f.blocks]


def sev3(repo: RepoParity) -> list[Finding]:
    """The sev3 details: the findings the Result gave sev3 (warnings, manifest fields, drift,
    lost files); noise-discounted sev1/sev2 findings are among :func:`accepted`."""
    return [f for f in repo.result.findings if f.severity == "sev3"]


def passed_checks(repo: RepoParity) -> list[Finding]:
    """The findings that record a further check passing (severity ``ok``: ``shadow
    --incremental``'s identical sides), shown so that a check that ran is never invisible."""
    return [f for f in repo.result.findings if f.severity == "ok"]


def verdict_line(report: ParityReport) -> str:
    """One sentence under the verdict: what was compared and the findings against the
    thresholds."""
    parts = []
    for sev in ("sev1", "sev2", "sev3"):
        limit = report.thresholds.get(f"max_{sev}")
        parts.append(f"{sev} {report.counts.get(sev, 0)} (max {'∞' if limit is None else limit})")
    repos = report.counts.get("repos", len(report.repos))
    tables = report.counts.get("tables_compared", 0)
    return (
        f"{repos} {'repository' if repos == 1 else 'repositories'}, {tables} tables compared; "
        + ", ".join(parts)
    )
