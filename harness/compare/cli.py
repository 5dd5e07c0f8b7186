"""``codeanatomy compare RUN_A RUN_B``: stage-by-stage parity of two run directories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.boundary import run_dir
from harness.cli_options import JsonOpt, emit_json, usage_errors
from harness.compare.model import SEVERITY_ORDER
from harness.exit_codes import EXIT_GATE_FAILED

err = Console(stderr=True)


def compare(
    run_a: Annotated[Path, typer.Argument(help="The primary run directory.")],
    run_b: Annotated[Path, typer.Argument(help="The candidate run directory.")],
    json: JsonOpt = False,
) -> None:
    """Compare two runs (evidence, views, outputs); exit 1 on a sev1/sev2 mismatch."""
    from harness.compare.runs import compare_runs

    # A folder without run.json would compare as fifteen missing tables (sev1): a user's
    # mistake reported as a parity failure. It is refused here instead (exit 2).
    with usage_errors(json):
        primary, candidate = run_dir(run_a), run_dir(run_b)
    result = compare_runs(primary, candidate)
    if json:
        emit_json(result)
    else:
        table = Table(title=f"{run_a} vs {run_b}: {result.severity}")
        for col in ("stage", "table", "severity", "reasons"):
            table.add_column(col)
        for v in result.tables:
            if v.severity != "ok":
                table.add_row(v.stage, v.table, v.severity, "; ".join(v.reasons))
        Console().print(table)
        for w in result.warnings:
            typer.echo(f"warning {w.code}: {w.primary} vs {w.candidate}")
        typer.echo(f"first divergent stage: {result.first_divergent_stage or 'none'}")
    if SEVERITY_ORDER[result.severity] >= SEVERITY_ORDER["sev2"]:
        raise typer.Exit(EXIT_GATE_FAILED)
