"""What every ``codeanatomy`` command module shares: the option types and app set-up, the one
JSON emitter, the one progress bar, the one "load the configuration or exit 2", and the one way
a user's mistake or an engine error ends a command (a line on stderr, a JSON error under
``--json``, exit 2 or 3).

The commands live next to the code they drive (``harness/<package>/cli.py``, and
``engine_cli.py``, ``status_cli.py`` beside the modules they call); ``harness/cli.py`` only
assembles them into the ``codeanatomy`` app.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Annotated

import msgspec
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from typer.core import TyperCommand

from harness.config.model import ConfigError
from harness.errors import EngineFailure, UsageError
from harness.exit_codes import EXIT_ENGINE, EXIT_USAGE

if TYPE_CHECKING:
    from typer import _click

    from harness.config.load import LoadedConfig

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON result.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="The configuration file (default: found from the working folder).",
    ),
]
RepoArg = Annotated[
    Path, typer.Argument(metavar="REPO", help="Repository root to analyse (never imported).")
]
WorkersOpt = Annotated[
    int, typer.Option(min=0, metavar="N", help="Worker processes (0: one per core).")
]
ScipShardsOpt = Annotated[
    int,
    typer.Option(
        "--scip-shards",
        min=0,
        max=256,
        metavar="N",
        help="scip-python indexers side by side, one per shard of the files "
        "(0: [extract] scip_shards, whose default is one per two cores).",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Write into an --out folder that holds files of others."),
]

IncrementalOpt = Annotated[
    bool,
    typer.Option(
        "--incremental",
        help="Also build each side from scratch (OUT/fresh, no cache) and compare it with "
        "its build from the folder's previous state, as gate incremental does.",
    ),
]
"""``shadow``, ``golden shadow`` and ``build --backend shadow``: one option, one meaning
(:attr:`harness.shadow.runner.ShadowOptions.incremental`)."""

ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        metavar="local|ray",
        help="Where the repositories run: local (here, one after another) or ray (one Ray "
        "task each; needs codeanatomy[distributed]).",
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        "--address",
        metavar="ADDR",
        help="With --executor ray: the Ray cluster to use (host:port, or auto); "
        "default: start a local one for this run.",
    ),
]

# Help is plain text: under rich markup a "[hamilton]" in a help text is a style tag and
# vanishes, and typer labels every option with its Python type ("<bool>", "<list[str]>").
# Plain click formatting shows the text as written and an option's METAVAR.
HELP_MARKUP = None


def sub_app(help_text: str) -> typer.Typer:
    """A Typer app configured like the top-level one (plain-text help, plain tracebacks; shell
    completion is the top-level app's)."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=HELP_MARKUP,
    )


