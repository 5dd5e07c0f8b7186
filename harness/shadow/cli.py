"""``codeanatomy shadow REPO... --out DIR``: both backends side by side, compared, reported.

Exit 0 iff no sev1/sev2 finding beyond the configured thresholds (allow-listed differences do
not count; an expired allow-list entry does). Reports go to ``OUT/report/``. ``golden shadow``
runs the same suite the same way (:func:`run_parity`) over the golden repositories.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.boundary import repo_dirs
from harness.cli_options import (
    AddressOpt,
    ConfigOpt,
    ExecutorOpt,
    ForceOpt,
    IncrementalOpt,
    JsonOpt,
    configured,
    emit_json,
    engine_exit,
    output_folder,
    print_error,
    progress_bar,
    progress_hook,
    usage_errors,
    usage_exit,
)
from harness.errors import UsageError
from harness.exit_codes import EXIT_GATE_FAILED

if TYPE_CHECKING:
    from harness.compare.policy import ParityPolicy
    from harness.config.load import LoadedConfig
    from harness.gates.executor import Executor
    from harness.shadow.runner import ShadowOptions

CandidateTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--candidate-timeout",
        "--timeout",
        metavar="SECONDS",
        help="Seconds before the candidate is killed (default: [engine] candidate_timeout_s).",
    ),
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
    incremental: IncrementalOpt = False,
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
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run the primary and candidate backends on each repo, compare stage by stage, report."""
    from typing import get_args

    from harness.compare.policy import configured_policy, load_policy
    from harness.gates.executor import make_executor
    from harness.run.lock import hold_out_folder
    from harness.shadow.runner import Order, ShadowOptions

    with ExitStack() as stack:
        with usage_errors(json):
            if order not in get_args(Order):
                raise UsageError(
                    "USAGE", f"--order {order!r}: random, primary_first or candidate_first"
                )
            runner = make_executor(executor, address)
            roots = repo_dirs(repos)
            # A PolicyError is a UsageError: an invalid policy is refused before any build.
            loaded = configured(config, json)
            limit = candidate_timeout(timeout, loaded)
            parity_policy = load_policy(policy) if policy else configured_policy(loaded)
            # An s3:// --out is staged locally and published when the suite ends.
            folder = stack.enter_context(output_folder(out, loaded, json))
            # Held until the reports are written: one writer per run folder.
            stack.enter_context(hold_out_folder(folder, "codeanatomy shadow", force=force))
        options = ShadowOptions(
            isolated=isolated,
            incremental=incremental,
            order=order,  # type: ignore[arg-type]
            seed=seed,
            candidate_timeout_s=limit,
            strict=strict,
            rules=parity_policy.rules(),
            noise_baseline=noise,
        )
        run_parity(list(roots), folder, loaded, parity_policy, options, json, runner, str(out))


def run_parity(
    repos: list[Path],
    folder: Path,
    config: LoadedConfig,
    policy: ParityPolicy,
    options: ShadowOptions,
    json: bool,
    executor: Executor | None = None,
    out: str | None = None,
) -> None:
    """Shadow-run ``repos`` into ``folder`` (the parity suite), print the report (``--json``:
    the report as JSON) and exit 1 unless it passes. The primary's engine error exits 3; a
    candidate's failure under ``--strict`` exits 1. ``shadow`` and ``golden shadow`` end here;
    ``executor`` runs the repositories (default: here, one after another). ``out`` is the
    destination as the user named it: for an object-store URI, ``folder`` is its local staging
    folder and the reports are named where they are published."""
    from harness.errors import EngineFailure
    from harness.gates.executor import ExecutorUnreachable
    from harness.gates.suite import run_suite
    from harness.shadow.runner import ShadowError

    try:
        with progress_bar(not json) as bar:
            report, paths = run_suite(
                repos,
                folder,
                config,
                policy,
                options,
                quiet=json,
                progress=progress_hook(bar),
                executor=executor,
            )
    except EngineFailure as exc:
        raise engine_exit(exc, json, "primary") from exc
    except ShadowError as exc:
        print_error(f"strict shadow failure: {exc}")
        raise typer.Exit(EXIT_GATE_FAILED) from exc
    except ExecutorUnreachable as exc:  # the Ray cluster at --address cannot be reached
        raise usage_exit(exc, json) from exc
    if json:
        emit_json(report)
    else:
        sys.stdout.write(paths["markdown"].read_text(encoding="utf-8"))
        typer.echo(f"reports: {_published(paths['html'].parent, folder, out)}")
    if report.verdict != "pass":
        raise typer.Exit(EXIT_GATE_FAILED)


def _published(local: Path, folder: Path, out: str | None) -> str:
    """Where a user finds ``local`` (a path under ``folder``): in the bucket of an object-store
    ``out`` (``folder`` only stages it; harness/storage.py), else on disk as it is."""
    from harness.storage import is_uri

    if out is None or not is_uri(out):
        return str(local)
    rel = local.relative_to(folder).as_posix()
    return out.rstrip("/") + ("" if rel == "." else "/" + rel)
