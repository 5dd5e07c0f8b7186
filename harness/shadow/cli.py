"""``codeanatomy shadow REPO... --out DIR``: both backends side by side, compared, reported.

Exit 0 iff no sev1/sev2 finding beyond the configured thresholds (allow-listed differences do
not count; an expired allow-list entry does). Reports go to ``OUT/report/``.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.boundary import UsageError, out_dir, repo_dirs
from harness.cli_options import (
    ConfigOpt,
    JsonOpt,
    emit_json,
    engine_exit,
    print_error,
    usage_errors,
)
from harness.exit_codes import EXIT_GATE_FAILED

if TYPE_CHECKING:
    from harness.config.load import LoadedConfig

CandidateTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--candidate-timeout",
        "--timeout",
        metavar="SECONDS",
        help="Seconds before the candidate is killed (default: [engine] candidate_timeout_s).",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Write into an --out folder that holds files of others."),
]


def candidate_timeout(value: float | None, config: LoadedConfig) -> float:
    """The candidate's time limit: ``--candidate-timeout``, else the configuration's.

    UsageError (exit 2) naming the option for a value that is not positive and finite
    (``inf``, ``nan``, ``1e308`` included: such a limit would overflow the timers).
    """
    from harness.run.request import check_candidate_timeout

    if value is None:
        return config.config.engine.candidate_timeout_s
    try:
        return check_candidate_timeout(value)
    except ValueError as exc:
        raise UsageError("USAGE", f"--candidate-timeout {exc}") from exc


def shadow(
    repos: Annotated[
        list[Path], typer.Argument(metavar="REPO", help="Repository roots (never imported).")
    ],
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="Output folder (one run per repo, report/)."),
    ],
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Each backend extracts on its own; compare evidence.")
    ] = False,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", metavar="FILE", help="Parity policy TOML (tolerances, allow-list)."
        ),
    ] = None,
    order: Annotated[
        str, typer.Option(metavar="ORDER", help="random, primary_first or candidate_first.")
    ] = "random",
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed of the random order.")] = None,
    timeout: CandidateTimeoutOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Raise on any candidate failure (tests, CI).")
    ] = False,
    noise: Annotated[
        bool, typer.Option("--noise", help="Run the primary twice; report volatile tables.")
    ] = False,
    force: ForceOpt = False,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run the primary and candidate backends on each repo, compare stage by stage, report."""
    from harness.compare.policy import configured_policy, load_policy
    from harness.config.load import load_config
    from harness.run.errors import EngineFailure
    from harness.run.lock import hold_out_folder
    from harness.shadow.runner import ShadowError, ShadowOptions
    from harness.shadow.suite import run_suite

    with ExitStack() as stack:
        with usage_errors(json):
            if order not in ("random", "primary_first", "candidate_first"):
                raise UsageError(
                    "USAGE", f"--order {order!r}: random, primary_first or candidate_first"
                )
            roots = repo_dirs(repos)
            # A PolicyError is a UsageError: an invalid policy is refused before any build.
            loaded = load_config(config)
            limit = candidate_timeout(timeout, loaded)
            parity_policy = load_policy(policy) if policy else configured_policy(loaded)
            folder = out_dir(out, create=True)
            # Held until the reports are written: one writer per run folder.
            stack.enter_context(hold_out_folder(folder, "codeanatomy shadow", force=force))
        options = ShadowOptions(
            isolated=isolated,
            order=order,  # type: ignore[arg-type]
            seed=seed,
            candidate_timeout_s=limit,
            strict=strict,
            rules=parity_policy.rules(),
            noise_baseline=noise,
        )
        from harness.cli import _progress, _progress_callback

        try:
            with _progress(not json) as bar:
                report, paths = run_suite(
                    list(roots),
                    folder,
                    loaded,
                    parity_policy,
                    options,
                    quiet=json,
                    progress=_progress_callback(bar),
                )
        except EngineFailure as exc:
            raise engine_exit(exc, json, "primary") from exc
        except ShadowError as exc:
            print_error(f"strict shadow failure: {exc}")
            raise typer.Exit(EXIT_GATE_FAILED) from exc
    if json:
        emit_json(report)
    else:
        sys.stdout.write(paths["markdown"].read_text(encoding="utf-8"))
        typer.echo(f"reports: {paths['html'].parent}")
    if report.verdict != "pass":
        raise typer.Exit(EXIT_GATE_FAILED)
