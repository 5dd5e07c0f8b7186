"""The report formats from synthetic reports (issue 15.6): Markdown folding, short hashes and
its size cap; JUnit times and failure bodies; the HTML timing table and chart showing the same
recorded times; the parity history read back from its Delta table and drawn, or a note when
there is none. Every check has its vacuous case next to it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from harness.compare.manifests import ManifestDifference
from harness.compare.model import TableSide
from harness.compare.policy import ParityPolicy
from harness.compare.result import judge
from harness.compare.runs import WarningDelta
from harness.gates.history import HISTORY_SCHEMA, append_history
from harness.report.digest import repo_timings, short_hashes
from harness.report.history import CURRENT, ParityHistory, read_history, with_report
from harness.report.html import render_html
from harness.report.model import ParityReport, RepoParity
from harness.report.writers import MARKDOWN_CAP, render_junit, render_markdown
from tests.unit.parity_fakes import manifest
from tests.unit.test_report import _repo, _report_of

HASH = "3f" * 32  # a 64-digit hex string, as fingerprints and hashed ids are


def _hashed(name: str) -> RepoParity:
    """A divergent repo whose sample rows and fingerprints are 64-digit hashes."""
    repo = _repo(name, True)
    assert repo.comparison is not None
    tables = []
    samples = tuple(
        {"change": "changed", "edge_id": f"{i:02d}" + HASH[2:], "columns": ["dst_id"]}
        for i in range(3)
    )
    side = TableSide(uri="/x", delta_version=1, rows=11, fingerprint=HASH)
    for t in repo.comparison.tables:
        diff = None if t.diff is None else msgspec.structs.replace(t.diff, samples=samples)
        tables.append(t if diff is None else msgspec.structs.replace(t, diff=diff, candidate=side))
    comparison = msgspec.structs.replace(repo.comparison, tables=tuple(tables))
    return msgspec.structs.replace(repo, comparison=comparison)


def _junit(report: ParityReport) -> ET.Element:
    return ET.fromstring(render_junit(report))


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_folds_each_repo_with_findings_in_details() -> None:
    text = render_markdown(_report_of(_repo("clean", False), _repo("drift", True)))
    # The blocking repo's section is open; its sev3 findings would be folded inside.
    assert "<details open><summary><b>drift</b>: sev2, blocks (1 sev2)</summary>" in text
    assert text.count("<details") == text.count("</details>") == 1
    assert '`{"change":"changed","edge_id":"e1","columns":["dst_id"]}`' in text


def test_markdown_of_a_clean_report_has_nothing_to_fold() -> None:
    text = render_markdown(_report_of(_repo("clean", False)))
    assert "<details" not in text and "### Findings" not in text
    assert "parity.html" in text  # the pointer to the full report is always there


def test_markdown_folds_sev3_findings_inside_the_repo() -> None:
    repo = _repo("warned", False)
    assert repo.comparison is not None
    warning = WarningDelta(code="W", primary=1, candidate=2)
    comparison = msgspec.structs.replace(repo.comparison, warnings=(warning,))
    result = judge(
        subject="warned",
        comparison=comparison,
        primary=manifest(),
        candidate=manifest(),
        policy=ParityPolicy(),
    )
    repo = msgspec.structs.replace(repo, comparison=comparison, result=result, severity="sev3")
    text = render_markdown(_report_of(repo))
    assert "<details><summary><b>warned</b>: sev3 (1 sev3)</summary>" in text
    assert "<details><summary>1 sev3 findings</summary>" in text


def test_markdown_shortens_hashes() -> None:
    report = _report_of(_hashed("drift"))
    text = render_markdown(report)
    assert not re.search(r"[0-9a-f]{20,}", text)
    assert f"{HASH[:12]}…" in text and f"00{HASH[2:12]}…" in text
    # The full values stay in parity.json and in the JUnit bodies.
    assert HASH in render_junit(report).decode()


def test_short_hashes_leaves_what_is_no_hash_alone() -> None:
    for text in ("cpg_edges", "12345678901234567890123", "abc123", "deadbeef" * 2, ""):
        assert short_hashes(text) == text
    assert short_hashes(f"x {HASH} y") == f"x {HASH[:12]}… y"


def _many(count: int) -> ParityReport:
    return _report_of(*(_hashed(f"repo{i:03d}") for i in range(count)))


def test_markdown_is_cut_at_the_cap_with_a_pointer_to_the_html() -> None:
    report = _many(200)
    full = render_markdown(report, cap=10**9)
    assert len(full) > MARKDOWN_CAP  # the synthetic report is over the cap
    text = render_markdown(report)
    assert len(text) <= MARKDOWN_CAP
    assert "Cut at the size cap of 60,000 characters" in text
    assert re.search(r"\d+ of 200 repository sections left out", text)
    assert "`parity.html`" in text
    # What opens the report is kept whole; the cut falls between repo sections.
    assert text.index("### Coverage") < text.index("| severity |") < text.index("Cut at")
    assert text.count("<details") == text.count("</details>")


def test_markdown_under_the_cap_is_not_cut() -> None:
    report = _many(3)
    text = render_markdown(report)
    assert len(text) < MARKDOWN_CAP
    assert "Cut at" not in text
    assert text == render_markdown(report, cap=10**9)


def test_a_tiny_cap_cuts_the_summary_too_and_still_points_to_the_html() -> None:
    text = render_markdown(_many(3), cap=600)
    assert len(text) <= 600
    assert "lines of the summary and 3 of 3 repository sections left out" in text
    assert "`parity.html`" in text


def test_a_section_too_big_for_what_is_left_is_shortened_before_it_is_dropped() -> None:
    report = _many(1)
    full = render_markdown(report, cap=10**9)
    shorter = render_markdown(report, cap=len(full) - 50)
    assert "Cut at" not in shorter
    assert "sample rows" in full and "sample rows" not in shorter


# --- JUnit --------------------------------------------------------------------------------------


def test_junit_times_are_the_recorded_times() -> None:
    report = _report_of(_repo("clean", False), _repo("drift", True))
    root = _junit(report)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    for repo in report.repos:
        suite = suites[f"parity.{repo.name}"]
        timed = {c.get("name"): float(c.get("time", "nan")) for c in suite if c.get("time")}
        assert timed == {
            "stage0 extraction": repo.extract_s,
            f"primary {repo.primary.backend}": repo.primary.wall_s,
            f"candidate {repo.candidate.backend}": repo.candidate.wall_s,
        }
        assert float(suite.get("time", "nan")) == pytest.approx(sum(timed.values()))
    assert float(root.get("time", "nan")) == pytest.approx(
        sum(float(s.get("time", "nan")) for s in suites.values())
    )


def test_junit_of_a_report_over_nothing_is_timed_zero() -> None:
    root = _junit(_report_of())
    assert root.get("time") == "0.000"
    assert [s.get("time") for s in root.iter("testsuite")] == ["0.000"]
    failure = root.find(".//failure")
    assert failure is not None and (failure.text or "").strip()


def test_junit_failure_bodies_carry_the_rows_and_sample_rows() -> None:
    root = _junit(_report_of(_hashed("drift")))
    failures = [(c.get("name"), c.find("failure")) for c in root.iter("testcase")]
    bodies = {name: f.text or "" for name, f in failures if f is not None}
    assert list(bodies) == ["cpg_edges"]
    body = bodies["cpg_edges"]
    assert "primary 10 rows (Delta v3" in body and "candidate 11 rows (Delta v1" in body
    assert "changed columns: dst_id (2 rows)" in body
    assert "sample rows (3 of 3 differing):" in body
    samples = [line.strip() for line in body.splitlines() if line.startswith("  {")]
    assert [msgspec.json.decode(s)["edge_id"] for s in samples] == [
        f"{i:02d}" + HASH[2:] for i in range(3)
    ]


def test_junit_has_no_failure_for_a_clean_repo() -> None:
    root = _junit(_report_of(_repo("clean", False)))
    assert root.find(".//failure") is None
    assert root.find(".//system-out") is None


def test_junit_bodies_of_findings_without_a_table() -> None:
    """A failed side: its error; a failed evidence source: its health on both sides."""
    repo = _repo("broken", False)
    error = {"code": "TIMEOUT", "message": "killed after 5 s", "stage": "semantic"}
    candidate = msgspec.structs.replace(
        repo.candidate, ok=False, timed_out=True, error=error, wall_s=5.0
    )
    failed = judge(
        subject="broken",
        comparison=None,
        primary=manifest({"SCIP_FAILED": 1}),
        candidate=None,
        policy=ParityPolicy(),
        failures=[("candidate", "candidate rust failed: TIMEOUT")],
    )
    repo = msgspec.structs.replace(
        repo, candidate=candidate, comparison=None, result=failed, severity=failed.severity
    )
    root = _junit(_report_of(repo))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    side = cases["candidate rust"].find("failure")
    assert side is not None and side.get("type") == "sev1"
    assert "code: TIMEOUT" in (side.text or "") and "timed out" in (side.text or "")
    assert cases["candidate rust"].get("time") == "5.000"
    assert all((f.text or "").strip() for f in root.iter("failure"))


# --- HTML: timings ------------------------------------------------------------------------------


def _timed(html: str, tag: str) -> list[tuple[str, str, float]]:
    found = re.findall(
        rf'<{tag}\b[^>]*?data-key="(\w+)" data-part="([\w ]+)" data-seconds="([\d.e-]+)"', html
    )
    return [(k, p, float(s)) for k, p, s in found]


@pytest.mark.parametrize("isolated", [False, True])
def test_the_timing_chart_and_table_show_the_same_recorded_times(isolated: bool) -> None:
    repo = _repo("drift", True)
    if isolated:  # each side extracted for itself: no shared Stage 0
        repo = msgspec.structs.replace(repo, extract_s=0.0)
    html = render_html(_report_of(repo))
    chart, table = _timed(html, "rect"), _timed(html, "span")
    assert chart == table
    expected = []
    for t in repo_timings(repo):
        expected += [(t.key, "wall", t.wall_s), *((t.key, n, s) for n, s in t.parts)]
    assert chart == expected
    if isolated:
        assert [k for k, _, _ in chart] == ["primary"] * 3 + ["candidate"] * 3
        assert ("primary", "Stage 0 extraction", 2.0) in chart
    else:
        assert chart[0] == ("stage0", "wall", 2.0)
        assert ("primary", "semantics", 3.0) in chart and ("primary", "wall", 1.5) in chart
    # The summary table lists the same wall times.
    assert "legacy</span> 1.500 s" in html


def test_a_failed_side_is_drawn_with_its_wall_time_and_no_stages() -> None:
    repo = _repo("broken", False)
    candidate = msgspec.structs.replace(repo.candidate, ok=False, error={"code": "CRASHED"})
    html = render_html(_report_of(msgspec.structs.replace(repo, candidate=candidate)))
    assert ("candidate", "wall", 1.5) in _timed(html, "rect")
    assert not [p for k, p, _ in _timed(html, "rect") if k == "candidate" and p != "wall"]
    assert "failed (CRASHED)" in html


# --- HTML: warnings, sev3, tables ----------------------------------------------------------------


def test_warnings_by_code_on_both_sides_and_their_difference() -> None:
    repo = msgspec.structs.replace(
        _repo("warned", False),
        warnings={"primary": {"A": 2, "B": 1}, "candidate": {"B": 1, "C": 4}},
    )
    html = render_html(_report_of(repo))
    rows = re.findall(
        r'<tr class="[^"]*" data-code="(\w+)"><td>\w+</td><td class=n>([\d-]+)</td>'
        r"<td class=n>([\d-]+)</td><td class=n>([+\d-]+)</td>",
        html,
    )
    assert rows == [("A", "2", "0", "-2"), ("C", "0", "4", "+4"), ("B", "1", "1", "0")]


def test_no_warnings_says_so() -> None:
    quiet = msgspec.structs.replace(
        _repo("quiet", False), warnings={"primary": {}, "candidate": {}}
    )
    html = render_html(_report_of(quiet))
    assert "No warnings on either side." in html
    failed = msgspec.structs.replace(_repo("half", False), warnings={"primary": {"A": 1}})
    html = render_html(_report_of(failed))
    assert "No warnings recorded for the candidate side (no run.json)." in html


def test_every_table_has_its_rows_on_both_sides_and_the_difference() -> None:
    html = render_html(_report_of(_repo("drift", True)))
    rows = re.findall(
        r'data-row-table="(\w+)" data-stage="\w+"><td>\w+</td><td>.*?</td>'
        r"<td class=n>(\S+)</td><td class=n>(\S+)</td><td class=n>(\S+)</td>",
        html,
    )
    assert rows == [("ast", "5", "5", "0"), ("cpg_edges", "10", "11", "+1")]
    assert '<details class="tables"><summary>2 tables: 1 ok, 1 sev2;' in html


def test_sev3_details_are_listed_and_their_absence_said() -> None:
    clean = render_html(_report_of(_repo("clean", False)))
    assert "No finding: no sev1, sev2 or sev3." in clean
    repo = _repo("drift", True)
    assert repo.comparison is not None
    drifted = judge(
        subject="drift",
        comparison=msgspec.structs.replace(
            repo.comparison,
            manifest=(
                ManifestDifference(
                    path="spec_hash", change="values_changed", primary="a", candidate="b"
                ),
            ),
        ),
        primary=manifest(),
        candidate=manifest(),
        policy=ParityPolicy(),
    )
    html = render_html(_report_of(msgspec.structs.replace(repo, result=drifted)))
    assert 'data-code="MANIFEST_DIFFERS" data-kind="sev3"' in html
    assert 'data-code="TABLE_DIFFERS" data-kind="blocking"' in html


# --- the parity history -------------------------------------------------------------------------


def test_no_history_yet_is_a_note_not_an_empty_chart(tmp_path: Path) -> None:
    history = read_history(tmp_path / "parity_history")
    assert history.runs == () and history.error is None
    html = render_html(_report_of(_repo("clean", False)), history)
    assert 'id="history-none"' in html and "No history yet" in html
    assert 'class="chart history"' not in html
    unrecorded = render_html(_report_of(_repo("clean", False)))
    assert "No parity history: this report was not written by a recorded parity run" in unrecorded


def test_an_unreadable_history_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "h" / "_delta_log").mkdir(parents=True)
    (tmp_path / "h" / "_delta_log" / "00000000000000000000.json").write_text("{not json")
    history = read_history(tmp_path / "h")
    assert history.error is not None
    html = render_html(_report_of(_repo("clean", False)), history)
    assert 'id="history-error"' in html and 'class="chart history"' not in html


def test_the_history_chart_draws_the_recorded_runs_and_this_one(tmp_path: Path) -> None:
    path = tmp_path / "parity_history"
    clean = _report_of(_repo("clean", False))
    drift = _report_of(_repo("clean", False), _repo("drift", True))
    for i, report in enumerate((clean, drift, clean)):
        append_history(path, msgspec.structs.replace(report, generated_at=f"2026-11-2{i}T10:00:00"))
    history = read_history(path)
    assert [r.verdict for r in history.runs] == ["pass", "fail", "pass"]
    assert history.runs[1].findings == {"sev1": 0, "sev2": 1, "sev3": 0}
    assert history.runs[1].repos == {"clean": "ok", "drift": "sev2"}
    html = render_html(drift, history)
    assert 'class="chart history"' in html and 'id="history-none"' not in html
    assert re.findall(r'<rect class="verdict" data-verdict="(\w+)"', html) == [
        "pass",
        "fail",
        "pass",
        "fail",
    ]
    assert html.count(f'data-run="{CURRENT}"') == 1
    assert re.findall(r'data-repo="drift" data-severity="([\w-]+)"', html) == [
        "-",
        "sev2",
        "-",
        "sev2",
    ]
    assert re.findall(r'class="findings" data-severity="(\w+)" data-count="(\d+)"', html) == [
        ("sev2", "1"),
        ("sev2", "1"),
    ]
    assert "the 3 runs recorded" in html


def test_a_report_written_after_its_run_was_recorded_is_not_drawn_twice(tmp_path: Path) -> None:
    path = tmp_path / "parity_history"
    report = _report_of(_repo("clean", False))
    append_history(path, report)
    drawn = with_report(read_history(path), report)
    assert len(drawn.runs) == 1 and drawn.runs[0].current and drawn.runs[0].run_id != CURRENT
    fresh = with_report(ParityHistory(path=str(path)), report)
    assert [(r.run_id, r.current) for r in fresh.runs] == [(CURRENT, True)]


def test_runs_recorded_before_the_finding_counts_are_drawn_as_n_a(tmp_path: Path) -> None:
    path = tmp_path / "parity_history"
    old_schema = pa.schema([f for f in HISTORY_SCHEMA if f.name not in ("sev1", "sev2", "sev3")])
    old = {
        "run_id": "old",
        "at": "2026-01-01T00:00:00",
        "severity": "ok",
        "verdict": "pass",
        "first_divergent_stage": None,
        "versions": "{}",
        "repo_set": None,
        "policy_hash": None,
        "engine_versions": None,
        "full_coverage": True,
    }
    rows = [dict(old, repo="clean"), dict(old, repo="*")]
    write_deltalake(str(path), pa.Table.from_pylist(rows, schema=old_schema))
    report = _report_of(_repo("clean", False))
    append_history(path, report)  # the new columns merge into the old table
    history = read_history(path)
    assert [r.findings for r in history.runs] == [None, {"sev1": 0, "sev2": 0, "sev3": 0}]
    html = render_html(report, history)
    assert ">n/a<title>" in html
    assert "n/a: a run recorded before the history held finding counts" in html


def test_the_history_is_read_up_to_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "parity_history"
    report = _report_of(_repo("clean", False))
    for i in range(4):
        append_history(path, msgspec.structs.replace(report, generated_at=f"2026-11-0{i}"))
    history = read_history(path, limit=2)
    assert [r.at for r in history.runs] == ["2026-11-02", "2026-11-03"]
    assert history.recorded == 4
    assert read_history(path, limit=0).runs == ()
