"""Option types and app set-up shared by every ``codeanatomy`` sub-command module, and the one
way a user's mistake ends a command (exit 2, a line on stderr, a JSON error under ``--json``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Annotated

import msgspec
import typer

from harness.boundary import UsageError
from harness.config.model import ConfigError
from harness.exit_codes import EXIT_USAGE

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON result.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The configuration file (default: found from the working folder)."
    ),
]


def sub_app(help_text: str) -> typer.Typer:
    """A Typer app configured like the top-level one (no completion, plain tracebacks)."""
    return typer.Typer(
        help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


def _enc_hook(value: object) -> object:
    # Results are dataclasses and structs that may hold paths (golden fetch's archive and
    # source root); msgspec has no built-in encoding for them, JSON has strings.
    if isinstance(value, PurePath):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__} as JSON")


def emit_json(value: object) -> None:
    """Print ``value`` as indented JSON on stdout (every command's ``--json``)."""
    encoded = msgspec.json.encode(value, enc_hook=_enc_hook)
    sys.stdout.write(msgspec.json.format(encoded).decode() + "\n")


def usage_exit(exc: UsageError | ConfigError, json: bool) -> typer.Exit:
    """Report a user's mistake and return the exit (code 2) to raise.

    One line ``error: <message>`` on stderr always; under ``--json`` also the object
    ``{"error": {"code", "message"}}`` on stdout, so that a script reading stdout gets JSON
    whatever happened.
    """
    if isinstance(exc, ConfigError):
        code, message = exc.code, str(exc)
    else:
        code, message = exc.code, exc.message
    if json:
        emit_json({"error": {"code": code, "message": message}})
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


@contextmanager
def usage_errors(json: bool) -> Iterator[None]:
    """Turn a :class:`UsageError` (a bad path, an invalid policy) or a :class:`ConfigError`
    raised in the block into exit 2 (see :func:`usage_exit`)."""
    try:
        yield
    except (UsageError, ConfigError) as exc:
        raise usage_exit(exc, json) from exc
