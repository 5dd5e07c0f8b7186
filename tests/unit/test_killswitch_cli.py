"""`codeanatomy killswitch engage|release|status`: round trip, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.exit_codes import EXIT_OK, EXIT_USAGE
from harness.killswitch.cli import app, default_actor
from harness.killswitch.state import state_path

runner = CliRunner()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    for name in ("CODEANATOMY_KILL_SWITCH", "CODEANATOMY_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _status(env: dict[str, str] | None = None) -> dict[str, object]:
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == EXIT_OK, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_engage_release_status_round_trip(project: Path) -> None:
    assert (_status()["engaged"], _status()["source"]) == (False, "default")
    engaged = runner.invoke(app, ["engage", "--reason", "parity sev1", "--actor", "alice"])
    assert engaged.exit_code == EXIT_OK, engaged.output
    status = _status()
    assert (status["engaged"], status["source"]) == (True, "state")
    assert (project / ".codeanatomy" / "killswitch.json").is_file()
    released = runner.invoke(app, ["release", "--actor", "bob", "--reason", "fixed"])
    assert released.exit_code == EXIT_OK
    status = _status()
    assert (status["engaged"], status["source"]) == (False, "default")
    audit = status["audit"]
    assert isinstance(audit, list)
    assert [(e["op"], e["actor"], e["previous_state"]) for e in audit] == [
        ("engage", "alice", "absent"),
        ("release", "bob", "engaged"),
    ]


@pytest.mark.parametrize(
    "args", [["engage"], ["engage", "--reason", ""], ["engage", "--reason", " "]]
)
def test_engage_without_a_reason_is_a_usage_error(project: Path, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_USAGE
    assert not (project / ".codeanatomy" / "killswitch.json").exists()


def test_state_dir_comes_from_the_config(project: Path) -> None:
    (project / "codeanatomy.toml").write_text('[engine]\nstate_dir = "ops/ks"\n', encoding="utf-8")
    result = runner.invoke(app, ["engage", "--reason", "r", "--json"])
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout)["state_dir"] == str(project / "ops" / "ks")
    assert state_path(project / "ops" / "ks").is_file()


def test_the_actor_defaults_to_the_user(project: Path) -> None:
    result = runner.invoke(app, ["engage", "--reason", "r", "--json"], env={"USER": "carol"})
    assert json.loads(result.stdout)["entry"]["actor"] == "carol"


def test_default_actor_falls_back_in_order() -> None:
    assert default_actor({"USER": "u", "LOGNAME": "l"}) == "u"
    assert default_actor({"USER": " ", "LOGNAME": "l"}) == "l"
    assert default_actor({}) != ""


def test_release_warns_when_another_layer_still_engages(project: Path) -> None:
    runner.invoke(app, ["engage", "--reason", "r"])
    result = runner.invoke(app, ["release"], env={"CODEANATOMY_KILL_SWITCH": "legacy"})
    assert result.exit_code == EXIT_OK
    assert "still engaged by env" in result.stderr


def test_status_reports_a_corrupt_state_file_as_engaged_and_exits_zero(project: Path) -> None:
    folder = project / ".codeanatomy"
    folder.mkdir()
    state_path(folder).write_text("{oops", encoding="utf-8")
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == EXIT_OK
    status = json.loads(result.stdout)
    assert (status["engaged"], status["source"]) == (True, "state")
    assert [w["code"] for w in status["warnings"]] == ["KILLSWITCH_STATE_CORRUPT"]
    assert "KILLSWITCH_STATE_CORRUPT" in result.stderr


def test_status_shows_the_env_layer(project: Path) -> None:
    status = _status(env={"CODEANATOMY_KILL_SWITCH": "legacy"})
    assert (status["engaged"], status["source"]) == (True, "env")


def test_status_text_names_the_deciding_layer(project: Path) -> None:
    runner.invoke(app, ["engage", "--reason", "sev1 in parity", "--actor", "dave"])
    result = runner.invoke(app, ["status"])
    assert result.stdout.startswith("kill switch: ENGAGED (decided by state: engaged by dave at ")
    assert "engage  by dave@" in result.stdout


def test_a_broken_config_blocks_engage_unless_state_dir_is_given(project: Path) -> None:
    (project / "codeanatomy.toml").write_text('[engine]\nbackend = "rus"\n', encoding="utf-8")
    refused = runner.invoke(app, ["engage", "--reason", "r"])
    assert refused.exit_code == EXIT_USAGE
    assert "--state-dir" in refused.stderr
    forced = runner.invoke(app, ["engage", "--reason", "r", "--state-dir", "ks"])
    assert forced.exit_code == EXIT_OK, forced.output
    assert state_path(project / "ks").is_file()


def test_status_with_a_broken_config_still_decides_and_exits_2(project: Path) -> None:
    (project / "codeanatomy.toml").write_text('[engine]\nbackend = "rus"\n', encoding="utf-8")
    result = runner.invoke(app, ["status", "--json"], env={"CODEANATOMY_KILL_SWITCH": "1"})
    assert result.exit_code == EXIT_USAGE
    status = json.loads(result.stdout)
    assert (status["engaged"], status["source"]) == (True, "env")
    assert status["config_errors"]
