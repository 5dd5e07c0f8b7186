"""``parity.html`` of real shadow runs, rendered in headless Chromium (issue 15.6).

A pass: the legacy backend against the Rust engine on two golden repositories, through the
suite the CLI runs (``run_suite``: reports, then the parity history). A fail: the same repos
against :data:`PERTURBED`, the Rust engine with a few rows of its outputs changed and one
warning added, recorded in the same history. Each page is screenshotted and its DOM read back
from Chromium: the repository summary and the coverage table come first, the timing chart
draws exactly the times the page lists, the history chart is there once a run is recorded and
a note says so before.

Set ``CODEANATOMY_REPORT_SHOTS`` to a folder to keep the screenshots and pages there.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from backends.contract.result import RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.delta import read_table, write_table
from harness.adapters.rust import RustAdapter
from harness.compare.policy import ParityPolicy
from harness.config.load import LoadedConfig, load_text
from harness.gates.history import append_history
from harness.gates.suite import run_suite
from harness.report.assemble import RepoRun, assemble
from harness.report.digest import repo_timings
from harness.report.history import read_history
from harness.report.model import ParityReport
from harness.report.writers import write_reports
from harness.run.extract_options import extract_options
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowOptions, run_shadow
from tests.unit.browser import require_chromium

GOLDEN = Path(__file__).resolve().parents[2] / "golden_repos"
REPOS = ("oop", "imports")
THRESHOLDS: dict[str, int | None] = {"max_sev1": 0, "max_sev2": 0, "max_sev3": None}
OPTIONS = ShadowOptions(order="primary_first", candidate_timeout_s=300)


class PerturbedRust(RustAdapter):
    """The Rust engine, then a planted divergence in its outputs: one edge removed, one
    added, two edges pointing elsewhere, and one more warning in ``diagnostics``."""

    NAME = "rust"

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        result = super().run_semantics(spec, outputs_dir, views_dir)
        outputs = []
        for info in result.outputs:
            uri = Path(info.uri)
            table = read_table(uri, info.delta_version)
            if info.table == "cpg_edges" and table.num_rows >= 4:
                rows = table.to_pylist()
                added = dict(rows[0], edge_id="f" * 32, kind="CALLS")
                for row in rows[1:3]:
                    row["dst_id"] = "0" * 31 + "a"
                table = pa.Table.from_pylist([*rows[1:], added], schema=table.schema)
            elif info.table == "diagnostics":
                extra = {
                    "diagnostic_id": "e" * 32,
                    "code": "ENGINE_PLANTED_WARNING",
                    "severity": "warning",
                    "stage": "semantic",
                    "source": "engine",
                    "path": None,
                    "bstart": None,
                    "bend": None,
                    "message": "a warning only the perturbed candidate emits",
                    "context": None,
                }
                table = pa.Table.from_pylist([*table.to_pylist(), extra], schema=table.schema)
            else:
                outputs.append(info)
                continue
            version = write_table(uri, table)
            outputs.append(
                msgspec.structs.replace(info, delta_version=version, rows=table.num_rows)
            )
        return msgspec.structs.replace(result, outputs=tuple(outputs))


PERTURBED = PerturbedRust()


@dataclass(frozen=True)
class Runs:
    passed: ParityReport
    passed_html: Path
    failed: ParityReport
    failed_html: Path
    history: Path


def _failing_suite(out: Path, config: LoadedConfig) -> tuple[ParityReport, Path]:
    """What ``run_suite`` does, with the perturbed candidate (the configuration names only
    the two real backends): the same extraction options (Stage 0 comes from the cache the
    pass filled), the report, then the run appended to the history."""
    history = config.resolve(config.config.parity.history)
    runs = []
    for name in REPOS:
        repo = GOLDEN / name
        extract = extract_options(config)
        request = BuildRequest(repo=repo, out=out / name, extract=extract, views=True)
        outcome = run_shadow(request, "legacy", f"{__name__}:PERTURBED", OPTIONS)
        runs.append(RepoRun(name=name, repo=str(repo), outcome=outcome))
    report = assemble(runs, ParityPolicy(), THRESHOLDS)
    paths = write_reports(report, out / "report", history=read_history(history))
    append_history(history, report)
    return report, paths["html"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("pages")
    config = load_text("", file=None, root=root, env={})
    history = config.resolve(config.config.parity.history)
    passed, paths = run_suite(
        [GOLDEN / name for name in REPOS],
        root / "pass",
        config,
        ParityPolicy(),
        OPTIONS,
        quiet=True,
    )
    failed, failed_html = _failing_suite(root / "fail", config)
    return Runs(passed, paths["html"], failed, failed_html, history)


def _browse(page: Path, *args: str) -> str:
    browser = require_chromium()
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")
    return subprocess.run(
        [browser, *flags, *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout


def _screenshot(page: Path, name: str) -> Path:
    """A PNG of the top of the page (1400 px wide), kept in ``CODEANATOMY_REPORT_SHOTS``."""
    shot = page.parent / f"{name}.png"
    _browse(page, f"--screenshot={shot}", "--window-size=1400,2400")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 2400)
    assert len(data) > 50_000  # a rendered page, not a blank one
    keep = os.environ.get("CODEANATOMY_REPORT_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
        shutil.copy(page, Path(keep) / f"{name}.html")
    return shot


def _opening(dom: str) -> list[str]:
    """The ids of the page's sections, in order."""
    return re.findall(r'<section class="card[^"]*" id="([^"]+)"', dom)


