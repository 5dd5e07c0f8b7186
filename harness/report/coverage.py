"""The coverage table that every report format opens with (issue 12: a pass says what it
compared): per repository, per stage the tables compared and their rows on each side, and the
health of the evidence sources on both sides."""

from __future__ import annotations

from harness.report.model import ParityReport

COVERAGE_HEADER = (
    "repo",
    "evidence compared (rows P/C)",
    "views compared",
    "outputs compared",
    "tables",
    "evidence sources (both sides)",
)


def coverage_rows(report: ParityReport) -> list[tuple[str, ...]]:
    """The coverage table every format opens with: per repo, per stage the tables compared
    and the rows on each side, and the health of the evidence sources on each side."""
    rows = []
    for r in report.repos:
        cov = r.result.coverage
        stages = cov.stage_summary()
        cells = [
            f"{stages[s][0]} ({stages[s][1]}/{stages[s][2]} rows)" if s in stages else "-"
            for s in ("evidence", "views", "outputs")
        ]
        bad = cov.failed_sources() + [s for s in cov.sources if s.health == "degraded"]
        total = len(cov.sources)
        health = f"{total - len(bad)}/{total} healthy" + (
            "" if not bad else ": " + ", ".join(f"{s.source} {s.health} ({s.side})" for s in bad)
        )
        rows.append((r.name, *cells, str(cov.tables_compared), health))
    return rows
