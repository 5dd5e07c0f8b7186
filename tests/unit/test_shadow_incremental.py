"""``shadow --incremental``: each side's build from the folder's previous state is compared with
the same side built from scratch (``OUT/fresh``), by the comparison of ``gate incremental``;
the finding is in the shadow Result. A side with no previous build is not evaluated (sev2,
never a pass); a planted bug in one side's incremental path is a sev1 finding naming it.

The fake engines extract two evidence sources only, so each side's comparison also reports
the other sources as coverage gaps (not evaluated, sev2): the tests look at the findings of the
tables the fakes write."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from backends.contract.result import RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.delta import read_table
from backends.extract.runner import ExtractOptions
from harness.compare.incremental import StepRecord
from harness.compare.result import Finding
from harness.run.request import BuildRequest
from harness.shadow.runner import (
    FRESH_DIR,
    INCREMENTAL_CACHE_ROWS,
    INCREMENTAL_DIFFERS,
    INCREMENTAL_IDENTICAL,
    INCREMENTAL_NOT_EVALUATED,
    ShadowOptions,
    ShadowOutcome,
    incremental_findings,
    run_shadow,
)
from tests.unit.shadow_fakes import Echo

FAKES = "tests.unit.shadow_fakes"
HERE = "tests.unit.test_shadow_incremental"


class Sticky(Echo):
    """Like Echo, but an update keeps the FILE nodes of files its previous run saw: a deleted
    file's rows left behind (a planted bug of the incremental path only)."""

    kept: tuple[str, ...] = ()

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        nodes = Path(str(outputs_dir)) / "cpg_nodes"
        scan = next(b.uri for b in spec.inputs if b.name == "repo_scan")
        now = set(read_table(Path(scan)).column("path").to_pylist())
        before = (
            set(read_table(nodes).column("path").to_pylist())
            if (nodes / "_delta_log").is_dir()
            else set()
        )
        self.kept = tuple(sorted(before - now))
        return super().run_semantics(spec, outputs_dir, views_dir)

    def extra_paths(self) -> list[str]:
        return list(self.kept)


STICKY = Sticky()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("def f():\n    return 1\n")
    (root / "pkg" / "b.py").write_text("from pkg.a import f\n\nf()\n")
    return root


def _shadow(repo: Path, out: Path, candidate: str, *, incremental: bool) -> ShadowOutcome:
    request = BuildRequest(
        repo=repo, out=out, extract=ExtractOptions(extractors=("repo_scan", "ast"), workers=1)
    )
    options = ShadowOptions(order="primary_first", candidate_timeout_s=30, incremental=incremental)
    return run_shadow(request, f"{FAKES}:ECHO", candidate, options)


def _incremental(outcome: ShadowOutcome) -> list[Finding]:
    return [f for f in outcome.result.findings if f.code.startswith("INCREMENTAL_")]


def _side(finding: Finding) -> str:
    return finding.message.split(" ", 1)[0]


def test_a_folder_without_a_previous_build_is_not_evaluated_never_a_pass(
    repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    outcome = _shadow(repo, out, f"{FAKES}:ECHO", incremental=True)
    assert [(r.step, r.status) for r in outcome.incremental] == [
        ("primary", "not_evaluated"),
        ("candidate", "not_evaluated"),
    ]
    found = _incremental(outcome)
    assert [(f.code, f.severity, f.table) for f in found] == [
        (INCREMENTAL_NOT_EVALUATED, "sev2", "primary"),
        (INCREMENTAL_NOT_EVALUATED, "sev2", "candidate"),
    ]
    assert all(f.blocks and "no previous build" in f.message for f in found)
    assert outcome.result.blocks
    assert not (out / FRESH_DIR).exists(), "nothing to compare: no fresh build is paid for"


def test_without_the_option_nothing_is_built_from_scratch(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _shadow(repo, out, f"{FAKES}:ECHO", incremental=False)
    outcome = _shadow(repo, out, f"{FAKES}:ECHO", incremental=False)
    assert outcome.incremental == ()
    assert _incremental(outcome) == []
    assert not (out / FRESH_DIR).exists()


def test_a_planted_bug_in_one_side_is_a_sev1_finding_naming_side_and_table(
    repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = _shadow(repo, out, f"{HERE}:STICKY", incremental=True)
    assert first.primary.ok and first.candidate.ok
    (repo / "pkg" / "b.py").unlink()
    (repo / "pkg" / "c.py").write_text("def g():\n    return 2\n")
    outcome = _shadow(repo, out, f"{HERE}:STICKY", incremental=True)
    steps = {r.step: r for r in outcome.incremental}
    assert steps["primary"].fresh == str(out / FRESH_DIR / "echo")
    assert steps["candidate"].fresh == str(out / FRESH_DIR / "sticky")
    differs = [f for f in _incremental(outcome) if f.code == INCREMENTAL_DIFFERS]
    assert differs, _incremental(outcome)
    assert {(_side(f), f.severity, f.stage, f.table) for f in differs} == {
        ("candidate", "sev1", "outputs", "cpg_nodes")
    }
    assert "pkg/b.py" in differs[0].message, differs[0].message
    assert outcome.result.blocks
    # The primary's own update is right: its table is identical to its fresh build.
    primary = [f for f in _incremental(outcome) if _side(f) == "primary"]
    assert primary and not any(f.table == "cpg_nodes" for f in primary), primary


def test_a_side_that_failed_is_not_evaluated(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _shadow(repo, out, f"{FAKES}:RAISING", incremental=False)
    (repo / "pkg" / "c.py").write_text("def g():\n    return 2\n")
    outcome = _shadow(repo, out, f"{FAKES}:RAISING", incremental=True)
    steps = {r.step: r for r in outcome.incremental}
    assert steps["candidate"].status == "not_evaluated"
    assert "failed" in steps["candidate"].detail
    assert steps["primary"].status != "not_evaluated"
    assert steps["primary"].fresh == str(out / FRESH_DIR / "echo")


def _record(status: str, **fields: object) -> StepRecord:
    return StepRecord(
        step="candidate",
        kind="shadow",
        description="candidate rust: incremental build vs a fresh one",
        status=status,
        detail="detail",
        **fields,  # type: ignore[arg-type]
    )


def test_each_outcome_of_a_side_has_its_finding() -> None:
    identical = incremental_findings((_record("pass"),))
    assert [(f.code, f.severity, f.blocks) for f in identical] == [
        (INCREMENTAL_IDENTICAL, "ok", False)
    ]
    cache = incremental_findings((_record("pass", exception="CONTRACT §5.7 ..."),))
    assert [(f.code, f.severity, f.blocks) for f in cache] == [
        (INCREMENTAL_CACHE_ROWS, "sev3", False)
    ]
    nothing = incremental_findings((_record("fail"),))
    assert [(f.code, f.severity, f.blocks) for f in nothing] == [
        (INCREMENTAL_NOT_EVALUATED, "sev2", True)
    ]
    failed = incremental_findings((_record("error"),))
    assert [(f.severity, f.blocks) for f in failed] == [("sev1", True)]
    assert incremental_findings(()) == []


def test_a_record_round_trips_as_json() -> None:
    record = _record("not_evaluated")
    assert msgspec.json.decode(msgspec.json.encode(record), type=StepRecord) == record