class Command(TyperCommand):
    """A command whose help names each argument by its METAVAR, as options are named: typer
    adds the argument's Python type ("REPOS... <list[Path]>"), whatever the metavar says.
    Every command that takes an argument is registered with ``cls=Command``."""

    def format_options(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                arguments.append((name + ("..." if param.nargs != 1 else ""), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


# Wide enough for any row: off a terminal a table or a line is never cut.
_UNWRAPPED_WIDTH = 100_000


def in_ci(env: Mapping[str, str] | None = None) -> bool:
    """Whether we run under CI (``CI`` set, as every CI service does, and not "0"/"false"):
    no progress bar, no line cut to a window, even where CI fakes a terminal (``FORCE_COLOR``)."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


def console(*, stderr: bool = False, markup: bool = False) -> Console:
    """A rich console for a command's output. On a terminal it fits the window; off one (a
    pipe, a file, a CI log) nothing wraps: a table cut at 80 columns ("hamilton.d│river")
    cannot be read back, grepped or diffed. Without ``markup`` a "[hamilton]" in a table cell
    or a path is printed as written, not taken for a style."""
    out = Console(stderr=stderr, markup=markup)
    if not out.is_terminal or in_ci():
        out.width = _UNWRAPPED_WIDTH
    return out


ProgressHook = Callable[[str, int, int], None]
"""Hears ``(stage, done, total)``: the extraction's stages, the repositories of a parity run."""


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr, on an interactive terminal only: never in CI (``CI`` set),
    never with ``--json`` (``enabled`` false), never in a pipe or a log."""
    err = console(stderr=True, markup=True)
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


def progress_hook(bar: Progress | None) -> ProgressHook | None:
    """The progress hook that moves ``bar`` (None when there is no bar): one task a stage."""
    if bar is None:
        return None
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report


def _enc_hook(value: object) -> object:
    # Results are dataclasses and structs that may hold paths (golden fetch's archive and
    # source root); msgspec has no built-in encoding for them, JSON has strings.
    if isinstance(value, PurePath):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__} as JSON")


def emit_json(value: object) -> None:
    """Print ``value`` as indented JSON on stdout (every command's ``--json``)."""
    encoded = msgspec.json.encode(value, enc_hook=_enc_hook)
    sys.stdout.write(msgspec.json.format(encoded).decode() + "\n")


# Terminal colour codes (delta-rs colours parts of its messages) and the frames of a Rust
# backtrace (" 12: <unknown>", "at src/x.rs:3:5") that an error message may carry when
# RUST_BACKTRACE is set in the user's environment.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME = re.compile(r"^\s*(\d+:\s|at\s\S+:\d+|stack backtrace:|Stack backtrace:|Backtrace)")


def one_line(message: str) -> str:
    """``message`` as one line: colour codes and Rust backtrace frames removed, the remaining
    lines joined with "; ". Every error a command prints goes through here, so a backtrace
    reaches the terminal only under ``--debug`` (which prints the traceback separately)."""
    lines = [ln.strip() for ln in _ANSI.sub("", message).splitlines()]
    kept = [ln for ln in lines if ln and not _FRAME.match(ln)]
    return re.sub(r"\s+", " ", "; ".join(kept)).strip()


def print_error(line: str) -> None:
    """One line on stderr, never wrapped or reinterpreted as markup (a path may hold "[")."""
    typer.echo(one_line(line), err=True)


def usage_exit(exc: UsageError | ConfigError, json: bool) -> typer.Exit:
    """Report a user's mistake and return the exit (code 2) to raise.

    One line ``error: <message>`` on stderr always; under ``--json`` also the object
    ``{"error": {"code", "message"}}`` on stdout, so that a script reading stdout gets JSON
    whatever happened.
    """
    if isinstance(exc, ConfigError):
        code, message = exc.code, str(exc)
    else:
        code, message = exc.code, exc.message
    message = one_line(message)
    if json:
        emit_json({"error": {"code": code, "message": message}})
    print_error(f"error: {message}")
    return typer.Exit(EXIT_USAGE)


@contextmanager
def usage_errors(json: bool) -> Iterator[None]:
    """Turn a :class:`UsageError` (a bad path, an invalid policy) or a :class:`ConfigError`
    raised in the block into exit 2 (see :func:`usage_exit`)."""
    try:
        yield
    except (UsageError, ConfigError) as exc:
        raise usage_exit(exc, json) from exc


def configured(config: Path | None, json: bool) -> LoadedConfig:
    """The configuration (``--config FILE``, else the one found from the working folder), or
    exit 2 naming every problem of it (see :func:`usage_exit`)."""
    from harness.config.load import load_config

    with usage_errors(json):
        return load_config(config)


def engine_exit(exc: EngineFailure, json: bool, role: str = "") -> typer.Exit:
    """Report an engine error (a damaged table, a failed stage) and return the exit (code 3) to
    raise: one line ``CODE (backend, stage): message`` on stderr, and under ``--json`` the
    object ``{"error": {...}}`` on stdout. ``role`` ("primary") qualifies the backend."""
    message = one_line(exc.message)
    if json:
        emit_json({"error": {**exc.to_dict(), "message": message}})
    who = f"{role} {exc.backend}".strip()
    print_error(f"{exc.code} ({who}, stage {exc.stage}): {message}")
    return typer.Exit(EXIT_ENGINE)


@contextmanager
def output_folder(
    out: str | Path, loaded: LoadedConfig | None, json: bool, what: str = "output folder"
) -> Iterator[Path]:
    """The local folder a command writes ``out`` through: ``out`` itself (validated, created),
    or for an object-store URI a staging folder published to the bucket when the command ends
    (harness.storage). A refused location or credentials exit 2 with a storage code."""
    from harness.staging import staged_out
    from harness.storage import is_uri

    with usage_errors(json):
        if not is_uri(out):
            from harness.boundary import out_dir

            yield out_dir(out, what, create=True)
            return
        config = loaded if loaded is not None else configured(None, json)  # its [storage]
        tell = None if json else (lambda line: typer.echo(line, err=True))
        with staged_out(out, config.storage_options, tell=tell) as folder:
            yield folder


@contextmanager
def input_run(run: str | Path, loaded: LoadedConfig | None, json: bool) -> Iterator[Path]:
    """A run folder to read: ``run`` itself, or an object-store run downloaded for the block."""
    from harness.storage import effective_options, is_uri, staged_in

    with usage_errors(json):
        options: dict[str, str] = {}
        if is_uri(run):
            options = loaded.storage_options if loaded is not None else effective_options()
        with staged_in(run, options) as folder:
            yield folder
