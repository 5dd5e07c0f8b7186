"""``codeanatomy preflight``: JSON or table output, exit 0 / 1 (gate failed) / 2 (usage)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK, EXIT_USAGE
from harness.preflight.cli import app

runner = CliRunner()


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_clean_project_exits_ok(tmp_path: Path) -> None:
    root = _write(tmp_path, {"app.py": "import json\n"})
    result = runner.invoke(app, [str(root)])
    assert result.exit_code == EXIT_OK, result.output
    assert "PASS" in result.stdout


def test_blocker_fails_the_gate_and_json_names_it(tmp_path: Path) -> None:
    root = _write(tmp_path, {"app.py": "x = 1\nimport rustworkx\n"})
    result = runner.invoke(app, [str(root), "--json"])
    assert result.exit_code == EXIT_GATE_FAILED, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(b["path"], b["line"], b["kind"]) for b in report["blockers"]] == [
        ("app.py", 2, "import")
    ]


def test_table_output_shows_file_line_and_chain(tmp_path: Path) -> None:
    root = _write(tmp_path, {"app.py": "import hamilton\n"})
    result = runner.invoke(app, [str(root)], env={"COLUMNS": "250"})
    assert result.exit_code == EXIT_GATE_FAILED
    assert "app.py:1:0" in result.stdout
    assert "app.py -> hamilton" in result.stdout


def test_allow_option_moves_files_into_the_deletion_set(tmp_path: Path) -> None:
    root = _write(tmp_path, {"old/run.py": "import hamilton\n"})
    result = runner.invoke(app, [str(root), "--json", "--allow", "old/"])
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout)["deletion_set"] == ["old/run.py"]


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert runner.invoke(app, [str(tmp_path / "absent")]).exit_code == EXIT_USAGE


def test_allow_entry_outside_the_project_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, [str(tmp_path), "--allow", "../elsewhere"])
    assert result.exit_code == EXIT_USAGE
