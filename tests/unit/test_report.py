"""Parity reports in all four formats, from a report with one clean and one divergent repo."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec
import pytest

from harness.compare.model import RowDiff, TableSide, TableVerdict
from harness.compare.policy import ParityPolicy
from harness.compare.result import Finding, judge
from harness.compare.runs import RunComparison
from harness.report.model import (
    REPORT_VERSION,
    ParityReport,
    RepoParity,
    finding_counts,
    verdict_of,
)
from harness.report.writers import report_schema, write_reports
from harness.shadow.observation import Observation, Role
from tests.unit.browser import require_chromium
from tests.unit.parity_fakes import manifest

THRESHOLDS: dict[str, int | None] = {"max_sev1": 0, "max_sev2": 0, "max_sev3": None}


def _side(rows: int) -> TableSide:
    return TableSide(uri="/runs/x", delta_version=3, rows=rows, fingerprint="f" * 64)


def _repo(name: str, divergent: bool) -> RepoParity:
    tables = [
        TableVerdict(
            stage="evidence",
            table="ast",
            severity="ok",
            reasons=(),
            primary=_side(5),
            candidate=_side(5),
        )
    ]
    if divergent:
        diff = RowDiff(
            key=("edge_id",),
            added=1,
            removed=0,
            changed=2,
            column_mismatches={"dst_id": 2},
            duplicate_keys_primary=0,
            duplicate_keys_candidate=0,
            samples=({"change": "changed", "edge_id": "e1", "columns": ["dst_id"]},),
        )
        tables.append(
            TableVerdict(
                stage="outputs",
                table="cpg_edges",
                severity="sev2",
                reasons=("rows added 1, removed 0, changed 2",),
                primary=_side(10),
                candidate=_side(11),
                diff=diff,
            )
        )
    comparison = RunComparison(
        primary="/runs/legacy",
        candidate="/runs/rust",
        tables=tuple(tables),
        warnings=(),
    )
    roles: tuple[tuple[Role, str], ...] = (("primary", "legacy"), ("candidate", "rust"))
    obs = {
        role: Observation(
            backend=b, role=role, ok=True, run_dir=f"/runs/{b}", wall_s=1.5, cpu_s=1.0
        )
        for role, b in roles
    }
    result = judge(
        subject=name,
        comparison=comparison,
        primary=manifest(),
        candidate=manifest(),
        policy=ParityPolicy(),
    )
    return RepoParity(
        name=name,
        repo=f"/repos/{name}",
        severity=result.severity,
        result=result,
        primary=obs["primary"],
        candidate=obs["candidate"],
        order=("primary", "candidate"),
        extract_s=2.0,
        comparison=comparison,
        faults=(),
        timings={
            "legacy": {"extract_s": 2.0, "semantic_s": 3.0, "total_s": 5.0},
            "rust": {"extract_s": 2.0, "semantic_s": 0.2, "total_s": 2.2},
        },
    )


def _report_of(*repos: RepoParity) -> ParityReport:
    counts = finding_counts(repos)
    return ParityReport(
        report_version=REPORT_VERSION,
        generated_at="2026-11-22T00:00:00+00:00",
        versions={"codeanatomy": "0.1.0"},
        verdict=verdict_of(counts, THRESHOLDS),
        thresholds=THRESHOLDS,
        counts=counts,
        repos=repos,
    )


@pytest.fixture
def report() -> ParityReport:
    return _report_of(_repo("clean", False), _repo("drift", True))


def test_a_sev2_finding_fails_the_verdict(report: ParityReport) -> None:
    assert report.counts["sev2"] == 1
    assert report.verdict == "fail"


def test_json_round_trips_and_ships_its_schema(report: ParityReport, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path)
    decoded = msgspec.json.decode(paths["json"].read_bytes(), type=ParityReport)
    assert decoded == report
    schema = msgspec.json.decode(paths["schema"].read_bytes())
    assert schema == msgspec.json.decode(msgspec.json.encode(report_schema()))
    assert "ParityReport" in str(schema)


def test_markdown_names_the_divergent_table_and_stage(report: ParityReport, tmp_path: Path) -> None:
    text = write_reports(report, tmp_path)["markdown"].read_text()
    assert "parity: fail" in text
    assert "| drift | sev2 | outputs |" in text
    assert "outputs/cpg_edges" in text


def test_junit_has_one_case_per_table_and_a_failure_for_sev2(
    report: ParityReport, tmp_path: Path
) -> None:
    root = ET.parse(write_reports(report, tmp_path)["junit"]).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["parity.drift"].get("failures") == "1"
    assert suites["parity.clean"].get("failures") == "0"
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["cpg_edges"]


def test_html_is_self_contained(report: ParityReport, tmp_path: Path) -> None:
    html = write_reports(report, tmp_path)["html"].read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert "<script src" not in html


def test_html_renders_in_headless_chromium(report: ParityReport, tmp_path: Path) -> None:
    browser = require_chromium()
    page = write_reports(report, tmp_path)["html"]
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert '<span id="verdict" class="fail">fail</span>' in dom
    assert dom.count('class="card repo"') == 2
    assert 'data-table="cpg_edges" data-severity="sev2"' in dom
    assert '<b class="first-divergent">outputs</b>' in dom
    # Per repo: Stage 0 and both sides' wall times, each side's semantics inside.
    assert dom.count('class="bar"') == 6
    assert dom.count('class="bar part"') == 4


def test_every_format_opens_with_the_coverage_table(report: ParityReport, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path)
    markdown = paths["markdown"].read_text()
    assert markdown.index("### Coverage") < markdown.index("| severity |")
    assert "| clean | 1 (5/5 rows) | - | - | 1 | 18/18 healthy |" in markdown
    html = paths["html"].read_text()
    assert html.index('id="repos"') < html.index('id="coverage"') < html.index('class="card repo"')
    root = ET.parse(paths["junit"]).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["tables_compared"] == "2" and props["source.candidate.scip"] == "ok"


def test_a_report_over_nothing_fails_in_every_format(tmp_path: Path) -> None:
    empty = _report_of()
    assert empty.verdict == "fail"
    paths = write_reports(empty, tmp_path)
    assert "(no repository)" in paths["markdown"].read_text()
    root = ET.parse(paths["junit"]).getroot()
    assert [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None] == [
        "repos"
    ]


def test_a_coverage_finding_is_a_failing_junit_case(tmp_path: Path) -> None:
    repo = _repo("noscip", False)
    failed = judge(
        subject="noscip",
        comparison=repo.comparison,
        primary=manifest({"SCIP_FAILED": 1}),
        candidate=manifest({"SCIP_FAILED": 1}),
        policy=ParityPolicy(),
    )
    repo = msgspec.structs.replace(repo, result=failed, severity=failed.severity)
    report = _report_of(repo)
    assert report.verdict == "fail" and report.counts["sev2"] == 2
    paths = write_reports(report, tmp_path)
    root = ET.parse(paths["junit"]).getroot()
    failures = [c.find("failure") for c in root.iter("testcase")]
    assert [f.get("message", "")[:22] for f in failures if f is not None] == [
        "COVERAGE_SOURCE_FAILED"
    ]
    assert "scip failed (primary), scip failed (candidate)" in paths["markdown"].read_text()


def test_html_lists_the_further_checks_that_passed(report: ParityReport, tmp_path: Path) -> None:
    """``shadow --incremental``'s identical sides are ``ok`` findings: the HTML names each
    check that ran, beside "no finding"; a report without such a check has no such section."""
    clean = report.repos[0]
    check = Finding(
        code="INCREMENTAL_IDENTICAL",
        severity="ok",
        stage="-",
        table="candidate",
        message="candidate rust: incremental build vs a fresh one: identical: 38 tables",
    )
    with_check = msgspec.structs.replace(
        clean,
        result=msgspec.structs.replace(clean.result, findings=(*clean.result.findings, check)),
    )
    html = write_reports(_report_of(with_check), tmp_path / "a")["html"].read_text()
    assert "Further checks passed" in html
    assert 'data-code="INCREMENTAL_IDENTICAL"' in html
    assert "No finding: no sev1, sev2 or sev3." in html
    plain = write_reports(_report_of(clean), tmp_path / "b")["html"].read_text()
    assert "Further checks passed" not in plain
