"""``--incremental`` of ``shadow``, ``golden shadow`` and ``build --backend shadow``: one option
(``IncrementalOpt``), one help text, and each command hands it to the shadow run's
:class:`ShadowOptions`; a build that cannot compare (one backend) refuses it or says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import UsageError
from harness.exit_codes import EXIT_USAGE
from harness.gateway import GraphProductBuildRequest
from harness.shadow.runner import ShadowOptions

ROOT = Path(__file__).parents[2]
runner = CliRunner()


def _option(path: tuple[str, ...]) -> Any:
    """The ``--incremental`` parameter of the command at ``path`` (typer's click objects)."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    (option,) = [p for p in command.params if "--incremental" in p.opts]
    return option


def test_the_three_commands_share_one_incremental_option() -> None:
    options = [_option(p) for p in (("shadow",), ("golden", "shadow"), ("build",))]
    helps = {o.help for o in options}
    assert len(helps) == 1, helps
    (text,) = helps
    assert text is not None and "OUT/fresh" in text and "previous state" in text
    assert all(o.is_flag and o.default is False for o in options)


@pytest.mark.parametrize(("flag", "expected"), [((), False), (("--incremental",), True)])
def test_golden_shadow_hands_the_option_to_the_shadow_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: tuple[str, ...], expected: bool
) -> None:
    import harness.shadow.cli as shadow_cli

    seen: list[tuple[list[Path], ShadowOptions]] = []

    def run_parity(
        repos: list[Path],
        folder: Path,
        config: object,
        policy: object,
        options: ShadowOptions,
        *_: object,
    ) -> None:
        seen.append((repos, options))

    monkeypatch.setattr(shadow_cli, "run_parity", run_parity)
    result = runner.invoke(app, ["golden", "shadow", "--out", str(tmp_path / "run"), *flag])
    assert result.exit_code == 0, result.output
    ((repos, options),) = seen
    assert options.incremental is expected
    # Every golden repository, as without the option: it only adds a check.
    assert repos and all(r.is_dir() for r in repos)


@pytest.mark.parametrize(("flag", "expected"), [((), False), (("--incremental",), True)])
def test_build_hands_the_option_to_the_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: tuple[str, ...], expected: bool
) -> None:
    from harness import gateway

    seen: list[GraphProductBuildRequest] = []

    def build_graph_product(request: GraphProductBuildRequest) -> None:
        seen.append(request)
        raise UsageError("STOP", "recorded, not built")

    monkeypatch.setattr(gateway, "build_graph_product", build_graph_product)
    repo = ROOT / "golden_repos" / "callgraph"
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["build", str(repo), "--out", str(out), "--backend", "shadow", *flag, "--json"]
    )
    assert result.exit_code == EXIT_USAGE and "STOP" in result.stdout, result.output
    (request,) = seen
    assert request.backend == "shadow" and request.shadow.incremental is expected


@pytest.mark.parametrize("backend", ["legacy", "rust"])
def test_build_refuses_incremental_with_one_backend(tmp_path: Path, backend: str) -> None:
    repo = ROOT / "golden_repos" / "callgraph"
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["build", str(repo), "--out", str(out), "--backend", backend, "--incremental", "--json"],
    )
    assert result.exit_code == EXIT_USAGE, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "OPTION_NOT_APPLICABLE"
    assert "--incremental" in error["message"] and backend in error["message"]
    assert not out.exists() or not any(out.iterdir()), "refused before any build"


def test_build_routed_to_one_backend_says_nothing_was_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No --backend: the route is the configuration's; here the kill switch forces legacy alone.
    repo = tmp_path / "callgraph"
    shutil.copytree(ROOT / "golden_repos" / "callgraph", repo)
    monkeypatch.setenv("CODEANATOMY_KILL_SWITCH", "1")
    result = runner.invoke(
        app, ["build", str(repo), "--out", str(tmp_path / "run"), "--incremental", "--no-scip"]
    )
    assert result.exit_code == 0, result.output
    assert "--incremental compared nothing" in result.stderr, result.stderr
    assert "served by legacy alone" in result.stderr
    assert "INCREMENTAL_" not in result.stdout
