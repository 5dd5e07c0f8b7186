"""``codeanatomy build`` and ``codeanatomy plan``: one backend, explicitly named.

Engine errors print their stable code and stage (``--json``: an ``error`` object) and exit 3;
an unavailable backend or bad arguments exit 2 (DESIGN §10).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
import typer
from rich.table import Table

from backends.contract.spec import SemanticExecutionSpec, SpecPolicy, decode_spec
from harness.boundary import evidence_dir, repo_dir
from harness.cli_options import (
    ConfigOpt,
    ForceOpt,
    IncrementalOpt,
    JsonOpt,
    RepoArg,
    ScipShardsOpt,
    configured,
    console,
    emit_json,
    engine_exit,
    output_folder,
    print_error,
    progress_bar,
    progress_hook,
    usage_errors,
    usage_exit,
)
from harness.errors import BackendUnavailable, EngineFailure, UsageError
from harness.exit_codes import EXIT_USAGE
from harness.shadow.cli import CandidateTimeoutOpt, candidate_timeout
from harness.vocabulary import MODES, BackendName

if TYPE_CHECKING:
    from harness.config.load import LoadedConfig
    from harness.gateway import GraphProductBuildRequest, GraphProductBuildResult

BackendOpt = Annotated[
    BackendName,
    typer.Option("--backend", metavar="legacy|rust", help="Which engine computes the CPG."),
]
err = console(stderr=True, markup=True)
OPTION_NOT_APPLICABLE = "OPTION_NOT_APPLICABLE"
"""An option given with a choice it does not apply to (``--incremental`` with one backend)."""
INCREMENTAL_PREFIX = "INCREMENTAL_"
"""The codes of ``--incremental``'s findings in a shadow build's Result."""
SPEC_INVALID = "SPEC_INVALID"
"""A ``--spec`` file that cannot be read or decoded (the engine uses the same code)."""


def _fail(exc: EngineFailure | BackendUnavailable, json: bool) -> typer.Exit:
    if isinstance(exc, BackendUnavailable):
        if json:
            emit_json(
                {
                    "error": {
                        "backend": exc.backend,
                        "code": "BACKEND_UNAVAILABLE",
                        "message": exc.reason,
                    }
                }
            )
        print_error(f"error: backend {exc.backend} unavailable: {exc.reason}")
        return typer.Exit(EXIT_USAGE)
    return engine_exit(exc, json)


def build(
    repo: RepoArg,
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="Run directory (run.json, evidence/, outputs/)."),
    ],
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            metavar="BACKEND",
            help="legacy, rust or shadow (default: the configuration; the kill switch wins).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=0, metavar="N", help="Extraction worker processes (0: one per core)."),
    ] = 0,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not use the extraction cache.")
    ] = False,
    scip_shards: ScipShardsOpt = 0,
    no_scip: Annotated[
        bool, typer.Option("--no-scip", help="Resolve without SCIP evidence.")
    ] = False,
    min_confidence_bp: Annotated[
        int,
        typer.Option(
            "--min-confidence-bp",
            min=0,
            max=10_000,
            metavar="BP",
            help="Drop edges below this confidence (basis points).",
        ),
    ] = 0,
    views: Annotated[
        bool, typer.Option("--views", help="Also write every intermediate view to OUT/views/.")
    ] = False,
    candidate_timeout_s: CandidateTimeoutOpt = None,
    incremental: IncrementalOpt = False,
    force: ForceOpt = False,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Build the CPG of REPO: evidence, outputs and run.json under OUT (routed by the gateway).

    In shadow mode the parity Result (``--incremental``: with each side's incremental build
    compared with a fresh one) is summarised here and written to ``OUT/report``."""
    with usage_errors(json):
        if backend is not None and backend not in MODES:
            raise UsageError("USAGE", f"--backend {backend!r}: legacy, rust or shadow")
        if incremental and backend is not None and backend != "shadow":
            # One backend has no second side and no comparison to hold the check's findings.
            raise UsageError(
                OPTION_NOT_APPLICABLE,
                f"--incremental applies to shadow builds only, not to --backend {backend}",
            )
        root = repo_dir(repo)
        loaded = configured(config, json)
        limit = candidate_timeout(candidate_timeout_s, loaded)
    from harness.gateway import GraphProductBuildRequest
    from harness.shadow.runner import ShadowOptions

    # An s3:// --out is built in a local staging folder and published when the build ends.
    with output_folder(out, loaded, json) as run:
        result = _build(
            GraphProductBuildRequest(
                repo=root,
                out=run,
                backend=backend,
                policy=SpecPolicy(use_scip=not no_scip, min_confidence_bp=min_confidence_bp),
                views=views,
                shadow=ShadowOptions(candidate_timeout_s=limit, incremental=incremental),
                config=loaded,
                force=force,  # the library holds the folder: one writer per run folder
            ),
            loaded,
            workers,
            no_cache,
            json,
            scip_shards,
        )
        if incremental and result.shadow is None:
            # The route chose one backend (the kill switch, the configuration): nothing compared.
            route = result.route
            print_error(
                f"note: --incremental compared nothing: the build was served by {result.backend} "
                f"alone, not in shadow mode ({route.source}: {route.reason})"
            )
        _print_build(result, repo, json)


