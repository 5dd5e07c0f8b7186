"""``codeanatomy killswitch engage|release|status``: thin commands over harness.killswitch.

Exit codes (harness.exit_codes): 0 ok; 2 usage or configuration error (empty reason, invalid
config without ``--state-dir``, a state folder that is a file or cannot be written, a reason
or actor that is not UTF-8 text).
``status`` exits 0 when the state file is corrupt (it reports it; the switch counts as
engaged, fail safe) and 2 when the configuration is invalid (after printing the decision of
the environment and state layers, which do not need it).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, NamedTuple

import typer

from harness.cli_options import ConfigOpt, JsonOpt, emit_json, sub_app
from harness.config.discover import find_config
from harness.config.load import LoadedConfig, load_config
from harness.config.model import DEFAULT_STATE_DIR, ConfigError
from harness.exit_codes import EXIT_USAGE
from harness.killswitch.audit import audit_path, read_audit
from harness.killswitch.decision import ENV_KILL_SWITCH, KillSwitchDecision, config_layer, decide
from harness.killswitch.state import (
    KILLSWITCH_AUDIT_CORRUPT,
    KillSwitchError,
    Transition,
    engage,
    release,
    state_path,
)

app = sub_app("The rollback kill switch: engage it to serve every build from the legacy backend.")

StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        metavar="DIR",
        help="Kill-switch state folder (default: [engine].state_dir).",
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", metavar="NAME", help="Who acts (default: $USER or the login name)."),
]


def default_actor(env: Mapping[str, str]) -> str:
    """The operator's name: $USER, $LOGNAME, then the login name, else ``unknown``."""
    for name in ("USER", "LOGNAME"):
        value = env.get(name, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # KeyError/OSError when the uid has no passwd entry (containers)
        return "unknown"


class _Context(NamedTuple):
    """The configuration (None when it does not load) and the state folder to use."""

    loaded: LoadedConfig | None
    state_dir: Path
    errors: tuple[str, ...]


def _context(config: Path | None, state_dir: Path | None, env: Mapping[str, str]) -> _Context:
    try:
        loaded: LoadedConfig | None = load_config(config, env=env)
        errors: tuple[str, ...] = ()
    except ConfigError as exc:
        loaded, errors = None, tuple(str(p) for p in exc.problems)
    if state_dir is not None:
        folder = state_dir.absolute()
    elif loaded is not None:
        folder = loaded.state_dir
    else:  # the configured folder is unknowable; show the default one
        root = config.parent if config is not None else find_config(Path.cwd())[1]
        folder = (root / DEFAULT_STATE_DIR).absolute()
    return _Context(loaded, folder, errors)


def _unusable_state_dir(folder: Path, *, writing: bool) -> str | None:
    """Why ``folder`` cannot hold the kill switch's state (None when it can): a file where the
    folder, the state file or the audit log belongs. A user's mistake (exit 2), not ours."""
    for parent in (folder, *folder.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    log = audit_path(folder)
    if log.exists() and not log.is_file():
        return f"the audit log {log} is not a file"
    if writing and state_path(folder).is_dir():
        return f"the state file {state_path(folder)} is a folder"
    return None


def _text(value: str, what: str) -> str:
    """``value`` as UTF-8 text; exit 2 when the command line gave bytes that are not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        typer.echo(f"error: the {what} is not valid UTF-8 text", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    return value


def _refuse_unusable(folder: Path, *, writing: bool) -> None:
    problem = _unusable_state_dir(folder, writing=writing)
    if problem is not None:
        typer.echo(f"error: kill-switch state folder {folder}: {problem}", err=True)
        raise typer.Exit(EXIT_USAGE)


def _decide(context: _Context, env: Mapping[str, str]) -> KillSwitchDecision:
    if context.loaded is None:
        engaged, origin = None, "configuration could not be loaded"
    else:
        engaged, origin = config_layer(context.loaded)
    return decide(
        state_dir=context.state_dir, config_engaged=engaged, config_origin=origin, env=env
    )


def _operate(
    op: str,
    *,
    config: Path | None,
    state_dir: Path | None,
    actor: str | None,
    reason: str,
    json: bool,
) -> None:
    env = os.environ
    context = _context(config, state_dir, env)
    if context.errors and state_dir is None:
        for error in context.errors:
            typer.echo(f"error: {error}", err=True)
        typer.echo(f"hint: pass --state-dir, or set {ENV_KILL_SWITCH}=legacy", err=True)
        raise typer.Exit(EXIT_USAGE)
    _refuse_unusable(context.state_dir, writing=True)
    who = _text(actor if actor is not None else default_actor(env), "actor")
    reason = _text(reason, "reason")
    action = engage if op == "engage" else release
    try:
        transition: Transition = action(context.state_dir, actor=who, reason=reason)
    except KillSwitchError as exc:
        typer.echo(f"error: {exc.code}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:  # a read-only or full disk: the operator's to fix, not a bug
        typer.echo(f"error: cannot update the kill switch in {context.state_dir}: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    decision = _decide(context, env)
    entry = transition.entry
    if json:
        emit_json({"entry": entry, "state_dir": context.state_dir, "effective": decision})
    else:
        typer.echo(
            f"{entry.op}: {entry.previous_state} -> {entry.new_state} by {entry.actor} "
            f"({context.state_dir})"
        )
    if decision.engaged != (entry.new_state == "engaged"):
        word = "engaged" if decision.engaged else "released"
        typer.echo(
            f"warning: the kill switch is still {word} by {decision.source}: {decision.detail}",
            err=True,
        )


@app.command("engage")
def engage_command(
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (required, non-empty).")
    ],
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    state_dir: StateDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Engage: every build from now on is served by the legacy backend (audited)."""
    _operate("engage", config=config, state_dir=state_dir, actor=actor, reason=reason, json=json)


@app.command("release")
def release_command(
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why (optional).")] = "",
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    state_dir: StateDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Release the kill switch (audited); the environment or config may still engage it."""
    _operate("release", config=config, state_dir=state_dir, actor=actor, reason=reason, json=json)


@app.command()
def status(
    config: ConfigOpt = None,
    state_dir: StateDirOpt = None,
    last: Annotated[
        int, typer.Option("--last", min=0, metavar="N", help="Audit entries to show.")
    ] = 5,
    json: JsonOpt = False,
) -> None:
    """Show whether the switch is engaged, which layer decided, and the last audit entries."""
    context = _context(config, state_dir, os.environ)
    _refuse_unusable(context.state_dir, writing=False)
    decision = _decide(context, os.environ)
    log = read_audit(audit_path(context.state_dir), last=last)
    if json:
        emit_json(
            {
                "engaged": decision.engaged,
                "source": decision.source,
                "detail": decision.detail,
                "warnings": decision.warnings,
                "state": decision.state,
                "state_dir": context.state_dir,
                "audit": log.entries,
                "audit_bad_lines": log.bad_lines,
                "config_errors": context.errors,
            }
        )
    else:
        word = "ENGAGED" if decision.engaged else "released"
        typer.echo(f"kill switch: {word} (decided by {decision.source}: {decision.detail})")
        typer.echo(f"state dir:   {context.state_dir}")
        for entry in log.entries:
            reason = f": {entry.reason}" if entry.reason else ""
            typer.echo(f"  {entry.at} {entry.op:<7} by {entry.actor}@{entry.host}{reason}")
    for warning in decision.warnings:
        typer.echo(f"warning: {warning.code}: {warning.message}", err=True)
    if log.bad_lines:
        typer.echo(f"warning: {KILLSWITCH_AUDIT_CORRUPT}: {log.bad_lines} bad line(s)", err=True)
    for error in context.errors:
        typer.echo(f"error: {error}", err=True)
    if context.errors:
        raise typer.Exit(EXIT_USAGE)
