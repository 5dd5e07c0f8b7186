"""Gate verdicts, the release checklist (stale evidence fails), the cutover gate over the parity
history, and the migration status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from harness.compare.policy import ParityPolicy
from harness.compare.result import judge
from harness.config.load import LoadedConfig, load_text
from harness.gates.gates import GateContext, gate_cutover
from harness.gates.history import append_history, recent_runs
from harness.gates.verdict import Check, make_verdict, read_verdict, write_verdict
from harness.release import checklist
from harness.report.model import ParityReport, RepoParity
from harness.shadow.observation import Observation
from harness.status import status
from tests.unit.parity_fakes import comparison, manifest

GATES = ("determinism", "parity", "perf", "observability", "rollback", "deletion")


def _config(tmp_path: Path, text: str = "") -> LoadedConfig:
    file = tmp_path / "codeanatomy.toml"
    file.write_text(text)
    return load_text(text, file=file, root=tmp_path, env={})


def _write_all(folder: Path, passed: bool = True, age_h: float = 0.0) -> None:
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=age_h)).isoformat(timespec="seconds")
    for gate in GATES:
        verdict = make_verdict(gate, [Check(name="x", passed=passed)], f"{gate} summary")
        write_verdict(folder, msgspec.structs.replace(verdict, generated_at=at))


def test_a_verdict_round_trips_and_needs_a_check(tmp_path: Path) -> None:
    verdict = make_verdict("deletion", [Check(name="preflight", passed=True)], "ok")
    assert read_verdict(write_verdict(tmp_path, verdict)) == verdict
    assert (tmp_path / "deletion.md").read_text().startswith("## ✅")
    assert make_verdict("deletion", [], "nothing checked").passed is False


def test_the_checklist_passes_on_fresh_passing_evidence(tmp_path: Path) -> None:
    config = _config(tmp_path)
    _write_all(tmp_path / "reports" / "gates")
    result = checklist(config)
    assert result.passed
    assert [i.gate for i in result.items] == list(GATES)


@pytest.mark.parametrize(
    ("passed", "age_h", "reason"), [(True, 500.0, "stale"), (False, 0.0, "summary")]
)
def test_the_checklist_fails_stale_or_failing_evidence(
    tmp_path: Path, passed: bool, age_h: float, reason: str
) -> None:
    config = _config(tmp_path)
    _write_all(tmp_path / "reports" / "gates", passed=passed, age_h=age_h)
    result = checklist(config)
    assert not result.passed
    assert all(reason in i.reason for i in result.items)


def test_missing_evidence_fails_the_checklist(tmp_path: Path) -> None:
    result = checklist(_config(tmp_path))
    assert not result.passed
    assert {i.reason for i in result.items} == {"never run"}


def _report(
    verdict: str,
    repo: str = "/repos/a",
    versions: dict[str, str] | None = None,
    policy_hash: str = "p1",
    scip_failed: bool = False,
) -> ParityReport:
    result = judge(
        subject=Path(repo).name,
        comparison=comparison(),
        primary=manifest({"SCIP_FAILED": 1} if scip_failed else None),
        candidate=manifest(),
        policy=ParityPolicy(),
    )
    obs = Observation(backend="legacy", role="primary", ok=True, run_dir="/r", wall_s=1, cpu_s=1)
    entry = RepoParity(
        name=Path(repo).name,
        repo=repo,
        severity=result.severity,
        result=result,
        primary=obs,
        candidate=msgspec.structs.replace(obs, backend="rust", role="candidate"),
        order=("primary", "candidate"),
        extract_s=1.0,
        comparison=comparison(),
        faults=(),
        timings={},
    )
    return ParityReport(
        report_version="parity/2",
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        versions=versions or {"engine": "1"},
        verdict=verdict,  # type: ignore[arg-type]
        thresholds={},
        counts={},
        repos=(entry,),
        policy_hash=policy_hash,
    )


def _cutover(tmp_path: Path) -> tuple[GateContext, Path]:
    config = _config(tmp_path, "[parity]\ncutover_runs = 2\n")
    history = tmp_path / "reports" / "parity_history"
    return GateContext(config=config, repos=(), work=tmp_path / "w", project=tmp_path), history


def test_cutover_needs_n_consecutive_clean_runs(tmp_path: Path) -> None:
    ctx, history = _cutover(tmp_path)
    assert not gate_cutover(ctx).passed  # no history: nothing to count
    for verdict in ("pass", "fail", "pass"):
        append_history(history, _report(verdict))
    assert [r.verdict for r in recent_runs(history, 3)] == ["pass", "fail", "pass"]
    assert not gate_cutover(ctx).passed
    append_history(history, _report("pass"))
    assert gate_cutover(ctx).passed


@pytest.mark.parametrize(
    "change",
    [
        {"repo": "/repos/other"},
        {"versions": {"engine": "2"}},
        {"policy_hash": "p2"},
        {"scip_failed": True},
    ],
    ids=["other repo set", "other engine versions", "other policy", "incomplete coverage"],
)
def test_cutover_counts_only_runs_of_the_same_setup_with_full_coverage(
    tmp_path: Path, change: dict[str, object]
) -> None:
    ctx, history = _cutover(tmp_path)
    append_history(history, _report("pass"))
    append_history(history, _report("pass", **change))  # type: ignore[arg-type]
    assert not gate_cutover(ctx).passed
    append_history(history, _report("pass", **change))  # type: ignore[arg-type]
    assert gate_cutover(ctx).passed is ("scip_failed" not in change)


def test_a_run_over_no_repository_never_counts(tmp_path: Path) -> None:
    ctx, history = _cutover(tmp_path)
    empty = msgspec.structs.replace(_report("pass"), repos=())
    for _ in range(3):
        append_history(history, empty)
    assert not gate_cutover(ctx).passed


def test_status_reports_the_phase_and_next_blockers(tmp_path: Path) -> None:
    project = Path(__file__).parents[2]
    config = _config(tmp_path)
    result = status(config, project)
    assert result.phases[0].done and result.phases[1].done
    assert result.phase == 1
    assert any("parity" in b for b in result.next_blockers)
    _write_all(tmp_path / "reports" / "gates")
    assert status(config, project).phase >= 2
