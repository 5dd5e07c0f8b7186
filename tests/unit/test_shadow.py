"""Shadow mode: the caller's result never depends on what the candidate does."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.extract.runner import ExtractOptions
from harness.compare.result import Finding
from harness.run.manifest import read_manifest
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowError, ShadowOptions, ShadowOutcome, run_shadow

FAKES = "tests.unit.shadow_fakes"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("def f():\n    return 1\n")
    return root


def _request(repo: Path, out: Path) -> BuildRequest:
    return BuildRequest(
        repo=repo, out=out, extract=ExtractOptions(extractors=("repo_scan", "ast"), workers=1)
    )


def _primary_outputs(out: Path) -> dict[str, str]:
    manifest = read_manifest(out / "echo" / "run.json")
    return {o.table: o.fingerprint for o in manifest.outputs}


def _shadow(
    repo: Path, out: Path, candidate: str, *, strict: bool = False, timeout_s: float = 20
) -> ShadowOutcome:
    options = ShadowOptions(order="primary_first", candidate_timeout_s=timeout_s, strict=strict)
    return run_shadow(_request(repo, out), f"{FAKES}:ECHO", f"{FAKES}:{candidate}", options)


def _divergences(outcome: ShadowOutcome) -> list[Finding]:
    return [f for f in outcome.result.findings if not f.code.startswith("COVERAGE_")]


def test_agreeing_sides_compare_clean(repo: Path, tmp_path: Path) -> None:
    outcome = _shadow(repo, tmp_path / "out", "ECHO")
    assert outcome.primary.ok and outcome.candidate.ok
    assert outcome.comparison is not None
    # The fakes extract two evidence sources only: the Result says so (coverage findings);
    # every table the sides share agrees.
    assert _divergences(outcome) == []
    assert outcome.result.first_divergent_stage is None


@pytest.mark.parametrize("order", ["primary_first", "candidate_first"])
def test_a_side_never_writes_into_the_shared_evidence(
    repo: Path, tmp_path: Path, order: str
) -> None:
    """Either side may run first: neither leaves anything (a table note included) in the
    evidence the two share, so the contained candidate is never caught writing there."""
    options = ShadowOptions(order=order, candidate_timeout_s=20)  # type: ignore[arg-type]
    out = tmp_path / "out"
    outcome = run_shadow(_request(repo, out), f"{FAKES}:ECHO", f"{FAKES}:ECHO", options)
    assert outcome.faults == ()
    assert outcome.primary.ok and outcome.candidate.ok
    assert not list((out / "evidence").glob("*/_codeanatomy_manifest*"))


def test_a_content_mismatch_is_reported_with_its_stage(repo: Path, tmp_path: Path) -> None:
    outcome = _shadow(repo, tmp_path / "out", "DRIFTING")
    assert outcome.comparison is not None
    assert outcome.result.first_divergent_stage == "outputs"
    assert [f.table for f in _divergences(outcome) if f.blocks] == ["cpg_nodes"]
    nodes = next(t for t in outcome.comparison.tables if t.table == "cpg_nodes")
    assert nodes.diff is not None and nodes.diff.added == 1


@pytest.mark.parametrize(
    ("candidate", "code", "timed_out"),
    [
        ("RAISING", "EXECUTION_FAILED", False),
        ("HANGING", "TIMEOUT", True),
        ("CRASHING", "CRASHED", False),
        ("GARBAGE", "INTERNAL_ERROR", False),
    ],
)
def test_a_failing_candidate_never_changes_the_primary_result(
    repo: Path, tmp_path: Path, candidate: str, code: str, timed_out: bool
) -> None:
    clean = _shadow(repo, tmp_path / "clean", "ECHO")
    assert clean.manifest is not None
    # A short limit only where it is the point: a loaded machine (CI) can take seconds to
    # start a child, which would turn a crash or junk into a timeout.
    outcome = _shadow(repo, tmp_path / "out", candidate, timeout_s=5 if timed_out else 120)
    assert outcome.primary.ok
    assert not outcome.candidate.ok
    assert outcome.candidate.timed_out is timed_out
    assert outcome.candidate.error is not None and outcome.candidate.error["code"] == code
    assert outcome.comparison is None
    assert _primary_outputs(tmp_path / "out") == _primary_outputs(tmp_path / "clean")


def test_strict_mode_raises_on_a_failing_candidate(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ShadowError, match="EXECUTION_FAILED"):
        _shadow(repo, tmp_path / "out", "RAISING", strict=True)


def test_the_order_is_random_unless_pinned(repo: Path, tmp_path: Path) -> None:
    orders = set()
    for seed in range(6):
        options = ShadowOptions(seed=seed, candidate_timeout_s=20)
        outcome = run_shadow(
            _request(repo, tmp_path / f"o{seed}"), f"{FAKES}:ECHO", f"{FAKES}:ECHO", options
        )
        orders.add(outcome.order)
    assert orders == {("primary", "candidate"), ("candidate", "primary")}


def _noise_run(repo: Path, out: Path, primary: str, candidate: str) -> ShadowOutcome:
    options = ShadowOptions(order="primary_first", candidate_timeout_s=20, noise_baseline=True)
    return run_shadow(_request(repo, out), f"{FAKES}:{primary}", f"{FAKES}:{candidate}", options)


def test_a_deterministic_primary_has_no_noise(repo: Path, tmp_path: Path) -> None:
    outcome = _noise_run(repo, tmp_path / "out", "ECHO", "ECHO")
    assert outcome.noise is not None
    assert [t.table for t in outcome.noise.tables if t.severity != "ok"] == []
    # The fakes extract two sources only: the Result's coverage says so (sources missing,
    # tables empty on both sides), but nothing is noise and no table differs.
    assert outcome.comparison is not None
    assert [f for f in outcome.result.findings if f.noise] == []
    assert {f.code for f in outcome.result.findings} <= {"COVERAGE_SOURCE_FAILED", "COVERAGE_EMPTY"}


def test_a_volatile_table_is_reported_as_noise_not_as_a_mismatch(
    repo: Path, tmp_path: Path
) -> None:
    outcome = _noise_run(repo, tmp_path / "out", "FLAKY", "ECHO")
    assert outcome.noise is not None
    assert [t.table for t in outcome.noise.tables if t.severity != "ok"] == ["cpg_nodes"]
    # The Result discounts the volatile table: a noise finding, sev3, that blocks nothing.
    nodes = [f for f in outcome.result.findings if f.table == "cpg_nodes"]
    assert [(f.noise, f.blocks) for f in nodes] == [(True, False)]
    assert not any(f.code == "TABLE_DIFFERS" and f.blocks for f in outcome.result.findings)
