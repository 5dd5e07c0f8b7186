"""The command line's conventions: every ``--help`` shows its text as written and names every
option, ``--version``, shell completion, and output that neither wraps nor animates in CI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from harness.cli import app
from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK

runner = CliRunner()


def _commands() -> Iterator[tuple[tuple[str, ...], TyperCommand | TyperGroup]]:
    """Every command and sub-command of the click tree, with its path from the root."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    todo: list[tuple[tuple[str, ...], TyperCommand | TyperGroup]] = [((), root)]
    while todo:
        path, command = todo.pop(0)
        yield path, command
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                assert isinstance(sub, TyperCommand | TyperGroup)
                todo.append(((*path, name), sub))


COMMANDS = list(_commands())
IDS = [" ".join(path) or "codeanatomy" for path, _ in COMMANDS]
# What typer would print for an option or argument without a METAVAR: its Python type.
TYPE_LABEL = re.compile(r"<(?:[a-z]+(?: range)?|list\[[^\]]*\]|[A-Z]\w*)>")
BRACKETED = re.compile(r"\[[^\]\s][^\]]*\]")


def _help(path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == EXIT_OK, result.output
    return result.output


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_tree_holds_every_documented_command() -> None:
    assert {"build", "shadow", "extract", "config migrate", "golden fetch"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_shows_every_bracketed_word_of_its_source(
    path: tuple[str, ...], command: TyperCommand | TyperGroup
) -> None:
    """Rich markup would take "[hamilton]" or "[gates].out" for a style and drop it."""
    shown = _flat(_help(path))
    sources = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for text in sources:
        for word in BRACKETED.findall(_flat(text)):
            assert word in shown, f"{word!r} of {text!r} missing from the help"
    assert "\\[" not in shown  # no escape left over from a markup workaround


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_names_no_python_type(
    path: tuple[str, ...], command: TyperCommand | TyperGroup
) -> None:
    text = _help(path)
    assert "<list[" not in text
    assert "<bool>" not in text
    assert not TYPE_LABEL.search(text), TYPE_LABEL.search(text)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_option_and_argument_has_a_help_text(
    path: tuple[str, ...], command: TyperCommand | TyperGroup
) -> None:
    assert (command.help or "").strip(), f"{IDS[COMMANDS.index((path, command))]}: no docstring"
    for param in command.params:
        text = getattr(param, "help", None) or ""
        assert text.strip(), f"{param.opts or param.name} has no help text"


def test_version_option_prints_what_the_version_command_prints() -> None:
    option = runner.invoke(app, ["--version"])
    command = runner.invoke(app, ["version"])
    assert option.exit_code == command.exit_code == EXIT_OK, option.output
    assert option.stdout == command.stdout
    assert option.stdout.startswith("codeanatomy: ")


def test_shell_completion_is_offered_and_scripted() -> None:
    assert "--install-completion" in _help(())
    result = runner.invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == EXIT_OK, result.output
    assert "_CODEANATOMY_COMPLETE=complete_bash" in result.stdout


def _blocked_project(tmp_path: Path) -> Path:
    package = tmp_path / "project" / "some" / "deeply" / "nested" / "package"
    package.mkdir(parents=True)
    (package / "module_with_a_rather_long_name.py").write_text("import hamilton.driver\n")
    return tmp_path / "project"


def test_tables_off_a_terminal_are_not_wrapped(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preflight", str(_blocked_project(tmp_path))])
    assert result.exit_code == EXIT_GATE_FAILED, result.output
    row = next(line for line in result.stdout.splitlines() if "hamilton.driver" in line)
    assert "some/deeply/nested/package/module_with_a_rather_long_name.py:1:0" in row
    assert "route callers through harness.gateway.build_graph_product" in row


def test_no_progress_bar_under_ci(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mod.py").write_text("x = 1\n")
    # FORCE_COLOR makes rich take the captured stream for a terminal, as on some CI runners.
    env = {"CI": "true", "FORCE_COLOR": "1"}
    args = ["extract", str(repo), "--out", str(tmp_path / "out"), "--no-cache", "--only", "ast"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == EXIT_OK, result.output
    assert "\x1b[?25l" not in result.stderr  # a live progress display hides the cursor
    assert "━" not in result.stderr
