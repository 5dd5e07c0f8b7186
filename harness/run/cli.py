"""``codeanatomy extract REPO --out DIR``: Stage 0 alone, into the evidence of a run folder.

The run folder's lock and the ``[extract]`` options are this package's (``run.lock``,
``run.extract_options``). Exit 4 when a file was neither extracted nor warned about.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from harness.boundary import out_dir, repo_dir
from harness.cli_options import (
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    RepoArg,
    ScipShardsOpt,
    WorkersOpt,
    configured,
    console,
    emit_json,
    output_folder,
    progress_bar,
    progress_hook,
    usage_errors,
)
from harness.errors import UsageError
from harness.exit_codes import EXIT_INTERNAL
from harness.run.lock import hold_out_folder

if TYPE_CHECKING:
    from backends.extract.summary import ExtractSummary


def extract(
    repo: RepoArg,
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="Run directory; evidence goes to OUT/evidence/"),
    ],
    workers: WorkersOpt = 0,
    scip_shards: ScipShardsOpt = 0,
    cache_dir: Annotated[
        str | None,
        typer.Option("--cache-dir", metavar="DIR", help="Per-file result cache directory."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the cache.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="EXTRACTOR",
            help="Run only these extractors (repeatable; [extract] extractors).",
        ),
    ] = None,
    force: ForceOpt = False,
    config: ConfigOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run Stage-0 extraction (all nine evidence sources) and write Delta evidence tables."""
    from backends.contract.schemas import EXTRACTORS
    from backends.extract.runner import extract as run_extract
    from harness.run.extract_options import extract_options

    with ExitStack() as stack:
        with usage_errors(json):
            root = repo_dir(repo)
            loaded = configured(config, json)
            chosen = tuple(only) if only else (loaded.config.extract.extractors or EXTRACTORS)
            unknown = sorted(set(chosen) - set(EXTRACTORS))
            if unknown:
                raise UsageError(
                    "UNKNOWN_EXTRACTOR",
                    f"unknown extractor(s) {unknown}; known: {list(EXTRACTORS)}",
                )
            cache = None
            if not no_cache and cache_dir:
                cache = out_dir(cache_dir, "cache folder", create=True)
            run = stack.enter_context(output_folder(out, loaded, json))
            # Held until the evidence is written: one writer per run folder.
            stack.enter_context(hold_out_folder(run, "codeanatomy extract", force=force))
        with progress_bar(not json) as bar:
            options = extract_options(
                loaded,
                workers=workers,
                cache_dir=cache,
                no_cache=no_cache,
                extractors=chosen,
                progress=progress_hook(bar),
                scip_shards=scip_shards,
            )
            summary = run_extract(root, run, options)
    if json:
        emit_json(summary)
    else:
        print_summary(summary)
    if not summary.all_accounted:
        raise typer.Exit(EXIT_INTERNAL)


def print_summary(summary: ExtractSummary) -> None:
    """The evidence of one extraction as a table: rows, files, warnings, cache hits per source."""
    out = console()
    table = Table(title=f"evidence of {summary.repo} ({summary.files} files)")
    for col in ("extractor", "rows", "files", "warned files", "cache hits", "unaccounted"):
        table.add_column(col, justify="right" if col != "extractor" else "left")
    for name, s in summary.extractors.items():
        table.add_row(
            name,
            str(s.rows),
            str(s.files_with_rows),
            str(s.files_with_warnings),
            str(s.cache_hits),
            str(len(s.unaccounted)),
        )
    out.print(table)
    if summary.warnings_by_code:
        codes = ", ".join(f"{k}={v}" for k, v in summary.warnings_by_code.items())
        out.print(f"warnings: {codes}", markup=False)
    if summary.scip is not None:
        scip = summary.scip
        out.print(
            f"scip-python: {scip.files} files, {scip.cached} from the cache, {scip.indexed} "
            f"indexed in {scip.shards} shard(s), {scip.failed} in failed shards, "
            f"{scip.seconds:.2f} s",
            markup=False,
        )
    out.print(
        f"total {summary.seconds.get('total', 0.0):.2f} s -> {summary.out}/evidence", markup=False
    )
