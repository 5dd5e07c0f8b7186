"""Write a parity report as JSON (with its JSON Schema), Markdown, JUnit XML and HTML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec

from harness.compare.model import TableVerdict
from harness.compare.result import DIVERGENCE_CODES, Finding
from harness.report.coverage import COVERAGE_HEADER, coverage_rows
from harness.report.digest import (
    accepted,
    backend_name,
    blocking,
    passed_checks,
    repo_timings,
    secs,
    sev3,
    short_hashes,
    signed,
    table_facts,
    table_samples,
    verdict_line,
    warning_rows,
)
from harness.report.history import ParityHistory
from harness.report.html import render_html
from harness.report.model import ParityReport, RepoParity

SCHEMA_FILE = "parity.schema.json"


def report_schema() -> dict[str, object]:
    """The JSON Schema of ``parity.json`` (generated from the report types)."""
    schema = msgspec.json.schema(ParityReport)
    schema["$id"] = "https://codeanatomy.dev/schemas/parity-1.json"
    schema["title"] = "codeanatomy parity report (parity/1)"
    return schema


MARKDOWN_CAP = 60_000
"""Characters of ``parity.md`` at most (a GitHub comment takes 65,536): past it, repository
sections are left out and a note points to ``parity.html``."""
_POINTER = "The full report (timings, warnings, every table, the parity history) is `parity.html`"


def _md_finding(f: Finding, verdicts: dict[tuple[str, str], TableVerdict], samples: int) -> str:
    note = " (allowed: " + f.allowed_by + ")" if f.allowed_by else ""
    note += " (noise)" if f.noise else ""
    lines = [f"- **{f.severity}** {f.code} `{f.stage}/{f.table}`: {f.message}{note}"]
    t = verdicts.get((f.stage, f.table))
    if t is not None and f.code in DIVERGENCE_CODES:
        lines += [f"  - {line}" for line in table_facts(t)]
        caption, rows = table_samples(t, samples)
        if rows:
            lines.append(f"  - {caption}:")
            lines += [f"    - `{row}`" for row in rows]
    return "\n".join(lines)


def _md_repo(r: RepoParity, samples: int = 5, sev3_details: bool = True) -> str:
    """One repository's findings in a ``<details>`` block (open when it blocks): the sev1
    and sev2 findings with their tables' rows and sample rows, the sev3 ones folded."""
    verdicts = {(t.stage, t.table): t for t in (r.comparison.tables if r.comparison else ())}
    counts = r.result.counts()
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no counted finding"
    head = f"<b>{r.name}</b>: {r.severity}{', blocks' if r.result.blocks else ''} ({tally})"
    lines = [f"<details{' open' if r.result.blocks else ''}><summary>{head}</summary>", ""]
    main = blocking(r) + accepted(r)
    lines += [_md_finding(f, verdicts, samples) for f in main]
    lines += [f"- passed `{f.code}`: {f.message}" for f in passed_checks(r)]
    details = sev3(r)
    if details and sev3_details:
        lines += ["", f"<details><summary>{len(details)} sev3 findings</summary>", ""]
        lines += [_md_finding(f, verdicts, 0) for f in details]
        lines += ["", "</details>"]
    elif details:
        lines += ["", f"{len(details)} sev3 findings: see `parity.html`."]
    warned = [w for w in warning_rows(r) if w.difference]
    if warned:
        lines += ["", "| warning code | primary | candidate | difference |", "|---|--:|--:|--:|"]
        lines += [
            f"| {w.code} | {w.primary} | {w.candidate} | {signed(w.difference)} |" for w in warned
        ]
    lines += ["", "</details>"]
    return short_hashes("\n".join(lines))