def _seconds(dom: str, where: str) -> list[tuple[str, str, float]]:
    """(key, part, seconds) of every timed element of ``where`` (the chart: ``rect``, the
    timing table: ``span``), in page order."""
    tag = "rect" if where == "chart" else "span"
    found = re.findall(
        rf'<{tag}\b[^>]*?data-key="(\w+)" data-part="([\w ]+)" data-seconds="([\d.e-]+)"',
        dom,
    )
    return [(k, p, float(s)) for k, p, s in found]


def _expected_seconds(report: ParityReport) -> list[tuple[str, str, float]]:
    out = []
    for repo in report.repos:
        for t in repo_timings(repo):
            out.append((t.key, "wall", t.wall_s))
            out += [(t.key, name, s) for name, s in t.parts]
    return out


def test_a_pass_opens_with_the_summary_and_coverage_and_has_no_history_yet(runs: Runs) -> None:
    assert runs.passed.verdict == "pass"
    _screenshot(runs.passed_html, "parity-pass")
    dom = _browse(runs.passed_html, "--dump-dom")
    assert '<span id="verdict" class="pass">pass</span>' in dom
    assert _opening(dom)[:4] == ["summary", "coverage-section", "counts-section", "history"]
    assert dom.index('id="repos"') < dom.index('id="coverage"') < dom.index('class="card repo"')
    for name in REPOS:
        assert f'data-repo="{name}"' in dom and f'id="repo-{name}"' in dom
    # The first recorded run: a note, not an empty chart.
    assert 'id="history-none"' in dom and "No history yet" in dom
    assert 'class="chart history"' not in dom
    # Every table agrees: folded, with its rows on both sides.
    assert dom.count('<details class="tables">') == len(REPOS)
    assert dom.count("data-row-table=") == sum(
        r.result.coverage.tables_compared for r in runs.passed.repos
    )
    # Unresolved imports are warnings; both sides count them alike.
    assert 'data-code="IMPORT_UNRESOLVED"' in dom
    assert "No warnings on either side." in dom  # oop has none


def test_the_timing_chart_draws_exactly_the_times_the_page_lists(runs: Runs) -> None:
    for report, page in ((runs.passed, runs.passed_html), (runs.failed, runs.failed_html)):
        dom = _browse(page, "--dump-dom")
        expected = _expected_seconds(report)
        assert _seconds(dom, "chart") == expected
        assert _seconds(dom, "table") == expected
        # Stage 0 is recorded once per repo; each side's semantics fits in its wall time.
        assert sum(k == "stage0" for k, _, _ in expected) == len(REPOS)
        for repo in report.repos:
            for t in repo_timings(repo):
                assert sum(s for _, s in t.parts) <= t.wall_s


def test_a_fail_shows_the_divergence_its_samples_and_the_history(runs: Runs) -> None:
    failed = runs.failed
    assert failed.verdict == "fail"
    _screenshot(runs.failed_html, "parity-fail")
    dom = _browse(runs.failed_html, "--dump-dom")
    assert '<span id="verdict" class="fail">fail</span>' in dom
    assert _opening(dom)[:2] == ["summary", "coverage-section"]
    for repo in failed.repos:
        assert repo.result.first_divergent_stage == "outputs"
        assert repo.result.blocks
    assert dom.count('<b class="first-divergent">outputs</b>') == len(REPOS)
    # The divergent tables are drilled into, with sample rows (hashed ids shortened).
    assert dom.count('data-table="cpg_edges" data-severity=') == len(REPOS)
    assert dom.count('class="sample"') >= 3 * len(REPOS)
    assert "fffffffffff…" in dom
    # The planted warning: a sev3 finding and a row of the warnings table.
    assert 'data-code="WARNINGS_DIFFER" data-kind="sev3"' in dom
    assert re.search(r'data-code="ENGINE_PLANTED_WARNING">.*?<td class="n">\+1</td>', dom)
    # The history: the recorded pass, then this run.
    assert 'class="chart history"' in dom and 'id="history-none"' not in dom
    verdicts = re.findall(r'<rect class="verdict" data-verdict="(\w+)"', dom)
    assert verdicts == ["pass", "fail"]
    assert runs.history.is_dir()
    recorded = read_history(runs.history)
    assert [r.verdict for r in recorded.runs] == ["pass", "fail"]
    assert recorded.runs[-1].findings == {s: failed.counts[s] for s in ("sev1", "sev2", "sev3")}
