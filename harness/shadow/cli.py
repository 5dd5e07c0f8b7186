"""``codeanatomy shadow REPO... --out DIR``: both backends side by side, compared, reported.

Exit 0 iff no sev1/sev2 finding beyond the configured thresholds (allow-listed differences do
not count; an expired allow-list entry does). Reports go to ``OUT/report/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.boundary import UsageError, out_dir, repo_dirs
from harness.cli_options import ConfigOpt, JsonOpt, emit_json, usage_errors
from harness.exit_codes import EXIT_ENGINE, EXIT_GATE_FAILED

err = Console(stderr=True)


def shadow(
    repos: Annotated[list[Path], typer.Argument(help="Repository roots (never imported).")],
    out: Annotated[str, typer.Option("--out", help="Output folder (one run per repo, report/).")],
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Each backend extracts on its own; compare evidence.")
    ] = False,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Parity policy TOML (tolerances, allow-list).")
    ] = None,
    order: Annotated[
        str, typer.Option(help="random, primary_first or candidate_first.")
    ] = "random",
    seed: Annotated[int | None, typer.Option(help="Seed of the random order.")] = None,
    timeout: Annotated[float, typer.Option(help="Candidate time limit in seconds.")] = 1800.0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Raise on any candidate failure (tests, CI).")
    ] = False,
    noise: Annotated[
        bool, typer.Option("--noise", help="Run the primary twice; report volatile tables.")
    ] = False,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run the primary and candidate backends on each repo, compare stage by stage, report."""
    from harness.compare.policy import configured_policy, load_policy
    from harness.config.load import load_config
    from harness.run.errors import EngineFailure
    from harness.shadow.runner import ShadowError, ShadowOptions
    from harness.shadow.suite import run_suite

    with usage_errors(json):
        if order not in ("random", "primary_first", "candidate_first"):
            raise UsageError(
                "USAGE", f"--order {order!r}: random, primary_first or candidate_first"
            )
        if timeout <= 0:
            # The candidate would be killed before it starts: every run a "timeout" finding.
            raise UsageError("USAGE", f"--timeout {timeout}: a number of seconds above 0")
        roots = repo_dirs(repos)
        # A PolicyError is a UsageError: an invalid policy is refused before any build.
        loaded = load_config(config)
        parity_policy = load_policy(policy) if policy else configured_policy(loaded)
        folder = out_dir(out, create=True)
    options = ShadowOptions(
        isolated=isolated,
        order=order,  # type: ignore[arg-type]
        seed=seed,
        candidate_timeout_s=timeout,
        strict=strict,
        rules=parity_policy.rules(),
        noise_baseline=noise,
    )
    try:
        report, paths = run_suite(list(roots), folder, loaded, parity_policy, options, quiet=json)
    except EngineFailure as exc:
        err.print(f"[red]{exc.code}[/] (primary {exc.backend}, stage {exc.stage}): {exc.message}")
        raise typer.Exit(EXIT_ENGINE) from exc
    except ShadowError as exc:
        err.print(f"[red]strict shadow failure:[/] {exc}")
        raise typer.Exit(EXIT_GATE_FAILED) from exc
    if json:
        emit_json(report)
    else:
        sys.stdout.write(paths["markdown"].read_text(encoding="utf-8"))
        typer.echo(f"reports: {paths['html'].parent}")
    if report.verdict != "pass":
        raise typer.Exit(EXIT_GATE_FAILED)
