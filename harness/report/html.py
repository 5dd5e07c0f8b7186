"""``parity.html``: one self-contained page (no network, no scripts; charts are inline SVG).

It opens with the verdict, the repository summary and the coverage table, then the findings
against their thresholds and the parity history chart (from the history table). Per
repository: the recorded timings (a table and a chart of the same values), the findings that
block, the sev3 details, the warnings by code on both sides, the rows of every table on both
sides and their difference (folded when every table agrees) and a drill-down per divergent
table (reasons, schema differences, row-diff counts, sample rows).

The page displays the report; it decides nothing.
"""

from __future__ import annotations

from html import escape
from typing import Any

from harness.compare.result import Finding
from harness.report.charts import (
    HISTORY_REPO_ROWS,
    SEVERITY_COLORS,
    VERDICT_COLORS,
    history_chart,
    timing_chart,
)
from harness.report.coverage import COVERAGE_HEADER, coverage_rows
from harness.report.digest import (
    TableRow,
    accepted,
    backend_name,
    blocking,
    passed_checks,
    repo_timings,
    secs,
    sev3,
    short_hashes,
    signed,
    table_rows,
    verdict_line,
    warning_rows,
)
from harness.report.history import CURRENT, ParityHistory, with_report
from harness.report.model import ParityReport, RepoParity

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
 background:#f6f8fa;font-size:14px;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:1.25rem 1.5rem 3rem}
