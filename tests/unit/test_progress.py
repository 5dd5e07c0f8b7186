"""Long commands report progress to the end (issue 15.5): extraction's per-file work, the
repository-wide scip-python index it then waits for, the evidence writes, and in a shadow
suite the repositories done. Heard through the same hook the CLI's progress bar uses."""

from __future__ import annotations

from pathlib import Path

from backends.extract.runner import ExtractOptions, extract
from harness.compare.policy import ParityPolicy
from harness.config.load import load_text
from harness.gates.suite import run_suite
from harness.shadow.runner import ShadowOptions


def _repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "m.py").write_text("def f():\n    return 1\n")
    return root


def _last(heard: list[tuple[str, int, int]]) -> dict[str, tuple[int, int]]:
    return {stage: (done, total) for stage, done, total in heard}


def test_extraction_reports_every_phase_to_its_end(tmp_path: Path) -> None:
    heard: list[tuple[str, int, int]] = []
    options = ExtractOptions(workers=1, progress=lambda *event: heard.append(event))
    extract(_repo(tmp_path / "repo"), tmp_path / "out", options)
    last = _last(heard)
    assert last["extract"][0] == last["extract"][1] > 0
    assert last["write evidence tables"] == (10, 10)
    stages = list(dict.fromkeys(stage for stage, _, _ in heard))
    assert stages.index("extract") < stages.index("write evidence tables")
    if "scip-python index" in last:  # absent where scip-python is not installed
        assert last["scip-python index"] == (1, 1)


def test_without_a_hook_nothing_is_reported(tmp_path: Path) -> None:
    # The vacuous case: no hook, no calls, same evidence.
    summary = extract(_repo(tmp_path / "repo"), tmp_path / "out", ExtractOptions(workers=1))
    assert summary.all_accounted


def test_a_suite_reports_the_repositories_done(tmp_path: Path) -> None:
    heard: list[tuple[str, int, int]] = []
    repos = [_repo(tmp_path / "a"), _repo(tmp_path / "b")]
    config = load_text("", file=None, root=tmp_path)
    report, _ = run_suite(
        repos,
        tmp_path / "out",
        config,
        ParityPolicy(),
        ShadowOptions(candidate_timeout_s=300),
        quiet=True,
        progress=lambda *event: heard.append(event),
    )
    assert [e for e in heard if e[0] == "repositories"] == [
        ("repositories", 0, 2),
        ("repositories", 1, 2),
        ("repositories", 2, 2),
    ]
    assert len(report.repos) == 2
