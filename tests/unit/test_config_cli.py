"""`codeanatomy config show|validate|migrate|init`: exit codes, JSON, never a silent overwrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.config import load_config
from harness.config.cli import app
from harness.config.model import CodeanatomyConfig
from harness.config.template import DEFAULT_CONFIG_TOML
from harness.exit_codes import EXIT_OK, EXIT_USAGE

runner = CliRunner()

LEGACY = "# top\n[hamilton]\n# parallel\nmax_tasks = 3  # cores\n\n[other]\nx = 1\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CODEANATOMY_BACKEND", raising=False)
    return tmp_path


def test_init_writes_a_file_holding_exactly_the_defaults(project: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == EXIT_OK, result.output
    path = project / "codeanatomy.toml"
    assert path.read_text(encoding="utf-8") == DEFAULT_CONFIG_TOML
    loaded = load_config(path, env={})
    assert loaded.config == CodeanatomyConfig()
    assert loaded.warnings == ()


def test_init_refuses_to_overwrite_without_force(project: Path) -> None:
    path = project / "codeanatomy.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == EXIT_USAGE
    assert "--force" in result.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_init_force_overwrites(project: Path) -> None:
    path = project / "codeanatomy.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init", "--force"])
    assert result.exit_code == EXIT_OK
    assert path.read_text(encoding="utf-8") == DEFAULT_CONFIG_TOML


def test_validate_accepts_a_valid_file(project: Path) -> None:
    (project / "codeanatomy.toml").write_text('[engine]\nbackend = "rust"\n', encoding="utf-8")
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["valid"] is True


def test_validate_rejects_an_invalid_file_with_located_problems(project: Path) -> None:
    (project / "codeanatomy.toml").write_text('[engine]\nbackend = "rus"\n', encoding="utf-8")
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == EXIT_USAGE
    assert (
        "codeanatomy.toml:2: [engine].backend: expected one of legacy, rust, shadow, got 'rus'"
        in result.stderr
    )


def test_validate_json_lists_the_problems(project: Path) -> None:
    (project / "codeanatomy.toml").write_text("[extract]\nworkers = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == EXIT_USAGE
    (problem,) = json.loads(result.stdout)["problems"]
    assert (problem["line"], problem["key"], problem["code"]) == (
        2,
        "[extract].workers",
        "CONFIG_INVALID",
    )


def test_show_json_names_the_source_of_each_value(project: Path) -> None:
    (project / "codeanatomy.toml").write_text("[extract]\nworkers = 2\n", encoding="utf-8")
    result = runner.invoke(app, ["show", "--json"], env={"CODEANATOMY_BACKEND": "rust"})
    assert result.exit_code == EXIT_OK, result.output
    values = json.loads(result.stdout)["values"]
    assert values["extract.workers"] == {
        "value": 2,
        "kind": "file",
        "key": "[extract].workers",
        "line": 2,
    }
    assert values["engine.backend"]["value"] == "rust"
    assert values["engine.backend"]["kind"] == "env"
    assert values["extract.cache"]["kind"] == "default"


def test_show_text_marks_defaults_files_and_env(project: Path) -> None:
    (project / "codeanatomy.toml").write_text("[extract]\nworkers = 2\n", encoding="utf-8")
    result = runner.invoke(app, ["show"], env={"CODEANATOMY_BACKEND": "shadow"})
    lines = {line.split(" = ")[0].strip(): line for line in result.stdout.splitlines()}
    assert lines["extract.workers"].endswith("codeanatomy.toml:2 [extract].workers")
    assert lines["engine.backend"].endswith("# env CODEANATOMY_BACKEND")
    assert lines["extract.cache"].endswith("# default")


def test_migrate_rewrites_once_then_has_nothing_to_do(project: Path) -> None:
    path = project / "codeanatomy.toml"
    path.write_text(LEGACY, encoding="utf-8")
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == EXIT_OK, first.output
    migrated = path.read_text(encoding="utf-8")
    assert migrated == "# top\n[extract]\n# parallel\nworkers = 3  # cores\n\n[other]\nx = 1\n"
    second = runner.invoke(app, ["migrate"])
    assert second.exit_code == EXIT_OK
    assert "nothing to migrate" in second.stdout
    assert path.read_text(encoding="utf-8") == migrated


def test_migrate_dry_run_prints_the_diff_and_keeps_the_file(project: Path) -> None:
    path = project / "codeanatomy.toml"
    path.write_text(LEGACY, encoding="utf-8")
    result = runner.invoke(app, ["migrate", "--dry-run"])
    assert result.exit_code == EXIT_OK
    assert "-[hamilton]\n" in result.stdout
    assert "+workers = 3  # cores\n" in result.stdout
    assert path.read_text(encoding="utf-8") == LEGACY


def test_migrate_without_any_config_has_nothing_to_do(project: Path) -> None:
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == EXIT_OK
    assert "nothing to migrate" in result.stdout


def test_migrate_of_invalid_toml_is_a_usage_error(project: Path) -> None:
    (project / "codeanatomy.toml").write_text("[hamilton\n", encoding="utf-8")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == EXIT_USAGE
    assert "codeanatomy.toml:1:" in result.stderr