def render_markdown(report: ParityReport, cap: int = MARKDOWN_CAP) -> str:
    """A pull-request comment / CI step summary: the verdict, coverage, the repositories and
    the findings against thresholds first, then one folded section per repository with
    findings. Long hashes are shortened; past ``cap`` characters repository sections are
    left out (or shortened) and a note points to ``parity.html``."""
    icon = "✅" if report.verdict == "pass" else "❌"
    policy = f" · policy `{report.policy_hash[:12]}`" if report.policy_hash else ""
    head = [
        f"## {icon} codeanatomy parity: {report.verdict}",
        "",
        verdict_line(report),
        "",
        f"<sub>{report.generated_at} · {report.report_version}{policy}</sub>",
        "",
        "### Coverage",
        "",
        "| " + " | ".join(COVERAGE_HEADER) + " |",
        "|" + "---|" * len(COVERAGE_HEADER),
    ]
    head += ["| " + " | ".join(row) + " |" for row in coverage_rows(report)]
    if not report.repos:
        head.append("| (no repository) | - | - | - | 0 | - |")
    head += ["", "| severity | findings | threshold |", "|---|--:|--:|"]
    for sev in ("sev1", "sev2", "sev3"):
        limit = report.thresholds.get(f"max_{sev}")
        head.append(f"| {sev} | {report.counts.get(sev, 0)} | {'∞' if limit is None else limit} |")
    head += [
        "",
        "| repo | severity | first divergent stage | sev1 | sev2 | sev3 | Stage 0 | primary | "
        "candidate |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in report.repos:
        times = {t.key: t for t in repo_timings(r)}
        c = r.result.counts()
        stage0 = secs(times["stage0"].wall_s) if "stage0" in times else "-"
        sides = [
            f"{backend_name(obs.backend)}{'' if obs.ok else ' FAILED'} "
            f"{secs(times[obs.role].wall_s)}"
            for obs in (r.primary, r.candidate)
        ]
        head.append(
            f"| {r.name} | {r.severity} | {r.result.first_divergent_stage or '-'} | "
            f"{c['sev1']} | {c['sev2']} | {c['sev3']} | {stage0} | {sides[0]} | {sides[1]} |"
        )
    if report.allow_list:
        head += ["", "### allow-list"]
        head += [f"- **{f.severity}** {f.code}: {f.message}" for f in report.allow_list]
    sections = [
        r for r in report.repos if r.result.findings or any(w.difference for w in warning_rows(r))
    ]
    if sections:
        head += ["", "### Findings"]
    return _capped([short_hashes(line) for line in head], sections, cap)


def _capped(head: list[str], repos: list[RepoParity], cap: int) -> str:
    """``head`` and one block per repository, within ``cap`` characters: a block that does
    not fit is tried shorter (no samples, sev3 folded away), then left out with every later
    one; a note then says what was left out and points to ``parity.html``."""
    pointer = f"{_POINTER} next to this file."
    out: list[str] = []
    size = 0

    def note(left: int, lines: int) -> str:
        what = []
        if lines:
            what.append(f"{lines} lines of the summary")
        if left:
            what.append(f"{left} of {len(repos)} repository sections")
        return (
            f"\n> **Cut at the size cap of {cap:,} characters**: {' and '.join(what)} "
            f"left out. {pointer}\n"
        )

    reserve = len(note(len(repos), len(head)))
    for i, line in enumerate(head):
        if size + len(line) + 1 + reserve > cap:
            return "\n".join(out) + "\n" + note(len(repos), len(head) - i)
        out.append(line)
        size += len(line) + 1
    for i, r in enumerate(repos):
        for block in (_md_repo(r), _md_repo(r, samples=0, sev3_details=False)):
            if size + len(block) + 2 + reserve <= cap:
                out += ["", block]
                size += len(block) + 2
                break
        else:
            return "\n".join(out) + "\n" + note(len(repos) - i, 0)
    return "\n".join([*out, "", f"<sub>{pointer}</sub>"]) + "\n"


def _time(seconds: float) -> str:
    return f"{seconds:.3f}"


def _finding_body(r: RepoParity | None, f: Finding) -> str:
    """What a JUnit failure (or system-out) says beyond its message: for a divergent table,
    its rows on both sides, the row diff and sample rows; for a failed side, its error; for
    an evidence source, its health on both sides. Values in full (ids to look rows up by)."""
    lines = [f"{f.severity} {f.code} {f.stage}/{f.table}: {f.message}"]
    if f.allowed_by:
        lines.append(f"allowed: {f.allowed_by}")
    if f.noise:
        lines.append("noise: differs between two runs of the primary (counts as sev3)")
    if r is not None:
        verdicts = {(t.stage, t.table): t for t in (r.comparison.tables if r.comparison else ())}
        t = verdicts.get((f.stage, f.table))
        if t is not None and f.code in DIVERGENCE_CODES:
            lines += table_facts(t, short=False)
            caption, rows = table_samples(t, short=False)
            if rows:
                lines += [f"{caption}:", *(f"  {row}" for row in rows)]
        if f.code == "SIDE_FAILED":
            obs = r.primary if f.table == "primary" else r.candidate
            lines.append(
                f"{obs.role} {obs.backend}: wall {secs(obs.wall_s)}"
                + (", timed out" if obs.timed_out else "")
            )
            lines += [f"{k}: {v}" for k, v in sorted((obs.error or {}).items())]
        for source in r.result.coverage.sources:
            if f.code.startswith("COVERAGE_") and source.source == f.table:
                codes = ", ".join(f"{c}={n}" for c, n in sorted(source.codes.items()))
                lines.append(
                    f"{source.side}: {source.source} {source.health}, rows "
                    f"{'-' if source.rows is None else source.rows}"
                    + (f" ({codes})" if codes else "")
                )
    return "\n".join(lines)


def render_junit(report: ParityReport) -> bytes:
    """One test suite per repository, timed: its ``time`` is the recorded time of its shadow
    run (Stage 0 and both sides' wall times), one ``run`` test case per recorded timing
    carries it (a side's case fails when that side failed). Then one test case per table
    compared (not timed: the comparison of one table is not recorded), and one per finding
    that no other case shows (coverage, harness faults). Coverage is in the properties. A
    failure's body explains it: the table's rows on both sides, the row diff, sample rows."""
    suites = ET.Element("testsuites", name="codeanatomy parity")
    total = 0.0
    for r in report.repos:
        cov = r.result.coverage
        props = ET.Element("properties")
        for key, value in (
            ("tables_compared", cov.tables_compared),
            ("rows_primary", cov.primary_rows),
            ("rows_candidate", cov.candidate_rows),
            ("sources_failed", len(cov.failed_sources())),
            ("severity", r.result.severity),
        ):
            ET.SubElement(props, "property", name=key, value=str(value))
        for source in cov.sources:
            ET.SubElement(
                props, "property", name=f"source.{source.side}.{source.source}", value=source.health
            )
        by_table: dict[tuple[str, str], list[Finding]] = {}
        for f in r.result.findings:
            by_table.setdefault((f.stage, f.table), []).append(f)
        cases = []
        timings = repo_timings(r)
        for timing in timings:
            obs = {"primary": r.primary, "candidate": r.candidate}.get(timing.key)
            name = "stage0 extraction" if obs is None else f"{obs.role} {obs.backend}"
            case = ET.Element(
                "testcase", classname=f"parity.{r.name}.run", name=name, time=_time(timing.wall_s)
            )
            for f in by_table.pop(("-", timing.key), []) if timing.key != "stage0" else []:
                _junit_finding(case, r, f)
            cases.append(case)
        for t in r.comparison.tables if r.comparison else ():
            case = ET.Element("testcase", classname=f"parity.{r.name}.{t.stage}", name=t.table)
            for f in by_table.pop((t.stage, t.table), []):
                _junit_finding(case, r, f)
            cases.append(case)
        for (stage, table), found in sorted(by_table.items()):
            case = ET.Element(
                "testcase",
                classname=f"parity.{r.name}.{found[0].code.lower()}",
                name=f"{stage}/{table}",
            )
            for f in found:
                _junit_finding(case, r, f)
            cases.append(case)
        seconds = sum(t.wall_s for t in timings)
        total += seconds
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"parity.{r.name}",
            tests=str(len(cases)),
            failures=str(sum(1 for c in cases if c.find("failure") is not None)),
            time=_time(seconds),
        )
        suite.append(props)
        suite.extend(cases)
    if report.allow_list or not report.repos:
        suite = ET.SubElement(suites, "testsuite", name="parity.report", time=_time(0.0))
        cases = []
        if not report.repos:
            case = ET.Element("testcase", classname="parity.report", name="repos")
            failure = ET.SubElement(
                case, "failure", type="sev1", message="no repository was compared"
            )
            failure.text = "The report covers no repository: a pass must be earned."
            cases.append(case)
        for f in report.allow_list:
            case = ET.Element("testcase", classname="parity.allow_list", name=f.table)
            _junit_finding(case, None, f)
            cases.append(case)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.extend(cases)
    suites.set("time", _time(total))
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _junit_finding(case: ET.Element, r: RepoParity | None, f: Finding) -> None:
    body = _finding_body(r, f)
    if f.blocks:
        failure = ET.SubElement(case, "failure", type=f.severity, message=f"{f.code}: {f.message}")
        failure.text = (failure.text + "\n\n" if failure.text else "") + body
    else:
        out = case.find("system-out")
        if out is None:
            out = ET.SubElement(case, "system-out")
        out.text = (out.text or "") + body + "\n"


def write_reports(
    report: ParityReport, out: Path, history: ParityHistory | None = None
) -> dict[str, Path]:
    """Write all four formats (and the schema) under ``out``; return their paths. ``history``:
    the recorded parity runs, drawn in ``parity.html`` (None: the run is not recorded)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "parity.json",
        "schema": out / SCHEMA_FILE,
        "markdown": out / "parity.md",
        "junit": out / "junit.xml",
        "html": out / "parity.html",
    }
    paths["json"].write_bytes(msgspec.json.format(msgspec.json.encode(report)) + b"\n")
    paths["schema"].write_bytes(msgspec.json.format(msgspec.json.encode(report_schema())) + b"\n")
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    paths["junit"].write_bytes(render_junit(report))
    paths["html"].write_text(render_html(report, history), encoding="utf-8")
    return paths
