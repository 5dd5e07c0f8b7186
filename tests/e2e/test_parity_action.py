"""The reusable parity action (.github/actions/parity) runs its steps as a runner would.

``action.yml`` delegates every shell step to ``steps.sh``; this test runs those steps in the
order ``action.yml`` lists them, with ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and
``RUNNER_TEMP`` files as a runner provides them, against a repository written here (not a
golden one). The ``uses:`` steps (setup-python, cache, artifact upload, PR comment) are
GitHub's own and are validated by actionlint through the workflow that uses the action.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / ".github" / "actions" / "parity"


def _steps() -> list[str]:
    return re.findall(r'steps\.sh" (\w+)', (ACTION / "action.yml").read_text(encoding="utf-8"))


def _outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return dict(pairs)


def _run_action(tmp_path: Path, repos: str) -> tuple[int, dict[str, str], str]:
    """Run the action's shell steps; (the gate's exit code, the step outputs, the summary)."""
    temp, output, summary = tmp_path / "runner", tmp_path / "output", tmp_path / "summary.md"
    temp.mkdir()
    output.touch()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CODEANATOMY_")},
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(temp),
        "CODEANATOMY_CACHE": str(tmp_path / "cache"),
        "REPOS": repos,
        "OUT": "parity-out",
        "POLICY": "",
        "CONFIG": "",
        "CANDIDATE_TIMEOUT": "600",
    }
    gate = None
    for step in _steps():
        if step == "gate":
            found = _outputs(output)
            env |= {"VERDICT": found.get("verdict", ""), "EXIT_CODE": found.get("exit-code", "")}
        done = subprocess.run(
            [str(ACTION / "steps.sh"), step],
            env=env,
            cwd=tmp_path,
            timeout=900,
            check=False,
            capture_output=True,
            text=True,
        )
        if step == "gate":
            gate = done.returncode
        else:
            assert done.returncode == 0, (step, done.stderr[-2000:])
    assert gate is not None
    return gate, _outputs(output), summary.read_text() if summary.exists() else ""


def test_the_action_runs_where_shadow_summary_gate() -> None:
    assert _steps() == ["where", "shadow", "summary", "gate"]


def test_the_action_passes_a_repository_in_parity(tmp_path: Path) -> None:
    repo = tmp_path / "team-repo"
    (repo / "svc").mkdir(parents=True)
    (repo / "svc" / "__init__.py").write_text("")
    (repo / "svc" / "core.py").write_text(
        "class Store:\n    def get(self, key: str) -> str:\n        return key.upper()\n\n\n"
        "def lookup(key: str) -> str:\n    return Store().get(key)\n"
    )
    gate, outputs, summary = _run_action(tmp_path, "team-repo")
    assert outputs["exit-code"] == "0" and outputs["verdict"] == "pass", outputs
    assert gate == 0
    assert (tmp_path / outputs["report"] / "parity.html").is_file()
    assert "team-repo" in summary and "pass" in summary
    assert Path(outputs["history"]).name == "parity_history"
    assert (Path(outputs["history"]) / "_delta_log").is_dir()  # appended: cached for next run


def test_no_report_never_passes(tmp_path: Path) -> None:
    gate, outputs, summary = _run_action(tmp_path, "no-such-repo")
    assert outputs["exit-code"] == "2" and "verdict" not in outputs
    assert gate == 1
    assert "no report" in summary


@pytest.mark.parametrize(("verdict", "code"), [("fail", "1"), ("pass", "3"), ("", "")])
def test_the_gate_passes_only_a_pass_that_exited_0(verdict: str, code: str) -> None:
    done = subprocess.run(
        [str(ACTION / "steps.sh"), "gate"],
        env={**os.environ, "VERDICT": verdict, "EXIT_CODE": code},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
