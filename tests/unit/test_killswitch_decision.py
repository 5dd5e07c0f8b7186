"""Kill-switch precedence: env > engaged state file > config > default (DESIGN §8)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.config import LoadedConfig, load_text
from harness.killswitch import effective_kill_switch, engage, release
from harness.killswitch.state import (
    KILLSWITCH_ENV_UNRECOGNIZED,
    KILLSWITCH_STATE_CORRUPT,
    state_path,
)


def _clock() -> datetime:
    return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def _config(tmp_path: Path, kill_switch: str) -> LoadedConfig:
    text = f"[engine]\nkill_switch = {kill_switch}\nstate_dir = 'state'\n"
    return load_text(text, file=tmp_path / "codeanatomy.toml", root=tmp_path, env={})


def _set_state(tmp_path: Path, state: str) -> None:
    folder = tmp_path / "state"
    if state == "engaged":
        engage(folder, actor="ops", reason="incident", clock=_clock)
    elif state == "released":
        engage(folder, actor="ops", reason="incident", clock=_clock)
        release(folder, actor="ops", clock=_clock)
    elif state == "corrupt":
        folder.mkdir()
        state_path(folder).write_text('{"engaged": tru', encoding="utf-8")


@pytest.mark.parametrize(
    ("env", "state", "config", "engaged", "source"),
    [
        # nothing anywhere
        (None, "absent", "false", False, "default"),
        # each layer alone
        ("legacy", "absent", "false", True, "env"),
        ("1", "absent", "false", True, "env"),
        ("TRUE", "absent", "false", True, "env"),
        (None, "engaged", "false", True, "state"),
        (None, "absent", "true", True, "config"),
        (None, "absent", '"legacy"', True, "config"),
        # env wins over everything
        ("legacy", "released", "false", True, "env"),
        ("legacy", "engaged", "true", True, "env"),
        # a neutral env value never releases: the next layer decides
        ("0", "engaged", "false", True, "state"),
        ("false", "absent", "true", True, "config"),
        ("", "absent", "false", False, "default"),
        ("0", "absent", "false", False, "default"),
        # an engaged state file wins over config; a released one leaves config in charge
        (None, "engaged", "true", True, "state"),
        (None, "released", "true", True, "config"),
        (None, "released", "false", False, "default"),
        # fail safe: an unusable state file or an unknown env value engages
        (None, "corrupt", "false", True, "state"),
        ("maybe", "absent", "false", True, "env"),
    ],
)
def test_precedence(
    tmp_path: Path, env: str | None, state: str, config: str, engaged: bool, source: str
) -> None:
    _set_state(tmp_path, state)
    environ = {} if env is None else {"CODEANATOMY_KILL_SWITCH": env}
    decision = effective_kill_switch(_config(tmp_path, config), environ)
    assert (decision.engaged, decision.source) == (engaged, source)


def test_a_corrupt_state_file_is_engaged_with_a_warning(tmp_path: Path) -> None:
    _set_state(tmp_path, "corrupt")
    decision = effective_kill_switch(_config(tmp_path, "false"), {})
    assert [w.code for w in decision.warnings] == [KILLSWITCH_STATE_CORRUPT]
    assert "fail safe" in decision.warnings[0].message


def test_a_corrupt_state_file_is_still_reported_when_env_decides(tmp_path: Path) -> None:
    _set_state(tmp_path, "corrupt")
    env = {"CODEANATOMY_KILL_SWITCH": "legacy"}
    decision = effective_kill_switch(_config(tmp_path, "false"), env)
    assert decision.source == "env"
    assert [w.code for w in decision.warnings] == [KILLSWITCH_STATE_CORRUPT]


def test_an_unknown_env_value_warns(tmp_path: Path) -> None:
    env = {"CODEANATOMY_KILL_SWITCH": "rollback"}
    decision = effective_kill_switch(_config(tmp_path, "false"), env)
    assert [w.code for w in decision.warnings] == [KILLSWITCH_ENV_UNRECOGNIZED]


def test_each_call_reads_the_state_file_afresh(tmp_path: Path) -> None:
    config = _config(tmp_path, "false")
    assert not effective_kill_switch(config, {}).engaged
    engage(tmp_path / "state", actor="ops", reason="now", clock=_clock)
    after = effective_kill_switch(config, {})
    assert (after.engaged, after.source) == (True, "state")
    assert after.detail == "engaged by ops at 2030-01-02T03:04:05.000000Z: now"


def test_the_environment_mapping_is_read_on_each_call(tmp_path: Path) -> None:
    config = _config(tmp_path, "false")
    env: dict[str, str] = {}
    assert not effective_kill_switch(config, env).engaged
    env["CODEANATOMY_KILL_SWITCH"] = "legacy"
    assert effective_kill_switch(config, env).engaged
