"""Gateway routing (DESIGN §8): kill switch > request > config (and its env layer) > default,
with a legacy fallback when the Rust extension cannot load."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.load import load_text
from harness.killswitch.state import engage
from harness.route import Mode, decide_route


def _config(tmp_path: Path, text: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    file = tmp_path / "codeanatomy.toml"
    file.write_text(text)
    return load_text(text, file=file, root=tmp_path, env=env or {})


def _ok() -> None:
    return None


def test_the_default_is_legacy(tmp_path: Path) -> None:
    route = decide_route(_config(tmp_path), env={}, rust_problem=_ok)
    assert (route.mode, route.primary, route.source) == ("legacy", "legacy", "default")


def test_the_config_chooses_the_backend(tmp_path: Path) -> None:
    route = decide_route(
        _config(tmp_path, '[engine]\nbackend = "rust"\n'), env={}, rust_problem=_ok
    )
    assert (route.mode, route.source) == ("rust", "config")


def test_the_environment_layer_of_the_config_wins_over_the_file(tmp_path: Path) -> None:
    config = _config(
        tmp_path, '[engine]\nbackend = "legacy"\n', env={"CODEANATOMY_BACKEND": "rust"}
    )
    route = decide_route(config, env={}, rust_problem=_ok)
    assert route.primary == "rust"
    assert "CODEANATOMY_BACKEND" in route.reason


def test_a_request_wins_over_the_config(tmp_path: Path) -> None:
    route = decide_route(
        _config(tmp_path, '[engine]\nbackend = "legacy"\n'), "rust", env={}, rust_problem=_ok
    )
    assert (route.primary, route.source) == ("rust", "request")


@pytest.mark.parametrize("requested", ["rust", "shadow", None])
def test_the_environment_kill_switch_wins_over_everything(
    tmp_path: Path, requested: Mode | None
) -> None:
    config = _config(tmp_path, '[engine]\nbackend = "rust"\n')
    route = decide_route(
        config, requested, env={"CODEANATOMY_KILL_SWITCH": "legacy"}, rust_problem=_ok
    )
    assert (route.mode, route.primary, route.candidate, route.source) == (
        "legacy",
        "legacy",
        None,
        "kill_switch",
    )


def test_an_engaged_state_file_takes_effect_on_the_next_decision(tmp_path: Path) -> None:
    config = _config(tmp_path, '[engine]\nbackend = "rust"\n')
    assert decide_route(config, env={}, rust_problem=_ok).primary == "rust"
    engage(config.state_dir, actor="oncall", reason="bad answers")
    route = decide_route(config, env={}, rust_problem=_ok)
    assert (route.primary, route.source) == ("legacy", "kill_switch")
    assert "bad answers" in route.reason


def test_an_unloadable_rust_extension_falls_back_to_legacy(tmp_path: Path) -> None:
    route = decide_route(
        _config(tmp_path, '[engine]\nbackend = "rust"\n'), env={}, rust_problem=lambda: "no .so"
    )
    assert (route.mode, route.primary, route.source) == ("legacy", "legacy", "fallback")
    assert "no .so" in route.reason


def test_shadow_mode_names_primary_and_candidate(tmp_path: Path) -> None:
    route = decide_route(_config(tmp_path, "[engine]\nshadow = true\n"), env={}, rust_problem=_ok)
    assert (route.mode, route.primary, route.candidate) == ("shadow", "legacy", "rust")
