"""Option types and app set-up shared by every ``codeanatomy`` sub-command module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

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


def emit_json(value: object) -> None:
    """Print ``value`` as indented JSON on stdout (every command's ``--json``)."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")
