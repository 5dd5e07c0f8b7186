"""Write a parity report as JSON (with its JSON Schema), Markdown and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec

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
    """A pull-request comment / CI step summary."""
    icon = "✅" if report.verdict == "pass" else "❌"
    lines = [
        f"## {icon} codeanatomy parity: {report.verdict}",
        "",
        "| severity | findings | threshold |",
        "|---|---|---|",
    ]
    for sev in ("sev1", "sev2", "sev3"):
        limit = report.thresholds.get(f"max_{sev}")
        lines.append(f"| {sev} | {report.counts[sev]} | {'∞' if limit is None else limit} |")
    lines += [
        "",
        "| repo | severity | first divergent stage | primary | candidate |",
        "|---|---|---|---|---|",
    ]
    for r in report.repos:
        stage = r.comparison.first_divergent_stage if r.comparison else None
        lines.append(
            f"| {r.name} | {r.severity} | {stage or '-'} | "
            f"{r.primary.backend} {r.primary.wall_s:.2f}s | "
            f"{r.candidate.backend} {'ok' if r.candidate.ok else 'FAILED'} "
            f"{r.candidate.wall_s:.2f}s |"
        )
    for r in report.repos:
        bad = [t for t in (r.comparison.tables if r.comparison else ()) if t.severity != "ok"]
        manifest = r.comparison.manifest if r.comparison else ()
        if not bad and not manifest and r.candidate.ok:
            continue
        lines += ["", f"### {r.name}"]
        if not r.candidate.ok:
            lines.append(f"- candidate failed: `{(r.candidate.error or {}).get('code')}`")
        for t in bad:
            allowed = f" (allowed: {', '.join(t.allowed)})" if t.allowed else ""
            lines.append(f"- **{t.severity}** {t.stage}/{t.table}: {'; '.join(t.reasons)}{allowed}")
            if t.diff is not None:
                for s in t.diff.samples[:5]:
                    lines.append(f"  - `{msgspec.json.encode(s).decode()}`")
        for m in manifest:
            lines.append(
                f"- **sev3** run.json `{m.path}` ({m.change}): "
                f"`{m.primary or '-'}` → `{m.candidate or '-'}`"
            )
    return "\n".join(lines) + "\n"


def render_junit(report: ParityReport) -> bytes:
    """One test suite per repository, one test case per table and check."""
    suites = ET.Element("testsuites", name="codeanatomy parity")
    for r in report.repos:
        cases = []
        side = ET.Element("testcase", classname=f"parity.{r.name}", name="candidate-ran")
        if not r.candidate.ok:
            ET.SubElement(
                side, "failure", type="sev1", message=str((r.candidate.error or {}).get("code"))
            )
        cases.append(side)
        for t in r.comparison.tables if r.comparison else ():
            case = ET.Element("testcase", classname=f"parity.{r.name}.{t.stage}", name=t.table)
            if t.severity in ("sev1", "sev2") and not t.allowed:
                ET.SubElement(case, "failure", type=t.severity, message="; ".join(t.reasons))
            elif t.severity != "ok":
                ET.SubElement(case, "system-out").text = f"{t.severity}: {'; '.join(t.reasons)}"
            cases.append(case)
        failures = sum(1 for c in cases if c.find("failure") is not None)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"parity.{r.name}",
            tests=str(len(cases)),
            failures=str(failures),
        )
        suite.extend(cases)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


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
