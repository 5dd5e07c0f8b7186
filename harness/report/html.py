"""``parity.html``: one self-contained page (no network, no scripts from elsewhere).

Per repository: the verdict, the first divergent stage, a drill-down per table (reasons,
schema differences, row-diff counts and samples) and a bar chart of timings per stage and
backend drawn as inline SVG.
"""

from __future__ import annotations

from html import escape

import msgspec

from harness.report.coverage import COVERAGE_HEADER, coverage_rows
from harness.report.model import ParityReport, RepoParity

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}
h1 .pass{color:#1a7f37} h1 .fail{color:#cf222e}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.25rem .5rem}
.sev1{background:#ffebe9} .sev2{background:#fff8c5}
.sev3{background:#ddf4ff} .ok{background:#dafbe1}
details{margin:.25rem 0} summary{cursor:pointer} code{font-size:.85em}
"""
_COLORS = {"extract_s": "#8250df", "semantic_s": "#0969da", "total_s": "#6e7781"}


def _chart(repo: RepoParity) -> str:
    """Horizontal bars: one group per backend, one bar per stage timing."""
    rows = [(b, k, v) for b, t in sorted(repo.timings.items()) for k, v in sorted(t.items())]
    if not rows:
        return ""
    top = max(v for _, _, v in rows) or 1.0
    height = 22 * len(rows) + 10
    bars = []
    for i, (backend, key, value) in enumerate(rows):
        y = 5 + 22 * i
        width = max(1.0, 360 * value / top)
        color = _COLORS.get(key, "#57606a")
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(backend)} {escape(key)}</text>'
            f'<rect class="bar" data-backend="{escape(backend)}" data-stage="{escape(key)}" '
            f'x="170" y="{y}" width="{width:.1f}" height="16" fill="{color}"/>'
            f'<text x="{175 + width:.1f}" y="{y + 13}" font-size="11">{value:.3f}s</text>'
        )
    return (
        f'<svg class="timings" role="img" aria-label="timings of {escape(repo.name)}" '
        f'width="620" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )


def _tables(repo: RepoParity) -> str:
    if repo.comparison is None:
        return "<p>no comparison (a side failed)</p>"
    parts = []
    for t in repo.comparison.tables:
        detail = ""
        if t.schema_differences:
            detail += (
                "<p>schema: "
                + ", ".join(
                    escape(f"{d.kind} {d.column} {d.primary or ''}→{d.candidate or ''}")
                    for d in t.schema_differences
                )
                + "</p>"
            )
        if t.diff is not None:
            d = t.diff
            detail += (
                f"<p>added {d.added}, removed {d.removed}, changed {d.changed}; "
                f"duplicate keys {d.duplicate_keys_primary}/{d.duplicate_keys_candidate}</p>"
            )
            if d.column_mismatches:
                detail += (
                    "<p>columns: "
                    + escape(", ".join(f"{k}={v}" for k, v in d.column_mismatches.items()))
                    + "</p>"
                )
            detail += "".join(
                f"<div><code>{escape(msgspec.json.encode(s).decode())}</code></div>"
                for s in d.samples
            )
        versions = (
            f"primary v{t.primary.delta_version if t.primary else '-'}, "
            f"candidate v{t.candidate.delta_version if t.candidate else '-'}"
        )
        parts.append(
            f'<details class="table {t.severity}" data-table="{escape(t.table)}" '
            f'data-severity="{t.severity}"><summary>{escape(t.stage)}/{escape(t.table)}: '
            f"{t.severity} {escape('; '.join(t.reasons))}</summary>"
            f"<p>{versions}</p>{detail}</details>"
        )
    return "".join(parts)


def _coverage(report: ParityReport) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in COVERAGE_HEADER)
    body = (
        "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
            for row in coverage_rows(report)
        )
        or '<tr><td colspan="6" class="sev1">no repository was compared</td></tr>'
    )
    return f'<h2>Coverage</h2><table id="coverage"><tr>{head}</tr>{body}</table>'


def _findings(repo: RepoParity) -> str:
    if not repo.result.findings:
        return ""
    items = "".join(
        f'<li class="finding {f.severity}" data-code="{escape(f.code)}">'
        f"<b>{f.severity}</b> {escape(f.code)} {escape(f.stage)}/{escape(f.table)}: "
        f"{escape(f.message)}"
        + (f" <i>(allowed: {escape(f.allowed_by)})</i>" if f.allowed_by else "")
        + (" <i>(noise)</i>" if f.noise else "")
        + "</li>"
        for f in repo.result.findings
    )
    return f'<ul class="findings">{items}</ul>'


def render_html(report: ParityReport) -> str:
    """The whole page as a string: coverage first, then counts, then each repository."""
    sections = []
    for r in report.repos:
        stage = r.result.first_divergent_stage
        cand = (
            "ok"
            if r.candidate.ok
            else f"FAILED {escape(str((r.candidate.error or {}).get('code')))}"
        )
        sections.append(
            f'<section class="repo" id="repo-{escape(r.name)}" data-severity="{r.severity}">'
            f'<h2 class="{r.severity}">{escape(r.name)}: {r.severity}</h2>'
            f'<p>first divergent stage: <b class="first-divergent">{escape(stage or "none")}</b>; '
            f"order {escape(' then '.join(r.order))}; primary {escape(r.primary.backend)} "
            f"{r.primary.wall_s:.2f}s; candidate {escape(r.candidate.backend)} {cand} "
            f"{r.candidate.wall_s:.2f}s</p>{_findings(r)}{_chart(r)}{_tables(r)}</section>"
        )
    counts = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in report.counts.items())
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>codeanatomy parity: {report.verdict}</title><style>{_CSS}</style></head><body>"
        f'<h1>codeanatomy parity: <span id="verdict" class="{report.verdict}">'
        f"{report.verdict}</span></h1>"
        f"<p>{escape(report.generated_at)} · {escape(report.report_version)}</p>"
        f"{_coverage(report)}"
        f"<table><tr><th>severity</th><th>findings</th></tr>{counts}</table>"
        f"{''.join(sections)}</body></html>\n"
    )
