"""Write a parity report as JSON (with its JSON Schema), Markdown and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec

from harness.compare.result import Finding
from harness.report.coverage import COVERAGE_HEADER, coverage_rows
from harness.report.html import render_html
from harness.report.model import ParityReport

SCHEMA_FILE = "parity.schema.json"


def report_schema() -> dict[str, object]:
    """The JSON Schema of ``parity.json`` (generated from the report types)."""
    schema = msgspec.json.schema(ParityReport)
    schema["$id"] = "https://codeanatomy.dev/schemas/parity-1.json"
    schema["title"] = "codeanatomy parity report (parity/1)"
    return schema


def render_markdown(report: ParityReport) -> str:
    """A pull-request comment / CI step summary: coverage first, then findings."""
    icon = "✅" if report.verdict == "pass" else "❌"
    lines = [f"## {icon} codeanatomy parity: {report.verdict}", "", "### Coverage", ""]
    lines.append("| " + " | ".join(COVERAGE_HEADER) + " |")
    lines.append("|" + "---|" * len(COVERAGE_HEADER))
    lines += ["| " + " | ".join(row) + " |" for row in coverage_rows(report)]
    if not report.repos:
        lines.append("| (no repository) | - | - | - | 0 | - |")
    lines += ["", "| severity | findings | threshold |", "|---|---|---|"]
    for sev in ("sev1", "sev2", "sev3"):
        limit = report.thresholds.get(f"max_{sev}")
        lines.append(f"| {sev} | {report.counts[sev]} | {'∞' if limit is None else limit} |")
    lines += [
        "",
        "| repo | severity | first divergent stage | primary | candidate |",
        "|---|---|---|---|---|",
    ]
    for r in report.repos:
        stage = r.result.first_divergent_stage
        lines.append(
            f"| {r.name} | {r.severity} | {stage or '-'} | "
            f"{r.primary.backend} {r.primary.wall_s:.2f}s | "
            f"{r.candidate.backend} {'ok' if r.candidate.ok else 'FAILED'} "
            f"{r.candidate.wall_s:.2f}s |"
        )
    if report.allow_list:
        lines += ["", "### allow-list"]
        lines += [f"- **{f.severity}** {f.code}: {f.message}" for f in report.allow_list]
    for r in report.repos:
        if not r.result.findings:
            continue
        verdicts = {(t.stage, t.table): t for t in (r.comparison.tables if r.comparison else ())}
        lines += ["", f"### {r.name}"]
        for f in r.result.findings:
            note = " (allowed: " + f.allowed_by + ")" if f.allowed_by else ""
            note += " (noise)" if f.noise else ""
            lines.append(f"- **{f.severity}** {f.code} {f.stage}/{f.table}: {f.message}{note}")
            t = verdicts.get((f.stage, f.table))
            if t is not None and t.diff is not None and f.code == "TABLE_DIFFERS":
                for sample in t.diff.samples[:5]:
                    lines.append(f"  - `{msgspec.json.encode(sample).decode()}`")
    return "\n".join(lines) + "\n"


def render_junit(report: ParityReport) -> bytes:
    """One test suite per repository: its coverage as properties, one test case per table
    compared, and one failing test case per blocking finding that no table case shows
    (coverage, failed sides, harness faults)."""
    suites = ET.Element("testsuites", name="codeanatomy parity")
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
        cases = []
        by_table: dict[tuple[str, str], list[Finding]] = {}
        for f in r.result.findings:
            by_table.setdefault((f.stage, f.table), []).append(f)
        for t in r.comparison.tables if r.comparison else ():
            case = ET.Element("testcase", classname=f"parity.{r.name}.{t.stage}", name=t.table)
            for f in by_table.pop((t.stage, t.table), []):
                _junit_finding(case, f)
            cases.append(case)
        for (stage, table), found in sorted(by_table.items()):
            case = ET.Element(
                "testcase",
                classname=f"parity.{r.name}.{found[0].code.lower()}",
                name=f"{stage}/{table}",
            )
            for f in found:
                _junit_finding(case, f)
            cases.append(case)
        failures = sum(1 for c in cases if c.find("failure") is not None)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"parity.{r.name}",
            tests=str(len(cases)),
            failures=str(failures),
        )
        suite.append(props)
        suite.extend(cases)
    if report.allow_list or not report.repos:
        suite = ET.SubElement(suites, "testsuite", name="parity.report")
        cases = []
        if not report.repos:
            case = ET.Element("testcase", classname="parity.report", name="repos")
            ET.SubElement(case, "failure", type="sev1", message="no repository was compared")
            cases.append(case)
        for f in report.allow_list:
            case = ET.Element("testcase", classname="parity.allow_list", name=f.table)
            _junit_finding(case, f)
            cases.append(case)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.extend(cases)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _junit_finding(case: ET.Element, f: Finding) -> None:
    if f.blocks:
        ET.SubElement(case, "failure", type=f.severity, message=f"{f.code}: {f.message}")
    else:
        note = f" (allowed: {f.allowed_by})" if f.allowed_by else " (noise)" if f.noise else ""
        out = case.find("system-out")
        if out is None:
            out = ET.SubElement(case, "system-out")
        out.text = (out.text or "") + f"{f.severity} {f.code}: {f.message}{note}\n"


def write_reports(report: ParityReport, out: Path) -> dict[str, Path]:
    """Write all four formats (and the schema) under ``out``; return their paths."""
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
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
