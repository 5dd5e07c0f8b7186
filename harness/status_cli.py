"""``codeanatomy status`` and ``codeanatomy release checklist``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.boundary import out_dir
from harness.cli_options import ConfigOpt, JsonOpt, configured, emit_json, sub_app, usage_errors
from harness.exit_codes import EXIT_GATE_FAILED

PROJECT = Path(__file__).resolve().parents[1]
release_app = sub_app("Release evidence.")


def status(config: ConfigOpt = None, json: JsonOpt = False) -> None:
    """The migration phase, which gates pass, the kill switch, and the next phase's blockers."""
    from harness.status import status as compute

    result = compute(configured(config, json), PROJECT)
    if json:
        emit_json(result)
        return
    typer.echo(f"phase {result.phase_name}")
    for p in result.phases:
        typer.echo(f"  [{'x' if p.done else ' '}] {p.name}")
    ks = result.kill_switch
    typer.echo(
        f"kill switch: {'ENGAGED' if ks['engaged'] else 'released'} "
        f"({ks['source']}: {ks['detail']})"
    )
    for g in result.gates:
        state = "never run" if g.passed is None else ("pass" if g.passed else "FAIL")
        typer.echo(
            f"gate {g.gate}: {state}" + (f" ({g.age_h} h ago)" if g.age_h is not None else "")
        )
    for b in result.next_blockers:
        typer.echo(f"blocker: {b}")


@release_app.command("checklist")
def release_checklist(
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="Where checklist.md and checklist.json go."),
    ] = "reports/release",
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Gather the latest gate verdicts into one pass/fail checklist (stale evidence fails)."""
    from harness.release import checklist, render, write_checklist

    loaded = configured(config, json)
    with usage_errors(json):
        folder = out_dir(out, create=True)
    result = checklist(loaded)
    write_checklist(folder, result)
    if json:
        emit_json(result)
    else:
        sys.stdout.write(render(result))
    if not result.passed:
        raise typer.Exit(EXIT_GATE_FAILED)
