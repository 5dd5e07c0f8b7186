"""``codeanatomy golden list|fetch|extract|shadow``: the bundled golden repositories and the
pinned PyPI sdists (``golden_repos/manifest.toml``).

``golden shadow`` is ``shadow`` over every golden repository (and the sdists): the same suite,
the same report and exit codes (:func:`harness.shadow.cli.run_parity`).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated

import typer

from harness.boundary import out_dir
from harness.cli_options import (
    AddressOpt,
    ExecutorOpt,
    IncrementalOpt,
    JsonOpt,
    WorkersOpt,
    configured,
    console,
    emit_json,
    output_folder,
    progress_bar,
    progress_hook,
    usage_errors,
)
from harness.exit_codes import EXIT_INTERNAL
from harness.run.lock import hold_out_folder

app = typer.Typer(help="The bundled golden repositories and pinned PyPI sdists.")


@app.command("list")
def golden_list(json: JsonOpt = False) -> None:
    """List the golden repositories and pinned sdists of the manifest."""
    from harness.golden.manifest import load_manifest

    manifest = load_manifest()
    if json:
        emit_json(manifest)
        return
    for repo in manifest.repo:
        typer.echo(f"repo   {repo.name:<16} {repo.path}")
    for sdist in manifest.sdist:
        typer.echo(f"sdist  {sdist.name:<16} {sdist.version}")


@app.command("fetch")
def golden_fetch(
    cache_dir: Annotated[
        str | None,
        typer.Option(
            "--cache-dir", metavar="DIR", help="Where the sdists go (default: the cache)."
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Download the pinned PyPI sdists into the cache, verify their sha256 and unpack them."""
    from harness.golden.fetch import default_cache_dir, fetch_sdists
    from harness.golden.manifest import load_manifest

    with usage_errors(json):
        cache = (
            out_dir(cache_dir, "cache folder", create=True) if cache_dir else default_cache_dir()
        )
    fetched = fetch_sdists(load_manifest(), cache)
    if json:
        emit_json(fetched)
        return
    for item in fetched:
        typer.echo(f"{item.name} {item.version} -> {item.source_root}")


@app.command("extract")
def golden_extract(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="One run directory per repo under OUT/")
    ],
    with_sdists: Annotated[
        bool, typer.Option("--with-sdists", help="Also fetch and extract the pinned sdists.")
    ] = False,
    workers: WorkersOpt = 0,
    json: JsonOpt = False,
) -> None:
    """The main job for now: Stage-0 extraction of every golden repo (and the sdists)."""
    from backends.extract.cache import default_cache_dir
    from backends.extract.runner import ExtractOptions
    from backends.extract.runner import extract as run_extract
    from harness.golden.fetch import default_cache_dir as sdist_cache_dir
    from harness.golden.fetch import fetch_sdists
    from harness.golden.manifest import load_manifest
    from harness.run.cli import print_summary

    err = console(stderr=True, markup=True)
    stack = ExitStack()
    with usage_errors(json):
        folder = stack.enter_context(output_folder(out, None, json))
        stack.enter_context(hold_out_folder(folder, "codeanatomy golden extract"))
    with stack:  # one writer per output folder, until the end
        manifest = load_manifest()
        targets = [(r.name, manifest.repo_dir(r)) for r in manifest.repo]
        if with_sdists:
            fetched = fetch_sdists(manifest, sdist_cache_dir())
            targets += [(f"{f.name}-{f.version}", f.source_root) for f in fetched]
        summaries = {}
        failed = []
        for name, root in targets:
            if not json:
                err.print(f"[bold]== {name}[/]")
            with progress_bar(not json) as bar:
                summary = run_extract(
                    root,
                    folder / name,
                    ExtractOptions(
                        workers=workers,
                        cache_dir=default_cache_dir(),
                        progress=progress_hook(bar),
                    ),
                )
            summaries[name] = summary
            if not summary.all_accounted:
                failed.append(name)
            if not json:
                print_summary(summary)
        if json:
            emit_json(summaries)
        if failed:
            err.print(f"[red]files unaccounted for in:[/] {failed}")
            raise typer.Exit(EXIT_INTERNAL)


@app.command("shadow")
def golden_shadow(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="One shadow run per repo, report/ at OUT/")
    ],
    with_sdists: Annotated[
        bool, typer.Option("--with-sdists", help="Also fetch and compare the pinned sdists.")
    ] = False,
    incremental: IncrementalOpt = False,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    json: JsonOpt = False,
) -> None:
    """The main job: both backends side by side on every golden repo, compared, reported."""
    from harness.compare.policy import configured_policy
    from harness.gates.executor import make_executor
    from harness.golden.fetch import default_cache_dir as sdist_cache_dir
    from harness.golden.fetch import fetch_sdists
    from harness.golden.manifest import load_manifest
    from harness.shadow.cli import run_parity
    from harness.shadow.runner import ShadowOptions

    stack = ExitStack()
    with usage_errors(json):
        # A mistake in the output folder, the config or the policy is reported before the
        # sdists download and the builds start.
        runner = make_executor(executor, address)
        config = configured(None, json)
        policy = configured_policy(config)
        # An s3:// --out is staged locally and published when the suite ends.
        folder = stack.enter_context(output_folder(out, config, json))
        stack.enter_context(hold_out_folder(folder, "codeanatomy golden shadow"))
    with stack:  # one writer per output folder, until the end
        manifest = load_manifest()
        repos = [manifest.repo_dir(r) for r in manifest.repo]
        if with_sdists:
            repos += [f.source_root for f in fetch_sdists(manifest, sdist_cache_dir())]
        options = ShadowOptions(rules=policy.rules(), incremental=incremental)
        run_parity(repos, folder, config, policy, options, json, runner, str(out))
