"""``codeanatomy config show|validate|migrate|init``: thin commands over harness.config.

An invalid configuration is reported here as every problem of it (``--json``:
``{"valid": false, "problems": [...]}``), not as the one-line error of the other commands.

Exit codes (harness.exit_codes): 0 ok (including "nothing to migrate"), 2 invalid
configuration or usage error, 4 internal error (an I/O failure while writing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from harness.cli_options import ConfigOpt, JsonOpt, emit_json, sub_app
from harness.config.discover import find_config
from harness.config.load import LoadedConfig, load_config
from harness.config.migrate import MigrationOutcome, migrate_file
from harness.config.model import ConfigError
from harness.config.template import DEFAULT_CONFIG_TOML, write_text_atomic
from harness.exit_codes import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE

app = sub_app("Show, validate, migrate or create the codeanatomy configuration.")


def _fail(exc: ConfigError, json: bool) -> typer.Exit:
    if json:
        emit_json({"valid": False, "problems": exc.problems})
    for problem in exc.problems:
        typer.echo(f"error: {problem}", err=True)
    return typer.Exit(EXIT_USAGE)


def _echo_warnings(loaded: LoadedConfig) -> None:
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command()
def show(config: ConfigOpt = None, json: JsonOpt = False) -> None:
    """Print the effective configuration and where each value came from."""
    try:
        loaded = load_config(config, locate=True)
    except ConfigError as exc:
        raise _fail(exc, json) from None
    values = _flatten(msgspec.to_builtins(loaded.config))
    if json:
        emit_json(
            {
                "file": loaded.file,
                "root": loaded.root,
                "state_dir": loaded.state_dir,
                "values": {
                    key: {"value": values[key], **msgspec.to_builtins(source)}
                    for key, source in loaded.sources.items()
                },
                "warnings": loaded.warnings,
            }
        )
        return
    typer.echo(f"# config file: {loaded.file or 'none (defaults)'}")
    typer.echo(f"# state_dir:   {loaded.state_dir}")
    width = max(len(key) for key in values)
    for key, source in loaded.sources.items():
        shown = msgspec.json.encode(values[key]).decode()
        typer.echo(f"{key:<{width}} = {shown:<24} # {_where(loaded, source)}")
    _echo_warnings(loaded)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    from harness.storage import shown_options

    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if dotted == "storage.storage_options":
            flat[dotted] = shown_options(value)  # one value; credentials hidden
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _where(loaded: LoadedConfig, source: Any) -> str:
    if source.kind == "default":
        return "default"
    if source.kind == "env":
        return f"env {source.key}"
    line = f":{source.line}" if source.line is not None else ""
    return f"file {loaded.file}{line} {source.key}"


@app.command()
def validate(config: ConfigOpt = None, json: JsonOpt = False) -> None:
    """Check the configuration; exit 0 when valid (warnings allowed), 2 when not."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        raise _fail(exc, json) from None
    if json:
        emit_json({"valid": True, "file": loaded.file, "warnings": loaded.warnings})
    else:
        typer.echo(f"ok: {loaded.file or 'no configuration file (defaults)'}")
    _echo_warnings(loaded)


@app.command()
def init(
    path: Annotated[
        Path, typer.Option("--path", metavar="FILE", help="Where to write the file.")
    ] = Path("codeanatomy.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    json: JsonOpt = False,
) -> None:
    """Write a commented codeanatomy.toml holding every default (never overwrites silently)."""
    if path.exists() and not force:
        typer.echo(f"error: {path} exists; pass --force to overwrite it", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        write_text_atomic(path, DEFAULT_CONFIG_TOML)
    except OSError as exc:
        typer.echo(f"error: cannot write {path}: {exc}", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None
    if json:
        emit_json({"written": path})
    else:
        typer.echo(f"wrote {path}")


@app.command()
def migrate(
    config: ConfigOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the unified diff; write nothing.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Rewrite a legacy [hamilton] section into [engine]/[extract], keeping comments."""
    path = config if config is not None else find_config(Path.cwd())[0]
    if path is None or not path.is_file():
        if config is not None:
            typer.echo(f"error: {config}: no such file", err=True)
            raise typer.Exit(EXIT_USAGE)
        outcome = MigrationOutcome(status="nothing", file=None)
    else:
        try:
            outcome = migrate_file(path, dry_run=dry_run)
        except ConfigError as exc:
            raise _fail(exc, json) from None
        except OSError as exc:
            typer.echo(f"error: {path}: {exc}", err=True)
            raise typer.Exit(EXIT_INTERNAL) from None
    if json:
        emit_json(outcome)
    else:
        _print_outcome(outcome)
    if outcome.status == "invalid":
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_OK)


def _print_outcome(outcome: MigrationOutcome) -> None:
    if outcome.status == "nothing":
        typer.echo(f"nothing to migrate ({outcome.file or 'no configuration file'})")
        return
    if outcome.status == "dry_run":
        typer.echo(outcome.diff, nl=False)
        return
    if outcome.status == "invalid":
        typer.echo("error: the migrated configuration would be invalid; nothing written", err=True)
        for problem in outcome.problems:
            typer.echo(f"error: {problem}", err=True)
        return
    assert outcome.mapping is not None
    typer.echo(f"migrated {outcome.file}")
    for a in outcome.mapping.assignments:
        typer.echo(f"  [hamilton].{a.source_key} -> [{a.section}].{a.key}")
    for d in outcome.mapping.dropped:
        typer.echo(f"  [hamilton].{d.source_key} removed (kept as a comment): {d.reason}")