header.top{padding:1rem 1.25rem;border-radius:8px;color:#fff;margin-bottom:1rem}
header.top.pass{background:#1a7f37} header.top.fail{background:#cf222e}
header.top h1{margin:0;font-size:1.7rem} header.top p{margin:.3rem 0 0}
header.top .meta{opacity:.85;font-size:.85rem}
header.top code{color:#fff}
section.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1.1rem;
 margin:0 0 1rem}
h2{font-size:1.2rem;margin:.2rem 0 .6rem} h3{font-size:1rem;margin:1rem 0 .4rem}
h4{font-size:.95rem;margin:.6rem 0 .3rem}
table{border-collapse:collapse;margin:.3rem 0 .6rem}
td,th{border:1px solid #d0d7de;padding:.2rem .55rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums} td.n{white-space:nowrap}
tr.sev1 td{background:#ffebe9} tr.sev2 td{background:#fff8c5} tr.sev3 td{background:#ddf4ff}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;font-weight:600;
 color:#fff;vertical-align:middle}
.badge.ok,.badge.pass{background:#1a7f37} .badge.sev1,.badge.fail{background:#cf222e}
.badge.sev2{background:#9a6700} .badge.sev3{background:#0969da} .badge.blocks{background:#6e7781}
section.repo>h2{display:flex;gap:.6rem;align-items:center}
.none{color:#57606a;font-style:italic;margin:.2rem 0 .5rem}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.4rem .7rem;margin:.3rem 0}
.note.error{border-color:#cf222e}
figure{margin:.3rem 0 .6rem} figcaption{color:#57606a;font-size:.85rem;max-width:62rem}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;margin-right:.3rem;
 vertical-align:-2px}
details>summary{cursor:pointer;font-weight:600;padding:.2rem 0}
div.table{border-left:4px solid #d0d7de;padding:.1rem .8rem;margin:.5rem 0}
div.table.sev1{border-color:#cf222e} div.table.sev2{border-color:#d4a72c}
div.table.sev3{border-color:#54aeff}
div.table p{margin:.2rem 0} code{font-size:.85em}
a{color:#0969da;text-decoration:none}
"""


def _e(value: object) -> str:
    return escape(str(value))


def _hashy(text: str) -> str:
    """Escaped, long hex strings shortened (the full text as the tooltip when shortened)."""
    short = short_hashes(text)
    if short == text:
        return escape(text)
    return f'<span title="{escape(text)}">{escape(short)}</span>'


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _badge(severity: str) -> str:
    return f'<span class="badge {severity}">{severity}</span>'


def _table(head: list[str], rows: list[str], attrs: str = "", numeric: set[int] = set()) -> str:  # noqa: B006
    cells = "".join(
        f"<th{' class=n' if i in numeric else ''}>{escape(h)}</th>" for i, h in enumerate(head)
    )
    return f"<table{attrs}><tr>{cells}</tr>{''.join(rows)}</table>"


def _side_text(repo: RepoParity, role: str) -> str:
    obs = repo.primary if role == "primary" else repo.candidate
    state = "" if obs.ok else f" FAILED ({_e((obs.error or {}).get('code', 'error'))})"
    return f'<span title="{_e(obs.backend)}">{_e(backend_name(obs.backend))}</span>{state}'


# --- the opening: summary, coverage, counts, history -------------------------------------------


def _summary(report: ParityReport) -> str:
    head = [
        "repo",
        "result",
        "first divergent stage",
        "sev1",
        "sev2",
        "sev3",
        "tables compared",
        "rows primary",
        "rows candidate",
        "Stage 0",
        "primary (wall)",
        "candidate (wall)",
    ]
    rows = []
    for r in report.repos:
        counts = r.result.counts()
        cov = r.result.coverage
        times = {t.key: t for t in repo_timings(r)}
        stage0 = times.get("stage0")
        blocks = ' <span class="badge blocks">blocks</span>' if r.result.blocks else ""
        rows.append(
            f'<tr class="{r.severity if r.severity != "ok" else ""}" data-repo="{_e(r.name)}">'
            f'<td><a href="#repo-{_e(r.name)}">{_e(r.name)}</a></td>'
            f"<td>{_badge(r.severity)}{blocks}</td>"
            f"<td>{_e(r.result.first_divergent_stage or '-')}</td>"
            + "".join(f'<td class="n">{counts[s]}</td>' for s in ("sev1", "sev2", "sev3"))
            + f'<td class="n">{cov.tables_compared}</td>'
            f'<td class="n">{_n(cov.primary_rows)}</td><td class="n">{_n(cov.candidate_rows)}</td>'
            f'<td class="n">{secs(stage0.wall_s) if stage0 else "-"}</td>'
            f'<td class="n">{_side_text(r, "primary")} {secs(times["primary"].wall_s)}</td>'
            f'<td class="n">{_side_text(r, "candidate")} {secs(times["candidate"].wall_s)}</td>'
            "</tr>"
        )
    if not rows:
        rows.append(
            f'<tr class="sev1"><td colspan="{len(head)}">no repository was compared</td></tr>'
        )
    return (
        '<section class="card" id="summary"><h2>Repositories</h2>'
        + _table(head, rows, ' id="repos"', numeric=set(range(3, 12)))
        + "</section>"
    )


def _coverage(report: ParityReport) -> str:
    body = [
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in coverage_rows(report)
    ] or [
        f'<tr class="sev1"><td colspan="{len(COVERAGE_HEADER)}">no repository was compared'
        "</td></tr>"
    ]
    return (
        '<section class="card" id="coverage-section"><h2>Coverage</h2>'
        + _table(list(COVERAGE_HEADER), body, ' id="coverage"')
        + "</section>"
    )


def _counts(report: ParityReport) -> str:
    rows = []
    for sev in ("sev1", "sev2", "sev3"):
        limit = report.thresholds.get(f"max_{sev}")
        count = report.counts.get(sev, 0)
        over = limit is not None and count > limit
        rows.append(
            f'<tr class="{sev if over else ""}"><td>{_badge(sev)}</td>'
            f'<td class="n">{count}</td><td class="n">{"∞" if limit is None else limit}</td>'
            f"<td>{'above the threshold' if over else 'within'}</td></tr>"
        )
    allow = ""
    if report.allow_list:
        allow = "<h3>Allow-list</h3>" + _findings_table(list(report.allow_list), "allow-list")
    return (
        '<section class="card" id="counts-section"><h2>Findings against thresholds</h2>'
        + _table(["severity", "findings", "threshold", ""], rows, ' id="counts"', {1, 2})
        + allow
        + "</section>"
    )


def _legend(items: list[tuple[str, str]]) -> str:
    return (
        '<p class="legend">'
        + "".join(f'<span><i style="background:{c}"></i>{escape(t)}</span>' for t, c in items)
        + "</p>"
    )


def _history(report: ParityReport, history: ParityHistory | None) -> str:
    head = '<section class="card" id="history"><h2>Parity history</h2>'
    if history is None:
        return (
            head + '<p class="note" id="history-none">No parity history: this report was not '
            "written by a recorded parity run (<code>codeanatomy shadow</code> and "
            "<code>codeanatomy gate parity</code> record every run in the history table).</p>"
            "</section>"
        )
    if history.error is not None:
        return (
            head + f'<p class="note error" id="history-error">The parity history at '
            f"<code>{_e(history.path)}</code> could not be read: {_e(history.error)}</p>"
            "</section>"
        )
    if not history.runs:
        return (
            head + '<p class="note" id="history-none">No history yet: no parity run is recorded '
            f"in <code>{_e(history.path)}</code>. This run is the first; the chart of verdicts "
            "and findings over runs appears from the next run on.</p></section>"
        )
    drawn = with_report(history, report)
    names = [r.name for r in report.repos]
    verdicts = [r.verdict for r in drawn.runs]
    recorded = any(r.current and r.run_id != CURRENT for r in drawn.runs)
    shown = len(drawn.runs) - (0 if recorded else 1)
    hidden = len(names) - HISTORY_REPO_ROWS
    caption = (
        "The verdict of each parity run, the severity in it of each repository of this report, "
        "and its findings per severity (count; allowed ones not counted), oldest left: "
        + (
            f"the last {shown} of the {history.recorded} runs"
            if shown < history.recorded
            else f"the {shown} run{'s' if shown > 1 else ''}"
        )
        + f" recorded in <code>{_e(history.path)}</code>"
        + ("" if recorded else " and this run (recorded after this report was written)")
        + f"; this run is highlighted. {verdicts.count('pass')} passed, "
        f"{verdicts.count('fail')} failed."
        + (f" {hidden} more repositories are not drawn." if hidden > 0 else "")
        + (
            " n/a: a run recorded before the history held finding counts."
            if any(r.findings is None for r in drawn.runs)
            else ""
        )
    )
    legend = _legend(
        [("pass", VERDICT_COLORS["pass"]), ("fail", VERDICT_COLORS["fail"])]
        + [(k, c) for k, c in SEVERITY_COLORS.items()]
        + [("repository not in that run", "#eaeef2")]
    )
    return (
        head + f"<figure>{history_chart(drawn, names)}<figcaption>{caption}</figcaption>"
        f"</figure>{legend}</section>"
    )


# --- one repository -----------------------------------------------------------------------------


def _timings(repo: RepoParity) -> str:
    rows = []
    for t in repo_timings(repo):
        inside = (
            ", ".join(
                f'<span data-key="{t.key}" data-part="{_e(name)}" data-seconds="{s}">'
                f"{_e(name)} {secs(s)}</span>"
                for name, s in t.parts
            )
            or "-"
        )
        cpu = "-"
        if t.key in ("primary", "candidate"):
            obs = repo.primary if t.key == "primary" else repo.candidate
            cpu = secs(obs.cpu_s)
        rows.append(
            f"<tr><td>{_e(t.label)}{' · ' + _e(t.note) if t.note else ''}</td>"
            f'<td class="n"><span data-key="{t.key}" data-part="wall" '
            f'data-seconds="{t.wall_s}">{secs(t.wall_s)}</span></td>'
            f'<td>{inside}</td><td class="n">{cpu}</td></tr>'
        )
    caption = (
        "Stage timings in seconds (wall clock), exactly as recorded and listed above: Stage 0 "
        "is timed once by the shadow runner and shared by both sides; each side's bar is its "
        "wall time as the shadow runner measured it (the candidate's includes starting its "
        "child process), the darker bar inside it the stages its <code>run.json</code> records."
    )
    return (
        "<h3>Timings</h3>"
        + _table(
            ["", "wall", "inside it (run.json)", "CPU"], rows, ' class="timings"', numeric={1, 3}
        )
        + f"<figure>{timing_chart(repo)}<figcaption>{caption}</figcaption></figure>"
    )


def _note(f: Finding) -> str:
    if f.allowed_by:
        return f"allowed: {_e(f.allowed_by)}"
    if f.noise:
        return "noise (counts as sev3)"
    return "blocks" if f.blocks else ""


def _findings_table(findings: list[Finding], kind: str) -> str:
    rows = [
        f'<tr class="finding {f.severity}" data-code="{_e(f.code)}" data-kind="{kind}">'
        f"<td>{_badge(f.severity)}</td><td>{_e(f.code)}</td>"
        f"<td>{_e(f.stage)}/{_e(f.table)}</td><td>{_hashy(f.message)}</td>"
        f"<td>{_note(f)}</td></tr>"
        for f in findings
    ]
    return _table(["severity", "code", "where", "message", ""], rows, f' class="findings {kind}"')


def _findings(repo: RepoParity) -> str:
    found = blocking(repo) + accepted(repo)
    body = (
        _findings_table(found, "blocking")
        if found
        else '<p class="none">No sev1 or sev2 finding.</p>'
    )
    details = sev3(repo)
    if not found and not details:
        return '<h3>Findings</h3><p class="none">No finding: no sev1, sev2 or sev3.</p>' + _passed(
            repo
        )
    sev3_body = (
        _findings_table(details, "sev3") if details else '<p class="none">No sev3 finding.</p>'
    )
    return (
        f"<h3>Findings (sev1, sev2)</h3>{body}"
        f'<h3 id="sev3-{_e(repo.name)}">sev3 details</h3>{sev3_body}' + _passed(repo)
    )


def _passed(repo: RepoParity) -> str:
    """The further checks that ran and passed (``shadow --incremental``), so that a check that
    ran is never invisible; nothing when none ran."""
    checks = passed_checks(repo)
    if not checks:
        return ""
    return "<h3>Further checks passed</h3>" + _findings_table(checks, "passed")


def _warnings(repo: RepoParity) -> str:
    rows = warning_rows(repo)
    sides = [role for role in ("primary", "candidate") if role not in repo.warnings]
    missing = (
        f'<p class="none">No warnings recorded for the {" and ".join(sides)} side'
        f"{'s' if len(sides) > 1 else ''} (no run.json).</p>"
        if sides
        else ""
    )
    if not rows:
        return "<h3>Warnings by code</h3>" + (
            missing or '<p class="none">No warnings on either side.</p>'
        )
    body = [
        f'<tr class="{"sev3" if w.difference else ""}" data-code="{_e(w.code)}">'
        f"<td>{_e(w.code)}</td><td class=n>{_n(w.primary)}</td>"
        f"<td class=n>{_n(w.candidate)}</td><td class=n>{signed(w.difference)}</td></tr>"
        for w in rows
    ]
    head = [
        "code",
        f"primary ({backend_name(repo.primary.backend)})",
        f"candidate ({backend_name(repo.candidate.backend)})",
        "difference",
    ]
    return (
        "<h3>Warnings by code</h3>"
        + _table(head, body, ' class="warnings"', numeric={1, 2, 3})
        + missing
    )


def _tables(repo: RepoParity) -> str:
    if repo.comparison is None:
        return '<h3>Tables</h3><p class="none">Not compared: a side failed.</p>'
    rows = table_rows(repo)
    by_severity: dict[str, int] = {}
    for t in rows:
        by_severity[t.verdict.severity] = by_severity.get(t.verdict.severity, 0) + 1
    cov = repo.result.coverage
    summary = (
        f"{len(rows)} tables: "
        + ", ".join(f"{n} {s}" for s, n in sorted(by_severity.items()))
        + f"; rows {cov.primary_rows:,} primary / {cov.candidate_rows:,} candidate "
        f"(difference {signed(cov.candidate_rows - cov.primary_rows)})"
    )
    body = []
    for t in rows:
        v = t.verdict
        name = (
            f'<a href="#t-{_e(repo.name)}-{_e(v.stage)}-{_e(v.table)}">{_e(v.table)}</a>'
            if v.severity != "ok"
            else _e(v.table)
        )
        body.append(
            f'<tr class="{v.severity if v.severity != "ok" else ""}" '
            f'data-row-table="{_e(v.table)}" data-stage="{_e(v.stage)}">'
            f"<td>{_e(v.stage)}</td><td>{name}</td><td class=n>{_n(t.primary_rows)}</td>"
            f"<td class=n>{_n(t.candidate_rows)}</td><td class=n>{signed(t.difference)}</td>"
            f"<td>{_badge(v.severity)}</td><td>{_hashy('; '.join(v.reasons))}</td></tr>"
        )
    divergent = [t.verdict for t in rows if t.verdict.severity != "ok"]
    table = _table(
        ["stage", "table", "rows primary", "rows candidate", "difference", "verdict", "reasons"],
        body,
        ' class="rows"',
        numeric={2, 3, 4},
    )
    drill = "".join(_drill(repo, v) for v in divergent)
    return (
        f'<h3>Tables</h3><details class="tables">'
        f"<summary>{escape(summary)}</summary>{table}</details>{drill}"
    )


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_hashy(str(v)) for v in value)
    return _hashy(str(value))


def _drill(repo: RepoParity, v: Any) -> str:
    parts = []
    sides = []
    for role, s in (("primary", v.primary), ("candidate", v.candidate)):
        if s is None:
            sides.append(f"{role}: absent")
        else:
            fp = _hashy(s.fingerprint) if s.fingerprint else "-"
            sides.append(f"{role}: {_n(s.rows)} rows, Delta v{s.delta_version}, fingerprint {fp}")
    difference = signed(TableRow(v).difference)
    parts.append(f"<p>{'; '.join(sides)}; difference {difference}</p>")
    if v.reasons:
        parts.append(f"<p>{_hashy('; '.join(v.reasons))}</p>")
    if v.schema_differences:
        rows = [
            f"<tr><td>{_e(d.kind)}</td><td>{_e(d.column)}</td><td>{_e(d.primary or '-')}</td>"
            f"<td>{_e(d.candidate or '-')}</td></tr>"
            for d in v.schema_differences
        ]
        parts.append(
            "<h4>Schema differences</h4>"
            + _table(["kind", "column", "primary", "candidate"], rows, ' class="schema"')
        )
    if v.diff is not None:
        d = v.diff
        parts.append(
            f"<p>keyed by <code>{_e(', '.join(d.key))}</code>: added {d.added:,}, removed "
            f"{d.removed:,}, changed {d.changed:,}; duplicate keys primary "
            f"{d.duplicate_keys_primary}, candidate {d.duplicate_keys_candidate}</p>"
        )
        if d.column_mismatches:
            parts.append(
                "<p>changed columns: "
                + ", ".join(
                    f"<code>{_e(k)}</code> ({n:,} rows)"
                    for k, n in sorted(d.column_mismatches.items())
                )
                + "</p>"
            )
        if d.samples:
            columns = list(dict.fromkeys(k for s in d.samples for k in s))
            rows = [
                '<tr class="sample">'
                + "".join(f"<td>{_cell(s.get(c, ''))}</td>" for c in columns)
                + "</tr>"
                for s in d.samples
            ]
            total = d.added + d.removed + d.changed
            parts.append(
                f"<h4>Sample rows ({len(d.samples)} of {total:,} differing)</h4>"
                + _table(columns, rows, ' class="samples"')
            )
    return (
        f'<div class="table {v.severity}" id="t-{_e(repo.name)}-{_e(v.stage)}-{_e(v.table)}" '
        f'data-table="{_e(v.table)}" data-severity="{v.severity}">'
        f"<h4>{_e(v.stage)}/{_e(v.table)} {_badge(v.severity)}</h4>{''.join(parts)}</div>"
    )


def _repo(r: RepoParity) -> str:
    stage = r.result.first_divergent_stage
    faults = "".join(
        f'<p class="note error">harness fault in {_e(f.where)}: {_e(f.error)}</p>' for f in r.faults
    )
    return (
        f'<section class="card repo" id="repo-{_e(r.name)}" data-severity="{r.severity}">'
        f"<h2>{_e(r.name)} {_badge(r.severity)}</h2>"
        f"<p><code>{_e(r.repo)}</code> · first divergent stage: "
        f'<b class="first-divergent">{_e(stage or "none")}</b> · ran '
        f"{_e(' then '.join(r.order))} · primary {_side_text(r, 'primary')}, "
        f"candidate {_side_text(r, 'candidate')}</p>{faults}"
        f"{_findings(r)}{_warnings(r)}{_timings(r)}{_tables(r)}</section>"
    )


def render_html(report: ParityReport, history: ParityHistory | None = None) -> str:
    """The whole page as a string: verdict, repositories and coverage first, then the
    findings against their thresholds, the parity history and each repository."""
    policy = (
        f' · policy <code title="{_e(report.policy_hash)}">{_e(report.policy_hash[:12])}</code>'
        if report.policy_hash
        else ""
    )
    versions = " · ".join(
        f"{_e(k)} {_e(report.versions[k])}"
        for k in ("codeanatomy", "engine")
        if k in report.versions
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>codeanatomy parity: {report.verdict}</title><style>{_CSS}</style></head>"
        f'<body><main><header class="top {report.verdict}">'
        f'<h1>codeanatomy parity: <span id="verdict" class="{report.verdict}">'
        f"{report.verdict}</span></h1>"
        f'<p class="lead">{escape(verdict_line(report))}</p>'
        f'<p class="meta">{_e(report.generated_at)} · {_e(report.report_version)}{policy}'
        f"{' · ' + versions if versions else ''}</p></header>"
        f"{_summary(report)}{_coverage(report)}{_counts(report)}{_history(report, history)}"
        f"{''.join(_repo(r) for r in report.repos)}</main></body></html>\n"
    )
