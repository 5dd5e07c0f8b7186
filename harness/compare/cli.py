"""``codeanatomy compare RUN_A RUN_B``: stage-by-stage parity of two run directories."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from harness.boundary import run_dir
from harness.cli_options import (
    ConfigOpt,
    JsonOpt,
    configured,
    console,
    emit_json,
    engine_exit,
    input_run,
    usage_errors,
)
from harness.exit_codes import EXIT_GATE_FAILED

if TYPE_CHECKING:
    from harness.compare.result import Result


def compare(
    run_a: Annotated[
        str, typer.Argument(metavar="RUN_A", help="The primary run directory (or s3:// URI).")
    ],
    run_b: Annotated[
        str, typer.Argument(metavar="RUN_B", help="The candidate run directory (or s3:// URI).")
    ],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", metavar="FILE", help="Parity policy TOML (tolerances, allow-list)."
        ),
    ] = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Compare two runs (evidence, views, outputs) and judge them; exit 1 when the Result
    blocks (an unallowed sev1/sev2 finding, a failed evidence source, nothing compared)."""
    from harness.compare.policy import configured_policy, load_policy
    from harness.compare.result import judge
    from harness.compare.runs import compare_runs
    from harness.errors import EngineFailure
    from harness.run.manifest import read_manifest

    loaded = configured(config, json)
    with usage_errors(json):
        parity_policy = load_policy(policy) if policy else configured_policy(loaded)
    with ExitStack() as stack:
        # A run at an s3:// URI is downloaded into a temporary folder for the comparison.
        local_a = stack.enter_context(input_run(run_a, loaded, json))
        local_b = stack.enter_context(input_run(run_b, loaded, json))
        # A folder without run.json would compare as fifteen missing tables (sev1): a user's
        # mistake reported as a parity failure. It is refused here instead (exit 2).
        with usage_errors(json):
            primary, candidate = run_dir(local_a), run_dir(local_b)
        try:
            comparison = compare_runs(primary, candidate, parity_policy.rules())
        except EngineFailure as exc:  # a pinned Delta version gone, a damaged table (exit 3)
            raise engine_exit(exc, json) from exc
        result = judge(
            subject=f"{_name(run_a)} vs {_name(run_b)}",
            comparison=comparison,
            primary=read_manifest(primary / "run.json"),
            candidate=read_manifest(candidate / "run.json"),
            policy=parity_policy,
        )
    if json:
        emit_json({"result": result, "comparison": comparison})
    else:
        _print(result, f"{run_a} vs {run_b}")
    if result.blocks:
        raise typer.Exit(EXIT_GATE_FAILED)


def _name(run: str) -> str:
    """The last part of a run's path or URI (the subject of the Result)."""
    from harness.storage import is_uri

    return PurePosixPath(run.rstrip("/")).name if is_uri(run) else Path(run).resolve().name


def _print(result: Result, title: str) -> None:
    out = console()
    cov = result.coverage
    coverage = Table(title=f"coverage: {cov.tables_compared} tables compared")
    for col in ("stage", "tables compared", "rows primary", "rows candidate"):
        coverage.add_column(col)
    for stage, (n, a, b) in cov.stage_summary().items():
        coverage.add_row(stage, str(n), str(a), str(b))
    out.print(coverage)
    bad = cov.failed_sources()
    out.print(
        "evidence sources: "
        + (
            "all healthy"
            if not bad
            else ", ".join(f"{s.source} {s.health} ({s.side})" for s in bad)
        ),
        markup=False,
    )
    findings = Table(title=f"{title}: {result.severity}{' (blocks)' if result.blocks else ''}")
    for col in ("severity", "code", "where", "message"):
        findings.add_column(col)
    for f in result.findings:
        note = " (allowed)" if f.allowed_by else " (noise)" if f.noise else ""
        findings.add_row(f.severity + note, f.code, f"{f.stage}/{f.table}", f.message)
    out.print(findings)
    typer.echo(f"first divergent stage: {result.first_divergent_stage or 'none'}")
