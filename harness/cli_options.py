"""Option types and app set-up shared by every ``codeanatomy`` sub-command module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