def _build(
    request: GraphProductBuildRequest,
    loaded: LoadedConfig,
    workers: int,
    no_cache: bool,
    json: bool,
    scip_shards: int = 0,
) -> GraphProductBuildResult:
    from harness.gateway import build_graph_product
    from harness.run.extract_options import extract_options

    with progress_bar(not json) as bar:
        extract = extract_options(
            loaded,
            workers=workers,
            no_cache=no_cache,
            progress=progress_hook(bar),
            scip_shards=scip_shards,
        )
        try:
            return build_graph_product(dataclasses.replace(request, extract=extract))
        except (EngineFailure, BackendUnavailable) as exc:
            raise _fail(exc, json) from exc
        except UsageError as exc:  # the folder is busy or holds others' files
            raise usage_exit(exc, json) from exc


def _print_build(result: GraphProductBuildResult, repo: Path, json: bool) -> None:
    manifest = result.manifest
    if json:
        emit_json(manifest)
        return
    route = result.route
    err.print(f"served by [bold]{result.backend}[/] ({route.source}: {route.reason})")
    for note in route.notes:
        err.print(f"[yellow]note:[/] {note}")
    table = Table(title=f"{result.backend} build of {repo} -> {result.run_dir}")
    for col in ("output", "rows", "version", "fingerprint"):
        table.add_column(col, justify="left" if col in ("output", "fingerprint") else "right")
    for o in manifest.outputs:
        table.add_row(o.table, str(o.rows), str(o.delta_version), o.fingerprint[:16])
    console().print(table)
    t = manifest.timings
    typer.echo(
        f"extract {t.get('extract_s', 0):.2f}s  semantic {t.get('semantic_s', 0):.2f}s  "
        f"total {t.get('total_s', 0):.2f}s  warnings {sum(manifest.warnings_by_code.values())}"
    )
    if result.shadow is not None:
        r = result.shadow.result
        cov = r.coverage
        typer.echo(
            f"shadow: {r.severity}{' (blocks)' if r.blocks else ''}, first divergent stage "
            f"{r.first_divergent_stage}; {cov.tables_compared} tables compared, "
            f"{len(cov.failed_sources())} evidence sources failed"
        )
        for f in r.findings:
            if f.code.startswith(INCREMENTAL_PREFIX):
                typer.echo(f"  {f.severity} {f.code}: {f.message}")


def _plan_spec(
    spec_file: Path | None, evidence: Path | None, no_scip: bool
) -> SemanticExecutionSpec:
    from backends.contract.schemas import EVIDENCE_TABLES
    from backends.contract.views import default_spec, evidence_bindings
    from harness.adapters.common import workload_spec

    policy = SpecPolicy(use_scip=not no_scip)
    if spec_file is not None and evidence is not None:
        # One of them would be ignored without a word: the plan shown would not be the one
        # the user asked for.
        raise UsageError("USAGE", "give --spec or --evidence, not both")
    if spec_file is not None:
        try:
            return decode_spec(spec_file.read_bytes())
        except (OSError, msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise UsageError(SPEC_INVALID, f"{spec_file}: {exc}") from exc
    if evidence is not None:
        from deltalake.exceptions import DeltaError

        folder = evidence_dir(evidence)
        try:
            return workload_spec(folder, policy)
        except DeltaError as exc:
            # The tables are there but delta-rs cannot read one of them: a damaged table, an
            # engine error (exit 3) like the same damage met by compare or a build.
            raise EngineFailure(
                "harness",
                "DELTA_LOG_CORRUPT",
                "register",
                f"{evidence}: an evidence table's Delta log cannot be read: {exc}",
                {"evidence": str(folder)},
            ) from exc
    # No data: the workload spec over a placeholder evidence folder at version 0.
    return default_spec(
        evidence_bindings("evidence", dict.fromkeys(EVIDENCE_TABLES, 0)), policy=policy
    )


def plan(
    backend: BackendOpt = "legacy",
    tier: Annotated[
        int,
        typer.Option(
            "--tier", min=1, max=3, metavar="N", help="1 summary, 2 dependencies, 3 validation."
        ),
    ] = 2,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence", metavar="DIR", help="Bind the spec to this run's evidence (OUT/evidence)."
        ),
    ] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", metavar="FILE", help="A spec JSON file instead of the workload."),
    ] = None,
    no_scip: Annotated[
        bool, typer.Option("--no-scip", help="Plan as build --no-scip runs: without SCIP evidence.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Show how a backend would compute the CPG: spec hash, outputs, view graph, schedule."""
    from harness.adapters import adapter

    if tier == 3 and backend == "legacy":
        err.print("[red]error:[/] the legacy backend has plan tiers 1-2 only")
        raise typer.Exit(EXIT_USAGE)
    try:
        with usage_errors(json):
            spec = _plan_spec(spec_file, evidence, no_scip)
        report = adapter(backend).plan(spec, tier)
    except (EngineFailure, BackendUnavailable) as exc:
        raise _fail(exc, json) from exc
    if json:
        emit_json(report)
        return
    typer.echo(f"backend {report.backend}  tier {report.tier}  spec {report.spec_hash}")
    typer.echo(f"outputs: {', '.join(report.outputs)}")
    typer.echo("graph: " + ", ".join(f"{k}={v}" for k, v in report.graph.items()))
    for i, group in enumerate(report.schedule or ()):
        typer.echo(f"  generation {i}: {', '.join(group)}")
    for check in report.validation or ():
        mark = "ok" if check.schema_ok else "SCHEMA MISMATCH"
        typer.echo(f"  {check.view}: {mark}")
