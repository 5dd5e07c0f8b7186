"""The ``codeanatomy`` command line: thin commands that parse, call one function, print, and
map the result to an exit code (DESIGN §10).

Exit codes: 0 ok, 1 gate failed, 2 usage or config error, 3 engine error, 4 internal error.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from harness.boundary import UsageError, out_dir, repo_dir
from harness.cli_options import (
    HELP_MARKUP,
    Command,
    ConfigOpt,
    JsonOpt,
    console,
    emit_json,
    engine_exit,
    in_ci,
    print_error,
    usage_errors,
)
from harness.compare.cli import compare
from harness.config.cli import app as config_app
from harness.engine_cli import build, plan
from harness.exit_codes import EXIT_INTERNAL
from harness.gates.cli import gate
from harness.killswitch.cli import app as killswitch_app
from harness.preflight.cli import preflight
from harness.run.lock import hold_out_folder
from harness.shadow.cli import ForceOpt, shadow
from harness.status_cli import release_app, status

app = typer.Typer(
    name="codeanatomy",
    help="Code property graphs of Python repositories as Delta tables, with engine parity gates.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion
    pretty_exceptions_enable=False,
    rich_markup_mode=HELP_MARKUP,  # the sub-apps' help is formatted with the root's mode
)
app.command("preflight", cls=Command)(preflight)
app.command("build", cls=Command)(build)
app.command("plan")(plan)
app.command("compare", cls=Command)(compare)
app.command("shadow", cls=Command)(shadow)
app.command("gate", cls=Command)(gate)
app.command("status")(status)
app.add_typer(release_app, name="release")
app.add_typer(config_app, name="config")
app.add_typer(killswitch_app, name="killswitch")
golden_app = typer.Typer(help="The bundled golden repositories and pinned PyPI sdists.")
app.add_typer(golden_app, name="golden")

err = console(stderr=True, markup=True)

DEBUG_ENV = "CODEANATOMY_DEBUG"
"""Set (to 1) by ``--debug``: the Rust engine's panic hook then prints, and child processes
inherit the setting."""
_RUST_BACKTRACE_VARS = ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")
_user_backtrace_env: dict[str, str | None] = {}


def _quiet_rust_backtraces() -> None:
    """Without ``--debug`` an error message never carries a Rust backtrace, whatever the
    user's environment says: delta-rs and delta-kernel capture one into their error text when
    RUST_BACKTRACE is set. Must run before any Rust code captures (it reads the variables once)."""
    for var in _RUST_BACKTRACE_VARS:
        _user_backtrace_env[var] = os.environ.get(var)
        os.environ[var] = "0"


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV) == "1"


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the versions of codeanatomy, its contract and its engine, and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Print the Python traceback of an internal error, and let Rust backtraces "
            "and panic messages through (as RUST_BACKTRACE says).",
        ),
    ] = False,
) -> None:
    """Code property graphs of Python repositories as Delta tables, with engine parity gates."""
    from harness.telemetry import configure_from_env

    configure_from_env()  # CODEANATOMY_OTEL=console prints every span on stderr
    if not debug:
        return
    os.environ[DEBUG_ENV] = "1"
    for var, value in _user_backtrace_env.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


@contextmanager
def _progress(enabled: bool) -> Iterator[object]:
    """A progress bar on an interactive terminal only; silent in CI (``CI`` set) and with
    --json."""
    if not enabled or not err.is_terminal or in_ci():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        yield progress


def _progress_callback(progress: object) -> Callable[[str, int, int], None] | None:
    """Adapt the extraction progress hook to a rich progress bar (None when there is none)."""
    if not isinstance(progress, Progress):
        return None
    bar = progress
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report


@app.command()
def version(json: JsonOpt = False) -> None:
    """Print the versions of codeanatomy, its contract and its engine."""
    from harness.versions import versions

    info = versions()
    if json:
        emit_json(info)
    else:
        for key, value in info.items():
            typer.echo(f"{key}: {value}")


@app.command(cls=Command)
def extract(
    repo: Annotated[
        Path, typer.Argument(metavar="REPO", help="Repository root to analyse (never imported).")
    ],
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="Run directory; evidence goes to OUT/evidence/"),
    ],
    workers: Annotated[
        int, typer.Option(min=0, metavar="N", help="Worker processes (0: one per core).")
    ] = 0,
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
    from harness.config.load import load_config
    from harness.run.extract_options import extract_options

    with ExitStack() as stack:
        with usage_errors(json):
            root = repo_dir(repo)
            loaded = load_config(config)
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
            run = out_dir(out, create=True)
            # Held until the evidence is written: one writer per run folder.
            stack.enter_context(hold_out_folder(run, "codeanatomy extract", force=force))
        with _progress(not json) as progress:
            options = extract_options(
                loaded,
                workers=workers,
                cache_dir=cache,
                no_cache=no_cache,
                extractors=chosen,
                progress=_progress_callback(progress),
            )
            summary = run_extract(root, run, options)
    if json:
        emit_json(summary)
    else:
        _print_summary(summary)
    if not summary.all_accounted:
        raise typer.Exit(EXIT_INTERNAL)


def _print_summary(summary: object) -> None:
    from backends.extract.summary import ExtractSummary

    assert isinstance(summary, ExtractSummary)
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
    out.print(
        f"total {summary.seconds.get('total', 0.0):.2f} s -> {summary.out}/evidence", markup=False
    )


@golden_app.command("list")
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


@golden_app.command("fetch")
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


@golden_app.command("extract")
def golden_extract(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="One run directory per repo under OUT/")
    ],
    with_sdists: Annotated[
        bool, typer.Option("--with-sdists", help="Also fetch and extract the pinned sdists.")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=0, metavar="N", help="Worker processes (0: one per core).")
    ] = 0,
    json: JsonOpt = False,
) -> None:
    """The main job for now: Stage-0 extraction of every golden repo (and the sdists)."""
    from backends.extract.cache import default_cache_dir
    from backends.extract.runner import ExtractOptions
    from backends.extract.runner import extract as run_extract
    from harness.golden.fetch import default_cache_dir as sdist_cache_dir
    from harness.golden.fetch import fetch_sdists
    from harness.golden.manifest import load_manifest

    stack = ExitStack()
    with usage_errors(json):
        folder = out_dir(out, create=True)
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
            with _progress(not json) as progress:
                summary = run_extract(
                    root,
                    folder / name,
                    ExtractOptions(
                        workers=workers,
                        cache_dir=default_cache_dir(),
                        progress=_progress_callback(progress),
                    ),
                )
            summaries[name] = summary
            if not summary.all_accounted:
                failed.append(name)
            if not json:
                _print_summary(summary)
        if json:
            emit_json(summaries)
        if failed:
            err.print(f"[red]files unaccounted for in:[/] {failed}")
            raise typer.Exit(EXIT_INTERNAL)


@golden_app.command("shadow")
def golden_shadow(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="One shadow run per repo, report/ at OUT/")
    ],
    with_sdists: Annotated[
        bool, typer.Option("--with-sdists", help="Also fetch and compare the pinned sdists.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """The main job: both backends side by side on every golden repo, compared, reported."""
    from harness.compare.policy import configured_policy
    from harness.config.load import load_config
    from harness.exit_codes import EXIT_GATE_FAILED
    from harness.golden.fetch import default_cache_dir as sdist_cache_dir
    from harness.golden.fetch import fetch_sdists
    from harness.golden.manifest import load_manifest
    from harness.run.errors import EngineFailure
    from harness.shadow.runner import ShadowOptions
    from harness.shadow.suite import run_suite

    stack = ExitStack()
    with usage_errors(json):
        # A mistake in the output folder, the config or the policy is reported before the
        # sdists download and the builds start.
        config = load_config()
        policy = configured_policy(config)
        folder = out_dir(out, create=True)
        stack.enter_context(hold_out_folder(folder, "codeanatomy golden shadow"))
    with stack:  # one writer per output folder, until the end
        manifest = load_manifest()
        repos = [manifest.repo_dir(r) for r in manifest.repo]
        if with_sdists:
            repos += [f.source_root for f in fetch_sdists(manifest, sdist_cache_dir())]
        try:
            with _progress(not json) as bar:
                report, paths = run_suite(
                    repos,
                    folder,
                    config,
                    policy,
                    ShadowOptions(rules=policy.rules()),
                    quiet=json,
                    progress=_progress_callback(bar),
                )
        except EngineFailure as exc:
            raise engine_exit(exc, json, "primary") from exc
        if json:
            emit_json(report)
        else:
            sys.stdout.write(paths["markdown"].read_text(encoding="utf-8"))
            err.print(f"reports: {paths['html'].parent}")
        if report.verdict != "pass":
            raise typer.Exit(EXIT_GATE_FAILED)


def _exit(code: int) -> NoReturn:
    """Leave without running native destructors: delta-rs and Arrow thread pools can abort the
    interpreter's shutdown ("terminate called without an active exception", delta-rs #2184),
    turning a finished run into exit code 134. Python's exit handlers still run."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    """Console-script entry point."""
    _quiet_rust_backtraces()
    try:
        app()
    except SystemExit as stop:
        code = stop.code
        if code is None or isinstance(code, int):
            _exit(code or 0)
        raise
    except Exception as exc:  # the last line of defence: a crash is an internal error code
        if _debugging():
            traceback.print_exc()
        hint = "" if _debugging() else "; rerun with --debug for the traceback"
        print_error(
            f"internal error (a bug in codeanatomy, please report it): "
            f"{type(exc).__name__}: {exc}{hint}"
        )
        _exit(EXIT_INTERNAL)
    _exit(0)


if __name__ == "__main__":
    main()
